// covers: webview/grouping.ts, webview/groupToggle.ts, src/preload/server/
// End-to-end: "Group by incoming request" (issue 37 item 3). In code-server at 1440×900,
// "Net Trace: gateway" runs fixture/gateway.js: a gateway that calls a payments service twice for
// each incoming request, and one POST /checkout through it. With the toolbar's toggle on, the
// panel shows the incoming request as a group header (method, path, status, its 2 calls) with the
// two calls indented under it; selecting the header shows its own waterfall and the diagnosis; in
// gateway.js, each server's handler line has a CodeLens with how many requests it served.
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium, the .vsix in NETTRACE_E2E_* variables).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFrame, missing, quickOpen, runCommand, sessionEnded, startDebugging, until } from './support/codeServer.mjs';
import { codeLensLines, e2eTest, withWorkbench } from './support/workbench.mjs';

const { results, step } = e2eTest('servers');
/** The lines of fixture/gateway.js whose functions handle the incoming requests. */
const HANDLERS = (() => {
  const lines = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixture', 'gateway.js'), 'utf8').split('\n');
  const at = (re) => lines.findIndex((l) => re.test(l)) + 1;
  return { payments: at(/const payments = http\.createServer/), gateway: at(/const gateway = http\.createServer/) };
})();

/** The list's shown rows: their classes and URL cell text. */
const rowsOf = (frame) =>
  frame.$$eval('.list-rows .row', (els) =>
    els
      .filter((e) => e.style.display !== 'none')
      .map((e) => ({
        head: e.classList.contains('group-head'),
        inGroup: e.classList.contains('in-group'),
        depth: Number(e.style.getPropertyValue('--depth') || 0),
        method: e.querySelector('.c-method')?.textContent,
        path: e.querySelector('.url-path')?.textContent,
        host: e.querySelector('.url-host')?.textContent,
        status: e.querySelector('.c-status')?.textContent?.trim(),
      })),
  );

test(
  'servers in VS Code: the calls are grouped under the incoming request that caused them',
  { skip: missing, timeout: 8 * 60_000 },
  async () => {
    const options = { label: 'servers', workspaceName: 'ws', results, logName: 'servers-code-server.log' };
    await withWorkbench({ ...options, failureShot: 'servers-failure', logs: 'servers-logs' }, async ({ page, shot }) => {
      await runCommand(page, 'View: Show Run and Debug');
      step('starting "Net Trace: gateway"');
      await startDebugging(page, 'Net Trace: gateway');
      await sessionEnded(page, 'the gateway program to end');
      const frame = await until(
        'the client request and the two calls in the panel',
        async () => {
          const f = await findFrame(page, '.list-body');
          return f && (await rowsOf(f)).length >= 3 && f;
        },
        90_000,
        250,
      );
      const flat = await rowsOf(frame);
      step(`ungrouped: ${JSON.stringify(flat)}`);
      assert.ok(!flat.some((r) => r.head || r.inGroup), 'ungrouped by default');

      await frame.evaluate(() => document.querySelector('.group-toggle').click());
      const grouped = await until('a group header for POST /checkout', async () => {
        const rows = await rowsOf(frame);
        return rows.some((r) => r.head && r.path?.includes('/checkout')) && rows;
      });
      step(`grouped: ${JSON.stringify(grouped)}`);
      const at = grouped.findIndex((r) => r.head && r.path.includes('/checkout'));
      const header = grouped[at];
      assert.equal(header.method, 'POST');
      assert.equal(header.status, '200');
      assert.equal(header.host, '2 calls');
      // The program's own client made the request the gateway served (it serves itself): the
      // gateway's request is nested under that call, its calls under it, and what the payments
      // service (in the same process) served under each call, one level deeper each hop.
      assert.deepEqual(
        [grouped[at - 1]?.head, grouped[at - 1]?.method, grouped[at - 1]?.path, header.depth],
        [false, 'POST', '/checkout', 1],
      );
      assert.deepEqual(
        grouped.slice(at + 1, at + 5).map((r) => [r.head, r.depth, r.method, r.path]),
        [
          [false, 2, 'POST', '/charge'],
          [true, 3, 'POST', '/charge'],
          [false, 2, 'GET', '/receipt'],
          [true, 3, 'GET', '/receipt'],
        ],
      );
      assert.equal(await frame.$eval('.group-toggle', (b) => b.getAttribute('aria-pressed')), 'true');

      // The header's detail: its own waterfall and where the time went.
      const headerEl = frame.locator('.list-rows .row.group-head', { hasText: '/checkout' }).first();
      await headerEl.click();
      const detail = await until('the incoming request detail', async () => {
        const wf = await frame
          .$$eval('.incoming-waterfall .timing-row .timing-label', (els) => els.map((e) => e.textContent))
          .catch(() => []);
        const diag = await frame.$eval('.detail-head .diagnosis', (e) => e.textContent).catch(() => '');
        return wf.length >= 3 && diag && { wf, diag };
      });
      step(`detail: ${JSON.stringify(detail)}`);
      assert.equal(detail.wf[0], 'In the program');
      assert.ok(
        detail.wf.some((l) => /^POST 127\.0\.0\.1:\d+\/charge$/.test(l)),
        detail.wf.join(' | '),
      );
      assert.match(detail.diag, /of \d+ ms waiting on|in the program itself/);
      await shot('servers-grouped');
      // A click on the selected header collapses its group.
      await headerEl.click();
      const collapsed = await until('the group collapsed', async () => {
        const rows = await rowsOf(frame);
        return !rows.some((r) => r.inGroup && !r.head) && rows;
      });
      assert.ok(
        collapsed.some((r) => r.head && r.path.startsWith('▸')),
        JSON.stringify(collapsed),
      );

      // The handlers' lines in gateway.js: the gateway's served POST /checkout once, the payments
      // service's two routes.
      await runCommand(page, 'View: Focus First Editor Group');
      await quickOpen(page, 'gateway.js');
      await page.keyboard.press('Control+Home');
      let lenses = [];
      await until(
        "the CodeLens on the handlers' lines",
        async () => {
          lenses = await codeLensLines(page, 'gateway.js');
          return lenses.some((l) => l.line === HANDLERS.gateway) && lenses.some((l) => l.line === HANDLERS.payments);
        },
        15_000,
      ).catch((err) => {
        throw new Error(`${err.message}; lenses: ${JSON.stringify(lenses)}`);
      });
      step(`lenses: ${JSON.stringify(lenses)}`);
      assert.match(lenses.find((l) => l.line === HANDLERS.gateway).text, /^served 1 · median \d+(\.\d)? ms · POST \/checkout$/);
      assert.match(lenses.find((l) => l.line === HANDLERS.payments).text, /^served 2 · median \d+(\.\d)? ms · 2 routes$/);
      await shot('servers-handler-codelens');
    });
  },
);
