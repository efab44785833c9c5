/**
 * The program each sandbox pod runs (started as `ip netns exec POD node pod-server.js SPEC`):
 * on every port it answers HTTP over TCP and datagrams over UDP with who it is (pod, node, pod
 * IP) and the source address it saw, so a client can tell which endpoint it reached and whether
 * it was masqueraded. Prints one JSON `ready` line once every socket listens.
 */
import { createSocket } from 'node:dgram';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:dgram';
import type { PodServerSpec as Spec } from './processes.js';

export interface PodReply {
  readonly pod: string;
  readonly namespace: string;
  readonly node: string;
  readonly podIP: string;
  readonly protocol: 'TCP' | 'UDP';
  readonly port: number;
  /** The client address the pod saw (after any NAT). */
  readonly source: string;
  readonly sourcePort: number;
}

function parseSpec(text: string | undefined): Spec {
  if (text === undefined) throw new Error('usage: pod-server.js SPEC-JSON');
  const spec = JSON.parse(text) as Spec;
  if (typeof spec.pod !== 'string' || !Array.isArray(spec.ports)) throw new Error('pod-server: bad spec');
  return spec;
}

function reply(spec: Spec, protocol: 'TCP' | 'UDP', port: number, source: string, sourcePort: number): PodReply {
  return {
    pod: spec.pod,
    namespace: spec.namespace,
    node: spec.node,
    podIP: spec.ip,
    protocol,
    port,
    source: source.startsWith('::ffff:') ? source.slice(7) : source,
    sourcePort,
  };
}

const CHUNK = Buffer.alloc(64 * 1024, 'kproxy ');

/** `GET /bytes/N`: N bytes of a repeating pattern, written only as fast as the client reads. */
function streamBytes(res: ServerResponse, total: number): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(total) });
  let left = total;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/**
 * `/` answers who the pod is and closes the connection. For the load tests and the mode
 * benchmark: `/keepalive` answers the same and keeps the connection open; `/slow?ms=N` answers
 * after N ms (default 1000); `/bytes/N` streams N bytes.
 */
function answer(spec: Spec, port: number, req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const url = req.url ?? '/';
  const bytes = /^\/bytes\/(\d{1,12})$/.exec(url);
  if (bytes !== null) {
    streamBytes(res, Number(bytes[1]));
    return;
  }
  const body = `${JSON.stringify(reply(spec, 'TCP', port, req.socket.remoteAddress ?? '', req.socket.remotePort ?? 0))}\n`;
  const send = (keepAlive: boolean): void => {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...(keepAlive ? {} : { connection: 'close' }),
    });
    res.end(body);
  };
  if (url === '/keepalive') {
    send(true);
    return;
  }
  if (url === '/slow' || url.startsWith('/slow?')) {
    const ms = Number(/[?&]ms=(\d{1,7})/.exec(url)?.[1] ?? '1000');
    const timer = setTimeout(() => send(false), ms);
    res.once('close', () => clearTimeout(timer));
    return;
  }
  send(false);
}

function listenTcp(spec: Spec, port: number): Promise<Server> {
  const server = createServer((req, res) => answer(spec, port, req, res));
  server.keepAliveTimeout = 0;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '0.0.0.0', backlog: 1024 }, () => resolve(server));
  });
}

function listenUdp(spec: Spec, port: number): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.on('message', (_msg, rinfo) => {
    socket.send(JSON.stringify(reply(spec, 'UDP', port, rinfo.address, rinfo.port)), rinfo.port, rinfo.address);
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, '0.0.0.0', () => resolve(socket));
  });
}

async function main(): Promise<void> {
  const spec = parseSpec(process.argv[2]);
  const tcp = await Promise.all(spec.ports.map((p) => listenTcp(spec, p)));
  const udp = await Promise.all(spec.ports.map((p) => listenUdp(spec, p)));
  const stop = (): void => {
    for (const s of tcp) s.close();
    for (const s of udp) s.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(`${JSON.stringify({ event: 'ready', pod: spec.pod, ports: spec.ports, pid: process.pid })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`pod-server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
