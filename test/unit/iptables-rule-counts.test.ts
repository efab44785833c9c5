import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleCounts } from '../../src/dataplanes/iptables/rule-counts.js';

test('rule counts follow --noflush: declared chains are refilled, others kept, -X deletes', () => {
  const counts = new RuleCounts();
  counts.apply(['*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-SVC-A - [0:0]', ':KUBE-SEP-1 - [0:0]',
    '-A KUBE-SERVICES -j KUBE-SVC-A', '-A KUBE-SVC-A -j KUBE-SEP-1', '-A KUBE-SEP-1 -j DNAT', '-A KUBE-SEP-1 -j MARK', 'COMMIT', ''].join('\n'));
  assert.deepEqual([...counts.totals()], [['nat', 4]]);
  // A partial sync rewrites KUBE-SERVICES only; KUBE-SVC-A and KUBE-SEP-1 keep their 3 rules.
  counts.apply(['*nat', ':KUBE-SERVICES - [0:0]', '-A KUBE-SERVICES -j KUBE-SVC-A', '-A KUBE-SERVICES -j X', 'COMMIT'].join('\n'));
  assert.deepEqual([...counts.totals()], [['nat', 5]]);
  counts.apply(['*nat', ':KUBE-SERVICES - [0:0]', ':KUBE-SEP-1 - [0:0]', ':KUBE-SVC-A - [0:0]', '-X KUBE-SEP-1', '-X KUBE-SVC-A', 'COMMIT'].join('\n'));
  assert.deepEqual([...counts.totals()], [['nat', 0]]);
});
