// covers: webview/columns.ts, webview/state.ts, src/extension/panelHtml.ts
// The panel's column layout (webview/columns.ts layoutColumns), the per-workspace layout read back
// the column layout as part of the per-workspace state (webview/state.ts) and the shell's data-state
// bundled on the fly with esbuild and run in plain Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = await build({
  absWorkingDir: root,
  stdin: {
    contents: ["export * from './webview/columns';", "export * from './webview/state';", "export * from './src/extension/panelHtml';"].join(
      '\n',
    ),
    resolveDir: root,
    loader: 'ts',
  },
  bundle: true,
  format: 'esm',
  platform: 'node',
  write: false,
  logLevel: 'warning',
});
const w = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);
const defaults = w.columnWidths(undefined);

test('layoutColumns: wide panels show every column at its width; the waterfall grows', () => {
  const l = w.layoutColumns(1270, defaults, {});
  assert.equal(l.narrow, false);
  assert.deepEqual(l.collapsed, []);
  assert.equal(l.shown.length, 9);
  assert.equal(l.widths.status, 124);
  assert.ok(l.widths.waterfall >= 260 && l.rowWidth <= 1270);
  assert.equal(w.layoutColumns(2550, defaults, {}).widths.waterfall, 637);
});

test('layoutColumns: narrow panels keep method, path, status, time and the waterfall, and fit', () => {
  for (const avail of [390, 530]) {
    const l = w.layoutColumns(avail, defaults, {});
    assert.equal(l.narrow, true);
    assert.deepEqual(l.shown, ['name', 'method', 'status', 'duration', 'waterfall']);
    assert.deepEqual(l.collapsed, ['client', 'conn', 'size', 'initiator']);
    assert.ok(l.widths.waterfall >= w.WATERFALL_MIN_WIDTH, `${avail}: waterfall ${l.widths.waterfall}`);
    assert.ok(l.rowWidth <= avail, `${avail}: row ${l.rowWidth} fits`);
  }
});

test('layoutColumns: the user’s choices win; what does not fit scrolls', () => {
  const hidden = w.layoutColumns(1270, defaults, { waterfall: false, client: false });
  assert.ok(!hidden.shown.includes('waterfall') && !hidden.shown.includes('client'));
  const insisted = w.layoutColumns(390, defaults, { size: true, initiator: true });
  assert.ok(insisted.shown.includes('size') && insisted.shown.includes('initiator'));
  assert.ok(insisted.rowWidth > 390, 'wider than the list: it scrolls sideways');
  const resized = w.layoutColumns(390, { ...defaults, status: 150 }, {});
  assert.equal(resized.widths.status, 150, 'a resized column keeps its width when narrow');
});

test('workspace state: the column layout is part of it, validated when read back', () => {
  const saved = { widths: { status: 5, size: 90 }, columns: { client: false, name: false, bogus: true, conn: 'x' } };
  const st = w.restoreState(saved);
  assert.equal(st.widths.status, w.MIN_COLUMN_WIDTH);
  assert.equal(st.widths.size, 90);
  assert.deepEqual(st.columns, { client: false });
  const part = w.workspacePart({ ...st, traceKey: 't', selectedId: 'r1' });
  assert.deepEqual(part.columns, { client: false }, 'kept per workspace');
  assert.equal('traceKey' in part || 'selectedId' in part, false, 'the trace and selection are not');
});

test('html: the workspace layout goes into an escaped data attribute, nothing else changes', () => {
  const base = {
    cspSource: 'https://c',
    nonce: 'n',
    scriptUri: 'https://r/w.js',
    styleUri: 'https://r/w.css',
    codiconUri: 'https://r/c.css',
  };
  assert.ok(!w.renderPanelHtml(base).includes('data-state'));
  const html = w.renderPanelHtml({ ...base, initialState: { widths: { a: 1 }, x: '"><script>' } });
  assert.match(html, /<div id="app" class="app" aria-busy="true" data-state="\{&#34;widths&#34;/);
  assert.ok(!html.includes('"><script>'));
  assert.equal((html.match(/<script/g) ?? []).length, 1);
});
