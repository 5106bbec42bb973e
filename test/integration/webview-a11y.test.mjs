// The panel for every user (issue 54), in headless Chromium through the stub host: the filter's
// suggestion popup is drawn whenever the box says it is expanded, and Tab leaves the filter as typed.
// Skipped without /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browserUnavailable, buildPanel, launchBrowser, openPanel, postAndWait, servePanel } from '../webview-harness/harness.mjs';
import { syntheticTrace } from '../webview-harness/synthetic.mjs';
import { axeStates, countSevere, describe, NOT_DRAWN, severe, THEMES } from '../webview-harness/a11y.mjs';

/** axe's rules of item 4 (contrast) of issue 54: colours, and the size of a link to click. */
const CONTRAST = ['color-contrast', 'color-contrast-enhanced', 'target-size'];

const why = browserUnavailable();
const skip = why ? `webview accessibility test skipped: ${why}` : false;

const TRACES = {
  type: 'traces',
  traces: [{ traceKey: 'cur', label: 'node app.js', origin: 'current', live: false }],
  activeTraceKey: 'cur',
};

/** Opens the panel at `width`×`height` on a synthetic trace of `n` requests. */
async function panelWith(browser, server, n, opts = {}) {
  const { page, errors } = await openPanel(browser, server.url, opts);
  await page.evaluate((m) => window.postMessage(m, '*'), TRACES);
  const trace = syntheticTrace(n);
  await postAndWait(page, { type: 'reset', traceKey: 'cur', live: false, traceJson: JSON.stringify(trace) }, `(d) => d.requests === ${n}`);
  return { page, errors, trace };
}

test('filter popup: drawn whenever expanded, at every width; Tab leaves the filter as typed', { skip, timeout: 180_000 }, async () => {
  const panel = await buildPanel();
  const server = await servePanel(panel);
  const browser = await launchBrowser();
  try {
    for (const [width, height] of [
      [1280, 800],
      [540, 600],
      [220, 400],
    ]) {
      const { page, errors } = await panelWith(browser, server, 50, { width, height });
      await page.focus('.filter-input');
      await page.keyboard.type('me');
      await page.waitForSelector('.filter-suggest:not([hidden])');
      assert.equal(await page.getAttribute('.filter-input', 'aria-expanded'), 'true');
      assert.equal(await page.evaluate(NOT_DRAWN, '.filter-suggest'), '', `${width}px: the expanded popup is drawn`);
      await page.keyboard.press('ArrowDown');
      const active = await page.getAttribute('.filter-input', 'aria-activedescendant');
      assert.equal(await page.evaluate(NOT_DRAWN, `#${active}`), '', `${width}px: the highlighted option is drawn`);
      // Tab: the popup closes, the text stays as typed, focus moves on.
      await page.keyboard.press('Tab');
      assert.equal(await page.inputValue('.filter-input'), 'me', 'Tab does not change the filter');
      assert.equal(await page.getAttribute('.filter-input', 'aria-expanded'), 'false');
      assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('filter-input')), false, 'Tab moved focus on');
      assert.deepEqual(errors, []);
      await page.close();
    }
  } finally {
    await browser.close();
    await server.close();
    panel.cleanup();
  }
});

test(
  'axe in the four themes: no contrast or target-size violation in any state of the panel; every phase has a colour',
  { skip, timeout: 600_000 },
  async () => {
    const panel = await buildPanel();
    const server = await servePanel(panel);
    const browser = await launchBrowser();
    try {
      const found = {};
      for (const { name, kind, theme } of THEMES) {
        const { page, errors } = await panelWith(browser, server, 30, { width: 540, height: 760, theme, themeKind: kind });
        // The Timing tab's phases: each swatch is drawn in a colour (a theme may lack a chart colour).
        let blank = [];
        const states = await axeStates(page, page.keyboard, {
          onState: async (state) => {
            if (!state.endsWith(' timing')) return;
            const none = await page.$$eval('.timing-label .swatch', (ss) =>
              ss.filter((s) => getComputedStyle(s).backgroundColor === 'rgba(0, 0, 0, 0)').map((s) => s.parentElement.textContent),
            );
            blank = [...new Set([...blank, ...none])];
          },
        });
        found[name] = {
          contrast: describe(states, (vs) => severe(vs).filter((v) => CONTRAST.includes(v.id))),
          all: describe(states),
          blank,
        };
        console.error(`axe ${name}: ${JSON.stringify(countSevere(states))}`);
        assert.deepEqual(errors, []);
        await page.close();
      }
      for (const [name, f] of Object.entries(found)) {
        assert.deepEqual(f.blank, [], `${name}: phases without a colour`);
        assert.deepEqual(f.contrast, [], `${name}: contrast and target size`);
      }
    } finally {
      await browser.close();
      await server.close();
      panel.cleanup();
    }
  },
);
