/**
 * Tests of whether two samples differ, for the comparison of two traces (compare.ts): the
 * Mann–Whitney U test on two samples of durations (no assumption about their distribution, robust
 * to the long tails of request times), and Fisher's exact test on two proportions (error rates,
 * connection reuse). Both two-sided. Pure.
 */

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: about 15 significant digits). */
export function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905,
    -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The complementary error function (Numerical Recipes' erfcc: relative error below 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** The result of a Mann–Whitney U test. */
export interface RankTest {
  /** U of the first sample: how many (a, b) pairs have a > b, ties counting half. */
  u: number;
  /** Two-sided p-value (normal approximation with tie and continuity corrections). */
  p: number;
  /** U / (nA · nB): the chance that a value of A exceeds one of B (0.5: no shift). */
  effect: number;
}

/**
 * Mann–Whitney U test of two samples, each sorted ascending (one merge: O(nA + nB)). Undefined
 * when either is empty.
 */
export function mannWhitney(a: ArrayLike<number>, b: ArrayLike<number>): RankTest | undefined {
  const na = a.length;
  const nb = b.length;
  if (na === 0 || nb === 0) return undefined;
  let i = 0;
  let j = 0;
  let rank = 0;
  let rankSumA = 0;
  let tieTerm = 0;
  while (i < na || j < nb) {
    const v = j >= nb || (i < na && a[i] <= b[j]) ? a[i] : b[j];
    let ka = 0;
    let kb = 0;
    for (; i < na && a[i] === v; i++) ka++;
    for (; j < nb && b[j] === v; j++) kb++;
    const k = ka + kb;
    // The tied values share the mean of ranks rank+1 … rank+k.
    rankSumA += ka * (rank + (k + 1) / 2);
    rank += k;
    if (k > 1) tieTerm += k * k * k - k;
  }
  const n = na + nb;
  const u = rankSumA - (na * (na + 1)) / 2;
  const mean = (na * nb) / 2;
  const variance = ((na * nb) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (variance <= 0) return { u, p: 1, effect: u / (na * nb) };
  const z = (Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  return { u, p: Math.min(1, z <= 0 ? 1 : erfc(z / Math.SQRT2)), effect: u / (na * nb) };
}

/**
 * Fisher's exact test, two-sided, of x1 successes in n1 against x2 in n2: the probability, with
 * the margins fixed, of a table at most as likely as the one observed.
 */
export function fisherExact(x1: number, n1: number, x2: number, n2: number): number {
  const k = x1 + x2;
  const n = n1 + n2;
  if (n1 === 0 || n2 === 0 || k === 0 || k === n) return 1;
  const lf = (m: number) => logGamma(m + 1);
  const base = lf(k) + lf(n - k) + lf(n1) + lf(n2) - lf(n);
  const logP = (x: number) => base - lf(x) - lf(k - x) - lf(n1 - x) - lf(n2 - k + x);
  const observed = logP(x1);
  let p = 0;
  for (let x = Math.max(0, k - n2); x <= Math.min(k, n1); x++) {
    const lp = logP(x);
    if (lp <= observed + 1e-7) p += Math.exp(lp);
  }
  return Math.min(1, p);
}
