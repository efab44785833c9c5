/** Pearson's chi-square goodness of fit, for the spread of requests over endpoints. */

/** Critical values of the chi-square distribution at p = 0.001, by degrees of freedom. */
const CRITICAL_P001: readonly number[] = [NaN, 10.828, 13.816, 16.266, 18.467, 20.515, 22.458, 24.322, 26.124, 27.877, 29.588];

export interface ChiSquare {
  readonly statistic: number;
  readonly degreesOfFreedom: number;
  readonly critical: number;
  /** True when the observed counts are consistent with the expected shares (not rejected at p < 0.001). */
  readonly consistent: boolean;
}

export function chiSquare(observed: readonly number[], expectedShares: readonly number[]): ChiSquare {
  const total = observed.reduce((a, b) => a + b, 0);
  let statistic = 0;
  for (const [i, o] of observed.entries()) {
    const e = (expectedShares[i] ?? 0) * total;
    statistic += e === 0 ? (o === 0 ? 0 : Infinity) : (o - e) ** 2 / e;
  }
  const degreesOfFreedom = observed.length - 1;
  const critical = CRITICAL_P001[degreesOfFreedom] ?? NaN;
  return { statistic, degreesOfFreedom, critical, consistent: statistic <= critical };
}
