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

    // "Compare With…" asks the host; its answer lists the changed route first, one sentence, then the rest.
    await page.click('.summary-compare-button');
    const posted = await page.evaluate(() => window.__host.posted.filter((m) => m.type === 'command').map((m) => m.command));
    assert.deepEqual(posted, ['compareWith']);
    const baseline = JSON.parse(JSON.stringify(trace));
    const slowed = byCount[0];
    for (const r of trace.httpRequests) {
      const k = core.routeKeyOf(r.reqMethod, r.reqURL);
      if (r.timings && r.respDoneAt !== undefined && `${k.method} ${k.host}${k.route}` === slowed.label) {
        r.timings = { ...r.timings, wait: (r.timings.wait > 0 ? r.timings.wait : 0) + 400 };
      }
    }
    // Every route twice as many times over, so that the samples are large enough to tell.
    const many = (t) => ({
      ...t,
      httpRequests: Array.from({ length: 4 }, (_, i) => t.httpRequests.map((r) => ({ ...r, traceID: `${r.traceID}-${i}` }))).flat(),
    });
    const msg = core.compareMessage('cur', 'before.json', many(baseline), many(trace));
    await page.evaluate((m) => window.postMessage(m, '*'), msg);
    await page.waitForSelector('.summary-compare:not([hidden]) .compare-list');
    const items = await page.$$eval('.compare-list li', (ls) => ls.map((l) => l.textContent));
    assert.equal(await page.textContent('.summary-compare h3'), 'Compared with before.json');
    assert.ok(items[0].startsWith(`${slowed.label} p`), items[0]);
    assert.match(items[0], /: the server's first-byte wait \(\+400 ms\)$/);
    assert.equal(items.filter((t) => !/other routes within the noise/.test(t)).length, 1, items.join('\n'));

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
