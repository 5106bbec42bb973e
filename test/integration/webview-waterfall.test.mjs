// covers: webview/waterfallView.ts, webview/waterfall.ts
// The panel's waterfall in headless Chromium through the stub host: a labelled time axis at 540
// and 1280 px, a debugger pause drawn as a narrow hatched gap (not 5 s of axis), bars that are not
// slivers, zoom changing the tick labels, drag-select on the axis filtering the list (Escape and
// the chip clear it), and the hover listing each phase. Screenshots of the light and dark themes
// go to test-results/webview/. Skipped without /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  browserUnavailable,
  buildPanel,
  DARK_THEME,
  launchBrowser,
  openPanel,
  postAndWait,
  servePanel,
  settle,
} from '../webview-harness/harness.mjs';

const why = browserUnavailable();
const skip = why ? `webview waterfall test skipped: ${why}` : false;
const results = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-results', 'webview');

/** VS Code's Light Modern colours for the variables the list and waterfall use. */
const LIGHT_THEME = {
  ...DARK_THEME,
  'editor-background': '#ffffff',
  foreground: '#3b3b3b',
  descriptionForeground: '#3b3b3b',
  'panel-background': '#f8f8f8',
  'panel-border': '#e5e5e5',
  'widget-border': '#e5e5e5',
  'keybindingTable-headerBackground': '#3b3b3b0a',
  'tree-tableColumnsBorder': '#61616120',
  'editorGroupHeader-tabsBackground': '#f8f8f8',
  'editorWidget-background': '#f8f8f8',
  'list-hoverBackground': '#f2f2f2',
  'list-activeSelectionBackground': '#e8e8e8',
  'list-activeSelectionForeground': '#000000',
  'list-inactiveSelectionBackground': '#e4e6f1',
  'input-background': '#ffffff',
  'input-foreground': '#3b3b3b',
  'dropdown-background': '#ffffff',
  'dropdown-foreground': '#3b3b3b',
  'icon-foreground': '#3b3b3b',
  'charts-foreground': '#616161',
  'charts-lines': '#61616180',
  'charts-red': '#e51400',
  'charts-blue': '#1a85ff',
  'charts-yellow': '#bf8803',
  'charts-orange': '#d18616',
  'charts-green': '#388a34',
  'charts-purple': '#652d90',
  'terminal-ansiCyan': '#0598bc',
};

const base = (id, start, url, extra = {}) => ({
  traceID: id,
  pid: 4242,
  threadId: 0,
  client: 'fetch',
  reqMethod: 'GET',
  reqURL: url,
  reqHeaders: [],
  reqStartAt: start,
  ...extra,
});

/** A finished request whose phases are `t` (HAR ms), laid end to end from `start`. */
function done(id, start, url, t, extra = {}) {
  const total = Object.entries(t).reduce((s, [k, v]) => s + (k !== 'ssl' && v > 0 ? v : 0), 0);
  const sent = start + Math.max(0, t.blocked) + Math.max(0, t.dns) + Math.max(0, t.connect) + Math.max(0, t.send);
  return base(id, start, url, {
    reqSentAt: sent,
    respRecvAt: sent + t.wait,
    respDoneAt: start + total,
    respStatusCode: 200,
    respContentLen: 512,
    timings: t,
    ...extra,
  });
}

const NEW_TLS = { blocked: 0.4, dns: 6, connect: 28, ssl: 18, send: 0.3, wait: 22, receive: 3 };
const REUSED = { blocked: 0, dns: -1, connect: -1, ssl: -1, send: 0.2, wait: 14, receive: 1.5 };

/** Four requests, a 5 s breakpoint, three more (one in flight across the pause), one of 1 ms. */
function pausedTrace() {
  const reqs = [
    done('req-1', 120, 'https://api.example.test/v1/users', NEW_TLS),
    done('req-2', 180, 'https://api.example.test/v1/orders', REUSED),
    done('req-3', 200, 'https://api.example.test/v1/items', REUSED),
    // In flight across the pause: waits 5.1 s, of which 5 s paused.
    done('req-4', 210, 'https://api.example.test/v1/slow', { ...REUSED, wait: 5_100 }),
    done('req-5', 5_260, 'https://auth.example.test/oauth/token', NEW_TLS),
    done('req-6', 5_340, 'https://api.example.test/v1/users/42', REUSED),
    done('req-7', 5_360, 'http://localhost:3000/health', { blocked: 0, dns: -1, connect: -1, ssl: -1, send: 0.1, wait: 0.8, receive: 0.1 }),
    done('req-8', 5_380, 'https://api.example.test/v1/orders?page=2', { ...REUSED, wait: 40 }, { respStatusCode: 404 }),
  ];
  return {
    description: 'node app.js',
    traceBeginAt: '2026-01-01T10:00:00.000Z',
    traceEndAt: 5_500,
    httpRequests: reqs,
    dials: [],
    tcpConns: [],
    tlsTunnels: [],
    debuggerPauses: [{ beginAt: 240, endAt: 5_240, reason: 'breakpoint' }],
  };
}

const shown = (page) =>
  page.evaluate(() => [...document.querySelectorAll('.list-rows .row')].filter((r) => r.style.display !== 'none').length);
const tickLabels = (page) => page.$$eval('.wf-axis .wf-tick', (ts) => ts.map((t) => t.textContent));

/** Waits (see `settle`) until `n` rows are shown, then returns the count for the assertion to judge. */
async function shownSoon(page, n) {
  await settle(
    page,
    (want) => [...document.querySelectorAll('.list-rows .row')].filter((r) => r.style.display !== 'none').length === want,
    n,
  );
  return shown(page);
}

/** Waits until the axis labels equal (`same`) or differ from `ref`, then returns them. */
async function ticksSoon(page, ref, same) {
  await settle(
    page,
    ([b, eq]) => (JSON.stringify([...document.querySelectorAll('.wf-axis .wf-tick')].map((t) => t.textContent)) === b) === eq,
    [JSON.stringify(ref), same],
  );
  return tickLabels(page);
}

async function load(browser, url, opts) {
  const { page, errors } = await openPanel(browser, url, opts);
  await page.evaluate(() =>
    window.postMessage({ type: 'traces', traces: [{ traceKey: 't', label: 'node app.js', origin: 'earlier', live: false }] }, '*'),
  );
  await postAndWait(
    page,
    { type: 'reset', traceKey: 't', live: false, traceJson: JSON.stringify(pausedTrace()) },
    '(d) => d.requests === 8',
  );
  await page.waitForTimeout(50);
  return { page, errors };
}

test('waterfall: labelled axis, pause gap, zoom, drag-select filter, hover, both themes', { skip, timeout: 120_000 }, async () => {
  mkdirSync(results, { recursive: true });
  const panel = await buildPanel();
  const server = await servePanel(panel);
  const browser = await launchBrowser();
  try {
    for (const [themeName, theme, themeKind] of [
      ['dark', DARK_THEME, 'vscode-dark'],
      ['light', LIGHT_THEME, 'vscode-light'],
    ]) {
      for (const width of [540, 1280]) {
        const { page, errors } = await load(browser, server.url, { width, height: 420, theme, themeKind });
        const labels = await tickLabels(page);
        assert.ok(labels.length >= 2, `${themeName} ${width}: the axis has tick labels (${labels})`);
        for (const l of labels) assert.match(l, /^\d+(\.\d+)? (ms|s)$/, `a label reads as a time: ${l}`);
        // Every label sits inside the waterfall column.
        const inside = await page.evaluate(() => {
          const cell = document.querySelector('.hcell.c-waterfall').getBoundingClientRect();
          return [...document.querySelectorAll('.wf-axis .wf-tick')].every((t) => {
            const r = t.getBoundingClientRect();
            return r.left >= cell.left - 0.5 && r.left <= cell.right;
          });
        });
        assert.ok(inside, 'tick labels are inside the waterfall header');
        // The 5 s pause is a narrow gap, not 5 s of axis.
        const gap = await page.$eval('.wf-axis .wf-gap', (g) => ({ w: g.getBoundingClientRect().width, title: g.title }));
        assert.ok(gap.w >= 6 && gap.w <= 20, `gap width ${gap.w}`);
        assert.match(gap.title, /Paused in the debugger for 5\.00 s/);
        // Bars are not slivers: the first request (60 ms of ~400 active ms) is a real bar, and
        // the 1 ms request is at least the minimum width.
        const bars = await page.evaluate(() =>
          Object.fromEntries(
            [...document.querySelectorAll('.list-rows .row')]
              .filter((r) => r.style.display !== 'none')
              .map((r) => {
                const segs = [...r.querySelectorAll('.seg')].filter((s) => s.style.display !== 'none');
                const left = Math.min(...segs.map((s) => s.getBoundingClientRect().left));
                const right = Math.max(...segs.map((s) => s.getBoundingClientRect().right));
                const cell = r.querySelector('.c-waterfall').getBoundingClientRect();
                return [
                  r.querySelector('.url-path').textContent,
                  { width: right - left, right, cellRight: cell.right, phases: segs.length },
                ];
              }),
          ),
        );
        assert.ok(bars['/v1/users'].width > (width > 600 ? 20 : 10), `first bar ${bars['/v1/users'].width}px`);
        assert.equal(bars['/v1/users'].phases, 7, 'every phase of a new TLS request is drawn');
        assert.ok(bars['/health'].width >= 2.9, `1 ms bar ${bars['/health'].width}px`);
        for (const [path, b] of Object.entries(bars))
          assert.ok(b.right <= b.cellRight + 0.5, `${path} stays inside its cell: ${b.right} > ${b.cellRight}`);
        await page.screenshot({ path: join(results, `waterfall-${themeName}-${width}.png`) });
        assert.deepEqual(errors, []);
        await page.close();
      }
    }

    // Interactions at 1280, dark.
    const { page, errors } = await load(browser, server.url, { width: 1280, height: 420 });
    const before = await tickLabels(page);
    await page.focus('.list-body');
    await page.keyboard.press('+');
    await page.keyboard.press('+');
    const zoomed = await ticksSoon(page, before, false);
    assert.notDeepEqual(zoomed, before, 'zoom changes the tick labels');
    assert.match(await page.textContent('.wf-zoom-label'), /^×\d/);
    await page.keyboard.press('0');
    assert.deepEqual(await ticksSoon(page, before, true), before, '0 fits the whole axis again');
    // Ctrl+wheel over the waterfall zooms too.
    const cell = await page.$eval('.hcell.c-waterfall', (c) => {
      const r = c.getBoundingClientRect();
      return { left: r.left, right: r.right, top: r.top, bottom: r.bottom };
    });
    await page.mouse.move(cell.left + 40, cell.bottom + 30);
    await page.keyboard.down('Control');
    await page.mouse.wheel(0, -400);
    await page.keyboard.up('Control');
    assert.notDeepEqual(await ticksSoon(page, before, false), before, 'ctrl+wheel zooms');
    await page.click('.wf-button[aria-label^="Show the whole"]');
    assert.deepEqual(await ticksSoon(page, before, true), before);

    // The hover lists the phases with their durations.
    const firstBar = await page.$eval('.list-rows .row .seg.ph-wait', (s) => {
      const r = s.getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
    });
    await page.mouse.move(firstBar.x, firstBar.y);
    await page.waitForSelector('.wf-tip.on');
    const tip = await page.textContent('.wf-tip');
    assert.match(tip, /DNS lookup\s*6\.0 ms/);
    assert.match(tip, /TLS handshake\s*18 ms/);
    assert.match(tip, /Waiting \(TTFB\)\s*22 ms/);
    await page.screenshot({ path: join(results, 'waterfall-hover.png') });

    // Drag-select the part before the gap on the axis: the list shows only those requests.
    const gapX = await page.$eval('.wf-axis .wf-gap', (g) => g.getBoundingClientRect().left);
    const y = (cell.top + cell.bottom) / 2;
    await page.mouse.move(cell.left + 8, y);
    await page.mouse.down();
    await page.mouse.move(cell.left + 40, y, { steps: 3 });
    await page.mouse.move(gapX - 2, y, { steps: 3 });
    await page.mouse.up();
    assert.equal(await shownSoon(page, 4), 4, 'only the requests before the pause (and the one across it) are listed');
    assert.match(await page.textContent('.status-left'), /4 shown/);
    assert.equal(await page.isVisible('.time-range-chip'), true);
    assert.equal(await page.getAttribute('.hcell.c-waterfall', 'aria-sort'), 'ascending', 'the drag did not toggle the sort');
    await page.screenshot({ path: join(results, 'waterfall-range.png') });
    // It composes with the other filters.
    await page.fill('.filter-input', 'orders');
    assert.equal(await shownSoon(page, 1), 1);
    await page.fill('.filter-input', '');
    assert.equal(await shownSoon(page, 4), 4, 'the time range outlives the text filter');
    await page.focus('.list-body');
    await page.keyboard.press('Escape');
    assert.equal(await shownSoon(page, 8), 8, 'Escape clears the time range');
    assert.equal(await page.isVisible('.time-range-chip'), false);
    // Clicking the chip clears it too.
    await page.mouse.move(cell.left + 8, y);
    await page.mouse.down();
    await page.mouse.move(gapX - 2, y, { steps: 4 });
    await page.mouse.up();
    assert.equal(await shownSoon(page, 4), 4);
    await page.click('.time-range-chip');
    assert.equal(await shownSoon(page, 8), 8);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
    panel.cleanup();
  }
});
