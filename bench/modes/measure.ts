/**
 * One measurement of the mode benchmark, run inside a sandbox namespace: request throughput and
 * latency with `wrk` (Debian's package) or, without it, kproxy's own load client; bulk
 * throughput with `curl`.
 */
import { fileURLToPath } from 'node:url';
import type { Sandbox } from '../../src/runtime/sandbox/index.js';
import type { LoadResult } from './load-client.js';

const LOAD_CLIENT = fileURLToPath(new URL('./load-client.js', import.meta.url));

export interface RequestStats {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

export type LoadTool = 'wrk' | 'kproxy-load-client';

export interface RequestRun {
  readonly netns: string;
  readonly url: { readonly ip: string; readonly port: number };
  readonly keepAlive: boolean;
  readonly connections: number;
  readonly seconds: number;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  switch (unit) {
    case 'us':
      return n / 1000;
    case 'ms':
      return n;
    case 's':
      return n * 1000;
    default:
      return NaN;
  }
}

/** Reads `wrk --latency` output. */
export function parseWrk(text: string): RequestStats {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const pct = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(text);
    return m === null ? NaN : toMs(m[1] ?? '', m[2] ?? '');
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  // With `Connection: close` wrk counts each server-side close as a read "error"; only connect,
  // write and timeout errors are failures.
  const errors = socket === null ? 0 : Number(socket[1]) + Number(socket[3]) + Number(socket[4]);
  return { requestsPerSecond: Math.round(rps), p50Ms: pct('50'), p99Ms: pct('99'), errors: errors + non2xx };
}

export async function measureRequests(sb: Sandbox, tool: LoadTool, run: RequestRun): Promise<RequestStats> {
  const path = run.keepAlive ? '/keepalive' : '/';
  const timeoutMs = (run.seconds + 30) * 1000;
  if (tool === 'wrk') {
    const argv = ['wrk', '-t1', `-c${run.connections}`, `-d${run.seconds}s`, '--latency', '--timeout', '5s'];
    if (!run.keepAlive) argv.push('-H', 'Connection: close');
    argv.push(`http://${run.url.ip}:${run.url.port}${path}`);
    const r = await sb.exec(run.netns, argv, { timeoutMs });
    return parseWrk(r.stdout);
  }
  const job = { kind: 'requests', ip: run.url.ip, port: run.url.port, connections: run.connections, durationMs: run.seconds * 1000, keepAlive: run.keepAlive };
  const r = await sb.exec(run.netns, [process.execPath, LOAD_CLIENT, JSON.stringify(job)], { timeoutMs });
  const result = JSON.parse(r.stdout) as LoadResult;
  return {
    requestsPerSecond: result.requestsPerSecond,
    p50Ms: result.latencyMs?.p50 ?? NaN,
    p99Ms: result.latencyMs?.p99 ?? NaN,
    errors: result.errors,
  };
}

/** MB/s (10^6 bytes) of one `curl` download of `bytes` bytes; the median of `repeat` runs. */
export async function measureBulk(sb: Sandbox, netns: string, url: { ip: string; port: number }, bytes: number, repeat: number): Promise<number> {
  const speeds: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const r = await sb.exec(netns, ['curl', '-s', '-o', '/dev/null', '-w', '%{speed_download} %{size_download}', `http://${url.ip}:${url.port}/bytes/${bytes}`], {
      timeoutMs: 120_000,
    });
    const [speed, size] = r.stdout.trim().split(' ').map(Number);
    if (size !== bytes) throw new Error(`bulk download got ${String(size)} of ${bytes} bytes`);
    speeds.push((speed ?? 0) / 1e6);
  }
  speeds.sort((a, b) => a - b);
  return Math.round((speeds[Math.floor(speeds.length / 2)] ?? 0) * 10) / 10;
}
