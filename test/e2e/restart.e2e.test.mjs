// covers: src/extension/nodeSessions.ts, webview/restarts.ts
// End-to-end: a `restart: true` launch of `node --watch` (the workspace's own "type": "node"
// configuration, "Net Trace: Trace All Node Debugging" on) in a real VS Code (code-server) at
// 1440×900 with the Run and Debug side bar open. F5: the panel lists the program's request with
// its line; the file changes, node --watch starts the program again, and the new process's request
// joins the same trace (no new trace in the list), with the program's line; the list marks where
// the restarted process begins ("restarted · pid N · HH:MM:SS") and its request's detail says
// "restart 1".
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*), e.g.
// `scripts/e2e.sh test/e2e/restart.e2e.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findFrame, missing as skip, runCommand, sleep, until } from './support/codeServer.mjs';
import { e2eTest, localServer, visibleRows, withWorkbench } from './support/workbench.mjs';

const { results, step } = e2eTest('restart');

// A service that reports its version to a registry once it is up, then keeps running.
const SERVICE = (version) => `// Registers this version of the service, then serves.
const http = require('node:http');

async function register() {
  const res = await fetch(process.env.REGISTRY_URL + '/register?version=${version}'); // e2e: register
  console.log('registered', res.status);
}

register().catch((err) => console.error(err));
setInterval(() => {}, 1000);
`;

test(
  'a restart: true launch of node --watch: after a file change the new process’s request continues the trace',
  { skip, timeout: 8 * 60_000 },
  async () => {
    const registry = await localServer((req, res) => res.end('ok'));
    const launch = {
      version: '0.2.0',
      configurations: [
        {
          type: 'node',
          request: 'launch',
          name: 'Watch service',
          runtimeArgs: ['--watch'],
          program: '${workspaceFolder}/service.js',
          restart: true,
          env: { REGISTRY_URL: `http://127.0.0.1:${registry.address().port}` },
        },
      ],
    };
    const line =
      SERVICE(1)
        .split('\n')
        .findIndex((l) => l.includes('// e2e: register')) + 1;
    const prepare = ({ workspace }) => {
      writeFileSync(join(workspace, 'service.js'), SERVICE(1));
      writeFileSync(join(workspace, '.vscode', 'launch.json'), JSON.stringify(launch, null, 2));
    };
    const traceLabels = (panel) =>
      panel.$$eval('select.trace-select option', (els) => els.filter((e) => e.value).map((e) => e.textContent));
    const options = { label: 'restart', workspaceName: 'service', settings: { 'nettrace.traceNodeSessions': 'all' }, prepare, results };
    await withWorkbench({ ...options, openFile: 'service.js' }, async ({ page, shot, workspace }) => {
      await runCommand(page, 'View: Show Run and Debug');
      await page.locator('.monaco-editor .view-lines').first().click();
      await page.keyboard.press('F5');
      step('F5 on "Watch service" (node --watch, restart: true)');
      const panel = await until('the Net Trace panel', () => findFrame(page, '.list-rows'), 120_000, 500);
      await until('the first process’s request', async () => (await visibleRows(panel)).some((t) => t.includes('version=1')), 90_000, 500);
      const before = await traceLabels(panel);
      step(`traces: ${before.join(' | ')}`);
      writeFileSync(join(workspace, 'service.js'), SERVICE(2));
      step('service.js changed');
      await until(
        'the restarted process’s request in the same trace',
        async () => {
          const r = await visibleRows(panel);
          return r.some((t) => t.includes('version=1')) && r.some((t) => t.includes('version=2')) && r;
        },
        90_000,
        500,
      );
      const listed = await visibleRows(panel);
      step(`panel lists:\n    ${listed.join('\n    ')}`);
      assert.equal(listed.length, 2);
      assert.deepEqual(await traceLabels(panel), before, 'no new trace: the restart continues the same one');
      const initiators = await panel.$$eval('.list-rows .row .c-initiator', (els) => els.map((e) => e.textContent.trim()).filter(Boolean));
      step(`initiators: ${initiators.join(', ')}`);
      assert.deepEqual(initiators, [`service.js:${line}`, `service.js:${line}`]);
      // The panel shows the restart: a separator on the restarted process's first request, and the detail says which restart.
      const first = listed.find((t) => t.includes('version=1'));
      const second = listed.find((t) => t.includes('version=2'));
      assert.doesNotMatch(first, /restarted/, 'the first run has no separator');
      assert.match(second, /restarted · pid \d+ · \d\d:\d\d:\d\d/, 'the restarted process’s first request');
      await panel.locator('.list-rows .row', { hasText: 'version=2' }).first().click();
      const made = await until(
        'the detail’s process line',
        () => panel.$eval('.detail-process', (e) => e.textContent).catch(() => ''),
        10_000,
        250,
      );
      step(`detail: ${made}`);
      assert.match(made, /^Made by pid \d+ · restart 1$/);
      await sleep(500);
      await shot('node-watch-restart');
    });
  },
);
