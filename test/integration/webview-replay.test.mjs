// covers: webview/replayControls.ts, webview/detail/replay.ts, webview/rowCells.ts, webview/main.ts, webview/toolbarOverflow.ts
// needs: the build (dist/cli.cjs, dist/core.cjs)
// The panel's replay (docs/replay.md, "In VS Code"), in headless Chromium through the stub host
// (skipped without /usr/bin/chromium), on real traces: a program (node:http) recorded with
// `nettrace run --record` against real servers (one answers, one resets mid-body), then replayed
// with the servers stopped while it asks one thing differently (`?page=3`, recorded `?page=2`).
// The rows are badged in words ("replayed", "not in recording"), in their accessible names; the
// detail says which recorded call answered and how it ended, or that the request was not in the
// recording, the nearest recorded request and what differed, the sentence once; the toolbar's
// "Record the next run for replay" is a toggle with aria-pressed that asks the host; Replay This
// Run is offered on a finished trace (hidden on a live one), says so when the trace was not
// recorded and asks the host either way; axe finds nothing serious. Screenshots in
// test-results/webview/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { root } from './harness.mjs';
import { browserUnavailable, buildPanel, launchBrowser, openPanel, postAndWait, servePanel } from '../webview-harness/harness.mjs';
import { runAxe, severe } from '../webview-harness/a11y.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const cli = join(root, 'dist', 'cli.cjs');
const why = browserUnavailable();
const results = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test-results', 'webview');
const dir = mkdtempSync(join(tmpdir(), 'nettrace-webview-replay-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const app = join(dir, 'app.cjs');
writeFileSync(
  app,
  `const http = require('node:http');
const get = (url) => new Promise((resolve) => {
  http.get(url, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); res.on('error', (e) => resolve(e.code)); })
    .on('error', (e) => resolve(e.code));
});
(async () => {
  const seen = [];
  seen.push(await get(process.env.OK_URL + '/jobs?page=' + process.env.PAGE));
  seen.push(await get(process.env.OK_URL + '/jobs/7'));
  seen.push(await get(process.env.RESET_URL + '/price'));
  console.log(JSON.stringify(seen));
})();
`,
);

let traces;
before(async () => {
  const ok = createServer((req, res) => res.end(JSON.stringify({ url: req.url })));
  const reset = createServer((req, res) => {
    res.writeHead(200, { 'content-length': '64' });
    res.write('{"partial":');
    setTimeout(() => res.socket.resetAndDestroy(), 30);
  });
  for (const s of [ok, reset]) await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const env = { ...process.env, OK_URL: `http://127.0.0.1:${ok.address().port}`, RESET_URL: `http://127.0.0.1:${reset.address().port}` };
  // Asynchronous: the servers answer from this process.
  const run = (args, page) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cli, 'run', '--quiet', ...args, '--', process.execPath, app], {
        env: { ...env, PAGE: page },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`exit ${code}: ${err}`)),
      );
    });
  const recordedAt = join(dir, 'recorded.json');
  const replayedAt = join(dir, 'replayed.json');
  const recordedSaw = await run(['--record', '--out', recordedAt], '2');
  assert.deepEqual(recordedSaw, [200, 200, 'ECONNRESET']);
  // Every server stopped: the replay answers from the recording alone.
  await Promise.all([ok, reset].map((s) => new Promise((r) => (s.closeAllConnections(), s.close(r)))));
  const replayedSaw = await run(['--replay', recordedAt, '--out', replayedAt], '3');
  assert.deepEqual(replayedSaw, ['ECONNREFUSED', 200, 'ECONNRESET'], 'the changed request refused (the network is off), the rest replayed');
  traces = { recorded: core.readTrace(recordedAt), replayed: core.readTrace(replayedAt) };
});

test(
  'the panel: rows badged in words, the detail’s replay line, the record toggle and Replay This Run',
  { skip: why ? `panel test skipped: ${why}` : false, timeout: 180_000 },
  async () => {
    mkdirSync(results, { recursive: true });
    const panel = await buildPanel();
    const server = await servePanel(panel);
    const browser = await launchBrowser();
    try {
      const { page, errors } = await openPanel(browser, server.url, { width: 1100, height: 700 });
      const list = (recorded, live = false, recordNext = false) =>
        page.evaluate((m) => window.postMessage(m, '*'), {
          type: 'traces',
          traces: [{ traceKey: 't', label: 'replay', origin: live ? 'current' : 'file', live, recorded }],
          activeTraceKey: 't',
          recordNext,
        });
      await list(false);
      await postAndWait(
        page,
        { type: 'reset', traceKey: 't', live: false, traceJson: JSON.stringify(traces.replayed) },
        '(d) => d.requests === 3',
      );

      // ---- the rows ----
      const rows = await page.$$eval('.list-rows .row', (els) =>
        els
          .filter((e) => e.style.display !== 'none')
          .map((e) => ({
            badge: e.querySelector('.flag-badge')?.textContent ?? '',
            label: e.getAttribute('aria-label') ?? '',
            url: e.querySelector('.url-path')?.textContent ?? '',
          })),
      );
      const byPath = Object.fromEntries(rows.map((r) => [r.url.replace(/\?.*/, ''), r]));
      assert.equal(byPath['/jobs'].badge, 'not in recording', JSON.stringify(rows));
      assert.equal(byPath['/jobs/7'].badge, 'replayed');
      assert.equal(byPath['/price'].badge, 'replayed');
      assert.match(
        byPath['/jobs'].label,
        /Not in the recording: GET \/jobs\?page=3 differed from the nearest recorded request \(req-\d+, GET http:\/\/127\.0\.0\.1:\d+\/jobs\?page=2\): query parameter `page`: 3, recorded 2/,
      );
      assert.match(byPath['/jobs/7'].label, /Replayed: answered from the recording \(the one recorded GET \/jobs\/7\)/);
      assert.match(byPath['/price'].label, /Replayed: a connection reset, as recorded/);

      // ---- the detail: replayed ----
      const detailOf = async (path) => {
        const id = traces.replayed.httpRequests.find((r) => new URL(r.reqURL).pathname === path).traceID;
        await page.evaluate((traceID) => window.postMessage({ type: 'select', traceID }, '*'), id);
        // The exact path: `/jobs` is also part of `/jobs/7`, whose detail may still be shown.
        await page.waitForFunction((p) => {
          const url = document.querySelector('.detail-head .detail-title .url')?.textContent;
          return url !== undefined && new URL(url).pathname === p;
        }, path);
        await page.waitForSelector('.detail-head .detail-replay');
        return page.$eval('.detail-head', (h) => ({
          line: h.querySelector('.detail-replay').textContent,
          parts: [...h.querySelectorAll('.detail-replay .whatif-part')].map((p) => p.textContent),
          differences: [...h.querySelectorAll('.replay-differences li')].map((li) => li.textContent),
          diagnoses: [...h.querySelectorAll('.diagnosis')].map((d) => d.textContent),
        }));
      };
      const price = await detailOf('/price');
      assert.match(price.line, /^Replayed: a connection reset, as recorded \(the one recorded GET \/price\)\. Recorded call: req-\d+\.$/);
      assert.deepEqual(price.diagnoses, ['The program saw: Error: read ECONNRESET.'], 'the sentence once: the rest of the diagnosis only');
      const jobs7 = await detailOf('/jobs/7');
      assert.match(jobs7.line, /^Replayed: answered from the recording \(the one recorded GET \/jobs\/7\)\. Recorded call: req-\d+\.$/);
      assert.deepEqual(jobs7.diagnoses, [], 'an answer replayed as it came: nothing more to say');

      // ---- the detail: not in the recording ----
      const jobs = await detailOf('/jobs');
      assert.match(jobs.parts[0], /^Not in the recording\. It failed as a refused connection: the network is off during a replay\.$/);
      assert.match(
        jobs.parts[1],
        /^Nearest recorded request: req-\d+ \(GET http:\/\/127\.0\.0\.1:\d+\/jobs\?page=2, same method and path\)\.$/,
      );
      assert.deepEqual(jobs.differences, ['query parameter `page`: 3, recorded 2']);
      assert.equal(jobs.diagnoses.length, 1);
      assert.match(jobs.diagnoses[0], /^The program saw: Error: connect ECONNREFUSED/);
      await page.screenshot({ path: join(results, 'replay-detail.png') });

      // ---- the toolbar ----
      const record = await page.$eval('.record-next', (b) => ({
        label: b.getAttribute('aria-label'),
        pressed: b.getAttribute('aria-pressed'),
        text: b.textContent,
      }));
      assert.deepEqual(record, { label: 'Record the next run for replay', pressed: 'false', text: '' });
      const replay = () =>
        page.$eval('.replay-run', (b) => ({
          hidden: b.hidden,
          disabled: b.getAttribute('aria-disabled'),
          title: b.title,
          visible: b.getClientRects().length > 0,
        }));
      assert.deepEqual(await replay(), {
        hidden: false,
        disabled: 'true',
        title:
          'This run was not recorded for replay: turn on "Record the next run for replay", run the program again, then replay that run',
        visible: true,
      });
      // By keyboard: each is a button in the toolbar's tab order; Space presses it.
      await page.focus('.record-next');
      await page.keyboard.press('Space');
      await page.focus('.replay-run');
      await page.keyboard.press('Enter');
      const posted = await page.evaluate(() =>
        window.__host.posted.filter((m) => m.type === 'command').map((m) => [m.command, m.traceKey]),
      );
      assert.deepEqual(posted, [
        ['recordNext', undefined],
        ['replayRun', 't'],
      ]);
      await list(true, false, true);
      await page.waitForFunction(() => document.querySelector('.record-next')?.getAttribute('aria-pressed') === 'true');
      assert.equal((await replay()).disabled, 'false', 'a recorded trace: offered');
      assert.match((await replay()).title, /^Replay This Run: run it again with every request answered from its recording/);
      const axe = severe(await runAxe(page.mainFrame()));
      assert.deepEqual(
        axe.map((v) => v.id),
        [],
        JSON.stringify(axe.map((v) => [v.id, v.nodes.map((n) => n.target)])),
      );
      await page.screenshot({ path: join(results, 'replay-toolbar.png') });
      await list(undefined, true, true);
      await page.waitForFunction(() => document.querySelector('.replay-run')?.hidden === true);
      assert.equal((await replay()).visible, false, 'not offered while the run goes on');
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await browser.close();
      await server.close();
      panel.cleanup();
    }
  },
);
