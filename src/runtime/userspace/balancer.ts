/**
 * The userspace proxy's load balancer (kube-proxy's LoadBalancerRR, reference B.5): round robin
 * over a frontend's endpoints, with ClientIP session affinity.
 *
 * Which endpoints are usable and the affinity timeout come from core (the plan); this only
 * takes turns. As kube-proxy did, a changed endpoint set is shuffled (so proxies on different
 * nodes do not all start with the same endpoint) and the turn restarts; affinity records that
 * point at a removed endpoint are dropped, the others are kept.
 */
import type { SessionAffinity } from '../../core/model/service-port.js';
import type { FrontendEndpoint } from '../../dataplanes/userspace/plan.js';

interface AffinityRecord {
  readonly endpoint: FrontendEndpoint;
  lastUsedMs: number;
}

interface Entry {
  endpoints: FrontendEndpoint[];
  /** Sorted `ip:port` list, to tell whether an update changes the set. */
  signature: string;
  index: number;
  affinity: SessionAffinity;
  readonly sessions: Map<string, AffinityRecord>;
}

export interface BalancerOptions {
  /** Milliseconds since some epoch (tests pass a fake clock). */
  readonly now?: () => number;
  /** Reorders endpoints in place (tests pass the identity). */
  readonly shuffle?: (endpoints: FrontendEndpoint[]) => void;
}

function fisherYates(items: FrontendEndpoint[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const a = items[i] as FrontendEndpoint;
    items[i] = items[j] as FrontendEndpoint;
    items[j] = a;
  }
}

export class RoundRobinBalancer {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;
  private readonly shuffle: (endpoints: FrontendEndpoint[]) => void;

  constructor(options: BalancerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.shuffle = options.shuffle ?? fisherYates;
  }

  /** Sets a frontend's endpoints and affinity (creating the frontend when new). */
  update(id: string, endpoints: readonly FrontendEndpoint[], affinity: SessionAffinity): void {
    const signature = endpoints.map((e) => e.endpoint).sort().join(',');
    let entry = this.entries.get(id);
    if (entry === undefined) {
      // A signature no endpoint list has: the first update always applies.
      entry = { endpoints: [], signature: '\u0000', index: 0, affinity, sessions: new Map() };
      this.entries.set(id, entry);
    }
    if (affinity.type !== entry.affinity.type || (affinity.type === 'ClientIP' && entry.affinity.type === 'ClientIP' && affinity.timeoutSeconds !== entry.affinity.timeoutSeconds)) {
      entry.sessions.clear();
    }
    entry.affinity = affinity;
    if (signature === entry.signature) return;
    const kept = new Set(endpoints.map((e) => e.endpoint));
    for (const [client, record] of entry.sessions) {
      if (!kept.has(record.endpoint.endpoint)) entry.sessions.delete(client);
    }
    const shuffled = [...endpoints];
    this.shuffle(shuffled);
    entry.endpoints = shuffled;
    entry.signature = signature;
    entry.index = 0;
  }

  /** Whether the frontend's choice depends on the client's IP (ClientIP affinity). */
  usesClientIP(id: string): boolean {
    return this.entries.get(id)?.affinity.type === 'ClientIP';
  }

  remove(id: string): void {
    this.entries.delete(id);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** The endpoints in their turn order. */
  endpointsOf(id: string): readonly FrontendEndpoint[] {
    return this.entries.get(id)?.endpoints ?? [];
  }

  /**
   * The endpoint for a new connection from `clientIP`, or null when the frontend has none.
   * `resetAffinity` (after a failed connect) skips the client's record and then overwrites it.
   */
  next(id: string, clientIP: string, resetAffinity = false): FrontendEndpoint | null {
    const entry = this.entries.get(id);
    if (entry === undefined || entry.endpoints.length === 0) return null;
    const sticky = entry.affinity.type === 'ClientIP' ? entry.affinity.timeoutSeconds : null;
    const now = this.now();
    if (sticky !== null && !resetAffinity) {
      const record = entry.sessions.get(clientIP);
      if (record !== undefined && Math.floor((now - record.lastUsedMs) / 1000) < sticky) {
        record.lastUsedMs = now;
        return record.endpoint;
      }
    }
    const endpoint = entry.endpoints[entry.index % entry.endpoints.length] as FrontendEndpoint;
    entry.index = (entry.index + 1) % entry.endpoints.length;
    if (sticky !== null) entry.sessions.set(clientIP, { endpoint, lastUsedMs: now });
    return endpoint;
  }

  /** Forgets affinity records older than their timeout (kube-proxy does this on every sync). */
  cleanupStaleSessions(): number {
    const now = this.now();
    let removed = 0;
    for (const entry of this.entries.values()) {
      if (entry.affinity.type !== 'ClientIP') continue;
      const ttl = entry.affinity.timeoutSeconds;
      for (const [client, record] of entry.sessions) {
        if (Math.floor((now - record.lastUsedMs) / 1000) >= ttl) {
          entry.sessions.delete(client);
          removed++;
        }
      }
    }
    return removed;
  }
}
