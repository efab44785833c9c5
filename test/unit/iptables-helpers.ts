/**
 * Test helpers for the iptables renderer: typed Kubernetes objects built in code, kube-proxy's
 * NewFakeProxier options, and render → canonical text.
 */
import { buildDesiredState } from '../../src/core/desired/build.js';
import type { DesiredState } from '../../src/core/desired/types.js';
import { DEFAULT_PROXY_CONFIG, type ProxyConfig } from '../../src/core/model/config.js';
import { DiagnosticSink } from '../../src/core/model/diagnostics.js';
import type {
  ClusterObjects,
  EndpointSlice,
  IPFamily,
  Protocol,
  Service,
  SliceEndpoint,
} from '../../src/core/model/objects.js';
import { canonicalizeRuleset } from '../../src/dataplanes/iptables/canonical.js';
import type { IptablesCapabilities, IptablesHostState } from '../../src/dataplanes/iptables/host.js';
import type { Rule, Ruleset } from '../../src/dataplanes/iptables/model.js';
import { serializeRuleset } from '../../src/dataplanes/iptables/serialize.js';
import { meta } from '../helpers/objects.js';

export interface PortSpec {
  readonly name?: string;
  readonly protocol?: Protocol;
  readonly port: number;
  readonly nodePort?: number;
  readonly targetPort?: number | string;
}

export type ServiceSpec = Partial<Omit<Service, 'kind' | 'meta' | 'ports'>> & { readonly ports: readonly PortSpec[] };

export function service(namespace: string, name: string, spec: ServiceSpec): Service {
  return {
    kind: 'Service',
    meta: meta(namespace, name),
    type: spec.type ?? 'ClusterIP',
    clusterIP: spec.clusterIP ?? '',
    clusterIPs: spec.clusterIPs ?? [],
    ipFamilies: spec.ipFamilies ?? [],
    ports: spec.ports.map((p, index) => ({
      name: p.name ?? '',
      protocol: p.protocol ?? 'TCP',
      port: p.port,
      targetPort: p.targetPort ?? p.port,
      nodePort: p.nodePort ?? 0,
      index,
    })),
    selector: spec.selector ?? null,
    externalIPs: spec.externalIPs ?? [],
    loadBalancerSourceRanges: spec.loadBalancerSourceRanges ?? [],
    loadBalancerIngress: spec.loadBalancerIngress ?? [],
    sessionAffinity: spec.sessionAffinity ?? 'None',
    sessionAffinityTimeoutSeconds: spec.sessionAffinityTimeoutSeconds ?? 10800,
    externalTrafficPolicy: spec.externalTrafficPolicy ?? 'Cluster',
    internalTrafficPolicy: spec.internalTrafficPolicy ?? 'Cluster',
    healthCheckNodePort: spec.healthCheckNodePort ?? 0,
    publishNotReadyAddresses: spec.publishNotReadyAddresses ?? false,
    trafficDistribution: spec.trafficDistribution ?? null,
  };
}

export interface EndpointSpec {
  readonly ip: string;
  readonly node?: string;
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
  readonly zoneHints?: readonly string[];
}

export function endpoint(e: EndpointSpec): SliceEndpoint {
  return {
    addresses: [e.ip],
    conditions: { ready: e.ready ?? null, serving: e.serving ?? null, terminating: e.terminating ?? null },
    nodeName: e.node ?? null,
    zone: null,
    zoneHints: e.zoneHints ?? null,
    nodeHints: null,
  };
}

export function slice(
  namespace: string,
  name: string,
  serviceName: string,
  endpoints: readonly (EndpointSpec | string)[],
  ports: readonly { name?: string; port: number; protocol?: Protocol }[],
  addressType: 'IPv4' | 'IPv6' = 'IPv4',
): EndpointSlice {
  return {
    kind: 'EndpointSlice',
    meta: meta(namespace, name, { 'kubernetes.io/service-name': serviceName }),
    serviceName,
    addressType,
    ports: ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: endpoints.map((e) => endpoint(typeof e === 'string' ? { ip: e } : e)),
    origin: 'input',
  };
}

export function cluster(services: readonly Service[], endpointSlices: readonly EndpointSlice[] = []): ClusterObjects {
  return { services, endpointSlices, endpoints: [], nodes: [], pods: [], deployments: [] };
}

/** kube-proxy's NewFakeProxier (proxier_test.go): test-node, 192.168.0.2, pod CIDR 10.0.0.0/8. */
export const FAKE_PROXIER_CONFIG: ProxyConfig = {
  ...DEFAULT_PROXY_CONFIG,
  nodeName: 'test-node',
  nodeIPs: ['192.168.0.2', '192.168.1.2', '192.168.99.11', '2001:db8::1', '2001:db8:1::2'],
  clusterCIDRs: ['10.0.0.0/8', 'fd00:10::/64'],
};

/** What kube-proxy's fake iptables reports: no --random-fully, both nfacct counters. */
export const FAKE_IPTABLES_CAPABILITIES: IptablesCapabilities = {
  randomFully: false,
  nfacctInvalidDropped: true,
  nfacctLocalhostNodePorts: true,
  tcpBeLiberal: false,
};

export function fakeHost(existingNatChains: readonly string[] = []): IptablesHostState {
  return { capabilities: FAKE_IPTABLES_CAPABILITIES, existingNatChains };
}

export function desired(
  objects: ClusterObjects,
  config: ProxyConfig = FAKE_PROXIER_CONFIG,
  family: IPFamily = 'IPv4',
): DesiredState {
  return buildDesiredState(objects, config, family, new DiagnosticSink());
}

/** The unit tests' mark is `0x4000`; real kube-proxy (and kproxy) writes `0x00004000` (Go `%#08x`). */
export function withTestMark(text: string): string {
  return text.replaceAll('0x00004000', '0x4000');
}

export function canonicalText(ruleset: Ruleset): string {
  return withTestMark(serializeRuleset(canonicalizeRuleset(ruleset)));
}

/** Strips leading indentation of a template literal and the first newline (Go's dedent). */
export function dedent(text: string): string {
  const lines = text.replace(/^\n/, '').split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^\s*/.exec(l)?.[0].length ?? 0);
  const cut = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((l) => l.slice(cut)).join('\n').replace(/[ \t]+$/, '');
}

/** A parsed ruleset without the source line numbers the parser adds, to compare with a built one. */
export function stripLines(rs: Ruleset): Ruleset {
  return {
    tables: rs.tables.map((t) => ({ ...t, rules: t.rules.map((r): Rule => ({ chain: r.chain, words: r.words })) })),
  };
}
