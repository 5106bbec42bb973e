// covers: src/trace/derive/loopBlocked.ts
// A loop block the preload reports is kept on its thread's process entry, and the requests it may
// overlap are marked changed for the live views; when nobody is told (`nettrace run`: no view
// listens, nothing watches for stale requests) the block is kept the same and no request is looked at.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleTs } from '../lib/bundleTs.mjs';

const k = bundleTs(["export { addLoopBlock } from './src/trace/derive/loopBlocked';"]);
const clock = { relative: (ms) => ms - 1000 };

/** A trace of 5 requests of pid 7 (one ending at 1,100 ms, the rest long before), and a changes log that records what it is told (ChangeLog.tellsRequests: a view listens or something watches for stale requests). */
function setup(listening, watchingStale) {
  const httpRequests = Array.from({ length: 5 }, (_, i) => ({
    traceID: `req-${i}`,
    pid: 7,
    threadId: 0,
    respDoneAt: i === 4 ? 1100 : 10 + i,
  }));
  const told = [];
  const changes = { tellsRequests: listening || watchingStale, request: (id) => told.push(id), record: (id) => told.push(id) };
  const p = { pid: 7, threadId: 0 };
  return { trace: { httpRequests }, told, changes, p };
}

test('a loop block marks the requests it may overlap changed while a view listens', () => {
  const { trace, told, changes, p } = setup(true, false);
  assert.equal(k.addLoopBlock(p, { beginAt: 2050, endAt: 2200, ownMs: 120 }, clock, trace, changes), true);
  assert.deepEqual(p.loopBlocks, [{ beginAt: 1050, endAt: 1200, ownMs: 120 }]);
  assert.deepEqual(told, ['req-4'], 'the request still running when the block began, not those that ended before');
});

test('with nobody told of changes the block is kept the same and no request is marked', () => {
  const { trace, told, changes, p } = setup(false, false);
  assert.equal(k.addLoopBlock(p, { beginAt: 2050, endAt: 2200, ownMs: 120 }, clock, trace, changes), true);
  assert.deepEqual(p.loopBlocks, [{ beginAt: 1050, endAt: 1200, ownMs: 120 }]);
  assert.deepEqual(told, []);
  // Something watching stale requests is still told.
  const watched = setup(false, true);
  k.addLoopBlock(watched.p, { beginAt: 2050, endAt: 2200 }, clock, watched.trace, watched.changes);
  assert.deepEqual(watched.told, ['req-4']);
});
