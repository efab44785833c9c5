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

/** erfc by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7; the relative error stays small in the tail). */
function erfc(z: number): number {
  const t = 1 / (1 + 0.3275911 * z);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return poly * Math.exp(-z * z);
}

/**
 * Pr(X ≥ x) for X ~ χ²(df), df a positive whole number, by the closed forms: for even df a
 * finite Poisson sum, for odd df erfc plus a finite sum.
 */
export function chiSquareSurvival(x: number, df: number): number {
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  const h = x / 2;
  if (df % 2 === 0) {
    let term = Math.exp(-h);
    let sum = term;
    for (let i = 1; i < df / 2; i++) {
      term *= h / i;
      sum += term;
    }
    return Math.min(1, sum);
  }
  // Q(x; ν+2) = Q(x; ν) + h^(ν/2) e^(-h) / Γ(ν/2 + 1), from Q(x; 1) = erfc(√h); Γ(3/2) = √π / 2
  let q = erfc(Math.sqrt(h));
  let term = (Math.sqrt(h) * Math.exp(-h)) / (Math.sqrt(Math.PI) / 2);
  for (let nu = 1; nu < df; nu += 2) {
    q += term;
    term *= h / (nu / 2 + 1);
  }
  return Math.min(1, q);
}

/** The level below which a comparison fails: p < 0.001, as the scenario table's own chi-square test. */
export const DEFAULT_ALPHA = 0.001;

/**
 * Observed counts against predicted shares (summing to 1). Fails when the kernel did something
 * the tracer gives probability 0, or when chi-square rejects the prediction at p < alpha (0.001
 * by default; a caller running many tests passes a smaller level, so that the chance of one
 * false alarm among them stays at 0.001).
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
  );
  const p = chiSquareSurvival(test.statistic, test.degreesOfFreedom);
  // At the default level, stats.ts's table of critical values decides (the same test as the scenario table's).
  const ok = alpha === DEFAULT_ALPHA ? test.consistent : p >= alpha;
  const verdict = `χ²=${test.statistic.toFixed(2)} (df ${test.degreesOfFreedom}, p=${p.toPrecision(3)}; fails below p=${alpha.toPrecision(2)})`;
  return { ok, tested: true, detail: `${verdict}; observed vs expected: ${label}` };
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

