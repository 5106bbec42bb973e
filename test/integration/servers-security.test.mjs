// Served requests and what they tell others (issue 48): the trace-ids Net Trace makes up with
// --add-traceparent are random (W3C Trace Context), not a process's salt and its served-request
// counter; a request sent in absolute form (`GET http://user:pass@host/path`) is recorded as its
// URL, without the userinfo, in the trace and in OpenTelemetry's SERVER span.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTraced } from './harness.mjs';

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
