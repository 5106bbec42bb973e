// covers: webview/layout.ts, src/extension/panel.ts
// End-to-end: room to see what a rule did (issue 66, findings 1 and 6) in a real VS Code
// (code-server) through headless Chromium, in the layout F5 leaves: a 1440×900 window with the Run
// and Debug side bar open and the Debug Console open at its default height (VS Code's own
// `debug.internalConsoleOptions`, openOnFirstSessionStart), the Net Trace panel beside the editor.
// "Net Trace: what if" runs the fixture's src/payments.ts (axios and fetch every 1.5 s). The test
// makes a rule from a row's menu ("Make Requests Like This Fail…" → "Connection refused" → "The
// next three") and selects the request it failed; then, without moving a splitter:
//   - at least 8 rows of the list and at least 120 px of the selected request's tab content are
//     in sight together, every tab whole; the rule is named in a line under the toolbar (the Rules
//     view does not open over the list) and the detail says what it did;
//   - the row's badge says "what if" in words; the notification says first that the rule acts now;
//   - the Summary view opens with its routes in sight and no column cut at the right;
// and the same at 200% zoom (720×450 CSS px, two device pixels each), where the panel scrolls:
// the list keeps room for 8 rows and the detail its tabs and 120 px of content, each in sight
// with the panel scrolled to it. Screenshots in test-results/e2e/room/ (room-*.png).
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chooseMenuItem, freePort, missing, quickOpen, runCommand, startDebugging, until } from './support/codeServer.mjs';
import { e2eTest, LAPTOP_ZOOM_200, withWorkbench } from './support/workbench.mjs';
import { panelOf, pick } from './support/livePanel.mjs';

const { results, step } = e2eTest('room');
const CONFIG = 'Net Trace: what if';

/** The workbench as F5 leaves it, with the what-if program running and the Debug Console open; resolves with the panel's gestures. */
async function started(page, port) {
  await quickOpen(page, 'payments.ts');
  await runCommand(page, 'View: Show Run and Debug');
  await page.waitForSelector('.debug-viewlet, [id="workbench.view.debug"]', { timeout: 20_000 });
  await startDebugging(page, CONFIG);
  const ui = panelOf(page);
  // Enough requests that the list could fill 8 rows (two every 1.5 s), payments ones among them.
  await until(
    'a dozen payments and inventory requests',
    async () => (await ui.rows()).filter((r) => r.path === '/api/pay' && r.status === '200').length >= 6,
    180_000,
    500,
  );
  // VS Code opened the Debug Console as the session started (its default): as it is, not resized.
  await page.locator('.repl').first().waitFor({ state: 'visible', timeout: 30_000 });
  step(`program running on port ${port}, the Debug Console open`);
  return ui;
}

/** Makes the rule from the row menu of a payments request, then selects a request it failed. */
async function makeRule(page, ui, shot) {
  // A payments request's detail open first, as the user had it.
  const first = (await ui.rows()).filter((r) => r.path === '/api/pay' && r.status === '200').at(-1);
  await ui.select(first.id);
  for (let attempt = 1; ; attempt++) {
    await ui.rightClick('/api/pay', '200');
    await chooseMenuItem(page, 'Make Requests Like This Fail…');
    const shown = await until('the kinds of failure', () => page.locator('.quick-input-widget').isVisible(), 15_000).catch(() => false);
    if (shown) break;
    if (attempt === 2) throw new Error('"Make Requests Like This Fail…" opened no quick pick twice');
  }
  await pick(page, 'Connection refused');
  await pick(page, 'The next three', 'how many');
  const toast = await until('the notification of the new rule', async () =>
    (await page.locator('.notification-toast .notification-list-item-message').allInnerTexts()).find((t) => /what-if rule/.test(t)),
  );
  await shot();
  const failed = await until(
    'a payments request failed by the rule',
    async () => (await ui.rows()).find((r) => r.path === '/api/pay' && r.badge === 'what if'),
    60_000,
    500,
  );
  await ui.select(failed.id);
  await until('the detail’s what-if line', async () => (await ui.frame()).$eval('.detail-whatif', (e) => e.textContent).catch(() => ''));
  await (await ui.frame()).evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  return { toast, failed };
}

/** What is in sight in the panel (as webview-room.test.mjs measures it): rows, the tab content, tabs cut, the line, the page's scroll. */
function room(frame) {
  return frame.evaluate(() => {
    const seen = (el) => {
      let { top, bottom, left, right } = el.getBoundingClientRect();
      for (let e = el.parentElement; e; e = e.parentElement) {
        const r = e.getBoundingClientRect();
        const s = getComputedStyle(e);
        if (s.overflowY !== 'visible' || e === document.documentElement) [top, bottom] = [Math.max(top, r.top), Math.min(bottom, r.bottom)];
        if (s.overflowX !== 'visible' || e === document.documentElement) [left, right] = [Math.max(left, r.left), Math.min(right, r.right)];
      }
      return { h: Math.max(0, Math.round(Math.min(bottom, innerHeight) - Math.max(top, 0))), w: Math.max(0, Math.round(right - left)) };
    };
    const body = document.querySelector('.list-body');
    const head = body.querySelector('.list-head').getBoundingClientRect();
    const rows = [...document.querySelectorAll('.list-rows .row')].filter((r) => {
      const b = r.getBoundingClientRect();
      return r.style.display !== 'none' && b.height > 0 && b.top >= head.bottom - 0.5 && seen(r).h >= b.height - 0.5;
    });
    const content = document.querySelector('.detail-content');
    const tabs = [...document.querySelectorAll('.tabs [role=tab]')].map((t) => ({
      tab: t.textContent,
      h: t.getBoundingClientRect().height,
      seen: seen(t),
    }));
    const badge = document.querySelector('.row.selected .flag-badge .flag-text');
    const app = document.querySelector('.app');
    return {
      viewport: `${innerWidth}×${innerHeight}`,
      side: document.querySelector('.main').classList.contains('side'),
      rows: rows.length,
      rowViewport: Math.round(body.clientHeight - head.height),
      rowHeight: rows[0] ? Math.round(rows[0].getBoundingClientRect().height) : 0,
      content: seen(content).h,
      contentBox: Math.round(content.getBoundingClientRect().height),
      tabsCut: tabs.filter((t) => t.seen.h < t.h - 0.5 || t.seen.w < 8).map((t) => t.tab),
      whatIf: document.querySelector('.detail-whatif')?.textContent ?? '',
      whatIfSeen: seen(document.querySelector('.detail-whatif') ?? content).h,
      badge: badge ? { text: badge.textContent, w: Math.round(badge.getBoundingClientRect().width) } : null,
      rulesView: !document.querySelector('.rules-view').hidden,
      line: document.querySelector('.rules-line').hidden ? '' : document.querySelector('.rules-line-text').textContent,
      scroll: { top: app.scrollTop, height: app.scrollHeight, client: app.clientHeight },
    };
  });
}

/** Opens the Summary view (its toggle may be in the toolbar's overflow menu: clicked by script); what is in sight of it. */
async function summaryInSight(frame) {
  await frame.evaluate(() => document.querySelector('.summary-toggle').click());
  await frame.waitForSelector('.summary-routes tbody tr', { timeout: 20_000 });
  return frame.evaluate(() => {
    const view = document.querySelector('.summary-view').getBoundingClientRect();
    const bottom = Math.min(view.bottom, innerHeight);
    // The routes the program served (its own server) first, then those it called.
    const rows = [...document.querySelectorAll('.summary-grid tbody tr')].filter(
      (tr) => tr.getClientRects().length > 0 && tr.getBoundingClientRect().bottom <= bottom + 0.5,
    );
    const cells = [...document.querySelectorAll('.summary-grid th, .summary-grid td')].filter((c) => c.getClientRects().length);
    return {
      rows: rows.map((r) => r.querySelector('td')?.textContent ?? ''),
      cut: cells.filter((c) => c.getBoundingClientRect().right > Math.min(view.right, innerWidth) + 0.5).map((c) => c.textContent),
    };
  });
}

for (const zoom of [false, true]) {
  const at = zoom ? '200% zoom (720×450 CSS px)' : '1440×900';
  test(
    `room to see what a rule did, at ${at} with Run and Debug and the Debug Console open: 8 rows and 120 px of the detail's tab content, the rule named`,
    { skip: missing, timeout: 15 * 60_000 },
    async () => {
      const port = await freePort();
      const prepare = ({ workspace }) => {
        const launchPath = join(workspace, '.vscode', 'launch.json');
        const launch = JSON.parse(readFileSync(launchPath, 'utf8'));
        launch.configurations.find((c) => c.name === CONFIG).env.WHATIF_PORT = String(port);
        writeFileSync(launchPath, JSON.stringify(launch, null, 2));
      };
      const name = zoom ? 'room-200' : 'room-1440';
      const options = {
        label: name,
        workspaceName: 'payments',
        linkNodeModules: true,
        prepare,
        results,
        step,
        // VS Code's default, which the other tests turn off: the Debug Console opens with the session.
        settings: { 'debug.internalConsoleOptions': 'openOnFirstSessionStart' },
        failureShot: `${name}-failure`,
        ...(zoom ? LAPTOP_ZOOM_200 : {}),
      };
      await withWorkbench(options, async ({ page, shot }) => {
        const ui = await started(page, port);
        const { toast } = await makeRule(page, ui, () => shot(`${name}-toast`));
        step(`notification: ${toast}`);
        assert.match(toast, /^Net Trace: acts now in the running program — what-if rule "/, 'when it acts comes first');
        const frame = await ui.frame();
        const r = await room(frame);
        step(`${at}: ${JSON.stringify(r)}`);
        assert.equal(r.rulesView, false, 'the Rules view did not open over the list');
        // The program calls every 1.5 s: "The next three" may have acted three times and turned off by now.
        assert.match(
          r.line,
          /^What-if rule (?:on: "Fail GET 127\.0\.0\.1:\d+\/api\/pay \(connection refused\)" — fail refused · limit 3|off: "Fail GET 127\.0\.0\.1:\d+\/api\/pay \(connection refused\)" — fail refused · limit 3 in all · matched 3, acted 3 · limit reached$)/,
        );
        assert.match(r.whatIf, /What if: rule ".*" made this request fail \(connection refused\)/);
        assert.equal(r.badge?.text, 'what if', 'the row’s badge says "what if"');
        assert.ok(r.badge.w > 20, `its words are drawn (${r.badge.w} px)`);
        if (!zoom) {
          assert.ok(r.rows >= 8, `8 rows of the list in sight: ${JSON.stringify(r)}`);
          assert.ok(r.content >= 120, `the tab content in sight (${r.content} px)`);
          assert.deepEqual(r.tabsCut, [], 'every tab whole');
          assert.ok(r.whatIfSeen >= 36, 'the what-if line in sight');
          assert.ok(r.scroll.height <= r.scroll.client, 'nothing to scroll: all of it in sight');
          await shot(`${name}-rule`);
        } else {
          // The panel scrolls: the list has room for 8 rows, the detail for its tabs and 120 px of content.
          assert.ok(r.rowViewport >= 8 * r.rowHeight, `room for 8 rows: ${JSON.stringify(r)}`);
          assert.ok(r.contentBox >= 120, `the tab content is 120 px at least: ${JSON.stringify(r)}`);
          await frame.evaluate(() => document.querySelector('.list-body').scrollIntoView({ block: 'start' }));
          const list = await room(frame);
          step(`scrolled to the list: ${JSON.stringify(list)}`);
          assert.ok(
            list.rows >= Math.floor((list.rowViewport < 0 ? 0 : Number(list.viewport.split('×')[1]) - 24) / list.rowHeight) - 1,
            JSON.stringify(list),
          );
          await shot(`${name}-list`);
          await frame.evaluate(() => document.querySelector('.tabbar').scrollIntoView({ block: 'start' }));
          const detail = await room(frame);
          step(`scrolled to the detail: ${JSON.stringify(detail)}`);
          assert.deepEqual(detail.tabsCut, [], 'every tab whole');
          assert.ok(
            detail.content >= Math.min(120, Number(detail.viewport.split('×')[1]) - 90),
            `the tab content in sight: ${JSON.stringify(detail)}`,
          );
          await shot(`${name}-detail`);
          await frame.evaluate(() => document.querySelector('.app').scrollTo(0, 0));
        }
        const s = await summaryInSight(frame);
        step(`Summary view: ${JSON.stringify(s)}`);
        assert.ok(s.rows.length >= (zoom ? 1 : 2), `routes in sight in the Summary view: ${JSON.stringify(s)}`);
        assert.deepEqual(s.cut, [], 'no column cut at the right');
        await shot(`${name}-summary`);
      });
    },
  );
}
