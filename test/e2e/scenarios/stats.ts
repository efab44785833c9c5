/**
 * Pearson's chi-square goodness of fit, for the spread of requests over endpoints.
 *
 * Every statistical check of the suite can fail by chance; a CI run must not. The levels are set
 * so that the whole suite fails by chance less than once in a million runs: the scenario table's
 * own spread test at 1e-7 (it runs twice per suite: the iptables table and the tracer's
 * differential run of it), and the tracer's differential test at 2e-7 for all its tests together.
 */

/** The scenario table's spread test fails below this p-value. */
export const SCENARIO_ALPHA = 1e-7;

export interface ChiSquare {
  readonly statistic: number;
  readonly degreesOfFreedom: number;
  /** Pr(X ≥ statistic) for X ~ χ²(degreesOfFreedom). */
  readonly p: number;
  readonly alpha: number;
  /** True when the observed counts are consistent with the expected shares (not rejected at p < alpha). */
  readonly consistent: boolean;
}

export function chiSquare(observed: readonly number[], expectedShares: readonly number[], alpha: number): ChiSquare {
  const total = observed.reduce((a, b) => a + b, 0);
  let statistic = 0;
  for (const [i, o] of observed.entries()) {
    const e = (expectedShares[i] ?? 0) * total;
    statistic += e === 0 ? (o === 0 ? 0 : Infinity) : (o - e) ** 2 / e;
  }
  const degreesOfFreedom = observed.length - 1;
  const p = chiSquareSurvival(statistic, degreesOfFreedom);
  return { statistic, degreesOfFreedom, p, alpha, consistent: p >= alpha };
}

/**
 * erfc(z) for z ≥ 0 with a small relative error also far in the tail (where the p-values of
 * small levels live): the Taylor series of erf below 2, the continued fraction above.
 */
function erfc(z: number): number {
  if (z < 2) {
    // erf(z) = 2/√π Σ (-1)^n z^(2n+1) / (n! (2n+1))
    let term = z;
    let sum = z;
    for (let n = 1; n < 60; n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // erfc(z) = e^(-z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + 2/(z + …))))), evaluated from the tail
  let fraction = z;
  for (let n = 80; n >= 1; n--) fraction = z + n / 2 / fraction;
  return Math.exp(-z * z) / (Math.sqrt(Math.PI) * fraction);
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
