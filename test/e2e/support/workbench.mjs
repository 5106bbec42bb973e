// The set-up and post-mortem the end-to-end tests share: a workspace copied from the fixture, the
// packaged extension in a fresh code-server, headless Chromium on its workbench with the
// extensions started, and on failure a screenshot and VS Code's logs. Built on codeServer.mjs
// (whose exports stay as they are); not a test file (support/, no `.test.mjs`).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import {
  extensionsStarted,
  findFrame,
  onCleanup,
  openBrowser,
  openFile,
  openWorkbench,
  prepareWorkspace,
  resultsDir,
  runCommand,
  saveLogs,
  sleep,
  startCodeServer,
  stepper,
  until,
} from './codeServer.mjs';

/** As F5 leaves a laptop-sized window (with the Run and Debug side bar open, the panel beside the editor). */
export const LAPTOP = { width: 1440, height: 900 };

/** The LAPTOP window at 200% zoom: half its size in CSS pixels, each two device pixels (withWorkbench's `viewport` and `deviceScaleFactor`). */
export const LAPTOP_ZOOM_200 = { viewport: { width: LAPTOP.width / 2, height: LAPTOP.height / 2 }, deviceScaleFactor: 2 };

/**
 * Runs `body(w)` in a workbench ready for a test. In order: prepareWorkspace (`label`,
 * `workspaceName`, `settings`, `linkNodeModules`, `workspaceTrust`); `prepare(dirs)` (may be async:
 * writes the workspace's files before code-server reads them); startCodeServer (`results`, `env`,
 * `logName`, `installLog`, `workspaceTrust`: the workspace opens untrusted, in Restricted Mode); Chromium at `viewport` (default LAPTOP; `deviceScaleFactor`: see LAPTOP_ZOOM_200; `clipboard` grants clipboard access to
 * code-server's origin); the workbench on the workspace; `openFile` in the editor when named; the
 * extension host's extensions started. `step`, when given, logs the stages.
 * `w` holds the dirs (`base`, `workspace`, `userData`, `extensions`), code-server's `port`,
 * `origin` and `install`, and the browser's `browser`, `context`, `page` and `shot(name)`.
 * When the workbench's set-up or `body` throws: a screenshot `<failureShot>.png` (default
 * `failure`), VS Code's logs copied to `<results>/<logs>` (default `logs`), and the error again;
 * `logsAlways` copies the logs when it passes too. Returns what `body` returns.
 */
export async function withWorkbench(options, body) {
  const { results, prepare, viewport = LAPTOP, deviceScaleFactor = 1, clipboard = false, step = () => {} } = options;
  const { failureShot = 'failure', logs = 'logs', logsAlways = false } = options;
  const dirs = prepareWorkspace(options);
  if (prepare) await prepare(dirs);
  if (options.installLog) step('installing the .vsix');
  const cs = await startCodeServer(dirs, options);
  step(`code-server on ${cs.origin}`);
  const browser = await openBrowser({ viewport, results, origin: cs.origin, clipboard, deviceScaleFactor });
  const w = { ...cs, ...browser };
  let passed = false;
  try {
    await openWorkbench(w.page, cs);
    if (options.openFile) await openFile(w.page, options.openFile);
    await extensionsStarted(dirs.userData);
    step('workbench loaded');
    const out = await body(w);
    passed = true;
    return out;
  } catch (err) {
    await w.shot(failureShot);
    // CI prints the error, not the saved logs: what the extension said comes with it.
    const said = netTraceLog(dirs.userData);
    if (said && err instanceof Error) err.message += `\nNet Trace's log, its last lines:\n${said}`;
    throw err;
  } finally {
    if (!passed || logsAlways) saveLogs(dirs.userData, join(results, logs));
  }
}

/** The last `lines` lines of the "Net Trace" output channel's log under `userData`, or '' when there is none. */
export function netTraceLog(userData, lines = 25) {
  const found = [];
  const walk = (dir, depth) => {
    if (depth > 4 || !existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name), depth + 1);
      else if (/-Net Trace\.log$/.test(e.name)) found.push(join(dir, e.name));
    }
  };
  walk(join(userData, 'logs'), 0);
  return found
    .map((f) => readFileSync(f, 'utf8').trimEnd())
    .join('\n')
    .split('\n')
    .slice(-lines)
    .join('\n');
}

/** The text of each row the panel's list shows (filtered-out rows left out), spaces collapsed. */
export function visibleRows(panel) {
  return panel.$$eval('.list-rows .row', (els) =>
    els.filter((e) => e.style.display !== 'none').map((e) => e.innerText.replace(/\s+/g, ' ')),
  );
}

/**
 * The CodeLens of the editor showing `name`: each lens's text and the 1-based line it sits on
 * (the line right below it: a lens is a view zone above its line).
 */
export async function codeLensLines(page, name) {
  return page.evaluate((name) => {
    const editor = [...document.querySelectorAll('.monaco-editor')].find((e) => (e.getAttribute('data-uri') ?? '').endsWith(`/${name}`));
    if (!editor) return [];
    const numbers = [...editor.querySelectorAll('.margin-view-overlays .line-numbers')]
      .map((el) => ({ line: Number(el.textContent), top: el.getBoundingClientRect().top }))
      .filter((n) => n.line > 0)
      .sort((a, b) => a.top - b.top);
    return [...editor.querySelectorAll('.codelens-decoration')].map((el) => {
      const box = el.getBoundingClientRect();
      return { line: numbers.find((n) => n.top >= box.bottom - 4)?.line, text: el.textContent };
    });
  }, name);
}

/** The results folder (`<results>/<name>`) and the step logger ("e2e <label>") of the end-to-end test `name`. */
export function e2eTest(name, label = name) {
  return { results: resultsDir(name), step: stepper(`e2e ${label}`) };
}

/**
 * An HTTP server on 127.0.0.1 (a free port) answering with `handler`, closed when the test ends;
 * resolves once it listens.
 */
export async function localServer(handler) {
  const server = createServer(handler);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  onCleanup(async () => server.close());
  return server;
}

/**
 * As F5 leaves it: Run and Debug open, the editor focused, F5 pressed; resolves with the Net Trace
 * panel once it lists at least `rows` requests (the fixture's six by default).
 */
export async function f5ToPanel(page, step, rows = 6) {
  await runCommand(page, 'View: Show Run and Debug');
  await sleep(500);
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('F5');
  step('F5 pressed with Run and Debug open');
  const panel = await until('the Net Trace panel', () => findFrame(page, '.list-rows .row'), 120_000, 500);
  await until('the fixture requests', async () => (await panel.$$('.list-rows .row:not([style*="none"])')).length >= rows, 90_000, 500);
  return panel;
}

/** Opens a JavaScript Debug Terminal and types `command` into it, once its shell has had time to prompt. */
export async function runInDebugTerminal(page, command, step) {
  await runCommand(page, 'Debug: JavaScript Debug Terminal');
  await page.locator('.terminal-wrapper .xterm').first().waitFor({ state: 'visible', timeout: 30_000 });
  await sleep(3000); // the shell's prompt
  await page.locator('.terminal-wrapper .xterm').first().click();
  await page.keyboard.type(command);
  await page.keyboard.press('Enter');
  step(`typed \`${command}\` into the JavaScript Debug Terminal`);
}

/**
 * Moves the active editor's cursor to `line` (Go to Line/Column…) and waits until the status bar
 * says it is there. An Enter pressed while the quick input is still taking the typed number is
 * lost (the input stays open, the cursor where it was): Enter is pressed again until it moved.
 */
export async function goToLine(page, line) {
  await runCommand(page, 'Go to Line/Column...');
  await page.keyboard.type(String(line));
  const box = page.locator('.quick-input-widget input');
  await until(`":${line}" in the quick input`, async () => (await box.inputValue().catch(() => '')) === `:${line}`, 10_000, 100);
  const at = page.locator('[id="status.editor.selection"]');
  await until(
    `the cursor on line ${line}`,
    async () => {
      if (await page.locator('.quick-input-widget').isVisible()) await page.keyboard.press('Enter');
      await sleep(300);
      return new RegExp(`Ln ${line},`).test(await at.innerText({ timeout: 1000 }).catch(() => ''));
    },
    10_000,
    0,
  );
}

/** Sets a breakpoint (F9) on `line` of the editor showing `file`, and waits until the editor shows it. */
export async function setBreakpoint(page, file, line) {
  await goToLine(page, line);
  await page.keyboard.press('F9');
  await page.waitForSelector(`.monaco-editor[data-uri$="/${file}"] .codicon-debug-breakpoint`, { timeout: 10_000 });
}

/**
 * Types `path` into a file dialog's simple input (`input`) until it holds it (the dialog may still
 * be filling in its own default), then accepts it. `what` names the dialog in a timeout.
 */
export async function enterDialogPath(input, path, what) {
  await until(
    what,
    async () => {
      if ((await input.inputValue()) !== path) await input.fill(path);
      await sleep(300);
      return (await input.inputValue()) === path;
    },
    20_000,
    0,
  );
  await input.press('Enter');
}
