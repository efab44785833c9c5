/** checkConsistency: what iptables-restore would refuse (kube-proxy's checkIPTablesRuleJumps cases). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkConsistency } from '../../src/dataplanes/iptables/consistency.js';
import type { Ruleset } from '../../src/dataplanes/iptables/model.js';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import { dedent } from './iptables-helpers.js';

function messages(text: string, existing?: Record<string, string[]>): string[] {
  const ruleset: Ruleset = parseIptables(dedent(text));
  return checkConsistency(ruleset, existing === undefined ? {} : { existingChains: existing }).map(
    (p) => `${p.table} ${p.chain}: ${p.message}`,
  );
}

test('a consistent ruleset has no problems', () => {
  assert.deepEqual(
    messages(`
      *nat
      :KUBE-MARK-MASQ - [0:0]
      :KUBE-SERVICES - [0:0]
      :KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]
      -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
      -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 10.20.30.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
      -A KUBE-SVC-XPGD46QRK7WJZT7O -m tcp -p tcp -d 10.20.30.41 --dport 80 ! -s 10.0.0.0/24 -j KUBE-MARK-MASQ
      -A PREROUTING -j KUBE-SERVICES
      COMMIT
    `),
    [],
  );
});

test("a jump to a chain that wasn't created", () => {
  assert.deepEqual(
    messages(`
      *nat
      :KUBE-SERVICES - [0:0]
      -A KUBE-SERVICES -m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-SVC-XPGD46QRK7WJZT7O
      COMMIT
    `),
    ['nat KUBE-SERVICES: jump to KUBE-SVC-XPGD46QRK7WJZT7O, which does not exist'],
  );
});

test("rules added to a chain that wasn't created, unless it exists already", () => {
  const text = `
    *nat
    :KUBE-MARK-MASQ - [0:0]
    -A KUBE-SVC-XPGD46QRK7WJZT7O -j KUBE-MARK-MASQ
    COMMIT
  `;
  assert.deepEqual(messages(text), ['nat KUBE-SVC-XPGD46QRK7WJZT7O: rule appended to a chain that does not exist']);
  assert.deepEqual(messages(text, { nat: ['KUBE-SVC-XPGD46QRK7WJZT7O'] }), []);
});

test('a double declaration', () => {
  const chain = { name: 'KUBE-SERVICES', policy: '-', counters: [0, 0] as const };
  const ruleset: Ruleset = { tables: [{ name: 'nat', chains: [chain, chain], rules: [], deletedChains: [] }] };
  assert.deepEqual(checkConsistency(ruleset).map((p) => p.message), ['declared twice']);
});

test('a deleted chain still referenced, a deletion without flush, an over-long name', () => {
  assert.deepEqual(
    messages(`
      *nat
      :KUBE-SERVICES - [0:0]
      :KUBE-SEP-OLD - [0:0]
      :KUBE-THIS-CHAIN-NAME-IS-FAR-TOO-LONG - [0:0]
      -A KUBE-SERVICES -j KUBE-SEP-OLD
      -X KUBE-SEP-OLD
      -X KUBE-SEP-NEVER-DECLARED
      COMMIT
    `),
    [
      'nat KUBE-THIS-CHAIN-NAME-IS-FAR-TOO-LONG: name longer than 28 characters',
      'nat KUBE-SEP-NEVER-DECLARED: deleted without being declared (flushed) first',
      'nat KUBE-SERVICES: jump to KUBE-SEP-OLD, which does not exist',
    ],
  );
});
