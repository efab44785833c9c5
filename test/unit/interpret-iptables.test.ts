import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { repoPath } from '../helpers/paths.js';
import { interpretRule, interpretWords, type MatchSpec, type RuleSpec, type TargetSpec } from '../../src/dataplanes/iptables/interpret.js';
import { formatSavedProbability, kernelProbability, parseNatRange } from '../../src/dataplanes/iptables/interpret-values.js';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import { splitWords } from '../../src/dataplanes/iptables/tokenize.js';

function spec(line: string): RuleSpec {
  return interpretWords(splitWords(line));
}

function matches(line: string): readonly MatchSpec[] {
  return spec(line).matches;
}

function only(line: string): MatchSpec {
  const m = matches(line).filter((x) => x.kind !== 'comment');
  assert.equal(m.length, 1, `one match in ${line}: ${JSON.stringify(m)}`);
  const first = m[0];
  assert.ok(first);
  return first;
}

function target(line: string): TargetSpec {
  return spec(line).target;
}

test('-s / -d: CIDRs, bare IPs as /32 and /128, dotted masks, "!" before or after the option', () => {
  assert.deepEqual(only('-s 172.18.0.5'), { kind: 'address', field: 'src', invert: false, cidrs: ['172.18.0.5/32'] });
  assert.deepEqual(only('-d 10.0.0.0/8'), { kind: 'address', field: 'dst', invert: false, cidrs: ['10.0.0.0/8'] });
  assert.deepEqual(only('! -s 10.1.2.3/8'), { kind: 'address', field: 'src', invert: true, cidrs: ['10.0.0.0/8'] });
  assert.deepEqual(only('-d ! 1.2.3.4'), { kind: 'address', field: 'dst', invert: true, cidrs: ['1.2.3.4/32'] });
  assert.deepEqual(only('--destination fd00::1'), { kind: 'address', field: 'dst', invert: false, cidrs: ['fd00::1/128'] });
  assert.deepEqual(only('-d 10.1.0.0/255.255.0.0'), { kind: 'address', field: 'dst', invert: false, cidrs: ['10.1.0.0/16'] });
  assert.deepEqual(only('-s 1.1.1.1,2.2.2.0/24'), { kind: 'address', field: 'src', invert: false, cidrs: ['1.1.1.1/32', '2.2.2.0/24'] });
  assert.deepEqual(only('-s example.com'), { kind: 'unknown', module: 'ip', words: ['-s', 'example.com'], reason: 'not an address or CIDR: example.com' });
});

test('-p (numbers and case normalised, "!"), -i / -o with + wildcards, -f', () => {
  assert.deepEqual(only('-p TCP'), { kind: 'protocol', invert: false, protocol: 'tcp' });
  assert.deepEqual(only('! -p 17'), { kind: 'protocol', invert: true, protocol: 'udp' });
  assert.deepEqual(only('-i veth+'), { kind: 'interface', field: 'in', invert: false, name: 'veth+' });
  assert.deepEqual(only('! -o cni0'), { kind: 'interface', field: 'out', invert: true, name: 'cni0' });
  assert.deepEqual(only('-f'), { kind: 'fragment', invert: false });
});

test('tcp/udp/sctp ports: single, ranges, open ranges, "!", and the long option names', () => {
  const ms = matches('-m tcp -p tcp --dport 80');
  assert.deepEqual(ms, [
    { kind: 'port', module: 'tcp', field: 'dst', invert: false, range: { from: 80, to: 80 } },
    { kind: 'protocol', invert: false, protocol: 'tcp' },
  ]);
  assert.deepEqual(matches('-p udp -m udp ! --sport 1000:2000')[1], { kind: 'port', module: 'udp', field: 'src', invert: true, range: { from: 1000, to: 2000 } });
  assert.deepEqual(matches('-p sctp -m sctp --destination-port :1024')[1], { kind: 'port', module: 'sctp', field: 'dst', invert: false, range: { from: 0, to: 1024 } });
  assert.deepEqual(matches('-p tcp -m tcp --source-port 3000:')[1], { kind: 'port', module: 'tcp', field: 'src', invert: false, range: { from: 3000, to: 65535 } });
  assert.equal(matches('-p tcp -m tcp --dport 70000')[1]?.kind, 'unknown');
});

test('options bind to the last loaded module that owns them; -p loads its module implicitly', () => {
  // --dport after -d still belongs to tcp
  const a = matches('-m comment --comment x -m tcp -p tcp -d 172.30.0.41 --dport 80');
  assert.deepEqual(a.map((m) => m.kind), ['comment', 'port', 'protocol', 'address']);
  // implicit: -p udp --dport 53 without -m udp
  assert.deepEqual(matches('-p udp --dport 53')[1], { kind: 'port', module: 'udp', field: 'dst', invert: false, range: { from: 53, to: 53 } });
  // the most recent owner wins: multiport --ports vs tcp --dport are distinct, but two
  // port modules both own --dport: the later one (udp) takes it
  const b = matches('-p udp -m tcp -m udp --dport 9');
  assert.deepEqual(b[b.length - 1], { kind: 'port', module: 'udp', field: 'dst', invert: false, range: { from: 9, to: 9 } });
  // nobody owns it and there is no protocol: unknown, with its value
  assert.deepEqual(only('--dport 80'), { kind: 'unknown', module: 'ip', words: ['--dport', '80'], reason: 'option --dport belongs to no loaded module' });
});

test('multiport --dports / --sports / --ports', () => {
  assert.deepEqual(matches('-p tcp -m multiport --dports 80,443,8000:8080')[1], {
    kind: 'multiport',
    field: 'dst',
    invert: false,
    ranges: [
      { from: 80, to: 80 },
      { from: 443, to: 443 },
      { from: 8000, to: 8080 },
    ],
  });
  assert.deepEqual(matches('-p udp -m multiport ! --sports 53')[1], { kind: 'multiport', field: 'src', invert: true, ranges: [{ from: 53, to: 53 }] });
  assert.deepEqual(matches('-p tcp -m multiport --ports 22')[1], { kind: 'multiport', field: 'any', invert: false, ranges: [{ from: 22, to: 22 }] });
});

test('addrtype --src-type / --dst-type with "!" (both positions) and --limit-iface-in/out', () => {
  assert.deepEqual(only('-m addrtype --dst-type LOCAL'), { kind: 'addrtype', src: null, dst: { invert: false, types: ['LOCAL'] }, limitIface: null });
  assert.deepEqual(only('-m addrtype ! --src-type LOCAL'), { kind: 'addrtype', src: { invert: true, types: ['LOCAL'] }, dst: null, limitIface: null });
  assert.deepEqual(only('-m addrtype --src-type ! LOCAL,UNICAST --limit-iface-in'), {
    kind: 'addrtype',
    src: { invert: true, types: ['LOCAL', 'UNICAST'] },
    dst: null,
    limitIface: 'in',
  });
  assert.equal(only('-m addrtype --dst-type NOWHERE').kind, 'unknown');
});

test('mark, conntrack --ctstate, state --state, comment', () => {
  assert.deepEqual(only('-m mark ! --mark 0x4000/0x4000'), { kind: 'mark', invert: true, value: 0x4000, mask: 0x4000 });
  assert.deepEqual(only('-m mark --mark 0x00004000'), { kind: 'mark', invert: false, value: 0x4000, mask: 0xffffffff });
  assert.deepEqual(only('-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT'), { kind: 'ctstate', module: 'conntrack', invert: true, states: ['RELATED', 'ESTABLISHED', 'DNAT'] });
  assert.deepEqual(only('-m state --state NEW'), { kind: 'ctstate', module: 'state', invert: false, states: ['NEW'] });
  assert.deepEqual(matches('-m comment --comment "a b"'), [{ kind: 'comment', text: 'a b' }]);
  const ct = only('-m conntrack --ctorigdst 1.2.3.4');
  assert.equal(ct.kind === 'unknown' && ct.module, 'conntrack');
});

test('statistic: random probabilities as written, and the kernel rounding of them; nth', () => {
  const r = only('-m statistic --mode random --probability 0.3333333333');
  assert.deepEqual(r, { kind: 'random', invert: false, probability: 0.3333333333, written: '0.3333333333' });
  // the kernel keeps round(p * 2^31); iptables-save shows it with 11 decimals
  assert.equal(kernelProbability(0.3333333333), 715827883);
  assert.equal(formatSavedProbability(kernelProbability(0.3333333333)), '0.33333333349');
  assert.equal(formatSavedProbability(kernelProbability(0.33333)), '0.33332999982');
  assert.equal(formatSavedProbability(kernelProbability(0.2)), '0.20000000019');
  assert.equal(formatSavedProbability(kernelProbability(0.5)), '0.50000000000');
  // a tie at the 11th decimal rounds to even, like C's printf: 1/4096 = 0.000244140625
  assert.equal(formatSavedProbability(2 ** 31 / 4096), '0.00024414062');
  // a saved value reads back to the same stored number
  assert.equal(kernelProbability(0.33333333349), 715827883);
  assert.deepEqual(only('-m statistic --mode nth --every 3 --packet 1'), { kind: 'nth', invert: false, every: 3, packet: 1 });
  assert.deepEqual(only('-m statistic --mode random ! --probability 0.25'), { kind: 'random', invert: true, probability: 0.25, written: '0.25' });
  assert.equal(only('-m statistic --mode random --probability 1.5').kind, 'unknown');
  assert.equal(only('-m statistic --mode nth --every 2 --packet 2').kind, 'unknown');
});

test('recent: kube-proxy\'s rcheck and set, iptables-save\'s spelling, update/remove/hitcount/rdest', () => {
  assert.deepEqual(only('-m recent --name KUBE-SEP-X --rcheck --seconds 10800 --reap'), {
    kind: 'recent', name: 'KUBE-SEP-X', command: 'rcheck', invert: false, seconds: 10800, reap: true, hitcount: null, rttl: false, mask: null, side: 'src',
  });
  assert.deepEqual(only('-m recent --rcheck --seconds 10800 --reap --name KUBE-SEP-X --mask 255.255.255.255 --rsource'), {
    kind: 'recent', name: 'KUBE-SEP-X', command: 'rcheck', invert: false, seconds: 10800, reap: true, hitcount: null, rttl: false, mask: '255.255.255.255', side: 'src',
  });
  assert.deepEqual(only('-m recent --set --name S'), {
    kind: 'recent', name: 'S', command: 'set', invert: false, seconds: null, reap: false, hitcount: null, rttl: false, mask: null, side: 'src',
  });
  const u = only('-m recent ! --update --seconds 60 --hitcount 4 --rttl --rdest');
  assert.ok(u.kind === 'recent' && u.command === 'update' && u.invert && u.hitcount === 4 && u.rttl && u.side === 'dst' && u.name === 'DEFAULT');
  const rm = only('-m recent --remove --name S');
  assert.ok(rm.kind === 'recent' && rm.command === 'remove');
  assert.equal(only('-m recent --set --rcheck').kind, 'unknown');
  assert.equal(only('-m recent --rcheck --reap').kind, 'unknown');
});

test('set --match-set, physdev, nfacct', () => {
  assert.deepEqual(only('-m set --match-set KUBE-CLUSTER-IP dst,dst'), { kind: 'set', invert: false, name: 'KUBE-CLUSTER-IP', flags: ['dst', 'dst'] });
  assert.deepEqual(only('-m set ! --match-set KUBE-LOOP-BACK dst,dst,src'), { kind: 'set', invert: true, name: 'KUBE-LOOP-BACK', flags: ['dst', 'dst', 'src'] });
  assert.deepEqual(only('-m physdev ! --physdev-is-in'), { kind: 'physdev', physdevIn: null, physdevOut: null, isIn: { invert: true }, isOut: null, isBridged: null });
  assert.deepEqual(only('-m physdev --physdev-in veth1 --physdev-is-bridged'), {
    kind: 'physdev', physdevIn: { invert: false, name: 'veth1' }, physdevOut: null, isIn: null, isOut: null, isBridged: { invert: false },
  });
  assert.deepEqual(only('-m nfacct --nfacct-name  localhost_nps_accepted_pkts'), { kind: 'nfacct', name: 'localhost_nps_accepted_pkts' });
});

test('targets: chains (-j and -g), verdicts, REJECT, DNAT (IPv4, IPv6, ranges), SNAT, MASQUERADE, REDIRECT, LOG', () => {
  assert.deepEqual(target('-j KUBE-SVC-X'), { kind: 'jump', chain: 'KUBE-SVC-X', goto: false });
  assert.deepEqual(target('-g KUBE-SVC-X'), { kind: 'jump', chain: 'KUBE-SVC-X', goto: true });
  assert.deepEqual(target('-m comment --comment x'), { kind: 'none' });
  assert.deepEqual(target('-j ACCEPT'), { kind: 'accept' });
  assert.deepEqual(target('-j DROP'), { kind: 'drop' });
  assert.deepEqual(target('-j RETURN'), { kind: 'return' });
  assert.deepEqual(target('-j REJECT'), { kind: 'reject', rejectWith: null });
  assert.deepEqual(target('-j REJECT --reject-with icmp-port-unreachable'), { kind: 'reject', rejectWith: 'icmp-port-unreachable' });
  assert.deepEqual(target('-p tcp -j DNAT --to-destination 172.18.0.5:80'), {
    kind: 'dnat',
    to: [{ addressFrom: '172.18.0.5', addressTo: '172.18.0.5', ports: { from: 80, to: 80 }, written: '172.18.0.5:80' }],
    random: false,
    persistent: false,
  });
  const v6 = target('-j DNAT --to-destination [fd00::5]:8080 --random --persistent');
  assert.ok(v6.kind === 'dnat' && v6.to[0]?.addressFrom === 'fd00::5' && v6.to[0].ports?.from === 8080 && v6.random && v6.persistent);
  assert.deepEqual(parseNatRange('10.0.0.1-10.0.0.3:80-90'), { addressFrom: '10.0.0.1', addressTo: '10.0.0.3', ports: { from: 80, to: 90 }, written: '10.0.0.1-10.0.0.3:80-90' });
  assert.deepEqual(parseNatRange('fd00::1'), { addressFrom: 'fd00::1', addressTo: 'fd00::1', ports: null, written: 'fd00::1' });
  assert.deepEqual(parseNatRange(':8080')?.ports, { from: 8080, to: 8080 });
  assert.equal(parseNatRange('nonsense:x'), null);
  const snat = target('-j SNAT --to-source 192.168.0.2 --random-fully');
  assert.ok(snat.kind === 'snat' && snat.to[0]?.addressFrom === '192.168.0.2' && snat.randomFully && !snat.random);
  assert.deepEqual(target('-j MASQUERADE --random-fully'), { kind: 'masquerade', toPorts: null, random: false, randomFully: true });
  assert.deepEqual(target('-j MASQUERADE --to-ports 1024-2048'), { kind: 'masquerade', toPorts: { from: 1024, to: 2048 }, random: false, randomFully: false });
  assert.deepEqual(target('-p tcp -j REDIRECT --to-ports 15001'), { kind: 'redirect', toPorts: { from: 15001, to: 15001 }, random: false });
  assert.deepEqual(target('-j LOG --log-prefix "kube: " --log-level 4'), { kind: 'log', prefix: 'kube: ', level: '4' });
  assert.equal(target('-j DNAT').kind, 'unknown');
  // an option the target does not own is kept as an unknown element (and the rule stays untraceable)
  assert.deepEqual(matches('-j ACCEPT --now'), [{ kind: 'unknown', module: 'ip', words: ['--now'], reason: 'option --now belongs to no loaded module' }]);
  assert.equal(target('-g ACCEPT').kind, 'unknown');
});

test('MARK in every spelling, as the kernel\'s (value, mask) pair', () => {
  const mark = (line: string): [string, number, number] => {
    const t = target(line);
    if (t.kind !== 'mark') assert.fail(`not a MARK target: ${JSON.stringify(t)}`);
    return [t.operation, t.value, t.mask];
  };
  assert.deepEqual(mark('-j MARK --set-xmark 0x4000/0x4000'), ['set-xmark', 0x4000, 0x4000]);
  assert.deepEqual(mark('-j MARK --set-xmark 0x4000/0x0'), ['set-xmark', 0x4000, 0]);
  assert.deepEqual(mark('-j MARK --set-xmark 7'), ['set-xmark', 7, 0xffffffff]);
  assert.deepEqual(mark('-j MARK --set-mark 0x10/0xf0'), ['set-mark', 0x10, 0xf0]);
  assert.deepEqual(mark('-j MARK --set-mark 0x1'), ['set-mark', 1, 0xffffffff]);
  assert.deepEqual(mark('-j MARK --or-mark 0x00004000'), ['or-mark', 0x4000, 0x4000]);
  assert.deepEqual(mark('-j MARK --xor-mark 0x4000'), ['xor-mark', 0x4000, 0]);
  assert.deepEqual(mark('-j MARK --and-mark 0xffff'), ['and-mark', 0, 0xffff0000]);
  assert.equal(target('-j MARK --or-mark 1 --xor-mark 2').kind, 'unknown');
});

test('-m tcp --syn and --tcp-flags MASK COMP (with "!"): flag bit sets, in the order written', () => {
  const SYN_MASK = 0x01 | 0x02 | 0x04 | 0x10; // FIN, SYN, RST, ACK
  assert.deepEqual(only('-m tcp --syn'), { kind: 'tcpflags', invert: false, mask: SYN_MASK, comp: 0x02 });
  assert.deepEqual(only('-m tcp ! --syn'), { kind: 'tcpflags', invert: true, mask: SYN_MASK, comp: 0x02 });
  assert.deepEqual(only('-m tcp --tcp-flags FIN,SYN,RST,ACK SYN'), only('-m tcp --syn'), 'iptables-save writes --syn this way');
  assert.deepEqual(only('-m tcp ! --tcp-flags SYN,ACK SYN,ACK'), { kind: 'tcpflags', invert: true, mask: 0x12, comp: 0x12 });
  assert.deepEqual(only('-m tcp --tcp-flags ALL NONE'), { kind: 'tcpflags', invert: false, mask: 0x3f, comp: 0 });
  assert.deepEqual(only('-m tcp --tcp-flags psh,urg,fin urg'), { kind: 'tcpflags', invert: false, mask: 0x29, comp: 0x20 }, 'names in any case');
  const implicit = matches('-p tcp --dport 22 --syn');
  assert.deepEqual(implicit.map((m) => m.kind), ['protocol', 'port', 'tcpflags'], '-p tcp loads the tcp module implicitly');
  const bad = only('-m tcp --tcp-flags SYN,BOGUS SYN');
  assert.ok(bad.kind === 'unknown');
  assert.match(bad.reason, /not TCP flag lists/);
  assert.deepEqual(bad.words, ['--tcp-flags', 'SYN,BOGUS', 'SYN']);
  const both = matches('-m tcp --syn --tcp-flags ALL SYN');
  assert.deepEqual(both.map((m) => (m.kind === 'unknown' ? m.reason : m.kind)), [
    'only one of --syn and --tcp-flags is allowed',
    'only one of --syn and --tcp-flags is allowed',
  ]);
  assert.equal(only('-m udp --syn').kind, 'unknown', '--syn belongs to the tcp module only');
});

test('unknown modules, options and targets are explicit, with their words; nothing throws', () => {
  const s = spec('-p udp --dport 53 -m owner --uid-owner 1000 -m limit --limit 5/s -j CT --notrack');
  assert.deepEqual(
    s.matches.flatMap((m) => (m.kind === 'unknown' ? [[m.module, m.words]] : [])),
    [
      ['owner', ['-m', 'owner', '--uid-owner', '1000']],
      ['limit', ['-m', 'limit', '--limit', '5/s']],
    ],
  );
  assert.deepEqual(s.target, { kind: 'unknown', target: 'CT', words: ['-j', 'CT', '--notrack'], reason: 'unknown target "CT" with options' });
  const options = matches('-p tcp -m tcp --tcp-option 2 --dport 22');
  assert.deepEqual(options.map((m) => m.kind), ['protocol', 'unknown', 'port']);
  const o0 = options[1];
  assert.deepEqual(o0?.kind === 'unknown' ? [o0.module, o0.words] : null, ['tcp', ['--tcp-option', '2']]);
  assert.equal(only('-m statistic').kind, 'unknown');
  assert.equal(only('stray').kind, 'unknown');
  assert.equal(only('-s').kind, 'unknown');
  assert.deepEqual(spec('-c 10 20 -j ACCEPT').counters, [10, 20]);
  assert.equal(target('-j A -j B').kind, 'jump');
  assert.equal(matches('-j A -j B')[0]?.kind, 'unknown');
});

test('every rule of the real dumps and golden files is understood (no unknown element)', () => {
  const files = [
    'test/golden/kube-proxy/iptables-overall.expected.txt',
    'test/golden/kube-proxy/iptables-sync-repeated-partial.expected.txt',
    ...fs.readdirSync(repoPath('test/fixtures/dumps')).filter((f) => f.endsWith('.save.txt')).map((f) => `test/fixtures/dumps/${f}`),
  ];
  let rules = 0;
  for (const file of files) {
    const rs = parseIptables(fs.readFileSync(repoPath(file), 'utf8'));
    for (const t of rs.tables) {
      for (const rule of t.rules) {
        const s = interpretRule(rule);
        const bad = s.matches.filter((m) => m.kind === 'unknown');
        assert.deepEqual(bad, [], `${file}:${rule.line ?? 0}`);
        assert.notEqual(s.target.kind, 'unknown', `${file}:${rule.line ?? 0}`);
        rules++;
      }
    }
  }
  assert.ok(rules > 300);
});
