// covers: webview/detail/initiator.ts, webview/rowCells.ts, src/trace/derive/initiatorLine.ts
// The panel's initiator, in headless Chromium through the stub host: the list column and the
// Initiator tab show the program's line, never a library's; library frames stay in the tab,
// collapsed under the program's; a request found through the async context says "started
// asynchronously from …"; a stack with library frames only says so. At the widths F5 leaves the
// panel (541 and 691 px) the line stays in sight in every row, under the URL, and jumps when
// clicked. Skipped without /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browserUnavailable, buildPanel, launchBrowser, openPanel, postAndWait, servePanel } from '../webview-harness/harness.mjs';
import { detailTrace, syntheticTrace } from '../webview-harness/synthetic.mjs';

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

      // A live update of the shown request (a kernel event arriving later) while the link is
      // pressed: the link stays the same element, and the click goes through.
      await page.evaluate(() => {
        window.__link = document.querySelector('.detail-content .frame:not(.library) .link');
      });
      const box = await page.locator('.detail-content .frame:not(.library) .link').first().boundingBox();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      const updated = { ...b, kernelTimings: { arrivalAt: (b.responseStartAt ?? b.startAt) + 0.25 } };
      await page.evaluate((m) => window.postMessage(m, '*'), { type: 'update', traceKey: 't', httpRequests: [updated] });
      await page.waitForTimeout(100);
      await page.mouse.up();
      assert.equal(await page.evaluate(() => window.__link.isConnected), true, 'the link was not replaced by an equal one');
      assert.deepEqual(
        (await page.evaluate(() => window.__host.posted)).filter((m) => m.type === 'openInitiator').at(-1),
        { type: 'openInitiator', file: b.initiator.frames[0].file, line: 22, column: 9 },
        'the click that straddled the update opened the line',
      );

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

// The widths F5 leaves the panel in VS Code at 1440×900 (541 px with Run and Debug open, 691 px
// without): the Initiator column collapses there, and the program's line must stay in the list,
// readable and clickable, in every row (src/extension jumps to it on `openInitiator`).
test("panel: at the widths F5 leaves the panel, every row shows the program's line, clickable", { skip, timeout: 120_000 }, async () => {
  const panel = await buildPanel();
  const server = await servePanel(panel);
  const browser = await launchBrowser();
  try {
    for (const width of [541, 691]) {
      const { page, errors } = await openPanel(browser, server.url, { width, height: 900 });
      const trace = syntheticTrace(60);
      // Program files with long names and long lines, as a real project's would be.
      trace.httpRequests.forEach((r, i) => {
        r.initiator = { frames: [own(100 + i, `call${i}`)] };
        r.initiator.frames[0].file = `/app/src/services/${i % 2 ? 'paymentGateway' : 'users'}.ts`;
      });
      await page.evaluate(() =>
        window.postMessage(
          { type: 'traces', traces: [{ traceKey: 't', label: 'init', origin: 'file', live: false }], activeTraceKey: 't' },
          '*',
        ),
      );
      await postAndWait(page, { type: 'reset', traceKey: 't', live: false, trace }, `(d) => d.requests === ${trace.httpRequests.length}`);
      // With a request selected (the detail open), as after a click in the list.
      await page.click('.list-rows .row:nth-child(1)');
      await page.waitForSelector('.main.detail-open .detail-title');
      await page.waitForTimeout(100);

      /**
       * Per row in the list's viewport: its initiator text, whether an element showing all of it is
       * in sight (inside every clipping ancestor, the row and the list's viewport, its text not cut
       * off), and whether at least its ":line" part is (a long file name may be cut, never the line).
       */
      const seen = await page.evaluate(() => {
        const body = document.querySelector('.list-body');
        const b = body.getBoundingClientRect();
        const head = document.querySelector('.list-header').getBoundingClientRect();
        const view = { left: b.left, right: b.left + body.clientWidth, top: head.bottom, bottom: b.top + body.clientHeight };
        const inSight = (el, row) => {
          if (!el.getClientRects().length) return false;
          const e = el.getBoundingClientRect();
          if (e.width <= 0) return false;
          const cs = getComputedStyle(el);
          if (cs.visibility === 'hidden' || (cs.display !== 'inline' && el.scrollWidth > el.clientWidth + 0.5)) return false;
          for (let p = el; p && p !== row; p = p.parentElement) {
            if (p !== el && p.scrollWidth > p.clientWidth + 0.5 && getComputedStyle(p).textOverflow === 'ellipsis') return false;
            const q = p.getBoundingClientRect();
            if (
              p !== el &&
              getComputedStyle(p).overflow !== 'visible' &&
              (e.left < q.left - 0.5 || e.right > q.right + 0.5 || e.top < q.top - 0.5 || e.bottom > q.bottom + 0.5)
            )
              return false;
          }
          const r = row.getBoundingClientRect();
          return e.left >= view.left - 0.5 && e.right <= view.right + 0.5 && e.top >= r.top - 0.5 && e.bottom <= r.bottom + 0.5;
        };
        const out = [];
        for (const row of document.querySelectorAll('.list-rows .row')) {
          if (getComputedStyle(row).display === 'none') continue;
          const r = row.getBoundingClientRect();
          if (r.top < view.top - 0.5 || r.bottom > view.bottom + 0.5) continue; // scrolled out of sight
          const req = window.__nettraceApp.model.view[Number(row.getAttribute('aria-rowindex')) - 2];
          const want = req.initiator;
          const links = [...row.querySelectorAll('.link')].filter((el) => el.textContent === want);
          const full = links.find((el) => inSight(el, row) && [...el.children].every((k) => inSight(k, row)));
          const line = links.find((el) => {
            const pos = [...el.querySelectorAll('*')].find((k) => k.textContent === want.slice(want.lastIndexOf(':')));
            return pos && inSight(pos, row);
          });
          const click = full ?? line;
          if (click && !click.id) click.id = `init-${out.length}`;
          out.push({ want, full: !!full, line: !!line, id: click?.id ?? '', traceID: req.req.traceID });
        }
        return out;
      });
      assert.ok(seen.length >= 8, `${width}px: rows in sight (${seen.length})`);
      assert.deepEqual(
        seen.filter((s) => !s.line).map((s) => s.want),
        [],
        `${width}px: the program's line number is in sight in every row`,
      );
      assert.deepEqual(
        seen.filter((s) => !s.full && s.want.length <= 'client.ts:123'.length).map((s) => s.want),
        [],
        `${width}px: a file name of ordinary length shows whole`,
      );

      // Clicking the line jumps to it (and does not select the row).
      const pick = seen.find((s) => s.full);
      const before = await page.evaluate(() => window.__host.posted.length);
      await page.click(`#${pick.id}`);
      const posted = await page.evaluate((n) => window.__host.posted.slice(n), before);
      const jump = posted.find((m) => m.type === 'openInitiator');
      const req = trace.httpRequests.find((r) => r.traceID === pick.traceID);
      assert.deepEqual(
        jump,
        { type: 'openInitiator', file: req.initiator.frames[0].file, line: req.initiator.frames[0].line, column: 9 },
        `${width}px: clicking ${pick.want} posts the jump`,
      );
      // Wider, the Initiator column is back and rows are one line again; narrower, two lines.
      // The panel lays out again on its next frames after a resize: wait (a loaded machine may take
      // a while) until the first row shows `want`, then read it (the assertion says what it was).
      const rowsAt = async (w, want) => {
        await page.setViewportSize({ width: w, height: 900 });
        const state = (expected) => {
          const row = [...document.querySelectorAll('.list-rows .row')].find((r) => r.style.display !== 'none');
          const col = row.querySelector('.c-initiator .link');
          const now = { height: row.getBoundingClientRect().height, column: !!col?.getClientRects().length };
          return expected ? now.height === expected.height && now.column === expected.column : now;
        };
        await page.waitForFunction(state, want, { timeout: 5000 }).catch(() => {});
        return page.evaluate(state, null);
      };
      const oneLine = { height: 22, column: true };
      const twoLines = { height: 36, column: false };
      assert.deepEqual(await rowsAt(1400, oneLine), oneLine, `${width}px → 1400px: one-line rows, Initiator column`);
      assert.deepEqual(await rowsAt(width, twoLines), twoLines, `1400px → ${width}px: the line under the URL again`);
      assert.deepEqual(errors, []);
      await page.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
});
