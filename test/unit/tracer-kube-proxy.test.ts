// The tracer over kube-proxy's own rules: the article's example (current and 2018 formats, as
// restore input and as real iptables-save dumps) and kube-proxy's golden TestOverallIPTablesRules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { repoPath } from '../helpers/paths.js';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import { formatSavedProbability } from '../../src/dataplanes/iptables/interpret-values.js';
import { lowerIptables } from '../../src/tracer/lower-iptables.js';
import { trace, type TraceResult } from '../../src/tracer/trace.js';
import { EMPTY_IPSETS } from '../../src/tracer/ipset.js';
import type { TracePacket } from '../../src/tracer/packet.js';
import { Rational } from '../../src/tracer/rational.js';
import type { IrProgram } from '../../src/tracer/ir.js';

const TWO_31 = 2 ** 31;

function load(file: string): IrProgram {
  return lowerIptables(parseIptables(fs.readFileSync(repoPath(file), 'utf8')));
}

function run(program: IrProgram, packet: Partial<TracePacket> & Pick<TracePacket, 'src' | 'dst' | 'dport' | 'from'>, nodeIPs = ['192.168.0.2']): TraceResult {
  return trace(program, { protocol: 'tcp', sport: 40000, ...packet }, { nodeIPs, ipsets: EMPTY_IPSETS });
}

function dist(r: TraceResult): Record<string, string> {
  return Object.fromEntries(r.distribution.map((d) => [d.endpoint, d.probability.toString()]));
}

function sum(r: TraceResult): Rational {
  return r.distribution.reduce((a, d) => a.add(d.probability), Rational.ZERO);
}

const NGINX = { src: '172.18.0.9', dst: '172.18.255.127', dport: 80 } as const;
// 0.3333333333 is kept by the kernel as round(p·2^31) = 715827883 out of 2^31 (iptables-save: 0.33333333349);
// the second rule (0.5) takes half of the rest; the last rule the other half.
const FIRST = Rational.of(715827883, TWO_31);
const REST_HALF = Rational.ONE.sub(FIRST).mul(Rational.of(1, 2));

for (const file of ['test/fixtures/dumps/inputs/nginx-current.restore.txt', 'test/fixtures/dumps/nginx-current.nft.save.txt', 'test/fixtures/dumps/nginx-current.legacy.save.txt']) {
  test(`the article's service (${file}): exact thirds with the kernel's rounding, from pod, node and outside`, () => {
    const program = load(file);
    for (const from of ['pod', 'node', 'external'] as const) {
      const r = run(program, { ...NGINX, from, src: from === 'node' ? '192.168.0.2' : NGINX.src });
      assert.equal(r.verdict, 'DNAT', from);
      assert.deepEqual(dist(r), {
        '172.18.0.5:80': FIRST.toString(),
        '172.18.0.6:80': REST_HALF.toString(),
        '172.18.0.7:80': REST_HALF.toString(),
      });
      assert.ok(sum(r).equals(Rational.ONE));
      assert.equal(r.masquerade, false, 'no cluster CIDR: nothing is masqueraded');
      assert.equal(r.returning, null);
    }
    assert.equal(formatSavedProbability(715827883), '0.33333333349');
    assert.equal(FIRST.toString(), '715827883/2147483648');
  });
}

test('restore input: the assumed jumps are said; a save dump needs none', () => {
  const restore = run(load('test/fixtures/dumps/inputs/nginx-current.restore.txt'), { ...NGINX, from: 'pod' });
  assert.ok(restore.notes.some((n) => n.startsWith('nat: the built-in chains have no jumps') && n.includes('PREROUTING → KUBE-SERVICES')));
  const first = restore.path[0];
  assert.equal(first?.line, null, 'the assumed jump has no line');
  assert.ok(first);
  assert.equal(first.assumed, true, 'and is marked assumed');
  const own = restore.path.filter((s) => s.position !== null && !s.assumed);
  assert.ok(own.length > 0 && own.every((s) => s.line !== null && !['PREROUTING', 'OUTPUT', 'POSTROUTING', 'FORWARD', 'INPUT'].includes(s.chain)), 'every rule of the input has its line');
  const saved = run(load('test/fixtures/dumps/nginx-current.nft.save.txt'), { ...NGINX, from: 'pod' });
  assert.ok(!saved.notes.some((n) => n.includes('assumed kube-proxy')));
  assert.equal(saved.path[0]?.line, 43); // -A PREROUTING ... -j KUBE-SERVICES in the dump
  assert.ok(saved.path.every((s) => !s.assumed));
});

test('hairpin: a pod reaching itself through the service is masqueraded only on that branch', () => {
  const r = run(load('test/fixtures/dumps/nginx-current.nft.save.txt'), { ...NGINX, src: '172.18.0.6', from: 'pod' });
  const masq = r.outcomes.filter((o) => o.masquerade).map((o) => [o.endpoint, o.probability.toString()]);
  assert.deepEqual(masq, [['172.18.0.6:80', REST_HALF.toString()]]);
  assert.ok(r.masquerade);
  assert.ok(r.masqueradeProbability.equals(REST_HALF));
});

test('the path lists every rule evaluated, depth-first over both outcomes of each random rule', () => {
  const r = run(load('test/fixtures/dumps/nginx-current.nft.save.txt'), { ...NGINX, from: 'pod' });
  const svc = r.path.filter((s) => s.chain === 'KUBE-SVC-2CMXP7HKUVJN7L6M').map((s) => [s.line, s.matched, s.probability.toString()]);
  assert.deepEqual(svc, [
    [58, true, FIRST.toString()],
    [58, false, Rational.ONE.sub(FIRST).toString()],
    [59, true, REST_HALF.toString()],
    [59, false, REST_HALF.toString()],
    [60, true, REST_HALF.toString()],
  ]);
  const dnat = r.path.filter((s) => s.matched && s.rule.includes('-j DNAT')).map((s) => s.chain);
  assert.deepEqual(dnat, ['KUBE-SEP-QLIJNPST3ICX5TJY', 'KUBE-SEP-GLPL34GQHSYFHR3G', 'KUBE-SEP-HI2F4S4VJRUG452O']);
  assert.ok(r.path.every((s) => s.depth >= 0));
});

test('2018 format (iptables-save of --probability 0.33333): 0.33332999982 and the old masquerade rules', () => {
  const program = load('test/fixtures/dumps/nginx-2018.legacy.save.txt');
  const r = run(program, { ...NGINX, src: '172.18.0.5', from: 'pod' });
  const first = Rational.of(Math.round(0.33333 * TWO_31), TWO_31);
  assert.equal(formatSavedProbability(Math.round(0.33333 * TWO_31)), '0.33332999982');
  assert.deepEqual(dist(r), {
    '172.18.0.5:80': first.toString(),
    '172.18.0.6:80': Rational.ONE.sub(first).mul(Rational.of(1, 2)).toString(),
    '172.18.0.7:80': Rational.ONE.sub(first).mul(Rational.of(1, 2)).toString(),
  });
  // hairpin to itself: KUBE-MARK-MASQ --set-xmark, then KUBE-POSTROUTING's -m mark ... -j MASQUERADE
  assert.deepEqual(
    r.outcomes.filter((o) => o.masquerade).map((o) => o.endpoint),
    ['172.18.0.5:80'],
  );
});

const OVERALL = 'test/fixtures/dumps/overall-current.nft.save.txt';
const NODE_IPS = ['192.168.0.2', '192.168.1.2', '192.168.99.11'];

test('golden overall: a ClusterIP without endpoints is rejected (pod: FORWARD, node: OUTPUT)', () => {
  const program = load(OVERALL);
  for (const from of ['pod', 'node'] as const) {
    const r = run(program, { src: from === 'pod' ? '10.0.0.5' : '192.168.0.2', dst: '172.30.0.46', dport: 80, from }, NODE_IPS);
    assert.equal(r.verdict, 'REJECT', from);
    assert.deepEqual(r.distribution, []);
    assert.equal(r.outcomes[0]?.decidedAt?.chain, 'KUBE-SERVICES');
    assert.equal(r.outcomes[0].decidedAt.table, 'filter');
  }
});

test('golden overall: externalTrafficPolicy Local without local endpoints drops outside traffic, pods still reach it', () => {
  const program = load(OVERALL);
  const ext = run(program, { src: '203.0.113.7', dst: '192.168.99.22', dport: 80, from: 'external' }, NODE_IPS);
  assert.equal(ext.verdict, 'DROP');
  assert.equal(ext.outcomes[0]?.decidedAt?.chain, 'KUBE-EXTERNAL-SERVICES');
  const nodePort = run(program, { src: '203.0.113.7', dst: '192.168.0.2', dport: 3001, from: 'external' }, NODE_IPS);
  assert.equal(nodePort.verdict, 'DROP');
  const pod = run(program, { src: '10.0.0.5', dst: '192.168.99.22', dport: 80, from: 'pod' }, NODE_IPS);
  assert.deepEqual(dist(pod), { '10.180.0.2:80': '1' });
  assert.equal(pod.masquerade, false);
});

test('golden overall: loadBalancerSourceRanges allow one source and drop another; affinity for the returning client', () => {
  const program = load(OVERALL);
  const allowed = run(program, { src: '203.0.113.5', dst: '5.6.7.8', dport: 80, from: 'external' }, NODE_IPS);
  assert.deepEqual(dist(allowed), { '10.180.0.3:80': '1' });
  assert.equal(allowed.masquerade, true);
  assert.ok(allowed.returning !== null);
  assert.deepEqual(dist(allowed.returning), { '10.180.0.3:80': '1' });
  const affinityRule = allowed.returning.path.find((s) => s.matched && s.rule.includes('--rcheck'));
  assert.ok(affinityRule, 'the returning client matches the recent --rcheck rule');
  assert.equal(affinityRule.scenario, 'after a first packet to 10.180.0.3:80');
  const denied = run(program, { src: '198.51.100.9', dst: '5.6.7.8', dport: 80, from: 'external' }, NODE_IPS);
  assert.equal(denied.verdict, 'DROP');
  assert.equal(denied.outcomes[0]?.decidedAt?.chain, 'KUBE-PROXY-FIREWALL');
});

test('golden overall: traffic from outside the cluster CIDR is masqueraded; 50/50 over two endpoints', () => {
  const program = load(OVERALL);
  const r = run(program, { src: '192.168.0.77', dst: '172.30.0.44', dport: 80, from: 'external' }, NODE_IPS);
  const half = Rational.of(kernelHalf(), TWO_31);
  assert.deepEqual(dist(r), { '10.180.0.4:80': half.toString(), '10.180.0.5:80': Rational.ONE.sub(half).toString() });
  assert.ok(r.masqueradeProbability.equals(Rational.ONE));
  const fromPod = run(program, { src: '10.0.0.5', dst: '172.30.0.44', dport: 80, from: 'pod' }, NODE_IPS);
  assert.equal(fromPod.masquerade, false);
});

function kernelHalf(): number {
  return Math.floor(0.5 * TWO_31 + 0.5);
}

test('golden overall: localhost NodePort from the node, health-check port ACCEPT, and no service', () => {
  const program = load(OVERALL);
  const local = run(program, { src: '127.0.0.1', dst: '127.0.0.1', dport: 3003, from: 'node' }, NODE_IPS);
  assert.deepEqual(dist(local), { '10.180.0.3:80': '1' });
  assert.equal(local.masquerade, true);
  const health = run(program, { src: '203.0.113.7', dst: '192.168.0.2', dport: 30000, from: 'external' }, NODE_IPS);
  assert.equal(health.verdict, 'ACCEPT');
  assert.equal(health.outcomes[0]?.decidedAt, null);
  const nothing = run(program, { src: '10.0.0.5', dst: '10.99.0.1', dport: 443, from: 'pod' }, NODE_IPS);
  assert.equal(nothing.verdict, 'NO_SERVICE');
  assert.deepEqual(nothing.distribution, []);
});

test('golden overall: restore input and the real dump trace alike', () => {
  const restore = load('test/golden/kube-proxy/iptables-overall.expected.txt');
  const saved = load(OVERALL);
  const packets: TracePacket[] = [
    { src: '10.0.0.5', dst: '172.30.0.41', protocol: 'tcp', sport: 1, dport: 80, from: 'pod' },
    { src: '203.0.113.5', dst: '5.6.7.8', protocol: 'tcp', sport: 1, dport: 80, from: 'external' },
    { src: '192.168.0.2', dst: '192.168.0.2', protocol: 'tcp', sport: 1, dport: 3002, from: 'node' },
    { src: '10.0.0.5', dst: '172.30.0.46', protocol: 'tcp', sport: 1, dport: 80, from: 'pod' },
  ];
  for (const p of packets) {
    const a = trace(restore, p, { nodeIPs: NODE_IPS, ipsets: EMPTY_IPSETS });
    const b = trace(saved, p, { nodeIPs: NODE_IPS, ipsets: EMPTY_IPSETS });
    assert.equal(a.verdict, b.verdict);
    assert.deepEqual(dist(a), dist(b));
    assert.equal(a.masquerade, b.masquerade);
  }
});
