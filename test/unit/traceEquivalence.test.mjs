// covers: src/collector/session.ts, src/trace/builder/, src/collector/eventDecoder.ts
// needs: the build (dist/core.cjs)
// Issue 40: the collector builds the same trace as before its per-request cost was cut. Each
// recorded input stream of test/fixtures/streams (http and https keep-alive, redirects, failures of
// every phase, TLS cases, incoming server requests and their calls, the benchmark's realistic mix)
// is replayed into today's Session: the trace file it writes must be the one the build before
// those changes wrote, byte for byte, and what its live views read on the way (Session.request of
// each changed id, at every change) the same. Re-record with test/fixtures/streams/record.mjs; a
// deliberate change of the trace rewrites only what builds make of the streams (`--expected`,
// the fields that changed checked one by one: see there). Since issue 65 the file is format
// version 2 (compact, no derived fields); the version 1 files the build before wrote are kept as
// <name>.v1.trace.json.gz, and formatVersions.test.mjs holds both files of each run to one another.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { readStream, replay } from '../lib/replayStream.mjs';
import { bundleTs } from '../lib/bundleTs.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, '..', 'fixtures', 'streams');
const core = createRequire(import.meta.url)('../../dist/core.cjs');
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.json.gz') && !f.endsWith('.trace.json.gz'))
  .map((f) => f.slice(0, -'.json.gz'.length));

test('the recorded workloads are all there', () => {
  assert.deepEqual(names.sort(), ['failures', 'gateway', 'keepalive-https', 'mixed', 'redirects', 'tls-cases']);
});

for (const name of names) {
  test(`${name}: the same trace file and the same live reads as before`, async () => {
    const expected = gunzipSync(readFileSync(join(dir, `${name}.trace.json.gz`))).toString('utf8');
    const expectedLive = JSON.parse(readFileSync(join(dir, `${name}.live.json`), 'utf8'));
    const { text, trace, live } = await replay(core, readStream(join(dir, `${name}.json.gz`)));
    assert.ok(trace.httpRequests.length > 0);
    if (text !== expected) {
      // Field for field first: the first request (or other part) that differs says more than a diff of text.
      const got = JSON.parse(text);
      const want = JSON.parse(expected);
      for (const kind of Object.keys(want)) {
        if (!Array.isArray(want[kind])) assert.deepEqual(got[kind], want[kind], kind);
        else for (let i = 0; i < want[kind].length; i++) assert.deepEqual(got[kind][i], want[kind][i], `${kind}[${i}]`);
      }
      assert.deepEqual(Object.keys(got), Object.keys(want));
      assert.equal(text, expected, 'the same fields, written differently');
    }
    assert.deepEqual(live, expectedLive);
  });
}

// The collector applies most request updates of the preload's event frames from their fields by
// code (TraceBuilder.applyEvent), the rest as the `record` message they stand for. Each stream again,
// its record messages brought as event frames: the same file and the same live reads as the build
// that recorded it, whichever way each update went.
const events = bundleTs([
  "export { EventEncoder } from './src/protocol/events';",
  "export { EventDecoder } from './src/collector/eventDecoder';",
]);
for (const name of names) {
  test(`${name}: the same trace file and live reads with the record messages brought as event frames`, async () => {
    const expected = gunzipSync(readFileSync(join(dir, `${name}.trace.json.gz`))).toString('utf8');
    const expectedLive = JSON.parse(readFileSync(join(dir, `${name}.live.json`), 'utf8'));
    const { text, live } = await replay(core, readStream(join(dir, `${name}.json.gz`)), { events });
    const { fromEvents = 0, fromCodes = 0, ...read } = live;
    // Not a vacuous pass: request updates went by code (failures and TLS cases are mostly other records and errors).
    assert.ok(fromCodes >= 10, `${fromCodes} of ${fromEvents} events applied by code`);
    assert.equal(text, expected);
    assert.deepEqual(read, expectedLive);
  });
}
