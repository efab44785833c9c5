/**
 * A small HTTP load generator over raw sockets (`ip netns exec NS node load-client.js JOB-JSON`),
 * used by the mode benchmark and the userspace e2e tests. Prints one JSON LoadResult.
 *
 * - `requests`: C connections send requests back to back for `durationMs`; with `keepAlive` each
 *   connection carries many requests (`GET /keepalive`), without it every request opens a new
 *   connection (`GET /`, which the pod server closes). Latency per request, from write to the
 *   last byte of the reply (plus the connect when it is a new connection).
 * - `bulk`: C connections each download `bytes` bytes (`GET /bytes/N`), optionally reading at
 *   most `readRate` bytes per second.
 * - `hold`: C connections at once to `/slow?ms=holdMs`, so that all are open together.
 */
import net from 'node:net';
import { runJsonProgram } from '../../src/runtime/exec/json-program.js';

export type LoadJob =
  | { readonly kind: 'requests'; readonly ip: string; readonly port: number; readonly connections: number; readonly durationMs: number; readonly keepAlive: boolean }
  | { readonly kind: 'bulk'; readonly ip: string; readonly port: number; readonly connections: number; readonly bytes: number; readonly readRate?: number }
  | { readonly kind: 'hold'; readonly ip: string; readonly port: number; readonly connections: number; readonly holdMs: number; readonly timeoutMs: number };

export interface LoadResult {
  readonly kind: LoadJob['kind'];
  readonly requests: number;
  readonly errors: number;
  readonly errorKinds: Readonly<Record<string, number>>;
  readonly durationMs: number;
  readonly requestsPerSecond: number;
  readonly bytes: number;
  readonly megabytesPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number } | null;
  /** Replies per pod (requests and hold jobs, from the reply body). */
  readonly byPod: Readonly<Record<string, number>>;
}

const HEADER_END = Buffer.from('\r\n\r\n');

interface Reply {
  readonly status: number;
  readonly body: Buffer;
  /** Bytes of the body (also counted when the body is not kept). */
  readonly bodyBytes: number;
}

/** Reads HTTP/1.1 responses (Content-Length bodies) from a socket, one at a time. */
class ReplyReader {
  private buffered: Buffer = Buffer.alloc(0);
  private want: ((r: Reply | Error) => void) | null = null;
  private headerLength = -1;
  private contentLength = -1;
  private status = 0;
  private received = 0;
  private readonly bodyParts: Buffer[] = [];

  constructor(private readonly socket: net.Socket, private readonly keepBody: boolean) {
    socket.on('data', (chunk: Buffer) => this.feed(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('end', () => this.fail(new Error('ECONNRESET: closed before the reply ended')));
  }

  next(): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.want = (r) => (r instanceof Error ? reject(r) : resolve(r));
      this.feed(Buffer.alloc(0));
    });
  }

  private fail(err: Error): void {
    const w = this.want;
    this.want = null;
    w?.(err);
  }

  private feed(chunk: Buffer): void {
    if (this.headerLength < 0) {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      const end = this.buffered.indexOf(HEADER_END);
      if (end < 0) return;
      const head = this.buffered.subarray(0, end).toString('latin1');
      this.status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      this.contentLength = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? -1);
      this.headerLength = end + HEADER_END.length;
      chunk = this.buffered.subarray(this.headerLength);
      this.buffered = Buffer.alloc(0);
    }
    if (chunk.length > 0) {
      const take = Math.min(chunk.length, this.contentLength - this.received);
      this.received += take;
      if (this.keepBody) this.bodyParts.push(chunk.subarray(0, take));
      if (take < chunk.length) this.buffered = chunk.subarray(take);
    }
    if (this.received >= this.contentLength && this.want !== null) {
      const reply: Reply = { status: this.status, body: Buffer.concat(this.bodyParts), bodyBytes: this.received };
      const w = this.want;
      this.want = null;
      this.headerLength = -1;
      this.received = 0;
      this.contentLength = -1;
      this.bodyParts.length = 0;
      const rest = this.buffered;
      this.buffered = Buffer.alloc(0);
      w(reply);
      if (rest.length > 0) this.feed(rest);
    }
  }
}

function connect(ip: string, port: number, timeoutMs = 5000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: ip, port, noDelay: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function podOf(body: Buffer): string | null {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { pod?: unknown };
    return typeof parsed.pod === 'string' ? parsed.pod : null;
  } catch {
    return null;
  }
}

class Tally {
  requests = 0;
  bytes = 0;
  readonly latencies: number[] = [];
  readonly errorKinds: Record<string, number> = {};
  readonly byPod: Record<string, number> = {};

  error(err: unknown): void {
    const kind = err instanceof Error ? (('code' in err && typeof err.code === 'string' ? err.code : err.message.split(':')[0]) ?? 'error') : String(err);
    this.errorKinds[kind] = (this.errorKinds[kind] ?? 0) + 1;
  }

  reply(r: Reply, startedNs: bigint): void {
    if (r.status !== 200) {
      this.error(new Error(`http-${r.status}`));
      return;
    }
    this.requests++;
    this.bytes += r.bodyBytes;
    this.latencies.push(Number(process.hrtime.bigint() - startedNs) / 1e6);
    if (r.body.length > 0) {
      const pod = podOf(r.body);
      if (pod !== null) this.byPod[pod] = (this.byPod[pod] ?? 0) + 1;
    }
  }

  result(kind: LoadJob['kind'], durationMs: number): LoadResult {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number): number => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0) * 1000) / 1000;
    const errors = Object.values(this.errorKinds).reduce((a, b) => a + b, 0);
    return {
      kind,
      requests: this.requests,
      errors,
      errorKinds: this.errorKinds,
      durationMs: Math.round(durationMs),
      requestsPerSecond: Math.round((this.requests / durationMs) * 1000),
      bytes: this.bytes,
      megabytesPerSecond: Math.round((this.bytes / 1e6 / (durationMs / 1000)) * 10) / 10,
      latencyMs: sorted.length === 0 ? null : { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) },
      byPod: this.byPod,
    };
  }
}

function request(path: string, close: boolean): Buffer {
  return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: service\r\n${close ? 'Connection: close\r\n' : ''}\r\n`);
}

async function runRequests(job: Extract<LoadJob, { kind: 'requests' }>, tally: Tally): Promise<void> {
  const deadline = Date.now() + job.durationMs;
  const keepAliveRequest = request('/keepalive', false);
  const closeRequest = request('/', true);
  const worker = async (): Promise<void> => {
    let socket: net.Socket | null = null;
    let reader: ReplyReader | null = null;
    while (Date.now() < deadline) {
      const started = process.hrtime.bigint();
      try {
        if (socket === null || reader === null || !job.keepAlive) {
          socket = await connect(job.ip, job.port);
          reader = new ReplyReader(socket, true);
        }
        const pending = reader.next();
        socket.write(job.keepAlive ? keepAliveRequest : closeRequest);
        tally.reply(await pending, started);
        if (!job.keepAlive) socket.destroy();
      } catch (err) {
        tally.error(err);
        socket?.destroy();
        socket = null;
        reader = null;
      }
    }
    socket?.destroy();
  };
  await Promise.all(Array.from({ length: job.connections }, worker));
}

async function runBulk(job: Extract<LoadJob, { kind: 'bulk' }>, tally: Tally): Promise<void> {
  const one = async (): Promise<void> => {
    const started = process.hrtime.bigint();
    try {
      const socket = await connect(job.ip, job.port);
      const reader = new ReplyReader(socket, false);
      const pending = reader.next();
      if (job.readRate !== undefined) throttle(socket, job.readRate);
      socket.write(request(`/bytes/${job.bytes}`, true));
      const reply = await pending;
      socket.destroy();
      if (reply.bodyBytes !== job.bytes) throw new Error(`short-body: ${reply.bodyBytes} of ${job.bytes} bytes`);
      tally.reply(reply, started);
    } catch (err) {
      tally.error(err);
    }
  };
  await Promise.all(Array.from({ length: job.connections }, one));
}

/** Reads at most `rate` bytes per second: pauses the socket whenever it is ahead. */
function throttle(socket: net.Socket, rate: number): void {
  const start = Date.now();
  let seen = 0;
  socket.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    const aheadMs = (seen / rate) * 1000 - (Date.now() - start);
    if (aheadMs > 0) {
      socket.pause();
      setTimeout(() => socket.resume(), aheadMs);
    }
  });
}

async function runHold(job: Extract<LoadJob, { kind: 'hold' }>, tally: Tally): Promise<void> {
  const one = async (): Promise<void> => {
    const started = process.hrtime.bigint();
    let socket: net.Socket | null = null;
    try {
      const s = await connect(job.ip, job.port, job.timeoutMs);
      socket = s;
      const reader = new ReplyReader(s, true);
      const pending = reader.next();
      s.write(request(`/slow?ms=${job.holdMs}`, true));
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), job.timeoutMs).unref());
      tally.reply(await Promise.race([pending, timeout]), started);
    } catch (err) {
      tally.error(err);
    } finally {
      socket?.destroy();
    }
  };
  await Promise.all(Array.from({ length: job.connections }, one));
}

export async function runLoad(job: LoadJob): Promise<LoadResult> {
  const tally = new Tally();
  const started = Date.now();
  switch (job.kind) {
    case 'requests':
      await runRequests(job, tally);
      break;
    case 'bulk':
      await runBulk(job, tally);
      break;
    case 'hold':
      await runHold(job, tally);
      break;
  }
  return tally.result(job.kind, Date.now() - started);
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '\u0000');
if (isMain) runJsonProgram('load-client', 'JOB-JSON', (job) => runLoad(job as LoadJob));
