// covers: src/extension/pauseFlush.ts, src/trace/derive/loopBlocked.ts
// End-to-end: a breakpoint in a JavaScript Debug Terminal is the debugger's time. In code-server at
// 1440×900 with the Run and Debug side bar open and "Trace All Node Debugging" on, `node quote.js`
// typed into a JavaScript Debug Terminal: its handler stops at a `debugger` statement while its
// call to a price service is on its way; the test waits, then continues. The session carries no
// Net Trace marker, so the pause is found through the paused process's id: the panel lists what
// completed before the pause while it lasts, collapses the pause into a gap, and the call's
// detail says the program was stopped in the debugger (not that the connection or the program's
// event loop took the time); the served request's sentence says so too.
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*), e.g.
// `scripts/e2e.sh test/e2e/debugPause.e2e.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findFrame, missing as skip, runCommand, sleep, until } from './support/codeServer.mjs';
import { e2eTest, runInDebugTerminal, visibleRows, withWorkbench } from './support/workbench.mjs';

const { results, step } = e2eTest('debugPause');
const PAUSE_MS = 3000;

test(
  'a breakpoint in a JavaScript Debug Terminal: the pause is the debugger’s, in the waterfall and in the sentences',
  { skip, timeout: 8 * 60_000 },
  async () => {
    const options = { label: 'pause', workspaceName: 'quotes', settings: { 'nettrace.traceNodeSessions': 'all' }, results };
    const more = { logName: 'debugPause-code-server.log', openFile: 'quote.js', logsAlways: true };
    await withWorkbench({ ...options, ...more }, async ({ page, shot }) => {
      await runCommand(page, 'View: Show Run and Debug');
      await runInDebugTerminal(page, 'node quote.js', step);
      await page.waitForSelector('.monaco-editor[data-uri$="/quote.js"] .debug-top-stack-frame-line', { timeout: 90_000 });
      const stoppedAt = Date.now();
      step('stopped at the debugger statement');
      await page.locator('.tabs-container .tab', { hasText: 'Net Trace' }).first().click();
      const panel = await until('the Net Trace panel', () => findFrame(page, '.list-rows'), 60_000, 500);
      // While stopped: the requests on their way are listed (flushed through the debugger), pending.
      await until(
        'the pending requests while stopped',
        async () => {
          const r = await visibleRows(panel);
          return r.some((t) => t.includes('/price')) && r.some((t) => t.includes('/quote')) && r;
        },
        30_000,
        500,
      );
      await sleep(Math.max(0, PAUSE_MS - (Date.now() - stoppedAt)));
      await shot('stopped');
      await page.locator('.debug-toolbar .codicon-debug-continue').first().click();
      step('continued');
      await until(
        'both requests answered',
        async () => {
          const r = await visibleRows(panel);
          return ['/price', '/quote'].every((p) => r.some((t) => t.includes(p) && / 200 /.test(` ${t} `))) && r;
        },
        60_000,
        500,
      );
      // The pause is a gap on the axis.
      const gap = await until('the pause gap', () => panel.$eval('.wf-axis .wf-gap', (g) => g.title).catch(() => undefined), 30_000, 500);
      step(`gap: ${gap}`);
      assert.match(gap, /Paused in the debugger for [\d.]+ s/);
      // The call's detail: the debugger's time, not the connection's nor the event loop's.
      const priceRow = panel.locator('.list-rows .row', { hasText: '/price' }).first();
      await priceRow.click();
      const sentence = await until(
        'the call’s diagnosis',
        async () => (await panel.textContent('.detail-head').catch(() => '')).match(/stopped in the debugger for (\d+) of its (\d+) ms/),
        30_000,
        500,
      );
      step(`call: ${sentence[0]}`);
      assert.ok(Number(sentence[1]) >= PAUSE_MS - 1000, sentence[0]);
      const head = await panel.textContent('.detail-head');
      assert.doesNotMatch(head, /event loop was blocked for \d{4}/, 'the pause is not the program’s blocked loop');
      assert.doesNotMatch(head, /\d{4} ms TCP connect/, 'nor the connection’s time');
      assert.match(head, /Made while serving GET \/quote/);
      assert.match(head, /the program stopped in the debugger for \d+ ms of it/, 'the served request’s sentence');
      // The Timing tab (the detail's first) says where the time went.
      const note = await panel.textContent('.detail .pause-note');
      step(`timing: ${note}`);
      assert.match(note, /^Stopped in the debugger [\d.]+ s of it: the program was paused/);
      await panel.locator('.detail .pause-note').scrollIntoViewIfNeeded();
      await sleep(500);
      await shot('call-detail');
    });
  },
);
