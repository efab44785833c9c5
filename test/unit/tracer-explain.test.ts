import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { repoPath } from '../helpers/paths.js';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import { lowerIptables } from '../../src/tracer/lower-iptables.js';
import { explainProgram, probeSource, splitServicePortName, type ExplainedService, type Explanation } from '../../src/tracer/explain.js';
import { Rational } from '../../src/tracer/rational.js';

function explainText(text: string): Explanation {
  return explainProgram(lowerIptables(parseIptables(text)));
}

function explainFile(file: string): Explanation {
  return explainText(fs.readFileSync(repoPath(file), 'utf8'));
}

function service(e: Explanation, name: string): ExplainedService {
  const s = e.services.find((x) => x.name === name);
  assert.ok(s, `service ${name} found`);
  return s;
}

test('service port names: current, unnamed, and the pre-1.19 trailing colon', () => {
  assert.deepEqual(splitServicePortName('ns1/svc1:p80'), { name: 'ns1/svc1', port: 'p80' });
  assert.deepEqual(splitServicePortName('default/nginx'), { name: 'default/nginx', port: '' });
  assert.deepEqual(splitServicePortName('default/nginx:'), { name: 'default/nginx', port: '' });
  assert.equal(splitServicePortName('kubernetes service portals'), null);
});

for (const file of ['test/fixtures/dumps/nginx-current.nft.save.txt', 'test/fixtures/dumps/nginx-2018.legacy.save.txt', 'test/fixtures/dumps/inputs/nginx-2018.restore.txt']) {
  test(`the article's service is found with its three endpoints (${file})`, () => {
    const e = explainFile(file);
    assert.equal(e.services.length, 1);
    const s = service(e, 'default/nginx');
    assert.equal(s.port, '');
    assert.equal(s.clusterIP, '172.18.255.127');
    assert.equal(s.servicePort, 80);
    assert.deepEqual(s.endpoints.map((x) => x.address), ['172.18.0.5:80', '172.18.0.6:80', '172.18.0.7:80']);
    assert.ok(s.endpoints.reduce((a, x) => a.add(x.probability), Rational.ZERO).equals(Rational.ONE));
    assert.equal(s.affinity, null);
    assert.equal(s.chains.filter((c) => c.startsWith('KUBE-SEP-')).length, 3);
    assert.deepEqual(e.anomalies, []);
  });
}

test('golden overall: every service with its addresses, policies, ranges, affinity and endpoints', () => {
  const e = explainFile('test/fixtures/dumps/overall-current.nft.save.txt');
  assert.deepEqual(e.services.map((s) => `${s.name}:${s.port}`), ['ns1/svc1:p80', 'ns2/svc2:p80', 'ns3/svc3:p80', 'ns4/svc4:p80', 'ns5/svc5:p80', 'ns6/svc6:p80']);
  const svc2 = service(e, 'ns2/svc2');
  assert.deepEqual(
    [svc2.clusterIP, svc2.nodePorts, svc2.externalIPs, svc2.loadBalancerIPs, svc2.externalTrafficPolicy, svc2.healthCheckNodePort, svc2.withoutEndpoints],
    ['172.30.0.42', [3001], ['192.168.99.22'], ['1.2.3.4'], 'Local', 30000, 'DROP'],
  );
  const svc4 = service(e, 'ns4/svc4');
  assert.deepEqual(svc4.endpoints.map((x) => [x.address, x.probability.toString()]), [
    ['10.180.0.4:80', '1/2'],
    ['10.180.0.5:80', '1/2'],
  ]);
  assert.equal(svc4.externalTrafficPolicy, 'Cluster');
  const svc5 = service(e, 'ns5/svc5');
  assert.deepEqual(svc5.sourceRanges, ['203.0.113.0/25']);
  assert.deepEqual(svc5.affinity, { kind: 'ClientIP', timeoutSeconds: 10800 });
  assert.deepEqual(svc5.loadBalancerIPs, ['5.6.7.8']);
  assert.deepEqual(svc5.nodePorts, [3002]);
  const svc6 = service(e, 'ns6/svc6');
  assert.deepEqual([svc6.clusterIP, svc6.endpoints, svc6.withoutEndpoints], ['172.30.0.46', [], 'REJECT']);
  assert.deepEqual(
    e.anomalies.map((a) => a.kind),
    ['no-endpoints', 'no-local-endpoints'],
  );
});

test('anomalies: unreachable, orphaned endpoint and stale chains, missing chains, shadowed rules', () => {
  const e = explainText(
    [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-SVC-AAAA - [0:0]',
      ':KUBE-SEP-USED - [0:0]',
      ':KUBE-SEP-ORPHAN - [0:0]',
      ':KUBE-SVC-EMPTY - [0:0]',
      ':OTHER - [0:0]',
      '-A PREROUTING -j KUBE-SERVICES',
      '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "ns/a cluster IP" -m tcp --dport 80 -j KUBE-SVC-AAAA',
      '-A KUBE-SERVICES -d 10.96.0.2/32 -p tcp -m comment --comment "ns/b cluster IP" -m tcp --dport 80 -j KUBE-SVC-EMPTY',
      '-A KUBE-SERVICES -j KUBE-GONE',
      '-A KUBE-SVC-AAAA -j KUBE-SEP-USED',
      '-A KUBE-SEP-USED -p tcp -j DNAT --to-destination 10.0.0.1:80',
      '-A KUBE-SEP-USED -p tcp -j DNAT --to-destination 10.0.0.2:80',
      '-A KUBE-SEP-ORPHAN -p tcp -j DNAT --to-destination 10.0.0.3:80',
      '-A OTHER -j RETURN',
      '-A OTHER -s 1.2.3.4/32 -j ACCEPT',
      'COMMIT',
      '',
    ].join('\n'),
  );
  const kinds = e.anomalies.map((a) => `${a.kind} ${a.chain}${a.line === null ? '' : `:${a.line}`}`);
  assert.deepEqual(kinds, [
    'missing-chain KUBE-SERVICES:12',
    'no-endpoints KUBE-SVC-EMPTY',
    'orphan-endpoint-chain KUBE-SEP-ORPHAN',
    'shadowed-rule KUBE-SEP-USED:15',
    'shadowed-rule OTHER:18',
    'stale-chain KUBE-SVC-EMPTY',
    'unreachable-chain OTHER',
  ]);
  assert.deepEqual(service(e, 'ns/a').endpoints.map((x) => x.address), ['10.0.0.1:80']);
});

test('without comments, services are listed by chain name, and named by the chain hashes of given manifests', () => {
  const text = '*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-X - [0:0]\n-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j KUBE-SVC-X\n-A KUBE-SVC-X -j DNAT --to-destination 10.0.0.1:6443\nCOMMIT\n';
  const unnamed = explainText(text);
  assert.deepEqual(
    unnamed.services.map((s) => [s.name, s.named, s.port, s.clusterIP, s.servicePort, s.endpoints.map((x) => `${x.address} ${x.probability.toString()}`)]),
    [['KUBE-SVC-X', false, '', '10.96.0.1', 443, ['10.0.0.1:6443 1']]],
  );
  assert.equal(unnamed.notes.length, 1);
  assert.match(unnamed.notes[0] ?? '', /1 service port\(s\) carry no kube-proxy comments and no -f manifests were given.*-f PATH/);
  const named = explainProgram(lowerIptables(parseIptables(text)), new Map([['KUBE-SVC-X', { name: 'default/kubernetes', port: 'https' }]]));
  const s = service(named, 'default/kubernetes');
  assert.deepEqual([s.port, s.clusterIP, s.servicePort, s.endpoints.map((x) => x.address)], ['https', '10.96.0.1', 443, ['10.0.0.1:6443']]);
  assert.equal(s.named, true);
  assert.deepEqual(named.notes, []);
});

test('without comments: every service port of a real dump is listed by its KUBE-SVC chain, with node ports, ranges and exact endpoints', () => {
  const commented = explainFile('test/fixtures/dumps/sandbox-one-node.save.txt');
  const bare = fs.readFileSync(repoPath('test/fixtures/dumps/sandbox-one-node.save.txt'), 'utf8').replace(/ -m comment --comment ("[^"]*"|\S+)/g, '');
  assert.ok(!bare.includes('--comment'));
  const e = explainText(bare);
  // services with endpoints have nat chains; the one without endpoints has only a filter REJECT rule, which no chain names
  const withChains = commented.services.filter((s) => s.chains.length > 0);
  assert.equal(e.services.length, withChains.length);
  for (const s of e.services) {
    assert.equal(s.named, false);
    assert.match(s.name, /^KUBE-SVC-[A-Z0-9]{16}$/);
    const twin = withChains.find((c) => c.chains.includes(s.name));
    assert.ok(twin, `${s.name} is the chain of a commented service`);
    // without comments a load-balancer IP is told from an external IP only by its KUBE-FW chain (source ranges)
    const outside = (x: ExplainedService): string[] => [...x.externalIPs, ...x.loadBalancerIPs].sort();
    assert.deepEqual(
      [s.clusterIP, s.servicePort, s.nodePorts, outside(s), s.sourceRanges, s.affinity, s.externalTrafficPolicy],
      [twin.clusterIP, twin.servicePort, twin.nodePorts, outside(twin), twin.sourceRanges, twin.affinity, twin.externalTrafficPolicy],
      twin.name,
    );
    if (s.sourceRanges.length > 0) assert.deepEqual(s.loadBalancerIPs, twin.loadBalancerIPs);
    assert.deepEqual(s.endpoints.map((x) => `${x.address} ${x.probability.toString()}`), twin.endpoints.map((x) => `${x.address} ${x.probability.toString()}`));
  }
  assert.ok(e.services.some((s) => s.nodePorts.length > 0) && e.services.some((s) => s.sourceRanges.length > 0));
  // the service without endpoints and the source-range firewall are filter rules only: said in a note, with their lines
  const verdicts = e.notes.find((n) => n.startsWith('filter rules without comments'));
  assert.match(verdicts ?? '', /172\.18\.255\.10:80 \(REJECT, filter\/KUBE-SERVICES line 28\), 203\.0\.113\.11:80 \(DROP, filter\/KUBE-PROXY-FIREWALL line 27\)/);
  assert.deepEqual(commented.notes, []);
});

test('anomalies: chains only unreachable chains jump to are unreachable too; kubelet\'s utility chains are not reported', () => {
  const e = explainText(
    [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KUBE-SERVICES - [0:0]',
      ':KUBE-MARK-DROP - [0:0]',
      ':KUBE-KUBELET-CANARY - [0:0]',
      ':KUBE-SVC-LOST - [0:0]',
      ':KUBE-SEP-LOST - [0:0]',
      ':HELPER - [0:0]',
      '-A PREROUTING -j KUBE-SERVICES',
      '-A KUBE-SVC-LOST -j KUBE-SEP-LOST',
      '-A KUBE-SVC-LOST -j HELPER',
      '-A KUBE-SEP-LOST -p tcp -j DNAT --to-destination 10.0.0.3:80',
      '-A HELPER -j RETURN',
      'COMMIT',
      '',
    ].join('\n'),
  );
  const found = e.anomalies.map((a) => `${a.kind} ${a.chain}: ${a.message}`);
  assert.deepEqual(found, [
    'orphan-endpoint-chain KUBE-SEP-LOST: endpoint chain KUBE-SEP-LOST is used by no reachable service (only KUBE-SVC-LOST, which no packet reaches, jumps to it)',
    'unreachable-chain HELPER: no packet reaches HELPER (only KUBE-SVC-LOST, which no packet reaches, jumps to it)',
    'unreachable-chain KUBE-SVC-LOST: nothing jumps to KUBE-SVC-LOST',
  ]);
});

test('anomalies: a rule is shadowed by an earlier final rule with weaker conditions (wider CIDR or ports, fewer matches)', () => {
  const e = explainText(
    [
      '*filter',
      ':INPUT ACCEPT [0:0]',
      '-A INPUT -s 10.0.0.0/8 -p tcp -j DROP',
      '-A INPUT -s 10.1.0.0/16 -p tcp -m tcp --dport 80 -j ACCEPT',
      '-A INPUT -s 10.1.0.0/16 -p udp -j ACCEPT',
      '-A INPUT -p udp -m multiport --dports 50:60 -j REJECT',
      '-A INPUT -p udp -m udp --dport 53 -j ACCEPT',
      '-A INPUT -p udp -m udp --dport 70 -j ACCEPT',
      '-A INPUT ! -s 192.168.0.0/16 -p sctp -j DROP',
      '-A INPUT ! -s 192.168.1.0/24 -p sctp -j DROP',
      'COMMIT',
      '',
    ].join('\n'),
  );
  const found = e.anomalies.map((a) => `${a.kind} ${a.line ?? ''}: ${a.message}`);
  assert.deepEqual(found, [
    'shadowed-rule 4: never reached: every packet it matches already left at line 3',
    'shadowed-rule 7: never reached: every packet it matches already left at line 6',
  ]);
});

test('source ranges are CIDRs as in the Service spec; traced sources follow the destination\'s family', () => {
  const e = explainFile('test/fixtures/dumps/sandbox-one-node.save.txt');
  assert.deepEqual(service(e, 'default/web-lb-ranges').sourceRanges, ['198.51.100.1/32']);
  assert.equal(probeSource('203.0.113.10'), '198.18.0.1');
  assert.equal(probeSource('fd00:10:96::10'), '2001:2::1');
});
