// Shared driving code of the end-to-end tests (test/e2e/*.e2e.test.mjs): a temporary workspace
// copied from test/e2e/fixture, the packaged extension installed into a fresh code-server, headless
// Chromium on its workbench, and the workbench gestures the tests share (command palette, Quick
// Open, the panel's webview frame, the status bar item, screenshots, logs for the post-mortem).
//
// Not a test file itself: it lives in support/ and its name does not end in `.test.mjs`, so
// `node --test test/e2e/` (scripts/e2e.sh) does not run it. scripts/e2e.sh installs code-server,
// Node 24 and Chromium, packages the .vsix and passes them in the NETTRACE_E2E_* variables.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { freePort } from '../../lib/ports.mjs';
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../webview-harness/harness.mjs';

/** The repository's root folder. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const env = process.env;
/** What scripts/e2e.sh passes: code-server's package folder, Node 24, Chromium, the .vsix. */
export const e2e = {
  codeServer: env.NETTRACE_E2E_CODE_SERVER,
  node24: env.NETTRACE_E2E_NODE24,
  vsix: env.NETTRACE_E2E_VSIX,
  chromium: env.NETTRACE_E2E_CHROMIUM ?? '/usr/bin/chromium',
  results: env.NETTRACE_E2E_RESULTS ?? join(root, 'test-results', 'e2e'),
};

/** The skip reason when the test is not run through scripts/e2e.sh, else false. */
export const missing =
  !e2e.codeServer || !e2e.node24 || !e2e.vsix ? 'run through scripts/e2e.sh (needs code-server, Node 24 and the .vsix)' : false;

/** The artifacts folder of a test: the results folder itself, or its subfolder `sub`. */
export function resultsDir(sub) {
  return sub ? join(e2e.results, sub) : e2e.results;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A logger printing `<prefix> [<seconds since now> s] <what>` to stderr. */
export function stepper(prefix) {
  const t0 = Date.now();
  return (what) => console.error(`${prefix} [${((Date.now() - t0) / 1000).toFixed(1)} s] ${what}`);
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function until(what, fn, timeoutMs = 30_000, intervalMs = 250) {
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

const cleanups = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
});

/** Registers an async `fn` run (latest first, errors ignored) after the file's tests. */
export function onCleanup(fn) {
  cleanups.push(fn);
}

/** The user settings every test starts from: no tips, telemetry, updates, AI, trust prompts. */
export const BASE_SETTINGS = {
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
};

/**
 * The user settings of a test that means workspace trust (`workspaceTrust`): trust on, and no
 * prompt at start-up, so the workspace (trusted by no one yet) opens in Restricted Mode.
 */
export const TRUST_SETTINGS = {
  'security.workspace.trust.enabled': true,
  'security.workspace.trust.startupPrompt': 'never',
};

/**
 * A temporary folder (`nettrace e2e [<label>] …`, removed after the tests) holding a copy of
 * test/e2e/fixture as `<workspaceName>`, a user data folder whose settings are BASE_SETTINGS plus
 * `settings`, and an extensions folder. `linkNodeModules` links the repository's node_modules
 * into the workspace (the tsx programs resolve tsx and axios from it, as in a user's project).
 * `workspaceTrust` adds TRUST_SETTINGS (with startCodeServer's `workspaceTrust`: the workspace
 * opens untrusted). Returns the paths; the test may add files to the workspace before startCodeServer.
 */
export function prepareWorkspace({ label = '', workspaceName = 'ws', settings = {}, linkNodeModules = false, workspaceTrust = false }) {
  const base = mkdtempSync(join(tmpdir(), label ? `nettrace e2e ${label} ` : 'nettrace e2e '));
  onCleanup(async () => rmSync(base, { recursive: true, force: true }));
  const workspace = join(base, workspaceName);
  const userData = join(base, 'user data');
  const extensions = join(base, 'ext dir');
  cpSync(join(root, 'test', 'e2e', 'fixture'), workspace, { recursive: true });
  if (linkNodeModules) symlinkSync(join(root, 'node_modules'), join(workspace, 'node_modules'), 'dir');
  mkdirSync(join(userData, 'User'), { recursive: true });
  const user = { ...BASE_SETTINGS, ...(workspaceTrust ? TRUST_SETTINGS : {}), ...settings };
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify(user, null, 2));
  return { base, workspace, userData, extensions };
}

/**
 * Installs the .vsix into `dirs.extensions` and starts code-server on a free port with the
 * workspace open (no auth; stopped after the tests), waiting for /healthz. Workspace trust is off
 * (`--disable-workspace-trust`: every workspace trusted, no prompt) unless `workspaceTrust`.
 * `env`: extra environment of code-server (and so of the extension host). `results`: where the
 * install log (with `installLog`) and code-server's output (`logName`) go.
 * Returns the dirs plus `port`, `origin` and the install's output.
 */
export async function startCodeServer(
  dirs,
  { results, env: extraEnv = {}, logName = 'code-server.log', installLog = false, workspaceTrust = false },
) {
  const { base, workspace, userData, extensions } = dirs;
  mkdirSync(results, { recursive: true });
  // code-server writes its config.yaml under XDG_CONFIG_HOME: keep it in the temporary folder.
  const csEnv = {
    ...env,
    PATH: `${dirname(e2e.node24)}:${env.PATH}`,
    XDG_CONFIG_HOME: join(base, 'config'),
    XDG_DATA_HOME: join(base, 'data'),
    ...extraEnv,
  };
  delete csEnv.NODE_OPTIONS;
  // Set by the test runner running this file: a `node --test` typed into VS Code's terminal would take it as nested and run nothing.
  delete csEnv.NODE_TEST_CONTEXT;
  const entry = join(e2e.codeServer, 'out', 'node', 'entry.js');
  const common = ['--user-data-dir', userData, '--extensions-dir', extensions, '--disable-telemetry', '--disable-update-check'];
  const install = spawnSync(e2e.node24, [entry, ...common, '--install-extension', e2e.vsix], {
    env: csEnv,
    encoding: 'utf8',
    timeout: 180_000,
  });
  if (installLog) writeFileSync(join(results, 'install.log'), `${install.stdout}\n${install.stderr}`);
  assert.equal(install.status, 0, `--install-extension failed: ${install.stderr}`);

  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const csLog = createWriteStream(join(results, logName));
  const cs = spawn(
    e2e.node24,
    [
      entry,
      ...common,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      ...(workspaceTrust ? [] : ['--disable-workspace-trust']),
      '--disable-getting-started-override',
      workspace,
    ],
    { env: csEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  cs.stdout.pipe(csLog);
  cs.stderr.pipe(csLog);
  onCleanup(async () => {
    try {
      process.kill(-cs.pid, 'SIGTERM');
    } catch {}
    await sleep(500);
    try {
      process.kill(-cs.pid, 'SIGKILL');
    } catch {}
  });
  await until('code-server /healthz', async () => (await fetch(`${origin}/healthz`)).ok, 90_000, 500);
  return { ...dirs, port, origin, install };
}

/**
 * Headless Chromium (closed after the tests) with one page of `viewport` size; `clipboard` grants
 * clipboard read/write to `origin` (to read back what a copy command wrote). `results`: where
 * `shot(name)` saves `<name>.png` (never throws). `deviceScaleFactor` 2 with half a window's size
 * is that window at 200% zoom (the browser's zoom: CSS pixels twice the size).
 */
export async function openBrowser({ viewport, results, origin, clipboard = false, deviceScaleFactor = 1 }) {
  const browser = await chromium.launch({
    executablePath: e2e.chromium,
    headless: true,
    args: [...CHROMIUM_ARGS, '--disable-dev-shm-usage'],
  });
  onCleanup(() => browser.close());
  const context = await browser.newContext({ viewport, deviceScaleFactor });
  if (clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const page = await context.newPage();
  const shot = (name) => page.screenshot({ path: join(results, `${name}.png`) }).catch(() => {});
  return { browser, context, page, shot };
}

/** Opens code-server's workbench on the workspace and waits for the explorer to list it. */
export async function openWorkbench(page, { origin, workspace }) {
  // The page's `load` can take over Playwright's default 30 s on the loaded 2-core VM.
  await page.goto(`${origin}/?folder=${encodeURIComponent(workspace)}`, { timeout: 120_000 });
  await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
  // The explorer shows the workspace once the remote file system answers.
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 90_000 });
}

/** The extension host logs of a code-server user data folder, concatenated. */
export function extHostLog(userData) {
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

/**
 * Waits until the extension host has started its extensions: F5 before that does nothing (seen on
 * the 2-core machine).
 */
export async function extensionsStarted(userData, timeoutMs = 120_000) {
  await until(
    'the extension host to start its extensions',
    () => extHostLog(userData).includes('Eager extensions activated'),
    timeoutMs,
    500,
  );
}

/** Copies VS Code's logs (extension host, the Net Trace output channel) to `dest` for the post-mortem. */
export function saveLogs(userData, dest) {
  if (existsSync(join(userData, 'logs'))) cpSync(join(userData, 'logs'), dest, { recursive: true });
}

/** The first frame (webviews are nested iframes) that has an element matching `selector`. */
export async function findFrame(page, selector) {
  for (const f of page.frames()) {
    try {
      if (await f.$(selector)) return f;
    } catch {
      // detached frame
    }
  }
  return undefined;
}

/** The quick input box (command palette, Quick Open, the simple file dialog). */
export const quickInput = (page) => page.locator('.quick-input-widget .quick-input-box input');

/**
 * Types `text` into the command palette (F1) and waits for a row with `expect`. The palette can
 * close again as it opens (focus taken by a webview or a notification on a loaded machine): then
 * it is opened again, up to three times. Returns the input, the row found.
 */
async function inPalette(page, text, expect, timeoutMs = 10_000) {
  const input = quickInput(page);
  const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: expect }).first();
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      await input.fill(text, { timeout: 5_000 });
      await row.waitFor({ state: 'visible', timeout: timeoutMs });
      return input;
    } catch (err) {
      if (attempt >= 3) throw err;
      await page.keyboard.press('Escape').catch(() => {});
    }
  }
}

/** Runs a command from the command palette (F1). */
export async function runCommand(page, title) {
  const input = await inPalette(page, `>${title}`, title);
  await input.press('Enter');
}

/** Opens a workspace file by clicking it in the explorer; waits for its editor. */
export async function openFile(page, name) {
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first().click();
  await page.waitForSelector(`.tab.active[data-resource-name="${name}"], .tab.active:has-text("${name}")`, { timeout: 30_000 });
  await page.waitForSelector('.monaco-editor .view-lines', { timeout: 30_000 });
}

/** Opens a workspace file by name through Quick Open. */
export async function quickOpen(page, name) {
  const input = await inPalette(page, name, name);
  await input.press('Enter');
  await page.waitForSelector(`.editor-group-container.active .tab.active[aria-label^="${name}"]`, { timeout: 20_000 });
}

/** Starts the launch configuration named `name` from the command palette (`debug <name>`). */
export async function startDebugging(page, name, timeoutMs = 20_000) {
  const input = await inPalette(page, `debug ${name}`, name, timeoutMs);
  await input.press('Enter');
}

/** The request count the Net Trace status bar item shows (undefined when it is not shown). */
export async function statusCount(page) {
  const text = await page.evaluate(() =>
    [...document.querySelectorAll('.statusbar-item')].map((e) => e.textContent ?? '').find((t) => /Net Trace: \d+ request/.test(t)),
  );
  const m = text && /Net Trace: (\d+) request/.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Waits until the debug session has ended: the Net Trace status bar item is gone. */
export async function sessionEnded(page, what = 'the debug session to end', timeoutMs = 60_000) {
  await until(
    what,
    async () => (await page.locator('.statusbar-item', { hasText: /Net Trace: \d+ request/ }).count()) === 0,
    timeoutMs,
    500,
  );
}

/** The clipboard's text, read in the workbench page (needs openBrowser's `clipboard`). */
export async function readClipboard(page) {
  return page.evaluate(() => navigator.clipboard.readText()).catch(() => '');
}

/**
 * The rows of the Run and Debug side bar's Call Stack, in order (the rows it has drawn): each
 * `{ index, kind, text }`, where `kind` is 'frame' (with `name`, `file`, `line` ("12:5") and
 * `disabled`: VS Code deemphasizes the frame, e.g. skipped by skipFiles), 'more' (a folded run of
 * deemphasized frames, "N more frames …") or 'other' (a session or thread row).
 */
export async function callStackRows(page) {
  return page.$$eval('.debug-call-stack .monaco-list-row', (els) =>
    els
      .map((row) => {
        const index = Number(row.getAttribute('data-index'));
        const text = (row.textContent ?? '').trim();
        const frame = row.querySelector('.stack-frame');
        if (frame)
          return {
            index,
            kind: 'frame',
            text,
            name: frame.querySelector('.label.expression')?.textContent ?? '',
            file: frame.querySelector('.file-name')?.textContent ?? '',
            line: frame.querySelector('.line-number')?.textContent ?? '',
            disabled: frame.classList.contains('disabled'),
          };
        return { index, kind: row.querySelector('.show-more') ? 'more' : 'other', text };
      })
      .sort((a, b) => a.index - b.index),
  );
}

/** Clicks the Call Stack row `index` (from callStackRows). */
export async function clickCallStackRow(page, index) {
  await page.locator(`.debug-call-stack .monaco-list-row[data-index="${index}"]`).click();
}

/**
 * Chooses `label` in the VS Code context menu that is open (e.g. a webview row's menu) with the
 * keyboard: ↓ until it has the focus, then Enter (a menu item ignores a mouse-up in its first
 * 100 ms, so a click right after the menu opens can be lost). `shot` runs once the menu shows.
 * Returns the menu's labels.
 */
export async function chooseMenuItem(page, label, { shot, timeoutMs = 15_000 } = {}) {
  const item = page.locator('.context-view .action-label', { hasText: label }).first();
  await item.waitFor({ state: 'visible', timeout: timeoutMs });
  const labels = (await page.locator('.context-view .action-label').allInnerTexts()).map((t) => t.trim()).filter(Boolean);
  if (shot) await shot();
  for (let i = 0; i <= labels.length + 2; i++) {
    await page.keyboard.press('ArrowDown');
    const focused = page.locator('.context-view .action-item.focused .action-label').first();
    const text = (await focused.innerText({ timeout: 2000 }).catch(() => '')).trim();
    if (text === label) {
      await page.keyboard.press('Enter');
      await page.locator('.context-view .monaco-menu').first().waitFor({ state: 'hidden', timeout: timeoutMs });
      return labels;
    }
  }
  throw new Error(`"${label}" never got the focus in the menu (${labels.join(', ')})`);
}

/** A TCP port free on 127.0.0.1 right now (test/lib/ports.mjs). */
export { freePort };
