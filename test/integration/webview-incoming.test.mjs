// covers: webview/detail/incoming.ts, webview/incomingWaterfall.ts
// The panel for servers (issue 37, item 3): a request a server made while it handled an incoming
// request says so in its detail (the incoming request's method, route, status and time, the
// sentence saying where that time went, the other calls it made, each selectable), and the filter
// `caused-by:` lists one endpoint's calls; grouped, the incoming request's detail links its
// handler's line. In headless Chromium through the stub host; screenshot to test-results/webview/.
// Skipped without /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserUnavailable, buildPanel, launchBrowser, openPanel, postAndWait, servePanel } from '../webview-harness/harness.mjs';

const why = browserUnavailable();
const skip = why ? `webview incoming test skipped: ${why}` : false;
const results = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-results', 'webview');

const timings = (wait, receive) => ({ blocked: 0, dns: -1, connect: -1, ssl: -1, send: 0, wait, receive });
const call = (id, method, url, sent, wait, extra = {}) => ({
  traceID: id,
  pid: 4242,
  threadId: 0,
  client: 'fetch',
  reqMethod: method,
  reqURL: url,
  reqHeaders: [],
  reqStartAt: sent,
  reqSentAt: sent,
  respRecvAt: sent + wait,
  respDoneAt: sent + wait + 2,
  respStatusCode: 200,
  reusedConn: true,
  timings: timings(wait, 2),
  ...extra,
});

function serverTrace() {
  return {
    formatVersion: 1,
    description: 'node gateway.js',
    traceBeginAt: '2026-01-01T10:00:00.000Z',
    traceEndAt: 1000,
    processes: [{ pid: 4242, threadId: 0, argv: [], nodeVersion: 'v26.10.0', cwd: '/', startAt: 0 }],
    incomingRequests: [
      {
        traceID: 'in-1',
        pid: 4242,
        server: 'http',
        reqMethod: 'POST',
        reqURL: 'http://127.0.0.1:8080/checkout/42',
        route: '/checkout/:id',
        reqRecvAt: 100,
        respHeadAt: 990,
        respDoneAt: 1000,
        reqEndAt: 1000,
        respStatusCode: 200,
        handler: { file: '/app/src/routes.ts', line: 12, column: 20, function: 'checkout' },
      },
    ],
    httpRequests: [
      call('inv', 'GET', 'http://inventory.internal/items/42', 110, 60, { causedBy: 'in-1' }),
      call('pay', 'POST', 'http://payments.internal/charge', 180, 800, { causedBy: 'in-1' }),
      call('boot', 'GET', 'http://config.internal/flags', 10, 20),
    ],
    dials: [],
    tcpConns: [],
    udpConns: [],
    dnsQueries: [],
    tlsTunnels: [],
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [] },
  };
}

const visibleIds = (page) =>
  page.evaluate(() =>
    [...document.querySelectorAll('.list-rows .row')]
      .filter((r) => r.style.display !== 'none')
      .map((r) => JSON.parse(r.dataset.vscodeContext).traceID),
  );

test(
  'panel: a call shows the incoming request it was made for; caused-by: lists one endpoint’s calls',
  { skip, timeout: 120_000 },
  async () => {
    mkdirSync(results, { recursive: true });
    const panel = await buildPanel();
    const server = await servePanel(panel);
    const browser = await launchBrowser();
    try {
      const { page, errors } = await openPanel(browser, server.url, { width: 1200, height: 700 });
      await page.evaluate(() =>
        window.postMessage(
          { type: 'traces', traces: [{ traceKey: 't', label: 'gateway', origin: 'file', live: false }], activeTraceKey: 't' },
          '*',
        ),
      );
      await postAndWait(
        page,
        { type: 'reset', traceKey: 't', live: false, traceJson: JSON.stringify(serverTrace()) },
        '(d) => d.requests === 3',
      );

      await page.evaluate(() => window.postMessage({ type: 'select', traceID: 'inv' }, '*'));
      await page.waitForSelector('.detail-head .cause');
      const head = await page.textContent('.detail-head .cause-head');
      assert.equal(head, 'Made while serving POST /checkout/:id · 200 · 900 ms (in-1, 2 calls)');
      assert.match(await page.textContent('.detail-head .cause-diagnosis'), /^802 of 900 ms waiting on POST payments\.internal\/charge/);
      assert.deepEqual(await page.$$eval('.detail-head .cause-calls li', (l) => l.map((e) => e.textContent)), [
        'GET inventory.internal/items/42 · 200',
        'POST payments.internal/charge · 200',
      ]);
      await page.screenshot({ path: join(results, 'detail-caused-by.png') });

      // The other call, one click away.
      await page.click('.detail-head .cause .link-button');
      await page.waitForFunction(() => window.__host.posted.some((m) => m.type === 'selected' && m.traceID === 'pay'));
      assert.match(await page.innerText('.detail-head .detail-title'), /payments\.internal\/charge/);

      // A request made outside any incoming request has no such block.
      await page.evaluate(() => window.postMessage({ type: 'select', traceID: 'boot' }, '*'));
      await page.waitForFunction(() => window.__host.posted.some((m) => m.type === 'selected' && m.traceID === 'boot'));
      assert.equal(await page.$('.detail-head .cause'), null);

      // The filter: one endpoint's calls, by route or path prefix; none for the others. Each
      // text is set whole and waited for by its exact rows, and consecutive texts select different
      // rows: typed a key at a time, a prefix of the text could match the expected count early.
      for (const [text, ids] of [
        ['caused-by:/checkout/:id', ['inv', 'pay']],
        ['caused-by:none', ['boot']],
        ['caused-by:/checkout', ['inv', 'pay']],
      ]) {
        await page.fill('.filter-input', text);
        const want = [...ids].sort();
        await page
          .waitForFunction(
            (w) =>
              JSON.stringify(
                [...document.querySelectorAll('.list-rows .row')]
                  .filter((r) => r.style.display !== 'none')
                  .map((r) => JSON.parse(r.dataset.vscodeContext).traceID)
                  .sort(),
              ) === w,
            JSON.stringify(want),
            { timeout: 10_000 },
          )
          .catch(() => {});
        assert.deepEqual((await visibleIds(page)).sort(), want, text);
      }
      // Grouped: the incoming request's detail names its handler's line, which opens in the editor.
      await page.fill('.filter-input', '');
      await page.click('.group-toggle');
      await page.waitForSelector('.list-rows .row.group-head');
      await page.click('.list-rows .row.group-head');
      await page.waitForSelector('.detail .handler-link');
      assert.equal(await page.textContent('.detail .handler-link'), 'checkout · routes.ts:12');
      await page.click('.detail .handler-link');
      await page.waitForFunction(() =>
        window.__host.posted.some((m) => m.type === 'openInitiator' && m.file === '/app/src/routes.ts' && m.line === 12),
      );
      await page.screenshot({ path: join(results, 'detail-incoming-handler.png') });
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await browser.close();
      await server.close();
      panel.cleanup();
    }
  },
);
