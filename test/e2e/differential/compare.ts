/**
 * The statistics of the tracer's differential test, kept pure so a unit test can show they fail
 * on a wrong prediction: what the kernel did (counts per category) against what the tracer
 * predicts (exact shares per category), with Pearson's chi-square from ../scenarios/stats.ts.
 *
 * Categories: `pod:NAME` (answered by that pod), `refused` (ECONNREFUSED: a REJECT),
 * `dropped` (a timeout: a DROP), `error:KIND` (anything else the client saw).
 */
import type { TrafficResult } from '../../../src/runtime/sandbox/index.js';
import { chiSquare } from '../scenarios/stats.js';

export { chiSquareSurvival } from '../scenarios/stats.js';

/** Categories expected fewer times than this are merged with others before the chi-square test (the usual rule). */
export const MIN_EXPECTED_COUNT = 5;

export interface CountComparison {
  readonly ok: boolean;
  /** What was compared and how it came out (or why it failed). */
  readonly detail: string;
  /** Whether a chi-square test ran (at least two categories left after merging). */
  readonly tested: boolean;
}

interface Group {
  readonly names: string[];
  observed: number;
  expected: number;
}

function show(counts: ReadonlyMap<string, number>, digits = 0): string {
  return [...counts].map(([k, v]) => `${k}=${digits === 0 ? String(v) : v.toFixed(digits)}`).join(' ');
}

/** The level below which a comparison fails by default (a caller running many tests passes its own). */
export const DEFAULT_ALPHA = 0.001;

/**
 * Observed counts against predicted shares (summing to 1). Fails when the kernel did something
 * the tracer gives probability 0, or when chi-square rejects the prediction at p < alpha (0.001
 * by default; a caller running many tests passes a smaller level, so that the chance of one
 * false alarm among them stays within its budget).
 */
export function compareCounts(
  observed: ReadonlyMap<string, number>,
  shares: ReadonlyMap<string, number>,
  alpha = DEFAULT_ALPHA,
): CountComparison {
  const total = [...observed.values()].reduce((a, b) => a + b, 0);
  const impossible = [...observed].filter(([k, n]) => n > 0 && (shares.get(k) ?? 0) <= 0);
  if (impossible.length > 0) {
    return {
      ok: false,
      tested: false,
      detail: `the kernel gave ${impossible.map(([k, n]) => `${n} × ${k}`).join(', ')}, which the tracer says cannot happen (predicted ${show(shares, 6)})`,
    };
  }
  if (total === 0) return { ok: true, tested: false, detail: 'nothing measured' };
  let groups: Group[] = [...shares]
    .filter(([, p]) => p > 0)
    .map(([k, p]) => ({ names: [k], observed: observed.get(k) ?? 0, expected: p * total }));
  const byExpected = (a: Group, b: Group): number => a.expected - b.expected;
  groups.sort(byExpected);
  while (groups.length > 1 && (groups[0]?.expected ?? Infinity) < MIN_EXPECTED_COUNT) {
    const [small, next, ...rest] = groups;
    if (small === undefined || next === undefined) break;
    groups = [{ names: [...next.names, ...small.names], observed: next.observed + small.observed, expected: next.expected + small.expected }, ...rest];
    groups.sort(byExpected);
  }
  const label = groups.map((g) => `${g.names.sort().join('+')}: ${g.observed} vs ${g.expected.toFixed(1)}`).join(', ');
  if (groups.length < 2) return { ok: true, tested: false, detail: `one category after merging (${label})` };
  const test = chiSquare(
    groups.map((g) => g.observed),
    groups.map((g) => g.expected / total),
    alpha,
  );
  const verdict = `χ²=${test.statistic.toFixed(2)} (df ${test.degreesOfFreedom}, p=${test.p.toPrecision(3)}; fails below p=${alpha.toPrecision(2)})`;
  return { ok: test.consistent, tested: true, detail: `${verdict}; observed vs expected: ${label}` };
}

/** What the client saw, by category. */
export function observedCategories(r: TrafficResult): Map<string, number> {
  const out = new Map<string, number>();
  const add = (k: string, n: number): void => {
    if (n > 0) out.set(k, (out.get(k) ?? 0) + n);
  };
  for (const [pod, n] of Object.entries(r.byPod)) add(`pod:${pod}`, n);
  for (const [kind, n] of Object.entries(r.errorKinds)) add(errorCategory(kind), n);
  return out;
}

export function errorCategory(kind: string): string {
  if (kind === 'ECONNREFUSED') return 'refused';
  if (kind === 'timeout') return 'dropped';
  return `error:${kind}`;
}

