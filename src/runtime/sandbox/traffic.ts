/**
 * Sends test traffic from inside a namespace: one child process (`ip netns exec NS node
 * client.js`) runs all N requests and reports per-pod counts, the sources pods saw, and errors.
 */
import { KproxyError } from '../../core/errors.js';
import { runCommand, type RunOptions, type RunResult } from '../exec/run.js';
import { CLIENT_SCRIPT } from './processes.js';
import type { TrafficProtocol, TrafficRequest, TrafficResult } from './traffic-types.js';

export interface TrafficOptions {
  /** Number of requests (default 100). */
  readonly count?: number;
  /** Requests in flight at once (default 4). */
  readonly concurrency?: number;
  /** Per-request timeout in ms (default 2000). */
  readonly timeoutMs?: number;
  /** Local address to send from (must exist in the namespace). */
  readonly sourceIP?: string;
  /** Local port to send from (use with concurrency 1). */
  readonly sourcePort?: number;
}

/** Runs a command inside a network namespace (`ip netns exec NS argv...`). */
export function execInNetns(netns: string, argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return runCommand(['ip', 'netns', 'exec', netns, ...argv], options);
}

export async function sendRequests(
  netns: string,
  protocol: TrafficProtocol,
  ip: string,
  port: number,
  options: TrafficOptions = {},
): Promise<TrafficResult> {
  const request: TrafficRequest = {
    protocol,
    ip,
    port,
    count: options.count ?? 100,
    concurrency: options.concurrency ?? 4,
    timeoutMs: options.timeoutMs ?? 2000,
    sourceIP: options.sourceIP ?? null,
    sourcePort: options.sourcePort ?? null,
  };
  const budget = Math.ceil(request.count / request.concurrency + 1) * request.timeoutMs + 10_000;
  const result = await execInNetns(netns, [process.execPath, CLIENT_SCRIPT, JSON.stringify(request)], {
    timeoutMs: budget,
  });
  try {
    return JSON.parse(result.stdout) as TrafficResult;
  } catch (err) {
    throw new KproxyError('E_SANDBOX', `traffic client in ${netns} printed no result: ${result.stdout.slice(0, 200)}`, {
      cause: err,
    });
  }
}

/** N HTTP requests (a new TCP connection each) from `netns` to ip:port. */
export function httpRequests(netns: string, ip: string, port: number, options?: TrafficOptions): Promise<TrafficResult> {
  return sendRequests(netns, 'tcp', ip, port, options);
}

/** N UDP datagrams (a new socket each) from `netns` to ip:port; each waits for the reply. */
export function udpRequests(netns: string, ip: string, port: number, options?: TrafficOptions): Promise<TrafficResult> {
  return sendRequests(netns, 'udp', ip, port, options);
}
