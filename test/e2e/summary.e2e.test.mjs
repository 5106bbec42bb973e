// End-to-end: the panel's Summary view and "Compare With…" (issue 53) in a real VS Code
// (code-server) through headless Chromium at 1440×900. Two saved traces of 3,000 requests over
// four routes (bench/lib/routeTrace.mjs; the second with GET /users/:id 150 ms slower and no
// keep-alive) are opened with "Net Trace: Open Trace File"; the Summary view lists the four
// routes, a click on one filters the list to it, and "Compare With…" the first trace shows the
// slowed route first, with where its time went.
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { findFrame, missing, quickInput, resultsDir, runCommand, sleep, stepper, until } from './support/codeServer.mjs';
import { withWorkbench } from './support/workbench.mjs';
import { writeRouteTrace } from '../../bench/lib/routeTrace.mjs';

const results = resultsDir('summary');
const step = stepper('e2e summary');
const N = 3000;

/** "Net Trace: Open Trace File" on `path`, until the panel shows it. */
async function openTraceFile(page, path) {
  // The keyboard out of the panel's webview (F1 there is the webview's): the side bar's title.
  await page.locator('.part.sidebar .composite.title').first().click();
  await runCommand(page, 'Net Trace: Open Trace File');
  const input = quickInput(page);
  await until('the open dialog', async () => (await input.isVisible()) && (await input.inputValue()).startsWith('/'), 20_000);
  // The simple dialog may put its folder back into the box after a first fill: fill until the path stays.
  await until(
    'the path in the open dialog',
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

test(
  'Summary view of a 3,000-request trace, a click filters the list, Compare With… shows the changed route first',
  { skip: missing, timeout: 10 * 60_000 },
  async () => {
    let before;
    let after;
    const prepare = async ({ workspace }) => {
      before = join(workspace, 'before.json');
      after = join(workspace, 'after.json');
      await writeRouteTrace(before, { n: N, seed: 1 });
      await writeRouteTrace(after, { n: N, seed: 2, slow: { '/users/:id': 150 }, perConn: 1 });
    };
    await withWorkbench(
      { label: 'summary', workspaceName: 'workspace', results, prepare, failureShot: 'summary-failure', step },
      async ({ page, shot }) => {
        await openTraceFile(page, before);
        const panel = await until(
          'the panel with the first trace',
          async () => {
            const f = await findFrame(page, '.list-body');
            return f && /^3,000 requests/.test((await f.textContent('.status-left')) ?? '') && f;
          },
          60_000,
          500,
        );
        step('before.json open');
        await openTraceFile(page, after);
        await until(
          'the second trace in the panel',
          async () => {
            const label = await panel.$eval('.trace-select', (el) => el.options[el.selectedIndex]?.textContent ?? '');
            return label.includes('after.json') && /^3,000 requests/.test((await panel.textContent('.status-left')) ?? '');
          },
          60_000,
        );
        step('after.json open');

        // ---- the Summary view: four routes; a click filters the list ------------------------------------------
        await panel.evaluate(() => document.querySelector('.summary-toggle')?.click());
        await panel.waitForSelector('.summary-grid tbody tr');
        // The second trace may still be arriving when the view opens: its routes once they settle
        // (the view recomputes when the panel's model is replaced).
        let routes = [];
        await until(
          'the Summary view of the second trace',
          async () => {
            routes = await panel.$$eval('.summary-grid tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
            return routes[0] === 'GET api.example.com:8080/users/:id *';
          },
          10_000,
        ).catch(() => undefined);
        step(`summary:\n    ${routes.join('\n    ')}`);
        assert.deepEqual([...routes].sort(), [
          'GET api.example.com:8080/health',
          'GET api.example.com:8080/items/:id/reviews *',
          'GET api.example.com:8080/users/:id *',
          'POST api.example.com:8080/orders',
        ]);
        // Sorted by p95: the slowed route first.
        assert.equal(routes[0], 'GET api.example.com:8080/users/:id *');
        await shot('summary-view');
        await panel.click('.summary-grid tbody tr:has-text("POST api.example.com:8080/orders")');
        await until(
          'the list filtered to POST /orders',
          async () => /750 shown/.test((await panel.textContent('.status-left')) ?? ''),
          20_000,
        );
        const methods = await panel.$$eval('.list-rows .row', (rs) => [
          ...new Set(rs.filter((r) => r.style.display !== 'none').map((r) => r.querySelector('.c-method')?.textContent)),
        ]);
        assert.deepEqual(methods, ['POST']);
        assert.equal(await panel.inputValue('.filter-input'), 'method:POST route:api.example.com:8080/orders');
        step('a click on POST /orders filtered the list to its 750 requests');
        await shot('summary-filtered');

        // ---- Compare With… the first trace ----------------------------------------------------------------------
        await panel.click('.summary-compare-button');
        const input = quickInput(page);
        await input.waitFor({ state: 'visible', timeout: 20_000 });
        await input.fill('before');
        await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'before.json' }).first().waitFor({ timeout: 10_000 });
        await input.press('Enter');
        await panel.waitForSelector('.summary-compare:not([hidden]) .compare-list li', { timeout: 60_000 });
        const items = await panel.$$eval('.compare-list li', (ls) => ls.map((l) => l.textContent));
        step(`compare:\n    ${items.join('\n    ')}`);
        assert.match(
          items[0],
          /^GET api\.example\.com:8080\/users\/:id p(50|95) \+1\d\d ms \(.+\): the server's first-byte wait \(\+1\d\d ms\); connections reused \d+% → 0%/,
        );
        assert.equal(await panel.textContent('.summary-compare h3'), 'Compared with before.json');
        await shot('summary-compare');
      },
    );
  },
);
