// covers: webview/summaryView.ts, src/extension/compareTraces.ts, src/trace/derive/summary.ts
// needs: the build (dist/core.cjs)
// End-to-end: the panel's Summary view and "Compare With…" (issue 53) in a real VS Code
// (code-server) through headless Chromium at 1440×900 with the Run and Debug side bar open. The
// test's set-up traces a real server: a Fastify server.js calling a backend, run by the CLI
// (`nettrace run --helper off --out F -- node server.js`) and driven by 3,000 requests
// (test/e2e/support/servedTrace.mjs), twice: before.json, then after.json with the backend's
// GET /db/users/:id 300 ms slower. Both are opened with "Net Trace: Open Trace File"; the Summary
// view lists the three served routes (as Fastify names them, with the calls each made) and the
// three routes called; a click on a served route filters the list to its calls, a click on a
// called route to its requests; "Compare With…" before.json shows the slowed route first, with
// where its time went.
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  findFrame,
  freePort,
  missing,
  onCleanup,
  quickInput,
  resultsDir,
  runCommand,
  sleep,
  stepper,
  until,
} from './support/codeServer.mjs';
import { startBackend, traceServer } from './support/servedTrace.mjs';
import { withWorkbench } from './support/workbench.mjs';

const results = resultsDir('summary');
const step = stepper('e2e summary');
const N = 3000;
const core = createRequire(import.meta.url)('../../dist/core.cjs');
const count = (n) => n.toLocaleString('en');

/** A trace file as the panel shows it: its requests enriched, and its summary by route. */
function traceOf(path) {
  const trace = core.enrichTrace(core.readTraceFile(path));
  return { trace, summary: core.summarize(trace.httpRequests, trace.incomingRequests ?? []) };
}

/** "Net Trace: Open Trace File" on `path`, until the panel shows it. */
async function openTraceFile(page, path) {
  // The keyboard out of the panel's webview (F1 there is the webview's): the side bar's title's
  // label (not its middle: Run and Debug's title holds the Start Debugging button).
  await page.locator('.part.sidebar .composite.title .title-label').first().click();
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

/** The first cells (the route) of a Summary grid's rows. */
const routesOf = (panel, grid) => panel.$$eval(`${grid} tbody tr td:first-child`, (tds) => tds.map((td) => td.textContent));

/** How many rows the list shows, from its status bar ("2,000 shown"), else its total ("3,000 requests"). */
async function shownCount(panel) {
  const text = (await panel.textContent('.status-left')) ?? '';
  const m = /([\d,]+) shown/.exec(text) ?? /^([\d,]+) requests/.exec(text);
  return m ? Number(m[1].replace(/,/g, '')) : NaN;
}

test(
  'Summary view of a 3,000-request server trace, a click filters the list, Compare With… shows the changed route first',
  { skip: missing, timeout: 12 * 60_000 },
  async () => {
    let before;
    let after;
    let server;
    let backendHost;
    const prepare = async ({ workspace }) => {
      const backend = await startBackend();
      onCleanup(async () => backend.server.close());
      const port = await freePort();
      server = `127.0.0.1:${port}`;
      backendHost = new URL(backend.url).host;
      before = join(workspace, 'before.json');
      after = join(workspace, 'after.json');
      const log = (what) => step(`traced server.js: ${what}`);
      await traceServer({ dir: workspace, out: before, port, backend: backend.url, n: N, log });
      backend.slow.users = 300;
      await traceServer({ dir: workspace, out: after, port, backend: backend.url, n: N, log });
      // What the tracer recorded is what the panel must show (on a loaded machine the preload may
      // have had to drop events: the trace says so in its stats).
      for (const f of [before, after]) {
        const { trace } = traceOf(f);
        step(
          `${f}: ${trace.httpRequests.length} requests made, ${trace.incomingRequests?.length} served, stats ${JSON.stringify(trace.stats)}`,
        );
      }
    };
    await withWorkbench(
      { label: 'summary', workspaceName: 'workspace', linkNodeModules: true, results, prepare, failureShot: 'summary-failure', step },
      async ({ page, shot }) => {
        const b = traceOf(before);
        const a = traceOf(after);
        assert.equal(a.trace.incomingRequests.length, N, 'every request of the load test served and traced');
        const shownText = (t) => new RegExp(`^${count(t.trace.httpRequests.length)} requests`);
        await runCommand(page, 'View: Show Run and Debug');
        await openTraceFile(page, before);
        const panel = await until(
          'the panel with the first trace',
          async () => {
            const f = await findFrame(page, '.list-body');
            return f && shownText(b).test((await f.textContent('.status-left')) ?? '') && f;
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
            return label.includes('after.json') && shownText(a).test((await panel.textContent('.status-left')) ?? '');
          },
          60_000,
        );
        step('after.json open');

        // ---- the Summary view: three served routes, three called; a click filters the list ---------------------
        await panel.evaluate(() => document.querySelector('.summary-toggle')?.click());
        await panel.waitForSelector('.summary-served tbody tr');
        // The second trace may still be arriving when the view opens: its routes once they settle
        // (the view recomputes when the panel's model is replaced).
        let made = [];
        await until(
          'the Summary view of the second trace',
          async () => {
            made = await routesOf(panel, '.summary-routes');
            return made[0] === `GET ${backendHost}/db/users/:id *`;
          },
          10_000,
        ).catch(() => undefined);
        const served = await routesOf(panel, '.summary-served');
        step(`summary:\n    served: ${served.join('\n            ')}\n    made:   ${made.join('\n            ')}`);
        // Served, as Fastify names the routes (not inferred), the most first (a tie: by label).
        assert.deepEqual(served, [`GET ${server}/health`, `GET ${server}/users/:id`, `POST ${server}/orders`]);
        const servedCells = await panel.$$eval('.summary-served tbody tr', (rs) => rs.map((r) => [...r.cells].map((c) => c.textContent)));
        // Each row the served route's numbers (summary.ts's, as `nettrace show --summary` prints them).
        for (const r of a.summary.servedRoutes) {
          const row = servedCells.find((c) => c[0] === r.label);
          const status = Object.entries(r.status).map(([k, n]) => `${k} ${count(n)}`);
          const calls = r.calls.length ? r.calls.map((c) => `${c.label} ×${c.perRequest}`).join(', ') : '–';
          assert.deepEqual([row[1], row[2], row[3], row[6]], [count(r.count), count(r.failed), status.join(' · '), calls], r.label);
        }
        const users = servedCells.find((r) => r[0] === `GET ${server}/users/:id`);
        assert.deepEqual([users[1], users[3]], ['1,000', '2xx 990 · 4xx 10'], 'ids divisible by 97 are 404s: 10 of 1,000');
        assert.match(users[6], new RegExp(`^GET ${backendHost.replace(/[.]/g, '\\.')}/db/users/:id ×`));
        const orders = servedCells.find((r) => r[0] === `POST ${server}/orders`);
        assert.match(orders[6], /\/db\/stock\/:id ×.*, POST .*\/db\/orders ×/);
        assert.equal(servedCells.find((r) => r[0] === `GET ${server}/health`)[6], '–');
        // Made, sorted by p95: the slowed route first.
        assert.deepEqual([...made].sort(), [
          `GET ${backendHost}/db/stock/:id *`,
          `GET ${backendHost}/db/users/:id *`,
          `POST ${backendHost}/db/orders`,
        ]);
        assert.equal(made[0], `GET ${backendHost}/db/users/:id *`);
        assert.match(
          (await panel.textContent('.summary-note')) ?? '',
          new RegExp(`^3,000 requests served in 3 routes; ${count(a.trace.httpRequests.length)} requests made in 3 routes`),
        );
        await shot('summary-view');

        await panel.click(`.summary-served tbody tr:has-text("POST ${server}/orders")`);
        const ordersCalls = a.summary.servedRoutes.find((r) => r.route === '/orders').calls.reduce((n, c) => n + c.count, 0);
        await until('the list filtered to the calls of POST /orders', async () => (await shownCount(panel)) === ordersCalls, 20_000);
        assert.equal(await panel.inputValue('.filter-input'), `caused-by:"POST ${server}/orders"`);
        const callMethods = await panel.$$eval('.list-rows .row', (rs) => [
          ...new Set(rs.filter((r) => r.style.display !== 'none').map((r) => r.querySelector('.c-method')?.textContent)),
        ]);
        assert.deepEqual(callMethods.sort(), ['GET', 'POST']);
        step(`a click on the served POST /orders filtered the list to the ${count(ordersCalls)} calls its requests made`);
        await shot('summary-served-filtered');

        await panel.click(`.summary-routes tbody tr:has-text("POST ${backendHost}/db/orders")`);
        const dbOrders = a.summary.routes.find((r) => r.label === `POST ${backendHost}/db/orders`).count;
        await until('the list filtered to POST /db/orders', async () => (await shownCount(panel)) === dbOrders, 20_000);
        const methods = await panel.$$eval('.list-rows .row', (rs) => [
          ...new Set(rs.filter((r) => r.style.display !== 'none').map((r) => r.querySelector('.c-method')?.textContent)),
        ]);
        assert.deepEqual(methods, ['POST']);
        assert.equal(await panel.inputValue('.filter-input'), `method:POST route:${backendHost}/db/orders`);
        step(`a click on POST /db/orders filtered the list to its ${count(dbOrders)} requests`);
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
        const users2 = `GET ${backendHost}/db/users/:id`.replace(/[.]/g, '\\.');
        assert.match(items[0], new RegExp(`^${users2} p(50|95) \\+\\d{3,} ms \\(.+\\): the server's first-byte wait \\(\\+\\d{3,} ms\\)`));
        assert.equal(await panel.textContent('.summary-compare h3'), 'Compared with before.json');
        await shot('summary-compare');
      },
    );
  },
);
