/** The in-memory iptables: --noflush restore semantics, atomicity, -X rules, single-rule calls. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeIptables } from '../../src/runtime/fakes/iptables.js';
import { dedent } from './iptables-helpers.js';

const BASE = dedent(`
  *nat
  :KUBE-SERVICES - [0:0]
  :KUBE-SVC-A - [0:0]
  :KUBE-SEP-A - [0:0]
  -A KUBE-SERVICES -d 10.0.0.1 -j KUBE-SVC-A
  -A KUBE-SVC-A -j KUBE-SEP-A
  -A KUBE-SEP-A -j DNAT --to-destination 10.1.1.1:80
  COMMIT
`);

test('--noflush keeps chains the input does not mention and flushes the ones it declares', () => {
  const ipt = new FakeIptables();
  ipt.restoreText(BASE);
  ipt.appendRule('nat', 'POSTROUTING', ['-j', 'MASQUERADE']);
  ipt.restoreText('*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -d 10.0.0.2 -j KUBE-SVC-A\nCOMMIT\n');
  assert.deepEqual(ipt.rules('nat', 'KUBE-SERVICES'), [['-d', '10.0.0.2', '-j', 'KUBE-SVC-A']]);
  assert.equal(ipt.rules('nat', 'KUBE-SEP-A').length, 1);
  assert.deepEqual(ipt.rules('nat', 'POSTROUTING'), [['-j', 'MASQUERADE']]);
});

test('without --noflush the table is replaced', () => {
  const ipt = new FakeIptables();
  ipt.restoreText(BASE);
  ipt.restoreText('*nat\n:KUBE-OTHER - [0:0]\nCOMMIT\n', { noflush: false });
  assert.deepEqual(ipt.chainNames('nat').sort(), ['INPUT', 'KUBE-OTHER', 'OUTPUT', 'POSTROUTING', 'PREROUTING']);
});

test('-X of a referenced chain fails and nothing of the transaction is applied', () => {
  const ipt = new FakeIptables();
  ipt.restoreText(BASE);
  const before = JSON.stringify(ipt.save());
  assert.throws(
    () => ipt.restoreText('*filter\n:KUBE-FORWARD - [0:0]\nCOMMIT\n*nat\n:KUBE-SEP-A - [0:0]\n-X KUBE-SEP-A\nCOMMIT\n'),
    (err: unknown) => err instanceof Error && /KUBE-SEP-A.*deleted while still referenced/.test(err.message),
  );
  assert.equal(JSON.stringify(ipt.save()), before);
  assert.ok(!ipt.hasChain('filter', 'KUBE-FORWARD'));
});

test('-X of a chain with rules, of a missing chain, a jump to nowhere, a rule for a missing chain', () => {
  const ipt = new FakeIptables();
  ipt.restoreText(BASE);
  assert.throws(() => ipt.restoreText('*nat\n-X KUBE-SEP-A\nCOMMIT\n'), /not empty/);
  assert.throws(() => ipt.restoreText('*nat\n:KUBE-X - [0:0]\n-X KUBE-Y\nCOMMIT\n'), /no such chain/);
  assert.throws(() => ipt.restoreText('*nat\n:KUBE-X - [0:0]\n-A KUBE-X -j KUBE-NOWHERE\nCOMMIT\n'), /does not exist/);
  assert.throws(() => ipt.restoreText('*nat\n-A KUBE-MISSING -j ACCEPT\nCOMMIT\n'), /does not exist/);
  const withPolicy = { name: 'KUBE-X', policy: 'ACCEPT', counters: null };
  assert.throws(() => ipt.restore({ tables: [{ name: 'nat', chains: [withPolicy], rules: [], deletedChains: [] }] }), /cannot have policy/);
});

test('flush then delete in one transaction works when nothing refers to the chain', () => {
  const ipt = new FakeIptables();
  ipt.restoreText(BASE);
  ipt.restoreText('*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-A - [0:0]\n:KUBE-SEP-A - [0:0]\n-X KUBE-SVC-A\n-X KUBE-SEP-A\nCOMMIT\n');
  assert.ok(!ipt.hasChain('nat', 'KUBE-SVC-A'));
  assert.ok(!ipt.hasChain('nat', 'KUBE-SEP-A'));
});

test('jump rules: -N, -C, -I at position 1, -D', () => {
  const ipt = new FakeIptables();
  ipt.ensureChain('filter', 'KUBE-A');
  ipt.ensureChain('filter', 'KUBE-B');
  ipt.ensureChain('filter', 'KUBE-A');
  ipt.appendRule('filter', 'INPUT', ['-j', 'ACCEPT']);
  ipt.insertRule('filter', 'INPUT', ['-j', 'KUBE-A']);
  ipt.insertRule('filter', 'INPUT', ['-j', 'KUBE-B']);
  assert.ok(ipt.checkRule('filter', 'INPUT', ['-j', 'KUBE-A']));
  assert.deepEqual(ipt.rules('filter', 'INPUT'), [['-j', 'KUBE-B'], ['-j', 'KUBE-A'], ['-j', 'ACCEPT']]);
  ipt.deleteRule('filter', 'INPUT', ['-j', 'KUBE-A']);
  assert.ok(!ipt.checkRule('filter', 'INPUT', ['-j', 'KUBE-A']));
  assert.throws(() => ipt.insertRule('filter', 'INPUT', ['-j', 'KUBE-NONE']), /does not exist/);
});
