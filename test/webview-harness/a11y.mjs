// Accessibility checks of the panel shared by the harness tests (test/integration/webview-a11y*)
// and the end-to-end test in code-server (test/e2e/a11y.e2e.test.mjs): axe-core injected into the
// panel's frame, a walk through every state of the panel (list, each detail tab, the filter
// popup, the menus, the Rules view and its form) running axe in each, and the check that an
// element is really drawn (inside the viewport, not clipped or covered).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** The rule sets of the acceptance: WCAG 2.x A and AA, and axe's best practices. */
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

/**
 * Runs axe-core in `frame` (a Playwright Page or Frame; injected once, through the DevTools
 * protocol, so the panel's CSP does not stand in the way). Returns the violations as
 * `{ id, impact, help, targets: [selector…] }`.
 */
export async function runAxe(frame) {
  if (!(await frame.evaluate(() => typeof window.axe === 'object'))) await frame.evaluate(AXE_SOURCE);
  return frame.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      targets: v.nodes.map(
        (n) => `${n.target.join(' ')}${n.failureSummary ? ` — ${n.failureSummary.split('\n').slice(1).join(' ').slice(0, 160)}` : ''}`,
      ),
    }));
  }, AXE_TAGS);
}

/** The critical and serious violations among axe's. */
export const severe = (violations) => violations.filter((v) => v.impact === 'critical' || v.impact === 'serious');

/**
 * Whether `sel` is really drawn, evaluated in the panel: its box lies inside the viewport and the
 * element hit at its centre is it or inside it (not clipped by an ancestor, not covered).
 * Returns '' when drawn, else why not.
 */
export const NOT_DRAWN = (sel) => {
  const el = typeof sel === 'string' ? document.querySelector(sel) : sel;
  if (!el) return `${sel}: missing`;
  const r = el.getBoundingClientRect();
  const vw = document.documentElement.clientWidth;
  const vh = document.documentElement.clientHeight;
  if (r.width < 1 || r.height < 1) return `${sel}: empty box ${JSON.stringify(r)}`;
  if (r.left < -0.5 || r.top < -0.5 || r.right > vw + 0.5 || r.bottom > vh + 0.5)
    return `${sel}: outside the ${vw}×${vh} viewport ${JSON.stringify({ l: r.left, t: r.top, r: r.right, b: r.bottom })}`;
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  if (!hit || !(hit === el || el.contains(hit))) return `${sel}: its centre hits ${hit ? `${hit.tagName}.${hit.className}` : 'nothing'}`;
  return '';
};

const frameDone = (frame) => frame.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 30))));

/**
 * Walks the panel in `frame` through its states, running axe in each: the list; a failed request's
 * detail in every tab, then a successful one's; the filter popup; the column menu and the
 * toolbar's overflow menu; the Rules view and its form. `keyboard`: the Page's keyboard (keys go
 * to the focused frame). `onState(name)` runs after each state is shown (a screenshot).
 * Returns `{ [state]: violations }`.
 */
export async function axeStates(frame, keyboard, { onState } = {}) {
  const out = {};
  const check = async (name) => {
    await frameDone(frame);
    if (onState) await onState(name);
    out[name] = await runAxe(frame);
  };
  await check('list');
  const rowCount = await frame.$$eval('.list-rows .row', (rs) => rs.filter((r) => r.style.display !== 'none').length);
  // A failed request (when there is one) and the first request, each in every tab.
  const failedIndex = await frame.$$eval('.list-rows .row', (rs) =>
    rs.filter((r) => r.style.display !== 'none').findIndex((r) => /fail|error/i.test(r.getAttribute('aria-label') ?? '')),
  );
  const picks = [...new Set([failedIndex, 0].filter((i) => i >= 0 && i < rowCount))];
  for (const index of picks) {
    await frame.focus('.list-body');
    await keyboard.press('Home');
    for (let i = 0; i < index; i++) await keyboard.press('ArrowDown');
    await keyboard.press('Enter');
    await frame.waitForSelector('.main.detail-open .tabs [role=tab]');
    const tabs = await frame.$$eval('.tabs [role=tab]', (ts) => ts.filter((t) => t.getClientRects().length).map((t) => t.dataset.tab));
    for (const tab of tabs) {
      await frame.click(`.tabs [role=tab][data-tab="${tab}"]`);
      await check(`detail ${index === failedIndex ? 'failed' : 'first'} ${tab}`);
    }
    await frame.focus('.list-body');
  }
  // The filter popup.
  await frame.focus('.filter-input');
  await keyboard.type('me');
  await frame.waitForSelector('.filter-suggest:not([hidden])');
  await keyboard.press('ArrowDown');
  await check('filter popup');
  await keyboard.press('Escape');
  await frame.fill('.filter-input', '');
  await frame.dispatchEvent('.filter-input', 'input');
  // The column menu, the overflow menu.
  await frame.click('.col-menu-button');
  await frame.waitForSelector('.menu');
  await check('column menu');
  await keyboard.press('Escape');
  if (await frame.$('.toolbar-more:not(.collapsed)')) {
    await frame.click('.toolbar-more');
    await frame.waitForSelector('.menu');
    await check('more menu');
    await keyboard.press('Escape');
  }
  // The Summary view (its toggle may be in the overflow menu: click it by script), then closed again.
  await frame.evaluate(() => document.querySelector('.summary-toggle')?.click());
  await frame.waitForSelector('.summary-grid tbody tr');
  await check('summary');
  await frame.evaluate(() => document.querySelector('.summary-toggle')?.click());
  // The Rules view and its form (its toggle may be in the overflow menu: click it by script).
  await frame.evaluate(() => document.querySelector('.rules-toggle, [aria-label^="Trace rules"][aria-pressed]')?.click());
  await frame.waitForSelector('.rules-add');
  await check('rules');
  await frame.click('.rules-add');
  await frame.waitForSelector('form');
  await check('rules form');
  return out;
}

/** One line per state and rule: `state: rule (impact) ×nodes`, for a failure message or a report. */
export function describe(states, filter = severe) {
  const lines = [];
  for (const [state, vs] of Object.entries(states))
    for (const v of filter(vs)) lines.push(`${state}: ${v.id} (${v.impact}) ×${v.targets.length}: ${v.targets.slice(0, 3).join(' | ')}`);
  return lines;
}

/** Counts of critical/serious violations (nodes, unique per rule and target) over all states, by rule. */
export function countSevere(states) {
  const seen = new Map();
  for (const vs of Object.values(states))
    for (const v of severe(vs)) {
      const set = seen.get(v.id) ?? new Set();
      for (const t of v.targets) set.add(t.split(' — ')[0]);
      seen.set(v.id, set);
    }
  return Object.fromEntries([...seen].map(([id, s]) => [id, s.size]));
}

/**
 * VS Code's four themes as code-server 4.139 injects them into a webview (every --vscode-*
 * variable, dumped by test/e2e/a11y.e2e.test.mjs into test-results/e2e/a11y/theme-*.json), with the
 * class it puts on the body: `{ name, kind, theme }` for openPanel's `theme` and `themeKind`.
 */
export const THEMES = [
  ['dark-modern', 'vscode-dark'],
  ['light-modern', 'vscode-light'],
  ['hc-dark', 'vscode-high-contrast'],
  ['hc-light', 'vscode-high-contrast-light'],
].map(([name, kind]) => ({ name, kind, theme: JSON.parse(readFileSync(new URL(`./themes/${name}.json`, import.meta.url), 'utf8')) }));
