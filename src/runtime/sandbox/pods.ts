/**
 * Pod placement and addressing, shared by `up` and `scale`: the node with the fewest pods of
 * the same owner (then the fewest pods overall) gets the next pod, and the pod takes the lowest
 * free address from `.5` of the node's podCIDR (the article's pods are 172.18.0.5–7).
 */
import { KproxyError } from '../../core/errors.js';
import type { ContainerPort } from '../../core/model/objects.js';
import { highestFreeAddress, lowestFreeAddress, parseIPv4Range } from './addresses.js';
import { podNetnsName, podVethName } from './naming.js';
import type { PodRole, SandboxNodeState, SandboxPodState } from './types.js';

const FIRST_POD_OFFSET = 5;
const DEFAULT_SERVER_PORT = 80;
/** Label carried by client pods; they are never selected by a Service. */
export const CLIENT_ROLE_LABEL = 'kproxy.sandbox/role';

/** Ports a pod server answers on (TCP and UDP each): every container port, or 80 when none. */
function serverPortsOf(containerPorts: readonly ContainerPort[]): number[] {
  const ports = [...new Set(containerPorts.map((p) => p.containerPort))].sort((a, b) => a - b);
  return ports.length === 0 ? [DEFAULT_SERVER_PORT] : ports;
}

/** Pods that still hold their address (every phase, terminating ones included). */
function podsOnNode(pods: readonly SandboxPodState[], nodeName: string): SandboxPodState[] {
  return pods.filter((p) => p.nodeName === nodeName);
}

/** The node that should run the next pod of `owner` (a deployment name, or null). */
export function pickNode(
  nodes: readonly SandboxNodeState[],
  pods: readonly SandboxPodState[],
  owner: string | null,
  namespace: string,
): SandboxNodeState {
  let best: SandboxNodeState | null = null;
  let bestKey: readonly [number, number] = [Infinity, Infinity];
  for (const node of nodes) {
    const active = podsOnNode(pods, node.name).filter((p) => p.phase !== 'Terminating' && p.role === 'workload');
    const sameOwner = active.filter(
      (p) => owner !== null && p.deployment === owner && p.namespace === namespace,
    ).length;
    const key = [sameOwner, active.length] as const;
    if (key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])) {
      best = node;
      bestKey = key;
    }
  }
  if (best === null) throw new KproxyError('E_SANDBOX', 'the sandbox has no nodes');
  return best;
}

function nodeRange(node: SandboxNodeState): NonNullable<ReturnType<typeof parseIPv4Range>> {
  const range = parseIPv4Range(node.podCIDR);
  if (range === null) {
    throw new KproxyError('E_SANDBOX', `node ${node.name}: podCIDR ${node.podCIDR} is not an IPv4 CIDR`);
  }
  return range;
}

/** The lowest free workload address (from .5 up) or, for a client pod, the highest one. */
export function allocatePodIP(
  node: SandboxNodeState,
  pods: readonly SandboxPodState[],
  role: PodRole,
  reserved: ReadonlySet<string>,
  what: string,
): string {
  const used = new Set([...reserved, ...pods.map((p) => p.ip)]);
  const range = nodeRange(node);
  return role === 'client'
    ? highestFreeAddress(range, used, what)
    : lowestFreeAddress(range, FIRST_POD_OFFSET, used, what);
}

export interface NewPod {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly containerPorts: readonly ContainerPort[];
  readonly deployment: string | null;
  readonly role: PodRole;
  readonly node: SandboxNodeState;
  readonly ip: string;
  readonly seq: number;
}

export function podState(id: string, pod: NewPod): SandboxPodState {
  return {
    name: pod.name,
    namespace: pod.namespace,
    labels: pod.labels,
    containerPorts: pod.containerPorts,
    serverPorts: pod.role === 'client' ? [] : serverPortsOf(pod.containerPorts),
    deployment: pod.deployment,
    role: pod.role,
    nodeName: pod.node.name,
    ip: pod.ip,
    netns: podNetnsName(id, pod.namespace, pod.name),
    hostVeth: podVethName(id, pod.seq),
    seq: pod.seq,
    pid: null,
    phase: 'Pending',
    deletionDeadline: null,
  };
}

export function clientPodName(node: SandboxNodeState): string {
  return `client-${node.name}`;
}
