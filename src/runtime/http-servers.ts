/**
 * The health server (`/healthz`, `/livez`) and the metrics server (`/metrics`, `/proxyMode`,
 * `/healthz`), with kube-proxy's paths, status codes, headers and bodies (reference C.3).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BindAddress } from './bind-address.js';
import type { ProxyHealth } from './health.js';
import type { ProxyMetrics } from './metrics.js';

export interface RunningServer {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

function listen(server: http.Server, bind: BindAddress): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(bind.port, bind.host === '' ? undefined : bind.host, () => {
      server.off('error', reject);
      resolve({
        address: server.address() as AddressInfo,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** One whole response with its Content-Length (as Go's server sends a short body), not chunked. */
function send(res: http.ServerResponse, code: number, headers: Readonly<Record<string, string>>, body: string): void {
  res.writeHead(code, { ...headers, 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}

const TEXT = { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' };

function sendJSON(res: http.ServerResponse, code: number, body: unknown): void {
  send(res, code, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' }, JSON.stringify(body));
}

export function startHealthServer(bind: BindAddress, health: ProxyHealth, metrics: ProxyMetrics): Promise<RunningServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz' && path !== '/livez') {
      send(res, 404, TEXT, '404 page not found\n');
      return;
    }
    const r = health.report();
    if (path === '/healthz') {
      const ok = r.healthy && health.nodeEligible;
      const code = ok ? 200 : 503;
      metrics.healthzTotal.inc({ code: String(code) });
      sendJSON(res, code, {
        lastUpdated: r.lastUpdated,
        currentTime: r.currentTime,
        nodeEligible: health.nodeEligible,
        healthy: ok,
        status: r.status,
      });
    } else {
      const code = r.healthy ? 200 : 503;
      metrics.livezTotal.inc({ code: String(code) });
      sendJSON(res, code, { lastUpdated: r.lastUpdated, currentTime: r.currentTime, healthy: r.healthy, status: r.status });
    }
  });
  return listen(server, bind);
}

/** `configz` gives kube-proxy's /configz body (the effective configuration); without it /configz is 404. */
export function startMetricsServer(
  bind: BindAddress,
  metrics: ProxyMetrics,
  mode: string,
  configz?: () => unknown,
): Promise<RunningServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/configz' && configz !== undefined) {
      sendJSON(res, 200, configz());
      return;
    }
    switch (path) {
      case '/metrics':
        metrics.registry.metrics().then(
          (text) => {
            res.writeHead(200, { 'Content-Type': metrics.registry.contentType });
            res.end(text);
          },
          (err: unknown) => {
            res.writeHead(500);
            res.end(String(err));
          },
        );
        return;
      case '/proxyMode':
        send(res, 200, TEXT, mode);
        return;
      case '/healthz':
        send(res, 200, TEXT, 'ok');
        return;
      default:
        send(res, 404, TEXT, '404 page not found\n');
    }
  });
  return listen(server, bind);
}

export interface RetryOptions {
  /** kube-proxy's bindAddressHardFail: a listen failure is fatal instead of retried. */
  readonly hardFail: boolean;
  readonly retryMs?: number;
  readonly onRetry: (err: Error, retryInMs: number) => void;
}

/**
 * Starts a server; when it cannot listen, retries every 5 s in the background (kube-proxy),
 * or throws when hardFail is set. The returned handle closes whichever server eventually runs.
 */
export async function startWithRetry(start: () => Promise<RunningServer>, o: RetryOptions): Promise<{ close(): Promise<void> }> {
  const retryMs = o.retryMs ?? 5000;
  let running: RunningServer | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;
  const attempt = async (): Promise<void> => {
    try {
      running = await start();
      if (closed) await running.close();
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      if (o.hardFail) throw error;
      o.onRetry(error, retryMs);
      if (!closed) timer = setTimeout(() => void attempt(), retryMs);
    }
  };
  await attempt();
  return {
    close: async () => {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      await running?.close();
    },
  };
}
