/** Probabilities, marks and local-traffic matches, spelled as kube-proxy spells them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatMark, ifLocal, ifNotLocal, probability } from '../../src/dataplanes/iptables/words.js';

test('probabilities as Go %0.10f of 1/n (kube-proxy TestComputeProbability)', () => {
  const expected: Record<number, string> = {
    1: '1.0000000000', 2: '0.5000000000', 3: '0.3333333333', 10: '0.1000000000', 100: '0.0100000000',
    1000: '0.0010000000', 10000: '0.0001000000', 100000: '0.0000100000', 100001: '0.0000099999',
  };
  for (const [n, p] of Object.entries(expected)) assert.equal(probability(Number(n)), p, `n=${n}`);
  let previous = 0;
  for (let n = 100000; n > 1; n--) {
    const p = Number(probability(n));
    assert.ok(p > previous, `probability(${n}) must grow as n shrinks`);
    previous = p;
  }
});

test('exact ties round to even as Go does (1/2048 = 0.00048828125)', () => {
  assert.equal(probability(2048), '0.0004882812');
  assert.equal(probability(4096), '0.0002441406');
  assert.equal(probability(16384), '0.0000610352');
});

test('masquerade mark is Go %#08x: zero-padded to 8 digits after 0x', () => {
  assert.equal(formatMark(1 << 14), '0x00004000');
  assert.equal(formatMark(1), '0x00000001');
  assert.equal(formatMark(2 ** 31), '0x80000000');
});

test('local traffic detector matches', () => {
  assert.deepEqual(ifNotLocal({ kind: 'cidr', cidr: '10.0.0.0/8' }), ['!', '-s', '10.0.0.0/8']);
  assert.deepEqual(ifLocal({ kind: 'cidr', cidr: '10.0.0.0/8' }), ['-s', '10.0.0.0/8']);
  assert.deepEqual(ifNotLocal({ kind: 'bridge', iface: 'cbr0' }), ['!', '-i', 'cbr0']);
  assert.deepEqual(ifLocal({ kind: 'prefix', prefix: 'veth' }), ['-i', 'veth+']);
});
