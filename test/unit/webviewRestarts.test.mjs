// covers: webview/restarts.ts, webview/model.ts
// Restarts in the panel's list (webview/restarts.ts, TraceModel.restartMarkOf): a restarted
// program's requests (`httpRequests[].restart`) continue the trace; the first request of each
// restarted process gets the list's separator "restarted · pid N · HH:MM:SS", the requests of the
// first run none, and the mark follows the trace as requests stream in, arrive out of order or
// leave it. The detail's process line says which restart made a request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-webview-restarts-'));
const out = await build({
  absWorkingDir: root,
  stdin: {
    contents: ['model', 'restarts'].map((m) => `export * from './webview/${m}';`).join('\n'),
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  format: 'esm',
  platform: 'node',
  write: false,
  logLevel: 'warning',
});
writeFileSync(join(tmp, 'restarts.mjs'), out.outputFiles[0].text);
const w = await import(pathToFileURL(join(tmp, 'restarts.mjs')).href);
rmSync(tmp, { recursive: true, force: true });

const BEGIN = '2026-11-25T10:31:00.000Z';
/** A request of process `pid` (restart `restart`, absent: the first run) made `at` ms into the trace. */
const mk = (i, pid, restart, at) => ({
  traceID: `req-${i}`,
  pid,
  client: 'fetch',
  reqMethod: 'GET',
  reqURL: `http://127.0.0.1:4000/register?version=${i}`,
  reqStartAt: at,
  respDoneAt: at + 5,
  respStatusCode: 200,
  ...(restart === undefined ? {} : { restart }),
});
const snapshot = (reqs) => ({
  description: 'Watch service',
  traceBeginAt: BEGIN,
  httpRequests: reqs,
  dials: [],
  tcpConns: [],
  tlsTunnels: [],
});
const clock = (ms) => w.clockAt(BEGIN, ms);
const marks = (m) => m.view.map((r) => (m.restartMarkOf(r) ? w.restartLabel(m.restartMarkOf(r), m.traceBeginAt) : ''));

test('the first request of each restarted process is marked; the first run is not', () => {
  const m = new w.TraceModel();
  m.reset(
    snapshot([mk(1, 100, undefined, 10), mk(2, 100, undefined, 20), mk(3, 200, 1, 2000), mk(4, 200, 1, 2100), mk(5, 300, 2, 5000)]),
    true,
  );
  assert.deepEqual(marks(m), ['', '', `↻ restarted · pid 200 · ${clock(2000)}`, '', `↻ restarted · pid 300 · ${clock(5000)}`]);
  assert.match(clock(2000), /^\d\d:\d\d:\d\d$/);
  assert.equal(m.restartMarkOf(m.row('req-3')).restart, 1);
  assert.equal(m.restartMarkOf(m.row('req-5')).restart, 2);
  assert.match(w.restartTitle(m.restartMarkOf(m.row('req-5'))), /^Restart 2 of the program: pid 300 started again/);
});

test('the mark follows the stream: new restarts, a request that arrives late but started first, removed requests', () => {
  const m = new w.TraceModel();
  m.reset(snapshot([mk(1, 100, undefined, 10)]), true);
  assert.deepEqual(marks(m), ['']);
  m.apply({ httpRequests: [mk(2, 200, 1, 3000)] });
  assert.deepEqual(marks(m), ['', `↻ restarted · pid 200 · ${clock(3000)}`]);
  // An earlier request of the same restart arrives after it (its response came later): it takes the mark.
  m.apply({ httpRequests: [mk(3, 200, 1, 2500)] });
  assert.equal(m.restartMarkOf(m.row('req-3'))?.start, 2500);
  assert.equal(m.restartMarkOf(m.row('req-2')), undefined);
  assert.deepEqual(marks(m), ['', `↻ restarted · pid 200 · ${clock(2500)}`, '']);
  // The marked request leaves the trace (a trace rule dropped it): the next one of the restart is marked.
  m.remove(['req-3']);
  assert.deepEqual(marks(m), ['', `↻ restarted · pid 200 · ${clock(3000)}`]);
  m.reset(snapshot([]), false);
  assert.deepEqual(marks(m), []);
});

test('the detail’s process line; the clock of an unreadable start', () => {
  assert.equal(w.processLabel({ pid: 4321 }), 'pid 4321');
  assert.equal(w.processLabel({ pid: 4321, restart: 2 }), 'pid 4321 · restart 2');
  assert.equal(w.clockAt('not a date', 10), '');
  assert.equal(w.restartLabel({ restart: 1, pid: 7, start: 0 }, 'not a date'), '↻ restarted · pid 7');
});
