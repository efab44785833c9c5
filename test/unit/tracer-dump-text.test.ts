/**
 * What `trace` shows of a dump's rules: each rule as the dump wrote it (quoting, option order;
 * `-c` counters dropped), in the path and in the error that names a rule it cannot follow; and
 * `-m nfacct`, which only counts, on hand-written rules and on a real node's dump.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { isKproxyError } from '../../src/core/errors.js';
import { programFromText } from '../../src/tracer/input.js';
import { EMPTY_IPSETS } from '../../src/tracer/ipset.js';
import type { TracePacket } from '../../src/tracer/packet.js';
import { trace } from '../../src/tracer/trace.js';
import { repoPath } from '../helpers/paths.js';

const POD: TracePacket = { src: '172.18.0.9', dst: '172.18.255.127', protocol: 'tcp', sport: 40000, dport: 80, from: 'pod' };

test('the path shows each rule as the dump wrote it, found again by grep (counters dropped)', () => {
  for (const file of ['nginx-current.nft.save.txt', 'nginx-current.nft.counters.save.txt', 'nginx-2018.legacy.save.txt']) {
    const text = fs.readFileSync(repoPath(`test/fixtures/dumps/${file}`), 'utf8');
    const lines = text.split('\n');
    const result = trace(programFromText(text, file), POD, { nodeIPs: [], ipsets: EMPTY_IPSETS });
    const steps = result.path.filter((s) => s.line !== null);
    assert.ok(steps.length >= 5, file);
    for (const step of steps) {
      const written = (lines[(step.line ?? 0) - 1] ?? '').replace(/^\[\d+:\d+\] /, '');
      assert.equal(step.rule, written, `${file} line ${step.line ?? ''}`);
    }
    // The SEP chains' comments are quoted in these dumps (iptables-save quotes every comment).
    assert.ok(steps.some((s) => /--comment "default\/nginx:?" /.test(s.rule)), file);
  }
});

test('restore input: -I rules and odd spacing are shown as written; the error names the rule as written', () => {
  const text = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':C-ONE - [0:0]',
    '-A PREROUTING   -d 10.96.0.1/32 -j C-ONE',
    '-I PREROUTING 1 -d 10.96.0.2/32 -m comment --comment "plain" -j ACCEPT',
    '-A C-ONE -m owner --uid-owner 0 -m comment --comment "other software" -j RETURN',
    'COMMIT',
    '',
  ].join('\n');
  const program = programFromText(text, 'restore');
  const pre = program.tables.get('nat')?.chains.get('PREROUTING')?.rules.map((r) => r.text);
  assert.deepEqual(pre, ['-I PREROUTING 1 -d 10.96.0.2/32 -m comment --comment "plain" -j ACCEPT', '-A PREROUTING   -d 10.96.0.1/32 -j C-ONE']);
  assert.throws(
    () => trace(program, { ...POD, dst: '10.96.0.1' }, { nodeIPs: [], ipsets: EMPTY_IPSETS }),
    (e: unknown) =>
      isKproxyError(e) &&
      e.code === 'E_TRACE' &&
      e.message.includes('line 6 (table nat, chain C-ONE)') &&
      e.message.includes('owner') &&
      e.message.endsWith('rule: -A C-ONE -m owner --uid-owner 0 -m comment --comment "other software" -j RETURN'),
  );
});

test('-m nfacct counts and always matches: hand-written rules', () => {
  const text = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', '-A FORWARD -d 10.96.0.1/32 -m nfacct --nfacct-name counted -j DROP', 'COMMIT', ''].join('\n');
  const program = programFromText(text, 'nfacct');
  const counted = trace(program, { ...POD, dst: '10.96.0.1' }, { nodeIPs: [], ipsets: EMPTY_IPSETS });
  assert.equal(counted.verdict, 'DROP');
  assert.deepEqual(counted.path.filter((s) => s.line === 5).map((s) => s.matched), [true]);
  const other = trace(program, { ...POD, dst: '10.96.0.2' }, { nodeIPs: [], ipsets: EMPTY_IPSETS });
  assert.equal(other.verdict, 'NO_SERVICE');
});

test('-m nfacct in a real node\'s dump: a node port on 127.0.0.1 (kube-proxy counts it) reaches the endpoints', () => {
  const file = 'sandbox-one-node.save.txt';
  const text = fs.readFileSync(repoPath(`test/fixtures/dumps/${file}`), 'utf8');
  const program = programFromText(text, file);
  const result = trace(program, { src: '127.0.0.1', dst: '127.0.0.1', protocol: 'tcp', sport: 40000, dport: 30000, from: 'node' }, { nodeIPs: ['198.51.100.2'], ipsets: EMPTY_IPSETS });
  const step = result.path.find((s) => s.rule.includes('--nfacct-name  localhost_nps_accepted_pkts') && s.rule.includes('--dport 30000'));
  assert.equal(step?.matched, true);
  assert.equal(result.verdict, 'DNAT');
  assert.ok(result.distribution.length > 0);
  assert.equal(result.distribution.reduce((sum, d) => sum + d.probability.toNumber(), 0).toFixed(12), '1.000000000000');
  assert.equal(result.masquerade, true);
});
