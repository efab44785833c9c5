/**
 * Packet-flow expectations transcribed from kube-proxy's pkg/proxy/iptables/proxier_test.go
 * @ 531be81208e2274ef42e72525a26610a9622bcdf, keyed by golden name. They are checked with
 * iptables-tracer.ts against our rendered rules, independently of the golden text.
 */
import type { PacketFlow } from './iptables-tracer.js';

const POD = '10.0.0.2';
const NODE = '192.168.0.2';
const NODE_ALT = '192.168.1.2';
const EXTERNAL = '203.0.113.2';
const EXTERNAL_BLOCKED = '203.0.113.130';

const flow = (name: string, sourceIP: string, destIP: string, destPort: number, output: string, masq = false): PacketFlow => ({
  name, sourceIP, destIP, destPort, output, masq,
});

function nodePortFlows(family: 'IPv4' | 'IPv6', localhost: boolean, altNodeIP: boolean): PacketFlow[] {
  const v4 = family === 'IPv4';
  const [pod, ext, node, alt, lo, svc] = v4
    ? [POD, EXTERNAL, NODE, NODE_ALT, '127.0.0.1', '172.30.0.41']
    : ['fd00:10::2', '2600:5200::1', '2001:db8::1', '2001:db8:1::2', '::1', 'fd00:172:30::41'];
  const both = v4 ? '10.180.0.1:80, 10.180.2.1:80' : '[fd00:10:180::1]:80, [fd00:10:180::2:1]:80';
  return [
    flow('pod to cluster IP', pod, svc, 80, both),
    flow('external to nodePort', ext, node, 3001, both, true),
    flow('node to nodePort', node, node, 3001, both, true),
    v4 && localhost
      ? flow('localhost to nodePort gets masqueraded', lo, lo, 3001, both, true)
      : flow('localhost to nodePort is ignored', lo, lo, 3001, ''),
    altNodeIP
      ? flow('external to nodePort on secondary IP', ext, alt, 3001, both, true)
      : flow('secondary nodeIP ignores NodePorts', ext, alt, 3001, ''),
  ];
}

const ALL1 = '10.180.0.1:80, 10.180.1.1:80';
const ALL2 = '10.180.0.2:80, 10.180.1.2:80';
const ALL3 = '10.180.0.3:80, 10.180.1.3:80';

/** TestInternalExternalMasquerade's flows for the "base" case. */
const MASQUERADE_BASE: readonly PacketFlow[] = [
  flow('pod to ClusterIP', POD, '172.30.0.41', 80, ALL1),
  flow('pod to NodePort', POD, NODE, 3001, ALL1, true),
  flow('pod to LB', POD, '1.2.3.4', 80, ALL1, true),
  flow('node to ClusterIP', NODE, '172.30.0.41', 80, ALL1, true),
  flow('node to NodePort', NODE, NODE, 3001, ALL1, true),
  flow('localhost to NodePort', '127.0.0.1', '127.0.0.1', 3001, ALL1, true),
  flow('node to LB', NODE, '1.2.3.4', 80, ALL1, true),
  flow('external to ClusterIP', EXTERNAL, '172.30.0.41', 80, ALL1, true),
  flow('external to NodePort', EXTERNAL, NODE, 3001, ALL1, true),
  flow('external to LB', EXTERNAL, '1.2.3.4', 80, ALL1, true),
  flow('pod to ClusterIP with eTP:Local', POD, '172.30.0.42', 80, ALL2),
  flow('pod to NodePort with eTP:Local', POD, NODE, 3002, ALL2),
  flow('pod to LB with eTP:Local', POD, '5.6.7.8', 80, ALL2),
  flow('node to ClusterIP with eTP:Local', NODE, '172.30.0.42', 80, ALL2, true),
  flow('node to NodePort with eTP:Local', NODE, NODE, 3001, ALL1, true),
  flow('localhost to NodePort with eTP:Local', '127.0.0.1', '127.0.0.1', 3002, ALL2, true),
  flow('node to LB with eTP:Local', NODE, '5.6.7.8', 80, ALL2, true),
  flow('external to ClusterIP with eTP:Local', EXTERNAL, '172.30.0.42', 80, ALL2, true),
  flow('external to NodePort with eTP:Local', EXTERNAL, NODE, 3002, '10.180.0.2:80'),
  flow('external to LB with eTP:Local', EXTERNAL, '5.6.7.8', 80, '10.180.0.2:80'),
  flow('pod to ClusterIP with iTP:Local', POD, '172.30.0.43', 80, '10.180.0.3:80'),
  flow('pod to NodePort with iTP:Local', POD, NODE, 3003, ALL3, true),
  flow('pod to LB with iTP:Local', POD, '9.10.11.12', 80, ALL3, true),
  flow('node to ClusterIP with iTP:Local', NODE, '172.30.0.43', 80, '10.180.0.3:80', true),
  flow('node to NodePort with iTP:Local', NODE, NODE, 3003, ALL3, true),
  flow('localhost to NodePort with iTP:Local', '127.0.0.1', '127.0.0.1', 3003, ALL3, true),
  flow('node to LB with iTP:Local', NODE, '9.10.11.12', 80, ALL3, true),
  flow('external to ClusterIP with iTP:Local', EXTERNAL, '172.30.0.43', 80, '10.180.0.3:80', true),
  flow('external to NodePort with iTP:Local', EXTERNAL, NODE, 3003, ALL3, true),
  flow('external to LB with iTP:Local', EXTERNAL, '9.10.11.12', 80, ALL3, true),
];

type Override = Partial<Pick<PacketFlow, 'output' | 'masq'>>;

function withOverrides(overrides: Readonly<Record<string, Override>>): PacketFlow[] {
  const unused = new Set(Object.keys(overrides));
  const out = MASQUERADE_BASE.map((f) => {
    const o = overrides[f.name];
    if (o === undefined) return f;
    unused.delete(f.name);
    return { ...f, ...o };
  });
  if (unused.size > 0) throw new Error(`overrides for unknown flows: ${[...unused].join(', ')}`);
  return out;
}

const NO_DETECTOR: Readonly<Record<string, Override>> = {
  'node to ClusterIP': { masq: false },
  'node to ClusterIP with eTP:Local': { masq: false },
  'node to ClusterIP with iTP:Local': { masq: false },
  'external to ClusterIP': { masq: false },
  'external to ClusterIP with eTP:Local': { masq: false },
  'external to ClusterIP with iTP:Local': { masq: false },
  'pod to NodePort with eTP:Local': { output: '10.180.0.2:80' },
  'pod to LB with eTP:Local': { output: '10.180.0.2:80' },
};

const MASQUERADE_ALL: Readonly<Record<string, Override>> = {
  'pod to ClusterIP': { masq: true },
  'pod to ClusterIP with eTP:Local': { masq: true },
  'pod to ClusterIP with iTP:Local': { masq: true },
};

const MASQUERADE_ALL_NO_DETECTOR: Readonly<Record<string, Override>> = {
  ...MASQUERADE_ALL,
  'pod to NodePort with eTP:Local': { output: '10.180.0.2:80' },
  'pod to LB with eTP:Local': { output: '10.180.0.2:80' },
};

const TERM_POD = (output: string, masq = false): PacketFlow => flow('pod to clusterIP', POD, '172.30.1.1', 80, output, masq);
const TERM_EXT = (output: string, masq = false): PacketFlow => flow('external to LB', EXTERNAL, '1.2.3.4', 80, output, masq);

const EP1 = '10.180.0.1:80';

export const GOLDEN_FLOWS: Readonly<Record<string, readonly PacketFlow[]>> = {
  'cluster-ip-general': [
    flow('simple clusterIP', '10.180.0.2', '172.30.0.41', 80, '10.180.0.1:80'),
    flow('hairpin to cluster IP', '10.180.0.1', '172.30.0.41', 80, '10.180.0.1:80', true),
    flow('clusterIP with multiple endpoints', '10.180.0.2', '172.30.0.42', 80, '10.180.0.1:80, 10.180.2.1:80'),
    flow('clusterIP with TargetPort', '10.180.0.2', '172.30.0.42', 443, '10.180.0.1:8443, 10.180.2.1:8443'),
    { ...flow('TCP on a shared port', '10.180.0.2', '172.30.0.42', 53, '10.180.0.1:5353, 10.180.2.1:5353'), protocol: 'tcp' },
    { ...flow('UDP on a shared port', '10.180.0.2', '172.30.0.42', 53, '10.180.0.1:53, 10.180.2.1:53'), protocol: 'udp' },
    { ...flow('SCTP on a shared port', '10.180.0.2', '172.30.0.42', 53, '10.180.0.1:53, 10.180.2.1:53'), protocol: 'sctp' },
    { ...flow('TCP-only port does not match UDP traffic', '10.180.0.2', '172.30.0.42', 80, ''), protocol: 'udp' },
    flow("svc1 does not accept svc2's ports", '10.180.0.2', '172.30.0.41', 443, ''),
  ],
  'load-balancer-source-ranges': [
    flow('pod to cluster IP', POD, '172.30.0.41', 80, EP1),
    flow('external to nodePort', EXTERNAL, NODE, 3001, EP1, true),
    flow('nodePort bypasses LoadBalancerSourceRanges', EXTERNAL_BLOCKED, NODE, 3001, EP1, true),
    flow('accepted external to LB1', EXTERNAL, '1.2.3.4', 80, EP1, true),
    flow('accepted external to LB2', EXTERNAL, '5.6.7.8', 80, EP1, true),
    flow('blocked external to LB1', EXTERNAL_BLOCKED, '1.2.3.4', 80, 'DROP'),
    flow('blocked external to LB2', EXTERNAL_BLOCKED, '5.6.7.8', 80, 'DROP'),
    flow('pod to LB1 (blocked by LoadBalancerSourceRanges)', POD, '1.2.3.4', 80, 'DROP'),
    flow('pod to LB2 (blocked by LoadBalancerSourceRanges)', POD, '5.6.7.8', 80, 'DROP'),
    flow('node to LB1 (allowed by LoadBalancerSourceRanges)', NODE, '1.2.3.4', 80, EP1, true),
    flow('node to LB2 (allowed by LoadBalancerSourceRanges)', NODE, '5.6.7.8', 80, EP1, true),
    flow('same node to LB1, SNATted to LB1 (implicitly allowed)', '1.2.3.4', '1.2.3.4', 80, EP1, true),
    flow('same node to LB2, SNATted to LB2 (implicitly allowed)', '5.6.7.8', '5.6.7.8', 80, EP1, true),
  ],
  'no-endpoints-reject': [
    flow('pod to cluster IP with no endpoints', POD, '172.30.0.41', 80, 'REJECT'),
    flow('external to external IP with no endpoints', EXTERNAL, '192.168.99.11', 80, 'REJECT'),
    flow('pod to NodePort with no endpoints', POD, NODE, 3001, 'REJECT'),
    flow('external to NodePort with no endpoints', EXTERNAL, NODE, 3001, 'REJECT'),
    flow('pod to LoadBalancer IP with no endpoints', POD, '1.2.3.4', 80, 'REJECT'),
    flow('external to LoadBalancer IP with no endpoints', EXTERNAL, '1.2.3.4', 80, 'REJECT'),
  ],
  'etp-local': [
    flow('pod to cluster IP hits both endpoints, unmasqueraded', POD, '172.30.0.41', 80, '10.180.0.1:80, 10.180.2.1:80'),
    flow('pod to external IP hits both endpoints, unmasqueraded', POD, '192.168.99.11', 80, '10.180.0.1:80, 10.180.2.1:80'),
    flow('external to external IP hits only local endpoint, unmasqueraded', EXTERNAL, '192.168.99.11', 80, '10.180.2.1:80'),
    flow('pod to LB IP hits only both endpoints, unmasqueraded', POD, '1.2.3.4', 80, '10.180.0.1:80, 10.180.2.1:80'),
    flow('external to LB IP hits only local endpoint, unmasqueraded', EXTERNAL, '1.2.3.4', 80, '10.180.2.1:80'),
    flow('pod to NodePort hits both endpoints, unmasqueraded', POD, NODE, 3001, '10.180.0.1:80, 10.180.2.1:80'),
    flow('external to NodePort hits only local endpoint, unmasqueraded', EXTERNAL, NODE, 3001, '10.180.2.1:80'),
  ],
  'etp-cluster': [
    flow('pod to cluster IP hits both endpoints, unmasqueraded', POD, '172.30.0.41', 80, '10.180.0.1:80, 10.180.2.1:80'),
    flow('pod to external IP hits both endpoints, masqueraded', POD, '192.168.99.11', 80, '10.180.0.1:80, 10.180.2.1:80', true),
    flow('external to external IP hits both endpoints, masqueraded', EXTERNAL, '192.168.99.11', 80, '10.180.0.1:80, 10.180.2.1:80', true),
    flow('pod to LB IP hits both endpoints, masqueraded', POD, '1.2.3.4', 80, '10.180.0.1:80, 10.180.2.1:80', true),
    flow('external to LB IP hits both endpoints, masqueraded', EXTERNAL, '1.2.3.4', 80, '10.180.0.1:80, 10.180.2.1:80', true),
    flow('pod to NodePort hits both endpoints, masqueraded', POD, NODE, 3001, '10.180.0.1:80, 10.180.2.1:80', true),
    flow('external to NodePort hits both endpoints, masqueraded', EXTERNAL, NODE, 3001, '10.180.0.1:80, 10.180.2.1:80', true),
  ],
  'nodeports-ipv4-localhost': nodePortFlows('IPv4', true, true),
  'nodeports-ipv4-no-localhost': nodePortFlows('IPv4', false, true),
  'nodeports-ipv4-addresses-with-loopback': nodePortFlows('IPv4', false, false),
  'nodeports-ipv4-addresses': nodePortFlows('IPv4', false, true),
  'nodeports-ipv6-localhost': nodePortFlows('IPv6', true, true),
  'nodeports-ipv6-no-localhost': nodePortFlows('IPv6', false, true),
  'nodeports-ipv6-addresses': nodePortFlows('IPv6', false, false),
  'health-check-nodeport': [flow('firewall accepts HealthCheckNodePort', '1.2.3.4', NODE, 30000, 'ACCEPT')],
  'internal-traffic-policy-local': [
    flow('pod to ClusterIP hits all local endpoints', POD, '172.30.1.1', 80, '10.0.1.1:80, 10.0.1.2:80'),
  ],
  'internal-traffic-policy-local-none': [flow('no endpoints', POD, '172.30.1.1', 80, 'DROP')],
  'terminating-local-ready': [TERM_POD('10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80'), TERM_EXT('10.0.1.1:80, 10.0.1.2:80')],
  'terminating-local-only-terminating': [TERM_POD('10.0.1.5:80'), TERM_EXT('10.0.1.2:80, 10.0.1.3:80')],
  'terminating-local-remote': [TERM_POD('10.0.1.5:80'), TERM_EXT('DROP')],
  'terminating-local-unusable': [TERM_POD('REJECT'), TERM_EXT('REJECT')],
  'terminating-cluster-ready': [
    TERM_POD('10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80'),
    TERM_EXT('10.0.1.1:80, 10.0.1.2:80, 10.0.1.5:80', true),
  ],
  'terminating-cluster-only-terminating': [
    TERM_POD('10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80'),
    TERM_EXT('10.0.1.2:80, 10.0.1.3:80, 10.0.1.5:80', true),
  ],
  'terminating-cluster-remote': [TERM_POD('10.0.1.5:80'), TERM_EXT('10.0.1.5:80', true)],
  'masquerade-base': MASQUERADE_BASE,
  'masquerade-no-detector': withOverrides(NO_DETECTOR),
  'masquerade-all': withOverrides(MASQUERADE_ALL),
  'masquerade-all-no-detector': withOverrides(MASQUERADE_ALL_NO_DETECTOR),
  'load-balancer-ipmode': [
    flow('ipMode Proxy: no rule for the LB IP', EXTERNAL, '1.2.3.4', 80, ''),
    flow('ipMode VIP', EXTERNAL, '1.2.3.5', 80, EP1, true),
    flow('ipMode nil', EXTERNAL, '1.2.3.6', 80, EP1, true),
  ],
};

/** TestNodePorts also checks KUBE-FIREWALL: the anti-martian rule exists only with IPv4 localhost NodePorts. */
export const EXPECT_KUBE_FIREWALL_RULE: Readonly<Record<string, boolean>> = {
  'nodeports-ipv4-localhost': true,
  'nodeports-ipv4-no-localhost': false,
  'nodeports-ipv4-addresses-with-loopback': false,
  'nodeports-ipv4-addresses': false,
  'nodeports-ipv6-localhost': false,
  'nodeports-ipv6-no-localhost': false,
  'nodeports-ipv6-addresses': false,
};
