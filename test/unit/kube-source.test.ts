/**
 * The API source against the fake API server, through the daemon's real path (list+watch →
 * decode → desired state → rendered iptables-restore text): changes reach the rules, a relist
 * after 410 converges, a dropped connection loses nothing, a stalled watch is restarted, the
 * first sync waits for every list, and the rules stay while the server is away.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { buildDesiredState } from '../../src/core/desired/build.js';
import { decodeObjects } from '../../src/core/k8s/decode.js';
import { DiagnosticSink } from '../../src/core/model/diagnostics.js';
import { FULL_SYNC } from '../../src/dataplanes/api.js';
import { FRESH_CURRENT_NODE } from '../../src/dataplanes/iptables/host.js';
import { renderIptablesText } from '../../src/dataplanes/iptables/render.js';
import { ApiSource } from '../../src/daemon/api-source.js';
import { Proxier } from '../../src/daemon/proxier.js';
import { ProxyHealth } from '../../src/runtime/health.js';
import { loadKubeConfig } from '../../src/runtime/kube/kubeconfig.js';
import { listOnce } from '../../src/runtime/kube/list.js';
import { proxyResources } from '../../src/runtime/kube/resources.js';
import { HttpKubeClient } from '../../src/runtime/kube/transport.js';
import { ProxyMetrics } from '../../src/runtime/metrics.js';
import { FakeApiServer } from '../helpers/fake-apiserver.js';
import { MemoryLog, NODE, RenderingSyncer, TEST_CONFIG, TEST_TIMING, eventually, node, service, slice } from './kube-fixtures.js';

interface Harness {
  readonly api: FakeApiServer;
  readonly source: ApiSource;
  readonly proxier: Proxier;
  readonly syncer: RenderingSyncer;
  readonly health: ProxyHealth;
  readonly log: MemoryLog;
}

const running: Harness[] = [];

afterEach(async () => {
  for (const h of running.splice(0)) {
    await h.proxier.stop();
    await h.api.close();
  }
});

async function harness(seed: (api: FakeApiServer) => void = () => undefined, start = true, timing = TEST_TIMING): Promise<Harness> {
  const api = await FakeApiServer.start();
  seed(api);
  const client = new HttpKubeClient(loadKubeConfig({ kubeconfig: '', master: api.url }));
  const log = new MemoryLog();
  const source = new ApiSource({ client, nodeName: NODE, serviceProxyName: '', log, timing });
  const syncer = new RenderingSyncer();
  const health = new ProxyHealth(['IPv4'], 60_000);
  const proxier = new Proxier({ config: TEST_CONFIG, syncers: [syncer], source, log, metrics: new ProxyMetrics(), health });
  const h = { api, source, proxier, syncer, health, log };
  running.push(h);
  if (start) {
    await proxier.start();
    await proxier.whenSynced();
  }
  return h;
}

/** What kproxy renders for the server's current objects, listed afresh. */
async function renderedFromScratch(api: FakeApiServer): Promise<string> {
  const client = new HttpKubeClient(loadKubeConfig({ kubeconfig: '', master: api.url }));
  const docs = await listOnce(client, proxyResources('', NODE));
  const objects = decodeObjects(docs, new DiagnosticSink());
  const state = buildDesiredState(objects, TEST_CONFIG, 'IPv4', new DiagnosticSink());
  return renderIptablesText({ state, scope: FULL_SYNC, host: FRESH_CURRENT_NODE });
}

function seedWeb(api: FakeApiServer): void {
  api.apply(node(NODE));
  api.apply(service('web', '10.96.0.10'));
  api.apply(slice('web', ['10.244.1.5']));
}

test('added, changed and deleted Services and EndpointSlices reach the rendered rules', async () => {
  const { api, syncer } = await harness(seedWeb);
  assert.match(syncer.last, /-d 10\.96\.0\.10 --dport 80 .*KUBE-SVC-/);
  assert.match(syncer.last, /DNAT --to-destination 10\.244\.1\.5:8080/);

  api.apply(service('api', '10.96.0.20', { port: 443 }));
  api.apply(slice('api', ['10.244.1.7']));
  await eventually('the added service', () => /DNAT --to-destination 10\.244\.1\.7:8080/.test(syncer.last));
  assert.match(syncer.last, /-d 10\.96\.0\.20 --dport 443/);

  api.apply(slice('web', ['10.244.1.6', '10.244.1.9']));
  await eventually('the changed slice', () => /10\.244\.1\.9:8080/.test(syncer.last));
  assert.doesNotMatch(syncer.last, /10\.244\.1\.5:8080/);
  assert.match(syncer.last, /10\.244\.1\.6:8080/);

  api.apply(service('web', '10.96.0.10', { port: 8000 }));
  await eventually('the changed service port', () => /-d 10\.96\.0\.10 --dport 8000/.test(syncer.last));
  assert.doesNotMatch(syncer.last, /-d 10\.96\.0\.10 --dport 80 /);

  api.delete('EndpointSlice', 'default', 'api-abc');
  await eventually('the deleted slice', () => !/10\.244\.1\.7:8080/.test(syncer.last));
  assert.match(syncer.last, /default\/api:http has no endpoints/);

  api.delete('Service', 'default', 'api');
  await eventually('the deleted service', () => !/default\/api:http/.test(syncer.last));
  assert.equal(syncer.last, await renderedFromScratch(api));
});

test('objects for another proxy or headless are filtered by the API server, with kube-proxy\'s selectors', async () => {
  const { api, syncer } = await harness((a) => {
    seedWeb(a);
    a.apply(service('other', '10.96.0.30', { labels: { 'service.kubernetes.io/service-proxy-name': 'foo' } }));
    a.apply(slice('other', ['10.244.1.30'], { labels: { 'service.kubernetes.io/service-proxy-name': 'foo' } }));
    a.apply(node('node-b'));
  });
  assert.doesNotMatch(syncer.last, /10\.96\.0\.30|10\.244\.1\.30/);
  const services = api.listRequests('/api/v1/services')[0];
  assert.equal(services?.query['labelSelector'], '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless');
  await eventually('watches open', () => api.openWatches === 3);
  const watch = api.watchRequests('/apis/discovery.k8s.io/v1/endpointslices')[0]?.query ?? {};
  assert.equal(watch['labelSelector'], '!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless');
  assert.equal(watch['allowWatchBookmarks'], 'true');
  const nodes = api.listRequests('/api/v1/nodes')[0];
  assert.equal(nodes?.query['fieldSelector'], `metadata.name=${NODE}`);
  // A label change that takes a Service out of the selector removes it, as a deletion would.
  api.apply(service('web', '10.96.0.10', { labels: { 'service.kubernetes.io/service-proxy-name': 'foo' } }));
  await eventually('the service leaving the selector', () => !/default\/web:http/.test(syncer.last));
});

test('lists are read in pages and the first sync waits until every list has been received', async () => {
  const h = await harness((a) => {
    seedWeb(a);
    for (let i = 1; i <= 5; i++) a.apply(service(`s${i}`, `10.96.1.${i}`));
  }, false);
  const release = h.api.holdLists('Node');
  const started = h.proxier.start();
  await eventually('the other lists', () => h.api.listRequests('/api/v1/services').length === 3 && h.api.listRequests('/api/v1/nodes').length === 1);
  await new Promise((r) => setTimeout(r, 150));
  const syncsBefore = h.syncer.texts.length;
  assert.equal(syncsBefore, 0, 'no sync before the Node list arrived');
  release();
  await started;
  await h.proxier.whenSynced();
  assert.ok(h.syncer.texts.length > syncsBefore);
  for (let i = 1; i <= 5; i++) assert.match(h.syncer.last, new RegExp(`10\\.96\\.1\\.${i} `));
  // Six services in pages of two: three requests, the later ones with a continue token.
  const pages = h.api.listRequests('/api/v1/services');
  assert.equal(pages.length, 3);
  assert.equal(pages[0]?.query['limit'], '2');
  assert.ok(pages[1]?.query['continue'] !== undefined);
});

test('a dropped connection loses no update: the watch resumes from the last resourceVersion', async () => {
  const { api, syncer, source } = await harness(seedWeb);
  await eventually('watches open', () => api.openWatches === 3);
  const seenRV = api.resourceVersion;
  api.dropConnections();
  // Changes made while kproxy is disconnected.
  api.apply(slice('web', ['10.244.1.5', '10.244.1.8']));
  api.apply(service('db', '10.96.0.40'));
  api.apply(slice('db', ['10.244.1.41']));
  api.delete('EndpointSlice', 'default', 'db-abc');
  api.apply(slice('db', ['10.244.1.42'], { name: 'db-xyz' }));
  await eventually('the changes made while disconnected', () => /10\.244\.1\.8:8080/.test(syncer.last) && /10\.244\.1\.42:8080/.test(syncer.last));
  assert.doesNotMatch(syncer.last, /10\.244\.1\.41:8080/);
  // Resumed, not relisted: one list per resource, and a watch from the version seen before the drop.
  const slices = '/apis/discovery.k8s.io/v1/endpointslices';
  assert.equal(api.listRequests(slices).length, 1);
  assert.ok(api.watchRequests(slices).some((r) => r.query['resourceVersion'] === seenRV));
  assert.equal(source.objectCache.reflector('endpointslices')?.stats.lists, 1);
  assert.equal(syncer.last, await renderedFromScratch(api));
});

test('a relist after 410 Gone converges to the same state as a fresh list', async () => {
  const { api, syncer, source } = await harness((a) => {
    seedWeb(a);
    a.apply(service('old', '10.96.0.50'));
    a.apply(slice('old', ['10.244.1.50']));
  });
  await eventually('watches open', () => api.openWatches === 3);
  api.dropConnections();
  api.delete('Service', 'default', 'old');
  api.delete('EndpointSlice', 'default', 'old-abc');
  api.apply(slice('web', ['10.244.1.60']));
  api.apply(service('new', '10.96.0.70'));
  api.compact(); // the versions kproxy saw are gone: its watches get 410 and it must list again
  await eventually('the relisted state', () => /10\.244\.1\.60:8080/.test(syncer.last) && /10\.96\.0\.70 /.test(syncer.last));
  assert.doesNotMatch(syncer.last, /10\.96\.0\.50|10\.244\.1\.50/);
  assert.equal(syncer.last, await renderedFromScratch(api));
  const stats = source.objectCache.reflector('services')?.stats;
  assert.ok((stats?.expired ?? 0) >= 1, 'the 410 was seen');
  assert.equal(stats?.lists, 2);
});

test('a stalled watch is restarted; bookmarks keep a quiet watch alive', async () => {
  // A stall timeout well above the 100 ms between bookmarks: a loaded machine that holds this
  // process up for a moment must not look like a stalled stream.
  const stallTimeoutMs = 1500;
  const { api, syncer, source } = await harness(seedWeb, true, { ...TEST_TIMING, stallTimeoutMs });
  await eventually('watches open', () => api.openWatches === 3);
  const services = source.objectCache.reflector('services');
  assert.ok(services !== undefined);
  const stats = (): { stalls: number; lists: number } => services.stats;
  // Bookmarks every 100 ms for longer than the stall timeout, yet no restart.
  for (let i = 0; i < 20; i++) {
    api.bookmark();
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(stats().stalls, 0);
  assert.equal(services.lastResourceVersion, api.resourceVersion, 'bookmarks carry the resourceVersion');
  api.stallOpenWatches();
  api.apply(service('late', '10.96.0.80'));
  await eventually('the change behind the stalled stream', () => /10\.96\.0\.80 /.test(syncer.last), stallTimeoutMs + 8000);
  assert.ok(stats().stalls >= 1);
  assert.equal(stats().lists, 1, 'restarted from its resourceVersion, not relisted');
});

test('while the API server is unreachable the last rules stay; kproxy backs off and catches up', async () => {
  const { api, syncer, proxier, health, log } = await harness(seedWeb);
  const before = syncer.last;
  await api.goAway();
  proxier.queueSync(); // a periodic resync meanwhile
  await eventually('a sync while away', () => syncer.texts.length >= 2);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(syncer.last, before, 'nothing flushed or changed while the server is away');
  assert.equal(health.nodeEligible, true);
  const retries = log.lines.filter((l) => /failed; keeping the last objects seen and retrying/.test(l)).length;
  assert.ok(retries >= 2, `retried with backoff (${retries} retries logged)`);
  assert.ok(retries < 40, `backed off rather than spinning (${retries} retries in ~0.3s)`);
  await api.comeBack();
  api.apply(slice('web', ['10.244.1.99']));
  await eventually('the change after the server came back', () => /10\.244\.1\.99:8080/.test(syncer.last));
  assert.equal(syncer.last, await renderedFromScratch(api));
});

test('node eligibility follows this node\'s Node: deletion, the autoscaler taint, absence', async () => {
  const { api, health, syncer } = await harness(seedWeb);
  assert.equal(health.nodeEligible, true);
  api.apply(node(NODE, { taints: ['ToBeDeletedByClusterAutoscaler'] }));
  await eventually('the taint', () => !health.nodeEligible);
  api.apply(node(NODE));
  await eventually('the taint removed', () => health.nodeEligible);
  const syncs = syncer.texts.length;
  // A heartbeat (status.conditions only) is no change worth a sync.
  api.apply(node(NODE));
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(syncer.texts.length, syncs);
  api.apply(node(NODE, { deleting: true }));
  await eventually('the deletion timestamp', () => !health.nodeEligible);
  api.delete('Node', '', NODE);
  api.apply(service('x', '10.96.0.90'));
  await eventually('a sync after the Node is gone', () => /10\.96\.0\.90/.test(syncer.last));
  assert.equal(health.nodeEligible, false);
});

test('objects the decoder refuses are reported with kind and name and the rest is programmed', async () => {
  const { api, syncer, log } = await harness((a) => {
    seedWeb(a);
    const bad = service('bad', '10.96.0.66');
    (bad['spec'] as Record<string, unknown>)['ports'] = [{ name: 'http', protocol: 'TCP', port: 'eighty' }];
    a.apply(bad);
  });
  assert.match(syncer.last, /10\.96\.0\.10 /);
  assert.ok(log.lines.some((l) => l.startsWith('ERROR input')), log.lines.join('\n'));
  const sink = new DiagnosticSink();
  const client = new HttpKubeClient(loadKubeConfig({ kubeconfig: '', master: api.url }));
  decodeObjects(await listOnce(client, proxyResources('', NODE)), sink);
  const d = sink.all.find((x) => x.object === 'default/bad');
  assert.ok(d !== undefined);
  assert.equal(d.kind, 'Service');
  assert.equal(d.source.file, 'api');
  assert.match(d.field, /^spec\.ports\[0\]/);
});
