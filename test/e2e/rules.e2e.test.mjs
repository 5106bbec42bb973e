// covers: src/extension/ruleService.ts, webview/rulesView.ts, src/preload/rules/
// End-to-end: trace rules in a real VS Code (code-server) through headless Chromium, as a user has
// it after F5: a 1440×900 window with the Run and Debug side bar open. "Net Trace: rules" runs the
// fixture's src/orders.ts through `--import tsx`: a client asking its own orders API (on a fixed
// port the test picks) for one order every 3 s. The test:
//   1. starts it; the requests appear in the panel;
//   2. right-clicks a request and chooses "Break on Requests Like This" from VS Code's context
//      menu; the Rules view opens on the new rule, enabled;
//   3. the rule reaches the live session: the next request pauses (the top frame reads "Net Trace:
//      paused on GET http://…/api/orders/N (rule '…')"); Continue; then Stop and run the program
//      again: its first request pauses, and the Call Stack shows the Net Trace frame on top and
//      orders.ts at the request's line as the first frame not deemphasized below it (Net Trace's
//      and Node's frames are skipped); selecting that frame shows the line in the editor;
//   4. Continue, and at once 5. untick the rule in the Rules view while the program runs; the
//      request paused on completes in the panel (200); the next requests complete and
//      the debugger does not pause again (the rule's acted count stays).
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  callStackRows,
  chooseMenuItem,
  clickCallStackRow,
  findFrame,
  freePort,
  missing,
  quickInput,
  quickOpen,
  runCommand,
  sessionEnded,
  sleep,
  startDebugging,
  until,
} from './support/codeServer.mjs';
import { e2eTest, withWorkbench } from './support/workbench.mjs';

const { results, step } = e2eTest('rules');
const CONFIG = 'Net Trace: rules';
/** The line of src/orders.ts that makes the request (1-based), found by its marker. */
const REQUEST_LINE =
  readFileSync(new URL('./fixture/src/orders.ts', import.meta.url), 'utf8')
    .split('\n')
    .findIndex((l) => l.includes('// e2e: order-request')) + 1;

test(
  'trace rules: Break on Requests Like This pauses at the program line, Continue sends it, unticking the rule stops the pauses (1440×900, Run and Debug open)',
  { skip: missing, timeout: 15 * 60_000 },
  async () => {
    assert.ok(REQUEST_LINE > 0, 'the fixture marks its request line');
    // A fixed port for the program's API, as a real one has: the rule made from the first run's
    // request names it, and must match the second run's requests.
    const port = await freePort();
    const prepare = ({ workspace }) => {
      const launchPath = join(workspace, '.vscode', 'launch.json');
      const launch = JSON.parse(readFileSync(launchPath, 'utf8'));
      const config = launch.configurations.find((c) => c.name === CONFIG);
      config.env.ORDERS_PORT = String(port);
      writeFileSync(launchPath, JSON.stringify(launch, null, 2));
    };
    step(`the orders API will listen on ${port}`);
    const options = { label: 'rules', workspaceName: 'orders', linkNodeModules: true, prepare, results, installLog: true, step };
    await withWorkbench({ ...options, failureShot: 'rules-failure' }, async ({ page, shot }) => {
      const ui = workbench(page);

      // ---- 1. start the program with the Run and Debug side bar open; its requests appear ----------
      await quickOpen(page, 'orders.ts');
      await runCommand(page, 'View: Show Run and Debug');
      await page.waitForSelector('.debug-viewlet, [id="workbench.view.debug"]', { timeout: 20_000 });
      // The Call Stack draws only the rows it has room for: give it the side bar's height, as a
      // user who reads it does (Variables and Watch folded).
      await ui.foldPanes(['Variables', 'Watch', 'Breakpoints']);
      await startDebugging(page, CONFIG);
      const sideBar = await page.locator('.part.sidebar').boundingBox();
      assert.ok(sideBar && sideBar.width > 150, 'the Run and Debug side bar is open');
      const first = await until(
        'two completed requests in the panel',
        async () => (await ui.completed()).length >= 2 && ui.rows(),
        180_000,
        500,
      );
      step(`panel lists ${first.map((r) => `${r.method} ${r.path} ${r.status}`).join(', ')}`);
      for (const r of first) assert.match(`${r.method} ${r.path} ${r.status}`, /^GET \/api\/orders\/\d+ 200$/);
      const run1 = await ui.traceKey();
      await shot('rules-1-running');

      // ---- 2. "Break on Requests Like This" from a request's context menu -----------------------------
      const panel = await ui.panel();
      await panel.locator('.list-rows .row:not([style*="none"]) .c-method').first().click({ button: 'right' });
      const items = await chooseMenuItem(page, 'Break on Requests Like This', { shot: () => shot('rules-2-menu') });
      step(`row menu: ${items.join(' | ')}`);
      const ruleName = `Break on GET 127.0.0.1:${port}/api/orders/*`;
      // The entry opens the Rules view on the new rule. The rule reaches the running program at
      // once, and its next request (≤ 3 s later) pauses: VS Code then opens the pause script in
      // the panel's editor group, which discards the hidden panel's page; shown again, the panel
      // has the Rules view closed (its open state is not kept), so it is opened again here.
      let reopened = false;
      const rule = await until('the Rules view to show the new rule, enabled', async () => {
        const items = await ui.ruleItems();
        if (!items.some((x) => x.visible)) {
          reopened = true;
          await ui.showRules();
          return undefined;
        }
        const r = items.find((x) => x.name === ruleName);
        return r?.visible && r.enabled && r;
      });
      step(reopened ? 'the Rules view was closed when the panel was shown again: reopened' : 'the Rules view opened on the rule');
      step(`Rules view: ${JSON.stringify(rule)}`);
      assert.equal(rule.action, 'break');
      assert.equal(rule.condition, `method == "GET" and host == "127.0.0.1" and port == ${port} and path ~ "/api/orders/*"`);
      // (Read again when a pause reloads the panel meanwhile.)
      await until('the Rules toggle to count 1 enabled rule', async () => (await ui.rulesToggleLabel()) === 'Trace rules (1 enabled)');
      await shot('rules-2-rule-added');

      // ---- 3a. the rule reaches the running program: its next request pauses ------------------------
      const livePause = await ui.waitForPause('the live session to pause on its next request', ruleName, port);
      step(`live session paused: ${livePause.top.name}`);
      await shot('rules-3-live-paused');
      assertProgramFrame(livePause);
      await ui.continue();
      await until('the live session to run again', async () => !(await ui.paused()), 60_000);

      // ---- 3b. Stop, run again: the first request pauses -----------------------------------------------
      // (The rule still acts: the program may be paused again on its next request.)
      await ui.stop();
      await sessionEnded(page, 'the first session to end', 90_000);
      step('stopped; running the program again');
      await startDebugging(page, CONFIG);
      const pause = await ui.waitForPause('the second run to pause on its first request', ruleName, port);
      assert.match(pause.top.name, new RegExp(`^Net Trace: paused on GET http://127\\.0\\.0\\.1:${port}/api/orders/1 \\(rule '`));
      step(`second run paused; call stack:\n    ${pause.rows.map(fmtRow).join('\n    ')}`);
      const own = assertProgramFrame(pause);
      // The editor shows the pause script (the top frame), which says what paused and why.
      const pausedText = await until('an editor to show the pause script', () =>
        page.evaluate(() =>
          [...document.querySelectorAll('.monaco-editor .view-lines')]
            .map((e) => (e.textContent ?? '').replace(/\u00a0/g, ' '))
            .find((t) => /debugger;/.test(t)),
        ),
      );
      assert.match(pausedText, new RegExp(`Net Trace: paused on GET http://127\\.0\\.0\\.1:${port}/api/orders/1`));
      await shot('rules-3-paused');
      // Selecting the program's frame shows its line in the editor: the request call.
      await clickCallStackRow(page, own.index);
      const line = await until('orders.ts at the request line in the editor', () => ui.focusedFrameLine('orders.ts'), 30_000);
      step(`program frame selected: orders.ts line "${line.trim()}"`);
      assert.match(line, /await fetch\(`\$\{base\}\/api\/orders\/\$\{id\}`\);/);
      await shot('rules-3-program-frame');

      // ---- 4. Continue; 5. untick the rule while the program runs --------------------------------------
      // As a user about to untick it: the panel (behind the pause script) and its Rules view are
      // brought to the front while paused, then Continue, and the rule is unticked at once
      // (checking the sent request comes after). It still acts until then, so the next request
      // (≤ 3 s after this one) would pause; such a pause reloads the hidden panel, so a gesture
      // that lands on the discarded page is made again.
      await until('the rule shown in the Rules view', async () => {
        await ui.showRules();
        return (await ui.ruleItems()).find((x) => x.name === ruleName)?.visible;
      });
      await ui.continue();
      await until(
        'the rule unticked in the Rules view',
        async () => {
          await ui.showRules();
          let r = (await ui.ruleItems()).find((x) => x.name === ruleName);
          if (r?.enabled && !r.toggleDisabled) {
            await ui.toggleRule(ruleName);
            await sleep(500);
            r = (await ui.ruleItems()).find((x) => x.name === ruleName);
          }
          return r && !r.enabled && !r.toggleDisabled;
        },
        90_000,
        500,
      );
      await until('the Rules toggle to count no enabled rule', async () => (await ui.rulesToggleLabel()) === 'Trace rules');
      // The program asks every 3 s and the gestures take seconds on a loaded machine: the request
      // made while the change was on its way (it reaches the program within 100 ms) may have paused,
      // and the pause shows in the Call Stack a moment later. That one is continued (watched for
      // 1.5 s, less than the 3 s between requests); from then on the watch below allows none.
      let early = false;
      for (const end = Date.now() + 1500; !early && Date.now() < end; await sleep(100)) early = await ui.paused();
      if (early) {
        step(
          `a request made before the rule was off had paused (${(await callStackRows(page)).find((r) => r.kind === 'frame')?.name}): continuing`,
        );
        await ui.continue();
        await until('the program to run again', async () => !(await ui.paused()), 60_000);
      }
      // ---- 4. the paused request was sent when continued, and completed ---------------------------------
      await until('the panel to show the second run', async () => (await ui.traceKey()) !== run1, 60_000);
      const done = await until(
        'GET /api/orders/1 completed in the panel',
        async () => (await ui.completed()).find((r) => r.path === '/api/orders/1'),
        90_000,
        500,
      );
      assert.equal(done.status, '200');
      step('continued: GET /api/orders/1 200');

      const before = await until('the rule in the Rules view', async () => (await ui.ruleItems()).find((x) => x.name === ruleName));
      const seen = new Set((await ui.completed()).map((r) => r.path));
      step(`rule disabled with ${seen.size} request(s) completed, acted ${before.acted}`);
      // Watched every 250 ms: a pause would hold until continued, so none goes unseen.
      let later = [];
      for (const deadline = Date.now() + 120_000; later.length < 2; await sleep(250)) {
        if (await ui.paused()) {
          await shot('rules-5-paused-again');
          assert.fail(`the debugger paused after the rule was disabled: ${(await callStackRows(page)).map(fmtRow).join(' / ')}`);
        }
        assert.ok(Date.now() < deadline, `two more requests completed within 120 s (saw ${later.length})`);
        later = (await ui.completed()).filter((r) => !seen.has(r.path));
      }
      step(`later requests: ${later.map((r) => `${r.path} ${r.status}`).join(', ')}`);
      for (const r of later) assert.equal(r.status, '200');
      const after = (await ui.ruleItems()).find((x) => x.name === ruleName);
      assert.equal(after.acted, before.acted, 'a disabled rule acts on nothing');
      await shot('rules-5-disabled');
    });
  },
);

/** True for the Call Stack's file name of the program (it shows `src/orders.ts`). */
const isOrdersTs = (file) => /(^|\/)orders\.ts$/.test(file);

/** A call stack row as one line of the log. */
function fmtRow(r) {
  if (r.kind === 'more') return `[${r.text}]`;
  if (r.kind !== 'frame') return `(${r.text})`;
  return `${r.disabled ? '~ ' : ''}${r.name}  ${r.file}:${r.line}`;
}

/**
 * Checks that the first frame below the Net Trace frame that VS Code does not deemphasize (nor
 * fold into "N more frames") is the program's: orders.ts at the request's line. Returns it.
 */
function assertProgramFrame(pause) {
  const below = pause.rows.slice(pause.rows.indexOf(pause.top) + 1);
  const own = below.find((r) => r.kind === 'frame' && !r.disabled);
  assert.ok(own, `a frame not deemphasized under the Net Trace frame: ${pause.rows.map(fmtRow).join(' / ')}`);
  assert.ok(isOrdersTs(own.file), `the first frame not deemphasized is orders.ts's: ${pause.rows.map(fmtRow).join(' / ')}`);
  assert.equal(Number(own.line.split(':')[0]), REQUEST_LINE, `the request's line: ${fmtRow(own)}`);
  const between = below.slice(0, below.indexOf(own));
  assert.ok(between.length > 0, 'the preload and Node frames between are shown folded or deemphasized');
  return own;
}

/** The gestures and reads of this test on the workbench `page`. */
function workbench(page) {
  const panel = async () => {
    // A pause opens its source in the panel's editor group: bring the panel's tab back to the front.
    let f = await findFrame(page, '.list-body');
    if (
      !f ||
      !(await f
        .locator('.list-body')
        .isVisible()
        .catch(() => false))
    ) {
      // Not the pause script's tab, whose title also starts with "Net Trace".
      await page.locator('.tabs-container .tab', { hasText: 'Net Trace', hasNotText: 'paused on' }).first().click();
      f = await until('the Net Trace panel', () => findFrame(page, '.list-body'), 30_000);
    }
    return f;
  };
  const rows = async () =>
    (await panel()).$$eval('.list-rows .row', (els) =>
      els
        .filter((e) => e.style.display !== 'none')
        .map((e) => ({
          method: e.querySelector('.c-method')?.textContent ?? '',
          status: (e.querySelector('.c-status')?.textContent ?? '').trim(),
          path: e.querySelector('.url-path')?.textContent ?? '',
        })),
    );
  const paused = async () => (await page.locator('.debug-call-stack .stack-frame').count()) > 0;
  const ui = {
    panel,
    rows,
    paused,
    /** The rows whose request completed (a status code). */
    completed: async () => (await rows()).filter((r) => /^\d{3}$/.test(r.status)),
    /** The key of the trace the panel shows (the trace select's value). */
    traceKey: async () => (await panel()).$eval('.trace-select', (s) => s.value),
    rulesToggleLabel: async () => (await panel()).$eval('.rules-toggle', (b) => b.getAttribute('aria-label') ?? ''),
    /** Opens the Rules view with its toolbar toggle (when it is closed). */
    showRules: async () => {
      const f = await panel();
      if ((await f.$eval('.rules-toggle', (b) => b.getAttribute('aria-pressed'))) !== 'true') await f.click('.rules-toggle');
      await f.locator('.rules-list:not(.rules-saved-list)').waitFor({ state: 'visible', timeout: 10_000 });
    },
    /** The Rules view's rules: name, enabled, action, condition, counts, visible. */
    ruleItems: async () =>
      (await panel()).$$eval('.rules-list:not(.rules-saved-list) .rule-item', (els) =>
        els.map((li) => {
          const box = li.querySelector('input.rule-enabled');
          const counts = [...li.querySelectorAll('.rule-count')].map((c) => Number(c.lastChild?.textContent ?? NaN));
          const rect = li.getBoundingClientRect();
          return {
            id: li.dataset.ruleId,
            name: li.querySelector('.rule-name')?.textContent ?? '',
            enabled: box?.checked ?? false,
            toggleDisabled: box?.disabled ?? true,
            action: (li.querySelector('.rule-badge')?.className.match(/action-(\w+)/) ?? [])[1],
            condition: li.querySelector('.rule-cond')?.textContent ?? '',
            matched: counts[0],
            acted: counts[1],
            visible: rect.width > 0 && rect.height > 0,
          };
        }),
      ),
    /** Clicks a rule's enabled checkbox in the Rules view. */
    toggleRule: async (name) =>
      (await panel())
        .locator(`.rules-list:not(.rules-saved-list) input.rule-enabled[aria-label=${JSON.stringify(`Enabled: ${name}`)}]`)
        .click(),
    /** Waits for a pause by the break rule `ruleName`; returns the call stack rows and its top frame. */
    waitForPause: async (what, ruleName, port) => {
      const prefix = `Net Trace: paused on GET http://127.0.0.1:${port}/api/orders/`;
      return until(
        what,
        async () => {
          const rows = await callStackRows(page);
          const top = rows.find((r) => r.kind === 'frame');
          if (!top) return undefined;
          // VS Code asks for the first 20 frames: the program's line must be among them, above
          // any "Load More Stack Frames" (the async part of the stack may go on past them).
          const more = rows.findIndex((r) => r.kind === 'other' && r.text === 'Load More Stack Frames');
          const own = rows.findIndex((r) => r.kind === 'frame' && isOrdersTs(r.file));
          assert.ok(
            own >= 0 && (more < 0 || own < more),
            `the program's frame is within the first frames loaded, above any "Load More Stack Frames": ${rows.map(fmtRow).join(' | ')}`,
          );
          assert.ok(top.name.startsWith(prefix) && top.name.endsWith(` (rule '${ruleName}')`), `the top frame: ${fmtRow(top)}`);
          return rows.some((r) => r.kind === 'frame' && isOrdersTs(r.file)) && { rows, top };
        },
        120_000,
        500,
      );
    },
    /** Folds the Run and Debug side bar's panes named `names`. */
    foldPanes: async (names) => {
      for (const name of names) {
        const header = page.locator('.debug-viewlet .pane-header', { hasText: new RegExp(`^${name}`) }).first();
        await header.waitFor({ state: 'visible', timeout: 20_000 });
        if ((await header.getAttribute('aria-expanded')) === 'true') await header.click();
        await until(`the ${name} pane to fold`, async () => (await header.getAttribute('aria-expanded')) === 'false', 10_000);
      }
    },
    /** Stop (Shift+F5), chosen by its exact name in the Command Palette. */
    stop: async () => {
      await page.keyboard.press('F1');
      await quickInput(page).fill('>Debug: Stop');
      const row = page
        .locator('.quick-input-widget .monaco-list-row')
        .filter({ has: page.locator('.label-name', { hasText: /^Debug: Stop$/ }) });
      await row.first().click({ timeout: 10_000 });
    },
    /** Continue, from the debug toolbar. */
    continue: () => page.locator('.debug-toolbar .codicon-debug-continue').first().click(),
    /**
     * The text of the line the editor of `file` marks as the focused stack frame's (after a frame
     * is selected in the Call Stack), or undefined.
     */
    focusedFrameLine: (file) =>
      page.evaluate((name) => {
        const editor = [...document.querySelectorAll('.monaco-editor[data-uri]')].find((e) =>
          e.getAttribute('data-uri').endsWith(`/${name}`),
        );
        const mark = editor?.querySelector('.view-overlays .debug-focused-stack-frame-line, .view-overlays .debug-top-stack-frame-line');
        const top = mark?.parentElement?.style.top;
        if (!top) return undefined;
        return [...editor.querySelectorAll('.view-lines .view-line')]
          .find((l) => l.style.top === top)
          ?.textContent?.replace(/\u00a0/g, ' ');
      }, file),
  };
  return ui;
}
