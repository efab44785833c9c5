/**
 * kubeproxy_sync_proxy_rules_no_local_endpoints_total{ip_family, traffic_policy}: the service
 * ports with a Local traffic policy that have endpoints, none on this node — the gauge every
 * kube-proxy mode sets after a sync (kproxy's userspace mode included).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildDesiredState } from '../../src/core/desired/build.js';
import { decodeObjects } from '../../src/core/k8s/decode.js';
import { DiagnosticSink } from '../../src/core/model/diagnostics.js';
import { ProxyMetrics, setNoLocalEndpoints } from '../../src/runtime/metrics.js';
import { NODE, TEST_CONFIG, service, slice } from './kube-fixtures.js';

type Obj = Record<string, unknown>;

function withSpec(svc: Obj, spec: Obj): Obj {
  return { ...svc, spec: { ...(svc['spec'] as Obj), ...spec } };
}

function elsewhere(s: Obj): Obj {
  const eps = s['endpoints'] as Obj[];
  return { ...s, endpoints: eps.map((e) => ({ ...e, nodeName: 'node-b' })) };
}

async function gaugeValues(objects: readonly Obj[]): Promise<Map<string, number>> {
  const sink = new DiagnosticSink();
  const decoded = decodeObjects(objects.map((value, i) => ({ source: { file: 't', document: i + 1 }, value })), sink);
  const state = buildDesiredState(decoded, TEST_CONFIG, 'IPv4', sink);
  const metrics = new ProxyMetrics();
  setNoLocalEndpoints(metrics, state);
  const { values } = await metrics.noLocalEndpoints.get();
  return new Map(values.map((v) => [`${String(v.labels.ip_family)} ${String(v.labels.traffic_policy)}`, v.value]));
}

test('Local policies whose endpoints are all on other nodes are counted, per policy', async () => {
  const values = await gaugeValues([
    // internalTrafficPolicy Local, endpoints elsewhere: counted as internal.
    withSpec(service('itp', '10.96.0.11'), { internalTrafficPolicy: 'Local' }),
    elsewhere(slice('itp', ['10.244.2.1'])),
    // externalTrafficPolicy Local on a NodePort, endpoints elsewhere: counted as external.
    withSpec(service('etp', '10.96.0.12'), { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 30080 }] }),
    elsewhere(slice('etp', ['10.244.2.2'])),
    // Local with a local endpoint: not counted.
    withSpec(service('local-ok', '10.96.0.13'), { internalTrafficPolicy: 'Local' }),
    slice('local-ok', ['10.244.1.3']),
    // Local without any endpoint: not counted (nothing to fall back from).
    withSpec(service('empty', '10.96.0.14'), { internalTrafficPolicy: 'Local' }),
    // Cluster policy, endpoints elsewhere: not counted.
    service('cluster', '10.96.0.15'),
    elsewhere(slice('cluster', ['10.244.2.5'])),
  ]);
  assert.equal(NODE, TEST_CONFIG.nodeName);
  assert.deepEqual(Object.fromEntries(values), { 'IPv4 internal': 1, 'IPv4 external': 1 });
});

test('with nothing to report both series are present at 0', async () => {
  const values = await gaugeValues([service('cluster', '10.96.0.15'), slice('cluster', ['10.244.1.5'])]);
  assert.deepEqual(Object.fromEntries(values), { 'IPv4 internal': 0, 'IPv4 external': 0 });
});
