// covers: src/preload/message/traceparent.ts, src/preload/server/
// Served requests and what they tell others (issue 48): the trace-ids Net Trace makes up with
// --add-traceparent are random (W3C Trace Context), not a process's salt and its served-request
// counter; a request sent in absolute form (`GET http://user:pass@host/path`) is recorded as its
// URL, without the userinfo, in the trace and in OpenTelemetry's SERVER span.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReceiver } from './otlpReceiver.mjs';
import { apps, cli, run, runTraced } from './harness.mjs';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

/**
 * What 1,000 random hex ids look like, checked: all distinct; no two sorted neighbours share a
 * prefix longer than chance allows (for 1,000 random ids the longest shared prefix is about 5 hex
 * digits; 9 happens with probability < 1e-4); every hex position takes at least 12 of its 16
 * values (a counter or a salt leaves positions constant; for random ids a position with < 12
 * values has probability < 1e-20); consecutive ids (in the order they were made) are not a run.
 */
function assertRandom(ids, what) {
  assert.equal(new Set(ids).size, ids.length, `${what}: all distinct`);
  const sorted = [...ids].sort();
  let longest = 0;
  for (let i = 1; i < sorted.length; i++) {
    let k = 0;
    while (k < sorted[i].length && sorted[i][k] === sorted[i - 1][k]) k++;
    longest = Math.max(longest, k);
  }
  assert.ok(longest <= 8, `${what}: two ids share a prefix of ${longest} hex digits`);
  for (let pos = 0; pos < ids[0].length; pos++) {
    const values = new Set(ids.map((id) => id[pos]));
    assert.ok(values.size >= 12, `${what}: hex position ${pos} takes only ${values.size} values (${[...values].join('')})`);
  }
  let steps = 0;
  for (let i = 1; i < ids.length; i++) if (BigInt('0x' + ids[i]) - BigInt('0x' + ids[i - 1]) === 1n) steps++;
  assert.ok(steps < 3, `${what}: ${steps} ids are the one before plus 1`);
}

test('--add-traceparent: the trace-ids of 1,000 served requests are random (no salt, no counter), the same for all calls of one request; parent-ids too', async () => {
  const { code, trace, stdout, stderr } = await runTraced(process.execPath, 'traceparent-ids.cjs', { cliArgs: ['--add-traceparent'] });
  assert.equal(code, 0, stderr);
  const { svc, gw } = JSON.parse(stdout);
  const byFrom = new Map();
  const parents = [];
  for (const inc of trace.incomingRequests) {
    const u = new URL(inc.reqURL);
    if (u.port !== String(svc)) continue;
    const m = TRACEPARENT.exec(inc.traceparent ?? '');
    assert.ok(m, `${inc.reqURL}: traceparent ${inc.traceparent}`);
    const from = u.searchParams.get('from');
    byFrom.set(from, [...(byFrom.get(from) ?? []), { k: u.searchParams.get('k'), traceId: m[1], at: inc.reqRecvAt }]);
    parents.push(m[2]);
  }
  assert.equal(byFrom.size, 1000);
  // The two calls of a request continue one trace; the requests' traces, in the order served.
  const served = trace.incomingRequests.filter((i) => new URL(i.reqURL).port === String(gw)).sort((a, b) => a.reqRecvAt - b.reqRecvAt);
  const ids = [];
  for (const inc of served) {
    const calls = byFrom.get(new URL(inc.reqURL).searchParams.get('n'));
    assert.equal(calls.length, 2);
    assert.equal(calls[0].traceId, calls[1].traceId, `the calls of ${inc.reqURL} share a trace-id`);
    ids.push(calls[0].traceId);
    // The gateway's client was not traced: no traceparent came in, the ids were made up.
    assert.equal(inc.traceparent, undefined);
  }
  assertRandom(ids, 'trace-ids');
  assertRandom(parents, 'parent-ids');
});

test('a request in absolute form (GET http://user:pass@host/path?access_token=…), a Host or :authority with userinfo: the URL without the userinfo, its secrets redacted, in the trace and the SERVER spans', async () => {
  const receiver = await startReceiver('http/protobuf');
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-abs-'));
  const out = join(dir, 'trace.json');
  try {
    const res = await run(process.execPath, [
      cli,
      'run',
      '--quiet',
      '--out',
      out,
      '--otlp',
      receiver.url,
      '--',
      process.execPath,
      join(apps, 'absolute-form.cjs'),
    ]);
    assert.equal(res.code, 0, res.stderr);
    const { port, h2port, seen, statuses } = JSON.parse(res.stdout);
    // The servers got the targets as sent (nothing changed for the program).
    assert.equal(seen[0], `http://abs:PASSWORD1@127.0.0.1:${port}/abs?access_token=TOKEN1&page=2`);
    assert.deepEqual(statuses, ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK', 200]);
    const trace = JSON.parse(readFileSync(out, 'utf8'));
    // (The program's own HTTP/2 client records the :authority header it sent: its records are not checked here.)
    const text = JSON.stringify(trace.incomingRequests);
    const urls = trace.incomingRequests.map((i) => i.reqURL).sort();
    assert.deepEqual(
      urls,
      [
        `http://127.0.0.1:${h2port}/h2?api_key=<redacted>`,
        `http://127.0.0.1:${port}/abs?access_token=<redacted>&page=2`,
        `http://127.0.0.1:${port}/host?page=3`,
      ].sort(),
    );
    for (const secret of ['PASSWORD1', 'PASSWORD2', 'PASSWORD3', 'TOKEN1', 'KEY3', 'abs:', 'hu:', 'h2u:']) {
      assert.ok(!text.includes(secret), `the incoming requests hold ${secret}`);
    }
    const servers = receiver.spans.filter((s) => s.kind === 2);
    assert.equal(servers.length, 3);
    const abs = servers.find((s) => s.attributes['url.path'] === '/abs');
    assert.ok(abs, JSON.stringify(servers.map((s) => s.attributes)));
    assert.equal(abs.attributes['url.query'], 'access_token=<redacted>&page=2');
    assert.equal(abs.attributes['server.address'], '127.0.0.1');
    assert.equal(abs.attributes['server.port'], port);
    const spans = JSON.stringify(servers, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
    for (const secret of ['PASSWORD', 'TOKEN1', 'KEY3']) assert.ok(!spans.includes(secret), `a SERVER span holds ${secret}`);
  } finally {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
