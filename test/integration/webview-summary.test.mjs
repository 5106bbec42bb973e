// covers: src/trace/derive/summary.ts
// needs: the build (dist/core.cjs)
// The panel's Summary view (issue 53) in headless Chromium through the stub host: one row per
// route group as src/trace/derive/summary.ts makes them, sortable by its column headers, moved
// through by keyboard, a row's Enter (or click) filters the list to the group; axe-clean. Past
// 10,000 routes the "other routes" row says what it is and filters nothing; a comparison names the
// origins it paired by their routes and the requests it left out.
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

const gridRows = (page, grid = '.summary-routes') =>
  page.$$eval(`${grid} tbody tr`, (rs) => rs.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));

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
    await page.waitForSelector('.summary-routes tbody tr');
    assert.equal(await page.isHidden('.summary-served'), true, 'no served requests: no served grid');
    let rows = await gridRows(page);
    assert.equal(rows.length, expected.length);
    // Sorted by p95, the slowest first.
    const p95 = [...expected].sort((a, b) => b.times.total.p95 - a.times.total.p95 || (a.label < b.label ? -1 : 1));
    assert.equal(rows[0][0].replace(/ \*$/, ''), p95[0].label);
    assert.equal(await page.getAttribute('.summary-routes th:nth-child(5)', 'aria-sort'), 'descending');
    // The first row has the focus (one tab stop); its cells are the group's own numbers.
    assert.equal(await page.evaluate(() => document.activeElement?.closest('.summary-grid tbody') !== null), true);

    // Sort by count with the keyboard: Tab to the header's button… here focused directly, then Enter.
    await page.focus('.summary-routes th:nth-child(2) button');
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute('.summary-routes th:nth-child(2)', 'aria-sort'), 'descending');
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

/** A server's trace: each of `trace`'s requests made while serving one of 200 requests on three routes. */
function serverTrace(trace) {
  const routes = [
    ['GET', (i) => `/users/${1000 + i}`, undefined],
    ['POST', () => '/orders', '/orders'],
    ['GET', (i) => `/items/${i}/reviews?page=2`, '/items/:itemId/reviews'],
  ];
  const incomingRequests = Array.from({ length: 200 }, (_, i) => {
    const [method, path, route] = routes[i % 3];
    const at = i * 10;
    return {
      traceID: `in-${i}`,
      pid: 1,
      server: 'http',
      reqMethod: method,
      reqURL: `http://127.0.0.1:3000${path(i)}`,
      ...(route ? { route } : {}),
      reqRecvAt: at,
      respHeadAt: at + 5 + (i % 7),
      respDoneAt: at + 6 + (i % 7),
      reqEndAt: at + 6 + (i % 7),
      respStatusCode: i % 20 === 3 ? 503 : 200,
    };
  });
  // Every third served request (the GET /users/:id ones) made no call: the others three each.
  const callers = incomingRequests.filter((_, i) => i % 3 !== 0);
  const httpRequests = trace.httpRequests.map((r, i) => ({ ...r, causedBy: callers[i % callers.length].traceID }));
  return { ...trace, incomingRequests, httpRequests };
}

test(
  'Summary view of a server trace: its served routes with their calls; a click filters the list to their calls',
  { skip, timeout: 180_000 },
  async () => {
    const panel = await buildPanel();
    const server = await servePanel(panel);
    const browser = await launchBrowser();
    try {
      const trace = serverTrace(syntheticTrace(600));
      const { page, errors } = await openPanel(browser, server.url, { width: 1440, height: 900 });
      await page.evaluate((m) => window.postMessage(m, '*'), TRACES);
      await postAndWait(
        page,
        { type: 'reset', traceKey: 'cur', live: false, traceJson: JSON.stringify(trace) },
        '(d) => d.requests === 600',
      );
      const expected = core.summarize(trace.httpRequests, trace.incomingRequests);
      assert.equal(expected.servedRoutes.length, 3);

      await page.click('.summary-toggle');
      await page.waitForSelector('.summary-served tbody tr');
      const rows = await gridRows(page, '.summary-served');
      // Sorted by count; each row the group's count, failed, status classes, p50/p95 and calls per request.
      const ms = (v) => (v < 10 ? v.toFixed(1) : String(Math.round(v)));
      assert.deepEqual(
        rows,
        expected.servedRoutes.map((r) => [
          r.label + (r.inferred ? ' *' : ''),
          String(r.count),
          String(r.failed),
          Object.entries(r.status)
            .map(([c, n]) => `${c} ${n}`)
            .join(' · '),
          ms(r.duration.p50),
          ms(r.duration.p95),
          r.calls.length ? r.calls.map((c) => `${c.label} ×${c.perRequest}`).join(', ') : '–',
        ]),
      );
      assert.deepEqual(rows.map((r) => r[0]).sort(), [
        'GET 127.0.0.1:3000/items/:itemId/reviews',
        'GET 127.0.0.1:3000/users/:id *',
        'POST 127.0.0.1:3000/orders',
      ]);
      assert.equal(rows.find((r) => r[0].startsWith('GET 127.0.0.1:3000/users'))[6], '–', 'the served route that made no call');
      assert.match(await page.textContent('.summary-note'), /^200 requests served in 3 routes; 600 requests made in \d+ routes/);
      // The served grid comes first and holds the focus.
      assert.equal(await page.evaluate(() => document.activeElement?.closest('.summary-served') !== null), true);

      // A click on POST /orders: the list keeps the calls its requests made.
      const orders = expected.servedRoutes.find((r) => r.route === '/orders');
      const callsOfOrders = orders.calls.reduce((n, c) => n + c.count, 0);
      await page.click('.summary-served tbody tr:has-text("POST 127.0.0.1:3000/orders")');
      await page.waitForFunction((n) => document.querySelector('.status-left')?.textContent?.includes(`${n} shown`), callsOfOrders);
      assert.equal(await page.inputValue('.filter-input'), 'caused-by:"POST 127.0.0.1:3000/orders"');
      const ordersIds = new Set(trace.incomingRequests.filter((r) => r.reqMethod === 'POST').map((r) => r.traceID));
      const shownIds = await page.evaluate(() =>
        [...document.querySelectorAll('.list-rows .row')]
          .filter((r) => r.style.display !== 'none')
          .map((r) => JSON.parse(r.dataset.vscodeContext).traceID),
      );
      const byId = new Map(trace.httpRequests.map((r) => [r.traceID, r]));
      assert.ok(shownIds.length > 0 && shownIds.every((id) => ordersIds.has(byId.get(id).causedBy)));

      const violations = severe(await runAxe(page));
      assert.deepEqual(
        violations.map((v) => `${v.id}: ${v.targets.slice(0, 2).join(' | ')}`),
        [],
      );
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
      panel.cleanup();
    }
  },
);

test(
  'Summary view of 12,000 requests: made a slice per task (the panel answers meanwhile), then the same routes',
  { skip, timeout: 240_000 },
  async () => {
    const panel = await buildPanel();
    const server = await servePanel(panel);
    const browser = await launchBrowser();
    try {
      const trace = syntheticTrace(12_000);
      const { page, errors } = await openPanel(browser, server.url, { width: 1440, height: 900 });
      await page.evaluate((m) => window.postMessage(m, '*'), TRACES);
      await postAndWait(
        page,
        { type: 'reset', traceKey: 'cur', live: false, traceJson: JSON.stringify(trace) },
        '(d) => d.requests === 12000',
      );
      const expected = core.summarize(trace.httpRequests).routes;
      // Right after the click the view says it is summarizing: the click's task did not make the whole summary.
      const caption = await page.evaluate(() => {
        document.querySelector('.summary-toggle').click();
        return document.querySelector('.summary-note').textContent;
      });
      assert.equal(caption, 'Summarizing 12,000 requests…');
      await page.waitForFunction(() => /^12,000 requests made in/.test(document.querySelector('.summary-note')?.textContent ?? ''));
      const rows = await gridRows(page);
      assert.deepEqual(rows.map((r) => r[0].replace(/ \*$/, '')).sort(), expected.map((r) => r.label).sort());
      const byLabel = new Map(expected.map((r) => [r.label, r]));
      for (const r of rows) assert.equal(r[1], byLabel.get(r[0].replace(/ \*$/, '')).count.toLocaleString('en'), r[0]);
      // Opened by its toggle, the first row has the focus once made.
      assert.equal(await page.evaluate(() => document.activeElement?.closest('.summary-routes tbody') !== null), true);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
      panel.cleanup();
    }
  },
);

test(
  'Summary view of a run with a what-if delay: the caption names the rule, its comparison names it, not the server; another trace’s Summary shows no comparison it did not make',
  { skip, timeout: 180_000 },
  async () => {
    const panel = await buildPanel();
    const server = await servePanel(panel);
    const browser = await launchBrowser();
    try {
      const baseline = syntheticTrace(600);
      // The same run, every request of the busiest route held back 800 ms by a what-if rule.
      const busiest = core.summarize(baseline.httpRequests).routes.sort((a, b) => b.count - a.count)[0];
      const trace = JSON.parse(JSON.stringify(baseline));
      let changed = 0;
      for (const r of trace.httpRequests) {
        const k = core.routeKeyOf(r.reqMethod, r.reqURL);
        if (`${k.method} ${k.host}${k.route}` !== busiest.label || !r.timings || r.respDoneAt === undefined) continue;
        r.timings = { ...r.timings, wait: (r.timings.wait > 0 ? r.timings.wait : 0) + 800 };
        r.whatIf = { rule: 'slow-pay', action: 'delay', kind: 'first-byte', ms: 800 };
        changed++;
      }
      assert.ok(changed > 0, `${changed} requests changed`);
      const { page, errors } = await openPanel(browser, server.url, { width: 1440, height: 900 });
      await page.evaluate((m) => window.postMessage(m, '*'), {
        ...TRACES,
        traces: [...TRACES.traces, { traceKey: 'next', label: 'node app.js (next)', origin: 'current', live: true }],
      });
      await postAndWait(
        page,
        { type: 'reset', traceKey: 'cur', live: false, traceJson: JSON.stringify(trace) },
        '(d) => d.requests === 600',
      );
      await page.click('.summary-toggle');
      await page.waitForSelector('.summary-routes tbody tr');
      const caption = await page.textContent('.summary-note');
      assert.match(
        caption,
        new RegExp(
          `${changed} changed by what-if rule "slow-pay" \\(held back its response's first byte 800 ms\\) are counted, not timed: their time and failures are the rule's, not the server's\\.`,
        ),
      );

      // Compare With… the baseline: the route's line names the rule; no sentence blames the server's wait.
      const many = (t) => ({
        ...t,
        httpRequests: Array.from({ length: 4 }, (_, i) => t.httpRequests.map((r) => ({ ...r, traceID: `${r.traceID}-${i}` }))).flat(),
      });
      await page.evaluate((m) => window.postMessage(m, '*'), core.compareMessage('cur', 'before.json', many(baseline), many(trace)));
      await page.waitForSelector('.summary-compare:not([hidden]) .compare-list');
      const items = await page.$$eval('.compare-list li', (ls) => ls.map((l) => l.textContent));
      const line = items.find((t) => t.startsWith(busiest.label));
      assert.ok(line, items.join('\n'));
      assert.match(
        line,
        /requests were changed by what-if rule "slow-pay" \(held back its response's first byte 800 ms\) — set apart, not compared/,
      );
      for (const t of items) assert.doesNotMatch(t, /server's first-byte wait/, t);

      // A comparison belongs to the trace it compared: the panel showing the next session's trace drops it…
      await postAndWait(
        page,
        { type: 'reset', traceKey: 'next', live: true, traceJson: JSON.stringify(syntheticTrace(50)) },
        '(d) => d.requests === 50',
      );
      await page.waitForFunction(() => document.querySelector('.summary-compare')?.hidden === true);
      assert.equal(await page.$$eval('.summary-compare li', (ls) => ls.length), 0);
      // …and one made of another trace is not shown over this one.
      await page.evaluate((m) => window.postMessage(m, '*'), core.compareMessage('cur', 'before.json', many(baseline), many(trace)));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await page.evaluate(() => document.querySelector('.summary-compare')?.hidden), true);
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
      panel.cleanup();
    }
  },
);

test(
  'Summary view past 10,000 routes: the "other routes" row says what it is and filters nothing; a comparison says which origins it paired and what it left out',
  { skip, timeout: 240_000 },
  async () => {
    const panel = await buildPanel();
    const server = await servePanel(panel);
    const browser = await launchBrowser();
    try {
      // 10,020 requests on as many routes (letters only: no segment reads as a value).
      const trace = syntheticTrace(10_020);
      const word = (i) => Array.from({ length: 4 }, (_, k) => String.fromCharCode(97 + (Math.floor(i / 26 ** k) % 26))).join('');
      trace.httpRequests.forEach((r, i) => (r.reqURL = `https://api.example.test/k/${word(i)}`));
      const { page, errors } = await openPanel(browser, server.url, { width: 1440, height: 900 });
      await page.evaluate((m) => window.postMessage(m, '*'), TRACES);
      await postAndWait(
        page,
        { type: 'reset', traceKey: 'cur', live: false, traceJson: JSON.stringify(trace) },
        '(d) => d.requests === 10020',
      );
      await page.click('.summary-toggle');
      await page.waitForSelector('.summary-routes tbody tr.other', { timeout: 60_000 });
      const other = await page.$eval('.summary-routes tbody tr.other', (tr) => ({
        route: tr.querySelector('td').textContent,
        count: tr.querySelectorAll('td')[1].textContent,
        title: tr.getAttribute('title'),
      }));
      assert.deepEqual(other.route, 'other routes (past the first 10,000)');
      assert.equal(other.count, '20');
      assert.match(other.title, /counted together: there is no one route to filter the list to/);
      // A click or Enter on it filters nothing (its route is empty: every request would be hidden).
      await page.click('.summary-routes tbody tr.other');
      await page.keyboard.press('Enter');
      await page.waitForTimeout(200);
      assert.equal(await page.inputValue('.filter-input'), '');
      assert.equal(await page.evaluate(() => document.querySelector('.status-left').textContent.includes('shown')), false);
      // The host's comparison: two origins paired by their routes, requests past the cap not compared.
      await page.evaluate((m) => window.postMessage(m, '*'), {
        type: 'compare',
        traceKey: 'cur',
        baseline: 'before.json',
        routes: [
          {
            label: 'GET 127.0.0.1:39871/users/:id',
            countA: 40,
            countB: 40,
            notable: true,
            tooFew: false,
            sentence: 'GET 127.0.0.1:39871/users/:id p50 +80 ms (12 → 92 ms): the server’s first-byte wait (+80 ms)',
            pairedFrom: '127.0.0.1:41234',
          },
        ],
        added: [],
        gone: [],
        paired: [{ a: '127.0.0.1:41234', b: '127.0.0.1:39871', common: 3 }],
        otherRoutes: { a: 12, b: 20 },
      });
      await page.waitForSelector('.summary-compare:not([hidden]) .compare-paired');
      assert.equal(await page.textContent('.compare-paired'), '127.0.0.1:41234 ↔ 127.0.0.1:39871, paired by their routes (3 in both)');
      assert.equal(await page.getAttribute('.compare-notable', 'title'), '127.0.0.1:41234 in before.json, paired by its routes');
      assert.equal(
        await page.textContent('.compare-other'),
        'other routes: 12 requests in before.json and 20 in this trace on routes past the first 10,000 of each, counted together, not compared',
      );
      // axe over the page without its 10,019 ordinary route rows, taken out of the document once
      // everything above was read (rows like them are checked in the Summary view's tests of a few
      // routes): over them it took 3.5 minutes, near this test's limit.
      await page.evaluate(() => document.querySelectorAll('.summary-routes tbody tr:not(.other)').forEach((tr) => tr.remove()));
      const violations = severe(await runAxe(page));
      assert.deepEqual(
        violations.map((v) => `${v.id}: ${v.targets.slice(0, 2).join(' | ')}`),
        [],
      );
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      await server.close();
      panel.cleanup();
    }
  },
);
