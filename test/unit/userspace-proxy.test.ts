/**
 * The userspace proxy's sockets, on 127.0.0.1 only: balancing, retry past a dead endpoint,
 * backpressure, half-close, listeners following plan changes, UDP sessions and their timeout.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { SessionAffinity } from '../../src/core/model/service-port.js';
import type { Frontend, FrontendEndpoint, ListenerPlan } from '../../src/dataplanes/userspace/plan.js';
import { SILENT_LOG } from '../../src/runtime/userspace/log.js';
import { UserspaceProxy } from '../../src/runtime/userspace/proxy.js';
import { deadAddress, privateLoopbackIP, quietPort } from '../helpers/ports.js';

const LOCAL = '127.0.0.1';

/**
 * A full garbage collection, so that memory measured afterwards is what is still held, not the
 * garbage V8 happened not to collect yet (tens of MB after a transfer, varying from run to run).
 */
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc') as () => void;
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function frontend(id: string, protocol: 'TCP' | 'UDP', endpoints: readonly FrontendEndpoint[], affinity: SessionAffinity = { type: 'None' }): Frontend {
  return {
    id,
    key: { namespace: 'default', name: id, portName: '', protocol },
    spn: `default/${id}`,
    protocol,
    roles: ['internal'],
    verdict: 'forward',
    endpoints,
    affinity,
  };
}

function plan(...frontends: Frontend[]): ListenerPlan {
  return { family: 'IPv4', servicePorts: [], frontends, skipped: [] };
}

const ep = (port: number): FrontendEndpoint => ({ ip: LOCAL, port, endpoint: `${LOCAL}:${port}` });

function newProxy(udpIdleTimeoutMs = 250): UserspaceProxy {
  const proxy = new UserspaceProxy({ family: 'IPv4', portRange: null, udpIdleTimeoutMs, log: SILENT_LOG, listenIP: LOCAL });
  cleanups.push(() => proxy.close());
  return proxy;
}

/** A backend that answers every connection with its name after reading the request's end. */
/** A TCP server on LOCAL (closed after the test) that hands each connection to `handle`; returns its port. */
async function tcpServer(handle: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => undefined);
    handle(s);
  });
  await new Promise<void>((r) => server.listen(0, LOCAL, r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const a = server.address();
  return typeof a === 'object' && a !== null ? a.port : 0;
}

/** Answers every connection with its name once the client has sent everything. */
function namedServer(name: string): Promise<number> {
  return tcpServer((s) => {
    s.resume();
    s.on('end', () => s.end(name));
  });
}

/** Echoes what it receives, and half-closes when the client does. */
function echoServer(): Promise<number> {
  return tcpServer((s) => {
    s.on('data', (b: Buffer) => s.write(b));
    s.on('end', () => s.end());
  });
}

/** Connects, sends `data`, half-closes, reads everything. */
function exchange(port: number, data = 'hello', host = LOCAL): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, allowHalfOpen: true }, () => s.end(data));
    let out = '';
    s.on('data', (b: Buffer) => (out += b.toString()));
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

/**
 * An endpoint nothing listens on, and nothing will while the test runs (a port closed after
 * `listen(0)` could be taken again by any socket, even the proxy's own listener).
 */
async function deadEndpoint(): Promise<FrontendEndpoint> {
  const { ip, port } = await deadAddress();
  return { ip, port, endpoint: `${ip}:${port}` };
}

describe('TCP', () => {
  test('round robin over the endpoints; half-close keeps the reply', async () => {
    const ports = await Promise.all(['a', 'b', 'c'].map(namedServer));
    const proxy = newProxy();
    const assigned = await proxy.reconcile(plan(frontend('web', 'TCP', ports.map(ep))));
    const port = assigned.get('web') ?? 0;
    const replies: string[] = [];
    for (let i = 0; i < 9; i++) replies.push(await exchange(port));
    assert.deepEqual([...new Set(replies)].sort(), ['a', 'b', 'c']);
    for (const name of ['a', 'b', 'c']) assert.equal(replies.filter((r) => r === name).length, 3);
  });

  test('a dead endpoint costs a retry, not an error', async () => {
    const live = await namedServer('live');
    const dead = await deadEndpoint();
    const proxy = newProxy();
    const port = (await proxy.reconcile(plan(frontend('retry', 'TCP', [dead, ep(live)])))).get('retry') ?? 0;
    for (let i = 0; i < 6; i++) assert.equal(await exchange(port), 'live');
    const stats = proxy.stats()['retry'];
    assert.equal(stats?.protocol === 'TCP' ? stats.accepted : -1, 6);
  });

  test('an endpoint that refused is passed over for a moment: one failed dial, not one per connection', async () => {
    const live = await namedServer('live');
    const dead = await deadEndpoint();
    const warnings: string[] = [];
    const log = { ...SILENT_LOG, warn: (msg: string, fields?: Readonly<Record<string, unknown>>) => warnings.push(`${msg} ${String(fields?.['endpoint'])}`) };
    const proxy = new UserspaceProxy({ family: 'IPv4', portRange: null, udpIdleTimeoutMs: 250, log, listenIP: LOCAL, balancer: { shuffle: () => undefined, failedEndpointHoldMs: 60_000 } });
    cleanups.push(() => proxy.close());
    const port = (await proxy.reconcile(plan(frontend('hold', 'TCP', [dead, ep(live)])))).get('hold') ?? 0;
    for (let i = 0; i < 6; i++) assert.equal(await exchange(port), 'live');
    assert.deepEqual(warnings, [`dial failed ${dead.endpoint}`]);
    assert.deepEqual(proxy.balancer.failingEndpoints('hold'), [dead.endpoint]);
  });

  test('no endpoints: the connection is closed at once', async () => {
    const proxy = newProxy();
    const port = (await proxy.reconcile(plan(frontend('empty', 'TCP', [])))).get('empty') ?? 0;
    const started = Date.now();
    const reply = await exchange(port).catch((err: unknown) => (err instanceof Error ? err.message : 'error'));
    assert.ok(reply === '' || /ECONNRESET/.test(reply), `closed: ${reply}`);
    // Not after a dial attempt's timeouts (250 + 500 + 1000 + 2000 ms); a loaded machine may
    // stall this process for a moment, so the bound is well above a local round trip.
    assert.ok(Date.now() - started < 3000, `closed after ${Date.now() - started} ms`);
  });

  test('backpressure: a client that does not read stalls the backend, nothing piles up in the proxy', async () => {
    const total = 256 * 1024 * 1024;
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 1);
    const server = net.createServer((s) => {
      cleanups.push(() => {
        s.destroy();
      });
      s.on('error', () => undefined);
      const pump = (): void => {
        while (written < total) {
          written += chunk.length;
          if (!s.write(chunk)) {
            s.once('drain', pump);
            return;
          }
        }
        s.end();
      };
      pump();
    });
    await new Promise<void>((r) => server.listen(0, LOCAL, r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const a = server.address();
    const backendPort = typeof a === 'object' && a !== null ? a.port : 0;
    const proxy = newProxy();
    const port = (await proxy.reconcile(plan(frontend('bulk', 'TCP', [ep(backendPort)])))).get('bulk') ?? 0;
    const client = net.connect({ host: LOCAL, port });
    cleanups.push(() => {
      client.destroy();
    });
    client.pause();
    await new Promise((r) => setTimeout(r, 1500));
    // Kernel socket buffers hold a few MB each on loopback; without flow control the backend
    // would have written all 256 MB into the proxy by now.
    assert.ok(written < 64 * 1024 * 1024, `the backend is held back: ${(written / 1e6).toFixed(1)} MB written`);
    collectGarbage();
    const before = process.memoryUsage().arrayBuffers;
    let received = 0;
    client.on('data', (b: Buffer) => (received += b.length));
    client.resume();
    await new Promise<void>((resolve, reject) => {
      client.on('end', () => resolve());
      client.on('error', reject);
    });
    assert.equal(received, total, 'every byte arrives once the client reads');
    collectGarbage();
    const kept = process.memoryUsage().arrayBuffers - before;
    assert.ok(kept < 64 * 1024 * 1024, `the proxy holds on to nothing of the transfer: ${(kept / 1e6).toFixed(1)} MB kept`);
  });

  test('backpressure upstream: a backend that does not read holds the client back', async () => {
    const total = 256 * 1024 * 1024;
    let received = 0;
    const backend: { socket: net.Socket | null } = { socket: null };
    const server = net.createServer((s) => {
      backend.socket = s;
      cleanups.push(() => {
        s.destroy();
      });
      s.pause();
      s.on('data', (b: Buffer) => (received += b.length));
    });
    await new Promise<void>((r) => server.listen(0, LOCAL, r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const a = server.address();
    const proxy = newProxy();
    const port = (await proxy.reconcile(plan(frontend('upload', 'TCP', [ep(typeof a === 'object' && a !== null ? a.port : 0)])))).get('upload') ?? 0;
    const client = net.connect({ host: LOCAL, port });
    cleanups.push(() => {
      client.destroy();
    });
    await new Promise((r) => client.once('connect', r));
    let flushed = 0;
    const chunk = Buffer.alloc(64 * 1024, 2);
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        sent += chunk.length;
        if (!client.write(chunk, () => (flushed += chunk.length))) {
          client.once('drain', pump);
          return;
        }
      }
      client.end();
    };
    pump();
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(flushed < 64 * 1024 * 1024, `the client is held back: ${(flushed / 1e6).toFixed(1)} MB accepted`);
    const upstream = backend.socket;
    assert.ok(upstream !== null);
    upstream.resume();
    await new Promise<void>((resolve) => upstream.on('end', () => resolve()));
    assert.equal(received, total, 'every byte arrives once the backend reads');
  });

  test('listeners follow plan changes: a removed frontend\'s open connection finishes, the others are untouched', async () => {
    const echoPort = await echoServer();
    const other = await namedServer('other');
    // Listeners from a range outside the ephemeral ports, on an address of their own: the removed
    // listener's port is then free for no one else (a port the kernel picked could be taken at
    // once by another socket, the new frontend's listener among them, and accept the connection).
    const ip = privateLoopbackIP();
    const base = await quietPort(ip, 2);
    const proxy = new UserspaceProxy({ family: 'IPv4', portRange: { base, size: 3 }, udpIdleTimeoutMs: 250, log: SILENT_LOG, listenIP: ip });
    cleanups.push(() => proxy.close());
    const first = await proxy.reconcile(plan(frontend('old', 'TCP', [ep(echoPort)]), frontend('keep', 'TCP', [ep(other)])));
    const oldPort = first.get('old') ?? 0;
    const keepPort = first.get('keep') ?? 0;
    const conn = net.connect({ host: ip, port: oldPort, allowHalfOpen: true });
    await new Promise((r) => conn.once('connect', r));
    let echoed = '';
    conn.on('data', (b: Buffer) => (echoed += b.toString()));
    conn.write('one ');
    const second = await proxy.reconcile(plan(frontend('keep', 'TCP', [ep(other)]), frontend('new', 'TCP', [ep(other)])));
    assert.equal(second.get('keep'), keepPort, 'an unchanged frontend keeps its port');
    assert.equal(second.has('old'), false);
    assert.notEqual(second.get('new'), oldPort, 'next-fit: the new frontend takes the range\'s next port');
    await assert.rejects(exchange(oldPort, 'hello', ip), /ECONNREFUSED/, 'the removed listener takes no new connection');
    conn.end('two');
    await new Promise((r) => conn.once('end', r));
    assert.equal(echoed, 'one two', 'the open connection ran to its end');
    assert.equal(await exchange(keepPort, 'hello', ip), 'other');
    assert.equal(await exchange(second.get('new') ?? 0, 'hello', ip), 'other');
  });

  test('an endpoint removed from the plan gets no new connection while its open one continues', async () => {
    const echoPort = await echoServer();
    const other = await namedServer('other');
    const proxy = newProxy();
    const port = (await proxy.reconcile(plan(frontend('svc', 'TCP', [ep(echoPort)])))).get('svc') ?? 0;
    const conn = net.connect({ host: LOCAL, port, allowHalfOpen: true });
    await new Promise((r) => conn.once('connect', r));
    let echoed = '';
    const echo = new Promise<void>((resolve) => conn.on('data', (b: Buffer) => {
      echoed += b.toString();
      if (echoed === 'ping ') resolve();
    }));
    conn.write('ping ');
    // The echo proves the proxy dialled the endpoint for this connection before the plan changes.
    await echo;
    await proxy.reconcile(plan(frontend('svc', 'TCP', [ep(other)])));
    for (let i = 0; i < 4; i++) assert.equal(await exchange(port), 'other');
    assert.deepEqual(proxy.stats()['svc']?.protocol === 'TCP' ? proxy.stats()['svc'] : null, {
      protocol: 'TCP', port, accepted: 5, active: 1, failed: 0, activeByEndpoint: { [`${LOCAL}:${echoPort}`]: 1 },
    });
    conn.end('pong');
    await new Promise((r) => conn.once('end', r));
    assert.equal(echoed, 'ping pong');
  });

  test('a port range: listeners take ports from it, next-fit, skipping ports in use', async () => {
    // Outside the kernel's ephemeral range and on a loopback address no other test uses, so that
    // no parallel test's socket can hold base+1 or base+2 (which made this test flaky in CI).
    const RANGE_IP = '127.0.0.77';
    const { base, close } = await blockRangeStart(RANGE_IP);
    cleanups.push(close);
    const proxy = new UserspaceProxy({ family: 'IPv4', portRange: { base, size: 3 }, udpIdleTimeoutMs: 250, log: SILENT_LOG, listenIP: RANGE_IP });
    cleanups.push(() => proxy.close());
    const ports = await proxy.reconcile(plan(frontend('x', 'TCP', []), frontend('y', 'TCP', [])));
    assert.deepEqual([ports.get('x'), ports.get('y')], [base + 1, base + 2]);
    // The range is exhausted: z gets no port (and is logged), x and y keep theirs.
    const errors: string[] = [];
    const logged = new UserspaceProxy({
      family: 'IPv4', portRange: { base, size: 3 }, udpIdleTimeoutMs: 250, listenIP: RANGE_IP,
      log: { ...SILENT_LOG, error: (msg, fields) => errors.push(`${msg} ${String(fields?.['frontend'])}: ${String(fields?.['error'])}`) },
    });
    cleanups.push(() => logged.close());
    await proxy.close();
    const more = await logged.reconcile(plan(frontend('x', 'TCP', []), frontend('y', 'TCP', []), frontend('z', 'TCP', [])));
    assert.deepEqual([more.get('x'), more.get('y'), more.has('z')], [base + 1, base + 2, false]);
    assert.equal(errors.length, 1);
    assert.match(errors[0] ?? '', /not proxied z: .*no remaining ports left/);
  });
});

/** Listens on a random port in 20000-29990 of `ip` (the start of a test range); retries a taken one. */
async function blockRangeStart(ip: string): Promise<{ base: number; close: () => Promise<void> }> {
  for (let attempt = 0; ; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 9990);
    const blocker = net.createServer();
    const bound = await new Promise<boolean>((resolve) => {
      blocker.once('error', () => resolve(false));
      blocker.listen(base, ip, () => resolve(true));
    });
    if (bound) return { base, close: () => new Promise<void>((r) => blocker.close(() => r())) };
    if (attempt > 20) throw new Error(`no free port found to start a test range on ${ip}`);
  }
}

describe('UDP', () => {
  async function udpNamed(name: string): Promise<number> {
    const s = dgram.createSocket('udp4');
    s.on('message', (_m, r) => s.send(name, r.port, r.address));
    await new Promise<void>((r) => s.bind(0, LOCAL, r));
    cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
    return s.address().port;
  }

  /**
   * One client socket; sends `count` datagrams, waiting for each reply (up to `replyTimeoutMs`:
   * long where a reply must come, so that a loaded machine is not taken for a lost one), `gapMs` apart.
   */
  async function ask(port: number, count: number, gapMs = 0, replyTimeoutMs = 10_000): Promise<string[]> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, LOCAL, r));
    const out: string[] = [];
    try {
      for (let i = 0; i < count; i++) {
        const reply = new Promise<string>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('timeout')), replyTimeoutMs);
          s.once('message', (m) => {
            clearTimeout(t);
            resolve(m.toString());
          });
        });
        s.send('who', port, LOCAL);
        out.push(await reply);
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
      }
    } finally {
      s.close();
    }
    return out;
  }

  test('a session per client stays on one endpoint; new clients take turns', async () => {
    const ports = await Promise.all(['u1', 'u2'].map(udpNamed));
    // An idle timeout far above the gaps between datagrams: a stalled moment must not end the session.
    const proxy = newProxy(10_000);
    const port = (await proxy.reconcile(plan(frontend('dns', 'UDP', ports.map(ep))))).get('dns') ?? 0;
    const one = await ask(port, 5);
    assert.equal(new Set(one).size, 1, `one session, one endpoint: ${one.join(',')}`);
    const clients = await Promise.all([ask(port, 1), ask(port, 1), ask(port, 1), ask(port, 1)]);
    assert.deepEqual([...new Set(clients.flat())].sort(), ['u1', 'u2']);
  });

  test('an idle session ends after --udp-timeout; the next datagram is balanced again', async () => {
    const ports = await Promise.all(['v1', 'v2'].map(udpNamed));
    const proxy = newProxy(100);
    const port = (await proxy.reconcile(plan(frontend('idle', 'UDP', ports.map(ep))))).get('idle') ?? 0;
    const replies = await ask(port, 4, 250);
    assert.deepEqual(replies, ['v1', 'v2', 'v1', 'v2'].map((_, i) => replies[i % 2 === 0 ? 0 : 1]));
    assert.notEqual(replies[0], replies[1], 'each pause ended the session');
    const stats = proxy.stats()['idle'];
    assert.ok(stats?.protocol === 'UDP' && stats.sessionsOpened === 4, JSON.stringify(stats));
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(proxy.stats()['idle']?.protocol === 'UDP' && (proxy.stats()['idle'] as { sessions: number }).sessions === 0);
  });

  test('an endpoint answering with ICMP port unreachable ends its session and is passed over by the next ones', async () => {
    const live = await udpNamed('alive');
    const dead = await deadEndpoint();
    const proxy = new UserspaceProxy({ family: 'IPv4', portRange: null, udpIdleTimeoutMs: 5000, log: SILENT_LOG, listenIP: LOCAL, balancer: { shuffle: () => undefined, failedEndpointHoldMs: 60_000 } });
    cleanups.push(() => proxy.close());
    const port = (await proxy.reconcile(plan(frontend('icmp', 'UDP', [dead, ep(live)])))).get('icmp') ?? 0;
    await assert.rejects(ask(port, 1, 0, 1000), /timeout/, 'the first session went to the dead endpoint');
    // The ICMP error is handled by the event loop after the client's timer: give it its turn.
    for (let i = 0; i < 100 && proxy.balancer.failingEndpoints('icmp').length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(proxy.balancer.failingEndpoints('icmp'), [dead.endpoint]);
    assert.equal((proxy.stats()['icmp'] as { sessions: number }).sessions, 0, 'the refused session ended before its idle timeout');
    const clients = await Promise.all([ask(port, 1), ask(port, 1), ask(port, 1), ask(port, 1)]);
    assert.deepEqual(clients.flat(), ['alive', 'alive', 'alive', 'alive']);
  });
});
