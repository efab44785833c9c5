// The statistics of the tracer's differential test (test/e2e/tracer-differential.test.ts), on
// fixed counts: a right prediction passes, a wrong one fails — so the e2e test can fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { parseIptables } from '../../src/dataplanes/iptables/parse.js';
import type { TrafficResult } from '../../src/runtime/sandbox/index.js';
import { EMPTY_IPSETS } from '../../src/tracer/ipset.js';
import { lowerIptables } from '../../src/tracer/lower-iptables.js';
import { trace } from '../../src/tracer/trace.js';
import { chiSquareSurvival, compareCounts, observedCategories } from '../e2e/differential/compare.js';
import { predict, returningShares, type PodRef } from '../e2e/differential/predict.js';
import { repoPath } from '../helpers/paths.js';

const thirds = new Map([
  ['pod:a', 1 / 3],
  ['pod:b', 1 / 3],
  ['pod:c', 1 / 3],
]);

test('chi-square: counts that fit the prediction pass, a perturbed prediction fails at p < 0.001', () => {
  const measured = new Map([
    ['pod:a', 213],
    ['pod:b', 174],
    ['pod:c', 213],
  ]);
  const fit = compareCounts(measured, thirds);
  assert.ok(fit.ok && fit.tested, fit.detail);
  const skewed = compareCounts(
    measured,
    new Map([
      ['pod:a', 0.5],
      ['pod:b', 0.25],
      ['pod:c', 0.25],
    ]),
  );
  assert.ok(!skewed.ok && skewed.tested, skewed.detail);
  assert.match(skewed.detail, /χ²=\d+\.\d+ \(df 2, p=[\d.e-]+; fails below p=0\.0010\)/);
  // a smaller level (many tests at once) lets a borderline count pass that p < 0.001 rejects (p ≈ 0.0005)
  const borderline = new Map([
    ['pod:a', 245],
    ['pod:b', 178],
    ['pod:c', 177],
  ]);
  assert.ok(!compareCounts(borderline, thirds).ok);
  assert.ok(compareCounts(borderline, thirds, 0.001 / 25).ok);
  assert.ok(!compareCounts(measured, new Map([['pod:a', 0.5], ['pod:b', 0.25], ['pod:c', 0.25]]), 0.001 / 25).ok);
});

test('chi-square p-values agree with the table of critical values at p = 0.001, and stay exact in the far tail', () => {
  const critical = [NaN, 10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124, 27.877, 29.588];
  for (let df = 1; df <= 10; df++) {
    const p = chiSquareSurvival(critical[df] ?? NaN, df);
    assert.ok(Math.abs(p - 0.001) < 0.00002, `df ${df}: p=${p}`);
  }
  assert.ok(Math.abs(chiSquareSurvival(1, 1) - 0.3173105) < 1e-6);
  assert.ok(Math.abs(chiSquareSurvival(2, 2) - Math.exp(-1)) < 1e-12);
  // The suite's levels are around 1e-8: there an approximation of erfc may be off by a third.
  assert.ok(Math.abs(chiSquareSurvival(32, 1) / 1.541725790028002e-8 - 1) < 1e-9, 'Q(32; 1) = erfc(4)');
  assert.ok(Math.abs(chiSquareSurvival(50, 1) / 1.537459794428035e-12 - 1) < 1e-9, 'Q(50; 1) = erfc(5)');
  assert.ok(Math.abs(chiSquareSurvival(40, 2) / Math.exp(-20) - 1) < 1e-12);
  assert.equal(chiSquareSurvival(0, 3), 1);
  assert.equal(chiSquareSurvival(Infinity, 3), 0);
});

test('an outcome the tracer gives probability 0 fails at once: answers where it predicts REJECT or DROP', () => {
  const refused = compareCounts(new Map([['pod:a', 3]]), new Map([['refused', 1]]));
  assert.ok(!refused.ok);
  assert.match(refused.detail, /the kernel gave 3 × pod:a, which the tracer says cannot happen/);
  const dropped = compareCounts(new Map([['refused', 5]]), new Map([['dropped', 1]]));
  assert.ok(!dropped.ok);
  assert.ok(compareCounts(new Map([['dropped', 3]]), new Map([['dropped', 1]])).ok);
});

test('categories expected fewer than 5 times are merged; one category left means no chi-square', () => {
  const skewed = new Map([
    ['pod:a', 0.9],
    ['pod:b', 0.05],
    ['pod:c', 0.05],
  ]);
  // b and c are expected 3 times each in 60: merged into one category expected 6 times
  const merged = compareCounts(new Map([['pod:a', 52], ['pod:b', 5], ['pod:c', 3]]), skewed);
  assert.ok(merged.ok && merged.tested, merged.detail);
  assert.match(merged.detail, /pod:b\+pod:c: 8 vs 6\.0, pod:a: 52 vs 54\.0/);
  const wrong = compareCounts(new Map([['pod:a', 30], ['pod:b', 15], ['pod:c', 15]]), skewed);
  assert.ok(!wrong.ok && wrong.tested, wrong.detail);
  // 18 clients on one pod of three (6 expected each) is rejected; 12 (4 each) merge to one category
  assert.ok(!compareCounts(new Map([['pod:a', 18]]), thirds).ok);
  const few = compareCounts(new Map([['pod:a', 12]]), thirds);
  assert.ok(few.ok && !few.tested, few.detail);
  assert.match(few.detail, /one category after merging/);
});

test('client results become categories: pods, ECONNREFUSED → refused, timeout → dropped, others by kind', () => {
  const r: TrafficResult = {
    protocol: 'tcp',
    target: '10.96.0.1:80',
    requests: 7,
    answered: 3,
    errors: 4,
    byPod: { a: 2, b: 1 },
    bySource: {},
    errorKinds: { ECONNREFUSED: 1, timeout: 2, ECONNRESET: 1 },
    sequence: ['a', null, 'a', 'b', null, null, null],
    durationMs: 1,
  };
  assert.deepEqual(Object.fromEntries(observedCategories(r)), { 'pod:a': 2, 'pod:b': 1, refused: 1, dropped: 2, 'error:ECONNRESET': 1 });
});

test('predictions from a sandbox dump: pods by IP, masquerading, endpoints on another node, affinity', () => {
  const program = lowerIptables(parseIptables(fs.readFileSync(repoPath('test/fixtures/dumps/sandbox-one-node.save.txt'), 'utf8')));
  const pods: PodRef[] = [
    { name: 'web-0', nodeName: 'node-1', ip: '172.18.0.5', serverPorts: [8080, 5353] },
    { name: 'web-1', nodeName: 'node-1', ip: '172.18.0.6', serverPorts: [8080, 5353] },
    { name: 'web-2', nodeName: 'node-2', ip: '172.18.0.7', serverPorts: [8080] },
  ];
  const byIP = (ip: string): PodRef | undefined => pods.find((p) => p.ip === ip);
  const env = { nodeIPs: ['198.51.100.2', '169.254.1.1'], ipsets: EMPTY_IPSETS };
  const sticky = trace(program, { src: '198.51.100.1', dst: '198.51.100.2', protocol: 'tcp', sport: 40000, dport: 30003, from: 'external' }, env);
  const p = predict(sticky, byIP, 'node-1');
  assert.deepEqual([...p.shares.keys()], ['pod:web-0', 'pod:web-1', 'pod:web-2']);
  assert.ok(Math.abs([...p.shares.values()].reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.equal(p.masqueradeGivenDnat, 1);
  assert.deepEqual(p.remote.map((x) => x.pod.name), ['web-2']);
  assert.deepEqual(p.problems, []);
  // ClientIP affinity: after a first request to a pod, every later one goes to the same pod
  const given = returningShares(sticky, byIP);
  assert.deepEqual(Object.fromEntries([...given].map(([k, v]) => [k, Object.fromEntries(v)])), {
    'pod:web-0': { 'pod:web-0': 1 },
    'pod:web-1': { 'pod:web-1': 1 },
    'pod:web-2': { 'pod:web-2': 1 },
  });
  // the UDP service's port 5353 is not served by web-2 here: named as a problem
  const udp = trace(program, { src: '172.18.0.254', dst: '172.18.255.18', protocol: 'udp', sport: 40000, dport: 53, from: 'pod' }, env);
  assert.deepEqual(predict(udp, byIP, 'node-1').problems, ['the tracer DNATs to 172.18.0.7:5353, but pod web-2 serves only 8080']);
  const nothing = trace(program, { src: '172.18.0.254', dst: '172.18.255.10', protocol: 'tcp', sport: 40000, dport: 80, from: 'pod' }, env);
  assert.deepEqual(Object.fromEntries(predict(nothing, byIP, 'node-1').shares), { refused: 1 });
});
