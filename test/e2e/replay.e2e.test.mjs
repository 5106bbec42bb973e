// covers: src/extension/replayCommands.ts, src/extension/replayLaunch.ts, webview/replayControls.ts, webview/detail/replay.ts, webview/rowCells.ts
// End-to-end: Replay This Run (issue 64), in code-server at 1440×900 with Run and Debug open. The
// fixture's src/inventory.ts (a TypeScript service run through `--import tsx`, launch "Net Trace:
// replay" with `"record": true`) asks a stock API that answers and a price API that resets its
// connection in the middle of the body (both the test's own servers), takes its error path for the
// price and writes what it saw. The test:
//   1. runs it recorded; saves the trace (Save Trace); stops both servers;
//   2. sets a breakpoint in the price call's `catch` and presses the panel's Replay This Run: the
//      same launch starts with the saved recording; the breakpoint is hit by the replayed reset
//      while the status bar says the replay is on; continued, the program runs to its end having
//      seen exactly what it saw when recorded (the servers stopped);
//   3. the replayed rows are badged "replayed" (words, in the row's accessible name), and the
//      price's detail names the recorded call and the reset it replayed (the README's screenshot).
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*), e.g.
// `NETTRACE_VSIX_NO_HELPER=1 scripts/e2e.sh test/e2e/replay.e2e.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import {
  findFrame,
  missing,
  onCleanup,
  quickInput,
  quickOpen,
  runCommand,
  sessionEnded,
  sleep,
  startDebugging,
  until,
} from './support/codeServer.mjs';
import { e2eTest, enterDialogPath, setBreakpoint, visibleRows, withWorkbench } from './support/workbench.mjs';

const { results, step } = e2eTest('replay');
const CONFIG = 'Net Trace: replay';
const CATCH_LINE =
  readFileSync(new URL('./fixture/src/inventory.ts', import.meta.url), 'utf8')
    .split('\n')
    .findIndex((l) => l.includes('// e2e: price-catch')) + 1;

/** The stock API (answers) and the price API (a reset after part of its body), on 127.0.0.1. */
async function servers() {
  const stock = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ sku: 42, stock: 3, id: Math.random().toString(36).slice(2) }));
  });
  const price = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': '200' });
    res.write('{"sku":42,"price":');
    setTimeout(() => res.socket.resetAndDestroy(), 50);
  });
  for (const s of [stock, price]) await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const stop = () => Promise.all([stock, price].map((s) => new Promise((r) => (s.closeAllConnections(), s.close(() => r())))));
  onCleanup(async () => stop().catch(() => {}));
  return { stock: `http://127.0.0.1:${stock.address().port}`, price: `http://127.0.0.1:${price.address().port}`, stop };
}

/** Presses Replay This Run: on the toolbar, or in its "More" menu when the toolbar is too narrow for it. */
async function pressReplay(panel) {
  const button = panel.locator('.replay-run');
  if (await button.isVisible()) return button.click();
  await panel.locator('.toolbar-more').click();
  await panel.locator('[role="menuitem"]', { hasText: 'Replay This Run' }).first().click();
}

test(
  'Replay This Run: a TypeScript service recorded, then replayed with its servers stopped, its error path hit by the replayed reset',
  { skip: missing, timeout: 10 * 60_000 },
  async () => {
    const apis = await servers();
    let outFile;
    const prepare = ({ workspace }) => {
      outFile = join(workspace, 'seen.json');
      const file = join(workspace, '.vscode', 'launch.json');
      const launch = JSON.parse(readFileSync(file, 'utf8'));
      launch.configurations.push({
        type: 'nettrace',
        request: 'launch',
        name: CONFIG,
        program: '${workspaceFolder}/src/inventory.ts',
        runtimeArgs: ['--import', 'tsx'],
        skipFiles: ['<node_internals>/**'],
        record: true,
        env: { STOCK_URL: apis.stock, PRICE_URL: apis.price, OUT_FILE: outFile },
      });
      writeFileSync(file, JSON.stringify(launch, null, 2));
    };
    const options = {
      label: 'replay',
      workspaceName: 'inventory',
      linkNodeModules: true,
      prepare,
      results,
      logName: 'replay-code-server.log',
    };
    await withWorkbench({ ...options, failureShot: 'replay-failure', logs: 'replay-logs', step }, async ({ page, shot, workspace }) => {
      await runCommand(page, 'View: Show Run and Debug');
      // ---- 1. the recorded run ------------------------------------------------------------------
      await startDebugging(page, CONFIG);
      step('started the recorded run');
      const recorded = JSON.parse(
        await until('the recorded run’s end', () => existsSync(outFile) && readFileSync(outFile, 'utf8'), 120_000, 500),
      );
      step(`recorded run saw: ${JSON.stringify(recorded)}`);
      assert.match(recorded[0], /^stock 200 \{"sku":42,"stock":3,"id":"\w+"\}$/);
      assert.equal(recorded[1], 'price failed: ECONNRESET');
      await sessionEnded(page);
      const panel = await until('the Net Trace panel', () => findFrame(page, '.list-rows .row'), 60_000, 500);
      await until('both calls listed', async () => {
        const rows = await visibleRows(panel);
        return rows.some((r) => r.includes('/stock/42')) && rows.some((r) => r.includes('/price/42')) && rows;
      });
      // The toolbar: the toggle says what it does; Replay This Run is offered on the ended run.
      const toggle = panel.locator('.record-next');
      assert.equal(await toggle.getAttribute('aria-label'), 'Record the next run for replay');
      assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
      const replayButton = panel.locator('.replay-run');
      await until('Replay This Run offered', () => replayButton.isVisible(), 30_000, 300);
      assert.equal(await replayButton.getAttribute('aria-disabled'), 'false', 'the run was recorded: it can be replayed');

      const saved = join(workspace, 'inventory-run.json');
      await runCommand(page, 'Net Trace: Save Trace (JSON)');
      const input = quickInput(page);
      await until('the save dialog', async () => (await input.inputValue()).endsWith('.json'), 20_000);
      await enterDialogPath(input, saved, 'the path in the save dialog');
      await until('the trace saved', () => existsSync(saved), 30_000, 300);
      assert.equal(statSync(saved).mode & 0o777, 0o600, 'the saved trace (with its recording) is 0600');
      assert.ok(JSON.parse(readFileSync(saved, 'utf8')).exchanges.length >= 2, 'the saved trace holds the recording');
      step('trace saved; stopping both servers');
      await apis.stop();
      rmSync(outFile);

      // ---- 2. Replay This Run, a breakpoint in the error path ------------------------------------
      await quickOpen(page, 'inventory.ts');
      await setBreakpoint(page, 'inventory.ts', CATCH_LINE);
      step(`breakpoint on inventory.ts:${CATCH_LINE}`);
      // The source beside the panel, as a user debugging it would have them.
      await runCommand(page, 'View: Move Editor into Right Group');
      await page.locator('.tabs-container .tab', { hasText: 'Net Trace' }).first().click();
      const panel2 = await until('the panel beside the source', () => findFrame(page, '.replay-run'), 30_000, 300);
      await pressReplay(panel2);
      step('pressed Replay This Run');
      await page.waitForSelector('.monaco-editor[data-uri$="/inventory.ts"] .debug-top-stack-frame-line', { timeout: 120_000 });
      step('stopped at the breakpoint in the price call’s catch');
      const status = await until(
        'the status bar saying the replay is on',
        () =>
          page.evaluate(() =>
            [...document.querySelectorAll('.statusbar-item')].map((e) => e.textContent ?? '').find((t) => /replay on/.test(t)),
          ),
        30_000,
        300,
      );
      step(`status bar: ${status}`);
      assert.match(status, /Net Trace: \d+ requests?.*, replay on/);
      // While stopped: the replayed calls listed (flushed through the debugger), badged.
      const panel3 = await until('the panel', () => findFrame(page, '.list-rows .row'), 30_000, 300);
      const rows = await until(
        'the replayed rows',
        async () => {
          const r = await visibleRows(panel3);
          return r.length === 2 && r.every((t) => /replayed/.test(t)) && r;
        },
        30_000,
        500,
      );
      step(`rows: ${JSON.stringify(rows)}`);
      const labels = await panel3.$$eval('.list-rows .row', (els) =>
        els.filter((e) => e.style.display !== 'none').map((e) => e.getAttribute('aria-label') ?? ''),
      );
      assert.ok(
        labels.every((l) => /Replayed: /.test(l)),
        `the badge's words are in each row's accessible name: ${JSON.stringify(labels)}`,
      );
      await panel3.locator('.list-rows .row', { hasText: '/price/42' }).first().click();
      const line = await until(
        'the detail’s replay line',
        () => panel3.textContent('.detail .detail-replay').catch(() => undefined),
        30_000,
        300,
      );
      step(`detail: ${line}`);
      assert.match(line, /^Replayed: a connection reset, as recorded \(the one recorded GET \/price\/42\)\. Recorded call: req-\d+\.$/);
      assert.match(await panel3.textContent('.detail-head'), /The program saw: Error: read ECONNRESET/);
      await sleep(500);
      await shot('replay-paused');

      await page.locator('.debug-toolbar .codicon-debug-continue').first().click();
      step('continued');
      const replayed = JSON.parse(
        await until('the replayed run’s end', () => existsSync(outFile) && readFileSync(outFile, 'utf8'), 120_000, 500),
      );
      step(`replayed run saw: ${JSON.stringify(replayed)}`);
      assert.deepEqual(replayed, recorded, 'the program saw what it saw when recorded, with every server stopped');
      await sessionEnded(page, 'the replay to end');
      const after = await visibleRows(panel3);
      assert.ok(after.length === 2 && after.every((t) => /replayed/.test(t)), JSON.stringify(after));
      await sleep(500);
      await shot('replay-done');
    });
  },
);
