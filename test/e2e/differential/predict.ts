/**
 * From a trace to what a client should see: each outcome of the tracer becomes a category of
 * ./compare.ts (a DNAT to a pod's IP → `pod:NAME`, REJECT → `refused`, DROP → `dropped`;
 * ACCEPT / NO_SERVICE → `unproxied`: the rules leave the packet alone and where it goes is a
 * matter of routing, which the tracer does not predict).
 */
import type { Verdict } from '../../../src/tracer/packet.js';
import type { TraceOutcome, TraceResult } from '../../../src/tracer/trace.js';

const VERDICTS: readonly Verdict[] = ['DNAT', 'REJECT', 'DROP', 'ACCEPT', 'NO_SERVICE'];

/** `IP:port` or `[IPv6]:port`. */
function splitHostPort(endpoint: string): { host: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(endpoint) ?? /^([^:]+):(\d+)$/.exec(endpoint);
  return m === null ? null : { host: m[1] ?? '', port: Number(m[2]) };
}

export interface PodRef {
  readonly name: string;
  readonly nodeName: string;
  readonly ip: string;
  /** Ports its server answers on (empty for client pods). */
  readonly serverPorts: readonly number[];
}

/** A DNAT outcome to a pod on another node than the one whose rules were traced. */
export interface RemoteOutcome {
  readonly endpoint: string;
  readonly pod: PodRef;
  readonly masquerade: boolean;
  readonly probability: number;
}

export interface Prediction {
  /** Category → probability (sums to 1). */
  readonly shares: ReadonlyMap<string, number>;
  /** Probability of being masqueraded, given the packet is DNATed; null when nothing is. */
  readonly masqueradeGivenDnat: number | null;
  readonly remote: readonly RemoteOutcome[];
  /** Predicted endpoints that are no pod of the sandbox (or a port its server does not serve). */
  readonly problems: readonly string[];
}

export type PodLookup = (ip: string) => PodRef | undefined;

function endpointPod(endpoint: string, podByIP: PodLookup): { pod: PodRef | null; problem: string | null } {
  const hp = splitHostPort(endpoint);
  const pod = hp === null ? undefined : podByIP(hp.host);
  if (hp === null || pod === undefined) return { pod: null, problem: `the tracer DNATs to ${endpoint}, which is no pod of the sandbox` };
  if (!pod.serverPorts.includes(hp.port)) {
    return { pod, problem: `the tracer DNATs to ${endpoint}, but pod ${pod.name} serves only ${pod.serverPorts.join(', ') || 'nothing'}` };
  }
  return { pod, problem: null };
}

/** The category a client sees for one outcome. */
export function outcomeCategory(o: Pick<TraceOutcome, 'verdict' | 'endpoint'>, podByIP: PodLookup): string {
  switch (o.verdict) {
    case 'DNAT': {
      const pod = o.endpoint === null ? undefined : podByIP(splitHostPort(o.endpoint)?.host ?? '');
      return pod === undefined ? `endpoint:${o.endpoint ?? '?'}` : `pod:${pod.name}`;
    }
    case 'REJECT':
      return 'refused';
    case 'DROP':
      return 'dropped';
    case 'ACCEPT':
    case 'NO_SERVICE':
      return 'unproxied';
  }
}

function addTo(map: Map<string, number>, key: string, p: number): void {
  map.set(key, (map.get(key) ?? 0) + p);
}

/** What a first packet meets: categories with their probabilities. */
export function predict(result: TraceResult, podByIP: PodLookup, tracedNode: string): Prediction {
  const shares = new Map<string, number>();
  const remote: RemoteOutcome[] = [];
  const problems: string[] = [];
  let dnat = 0;
  let masqueraded = 0;
  for (const o of result.outcomes) {
    const p = o.probability.toNumber();
    addTo(shares, outcomeCategory(o, podByIP), p);
    if (o.verdict !== 'DNAT' || o.endpoint === null) continue;
    dnat += p;
    if (o.masquerade) masqueraded += p;
    const { pod, problem } = endpointPod(o.endpoint, podByIP);
    if (problem !== null) problems.push(problem);
    if (pod !== null && pod.nodeName !== tracedNode) remote.push({ endpoint: o.endpoint, pod, masquerade: o.masquerade, probability: p });
  }
  return { shares, masqueradeGivenDnat: dnat === 0 ? null : masqueraded / dnat, remote, problems };
}

/**
 * A returning client (session affinity): for each category of its first request, the shares
 * of the categories its later requests fall in (conditional probabilities).
 */
export function returningShares(result: TraceResult, podByIP: PodLookup): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  if (result.returning === null) return out;
  const firstShare = new Map<string, number>();
  for (const o of result.outcomes) addTo(firstShare, outcomeCategory(o, podByIP), o.probability.toNumber());
  for (const o of result.returning.outcomes) {
    if (o.after === null) continue;
    // `after` is the first packet's endpoint, or its verdict when it was not DNATed.
    const verdict = VERDICTS.find((v) => v === o.after);
    const first = outcomeCategory(verdict === undefined ? { verdict: 'DNAT', endpoint: o.after } : { verdict, endpoint: null }, podByIP);
    const given = firstShare.get(first) ?? 0;
    if (given <= 0) continue;
    let row = out.get(first);
    if (row === undefined) {
      row = new Map();
      out.set(first, row);
    }
    addTo(row, outcomeCategory(o, podByIP), o.probability.toNumber() / given);
  }
  return out;
}
