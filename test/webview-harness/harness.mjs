// A stub VS Code host for the Net Trace panel: builds webview/ with esbuild into a temp folder,
// serves it on 127.0.0.1 with the real HTML shell (src/extension/panelHtml.ts, real CSP), and opens it in
// headless Chromium (playwright-core + the system browser) with a fake `acquireVsCodeApi` and the
// CSS variables VS Code's Dark Modern theme would inject. Used by bench/webview.mjs and
// test/integration/webview-hostile.test.mjs; an e2e suite can reuse it.

import { build } from 'esbuild';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeFileSync } from 'node:fs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The system Chromium (Debian's package); we never download a browser. */
export const CHROMIUM = process.env.NETTRACE_CHROMIUM || '/usr/bin/chromium';

/** Launch flags for a quiet, deterministic headless run. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Why the browser-based checks cannot run here, or null when they can. */
export function browserUnavailable() {
  if (!existsSync(CHROMIUM)) return `${CHROMIUM} is missing (install Debian's chromium package)`;
  try {
    import.meta.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed';
  }
  return null;
}

/** The Dark Modern colours VS Code injects as --vscode-* variables (the subset the panel uses). */
export const DARK_THEME = {
  'font-family': "system-ui, -apple-system, 'Segoe UI', 'Ubuntu', 'Droid Sans', sans-serif",
  'font-size': '13px',
  'font-weight': 'normal',
  'editor-font-family': "'Droid Sans Mono', 'monospace', monospace",
  'editor-background': '#1f1f1f',
  foreground: '#cccccc',
  descriptionForeground: '#9d9d9d',
  errorForeground: '#f85149',
  focusBorder: '#0078d4',
  'icon-foreground': '#cccccc',
  'panel-background': '#181818',
  'panel-border': '#2b2b2b',
  'widget-border': '#313131',
  'panelTitle-activeBorder': '#0078d4',
  'panelTitle-activeForeground': '#cccccc',
  'panelTitle-inactiveForeground': '#9d9d9d',
  'input-background': '#313131',
  'input-border': '#3c3c3c',
  'input-foreground': '#cccccc',
  'input-placeholderForeground': '#989898',
  'inputOption-activeBackground': '#2489db82',
  'inputOption-activeBorder': '#2488db',
  'inputOption-activeForeground': '#ffffff',
  'inputOption-hoverBackground': '#5a5d5e80',
  'inputValidation-errorBackground': '#5a1d1d',
  'inputValidation-errorBorder': '#be1100',
  'inputValidation-warningBackground': '#352a05',
  'inputValidation-warningBorder': '#b89500',
  'editorWarning-foreground': '#cca700',
  'dropdown-background': '#313131',
  'dropdown-border': '#3c3c3c',
  'dropdown-foreground': '#cccccc',
  'toolbar-hoverBackground': '#5a5d5e50',
  'badge-background': '#616161',
  'badge-foreground': '#f8f8f8',
  'list-hoverBackground': '#2a2d2e',
  'list-activeSelectionBackground': '#04395e',
  'list-activeSelectionForeground': '#ffffff',
  'list-inactiveSelectionBackground': '#37373d',
  'list-focusOutline': '#0078d4',
  'keybindingTable-headerBackground': '#cccccc0a',
  'tree-tableColumnsBorder': '#cccccc20',
  'editorGroupHeader-tabsBackground': '#181818',
  'editorWidget-background': '#202020',
  'textLink-foreground': '#4daafc',
  'textLink-activeForeground': '#4daafc',
  'textCodeBlock-background': '#2b2b2b',
  'button-background': '#0078d4',
  'button-foreground': '#ffffff',
  'button-hoverBackground': '#026ec1',
  'button-border': '#ffffff12',
  'sash-hoverBorder': '#0078d4',
  'symbolIcon-propertyForeground': '#cccccc',
  'testing-iconPassed': '#73c991',
  'terminal-ansiCyan': '#11a8cd',
  'charts-foreground': '#cccccc',
  'charts-lines': '#cccccc80',
  'charts-red': '#f14c4c',
  'charts-blue': '#3794ff',
  'charts-yellow': '#cca700',
  'charts-orange': '#d18616',
  'charts-green': '#89d185',
  'charts-purple': '#b180d7',
  'scrollbarSlider-background': '#79797966',
  'scrollbarSlider-hoverBackground': '#646464b3',
  'scrollbarSlider-activeBackground': '#bfbfbf66',
};

/**
 * Builds the panel (webview/main.ts → webview.js + webview.css, codicons) into a temp folder and
 * bundles src/extension/panelHtml.ts for Node. Returns { dir, renderPanelHtml, cleanup }.
 */
export async function buildPanel() {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-webview-'));
  await build({
    absWorkingDir: root,
    entryPoints: ['webview/main.ts'],
    outfile: join(dir, 'webview.js'),
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    logLevel: 'warning',
    legalComments: 'none',
  });
  await build({
    absWorkingDir: root,
    entryPoints: ['node_modules/@vscode/codicons/dist/codicon.css'],
    outfile: join(dir, 'codicon.css'),
    bundle: true,
    loader: { '.ttf': 'copy' },
    assetNames: '[name]',
    logLevel: 'warning',
  });
  const html = await build({
    absWorkingDir: root,
    entryPoints: ['src/extension/panelHtml.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'warning',
  });
  const htmlFile = join(dir, 'html.mjs');
  writeFileSync(htmlFile, html.outputFiles[0].text);
  const mod = await import(pathToFileURL(htmlFile).href);
  return {
    dir,
    renderPanelHtml: mod.renderPanelHtml,
    createNonce: mod.createNonce,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const TYPES = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.map': 'application/json' };

/**
 * Serves a built panel on 127.0.0.1. `/` is the HTML shell (with CSP unless `csp: false`, which the
 * hostile-string test uses to prove the DOM code itself is inert, not just the CSP). `initialState`
 * (a value, or a function called per page load): the workspace's saved panel state the extension
 * host puts in the shell (src/extension/panel.ts, PANEL_STATE_KEY).
 */
export async function servePanel(panel, { csp = true, initialState } = {}) {
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/' || path === '/index.html') {
      const origin = `http://${req.headers.host}`;
      let html = panel.renderPanelHtml({
        cspSource: origin,
        nonce: panel.createNonce(),
        scriptUri: `${origin}/webview.js`,
        styleUri: `${origin}/webview.css`,
        codiconUri: `${origin}/codicon.css`,
        initialState: typeof initialState === 'function' ? initialState() : initialState,
      });
      if (!csp) html = html.replace(/<meta http-equiv="Content-Security-Policy"[^>]*>\n/, '');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
      return;
    }
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    const file = join(panel.dir, path.replace(/^\/+/, '').replace(/\.\./g, ''));
    if (!existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(r)) };
}

/** Launches the system Chromium headless. */
export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * Opens the panel in a new page with the stub host installed before any script runs:
 * `acquireVsCodeApi()` records posted messages in `window.__host.posted` and state in
 * `window.__host.state`; the theme variables are set on <html> like VS Code does.
 */
export async function openPanel(browser, url, { width = 1280, height = 800, theme = DARK_THEME, themeKind = 'vscode-dark', state } = {}) {
  const page = await browser.newPage({ viewport: { width, height } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.addInitScript(
    ({ theme, themeKind, state }) => {
      const host = (window.__host = { posted: [], state });
      window.acquireVsCodeApi = () => ({
        postMessage: (m) => host.posted.push(JSON.parse(JSON.stringify(m))),
        getState: () => host.state,
        setState: (s) => (host.state = JSON.parse(JSON.stringify(s))),
      });
      const apply = () => {
        for (const [k, v] of Object.entries(theme)) document.documentElement.style.setProperty(`--vscode-${k}`, v);
        document.body.classList.add(themeKind);
      };
      if (document.body) apply();
      else document.addEventListener('DOMContentLoaded', apply, { once: true });
    },
    { theme, themeKind, state },
  );
  await page.goto(url);
  await page.waitForFunction(() => window.__host.posted.some((m) => m.type === 'ready'));
  return { page, errors };
}

/**
 * Posts a host message to the panel and resolves (in page time) once the panel has rendered it
 * and the frame was produced. Returns the elapsed ms measured in the page with performance.now().
 */
export async function postAndWait(page, msg, predicate = '() => true') {
  return page.evaluate(
    async ({ msg, predicate }) => {
      const done = new Function(`return (${predicate})`)();
      const t0 = performance.now();
      await new Promise((resolve) => {
        const on = (e) => {
          if (!done(e.detail)) return;
          window.removeEventListener('nettrace-render', on);
          document.body.getBoundingClientRect();
          setTimeout(resolve, 0);
        };
        window.addEventListener('nettrace-render', on);
        window.postMessage(msg, '*');
      });
      return performance.now() - t0;
    },
    { msg, predicate },
  );
}

/** Stores a value on `window.__data[name]` without timing it (large payloads). */
export async function stash(page, name, value) {
  await page.evaluate(({ name, value }) => ((window.__data ??= {})[name] = value), { name, value });
}

/**
 * Waits up to `timeout` ms until `fn(arg)` holds in the page, and returns without throwing when it
 * does not: the panel redraws on the next animation frame, which a loaded machine delays past any
 * fixed sleep, so a test waits for the state it expects and then asserts on what is there.
 */
export async function settle(page, fn, arg, timeout = 5000) {
  await page.waitForFunction(fn, arg, { timeout }).catch(() => {});
}
