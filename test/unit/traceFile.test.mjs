// covers: src/trace/formats/traceFile.ts, src/cli/
// needs: the build (dist/core.cjs, dist/cli.cjs)
// Reading trace files: one plain line for every way a file can be wrong, also through the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const { parseTraceFile, readTraceFile, TraceFileError, emptyTrace } = createRequire(import.meta.url)('../../dist/core.cjs');
const cli = fileURLToPath(new URL('../../dist/cli.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nettrace-tracefile-'));

const good = JSON.stringify(
  { ...emptyTrace('t'), httpRequests: [{ traceID: 'req-1', pid: 1, client: 'http', reqMethod: 'GET', reqURL: 'http://a/' }] },
  null,
  1,
);

const bad = [
  { name: 'empty', text: '', message: /^F is empty$/ },
  { name: 'whitespace only', text: ' \n', message: /^F is empty$/ },
  { name: 'truncated mid-object', text: good.slice(0, 80), message: /^F is not complete JSON \(truncated at byte 80\?\)$/ },
  { name: 'truncated mid-string', text: '{"formatVersion": 1, "descr', message: /^F is not complete JSON \(truncated at byte 27\?\)$/ },
  { name: 'not JSON', text: 'GET / HTTP/1.1\r\n', message: /^F is not JSON \(it starts with "GET \/ HTTP\/1\.1"\)$/ },
  { name: 'invalid JSON in the middle', text: '{"formatVersion": 1,, "httpRequests": []}', message: /^F is not valid JSON: / },
  { name: 'an array', text: '[1,2]', message: /^F is not a nettrace trace/ },
  {
    name: 'another JSON object',
    text: '{"a": {"entries": []}}',
    message: /^F is not a nettrace trace \(no formatVersion or httpRequests\)$/,
  },
  {
    name: 'a HAR (what nettrace writes beside a trace)',
    text: '{"log": {"version": "1.2", "entries": []}}',
    message: /^F is a HAR file, not a nettrace trace: open the trace's JSON file instead/,
  },
  {
    name: 'newer version',
    text: JSON.stringify({ ...emptyTrace('x'), formatVersion: 7 }),
    message: /^F is trace format version 7; this nettrace reads versions 1 and 2 — upgrade nettrace$/,
  },
  {
    name: 'a version that never was',
    text: JSON.stringify({ ...emptyTrace('x'), formatVersion: 1.5 }),
    message: /^F is trace format version 1\.5; this nettrace reads versions 1 and 2$/,
  },
];

for (const c of bad) {
  test(`parseTraceFile: ${c.name}`, () => {
    assert.throws(
      () => parseTraceFile(c.text, 'F'),
      (err) => {
        assert.ok(err instanceof TraceFileError);
        assert.match(err.message, c.message);
        assert.ok(!err.message.includes('\n'));
        return true;
      },
    );
  });
}

test('parseTraceFile accepts a good trace and fills in missing record lists', () => {
  const t = JSON.parse(good);
  delete t.dials;
  const trace = parseTraceFile(JSON.stringify(t), 'F');
  assert.deepEqual(trace.dials, []);
  assert.equal(trace.httpRequests[0].traceID, 'req-1');
});

test('readTraceFile: missing file', () => {
  const p = join(dir, 'nope.json');
  assert.throws(() => readTraceFile(p), { name: 'TraceFileError', message: `no such file: ${p}` });
});

function show(text, name) {
  const p = join(dir, name);
  if (text !== undefined) writeFileSync(p, text);
  return spawnSync(process.execPath, [cli, 'show', p], { encoding: 'utf8' });
}

for (const [name, text, expected] of [
  ['missing.json', undefined, /^nettrace: no such file: .*missing\.json$/],
  ['empty.json', '', /^nettrace: .*empty\.json is empty$/],
  ['truncated.json', good.slice(0, 100), /^nettrace: .*truncated\.json is not complete JSON \(truncated at byte 100\?\)$/],
  ['text.json', 'hello', /^nettrace: .*text\.json is not JSON/],
  [
    'v7.json',
    JSON.stringify({ ...emptyTrace('x'), formatVersion: 7 }),
    /version 7; this nettrace reads versions 1 and 2 — upgrade nettrace$/,
  ],
  ['other.json', '{"a": 1}', /is not a nettrace trace/],
  ['export.har', '{"log": {"version": "1.2", "entries": []}}', /^nettrace: .*export\.har is a HAR file, not a nettrace trace/],
]) {
  test(`nettrace show ${name}: one line on stderr, exit 1`, () => {
    const r = show(text, name);
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], expected);
  });
}

test('nettrace show prints a good trace; --json prints it with timings', () => {
  const r = show(good, 'good.json');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /1 request, 0 failed/);
  const j = spawnSync(process.execPath, [cli, 'show', join(dir, 'good.json'), '--json'], { encoding: 'utf8' });
  assert.equal(j.status, 0);
  const parsed = JSON.parse(j.stdout);
  assert.ok(parsed.httpRequests[0].timings);
});

test('stats survive a save and load: counts kept, a bad skippedInitiators dropped', () => {
  const withStats = (stats) =>
    JSON.stringify({ ...emptyTrace('s'), stats: { droppedEvents: 2, untracedRequests: 1, warnings: ['w'], ...stats } });
  const t = parseTraceFile(withStats({ skippedInitiators: 1800 }), 'F');
  assert.deepEqual(t.stats, { droppedEvents: 2, untracedRequests: 1, warnings: ['w'], skippedInitiators: 1800 });
  assert.equal('skippedInitiators' in parseTraceFile(withStats({ skippedInitiators: 'many' }), 'F').stats, false);
});

test('parseTraceFile normalizes the nested records of a damaged or hostile file once, where it is read', () => {
  const t = emptyTrace('x');
  t.dials.push({
    traceID: 'dial-1',
    pid: 1,
    dstAddress: 'h:53',
    dialBeginAt: 0,
    dnsLookups: [{ host: 'h', beginAt: 0, addresses: 'nope', error: 5 }, 7],
    programLookup: { function: 7, module: 'pkg', host: 'h', beginAt: 0, endAt: 1, addresses: ['1.2.3.4', 5], error: null },
  });
  t.dials.push({ traceID: 'dial-2', pid: 1, dstAddress: 'h:80', dialBeginAt: 0, programLookup: { host: 'h' } });
  t.tcpConns.push(
    {
      traceID: 'tcp-1',
      pid: 1,
      connected: true,
      socketTrace: { socketOps: [{ type: 'read', callAt: 1, dataLen: 'x' }, { type: 'evil', callAt: 2 }, null], droppedOps: -3 },
      tcpMetrics: { source: 'bpf', rttUs: 'a lot', retransmits: -1, sndCwnd: 5 },
      conntrack: { status: 'assured', addrOrig: 'nope', addrReply: null, packetsSent: 'many', mark: 1 },
    },
    { pid: 1, connected: true },
  );
  t.dnsQueries.push({
    traceID: 'dns-1',
    proto: 'sctp',
    host: 7,
    dnsQueryMsgs: [{ sentAt: 1, id: 2, size: 30, questions: [{ name: 'h.' }, 'x'] }, { id: 3 }],
    dnsReplyMsgs: [
      { recvAt: 2, id: 2, size: 40, rCode: 3, answers: [{ name: 'h.', type: 'A', ttl: 5, resolvedVal: '1.2.3.4' }, { name: 'h.' }] },
    ],
  });
  const r = parseTraceFile(JSON.stringify(t));
  assert.deepEqual(r.dials[0].dnsLookups, [{ host: 'h', beginAt: 0, addresses: [], error: null }]);
  assert.equal(r.dials[0].connectAttempts.length, 0);
  assert.deepEqual(r.dials[0].programLookup, { module: 'pkg', host: 'h', beginAt: 0, endAt: 1, addresses: ['1.2.3.4'], error: null });
  assert.equal(r.dials[1].programLookup, undefined, 'a programLookup without its time is dropped');
  assert.deepEqual(
    r.tcpConns.map((c) => c.traceID),
    ['tcp-1'],
  );
  const c = r.tcpConns[0];
  assert.deepEqual(c.socketTrace, { socketOps: [{ type: 'read', callAt: 1, dataLen: 0, returnErr: null }], droppedOps: 0 });
  assert.deepEqual(c.tcpMetrics, { source: 'bpf', sndCwnd: 5 });
  assert.deepEqual(c.conntrack, { status: 'assured', mark: 1 });
  const q = r.dnsQueries[0];
  assert.equal(q.proto, undefined);
  assert.equal(q.host, undefined);
  assert.deepEqual(q.dnsQueryMsgs, [
    { sentAt: 1, id: 2, size: 30, recursionDesired: false, truncated: false, questions: [{ name: 'h.', type: '', class: 1 }] },
  ]);
  assert.equal(q.dnsReplyMsgs[0].rCode, '');
  assert.deepEqual(q.dnsReplyMsgs[0].answers, [{ name: 'h.', type: 'A', class: 1, ttl: 5, resolvedVal: '1.2.3.4' }]);
});

test('stats.helper and stats.incompleteRequests survive a save and load', () => {
  const helper = { mode: 'bpf', authority: 'root', unavailable: { capture: 'off' }, lostEvents: 3 };
  const text = JSON.stringify({
    ...emptyTrace('s'),
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [], incompleteRequests: 4, helper },
  });
  const t = parseTraceFile(text, 'F');
  assert.equal(t.stats.incompleteRequests, 4);
  assert.deepEqual(t.stats.helper, helper);
  const odd = parseTraceFile(JSON.stringify({ ...emptyTrace('s'), stats: { helper: [1], incompleteRequests: -1 } }), 'F');
  assert.equal('helper' in odd.stats, false);
  assert.equal('incompleteRequests' in odd.stats, false);
});
