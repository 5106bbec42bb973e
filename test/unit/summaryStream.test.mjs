// covers: src/trace/summaryStream.ts
// needs: the build (dist/core.cjs)
// "Compare With…" at scale (issue 53): src/trace/summaryStream.ts compares the shown trace with a
// baseline — another trace held whole, or a file streamed — a slice at a time, so the extension
// host's event loop keeps turning; its answer is the one compareMessage gives for whole traces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRouteTrace } from '../../bench/lib/routeTrace.mjs';

const core = createRequire(import.meta.url)('../../dist/core.cjs');
const N = 12_000;

/** Counts the event loop's turns while `fn` runs (a setImmediate chain: one per turn). */
async function turnsDuring(fn) {
  let turns = 0;
  let on = true;
  const spin = () => {
    if (!on) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  const value = await fn();
  on = false;
  return { value, turns };
}

test('Compare With… gives the loop back every YIELD_EVERY requests and answers as compareMessage does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-summary-stream-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = join(dir, 'a.json');
  const b = join(dir, 'b.json');
  await writeRouteTrace(a, { n: N, seed: 1 });
  await writeRouteTrace(b, { n: N, seed: 2, slow: { '/users/:id': 150 }, perConn: 1 });
  const baseline = core.enrichTrace(core.readTraceFile(a));
  const shown = core.enrichTrace(core.readTraceFile(b));
  const expected = core.compareMessage('k', 'a.json', baseline, shown);
  assert.match(expected.routes[0].sentence, /^GET api\.example\.com:8080\/users\/:id p(50|95) \+1\d\d ms/);

  // Both held whole: each summarized YIELD_EVERY requests per turn (the synchronous comparison took none).
  const held = await turnsDuring(() => core.compareWithBaseline('k', shown, { trace: baseline }, 'a.json'));
  assert.deepEqual(held.value, expected);
  assert.ok(held.turns >= (2 * N) / core.YIELD_EVERY, `${held.turns} turns of the loop for 2 × ${N} requests`);

  // The baseline a file: streamed into its route samples, the same answer.
  const file = await turnsDuring(() => core.compareWithBaseline('k', shown, { path: a }, 'a.json'));
  assert.deepEqual(file.value, expected);
  assert.ok(file.turns >= N / core.YIELD_EVERY, `${file.turns} turns`);
});

test('summarizeFile streams a file into the summary summarize() makes of it held whole', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-summary-stream-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = join(dir, 'a.json');
  await writeRouteTrace(a, { n: 3000, seed: 3 });
  const whole = core.enrichTrace(core.readTraceFile(a));
  const seen = [];
  const { trace, builder } = await core.summarizeFile(a, { onRequest: (r) => seen.push(r.traceID) });
  assert.deepEqual(builder.result(), core.summarize(whole.httpRequests, whole.incomingRequests ?? []));
  assert.deepEqual(
    seen,
    whole.httpRequests.map((r) => r.traceID),
  );
  assert.deepEqual(trace.httpRequests, [], 'the requests are not kept');
  const head = await core.readTraceHeadAsync(a);
  assert.equal(head.requests, 3000);
});

test('Open Trace File enriches a trace in place, YIELD_EVERY requests per turn, as enrichTrace does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-summary-stream-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const a = join(dir, 'a.json');
  await writeRouteTrace(a, { n: N, seed: 4 });
  const expected = core.enrichTrace(core.readTraceFile(a)).httpRequests;
  const trace = core.readTraceFile(a);
  const array = trace.httpRequests;
  const { turns } = await turnsDuring(() => core.enrichInPlace(trace));
  assert.equal(trace.httpRequests, array, 'the same array: no copy of the requests');
  assert.deepEqual(trace.httpRequests, expected);
  assert.ok(turns >= N / core.YIELD_EVERY - 1, `${turns} turns of the loop for ${N} requests`);
});
