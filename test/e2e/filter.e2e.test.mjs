// covers: webview/rowMenu.ts
// End-to-end: the panel's filter language, its copy menu and its labels in a real VS Code
// (code-server) through headless Chromium, as a user has it after F5: a 1440×900 window with the
// Run and Debug side bar open. Runs the fixture's "Net Trace: filter" (src/filter.ts through
// `--import tsx`: axios GET/POST with 200, 404, 201 + Location, a refused connection), then:
// types `status-code:404` and `status-code:404 -method:POST` and checks the rows; right-clicks the
// POST 404 row and runs "Copy as cURL" from VS Code's context menu, checks the clipboard (the
// Authorization value stays "<redacted>") and the message naming what the copy lacks; opens the
// same menu from the keyboard (Shift+F10) and copies the URL with ↓ and Enter; checks "Created at" on the 201 and "failed" for the
// refused connection; and that the status bar's count is the panel's.
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findFrame, missing, quickOpen, readClipboard, runCommand, startDebugging, statusCount, until } from './support/codeServer.mjs';
import { e2eTest, withWorkbench } from './support/workbench.mjs';

const { results, step } = e2eTest('filter');

test(
  'Net Trace panel: property filter, Copy as cURL, labels, status bar (1440×900, Run and Debug open)',
  { skip: missing, timeout: 10 * 60_000 },
  async () => {
    // As F5 leaves a laptop-sized window: 1440×900. The clipboard is read back through the page.
    const options = { label: 'filter', workspaceName: 'workspace', linkNodeModules: true, results, installLog: true, clipboard: true };
    await withWorkbench({ ...options, failureShot: 'filter-failure', step }, async ({ page, shot }) => {
      // ---- start "Net Trace: filter" with its file open and the Run and Debug side bar open -------------
      // As F5 leaves it: the program in the editor, the panel beside it, Run and Debug on the left.
      await quickOpen(page, 'filter.ts');
      await runCommand(page, 'View: Show Run and Debug');
      await page.waitForSelector('.debug-viewlet, [id="workbench.view.debug"]', { timeout: 20_000 });
      await startDebugging(page, 'Net Trace: filter');
      const sideBar = await page.locator('.part.sidebar').boundingBox();
      step(`started; side bar ${sideBar ? `${Math.round(sideBar.width)} px wide` : 'not found'}`);
      assert.ok(sideBar && sideBar.width > 150, 'the Run and Debug side bar is open');

      const panel = await until(
        'the panel listing the fixture requests',
        async () => {
          const f = await findFrame(page, '.list-body');
          if (!f) return undefined;
          const n = await f.$$eval('.list-rows .row', (els) => els.filter((e) => e.style.display !== 'none').length);
          return n >= 5 && f;
        },
        120_000,
        500,
      );
      step(`panel ${await panel.evaluate(() => document.documentElement.clientWidth)} px wide beside the editor`);
      const rows = () =>
        panel.$$eval('.list-rows .row', (els) =>
          els
            .filter((e) => e.style.display !== 'none')
            .map((e) => ({
              method: e.querySelector('.c-method')?.textContent ?? '',
              status: (e.querySelector('.c-status')?.textContent ?? '').trim(),
              path: e.querySelector('.url-path')?.textContent ?? '',
              conn: e.querySelector('.c-conn')?.textContent ?? '',
            })),
        );
      const all = await until('the 5 requests finished', async () => {
        const r = await rows();
        return r.length === 5 && r.every((x) => x.status && x.status !== 'pending') && r;
      });
      step(`panel lists:\n    ${all.map((r) => `${r.method} ${r.path} ${r.status} ${r.conn}`).join('\n    ')}`);
      await shot('filter-all');

      // ---- the status bar counts what the panel counts ---------------------------------------------------
      const panelCount = async () => Number(/^([\d,]+) requests?/.exec(await panel.textContent('.status-left'))?.[1].replace(/,/g, ''));
      await until("the status bar count to equal the panel's", async () => (await statusCount(page)) === (await panelCount()), 10_000, 100);
      step(`status bar ${await statusCount(page)} requests = panel ${await panelCount()}`);

      // ---- labels: the refused connection is not "new"; the 201's Location is "Created at" ------------------
      const refused = all.find((r) => /refused/.test(r.path));
      assert.equal(refused?.conn, 'failed', `Conn of the refused request: ${JSON.stringify(refused)}`);
      assert.ok(
        all.filter((r) => r !== refused).every((r) => r.conn === 'new' || r.conn === 'reused'),
        JSON.stringify(all),
      );

      // ---- property filters typed into the box ------------------------------------------------------------
      const filter = panel.locator('.filter-input');
      await filter.click();
      await filter.pressSequentially('status-code:404', { delay: 20 });
      let shown = await until('status-code:404 rows', async () => {
        const r = await rows();
        return r.length === 2 && r;
      });
      assert.deepEqual(shown.map((r) => `${r.method} ${r.status}`).sort(), ['GET 404', 'POST 404']);
      await filter.pressSequentially(' -method:POST', { delay: 20 });
      shown = await until('status-code:404 -method:POST rows', async () => {
        const r = await rows();
        return r.length === 1 && r;
      });
      assert.deepEqual(
        shown.map((r) => `${r.method} ${r.status} ${r.path}`),
        ['GET 404 /missing'],
      );
      await until('the panel to say 1 shown', async () => /\b1 shown\b/.test(await panel.textContent('.status-left')));
      await shot('filter-404-not-post');
      step('status-code:404 -method:POST: one row, GET /missing');
      // The status bar keeps counting the trace (what the panel's "N requests" says), not the filter.
      assert.equal(await statusCount(page), await panelCount());

      // ---- Copy as cURL from VS Code's context menu on a row ----------------------------------------------
      await filter.fill('status-code:404 method:POST');
      await until('the POST 404 row', async () => (await rows()).length === 1);
      const postRow = panel.locator('.list-rows .row:not([style*="none"])').first();
      await postRow.locator('.c-method').click({ button: 'right' });
      const menuItem = page.locator('.context-view .action-label', { hasText: 'Copy as cURL' }).first();
      await menuItem.waitFor({ state: 'visible', timeout: 15_000 });
      const items = await page.locator('.context-view .action-label').allInnerTexts();
      step(`row menu: ${items.join(' | ')}`);
      await shot('filter-row-menu');
      for (const want of ['Copy URL', 'Copy as cURL', 'Copy as fetch (Node)', 'Copy as HAR Entry'])
        assert.ok(
          items.some((t) => t.trim() === want),
          `"${want}" in the row menu (${items.join(', ')})`,
        );
      await menuItem.click();
      const curl = await until('the clipboard to hold the cURL command', async () => {
        const text = await readClipboard(page);
        return /^curl /.test(text) && text;
      });
      step(`clipboard:\n${curl}`);
      assert.match(curl, /^curl --globoff \\\n\s+--url http:\/\/127\.0\.0\.1:\d+\/missing/, 'globbing off, the URL after --url');
      assert.match(curl, /-X POST/, 'POST without a captured body is explicit');
      assert.match(curl, /-H 'Authorization: <redacted>'/);
      assert.doesNotMatch(curl, /e2e-secret-token/, 'the secret was never recorded');
      const toast = await until('the message saying what the copy lacks', async () => {
        const t = await page.locator('.notifications-toasts').innerText({ timeout: 1000 });
        return /copied as cURL, but the trace lacks/.test(t) && t;
      });
      assert.match(toast, /Authorization is redacted/);
      assert.match(toast, /body \(\d+ bytes\) was not captured/);
      await shot('filter-copied');

      // ---- the same menu from the keyboard, on the selected row ---------------------------------------------
      // Shift+F10 on the list opens VS Code's menu of the selected row (webview/rowMenu.ts), and the item
      // is chosen from the keyboard too (↓ to "Copy URL", Enter), as a keyboard user does. A mouse click
      // the moment the item shows would be dropped: VS Code's menu items start listening for mouse-up
      // 100 ms after they render (so the release of the right-click that opened a menu cannot pick an
      // item), and on the loaded VM the click came first in 2 of 3 runs (issue 15).
      await page.keyboard.press('Escape');
      await panel.focus('.list-body');
      await page.keyboard.press('Shift+F10');
      await page.locator('.context-view .action-label', { hasText: 'Copy URL' }).first().waitFor({ state: 'visible', timeout: 15_000 });
      const keyMenu = await page.locator('.context-view .action-label').allInnerTexts();
      assert.deepEqual(
        keyMenu.map((t) => t.trim()),
        items.map((t) => t.trim()),
        "Shift+F10 opens the row's menu, once",
      );
      // The menu item with the keyboard focus (VS Code may draw the menu in a shadow root).
      const focusedItem = () =>
        page.evaluate(() => {
          let el = document.activeElement;
          while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
          return el?.closest('.action-item')?.textContent?.trim() ?? '';
        });
      let seen = '';
      await until(
        '"Copy URL" focused in the menu (↓)',
        async () => {
          seen = await focusedItem();
          if (seen === 'Copy URL') return true;
          await page.keyboard.press('ArrowDown');
          return false;
        },
        10_000,
        100,
      ).catch((err) => {
        throw new Error(`${err.message}; focused: "${seen}"`);
      });
      await page.keyboard.press('Enter');
      const url = await until('the clipboard to hold the URL', async () => {
        const text = await readClipboard(page);
        return /^http:\/\/127\.0\.0\.1:\d+\/missing$/.test(text) && text;
      });
      await until('the menu to close', async () => (await page.locator('.context-view .action-label').count()) === 0, 5_000);
      step(`Shift+F10, ↓, Enter → Copy URL: ${url}`);

      // ---- the 201's Location is "Created at", not a redirect -------------------------------------------------
      await filter.fill('status-code:201');
      await until('the 201 row', async () => (await rows()).length === 1);
      await panel.locator('.list-rows .row:not([style*="none"]) .c-method').first().click();
      await panel.locator('.detail [data-tab="headers"]').click();
      const headersText = await until('the headers tab', async () => {
        const t = await panel.locator('.detail .detail-content').innerText();
        return /Location|Created at|Redirects to/.test(t) && t;
      });
      assert.match(headersText, /Created at\s+\/api\/items\/2/);
      assert.doesNotMatch(headersText, /Redirects to/);
      await shot('filter-created-at');
      step('201: "Created at /api/items/2"');
    });
  },
);
