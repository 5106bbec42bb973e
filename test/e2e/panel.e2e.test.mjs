// covers: src/extension/, webview/
// End-to-end: the packaged extension in a real VS Code (code-server) driven through headless
// Chromium. Opens the fixture workspace, presses F5 on its "Net Trace" launch configuration,
// waits for the panel to list the fixture's requests (success, redirect, failure, hostile),
// checks a request's details, that the initiator opens app.js at the right line and column,
// runs "Net Trace: Save Trace" from the command palette through the save dialog, reads the
// file back as a trace (mode 0600), checks that no hostile payload ran, and stores screenshots.
// Then TypeScript: a compiled program with an on-disk source map (breakpoint before its request),
// and a program run through `--import tsx` (axios, a redirect axios follows, fetch) at 1440×900
// with the Run and Debug side bar open, paused at a breakpoint set in the editor after its last
// request: the panel and the status bar list every completed request while the program is
// paused, each initiator opens the .ts file at the request's line, CodeLens sits on those lines,
// and the followed redirect is not a failure.
//
// Run by scripts/e2e.sh, which installs code-server/Node 24/Chromium and builds the .vsix, and
// passes them in NETTRACE_E2E_* variables.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import {
  extensionsStarted,
  extHostLog,
  findFrame,
  missing,
  openBrowser,
  openFile,
  openWorkbench,
  prepareWorkspace,
  quickInput,
  quickOpen,
  resultsDir,
  root,
  runCommand,
  saveLogs,
  sessionEnded,
  sleep,
  startCodeServer,
  startDebugging,
  statusCount,
  stepper,
  until,
} from './support/codeServer.mjs';
import { codeLensLines, enterDialogPath, goToLine, setBreakpoint } from './support/workbench.mjs';

const results = resultsDir();

const IMG = '<img src=x onerror=window.__pwned=1;window.top.__pwned=1>';
const SCRIPT = '<script>window.__pwned=1;window.top.__pwned=1</script>';

const step = stepper('e2e');

/** 1-based line of the fixture line carrying `// e2e: <tag>`. */
function markerLine(source, tag) {
  const i = source.split('\n').findIndex((l) => l.includes(`// e2e: ${tag}`));
  assert.ok(i >= 0, `marker ${tag}`);
  return i + 1;
}

/**
 * Failed checks that do not stop the test (so one run reports all of them); the test fails at
 * its end when there is any.
 */
const failedChecks = [];
async function check(what, fn) {
  try {
    await fn();
    step(`ok: ${what}`);
  } catch (err) {
    failedChecks.push(`${what}: ${err.message}`);
    step(`FAILED: ${what}: ${err.message}`);
  }
}

test(
  'Net Trace in VS Code: F5, live panel, details, initiator, Save Trace, hostile server',
  { skip: missing, timeout: 12 * 60_000 },
  async () => {
    // Paths with spaces everywhere: the workspace (program path) and the extensions folder
    // (the preload's path in NODE_OPTIONS). The tsx program imports axios and runs with
    // `--import tsx`: both resolve from the workspace's node_modules, as in a user's project
    // (here the repository's devDependencies).
    const dirs = prepareWorkspace({
      workspaceName: 'my workspace',
      settings: { 'files.simpleDialog.enable': true },
      linkNodeModules: true,
    });
    const { workspace, userData } = dirs;
    // The TypeScript fixture, compiled with a linked source map (as tsc/esbuild users have it).
    buildSync({
      entryPoints: [join(workspace, 'src', 'client.ts')],
      outfile: join(workspace, 'out', 'client.js'),
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      sourcemap: 'linked',
      logLevel: 'error',
    });

    step('installing the .vsix');
    const cs = await startCodeServer(dirs, { results, installLog: true });
    assert.match(cs.install.stdout, /was successfully installed/, cs.install.stdout);
    step(`code-server on ${cs.origin}; starting Chromium`);
    const { page, shot } = await openBrowser({ viewport: { width: 1920, height: 1000 }, results });
    const pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });

    try {
      await openWorkbench(page, cs);
      step('workbench loaded');

      // ---- open app.js and start debugging with F5 ----------------------------------------------------
      const source = readFileSync(join(workspace, 'app.js'), 'utf8');
      await openFile(page, 'app.js');
      // Room for the panel beside the editor: no side bars.
      await runCommand(page, 'View: Close Primary Side Bar');
      await runCommand(page, 'View: Close Secondary Side Bar').catch(() => page.keyboard.press('Escape'));
      step('app.js open; pressing F5');
      await extensionsStarted(userData);
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('F5');
      await until('Net Trace to activate on F5', () => /_doActivateExtension nettrace\.nettrace/.test(extHostLog(userData)), 30_000, 500);
      step('extension activated by F5');

      // ---- the panel ---------------------------------------------------------------------------------
      const panel = await until('the Net Trace panel', () => findFrame(page, '.list-body'), 90_000, 500);
      step('panel open');
      const rows = () =>
        panel.$$eval('.list-rows .row', (els) =>
          els.filter((e) => e.style.display !== 'none').map((e) => e.innerText.replace(/\s+/g, ' ')),
        );
      // Sampled often, with the status bar's count each time: the two must move together.
      const samples = [];
      await until(
        'the fixture requests in the panel',
        async () => {
          const r = await rows();
          samples.push({ at: Date.now(), rows: r.length, status: await statusCount(page) });
          const has = (re) => r.some((t) => re.test(t));
          return has(/\/api\/users .*200/) && has(/\/old .*302/) && has(/\/down .*ECONNREFUSED/) && has(/\/next\//) && r.length >= 6;
        },
        90_000,
        40,
      );
      const listed = await rows();
      step(`panel lists ${listed.length} requests:\n    ${listed.join('\n    ')}`);
      await check('the status bar count follows the panel list (within 200 ms of each change)', async () => {
        const final = listed.length;
        await until('the status bar count to reach the list', async () => (await statusCount(page)) === final, 10_000, 20).catch(() => {});
        samples.push({ at: Date.now(), rows: final, status: await statusCount(page) });
        // For each count the list reached, when the status bar reached it too.
        const lags = [];
        for (let i = 0; i < samples.length; i++) {
          if (i > 0 && samples[i].rows === samples[i - 1].rows) continue;
          const caught = samples.slice(i).find((x) => x.status !== undefined && x.status >= samples[i].rows);
          lags.push({ rows: samples[i].rows, lagMs: caught ? caught.at - samples[i].at : Infinity });
        }
        step(`status bar behind the list: ${JSON.stringify(lags)}`);
        assert.ok(
          lags.every((l) => l.lagMs <= 200),
          JSON.stringify(lags),
        );
      });

      // Status bar while the session runs.
      const statusText = await until(
        'the Net Trace status bar item',
        async () => {
          const t = await page
            .locator('.statusbar-item', { hasText: /Net Trace: \d+ request/ })
            .first()
            .innerText({ timeout: 1000 });
          return /Net Trace: [6-9] requests, [1-9] failed/.test(t) && t;
        },
        20_000,
      ).catch((err) => `missing (${err.message})`);
      step(`status bar: ${statusText}`);
      assert.match(statusText, /Net Trace: [6-9] requests, [1-9] failed/);

      // ---- details of the successful request ---------------------------------------------------------
      const usersRow = panel.locator('.list-rows .row', { hasText: '/api/users' }).filter({ hasText: '200' }).first();
      await usersRow.locator('.c-name').click();
      const detail = panel.locator('.detail');
      await until(
        'the detail view of /api/users',
        async () => /GET/.test(await detail.innerText()) && /\/api\/users/.test(await detail.locator('.detail-head').innerText()),
        15_000,
      );
      assert.match(await detail.locator('.detail-head').innerText(), /200/);
      await detail.locator('[data-tab="timing"]').click();
      await until('the timing tab', async () => /phases/i.test(await detail.locator('.detail-content').innerText()), 10_000);
      const timingText = await detail.locator('.detail-content').innerText();
      assert.match(timingText, /Waiting|wait/i);
      await detail.locator('[data-tab="headers"]').click();
      await until('the headers tab', async () => /content-type/i.test(await detail.locator('.detail-content').innerText()), 10_000);
      assert.match(await detail.locator('.detail-content').innerText(), /application\/json/);
      await detail.locator('[data-tab="connection"]').click();
      await until('the connection tab', async () => /127\.0\.0\.1/.test(await detail.locator('.detail-content').innerText()), 10_000);
      step('details of GET /api/users checked (status, timing, headers, connection)');
      await shot('panel-details');

      // ---- the initiator opens app.js at the line and column ------------------------------------------
      const usersLine = markerLine(source, 'users');
      const initiator = usersRow.locator('.c-initiator .link');
      assert.equal(await initiator.innerText(), `app.js:${usersLine}`);
      // Move the cursor away first so the jump is observable.
      await page.keyboard.press('Escape');
      await initiator.click();
      const cursor = await until(
        `the editor at app.js:${usersLine}`,
        async () => {
          const t = await page.locator('[id="status.editor.selection"]').innerText({ timeout: 1000 });
          const m = /Ln (\d+), Col (\d+)/.exec(t);
          return m && Number(m[1]) === usersLine && { line: Number(m[1]), column: Number(m[2]) };
        },
        20_000,
      );
      const activeTab = await page.locator('.editor-group-container.active .tab.active').first().getAttribute('aria-label');
      assert.match(activeTab ?? '', /^app\.js\b/);
      step(`initiator opened app.js at Ln ${cursor.line}, Col ${cursor.column}`);

      // ---- the hostile server: literal text, nothing executed --------------------------------------------
      const hostileRow = panel.locator('.list-rows .row', { hasText: `/<img/src=x/onerror=window.__pwned=1>?q=${SCRIPT}` }).first();
      await hostileRow.locator('.c-name').click();
      await detail.locator('[data-tab="headers"]').click();
      await until('hostile headers shown as text', async () => (await detail.locator('.detail-content').innerText()).includes(IMG), 10_000);
      const hostileText = await detail.innerText();
      assert.ok(hostileText.includes(SCRIPT), 'the script payload is shown literally');
      assert.ok(hostileText.includes(`/<img/src=x/onerror=window.__pwned=1>?q=${SCRIPT}`), 'the URL is shown literally');
      assert.ok(hostileText.includes(`/next/${SCRIPT}`), 'the redirect target is shown literally');
      const injected = await panel.evaluate(() => ({
        // Elements the network could have injected into the panel's content.
        inApp: document.querySelectorAll('#app script, #app img, #app iframe, #app object, #app [onerror], #app [onload]').length,
        // Scripts anywhere in the page: VS Code's webview bootstrap and the nonce'd bundle only.
        payloadScripts: [...document.scripts].filter((s) => /pwned/.test(s.textContent + s.src)).length,
        imgs: document.querySelectorAll('img').length,
      }));
      assert.deepEqual(injected, { inApp: 0, payloadScripts: 0, imgs: 0 }, 'no element from the network in the panel DOM');
      step('hostile payloads rendered as text, no injected elements');
      await shot('panel-hostile');

      // ---- wait for the session to end; then Save Trace from the command palette -------------------------
      await sessionEnded(page, 'the debug session to end (status bar item gone)');
      step('session ended');
      // Back to the successful request for the screenshot (the README's is screenshot.e2e.test.mjs's).
      await usersRow.locator('.c-name').click();
      await detail.locator('[data-tab="timing"]').click();
      await sleep(500);
      await page.screenshot({ path: join(results, 'panel.png') });
      mkdirSync(join(root, 'test-results'), { recursive: true });
      copyFileSync(join(results, 'panel.png'), join(root, 'test-results', 'panel.png'));

      const savedPath = join(workspace, 'saved trace.json');
      await page.locator('.monaco-editor .view-lines').first().click();
      await runCommand(page, 'Net Trace: Save Trace');
      step('save dialog');
      const input = quickInput(page);
      await until('the save dialog', async () => (await input.inputValue()).endsWith('.json'), 20_000);
      await input.fill(savedPath);
      await sleep(300);
      await input.press('Enter');
      await until(`${savedPath} to be written`, async () => existsSync(savedPath) && statSync(savedPath).size > 0, 20_000);
      await sleep(300);
      const mode = statSync(savedPath).mode & 0o777;
      assert.equal(mode.toString(8), '600', 'the saved trace is readable by its owner only');
      const saved = JSON.parse(readFileSync(savedPath, 'utf8'));
      copyFileSync(savedPath, join(results, 'saved-trace.json'));
      assert.equal(saved.formatVersion, 2);
      const urls = saved.httpRequests.map((r) => r.reqURL);
      step(`saved trace: ${saved.httpRequests.length} requests`);
      const find = (re) => saved.httpRequests.find((r) => re.test(r.reqURL));
      const users = find(/\/api\/users$/);
      assert.equal(users?.respStatusCode, 200, urls.join(', '));
      assert.equal(find(/\/old$/)?.respStatusCode, 302);
      const followed = saved.httpRequests.filter((r) => /\/api\/users$/.test(r.reqURL));
      assert.ok(followed.length >= 2, 'the redirect was followed');
      const refused = find(/\/down$/);
      assert.equal(refused?.reqError?.code ?? refused?.reqError?.cause?.code, 'ECONNREFUSED');
      const hostile = saved.httpRequests.find((r) => r.reqURL.includes(`/<img/src=x/onerror=window.__pwned=1>?q=${SCRIPT}`));
      assert.ok(hostile, 'hostile request recorded');
      assert.ok(
        hostile.respHeaders.some(([, v]) => v === IMG),
        'hostile header value recorded as is',
      );
      // The initiator the panel opened is the recorded one.
      const frame = users.initiator.frames.find((f) => !f.library);
      assert.equal(frame.line, usersLine);
      assert.equal(cursor.column, frame.column, 'the editor cursor is at the initiator column');
      step('saved trace verified (formatVersion 2, success/redirect/failure present, mode 0600)');

      // ---- nothing executed anywhere ----------------------------------------------------------------------
      const pwned = [];
      for (const f of page.frames()) {
        const v = await f.evaluate(() => window.__pwned).catch(() => undefined);
        if (v !== undefined) pwned.push(f.url());
      }
      assert.deepEqual(pwned, [], 'no hostile payload ran');
      step(`no __pwned in ${page.frames().length} frames`);

      // ---- Open Trace File (no debug session running) shows the saved file ---------------------------------
      await page.locator('.monaco-editor .view-lines').first().click();
      await runCommand(page, 'Net Trace: Open Trace File');
      await until('the open dialog', async () => (await input.isVisible()) && (await input.inputValue()).startsWith('/'), 20_000);
      // The simple dialog may still be listing the folder and put its path back into the box
      // after a first fill (seen on the loaded 2-core machine): fill until the path stays.
      await enterDialogPath(input, savedPath, 'the path in the open dialog');
      await until(
        'the opened file in the panel',
        async () => {
          const label = await panel.$eval('.trace-select', (el) => el.options[el.selectedIndex]?.textContent ?? '');
          return label.includes('saved trace.json') && (await rows()).length === saved.httpRequests.length;
        },
        20_000,
      );
      step('Open Trace File: the saved trace is shown from the file');

      // ---- TypeScript with source maps: breakpoint hit, initiator mapped to the .ts line ---------------------
      const tsSource = readFileSync(join(workspace, 'src', 'client.ts'), 'utf8');
      const bpLine = markerLine(tsSource, 'breakpoint');
      const tsLine = markerLine(tsSource, 'ts-request');
      await runCommand(page, 'View: Focus First Editor Group');
      await quickOpen(page, 'client.ts');
      await goToLine(page, bpLine);
      await page.keyboard.press('F9');
      await page.waitForSelector('.monaco-editor .codicon-debug-breakpoint', { timeout: 10_000 });
      step(`breakpoint set at client.ts:${bpLine}; starting "Net Trace: TypeScript"`);
      await startDebugging(page, 'Net Trace: TypeScript', 10_000);
      await page.waitForSelector('.monaco-editor .debug-top-stack-frame-line', { timeout: 60_000 });
      const pausedAt = await page.locator('[id="status.editor.selection"]').innerText();
      step(`paused on the breakpoint (${pausedAt})`);
      assert.match(pausedAt, new RegExp(`Ln ${bpLine},`));
      // Nothing requested yet: the request line comes after the breakpoint.
      // The panel follows the new session (its page may have been reloaded: look the frame up again).
      const tsPanel = await until(
        'the panel on the TypeScript session',
        async () => {
          const f = await findFrame(page, '.list-body');
          const label = f ? await f.$eval('.trace-select', (el) => el.options[el.selectedIndex]?.textContent ?? '') : '';
          return /client\.js/.test(label) && f;
        },
        30_000,
      );
      const tsRows = () =>
        tsPanel.$$eval('.list-rows .row', (els) =>
          els.filter((e) => e.style.display !== 'none').map((e) => e.innerText.replace(/\s+/g, ' ')),
        );
      assert.equal((await tsRows()).length, 0, 'no request before the breakpoint line');
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('F5');
      await until(
        'the TypeScript request with a source-mapped initiator',
        async () => (await tsRows()).some((t) => /\/ts\/hello .*200 .*client\.ts:/.test(t)),
        30_000,
      );
      const tsRow = tsPanel.locator('.list-rows .row', { hasText: '/ts/hello' }).first();
      assert.equal(await tsRow.locator('.c-initiator .link').innerText(), `client.ts:${tsLine}`);
      await tsRow.locator('.c-initiator .link').click();
      await until(
        `the editor at client.ts:${tsLine}`,
        async () => {
          const t = await page.locator('[id="status.editor.selection"]').innerText({ timeout: 1000 });
          const label = await page.locator('.editor-group-container.active .tab.active').first().getAttribute('aria-label');
          if (new RegExp(`Ln ${tsLine},`).test(t) && /\bclient\.ts\b/.test(label ?? '')) return true;
          // Say what was seen instead, for the timeout's message.
          throw new Error(`cursor "${t}", active tab "${label}"`);
        },
        20_000,
      );
      step(`TypeScript: breakpoint hit, request initiator client.ts:${tsLine} opened`);
      await sessionEnded(page, 'the TypeScript session to end');

      // ---- TypeScript through `--import tsx` (axios, fetch), paused at a breakpoint ----------------------
      // As a user has it after F5: a laptop-sized window with the Run and Debug side bar open.
      await page.setViewportSize({ width: 1440, height: 900 });
      const apiSource = readFileSync(join(workspace, 'src', 'api.ts'), 'utf8');
      const at = {
        get: markerLine(apiSource, 'axios-get'),
        redirect: markerLine(apiSource, 'axios-redirect'),
        fetch: markerLine(apiSource, 'fetch'),
        paused: markerLine(apiSource, 'paused'),
        // The marker is the listener's first line (formatted onto a line of its own): the function starts above it.
        handler: markerLine(apiSource, 'handler') - 1,
      };
      await runCommand(page, 'View: Focus First Editor Group');
      await quickOpen(page, 'api.ts');
      // A real breakpoint, set in the editor (F9 on the line).
      await setBreakpoint(page, 'api.ts', at.paused);
      await runCommand(page, 'View: Show Run and Debug');
      step(`breakpoint set at api.ts:${at.paused}; starting "Net Trace: tsx" with the Run and Debug view open`);
      await startDebugging(page, 'Net Trace: tsx', 10_000);
      await page.waitForSelector('.monaco-editor[data-uri$="/api.ts"] .debug-top-stack-frame-line', { timeout: 90_000 });
      const tsxPausedAt = await page.locator('[id="status.editor.selection"]').innerText();
      step(`paused on the breakpoint in api.ts (${tsxPausedAt})`);
      assert.match(tsxPausedAt, new RegExp(`Ln ${at.paused},`));
      const tsxPanel = await until(
        'the panel on the tsx session',
        async () => {
          const f = await findFrame(page, '.list-body');
          const label = f ? await f.$eval('.trace-select', (el) => el.options[el.selectedIndex]?.textContent ?? '') : '';
          return /api\.ts/.test(label) && f;
        },
        30_000,
      );
      /** The visible rows: URL path, status cell, initiator link, failed/pending classes. */
      const tsxRows = () =>
        tsxPanel.$$eval('.list-rows .row', (els) =>
          els
            .filter((e) => e.style.display !== 'none')
            .map((e) => ({
              slot: e.getAttribute('data-slot'),
              text: e.innerText.replace(/\s+/g, ' '),
              path: (() => {
                try {
                  return new URL(e.querySelector('.c-name')?.getAttribute('title') ?? e.querySelector('.c-name')?.textContent ?? '')
                    .pathname;
                } catch {
                  return (e.querySelector('.c-name')?.textContent ?? '').trim();
                }
              })(),
              status: (e.querySelector('.c-status')?.textContent ?? '').trim(),
              initiator: (e.querySelector('.c-initiator .link')?.textContent ?? '').trim(),
              failed: e.classList.contains('failed'),
              pending: e.classList.contains('pending'),
            })),
        );
      // While paused: every request the program completed before the breakpoint line is listed,
      // finished (the fetch right before the pause included), and the status bar agrees.
      let paused = [];
      let listedAt;
      await check('paused: the panel lists the 4 completed requests (axios GET, the redirect and its hop, fetch)', async () => {
        paused = await until(
          'the completed requests in the panel while paused',
          async () => {
            const r = await tsxRows();
            // Finished: not pending, with a status or an error (the redirect's status is checked below).
            const fetched = r.find((x) => /\/api\/fetch$/.test(x.path));
            return r.length === 4 && r.every((x) => !x.pending && x.status !== '') && /^200\b/.test(fetched?.status ?? '') && r;
          },
          20_000,
          50,
        ).catch(async (err) => {
          throw new Error(`${err.message}; rows: ${JSON.stringify(await tsxRows())}`);
        });
        listedAt = Date.now();
      });
      // The status bar moves with the panel (both follow the session's change events): when the
      // panel has just listed the 4 requests, the status bar says so too, not a moment later.
      await check('paused: the status bar says 4 requests as the panel lists them (within 150 ms)', async () => {
        assert.ok(listedAt, 'the panel never listed them');
        let seen = '';
        for (;;) {
          seen = await page
            .locator('.statusbar-item', { hasText: /Net Trace: \d+ request/ })
            .first()
            .innerText({ timeout: 1000 })
            .catch(() => '');
          const lag = Date.now() - listedAt;
          if (/Net Trace: 4 requests\b/.test(seen)) return;
          if (lag > 150) throw new Error(`${lag} ms after the panel listed 4 requests the status bar says "${seen}"`);
          await sleep(20);
        }
      });
      await shot('tsx-paused');
      if (paused.length === 0) paused = await tsxRows();
      step(`paused; the panel lists ${paused.length} requests:\n    ${paused.map((r) => r.text).join('\n    ')}`);
      await check('paused: the status bar counts what the panel lists', async () => {
        const want = new RegExp(`Net Trace: ${paused.length} requests?\\b`);
        let seen = '';
        await until(
          `the status bar to say ${paused.length} requests`,
          async () => {
            seen = await page
              .locator('.statusbar-item', { hasText: /Net Trace: \d+ request/ })
              .first()
              .innerText({ timeout: 1000 });
            return want.test(seen);
          },
          10_000,
        ).catch((err) => {
          throw new Error(`${err.message}; status bar "${seen}"`);
        });
      });
      await check('the redirect axios followed (302) is not a failure', async () => {
        const moved = paused.find((r) => /\/moved$/.test(r.path));
        assert.ok(moved, 'the /moved request is listed');
        assert.match(moved.status, /^302\b/, `status cell "${moved.status}"`);
        assert.equal(moved.failed, false, `the /moved row is marked failed ("${moved.text}")`);
        const statusBar = await page
          .locator('.statusbar-item', { hasText: /Net Trace: \d+ request/ })
          .first()
          .innerText();
        assert.doesNotMatch(statusBar, /failed/, `status bar "${statusBar}"`);
      });
      // Each request's initiator is its line in api.ts: axios's GET, the redirect (and the hop
      // follow-redirects makes for it), fetch.
      await check('each initiator names its line in api.ts', async () => {
        const items = paused.filter((r) => /\/api\/items$/.test(r.path)).map((r) => r.initiator);
        const got = {
          fetch: paused.filter((r) => /\/api\/fetch$/.test(r.path)).map((r) => r.initiator),
          moved: paused.filter((r) => /\/moved$/.test(r.path)).map((r) => r.initiator),
          items: items.sort(),
        };
        assert.deepEqual(got, {
          fetch: [`api.ts:${at.fetch}`],
          moved: [`api.ts:${at.redirect}`],
          items: [`api.ts:${at.get}`, `api.ts:${at.redirect}`].sort(),
        });
      });
      // The Initiator column at this size: shown whole, or collapsed with the other non-essential
      // columns (the header's column menu brings it back; the Initiator tab and CodeLens name the
      // line meanwhile), never cut off past the panel's edge.
      {
        const col = await tsxPanel.evaluate(() => {
          const cell = document.querySelector('.list-header .hcell.c-initiator');
          if (!cell) return undefined;
          const r = cell.getBoundingClientRect();
          return {
            collapsed: getComputedStyle(cell).display === 'none',
            right: Math.round(r.right),
            viewport: document.documentElement.clientWidth,
          };
        });
        assert.ok(col, 'the list has an Initiator column');
        assert.ok(col.collapsed || col.right <= col.viewport, `the Initiator column is whole or collapsed: ${JSON.stringify(col)}`);
        step(
          `the Initiator column at 1440×900 with Run and Debug open: ${col.collapsed ? 'collapsed' : `shown (right edge ${col.right} of ${col.viewport} px)`}`,
        );
      }
      // Each request's Initiator tab: its program frame is the line in api.ts, and opens it.
      const itemsRows = paused.filter((r) => /\/api\/items$/.test(r.path));
      const tsxDetail = tsxPanel.locator('.detail');
      for (const [what, row, line] of [
        ['axios GET', itemsRows[0], at.get],
        ['axios redirect (302)', paused.find((r) => /\/moved$/.test(r.path)), at.redirect],
        ['followed hop', itemsRows[1], at.redirect],
        ['fetch', paused.find((r) => /\/api\/fetch$/.test(r.path)), at.fetch],
      ]) {
        if (!row) continue;
        await check(`the ${what} request's initiator opens api.ts at line ${line}`, async () => {
          await tsxPanel.locator(`.list-rows .row[data-slot="${row.slot}"] .c-name`).click({ timeout: 5000 });
          await tsxDetail.locator('[data-tab="initiator"]').click({ timeout: 5000 });
          const stack = await until('the Initiator tab', async () => (await tsxDetail.locator('.detail-content').innerText()).trim(), 5000);
          const program = tsxDetail.locator('.detail-content .frame:not(.library) .link').first();
          if ((await program.count()) === 0)
            throw new Error(`no program frame in the Initiator tab: ${stack.replace(/\s+/g, ' ').slice(0, 300)}`);
          const link = await program.innerText();
          await program.click({ timeout: 5000 });
          let seen = '';
          await until(
            `the editor at api.ts:${line}`,
            async () => {
              const t = await page.locator('[id="status.editor.selection"]').innerText({ timeout: 1000 });
              const label = await page.locator('.editor-group-container.active .tab.active').first().getAttribute('aria-label');
              seen = `cursor "${t}", active tab "${label}"`;
              return new RegExp(`Ln ${line},`).test(t) && /^api\.ts\b/.test(label ?? '');
            },
            10_000,
          ).catch((err) => {
            throw new Error(`${err.message}; the link "${link}" opened: ${seen}`);
          });
        });
        await shot(`tsx-initiator-${what.replace(/\W+/g, '-').replace(/-$/, '')}`);
      }
      // CodeLens in api.ts: one lens on each request line, none elsewhere.
      await runCommand(page, 'View: Focus First Editor Group');
      await quickOpen(page, 'api.ts');
      // The whole file in view (lenses are measured against the line numbers on screen).
      await page.keyboard.press('Control+Home');
      await sleep(300);
      // The requests' lines, and the server's request listener (the program serves itself): how
      // many requests it served.
      await check(`CodeLens sits on api.ts lines ${at.get}, ${at.redirect}, ${at.fetch} and the handler's ${at.handler}`, async () => {
        let lenses = [];
        await until(
          'the CodeLens on the request lines and the handler',
          async () => {
            lenses = await codeLensLines(page, 'api.ts');
            const served = lenses.filter((l) => /^served \d+ · median /.test(l.text));
            const lines = [...new Set(lenses.filter((l) => !served.includes(l)).map((l) => l.line))].sort((a, b) => a - b);
            return (
              JSON.stringify(lines) === JSON.stringify([at.get, at.redirect, at.fetch]) &&
              served.length === 1 &&
              served[0].line === at.handler
            );
          },
          10_000,
        ).catch((err) => {
          throw new Error(`${err.message}; lenses: ${JSON.stringify(lenses)}`);
        });
      });
      await shot('tsx-codelens');
      // The flush through the debugger is silent: nothing of it in the Debug Console.
      await check('the Debug Console shows nothing of the flush', async () => {
        await runCommand(page, 'Debug Console: Focus on Debug Console View');
        const repl = page.locator('.repl');
        await repl.first().waitFor({ timeout: 10_000 });
        await sleep(500);
        const text = await repl.first().innerText();
        await shot('tsx-debug-console');
        assert.doesNotMatch(text, /flushNow|nettrace/i, `Debug Console: ${text}`);
        assert.ok(!text.split('\n').some((l) => l.trim() === 'undefined'), `Debug Console: ${text}`);
      });
      step('resuming the tsx program');
      await page.locator('.monaco-editor[data-uri$="/api.ts"] .view-lines').first().click();
      await page.keyboard.press('F5');
      await sessionEnded(page, 'the tsx session to end');
      step('tsx session ended');

      // ---- the panel survives a window reload (serializer), with the session kept as "earlier" -------------
      step('reloading the window');
      await page.reload();
      await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
      const restored = await until('the panel restored after the reload', () => findFrame(page, '.list-body'), 120_000, 500);
      const restoredRows = await until(
        'the earlier session listed again',
        async () => {
          const r = await restored.$$eval('.list-rows .row', (els) =>
            els.filter((e) => e.style.display !== 'none').map((e) => e.innerText),
          );
          return r.length > 0 && r;
        },
        60_000,
        500,
      );
      const selected = await restored.$eval('.trace-select', (el) => el.options[el.selectedIndex]?.textContent ?? '');
      step(`after the reload the panel shows ${restoredRows.length} requests of "${selected}"`);
      for (const f of page.frames()) {
        assert.equal(await f.evaluate(() => window.__pwned).catch(() => undefined), undefined, 'no hostile payload ran after the reload');
      }
      writeFileSync(join(results, 'page-errors.log'), pageErrors.join('\n'));
      assert.deepEqual(failedChecks, [], `${failedChecks.length} checks failed`);
    } catch (err) {
      await shot('failure');
      writeFileSync(join(results, 'page-errors.log'), pageErrors.join('\n'));
      const frames = [];
      for (const f of page.frames()) {
        const html = await f.evaluate(() => document.documentElement.outerHTML.slice(0, 3000)).catch((e) => `(${e.message})`);
        frames.push(`=== ${f.url()}\n${html}`);
      }
      writeFileSync(join(results, 'frames.log'), frames.join('\n\n'));
      // VS Code's logs (extension host, the Net Trace output channel) for the post-mortem.
      saveLogs(userData, join(results, 'logs'));
      throw err;
    }
  },
);
