/**
 * kube-proxy's service health-check servers (reference C.4): one HTTP server per Service with a
 * healthCheckNodePort, answering any path and method with the Service's count of ready local
 * endpoints (`X-Load-Balancing-Endpoint-Weight`), 200 when there is one and the proxy is
 * healthy, 503 otherwise. Listeners follow the Services after every sync; a port that cannot
 * be opened is reported and tried again at the next sync.
 */
import http from 'node:http';
import { type HealthCheckTarget, healthCheckTargets } from '../core/desired/health-check-ports.js';
import type { DesiredState } from '../core/desired/types.js';

export interface ServiceHealthLog {
  warn(msg: string, fields?: Readonly<Record<string, string | number>>): void;
}

export interface ServiceHealthOptions {
  readonly nodeName: string;
  /** The proxy's own health (what /livez reports). */
  readonly proxyHealthy: () => boolean;
  readonly log: ServiceHealthLog;
}

interface Listener {
  readonly port: number;
  readonly addresses: readonly string[];
  readonly servers: http.Server[];
}

function listen(server: http.Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

export class ServiceHealthServer {
  private readonly targets = new Map<string, HealthCheckTarget>();
  private readonly listeners = new Map<string, Listener>();

  constructor(private readonly opts: ServiceHealthOptions) {}

  /**
   * Makes the listeners match the targets. `addresses` are the node IPs to listen on
   * (from --nodeport-addresses); empty means every address.
   */
  async sync(targets: readonly HealthCheckTarget[], addresses: readonly string[]): Promise<void> {
    const wanted = new Map(targets.map((t) => [`${t.namespace}/${t.name}`, t]));
    this.targets.clear();
    for (const [key, t] of wanted) this.targets.set(key, t);
    for (const [key, l] of [...this.listeners]) {
      const t = wanted.get(key);
      if (t !== undefined && t.port === l.port && sameList(l.addresses, addresses)) continue;
      this.listeners.delete(key);
      await Promise.all(l.servers.map(closeServer));
    }
    for (const [key, t] of wanted) {
      if (this.listeners.has(key)) continue;
      await this.open(key, t, addresses);
    }
  }

  /** After a sync: the health checks of the families' states, on the --nodeport-addresses IPs (or all). */
  async syncStates(states: readonly DesiredState[]): Promise<void> {
    const addresses = states.flatMap((s) => (s.nodePortAddresses.kind === 'ips' ? s.nodePortAddresses.ips : []));
    await this.sync(healthCheckTargets(states), [...new Set(addresses)].sort());
  }

  /** The ports actually listened on, by `namespace/name`. */
  listening(): Map<string, number> {
    return new Map([...this.listeners].map(([k, l]) => [k, l.port]));
  }

  async close(): Promise<void> {
    const all = [...this.listeners.values()];
    this.listeners.clear();
    this.targets.clear();
    await Promise.all(all.flatMap((l) => l.servers.map(closeServer)));
  }

  private async open(key: string, t: HealthCheckTarget, addresses: readonly string[]): Promise<void> {
    const hosts = addresses.length === 0 ? [undefined] : addresses;
    const servers: http.Server[] = [];
    try {
      for (const host of hosts) {
        const server = http.createServer((req, res) => this.answer(key, req, res));
        await listen(server, t.port, host);
        servers.push(server);
      }
      this.listeners.set(key, { port: t.port, addresses: [...addresses], servers });
    } catch (err) {
      await Promise.all(servers.map(closeServer));
      const why = err instanceof Error ? err.message : String(err);
      this.opts.log.warn(`node ${this.opts.nodeName} failed to start healthcheck "${key}" on port ${t.port}: ${why}`, {
        reason: 'FailedToStartServiceHealthcheck',
      });
    }
  }

  private answer(key: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    req.resume();
    const t = this.targets.get(key);
    if (t === undefined) {
      // The Service went away while the request was on its way: an empty 200, as kube-proxy.
      res.writeHead(200);
      res.end();
      return;
    }
    const healthy = this.opts.proxyHealthy();
    const body = {
      service: { namespace: t.namespace, name: t.name },
      localEndpoints: t.localEndpoints,
      serviceProxyHealthy: healthy,
    };
    res.writeHead(t.localEndpoints > 0 && healthy ? 200 : 503, {
      'Content-Type': 'application/json',
      'X-Content-Type-Options': 'nosniff',
      'X-Load-Balancing-Endpoint-Weight': String(t.localEndpoints),
    });
    res.end(JSON.stringify(body, null, '\t'));
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

