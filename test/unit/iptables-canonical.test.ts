/** kube-proxy's canonical sort (its TestSortIPTablesRules cases, reference §5.12). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalizeRuleset } from '../../src/dataplanes/iptables/canonical.js';
import type { Ruleset } from '../../src/dataplanes/iptables/model.js';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import { serializeRuleset } from '../../src/dataplanes/iptables/serialize.js';
import { dedent } from './iptables-helpers.js';

function sortText(text: string): string {
  const parsed = parseIptables(text);
  const ruleset: Ruleset = { tables: parsed.tables.map((t) => ({ ...t, rules: t.rules.map((r) => ({ chain: r.chain, words: r.words })) })) };
  return serializeRuleset(canonicalizeRuleset(ruleset));
}

test('same service name in different styles of comments (kube-proxy case)', () => {
  const input = dedent(`
    *filter
    COMMIT
    *nat
    :KUBE-SERVICES - [0:0]
    -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -j svc2-line-1
    -A KUBE-SERVICES -m comment --comment ns2/svc2 -j svc2-line-2
    -A KUBE-SERVICES -m comment --comment "ns2/svc2 blah" -j svc2-line-3
    -A KUBE-SERVICES -m comment --comment "ns1/svc1:p80 cluster IP" -j svc1-line-1
    -A KUBE-SERVICES -m comment --comment ns1/svc1 -j svc1-line-2
    -A KUBE-SERVICES -m comment --comment "ns1/svc1 blah" -j svc1-line-3
    -A KUBE-SERVICES -m comment --comment ns4/svc4 -j svc4-line-1
    -A KUBE-SERVICES -m comment --comment "ns4/svc4:p80 cluster IP" -j svc4-line-2
    -A KUBE-SERVICES -m comment --comment "ns4/svc4 blah" -j svc4-line-3
    -A KUBE-SERVICES -m comment --comment "ns3/svc3:p80 cluster IP" -j svc3-line-1
    -A KUBE-SERVICES -m comment --comment "ns3/svc3 blah" -j svc3-line-2
    -A KUBE-SERVICES -m comment --comment ns3/svc3 -j svc3-line-3
    COMMIT
  `);
  const order = sortText(input)
    .split('\n')
    .filter((l) => l.startsWith('-A'))
    .map((l) => l.split(' -j ')[1]);
  assert.deepEqual(order, [
    'svc1-line-1', 'svc1-line-2', 'svc1-line-3', 'svc2-line-1', 'svc2-line-2', 'svc2-line-3',
    'svc3-line-1', 'svc3-line-2', 'svc3-line-3', 'svc4-line-1', 'svc4-line-2', 'svc4-line-3',
  ]);
});

test('unexpected chains are kept and sorted (kube-proxy case "unexpected junk lines are preserved")', () => {
  const input = dedent(`
    *filter
    COMMIT
    *nat
    :KUBE-SERVICES - [0:0]
    :KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
    :KUBE-AAAAA - [0:0]
    :KUBE-ZZZZZ - [0:0]
    :WHY-IS-THIS-CHAIN-HERE - [0:0]
    -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -j X
    -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
    -A KUBE-ZZZZZ -m comment --comment "mystery chain number 1"
    -A KUBE-SERVICES -m comment --comment ns2/svc2 -j Y
    -A WHY-IS-THIS-CHAIN-HERE -j ACCEPT
    -A KUBE-SERVICES -m comment --comment "ns2/svc2 blah" -j Z
    -A KUBE-AAAAA -m comment --comment "mystery chain number 2"
    COMMIT
  `);
  assert.equal(
    sortText(input),
    dedent(`
      *filter
      COMMIT
      *nat
      :KUBE-SERVICES - [0:0]
      :KUBE-AAAAA - [0:0]
      :KUBE-SEP-RS4RBKLTHTF2IUXJ - [0:0]
      :KUBE-ZZZZZ - [0:0]
      :WHY-IS-THIS-CHAIN-HERE - [0:0]
      -A KUBE-SERVICES -m comment --comment "ns2/svc2:p80 cluster IP" -j X
      -A KUBE-SERVICES -m comment --comment ns2/svc2 -j Y
      -A KUBE-SERVICES -m comment --comment "ns2/svc2 blah" -j Z
      -A KUBE-AAAAA -m comment --comment "mystery chain number 2"
      -A KUBE-SEP-RS4RBKLTHTF2IUXJ -m comment --comment ns2/svc2:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.2:80
      -A KUBE-ZZZZZ -m comment --comment "mystery chain number 1"
      -A WHY-IS-THIS-CHAIN-HERE -j ACCEPT
      COMMIT
    `),
  );
});

test('tables by name, NODEPORTS and SERVICES first, the nodeports jump last, deletions at the end', () => {
  const input = dedent(`
    *nat
    :KUBE-SERVICES - [0:0]
    :KUBE-NODEPORTS - [0:0]
    :KUBE-SVC-B - [0:0]
    :KUBE-SVC-A - [0:0]
    -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -j KUBE-NODEPORTS
    -A KUBE-SERVICES -m comment --comment "b/b cluster IP" -j KUBE-SVC-B
    -A KUBE-NODEPORTS -m comment --comment z/z -j KUBE-SVC-B
    -A KUBE-NODEPORTS -m comment --comment a/a -j KUBE-SVC-A
    -X KUBE-SVC-B
    -X KUBE-SVC-A
    COMMIT
    *filter
    :KUBE-FORWARD - [0:0]
    COMMIT
  `);
  assert.equal(
    sortText(input),
    dedent(`
      *filter
      :KUBE-FORWARD - [0:0]
      COMMIT
      *nat
      :KUBE-NODEPORTS - [0:0]
      :KUBE-SERVICES - [0:0]
      :KUBE-SVC-A - [0:0]
      :KUBE-SVC-B - [0:0]
      -A KUBE-NODEPORTS -m comment --comment a/a -j KUBE-SVC-A
      -A KUBE-NODEPORTS -m comment --comment z/z -j KUBE-SVC-B
      -A KUBE-SERVICES -m comment --comment "b/b cluster IP" -j KUBE-SVC-B
      -A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -j KUBE-NODEPORTS
      -X KUBE-SVC-A
      -X KUBE-SVC-B
      COMMIT
    `),
  );
});
