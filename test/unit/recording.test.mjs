// covers: src/trace/builder/recordings.ts, src/trace/formats/normalizeRecording.ts
// Recording for replay, the parts without a program: the collector's assembly of the preloads'
// exchanges (src/trace/builder/recordings.ts: blobs, the run's cap across connections, what was cut
// counted, hostile messages), the check of a recording read from a file (normalizeRecording.ts,
// traceFile.ts, the slim reading of `nettrace show`), the preload's mapping of an error to how the
// exchange ended (recorder.ts recordedEnd), the options and the summary line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs([
  "export { TraceBuilder } from './src/trace/builder/builder';",
  "export { normalizeExchange, recordedBytes } from './src/trace/formats/normalizeRecording';",
  "export { readTraceFile, TraceFileError } from './src/trace/formats/traceFile';",
  "export { recordedEnd, headerPairs } from './src/preload/message/recorder';",
  "export { recordingSummary } from './src/cli/render';",
  "export { resolveTracingOptions, toPreloadConfig, withPreloadDefaults } from './src/protocol/options';",
  "export { OPTIONS } from './src/protocol/optionTable';",
  "export { DEFAULTS } from './src/protocol/optionBase';",
  "export { RECORD_MAX_BODY_BYTES, RECORD_MAX_RUN_BYTES } from './src/trace/contract/recording';",
]);

const BEGIN = Date.parse('2026-01-01T00:00:00.000Z');
const hello = (pid) => ({ type: 'hello', pid, ppid: 1, threadId: 0, argv: ['node'], nodeVersion: 'v20', cwd: '/', startAt: BEGIN });
const rec = (id, fields) => ({ type: 'record', kind: 'httpRequests', id, fields });
const blob = (id, data) => ({ type: 'blob', id, len: data.length, data });
const start = (id) => rec(id, { reqMethod: 'GET', reqURL: `http://a/${id}`, reqStartAt: BEGIN + 1 });
const completed = { kind: 'completed' };

/** A builder recording with `caps`, and one connection per pid given. */
function builder(caps, pids = [10]) {
  const b = new m.TraceBuilder({ description: 't', beginAt: new Date(BEGIN), now: () => BEGIN, record: caps });
  const conns = pids.map((pid) => {
    const c = b.openConnection();
    b.apply(c, hello(pid));
    return c;
  });
  return { b, conns, trace: b.trace };
}

test('an exchange becomes the trace’s: its bytes from its one blob, its heads, timing and end as sent', () => {
  const { b, conns, trace } = builder({ maxBodyBytes: 1000, maxRunBytes: 10_000 });
  const [c] = conns;
  b.apply(c, start('r1'));
  const data = Buffer.concat([Buffer.from('{"q":1}'), Buffer.from([0, 255, 1, 254]), Buffer.from('hi')]);
  b.apply(c, blob('b1', data));
  b.apply(
    c,
    rec('r1', {
      exchange: {
        data: 'b1',
        reqBody: { at: 0, kept: 7, size: 7 },
        interim: [{ status: 100, statusText: 'Continue', headers: [] }],
        response: {
          status: 200,
          statusText: 'OK',
          headers: [
            ['Set-Cookie', 'a=1'],
            ['content-encoding', 'gzip'],
          ],
        },
        body: { at: 7, kept: 4, size: 4 },
        trailers: [['x-t', 'y']],
        messages: [{ dir: 'in', atMs: 1.5, opcode: 1, data: { at: 11, kept: 2, size: 2 } }],
        timing: {
          firstByteMs: 3.25,
          chunks: [
            [0, 2],
            [1, 2],
          ],
        },
        end: completed,
      },
    }),
  );
  assert.equal(trace.exchanges.length, 1);
  const ex = trace.exchanges[0];
  assert.equal(ex.traceID, 'req-1');
  assert.deepEqual(Buffer.from(ex.reqBody.base64, 'base64').toString(), '{"q":1}');
  assert.deepEqual([...Buffer.from(ex.body.base64, 'base64')], [0, 255, 1, 254]);
  assert.deepEqual(
    ex.response.headers,
    [
      ['Set-Cookie', 'a=1'],
      ['content-encoding', 'gzip'],
    ],
    'unredacted, in order',
  );
  assert.deepEqual(ex.interim, [{ status: 100, statusText: 'Continue', headers: [] }]);
  assert.deepEqual(ex.trailers, [['x-t', 'y']]);
  assert.equal(Buffer.from(ex.messages[0].data.base64, 'base64').toString(), 'hi');
  assert.deepEqual(ex.timing, {
    firstByteMs: 3.25,
    chunks: [
      [0, 2],
      [1, 2],
    ],
  });
  assert.deepEqual(ex.end, completed);
  assert.equal(ex.over, undefined);
  assert.deepEqual(trace.recording, { recordedAt: BEGIN, maxBodyBytes: 1000, maxRunBytes: 10_000, cutExchanges: 0, cutBytes: 0 });
  assert.equal(trace.httpRequests[0].exchange, undefined, 'not a field of the request');
  assert.equal(trace.stats.droppedBlobs, undefined, 'the blob was claimed');
});

test('the run’s cap holds across connections: the bytes past it are cut, the exchange marked `run`, and counted', () => {
  const { b, conns, trace } = builder({ maxBodyBytes: 100, maxRunBytes: 150 }, [10, 11]);
  for (const [i, c] of conns.entries()) {
    b.apply(c, start('r1'));
    b.apply(c, blob('b1', Buffer.alloc(100, i + 1)));
    b.apply(c, rec('r1', { exchange: { data: 'b1', body: { at: 0, kept: 100, size: 100 }, end: completed } }));
  }
  const [first, second] = trace.exchanges;
  assert.equal(first.over, undefined);
  assert.equal(Buffer.from(first.body.base64, 'base64').length, 100);
  assert.equal(second.over, 'run');
  assert.deepEqual([Buffer.from(second.body.base64, 'base64').length, second.body.size, second.body.truncated], [50, 100, true]);
  assert.deepEqual([trace.recording.cutExchanges, trace.recording.cutBytes], [1, 50]);
  // A body the preload cut at the per-body cap is counted too.
  b.apply(conns[0], start('r2'));
  b.apply(conns[0], rec('r2', { exchange: { body: { at: 0, kept: 0, size: 5000, over: 'body' }, end: completed } }));
  assert.equal(trace.exchanges[2].over, 'body', 'cut by the preload at the per-body cap');
  assert.deepEqual([trace.recording.cutExchanges, trace.recording.cutBytes], [2, 5050]);
  assert.equal(
    m.recordingSummary(trace.exchanges, trace.recording),
    "recorded for replay: 3 exchanges, 150 B of bodies, 1 body cut at the 100 B cap, 1 cut at the run's 150 B cap",
  );
});

test('a body the preload cut at its per-body cap is marked `body`, and said in the summary line', () => {
  const { b, conns, trace } = builder({ maxBodyBytes: 4 * 1048576, maxRunBytes: 256 * 1048576 });
  b.apply(conns[0], start('r1'));
  b.apply(conns[0], blob('b1', Buffer.alloc(10, 7)));
  b.apply(conns[0], rec('r1', { exchange: { data: 'b1', body: { at: 0, kept: 10, size: 9_000_000, over: 'body' }, end: completed } }));
  assert.equal(trace.exchanges[0].over, 'body');
  assert.deepEqual([trace.recording.cutExchanges, trace.recording.cutBytes], [1, 9_000_000 - 10]);
  assert.equal(
    m.recordingSummary(trace.exchanges, trace.recording),
    'recorded for replay: 1 exchange, 10 B of bodies, 1 body cut at the 4 MiB cap',
  );
});

test('hostile or broken exchanges: bytes that never came, offsets past the blob, a bad end, an unknown request — a warning, never a throw', () => {
  const { b, conns, trace } = builder({ maxBodyBytes: 100, maxRunBytes: 1000 });
  const [c] = conns;
  b.apply(c, start('r1'));
  b.apply(c, rec('r1', { exchange: { data: 'b9', body: { at: 0, kept: 10, size: 10 }, end: completed } }));
  assert.equal(trace.exchanges.length, 1);
  assert.deepEqual(trace.exchanges[0].body, { base64: '', size: 10, truncated: true }, 'said cut, not made up');
  assert.ok(trace.stats.warnings.some((w) => /bytes that never arrived/.test(w)));
  b.apply(c, start('r2'));
  b.apply(c, blob('b2', Buffer.from('abc')));
  b.apply(c, rec('r2', { exchange: { data: 'b2', body: { at: 2, kept: 5, size: 5 }, reqBody: { at: -1, kept: 'x' }, end: completed } }));
  assert.deepEqual(trace.exchanges[1].body, { base64: '', size: 5, truncated: true });
  assert.equal(trace.exchanges[1].reqBody, undefined);
  b.apply(c, start('r3'));
  b.apply(c, rec('r3', { exchange: { end: { kind: 'exploded' } } }));
  b.apply(c, rec('r3', { exchange: 'not an object' }));
  assert.equal(trace.exchanges.length, 2, 'no end: not replayable, left out');
  assert.ok(trace.stats.warnings.some((w) => /malformed \(no valid end\)/.test(w)));
  b.apply(c, rec('r99', { exchange: { end: completed } }));
  assert.equal(trace.exchanges.length, 2, 'a request the trace does not hold gets none');
  assert.equal(trace.httpRequests.length, 3);
  // An update merged with the exchange (the preload's queue merges a request's queued updates).
  b.apply(c, start('r4'));
  b.apply(c, rec('r4', { respStatusCode: 204, exchange: { response: { status: 204, headers: [] }, end: completed } }));
  assert.equal(trace.httpRequests[3].respStatusCode, 204);
  assert.equal(trace.exchanges[2].response.status, 204);
});

test('exchanges reach the trace without the option too (a collector not told), with the default caps', () => {
  const b = new m.TraceBuilder({ description: 't', beginAt: new Date(BEGIN) });
  const c = b.openConnection();
  b.apply(c, hello(1));
  assert.equal(b.trace.exchanges, undefined);
  b.apply(c, start('r1'));
  b.apply(c, rec('r1', { exchange: { end: { kind: 'refused', code: 'ECONNREFUSED' } } }));
  assert.deepEqual(b.trace.exchanges, [{ traceID: 'req-1', end: { kind: 'refused', code: 'ECONNREFUSED' } }]);
  assert.equal(b.trace.recording.maxBodyBytes, m.RECORD_MAX_BODY_BYTES);
  assert.equal(b.trace.recording.maxRunBytes, m.RECORD_MAX_RUN_BYTES);
});

test('a recording read from a file is checked: malformed parts left out, an entry without traceID or end refused', () => {
  assert.equal(m.normalizeExchange({ traceID: 'req-1' }), undefined);
  assert.equal(m.normalizeExchange({ end: completed }), undefined);
  assert.equal(m.normalizeExchange({ traceID: 'req-1', end: { kind: 'refused' } }), undefined, 'refused needs its code');
  const ex = m.normalizeExchange({
    traceID: 'req-1',
    end: { kind: 'reset', afterBodyBytes: 12, http2Code: -1 },
    reqBody: { base64: 'not base64!', size: 3 },
    body: { base64: 'aGk=', size: 1 },
    response: { status: 'x', headers: [] },
    interim: [{ status: 103, headers: [['link', '</a>'], ['bad']] }, { status: 42 }],
    trailers: [['a', 1]],
    messages: [
      { dir: 'in', atMs: 1, opcode: 1, data: { base64: 'aGk=', size: 2 } },
      { dir: 'sideways', atMs: 1, opcode: 1, data: {} },
    ],
    timing: {
      firstByteMs: 1,
      chunks: [
        [1, 2],
        ['x', 1],
      ],
    },
    over: 'everything',
  });
  assert.deepEqual(ex, {
    traceID: 'req-1',
    end: { kind: 'reset', afterBodyBytes: 12 },
    interim: [{ status: 103, headers: [['link', '</a>']] }],
    messages: [{ dir: 'in', atMs: 1, opcode: 1, data: { base64: 'aGk=', size: 2 } }],
    timing: { firstByteMs: 1, chunks: [[1, 2]] },
  });
  assert.deepEqual(
    m.recordedBytes({ base64: 'aGk=', size: 9 }),
    { base64: 'aGk=', size: 9, truncated: true },
    'fewer bytes than its size: cut',
  );

  const dir = mkdtempSync(join(tmpdir(), 'nettrace-recording-'));
  try {
    const file = join(dir, 't.json');
    const trace = {
      formatVersion: 1,
      description: 't',
      traceBeginAt: new Date(BEGIN).toISOString(),
      httpRequests: [{ traceID: 'req-1', reqMethod: 'GET', reqURL: 'http://a/', client: 'http' }],
      stats: { droppedEvents: 0, untracedRequests: 0, warnings: [] },
      recording: { recordedAt: BEGIN, maxBodyBytes: 10, maxRunBytes: 20, cutExchanges: 0, cutBytes: 0 },
      exchanges: [{ traceID: 'req-1', body: { base64: 'aGk=', size: 2 }, end: completed }],
    };
    writeFileSync(file, JSON.stringify(trace));
    const read = m.readTraceFile(file);
    assert.deepEqual(read.exchanges, trace.exchanges);
    assert.deepEqual(read.recording, trace.recording);
    const slim = m.readTraceFile(file, { slimExchanges: true });
    assert.deepEqual(slim.exchanges[0].body, { base64: '', size: 2, truncated: true }, 'read without its bytes');
    writeFileSync(file, JSON.stringify({ ...trace, exchanges: [{ traceID: 'req-1' }] }));
    assert.throws(
      () => m.readTraceFile(file),
      (e) => e instanceof m.TraceFileError && /an exchanges entry has no traceID or no valid end/.test(e.message),
    );
    writeFileSync(file, JSON.stringify({ ...trace, exchanges: {} }));
    assert.throws(() => m.readTraceFile(file), /"exchanges" is not a list/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('how an exchange ended, from the error the trace records', () => {
  const e = (fields) => ({ phase: 'response', message: 'x', ...fields });
  assert.deepEqual(m.recordedEnd(undefined, 10), { kind: 'completed' });
  assert.deepEqual(m.recordedEnd(e({ phase: 'connect', code: 'ECONNREFUSED' })), { kind: 'refused', code: 'ECONNREFUSED' });
  assert.deepEqual(
    m.recordedEnd(e({ phase: 'connect', code: 'ETIMEDOUT', timedOut: true })),
    { kind: 'refused', code: 'ETIMEDOUT' },
    "the kernel's connect timeout",
  );
  assert.deepEqual(
    m.recordedEnd(e({ phase: 'connect', code: 'UND_ERR_CONNECT_TIMEOUT', timedOut: true })),
    { kind: 'timeout' },
    "the client's connect timeout",
  );
  assert.deepEqual(m.recordedEnd(e({ phase: 'dns', code: 'ENOTFOUND' })), { kind: 'dns', code: 'ENOTFOUND' });
  assert.deepEqual(
    m.recordedEnd(e({ phase: 'dns', code: 'ERR_HTTP2_STREAM_CANCEL', cause: { code: 'EAI_AGAIN', message: '' } })),
    { kind: 'dns', code: 'EAI_AGAIN' },
    'the wrapped failure',
  );
  assert.deepEqual(m.recordedEnd(e({ phase: 'tls', code: 'CERT_HAS_EXPIRED' })), { kind: 'tls', code: 'CERT_HAS_EXPIRED' });
  assert.deepEqual(m.recordedEnd(e({ name: 'TimeoutError', timedOut: true })), { kind: 'timeout' });
  assert.deepEqual(m.recordedEnd(e({ name: 'AbortError', aborted: true }), 5), { kind: 'aborted' });
  assert.deepEqual(m.recordedEnd(e({ code: 'ECONNRESET' })), { kind: 'reset' }, 'before the head');
  assert.deepEqual(m.recordedEnd(e({ code: 'ECONNRESET' }), 1000), { kind: 'reset', afterBodyBytes: 1000 });
  assert.deepEqual(m.recordedEnd(e({ code: 'ERR_HTTP2_STREAM_ERROR' }), 0, 2), { kind: 'reset', afterBodyBytes: 0, http2Code: 2 });
  // A close in order is not a reset: Node's http says "aborted" (mid-body) or "socket hang up" (before the head), undici "other side closed".
  assert.deepEqual(m.recordedEnd(e({ code: 'ECONNRESET', message: 'aborted' }), 100), { kind: 'closed', afterBodyBytes: 100 });
  assert.deepEqual(m.recordedEnd(e({ code: 'ECONNRESET', message: 'socket hang up' })), { kind: 'closed' });
  assert.deepEqual(m.recordedEnd(e({ code: 'UND_ERR_SOCKET', message: 'other side closed' }), 7), { kind: 'closed', afterBodyBytes: 7 });
  assert.deepEqual(
    m.recordedEnd(e({ message: 'fetch failed', cause: { code: 'UND_ERR_SOCKET', message: 'other side closed' } })),
    { kind: 'closed' },
    "fetch's wrapped cause",
  );
  assert.deepEqual(
    m.recordedEnd(e({ code: 'ECONNRESET', message: 'read ECONNRESET', syscall: 'read' }), 100),
    { kind: 'reset', afterBodyBytes: 100 },
    'a reset the kernel reported',
  );
  assert.deepEqual(
    m.recordedEnd(e({ code: 'UND_ERR_SOCKET', message: 'closed' }), 3),
    { kind: 'reset', afterBodyBytes: 3 },
    'another socket error',
  );
  assert.deepEqual(
    m.headerPairs([Buffer.from('a'), Buffer.from([0xe9]), 'b', 'c']),
    [
      ['a', 'é'],
      ['b', 'c'],
    ],
    'bytes read as Latin-1, as the clients do',
  );
});

test('the options: --record and its caps through the one table, to the preload and back', () => {
  const layer = (values, cli = true) => ({ values, cli, label: (d) => d.name });
  const off = m.resolveTracingOptions([layer({})]);
  assert.deepEqual(off.record, { enabled: false, maxBodyBytes: m.RECORD_MAX_BODY_BYTES, maxRunBytes: m.RECORD_MAX_RUN_BYTES });
  assert.equal(m.toPreloadConfig(off, '/p').record, undefined, 'a plain run carries nothing of it');
  const on = m.resolveTracingOptions([layer({ record: true, recordMaxBody: '1000', recordMaxRun: '5000' })]);
  assert.deepEqual(on.record, { enabled: true, maxBodyBytes: 1000, maxRunBytes: 5000 });
  const config = m.toPreloadConfig(on, '/p');
  assert.deepEqual([config.record, config.recordMaxBodyBytes, config.recordMaxRunBytes], [true, 1000, 5000]);
  const read = m.withPreloadDefaults({ ipcPath: '/p', record: true });
  assert.deepEqual([read.recordMaxBodyBytes, read.recordMaxRunBytes], [m.RECORD_MAX_BODY_BYTES, m.RECORD_MAX_RUN_BYTES]);
  assert.deepEqual(
    [m.DEFAULTS.recordMaxBodyBytes, m.DEFAULTS.recordMaxRunBytes],
    [m.RECORD_MAX_BODY_BYTES, m.RECORD_MAX_RUN_BYTES],
    'one value each',
  );
  const errors = [];
  m.resolveTracingOptions([layer({ recordMaxBody: String(128 * 1048576) })], (err) => errors.push(err.message));
  assert.match(errors[0], /recordMaxBody must be a whole number from 0 to 67108864/);
  const def = m.OPTIONS.find((o) => o.name === 'record');
  assert.deepEqual([def.launch, def.setting, def.cli.flag], [true, true, 'record']);
});
