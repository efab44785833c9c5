/**
 * The health-check node port servers of externalTrafficPolicy: Local LoadBalancer Services:
 * which Services get one and with what count (from the desired state), kube-proxy's body,
 * headers and 200/503 rules, listeners following the Services, and a busy port reported and
 * retried.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { buildDesiredState } from '../../src/core/desired/build.js';
import { healthCheckTargets } from '../../src/core/desired/health-check-ports.js';
import { decodeObjects } from '../../src/core/k8s/decode.js';
import { DiagnosticSink } from '../../src/core/model/diagnostics.js';
import { ApiSource } from '../../src/daemon/api-source.js';
import { Proxier } from '../../src/daemon/proxier.js';
import { ProxyHealth } from '../../src/runtime/health.js';
import { loadKubeConfig } from '../../src/runtime/kube/kubeconfig.js';
import { HttpKubeClient } from '../../src/runtime/kube/transport.js';
import { ProxyMetrics } from '../../src/runtime/metrics.js';
import { ServiceHealthServer } from '../../src/runtime/service-health.js';
import { FakeApiServer } from '../helpers/fake-apiserver.js';
import { privateLoopbackIP, quietPort } from '../helpers/ports.js';
import { MemoryLog, NODE, RenderingSyncer, TEST_CONFIG, TEST_TIMING, eventually, node, service, slice } from './kube-fixtures.js';

type Obj = Record<string, unknown>;

/**
 * A health-check port and the address to serve it on: one that no other socket takes while the
 * test opens, closes and reopens it (a port closed after listen(0) could be taken by any socket).
 */
async function freePort(): Promise<{ ip: string; port: number }> {
  const ip = privateLoopbackIP();
  return { ip, port: await quietPort(ip) };
}

function localLB(name: string, hcPort: number, policy: 'Local' | 'Cluster' = 'Local'): Obj {
  const svc = service(name, '10.96.0.20');
  const spec = svc['spec'] as Obj;
  Object.assign(spec, { type: 'LoadBalancer', externalTrafficPolicy: policy, healthCheckNodePort: hcPort });
  spec['ports'] = [
    { name: 'http', protocol: 'TCP', port: 80, targetPort: 8080, nodePort: 31080 },
    { name: 'https', protocol: 'TCP', port: 443, targetPort: 8443, nodePort: 31443 },
  ];
  return svc;
}

function endpoints(name: string, eps: readonly { ip: string; node: string; ready?: boolean; terminating?: boolean }[]): Obj {
  const s = slice(name, []);
  s['ports'] = [
    { name: 'http', protocol: 'TCP', port: 8080 },
    { name: 'https', protocol: 'TCP', port: 8443 },
  ];
  s['endpoints'] = eps.map((e) => ({
    addresses: [e.ip],
    nodeName: e.node,
    conditions: { ready: e.ready ?? true, serving: true, terminating: e.terminating ?? false },
  }));
  return s;
}

test('health-check targets: LoadBalancer + Local only, distinct ready local endpoint IPs across ports', () => {
  const sink = new DiagnosticSink();
  const objects = decodeObjects(
    [
      localLB('lb', 32000),
      endpoints('lb', [
        { ip: '10.244.1.5', node: NODE },
        { ip: '10.244.1.6', node: NODE },
        { ip: '10.244.1.7', node: NODE, ready: false, terminating: true },
        { ip: '10.244.2.5', node: 'node-b' },
      ]),
      { ...localLB('cluster', 32001, 'Cluster'), metadata: { namespace: 'default', name: 'cluster' } },
    ].map((value, i) => ({ source: { file: 't', document: i + 1 }, value })),
    sink,
  );
  const state = buildDesiredState(objects, TEST_CONFIG, 'IPv4', sink);
  assert.deepEqual(healthCheckTargets([state]), [{ namespace: 'default', name: 'lb', port: 32000, localEndpoints: 2 }]);
});

test('the health-check server answers any path and method with kube-proxy\'s body, headers and codes', async () => {
  const { ip, port } = await freePort();
  let healthy = true;
  const log = new MemoryLog();
  const server = new ServiceHealthServer({ nodeName: NODE, proxyHealthy: () => healthy, log });
  try {
    await server.sync([{ namespace: 'default', name: 'nginx', port, localEndpoints: 1 }], [ip]);
    const r = await fetch(`http://${ip}:${port}/any/path?x=1`, { method: 'POST', body: 'ignored' });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(r.headers.get('x-load-balancing-endpoint-weight'), '1');
    assert.equal(
      await r.text(),
      '{\n\t"service": {\n\t\t"namespace": "default",\n\t\t"name": "nginx"\n\t},\n\t"localEndpoints": 1,\n\t"serviceProxyHealthy": true\n}',
    );
    healthy = false;
    const sick = await fetch(`http://${ip}:${port}/`);
    assert.equal(sick.status, 503);
    assert.match(await sick.text(), /"serviceProxyHealthy": false/);
    healthy = true;
    await server.sync([{ namespace: 'default', name: 'nginx', port, localEndpoints: 0 }], [ip]);
    const none = await fetch(`http://${ip}:${port}/`);
    assert.equal(none.status, 503);
    assert.equal(none.headers.get('x-load-balancing-endpoint-weight'), '0');
    await none.text();
    await server.sync([], [ip]);
    await assert.rejects(fetch(`http://${ip}:${port}/`));
  } finally {
    await server.close();
  }
});

test('a busy health-check port is reported with kube-proxy\'s message and tried again at the next sync', async () => {
  const { ip, port } = await freePort();
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(port, ip, () => r()));
  const log = new MemoryLog();
  const server = new ServiceHealthServer({ nodeName: NODE, proxyHealthy: () => true, log });
  try {
    const target = { namespace: 'default', name: 'web', port, localEndpoints: 2 };
    await server.sync([target], [ip]);
    assert.match(log.lines.join('\n'), new RegExp(`node ${NODE} failed to start healthcheck "default/web" on port ${port}: .*EADDRINUSE`));
    assert.equal(server.listening().size, 0);
    await new Promise<void>((r) => blocker.close(() => r()));
    await server.sync([target], [ip]);
    assert.equal(server.listening().get('default/web'), port);
    assert.equal((await fetch(`http://${ip}:${port}/`)).headers.get('x-load-balancing-endpoint-weight'), '2');
  } finally {
    await server.close();
  }
});

test('after each sync the listeners follow the Services from the API', async () => {
  const api = await FakeApiServer.start();
  const { ip, port } = await freePort();
  const log = new MemoryLog();
  const health = new ProxyHealth(['IPv4'], 60_000);
  const hc = new ServiceHealthServer({ nodeName: NODE, proxyHealthy: () => health.report().healthy, log });
  const source = new ApiSource({
    client: new HttpKubeClient(loadKubeConfig({ kubeconfig: '', master: api.url })),
    nodeName: NODE,
    serviceProxyName: '',
    log,
    timing: TEST_TIMING,
  });
  const proxier = new Proxier({
    config: { ...TEST_CONFIG, nodePortAddresses: ['127.0.0.0/8'], nodeIPs: [ip] },
    syncers: [new RenderingSyncer()],
    source,
    log,
    metrics: new ProxyMetrics(),
    health,
    afterSync: (states) => hc.syncStates(states),
  });
  const weight = async (): Promise<string | null> => {
    try {
      return (await fetch(`http://${ip}:${port}/`)).headers.get('x-load-balancing-endpoint-weight');
    } catch {
      return null;
    }
  };
  try {
    api.apply(node(NODE));
    api.apply(localLB('lb', port));
    api.apply(endpoints('lb', [{ ip: '10.244.1.5', node: NODE }]));
    await proxier.start();
    await proxier.whenSynced();
    assert.equal(await weight(), '1');
    api.apply(endpoints('lb', [{ ip: '10.244.1.5', node: NODE }, { ip: '10.244.1.6', node: NODE }, { ip: '10.244.2.9', node: 'other' }]));
    let w: string | null = null;
    await eventually('the new weight', () => {
      void weight().then((x) => (w = x));
      return w === '2';
    });
    api.delete('Service', 'default', 'lb');
    await eventually('the listener closed', () => hc.listening().size === 0);
    assert.equal(await weight(), null);
  } finally {
    await proxier.stop();
    await hc.close();
    await api.close();
  }
});
