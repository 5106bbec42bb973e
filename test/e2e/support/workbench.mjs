// The set-up and post-mortem the end-to-end tests share: a workspace copied from the fixture, the
// packaged extension in a fresh code-server, headless Chromium on its workbench with the
// extensions started, and on failure a screenshot and VS Code's logs. Built on codeServer.mjs
// (whose exports stay as they are); not a test file (support/, no `.test.mjs`).
import { join } from 'node:path';
import { extensionsStarted, openBrowser, openFile, openWorkbench, prepareWorkspace, saveLogs, startCodeServer } from './codeServer.mjs';

/** As F5 leaves a laptop-sized window (with the Run and Debug side bar open, the panel beside the editor). */
export const LAPTOP = { width: 1440, height: 900 };

/**
 * Runs `body(w)` in a workbench ready for a test. In order: prepareWorkspace (`label`,
 * `workspaceName`, `settings`, `linkNodeModules`); `prepare(dirs)` (may be async: writes the
 * workspace's files before code-server reads them); startCodeServer (`results`, `env`, `logName`,
 * `installLog`); Chromium at `viewport` (default LAPTOP; `clipboard` grants clipboard access to
 * code-server's origin); the workbench on the workspace; `openFile` in the editor when named; the
 * extension host's extensions started. `step`, when given, logs the stages.
 * `w` holds the dirs (`base`, `workspace`, `userData`, `extensions`), code-server's `port`,
 * `origin` and `install`, and the browser's `browser`, `context`, `page` and `shot(name)`.
 * When the workbench's set-up or `body` throws: a screenshot `<failureShot>.png` (default
 * `failure`), VS Code's logs copied to `<results>/<logs>` (default `logs`), and the error again;
 * `logsAlways` copies the logs when it passes too. Returns what `body` returns.
 */
export async function withWorkbench(options, body) {
  const { results, prepare, viewport = LAPTOP, clipboard = false, step = () => {} } = options;
  const { failureShot = 'failure', logs = 'logs', logsAlways = false } = options;
  const dirs = prepareWorkspace(options);
  if (prepare) await prepare(dirs);
  if (options.installLog) step('installing the .vsix');
  const cs = await startCodeServer(dirs, options);
  step(`code-server on ${cs.origin}`);
  const browser = await openBrowser({ viewport, results, origin: cs.origin, clipboard });
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
    throw err;
  } finally {
    if (!passed || logsAlways) saveLogs(dirs.userData, join(results, logs));
  }
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
