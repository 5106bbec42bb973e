// covers: src/trace/contract/redact.ts, src/extension/terminalRouter.ts
// End-to-end, in code-server (issue 48, items 1 and 7): with Trace All on (the user's setting),
// `node shop.js --db-password=hunter2 --token ghp_SECRET123` typed into a JavaScript Debug
// Terminal gives a trace named "node shop.js --db-password=<redacted> --token <redacted>
// (JavaScript Debug Terminal)": neither secret is in the panel's trace picker or page, the Net
// Trace output channel, the session file kept in the workspace storage or its sessions.json.
// The workspace is a hostile clone: its `.vscode/settings.json` points `nettrace.otlp` at a
// loopback "attacker" endpoint, un-redacts Authorization and turns bodies on. None acts: no span
// reaches the endpoint, the saved trace keeps Authorization redacted and holds no body, and a
// warning names the ignored setting.
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*):
// `scripts/e2e.sh test/e2e/secrets.e2e.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { findFrame, onCleanup, missing as skip, runCommand, sleep, until } from './support/codeServer.mjs';
import { e2eTest, runInDebugTerminal, withWorkbench } from './support/workbench.mjs';

const { results, step } = e2eTest('secrets');
const SECRETS = ['hunter2', 'ghp_SECRET123', 'AUTH-SECRET', 'REQUEST-BODY-SECRET', 'RESPONSE-BODY-SECRET'];
const COMMAND = 'node shop.js --db-password=hunter2 --token ghp_SECRET123';
const LABEL = /^node shop\.js --db-password=<redacted> --token <redacted> \(JavaScript Debug Terminal\)/;

// A program that logs in to its own local API: a POST with an Authorization header and a body.
const SHOP = `const http = require('node:http');
const srv = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => res.end('RESPONSE-BODY-SECRET'));
});
srv.listen(0, '127.0.0.1', () => {
  const req = http.request(
    { host: '127.0.0.1', port: srv.address().port, path: '/api/login', method: 'POST', headers: { Authorization: 'Bearer AUTH-SECRET' } },
    (res) => { res.resume(); res.on('end', () => setTimeout(() => srv.close(), 500)); },
  );
  req.end('REQUEST-BODY-SECRET');
});
`;

/** Every file under `dir` (recursively) whose name passes `want`. */
function filesUnder(dir, want) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, want));
    else if (want(name)) out.push(p);
  }
  return out;
}

const noSecret = (text, where) => {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${where} holds ${s}`);
};

test(
  'a JavaScript Debug Terminal command’s secrets stay out of the trace’s label, picker, output channel and saved session; a hostile workspace’s settings do not act',
  { skip, timeout: 10 * 60_000 },
  async () => {
    const attacker = { requests: 0 };
    const otlp = createServer((req, res) => {
      attacker.requests++;
      req.resume();
      res.end('{}');
    });
    await new Promise((r) => otlp.listen(0, '127.0.0.1', r));
    onCleanup(async () => otlp.close());
    const prepare = ({ workspace }) => {
      writeFileSync(join(workspace, 'shop.js'), SHOP);
      writeFileSync(
        join(workspace, '.vscode', 'settings.json'),
        JSON.stringify(
          {
            'nettrace.otlp': `http://127.0.0.1:${otlp.address().port}`,
            'nettrace.redact': ['!authorization'],
            'nettrace.bodies': true,
          },
          null,
          2,
        ),
      );
    };
    const options = { label: 'secrets', workspaceName: 'shop', settings: { 'nettrace.traceNodeSessions': 'all' }, prepare, results };
    await withWorkbench({ ...options, logsAlways: true }, async ({ page, shot, userData }) => {
      const toggle = page.locator('.statusbar-item', { hasText: 'All Node' }).first();
      await until('Trace All Node to be on', async () => /is on/.test((await toggle.getAttribute('aria-label')) ?? ''), 60_000, 500);

      await runInDebugTerminal(page, COMMAND, step);

      const panel = await until('the Net Trace panel', () => findFrame(page, '.list-rows'), 60_000, 500);
      const label = await until(
        'the command’s trace, named by its redacted command line, with the login request',
        async () => {
          const l = await panel.$eval('select.trace-select', (s) => s.selectedOptions[0]?.textContent ?? '').catch(() => '');
          const rows = await panel.$$eval('.list-rows .row', (els) => els.map((e) => e.innerText));
          return LABEL.test(l) && rows.some((t) => t.includes('/api/login')) && l;
        },
        90_000,
        500,
      );
      step(`trace: ${label}`);
      const options = await panel.$$eval('select.trace-select option', (els) => els.map((e) => e.textContent ?? ''));
      noSecret(options.join('\n'), 'the trace picker');
      noSecret(await panel.evaluate(() => document.body.innerText), 'the panel');
      await shot('debug-terminal-label');

      // The warning names the workspace's ignored setting (nettrace.otlp is machine-scoped: VS Code
      // drops it itself). Shown when the terminal was made; a toast with buttons hides after a while:
      // it is read in the notification center.
      await runCommand(page, 'Notifications: Show Notifications');
      const warning = await until(
        'a warning naming the ignored nettrace.redact',
        async () =>
          (await page.$$eval('.notifications-center .notification-list-item-message', (els) => els.map((e) => e.textContent ?? ''))).find(
            (t) => t.includes('nettrace.redact'),
          ),
        30_000,
        500,
      );
      step(`warning: ${warning}`);
      assert.match(warning, /"!authorization".*turns redaction off/);
      await shot('workspace-setting-warning');

      // The command's trace ends a few seconds after its processes; it is then kept in the workspace storage.
      const storage = join(userData, 'User', 'workspaceStorage');
      const index = await until(
        'sessions.json in the workspace storage',
        () => filesUnder(storage, (n) => n === 'sessions.json')[0],
        60_000,
        500,
      );
      const dir = join(index, '..');
      const saved = filesUnder(dir, (n) => n.endsWith('.json'));
      step(`kept: ${saved.map((f) => f.slice(dir.length + 1)).join(', ')}`);
      assert.ok(saved.length >= 2, 'sessions.json and the session file');
      for (const f of saved) noSecret(readFileSync(f, 'utf8'), f.slice(dir.length + 1));
      const session = saved.find((f) => f !== index);
      const trace = JSON.parse(readFileSync(session, 'utf8'));
      assert.match(trace.description, /--db-password=<redacted> --token <redacted>/);
      const login = trace.httpRequests.find((r) => r.reqURL.endsWith('/api/login'));
      assert.ok(login, 'the login request is in the saved trace');
      assert.deepEqual(
        login.reqHeaders.filter(([k]) => k.toLowerCase() === 'authorization').map(([, v]) => v),
        ['<redacted>'],
        'Authorization stays redacted (the workspace’s "!authorization" ignored)',
      );
      assert.equal(login.reqBody, undefined, 'no body (the workspace’s nettrace.bodies ignored)');
      assert.match(readFileSync(index, 'utf8'), /--token <redacted>/);

      // The Net Trace output channel.
      const channel = await until(
        'the Net Trace output channel’s log',
        () => filesUnder(join(userData, 'logs'), (n) => n.endsWith('Net Trace.log'))[0],
        30_000,
        500,
      );
      const out = readFileSync(channel, 'utf8');
      assert.match(out, /--token <redacted>/);
      noSecret(out, 'the Net Trace output channel');

      await sleep(1000);
      assert.equal(attacker.requests, 0, 'no span sent to the workspace’s OTLP endpoint');
    });
  },
);
