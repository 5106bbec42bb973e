// covers: src/trace/derive/percentiles.ts
// needs: the build (dist/core.cjs)
// Percentiles (src/trace/derive/percentiles.ts): the nearest-rank definition, checked against a
// reference computed from the definition itself (the smallest value with at least p% of the
// values at or below it), on many random samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { percentileOfSorted, percentilesOfSorted, sortedCopy, SampleRows, SampleBudget, seededRandom, MAX_ROWS_PER_GROUP, ROW_BUDGET } =
  createRequire(import.meta.url)('../../dist/core.cjs');

/** The reference: by counting, no ranks — the smallest v in values with #{x ≤ v} ≥ p/100 · n. */
function reference(values, p) {
  const candidates = [...new Set(values)].sort((a, b) => a - b);
  for (const v of candidates) if (values.filter((x) => x <= v).length * 100 >= p * values.length) return v;
  return undefined;
}

function rng(seed) {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

test('agrees with the reference on random samples of every size from 1 to 300', () => {
  const r = rng(53);
  for (let n = 1; n <= 300; n++) {
    const values = Array.from({ length: n }, () => Math.round(r() * (n % 3 === 0 ? 10 : 1000) * 1000) / 1000); // ties when n % 3 == 0
    const sorted = sortedCopy(values);
    for (const p of [1, 25, 50, 90, 95, 99, 99.9, 100]) assert.equal(percentileOfSorted(sorted, p), reference(values, p), `n=${n} p=${p}`);
  }
});

test('known values: 1..100 and 1..10', () => {
  const hundred = sortedCopy(Array.from({ length: 100 }, (_, i) => 100 - i));
  assert.deepEqual(percentilesOfSorted(hundred), { n: 100, p50: 50, p95: 95, p99: 99, max: 100 });
  const ten = sortedCopy([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
  assert.deepEqual(percentilesOfSorted(ten), { n: 10, p50: 5, p95: 10, p99: 10, max: 10 });
  assert.deepEqual(percentilesOfSorted(sortedCopy([7])), { n: 1, p50: 7, p95: 7, p99: 7, max: 7 });
  assert.equal(percentilesOfSorted(sortedCopy([])), undefined);
});

test('sorting is numeric, not by text (100 after 9)', () => {
  const s = new SampleRows(1);
  for (const v of [9, 100, 10, 1]) s.add([v], MAX_ROWS_PER_GROUP, seededRandom());
  assert.deepEqual([...s.sorted(0)], [1, 9, 10, 100]);
  assert.equal(percentileOfSorted(s.sorted(0), 50), 9);
});

test('SampleRows keeps every row up to its cap, each measure apart (NaN: not measured)', () => {
  const s = new SampleRows(2);
  for (let i = 0; i < 4000; i++) s.add([4000 - i, i % 2 ? NaN : i], MAX_ROWS_PER_GROUP, seededRandom());
  assert.equal(s.rows, 4000);
  assert.equal(s.sampled, false);
  const a = s.sorted(0);
  assert.deepEqual([a.length, a[0], a[3999]], [4000, 1, 4000]);
  assert.equal(s.sorted(1).length, 2000, 'the rows without the second measure leave it out');
  assert.equal(s.exactOf(0), undefined, 'not a sample: the rows are every value');
});

test('past its cap SampleRows is a uniform random sample, its count and maximum exact', () => {
  const random = seededRandom(7);
  const s = new SampleRows(2);
  const n = 200_000;
  for (let i = 1; i <= n; i++) s.add([i, i % 10 === 0 ? 1 : NaN], 1000, random);
  assert.equal(s.rows, 1000);
  assert.equal(s.sampled, true);
  assert.deepEqual(s.exactOf(0), { n, max: n });
  assert.deepEqual(s.exactOf(1), { n: n / 10, max: 1 });
  // Uniform: each decile of 1…n holds about a tenth of the sample (binomial sd ≈ 9.5: 50 is over 5 sd).
  const sample = s.sorted(0);
  for (let d = 0; d < 10; d++) {
    const k = sample.filter((v) => v > (d * n) / 10 && v <= ((d + 1) * n) / 10).length;
    assert.ok(Math.abs(k - 100) < 50, `decile ${d}: ${k} of 1000`);
  }
  // Its median is the values' median within a few percent.
  assert.ok(Math.abs(percentileOfSorted(sample, 50) - n / 2) < n * 0.05, String(percentileOfSorted(sample, 50)));
  // The same rows for the same sequence (a seeded generator: a file gives the same summary each time).
  const again = new SampleRows(2);
  const r2 = seededRandom(7);
  for (let i = 1; i <= n; i++) again.add([i, i % 10 === 0 ? 1 : NaN], 1000, r2);
  assert.deepEqual([...again.sorted(0)], [...sample]);
});

test('thinned to a lower cap, a sample stays uniform and frees its rows; the budget halves the cap as groups double', () => {
  const random = seededRandom(3);
  const s = new SampleRows(1);
  for (let i = 1; i <= 50_000; i++) s.add([i], 4096, random);
  s.thin(512, random);
  assert.equal(s.rows, 512);
  const sample = s.sorted(0);
  const low = sample.filter((v) => v <= 25_000).length;
  assert.ok(Math.abs(low - 256) < 60, `${low} of 512 in the lower half`);
  for (let i = 50_001; i <= 100_000; i++) s.add([i], 512, random);
  const late = s.sorted(0).filter((v) => v > 50_000).length;
  assert.ok(Math.abs(late - 256) < 60, `${late} of 512 from the second half, added after the thinning`);
  assert.deepEqual(s.exactOf(0), { n: 100_000, max: 100_000 });

  const budget = new SampleBudget();
  assert.equal(budget.cap, MAX_ROWS_PER_GROUP);
  assert.equal(budget.lowerFor(256), false);
  assert.equal(budget.lowerFor(257), true);
  assert.equal(budget.cap, MAX_ROWS_PER_GROUP / 2);
  budget.lowerFor(10_001);
  assert.equal(budget.cap, 64);
  assert.ok(10_001 * budget.cap <= ROW_BUDGET);
});
