import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProxyHealth, rfc3339Nano } from '../../src/runtime/health.js';
import { ProxyMetrics } from '../../src/runtime/metrics.js';
import { startHealthServer, startMetricsServer } from '../../src/runtime/http-servers.js';
import { parseBindAddress } from '../../src/runtime/bind-address.js';

test('RFC3339Nano drops trailing zeros like Go', () => {
  assert.equal(rfc3339Nano(new Date('2025-06-01T10:00:00.500Z')), '2025-06-01T10:00:00.5Z');
  assert.equal(rfc3339Nano(new Date('2025-06-01T10:00:00.000Z')), '2025-06-01T10:00:00Z');
});

test('a family is unhealthy once a queued update waited longer than the timeout', () => {
  let now = new Date('2025-01-01T00:00:00Z');
  const h = new ProxyHealth(['IPv4'], 60_000, () => now);
  assert.equal(h.report().healthy, true);
  h.queuedUpdate('IPv4');
  now = new Date('2025-01-01T00:00:59Z');
  assert.equal(h.report().healthy, true);
  h.queuedUpdate('IPv4'); // does not reset the oldest pending time
  now = new Date('2025-01-01T00:01:01Z');
  assert.equal(h.report().healthy, false);
  h.updated('IPv4');
  assert.equal(h.report().healthy, true);
  assert.equal(h.report().status['IPv4']?.lastUpdated, '2025-01-01T00:01:01Z');
});

test('bind addresses', () => {
  assert.deepEqual(parseBindAddress('--x', '0.0.0.0:10256'), { host: '0.0.0.0', port: 10256 });
  assert.deepEqual(parseBindAddress('--x', '[::1]:10249'), { host: '::1', port: 10249 });
  assert.equal(parseBindAddress('--x', ''), null);
  assert.throws(() => parseBindAddress('--x', 'nope'), /--x/);
});

test('health and metrics servers answer with kube-proxy paths, codes and headers', async () => {
  const metrics = new ProxyMetrics();
  let now = new Date('2025-01-01T00:00:00Z');
  const health = new ProxyHealth(['IPv4'], 60_000, () => now);
  const hs = await startHealthServer({ host: '127.0.0.1', port: 0 }, health, metrics);
  const ms = await startMetricsServer({ host: '127.0.0.1', port: 0 }, metrics, 'iptables');
  try {
    const base = `http://127.0.0.1:${hs.address.port}`;
    let r = await fetch(`${base}/healthz`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    const body = (await r.json()) as Record<string, unknown>;
    assert.equal(body['nodeEligible'], true);
    assert.equal(body['healthy'], true);
    health.queuedUpdate('IPv4');
    now = new Date('2025-01-01T00:02:00Z');
    r = await fetch(`${base}/livez`);
    assert.equal(r.status, 503);
    health.nodeEligible = false;
    health.updated('IPv4');
    assert.equal((await fetch(`${base}/livez`)).status, 200);
    assert.equal((await fetch(`${base}/healthz`)).status, 503);
    assert.equal((await fetch(`${base}/other`)).status, 404);
    const mbase = `http://127.0.0.1:${ms.address.port}`;
    assert.equal(await (await fetch(`${mbase}/proxyMode`)).text(), 'iptables');
    const text = await (await fetch(`${mbase}/metrics`)).text();
    assert.match(text, /kubeproxy_proxy_healthz_total\{code="503"\} 1/);
    assert.match(text, /kubeproxy_proxy_livez_total\{code="503"\} 1/);
    assert.match(text, /# TYPE kubeproxy_sync_proxy_rules_duration_seconds histogram/);
  } finally {
    await hs.close();
    await ms.close();
  }
});
