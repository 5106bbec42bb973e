// The panel for every user (issue 54), in headless Chromium through the stub host: the filter's
// suggestion popup is drawn whenever the box says it is expanded, and Tab leaves the filter as typed.
// Skipped without /usr/bin/chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browserUnavailable, buildPanel, launchBrowser, openPanel, postAndWait, servePanel } from '../webview-harness/harness.mjs';
import { syntheticTrace } from '../webview-harness/synthetic.mjs';

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

/**
 * Whether `sel` is really drawn: its box lies inside the viewport and the element hit at the box's
 * centre is it or inside it (not clipped by an ancestor, not covered). Returns a reason or ''.
 */
export const NOT_DRAWN = (sel) => {
  const el = document.querySelector(sel);
  if (!el) return `${sel}: missing`;
  const r = el.getBoundingClientRect();
  const vw = document.documentElement.clientWidth;
  const vh = document.documentElement.clientHeight;
  if (r.width < 1 || r.height < 1) return `${sel}: empty box ${JSON.stringify(r)}`;
  if (r.left < 0 || r.top < 0 || r.right > vw + 0.5 || r.bottom > vh + 0.5)
    return `${sel}: outside the viewport ${JSON.stringify(r)} in ${vw}×${vh}`;
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  if (!hit || !(hit === el || el.contains(hit))) return `${sel}: the point at its centre hits ${hit?.className || hit?.tagName}`;
  return '';
};

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
