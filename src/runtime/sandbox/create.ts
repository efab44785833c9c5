/**
 * `up`: plan the sandbox, record it (so a crash leaves findable leftovers), build it in the
 * kernel, start the pod servers, wait until they listen, then publish the manifests. Any
 * failure, or a signal, on the way removes everything made so far.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { KproxyError } from '../../core/errors.js';
import type { ClusterObjects } from '../../core/model/objects.js';
import { allPodsRunning } from './changes.js';
import { runIsAlive, teardownRun } from './cleanup.js';
import { renderManifests } from './manifests.js';
import { listNetns, setupExternal, setupNode, setupRoutes } from './netns.js';
import { runIdOfNetns } from './naming.js';
import { planSandbox } from './plan.js';
import { startPods } from './pod-lifecycle.js';
import { stopProcess, type StartedServer } from './processes.js';
import { guardAgainstSignals } from './signals.js';
import {
  DEFAULT_SANDBOX_NAME,
  checkSandboxName,
  defaultStateRoot,
  listRunIds,
  prepareStateDir,
  readState,
  registerRun,
  requireRoot,
  writeFileAtomic,
  writeState,
  sandboxPaths,
} from './store.js';
import type { SandboxState } from './types.js';

export interface SandboxOptions {
  /** Sandbox name (default `default`); its state lives in `<stateRoot>/<name>`. */
  readonly name?: string;
  /** Number of nodes (default 1; Node objects in the manifests count towards it). */
  readonly nodes?: number;
  /** Directory of sandbox states (default $KPROXY_SANDBOX_DIR or /run/kproxy-sandbox). */
  readonly stateRoot?: string;
  /** How long a pod server may take to listen (default 15000 ms). */
  readonly readyTimeoutMs?: number;
  /** Progress messages (one line each). */
  readonly onProgress?: (message: string) => void;
}

export const DEFAULT_READY_TIMEOUT_MS = 15_000;


async function newRunId(): Promise<string> {
  const taken = new Set([...(await listNetns()).map(runIdOfNetns), ...(await listRunIds())]);
  for (;;) {
    const id = randomBytes(3).toString('hex');
    if (!taken.has(id)) return id;
  }
}

/** Publishes the cluster state the proxy reads (atomically). */
async function publishManifests(state: SandboxState): Promise<void> {
  const paths = sandboxPaths(state.stateDir);
  await writeFileAtomic(paths.manifestFile, renderManifests(state), paths.tmpDir);
}

export async function commitState(state: SandboxState): Promise<void> {
  await writeState(state);
  await publishManifests(state);
}

/** Builds a sandbox; returns its final state. The caller owns it from then on. */
export async function buildSandbox(objects: ClusterObjects, options: SandboxOptions = {}): Promise<SandboxState> {
  const name = options.name ?? DEFAULT_SANDBOX_NAME;
  checkSandboxName(name);
  requireRoot('building a sandbox');
  const progress = options.onProgress ?? ((): void => undefined);
  const stateDir = path.join(options.stateRoot ?? defaultStateRoot(), name);
  const existing = await readState(stateDir);
  if (existing !== null) {
    if (runIsAlive(existing)) {
      throw new KproxyError(
        'E_SANDBOX',
        `sandbox "${name}" already exists (run ${existing.id}); remove it first with \`kproxy sandbox down --name ${name}\``,
      );
    }
    progress(`removing the leftovers of a dead sandbox "${name}" (run ${existing.id})`);
    await teardownRun(existing.id, existing);
  }
  const id = await newRunId();
  let state = planSandbox(objects, {
    name,
    id,
    stateDir,
    ownerPid: process.pid,
    createdAt: new Date().toISOString(),
    nodes: options.nodes ?? 1,
  });
  const paths = await prepareStateDir(stateDir);
  // State first, then the registry entry: whoever finds the entry also finds the state (and the
  // live owner pid), so a concurrent `down` never mistakes this run for a leftover.
  await writeState(state);
  await registerRun({ id, stateDir });
  // A signal stops the build at its next step, waits for the steps in flight (a namespace being
  // made, a server being spawned), then removes everything, including servers not yet recorded.
  const spawned: StartedServer[] = [];
  const removeEverything = async (): Promise<void> => {
    await Promise.all(spawned.filter((s) => !s.exited()).map((s) => stopProcess(s.pid)));
    await teardownRun(id, state);
  };
  const guard = guardAgainstSignals(removeEverything);
  const checkpoint = (): void => guard.checkpoint();
  try {
    progress(`creating the external namespace ${state.externalNetns}`);
    await setupExternal(state);
    for (const node of state.nodes) {
      checkpoint();
      progress(`creating node ${node.name} (${node.netns}, ${node.address}, podCIDR ${node.podCIDR})`);
      await setupNode(state, node);
    }
    checkpoint();
    await setupRoutes(state);
    progress(`creating ${state.pods.length} pod(s) and starting their servers`);
    const started = await startPods(state, state.pods, paths, options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS, {
      checkpoint,
      onSpawn: (server) => spawned.push(server),
    });
    state = { ...state, pods: started.map((s) => s.pod) };
    await writeState(state);
    await Promise.race([Promise.all(started.map((s) => s.ready)), guard.signalled]);
    checkpoint();
    state = { ...allPodsRunning(state), phase: 'up' };
    await commitState(state);
    progress(`sandbox "${name}" is up (run ${id}); manifests: ${paths.manifestFile}`);
    return state;
  } catch (err) {
    const sig = guard.signal();
    progress(sig === null ? `sandbox "${name}" failed; removing what was made` : `removing what was made`);
    await removeEverything().catch(() => undefined);
    // A command the terminal's Ctrl-C also reached fails in its own words; the signal is the cause.
    throw sig === null ? err : new KproxyError('E_SANDBOX', `interrupted by ${sig}`, { cause: err });
  } finally {
    guard.done();
  }
}
