// covers: webview/waterfallView.ts, src/extension/pauseFlush.ts
// End-to-end: the waterfall of a debug session that stopped at a breakpoint. In code-server at
// 1440×900 with the Run and Debug side bar open (as F5 leaves it), "Net Trace: pause" runs
// fixture/pause.js: two requests, a `debugger` statement where the session stays stopped for a
// few seconds, two more requests. The extension records the pause (DAP `stopped` → continue), the
// panel draws it as a narrow hatched gap instead of seconds of axis, the bars before and after it
// are readable, and zooming changes the axis labels. The saved trace carries `debuggerPauses`.
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium, the .vsix in NETTRACE_E2E_* variables).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findFrame, missing, resultsDir, runCommand, sessionEnded, sleep, startDebugging, stepper, until } from './support/codeServer.mjs';
import { withWorkbench } from './support/workbench.mjs';

const results = resultsDir();

/** How long the program stays stopped at the `debugger` statement. */
const PAUSE_MS = 4000;

const step = stepper('e2e waterfall');

test('waterfall in VS Code: a breakpoint pause is a gap, zoom changes the axis', { skip: missing, timeout: 8 * 60_000 }, async () => {
  const options = { label: 'wf', workspaceName: 'ws', results, logName: 'waterfall-code-server.log' };
  await withWorkbench({ ...options, failureShot: 'waterfall-failure', logs: 'waterfall-logs' }, async ({ page, shot, base }) => {
    await runCommand(page, 'View: Show Run and Debug');
    step('starting "Net Trace: pause" with the Run and Debug view open');
    await startDebugging(page, 'Net Trace: pause');
    // Stopped at the `debugger` statement.
    await page.waitForSelector('.monaco-editor[data-uri$="/pause.js"] .debug-top-stack-frame-line', { timeout: 90_000 });
    const stoppedAt = Date.now();
    step('stopped at the debugger statement');
    // The debugger brought pause.js to the front: show the panel's tab again.
    await page.locator('.tabs-container .tab', { hasText: 'Net Trace' }).first().click();
    const panel = await until('the Net Trace panel', () => findFrame(page, '.list-body'), 60_000, 500);
    await sleep(Math.max(0, PAUSE_MS - (Date.now() - stoppedAt)));
    await shot('waterfall-paused');
    // Continue, with the debug toolbar's button.
    await page.locator('.debug-toolbar .codicon-debug-continue').first().click();
    step('continued');
    const live = await until(
      'the four requests',
      async () => {
        const f = await findFrame(page, '.list-body');
        const n = f ? await f.$$eval('.list-rows .row', (els) => els.filter((e) => e.style.display !== 'none').length) : 0;
        return n >= 4 && f;
      },
      60_000,
      250,
    );
    // The session ends; the panel keeps the trace.
    await sessionEnded(page, 'the session to end');
    const frame = (await findFrame(page, '.list-body')) ?? live ?? panel;
    await sleep(500);

    // The pause is a gap of a few px on the axis, labelled with its length.
    const gap = await until('the pause gap in the waterfall header', () =>
      frame.$eval('.wf-axis .wf-gap', (g) => ({ width: g.getBoundingClientRect().width, title: g.title })).catch(() => undefined),
    );
    step(`gap: ${JSON.stringify(gap)}`);
    assert.ok(gap.width > 0 && gap.width <= 20, `gap width ${gap.width}`);
    const m = /Paused in the debugger for ([\d.]+) s/.exec(gap.title);
    assert.ok(m && Number(m[1]) >= (PAUSE_MS - 1000) / 1000, gap.title);
    // Bars are readable: the requests after the pause are not pushed into the last pixels.
    const bars = await frame.$$eval('.list-rows .row', (els) =>
      els
        .filter((e) => e.style.display !== 'none')
        .map((e) => {
          const segs = [...e.querySelectorAll('.seg')].filter((s) => s.style.display !== 'none');
          const cell = e.querySelector('.c-waterfall').getBoundingClientRect();
          const l = Math.min(...segs.map((s) => s.getBoundingClientRect().left));
          const r = Math.max(...segs.map((s) => s.getBoundingClientRect().right));
          return { path: e.querySelector('.url-path')?.textContent, width: r - l, leftInCell: (l - cell.left) / cell.width };
        }),
    );
    step(`bars: ${JSON.stringify(bars)}`);
    for (const b of bars) assert.ok(b.width >= 2.9, `${b.path}: ${b.width}px`);
    const after = bars.find((b) => b.path === '/after/1');
    assert.ok(after && after.leftInCell < 0.8, `/after/1 starts at ${after?.leftInCell} of the cell, not squeezed to the end`);
    const box = await frame.$eval('.hcell.c-waterfall', (c) => {
      const r = c.getBoundingClientRect();
      return { left: r.left, right: r.right, viewport: document.documentElement.clientWidth };
    });
    step(`waterfall header at x ${box.left.toFixed(0)}–${box.right.toFixed(0)} of a ${box.viewport} px panel`);
    await shot('waterfall-gap');

    // Zoom from the keyboard in the list: each + zooms in (the header's factor grows, the tick labels
    // change); 0 fits again. As a user gets there: a click on the Net Trace tab, after which VS Code
    // focuses the panel's page as a whole (on <body>, where the list's keys did nothing: issue 15) and
    // the list takes the focus. VS Code hands the focus between the webview's frames asynchronously
    // (it polls the webview's focus every 250 ms), so the keys are typed once the list has held the
    // focus for 500 ms, one at a time, each checked.
    const labels = () => frame.$$eval('.wf-axis .wf-tick', (ts) => ts.map((t) => t.textContent));
    const factor = async () => Number((await frame.textContent('.wf-zoom-label'))?.replace('×', '') || 1);
    const before = await labels();
    assert.ok(before.length >= 1, `tick labels: ${before}`);
    await page.locator('.tabs-container .tab', { hasText: 'Net Trace' }).first().click();
    const listFocused = () => frame.evaluate(() => document.hasFocus() && document.activeElement?.classList.contains('list-body'));
    let focusedSince = 0;
    await until(
      'the list to hold the keyboard focus for 500 ms after a click on the Net Trace tab',
      async () => {
        if (!(await listFocused())) focusedSince = 0;
        else if (!focusedSince) focusedSince = Date.now();
        return focusedSince && Date.now() - focusedSince >= 500;
      },
      15_000,
      50,
    );
    let last = await factor();
    for (let i = 1; i <= 3; i++) {
      await page.keyboard.press('+');
      last = await until(`+ #${i} to zoom in (from ×${last})`, async () => {
        const f = await factor();
        return f > last && f;
      });
    }
    const zoomed = await labels();
    assert.notDeepEqual(zoomed, before, 'the tick labels change with the zoom');
    step(`axis ${JSON.stringify(before)} → zoomed ×${last} ${JSON.stringify(zoomed)}`);
    await shot('waterfall-zoomed');
    await page.keyboard.press('0');
    await until('the whole axis again', async () => JSON.stringify(await labels()) === JSON.stringify(before));

    // The saved trace carries the pause.
    const saved = findTraceFiles(base)
      .map((f) => JSON.parse(readFileSync(f, 'utf8')))
      .find((t) => t.debuggerPauses);
    if (saved) {
      step(`saved trace: debuggerPauses ${JSON.stringify(saved.debuggerPauses)}`);
      assert.ok(saved.debuggerPauses[0].endAt - saved.debuggerPauses[0].beginAt >= PAUSE_MS - 1000);
    } else step('no persisted trace file found under the test folder (the extension keeps it in its storage)');
  });
});

/** Trace files the extension persisted under `dir` (its global storage is inside the user data folder). */
function findTraceFiles(dir, out = [], depth = 0) {
  if (depth > 8 || !existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'node_modules') findTraceFiles(p, out, depth + 1);
    else if (e.isFile() && /\.json$/.test(e.name) && /nettrace/i.test(p) && !/package\.json$/.test(p)) {
      try {
        const head = readFileSync(p, 'utf8').slice(0, 200);
        if (head.includes('"formatVersion"')) out.push(p);
      } catch {}
    }
  }
  return out;
}
