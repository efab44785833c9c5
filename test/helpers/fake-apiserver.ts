/**
 * A local Kubernetes API server for tests, speaking the real list/watch protocol over HTTP:
 * paged lists (`limit`/`continue`) with a resourceVersion, chunked watch streams of JSON lines
 * replaying history from a resourceVersion, BOOKMARK events, label and field selectors (objects
 * leaving a watch's selector arrive as DELETED), `410 Gone` (an ERROR event with an Expired
 * Status) for versions older than the last compaction, and switches to break it: drop every
 * open connection, stall the open streams, or stop answering altogether.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { privateLoopbackIP, quietPort } from './ports.js';

type Obj = Record<string, unknown>;
type Labels = Readonly<Record<string, string>>;

interface ResourceInfo {
  readonly kind: string;
  readonly apiVersion: string;
}

const RESOURCES: Readonly<Record<string, ResourceInfo>> = {
  '/api/v1/services': { kind: 'Service', apiVersion: 'v1' },
  '/apis/discovery.k8s.io/v1/endpointslices': { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1' },
  '/api/v1/nodes': { kind: 'Node', apiVersion: 'v1' },
};

function pathOfKind(kind: string): string {
  const path = Object.keys(RESOURCES).find((p) => RESOURCES[p]?.kind === kind);
  if (path === undefined) throw new Error(`fake API server: kind ${kind} is not served`);
  return path;
}

interface HistoryEvent {
  readonly rv: number;
  readonly path: string;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly previous: Obj | null;
  readonly object: Obj;
}

export interface RecordedRequest {
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly authorization: string;
}

interface Watcher {
  readonly path: string;
  readonly selector: (o: Obj) => boolean;
  readonly bookmarks: boolean;
  readonly res: http.ServerResponse;
  stalled: boolean;
}

function meta(o: Obj): Obj {
  const m = o['metadata'];
  return typeof m === 'object' && m !== null ? (m as Obj) : {};
}

function labelsOf(o: Obj): Labels {
  const l = meta(o)['labels'];
  return typeof l === 'object' && l !== null ? (l as Labels) : {};
}

function keyOf(o: Obj): string {
  const m = meta(o);
  const ns = typeof m['namespace'] === 'string' ? m['namespace'] : '';
  return `${ns}/${String(m['name'])}`;
}

/** Label selector terms: `k`, `!k`, `k=v`, `k==v`, `k!=v`, joined by commas (all must hold). */
export function matchesLabelSelector(selector: string, labels: Labels): boolean {
  for (const term of selector.split(',').map((t) => t.trim()).filter((t) => t !== '')) {
    const ne = /^([^!=]+)!=(.*)$/.exec(term);
    const eq = /^([^!=]+)==?(.*)$/.exec(term);
    if (term.startsWith('!')) {
      if (labels[term.slice(1)] !== undefined) return false;
    } else if (ne !== null) {
      if (labels[ne[1] ?? ''] === ne[2]) return false;
    } else if (eq !== null) {
      if (labels[eq[1] ?? ''] !== eq[2]) return false;
    } else if (labels[term] === undefined) {
      return false;
    }
  }
  return true;
}

function matchesFieldSelector(selector: string, o: Obj): boolean {
  for (const term of selector.split(',').map((t) => t.trim()).filter((t) => t !== '')) {
    const m = /^metadata\.(name|namespace)==?(.*)$/.exec(term);
    if (m === null) throw new Error(`fake API server: field selector ${term} is not supported`);
    if (meta(o)[m[1] ?? ''] !== m[2]) return false;
  }
  return true;
}

export class FakeApiServer {
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly objects = new Map<string, Map<string, Obj>>();
  private readonly history: HistoryEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private rv = 100;
  private compactedRV = 0;
  /**
   * An address and port of its own, outside the ephemeral range: after `goAway` no other socket
   * can take the port before `comeBack` (a port from listen(0) could be taken meanwhile).
   */
  private host = '127.0.0.1';
  private port = 0;
  readonly requests: RecordedRequest[] = [];
  /** When set, a request without `Authorization: Bearer <token>` gets 401. */
  requiredToken: string | null = null;
  private readonly heldLists = new Map<string, Promise<void>>();

  private constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    for (const p of Object.keys(RESOURCES)) this.objects.set(p, new Map());
  }

  static async start(): Promise<FakeApiServer> {
    const f = new FakeApiServer();
    f.host = privateLoopbackIP();
    await f.listen(await quietPort(f.host));
    return f;
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  /** A kubeconfig text pointing at this server (plain http). */
  kubeconfig(token = 'test-token'): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: fake\n  cluster:\n    server: ${this.url}\n    insecure-skip-tls-verify: true`,
      'users:',
      `- name: tester\n  user:\n    token: ${token}`,
      'contexts:',
      '- name: fake\n  context:\n    cluster: fake\n    user: tester',
      'current-context: fake',
      '',
    ].join('\n');
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, this.host, () => {
        this.server.off('error', reject);
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /** Creates or replaces an object (kind from the object), recording ADDED or MODIFIED. */
  apply(object: Obj): void {
    const path = pathOfKind(String(object['kind']));
    const store = this.objects.get(path) as Map<string, Obj>;
    this.rv++;
    const stored: Obj = structuredClone(object);
    stored['metadata'] = { ...meta(stored), resourceVersion: String(this.rv) };
    const previous = store.get(keyOf(stored)) ?? null;
    store.set(keyOf(stored), stored);
    this.record({ rv: this.rv, path, type: previous === null ? 'ADDED' : 'MODIFIED', previous, object: stored });
  }

  delete(kind: string, namespace: string, name: string): void {
    const path = pathOfKind(kind);
    const store = this.objects.get(path) as Map<string, Obj>;
    const previous = store.get(`${namespace}/${name}`);
    if (previous === undefined) throw new Error(`fake API server: no ${kind} ${namespace}/${name}`);
    store.delete(`${namespace}/${name}`);
    this.rv++;
    const object: Obj = { ...previous, metadata: { ...meta(previous), resourceVersion: String(this.rv) } };
    this.record({ rv: this.rv, path, type: 'DELETED', previous, object });
  }

  /** Forgets the history: watches from an older resourceVersion get 410 Gone. */
  compact(): void {
    this.compactedRV = this.rv;
    this.history.length = 0;
  }

  /** Sends a BOOKMARK with the current resourceVersion on every open, bookmark-asking watch. */
  bookmark(): void {
    for (const w of this.watchers) {
      if (!w.bookmarks || w.stalled) continue;
      const { kind, apiVersion } = RESOURCES[w.path] as ResourceInfo;
      this.send(w, 'BOOKMARK', { kind, apiVersion, metadata: { resourceVersion: this.resourceVersion } });
    }
  }

  /** Cuts every open connection (watches and keep-alive sockets) without a clean end. */
  dropConnections(): void {
    for (const s of this.sockets) s.destroy();
    this.watchers.clear();
  }

  /** The open watch streams stay open but deliver nothing more (later watches work). */
  stallOpenWatches(): void {
    for (const w of this.watchers) w.stalled = true;
  }

  /** Stops answering: closes the listener and every connection. */
  async goAway(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.dropConnections();
    await closed;
  }

  /** Listens again on the same port. */
  async comeBack(): Promise<void> {
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    await this.goAway();
  }

  /** List requests of this kind wait until the returned function is called. */
  holdLists(kind: string): () => void {
    let release: () => void = () => undefined;
    this.heldLists.set(pathOfKind(kind), new Promise((resolve) => (release = resolve)));
    return () => {
      this.heldLists.delete(pathOfKind(kind));
      release();
    };
  }

  watchRequests(path?: string): RecordedRequest[] {
    return this.requests.filter((r) => r.query['watch'] === 'true' && (path === undefined || r.path === path));
  }

  listRequests(path?: string): RecordedRequest[] {
    return this.requests.filter((r) => r.query['watch'] !== 'true' && (path === undefined || r.path === path));
  }

  private record(e: HistoryEvent): void {
    this.history.push(e);
    for (const w of [...this.watchers]) if (w.path === e.path) this.deliver(w, e);
  }

  /** What a watcher sees of an event, given its selector (as the API server's watch cache does). */
  private deliver(w: Watcher, e: HistoryEvent): void {
    if (w.stalled) return;
    const now = e.type !== 'DELETED' && w.selector(e.object);
    const before = e.previous !== null && w.selector(e.previous);
    if (e.type === 'DELETED') {
      if (before) this.send(w, 'DELETED', e.object);
    } else if (now && before) this.send(w, 'MODIFIED', e.object);
    else if (now) this.send(w, 'ADDED', e.object);
    else if (before) this.send(w, 'DELETED', e.object);
  }

  private send(w: Watcher, type: string, object: Obj): void {
    w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams.entries());
    const authorization = req.headers.authorization ?? '';
    this.requests.push({ path: url.pathname, query, authorization });
    if (this.requiredToken !== null && authorization !== `Bearer ${this.requiredToken}`) {
      return this.status(res, 401, 'Unauthorized', 'Unauthorized');
    }
    const info = RESOURCES[url.pathname];
    if (req.method !== 'GET' || info === undefined) return this.status(res, 404, 'NotFound', `the server could not find ${url.pathname}`);
    const labelSelector = query['labelSelector'] ?? '';
    const fieldSelector = query['fieldSelector'] ?? '';
    const selector = (o: Obj): boolean => matchesLabelSelector(labelSelector, labelsOf(o)) && matchesFieldSelector(fieldSelector, o);
    if (query['watch'] === 'true' || query['watch'] === '1') {
      this.watch(url.pathname, query, selector, res);
      return;
    }
    const held = this.heldLists.get(url.pathname);
    if (held === undefined) this.list(url.pathname, info, query, selector, res);
    else void held.then(() => this.list(url.pathname, info, query, selector, res));
  }

  private status(res: http.ServerResponse, code: number, reason: string, message: string): void {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }));
  }

  private list(path: string, info: ResourceInfo, query: Readonly<Record<string, string>>, selector: (o: Obj) => boolean, res: http.ServerResponse): void {
    let offset = 0;
    let rv = this.rv;
    const token = query['continue'];
    if (token !== undefined && token !== '') {
      const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { rv: number; offset: number };
      if (parsed.rv < this.compactedRV) return this.status(res, 410, 'Expired', 'The provided continue parameter is too old');
      ({ offset, rv } = parsed);
    }
    const all = [...(this.objects.get(path) as Map<string, Obj>).values()]
      .filter(selector)
      .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
    const limit = Number(query['limit'] ?? '0');
    const page = limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
    const more = limit > 0 && offset + limit < all.length;
    const listMeta: Obj = { resourceVersion: String(rv) };
    if (more) listMeta['continue'] = Buffer.from(JSON.stringify({ rv, offset: offset + limit })).toString('base64');
    // List items carry no kind or apiVersion, as a real API server sends them.
    const items = page.map((o) => {
      const copy: Obj = { ...o };
      delete copy['kind'];
      delete copy['apiVersion'];
      return copy;
    });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ kind: `${info.kind}List`, apiVersion: info.apiVersion, metadata: listMeta, items }));
  }

  private watch(path: string, query: Readonly<Record<string, string>>, selector: (o: Obj) => boolean, res: http.ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const from = Number(query['resourceVersion'] ?? '0');
    const w: Watcher = { path, selector, bookmarks: query['allowWatchBookmarks'] === 'true', res, stalled: false };
    if (from < this.compactedRV) {
      const message = `too old resource version: ${from} (${this.compactedRV})`;
      this.send(w, 'ERROR', { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Expired', code: 410 });
      res.end();
      return;
    }
    for (const e of this.history) if (e.path === path && e.rv > from) this.deliver(w, e);
    this.watchers.add(w);
    const timeout = Number(query['timeoutSeconds'] ?? '0');
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : null;
    res.on('close', () => {
      if (timer !== null) clearTimeout(timer);
      this.watchers.delete(w);
    });
  }
}
