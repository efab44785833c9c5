/** The userspace proxy's round-robin balancer with ClientIP affinity, and the dial retry with backoff. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FrontendEndpoint } from '../../src/dataplanes/userspace/plan.js';
import { BackendStream } from '../../src/runtime/userspace/backend-stream.js';
import { RoundRobinBalancer } from '../../src/runtime/userspace/balancer.js';
import { ENDPOINT_DIAL_TIMEOUTS_MS, dialEndpoint } from '../../src/runtime/userspace/dial.js';

const ep = (ip: string, port = 80): FrontendEndpoint => ({ ip, port, endpoint: `${ip}:${port}` });
const A = ep('10.0.0.1');
const B = ep('10.0.0.2');
const C = ep('10.0.0.3');
const NONE = { type: 'None' } as const;

function fixed(): { balancer: RoundRobinBalancer; clock: { ms: number } } {
  const clock = { ms: 1_000_000 };
  return { balancer: new RoundRobinBalancer({ now: () => clock.ms, shuffle: () => undefined }), clock };
}

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
    assert.equal(balancer.next('svc', 'c', true)?.endpoint, B.endpoint);
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
        return Promise.resolve(e === C ? fakeSocket : 'refused');
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
    const timeouts: number[] = [];
    const failed = await dialEndpoint(balancer, 'svc', 'c', {
      connect: (_e, t) => {
        timeouts.push(t);
        return Promise.resolve('refused');
      },
    });
    assert.deepEqual(timeouts, [250, 500, 1000, 2000]);
    assert.deepEqual(failed.ok ? 'ok' : failed.reason, 'all-failed');
    balancer.update('empty', [], NONE);
    const none = await dialEndpoint(balancer, 'empty', 'c', { connect: () => Promise.reject(new Error('not called')) });
    assert.deepEqual(none.ok ? 'ok' : none.reason, 'no-endpoints');
  });
});
