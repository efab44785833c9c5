/**
 * Random clusters for the renderer's property tests: Services of every type with their
 * EndpointSlices (as decoded objects) and proxy options, small enough to stay below kube-proxy's
 * large-cluster threshold.
 */
import fc from 'fast-check';
import { DEFAULT_PROXY_CONFIG, type ProxyConfig } from '../../src/core/model/config.js';
import type { ClusterObjects, EndpointSlice, Protocol, Service } from '../../src/core/model/objects.js';
import { cluster, service, slice, type EndpointSpec } from '../unit/iptables-helpers.js';

const NODES = ['test-node', 'node-2', 'node-3'] as const;

interface ServiceDraft {
  readonly type: 'ClusterIP' | 'NodePort' | 'LoadBalancer';
  readonly ports: readonly { readonly named: boolean; readonly protocol: Protocol; readonly port: number }[];
  readonly externalIPs: number;
  readonly lbIPs: number;
  readonly sourceRanges: readonly string[];
  readonly etpLocal: boolean;
  readonly itpLocal: boolean;
  readonly affinity: boolean;
  readonly endpoints: readonly {
    readonly host: number;
    readonly node: number;
    readonly ready: boolean;
    readonly serving: boolean;
    readonly terminating: boolean;
  }[];
}

const draft: fc.Arbitrary<ServiceDraft> = fc.record({
  type: fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer'),
  ports: fc.uniqueArray(
    fc.record({ named: fc.boolean(), protocol: fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP'), port: fc.constantFrom(53, 80, 443, 8080) }),
    { minLength: 1, maxLength: 3, selector: (p) => `${p.port}/${p.protocol}` },
  ),
  externalIPs: fc.nat({ max: 2 }),
  lbIPs: fc.nat({ max: 2 }),
  sourceRanges: fc.subarray(['203.0.113.0/25', '192.168.0.0/24', '198.51.100.0/24']),
  etpLocal: fc.boolean(),
  itpLocal: fc.boolean(),
  affinity: fc.boolean(),
  endpoints: fc.array(
    fc.record({
      host: fc.nat({ max: 20 }),
      node: fc.nat({ max: NODES.length }),
      ready: fc.boolean(),
      serving: fc.boolean(),
      terminating: fc.boolean(),
    }),
    { maxLength: 6 },
  ),
});

function build(drafts: readonly ServiceDraft[]): ClusterObjects {
  const services: Service[] = [];
  const slices: EndpointSlice[] = [];
  let nodePort = 30000;
  drafts.forEach((d, i) => {
    const ns = `ns${i % 3}`;
    const name = `svc${i}`;
    const onlyOneUnnamed = d.ports.length === 1;
    const ports = d.ports.map((p, j) => ({
      name: p.named || !onlyOneUnnamed ? `p${j}` : '',
      protocol: p.protocol,
      port: p.port,
      nodePort: d.type === 'ClusterIP' ? 0 : nodePort++,
    }));
    services.push(
      service(ns, name, {
        type: d.type,
        clusterIP: `172.30.${i}.1`,
        ports,
        externalIPs: Array.from({ length: d.externalIPs }, (_, k) => `192.168.99.${i * 4 + k + 10}`),
        loadBalancerIngress:
          d.type === 'LoadBalancer'
            ? Array.from({ length: d.lbIPs }, (_, k) => ({ ip: `1.2.${i}.${k + 4}`, hostname: '', ipMode: null }))
            : [],
        loadBalancerSourceRanges: d.type === 'LoadBalancer' ? d.sourceRanges : [],
        externalTrafficPolicy: d.etpLocal ? 'Local' : 'Cluster',
        internalTrafficPolicy: d.itpLocal ? 'Local' : 'Cluster',
        healthCheckNodePort: d.type === 'LoadBalancer' && d.etpLocal ? 32000 + i : 0,
        sessionAffinity: d.affinity ? 'ClientIP' : 'None',
      }),
    );
    const endpoints: EndpointSpec[] = d.endpoints.map((e) => ({
      ip: `10.180.${i}.${e.host}`,
      ...(NODES[e.node] === undefined ? {} : { node: NODES[e.node] }),
      ready: e.ready,
      serving: e.serving,
      terminating: e.terminating,
    }));
    if (endpoints.length > 0) {
      slices.push(slice(ns, `${name}-abc`, name, endpoints, ports.map((p) => ({ name: p.name, port: p.port + 1000, protocol: p.protocol }))));
    }
  });
  return cluster(services, slices);
}

export const clusterObjects: fc.Arbitrary<ClusterObjects> = fc.array(draft, { maxLength: 8 }).map(build);

export const proxyConfig: fc.Arbitrary<ProxyConfig> = fc
  .record({
    masqueradeAll: fc.boolean(),
    clusterCIDRs: fc.constantFrom([], ['10.0.0.0/8']),
    localhostNodePorts: fc.boolean(),
    nodePortAddresses: fc.constantFrom([], ['192.168.0.0/24'], ['127.0.0.0/8', '192.168.0.0/16']),
    masqueradeBit: fc.integer({ min: 0, max: 31 }),
  })
  .map((o) => ({ ...DEFAULT_PROXY_CONFIG, nodeName: 'test-node', nodeIPs: ['192.168.0.2'], ...o }));

/** A Fisher–Yates shuffle driven by fast-check's random seeds, for input-order independence. */
export function shuffled<T>(items: readonly T[], seeds: readonly number[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = (seeds[i % Math.max(1, seeds.length)] ?? 0) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
