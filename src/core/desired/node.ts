/**
 * What the proxy knows about its own node: name, IPs, zone, pod CIDRs. The Node object named
 * like the proxy's node (--hostname-override) wins; --node-ip fills in or comes first.
 */
import { parseCIDR, parseIP } from '../net/ip.js';
import type { ProxyConfig } from '../model/config.js';
import type { ClusterObjects, IPFamily, Node } from '../model/objects.js';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface NodeView {
  readonly name: string;
  readonly node: Node | null;
  /** Canonical IPs of the family: --node-ip first, then the Node's InternalIP then ExternalIP addresses. */
  readonly ips: readonly string[];
  /** The IP kube-proxy calls the node IP; loopback when none is known (as kube-proxy assumes). */
  readonly primaryIP: string;
  readonly zone: string;
  readonly podCIDRs: readonly string[];
}

export function findNode(objects: ClusterObjects, name: string): Node | null {
  return objects.nodes.find((n) => n.meta.name === name) ?? null;
}

export function nodeView(objects: ClusterObjects, config: ProxyConfig, family: IPFamily): NodeView {
  const node = findNode(objects, config.nodeName);
  const candidates = [
    ...config.nodeIPs,
    ...(node?.addresses.filter((a) => a.type === 'InternalIP').map((a) => a.address) ?? []),
    ...(node?.addresses.filter((a) => a.type === 'ExternalIP').map((a) => a.address) ?? []),
  ];
  const ips: string[] = [];
  for (const c of candidates) {
    const p = parseIP(c.trim());
    if (p?.family === family && !ips.includes(p.text)) ips.push(p.text);
  }
  const podCIDRs: string[] = [];
  for (const c of node?.podCIDRs ?? []) {
    const p = parseCIDR(c);
    if (p?.family === family) podCIDRs.push(p.text);
  }
  return {
    name: config.nodeName,
    node,
    ips,
    primaryIP: ips[0] ?? (family === 'IPv4' ? '127.0.0.1' : '::1'),
    zone: node?.meta.labels[ZONE_LABEL] ?? '',
    podCIDRs,
  };
}

/** Set by the cluster autoscaler on a node it is about to remove. */
export const TO_BE_DELETED_TAINT = 'ToBeDeletedByClusterAutoscaler';

/**
 * Whether this node should take new load-balancer traffic (kube-proxy's `nodeEligible`, which
 * only /healthz reports): not when its Node is being deleted or tainted for removal. Without a
 * Node object it is eligible only when nobody could have given one (objects from files).
 */
export function nodeEligible(node: Node | null, nodesWatched: boolean): boolean {
  if (node === null) return !nodesWatched;
  return node.meta.deletionTimestamp === null && !node.taintKeys.includes(TO_BE_DELETED_TAINT);
}
