/**
 * Sandbox administration across processes: what exists (status), removing one sandbox, all
 * of them, and the leftovers of crashed runs.
 */
import path from 'node:path';
import { findLeftovers, runIsAlive, teardownRun, type TeardownReport } from './cleanup.js';
import { listNetns } from './netns.js';
import { isPodServer } from './processes.js';
import { runNetnsPrefix } from './naming.js';
import { DEFAULT_SANDBOX_NAME, checkSandboxName, defaultStateRoot, listStateDirs, readState, requireRoot } from './store.js';
import type { SandboxState } from './types.js';
import { sandboxPaths } from './store.js';

export interface RootOptions {
  /** Directory of sandbox states (default $KPROXY_SANDBOX_DIR or /run/kproxy-sandbox). */
  readonly stateRoot?: string;
}

export interface DownReport {
  /** Sandboxes removed (by name), with what was removed. */
  readonly removed: readonly (TeardownReport & { readonly name: string | null })[];
}

/** Removes sandbox `name` and the leftovers of crashed runs. Missing `name` is not an error. */
export async function removeSandbox(name = DEFAULT_SANDBOX_NAME, options: RootOptions = {}): Promise<DownReport> {
  checkSandboxName(name);
  requireRoot('removing a sandbox');
  const stateDir = path.join(options.stateRoot ?? defaultStateRoot(), name);
  const removed: (TeardownReport & { name: string | null })[] = [];
  const state = await readState(stateDir);
  if (state !== null) removed.push({ ...(await teardownRun(state.id, state)), name: state.name });
  removed.push(...(await removeLeftovers()).removed);
  return { removed };
}

/** Removes every sandbox under the state root (alive or not) and every leftover. */
export async function removeAllSandboxes(options: RootOptions = {}): Promise<DownReport> {
  requireRoot('removing sandboxes');
  const removed: (TeardownReport & { name: string | null })[] = [];
  for (const dir of await listStateDirs(options.stateRoot ?? defaultStateRoot())) {
    const state = await readState(dir);
    if (state !== null) removed.push({ ...(await teardownRun(state.id, state)), name: state.name });
  }
  removed.push(...(await removeLeftovers()).removed);
  return { removed };
}

/** Removes runs whose processes are all dead (crashed `up`s, killed test processes). */
export async function removeLeftovers(): Promise<DownReport> {
  requireRoot('removing leftovers of sandboxes');
  const removed: (TeardownReport & { name: string | null })[] = [];
  for (const leftover of await findLeftovers()) {
    removed.push({ ...(await teardownRun(leftover.id, leftover.state)), name: leftover.state?.name ?? null });
  }
  return { removed };
}

export interface PodStatus {
  readonly name: string;
  readonly namespace: string;
  readonly role: 'workload' | 'client';
  readonly node: string;
  readonly ip: string;
  readonly netns: string;
  readonly phase: string;
  readonly pid: number | null;
  readonly running: boolean;
  readonly deletionDeadline: string | null;
}

export interface ServiceStatus {
  readonly name: string;
  readonly type: string;
  readonly clusterIP: string;
  readonly ports: readonly { name: string; protocol: string; port: number; targetPort: number | string; nodePort: number }[];
  readonly loadBalancerIPs: readonly string[];
  readonly externalIPs: readonly string[];
}

export interface SandboxStatus {
  readonly name: string;
  readonly id: string;
  readonly phase: string;
  readonly alive: boolean;
  readonly stateDir: string;
  readonly manifestFile: string;
  readonly createdAt: string;
  readonly externalNetns: string;
  readonly nodes: readonly { name: string; netns: string; address: string; podCIDR: string }[];
  readonly pods: readonly PodStatus[];
  readonly services: readonly ServiceStatus[];
  readonly deployments: readonly { name: string; namespace: string; replicas: number }[];
  /** Namespaces of the run present in the kernel right now. */
  readonly namespaces: readonly string[];
}

export interface StatusReport {
  readonly stateRoot: string;
  readonly sandboxes: readonly SandboxStatus[];
  /** `kpx-` namespaces of dead runs (removed by any `down`). */
  readonly leftovers: readonly string[];
}

function sandboxStatus(state: SandboxState, netns: readonly string[]): SandboxStatus {
  return {
    name: state.name,
    id: state.id,
    phase: state.phase,
    alive: runIsAlive(state),
    stateDir: state.stateDir,
    manifestFile: sandboxPaths(state.stateDir).manifestFile,
    createdAt: state.createdAt,
    externalNetns: state.externalNetns,
    nodes: state.nodes.map((n) => ({ name: n.name, netns: n.netns, address: n.address, podCIDR: n.podCIDR })),
    pods: state.pods.map((p) => ({
      name: p.name,
      namespace: p.namespace,
      role: p.role,
      node: p.nodeName,
      ip: p.ip,
      netns: p.netns,
      phase: p.phase,
      pid: p.pid,
      running: p.pid !== null && isPodServer(p.pid, p.netns),
      deletionDeadline: p.deletionDeadline,
    })),
    services: state.services.map((s) => ({
      name: `${s.meta.namespace}/${s.meta.name}`,
      type: s.type,
      clusterIP: s.clusterIP,
      ports: s.ports.map((p) => ({
        name: p.name,
        protocol: p.protocol,
        port: p.port,
        targetPort: p.targetPort,
        nodePort: p.nodePort,
      })),
      loadBalancerIPs: s.loadBalancerIngress.map((i) => i.ip).filter((ip) => ip !== ''),
      externalIPs: s.externalIPs,
    })),
    deployments: state.deployments.map((d) => ({ name: d.name, namespace: d.namespace, replicas: d.replicas })),
    namespaces: netns.filter((n) => n.startsWith(runNetnsPrefix(state.id))),
  };
}

export async function sandboxStatuses(options: RootOptions = {}): Promise<StatusReport> {
  const stateRoot = options.stateRoot ?? defaultStateRoot();
  const netns = await listNetns();
  const sandboxes: SandboxStatus[] = [];
  for (const dir of await listStateDirs(stateRoot)) {
    const state = await readState(dir);
    if (state !== null) sandboxes.push(sandboxStatus(state, netns));
  }
  const leftovers = (await findLeftovers()).flatMap((l) => l.namespaces);
  return { stateRoot, sandboxes, leftovers };
}
