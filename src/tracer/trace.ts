/**
 * A trace's answer: the engine's outcomes grouped into a verdict, the exact distribution over
 * DNAT endpoints, masquerading, the path, and — where a rule on the way sets `-m recent` state
 * (ClientIP session affinity) — what a returning client meets.
 */
import { compareStrings } from '../core/compare.js';
import type { IrProgram } from './ir.js';
import { runTrace } from './engine.js';
import type { PathStep, TraceEnvironment, TraceLeaf, TracePacket, Verdict } from './packet.js';
import { Rational } from './rational.js';

export interface TraceOutcome {
  readonly verdict: Verdict;
  readonly endpoint: string | null;
  readonly masquerade: boolean;
  readonly probability: Rational;
  readonly decidedAt: TraceLeaf['decidedAt'];
  readonly rejectWith: string | null;
  /**
   * For a returning client: where its first packet went (the endpoint, or the verdict when it
   * was not DNATed), so `after === endpoint` is "the client sticks to its endpoint". Null for
   * first packets.
   */
  readonly after: string | null;
}

export interface TraceResult {
  /** The most likely verdict (ties: DNAT, REJECT, DROP, ACCEPT, NO_SERVICE). */
  readonly verdict: Verdict;
  /** DNAT endpoint → probability, sorted by endpoint; sums to the probability of DNAT (1 when every outcome is DNAT). */
  readonly distribution: readonly { readonly endpoint: string; readonly probability: Rational }[];
  /** Whether any outcome leaves masqueraded; `masqueradeProbability` says how often. */
  readonly masquerade: boolean;
  readonly masqueradeProbability: Rational;
  readonly outcomes: readonly TraceOutcome[];
  readonly path: readonly PathStep[];
  readonly notes: readonly string[];
  /** A returning client (its first packet's `-m recent` state in place), or null without affinity. */
  readonly returning: TraceResult | null;
  /**
   * With affinity: the probability that a returning client reaches the endpoint its first
   * packet reached (1 when every client sticks); null without affinity.
   */
  readonly stickiness: Rational | null;
}

interface TaggedLeaf {
  readonly leaf: TraceLeaf;
  readonly after: string | null;
}

const VERDICT_ORDER: readonly Verdict[] = ['DNAT', 'REJECT', 'DROP', 'ACCEPT', 'NO_SERVICE'];

function summarize(
  leaves: readonly TaggedLeaf[],
  path: readonly PathStep[],
  notes: readonly string[],
  returning: TraceResult | null,
): TraceResult {
  const grouped = new Map<string, TraceOutcome>();
  for (const { leaf, after } of leaves) {
    const key = JSON.stringify([leaf.verdict, leaf.endpoint, leaf.masquerade, leaf.decidedAt, leaf.rejectWith, after]);
    const existing = grouped.get(key);
    grouped.set(key, {
      verdict: leaf.verdict,
      endpoint: leaf.endpoint,
      masquerade: leaf.masquerade,
      probability: existing === undefined ? leaf.probability : existing.probability.add(leaf.probability),
      decidedAt: leaf.decidedAt,
      rejectWith: leaf.rejectWith,
      after,
    });
  }
  const outcomes = [...grouped.values()].sort(
    (a, b) =>
      compareStrings(a.after ?? '', b.after ?? '') ||
      VERDICT_ORDER.indexOf(a.verdict) - VERDICT_ORDER.indexOf(b.verdict) ||
      compareStrings(a.endpoint ?? '', b.endpoint ?? '') ||
      Number(a.masquerade) - Number(b.masquerade),
  );
  const byVerdict = new Map<Verdict, Rational>();
  const byEndpoint = new Map<string, Rational>();
  let masquerade = Rational.ZERO;
  for (const o of outcomes) {
    byVerdict.set(o.verdict, (byVerdict.get(o.verdict) ?? Rational.ZERO).add(o.probability));
    if (o.verdict === 'DNAT' && o.endpoint !== null) byEndpoint.set(o.endpoint, (byEndpoint.get(o.endpoint) ?? Rational.ZERO).add(o.probability));
    if (o.masquerade && o.verdict !== 'DROP' && o.verdict !== 'REJECT') masquerade = masquerade.add(o.probability);
  }
  let verdict: Verdict = 'NO_SERVICE';
  let best: Rational | null = null;
  for (const v of VERDICT_ORDER) {
    const p = byVerdict.get(v);
    if (p !== undefined && (best === null || p.compare(best) > 0)) {
      verdict = v;
      best = p;
    }
  }
  const distribution = [...byEndpoint.entries()]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([endpoint, probability]) => ({ endpoint, probability }));
  let stickiness: Rational | null = null;
  if (returning !== null) {
    let dnat = Rational.ZERO;
    let stuck = Rational.ZERO;
    for (const o of returning.outcomes) {
      if (o.after === null || !byEndpoint.has(o.after)) continue;
      dnat = dnat.add(o.probability);
      if (o.verdict === 'DNAT' && o.endpoint === o.after) stuck = stuck.add(o.probability);
    }
    stickiness = dnat.isZero() ? Rational.ZERO : stuck.div(dnat);
  }
  return {
    verdict,
    distribution,
    masquerade: !masquerade.isZero(),
    masqueradeProbability: masquerade,
    outcomes,
    path,
    notes,
    returning,
    stickiness,
  };
}

/**
 * Traces a packet; with session affinity on its way, also a returning client: each first-packet
 * outcome's `-m recent` state, weighted by its probability, meets a second packet.
 */
export function trace(program: IrProgram, packet: TracePacket, env: TraceEnvironment): TraceResult {
  const first = runTrace(program, packet, env);
  let returning: TraceResult | null = null;
  if (first.leaves.some((l) => l.affinity)) {
    const leaves: TaggedLeaf[] = [];
    const path: PathStep[] = [];
    const notes = new Set<string>();
    for (const leaf of first.leaves) {
      const again = runTrace(program, packet, { ...env, recent: leaf.recent });
      const after = leaf.endpoint ?? leaf.verdict;
      const scenario = `after a first packet to ${after}`;
      for (const l of again.leaves) leaves.push({ leaf: { ...l, probability: l.probability.mul(leaf.probability) }, after });
      for (const step of again.path) path.push({ ...step, probability: step.probability.mul(leaf.probability), scenario });
      for (const n of again.notes) notes.add(n);
    }
    returning = summarize(leaves, path, [...notes], null);
  }
  return summarize(
    first.leaves.map((leaf) => ({ leaf, after: null })),
    first.path,
    first.notes,
    returning,
  );
}
