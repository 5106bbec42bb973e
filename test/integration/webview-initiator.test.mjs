// The panel's initiator, in headless Chromium through the stub host: the list column and the
// Initiator tab show the program's line, never a library's; library frames stay in the tab,
// collapsed under the program's; a request found through the async context says "started
// asynchronously from …"; a stack with library frames only says so. Skipped without
// /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browserUnavailable, buildPanel, launchBrowser, openPanel, postAndWait, servePanel } from '../webview-harness/harness.mjs';
import { detailTrace } from '../webview-harness/synthetic.mjs';

const why = browserUnavailable();
const skip = why ? `webview initiator test skipped: ${why}` : false;

const lib = (line) => ({
  function: 'RedirectableRequest._performRequest',
  file: '/app/node_modules/follow-redirects/index.js',
  line,
  column: 24,
  library: true,
});
const own = (line, fn) => ({ function: fn, file: '/app/src/client.ts', line, column: 9 });

test(
  "panel: the initiator is the program's line; library frames collapsed; async and library-only stacks said so",
  { skip, timeout: 120_000 },
  async () => {
    const panel = await buildPanel();
    const server = await servePanel(panel);
    const browser = await launchBrowser();
    try {
      const { page, errors } = await openPanel(browser, server.url, { width: 1200, height: 900 });
      const trace = detailTrace();
      const [a, b, c] = trace.httpRequests;
      // Library frames first in stack order, as a deep capture below axios would give them; the
      // preload puts the program's first, but the panel must not rely on it.
      a.initiator = { frames: [lib(361), lib(123), own(14, 'loadUsers'), own(3, 'main')] };
      b.initiator = { frames: [own(22, 'sync'), lib(1138)], async: true };
      c.initiator = { frames: [lib(361), lib(518)] };
      await page.evaluate(() =>
        window.postMessage(
          { type: 'traces', traces: [{ traceKey: 't', label: 'init', origin: 'file', live: false }], activeTraceKey: 't' },
          '*',
        ),
      );
      await postAndWait(
        page,
        { type: 'reset', traceKey: 't', live: false, traceJson: JSON.stringify(trace) },
        `(d) => d.requests === ${trace.httpRequests.length}`,
      );

      const cells = await page.$$eval('.list-rows .row .c-initiator', (cs) => cs.map((x) => x.innerText));
      assert.ok(cells.includes('client.ts:14'), `the program's line in the list: ${cells.join(', ')}`);
      assert.ok(cells.includes('client.ts:22'), cells.join(', '));
      assert.ok(cells.includes('library'), 'a library-only stack says "library"');
      assert.ok(!cells.some((x) => /index\.js/.test(x)), 'no library line in the list');

      const select = async (traceID) => {
        await page.evaluate((id) => window.postMessage({ type: 'select', traceID: id }, '*'), traceID);
        await page.waitForFunction((id) => window.__host.posted.some((m) => m.type === 'selected' && m.traceID === id), traceID);
        await page.click('.tab[data-tab="initiator"]');
        await page.waitForTimeout(30);
        return page.innerText('.detail-content');
      };

      let text = await select(a.traceID);
      assert.match(text, /Call stack\s+loadUsers\s+client\.ts:14:9/i);
      assert.match(text, /2 library frames/);
      assert.equal(await page.$eval('.detail-content details.library-frames', (d) => d.open), false, 'collapsed under the program frames');
      assert.doesNotMatch(text, /started asynchronously/i);
      await page.click('.detail-content details.library-frames summary');
      assert.match(await page.innerText('.detail-content'), /index\.js:361:24/);

      text = await select(b.traceID);
      assert.match(text, /Started asynchronously from sync \(client\.ts:22\)/);

      text = await select(c.traceID);
      assert.match(text, /library code only/);
      assert.equal(await page.$eval('.detail-content details.library-frames', (d) => d.open), true, 'nothing else to show: open');
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
      server.close();
    }
  },
);
