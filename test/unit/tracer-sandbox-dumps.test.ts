// The tracer and explain on iptables-save output of a real kernel: the dumps kproxy's own
// `kproxy run` left in the sandbox's node namespaces during the scenario table
// (test/fixtures/dumps/sandbox-*.save.txt, kept by KPROXY_DIFFERENTIAL_DUMPS; see the README
// there). The scenario table checks these predictions against the kernel itself
// (test/e2e/tracer-differential.test.ts); here they run without root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import { explainProgram, type ExplainedService } from '../../src/tracer/explain.js';
import { EMPTY_IPSETS } from '../../src/tracer/ipset.js';
import type { IrProgram } from '../../src/tracer/ir.js';
import { lowerIptables } from '../../src/tracer/lower-iptables.js';
import type { TracePacket } from '../../src/tracer/packet.js';
import { Rational } from '../../src/tracer/rational.js';
import { trace, type TraceResult } from '../../src/tracer/trace.js';
import { repoPath } from '../helpers/paths.js';

function load(name: string): IrProgram {
  return lowerIptables(parseIptables(fs.readFileSync(repoPath(`test/fixtures/dumps/${name}`), 'utf8'), name));
}

const ONE_NODE = load('sandbox-one-node.save.txt');
const NODE_2 = load('sandbox-two-nodes-node-2.save.txt');
const POD_GATEWAY = '169.254.1.1';

/** What iptables stores for `--probability p`: round(p · 2^31) / 2^31. */
function kernel(p: number): Rational {
  return Rational.of(Math.round(p * 2 ** 31), 2 ** 31);
}

/** kube-proxy's spread over n endpoints: endpoint i is chosen with probability 1/(n-i) of what is left. */
function spread(n: number): Rational[] {
  const out: Rational[] = [];
  let left = Rational.ONE;
  for (let i = 0; i < n; i++) {
    const p = i === n - 1 ? Rational.ONE : kernel(1 / (n - i));
    out.push(left.mul(p));
    left = left.mul(Rational.ONE.sub(p));
  }
  return out;
}

function run(program: IrProgram, nodeIP: string, packet: Omit<TracePacket, 'sport'>): TraceResult {
  return trace(program, { sport: 40000, ...packet }, { nodeIPs: [nodeIP, POD_GATEWAY], ipsets: EMPTY_IPSETS });
}

function dist(r: TraceResult): Record<string, string> {
  return Object.fromEntries(r.distribution.map((d) => [d.endpoint, d.probability.toString()]));
}

function service(services: readonly ExplainedService[], name: string): ExplainedService {
  const s = services.find((x) => `${x.name}${x.port === '' ? '' : `:${x.port}`}` === name);
  assert.ok(s, `service ${name}`);
  return s;
}

test('a real dump carries its jumps: nothing is assumed, and explain finds every service of the sandbox', () => {
  assert.deepEqual(ONE_NODE.notes, []);
  const e = explainProgram(ONE_NODE);
  assert.deepEqual(
    e.services.map((s) => `${s.name}${s.port === '' ? '' : `:${s.port}`}/${s.protocol}`),
    [
      'default/nothing/tcp', 'default/web/tcp', 'default/web-ext/tcp', 'default/web-lb/tcp', 'default/web-lb-ranges/tcp',
      'default/web-multi:alt/tcp', 'default/web-multi:http/tcp', 'default/web-np/tcp', 'default/web-sticky/tcp', 'default/web-udp:dns/udp',
    ],
  );
  const thirds = spread(3).map((p) => p.toString());
  const web = service(e.services, 'default/web');
  assert.deepEqual(web.endpoints.map((x) => [x.address, x.probability.toString()]), [
    ['172.18.0.5:8080', thirds[0]],
    ['172.18.0.6:8080', thirds[1]],
    ['172.18.0.7:8080', thirds[2]],
  ]);
  assert.deepEqual(service(e.services, 'default/web-udp:dns').endpoints.map((x) => x.address), ['172.18.0.5:5353', '172.18.0.6:5353', '172.18.0.7:5353']);
  assert.deepEqual(service(e.services, 'default/web-sticky').affinity, { kind: 'ClientIP', timeoutSeconds: 1 });
  const ranges = service(e.services, 'default/web-lb-ranges');
  assert.deepEqual([ranges.loadBalancerIPs, ranges.sourceRanges, ranges.nodePorts], [['203.0.113.11'], ['198.51.100.1/32'], [30001]]);
  assert.deepEqual(service(e.services, 'default/web-ext').externalIPs, ['192.0.2.10']);
  assert.equal(service(e.services, 'default/nothing').withoutEndpoints, 'REJECT');
  assert.deepEqual(e.anomalies.map((a) => a.kind), ['no-endpoints']);
});

test('sandbox one node: ClusterIP from a pod and from the node, hairpin, source ranges, no endpoints', () => {
  const thirds = spread(3).map((p) => p.toString());
  const fromPod = run(ONE_NODE, '198.51.100.2', { src: '172.18.0.254', dst: '172.18.255.11', protocol: 'tcp', dport: 80, from: 'pod' });
  assert.deepEqual(dist(fromPod), { '172.18.0.5:8080': thirds[0], '172.18.0.6:8080': thirds[1], '172.18.0.7:8080': thirds[2] });
  assert.equal(fromPod.masquerade, false);
  // from the node: its address is outside --cluster-cidr, so kube-proxy masquerades
  const fromNode = run(ONE_NODE, '198.51.100.2', { src: '198.51.100.2', dst: '172.18.255.11', protocol: 'tcp', dport: 80, from: 'node' });
  assert.equal(fromNode.masqueradeProbability.toString(), '1');
  // hairpin: only the branch back to the pod itself is masqueraded
  const hairpin = run(ONE_NODE, '198.51.100.2', { src: '172.18.0.5', dst: '172.18.255.11', protocol: 'tcp', dport: 80, from: 'pod' });
  assert.equal(hairpin.masqueradeProbability.toString(), thirds[0]);
  const allowed = run(ONE_NODE, '198.51.100.2', { src: '198.51.100.1', dst: '203.0.113.11', protocol: 'tcp', dport: 80, from: 'external' });
  assert.deepEqual([allowed.verdict, allowed.masquerade], ['DNAT', true]);
  const denied = run(ONE_NODE, '198.51.100.2', { src: '198.51.100.200', dst: '203.0.113.11', protocol: 'tcp', dport: 80, from: 'external' });
  assert.deepEqual([denied.verdict, denied.outcomes[0]?.decidedAt?.chain], ['DROP', 'KUBE-PROXY-FIREWALL']);
  const nothing = run(ONE_NODE, '198.51.100.2', { src: '172.18.0.254', dst: '172.18.255.10', protocol: 'tcp', dport: 80, from: 'pod' });
  assert.deepEqual([nothing.verdict, nothing.outcomes[0]?.rejectWith], ['REJECT', 'icmp-port-unreachable']);
});

test('sandbox one node: session affinity — a returning client sticks to its first endpoint', () => {
  const r = run(ONE_NODE, '198.51.100.2', { src: '198.51.100.1', dst: '198.51.100.2', protocol: 'tcp', dport: 30003, from: 'external' });
  assert.equal(r.distribution.length, 3);
  assert.ok(r.returning);
  assert.equal(r.stickiness?.toString(), '1');
  for (const o of r.returning.outcomes) assert.equal(o.endpoint, o.after, 'every returning outcome goes where the first packet went');
  assert.deepEqual(dist(r.returning), dist(r));
  // without the node's address the NodePort is not recognised (addrtype LOCAL): no service
  const unknownNode = trace(ONE_NODE, { src: '198.51.100.1', dst: '198.51.100.2', protocol: 'tcp', sport: 40000, dport: 30003, from: 'external' }, { nodeIPs: [], ipsets: EMPTY_IPSETS });
  assert.equal(unknownNode.verdict, 'NO_SERVICE');
});

test('sandbox two nodes (node-2): traffic policies Local and Cluster', () => {
  const node2 = '198.51.100.3';
  const local = run(NODE_2, node2, { src: '198.51.100.1', dst: node2, protocol: 'tcp', dport: 30002, from: 'external' });
  const halves = spread(2).map((p) => p.toString());
  assert.deepEqual(dist(local), { '172.18.1.5:8080': halves[0], '172.18.1.6:8080': halves[1] });
  assert.equal(local.masquerade, false, 'externalTrafficPolicy Local keeps the client address');
  const none = run(NODE_2, node2, { src: '198.51.100.1', dst: node2, protocol: 'tcp', dport: 30000, from: 'external' });
  assert.deepEqual([none.verdict, none.outcomes[0]?.decidedAt?.chain], ['DROP', 'KUBE-EXTERNAL-SERVICES']);
  const fromPod = run(NODE_2, node2, { src: '172.18.1.254', dst: '172.18.255.10', protocol: 'tcp', dport: 80, from: 'pod' });
  assert.deepEqual(dist(fromPod), { '172.18.0.50:8080': '1' }, 'a pod still reaches the remote endpoint of a Local service');
  const cluster = run(NODE_2, node2, { src: '198.51.100.1', dst: node2, protocol: 'tcp', dport: 30001, from: 'external' });
  const quarters = spread(4).map((p) => p.toString());
  assert.deepEqual(dist(cluster), {
    '172.18.0.5:8080': quarters[0],
    '172.18.0.6:8080': quarters[1],
    '172.18.1.5:8080': quarters[2],
    '172.18.1.6:8080': quarters[3],
  });
  assert.equal(cluster.masqueradeProbability.toString(), '1');
  const itp = run(NODE_2, node2, { src: '172.18.1.254', dst: '172.18.255.12', protocol: 'tcp', dport: 80, from: 'pod' });
  assert.deepEqual(Object.keys(dist(itp)), ['172.18.1.5:8080', '172.18.1.6:8080'], 'internalTrafficPolicy Local: this node\'s endpoints only');
});
