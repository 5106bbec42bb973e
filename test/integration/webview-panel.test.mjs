// covers: webview/main.ts, webview/list.ts, webview/state.ts
// The panel in headless Chromium through the stub host: protocol handshake, keyboard navigation,
// filtering, streaming, initiator links, and UI state surviving a reload. Skipped without
// /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browserUnavailable, buildPanel, launchBrowser, openPanel, postAndWait, servePanel, settle } from '../webview-harness/harness.mjs';
import { syntheticStream, syntheticTrace } from '../webview-harness/synthetic.mjs';

const why = browserUnavailable();
const skip = why ? `webview panel test skipped: ${why}` : false;

const TRACES = {
  type: 'traces',
  traces: [
    { traceKey: 'cur', label: 'node app.js', origin: 'current', live: true },
    { traceKey: 'old', label: 'earlier run', origin: 'earlier', live: false },
  ],
  activeTraceKey: 'cur',
};

test('panel: handshake, keyboard, filter, stream, state across reload', { skip, timeout: 120_000 }, async () => {
  const panel = await buildPanel();
  const server = await servePanel(panel);
  const browser = await launchBrowser();
  try {
    const trace = syntheticTrace(500);
    const { page, errors } = await openPanel(browser, server.url);
    const posted = () => page.evaluate(() => window.__host.posted);
    assert.deepEqual((await posted())[0], { type: 'ready' }, 'first message is ready, without a saved trace');
    assert.equal(await page.evaluate(() => document.querySelectorAll('.list-rows .row').length), 0, 'nothing rendered before data');

    await page.evaluate((m) => window.postMessage(m, '*'), TRACES);
    await postAndWait(page, { type: 'reset', traceKey: 'cur', live: true, traceJson: JSON.stringify(trace) }, '(d) => d.requests === 500');
    assert.match(await page.textContent('.status-left'), /^500 requests/);
    assert.deepEqual(await page.$$eval('.trace-select optgroup', (gs) => gs.map((g) => g.label)), ['Current session', 'Earlier sessions']);

    // Keyboard: focus the list, Down selects the first row, End the last, Enter opens the detail.
    await page.focus('.list-body');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction(() => window.__host.posted.some((m) => m.type === 'selected' && m.traceID === 'req-2'));
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.main.detail-open .detail-title');
    assert.equal(await page.textContent('.detail-title .url'), trace.httpRequests[499].reqURL);
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('tab')), true, 'Enter moves focus to the tabs');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getAttribute('.tab.active', 'data-tab'), 'headers');
    await page.keyboard.press('Escape');
    await page.waitForSelector('.main:not(.detail-open)');

    // Initiator cell posts openInitiator.
    // Closing the detail re-lays the list out (a resize, then a render): on a loaded machine a
    // click aimed before that lands on another cell. Click again until the message comes.
    for (let attempt = 0; ; attempt++) {
      await page.click('.list-rows .row:not([style*="none"]) .c-initiator .link');
      const posted = await page
        .waitForFunction(() => window.__host.posted.some((m) => m.type === 'openInitiator'), null, { timeout: 2_000 })
        .then(
          () => true,
          () => false,
        );
      if (posted) break;
      assert.ok(attempt < 5, 'clicking the initiator posts openInitiator');
    }
    const open = (await posted()).find((m) => m.type === 'openInitiator');
    assert.ok(open && open.file.startsWith('/home/dev/app/src/') && open.line > 0 && open.column > 0);

    // Filters: text, failed only, status chip, host; the list shows only matching rows.
    await page.fill('.filter-input', 'ECONNREFUSED');
    // The list redraws on the next animation frame: wait for it (a loaded machine can delay it), then judge.
    await settle(page, () =>
      [...document.querySelectorAll('.list-rows .row:not([style*="none"]) .c-status')].every((e) => e.textContent === 'ECONNREFUSED'),
    );
    const statuses = await page.$$eval('.list-rows .row:not([style*="none"]) .c-status', (c) => c.map((e) => e.textContent));
    assert.ok(statuses.length > 0 && statuses.every((s) => s === 'ECONNREFUSED'), statuses.join());
    await page.fill('.filter-input', '');
    await page.click('.chip.st-4xx');
    await settle(page, () =>
      [...document.querySelectorAll('.list-rows .row:not([style*="none"]) .c-status')].every((e) => /^4\d\d$/.test(e.textContent)),
    );
    const codes = await page.$$eval('.list-rows .row:not([style*="none"]) .c-status', (c) => c.map((e) => Number(e.textContent)));
    assert.ok(codes.length > 0 && codes.every((c) => c >= 400 && c < 500), codes.join());
    await page.click('.chip.st-4xx');

    // Sort by time descending (two clicks), widen a column.
    await page.click('.hcell.c-duration');
    await page.click('.hcell.c-duration');
    assert.equal(await page.getAttribute('.hcell.c-duration', 'aria-sort'), 'descending');

    // Streaming: appended rows show up and the count grows; updates complete pending rows.
    const steps = syntheticStream({ startAt: trace.traceEndAt, batches: 3, perBatch: 20, intervalMs: 50 });
    for (const s of steps) {
      await page.evaluate((m) => window.postMessage(m, '*'), { type: 'append', traceKey: 'cur', traceEndAt: s.traceEndAt, ...s.append });
      if (s.update.httpRequests.length)
        await page.evaluate((m) => window.postMessage(m, '*'), { type: 'update', traceKey: 'cur', ...s.update });
    }
    await page.evaluate((m) => window.postMessage(m, '*'), {
      type: 'append',
      traceKey: 'stale',
      httpRequests: [{ ...trace.httpRequests[0], traceID: 'req-stale' }],
    });
    await page.waitForFunction(() => document.querySelector('.status-left')?.textContent?.startsWith('560 requests'));

    // select from the host (editor hover link) reveals and opens the request, clearing a hiding filter.
    await page.fill('.filter-input', 'no-such-request');
    await page.evaluate(() => window.postMessage({ type: 'select', traceID: 'req-7' }, '*'));
    await page.waitForFunction(() => window.__host.posted.some((m) => m.type === 'selected' && m.traceID === 'req-7'));
    assert.equal(await page.inputValue('.filter-input'), '');
    const host7 = new URL(trace.httpRequests[6].reqURL).host;
    await page.fill('.filter-input', host7);
    await settle(page, (h) => window.__host.state?.filter?.text === h, host7);
    const state = await page.evaluate(() => window.__host.state);
    assert.equal(state.traceKey, 'cur');
    assert.equal(state.selectedId, 'req-7');
    assert.equal(state.filter.text, host7);
    assert.deepEqual(state.sort, { key: 'duration', dir: -1 });
    assert.equal(state.detailOpen, true);

    // Commands and trace selection go to the host.
    await page.click('.icon-button[title="Export HAR…"]');
    await page.selectOption('.trace-select', 'old');
    const tail = (await posted()).slice(-2);
    assert.deepEqual(tail, [
      { type: 'command', command: 'exportHar', traceKey: 'cur' },
      { type: 'selectTrace', traceKey: 'old' },
    ]);
    assert.deepEqual(errors, []);
    await page.close();

    // Reload with the saved state: ready names the trace, and the UI comes back as it was.
    const again = await openPanel(browser, server.url, { state });
    assert.deepEqual(await again.page.evaluate(() => window.__host.posted[0]), { type: 'ready', traceKey: 'cur' });
    await again.page.evaluate((m) => window.postMessage(m, '*'), TRACES);
    await postAndWait(again.page, { type: 'reset', traceKey: 'cur', live: false, trace }, '(d) => d.requests === 500');
    assert.equal(await again.page.inputValue('.filter-input'), host7);
    assert.equal(await again.page.getAttribute('.hcell.c-duration', 'aria-sort'), 'descending');
    assert.equal(await again.page.textContent('.detail-title .url'), trace.httpRequests[6].reqURL);
    const url7 = new URL(trace.httpRequests[6].reqURL);
    assert.deepEqual(
      await again.page.$$eval('.row.selected .c-name', (r) =>
        r.map((e) => [e.getAttribute('title'), e.querySelector('.url-path').textContent, e.querySelector('.url-host').textContent]),
      ),
      [[trace.httpRequests[6].reqURL, url7.pathname + url7.search, url7.host]],
      'selected row revealed: path first, host secondary, the full URL as tooltip',
    );
    assert.deepEqual(again.errors, []);
  } finally {
    await browser.close();
    await server.close();
    panel.cleanup();
  }
});
