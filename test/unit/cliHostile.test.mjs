// covers: src/cli/, src/trace/formats/normalize.ts
// needs: the build (dist/core.cjs, dist/cli.cjs)
// A hostile trace file through the CLI's readers (issue 61, findings 5 and 6): fields of the wrong
// type (a status, a frame's line and column given as text carrying terminal escapes; a method or
// URL that is a number or null) and text that carries escapes. `nettrace show`, `show --summary`,
// a large trace's default view and `nettrace diff`, as text and as JSON, each piped as a user
// would pipe them into `cat -v`: no raw control character, escape or bidirectional override in
// what they print, while every legitimate value still prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const core = createRequire(import.meta.url)('../../dist/core.cjs');
const cli = fileURLToPath(new URL('../../dist/cli.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nettrace-hostile-'));
if (process.env.KEEP) console.log(dir);
test.after(() => !process.env.KEEP && rmSync(dir, { recursive: true, force: true }));

const ESC = '\x1b';
/** A clipboard write (OSC 52), a screen clear, a C1 CSI, bidirectional overrides and isolates. */
const OSC52 = `${ESC}]52;c;ZXZpbA==\x07`;
const CLEAR = `${ESC}[2J${ESC}[3J${ESC}[H`;
const C1 = '\x9b31m';
const BIDI = '\u202e\u2066\u2069\u202a';

/** What a terminal would act on, or what disguises text: any control character but the line break, DEL, C1, bidi marks. */
const UNSAFE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/;

/** `n` ordinary requests to `http://h.example/ok/N`, 10 + N % 7 ms each, from /app/client.js:12. */
function ordinary(n, from = 0) {
  return Array.from({ length: n }, (_, k) => {
    const i = from + k;
    const at = i * 20;
    return {
      traceID: `ok-${i}`,
      pid: 1,
      client: 'http',
      reqMethod: 'GET',
      reqURL: `http://h.example/ok/${i}`,
      reqStartAt: at,
      reqSentAt: at + 1,
      respRecvAt: at + 2 + (i % 7),
      respDoneAt: at + 10 + (i % 7),
      respStatusCode: 200,
      respContentLen: 10,
      initiator: { frames: [{ file: 'file:///app/client.js', line: 12, column: 5, function: 'load' }] },
    };
  });
}

/** Requests whose fields are of the wrong type or carry escapes. */
function hostile() {
  const at = 10_000;
  const r = (i, fields) => ({ traceID: `bad-${i}`, pid: 1, client: 'http', reqStartAt: at + i, reqSentAt: at + i + 1, ...fields });
  const done = { respRecvAt: at + 30, respDoneAt: at + 40 };
  return [
    r(0, { reqMethod: 'GET', reqURL: 'http://h.example/status', ...done, respStatusCode: `503${OSC52}${CLEAR}${BIDI}` }),
    r(1, {
      reqMethod: 'GET',
      reqURL: 'http://h.example/frames',
      ...done,
      respStatusCode: 500,
      initiator: {
        frames: [
          { file: '/app/a.js', line: `7${OSC52}`, column: `1${CLEAR}`, function: 'bad' },
          { file: `/app/evil${BIDI}.js`, line: 9, column: 2, function: `f${ESC}[31m${C1}` },
        ],
      },
    }),
    r(2, { reqMethod: 5, reqURL: null, reqError: { phase: 'connect', message: `boom${OSC52}`, code: `E${CLEAR}` }, reqErrorAt: at + 5 }),
    r(3, { reqMethod: null, reqURL: 7, ...done }),
    r(4, { reqMethod: { toUpperCase: 1 }, reqURL: ['http://h.example/'], ...done }),
    r(5, {
      reqMethod: `GET${CLEAR}`,
      reqURL: `http://h.example/x${ESC}[2J/${BIDI}y?q=${OSC52}`,
      ...done,
      respStatusCode: 502,
      respStatusText: `Bad${OSC52}`,
      reqHeaders: [['x-a', 5], 'nope', ['x-b', `v${ESC}`]],
      reqBody: { size: 'big', text: 'x' },
    }),
  ];
}

function traceOf(requests, extra = {}) {
  return {
    ...core.emptyTrace(`d${OSC52}`),
    httpRequests: requests,
    incomingRequests: [
      {
        traceID: 'in-1',
        pid: 1,
        server: 'http',
        reqMethod: 'GET',
        reqURL: `http://h.example/served/${'very-long-segment/'.repeat(12)}end${OSC52}`,
        route: `/served${CLEAR}`,
        reqRecvAt: 1,
        respDoneAt: 5,
        reqEndAt: 5,
        respStatusCode: 201,
      },
    ],
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [`warn${OSC52}${BIDI}`] },
    ...extra,
  };
}

function write(name, trace) {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(trace));
  return file;
}

const run = (args) =>
  spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, COLUMNS: '150' } });

/** The output is inert: nothing a terminal acts on, as `cat -v` would show it (and `cat -v` itself finds no ^[ or ^G). */
function assertInert(what, text) {
  const bad = UNSAFE.exec(text);
  assert.equal(
    bad,
    null,
    `${what}: U+${bad?.[0].codePointAt(0).toString(16).padStart(4, '0')} at ${bad?.index}: …${JSON.stringify(text.slice(Math.max(0, (bad?.index ?? 0) - 40), (bad?.index ?? 0) + 20))}`,
  );
  const visible = spawnSync('cat', ['-v'], { input: text, encoding: 'utf8' }).stdout;
  assert.ok(!visible.includes('^[') && !visible.includes('^G'), `${what}: cat -v shows an escape`);
}

test('show, show --summary, a large trace and diff print a hostile file inert, and its legitimate content', () => {
  const small = write('small.json', traceOf([...ordinary(12), ...hostile()]));
  const large = write('large.json', traceOf([...ordinary(320), ...hostile()]));
  const clean = write('clean.json', traceOf(ordinary(12, 100)));

  const table = run(['show', small]);
  assert.equal(table.status, 0, table.stderr);
  assertInert('show', table.stdout + table.stderr);
  // The rows: the ordinary ones as they are; the wrong-typed status and frames not shown, the escapes as text.
  assert.match(table.stdout, /^ {1,2}\d+ GET +200 +http .*http:\/\/h\.example\/ok\/3 /m);
  assert.match(table.stdout, /GET +pending +http .*http:\/\/h\.example\/status /, 'a status given as text is no status');
  assert.ok(table.stdout.includes('boom\\x1b]52;c;ZXZpbA==\\x07'), 'the error message, escaped');
  assert.ok(table.stdout.includes(`at f\\x1b[31m\\x9b31m (/app/evil\\u202e\\u2066\\u2069\\u202a.js:9:2)`), table.stdout);
  assert.ok(!table.stdout.includes(':7'), 'a frame whose line is text is dropped, not printed');
  assert.ok(table.stdout.includes('warn\\x1b]52;c;ZXZpbA==\\x07\\u202e'), 'warnings escaped');

  const summary = run(['show', '--summary', small]);
  assert.equal(summary.status, 0, summary.stderr);
  assertInert('show --summary', summary.stdout + summary.stderr);
  assert.match(summary.stdout, /^GET h\.example\/ok\/:id \* +12 +0 /m);
  assert.match(summary.stdout, /^ {4}from \/app\/client\.js:12 \(12\)$/m, 'a path, as show prints it, not a file:// URL');
  assert.match(summary.stdout, /^ {4}from \/app\/evil\\u202e\\u2066\\u2069\\u202a\.js:9 \(1\)$/m);
  assert.match(summary.stdout, /^GET\\x1b\[2J\\x1b\[3J\\x1b\[H h\.example\/x\\x1b\[2J\/\\u202e\\u2066\\u… +1 +1 /m);
  assert.match(summary.stdout, /^ \/ +3 +1 /m, 'the method and URL that were not text: an empty route, counted');

  const big = run(['show', large]);
  assert.equal(big.status, 0, big.stderr);
  assertInert('show (large)', big.stdout + big.stderr);
  assert.match(big.stdout, /^Failures \(the first 3 of 3\)$/m);
  assert.match(big.stdout, /^ {2}GET pending [\d.]+ ms http:\/\/h\.example\/status$/m);

  for (const [a, b] of [
    [small, small],
    [small, clean],
    [large, small],
  ]) {
    const diff = run(['diff', a, b]);
    assert.equal(diff.status, 0, diff.stderr);
    assertInert('diff', diff.stdout + diff.stderr);
    assert.match(diff.stdout, /^Comparing /m);
  }
  const diff = run(['diff', large, small]);
  assert.match(diff.stdout, /^GET h\.example\/ok\/:id \* +320→12 /m);

  for (const args of [
    ['show', '--json', small],
    ['show', '--summary', '--json', small],
    ['diff', '--json', small, clean],
  ]) {
    const j = run(args);
    assert.equal(j.status, 0, j.stderr);
    assertInert(args.join(' '), j.stdout + j.stderr);
    JSON.parse(j.stdout);
  }
});

test('a long served URL is cut in its middle: the status and time stay on the line', () => {
  const trace = traceOf(ordinary(2));
  const lines = core.renderTrace(core.enrichTrace(trace), { width: 100 }).split('\n');
  const at = lines.indexOf('Incoming requests');
  const head = lines[at + 1];
  assert.ok([...head].length <= 100, head);
  assert.match(head, /^ {2}in-1 GET http:\/\/h\.example\/\S+…\S*=\\x07 +\(\/served\\x1b\[2J\\x1b\[3J\\x1b\[H\) +201 +4\.0 ms$/);
});

test('the reader gives every request field its type: wrong ones removed or neutral, nothing else changed', () => {
  const [status, frames, method, , weird, escaped] = core.normalizeRequests(structuredClone(hostile()));
  assert.equal('respStatusCode' in status, false);
  assert.deepEqual(
    frames.initiator.frames.map((f) => f.line),
    [9],
  );
  assert.deepEqual([method.reqMethod, method.reqURL, method.reqError.code], ['', '', `E${CLEAR}`]);
  assert.deepEqual([weird.reqMethod, weird.reqURL], ['', '']);
  assert.deepEqual(escaped.reqHeaders, [['x-b', `v${ESC}`]]);
  assert.equal('reqBody' in escaped, false);
  assert.equal(escaped.respStatusText, `Bad${OSC52}`, 'text stays as the trace has it: escaped where printed');
  const ok = ordinary(1)[0];
  assert.deepEqual(core.normalizeRequests([structuredClone(ok)]), [ok]);
  // A file read whole and a file streamed give the requests so checked.
  const t = core.parseTraceFile(JSON.stringify(traceOf(hostile())));
  assert.equal(t.httpRequests[2].reqMethod, '');
  assert.throws(() => core.parseTraceFile(JSON.stringify(traceOf([{ reqMethod: 'GET' }]))), /an httpRequests entry has no traceID/);
});

test('a record that did not come through the reader (a live peer sends what it likes) prints escaped too', () => {
  const [status, frames] = hostile();
  const ws = {
    ...ordinary(1)[0],
    traceID: 'ws',
    respStatusCode: `101${OSC52}`,
    webSocket: { openAt: 5, closeAt: 9, closeCode: `1000${CLEAR}`, sentMessages: `1${BIDI}`, recvMessages: 0, sentBytes: 1, recvBytes: 0 },
  };
  const out = core.renderTrace(core.enrichTrace({ ...core.emptyTrace('live'), httpRequests: [...ordinary(2), status, frames, ws] }), {
    width: 150,
  });
  assertInert('renderTrace of raw records', out);
  assert.ok(out.includes('503\\x1b]52;'), 'the status as text, escaped');
  assert.ok(out.includes('at bad (/app/a.js:7\\x1b]52;c;ZXZpbA==\\x07:1\\x1b[2J'), out);
});
