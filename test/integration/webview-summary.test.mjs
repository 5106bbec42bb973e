// The panel's Summary view (issue 53) in headless Chromium through the stub host: one row per
// route group as src/trace/derive/summary.ts makes them, sortable by its column headers, moved
// through by keyboard, a row's Enter (or click) filters the list to the group; axe-clean.
// Skipped without /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { browserUnavailable, buildPanel, launchBrowser, openPanel, postAndWait, servePanel } from '../webview-harness/harness.mjs';
import { syntheticTrace } from '../webview-harness/synthetic.mjs';
import { runAxe, severe } from '../webview-harness/a11y.mjs';

const core = createRequire(import.meta.url)('../../dist/core.cjs');
const why = browserUnavailable();
const skip = why ? `webview summary test skipped: ${why}` : false;
const TRACES = {
  type: 'traces',
  traces: [{ traceKey: 'cur', label: 'node app.js', origin: 'current', live: false }],
  activeTraceKey: 'cur',
};

const gridRows = (page) =>
  page.$$eval('.summary-grid tbody tr', (rs) => rs.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));

test('Summary view: the route groups, sorting, keyboard, Enter filters the list, axe-clean', { skip, timeout: 180_000 }, async () => {
  const panel = await buildPanel();
  const server = await servePanel(panel);
  const browser = await launchBrowser();
  try {
    const trace = syntheticTrace(600);
    const { page, errors } = await openPanel(browser, server.url, { width: 1440, height: 900 });
    await page.evaluate((m) => window.postMessage(m, '*'), TRACES);
    await postAndWait(page, { type: 'reset', traceKey: 'cur', live: false, traceJson: JSON.stringify(trace) }, '(d) => d.requests === 600');
    // The panel shows the requests as the host sent them (their timings included).
    const expected = core.summarize(trace.httpRequests).routes;

    await page.click('.summary-toggle');
    await page.waitForSelector('.summary-grid tbody tr');
    let rows = await gridRows(page);
    assert.equal(rows.length, expected.length);
    // Sorted by p95, the slowest first.
    const p95 = [...expected].sort((a, b) => b.times.total.p95 - a.times.total.p95 || (a.label < b.label ? -1 : 1));
    assert.equal(rows[0][0].replace(/ \*$/, ''), p95[0].label);
    assert.equal(await page.getAttribute('.summary-grid th:nth-child(5)', 'aria-sort'), 'descending');
    // The first row has the focus (one tab stop); its cells are the group's own numbers.
    assert.equal(await page.evaluate(() => document.activeElement?.closest('.summary-grid tbody') !== null), true);

    // Sort by count with the keyboard: Tab to the header's button… here focused directly, then Enter.
    await page.focus('.summary-grid th:nth-child(2) button');
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute('.summary-grid th:nth-child(2)', 'aria-sort'), 'descending');
    rows = await gridRows(page);
    const counts = rows.map((r) => Number(r[1].replace(/,/g, '')));
    assert.deepEqual(
      counts,
      [...counts].sort((a, b) => b - a),
    );
    const byCount = [...expected].sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : 1));
    assert.equal(rows[1][0].replace(/ \*$/, ''), byCount[1].label);

    // ↓ then Enter on the second row: the list shows that group only, the filter box says how.
    await page.focus('.summary-grid tbody tr[tabindex="0"]');
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const group = byCount[1];
    const filter = `method:${group.method} route:${group.host}${group.route}`;
    await page.waitForFunction((n) => document.querySelector('.status-left')?.textContent?.includes(`${n} shown`), group.count);
    assert.equal(await page.inputValue('.filter-input'), filter);
    const shown = await page.$$eval('.list-rows .row', (rs) => rs.filter((r) => r.style.display !== 'none').length);
    assert.ok(shown > 0 && shown <= group.count);

    // A click on another row filters to it.
    await page.click('.summary-grid tbody tr:nth-child(1)');
    await page.waitForFunction((n) => document.querySelector('.status-left')?.textContent?.includes(`${n} shown`), byCount[0].count);

    const violations = severe(await runAxe(page));
    assert.deepEqual(
      violations.map((v) => `${v.id}: ${v.targets.slice(0, 2).join(' | ')}`),
      [],
    );
    // Escape closes the view.
    await page.focus('.summary-grid tbody tr[tabindex="0"]');
    await page.keyboard.press('Escape');
    assert.equal(await page.isHidden('.summary-view'), true);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
    panel.cleanup();
  }
});
