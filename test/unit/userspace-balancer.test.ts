/**
 * The userspace proxy's round-robin balancer with ClientIP affinity, endpoints passed over after
 * a failed connect, and the dial retry with backoff.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FrontendEndpoint } from '../../src/dataplanes/userspace/plan.js';
import { BackendStream } from '../../src/runtime/userspace/backend-stream.js';
import { RoundRobinBalancer } from '../../src/runtime/userspace/balancer.js';
import { ENDPOINT_DIAL_TIMEOUTS_MS, dialEndpoint, dialWith, type Connected } from '../../src/runtime/userspace/dial.js';

const ep = (ip: string, port = 80): FrontendEndpoint => ({ ip, port, endpoint: `${ip}:${port}` });
const A = ep('10.0.0.1');
const B = ep('10.0.0.2');
const C = ep('10.0.0.3');
const NONE = { type: 'None' } as const;

function fixed(failedEndpointHoldMs?: number): { balancer: RoundRobinBalancer; clock: { ms: number } } {
  const clock = { ms: 1_000_000 };
  const options = { now: () => clock.ms, shuffle: () => undefined, ...(failedEndpointHoldMs === undefined ? {} : { failedEndpointHoldMs }) };
  return { balancer: new RoundRobinBalancer(options), clock };
}

const refused: Connected<never> = { ok: false, error: 'dial tcp: ECONNREFUSED', code: 'ECONNREFUSED' };
const connected = <T>(value: T): Connected<T> => ({ ok: true, value });

describe('round robin', () => {
  test('takes turns over every endpoint', () => {
    const { balancer } = fixed();
    balancer.update('svc', [A, B, C], NONE);
    const seen = Array.from({ length: 6 }, () => balancer.next('svc', '1.1.1.1')?.endpoint);
    assert.deepEqual(seen, [A, B, C, A, B, C].map((e) => e.endpoint));
  });

  test('the default shuffle keeps the set and the even spread', () => {
    const balancer = new RoundRobinBalancer();
    balancer.update('svc', [A, B, C], NONE);
    const counts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const e = balancer.next('svc', '1.1.1.1')?.endpoint ?? 'none';
      counts.set(e, (counts.get(e) ?? 0) + 1);
    }
    assert.deepEqual([...counts.values()], [100, 100, 100]);
    assert.deepEqual([...counts.keys()].sort(), [A, B, C].map((e) => e.endpoint));
  });

  test('no frontend, or no endpoints: null', () => {
    const { balancer } = fixed();
    assert.equal(balancer.next('missing', '1.1.1.1'), null);
    balancer.update('svc', [], NONE);
    assert.equal(balancer.next('svc', '1.1.1.1'), null);
  });

  test('a removed endpoint gets no new connection; an unchanged set keeps its turn', () => {
    const { balancer } = fixed();
    balancer.update('svc', [A, B, C], NONE);
    assert.equal(balancer.next('svc', 'x')?.endpoint, A.endpoint);
    balancer.update('svc', [C, B, A], NONE);
    assert.equal(balancer.next('svc', 'x')?.endpoint, B.endpoint, 'same set in another order: no reset');
    balancer.update('svc', [A, C], NONE);
    const seen = new Set(Array.from({ length: 10 }, () => balancer.next('svc', 'x')?.endpoint));
    assert.deepEqual([...seen].sort(), [A.endpoint, C.endpoint]);
  });
});

describe('ClientIP affinity', () => {
  const sticky = { type: 'ClientIP', timeoutSeconds: 2 } as const;

  test('one client stays on one endpoint; others take turns', () => {
    const { balancer } = fixed();
    balancer.update('svc', [A, B, C], sticky);
    const first = balancer.next('svc', '1.1.1.1');
    for (let i = 0; i < 5; i++) assert.equal(balancer.next('svc', '1.1.1.1'), first);
    assert.equal(balancer.next('svc', '2.2.2.2')?.endpoint, B.endpoint);
    assert.equal(balancer.next('svc', '3.3.3.3')?.endpoint, C.endpoint);
  });

  test('the record expires after whole seconds of the timeout (kube-proxy\'s int(seconds) < ttl)', () => {
    const { balancer, clock } = fixed();
    balancer.update('svc', [A, B], sticky);
    assert.equal(balancer.next('svc', 'c')?.endpoint, A.endpoint);
    clock.ms += 1999;
    assert.equal(balancer.next('svc', 'c')?.endpoint, A.endpoint, 'used again within the timeout: refreshed');
    clock.ms += 1999;
    assert.equal(balancer.next('svc', 'c')?.endpoint, A.endpoint);
    clock.ms += 2000;
    assert.equal(balancer.next('svc', 'c')?.endpoint, B.endpoint, 'expired: the next endpoint in turn');
  });

  test('reset after a failed dial skips and overwrites the record', () => {
    const { balancer } = fixed();
    balancer.update('svc', [A, B, C], sticky);
    assert.equal(balancer.next('svc', 'c')?.endpoint, A.endpoint);
    assert.equal(balancer.next('svc', 'c', { resetAffinity: true })?.endpoint, B.endpoint);
    assert.equal(balancer.next('svc', 'c')?.endpoint, B.endpoint);
  });

  test('records of removed endpoints are dropped, the others kept; stale ones are cleaned up', () => {
    const { balancer, clock } = fixed();
    balancer.update('svc', [A, B, C], sticky);
    assert.equal(balancer.next('svc', 'on-a')?.endpoint, A.endpoint);
    assert.equal(balancer.next('svc', 'on-b')?.endpoint, B.endpoint);
    balancer.update('svc', [B, C], sticky);
    assert.notEqual(balancer.next('svc', 'on-a')?.endpoint, A.endpoint);
    assert.equal(balancer.next('svc', 'on-b')?.endpoint, B.endpoint);
    clock.ms += 5000;
    assert.equal(balancer.cleanupStaleSessions(), 2);
  });

  test('turning affinity off forgets the records', () => {
    const { balancer } = fixed();
    balancer.update('svc', [A, B], sticky);
    assert.equal(balancer.next('svc', 'c')?.endpoint, A.endpoint);
    balancer.update('svc', [A, B], NONE);
    assert.equal(balancer.next('svc', 'c')?.endpoint, B.endpoint);
    balancer.update('svc', [A, B], sticky);
    assert.equal(balancer.next('svc', 'c')?.endpoint, A.endpoint, 'no old record brought back');
  });
});

describe('dial with backoff', () => {
  const fakeSocket = new BackendStream();

  test('each failure moves to the next endpoint with kube-proxy\'s growing timeouts', async () => {
    const { balancer } = fixed();
    balancer.update('svc', [A, B, C], { type: 'ClientIP', timeoutSeconds: 100 });
    const tries: string[] = [];
    const result = await dialEndpoint(balancer, 'svc', 'client', {
      connect: (e, timeout) => {
        tries.push(`${e.endpoint}@${timeout}`);
        return Promise.resolve(e === C ? connected(fakeSocket) : refused);
      },
    });
    assert.deepEqual(tries, ['10.0.0.1:80@250', '10.0.0.2:80@500', '10.0.0.3:80@1000']);
    assert.ok(result.ok);
    assert.equal(result.endpoint, C);
    assert.deepEqual(result.failures.map((f) => f.endpoint), [A.endpoint, B.endpoint]);
    assert.equal(balancer.next('svc', 'client'), C, 'the client\'s affinity now points at the endpoint that answered');
  });

  test('four failures: the connection fails; no endpoints: fails at once', async () => {
    assert.deepEqual(ENDPOINT_DIAL_TIMEOUTS_MS, [250, 500, 1000, 2000]);
    const { balancer } = fixed();
    balancer.update('svc', [A, B], NONE);
    const tries: string[] = [];
    const failed = await dialEndpoint(balancer, 'svc', 'c', {
      connect: (e, t) => {
        tries.push(`${e.endpoint}@${t}`);
        return Promise.resolve(refused);
      },
    });
    assert.deepEqual(tries, ['10.0.0.1:80@250', '10.0.0.2:80@500', '10.0.0.1:80@1000', '10.0.0.2:80@2000'], 'every endpoint tried once before any is tried again');
    assert.deepEqual(failed.ok ? 'ok' : failed.reason, 'all-failed');
    balancer.update('empty', [], NONE);
    const none = await dialEndpoint(balancer, 'empty', 'c', { connect: () => Promise.reject(new Error('not called')) });
    assert.deepEqual(none.ok ? 'ok' : none.reason, 'no-endpoints');
  });
});

describe('endpoints whose connect failed', () => {
  test('are passed over for the hold time, then take their turn again', () => {
    const { balancer, clock } = fixed(1000);
    balancer.update('svc', [A, B, C], NONE);
    balancer.markFailed('svc', A.endpoint);
    assert.deepEqual(balancer.failingEndpoints('svc'), [A.endpoint]);
    const during = Array.from({ length: 4 }, () => balancer.next('svc', 'x')?.endpoint);
    assert.deepEqual(during, [B, C, B, C].map((e) => e.endpoint));
    clock.ms += 1000;
    assert.deepEqual(balancer.failingEndpoints('svc'), []);
    const afterHold = Array.from({ length: 3 }, () => balancer.next('svc', 'x')?.endpoint);
    assert.deepEqual(afterHold.sort(), [A, B, C].map((e) => e.endpoint));
  });

  test('a connect that succeeds ends the hold at once; a removed endpoint forgets it', () => {
    const { balancer } = fixed(60_000);
    balancer.update('svc', [A, B], NONE);
    balancer.markFailed('svc', A.endpoint);
    balancer.markConnected('svc', A.endpoint);
    assert.deepEqual(balancer.failingEndpoints('svc'), []);
    balancer.markFailed('svc', B.endpoint);
    balancer.update('svc', [A], NONE);
    balancer.update('svc', [A, B], NONE);
    assert.deepEqual(balancer.failingEndpoints('svc'), [], 'B came back as a new endpoint');
    balancer.markFailed('svc', C.endpoint);
    assert.deepEqual(balancer.failingEndpoints('svc'), [], 'not an endpoint of the frontend');
  });

  test('when every endpoint is failing the turn goes on as usual (never null)', () => {
    const { balancer } = fixed(60_000);
    balancer.update('svc', [A, B, C], NONE);
    for (const e of [A, B, C]) balancer.markFailed('svc', e.endpoint);
    const seen = Array.from({ length: 6 }, () => balancer.next('svc', 'x')?.endpoint);
    assert.deepEqual(seen, [A, B, C, A, B, C].map((e) => e.endpoint));
  });

  test('a client whose affinity points at a failing endpoint is moved, and stays on the new one', () => {
    const { balancer } = fixed(60_000);
    balancer.update('svc', [A, B, C], { type: 'ClientIP', timeoutSeconds: 100 });
    assert.equal(balancer.next('svc', 'c')?.endpoint, A.endpoint);
    balancer.markFailed('svc', A.endpoint);
    assert.equal(balancer.next('svc', 'c')?.endpoint, B.endpoint);
    balancer.markConnected('svc', A.endpoint);
    assert.equal(balancer.next('svc', 'c')?.endpoint, B.endpoint);
  });

  test('a refused or timed-out dial marks the endpoint; a local error (EADDRNOTAVAIL) does not', async () => {
    const { balancer } = fixed(60_000);
    balancer.update('svc', [A, B, C], NONE);
    const outcome = new Map<string, Connected<string>>([
      [A.endpoint, refused],
      [B.endpoint, { ok: false, error: 'timeout', code: 'ETIMEDOUT' }],
      [C.endpoint, { ok: false, error: 'no local port', code: 'EADDRNOTAVAIL' }],
    ]);
    const result = await dialWith(balancer, 'svc', 'c', (e) => Promise.resolve(outcome.get(e.endpoint) ?? refused), { timeoutsMs: [1, 1, 1] });
    assert.equal(result.ok, false);
    assert.deepEqual(balancer.failingEndpoints('svc'), [A.endpoint, B.endpoint]);
  });
});

describe('dial under concurrency', () => {
  test('a retry does not land on the endpoint that just refused, whatever other connections took meanwhile', async () => {
    // Hold 0: only the per-dial memory of tried endpoints is at work here.
    const { balancer } = fixed(0);
    balancer.update('svc', [A, B, C], NONE);
    const tries: string[] = [];
    const result = await dialWith(balancer, 'svc', 'c', (e) => {
      tries.push(e.endpoint);
      if (e !== A) return Promise.resolve(connected(e.endpoint));
      // Two other connections take their turns while this connect is refused: the shared
      // pointer is back at A when this dial retries.
      balancer.next('svc', 'other');
      balancer.next('svc', 'other');
      return Promise.resolve(refused);
    });
    assert.deepEqual(tries, [A.endpoint, B.endpoint]);
    assert.ok(result.ok);
  });

  test('many connections at once with a dead endpoint: every one connects', async () => {
    for (const hold of [0, 1000]) {
      const { balancer } = fixed(hold);
      balancer.update('svc', [A, B, C], NONE);
      const attempts: number[] = [];
      const results = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          let n = 0;
          const r = await dialWith(balancer, 'svc', `client-${i}`, async (e) => {
            n++;
            await new Promise((done) => setImmediate(done));
            return e === A ? refused : connected(e.endpoint);
          });
          attempts.push(n);
          return r;
        }),
      );
      assert.ok(results.every((r) => r.ok), `hold ${hold}: every dial connected`);
      assert.ok(Math.max(...attempts) <= 2, `hold ${hold}: at most one retry each (${attempts.join(',')})`);
    }
  });

  test('property: with at most three dead endpoints and one live, a dial connects without trying any endpoint twice', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            dead: fc.subarray(Array.from({ length: n }, (_, i) => i), { maxLength: Math.min(3, n - 1) }),
            interference: fc.array(fc.nat(7), { minLength: 4, maxLength: 4 }),
            hold: fc.constantFrom(0, 1000),
            sticky: fc.boolean(),
            start: fc.nat(5),
          }),
        ),
        async ({ n, dead, interference, hold, sticky, start }) => {
          const { balancer } = fixed(hold);
          const endpoints = Array.from({ length: n }, (_, i) => ep(`10.0.1.${i + 1}`));
          balancer.update('svc', endpoints, sticky ? { type: 'ClientIP', timeoutSeconds: 100 } : NONE);
          for (let i = 0; i < start; i++) balancer.next('svc', `warmup-${i}`);
          const deadSet = new Set(dead.map((i) => endpoints[i]?.endpoint));
          const tries: string[] = [];
          const result = await dialWith(balancer, 'svc', 'client', (e) => {
            // Other connections take turns (and may hit the dead endpoints) meanwhile.
            for (let k = 0; k < (interference[tries.length] ?? 0); k++) balancer.next('svc', `other-${k}`);
            tries.push(e.endpoint);
            return Promise.resolve(deadSet.has(e.endpoint) ? refused : connected(e.endpoint));
          });
          assert.ok(result.ok, `tries ${tries.join(' ')}`);
          assert.equal(new Set(tries).size, tries.length, `no repeat: ${tries.join(' ')}`);
          assert.ok(tries.length <= dead.length + 1);
        },
      ),
      { numRuns: 300 },
    );
  });
});
