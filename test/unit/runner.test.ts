import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { BoundedFrequencyRunner } from '../../src/runtime/runner.js';

test('requests are coalesced and runs are at least minInterval apart', async () => {
  const starts: number[] = [];
  const r = new BoundedFrequencyRunner(
    async () => {
      starts.push(Date.now());
      await sleep(5);
    },
    { minIntervalMs: 100, maxIntervalMs: 10_000, retryIntervalMs: 10_000 },
  );
  r.start();
  for (let i = 0; i < 10; i++) r.run();
  await sleep(50);
  for (let i = 0; i < 10; i++) r.run();
  await sleep(250);
  await r.stop();
  assert.equal(starts.length, 2, `runs: ${starts.length}`);
  const [a, b] = starts;
  assert.ok(a !== undefined && b !== undefined && b - a >= 100);
});

test('runs at least every maxInterval, and retries after a failure', async () => {
  let runs = 0;
  const errors: unknown[] = [];
  const r = new BoundedFrequencyRunner(
    () => {
      runs++;
      return runs === 1 ? Promise.reject(new Error('boom')) : Promise.resolve();
    },
    { minIntervalMs: 10, maxIntervalMs: 200, retryIntervalMs: 30 },
    (e) => errors.push(e),
  );
  r.start();
  r.run();
  await sleep(100);
  assert.equal(errors.length, 1);
  const afterRetry = runs;
  await sleep(250);
  await r.stop();
  assert.equal(afterRetry, 2, 'the failed run is retried after retryInterval');
  assert.ok(runs >= 3, `periodic run expected, got ${runs}`);
});

test('retries back off exponentially from firstRetryMs up to retryIntervalMs, and reset on success', async () => {
  let runs = 0;
  const delays: number[] = [];
  const r: BoundedFrequencyRunner = new BoundedFrequencyRunner(
    () => {
      runs++;
      return runs <= 4 ? Promise.reject(new Error('boom')) : Promise.resolve();
    },
    { minIntervalMs: 0, maxIntervalMs: 10_000, retryIntervalMs: 160, firstRetryMs: 40 },
    () => delays.push(r.retryDelay()),
  );
  r.start();
  r.run();
  // Four failures retried after 40 + 80 + 160 + 160 ms, then a success; timers only fire late.
  const deadline = Date.now() + 3000;
  while (runs < 5 && Date.now() < deadline) await sleep(20);
  const afterSuccess = r.retryDelay();
  await r.stop();
  assert.equal(runs, 5, `all retries happened: ${runs}`);
  assert.deepEqual(delays, [40, 80, 160, 160]);
  assert.equal(afterSuccess, 40, 'a success resets the backoff');
});
