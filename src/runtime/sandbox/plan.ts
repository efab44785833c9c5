/**
 * Turns decoded manifests into the initial state of a sandbox run: nodes (with podCIDRs and
 * addresses), pods (placed and addressed), allocated Services. Pure: the run id, owner pid and
 * time are passed in, so the same input always gives the same plan.
 */
import { KproxyError } from '../../core/errors.js';
import type { ClusterObjects, Pod } from '../../core/model/objects.js';
import {
  parseIPv4Range,
  rangeContains,
  rangesOverlap,
  type IPv4Range,
} from './addresses.js';
import { bridgeName, externalNetnsName, nodeNetnsName, uplinkName } from './naming.js';
import { CLIENT_ROLE_LABEL, allocatePodIP, clientPodName, pickNode, podState } from './pods.js';
import { LOAD_BALANCER_POOL, SERVICE_CIDR, allocateServices } from './services.js';
import {
  STATE_VERSION,
  type SandboxDeploymentState,
  type SandboxNodeState,
  type SandboxPodState,
  type SandboxState,
} from './types.js';

export const EXTERNAL_CIDR = '198.51.100.0/24';
export const EXTERNAL_ADDRESS = '198.51.100.1';
const MAX_NODES = 200;

export interface PlanInput {
  readonly name: string;
  readonly id: string;
  readonly stateDir: string;
  readonly ownerPid: number;
  readonly createdAt: string;
  /** At least this many nodes (Node objects in the manifests count towards it). */
  readonly nodes: number;
}

function nodeAddress(index: number): string {
  return `198.51.100.${index + 1}`;
}

function planNodes(objects: ClusterObjects, input: PlanInput, notes: string[]): SandboxNodeState[] {
  const given = [...objects.nodes].sort((a, b) => (a.meta.name < b.meta.name ? -1 : 1));
  const count = Math.max(input.nodes, given.length);
  if (!Number.isInteger(count) || count < 1 || count > MAX_NODES) {
    throw new KproxyError('E_SANDBOX', `the sandbox needs between 1 and ${MAX_NODES} nodes, not ${count}`);
  }
  const reserved: IPv4Range[] = [];
  const serviceRange = parseIPv4Range(SERVICE_CIDR);
  if (serviceRange !== null) reserved.push(serviceRange);
  const cidrs: (string | null)[] = given.map((n) => {
    const cidr = n.podCIDRs.map(parseIPv4Range).find((r) => r !== null) ?? null;
    if (cidr === null) {
      notes.push(`Node ${n.meta.name}: no IPv4 spec.podCIDRs; the sandbox picks one`);
      return null;
    }
    reserved.push(cidr);
    return cidr.text;
  });
  const names = given.map((n) => n.meta.name);
  let nextNodeNumber = 1;
  while (names.length < count) {
    const name = `node-${nextNodeNumber++}`;
    if (!names.includes(name)) names.push(name);
  }
  let nextThirdOctet = 0;
  return names.map((name, i) => {
    let podCIDR = cidrs[i] ?? null;
    while (podCIDR === null) {
      if (nextThirdOctet > 254) throw new KproxyError('E_SANDBOX', 'no free podCIDR left in 172.18.0.0/16');
      const candidate = parseIPv4Range(`172.18.${nextThirdOctet++}.0/24`);
      if (candidate !== null && !reserved.some((r) => rangesOverlap(r, candidate))) {
        reserved.push(candidate);
        podCIDR = candidate.text;
      }
    }
    const index = i + 1;
    return {
      name,
      index,
      netns: nodeNetnsName(input.id, name),
      address: nodeAddress(index),
      podCIDR,
      uplink: uplinkName(input.id, index),
    };
  });
}

function explicitPodIP(pod: Pod): string | null {
  return pod.podIPs.find((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip)) ?? null;
}

interface PodRequest {
  readonly pod: Pod | null;
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly containerPorts: SandboxPodState['containerPorts'];
  readonly deployment: string | null;
}

function planPods(
  objects: ClusterObjects,
  nodes: readonly SandboxNodeState[],
  id: string,
  deployments: readonly SandboxDeploymentState[],
): SandboxPodState[] {
  const requests: PodRequest[] = [];
  for (const pod of objects.pods) {
    requests.push({
      pod,
      name: pod.meta.name,
      namespace: pod.meta.namespace,
      labels: pod.meta.labels,
      containerPorts: pod.containerPorts,
      deployment: null,
    });
  }
  for (const d of deployments) {
    for (let i = 0; i < d.replicas; i++) {
      requests.push({
        pod: null,
        name: `${d.name}-${i}`,
        namespace: d.namespace,
        labels: d.podLabels,
        containerPorts: d.containerPorts,
        deployment: d.name,
      });
    }
  }
  const seen = new Set<string>();
  for (const r of requests) {
    const k = `${r.namespace}/${r.name}`;
    if (seen.has(k)) throw new KproxyError('E_SANDBOX', `Pod ${k}: two pods of the sandbox would have this name`);
    seen.add(k);
  }
  const reserved = new Set<string>();
  const explicitNode = new Map<PodRequest, SandboxNodeState>();
  for (const r of requests) {
    const ip = r.pod === null ? null : explicitPodIP(r.pod);
    if (ip === null) continue;
    const node = nodes.find((n) => {
      const range = parseIPv4Range(n.podCIDR);
      return range !== null && rangeContains(range, ip);
    });
    if (node === undefined) {
      throw new KproxyError(
        'E_SANDBOX',
        `Pod ${r.namespace}/${r.name}: status.podIP ${ip} is outside every node's podCIDR (${nodes.map((n) => n.podCIDR).join(', ')})`,
      );
    }
    if (reserved.has(ip)) throw new KproxyError('E_SANDBOX', `Pod ${r.namespace}/${r.name}: status.podIP ${ip} is used twice`);
    reserved.add(ip);
    explicitNode.set(r, node);
  }
  const pods: SandboxPodState[] = [];
  let seq = 1;
  for (const r of requests) {
    const fixedIP = r.pod === null ? null : explicitPodIP(r.pod);
    const wantedNode = r.pod?.nodeName ?? null;
    const named = wantedNode === null ? undefined : nodes.find((n) => n.name === wantedNode);
    const node = explicitNode.get(r) ?? named ?? pickNode(nodes, pods, r.deployment, r.namespace);
    const ip = fixedIP ?? allocatePodIP(node, pods, 'workload', reserved, `Pod ${r.namespace}/${r.name}`);
    pods.push(podState(id, { ...r, role: 'workload', node, ip, seq: seq++ }));
  }
  for (const node of nodes) {
    const ip = allocatePodIP(node, pods, 'client', reserved, `the client pod of ${node.name}`);
    pods.push(
      podState(id, {
        name: clientPodName(node),
        namespace: 'default',
        labels: { [CLIENT_ROLE_LABEL]: 'client' },
        containerPorts: [],
        deployment: null,
        role: 'client',
        node,
        ip,
        seq: seq++,
      }),
    );
  }
  return pods;
}

export function planSandbox(objects: ClusterObjects, input: PlanInput): SandboxState {
  const notes: string[] = [];
  const nodes = planNodes(objects, input, notes);
  const deployments: SandboxDeploymentState[] = [...objects.deployments]
    .sort((a, b) => (`${a.meta.namespace}/${a.meta.name}` < `${b.meta.namespace}/${b.meta.name}` ? -1 : 1))
    .map((d) => ({
      namespace: d.meta.namespace,
      name: d.meta.name,
      replicas: d.replicas,
      podLabels: d.podLabels,
      containerPorts: d.containerPorts,
      nextIndex: d.replicas,
    }));
  const pods = planPods(objects, nodes, input.id, deployments);
  const { services, notes: serviceNotes } = allocateServices(objects.services);
  notes.push(...serviceNotes);
  const selectorless = new Set(
    services.filter((s) => s.selector === null).map((s) => `${s.meta.namespace}/${s.meta.name}`),
  );
  const inputSlices = objects.endpointSlices.filter(
    (sl) => sl.serviceName !== null && selectorless.has(`${sl.meta.namespace}/${sl.serviceName}`),
  );
  const dropped = objects.endpointSlices.filter((sl) => sl.origin === 'input' && !inputSlices.includes(sl)).length;
  if (dropped > 0) {
    notes.push(`${dropped} EndpointSlice(s) of Services with a selector ignored: the sandbox builds those from its pods`);
  }
  return {
    version: STATE_VERSION,
    name: input.name,
    id: input.id,
    stateDir: input.stateDir,
    ownerPid: input.ownerPid,
    phase: 'creating',
    createdAt: input.createdAt,
    externalNetns: externalNetnsName(input.id),
    bridge: bridgeName(input.id),
    externalAddress: EXTERNAL_ADDRESS,
    serviceCIDR: SERVICE_CIDR,
    loadBalancerPool: LOAD_BALANCER_POOL,
    nodes,
    pods,
    deployments,
    services,
    inputSlices,
    nextPodSeq: pods.length + 1,
    notes,
  };
}
