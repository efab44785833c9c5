import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { repoPath } from '../helpers/paths.js';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import { lowerIptables } from '../../src/tracer/lower-iptables.js';
import { parseIpsetSave, setContains } from '../../src/tracer/ipset.js';
import { Rational } from '../../src/tracer/rational.js';
import { parseIP } from '../../src/core/net/ip.js';
import { isKproxyError } from '../../src/core/errors.js';

test('restore steps apply like iptables-restore --noflush: a :CHAIN line flushes, -X deletes', () => {
  const text = fs.readFileSync(repoPath('test/golden/kube-proxy/iptables-sync-repeated-partial.expected.txt'), 'utf8');
  const program = lowerIptables(parseIptables(text), { assumeJumps: false });
  const nat = program.tables.get('nat');
  assert.ok(nat);
  // every chain deleted with -X in a step and not declared again afterwards is gone
  const lines = text.split('\n');
  const lastX = new Map<string, number>();
  const lastDecl = new Map<string, number>();
  lines.forEach((l, i) => {
    if (l.startsWith('-X ')) lastX.set(l.slice(3), i);
    const m = /^:(\S+) /.exec(l);
    if (m?.[1] !== undefined) lastDecl.set(m[1], i);
  });
  for (const [chain, at] of lastX) {
    const declaredAfter = [...lines.slice(at + 1)].some((l) => l.startsWith(`:${chain} `));
    assert.equal(nat.chains.has(chain), declaredAfter, chain);
  }
  // KUBE-SERVICES holds the rules of the last step only (each step declares, so flushes, it)
  const lastServices = lines.slice(lines.lastIndexOf('*nat')).filter((l) => l.startsWith('-A KUBE-SERVICES '));
  assert.deepEqual(nat.chains.get('KUBE-SERVICES')?.rules.map((r) => r.text), lastServices);
  // chains a partial step did not mention keep their rules from earlier steps
  assert.ok(lastDecl.size > 0);
});

test('jumps into KUBE-* chains are assumed only where the built-in chains have none', () => {
  const withJumps = lowerIptables(parseIptables(fs.readFileSync(repoPath('test/fixtures/dumps/nginx-2018.nft.save.txt'), 'utf8')));
  assert.deepEqual(withJumps.notes, []);
  const restore = lowerIptables(parseIptables(fs.readFileSync(repoPath('test/fixtures/dumps/inputs/nginx-2018.restore.txt'), 'utf8')));
  // the 2018 format: filter INPUT and OUTPUT jump to KUBE-SERVICES (no KUBE-EXTERNAL-SERVICES chain here)
  assert.deepEqual(restore.tables.get('filter')?.chains.get('INPUT')?.rules.map((r) => r.text), [
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
  ]);
  assert.ok(restore.notes.some((n) => n.includes('(legacy format)')));
  assert.deepEqual(restore.tables.get('nat')?.chains.get('PREROUTING')?.rules.map((r) => r.line), [null]);
});

test('rules keep their line, position, comment and kernel order of predicates (ip header first)', () => {
  const program = lowerIptables(parseIptables('*nat\n:X - [0:0]\n-A X -m comment --comment "a b" -m statistic --mode random --probability 0.5 -d 10.0.0.1 -j RETURN\nCOMMIT\n'));
  const rule = program.tables.get('nat')?.chains.get('X')?.rules[0];
  assert.ok(rule);
  assert.deepEqual([rule.line, rule.position, rule.comment], [3, 1, 'a b']);
  assert.deepEqual(rule.predicates.map((p) => p.kind), ['address', 'random']);
  assert.equal(rule.text, '-A X -m comment --comment "a b" -m statistic --mode random --probability 0.5 -d 10.0.0.1 -j RETURN');
});

test('ipset save parsing: members per type, errors name the line', () => {
  const sets = parseIpsetSave('create A hash:ip,port,ip family inet\nadd A 10.0.0.5,udp:53,10.0.0.5 timeout 0\n', 'sets.txt');
  const a = sets.get('A');
  assert.ok(a);
  const ip = parseIP('10.0.0.5');
  assert.ok(ip);
  assert.equal(setContains(a, [{ ip, protocol: 'udp', port: 53 }, { ip, protocol: 'udp', port: 53 }, { ip, protocol: 'udp', port: 53 }]), true);
  assert.equal(setContains(a, [{ ip, protocol: 'tcp', port: 53 }, { ip, protocol: 'tcp', port: 53 }, { ip, protocol: 'tcp', port: 53 }]), false);
  for (const [text, msg] of [
    ['add B 1.2.3.4', /sets\.txt:1: set B is not created before this line/],
    ['create C hash:ip\nadd C nope', /sets\.txt:2: invalid ip "nope"/],
    ['create D hash:ip,port\nadd D 1.2.3.4', /sets\.txt:2: a hash:ip,port member has 2 parts/],
    ['destroy D E', /unsupported ipset command "destroy"/],
  ] as const) {
    assert.throws(() => parseIpsetSave(text, 'sets.txt'), (e: unknown) => isKproxyError(e) && e.code === 'E_PARSE' && msg.test(e.message));
  }
  const list = parseIpsetSave('create L list:set\n').get('L');
  assert.ok(list);
  assert.throws(() => setContains(list, [{ ip, protocol: 'tcp', port: 1 }]), /sets of type list:set are not traced/);
});

test('exact rationals', () => {
  const third = Rational.of(1, 3);
  assert.equal(third.add(third).add(third).toString(), '1');
  assert.equal(Rational.of(2, 4).toString(), '1/2');
  assert.equal(Rational.ONE.sub(Rational.of(715827883, 2 ** 31)).toString(), '1431655765/2147483648');
  assert.equal(Rational.of(1, 3).compare(Rational.of(1, 2)), -1);
  assert.ok(Math.abs(Rational.of(715827883, 2 ** 31).toNumber() - 0.333333333489) < 1e-12);
  assert.throws(() => Rational.of(1, 0), RangeError);
});
