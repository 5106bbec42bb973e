/**
 * Percentiles, defined once for the summary by route, the comparison of two traces, the CLI and
 * the panel: the nearest-rank definition. The p-th percentile of n values is the smallest value
 * v such that at least p% of the values are ≤ v: the value at rank ⌈p/100 · n⌉ (1-based) of the
 * sorted values. It is always a value that was measured (no interpolation between two requests'
 * times), p100 is the maximum, and for n = 1 every percentile is that one value. Pure.
 */

/** The percentiles the summary reports. */
export const SUMMARY_PERCENTILES = [50, 95, 99] as const;

/** The nearest-rank p-th percentile (0 < p ≤ 100) of values sorted ascending; undefined when there are none. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number | undefined {
  const n = sorted.length;
  if (n === 0) return undefined;
  const rank = Math.min(n, Math.max(1, Math.ceil((p / 100) * n - 1e-9)));
  return sorted[rank - 1];
}

/** Percentiles of a sample: p50, p95, p99 and the maximum, by percentileOfSorted. */
export interface Percentiles {
  /** How many values. */
  n: number;
  /**
   * Set when p50, p95 and p99 were read from a uniform random sample of the values (a route of
   * thousands of requests, src/trace/derive/sampleRows.ts): the sample's size. `n` and `max` stay exact.
   */
  sampled?: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** A copy of the values sorted ascending, as a Float64Array (numeric order, not text). */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/** p50, p95, p99 and max of values sorted ascending; undefined when there are none. */
export function percentilesOfSorted(sorted: ArrayLike<number>): Percentiles | undefined {
  if (sorted.length === 0) return undefined;
  return {
    n: sorted.length,
    p50: percentileOfSorted(sorted, 50)!,
    p95: percentileOfSorted(sorted, 95)!,
    p99: percentileOfSorted(sorted, 99)!,
    max: sorted[sorted.length - 1],
  };
}
