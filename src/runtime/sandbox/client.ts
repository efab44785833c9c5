/**
 * The traffic client (`ip netns exec NS node client.js REQUEST-JSON`): sends N requests, each on
 * a new connection (TCP: one HTTP request per connection; UDP: one datagram per new socket, so
 * each is a new conntrack flow), and prints one JSON TrafficResult on stdout.
 */
import { createSocket } from 'node:dgram';
import { request } from 'node:http';
import { runJsonProgram } from '../exec/json-program.js';
import type { TrafficRequest, TrafficResult } from './traffic-types.js';

interface Outcome {
  readonly pod: string | null;
  readonly source: string | null;
  readonly error: string | null;
}

function parseReply(text: string): Outcome {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'pod' in parsed && typeof parsed.pod === 'string') {
      const source = 'source' in parsed && typeof parsed.source === 'string' ? parsed.source : null;
      return { pod: parsed.pod, source, error: null };
    }
  } catch {
    // fall through
  }
  return { pod: null, source: null, error: 'bad-reply' };
}

function errorKind(err: unknown): string {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code;
  return err instanceof Error ? err.message : String(err);
}

function tcpOnce(req: TrafficRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: Outcome): void => {
      if (!done) {
        done = true;
        resolve(o);
      }
    };
    const r = request(
      {
        host: req.ip,
        port: req.port,
        path: '/',
        method: 'GET',
        agent: false,
        headers: { connection: 'close' },
        ...(req.sourceIP === null ? {} : { localAddress: req.sourceIP }),
        ...(req.sourcePort === null ? {} : { localPort: req.sourcePort }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) finish({ pod: null, source: null, error: `http-${String(res.statusCode)}` });
          else finish(parseReply(Buffer.concat(chunks).toString('utf8')));
        });
        res.on('error', (err) => finish({ pod: null, source: null, error: errorKind(err) }));
      },
    );
    // A plain timer, not r.setTimeout(): that one only starts once the socket is connected, so a
    // dropped SYN would wait for the kernel's connect timeout (minutes).
    const timer = setTimeout(() => {
      finish({ pod: null, source: null, error: 'timeout' });
      r.destroy();
    }, req.timeoutMs);
    r.on('close', () => clearTimeout(timer));
    r.on('error', (err) => finish({ pod: null, source: null, error: errorKind(err) }));
    r.end();
  });
}

function udpOnce(req: TrafficRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    let done = false;
    const finish = (o: Outcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ pod: null, source: null, error: 'timeout' }), req.timeoutMs);
    socket.on('message', (msg) => finish(parseReply(msg.toString('utf8'))));
    // A connected UDP socket reports an ICMP port unreachable as ECONNREFUSED.
    socket.on('error', (err) => finish({ pod: null, source: null, error: errorKind(err) }));
    socket.bind({ port: req.sourcePort ?? 0, ...(req.sourceIP === null ? {} : { address: req.sourceIP }) }, () => {
      socket.connect(req.port, req.ip, () => socket.send('who'));
    });
  });
}

async function run(req: TrafficRequest): Promise<TrafficResult> {
  const started = Date.now();
  const sequence: (string | null)[] = new Array<string | null>(req.count).fill(null);
  const byPod: Record<string, number> = {};
  const bySource: Record<string, number> = {};
  const errorKinds: Record<string, number> = {};
  let next = 0;
  let answered = 0;
  const worker = async (): Promise<void> => {
    while (next < req.count) {
      const i = next++;
      const o = req.protocol === 'tcp' ? await tcpOnce(req) : await udpOnce(req);
      if (o.pod !== null) {
        answered++;
        sequence[i] = o.pod;
        byPod[o.pod] = (byPod[o.pod] ?? 0) + 1;
        if (o.source !== null) bySource[o.source] = (bySource[o.source] ?? 0) + 1;
      } else {
        const kind = o.error ?? 'unknown';
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(req.concurrency, req.count)) }, worker));
  return {
    protocol: req.protocol,
    target: `${req.ip}:${String(req.port)}`,
    requests: req.count,
    answered,
    errors: req.count - answered,
    byPod,
    bySource,
    errorKinds,
    sequence,
    durationMs: Date.now() - started,
  };
}

runJsonProgram('client', 'REQUEST-JSON', (job) => run(job as TrafficRequest));
