// covers: webview/rowBar.ts, webview/detail/timing.ts
// The panel shows the event loop's share of a request (issue 39, item 1): in the list's waterfall
// the blocked part of the wait is hatched inside the wait segment, at its offset; the bar's hover
// and the Timing tab say how long and name the stretch's time; a request without a share draws
// none. The panel takes `loopBlocked` as the trace file has it (the panel recomputes nothing). In
// headless Chromium through the stub host; screenshot to test-results/webview/. Skipped without
// /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { browserUnavailable, buildPanel, launchBrowser, openPanel, postAndWait, servePanel } from '../webview-harness/harness.mjs';

const why = browserUnavailable();
const skip = why ? `webview loop test skipped: ${why}` : false;
const results = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-results', 'webview');

const timings = (wait, receive) => ({ blocked: 0, dns: -1, connect: -1, ssl: -1, send: 0, wait, receive });
const request = (id, sent, wait, receive, extra = {}) => ({
  traceID: id,
  pid: 4242,
  threadId: 0,
  client: 'http',
  reqMethod: 'GET',
  reqURL: `http://api.example.test/${id}`,
  reqHeaders: [],
  reqStartAt: sent,
  reqSentAt: sent,
  respRecvAt: sent + wait,
  respDoneAt: sent + wait + receive,
  respStatusCode: 200,
  reusedConn: true,
  timings: timings(wait, receive),
  ...extra,
});

function loopTrace() {
  return {
    formatVersion: 1,
    description: 'node app.js',
    traceBeginAt: '2026-01-01T10:00:00.000Z',
    traceEndAt: 700,
    processes: [
      { pid: 4242, threadId: 0, argv: [], nodeVersion: 'v20.20.2', cwd: '/', startAt: 0, loopBlocks: [{ beginAt: 120, endAt: 470 }] },
    ],
    httpRequests: [
      request('blocked', 100, 480, 4, {
        loopBlocked: { wait: 350, receive: 0, stretches: [{ beginAt: 120, endAt: 470 }] },
        diagnosis:
          'of 480 ms waiting, the event loop was blocked for 350 ms — the response had to wait for the program; blocked 120–470 ms into the trace',
      }),
      request('free', 600, 80, 4),
    ],
    dials: [],
    tcpConns: [],
    udpConns: [],
    dnsQueries: [],
    tlsTunnels: [],
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [] },
  };
}

test('panel: the blocked share is hatched inside the wait, the hover and the Timing tab name it', { skip, timeout: 120_000 }, async () => {
  mkdirSync(results, { recursive: true });
  const panel = await buildPanel();
  const server = await servePanel(panel);
  const browser = await launchBrowser();
  try {
    const { page, errors } = await openPanel(browser, server.url, { width: 1200, height: 600 });
    await page.evaluate(() =>
      window.postMessage(
        { type: 'traces', traces: [{ traceKey: 't', label: 'loop', origin: 'file', live: false }], activeTraceKey: 't' },
        '*',
      ),
    );
    await postAndWait(
      page,
      { type: 'reset', traceKey: 't', live: false, traceJson: JSON.stringify(loopTrace()) },
      '(d) => d.requests === 2',
    );
    await page.waitForTimeout(50);
    const rows = await page.evaluate(() =>
      Object.fromEntries(
        [...document.querySelectorAll('.list-rows .row')]
          .filter((r) => r.style.display !== 'none')
          .map((r) => {
            const box = (el) => {
              const b = el.getBoundingClientRect();
              return { left: b.left, right: b.right, width: b.width };
            };
            const wait = r.querySelector('.seg.ph-wait');
            const loops = [...r.querySelectorAll('.wf-loop')].filter((l) => l.style.display !== 'none');
            return [r.querySelector('.url-path').textContent, { wait: box(wait), loops: loops.map(box) }];
          }),
      ),
    );
    const b = rows['/blocked'];
    assert.equal(b.loops.length, 1, 'one hatched part');
    const [l] = b.loops;
    // Inside the wait segment, at 20/480 of it, 350/480 of its width.
    assert.ok(l.left >= b.wait.left - 0.5 && l.right <= b.wait.right + 0.5, `inside the wait: ${JSON.stringify(b)}`);
    assert.ok(Math.abs((l.left - b.wait.left) / b.wait.width - 20 / 480) < 0.02, `offset ${JSON.stringify(b)}`);
    assert.ok(Math.abs(l.width / b.wait.width - 350 / 480) < 0.02, `width ${JSON.stringify(b)}`);
    assert.equal(rows['/free'].loops.length, 0, 'a request without a share draws none');
    const hatch = await page.$eval('.wf-loop', (el) => getComputedStyle(el).backgroundImage);
    assert.match(hatch, /repeating-linear-gradient/);

    // The hover says it, with the stretch's time.
    await page.mouse.move(
      l.left + l.width / 2,
      (await page.$eval('.list-rows .row .seg.ph-wait', (s) => s.getBoundingClientRect().top)) + 4,
    );
    await page.waitForSelector('.wf-tip.on');
    assert.match(await page.textContent('.wf-tip'), /Event loop blocked 350 ms of it \(\+120 ms to \+470 ms\)/);
    await page.screenshot({ path: join(results, 'waterfall-loop-blocked.png') });

    // The Timing tab: hatched inside its wait bar, and the note naming the stretch.
    await page.evaluate(() => window.postMessage({ type: 'select', traceID: 'blocked' }, '*'));
    await page.waitForFunction(() => window.__host.posted.some((m) => m.type === 'selected' && m.traceID === 'blocked'));
    await page.click('.tab[data-tab="timing"]');
    await page.waitForSelector('.detail-content .timing-track .wf-loop');
    const text = await page.innerText('.detail-content');
    assert.match(text, /Event loop blocked 350 ms of it \(\+120 ms to \+470 ms\): the program held its thread/);
    await page.screenshot({ path: join(results, 'timing-loop-blocked.png') });
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    await browser.close();
    await server.close();
    panel.cleanup();
  }
});
