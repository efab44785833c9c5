/**
 * What the API server would fill in on the sandbox's Services: a ClusterIP from the service
 * CIDR, nodePorts (and a healthCheckNodePort for `externalTrafficPolicy: Local` load balancers)
 * from 30000–32767, and load-balancer ingress IPs (the cloud controller's job) from a pool the
 * external namespace routes to the nodes. Values set in the manifests are kept. Allocation is
 * deterministic: Services in namespace/name order, lowest free value first.
 */
import type { LoadBalancerIngress, Service, ServicePortSpec } from '../../core/model/objects.js';
import { lowestFreeAddress, lowestFreeNodePort, parseIPv4Range } from './addresses.js';

/** Contains the article's ClusterIP 172.18.255.127; outside every generated podCIDR. */
export const SERVICE_CIDR = '172.18.255.0/24';
/** TEST-NET-3, routed from the external namespace to the first node. */
export const LOAD_BALANCER_POOL = '203.0.113.0/24';
const FIRST_CLUSTER_IP_OFFSET = 10;
const FIRST_LOAD_BALANCER_OFFSET = 10;

function key(s: Service): string {
  return `${s.meta.namespace}/${s.meta.name}`;
}

function needsNodePorts(s: Service): boolean {
  return s.type === 'NodePort' || s.type === 'LoadBalancer';
}

/** Allocates what is missing; returns the Services in input order, plus notes about choices made. */
export function allocateServices(input: readonly Service[]): { services: Service[]; notes: string[] } {
  const notes: string[] = [];
  const serviceRange = parseIPv4Range(SERVICE_CIDR);
  const poolRange = parseIPv4Range(LOAD_BALANCER_POOL);
  if (serviceRange === null || poolRange === null) throw new Error('bad built-in CIDR');

  const usedClusterIPs = new Set<string>();
  const usedNodePorts = new Set<number>();
  const usedIngress = new Set<string>();
  for (const s of input) {
    for (const ip of [s.clusterIP, ...s.clusterIPs]) if (ip !== '' && ip !== 'None') usedClusterIPs.add(ip);
    for (const p of s.ports) if (p.nodePort !== 0) usedNodePorts.add(p.nodePort);
    if (s.healthCheckNodePort !== 0) usedNodePorts.add(s.healthCheckNodePort);
    for (const ing of s.loadBalancerIngress) if (ing.ip !== '') usedIngress.add(ing.ip);
  }

  const byKey = new Map<string, Service>();
  const ordered = [...input].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  for (const s of ordered) {
    if (s.type === 'ExternalName') {
      byKey.set(key(s), s);
      continue;
    }
    let clusterIP = s.clusterIP === '' ? (s.clusterIPs[0] ?? '') : s.clusterIP;
    if (clusterIP === '') {
      clusterIP = lowestFreeAddress(serviceRange, FIRST_CLUSTER_IP_OFFSET, usedClusterIPs, `Service ${key(s)}`);
      usedClusterIPs.add(clusterIP);
    }
    const clusterIPs = s.clusterIPs.length === 0 && clusterIP !== 'None' ? [clusterIP] : s.clusterIPs;
    const ports: ServicePortSpec[] = s.ports.map((p) => {
      if (!needsNodePorts(s) || p.nodePort !== 0) return p;
      const nodePort = lowestFreeNodePort(usedNodePorts, `Service ${key(s)} port ${p.port}`);
      usedNodePorts.add(nodePort);
      return { ...p, nodePort };
    });
    let healthCheckNodePort = s.healthCheckNodePort;
    if (s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local' && healthCheckNodePort === 0) {
      healthCheckNodePort = lowestFreeNodePort(usedNodePorts, `Service ${key(s)} healthCheckNodePort`);
      usedNodePorts.add(healthCheckNodePort);
    }
    let loadBalancerIngress: readonly LoadBalancerIngress[] = s.loadBalancerIngress;
    if (s.type === 'LoadBalancer' && loadBalancerIngress.length === 0) {
      const ip = lowestFreeAddress(poolRange, FIRST_LOAD_BALANCER_OFFSET, usedIngress, `Service ${key(s)}`);
      usedIngress.add(ip);
      loadBalancerIngress = [{ ip, hostname: '', ipMode: null }];
      notes.push(`Service ${key(s)}: load-balancer ingress ${ip}`);
    }
    const ipFamilies = s.ipFamilies.length === 0 ? (['IPv4'] as const) : s.ipFamilies;
    if (ipFamilies.includes('IPv6')) {
      notes.push(`Service ${key(s)}: the sandbox is IPv4-only; its IPv6 addresses are not reachable`);
    }
    byKey.set(key(s), { ...s, clusterIP, clusterIPs, ports, healthCheckNodePort, loadBalancerIngress, ipFamilies });
  }
  return { services: input.map((s) => byKey.get(key(s)) ?? s), notes };
}
