// covers: src/trace/formats/jsonStream.ts, src/trace/formats/traceFile.ts, src/cli/
// needs: the build (dist/core.cjs, dist/cli.cjs)
// Traces too large for one string (issue 13, item 8): saving, reading and `nettrace show` work
// record by record. A test preload (test/fixtures/limits/smallStrings.cjs) makes JSON.stringify
// and JSON.parse refuse texts over 256 KiB, standing in for V8's ~512 MiB string limit; a trace of
// 3,000 requests (~3 MB of JSON) then behaves as a million-request one does without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  chmodSync,
  mkdtempSync,
  openSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
  ftruncateSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const core = require('../../dist/core.cjs');
const cli = fileURLToPath(new URL('../../dist/cli.cjs', import.meta.url));
const limits = fileURLToPath(new URL('../fixtures/limits/smallStrings.cjs', import.meta.url));
const synthetic = fileURLToPath(new URL('../../bench/lib/syntheticTrace.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nettrace-stream-'));
const N = 3000;

/** Runs a script under the small-string limit; returns its result. */
function limited(args, env = {}) {
  return spawnSync(process.execPath, ['-r', limits, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, NETTRACE_TEST_MAX_STRING: '262144', ...env },
  });
}

const saveScript = `
  const { createRequire } = require('node:module');
  const core = require(${JSON.stringify(require.resolve('../../dist/core.cjs'))});
  import(${JSON.stringify(synthetic)}).then(async ({ fillSession }) => {
    const s = fillSession(new core.Session({ description: 'synthetic', sourceMaps: false }), ${N});
    await s.saveJson(process.argv[1]);
    await s.saveHar(process.argv[2]);
  }).catch((e) => { console.error(e.message); process.exit(3); });
`;

test('jsonPieces writes exactly JSON.stringify(value, null, 1), streamed to any depth', () => {
  const values = [
    { a: 1, b: [1, 'x\ny', { c: [] }, undefined, null], d: {}, e: undefined, f: 'é\u2028', g: [[]], h: new Date(0) },
    [],
    {},
    'str',
    { log: { entries: [{ a: 1 }, { b: [2, 3] }], version: '1.2' } },
    // Long arrays are stringified in batches of elements: every batch boundary, holes and all.
    { list: Array.from({ length: 300 }, (_, i) => (i % 7 === 3 ? undefined : { i, s: 'x'.repeat(i % 5), n: [i, { m: null }] })) },
    Array.from({ length: 129 }, (_, i) => [i, [i]]),
  ];
  for (const v of values) {
    for (const depth of [0, 1, 2, 3, 5]) assert.equal([...core.jsonPieces(v, depth)].join(''), JSON.stringify(v, null, 1));
  }
});

test(`${N} requests past the string limit: saved as JSON and HAR, 0600, read back, shown, shown as --json`, async () => {
  const out = join(dir, 'big.json');
  const har = join(dir, 'big.har');
  // An existing file readable by others is made private before it is written.
  writeFileSync(out, 'old');
  chmodSync(out, 0o644);
  const saved = limited(['-e', saveScript, out, har]);
  assert.equal(saved.status, 0, saved.stderr);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  assert.equal(statSync(har).mode & 0o777, 0o600);
  const text = readFileSync(out, 'utf8');
  assert.ok(text.length > 262144 * 4, `the trace (${text.length} characters) is well past the test limit`);
  const trace = JSON.parse(text);
  assert.equal(trace.httpRequests.length, N);
  assert.equal(JSON.parse(readFileSync(har, 'utf8')).log.entries.length, N);
  // Byte for byte what one JSON.stringify would have written (format version 2: compact, no derived field).
  assert.equal(text, JSON.stringify(trace) + '\n');
  assert.equal(trace.formatVersion, 2);
  assert.ok(!trace.httpRequests.some((r) => 'timings' in r || 'diagnosis' in r));

  // Reading streams: under the limit, readTraceFile and show work.
  const read = limited([
    '-e',
    `const t = require(${JSON.stringify(require.resolve('../../dist/core.cjs'))}).readTraceFile(process.argv[1]); console.log(t.httpRequests.length, t.tcpConns.length)`,
    out,
  ]);
  assert.equal(read.status, 0, read.stderr);
  assert.equal(read.stdout.trim(), `${N} ${N / 100}`);
  const show = limited([cli, 'show', out]);
  assert.equal(show.status, 0, show.stderr);
  const unlimited = spawnSync(process.execPath, [cli, 'show', out], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  assert.equal(show.stdout, unlimited.stdout);
  assert.match(show.stdout, new RegExp(`${N} requests, \\d+ failed`));
  const json = limited([cli, 'show', out, '--json']);
  assert.equal(json.status, 0, json.stderr);
  const shown = JSON.parse(json.stdout);
  assert.deepEqual(shown, core.enrichTrace(core.readTraceFile(out)));
});

test('show refuses an oversized file or a large non-trace before reading it whole', () => {
  // Sparse files: their size is real, their bytes cost nothing unless read.
  const sparse = (name, head, size) => {
    const p = join(dir, name);
    const fd = openSync(p, 'w');
    writeSync(fd, head);
    ftruncateSync(fd, size);
    closeSync(fd);
    return p;
  };
  const huge = sparse('huge.json', '{"formatVersion": 1, "httpRequests": [', 9 * 1024 ** 3);
  let r = spawnSync(process.execPath, [cli, 'show', huge], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr.trim(),
    /^nettrace: .*huge\.json is 9\.0 GiB, larger than the 8\.0 GiB nettrace reads \(set NETTRACE_MAX_TRACE_BYTES to allow more\)$/,
  );
  // A 3 GiB HAR: refused at its first key, and named; the process stays small.
  const other = sparse('other.json', '{"log": {"entries": [', 3 * 1024 ** 3);
  // Its peak memory, measured by time(1), stays far below the file's size.
  const child = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, cli, 'show', other], { encoding: 'utf8' });
  const lines = child.stderr.trim().split('\n');
  assert.match(lines[0], /^nettrace: .*other\.json is a HAR file, not a nettrace trace: open the trace's JSON file instead/);
  const kib = Number(lines[lines.length - 1]);
  assert.ok(kib < 200 * 1024, `peak RSS ${kib} KiB for a refused 3 GiB file`);
  // A big file of text: refused from its first bytes.
  const text = sparse('text.json', 'GET / HTTP/1.1\r\n', 2 * 1024 ** 3);
  r = spawnSync(process.execPath, [cli, 'show', text], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr.trim(), /is not JSON \(it starts with "GET \/ HTTP\/1\.1\?\?/);
});

test('the scanner reports truncation and bad JSON with the byte, and splits values across any chunk boundary', () => {
  const text = JSON.stringify(
    { formatVersion: 1, httpRequests: [{ traceID: 'r"1\\', u: 'a\\"b' }, { traceID: 'é€😀' }], n: -1.5e3, t: true, s: 'x' },
    null,
    1,
  );
  const buf = Buffer.from(text);
  for (let size = 1; size <= 7; size++) {
    const got = [];
    const sc = new core.JsonObjectScanner(
      { field: (k, v) => got.push([k, v]), element: (k, v) => got.push([k, v]) },
      new Set(['httpRequests']),
    );
    for (let i = 0; i < buf.length; i += size) sc.push(buf.subarray(i, i + size));
    sc.end();
    assert.deepEqual(got, [
      ['formatVersion', 1],
      ['httpRequests', { traceID: 'r"1\\', u: 'a\\"b' }],
      ['httpRequests', { traceID: 'é€😀' }],
      ['n', -1500],
      ['t', true],
      ['s', 'x'],
    ]);
  }
  const p = join(dir, 'cut.json');
  writeFileSync(p, text.slice(0, 60));
  assert.throws(() => core.readTraceFile(p), { message: `${p} is not complete JSON (truncated at byte 60?)` });
  writeFileSync(p, '{"formatVersion": 1, "httpRequests": [{"traceID": "a"} {"traceID": "b"}]}');
  assert.throws(() => core.readTraceFile(p), /is not valid JSON: .* \(at byte \d+\)$/);
});

test('show --json escapes C1 controls, DEL, line separators and bidi overrides instead of printing them raw', () => {
  const nasty = 'http://a/\u009b31m\u0085x\u007f\u202egnp.exe\u2066\u2028';
  const p = join(dir, 'nasty.json');
  writeFileSync(
    p,
    JSON.stringify({
      ...core.emptyTrace('d\u009d\u200f'),
      httpRequests: [{ traceID: 'req-1', pid: 1, client: 'http', reqMethod: 'GET', reqURL: nasty }],
    }),
  );
  const r = spawnSync(process.execPath, [cli, 'show', p, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/);
  assert.match(r.stdout, /\\u009b31m\\u0085x\\u007f\\u202egnp\.exe\\u2066\\u2028/);
  const back = JSON.parse(r.stdout);
  assert.equal(back.httpRequests[0].reqURL, nasty, 'the same string once parsed');
  assert.equal(back.description, 'd\u009d\u200f');
});

test('a trace that fits the write buffer (1 MiB) is written at once, a larger one streamed (or written synchronously, `sync`): the same text, 0600, no symlink followed', async () => {
  const { fillSession } = await import(synthetic);
  const sizes = [];
  for (const [n, sync] of [0, 10, 800, 1100, 2500].flatMap((n) => [
    [n, false],
    [n, true],
  ])) {
    const s = fillSession(new core.Session({ description: `n=${n}`, sourceMaps: false }), n);
    // Saved from the snapshot (derived fields and all): the file holds the facts.
    const facts = s.facts();
    const trace = s.snapshot(facts);
    const out = join(dir, `fit-${n}-${sync}.json`);
    writeFileSync(out, 'an older and longer file: its bytes must not survive '.repeat(100));
    chmodSync(out, 0o644);
    await s.saveJson(out, trace, { sync });
    const text = readFileSync(out, 'utf8');
    assert.equal(text, JSON.stringify(facts) + '\n', `n=${n}, sync ${sync}`);
    if (n > 0) assert.ok(trace.httpRequests[0].timings && !('timings' in facts.httpRequests[0]), 'derived fields left out');
    assert.equal(statSync(out).mode & 0o777, 0o600, `n=${n}`);
    sizes.push(Buffer.byteLength(text));
    // A symlink planted under the name is refused, whichever way the file would be written.
    const victim = join(dir, `victim-${n}-${sync}`);
    writeFileSync(victim, 'mine');
    const link = join(dir, `link-${n}-${sync}.json`);
    symlinkSync(victim, link);
    await assert.rejects(s.saveJson(link, trace, { sync }), /cannot write/);
    assert.equal(readFileSync(victim, 'utf8'), 'mine');
  }
  // Both ways were taken: documents below and above the buffer's size.
  assert.ok(sizes.some((b) => b < 1 << 20) && sizes.some((b) => b > 1 << 20), `sizes ${sizes}`);
});

test('a record larger than the write buffer is written on its own, streamed or synchronously: the same text', async () => {
  const { fillSession } = await import(synthetic);
  const s = fillSession(new core.Session({ description: 'one large record', sourceMaps: false }), 20);
  const facts = s.facts();
  // A header value of 1.5 MiB (non-ASCII, so its bytes outnumber its characters): one part the buffer cannot hold.
  facts.httpRequests[7] = { ...facts.httpRequests[7], reqHeaders: [['x-large', 'é'.repeat(800_000)]] };
  for (const sync of [false, true]) {
    const out = join(dir, `large-${sync}.json`);
    await s.saveJson(out, facts, { sync });
    const text = readFileSync(out, 'utf8');
    assert.ok(Buffer.byteLength(text) > 1 << 20, 'larger than the buffer');
    assert.equal(text, JSON.stringify(facts) + '\n', `sync ${sync}`);
  }
});
