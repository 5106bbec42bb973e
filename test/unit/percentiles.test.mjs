// Percentiles (src/trace/derive/percentiles.ts): the nearest-rank definition, checked against a
// reference computed from the definition itself (the smallest value with at least p% of the
// values at or below it), on many random samples.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { percentileOfSorted, percentilesOfSorted, sortedCopy, Samples } = createRequire(import.meta.url)('../../dist/core.cjs');

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
  const s = new Samples();
  for (const v of [9, 100, 10, 1]) s.push(v);
  assert.deepEqual([...s.sorted()], [1, 9, 10, 100]);
  assert.equal(percentileOfSorted(s.sorted(), 50), 9);
});

test('Samples grows past its first buffer and keeps every value', () => {
  const s = new Samples();
  for (let i = 0; i < 10_000; i++) s.push(10_000 - i);
  assert.equal(s.length, 10_000);
  const sorted = s.sorted();
  assert.equal(sorted[0], 1);
  assert.equal(sorted[9_999], 10_000);
});
