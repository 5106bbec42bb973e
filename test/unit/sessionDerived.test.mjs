// covers: src/collector/session.ts, src/trace/builder/changes.ts
// needs: the build (dist/core.cjs)
// Issue 40: a snapshot taken after later updates reads as one from a session that never
// snapshotted before (guards any reuse of a request's derived fields — timings, loop share,
// diagnosis — from one snapshot to the next, see ChangeLog.onStale): the recorded streams with a snapshot every
// few calls, a loop stretch arriving late for an old request, a kernel fact merged late. And
// `nettrace run`'s last look (deriveInPlace with kernelTimings for the diagnosed only) reads as the
// whole derivation: the same diagnoses, the same table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStream } from '../lib/replayStream.mjs';

const core = createRequire(import.meta.url)('../../dist/core.cjs');
const streams = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'streams');

/** Replays a stream; snapshots every `every` calls (0: never) and returns the final snapshot as JSON. */
function finalSnapshot(stream, every) {
  const realNow = Date.now;
  let now = Date.parse(stream.beginAt);
  Date.now = () => now;
  try {
    const s = new core.Session({ description: 'd', beginAt: new Date(stream.beginAt), sourceMaps: false, changeIntervalMs: 1e9 });
    let calls = 0;
    for (const o of structuredClone(stream.ops)) {
      now = o.t;
      s[o.op](...o.args);
      if (every && ++calls % every === 0) s.snapshot();
    }
    const text = JSON.stringify(s.snapshot());
    s.dispose();
    return text;
  } finally {
    Date.now = realNow;
  }
}

for (const file of readdirSync(streams).filter((f) => /^[a-z-]+\.json\.gz$/.test(f) && !f.includes('.trace.'))) {
  test(`${file}: snapshots taken along the way leave the final one as it would be`, () => {
    const stream = readStream(join(streams, file));
    assert.equal(finalSnapshot(stream, 7), finalSnapshot(stream, 0));
  });
}

/** A stream's final facts derived in place, every request's kernel split or the diagnosed ones' only. */
function derivedInPlace(stream, kernelFor) {
  return withSession(stream, (s) => s.deriveInPlace(s.facts(), kernelFor));
}

for (const file of readdirSync(streams).filter((f) => /^[a-z-]+\.json\.gz$/.test(f) && !f.includes('.trace.'))) {
  test(`${file}: the run's last look, kernel splits for the diagnosed only, gives the diagnoses and the table of the whole derivation`, () => {
    const stream = readStream(join(streams, file));
    assertSameLook(derivedInPlace(stream, 'diagnosed'), derivedInPlace(stream, 'every'), 3);
  });
}

/** The same diagnoses and the same table (whole, and listing `fewRows`) of the two derivations. */
function assertSameLook(diagnosed, every, fewRows) {
  assert.deepEqual(
    diagnosed.httpRequests.map((r) => r.diagnosis),
    every.httpRequests.map((r) => r.diagnosis),
  );
  for (const maxRows of [undefined, fewRows]) {
    const options = { width: 120, color: false, maxRows };
    assert.equal(core.renderTrace(diagnosed, options), core.renderTrace(every, options));
  }
}

const T0 = Date.parse('2026-11-25T10:00:00.000Z');
function session() {
  const s = new core.Session({ description: 'd', beginAt: new Date(T0), sourceMaps: false, changeIntervalMs: 1e9 });
  const c = s.openConnection();
  s.apply(c, { type: 'hello', pid: 7, threadId: 0, startAt: T0 });
  return [s, c];
}
const request = (i, fields = {}) => ({
  type: 'record',
  kind: 'httpRequests',
  id: `r${i}`,
  fields: {
    client: 'http',
    reqMethod: 'GET',
    reqURL: `http://127.0.0.1:9/${i}`,
    reqStartAt: T0 + i * 10,
    reqSentAt: T0 + i * 10 + 1,
    respRecvAt: T0 + i * 10 + 6,
    respDoneAt: T0 + i * 10 + 7,
    respStatusCode: 200,
    ...fields,
  },
});

test('a loop stretch arriving after 300 newer requests still reaches the old one it overlaps', () => {
  const [s, c] = session();
  for (let i = 0; i < 300; i++) s.apply(c, request(i));
  assert.equal(s.snapshot().httpRequests[0].loopBlocked, undefined);
  s.apply(c, { type: 'loopBlock', beginAt: T0 + 2, endAt: T0 + 5 });
  const first = s.snapshot().httpRequests[0];
  assert.equal(first.loopBlocked?.wait, 3);
  s.dispose();
});

test('a kernel fact merged after a snapshot is in the next one', () => {
  const [s, c] = session();
  s.apply(c, { type: 'record', kind: 'tcpConns', id: 't1', fields: { connected: true, connectBeginAt: T0, connectEndAt: T0 + 1 } });
  s.apply(c, request(1, { tcpConn: 't1' }));
  assert.equal(s.snapshot().httpRequests[0].kernelTimings, undefined);
  const conn = s.builder.trace.tcpConns[0].traceID;
  assert.ok(s.builder.mergeFields('tcpConns', conn, { kernelEvents: [{ kind: 'dataIn', at: 15 }] }));
  assert.deepEqual(s.snapshot().httpRequests[0].kernelTimings, { respFirstByteAt: 15 });
  s.dispose();
});

test('a kernel event changes only the requests of its connection it falls in, not every request the connection carried', () => {
  const [s, c] = session();
  s.apply(c, { type: 'record', kind: 'tcpConns', id: 't1', fields: { connected: true, connectBeginAt: T0, connectEndAt: T0 + 1 } });
  for (let i = 1; i <= 100; i++) s.apply(c, request(i, { tcpConn: 't1', reusedConn: i > 1 }));
  s.flushChanges();
  const heard = [];
  s.on('change', (requestIDs) => heard.push(...requestIDs));
  const conn = s.builder.trace.tcpConns[0];
  const ids = s.builder.trace.httpRequests.map((r) => r.traceID);
  // Request 100 is sent at +1001 ms and read at +1006: its response's first byte arrived at +1003.
  const ev = { kind: 'dataIn', at: 1003 };
  const list = [ev];
  s.builder.kernelEventsAdded(conn, list, 1003);
  s.flushChanges();
  assert.deepEqual(heard, [ids[99]]);
  assert.deepEqual(s.snapshot().httpRequests[99].kernelTimings, { respFirstByteAt: 1003 });
  // An arrival that also says when the one before it last arrived (request 99's last byte, +996.5) concerns request 99 too.
  heard.length = 0;
  const next = { kind: 'dataIn', at: 1003.5, prevLastAt: 996.5 };
  list.push(next);
  s.builder.kernelEventsAdded(conn, list, 996.5);
  s.flushChanges();
  assert.deepEqual(heard.sort(), [ids[98], ids[99]].sort());
  // Several events in one batch: their requests are marked together, once, from the earliest.
  heard.length = 0;
  list.push({ kind: 'dataIn', at: 1004 }, { kind: 'retransmit', at: 986.5 });
  s.builder.kernelEventsAdded(conn, list, 1004);
  s.builder.kernelEventsAdded(conn, list, 986.5);
  s.flushChanges();
  assert.deepEqual(heard.sort(), [ids[97], ids[98], ids[99]].sort());
  // Without a moment (a field of the whole connection) every request on it changes.
  heard.length = 0;
  assert.ok(s.builder.mergeFields('tcpConns', conn.traceID, { kernelEvents: list }));
  s.flushChanges();
  assert.equal(heard.length, 100);
  s.dispose();
});

test('kernel events in batches mark exactly the requests a walk from the newest marks (open and ended requests, growing connection)', () => {
  // The reference: newest first, stop after 32 requests in a row that ended before the earliest
  // event less the clocks' slack (2 ms); every other request is marked. The builder also stops at
  // the connection's ended prefix (recordUsers.ts endedPrefix): it must mark the same set.
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let round = 0; round < 20; round++) {
    const [s, c] = session();
    s.apply(c, { type: 'record', kind: 'tcpConns', id: 't1', fields: { connected: true, connectBeginAt: T0, connectEndAt: T0 + 1 } });
    const ends = [];
    const heard = [];
    s.on('change', (ids) => heard.push(...ids));
    const conn = () => s.builder.trace.tcpConns[0];
    const list = [];
    let n = 0;
    for (let batch = 0; batch < 30; batch++) {
      // New requests, each ended a few ms after its start, or left open (an HTTP/2 stream) now and then.
      for (let k = Math.floor(rand() * 8); k > 0; k--, n++) {
        const open = rand() < 0.08;
        const end = n * 10 + 7 + Math.floor(rand() * 40);
        ends.push(open ? undefined : end);
        s.apply(c, request(n, { tcpConn: 't1', reusedConn: n > 0, ...(open ? { respDoneAt: undefined } : { respDoneAt: T0 + end }) }));
      }
      s.flushChanges();
      heard.length = 0;
      const sinces = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => Math.floor(rand() * (n * 10 + 20)));
      for (const since of sinces) {
        list.push({ kind: 'dataIn', at: since });
        s.builder.kernelEventsAdded(conn(), list, since);
      }
      s.flushChanges();
      const from = Math.min(...sinces) - 2;
      const want = [];
      let inRow = 0;
      for (let i = n - 1; i >= 0 && inRow < 32; i--) {
        if (ends[i] !== undefined && ends[i] < from) inRow++;
        else {
          inRow = 0;
          want.push(`r${i}`);
        }
      }
      const ids = new Map(s.builder.trace.httpRequests.map((r) => [r.traceID, r.reqURL.split('/').pop()]));
      assert.deepEqual(heard.map((id) => `r${ids.get(id)}`).sort(), want.sort(), `round ${round}, batch ${batch}, from ${from}`);
    }
    s.dispose();
  }
});

test('a session nobody listens to forgets its changes at each interval; ChangeLog.onStale still hears of kernel events', () => {
  const [s, c] = session();
  s.apply(c, { type: 'record', kind: 'tcpConns', id: 't1', fields: { connected: true, connectBeginAt: T0, connectEndAt: T0 + 1 } });
  for (let i = 0; i < 5; i++) s.apply(c, request(i, { tcpConn: 't1', reusedConn: i > 0 }));
  const conn = s.builder.trace.tcpConns[0];
  const list = [{ kind: 'dataIn', at: 35 }];
  s.builder.kernelEventsAdded(conn, list, 35);
  // No `change` listener: the interval's flush drops what changed, kernel marks included.
  s.flushChanges();
  assert.deepEqual(s.builder.takeChanges(), { requests: [], records: [], other: false });
  // A listener hears what changes from then on, kernel marks included.
  const heard = [];
  s.on('change', (ids) => heard.push(...ids));
  list.push({ kind: 'dataIn', at: 45 });
  s.builder.kernelEventsAdded(conn, list, 45);
  s.flushChanges();
  assert.ok(heard.includes(s.builder.trace.httpRequests[4].traceID), JSON.stringify(heard));
  s.removeAllListeners('change');
  // Without views but with onStale (whatever keeps derived fields between snapshots), the
  // requests a kernel event may change are still looked for and told.
  const stale = [];
  s.builder.changes.onStale = (id) => stale.push(id);
  list.push({ kind: 'dataIn', at: 46 });
  s.builder.kernelEventsAdded(conn, list, 46);
  s.flushChanges();
  assert.ok(stale.includes(s.builder.trace.httpRequests[4].traceID), JSON.stringify(stale));
  s.dispose();
});

/** Replays a stream into a new session (its clock the stream's) and hands it to `fn`. */
function withSession(stream, fn) {
  const realNow = Date.now;
  let now = Date.parse(stream.beginAt);
  Date.now = () => now;
  try {
    const s = new core.Session({ description: 'd', beginAt: new Date(stream.beginAt), sourceMaps: false, changeIntervalMs: 1e9 });
    for (const o of structuredClone(stream.ops)) {
      now = o.t;
      s[o.op](...o.args);
    }
    try {
      return fn(s);
    } finally {
      s.dispose();
    }
  } finally {
    Date.now = realNow;
  }
}

/** Each request's fields in one order (deriveInPlace leaves the record's own, snapshot puts traceID first). */
const sorted = (r) => Object.fromEntries(Object.entries(r).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

for (const file of readdirSync(streams).filter((f) => /^[a-z-]+\.json\.gz$/.test(f) && !f.includes('.trace.'))) {
  test(`${file}: a run's end derived in place (deriveInPlace, after its file) reads as its snapshot`, () => {
    const stream = readStream(join(streams, file));
    const expected = withSession(stream, (s) => JSON.parse(JSON.stringify(s.snapshot())));
    withSession(stream, (s) => {
      const facts = s.facts();
      const fileText = JSON.stringify(facts);
      const records = s.builder.trace.httpRequests;
      const derived = s.deriveInPlace(facts);
      assert.equal(derived.httpRequests.length, expected.httpRequests.length);
      assert.ok(
        derived.httpRequests.every((r, i) => r === records[i]),
        'no request copied',
      );
      assert.ok(
        derived.httpRequests.some((r) => r.timings !== undefined),
        'the records themselves derived',
      );
      const got = JSON.parse(JSON.stringify(derived));
      assert.deepEqual(got.httpRequests.map(sorted), expected.httpRequests.map(sorted));
      assert.deepEqual({ ...got, httpRequests: [] }, { ...expected, httpRequests: [] });
      assert.notEqual(JSON.stringify(facts), fileText, 'the facts now hold derived fields…');
    });
  });
}

test('a trace file written from records derived in place is the file written before', async () => {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-derived-'));
  try {
    const stream = readStream(join(streams, 'mixed.json.gz'));
    const s = withSession(stream, (x) => x);
    const facts = s.facts();
    await s.saveJson(join(dir, 'a.json'), facts);
    s.deriveInPlace(facts);
    await s.saveJson(join(dir, 'b.json'), facts);
    await s.saveJson(join(dir, 'c.json'));
    const a = readFileSync(join(dir, 'a.json'), 'utf8');
    assert.ok(a.length > 10000);
    assert.equal(readFileSync(join(dir, 'b.json'), 'utf8'), a);
    assert.equal(readFileSync(join(dir, 'c.json'), 'utf8').replace(/"traceEndAt":[\d.]+/, ''), a.replace(/"traceEndAt":[\d.]+/, ''));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a change listener hears what changes from when it is added; what nobody heard is not kept', async () => {
  const stream = readStream(join(streams, 'mixed.json.gz'));
  const s = new core.Session({ description: 'd', beginAt: new Date(stream.beginAt), sourceMaps: false, changeIntervalMs: 5 });
  try {
    const ops = structuredClone(stream.ops).filter((o) => o.op !== 'flushChanges');
    for (const o of ops.slice(0, 40)) s[o.op](...o.args);
    // Nobody listened: no list of what changed was kept (`nettrace run` without a live export).
    assert.equal(s.builder.changes.listening, false);
    const kept = s.builder.takeChanges();
    assert.deepEqual([kept.requests, kept.records], [[], []]);
    const heard = [];
    const listener = (requests) => heard.push(...requests);
    s.on('change', listener);
    assert.equal(s.builder.changes.listening, true);
    for (const o of ops.slice(40)) s[o.op](...o.args);
    s.flushChanges();
    const later = new Set(s.builder.trace.httpRequests.map((r) => r.traceID));
    assert.ok(heard.length > 0 && heard.every((id) => later.has(id)), 'the changes after the listener came');
    s.off('change', listener);
    assert.equal(s.builder.changes.listening, false, 'the last listener gone: nothing kept again');
  } finally {
    s.dispose();
  }
});

test("the run's last look: a slow request's sentence keeps what the kernel saw; a healthy request gets no kernel split", () => {
  // 40 requests on one kept-alive connection the helper watched; the 20th waits 1.5 s, though its
  // response's first byte reached the machine 100 ms after it was sent (the program read it late).
  const build = () => {
    const [s, c] = session();
    s.apply(c, { type: 'record', kind: 'tcpConns', id: 't1', fields: { connected: true, connectBeginAt: T0, connectEndAt: T0 + 1 } });
    const events = [];
    for (let i = 1; i <= 40; i++) {
      const at = i < 20 ? i * 100 : i > 20 ? i * 100 + 2000 : 2000;
      const wait = i === 20 ? 1500 : 5;
      s.apply(
        c,
        request(i, {
          tcpConn: 't1',
          reusedConn: i > 1,
          reqStartAt: T0 + at,
          reqSentAt: T0 + at + 1,
          respRecvAt: T0 + at + 1 + wait,
          respDoneAt: T0 + at + 2 + wait,
          reqEndAt: T0 + at + 2 + wait,
        }),
      );
      events.push({ kind: 'dataIn', at: i === 20 ? at + 101 : at + wait - 0.5, ackedAt: at + 1.2 });
    }
    const conn = s.builder.trace.tcpConns[0].traceID;
    assert.ok(
      s.builder.mergeFields('tcpConns', conn, { kernelEvents: events, tcpMetrics: { source: 'bpf', rttUs: 200, connectLatencyUs: 150 } }),
    );
    return s;
  };
  const [every, diagnosed] = ['every', 'diagnosed'].map((kernelFor) => {
    const s = build();
    const trace = s.deriveInPlace(s.facts(), kernelFor);
    s.dispose();
    return trace;
  });
  assert.equal(every.httpRequests.filter((r) => r.kernelTimings).length, 40);
  assert.deepEqual(
    diagnosed.httpRequests.filter((r) => r.kernelTimings).map((r) => r.traceID),
    ['req-20'],
  );
  const slow = diagnosed.httpRequests[19];
  assert.match(slow.diagnosis, /the kernel: the response's first byte reached the machine 1\.40 s before the program read it/);
  assert.deepEqual(slow.kernelTimings, every.httpRequests[19].kernelTimings);
  assertSameLook(diagnosed, every, 5);
});
