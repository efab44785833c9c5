/**
 * The userspace proxy of one IP family: a listener per frontend of the plan, on a port from
 * `--proxy-port-range` (or one the kernel picks), and the balancer they share.
 *
 * `reconcile(plan)` makes the listeners match a new plan: new frontends get a listener, removed
 * ones lose theirs (their open TCP connections run on), and every other frontend keeps its
 * listener and port while its endpoints and affinity are updated in place — so a change to one
 * service never disturbs another's connections.
 */
import { KproxyError } from '../../core/errors.js';
import type { IPFamily } from '../../core/model/objects.js';
import type { Frontend, ListenerPlan } from '../../dataplanes/userspace/plan.js';
import { PortRangeAllocator, type PortRange } from '../../dataplanes/userspace/ports.js';
import { RoundRobinBalancer, type BalancerOptions } from './balancer.js';
import type { TcpDialOptions } from './dial.js';
import type { ProxyLog } from './log.js';
import { TcpFrontendListener, type ListenerStats } from './tcp-listener.js';
import { UdpFrontendListener, type UdpListenerStats } from './udp-listener.js';

export interface UserspaceProxyOptions {
  readonly family: IPFamily;
  /** null: the kernel picks each port. */
  readonly portRange: PortRange | null;
  readonly udpIdleTimeoutMs: number;
  readonly log: ProxyLog;
  /** Where listeners bind (default 0.0.0.0 / ::). */
  readonly listenIP?: string;
  readonly balancer?: BalancerOptions;
  readonly dial?: TcpDialOptions;
}

type Listener =
  | { readonly protocol: 'TCP'; readonly listener: TcpFrontendListener }
  | { readonly protocol: 'UDP'; readonly listener: UdpFrontendListener };

export type FrontendStats =
  | ({ readonly protocol: 'TCP'; readonly port: number } & ListenerStats)
  | ({ readonly protocol: 'UDP'; readonly port: number } & UdpListenerStats);

export class UserspaceProxy {
  readonly balancer: RoundRobinBalancer;
  readonly listenIP: string;
  private readonly listeners = new Map<string, Listener>();
  private readonly allocator: PortRangeAllocator | null;

  constructor(private readonly opts: UserspaceProxyOptions) {
    this.balancer = new RoundRobinBalancer(opts.balancer);
    this.listenIP = opts.listenIP ?? (opts.family === 'IPv6' ? '::' : '0.0.0.0');
    this.allocator = opts.portRange === null ? null : new PortRangeAllocator(opts.portRange);
  }

  /**
   * The proxy port of every frontend of `plan` once the listeners match it. A frontend whose
   * listener cannot be opened (the range is exhausted, the port is refused) is logged and left
   * out, and tried again at the next reconcile; the others are served (as kube-proxy went on with
   * the other services when one failed to start).
   */
  async reconcile(plan: ListenerPlan): Promise<Map<string, number>> {
    const wanted = new Map(plan.frontends.map((f) => [f.id, f]));
    for (const [id, l] of [...this.listeners]) {
      if (!wanted.has(id)) await this.closeListener(id, l);
    }
    const ports = new Map<string, number>();
    for (const f of plan.frontends) {
      this.balancer.update(f.id, f.endpoints, f.affinity);
      let l = this.listeners.get(f.id);
      if (l === undefined) {
        try {
          l = await this.openListener(f);
        } catch (err) {
          this.balancer.remove(f.id);
          this.opts.log.error('cannot open a proxy listener; the service port is not proxied', {
            frontend: f.id,
            error: err instanceof Error ? err.message : String(err),
          });
          continue;
        }
        this.listeners.set(f.id, l);
      }
      ports.set(f.id, l.listener.port);
    }
    return ports;
  }

  stats(): Record<string, FrontendStats> {
    const out: Record<string, FrontendStats> = {};
    for (const [id, l] of [...this.listeners].sort(([a], [b]) => (a < b ? -1 : 1))) {
      out[id] =
        l.protocol === 'TCP'
          ? { protocol: 'TCP', port: l.listener.port, ...l.listener.stats() }
          : { protocol: 'UDP', port: l.listener.port, ...l.listener.stats() };
    }
    return out;
  }

  /** Closes every listener; with `dropConnections`, also every open TCP connection. */
  async close(dropConnections = true): Promise<void> {
    for (const [id, l] of [...this.listeners]) {
      if (dropConnections && l.protocol === 'TCP') l.listener.destroyConnections();
      await this.closeListener(id, l);
    }
  }

  private async closeListener(id: string, l: Listener): Promise<void> {
    this.listeners.delete(id);
    this.balancer.remove(id);
    await l.listener.close();
    this.allocator?.release(l.listener.port);
    this.opts.log.info('closed proxy listener', { frontend: id, port: l.listener.port });
  }

  private async openListener(f: Frontend): Promise<Listener> {
    // With a range, every free port may be tried; allocate() throws once none is left.
    const attempts = this.allocator === null ? 1 : Math.max(1, this.allocator.free);
    let lastError: unknown = null;
    for (let i = 0; i < attempts; i++) {
      const port = this.allocator === null ? 0 : this.allocator.allocate();
      try {
        const l = await this.listen(f, port);
        this.opts.log.info('opened proxy listener', { frontend: f.id, protocol: f.protocol, port: l.listener.port });
        return l;
      } catch (err) {
        lastError = err;
        // The port stays marked used: another program holds it.
        if (!isAddressInUse(err)) {
          this.allocator?.release(port);
          break;
        }
      }
    }
    const why = lastError instanceof Error ? lastError.message : String(lastError);
    throw new KproxyError('E_EXEC', `${f.id}: cannot open a proxy listener: ${why}`, { cause: lastError });
  }

  private async listen(f: Frontend, port: number): Promise<Listener> {
    const common = { id: f.id, host: this.listenIP, port, balancer: this.balancer, log: this.opts.log };
    switch (f.protocol) {
      case 'TCP':
        return {
          protocol: 'TCP',
          listener: await TcpFrontendListener.open({ ...common, ...(this.opts.dial === undefined ? {} : { dial: this.opts.dial }) }),
        };
      case 'UDP':
        return { protocol: 'UDP', listener: await UdpFrontendListener.open({ ...common, idleTimeoutMs: this.opts.udpIdleTimeoutMs }) };
    }
  }
}

function isAddressInUse(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === 'EADDRINUSE';
}
