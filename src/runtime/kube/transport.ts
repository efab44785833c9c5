/**
 * HTTP to the API server: GET a JSON document, or open a watch stream and read its events one
 * JSON line at a time. Authentication and TLS come from client-node's KubeConfig (re-applied
 * per request, so rotating tokens are picked up); the bodies stay raw JSON so that objects from
 * the API take exactly the decode path of objects from files.
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { KproxyError } from '../../core/errors.js';

export type Query = Readonly<Record<string, string | undefined>>;

/** An API error answer (a `Status` object, or a bare HTTP error). */
export class KubeApiError extends KproxyError {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super('E_API', message);
  }
}

export interface WatchEvent {
  readonly type: string;
  readonly object: unknown;
}

export interface WatchHandlers {
  /** The stream answered 200; events follow. */
  onOpen(): void;
  onEvent(event: WatchEvent): void;
  /** The stream ended: `null` when the server closed it cleanly. Not called after abort(). */
  onClose(error: Error | null): void;
}

export interface WatchHandle {
  abort(): void;
}

/** The part of the client the reflectors use (a fake can stand in for it). */
export interface KubeClient {
  readonly server: string;
  getJSON(path: string, query: Query): Promise<unknown>;
  watch(path: string, query: Query, handlers: WatchHandlers): WatchHandle;
}

const USER_AGENT = 'kproxy/0.1.0';
const REQUEST_TIMEOUT_MS = 60_000;

function statusError(code: number, body: string): KubeApiError {
  try {
    const s = JSON.parse(body) as { reason?: unknown; message?: unknown };
    const reason = typeof s.reason === 'string' ? s.reason : '';
    const message = typeof s.message === 'string' ? s.message : body.trim();
    return new KubeApiError(code, reason, `HTTP ${code}${reason === '' ? '' : ` ${reason}`}: ${message}`);
  } catch {
    return new KubeApiError(code, '', `HTTP ${code}: ${body.trim().slice(0, 200) || http.STATUS_CODES[code] || 'error'}`);
  }
}

/** A watch ERROR event carries a Status; its code says what went wrong (410: expired). */
export function errorEventStatus(object: unknown): KubeApiError {
  const s = (typeof object === 'object' && object !== null ? object : {}) as { code?: unknown; reason?: unknown; message?: unknown };
  const code = typeof s.code === 'number' ? s.code : 500;
  const reason = typeof s.reason === 'string' ? s.reason : '';
  const message = typeof s.message === 'string' ? s.message : 'watch error';
  return new KubeApiError(code, reason, `watch error ${code}${reason === '' ? '' : ` ${reason}`}: ${message}`);
}

export class HttpKubeClient implements KubeClient {
  readonly server: string;

  constructor(private readonly kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new KproxyError('E_CONFIG', 'the kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
  }

  private url(path: string, query: Query): URL {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
    return url;
  }

  private async request(url: URL): Promise<http.ClientRequest> {
    const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json', 'User-Agent': USER_AGENT } };
    await this.kc.applyToHTTPSOptions(opts);
    const mod = url.protocol === 'https:' ? https : http;
    return mod.request(url, opts);
  }

  async getJSON(path: string, query: Query): Promise<unknown> {
    const url = this.url(path, query);
    const req = await this.request(url);
    return new Promise((resolve, reject) => {
      req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`no answer from ${url.host} in ${REQUEST_TIMEOUT_MS / 1000}s`)));
      req.on('error', reject);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          if (code !== 200) return reject(statusError(code, body));
          try {
            resolve(JSON.parse(body) as unknown);
          } catch (cause) {
            reject(new KproxyError('E_PARSE', `GET ${url.pathname}: the answer is not JSON`, { cause }));
          }
        });
      });
      req.end();
    });
  }

  watch(path: string, query: Query, handlers: WatchHandlers): WatchHandle {
    let aborted = false;
    let closed = false;
    let req: http.ClientRequest | null = null;
    const close = (err: Error | null): void => {
      if (aborted || closed) return;
      closed = true;
      req?.destroy();
      handlers.onClose(err);
    };
    const url = this.url(path, { ...query, watch: 'true' });
    this.request(url).then(
      (r) => {
        req = r;
        if (aborted) {
          r.destroy();
          return;
        }
        r.on('error', (e) => close(e));
        r.on('response', (res) => readStream(res, handlers, close, () => !aborted && !closed));
        r.end();
      },
      (err: unknown) => close(err instanceof Error ? err : new Error(String(err))),
    );
    return {
      abort: () => {
        aborted = true;
        req?.destroy();
      },
    };
  }
}

function readStream(res: http.IncomingMessage, handlers: WatchHandlers, close: (err: Error | null) => void, live: () => boolean): void {
  const code = res.statusCode ?? 0;
  if (code !== 200) {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => close(statusError(code, Buffer.concat(chunks).toString('utf8'))));
    res.on('error', (e) => close(e));
    return;
  }
  handlers.onOpen();
  let pending = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    pending += chunk;
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
      if (!live()) return;
      if (line === '') continue;
      let event: WatchEvent;
      try {
        event = JSON.parse(line) as WatchEvent;
      } catch {
        close(new KproxyError('E_PARSE', `watch stream: a line is not JSON: ${line.slice(0, 120)}`));
        return;
      }
      handlers.onEvent(event);
    }
  });
  res.on('error', (e) => close(e));
  res.on('aborted', () => close(new Error('the watch connection was cut')));
  res.on('end', () => close(res.complete ? null : new Error('the watch connection was cut')));
}
