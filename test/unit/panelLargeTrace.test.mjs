// covers: src/extension/panel.ts, src/extension/traceStore.ts, src/trace/formats/traceFile.ts
// Opening a very large trace in the panel (issue 13, item 8): the host sends it as a `reset` with
// its first requests and `append`s of the rest (never one string of the whole trace, which past
// ~600,000 requests V8 cannot hold); all requests arrive, in order. PanelHost runs against a
// recording `vscode` stub (test/fixtures/vscode-stub).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSync } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from '../lib/bundleTs.mjs';

const require = createRequire(import.meta.url);
const stub = join(root, 'test', 'fixtures', 'vscode-stub', 'index.cjs');
const outfile = join(mkdtempSync(join(tmpdir(), 'nettrace-panel-')), 'panel.cjs');
buildSync({
  stdin: {
    contents:
      "export * from './src/extension/panel'; export * from './src/extension/traceStore'; export { emptyTrace } from './src/trace/formats/traceFile';",
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  outfile,
  logLevel: 'error',
  alias: { vscode: stub },
});
const m = require(outfile);
const vscode = require(stub);

test('a trace of 120,001 requests reaches the panel as a reset and appends, every request once and in order', () => {
  const n = 120_001;
  const trace = m.emptyTrace('big');
  for (let i = 0; i < n; i++)
    trace.httpRequests.push({ traceID: `req-${i + 1}`, pid: 1, client: 'http', reqMethod: 'GET', reqURL: `http://a/${i}` });
  const store = new m.TraceStore({ startCollector: async () => assert.fail('no session here') });
  const entry = store.addFile('/tmp/big.json', trace);
  const host = new m.PanelHost(vscode.Uri.file(root), store, { log: () => {}, command: () => {} });
  const panel = vscode.fakePanel();
  host.adopt(panel);
  host.showTrace?.(entry.key);
  panel.posted.length = 0;
  panel.receive({ type: 'ready' });
  const resets = panel.posted.filter((p) => p.type === 'reset');
  assert.equal(resets.length, 1);
  const first = JSON.parse(resets[0].traceJson);
  assert.equal(first.httpRequests.length, m.RESET_CHUNK);
  assert.ok(resets[0].traceJson.length < 20 * 1024 * 1024, 'the reset string holds only the first chunk');
  const appends = panel.posted.filter((p) => p.type === 'append' && p.traceKey === entry.key);
  assert.equal(appends.length, Math.ceil((n - m.RESET_CHUNK) / m.RESET_CHUNK));
  const ids = [...first.httpRequests, ...appends.flatMap((a) => a.httpRequests)].map((r) => r.traceID);
  assert.equal(ids.length, n);
  assert.deepEqual(ids.slice(-2), [`req-${n - 1}`, `req-${n}`]);
  for (let i = 0; i < n; i += 9973) assert.equal(ids[i], `req-${i + 1}`);
  // The appends follow their reset.
  assert.ok(panel.posted.indexOf(resets[0]) < panel.posted.indexOf(appends[0]));
});
