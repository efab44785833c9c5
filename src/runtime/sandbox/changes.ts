/**
 * Pure state transitions behind `scale` and `delete-pod`: which pods to add (named, placed and
 * addressed like `up` does), which to terminate, and which to drop once their grace is over.
 */
import { KproxyError } from '../../core/errors.js';
import { allocatePodIP, pickNode, podState } from './pods.js';
import type { SandboxDeploymentState, SandboxPodState, SandboxState } from './types.js';

export function podKey(p: { readonly namespace: string; readonly name: string }): string {
  return `${p.namespace}/${p.name}`;
}

export function findDeployment(state: SandboxState, namespace: string, name: string): SandboxDeploymentState {
  const d = state.deployments.find((x) => x.namespace === namespace && x.name === name);
  if (d === undefined) {
    const known = state.deployments.map(podKey).join(', ') || 'none';
    throw new KproxyError('E_SANDBOX', `sandbox "${state.name}" has no Deployment ${namespace}/${name} (it has: ${known})`);
  }
  return d;
}

export function findPod(state: SandboxState, namespace: string, name: string): SandboxPodState {
  const p = state.pods.find((x) => x.namespace === namespace && x.name === name);
  if (p === undefined) {
    const known = state.pods.filter((x) => x.role === 'workload').map(podKey).join(', ') || 'none';
    throw new KproxyError('E_SANDBOX', `sandbox "${state.name}" has no pod ${namespace}/${name} (it has: ${known})`);
  }
  return p;
}

/** Pods of a deployment that count towards its replicas (not terminating). */
export function activePods(state: SandboxState, d: SandboxDeploymentState): SandboxPodState[] {
  return state.pods.filter(
    (p) => p.deployment === d.name && p.namespace === d.namespace && p.phase !== 'Terminating',
  );
}

/** Adds `count` new Pending pods to deployment `d`. */
export function addDeploymentPods(
  state: SandboxState,
  d: SandboxDeploymentState,
  count: number,
): { state: SandboxState; added: SandboxPodState[] } {
  let pods = [...state.pods];
  let nextIndex = d.nextIndex;
  let seq = state.nextPodSeq;
  const added: SandboxPodState[] = [];
  for (let i = 0; i < count; i++) {
    let name = `${d.name}-${nextIndex++}`;
    while (pods.some((p) => p.namespace === d.namespace && p.name === name)) name = `${d.name}-${nextIndex++}`;
    const node = pickNode(state.nodes, pods, d.name, d.namespace);
    const ip = allocatePodIP(node, pods, 'workload', new Set(), `Pod ${d.namespace}/${name}`);
    const pod = podState(state.id, {
      name,
      namespace: d.namespace,
      labels: d.podLabels,
      containerPorts: d.containerPorts,
      deployment: d.name,
      role: 'workload',
      node,
      ip,
      seq: seq++,
    });
    pods = [...pods, pod];
    added.push(pod);
  }
  const deployments = state.deployments.map((x) => (podKey(x) === podKey(d) ? { ...x, nextIndex } : x));
  return { state: { ...state, pods, deployments, nextPodSeq: seq }, added };
}

/** The pods a scale-down removes: not-ready ones first, then the newest. */
export function scaleDownVictims(state: SandboxState, d: SandboxDeploymentState, count: number): SandboxPodState[] {
  return [...activePods(state, d)]
    .sort((a, b) => (a.phase === 'Pending' ? 0 : 1) - (b.phase === 'Pending' ? 0 : 1) || b.seq - a.seq)
    .slice(0, count);
}

export function setReplicas(state: SandboxState, d: SandboxDeploymentState, replicas: number): SandboxState {
  return {
    ...state,
    deployments: state.deployments.map((x) =>
      x.namespace === d.namespace && x.name === d.name ? { ...x, replicas } : x,
    ),
  };
}

export function markTerminating(state: SandboxState, keys: ReadonlySet<string>, deadline: Date): SandboxState {
  return {
    ...state,
    pods: state.pods.map((p) =>
      keys.has(podKey(p)) ? { ...p, phase: 'Terminating', deletionDeadline: deadline.toISOString() } : p,
    ),
  };
}

export function withoutPods(state: SandboxState, keys: ReadonlySet<string>): SandboxState {
  return { ...state, pods: state.pods.filter((p) => !keys.has(podKey(p))) };
}

/** Every Pending pod Running: the state once every pod server listens (as after `sandbox up`). */
export function allPodsRunning(state: SandboxState): SandboxState {
  return { ...state, pods: state.pods.map((p) => (p.phase === 'Pending' ? { ...p, phase: 'Running' } : p)) };
}

export function markRunning(state: SandboxState, keys: ReadonlySet<string>): SandboxState {
  return {
    ...state,
    pods: state.pods.map((p) => (keys.has(podKey(p)) && p.phase === 'Pending' ? { ...p, phase: 'Running' } : p)),
  };
}

/** Terminating pods whose grace period ended before `now`. */
export function expiredPods(state: SandboxState, now: Date): SandboxPodState[] {
  return state.pods.filter(
    (p) => p.phase === 'Terminating' && p.deletionDeadline !== null && Date.parse(p.deletionDeadline) <= now.getTime(),
  );
}

export function replacePods(state: SandboxState, updated: readonly SandboxPodState[]): SandboxState {
  const byKey = new Map(updated.map((p) => [podKey(p), p]));
  return { ...state, pods: state.pods.map((p) => byKey.get(podKey(p)) ?? p) };
}
