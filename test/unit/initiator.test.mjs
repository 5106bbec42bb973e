// The preload's initiator capture: the stack budget that decides which requests get their stack,
// and the raw key that lets a stack seen before skip formatting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs(["export * from './src/preload/initiator';"]);

test('initiator "all" captures every stack, "off" none (counted)', () => {
  const all = new m.StackBudget('all', 0);
  for (let i = 0; i < 1000; i++) {
    assert.equal(all.allow(i * 0.001), true);
    all.charge(5);
  }
  assert.equal(all.skipped, 0);
  const off = new m.StackBudget('off', 0);
  for (let i = 0; i < 10; i++) assert.equal(off.allow(i), false);
  assert.equal(off.skipped, 10);
});

test('initiator "sampled": the first requests always, then 1% of the elapsed time', () => {
  const b = new m.StackBudget('sampled', 1000);
  // A burst far over budget (each capture "takes" 1 ms): the first ALWAYS_CAPTURED still get theirs.
  for (let i = 0; i < m.ALWAYS_CAPTURED; i++) {
    assert.equal(b.allow(1000), true, `request ${i}`);
    b.charge(1);
  }
  assert.equal(b.skipped, 0);
  // Then the bucket: full (1% of a 200 ms window = 2 ms), spent by two 1 ms captures.
  assert.equal(b.allow(1000), true);
  b.charge(1);
  assert.equal(b.allow(1000), true);
  b.charge(1.5);
  assert.equal(b.allow(1000), false);
  assert.equal(b.allow(1010), false, '10 ms later: 0.1 ms of credit, still 0.4 ms in debt');
  assert.equal(b.allow(1060), true, '50 ms later: 0.5 ms earned in all, back in credit');
  assert.equal(b.skipped, 2);
  // A long pause refills only up to the window's worth: 2 ms, whatever the pause.
  b.charge(0.1);
  assert.equal(b.allow(100000), true);
  b.charge(2.05);
  assert.equal(b.allow(100000), false);
  assert.equal(b.skipped, 3);
});

test('at a steady rate, capture time stays near 1% of the elapsed time', () => {
  const b = new m.StackBudget('sampled', 0);
  const costMs = 0.01; // 10 µs per capture
  let spent = 0;
  let captured = 0;
  const n = 200000;
  const gapMs = 0.05; // 20,000 requests a second for 10 s
  for (let i = 0; i < n; i++) {
    if (b.allow(i * gapMs)) {
      b.charge(costMs);
      spent += costMs;
      captured++;
    }
  }
  const elapsed = n * gapMs;
  assert.ok(spent / elapsed <= 0.0105 + (m.ALWAYS_CAPTURED * costMs) / elapsed, `share ${spent / elapsed}`);
  assert.ok(spent / elapsed >= 0.0095, `share ${spent / elapsed}`);
  assert.equal(captured + b.skipped, n);
});

function here() {
  return m.captureStack(here);
}

test('rawStackKey: one key per call site, formatted frames point at the caller', () => {
  const keys = [];
  for (let i = 0; i < 2; i++) keys.push(m.rawStackKey(m.callSites(here())));
  const other = m.rawStackKey(m.callSites(here()));
  assert.equal(keys[0], keys[1], 'the same site twice');
  assert.notEqual(other, keys[0], 'another site');
  const init = m.formatSites(m.callSites(here()), 10, '/nonexistent/preload.cjs');
  assert.match(init.frames[0].file, /initiator\.test\.mjs$/);
  assert.equal(m.callSites(m.NO_STACK), undefined, 'a stack not captured has no call sites');
});

test('time spent reading stacks later is charged too, and puts the budget in debt', () => {
  const b = new m.StackBudget('sampled', 0);
  for (let i = 0; i < m.ALWAYS_CAPTURED; i++) {
    assert.equal(b.allow(0), true);
    assert.equal(b.lastFree, true, 'the first ones are free (their later costs are not charged)');
  }
  assert.equal(b.allow(0), true);
  assert.equal(b.lastFree, false);
  b.charge(0.1);
  // Reading its frames took 10 ms: no stack until elapsed time pays that back at 1%.
  b.chargeLater(10);
  assert.equal(b.allow(1), false);
  assert.equal(b.allow(500), false, 'at 1% of 500 ms, 5 ms of the debt repaid');
  assert.equal(b.allow(1200), true);
});
