/**
 * One TCP frontend of the userspace proxy (reference B.7): accept, connect to an endpoint chosen
 * by the balancer, then copy bytes both ways.
 *
 * - Backpressure: each direction is a stream pipe, which stops reading from one socket while the
 *   other's write buffer is full; the proxy holds at most a read chunk and a write buffer per
 *   direction, whatever the speed of either peer.
 * - Half-close is kept (kube-proxy closed both sockets when either direction ended): a client
 *   that ends its request still gets the whole response.
 * - Closing the listener stops new connections only; open ones run to their end.
 */
import net from 'node:net';
import type { ProxyLog } from './log.js';
import type { RoundRobinBalancer } from './balancer.js';
import type { BackendStream } from './backend-stream.js';
import { dialEndpoint, type TcpDialOptions } from './dial.js';
import { SOCKET_BUFFER_BYTES } from './socket-buffer.js';

export interface TcpListenerOptions {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly balancer: RoundRobinBalancer;
  readonly log: ProxyLog;
  readonly dial?: TcpDialOptions;
}

export interface ListenerStats {
  readonly accepted: number;
  readonly active: number;
  /** Connections that found no endpoint or whose every dial failed. */
  readonly failed: number;
  /** Open proxied connections per endpoint. */
  readonly activeByEndpoint: Readonly<Record<string, number>>;
}

function stripMapped(address: string | undefined): string {
  const a = address ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

export class TcpFrontendListener {
  private accepted = 0;
  private failed = 0;
  private readonly open = new Set<net.Socket>();
  private readonly byEndpoint = new Map<string, number>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private readonly opts: TcpListenerOptions,
  ) {}

  /** Listens on host:port (port 0: the kernel picks); rejects with the listen error (EADDRINUSE…). */
  static open(opts: TcpListenerOptions): Promise<TcpFrontendListener> {
    const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true, noDelay: true, highWaterMark: SOCKET_BUFFER_BYTES });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: opts.host, port: opts.port, backlog: 4096, ipv6Only: opts.host.includes(':') }, () => {
        server.off('error', reject);
        const address = server.address();
        const port = typeof address === 'object' && address !== null ? address.port : opts.port;
        const listener = new TcpFrontendListener(server, port, opts);
        server.on('connection', (socket) => listener.handle(socket));
        server.on('error', (err) => opts.log.warn('proxy listener error', { frontend: opts.id, error: err.message }));
        resolve(listener);
      });
    });
  }

  get id(): string {
    return this.opts.id;
  }

  stats(): ListenerStats {
    return {
      accepted: this.accepted,
      active: this.open.size,
      failed: this.failed,
      activeByEndpoint: Object.fromEntries([...this.byEndpoint].sort(([a], [b]) => (a < b ? -1 : 1))),
    };
  }

  /** Stops accepting; open connections continue. Resolves once the listening socket is closed. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      // server.close() waits for every open connection; the listening socket itself is gone at once.
      setImmediate(resolve);
    });
  }

  /** Ends every open connection at once (daemon shutdown). */
  destroyConnections(): void {
    for (const s of this.open) s.destroy();
  }

  private handle(client: net.Socket): void {
    this.accepted++;
    this.open.add(client);
    let clientGone = false;
    client.on('error', () => undefined);
    client.once('close', () => {
      clientGone = true;
      this.open.delete(client);
    });
    // Looking up the peer costs a system call; only affinity needs it.
    const clientIP = this.opts.balancer.usesClientIP(this.opts.id) ? stripMapped(client.remoteAddress) : '';
    dialEndpoint(this.opts.balancer, this.opts.id, clientIP, { ...this.opts.dial, aborted: () => clientGone })
      .then((result) => {
        for (const f of result.failures) this.opts.log.warn('dial failed', { frontend: this.opts.id, endpoint: f.endpoint, error: f.error });
        if (!result.ok) {
          this.failed++;
          if (result.reason !== 'aborted') this.opts.log.warn('failed to connect to an endpoint', { frontend: this.opts.id, reason: result.reason });
          client.destroy();
          return;
        }
        if (clientGone) {
          result.value.socket.destroy();
          return;
        }
        this.splice(client, result.value, result.endpoint.endpoint);
      })
      .catch((err: unknown) => {
        this.failed++;
        this.opts.log.error('proxying failed', { frontend: this.opts.id, error: err instanceof Error ? err.message : String(err) });
        client.destroy();
      });
  }

  private splice(client: net.Socket, stream: BackendStream, endpoint: string): void {
    const backend = stream.socket;
    this.byEndpoint.set(endpoint, (this.byEndpoint.get(endpoint) ?? 0) + 1);
    let counted = true;
    const uncount = (): void => {
      if (!counted) return;
      counted = false;
      const n = (this.byEndpoint.get(endpoint) ?? 1) - 1;
      if (n === 0) this.byEndpoint.delete(endpoint);
      else this.byEndpoint.set(endpoint, n);
    };
    const abort = (): void => {
      client.destroy();
      backend.destroy();
    };
    backend.on('error', abort);
    client.on('error', abort);
    // An abrupt close of one side (reset, destroy) ends the other; a clean close means both
    // directions already ended, and the other socket closes by itself once its writes flush.
    client.once('close', (hadError) => {
      if (hadError) backend.destroy();
    });
    backend.once('close', (hadError) => {
      uncount();
      if (hadError) client.destroy();
    });
    // Client to endpoint: what a stream pipe does, without its bookkeeping (this runs per connection).
    client.on('data', (chunk: Buffer) => {
      if (!backend.write(chunk)) client.pause();
    });
    backend.on('drain', () => client.resume());
    client.once('end', () => backend.end());
    stream.pipeTo(client);
    client.resume();
  }
}
