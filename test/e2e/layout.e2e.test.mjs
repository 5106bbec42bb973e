// End-to-end: the panel's layout in a real VS Code (code-server) as F5 leaves it — 1440×900 with
// the Run and Debug side bar open, the panel beside the editor (about 540 px). The toolbar is one
// line, the waterfall column is on screen with a labelled header, focusing every control never
// shifts the webview's document, a column hidden through the header's column menu stays hidden,
// and stays hidden when the panel is closed and opened again (remembered per workspace).
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../webview-harness/harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const env = process.env;
const codeServer = env.NETTRACE_E2E_CODE_SERVER;
const node24 = env.NETTRACE_E2E_NODE24;
const vsix = env.NETTRACE_E2E_VSIX;
const chromiumPath = env.NETTRACE_E2E_CHROMIUM ?? '/usr/bin/chromium';
const results = join(env.NETTRACE_E2E_RESULTS ?? join(root, 'test-results', 'e2e'), 'layout');
const skip = !codeServer || !node24 || !vsix ? 'run through scripts/e2e.sh (needs code-server, Node 24 and the .vsix)' : false;

const t0 = Date.now();
const step = (what) => console.error(`e2e layout [${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, timeoutMs = 30_000, intervalMs = 250) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`,
      );
    await sleep(intervalMs);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const cleanup = [];
after(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => {});
});

test(
  'panel layout at 1440×900 with Run and Debug open: one-line toolbar, waterfall visible, no shift, column hide remembered',
  { skip, timeout: 10 * 60_000 },
  async () => {
    mkdirSync(results, { recursive: true });
    const base = mkdtempSync(join(tmpdir(), 'nettrace e2e layout '));
    cleanup.push(async () => rmSync(base, { recursive: true, force: true }));
    const workspace = join(base, 'ws');
    const userData = join(base, 'user data');
    const extensions = join(base, 'ext dir');
    cpSync(join(root, 'test', 'e2e', 'fixture'), workspace, { recursive: true });
    mkdirSync(join(userData, 'User'), { recursive: true });
    writeFileSync(
      join(userData, 'User', 'settings.json'),
      JSON.stringify({
        'security.workspace.trust.enabled': false,
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'update.mode': 'none',
        'debug.internalConsoleOptions': 'neverOpen',
        'window.commandCenter': false,
        'chat.disableAIFeatures': true,
        'workbench.secondarySideBar.defaultVisibility': 'hidden',
      }),
    );
    const csEnv = {
      ...env,
      PATH: `${dirname(node24)}:${env.PATH}`,
      XDG_CONFIG_HOME: join(base, 'config'),
      XDG_DATA_HOME: join(base, 'data'),
    };
    delete csEnv.NODE_OPTIONS;
    const entry = join(codeServer, 'out', 'node', 'entry.js');
    const common = ['--user-data-dir', userData, '--extensions-dir', extensions, '--disable-telemetry', '--disable-update-check'];
    const install = spawnSync(node24, [entry, ...common, '--install-extension', vsix], { env: csEnv, encoding: 'utf8', timeout: 120_000 });
    assert.equal(install.status, 0, `--install-extension failed: ${install.stderr}`);

    const port = await freePort();
    const csLog = createWriteStream(join(results, 'code-server.log'));
    const cs = spawn(
      node24,
      [
        entry,
        ...common,
        '--auth',
        'none',
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        workspace,
      ],
      { env: csEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    cs.stdout.pipe(csLog);
    cs.stderr.pipe(csLog);
    cleanup.push(async () => {
      try {
        process.kill(-cs.pid, 'SIGTERM');
      } catch {}
      await sleep(500);
      try {
        process.kill(-cs.pid, 'SIGKILL');
      } catch {}
    });
    await until('code-server /healthz', async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok, 60_000, 500);
    const browser = await chromium.launch({
      executablePath: chromiumPath,
      headless: true,
      args: [...CHROMIUM_ARGS, '--disable-dev-shm-usage'],
    });
    cleanup.push(() => browser.close());
    // As F5 leaves a laptop-sized window: the Run and Debug side bar open, the panel beside the editor.
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    const shot = (name) => page.screenshot({ path: join(results, `${name}.png`) }).catch(() => {});

    try {
      await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
      await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
      await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60_000 });
      await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'app.js' }).first().click();
      await page.waitForSelector('.monaco-editor .view-lines', { timeout: 30_000 });
      await until(
        'the extension host to start its extensions',
        () => extHostLog(userData).includes('Eager extensions activated'),
        90_000,
        500,
      );
      await runCommand(page, 'View: Show Run and Debug');
      await sleep(500);
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('F5');
      step('F5 pressed with Run and Debug open');
      let panel = await until('the Net Trace panel', () => findFrame(page, '.list-rows .row'), 120_000, 500);
      await until('the fixture requests', async () => (await panel.$$('.list-rows .row:not([style*="none"])')).length >= 6, 90_000, 500);
      await sleep(500);
      await shot('panel-540');

      const geometry = () =>
        panel.evaluate(() => {
          const tb = document.querySelector('.toolbar').getBoundingClientRect();
          const wf = document.querySelector('.list-header .c-waterfall');
          const body = document.querySelector('.list-body');
          const r = wf.getBoundingClientRect();
          return {
            width: document.documentElement.clientWidth,
            toolbar: Math.round(tb.height),
            waterfall: {
              width: Math.round(r.width),
              inside: r.right <= body.getBoundingClientRect().left + body.clientWidth + 0.5,
              label: wf.getAttribute('aria-label'),
            },
            hidden: [...document.querySelectorAll('.list-header .hcell')]
              .filter((c) => getComputedStyle(c).display === 'none')
              .map((c) => c.className.match(/c-(\w+)/)[1]),
          };
        });
      const g = await geometry();
      step(`panel geometry: ${JSON.stringify(g)}`);
      assert.ok(g.width >= 400 && g.width <= 800, `the panel is narrow, as beside the editor with Run and Debug open (${g.width} px)`);
      assert.ok(g.toolbar <= 36, `the toolbar is one line (${g.toolbar} px)`);
      assert.ok(g.waterfall.inside && g.waterfall.width >= 60, `the waterfall column is on screen (${JSON.stringify(g.waterfall)})`);
      assert.equal(g.waterfall.label, 'Waterfall');

      // Focus every control and link: the webview's document never moves.
      const moved = await panel.evaluate(() => {
        for (const e of document.querySelectorAll('button, select, input, [tabindex], .c-initiator .link')) {
          e.focus();
          e.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
        }
        const els = [document.scrollingElement, document.body, document.querySelector('.app')];
        return els.filter((e) => e.scrollLeft !== 0 || e.scrollTop !== 0).map((e) => e.className || e.tagName);
      });
      assert.deepEqual(moved, [], 'no document shift after focusing every control');

      // Hide the Method column through the header's column menu.
      await panel.click('.col-menu-button');
      await panel.click('.menu [role=menuitemcheckbox]:has-text("Method")');
      await until('Method hidden', async () => (await geometry()).hidden.includes('method'), 5_000);
      await shot('panel-method-hidden');

      // Close the panel and open it again: the workspace remembers the hidden column.
      await runCommand(page, 'View: Close All Editors');
      await until('the panel to close', async () => !(await findFrame(page, '.list-body')), 20_000, 300);
      await runCommand(page, 'Net Trace: Show Panel');
      panel = await until('the panel again', () => findFrame(page, '.list-rows .row'), 60_000, 500);
      await sleep(300);
      const again = await geometry();
      step(`reopened: ${JSON.stringify(again)}`);
      assert.ok(again.hidden.includes('method'), 'the hidden column stays hidden in a new panel of this workspace');
      await shot('panel-reopened');
    } catch (err) {
      await shot('failure');
      if (existsSync(join(userData, 'logs'))) cpSync(join(userData, 'logs'), join(results, 'logs'), { recursive: true });
      throw err;
    }
  },
);

/** The extension host logs of a code-server user data folder, concatenated. */
function extHostLog(userData) {
  const logs = join(userData, 'logs');
  if (!existsSync(logs)) return '';
  let text = '';
  for (const session of readdirSync(logs)) {
    const dir = join(logs, session);
    for (const host of existsSync(dir) ? readdirSync(dir) : []) {
      const f = join(dir, host, 'remoteexthost.log');
      if (host.startsWith('exthost') && existsSync(f)) text += readFileSync(f, 'utf8');
    }
  }
  return text;
}

/** The first frame (webviews are nested iframes) that has an element matching `selector`. */
async function findFrame(page, selector) {
  for (const f of page.frames()) {
    try {
      if (await f.$(selector)) return f;
    } catch {
      // detached frame
    }
  }
  return undefined;
}

/** Runs a command from the command palette (F1). */
async function runCommand(page, title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`>${title}`);
  const item = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
  await item.waitFor({ state: 'visible', timeout: 10_000 });
  await input.press('Enter');
}
