/**
 * The iptables mode's nfacct packet counters on /metrics, under kube-proxy's names: read at each
 * scrape, absent when the kernel object cannot be read.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxyMetrics } from '../../src/runtime/metrics.js';
import { parseNfacctPackets, registerNfacctCounters } from '../../src/runtime/nfacct-metrics.js';

test('the packet count is read from `nfacct get` output, for the named object only', () => {
  const out = '{ pkts = 00000000000000000042, bytes = 00000000000000004200 } = ct_state_invalid_dropped_pkts;\n';
  assert.equal(parseNfacctPackets(out, 'ct_state_invalid_dropped_pkts'), 42);
  assert.equal(parseNfacctPackets(out, 'localhost_nps_accepted_pkts'), null);
  assert.equal(parseNfacctPackets('nfacct v1.0.2: error: No such file or directory\n', 'x'), null);
});

test('each scrape publishes the current counts; an unreadable counter publishes no sample', async () => {
  const counts = new Map<string, number>([['ct_state_invalid_dropped_pkts', 7]]);
  const metrics = new ProxyMetrics();
  registerNfacctCounters(metrics, (name) => Promise.resolve(counts.get(name) ?? null));
  let text = await metrics.registry.metrics();
  assert.match(text, /# TYPE kubeproxy_iptables_ct_state_invalid_dropped_packets_total counter/);
  assert.match(text, /^kubeproxy_iptables_ct_state_invalid_dropped_packets_total 7$/m);
  assert.match(text, /# TYPE kubeproxy_iptables_localhost_nodeports_accepted_packets_total counter/);
  assert.doesNotMatch(text, /^kubeproxy_iptables_localhost_nodeports_accepted_packets_total /m);
  counts.set('ct_state_invalid_dropped_pkts', 9);
  counts.set('localhost_nps_accepted_pkts', 0);
  text = await metrics.registry.metrics();
  assert.match(text, /^kubeproxy_iptables_ct_state_invalid_dropped_packets_total 9$/m);
  assert.match(text, /^kubeproxy_iptables_localhost_nodeports_accepted_packets_total 0$/m);
});
