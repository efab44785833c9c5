import { test } from 'node:test';
import assert from 'node:assert/strict';
import { categorizeEndpoints, type CategorizeInput } from '../../src/core/policy/categorize.js';
import type { EndpointInfo } from '../../src/core/model/service-port.js';

function ep(ip: string, opts: Partial<EndpointInfo> = {}): EndpointInfo {
  return {
    ip,
    port: 80,
    endpoint: `${ip}:80`,
    ready: true,
    serving: true,
    terminating: false,
    isLocal: false,
    nodeName: null,
    zoneHints: null,
    nodeHints: null,
    ...opts,
  };
}

function run(endpoints: EndpointInfo[], o: Partial<CategorizeInput> = {}): Record<string, string[] | boolean> {
  const s = categorizeEndpoints({
    endpoints,
    usesClusterEndpoints: true,
    usesLocalEndpoints: false,
    nodeName: 'node-1',
    zone: 'zone-a',
    preferSameNodeEnabled: true,
    ...o,
  });
  const ips = (l: readonly EndpointInfo[]): string[] => l.map((e) => e.ip);
  return {
    cluster: ips(s.clusterEndpoints),
    local: ips(s.localEndpoints),
    all: ips(s.allReachableEndpoints),
    any: s.hasAnyEndpoints,
  };
}

test('no endpoints: nothing, and no endpoints anywhere', () => {
  assert.deepEqual(run([]), { cluster: [], local: [], all: [], any: false });
});

test('cluster policy uses ready endpoints only', () => {
  const r = run([ep('10.0.0.1'), ep('10.0.0.2', { ready: false, serving: false })]);
  assert.deepEqual(r, { cluster: ['10.0.0.1'], local: [], all: ['10.0.0.1'], any: true });
});

test('cluster policy falls back to serving-terminating endpoints when none is ready', () => {
  const r = run([
    ep('10.0.0.1', { ready: false, serving: true, terminating: true }),
    ep('10.0.0.2', { ready: false, serving: false, terminating: true }),
  ]);
  assert.deepEqual(r.cluster, ['10.0.0.1']);
  assert.equal(r.any, true);
});

test('zone hints: only endpoints hinted for this zone, when every ready endpoint has hints', () => {
  const eps = [ep('10.0.0.1', { zoneHints: ['zone-a'] }), ep('10.0.0.2', { zoneHints: ['zone-b'] })];
  assert.deepEqual(run(eps).cluster, ['10.0.0.1']);
  // One endpoint without hints disables topology.
  assert.deepEqual(run([...eps, ep('10.0.0.3')]).cluster, ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  // No endpoint hinted for this zone: hints ignored.
  assert.deepEqual(run(eps, { zone: 'zone-c' }).cluster, ['10.0.0.1', '10.0.0.2']);
});

test('node hints win over zone hints when the gate is on', () => {
  const eps = [
    ep('10.0.0.1', { zoneHints: ['zone-a'], nodeHints: ['node-2'] }),
    ep('10.0.0.2', { zoneHints: ['zone-a'], nodeHints: ['node-1'] }),
  ];
  assert.deepEqual(run(eps).cluster, ['10.0.0.2']);
  assert.deepEqual(run(eps, { preferSameNodeEnabled: false }).cluster, ['10.0.0.1', '10.0.0.2']);
});

test('local policy only: local ready endpoints, else local serving-terminating', () => {
  const o = { usesClusterEndpoints: false, usesLocalEndpoints: true };
  const eps = [ep('10.0.0.1', { isLocal: true }), ep('10.0.0.2')];
  assert.deepEqual(run(eps, o), { cluster: [], local: ['10.0.0.1'], all: ['10.0.0.1'], any: true });
  const term = [ep('10.0.0.1', { isLocal: true, ready: false, terminating: true }), ep('10.0.0.2')];
  assert.deepEqual(run(term, o).local, ['10.0.0.1']);
  const none = [ep('10.0.0.2')];
  assert.deepEqual(run(none, o), { cluster: [], local: [], all: [], any: true });
});

test('both policies: union when topology or the local fallback is in play', () => {
  const o = { usesClusterEndpoints: true, usesLocalEndpoints: true };
  const plain = [ep('10.0.0.1', { isLocal: true }), ep('10.0.0.2')];
  assert.deepEqual(run(plain, o).all, ['10.0.0.1', '10.0.0.2']);
  const fallback = [ep('10.0.0.1', { isLocal: true, ready: false, terminating: true }), ep('10.0.0.2')];
  const r = run(fallback, o);
  assert.deepEqual(r.cluster, ['10.0.0.2']);
  assert.deepEqual(r.local, ['10.0.0.1']);
  assert.deepEqual(r.all, ['10.0.0.1', '10.0.0.2']);
});
