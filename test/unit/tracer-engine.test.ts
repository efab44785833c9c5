// The tracer's engine on hand-written rules: every match and target it evaluates, hook order,
// jumps / goto / RETURN / policies, and the errors for what it cannot evaluate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import { lowerIptables } from '../../src/tracer/lower-iptables.js';
import { trace, type TraceResult } from '../../src/tracer/trace.js';
import { EMPTY_IPSETS, parseIpsetSave, type IpsetStore } from '../../src/tracer/ipset.js';
import type { TracePacket } from '../../src/tracer/packet.js';
import { isKproxyError } from '../../src/core/errors.js';

interface Tables {
  readonly nat?: readonly string[];
  readonly filter?: readonly string[];
  readonly mangle?: readonly string[];
}

/** A save-style dump: built-in chains with ACCEPT policies unless declared, then the rules. */
function dump(tables: Tables, policies: Record<string, string> = {}): string {
  const out: string[] = [];
  const builtins: Record<string, readonly string[]> = {
    nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
    filter: ['INPUT', 'FORWARD', 'OUTPUT'],
    mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  };
  for (const [name, rules] of Object.entries(tables) as [string, readonly string[]][]) {
    out.push(`*${name}`);
    for (const b of builtins[name] ?? []) out.push(`:${b} ${policies[`${name}/${b}`] ?? 'ACCEPT'} [0:0]`);
    const chains = new Set<string>();
    for (const r of rules) {
      const chain = r.split(' ')[1] ?? '';
      if (!(builtins[name] ?? []).includes(chain)) chains.add(chain);
      for (const m of r.matchAll(/-[jg] ([A-Z][A-Z0-9-]*)/g)) {
        const t = m[1] ?? '';
        if (t.startsWith('C-')) chains.add(t);
      }
    }
    for (const c of chains) out.push(`:${c} - [0:0]`);
    out.push(...rules, 'COMMIT');
  }
  return out.join('\n') + '\n';
}

const BASE: TracePacket = { src: '10.0.0.5', dst: '10.96.0.10', protocol: 'tcp', sport: 40000, dport: 80, from: 'pod', inInterface: 'veth1' };

function run(tables: Tables, packet: Partial<TracePacket> = {}, ipsets: IpsetStore = EMPTY_IPSETS, policies: Record<string, string> = {}): TraceResult {
  const program = lowerIptables(parseIptables(dump(tables, policies)));
  return trace(program, { ...BASE, ...packet }, { nodeIPs: ['192.168.0.2'], ipsets });
}

function dist(r: TraceResult): Record<string, string> {
  return Object.fromEntries(r.distribution.map((d) => [d.endpoint, d.probability.toString()]));
}

const DNAT_A = '-j DNAT --to-destination 10.1.0.1:8080';

function traceError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(isKproxyError(e));
    assert.equal(e.code, 'E_TRACE');
    return e.message;
  }
  assert.fail('no E_TRACE error');
}

test('addresses and protocols, with "!" and CIDRs', () => {
  const rules = (m: string): Tables => ({ nat: [`-A PREROUTING ${m} ${DNAT_A}`] });
  assert.equal(run(rules('-d 10.96.0.0/16 -p tcp')).verdict, 'DNAT');
  assert.equal(run(rules('! -d 10.96.0.0/16')).verdict, 'NO_SERVICE');
  assert.equal(run(rules('-s 10.0.0.5/32 -p udp')).verdict, 'NO_SERVICE');
  assert.equal(run(rules('! -p udp')).verdict, 'DNAT');
  assert.equal(run(rules('-p all')).verdict, 'DNAT');
  assert.equal(run(rules('-s 1.1.1.1,10.0.0.0/8')).verdict, 'DNAT');
  assert.deepEqual(dist(run(rules('-p tcp'))), { '10.1.0.1:8080': '1' });
});

test('ports: tcp/udp modules only match their protocol; multiport; ranges and "!"', () => {
  const r = (m: string, p: Partial<TracePacket> = {}): string => run({ nat: [`-A PREROUTING ${m} ${DNAT_A}`] }, p).verdict;
  assert.equal(r('-p tcp -m tcp --dport 80'), 'DNAT');
  assert.equal(r('-p tcp -m tcp --dport 81:90'), 'NO_SERVICE');
  assert.equal(r('-p tcp -m tcp ! --dport 81:90'), 'DNAT');
  assert.equal(r('-p udp -m udp --dport 80'), 'NO_SERVICE');
  assert.equal(r('-p udp -m udp --dport 80', { protocol: 'udp' }), 'DNAT');
  assert.equal(r('-p tcp -m tcp --sport 40000'), 'DNAT');
  assert.equal(r('-p tcp -m multiport --dports 22,70:85'), 'DNAT');
  assert.equal(r('-p tcp -m multiport ! --dports 22,70:85'), 'NO_SERVICE');
  assert.equal(r('-p tcp -m multiport --ports 40000'), 'DNAT');
  assert.equal(r('-p sctp -m sctp --dport 80', { protocol: 'sctp' }), 'DNAT');
});

test('TCP flags: the traced packet is a SYN (--syn and --tcp-flags evaluated on it); other protocols never match', () => {
  const r = (m: string, p: Partial<TracePacket> = {}): TraceResult => run({ nat: [`-A PREROUTING ${m} ${DNAT_A}`] }, p);
  assert.equal(r('-p tcp -m tcp --syn').verdict, 'DNAT');
  assert.equal(r('-p tcp -m tcp ! --syn').verdict, 'NO_SERVICE');
  assert.equal(r('-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN --dport 80').verdict, 'DNAT', 'as iptables-save writes --syn');
  assert.equal(r('-p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN --dport 81').verdict, 'NO_SERVICE', 'the port still counts');
  assert.equal(r('-p tcp -m tcp --tcp-flags SYN,ACK SYN,ACK').verdict, 'NO_SERVICE', 'a SYN-ACK is a reply, not this packet');
  assert.equal(r('-p tcp -m tcp ! --tcp-flags SYN,ACK SYN,ACK').verdict, 'DNAT');
  assert.equal(r('-p tcp -m tcp --tcp-flags RST RST').verdict, 'NO_SERVICE');
  assert.equal(r('-p tcp -m tcp --tcp-flags ALL SYN').verdict, 'DNAT', 'no other flag is set');
  assert.equal(r('-p tcp -m tcp --tcp-flags ALL NONE').verdict, 'NO_SERVICE');
  assert.equal(r('-p tcp -m tcp --tcp-flags NONE NONE').verdict, 'DNAT', 'an empty mask matches every packet');
  assert.equal(r('-m tcp --syn', { protocol: 'udp' }).verdict, 'NO_SERVICE');
  assert.equal(r('-m tcp ! --syn', { protocol: 'udp' }).verdict, 'NO_SERVICE', 'the tcp match never holds for UDP, negated or not');
  assert.ok(r('-p tcp -m tcp --syn').notes.some((n) => /traced as a connection's first one, a SYN/.test(n)));
  assert.ok(!r('-p tcp -m tcp --dport 80').notes.some((n) => /SYN/.test(n)), 'said only where flags were evaluated');
  // A rule kube-proxy's peers write: drop new connections that do not start with a SYN.
  const guard = ['-A PREROUTING -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW -j DROP', `-A PREROUTING -d 10.96.0.10/32 ${DNAT_A}`];
  assert.equal(run({ nat: guard }).verdict, 'DNAT');
});

test('addrtype LOCAL: node IPs and 127.0.0.0/8; UNICAST otherwise', () => {
  const r = (m: string, p: Partial<TracePacket>): string => run({ nat: [`-A PREROUTING ${m} ${DNAT_A}`, `-A OUTPUT ${m} ${DNAT_A}`] }, p).verdict;
  assert.equal(r('-m addrtype --dst-type LOCAL', { dst: '192.168.0.2' }), 'DNAT');
  assert.equal(r('-m addrtype --dst-type LOCAL', { dst: '127.0.0.1', from: 'node', src: '127.0.0.1' }), 'DNAT');
  assert.equal(r('-m addrtype --dst-type LOCAL', { dst: '10.96.0.10' }), 'NO_SERVICE');
  assert.equal(r('-m addrtype ! --dst-type LOCAL', { dst: '10.96.0.10' }), 'DNAT');
  assert.equal(r('-m addrtype --dst-type UNICAST', { dst: '10.96.0.10' }), 'DNAT');
  assert.equal(r('-m addrtype --src-type LOCAL', { src: '192.168.0.2', from: 'node' }), 'DNAT');
  assert.match(traceError(() => r('-m addrtype --dst-type LOCAL --limit-iface-in', {})), /--limit-iface-in is not traced/);
});

test('MARK and -m mark: --set-xmark, --or-mark, --xor-mark, --set-mark, --and-mark', () => {
  const nat = (markRule: string, test_: string): Tables => ({
    nat: ['-A PREROUTING -j C-MARK', `-A C-MARK ${markRule}`, `-A PREROUTING -m mark --mark ${test_} ${DNAT_A}`],
  });
  assert.equal(run(nat('-j MARK --set-xmark 0x4000/0x4000', '0x4000/0x4000')).verdict, 'DNAT');
  assert.equal(run(nat('-j MARK --or-mark 0x4000', '0x4000/0x4000')).verdict, 'DNAT');
  assert.equal(run(nat('-j MARK --set-mark 0x10/0xf0', '0x10')).verdict, 'DNAT');
  assert.equal(run(nat('-j MARK --set-mark 0x10', '0x10')).verdict, 'DNAT');
  assert.equal(run(nat('-j MARK --xor-mark 0x4000', '0x4000/0x4000'), { mark: 0x4000 }).verdict, 'NO_SERVICE');
  assert.equal(run(nat('-j MARK --and-mark 0xff', '0x1'), { mark: 0x101 }).verdict, 'DNAT');
  assert.equal(run(nat('-j LOG --log-prefix x', '0x0')).verdict, 'DNAT');
  assert.equal(run({ nat: [`-A PREROUTING -m mark ! --mark 0x1/0x1 ${DNAT_A}`] }, { mark: 1 }).verdict, 'NO_SERVICE');
});

test('conntrack and state: the first packet is NEW; DNAT is a state after DNAT', () => {
  const filter = (m: string): Tables => ({ nat: [`-A PREROUTING ${DNAT_A}`], filter: [`-A FORWARD ${m} -j DROP`] });
  assert.equal(run(filter('-m conntrack --ctstate NEW')).verdict, 'DROP');
  assert.equal(run(filter('-m state --state NEW')).verdict, 'DROP');
  assert.equal(run(filter('-m conntrack --ctstate RELATED,ESTABLISHED')).verdict, 'DNAT');
  assert.equal(run(filter('-m conntrack --ctstate DNAT')).verdict, 'DROP');
  assert.equal(run(filter('-m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT')).verdict, 'DNAT');
});

test('statistic random: both outcomes with the kernel rounding; inverted; nth as 1 in n', () => {
  const r = run({ nat: ['-A PREROUTING -m statistic --mode random --probability 0.2 -j DNAT --to-destination 10.1.0.1:80', `-A PREROUTING ${DNAT_A}`] });
  // 0.2 is stored as round(0.2 * 2^31) = 429496730 (iptables-save: 0.20000000019)
  assert.deepEqual(dist(r), { '10.1.0.1:80': '214748365/1073741824', '10.1.0.1:8080': '858993459/1073741824' });
  const inv = run({ nat: ['-A PREROUTING -m statistic --mode random ! --probability 0.25 -j DNAT --to-destination 10.1.0.1:80'] });
  assert.deepEqual(inv.outcomes.map((o) => [o.verdict, o.probability.toString()]), [['DNAT', '3/4'], ['NO_SERVICE', '1/4']]);
  assert.equal(inv.verdict, 'DNAT');
  const nth = run({ nat: ['-A PREROUTING -m statistic --mode nth --every 3 --packet 0 -j DNAT --to-destination 10.1.0.1:80'] });
  assert.deepEqual(dist(nth), { '10.1.0.1:80': '1/3' });
  assert.ok(nth.notes.some((n) => n.includes('1 in 3')));
  const never = run({ nat: ['-A PREROUTING -m statistic --mode random --probability 0 -j DNAT --to-destination 10.1.0.1:80'] });
  assert.equal(never.verdict, 'NO_SERVICE');
});

test('recent: set by the first packet, rcheck/update/remove/hitcount for the returning client', () => {
  const rules = (check: string): Tables => ({
    nat: [
      `-A PREROUTING -m recent ${check} --name AFF -j DNAT --to-destination 10.1.0.9:80`,
      '-A PREROUTING -m statistic --mode random --probability 0.5 -j C-A',
      '-A PREROUTING -j C-B',
      '-A C-A -m recent --set --name AFF -j DNAT --to-destination 10.1.0.1:80',
      '-A C-B -j DNAT --to-destination 10.1.0.2:80',
    ],
  });
  const r = run(rules('--rcheck --seconds 10800 --reap'));
  assert.deepEqual(dist(r), { '10.1.0.1:80': '1/2', '10.1.0.2:80': '1/2' });
  assert.ok(r.returning);
  // clients that went to A come back to the affinity rule; the others spread again
  assert.deepEqual(dist(r.returning), { '10.1.0.1:80': '1/4', '10.1.0.2:80': '1/4', '10.1.0.9:80': '1/2' });
  assert.ok(r.returning.notes.some((n) => n.includes('within that time')));
  const hit2 = run(rules('--rcheck --hitcount 2'));
  assert.deepEqual(dist(hit2.returning ?? hit2), { '10.1.0.1:80': '1/2', '10.1.0.2:80': '1/2' });
  const update = run(rules('--update'));
  assert.deepEqual(dist(update.returning ?? update)['10.1.0.9:80'], '1/2');
  const removed = run(rules('--remove'));
  assert.deepEqual(dist(removed.returning ?? removed)['10.1.0.9:80'], '1/2');
  // negated: a first packet (no entry) matches at once
  assert.deepEqual(dist(run(rules('! --rcheck'))), { '10.1.0.9:80': '1' });
  const noAffinity = run({ nat: [`-A PREROUTING ${DNAT_A}`] });
  assert.equal(noAffinity.returning, null);
});

test('ipsets: -m set with hash:ip,port, hash:net (nomatch) and bitmap:port from ipset save', () => {
  const sets = parseIpsetSave(
    [
      'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536',
      'add KUBE-CLUSTER-IP 10.96.0.10,tcp:80',
      'create NETS hash:net family inet',
      'add NETS 10.0.0.0/8',
      'add NETS 10.0.0.0/24 nomatch',
      'create PORTS bitmap:port range 0-65535',
      'add PORTS 80',
    ].join('\n'),
  );
  const r = (m: string, p: Partial<TracePacket> = {}): string => run({ nat: [`-A PREROUTING ${m} ${DNAT_A}`] }, p, sets).verdict;
  assert.equal(r('-m set --match-set KUBE-CLUSTER-IP dst,dst'), 'DNAT');
  assert.equal(r('-m set --match-set KUBE-CLUSTER-IP dst,dst', { dport: 81 }), 'NO_SERVICE');
  assert.equal(r('-m set --match-set KUBE-CLUSTER-IP dst,dst', { protocol: 'udp' }), 'NO_SERVICE');
  assert.equal(r('-m set ! --match-set KUBE-CLUSTER-IP dst,dst'), 'NO_SERVICE');
  assert.equal(r('-m set --match-set NETS src', { src: '10.1.2.3' }), 'DNAT');
  assert.equal(r('-m set --match-set NETS src', { src: '10.0.0.3' }), 'NO_SERVICE');
  assert.equal(r('-m set --match-set PORTS dst', { protocol: 'udp' }), 'DNAT');
  assert.match(traceError(() => r('-m set --match-set MISSING src')), /ipset MISSING is not known: give its contents with --ipset FILE/);
  assert.match(traceError(() => r('-m set --match-set KUBE-CLUSTER-IP dst')), /needs 2 src\/dst flags/);
});

test('interfaces: known ones match (+ wildcards); an unknown one needed by a rule stops the trace', () => {
  const r = (m: string, p: Partial<TracePacket> = {}): string => run({ nat: [`-A PREROUTING ${m} ${DNAT_A}`, `-A OUTPUT ${m} ${DNAT_A}`] }, p).verdict;
  assert.equal(r('-i veth+'), 'DNAT');
  assert.equal(r('! -i veth1'), 'NO_SERVICE');
  assert.equal(r('-i cni0'), 'NO_SERVICE');
  assert.equal(r('-i eth0', { from: 'external', inInterface: undefined }), 'DNAT');
  assert.equal(r('! -i eth0', { from: 'node', src: '192.168.0.2', inInterface: undefined }), 'DNAT', 'locally sent packets have no input interface');
  const msg = traceError(() => r('! -i cni0', { inInterface: null }));
  assert.match(msg, /line \d+ \(table nat, chain PREROUTING\).*give --in-iface/);
  assert.match(traceError(() => run({ filter: ['-A FORWARD -o eth0 -j DROP'] })), /give --out-iface/);
  assert.equal(run({ filter: ['-A FORWARD -o eth0 -j DROP'] }, { outInterface: 'eth0' }).verdict, 'DROP');
});

test('physdev on a routed (not bridged) packet: plain tests fail, negated ones hold; fragments never match', () => {
  const r = (m: string): string => run({ nat: [`-A PREROUTING ${m} ${DNAT_A}`] }).verdict;
  assert.equal(r('-m physdev --physdev-is-in'), 'NO_SERVICE');
  assert.equal(r('-m physdev ! --physdev-is-in'), 'DNAT');
  assert.equal(r('-m physdev ! --physdev-in veth1 ! --physdev-is-bridged'), 'DNAT');
  assert.equal(r('-f'), 'NO_SERVICE');
  assert.equal(r('! -f'), 'DNAT');
});

test('jump, goto and RETURN; policies; DROP / REJECT / ACCEPT verdicts and where they were decided', () => {
  // goto: C-G's RETURN goes back to PREROUTING's caller level, skipping the rest of C-J
  const g = run({
    nat: ['-A PREROUTING -j C-J', '-A PREROUTING -j DNAT --to-destination 10.1.0.1:1', '-A C-J -g C-G', '-A C-J -j DNAT --to-destination 10.1.0.1:2', '-A C-G -j RETURN'],
  });
  assert.deepEqual(dist(g), { '10.1.0.1:1': '1' });
  const ret = run({ nat: ['-A PREROUTING -j RETURN', `-A PREROUTING ${DNAT_A}`] });
  assert.equal(ret.verdict, 'NO_SERVICE');
  assert.ok(ret.path.some((s) => s.rule === 'policy ACCEPT'));
  const policyDrop = run({ filter: [] }, {}, EMPTY_IPSETS, { 'filter/FORWARD': 'DROP' });
  assert.equal(policyDrop.verdict, 'DROP');
  assert.deepEqual(policyDrop.outcomes[0]?.decidedAt, { table: 'filter', chain: 'FORWARD', line: null });
  const reject = run({ filter: ['-A FORWARD -j C-R', '-A C-R -p tcp -j REJECT --reject-with tcp-reset'] });
  assert.equal(reject.verdict, 'REJECT');
  assert.equal(reject.outcomes[0]?.rejectWith, 'tcp-reset');
  assert.equal(reject.outcomes[0].decidedAt?.chain, 'C-R');
  const accept = run({ filter: ['-A FORWARD -j ACCEPT', '-A FORWARD -j DROP'] });
  assert.equal(accept.verdict, 'ACCEPT');
  const input = run({ filter: ['-A INPUT -j DROP'] }, { dst: '192.168.0.2' });
  assert.equal(input.verdict, 'DROP', 'a packet for the node goes through INPUT');
});

test('routing after DNAT: DNAT to the node goes to INPUT, elsewhere to FORWARD and POSTROUTING', () => {
  const toNode = run({ nat: ['-A PREROUTING -j DNAT --to-destination 192.168.0.2:8080'], filter: ['-A INPUT -j REJECT', '-A FORWARD -j DROP'] });
  assert.equal(toNode.verdict, 'REJECT');
  const away = run({ nat: [`-A PREROUTING ${DNAT_A}`], filter: ['-A INPUT -j REJECT'] });
  assert.equal(away.verdict, 'DNAT');
});

test('SNAT / MASQUERADE in POSTROUTING set masquerade; REDIRECT goes to the node', () => {
  const masq = run({ nat: [`-A PREROUTING ${DNAT_A}`, '-A POSTROUTING -j MASQUERADE --random-fully'] });
  assert.equal(masq.masquerade, true);
  const snat = run({ nat: ['-A POSTROUTING -j SNAT --to-source 192.168.0.2'] });
  assert.equal(snat.masquerade, true);
  assert.equal(snat.verdict, 'NO_SERVICE');
  const redirect = run({ nat: ['-A PREROUTING -p tcp -j REDIRECT --to-ports 15001'] });
  assert.deepEqual(dist(redirect), { '192.168.0.2:15001': '1' });
  const fromNode = run({ nat: ['-A OUTPUT -p tcp -j REDIRECT --to-ports 15001'] }, { from: 'node', src: '192.168.0.2' });
  assert.deepEqual(dist(fromNode), { '127.0.0.1:15001': '1' });
});

test('IPv6 endpoints are written [ip]:port', () => {
  const program = lowerIptables(parseIptables('*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -d fd00::10/128 -p tcp -j DNAT --to-destination [fd00::1]:80\nCOMMIT\n'));
  const r = trace(program, { src: 'fd00::5', dst: 'fd00::10', protocol: 'tcp', sport: 1, dport: 80, from: 'pod' }, { nodeIPs: [], ipsets: EMPTY_IPSETS });
  assert.deepEqual(dist(r), { '[fd00::1]:80': '1' });
});

test('unknown matches and targets: an error naming the rule and line only when the packet reaches them', () => {
  const tables: Tables = {
    nat: ['-A PREROUTING -p udp -m owner --uid-owner 0 -j DROP', '-A PREROUTING -d 10.96.0.10/32 -j C-X', '-A C-X -p tcp -m limit --limit 5/s -j ACCEPT'],
  };
  // the udp rule's unknown match is never evaluated for a TCP packet (-p is checked first)
  const msg = traceError(() => run(tables));
  assert.match(msg, /cannot trace past line 9 \(table nat, chain C-X\): -m limit: unknown match module "limit" \(-m limit --limit 5\/s\)/);
  assert.equal(run(tables, { dst: '10.96.0.11' }).verdict, 'NO_SERVICE');
  const target = traceError(() => run({ nat: ['-A PREROUTING -j CT --notrack'] }));
  assert.match(target, /line 6 .*-j CT: unknown target "CT" with options/);
  const missing = traceError(() => run({ nat: ['-A PREROUTING -j NOTRACK'] }));
  assert.match(missing, /-j NOTRACK: no such chain in table nat, and not a target kproxy knows/);
});

test('a jump loop is reported, not followed forever', () => {
  assert.match(traceError(() => run({ nat: ['-A PREROUTING -j C-A', '-A C-A -j C-B', '-A C-B -j C-A'] })), /nested jumps/);
});

test('returning client: each outcome says where the first packet went; stickiness is P(same endpoint again)', () => {
  const sticky = run({
    nat: [
      '-A PREROUTING -m recent --rcheck --seconds 60 --name A -j C-A',
      '-A PREROUTING -m recent --rcheck --seconds 60 --name B -j C-B',
      '-A PREROUTING -m statistic --mode random --probability 0.25 -j C-A',
      '-A PREROUTING -j C-B',
      '-A C-A -m recent --set --name A -j DNAT --to-destination 10.1.0.1:80',
      '-A C-B -m recent --set --name B -j DNAT --to-destination 10.1.0.2:80',
    ],
  });
  assert.ok(sticky.returning);
  assert.deepEqual(sticky.outcomes.map((o) => o.after), [null, null]);
  assert.deepEqual(
    sticky.returning.outcomes.map((o) => [o.after, o.endpoint, o.probability.toString()]),
    [
      ['10.1.0.1:80', '10.1.0.1:80', '1/4'],
      ['10.1.0.2:80', '10.1.0.2:80', '3/4'],
    ],
  );
  assert.equal(sticky.stickiness?.toString(), '1');
  // affinity only to A: clients that went to A are sent to 10.1.0.9, the others spread again
  const partial = run({
    nat: [
      '-A PREROUTING -m recent --rcheck --name AFF -j DNAT --to-destination 10.1.0.9:80',
      '-A PREROUTING -m statistic --mode random --probability 0.5 -j C-A',
      '-A PREROUTING -j C-B',
      '-A C-A -m recent --set --name AFF -j DNAT --to-destination 10.1.0.1:80',
      '-A C-B -j DNAT --to-destination 10.1.0.2:80',
    ],
  });
  assert.equal(partial.stickiness?.toString(), '1/4', 'only a client first sent to B comes back to B, half the time');
  assert.equal(run({ nat: [`-A PREROUTING ${DNAT_A}`] }).stickiness, null);
});
