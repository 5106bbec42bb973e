// covers: src/extension/whatIfCommands.ts, webview/whatIfBanner.ts, src/preload/rules/
// End-to-end: What if, from the panel, in a real VS Code (code-server) through headless Chromium,
// as a user has it after F5: a 1440×900 window with the Run and Debug side bar open. "Net Trace:
// what if" runs the fixture's src/payments.ts through `--import tsx`: a service calling its
// payments API with axios (Authorization: Bearer …) and its inventory API with fetch, every 1.5 s.
// The test:
//   1. sets a breakpoint in the payments call's `catch`, starts the program; both calls appear;
//   2. right-clicks a payments request → "Make Requests Like This Fail…" → "Connection refused" →
//      "Only the next one": the program's next call fails, the breakpoint in its catch is hit, and
//      the row carries the what-if badge (icon and words, in its accessible name) and the detail
//      names the rule once, by the title the Rules view shows (the README's screenshot);
//   3. "Answer Requests Like This With…" → "Every time" → the recorded response opens in an editor;
//      the status line edited to 503 and saved: the next calls get 503 (badge), the status bar says
//      "1 what-if rule on"; "Turn Off" in the Rules view: the next call gets the server's 200 again;
//   4. "Send Again" on a payments request: the server receives it again with the Authorization the
//      program sent, the trace shows `<redacted>`, the new row is marked "sent again" and links to
//      the first.
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import {
  chooseMenuItem,
  freePort,
  missing,
  quickOpen,
  resultsDir,
  runCommand,
  sleep,
  startDebugging,
  stepper,
  until,
} from './support/codeServer.mjs';
import { goToLine, withWorkbench } from './support/workbench.mjs';
import { panelOf, pick } from './support/livePanel.mjs';

const results = resultsDir('whatif');
const step = stepper('e2e what-if');
const CONFIG = 'Net Trace: what if';
const CATCH_LINE =
  readFileSync(new URL('./fixture/src/payments.ts', import.meta.url), 'utf8')
    .split('\n')
    .findIndex((l) => l.includes('// e2e: pay-catch')) + 1;

/** What the program's payments API received: [{ call, auth }]. */
function seenBy(port) {
  return new Promise((resolve, reject) => {
    get(`http://127.0.0.1:${port}/seen`, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

test(
  'what if: a faked refusal hits the catch, a 503 answer from an edited response, Turn Off restores it, Send Again sends the real Authorization (1440×900, Run and Debug open)',
  { skip: missing, timeout: 15 * 60_000 },
  async () => {
    assert.ok(CATCH_LINE > 0, 'the fixture marks its catch line');
    const port = await freePort();
    const prepare = ({ workspace }) => {
      const launchPath = join(workspace, '.vscode', 'launch.json');
      const launch = JSON.parse(readFileSync(launchPath, 'utf8'));
      launch.configurations.find((c) => c.name === CONFIG).env.WHATIF_PORT = String(port);
      writeFileSync(launchPath, JSON.stringify(launch, null, 2));
    };
    const options = { label: 'whatif', workspaceName: 'payments', linkNodeModules: true, prepare, results, installLog: true, step };
    await withWorkbench({ ...options, failureShot: 'whatif-failure' }, async ({ page, shot }) => {
      const ui = panelOf(page);

      // ---- 1. a breakpoint in the catch; the program runs; both calls appear ---------------------
      await quickOpen(page, 'payments.ts');
      await goToLine(page, CATCH_LINE);
      await page.keyboard.press('F9');
      await page.waitForSelector('.monaco-editor .codicon-debug-breakpoint', { timeout: 10_000 });
      await runCommand(page, 'View: Show Run and Debug');
      await page.waitForSelector('.debug-viewlet, [id="workbench.view.debug"]', { timeout: 20_000 });
      await startDebugging(page, CONFIG);
      const first = await until(
        'a payments and an inventory request completed',
        async () => {
          const rows = await ui.rows();
          return (
            rows.some((r) => r.path === '/api/pay' && r.status === '200') &&
            rows.some((r) => r.path === '/api/stock' && r.status === '200') &&
            rows
          );
        },
        180_000,
        500,
      );
      step(`panel: ${first.length} rows`);
      // Only the payments calls listed (the list grows every 1.5 s: a right-click lands on one of them).
      await (await ui.frame()).locator('.filter-input').fill('/api/pay');
      await until('only payments calls listed', async () => (await ui.rows()).every((r) => r.path === '/api/pay'));

      // ---- 2. Make Requests Like This Fail… → Connection refused → Only the next one -------------
      await fromRowMenu(page, ui, 'Make Requests Like This Fail…', { shot: () => shot('whatif-1-menu') });
      await pick(page, 'Connection refused');
      await pick(page, 'Only the next one', 'how many');
      await page.waitForSelector('.monaco-editor .debug-top-stack-frame-line', { timeout: 60_000 });
      const pausedAt = await page.locator('[id="status.editor.selection"]').innerText();
      step(`paused in the catch (${pausedAt})`);
      assert.match(pausedAt, new RegExp(`Ln ${CATCH_LINE},`), 'the breakpoint in the catch was hit');
      await shot('whatif-2-catch');
      // The breakpoint off (F9 on its line again), so the next failures do not pause; then Continue.
      await quickOpen(page, 'payments.ts');
      await goToLine(page, CATCH_LINE);
      await page.keyboard.press('F9');
      await until(
        'the breakpoint to go',
        async () => (await page.locator('.monaco-editor .codicon-debug-breakpoint').count()) === 0,
        10_000,
      );
      await page.locator('.debug-toolbar .codicon-debug-continue').first().click();
      const failed = await until('the refused request in the panel, with the badge', async () =>
        (await ui.rows()).find((r) => r.path === '/api/pay' && r.badge === 'what if'),
      );
      step(`faked failure: ${JSON.stringify(failed)}`);
      assert.match(
        failed.label,
        /What if: rule ".*" made this request fail \(connection refused\)/,
        'the badge is in the row’s accessible name',
      );
      assert.match(failed.status, /ECONNREFUSED|failed|err/i);
      await ui.select(failed.id);
      const line = await until('the detail’s what-if line', async () =>
        (await ui.frame()).$eval('.detail-whatif', (e) => e.textContent).catch(() => ''),
      );
      assert.match(line, /What if: rule ".*" made this request fail \(connection refused\)/);
      await shot('whatif-readme');
      // The rule is named as the Rules view names it (its title; the view's tooltip gives its id),
      // once: one what-if line, no second sentence beside it. (The Rules view opened with the new rule.)
      await ui.showRules();
      const rulesFrame = await ui.frame();
      const rule = await rulesFrame.$eval('.rule-item:has(.rule-badge.action-fail) .rule-name', (e) => ({
        name: e.textContent,
        title: e.getAttribute('title'),
      }));
      const ruleId = /\(id (.+)\)$/.exec(rule.title ?? '')?.[1];
      assert.ok(ruleId, `the Rules view names a rule with a title of its own: ${JSON.stringify(rule)}`);
      const head = await rulesFrame.$eval('.detail-head', (h) => ({
        text: h.textContent ?? '',
        diagnoses: h.querySelectorAll('.diagnosis').length,
      }));
      step(`the detail's head: ${head.text}`);
      assert.equal(head.text.split(JSON.stringify(rule.name)).length - 1, 1, `the rule's title once in the detail: ${head.text}`);
      assert.ok(!head.text.includes(ruleId), `not its id (${ruleId}): ${head.text}`);
      assert.equal(head.diagnoses, 0, 'no second sentence beside the what-if line');
      await shot('whatif-2-rule-named');
      // As many have it while debugging: the Debug Console open under the editors; then closed again.
      await runCommand(page, 'Debug Console: Focus on Debug Console View');
      await page.locator('.repl').first().waitFor({ state: 'visible', timeout: 10_000 });
      await sleep(300);
      await shot('whatif-2-rule-named-console');
      await runCommand(page, 'View: Hide Panel');

      // ---- 3. Answer Requests Like This With… → 503, saved; Turn Off -----------------------------
      await fromRowMenu(page, ui, 'Answer Requests Like This With…', { title: 'how many' });
      await pick(page, 'Every time', 'how many');
      await page.waitForSelector('.editor-group-container .tab.active[aria-label*=".http"]', { timeout: 20_000 });
      await sleep(500);
      // The status line comes after the comments, whose number depends on the response (a body the
      // trace did not record, the Date left out: src/extension/httpDocument.ts): found on screen.
      const statusLine = await until('the answer document’s status line', () =>
        page.evaluate(() => {
          for (const editor of document.querySelectorAll('.monaco-editor')) {
            const lines = [...editor.querySelectorAll('.view-lines .view-line')].sort(
              (a, b) => parseFloat(a.style.top) - parseFloat(b.style.top),
            );
            const at = lines.findIndex((l) => /^HTTP\/1\.1 \d{3}/.test((l.textContent ?? '').replace(/\u00a0/g, ' ')));
            if (at >= 0) return at + 1;
          }
          return undefined;
        }),
      );
      step(`the status line is line ${statusLine}`);
      await goToLine(page, statusLine);
      await page.keyboard.press('Home');
      await page.keyboard.press('Shift+End');
      await page.keyboard.type('HTTP/1.1 503 Service Unavailable');
      await shot('whatif-3-answer');
      await page.keyboard.press('Control+s');
      const answered = await until(
        'a payments call answered 503, with the badge',
        async () => (await ui.rows()).find((r) => r.path === '/api/pay' && r.status === '503' && r.badge === 'what if'),
        60_000,
        500,
      );
      step(`answered: ${JSON.stringify(answered)}`);
      // The refusal rule used its one call and turned itself off: the answer alone is on.
      const status = await until('the status bar to say 1 what-if rule on', () =>
        page.evaluate(() =>
          [...document.querySelectorAll('.statusbar-item')].map((e) => e.textContent ?? '').find((t) => /1 what-if rule on/.test(t)),
        ),
      );
      assert.match(status, /1 what-if rule on/);
      await shot('whatif-4-503');
      const idNumber = (r) => Number(/(\d+)$/.exec(r.id)?.[1] ?? 0);
      const before = Math.max(...(await ui.rows()).map(idNumber));
      await ui.showRules();
      await (await ui.frame()).locator('.rule-item:has(.rule-badge.action-respond) .rule-turn-off').click();
      const real = await until(
        'a payments call answered by the server again (200) after Turn Off',
        async () => (await ui.rows()).find((r) => idNumber(r) > before && r.path === '/api/pay' && r.status === '200' && !r.badge),
        60_000,
        500,
      );
      step(`turned off: ${JSON.stringify(real)}`);
      // No what-if rule is on (the refusal rule turned itself off), and the status bar says nothing of them.
      await until('the status bar’s what-if item to go', () =>
        page.evaluate(() => ![...document.querySelectorAll('.statusbar-item')].some((e) => /what-if rule/.test(e.textContent ?? ''))),
      );

      // ---- 4. Send Again ------------------------------------------------------------------------
      const seenBefore = await seenBy(port);
      await ui.rightClick('/api/pay', '200');
      await chooseMenuItem(page, 'Send Again');
      const twice = await until('the server to receive a call again', async () => {
        const seen = await seenBy(port);
        const calls = seen.map((s) => s.call);
        return seen.slice(seenBefore.length).find((s) => calls.filter((c) => c === s.call).length === 2);
      });
      assert.equal(twice.auth, 'Bearer pay-s3cret', 'the Authorization as the program sent it');
      const again = await until('the sent-again row', async () => (await ui.rows()).find((r) => r.badge === 'sent again'), 30_000, 500);
      step(`sent again: ${JSON.stringify(again)}`);
      const repeats = /repeats (req-\d+)/.exec(again.label)?.[1];
      assert.ok(repeats, `the row names the request it repeats: ${again.label}`);
      await ui.select(again.id);
      let shown = '';
      const headers = await until(
        'the Headers tab of the sent-again request',
        async () => {
          const f = await ui.frame();
          await f.locator('.tabs [role=tab]', { hasText: 'Headers' }).click();
          shown = await f.$eval('.detail-content', (e) => e.innerText).catch(() => '');
          return /Sent again from/.test(shown) && shown;
        },
        20_000,
      ).catch((err) => assert.fail(`${err.message}; the detail showed: ${shown}`));
      assert.match(headers, /Sent again from/);
      assert.match(
        headers,
        /Authorization\s*<?redacted>?\s*X-Call/i,
        'the trace shows the Authorization redacted (the panel draws <redacted> as a "redacted" tag)',
      );
      assert.doesNotMatch(headers, /pay-s3cret/);
      await shot('whatif-5-sent-again');
      await (await ui.frame()).locator('.detail-whatif .link').click();
      await until('the link to select the first request', async () => (await ui.selectedTraceID()) === repeats);
    });
  },
);

/**
 * Right-clicks a 200 payments row and chooses `item`; waits for the quick pick it opens (titled
 * `title`, when given). A live list's row can move under the pointer between the click and the
 * menu's Enter, which loses the gesture: then what the workbench shows is logged and it is done
 * once more (a second loss fails the test).
 */
async function fromRowMenu(page, ui, item, { shot, title } = {}) {
  const widget = page.locator('.quick-input-widget');
  const shown = async () =>
    (await widget.isVisible()) && (!title || ((await widget.locator('.quick-input-title').textContent()) ?? '').includes(title));
  for (let attempt = 1; ; attempt++) {
    await ui.rightClick('/api/pay', '200');
    await chooseMenuItem(page, item, { shot });
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && !(await shown())) await sleep(250);
    if (await shown()) return;
    const notes = await page.locator('.notification-toast').allInnerTexts();
    step(`"${item}" opened no quick pick (attempt ${attempt}); notifications: ${JSON.stringify(notes)}`);
    if (attempt === 2) throw new Error(`"${item}" opened no quick pick twice (notifications: ${JSON.stringify(notes)})`);
  }
}
