// covers: webview/columns.ts, webview/layout.ts, webview/state.ts, src/extension/panelHtml.ts
// The panel's column layout (webview/columns.ts layoutColumns), how the list and the detail share
// the panel (webview/layout.ts planSplit), the column layout as part of the per-workspace state
// (webview/state.ts) and the shell's data-state, bundled on the fly with esbuild and run in plain Node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = await build({
  absWorkingDir: root,
  stdin: {
    contents: [
      "export * from './webview/columns';",
      "export * from './webview/layout';",
      "export * from './webview/state';",
      "export * from './src/extension/panelHtml';",
    ].join('\n'),
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

test('layoutColumns: too narrow for the essentials, the waterfall then the method go, unless the user asked for them', () => {
  const l = w.layoutColumns(240, defaults, {});
  assert.deepEqual(l.shown, ['name', 'status', 'duration'], 'path, status and time, as beside a detail');
  assert.ok(l.collapsed.includes('waterfall') && l.collapsed.includes('method'));
  assert.ok(l.rowWidth <= 240, `row ${l.rowWidth} fits`);
  const kept = w.layoutColumns(240, defaults, { waterfall: true });
  assert.ok(kept.shown.includes('waterfall') && kept.shown.includes('method'), 'asked for: kept, and it scrolls');
  assert.ok(kept.rowWidth > 240);
  assert.deepEqual(w.layoutColumns(300, defaults, {}).shown, ['name', 'method', 'status', 'duration'], 'the method back first');
});

test('planSplit: the detail under the list when both keep their least size, beside it in a short wide panel, else the page scrolls', () => {
  const need = w.LIST_HEAD_HEIGHT + w.MIN_ROWS * 36;
  const base = { width: 540, detailOpen: true, rowHeight: 36, sideRowHeight: 36, detailNeed: 280 };
  // Tall (Run and Debug open, no Debug Console): under the list.
  const tall = w.planSplit({ ...base, height: 750 });
  assert.deepEqual([tall.side, tall.fits, tall.minHeight], [false, true, need + w.DETAIL_MIN_HEIGHT]);
  // The choice counts on DETAIL_MIN_HEIGHT, not on this request's head: another request's does not move the layout.
  assert.equal(w.planSplit({ ...base, height: need + w.DETAIL_MIN_HEIGHT, detailNeed: 320 }).side, false);
  // The Debug Console open (about 538×425 for the list and the detail): beside it, no scrolling.
  const short = w.planSplit({ ...base, width: 538, height: 425 });
  assert.deepEqual([short.side, short.fits, short.minHeight], [true, true, need]);
  // 200% zoom in the same window (241 px wide): under it, the page taller than the panel.
  const zoom = w.planSplit({ ...base, width: 241, height: 100 });
  assert.deepEqual([zoom.side, zoom.fits, zoom.minHeight], [false, false, need + 280]);
  // Without the detail the list alone keeps its rows.
  assert.deepEqual(w.planSplit({ ...base, detailOpen: false, height: 200 }), {
    side: false,
    listNeed: need,
    detailNeed: 0,
    minHeight: need,
    fits: false,
  });
  // A detail with a very tall head counts as DETAIL_MAX_NEED (it scrolls as a whole); before it is measured, as DETAIL_MIN_HEIGHT.
  assert.equal(w.planSplit({ ...base, height: 300, detailNeed: 900 }).detailNeed, w.DETAIL_MAX_NEED);
  assert.equal(w.planSplit({ ...base, height: 300, detailNeed: 0 }).detailNeed, w.DETAIL_MIN_HEIGHT);
});

test('the splitter’s range: beside the list each keeps its least width; under it the list keeps its rows while there is room', () => {
  const side = w.sideShares(538);
  assert.ok(Math.abs(side.min * 538 - w.SIDE_DETAIL_MIN) < 1 && Math.abs((1 - side.max) * 538 - w.SIDE_LIST_MIN) < 1, JSON.stringify(side));
  const plan = w.planSplit({ width: 540, height: 750, detailOpen: true, rowHeight: 36, sideRowHeight: 36, detailNeed: 280 });
  const under = w.stackedShares(750, plan);
  assert.ok(Math.abs(under.max * 750 - (750 - plan.listNeed)) < 1, JSON.stringify(under));
  assert.ok(Math.abs(under.min * 750 - 280) < 1);
  // A head taller than the list leaves: the list keeps its rows, the detail scrolls.
  const tight = w.planSplit({ width: 540, height: 570, detailOpen: true, rowHeight: 36, sideRowHeight: 36, detailNeed: 320 });
  const shares = w.stackedShares(570, tight);
  assert.ok(
    tight.fits && Math.abs(shares.min - shares.max) < 1e-9 && Math.abs(shares.max * 570 - (570 - tight.listNeed)) < 1,
    JSON.stringify(shares),
  );
  const scrolled = w.stackedShares(
    592,
    w.planSplit({ width: 241, height: 100, detailOpen: true, rowHeight: 36, sideRowHeight: 36, detailNeed: 280 }),
  );
  assert.equal(scrolled.max, 0.85, 'a page that scrolls anyway: the detail may grow to DETAIL_MAX');
});

test('workspace state: the column layout is part of it, validated when read back', () => {
  const saved = { widths: { status: 5, size: 90 }, columns: { client: false, name: false, bogus: true, conn: 'x' } };
  const st = w.restoreState(saved);
  assert.equal(st.widths.status, w.MIN_COLUMN_WIDTH);
  assert.equal(st.widths.size, 90);
  assert.deepEqual(st.columns, { client: false });
  assert.equal(st.detailWidth, w.SIDE_DEFAULT, 'the detail’s share beside the list: the default when not saved');
  assert.equal(w.restoreState({ detailWidth: 0.7 }).detailWidth, 0.7);
  assert.equal(w.restoreState({ detailWidth: 3 }).detailWidth, w.SIDE_DEFAULT);
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
