/**
 * Bringing pods up (namespace, veth, server) and down (server, namespace), a few at a time.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { KproxyError } from '../../core/errors.js';
import { deleteNetns, listNetns, netnsPids, setupPod } from './netns.js';
import { runNetnsPrefix } from './naming.js';
import { startPodServer, stopProcess, isPodServer, type StartedServer } from './processes.js';
import type { SandboxPaths } from './store.js';
import type { SandboxPodState, SandboxState } from './types.js';

const PARALLEL_PODS = 8;

/**
 * Runs `fn` over `items`, at most `limit` at a time. After a failure no new item starts, and the
 * first error is thrown only once every started item has settled: a caller that cleans up after
 * the error never races work still in flight (a namespace being made, a server being spawned).
 */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const run: { failure: { readonly error: unknown } | null } = { failure: null };
  const worker = async (): Promise<void> => {
    while (run.failure === null && next < items.length) {
      const i = next++;
      const item = items[i];
      if (item === undefined) continue;
      try {
        out[i] = await fn(item);
      } catch (err) {
        run.failure ??= { error: err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (run.failure !== null) throw run.failure.error;
  return out;
}

function podLogFile(paths: SandboxPaths, pod: SandboxPodState): string {
  return path.join(paths.logsDir, `${pod.namespace}.${pod.name}.log`);
}

export interface StartedPod {
  readonly pod: SandboxPodState;
  /** Resolves when the pod's server listens (at once for client pods). */
  readonly ready: Promise<void>;
}

export interface StartHooks {
  /** Called before each pod is made and before its server starts: throwing stops the work there. */
  readonly checkpoint?: () => void;
  /** Called as soon as a server process exists, so that an interrupted start can still stop it. */
  readonly onSpawn?: (server: StartedServer) => void;
}

/** Wires each pod to its node and starts its server; returns the pods with their pids. */
export async function startPods(
  state: SandboxState,
  pods: readonly SandboxPodState[],
  paths: SandboxPaths,
  readyTimeoutMs: number,
  hooks: StartHooks = {},
): Promise<StartedPod[]> {
  const checkpoint = hooks.checkpoint ?? ((): void => undefined);
  return mapLimit(pods, PARALLEL_PODS, async (pod) => {
    const node = state.nodes.find((n) => n.name === pod.nodeName);
    if (node === undefined) throw new KproxyError('E_SANDBOX', `pod ${pod.name}: unknown node ${pod.nodeName}`);
    checkpoint();
    // A new pod's name is free in the state; a namespace by that name is an orphan of a change
    // that was killed half-way (SIGKILL leaves no chance to undo it).
    if (existsSync(`/run/netns/${pod.netns}`)) {
      for (const pid of await netnsPids(pod.netns)) await stopProcess(pid);
      await deleteNetns(pod.netns);
    }
    await setupPod(node, pod);
    checkpoint();
    if (pod.role === 'client') return { pod: { ...pod, phase: 'Running' }, ready: Promise.resolve() };
    const server = startPodServer(
      {
        netns: pod.netns,
        pod: pod.name,
        namespace: pod.namespace,
        node: pod.nodeName,
        ip: pod.ip,
        ports: pod.serverPorts,
      },
      podLogFile(paths, pod),
      readyTimeoutMs,
    );
    hooks.onSpawn?.(server);
    // Avoid an unhandled rejection before the caller awaits it.
    server.ready.catch(() => undefined);
    return { pod: { ...pod, pid: server.pid }, ready: server.ready };
  });
}

/** Stops a pod's server and deletes its namespace (its veth goes with it). */
export async function removePodFromKernel(pod: SandboxPodState): Promise<void> {
  if (pod.pid !== null && isPodServer(pod.pid, pod.netns)) await stopProcess(pod.pid);
  await deleteNetns(pod.netns);
}

/**
 * Removes the pod namespaces of a built sandbox that its state does not name (and whatever runs
 * in them): the pods of a change killed before it could undo itself. Call it holding the lock.
 */
export async function removeOrphanPods(state: SandboxState): Promise<string[]> {
  if (state.phase !== 'up') return [];
  const named = new Set(state.pods.map((p) => p.netns));
  const prefix = `${runNetnsPrefix(state.id)}pod-`;
  const orphans = (await listNetns()).filter((n) => n.startsWith(prefix) && !named.has(n));
  for (const netns of orphans) {
    for (const pid of await netnsPids(netns)) await stopProcess(pid);
    await deleteNetns(netns);
  }
  return orphans;
}
