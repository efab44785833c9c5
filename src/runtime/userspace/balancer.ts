/**
 * The userspace proxy's load balancer (kube-proxy's LoadBalancerRR, reference B.5): round robin
 * over a frontend's endpoints, with ClientIP session affinity.
 *
 * Which endpoints are usable and the affinity timeout come from core (the plan); this only
 * takes turns. As kube-proxy did, a changed endpoint set is shuffled (so proxies on different
 * nodes do not all start with the same endpoint) and the turn restarts; affinity records that
 * point at a removed endpoint are dropped, the others are kept.
 *
 * Beyond kube-proxy: an endpoint whose connect just failed (refused, unreachable, timed out) is
 * passed over for `failedEndpointHoldMs` unless every endpoint is in that state, and a caller
 * retrying one connection can name the endpoints it already tried so that it gets a different
 * one. kube-proxy's retries took the shared turn, so under concurrency a retry could land on the
 * dead endpoint again and a connection fail although live endpoints were left.
 */
import type { SessionAffinity } from '../../core/model/service-port.js';
import type { FrontendEndpoint } from '../../dataplanes/userspace/plan.js';

interface AffinityRecord {
  readonly endpoint: FrontendEndpoint;
  lastUsedMs: number;
}

interface Entry {
  endpoints: FrontendEndpoint[];
  /** Endpoint (`ip:port`) → until when (ms) it is passed over after a failed connect. */
  readonly failedUntil: Map<string, number>;
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
  /** How long an endpoint whose connect failed is passed over (default FAILED_ENDPOINT_HOLD_MS). */
  readonly failedEndpointHoldMs?: number;
}

/** Long enough to spare a burst of connections a dead endpoint; short enough to notice it back. */
export const FAILED_ENDPOINT_HOLD_MS = 1000;

export interface PickOptions {
  /** After a failed dial: skip the client's affinity record, then overwrite it. */
  readonly resetAffinity?: boolean;
  /** Endpoints this connection already tried: any other endpoint comes first. */
  readonly tried?: ReadonlySet<string>;
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
  private readonly holdMs: number;

  constructor(options: BalancerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.shuffle = options.shuffle ?? fisherYates;
    this.holdMs = options.failedEndpointHoldMs ?? FAILED_ENDPOINT_HOLD_MS;
  }

  /** Sets a frontend's endpoints and affinity (creating the frontend when new). */
  update(id: string, endpoints: readonly FrontendEndpoint[], affinity: SessionAffinity): void {
    const signature = endpoints.map((e) => e.endpoint).sort().join(',');
    let entry = this.entries.get(id);
    if (entry === undefined) {
      // A signature no endpoint list has: the first update always applies.
      entry = { endpoints: [], failedUntil: new Map(), signature: '\u0000', index: 0, affinity, sessions: new Map() };
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
    for (const endpoint of entry.failedUntil.keys()) {
      if (!kept.has(endpoint)) entry.failedUntil.delete(endpoint);
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
   * The client's affinity record wins unless reset, tried or failing; otherwise the first
   * endpoint in turn that is neither tried nor failing, else the first not tried, else the
   * plain turn (every endpoint has been tried: repeat rather than give up).
   */
  next(id: string, clientIP: string, options: PickOptions = {}): FrontendEndpoint | null {
    const entry = this.entries.get(id);
    if (entry === undefined || entry.endpoints.length === 0) return null;
    const sticky = entry.affinity.type === 'ClientIP' ? entry.affinity.timeoutSeconds : null;
    const now = this.now();
    const tried = options.tried ?? new Set<string>();
    const failing = (e: FrontendEndpoint): boolean => (entry.failedUntil.get(e.endpoint) ?? 0) > now;
    if (sticky !== null && options.resetAffinity !== true) {
      const record = entry.sessions.get(clientIP);
      if (record !== undefined && Math.floor((now - record.lastUsedMs) / 1000) < sticky && !tried.has(record.endpoint.endpoint) && !failing(record.endpoint)) {
        record.lastUsedMs = now;
        return record.endpoint;
      }
    }
    const endpoint =
      this.takeTurn(entry, (e) => !tried.has(e.endpoint) && !failing(e)) ??
      this.takeTurn(entry, (e) => !tried.has(e.endpoint)) ??
      this.takeTurn(entry, () => true);
    if (endpoint === null) return null;
    if (sticky !== null) entry.sessions.set(clientIP, { endpoint, lastUsedMs: now });
    return endpoint;
  }

  /** Passes the endpoint over for a while: its connect was refused, unreachable or timed out. */
  markFailed(id: string, endpoint: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined || !entry.endpoints.some((e) => e.endpoint === endpoint)) return;
    entry.failedUntil.set(endpoint, this.now() + this.holdMs);
  }

  /** The endpoint answered a connect: it takes its turns again at once. */
  markConnected(id: string, endpoint: string): void {
    this.entries.get(id)?.failedUntil.delete(endpoint);
  }

  /** Endpoints passed over right now after a failed connect (sorted). */
  failingEndpoints(id: string): string[] {
    const entry = this.entries.get(id);
    if (entry === undefined) return [];
    const now = this.now();
    return [...entry.failedUntil].filter(([, until]) => until > now).map(([e]) => e).sort();
  }

  /** The first endpoint from the turn pointer on that `usable` accepts; the pointer moves past it. */
  private takeTurn(entry: Entry, usable: (e: FrontendEndpoint) => boolean): FrontendEndpoint | null {
    const n = entry.endpoints.length;
    for (let step = 0; step < n; step++) {
      const at = (entry.index + step) % n;
      const candidate = entry.endpoints[at] as FrontendEndpoint;
      if (!usable(candidate)) continue;
      entry.index = (at + 1) % n;
      return candidate;
    }
    return null;
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
