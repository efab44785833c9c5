/**
 * Multi-step syncs against the in-memory iptables: kube-proxy's TestSyncProxyRulesRepeated vector
 * (partial syncs, -X of stale chains, a failed partial restore followed by a full resync) and
 * TestSyncProxyRulesLargeClusterMode (comments dropped, stale-chain cleanup skipped between cleanups).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { DiagnosticSink } from '../../src/core/model/diagnostics.js';
import type { EndpointSlice, Service } from '../../src/core/model/objects.js';
import { FULL_SYNC, type SyncScope } from '../../src/dataplanes/api.js';
import { renderIptables } from '../../src/dataplanes/iptables/render.js';
import { serializeRuleset } from '../../src/dataplanes/iptables/serialize.js';
import { FakeIptables } from '../../src/runtime/fakes/iptables.js';
import { loadClusterObjects } from '../../src/runtime/sources/files.js';
import { repoPath } from '../helpers/paths.js';
import { FAKE_PROXIER_CONFIG, canonicalText, cluster, desired, fakeHost, service, slice } from './iptables-helpers.js';

function partial(...services: string[]): SyncScope {
  return { full: false, changedServices: new Set(services) };
}

/** The expected text of each step, from the "# STEP n" sections of the vector. */
function expectedSteps(): Map<number, string> {
  const text = readFileSync(repoPath('test/golden/kube-proxy/iptables-sync-repeated-partial.expected.txt'), 'utf8');
  const steps = new Map<number, string>();
  for (const part of text.split(/^# STEP /m).slice(1)) {
    const n = Number.parseInt(part, 10);
    const body = part.split('\n').filter((l) => !l.startsWith('#')).slice(1).join('\n');
    if (body.trim() !== '') steps.set(n, body);
  }
  return steps;
}

test('kube-proxy vector iptables-sync-repeated-partial (TestSyncProxyRulesRepeated), 10 steps', async () => {
  const objects = await loadClusterObjects([repoPath('test/golden/kube-proxy/iptables-sync-repeated-partial.input.yaml')], new DiagnosticSink());
  const svc = (ns: string): Service => {
    const s = objects.services.find((x) => x.meta.namespace === ns);
    assert.ok(s !== undefined, ns);
    return s;
  };
  const eps = (ns: string): EndpointSlice => {
    const s = objects.endpointSlices.find((x) => x.meta.namespace === ns && x.origin === 'input');
    assert.ok(s !== undefined, ns);
    return s;
  };
  const withAddresses = (s: EndpointSlice, ips: string[]): EndpointSlice => ({
    ...s,
    endpoints: ips.map((ip) => ({ ...(s.endpoints[0] ?? assert.fail('no endpoint')), addresses: [ip] })),
  });
  const [s1, s2, s3, s4] = [svc('ns1'), svc('ns2'), svc('ns3'), svc('ns4')];
  const [e1, e2, e3, e4] = [eps('ns1'), eps('ns2'), eps('ns3'), eps('ns4')];
  const e3b = withAddresses(e3, ['10.0.3.2']);
  const e3c = withAddresses(e3, ['10.0.3.2', '10.0.3.3']);
  const steps: [number, Service[], EndpointSlice[], SyncScope][] = [
    [1, [s1, s2], [e1, e2], FULL_SYNC],
    [2, [s1, s2, s3], [e1, e2, e3], partial('ns3/svc3')],
    [3, [s1, s3], [e1, e2, e3], partial('ns2/svc2')],
    [4, [s1, s3, s4], [e1, e2, e3], partial('ns4/svc4')],
    [5, [s1, s3, s4], [e1, e2, e3, e4], partial('ns4/svc4')],
    [6, [s1, s3, s4], [e1, e2, e3b, e4], partial('ns3/svc3')],
    [7, [s1, s3, s4], [e1, e2, e3c, e4], partial('ns3/svc3')],
    [8, [s1, s3, s4], [e1, e2, e3c, e4], partial()],
    [9, [s1, s3], [e1, e2, e3c, e4], partial('ns4/svc4')],
    // After the failed partial restore of step 9 the daemon's next sync is full.
    [10, [s1, s3], [e1, e2, e3c, e4], FULL_SYNC],
  ];
  const expected = expectedSteps();
  const kernel = new FakeIptables();
  for (const [n, services, slices, scope] of steps) {
    if (n === 9) {
      // Behind kproxy's back: a rule that keeps svc4's endpoint chain referenced.
      kernel.appendRule('nat', 'KUBE-SVC-X27LE4BHSL4DOUIK', ['-j', 'KUBE-SEP-AYCN5HPXMIRJNJXU']);
    }
    const ruleset = renderIptables({
      state: desired({ ...objects, services, endpointSlices: slices }),
      scope,
      host: fakeHost(kernel.chainNames('nat')),
    });
    const want = expected.get(n);
    if (want !== undefined) assert.equal(canonicalText(ruleset), want, `step ${n}`);
    if (n === 9) {
      assert.throws(() => kernel.restore(ruleset), /KUBE-SEP-AYCN5HPXMIRJNJXU.*deleted while still referenced/);
      assert.ok(kernel.hasChain('nat', 'KUBE-SEP-AYCN5HPXMIRJNJXU'), 'a failed restore changes nothing');
    } else {
      kernel.restore(ruleset);
    }
  }
  assert.ok(!kernel.hasChain('nat', 'KUBE-SVC-4SW47YFZTEDKD3PK'));
  assert.deepEqual(kernel.rules('nat', 'KUBE-SVC-X27LE4BHSL4DOUIK').length, 3);
});

function dnatLines(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('-A KUBE-SEP-') && l.includes('-j DNAT'));
}

test('large cluster mode (TestSyncProxyRulesLargeClusterMode)', () => {
  // Inputs of kube-proxy's test: two services with 499 endpoints each, masqueradeAll.
  const manyEndpoints = (prefix: string): string[] =>
    Array.from({ length: 499 }, (_, i) => `${prefix}.${i % 256}.${Math.floor(i / 256)}`);
  const s1 = service('ns1', 'svc1', { clusterIP: '172.30.0.41', ports: [{ name: 'p80', port: 80 }] });
  const s2 = service('ns2', 'svc2', { clusterIP: '172.30.0.42', ports: [{ name: 'p8080', port: 8080 }] });
  const s3 = service('ns3', 'svc3', { clusterIP: '172.30.0.43', ports: [{ name: 'p8081', port: 8081 }] });
  const s4 = service('ns4', 'svc4', { clusterIP: '172.30.0.44', ports: [{ name: 'p8082', port: 8082 }] });
  const e1 = slice('ns1', 'svc1-1', 'svc1', manyEndpoints('10.0'), [{ name: 'p80', port: 80 }]);
  const e2 = slice('ns2', 'svc2-1', 'svc2', manyEndpoints('10.1'), [{ name: 'p8080', port: 8080 }]);
  const e3 = slice('ns3', 'svc3-1', 'svc3', ['203.0.113.4', '203.0.113.8', '203.0.113.12'], [{ name: 'p8081', port: 8081 }]);
  const e4 = slice('ns4', 'svc4-1', 'svc4', ['10.4.0.1'], [{ name: 'p8082', port: 8082 }]);
  const config = { ...FAKE_PROXIER_CONFIG, masqueradeAll: true };
  const kernel = new FakeIptables();
  const sync = (services: Service[], slices: EndpointSlice[], scope: SyncScope, cleanup = true): string => {
    const state = desired(cluster(services, slices), config);
    const host = fakeHost(kernel.chainNames('nat'));
    const ruleset = renderIptables({ state, scope, host: cleanup ? host : { ...host, existingNatChains: null } });
    kernel.restore(ruleset);
    return serializeRuleset(ruleset);
  };

  let text = sync([s1, s2, s3], [e1, e2], FULL_SYNC);
  let lines = dnatLines(text);
  assert.equal(lines.length, 998);
  assert.ok(lines.every((l) => l.includes('--comment')));
  assert.ok(lines.includes('-A KUBE-SEP-DKGQUZGBKLTPAR56 -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80'));

  // Crossing 1000 endpoints does not force a full sync: only svc3 is written, without comments.
  text = sync([s1, s2, s3], [e1, e2, e3], partial('ns3/svc3'));
  lines = dnatLines(text);
  assert.equal(lines.length, 3);
  assert.ok(lines.includes('-A KUBE-SEP-RUVVH7YV3PHQBDOS -m tcp -p tcp -j DNAT --to-destination 203.0.113.4:8081'));
  assert.ok(lines.every((l) => !l.includes('--comment')));

  text = sync([s1, s2, s3], [e1, e2, e3], FULL_SYNC);
  lines = dnatLines(text);
  assert.equal(lines.length, 1001);
  assert.ok(lines.includes('-A KUBE-SEP-DKGQUZGBKLTPAR56 -m tcp -p tcp -j DNAT --to-destination 10.0.0.0:80'));
  assert.ok(lines.every((l) => !l.includes('--comment')));

  text = sync([s1, s2, s3, s4], [e1, e2, e3, e4], partial('ns4/svc4'));
  assert.deepEqual(dnatLines(text), ['-A KUBE-SEP-SU5STNODRYEWJAUF -m tcp -p tcp -j DNAT --to-destination 10.4.0.1:8082']);

  // Between cleanups the daemon passes no chain list: svc4's chains stay, nothing is deleted.
  text = sync([s1, s2, s3], [e1, e2, e3, e4], partial('ns4/svc4'), false);
  assert.deepEqual(dnatLines(text), []);
  assert.ok(!text.includes('-X '));

  text = sync([s1, s2, s3], [e1, e2, e3, e4], partial(), true);
  assert.deepEqual(dnatLines(text), []);
  assert.ok(text.includes('-X KUBE-SVC-EBDQOQU5SJFXRIL3\n'));
  assert.ok(text.includes('-X KUBE-SEP-SU5STNODRYEWJAUF\n'));

  text = sync([s1, s2, s3], [e1, e2, e3, e4], FULL_SYNC);
  assert.equal(dnatLines(text).length, 1001);
});
