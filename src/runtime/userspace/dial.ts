/**
 * Connecting to a backend for a new client connection (kube-proxy's TryConnectEndpoints,
 * reference B.6): up to four attempts with growing timeouts; a failed attempt moves on to another
 * endpoint and stops honouring the client's affinity record.
 *
 * Unlike kube-proxy, a retry never lands on an endpoint this connection already tried while an
 * untried one is left, and an endpoint that refused (or did not answer) is reported to the
 * balancer, which passes it over for a moment (see balancer.ts).
 */
import type { FrontendEndpoint } from '../../dataplanes/userspace/plan.js';
import type { RoundRobinBalancer } from './balancer.js';
import { BackendStream } from './backend-stream.js';

/** kube-proxy's EndpointDialTimeouts. */
export const ENDPOINT_DIAL_TIMEOUTS_MS: readonly number[] = [250, 500, 1000, 2000];

/** Our own code for a connect that did not finish within its attempt's timeout. */
export const DIAL_TIMEOUT_CODE = 'ETIMEDOUT';

/**
 * Connect errors that say the endpoint is dead or unreachable, as opposed to this host running
 * out of something (EMFILE, EADDRNOTAVAIL, ENOBUFS…), which says nothing about the endpoint.
 */
const ENDPOINT_FAULTS: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', DIAL_TIMEOUT_CODE]);

export function isEndpointFault(code: string): boolean {
  return ENDPOINT_FAULTS.has(code);
}

/** What one connect attempt gives: the connected value, or the error text and its code. */
export type Connected<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string; readonly code: string };

export type Connector<T> = (endpoint: FrontendEndpoint, timeoutMs: number) => Promise<Connected<T>>;

export interface DialFailure {
  readonly endpoint: string;
  readonly error: string;
}

export type DialResult<T> =
  | { readonly ok: true; readonly value: T; readonly endpoint: FrontendEndpoint; readonly failures: readonly DialFailure[] }
  | { readonly ok: false; readonly reason: 'no-endpoints' | 'all-failed' | 'aborted'; readonly failures: readonly DialFailure[] };

export interface DialOptions {
  readonly timeoutsMs?: readonly number[];
  /** True once the client has gone away (stop trying). */
  readonly aborted?: () => boolean;
}

export interface TcpDialOptions extends DialOptions {
  readonly connect?: Connector<BackendStream>;
}

/** One TCP connect with a deadline. */
export function connectTcp(endpoint: FrontendEndpoint, timeoutMs: number): Promise<Connected<BackendStream>> {
  return new Promise((resolve) => {
    const backend = new BackendStream();
    const socket = backend.socket;
    let settled = false;
    // After a stalled event loop, timers run before the I/O poll that would report a connect that
    // completed meanwhile; deciding in the check phase (after the poll) does not fail a live endpoint.
    const timer = setTimeout(() => {
      setImmediate(() => {
        if (settled) return;
        settled = true;
        socket.destroy();
        resolve({ ok: false, error: `dial tcp ${endpoint.endpoint}: i/o timeout after ${timeoutMs} ms`, code: DIAL_TIMEOUT_CODE });
      });
    }, timeoutMs);
    socket.once('connect', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve({ ok: true, value: backend });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: false, error: `dial tcp ${endpoint.endpoint}: ${err.code ?? err.message}`, code: err.code ?? 'EUNKNOWN' });
    });
    socket.connect({ host: endpoint.ip, port: endpoint.port });
  });
}

/** Tries endpoints with kube-proxy's timeouts until one connects (any transport). */
export async function dialWith<T>(
  balancer: RoundRobinBalancer,
  frontendId: string,
  clientIP: string,
  connect: Connector<T>,
  options: DialOptions = {},
): Promise<DialResult<T>> {
  const failures: DialFailure[] = [];
  const tried = new Set<string>();
  for (const timeout of options.timeoutsMs ?? ENDPOINT_DIAL_TIMEOUTS_MS) {
    if (options.aborted?.() === true) return { ok: false, reason: 'aborted', failures };
    const endpoint = balancer.next(frontendId, clientIP, { resetAffinity: failures.length > 0, tried });
    if (endpoint === null) return { ok: false, reason: 'no-endpoints', failures };
    const result = await connect(endpoint, timeout);
    if (result.ok) {
      balancer.markConnected(frontendId, endpoint.endpoint);
      return { ok: true, value: result.value, endpoint, failures };
    }
    failures.push({ endpoint: endpoint.endpoint, error: result.error });
    tried.add(endpoint.endpoint);
    if (isEndpointFault(result.code)) balancer.markFailed(frontendId, endpoint.endpoint);
  }
  return { ok: false, reason: 'all-failed', failures };
}

export function dialEndpoint(
  balancer: RoundRobinBalancer,
  frontendId: string,
  clientIP: string,
  options: TcpDialOptions = {},
): Promise<DialResult<BackendStream>> {
  return dialWith(balancer, frontendId, clientIP, options.connect ?? connectTcp, options);
}
