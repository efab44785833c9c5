/**
 * Connecting to a backend for a new client connection (kube-proxy's TryConnectEndpoints,
 * reference B.6): up to four attempts with growing timeouts; a failed attempt moves on to the
 * next endpoint in turn and stops honouring the client's affinity record.
 */
import type { FrontendEndpoint } from '../../dataplanes/userspace/plan.js';
import type { RoundRobinBalancer } from './balancer.js';
import { BackendStream } from './backend-stream.js';

/** kube-proxy's EndpointDialTimeouts. */
export const ENDPOINT_DIAL_TIMEOUTS_MS: readonly number[] = [250, 500, 1000, 2000];

export interface DialFailure {
  readonly endpoint: string;
  readonly error: string;
}

export type DialResult =
  | { readonly ok: true; readonly backend: BackendStream; readonly endpoint: FrontendEndpoint; readonly failures: readonly DialFailure[] }
  | { readonly ok: false; readonly reason: 'no-endpoints' | 'all-failed' | 'aborted'; readonly failures: readonly DialFailure[] };

/** One TCP connect with a deadline; resolves with the connected backend or the error text. */
function connectWithTimeout(endpoint: FrontendEndpoint, timeoutMs: number): Promise<BackendStream | string> {
  return new Promise((resolve) => {
    const backend = new BackendStream();
    const socket = backend.socket;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(`dial tcp ${endpoint.endpoint}: i/o timeout after ${timeoutMs} ms`);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(backend);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(`dial tcp ${endpoint.endpoint}: ${err.code ?? err.message}`);
    });
    socket.connect({ host: endpoint.ip, port: endpoint.port });
  });
}

export interface DialOptions {
  readonly timeoutsMs?: readonly number[];
  /** True once the client has gone away (stop trying). */
  readonly aborted?: () => boolean;
  readonly connect?: (endpoint: FrontendEndpoint, timeoutMs: number) => Promise<BackendStream | string>;
}

export async function dialEndpoint(
  balancer: RoundRobinBalancer,
  frontendId: string,
  clientIP: string,
  options: DialOptions = {},
): Promise<DialResult> {
  const failures: DialFailure[] = [];
  const connect = options.connect ?? connectWithTimeout;
  let resetAffinity = false;
  for (const timeout of options.timeoutsMs ?? ENDPOINT_DIAL_TIMEOUTS_MS) {
    if (options.aborted?.() === true) return { ok: false, reason: 'aborted', failures };
    const endpoint = balancer.next(frontendId, clientIP, resetAffinity);
    if (endpoint === null) return { ok: false, reason: 'no-endpoints', failures };
    const result = await connect(endpoint, timeout);
    if (typeof result !== 'string') return { ok: true, backend: result, endpoint, failures };
    failures.push({ endpoint: endpoint.endpoint, error: result });
    resetAffinity = true;
  }
  return { ok: false, reason: 'all-failed', failures };
}
