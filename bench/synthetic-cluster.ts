/**
 * Synthetic clusters for benchmarks: N services with 10 ready endpoints each spread over 50
 * nodes, 60% ClusterIP, 25% NodePort, 15% LoadBalancer (some with externalTrafficPolicy Local or
 * source ranges), some UDP, some with ClientIP affinity or an external IP.
 */
import type { ClusterObjects, EndpointSlice, ObjectMeta, Service } from '../src/core/model/objects.js';

const ENDPOINTS_PER_SERVICE = 10;
const NODES = 50;

function meta(namespace: string, name: string, labels: Record<string, string> = {}): ObjectMeta {
  return { namespace, name, labels, annotations: {}, deletionTimestamp: null, source: { file: 'bench', document: 1 } };
}

export function syntheticCluster(services: number): ClusterObjects {
  const svcs: Service[] = [];
  const slices: EndpointSlice[] = [];
  for (let i = 0; i < services; i++) {
    const ns = `ns${i % 100}`;
    const name = `svc${i}`;
    const kind = i % 20;
    const type = kind < 12 ? 'ClusterIP' : kind < 17 ? 'NodePort' : 'LoadBalancer';
    const local = kind === 19;
    const hi = Math.floor(i / 250);
    const lo = i % 250;
    svcs.push({
      kind: 'Service',
      meta: meta(ns, name),
      type,
      clusterIP: `172.30.${hi}.${lo + 1}`,
      clusterIPs: [],
      ipFamilies: [],
      ports: [{ name: 'http', protocol: i % 7 === 0 ? 'UDP' : 'TCP', port: 80, targetPort: 8080, nodePort: type === 'ClusterIP' ? 0 : 30000 + (i % 2700), index: 0 }],
      selector: { app: name },
      externalIPs: kind === 11 ? [`192.168.${hi}.${lo + 1}`] : [],
      loadBalancerSourceRanges: kind === 18 ? ['203.0.113.0/25'] : [],
      loadBalancerIngress: type === 'LoadBalancer' ? [{ ip: `1.${hi}.${lo}.4`, hostname: '', ipMode: null }] : [],
      sessionAffinity: i % 10 === 3 ? 'ClientIP' : 'None',
      sessionAffinityTimeoutSeconds: 10800,
      externalTrafficPolicy: local ? 'Local' : 'Cluster',
      internalTrafficPolicy: 'Cluster',
      healthCheckNodePort: local ? 32000 + (i % 700) : 0,
      publishNotReadyAddresses: false,
      trafficDistribution: null,
    });
    slices.push({
      kind: 'EndpointSlice',
      meta: meta(ns, `${name}-abcde`, { 'kubernetes.io/service-name': name }),
      serviceName: name,
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: i % 7 === 0 ? 'UDP' : 'TCP' }],
      endpoints: Array.from({ length: ENDPOINTS_PER_SERVICE }, (_, e) => {
        const n = i * ENDPOINTS_PER_SERVICE + e;
        return {
          addresses: [`10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: `node-${n % NODES}`,
          zone: null,
          zoneHints: null,
          nodeHints: null,
        };
      }),
      origin: 'input',
    });
  }
  return { services: svcs, endpointSlices: slices, endpoints: [], nodes: [], pods: [], deployments: [] };
}
