// The engine with the source as a variable (what `graph` pictures): tests of the source are
// followed both ways, each branch says what it assumed, and assumptions that decide a later test
// (a narrower or disjoint CIDR, loopback being LOCAL) keep contradictory branches out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import { runTrace } from '../../src/tracer/engine.js';
import { EMPTY_IPSETS } from '../../src/tracer/ipset.js';
import { lowerIptables } from '../../src/tracer/lower-iptables.js';
import type { EngineRun, TracePacket } from '../../src/tracer/packet.js';

const PACKET: TracePacket = { src: '198.18.0.1', dst: '10.96.0.10', protocol: 'tcp', sport: 40000, dport: 80, from: 'external' };

function nat(rules: readonly string[], chains: readonly string[]): string {
  return ['*nat', ':PREROUTING ACCEPT [0:0]', ...chains.map((c) => `:${c} - [0:0]`), ...rules, 'COMMIT', ''].join('\n');
}

function symbolic(text: string, packet: Partial<TracePacket> = {}, symbolicSource = true): EngineRun {
  return runTrace(lowerIptables(parseIptables(text)), { ...PACKET, ...packet }, { nodeIPs: [], ipsets: EMPTY_IPSETS, symbolicSource });
}

/** Each outcome as `verdict endpoint | assumptions`. */
function outcomes(run: EngineRun): string[] {
  return run.leaves.map((l) => `${l.verdict} ${l.endpoint ?? '-'} | ${(l.assumptions ?? []).join(', ')}`).sort();
}

test('a source test forks into both outcomes, each remembering its assumption; without the option the source is one address', () => {
  const text = nat(
    ['-A PREROUTING -d 10.96.0.10/32 -j SVC', '-A SVC -s 198.51.100.1/32 -j DNAT --to-destination 10.1.0.1:8080', '-A SVC -j DROP'],
    ['SVC'],
  );
  assert.deepEqual(outcomes(symbolic(text)), ['DNAT 10.1.0.1:8080 | -s 198.51.100.1/32', 'DROP - | ! -s 198.51.100.1/32']);
  // the same rules for one concrete source: no fork, no assumptions
  assert.deepEqual(outcomes(symbolic(text, {}, false)), ['DROP - | ']);
  assert.deepEqual(outcomes(symbolic(text, { src: '198.51.100.1' }, false)), ['DNAT 10.1.0.1:8080 | ']);
});

test('assumptions decide later tests: a narrower CIDR inside, a disjoint one outside, the same test again', () => {
  const text = nat(
    [
      '-A PREROUTING -j SVC',
      '-A SVC -s 10.0.0.0/8 -j INNER',
      '-A SVC ! -s 10.0.0.0/8 -j DNAT --to-destination 10.9.0.9:80',
      '-A INNER -s 192.168.0.0/16 -j DROP',
      '-A INNER -s 10.1.0.0/16 -j DNAT --to-destination 10.1.0.1:80',
      '-A INNER -j DNAT --to-destination 10.2.0.2:80',
    ],
    ['SVC', 'INNER'],
  );
  const run = symbolic(text);
  // 192.168/16 is disjoint from 10/8 (decided false, no DROP branch); 10.1/16 is open inside 10/8; `! -s 10/8` after it failed is decided
  assert.deepEqual(outcomes(run), [
    'DNAT 10.1.0.1:80 | -s 10.0.0.0/8, -s 10.1.0.0/16',
    'DNAT 10.2.0.2:80 | -s 10.0.0.0/8, ! -s 10.1.0.0/16',
    'DNAT 10.9.0.9:80 | ! -s 10.0.0.0/8',
  ]);
  // the steps say which tests decided between the rules of their chain, decided or assumed
  const innerDnat = run.path.find((s) => s.matched && s.chain === 'INNER' && s.rule.includes('10.2.0.2'));
  assert.ok(innerDnat);
  assert.deepEqual(innerDnat.conditions, ['! -s 192.168.0.0/16', '! -s 10.1.0.0/16']);
  assert.deepEqual(innerDnat.assumptions, ['-s 10.0.0.0/8', '! -s 10.1.0.0/16']);
});

test('loopback sources are LOCAL, and a source known not to be LOCAL is no loopback address', () => {
  const text = nat(
    [
      '-A PREROUTING -j SVC',
      '-A SVC -s 127.0.0.0/8 -j LOOP',
      '-A SVC -m addrtype --src-type LOCAL -j DNAT --to-destination 10.1.0.1:80',
      '-A SVC -j DNAT --to-destination 10.2.0.2:80',
      '-A LOOP -m addrtype ! --src-type LOCAL -j DROP',
      '-A LOOP -j DNAT --to-destination 10.3.0.3:80',
    ],
    ['SVC', 'LOOP'],
  );
  assert.deepEqual(outcomes(symbolic(text)), [
    'DNAT 10.1.0.1:80 | ! -s 127.0.0.0/8, --src-type LOCAL',
    'DNAT 10.2.0.2:80 | ! -s 127.0.0.0/8, ! --src-type LOCAL',
    'DNAT 10.3.0.3:80 | -s 127.0.0.0/8',
  ]);
  const reversed = nat(
    ['-A PREROUTING -m addrtype ! --src-type LOCAL -j SVC', '-A SVC -s 127.0.0.1/32 -j DROP', '-A SVC -j DNAT --to-destination 10.1.0.1:80'],
    ['SVC'],
  );
  assert.deepEqual(outcomes(symbolic(reversed)), ['DNAT 10.1.0.1:80 | ! --src-type LOCAL', 'NO_SERVICE - | --src-type LOCAL']);
});

test('a rule that cannot match for its destination or port does not fork on its source; random rules still split the probability', () => {
  const text = nat(
    [
      '-A PREROUTING -j SVC',
      '-A SVC -s 198.51.100.1/32 -d 10.96.0.99/32 -j DROP',
      '-A SVC -s 198.51.100.1/32 -p tcp -m tcp --dport 443 -j DROP',
      '-A SVC -m statistic --mode random --probability 0.5 -j DNAT --to-destination 10.1.0.1:80',
      '-A SVC -j DNAT --to-destination 10.1.0.2:80',
    ],
    ['SVC'],
  );
  const run = symbolic(text);
  assert.deepEqual(outcomes(run), ['DNAT 10.1.0.1:80 | ', 'DNAT 10.1.0.2:80 | ']);
  assert.deepEqual(run.leaves.map((l) => l.probability.toString()).sort(), ['1/2', '1/2']);
  assert.ok(run.leaves.every((l) => l.trail?.join() === 'nat/PREROUTING,nat/SVC,nat/POSTROUTING'));
});
