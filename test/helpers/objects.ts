/** Builders for decoded API objects, for tests that do not go through YAML. */
import type {
  EndpointSlice,
  ObjectMeta,
  Service,
  ServicePortSpec,
  SliceEndpoint,
  Node,
} from '../../src/core/model/objects.js';

export function meta(namespace: string, name: string, labels: Record<string, string> = {}): ObjectMeta {
  return { namespace, name, labels, annotations: {}, deletionTimestamp: null, source: { file: 'test', document: 1 } };
}

export function port(p: Partial<ServicePortSpec> & { port: number }): ServicePortSpec {
  return { name: '', protocol: 'TCP', targetPort: p.port, nodePort: 0, index: 0, ...p };
}

export function service(namespace: string, name: string, spec: Partial<Omit<Service, 'kind' | 'meta'>> = {}): Service {
  return {
    kind: 'Service',
    meta: meta(namespace, name),
    type: 'ClusterIP',
    clusterIP: '',
    clusterIPs: [],
    ipFamilies: [],
    ports: [],
    selector: null,
    externalIPs: [],
    loadBalancerSourceRanges: [],
    loadBalancerIngress: [],
    sessionAffinity: 'None',
    sessionAffinityTimeoutSeconds: 10800,
    externalTrafficPolicy: 'Cluster',
    internalTrafficPolicy: 'Cluster',
    healthCheckNodePort: 0,
    publishNotReadyAddresses: false,
    trafficDistribution: null,
    ...spec,
  };
}

export function endpoint(ip: string, e: Partial<SliceEndpoint> = {}): SliceEndpoint {
  return {
    addresses: [ip],
    conditions: { ready: null, serving: null, terminating: null },
    nodeName: null,
    zone: null,
    zoneHints: null,
    nodeHints: null,
    ...e,
  };
}

export function slice(
  namespace: string,
  name: string,
  serviceName: string,
  spec: Partial<Omit<EndpointSlice, 'kind' | 'meta' | 'serviceName'>> = {},
): EndpointSlice {
  return {
    kind: 'EndpointSlice',
    meta: meta(namespace, name, { 'kubernetes.io/service-name': serviceName }),
    serviceName,
    addressType: 'IPv4',
    ports: [{ name: '', port: 80, protocol: 'TCP' }],
    endpoints: [],
    origin: 'input',
    ...spec,
  };
}

export function node(name: string, addresses: string[], podCIDRs: string[] = [], labels: Record<string, string> = {}): Node {
  return {
    kind: 'Node',
    meta: { ...meta('', name, labels) },
    addresses: addresses.map((address) => ({ type: 'InternalIP', address })),
    podCIDRs,
    taintKeys: [],
  };
}
