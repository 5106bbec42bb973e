// covers: webview/, src/extension/traceAllNode.ts
// End-to-end, and the README's screenshot (media/panel.png): a realistic program as a user has it
// — test/e2e/fixture/src/digest.ts, a TypeScript service run through tsx by the workspace's own
// `"type": "node"` launch configuration with "Trace All Node Debugging" on — that reads open
// orders from an orders API with axios, each order's customer from an accounts API with fetch
// (one customer is gone: 404) and posts a digest back. The test serves both APIs on localhost with
// a little latency. At 1440×900 with the Run and Debug side bar open, as F5 leaves it: the panel
// lists the six requests with the program's lines, a request is selected (its timing beside the
// list) and the editor shows the CodeLens on the request lines.
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*):
//   scripts/e2e.sh test/e2e/screenshot.e2e.test.mjs
// With NETTRACE_E2E_UPDATE_MEDIA=1 the screenshot replaces media/panel.png (look at it first:
// test-results/e2e/screenshot/panel.png).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import {
  findFrame,
  freePort,
  onCleanup,
  missing as skip,
  quickOpen,
  root,
  runCommand,
  sessionEnded,
  sleep,
  until,
} from './support/codeServer.mjs';
import { e2eTest, setBreakpoint, withWorkbench } from './support/workbench.mjs';

const { results, step } = e2eTest('screenshot');

const ORDERS = [
  { id: 1041, customerId: 17, total: 129.5 },
  { id: 1042, customerId: 42, total: 18 },
  { id: 1043, customerId: 58, total: 72.25 },
  { id: 1044, customerId: 99, total: 240 },
];
const CUSTOMERS = { 17: 'Ada Lovelace', 42: 'Grace Hopper', 58: 'Alan Turing' };

/** Serves `handle(req)` → [status, body] after `delayMs(req)` on a free port (IPv4 and IPv6: "localhost" is either). */
async function api(handle, delayMs) {
  const port = await freePort();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () =>
      setTimeout(() => {
        const [status, out] = handle(req, body);
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(out));
      }, delayMs(req)),
    );
  });
  await new Promise((r) => server.listen(port, r));
  onCleanup(() => new Promise((r) => server.close(r)));
  return `http://localhost:${port}`;
}

/**
 * Zooms the waterfall onto the requests as a user does (Ctrl+wheel over the bars, Shift+wheel to
 * pan): the axis starts with the process, and tsx's start-up before the first request would
 * leave the bars a sliver at the right edge.
 */
async function zoomToRequests(page, panel) {
  const cell = await panel.locator('.list-header .c-waterfall').boundingBox();
  const y = cell.y + cell.height / 2;
  for (let i = 0; i < 16; i++) {
    const bars = await panel.$$eval('.list-rows .row .seg', (segs) => {
      const rs = segs.filter((s) => s.style.display !== 'none').map((s) => s.getBoundingClientRect());
      return { left: Math.min(...rs.map((r) => r.left)), right: Math.max(...rs.map((r) => r.right)) };
    });
    // Frame coordinates → page coordinates (the webview's frames are offset by the cell's box).
    const inner = await panel.$eval('.list-header .c-waterfall', (c) => c.getBoundingClientRect().left);
    const left = bars.left - inner + cell.x;
    const right = bars.right - inner + cell.x;
    const mid = (left + right) / 2;
    const centre = cell.x + cell.width / 2;
    if (right - left >= 0.7 * cell.width && left >= cell.x && right <= cell.x + cell.width) break;
    await page.mouse.move(centre, y);
    if (i > 0 && Math.abs(mid - centre) > 4) {
      await page.keyboard.down('Shift');
      await page.mouse.wheel(0, mid - centre);
      await page.keyboard.up('Shift');
    }
    const factor = Math.min(1.8, (0.75 * cell.width) / Math.max(1, right - left));
    if (factor > 1.02) {
      // Around the bars' middle (the time under the pointer stays put).
      await page.mouse.move(Math.max(cell.x + 2, Math.min(cell.x + cell.width - 2, mid)), y);
      await page.keyboard.down('Control');
      await page.mouse.wheel(0, -Math.log(factor) / 0.002);
      await page.keyboard.up('Control');
    }
    await sleep(150);
  }
}

test(
  'README screenshot: a TypeScript service (axios + fetch) traced through its own node launch, 1440×900, Run and Debug open',
  { skip, timeout: 10 * 60_000 },
  async () => {
    const ordersApi = await api(
      (req) => (req.method === 'POST' ? [201, { id: 'dg_7f3a' }] : [200, ORDERS]),
      (req) => (req.method === 'POST' ? 45 : 120),
    );
    const accountsApi = await api(
      (req) => {
        const id = Number(/\/customers\/(\d+)$/.exec(req.url ?? '')?.[1]);
        return CUSTOMERS[id] ? [200, { id, name: CUSTOMERS[id] }] : [404, { error: 'not found' }];
      },
      (req) => 40 + (Number(/(\d+)$/.exec(req.url ?? '')?.[1] ?? 0) % 5) * 25,
    );
    // The workspace's own launch configuration, as a project has it (no Net Trace configuration).
    const launch = {
      version: '0.2.0',
      configurations: [
        {
          type: 'node',
          request: 'launch',
          name: 'Order digest',
          program: '${workspaceFolder}/src/digest.ts',
          runtimeArgs: ['--import', 'tsx'],
          skipFiles: ['<node_internals>/**'],
          env: { ORDERS_API: ordersApi, ACCOUNTS_API: accountsApi },
        },
      ],
    };
    // Node's and axios's types, as the project has them (no squiggles in the picture).
    const tsconfig = {
      compilerOptions: { target: 'es2022', module: 'nodenext', strict: true, noEmit: true, types: ['node'] },
      include: ['src/digest.ts'],
    };
    const prepare = ({ workspace }) => {
      writeFileSync(join(workspace, '.vscode', 'launch.json'), JSON.stringify(launch, null, 2));
      writeFileSync(join(workspace, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    };
    // The workspace's copy of the fixture's program.
    const source = readFileSync(join(root, 'test', 'e2e', 'fixture', 'src', 'digest.ts'), 'utf8').split('\n');
    const lineOf = (text) => source.findIndex((l) => l.includes(text)) + 1;
    const want = {
      get: lineOf('orders.get<'),
      fetch: lineOf('await fetch('),
      post: lineOf('orders.post('),
      paused: lineOf('console.log('),
    };
    const options = {
      label: 'screenshot',
      workspaceName: 'order-digest',
      settings: {
        'nettrace.traceNodeSessions': 'all',
        'editor.minimap.enabled': false,
        'workbench.colorTheme': 'Default Dark Modern',
      },
      linkNodeModules: true,
      prepare,
      results,
    };
    await withWorkbench(options, async ({ page }) => {
      await quickOpen(page, 'digest.ts');
      await page.waitForSelector('.monaco-editor[data-uri$="/digest.ts"] .view-lines', { timeout: 30_000 });
      // A breakpoint after the requests (F9 on the line), so the picture shows a paused session.
      await setBreakpoint(page, 'digest.ts', want.paused);
      await runCommand(page, 'View: Show Run and Debug');
      await sleep(500);
      await page.keyboard.press('F5');
      step('F5 on "Order digest" (type node) with Run and Debug open');
      await page.waitForSelector('.monaco-editor[data-uri$="/digest.ts"] .debug-top-stack-frame-line', { timeout: 90_000 });
      step(`paused at digest.ts:${want.paused}`);
      const panel = await until('the Net Trace panel', () => findFrame(page, '.list-rows .row'), 120_000, 500);
      const rows = () =>
        panel.$$eval('.list-rows .row', (els) =>
          els
            .filter((e) => e.style.display !== 'none')
            .map((e) => ({
              slot: e.dataset.slot,
              text: e.innerText.replace(/\s+/g, ' '),
              initiator: e.querySelector('.c-initiator')?.textContent?.trim() ?? '',
            })),
        );
      const listed = await until('the six requests', async () => ((await rows()).length >= 6 ? rows() : false), 60_000, 500);
      step(`panel lists:\n    ${listed.map((r) => `${r.text} [${r.initiator}]`).join('\n    ')}`);
      assert.equal(listed.length, 6, 'the GET, four customers and the POST');
      assert.deepEqual(
        listed.map((r) => r.initiator).sort(),
        [`digest.ts:${want.get}`, ...Array(4).fill(`digest.ts:${want.fetch}`), `digest.ts:${want.post}`].sort(),
        "each request names the program's line",
      );
      assert.equal(listed.filter((r) => / 404 /.test(` ${r.text} `)).length, 1, 'the missing customer is a 404');

      // A request selected: the axios GET (its timing beside the list).
      const get = listed.find((r) => r.initiator === `digest.ts:${want.get}`);
      await panel.click(`.list-rows .row[data-slot="${get.slot}"] .c-name .url`);
      await panel.locator('.detail [data-tab="timing"]').click();
      await zoomToRequests(page, panel);
      // The editor with the CodeLens on the request lines.
      await until(
        'the CodeLens on the request lines',
        async () => (await page.locator('.monaco-editor[data-uri$="/digest.ts"] .codelens-decoration').count()) >= 3,
        20_000,
        300,
      );
      // The file from its first line (scrolled, the cursor stays on the paused line); the pointer
      // where it shows no hover (the empty Watch view).
      const editor = await page.locator('.monaco-editor[data-uri$="/digest.ts"] .view-lines').first().boundingBox();
      await page.mouse.move(editor.x + editor.width / 2, editor.y + editor.height / 2);
      for (let i = 0; i < 8; i++) {
        await page.mouse.wheel(0, -400);
        await sleep(100);
      }
      const watch = await page.locator('.pane-header', { hasText: 'Watch' }).first().boundingBox();
      await page.mouse.move(watch.x + watch.width / 2, watch.y + watch.height + 60);
      await sleep(800);
      const file = join(results, 'panel.png');
      await page.screenshot({ path: file });
      step(`screenshot: ${file} (${statSync(file).size} bytes)`);
      if (process.env.NETTRACE_E2E_UPDATE_MEDIA === '1') copyFileSync(file, join(root, 'media', 'panel.png'));
      await page.locator('.monaco-editor[data-uri$="/digest.ts"] .view-lines').first().click();
      await page.keyboard.press('F5');
      await sessionEnded(page, 'the program to end');
    });
  },
);
