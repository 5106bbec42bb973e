// End-to-end: the panel for every user (issue 54) in a real VS Code (code-server), as F5 leaves it
// at 1440×900 with Run and Debug open. In each of the four themes — Dark Modern, Light Modern,
// Dark High Contrast, Light High Contrast — axe-core (WCAG 2.x A and AA, best practices) runs in
// the panel's frame over every state (list, each detail tab, the filter popup, the menus, the
// Rules view and its form) and finds nothing critical or serious; a screenshot of each theme is
// kept (test-results/e2e/a11y/theme-*.png) with the theme's --vscode-* variables as VS Code
// injected them (theme-*.json). Then the filter's popup is drawn whenever it is expanded.
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*):
//   scripts/e2e.sh test/e2e/a11y.e2e.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  extensionsStarted,
  missing as skip,
  openBrowser,
  openFile,
  openWorkbench,
  prepareWorkspace,
  saveLogs,
  sleep,
  startCodeServer,
  until,
  quickInput,
} from './support/codeServer.mjs';
import { e2eTest, f5ToPanel } from './support/workbench.mjs';
import { axeStates, countSevere, describe, NOT_DRAWN } from '../webview-harness/a11y.mjs';

const { results, step } = e2eTest('a11y');

/** The four themes: their name in VS Code's theme picker, the class it puts on the webview's body, a file name. */
const THEMES = [
  ['Dark Modern', 'vscode-dark', 'dark-modern'],
  ['Light Modern', 'vscode-light', 'light-modern'],
  ['Dark High Contrast', 'vscode-high-contrast', 'hc-dark'],
  ['Light High Contrast', 'vscode-high-contrast-light', 'hc-light'],
];

/**
 * Picks `name` in VS Code's color theme picker, opened by its key binding Ctrl+K Ctrl+T from the
 * editor (the palette's "Color Theme" also matches "Browse Color Themes in Marketplace").
 */
async function pickTheme(page, name) {
  const input = quickInput(page);
  for (let attempt = 1; ; attempt++) {
    await page.locator('.monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+K');
    await page.keyboard.press('Control+T');
    try {
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
  await input.fill(name);
  await page.locator('.quick-input-widget .monaco-list-row.focused', { hasText: name }).first().waitFor({ timeout: 10_000 });
  await input.press('Enter');
}

test(
  'axe finds nothing critical or serious in any state of the panel in the four themes; the filter popup is drawn',
  { skip, timeout: 15 * 60_000 },
  async () => {
    const dirs = prepareWorkspace({ label: 'a11y', workspaceName: 'ws', settings: { 'workbench.colorTheme': 'Default Dark Modern' } });
    const { userData } = dirs;
    const cs = await startCodeServer(dirs, { results });
    const { page, shot } = await openBrowser({ viewport: { width: 1440, height: 900 }, results });
    try {
      await openWorkbench(page, cs);
      await openFile(page, 'app.js');
      await extensionsStarted(userData);
      const panel = await f5ToPanel(page, step);

      const found = {};
      for (const [id, kind, name] of THEMES) {
        if (id !== THEMES[0][0]) await pickTheme(page, id);
        await until(`the panel in ${id}`, () => panel.evaluate((k) => document.body.classList.contains(k), kind), 30_000, 250);
        await sleep(500);
        const vars = await panel.evaluate(() => {
          const s = document.documentElement.style;
          const out = {};
          for (let i = 0; i < s.length; i++) if (s[i].startsWith('--vscode-')) out[s[i].slice(9)] = s.getPropertyValue(s[i]).trim();
          return out;
        });
        writeFileSync(join(results, `theme-${name}.json`), JSON.stringify(vars, null, 2));
        const states = await axeStates(panel, page.keyboard, {
          onState: async (state) => {
            if (state === 'list' || state === 'detail failed timing' || state === 'filter popup' || state === 'rules form')
              await shot(`theme-${name}-${state.replace(/\s+/g, '-')}`);
          },
        });
        writeFileSync(join(results, `axe-${name}.json`), JSON.stringify(states, null, 2));
        found[name] = { counts: countSevere(states), lines: describe(states) };
        step(`${id}: critical/serious ${JSON.stringify(found[name].counts)}`);
        // Back to the list for the next theme.
        await panel.evaluate(() => document.querySelector('.rules-close, [aria-label="Close the Rules view"]')?.click());
        await page.keyboard.press('Escape');
      }
      for (const [name, f] of Object.entries(found)) assert.deepEqual(f.lines, [], `${name}: axe finds nothing critical or serious`);

      // The filter's popup, in the panel beside the editor: drawn while expanded; Tab leaves the text.
      await panel.focus('.filter-input');
      await panel.fill('.filter-input', '');
      await page.keyboard.type('me');
      await panel.waitForSelector('.filter-suggest:not([hidden])');
      assert.equal(await panel.getAttribute('.filter-input', 'aria-expanded'), 'true');
      assert.equal(await panel.evaluate(NOT_DRAWN, '.filter-suggest'), '', 'the expanded popup is drawn');
      await page.keyboard.press('ArrowDown');
      const active = await panel.getAttribute('.filter-input', 'aria-activedescendant');
      assert.equal(await panel.evaluate(NOT_DRAWN, `#${active}`), '', 'the highlighted option is drawn');
      await shot('filter-popup');
      await page.keyboard.press('Tab');
      assert.equal(await panel.inputValue('.filter-input'), 'me', 'Tab does not change the filter');
      assert.equal(await panel.getAttribute('.filter-input', 'aria-expanded'), 'false');
      step('filter popup drawn; Tab left the filter as typed');
    } finally {
      await shot('final');
      saveLogs(userData, join(results, 'logs'));
    }
  },
);
