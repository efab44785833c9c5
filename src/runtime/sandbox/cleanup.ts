/**
 * Removing sandboxes: a run's processes (recorded pod servers, and anything else living in its
 * namespaces, such as a proxy daemon started under `ip netns exec`), then its namespaces
 * (which takes every interface in them along), then its state. Also finds leftovers of runs
 * that crashed: `kpx-<id>-*` namespaces whose run has no state, or whose processes are all dead.
 */
import { netnsPids, deleteNetns, listNetns } from './netns.js';
import { isPodServer, pidIsAlive, stopProcess } from './processes.js';
import { runIdOfNetns, runNetnsPrefix } from './naming.js';
import { listRunIds, readRunRecord, readState, removeStateDir, unregisterRun } from './store.js';
import type { SandboxState } from './types.js';

export interface TeardownReport {
  readonly id: string;
  readonly namespaces: readonly string[];
  readonly killed: readonly number[];
}

/** True while the run may still be in use: its owner lives, or one of its pod servers does. */
export function runIsAlive(state: SandboxState): boolean {
  if (pidIsAlive(state.ownerPid)) return true;
  const recorded = state.pods.filter((p) => p.pid !== null);
  if (recorded.some((p) => p.pid !== null && isPodServer(p.pid, p.netns))) return true;
  // A finished run without any server (no workload pods) cannot be judged by its processes.
  return state.phase === 'up' && recorded.length === 0;
}

/** Stops every process of run `id` and deletes its namespaces; removes its state when given. */
export async function teardownRun(id: string, state: SandboxState | null): Promise<TeardownReport> {
  const prefix = runNetnsPrefix(id);
  const namespaces = (await listNetns()).filter((n) => n.startsWith(prefix));
  const pids = new Set<number>();
  for (const pod of state?.pods ?? []) {
    if (pod.pid !== null && isPodServer(pod.pid, pod.netns)) pids.add(pod.pid);
  }
  for (const ns of namespaces) for (const pid of await netnsPids(ns)) pids.add(pid);
  pids.delete(process.pid);
  const killed = [...pids].sort((a, b) => a - b);
  await Promise.all(killed.map((pid) => stopProcess(pid)));
  // Pods first, the external namespace last: nothing depends on the order, but it reads well in logs.
  const ordered = [...namespaces].sort((a, b) => rank(a, state) - rank(b, state) || (a < b ? -1 : 1));
  await Promise.all(ordered.map((ns) => deleteNetns(ns)));
  if (state !== null) await removeStateDir(state.stateDir);
  await unregisterRun(id);
  return { id, namespaces: ordered, killed };
}

function rank(ns: string, state: SandboxState | null): number {
  if (state === null) return 0;
  if (ns === state.externalNetns) return 2;
  return state.nodes.some((n) => n.netns === ns) ? 1 : 0;
}

export interface Leftover {
  readonly id: string;
  readonly namespaces: readonly string[];
  /** The crashed run's state, when it left one. */
  readonly state: SandboxState | null;
}

function isPermissionDenied(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if ('code' in e && (e.code === 'EACCES' || e.code === 'EPERM')) return true;
  }
  return false;
}

/** Runs that are dead but left namespaces or state behind. */
export async function findLeftovers(): Promise<Leftover[]> {
  const byId = new Map<string, string[]>();
  for (const ns of await listNetns()) {
    const id = runIdOfNetns(ns);
    if (id !== null) byId.set(id, [...(byId.get(id) ?? []), ns]);
  }
  for (const id of await listRunIds()) if (!byId.has(id)) byId.set(id, []);
  const out: Leftover[] = [];
  for (const [id, namespaces] of [...byId.entries()].sort()) {
    const record = await readRunRecord(id);
    let state: SandboxState | null = null;
    try {
      state = record === null ? null : await readState(record.stateDir);
    } catch (err) {
      // A state we may not read (another user's run, seen without root) tells nothing of its
      // owner: never call that run dead. A corrupt one is a crashed run's.
      if (isPermissionDenied(err)) continue;
    }
    if (state !== null && runIsAlive(state)) continue;
    out.push({ id, namespaces, state });
  }
  return out;
}
