// covers: src/preload/transport/transport.ts, src/preload/transport/batching.ts
// When the preload's transport writes: a small batch waits up to FLUSH_INTERVAL_MS + FLUSH_HOLD_MS
// (fewer, larger writes: a collector that does not read for a while holds more of them), a batch
// of HOLD_BELOW_BYTES or more leaves at FLUSH_INTERVAL_MS, a completion at once. The transport
// writes to a plain unix socket server here that notes when each chunk arrives: this process is
// idle between the records, so each write arrives as a chunk of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';

const t = bundleTs([
  "export { Transport } from './src/preload/transport/transport';",
  "export { FLUSH_INTERVAL_MS, FLUSH_HOLD_MS, HOLD_BELOW_BYTES } from './src/preload/transport/batching';",
  "export { F } from './src/protocol/recordWriter';",
]);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A unix socket server in a private folder; `chunks` holds [ms since start, bytes] of each read. */
async function listener() {
  const dir = mkdtempSync(join(tmpdir(), 'nt-batch-'));
  const path = join(dir, 'c.sock');
  const chunks = [];
  const t0 = performance.now();
  const sockets = new Set();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('data', (c) => chunks.push([performance.now() - t0, c.length]));
  });
  await new Promise((r) => server.listen(path, r));
  return {
    path,
    chunks,
    t0,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => (rmSync(dir, { recursive: true, force: true }), r()));
      }),
  };
}

function transportTo(path) {
  const hello = () => ({
    type: 'hello',
    pid: 4245,
    ppid: 1,
    threadId: 0,
    argv: ['node', 'b.js'],
    nodeVersion: 'v20',
    cwd: '/',
    startAt: Date.now(),
  });
  const stats = () => ({ type: 'stats', producedEvents: 0, droppedEvents: 0 });
  return new t.Transport(path, 100_000, hello, stats);
}

/** One update of request `id` that does not complete it (a milestone), of about `pad` bytes. */
function milestone(tr, id, pad = 0) {
  const w = tr.open('httpRequests', id);
  w.intern(t.F.client, 'http');
  w.text(t.F.reqURL, `http://h/${id}${'x'.repeat(pad)}`);
  w.num(t.F.reqStartAt, Date.now());
  tr.close(w, false);
}

test('small batches wait FLUSH_INTERVAL_MS + FLUSH_HOLD_MS: a milestone every 10 ms for 600 ms goes in a write per ~100 ms', async () => {
  assert.ok(t.FLUSH_HOLD_MS > 0 && t.FLUSH_INTERVAL_MS + t.FLUSH_HOLD_MS <= 100);
  const l = await listener();
  try {
    const tr = transportTo(l.path);
    const begun = performance.now() - l.t0;
    for (let i = 0; i < 60; i++) {
      milestone(tr, `r${i}`);
      await sleep(10);
    }
    const elapsed = performance.now() - l.t0 - begun;
    await sleep(150);
    assert.equal(tr.dropped, 0);
    assert.ok(l.chunks.length > 0, 'the milestones were written');
    // Each write holds ≥ 100 ms of milestones (one per 25 ms before: ≈ 24 in 600 ms). A loaded
    // machine stretches the loop, and the bound with it.
    const most = Math.ceil(elapsed / (t.FLUSH_INTERVAL_MS + t.FLUSH_HOLD_MS - 5)) + 1;
    assert.ok(l.chunks.length <= most, `${l.chunks.length} writes in ${elapsed.toFixed(0)} ms: ${JSON.stringify(l.chunks)}`);
    // The first write left after the hold, not at FLUSH_INTERVAL_MS.
    assert.ok(l.chunks[0][0] - begun >= t.FLUSH_INTERVAL_MS + t.FLUSH_HOLD_MS - 5, JSON.stringify(l.chunks));
  } finally {
    await l.close();
  }
});

test('a batch of HOLD_BELOW_BYTES or more leaves at FLUSH_INTERVAL_MS, before a small one queued with it; a completion at once', async () => {
  const big = await listener();
  const small = await listener();
  try {
    const a = transportTo(big.path);
    const b = transportTo(small.path);
    // Queued together: one milestone larger than HOLD_BELOW_BYTES, one small. Timers fire in the
    // order they are due, so however loaded the machine, the large batch (due at
    // FLUSH_INTERVAL_MS) is written before the small one (held to FLUSH_HOLD_MS more).
    milestone(a, 'big', t.HOLD_BELOW_BYTES);
    milestone(b, 'small');
    for (let i = 0; i < 400 && (big.chunks.length === 0 || small.chunks.length === 0); i++) await sleep(5);
    assert.ok(big.chunks.length > 0 && small.chunks.length > 0, 'both written');
    const bigAt = big.t0 + big.chunks[0][0];
    const smallAt = small.t0 + small.chunks[0][0];
    assert.ok(
      bigAt < smallAt,
      `the large batch at ${(bigAt - big.t0).toFixed(1)} ms, the small one at ${(smallAt - big.t0).toFixed(1)} ms`,
    );
    // A small milestone, then its completion: both leave with the completion, written within
    // close() (the data is in the socket before the loop turns), not after the hold.
    const n = small.chunks.length;
    milestone(b, 'later');
    await sleep(5);
    const w = b.open('httpRequests', 'later');
    w.num(t.F.respDoneAt, Date.now());
    b.close(w, true);
    for (let i = 0; i < 3 && small.chunks.length === n; i++) await new Promise((r) => setImmediate(r));
    assert.ok(small.chunks.length > n, 'the completion was written at once');
    assert.equal(a.dropped + b.dropped, 0);
  } finally {
    await big.close();
    await small.close();
  }
});
