/**
 * The health and metrics servers answer as kube-proxy's Go servers do for short bodies: one
 * response with a Content-Length (no chunked encoding), /proxyMode's body exactly the mode.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { ProxyHealth } from '../../src/runtime/health.js';
import { startHealthServer, startMetricsServer } from '../../src/runtime/http-servers.js';
import { ProxyMetrics } from '../../src/runtime/metrics.js';

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

function get(port: number, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

function assertFramed(r: Reply, what: string): void {
  assert.equal(r.headers['transfer-encoding'], undefined, `${what}: not chunked`);
  assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.body)), `${what}: Content-Length`);
}

test('health and metrics responses carry a Content-Length', async () => {
  const metrics = new ProxyMetrics();
  const hs = await startHealthServer({ host: '127.0.0.1', port: 0 }, new ProxyHealth(['IPv4'], 60_000), metrics);
  const ms = await startMetricsServer({ host: '127.0.0.1', port: 0 }, metrics, 'userspace');
  try {
    for (const path of ['/healthz', '/livez', '/nope']) assertFramed(await get(hs.address.port, path), `health server ${path}`);
    const mode = await get(ms.address.port, '/proxyMode');
    assert.equal(mode.body, 'userspace');
    assert.equal(mode.headers['content-type'], 'text/plain; charset=utf-8');
    assertFramed(mode, '/proxyMode');
    for (const path of ['/healthz', '/nope']) assertFramed(await get(ms.address.port, path), `metrics server ${path}`);
  } finally {
    await hs.close();
    await ms.close();
  }
});
