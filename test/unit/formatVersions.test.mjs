// covers: src/trace/formats/readTrace.ts, src/trace/formats/traceFile.ts
// needs: the build (dist/cli.cjs, dist/core.cjs)
// Issue 65, decision 1: from format version 2 a trace file holds what was recorded, compact, and
// every reader works out the rest (src/trace/formats/readTrace.ts). Each recorded stream the golden
// test replays (test/fixtures/streams, see traceEquivalence.test.mjs) has the file the build before
// wrote (<name>.v1.trace.json.gz: version 1, indented, its derived fields in it) and the one this
// build writes of the same run (<name>.trace.json.gz, version 2): the second is the first less its
// derived fields, and reading either gives the same `nettrace show` (table, every row, --json),
// `--summary`, `diff`, HAR, OpenTelemetry export, and panel (the host's snapshot, the webview
// model's rows, and a saved session restored).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { bundleTs } from '../lib/bundleTs.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const streams = join(here, '..', 'fixtures', 'streams');
const cli = join(here, '..', '..', 'dist', 'cli.cjs');
const core = createRequire(import.meta.url)('../../dist/core.cjs');
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-versions-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const names = readdirSync(streams)
  .filter((f) => f.endsWith('.v1.trace.json.gz'))
  .map((f) => f.slice(0, -'.v1.trace.json.gz'.length))
  .sort();

/** The two files of a stream, unzipped into `tmp`: [v1, v2]. */
function files(name) {
  return ['v1.trace', 'trace'].map((kind, i) => {
    const path = join(tmp, `${name}-v${i + 1}.json`);
    writeFileSync(path, gunzipSync(readFileSync(join(streams, `${name}.${kind}.json.gz`))));
    return path;
  });
}

/** `nettrace …` with its output piped (no colour, 120 columns). */
function nettrace(...args) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '' },
  });
  assert.equal(r.status, 0, `nettrace ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// The panel: the extension host's store (Open Trace File, a saved session restored) and the webview's model.
const ext = bundleTs(
  [
    "export * from './src/extension/traceStore';",
    "export { toHar } from './src/trace/formats/har';",
    "export { readTraceFile, readTraceFileAsync } from './src/trace/formats/traceFile';",
    "export { TraceModel } from './webview/model';",
  ],
  { dir: tmp, name: 'panel.cjs', vscodeStub: true },
);

test('every recorded stream has a version 1 file', () => {
  assert.deepEqual(names, ['failures', 'gateway', 'keepalive-https', 'mixed', 'redirects', 'tls-cases']);
});

for (const name of names) {
  test(`${name}: the version 2 file is the version 1 file's recorded fields, compact, and smaller`, () => {
    const [v1, v2] = files(name);
    const text = readFileSync(v2, 'utf8');
    assert.equal(text, JSON.stringify(JSON.parse(text)) + '\n', 'written without indentation');
    const facts = JSON.parse(readFileSync(v1, 'utf8'));
    const written = JSON.parse(text);
    assert.equal(facts.formatVersion, 1);
    assert.equal(written.formatVersion, 2);
    for (const r of facts.httpRequests) for (const f of core.DERIVED_REQUEST_FIELDS) delete r[f];
    for (const i of facts.incomingRequests ?? []) for (const f of core.DERIVED_INCOMING_FIELDS) delete i[f];
    facts.formatVersion = 2;
    assert.deepEqual(written, facts);
    // The version 1 file had derived fields to leave out: the test compares something.
    assert.ok(JSON.parse(readFileSync(v1, 'utf8')).httpRequests.some((r) => r.timings));
    assert.ok(!written.httpRequests.some((r) => core.DERIVED_REQUEST_FIELDS.some((f) => f in r)));
    assert.ok(text.length < readFileSync(v1, 'utf8').length * 0.75, `${text.length} bytes against ${readFileSync(v1, 'utf8').length}`);
  });

  test(`${name}: nettrace show, --all, --json, --summary and diff read both files alike`, () => {
    const [v1, v2] = files(name);
    for (const args of [['show'], ['show', '--all'], ['show', '--summary'], ['show', '--summary', '--json'], ['show', '--slow', '5']]) {
      const a = nettrace(...args, v1);
      assert.ok(a.length > 0);
      assert.equal(nettrace(...args, v2), a, args.join(' '));
    }
    // --json prints the records with their derived fields whichever version the file is; its formatVersion is the file's.
    const a = nettrace('show', '--json', v1);
    const b = nettrace('show', '--json', v2);
    assert.match(a, /^\{\n "formatVersion": 1,\n/);
    assert.equal(b, a.replace(/^\{\n "formatVersion": 1,/, '{\n "formatVersion": 2,'));
    assert.ok(
      JSON.parse(b).httpRequests.some((r) => r.timings),
      'derived fields printed',
    );
    // diff: the version 2 file against the version 1 file of the same run is the version 1 file against itself.
    const diff = nettrace('diff', v1, v2);
    assert.match(diff, /No notable change/);
    assert.equal(diff.replaceAll(v2, v1), nettrace('diff', v1, v1));
  });

  test(`${name}: the one reader, HAR and OpenTelemetry export give the same from both files`, async () => {
    const [v1, v2] = files(name);
    const a = core.readTrace(v1);
    const b = core.readTrace(v2);
    assert.deepEqual({ ...b, formatVersion: 1 }, a);
    assert.deepEqual(await core.readTraceAsync(v2), b);
    assert.deepEqual(core.toHar(core.readTraceFile(v2)), core.toHar(core.readTraceFile(v1)));
    const spans = (v) => {
      const out = join(tmp, `${name}-${v === v1 ? 1 : 2}.otlp.json`);
      spawnSync(process.execPath, [cli, 'export', '--otlp-file', out, v], { encoding: 'utf8' });
      return readFileSync(out, 'utf8');
    };
    const sa = spans(v1);
    assert.ok(sa.length > 0);
    assert.equal(spans(v2), sa);
  });

  test(`${name}: the panel shows both files alike (Open Trace File, a restored session, the webview model)`, async () => {
    const [v1, v2] = files(name);
    const store = new ext.TraceStore({});
    const opened = [];
    for (const path of [v1, v2]) opened.push(await store.addFileAsync(path, await ext.readTraceFileAsync(path)));
    const [sa, sb] = opened.map((e) => store.snapshot(e));
    assert.deepEqual(sb, sa);
    // Synchronous open (addFile) and restored sessions (an entry with a saved file, read when shown).
    assert.deepEqual(store.snapshot(store.addFile(v2, ext.readTraceFile(v2))), sa);
    const restored = store.snapshot({ key: 'earlier-1', label: 'x', origin: 'earlier', savedPath: v2, createdAt: new Date(0) });
    assert.deepEqual(restored, sa);
    const rows = (snap) => {
      const m = new ext.TraceModel();
      m.reset(structuredClone(snap), false);
      return m.view.map((r) => ({ ...r }));
    };
    const ra = rows(sa);
    assert.ok(ra.length > 0);
    assert.deepEqual(rows(sb), ra);
    assert.deepEqual(ext.toHar(store.fullTrace(opened[1])), ext.toHar(store.fullTrace(opened[0])));
    await store.dispose();
  });
}

test('docs/trace-format.md marks the derived fields, and only those, as not in the file', () => {
  const doc = readFileSync(join(here, '..', '..', 'docs', 'trace-format.md'), 'utf8');
  /** The table rows of the section headed `## … (\`Type\`)`: [field names, text]. */
  const rows = (type) => {
    const start = doc.indexOf(`(\`${type}\`)`);
    const end = doc.indexOf('\n## ', start);
    return doc
      .slice(start, end)
      .split('\n')
      .filter((l) => /^\| `\w+`/.test(l))
      .map((l) => [[...l.split('|')[1].matchAll(/`(\w+)`/g)].map((m) => m[1]), l]);
  };
  for (const [type, derived] of [
    ['HttpRequest', core.DERIVED_REQUEST_FIELDS],
    ['IncomingRequest', core.DERIVED_INCOMING_FIELDS],
  ]) {
    const table = rows(type);
    assert.ok(table.length > 20, type);
    for (const f of derived)
      assert.ok(
        table.some(([names]) => names.includes(f)),
        `${type}.${f} has a row`,
      );
    for (const [names, line] of table) {
      const isDerived = names.some((n) => derived.includes(n));
      assert.equal(line.includes('**Derived**'), isDerived, `${type} ${names.join(', ')}: marked ${isDerived ? 'derived' : 'recorded'}`);
    }
  }
});
