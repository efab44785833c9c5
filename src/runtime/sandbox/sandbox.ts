/**
 * The handle tests, the demo and the CLI use: a running sandbox, its names and addresses,
 * traffic helpers, and the changes a cluster goes through (scale, pod deletion with a
 * terminating phase). Every change is a locked read-modify-write of the state on disk followed
 * by a rewrite of the manifests, so separate processes can share one sandbox.
 */
import path from 'node:path';
import { KproxyError } from '../../core/errors.js';
import type { ClusterObjects, Service } from '../../core/model/objects.js';
import type { RunOptions, RunResult } from '../exec/run.js';
import {
  activePods,
  addDeploymentPods,
  expiredPods,
  findDeployment,
  findPod,
  markRunning,
  markTerminating,
  podKey,
  replacePods,
  scaleDownVictims,
  setReplicas,
  withoutPods,
} from './changes.js';
import { teardownRun, type TeardownReport } from './cleanup.js';
import { teardownRunSync } from './cleanup-sync.js';
import { DEFAULT_READY_TIMEOUT_MS, buildSandbox, commitState, type SandboxOptions } from './create.js';
import { deleteNetns } from './netns.js';
import { removeOrphanPods, removePodFromKernel, startPods } from './pod-lifecycle.js';
import { stopProcess, type StartedServer } from './processes.js';
import { guardAgainstSignals, onTerminationSignal } from './signals.js';
import { DEFAULT_SANDBOX_NAME, checkSandboxName, defaultStateRoot, readState, requireRoot, sandboxPaths, withStateLock } from './store.js';
import { execInNetns, httpRequests, udpRequests, type TrafficOptions } from './traffic.js';
import type { TrafficResult } from './traffic-types.js';
import type { SandboxNodeState, SandboxPodState, SandboxState } from './types.js';

/** Kubernetes' default terminationGracePeriodSeconds. */
export const DEFAULT_GRACE_SECONDS = 30;

export interface ChangeOptions {
  /** Namespace of the Deployment or Pod (default `default`). */
  readonly namespace?: string;
  /** Grace period of removed pods, in seconds (default 30). 0 removes them at once. */
  readonly graceSeconds?: number;
}

export interface DeletePodOptions extends ChangeOptions {
  /** Whether a Deployment's pod is replaced by a new one, as its ReplicaSet would (default true). */
  readonly replace?: boolean;
}

export interface SandboxChange {
  /** Pods created (already ready and published when the change resolves). */
  readonly added: readonly string[];
  /** Pods now terminating (published as ready:false, serving:true, terminating:true). */
  readonly terminating: readonly string[];
  /** Resolves when the terminating pods are gone (manifests updated, servers stopped, namespaces deleted). */
  readonly finished: Promise<void>;
}

export class Sandbox {
  private current: SandboxState;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly pendingFinishes = new Set<() => void>();
  private unregisterSignal: (() => void) | null = null;
  private readonly exitCleanup = (): void => {
    if (!this.closed) teardownRunSync(this.current);
  };
  private closed = false;

  constructor(state: SandboxState, cleanupOnSignal: boolean) {
    this.current = state;
    if (cleanupOnSignal) {
      this.unregisterSignal = onTerminationSignal(() => this.down().then(() => undefined));
      process.on('exit', this.exitCleanup);
    }
  }

  get name(): string {
    return this.current.name;
  }
  get id(): string {
    return this.current.id;
  }
  get stateDir(): string {
    return this.current.stateDir;
  }
  /** The manifest file the proxy reads (Nodes, Services, EndpointSlices). */
  get manifestFile(): string {
    return sandboxPaths(this.current.stateDir).manifestFile;
  }
  /** Its directory (only that file lives there). */
  get manifestsDir(): string {
    return sandboxPaths(this.current.stateDir).manifestsDir;
  }
  /** The latest state this handle knows (call refresh() to see other processes' changes). */
  get state(): SandboxState {
    return this.current;
  }
  get externalNetns(): string {
    return this.current.externalNetns;
  }
  /** The external namespace's own address (198.51.100.1). */
  get externalAddress(): string {
    return this.current.externalAddress;
  }
  get nodes(): readonly SandboxNodeState[] {
    return this.current.nodes;
  }
  /** Workload pods (from Deployments and Pod manifests), every phase. */
  get pods(): readonly SandboxPodState[] {
    return this.current.pods.filter((p) => p.role === 'workload');
  }
  /** Services with their allocated ClusterIP, nodePorts and load-balancer ingress. */
  get services(): readonly Service[] {
    return this.current.services;
  }

  /** A node by name; the first node when no name is given. */
  node(name?: string): SandboxNodeState {
    const node = name === undefined ? this.current.nodes[0] : this.current.nodes.find((n) => n.name === name);
    if (node === undefined) throw new KproxyError('E_SANDBOX', `sandbox "${this.name}" has no node ${name ?? ''}`);
    return node;
  }
  nodeNetns(name?: string): string {
    return this.node(name).netns;
  }
  pod(name: string, namespace = 'default'): SandboxPodState {
    return findPod(this.current, namespace, name);
  }
  podNetns(name: string, namespace = 'default'): string {
    return this.pod(name, namespace).netns;
  }
  /** The client pod of a node (first node by default); no Service selects it. */
  clientPod(nodeName?: string): SandboxPodState {
    const node = this.node(nodeName);
    const pod = this.current.pods.find((p) => p.role === 'client' && p.nodeName === node.name);
    if (pod === undefined) throw new KproxyError('E_SANDBOX', `node ${node.name} has no client pod`);
    return pod;
  }
  clientNetns(nodeName?: string): string {
    return this.clientPod(nodeName).netns;
  }
  service(name: string, namespace = 'default'): Service {
    const s = this.current.services.find((x) => x.meta.name === name && x.meta.namespace === namespace);
    if (s === undefined) throw new KproxyError('E_SANDBOX', `sandbox "${this.name}" has no Service ${namespace}/${name}`);
    return s;
  }

  /** Runs argv inside one of the sandbox's namespaces. */
  exec(netns: string, argv: readonly string[], options?: RunOptions): Promise<RunResult> {
    this.checkOwnNetns(netns);
    return execInNetns(netns, argv, options);
  }
  httpRequests(netns: string, ip: string, port: number, options?: TrafficOptions): Promise<TrafficResult> {
    this.checkOwnNetns(netns);
    return httpRequests(netns, ip, port, options);
  }
  udpRequests(netns: string, ip: string, port: number, options?: TrafficOptions): Promise<TrafficResult> {
    this.checkOwnNetns(netns);
    return udpRequests(netns, ip, port, options);
  }

  /**
   * Gives the external namespace `count` more client addresses (198.51.100.200 upward, on its
   * bridge), for tests that need several distinct clients (session affinity, source ranges).
   * Use them as `sourceIP` of the traffic helpers. Addresses already present are reused.
   */
  async addExternalAddresses(count: number): Promise<string[]> {
    if (!Number.isInteger(count) || count < 1 || count > 50) {
      throw new KproxyError('E_USAGE', `addExternalAddresses: count must be 1-50, not ${count}`);
    }
    const ns = this.current.externalNetns;
    const shown = (await execInNetns(ns, ['ip', '-o', '-4', 'addr', 'show', 'dev', this.current.bridge])).stdout;
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const ip = `198.51.100.${200 + i}`;
      if (!shown.includes(` ${ip}/`)) {
        await execInNetns(ns, ['ip', 'addr', 'add', `${ip}/24`, 'dev', this.current.bridge]);
      }
      out.push(ip);
    }
    return out;
  }

  /** Re-reads the state (another process may have changed the sandbox). */
  async refresh(): Promise<SandboxState> {
    const state = await readState(this.current.stateDir);
    if (state === null) throw new KproxyError('E_SANDBOX', `sandbox "${this.name}" no longer exists`);
    this.current = state;
    return state;
  }

  /** Sets a Deployment's replicas: new pods are published once listening, removed ones terminate. */
  async scale(deployment: string, replicas: number, options: ChangeOptions = {}): Promise<SandboxChange> {
    if (!Number.isInteger(replicas) || replicas < 0) {
      throw new KproxyError('E_USAGE', `replicas must be a whole number >= 0, not ${replicas}`);
    }
    const namespace = options.namespace ?? 'default';
    const grace = this.graceOf(options);
    return this.change(async (state, commit) => {
      const d = findDeployment(state, namespace, deployment);
      let next = setReplicas(state, d, replicas);
      const active = activePods(next, d);
      let terminating: SandboxPodState[] = [];
      if (replicas < active.length) {
        terminating = scaleDownVictims(next, d, active.length - replicas);
        next = markTerminating(next, new Set(terminating.map(podKey)), this.deadline(grace));
      }
      const { state: grown, added } = addDeploymentPods(next, findDeployment(next, namespace, deployment), Math.max(0, replicas - active.length));
      return { state: await this.startNewPods(grown, added, commit), added, terminating, grace };
    });
  }

  /** Deletes a pod: terminating for the grace period, then gone (a Deployment's pod is replaced by default). */
  async deletePod(name: string, options: DeletePodOptions = {}): Promise<SandboxChange> {
    const namespace = options.namespace ?? 'default';
    const grace = this.graceOf(options);
    return this.change(async (state, commit) => {
      const pod = findPod(state, namespace, name);
      if (pod.role === 'client') throw new KproxyError('E_SANDBOX', `${podKey(pod)} is the client pod of ${pod.nodeName}; it cannot be deleted`);
      if (pod.phase === 'Terminating') return { state, added: [], terminating: [], grace };
      let next = markTerminating(state, new Set([podKey(pod)]), this.deadline(grace));
      let added: SandboxPodState[] = [];
      if (pod.deployment !== null && options.replace !== false) {
        const d = findDeployment(next, pod.namespace, pod.deployment);
        ({ state: next, added } = addDeploymentPods(next, d, 1));
      }
      return { state: await this.startNewPods(next, added, commit), added, terminating: [pod], grace };
    });
  }

  /** Stops the cleanup on signals and at exit: the sandbox outlives this process (CLI `up`). */
  detach(): void {
    this.unregisterSignal?.();
    this.unregisterSignal = null;
    process.off('exit', this.exitCleanup);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Removes everything the sandbox made: processes, namespaces (and their interfaces), state. */
  async down(): Promise<TeardownReport> {
    this.closed = true;
    this.detach();
    const state = (await readState(this.current.stateDir).catch(() => null)) ?? this.current;
    const report = await teardownRun(this.current.id, state.id === this.current.id ? state : this.current);
    for (const resolve of this.pendingFinishes) resolve();
    this.pendingFinishes.clear();
    return report;
  }

  private checkOwnNetns(netns: string): void {
    if (!netns.startsWith(`kpx-${this.current.id}-`)) {
      throw new KproxyError('E_SANDBOX', `${netns} is not a namespace of sandbox "${this.name}" (run ${this.id})`);
    }
  }

  private graceOf(options: ChangeOptions): number {
    const grace = options.graceSeconds ?? DEFAULT_GRACE_SECONDS;
    if (!Number.isFinite(grace) || grace < 0) throw new KproxyError('E_USAGE', `grace must be >= 0 seconds, not ${grace}`);
    return grace;
  }

  private deadline(graceSeconds: number): Date {
    return new Date(Date.now() + graceSeconds * 1000);
  }

  /** Publishes new pods as not ready, starts them, then publishes them ready. */
  private async startNewPods(
    state: SandboxState,
    added: readonly SandboxPodState[],
    commit: (s: SandboxState) => Promise<void>,
  ): Promise<SandboxState> {
    if (added.length === 0) {
      await commit(state);
      return state;
    }
    // As in `up`: a signal (or a failure) stops the start at its next step, waits for the steps in
    // flight, and takes the new pods away again, so no pod is left that the state does not name.
    const spawned: StartedServer[] = [];
    const guard = guardAgainstSignals();
    let committed: SandboxState | null = null;
    try {
      const started = await startPods(state, added, sandboxPaths(state.stateDir), DEFAULT_READY_TIMEOUT_MS, {
        checkpoint: () => guard.checkpoint(),
        onSpawn: (server) => spawned.push(server),
      });
      guard.checkpoint();
      let next = replacePods(state, started.map((s) => s.pod));
      await commit(next);
      committed = next;
      await Promise.race([Promise.all(started.map((s) => s.ready)), guard.signalled]);
      guard.checkpoint();
      next = markRunning(next, new Set(added.map(podKey)));
      await commit(next);
      return next;
    } catch (err) {
      await Promise.all(spawned.filter((s) => !s.exited()).map((s) => stopProcess(s.pid)));
      await Promise.all(added.map((p) => deleteNetns(p.netns)));
      if (committed !== null) await commit(withoutPods(committed, new Set(added.map(podKey)))).catch(() => undefined);
      const sig = guard.signal();
      throw sig === null ? err : new KproxyError('E_SANDBOX', `interrupted by ${sig}; the new pods were removed`, { cause: err });
    } finally {
      guard.done();
    }
  }

  private async change(
    fn: (
      state: SandboxState,
      commit: (s: SandboxState) => Promise<void>,
    ) => Promise<{ state: SandboxState; added: readonly SandboxPodState[]; terminating: readonly SandboxPodState[]; grace: number }>,
  ): Promise<SandboxChange> {
    if (this.closed) throw new KproxyError('E_SANDBOX', `sandbox "${this.name}" was removed`);
    const result = await withStateLock(this.current.stateDir, async () => {
      const state = await this.reapExpired(await this.refresh());
      await removeOrphanPods(state);
      const commit = async (s: SandboxState): Promise<void> => {
        await commitState(s);
        this.current = s;
      };
      return fn(state, commit);
    });
    const names = result.terminating.map((p) => p.name);
    const finished =
      result.terminating.length === 0
        ? Promise.resolve()
        : this.finishLater(new Set(result.terminating.map(podKey)), result.grace);
    return { added: result.added.map((p) => p.name), terminating: names, finished };
  }

  /** After the grace period: unpublish the pods, then stop their servers and delete their namespaces. */
  private finishLater(keys: ReadonlySet<string>, graceSeconds: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pendingFinishes.add(resolve);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.pendingFinishes.delete(resolve);
        this.removeTerminated(keys).then(resolve, reject);
      }, graceSeconds * 1000);
      this.timers.add(timer);
    });
  }

  private async removeTerminated(keys: ReadonlySet<string>): Promise<void> {
    if (this.closed) return;
    await withStateLock(this.current.stateDir, async () => {
      const state = await readState(this.current.stateDir);
      if (state?.id !== this.current.id) return;
      const gone = state.pods.filter((p) => keys.has(podKey(p)) && p.phase === 'Terminating');
      await this.removePods(state, gone);
    });
  }

  /** Removes terminating pods whose deadline passed while nobody was waiting (a CLI interrupted in its grace period). */
  private async reapExpired(state: SandboxState): Promise<SandboxState> {
    const expired = expiredPods(state, new Date());
    return expired.length === 0 ? state : this.removePods(state, expired);
  }

  private async removePods(state: SandboxState, pods: readonly SandboxPodState[]): Promise<SandboxState> {
    if (pods.length === 0) return state;
    const next = withoutPods(state, new Set(pods.map(podKey)));
    await commitState(next);
    this.current = next;
    await Promise.all(pods.map(removePodFromKernel));
    return next;
  }
}

export interface OpenOptions {
  readonly stateRoot?: string;
  /** Tear the sandbox down if this process gets SIGINT/SIGTERM/SIGHUP or exits without down() (default false). */
  readonly cleanupOnSignal?: boolean;
}

export interface CreateOptions extends SandboxOptions {
  /** Tear the sandbox down if this process gets SIGINT/SIGTERM/SIGHUP or exits without down() (default true). */
  readonly cleanupOnSignal?: boolean;
}

/** Builds a sandbox from decoded manifests and returns its handle (call down() when done). */
export async function createSandbox(objects: ClusterObjects, options: CreateOptions = {}): Promise<Sandbox> {
  const state = await buildSandbox(objects, options);
  return new Sandbox(state, options.cleanupOnSignal ?? true);
}

/** A handle on an existing sandbox (made by another process, e.g. `kproxy sandbox up`). */
export async function openSandbox(name = DEFAULT_SANDBOX_NAME, options: OpenOptions = {}): Promise<Sandbox> {
  checkSandboxName(name);
  requireRoot(`using sandbox "${name}"`);
  const stateDir = path.join(options.stateRoot ?? defaultStateRoot(), name);
  const state = await readState(stateDir);
  if (state === null) throw new KproxyError('E_SANDBOX', `there is no sandbox "${name}" (no state in ${stateDir})`);
  return new Sandbox(state, options.cleanupOnSignal ?? false);
}
