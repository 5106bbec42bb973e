// covers: src/extension/traceAllNode.ts, src/extension/nodeSessions.ts
// End-to-end: "Net Trace: Trace All Node Debugging" in a real VS Code (code-server). A workspace
// with its own `"type": "node"` launch configuration (no Net Trace configuration in sight), at
// 1440×900 with the Run and Debug side bar open:
//   - the setting on: F5 → the panel lists the program's requests, its forked child's included,
//     with the program's own lines; the status bar toggle says it is on;
//   - "Net Trace: Trace All Node Debugging" from the palette turns it off: the same launch runs
//     with its NODE_OPTIONS unchanged (the program writes what it got) and no new trace;
//   - on again, a JavaScript Debug Terminal: `node shop.js` typed into it → a trace named
//     "node shop.js (JavaScript Debug Terminal)" lists the requests of the program and of its
//     child; then `npm run start` (whose script forks the child) → a trace of its own;
//   - a program started outside VS Code with `node --inspect` and an attach configuration: the
//     requests it makes after the attach are traced, in a trace labelled as starting at the attach.
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*), e.g.
// `scripts/e2e.sh test/e2e/sessions.e2e.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  findFrame,
  freePort,
  onCleanup,
  missing as skip,
  runCommand,
  sessionEnded,
  sleep,
  startDebugging,
  until,
} from './support/codeServer.mjs';
import { e2eTest, runInDebugTerminal, visibleRows, withWorkbench } from './support/workbench.mjs';

const { results, step } = e2eTest('sessions');
/** The Node that runs the attached program (the machine's). */
const e2eNode = () => process.execPath;

// A small program as a user has one: a local shop API, a client that lists products and the cart,
// and a forked worker that checks the inventory. Each process appends what it was started with
// to runs.log (to see that the switch off injects nothing).
const SHOP = `// Lists the shop's products and cart, and checks the inventory in a child process.
const http = require('node:http');
const { fork } = require('node:child_process');
const { appendFileSync } = require('node:fs');
const { join } = require('node:path');

const role = process.argv[2] === 'inventory' ? 'inventory' : 'main';
appendFileSync(join(__dirname, 'runs.log'), JSON.stringify({ role, pid: process.pid, nodeOptions: process.env.NODE_OPTIONS ?? '' }) + '\\n');

function getJson(url) {
  return new Promise((resolve, reject) => {
    // e2e: cart (the line that makes the request)
    http.get(url, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
}

async function inventory() {
  const res = await fetch(process.env.SHOP_URL + '/api/inventory'); // e2e: inventory
  console.log('inventory', (await res.json()).length);
}

async function main() {
  const server = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(req.url === '/api/cart' ? { items: 2 } : [{ id: 1, name: 'Tea' }, { id: 2, name: 'Cup' }]));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = 'http://127.0.0.1:' + server.address().port;
  const products = await fetch(base + '/api/products'); // e2e: products
  console.log('products', (await products.json()).length);
  const cart = await getJson(base + '/api/cart');
  console.log('cart', cart.items);
  await new Promise((r) => fork(__filename, ['inventory'], { env: { ...process.env, SHOP_URL: base } }).on('exit', r));
  setTimeout(() => server.close(), Number(process.env.SHOP_LINGER_MS ?? 1500));
}

(role === 'inventory' ? inventory() : main()).catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
`;

const LAUNCH = {
  version: '0.2.0',
  configurations: [
    {
      type: 'node',
      request: 'launch',
      name: 'Run shop',
      program: '${workspaceFolder}/shop.js',
      skipFiles: ['<node_internals>/**'],
      env: { NODE_OPTIONS: '--no-deprecation', SHOP_LINGER_MS: '4000' },
    },
    { type: 'node', request: 'attach', name: 'Attach to ticker', address: '127.0.0.1', port: 0 },
  ],
};

// A program already running when the debugger attaches: a request every 300 ms for a minute.
const TICKER = `const http = require('node:http');
const server = http.createServer((req, res) => res.end('tick'));
server.listen(0, '127.0.0.1', () => {
  let n = 0;
  const timer = setInterval(async () => {
    const res = await fetch('http://127.0.0.1:' + server.address().port + '/tick?n=' + ++n); // e2e: tick
    await res.text();
    if (n >= 200) (clearInterval(timer), server.close());
  }, 300);
});
`;

/** The runs.log lines of the workspace. */
function runs(workspace) {
  const f = join(workspace, 'runs.log');
  return existsSync(f)
    ? readFileSync(f, 'utf8')
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
    : [];
}

test(
  'Trace All Node Debugging: an own "type": "node" launch (on, then off), and a JavaScript Debug Terminal',
  { skip, timeout: 12 * 60_000 },
  async () => {
    const inspectPort = await freePort();
    LAUNCH.configurations[1].port = inspectPort;
    const prepare = ({ workspace }) => {
      writeFileSync(join(workspace, 'shop.js'), SHOP);
      writeFileSync(join(workspace, 'ticker.js'), TICKER);
      writeFileSync(
        join(workspace, 'package.json'),
        JSON.stringify({ name: 'shop', private: true, scripts: { start: 'node shop.js' } }, null, 2),
      );
      // npm checks for its own updates over the network: not in this trace.
      writeFileSync(join(workspace, '.npmrc'), 'update-notifier=false\nfund=false\naudit=false\n');
      writeFileSync(join(workspace, '.vscode', 'launch.json'), JSON.stringify(LAUNCH, null, 2));
    };
    const lineOf = (tag) => {
      const lines = SHOP.split('\n');
      const i = lines.findIndex((l) => l.includes(`// e2e: ${tag}`));
      // A marker on a line of its own names the next line.
      return lines[i].trim().startsWith('//') ? i + 2 : i + 1;
    };
    const options = { label: 'sessions', workspaceName: 'shop', settings: { 'nettrace.traceNodeSessions': 'all' }, prepare, results };
    await withWorkbench({ ...options, openFile: 'shop.js' }, async ({ page, shot, workspace }) => {
      await runCommand(page, 'View: Show Run and Debug');
      const toggle = page.locator('.statusbar-item', { hasText: 'All Node' }).first();
      await until(
        'the Trace All Node status bar toggle',
        async () => /All Node/.test(await toggle.innerText({ timeout: 1000 })),
        60_000,
        500,
      );
      const toggleLabel = await toggle.getAttribute('aria-label');
      step(`status bar toggle: ${toggleLabel}`);
      assert.match(toggleLabel ?? '', /is on/);

      // ---- the switch on: F5 on the workspace's own node configuration ---------------------------------------
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('F5');
      step('F5 on "Run shop" (type node)');
      let panel = await until('the Net Trace panel', () => findFrame(page, '.list-rows'), 120_000, 500);
      await until(
        'the program’s and its child’s requests in the panel',
        async () => {
          const r = await visibleRows(panel);
          return ['/api/products', '/api/cart', '/api/inventory'].every((p) => r.some((t) => t.includes(p) && / 200 /.test(` ${t} `))) && r;
        },
        90_000,
        500,
      );
      const listed = await visibleRows(panel);
      step(`panel lists:\n    ${listed.join('\n    ')}`);
      assert.equal(listed.length, 3, 'exactly the three requests');
      // The program's own line for each request (Initiator column, or under the URL when narrow).
      const initiators = await panel.$$eval('.list-rows .row .c-initiator', (els) => els.map((e) => e.textContent.trim()));
      step(`initiators: ${initiators.join(', ')}`);
      for (const tag of ['products', 'cart', 'inventory'])
        assert.ok(initiators.includes(`shop.js:${lineOf(tag)}`), `shop.js:${lineOf(tag)} (${tag}) among ${initiators.join(', ')}`);
      await sleep(500);
      await shot('node-launch-run-and-debug');
      const traced = runs(workspace);
      assert.equal(traced.length, 2, JSON.stringify(traced));
      for (const r of traced) {
        assert.match(r.nodeOptions, /--require ".*preload\.cjs"/, `${r.role}: the preload in NODE_OPTIONS`);
        assert.match(r.nodeOptions, /--no-deprecation/, `${r.role}: the launch's own NODE_OPTIONS kept`);
      }
      await sessionEnded(page, 'the traced session to end');
      step('traced session ended');

      // ---- the switch off from the palette: the same launch, nothing injected --------------------------------
      rmSync(join(workspace, 'runs.log'));
      await runCommand(page, 'Net Trace: Trace All Node Debugging');
      await until('the toggle to say off', async () => /is off/.test((await toggle.getAttribute('aria-label')) ?? ''), 15_000, 300);
      const traceCount = () => panel.$$eval('select.trace-select option', (els) => els.filter((e) => e.value).length).catch(() => -1);
      const tracesBefore = await traceCount();
      await startDebugging(page, 'Run shop');
      step('"Run shop" started with the switch off');
      await until('the untraced run to finish', () => runs(workspace).length === 2, 60_000, 500);
      const untraced = runs(workspace);
      for (const r of untraced) assert.equal(r.nodeOptions.includes('preload.cjs'), false, `${r.role}: no preload (${r.nodeOptions})`);
      assert.match(untraced.find((r) => r.role === 'main').nodeOptions, /--no-deprecation/, 'the launch’s NODE_OPTIONS as it was');
      await sleep(1000);
      assert.equal(await traceCount(), tracesBefore, 'no new trace');
      await sleep(5000); // the untraced session lingers SHOP_LINGER_MS, then ends

      // ---- on again: a JavaScript Debug Terminal -----------------------------------------------------------
      await runCommand(page, 'Net Trace: Trace All Node Debugging');
      await until('the toggle to say on', async () => /is on/.test((await toggle.getAttribute('aria-label')) ?? ''), 15_000, 300);
      rmSync(join(workspace, 'runs.log'), { force: true });
      await runInDebugTerminal(page, 'node shop.js', step);
      panel = await until('the Net Trace panel', () => findFrame(page, '.list-rows'), 60_000, 500);
      await until(
        'the terminal trace with the program’s and its child’s requests',
        async () => {
          const label = await panel.$eval('select.trace-select', (s) => s.selectedOptions[0]?.textContent ?? '').catch(() => '');
          const r = await visibleRows(panel);
          return (
            /^node shop\.js \(JavaScript Debug Terminal\)/.test(label) &&
            ['/api/products', '/api/cart', '/api/inventory'].every((p) => r.some((t) => t.includes(p)))
          );
        },
        90_000,
        500,
      );
      const inTerminal = runs(workspace);
      step(`terminal processes: ${JSON.stringify(inTerminal)}`);
      assert.equal(inTerminal.length, 2);
      for (const r of inTerminal) assert.match(r.nodeOptions, /preload\.cjs/, `${r.role}: traced in the debug terminal`);

      // A second command in the same terminal, through npm (whose script forks the child): a trace of its own.
      await page.keyboard.type('npm run start');
      await page.keyboard.press('Enter');
      step('typed `npm run start` into the same terminal');
      await until(
        'the npm command’s own trace with the program’s and its child’s requests',
        async () => {
          const label = await panel.$eval('select.trace-select', (s) => s.selectedOptions[0]?.textContent ?? '').catch(() => '');
          const r = await visibleRows(panel);
          return (
            /^npm run start \(JavaScript Debug Terminal\)/.test(label) &&
            r.length === 3 &&
            ['/api/products', '/api/cart', '/api/inventory'].every((p) => r.some((t) => t.includes(p)))
          );
        },
        90_000,
        500,
      );
      const terminalTraces = await panel.$$eval('select.trace-select option', (els) => els.map((e) => e.textContent));
      step(`traces: ${terminalTraces.join(' | ')}`);
      assert.ok(
        terminalTraces.some((l) => /^node shop\.js \(JavaScript Debug Terminal\)/.test(l)),
        'the first command keeps its trace',
      );
      await shot('debug-terminal');

      // ---- attach to a program started with --inspect ----------------------------------------------------------
      const ticker = spawn(e2eNode(), [`--inspect=127.0.0.1:${inspectPort}`, join(workspace, 'ticker.js')], {
        env: { ...process.env, NODE_OPTIONS: '' },
        stdio: 'ignore',
      });
      onCleanup(async () => ticker.kill('SIGKILL'));
      await sleep(2000); // some ticks before the attach
      await startDebugging(page, 'Attach to ticker');
      step('"Attach to ticker" started');
      await until(
        'the attach trace with ticks made after the attach',
        async () => {
          const label = await panel.$eval('select.trace-select', (s) => s.selectedOptions[0]?.textContent ?? '').catch(() => '');
          const r = await visibleRows(panel);
          return /Attach to ticker \(from the attach on\)/.test(label) && r.filter((t) => t.includes('/tick?n=')).length >= 2 && r;
        },
        60_000,
        500,
      );
      const ticks = (await visibleRows(panel)).filter((t) => t.includes('/tick?n='));
      const first = Number(/n=(\d+)/.exec(ticks[0])[1]);
      step(`attach trace: ${ticks.length} ticks, the first n=${first}`);
      assert.ok(first > 3, `ticks made before the attach are not in the trace (first n=${first})`);
      await shot('attach');
    });
  },
);
