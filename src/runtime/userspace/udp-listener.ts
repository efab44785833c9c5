/**
 * One UDP frontend of the userspace proxy (reference B.8): datagrams from each client address
 * (`ip:port`) form a session with one backend socket, connected to an endpoint the balancer
 * chose; replies go back to the client from the frontend's socket (conntrack then undoes the
 * REDIRECT/DNAT). A session ends after `idleTimeoutMs` without a datagram either way, or when
 * the backend reports an error (an ICMP port unreachable from a dead endpoint, which also makes
 * the balancer pass that endpoint over for a moment).
 *
 * UDP has no flow control, so instead of buffering without bound the proxy drops datagrams when
 * a socket's send queue is long (as a full kernel buffer would). Datagrams are not truncated
 * (kube-proxy's 4096-byte buffer cut longer ones).
 */
import dgram from 'node:dgram';
import type { FrontendEndpoint } from '../../dataplanes/userspace/plan.js';
import type { RoundRobinBalancer } from './balancer.js';
import { dialWith, isEndpointFault, type Connected } from './dial.js';
import type { ProxyLog } from './log.js';

/** Datagrams allowed to wait in one socket's send queue before new ones are dropped. */
const MAX_QUEUED_DATAGRAMS = 256;

export interface UdpListenerOptions {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly balancer: RoundRobinBalancer;
  readonly idleTimeoutMs: number;
  readonly log: ProxyLog;
}

interface Session {
  readonly key: string;
  readonly clientIP: string;
  readonly clientPort: number;
  backend: dgram.Socket | null;
  endpoint: FrontendEndpoint | null;
  /** Datagrams received before the backend socket is connected. */
  readonly pending: Buffer[];
  lastActivityMs: number;
  timer: NodeJS.Timeout | null;
  closed: boolean;
}

export interface UdpListenerStats {
  readonly sessions: number;
  readonly sessionsOpened: number;
  readonly dropped: number;
  readonly sessionsByEndpoint: Readonly<Record<string, number>>;
}

/** Connecting a UDP socket sends nothing: it fails only without a route, and never waits. */
function connectUdp(type: 'udp4' | 'udp6', endpoint: FrontendEndpoint): Promise<Connected<dgram.Socket>> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket(type);
    const fail = (err: NodeJS.ErrnoException): void => {
      socket.close();
      resolve({ ok: false, error: `dial udp ${endpoint.endpoint}: ${err.message}`, code: err.code ?? 'EUNKNOWN' });
    };
    socket.once('error', fail);
    socket.connect(endpoint.port, endpoint.ip, () => {
      socket.off('error', fail);
      resolve({ ok: true, value: socket });
    });
  });
}

export class UdpFrontendListener {
  private readonly sessions = new Map<string, Session>();
  private opened = 0;
  private dropped = 0;
  private readonly type: 'udp4' | 'udp6';

  private constructor(
    private readonly socket: dgram.Socket,
    readonly port: number,
    private readonly opts: UdpListenerOptions,
  ) {
    this.type = opts.host.includes(':') ? 'udp6' : 'udp4';
  }

  static open(opts: UdpListenerOptions): Promise<UdpFrontendListener> {
    const v6 = opts.host.includes(':');
    const socket = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.port, opts.host, () => {
        socket.off('error', reject);
        const listener = new UdpFrontendListener(socket, socket.address().port, opts);
        socket.on('message', (msg, rinfo) => listener.fromClient(msg, rinfo.address, rinfo.port));
        socket.on('error', (err) => opts.log.warn('proxy socket error', { frontend: opts.id, error: err.message }));
        resolve(listener);
      });
    });
  }

  get id(): string {
    return this.opts.id;
  }

  stats(): UdpListenerStats {
    const byEndpoint: Record<string, number> = {};
    for (const s of this.sessions.values()) {
      if (s.endpoint !== null) byEndpoint[s.endpoint.endpoint] = (byEndpoint[s.endpoint.endpoint] ?? 0) + 1;
    }
    return { sessions: this.sessions.size, sessionsOpened: this.opened, dropped: this.dropped, sessionsByEndpoint: byEndpoint };
  }

  /** Closes the socket and every session (UDP sessions cannot outlive their frontend socket). */
  close(): Promise<void> {
    for (const s of [...this.sessions.values()]) this.endSession(s);
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private fromClient(msg: Buffer, clientIP: string, clientPort: number): void {
    const key = `${clientIP}|${clientPort}`;
    let session = this.sessions.get(key);
    if (session === undefined) {
      const created: Session = { key, clientIP, clientPort, backend: null, endpoint: null, pending: [], lastActivityMs: Date.now(), timer: null, closed: false };
      session = created;
      this.sessions.set(key, created);
      this.opened++;
      this.armIdleTimer(created);
      this.dial(created).catch((err: unknown) => {
        this.opts.log.error('proxying failed', { frontend: this.opts.id, error: err instanceof Error ? err.message : String(err) });
        this.endSession(created);
      });
    }
    session.lastActivityMs = Date.now();
    if (session.backend === null) {
      if (session.pending.length < MAX_QUEUED_DATAGRAMS) session.pending.push(msg);
      else this.dropped++;
      return;
    }
    this.sendToBackend(session.backend, msg);
  }

  private sendToBackend(backend: dgram.Socket, msg: Buffer): void {
    if (backend.getSendQueueCount() >= MAX_QUEUED_DATAGRAMS) {
      this.dropped++;
      return;
    }
    backend.send(msg);
  }

  private async dial(session: Session): Promise<void> {
    const result = await dialWith(this.opts.balancer, this.opts.id, session.clientIP, (endpoint) => connectUdp(this.type, endpoint), {
      aborted: () => session.closed,
    });
    for (const f of result.failures) this.opts.log.warn('dial failed', { frontend: this.opts.id, endpoint: f.endpoint, error: f.error });
    if (result.ok && !session.closed) {
      this.attach(session, result.value, result.endpoint);
      return;
    }
    if (result.ok) result.value.close();
    this.dropped += session.pending.length;
    session.pending.length = 0;
    this.endSession(session);
  }

  private attach(session: Session, backend: dgram.Socket, endpoint: FrontendEndpoint): void {
    session.backend = backend;
    session.endpoint = endpoint;
    backend.on('message', (reply) => {
      session.lastActivityMs = Date.now();
      if (this.socket.getSendQueueCount() >= MAX_QUEUED_DATAGRAMS) {
        this.dropped++;
        return;
      }
      this.socket.send(reply, session.clientPort, session.clientIP);
    });
    backend.on('error', (err: NodeJS.ErrnoException) => {
      if (isEndpointFault(err.code ?? '')) this.opts.balancer.markFailed(this.opts.id, endpoint.endpoint);
      this.endSession(session);
    });
    for (const msg of session.pending.splice(0)) this.sendToBackend(backend, msg);
  }

  private armIdleTimer(session: Session): void {
    const check = (): void => {
      const idle = Date.now() - session.lastActivityMs;
      if (idle >= this.opts.idleTimeoutMs) {
        this.endSession(session);
        return;
      }
      session.timer = setTimeout(check, this.opts.idleTimeoutMs - idle);
    };
    session.timer = setTimeout(check, this.opts.idleTimeoutMs);
  }

  private endSession(session: Session): void {
    if (session.closed) return;
    session.closed = true;
    if (session.timer !== null) clearTimeout(session.timer);
    if (this.sessions.get(session.key) === session) this.sessions.delete(session.key);
    if (session.backend !== null) {
      try {
        session.backend.close();
      } catch {
        // already closed
      }
    }
  }
}
