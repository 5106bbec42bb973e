// covers: webview/dom.ts, src/extension/panelHtml.ts
// Hostile network strings render as inert text in the panel: a server cannot run script in it.
// Runs the panel in headless Chromium (system /usr/bin/chromium via playwright-core) twice: with
// the real CSP, and without any CSP, so the DOM code itself is shown to be inert (an innerHTML
// anywhere would fire the `onerror`/`onload` handlers when no CSP blocks them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browserUnavailable, buildPanel, launchBrowser, servePanel } from '../webview-harness/harness.mjs';
import { runHostileScenario } from '../webview-harness/hostile.mjs';

const why = browserUnavailable();

test(
  'panel renders hostile strings as text (with and without CSP)',
  { skip: why ? `webview hostile-string test skipped: ${why}` : false, timeout: 120_000 },
  async () => {
    const panel = await buildPanel();
    const browser = await launchBrowser();
    try {
      for (const csp of [false, true]) {
        const server = await servePanel(panel, { csp });
        try {
          const r = await runHostileScenario(browser, server.url);
          assert.equal(r.pwned, undefined, `script ran (csp ${csp})`);
          assert.equal(r.foreignElements, 0, `markup elements were created (csp ${csp})`);
          assert.deepEqual(r.missing, [], `hostile strings not shown literally (csp ${csp})`);
          assert.equal(r.control, csp ? undefined : 1, 'control: innerHTML runs script exactly when no CSP blocks it');
          assert.deepEqual(
            r.errors.filter((e) => !/Content Security Policy|Failed to load resource/.test(e)), // the control's <img src="x">
            [],
            `page errors (csp ${csp})`,
          );
          const open = r.posted.find((m) => m.type === 'openInitiator');
          assert.ok(open && open.file.includes('<script>') && open.line === 1, 'clicking a frame posts openInitiator with the raw path');
          assert.ok(r.posted.some((m) => m.type === 'ready'));
        } finally {
          await server.close();
        }
      }
    } finally {
      await browser.close();
      panel.cleanup();
    }
  },
);
