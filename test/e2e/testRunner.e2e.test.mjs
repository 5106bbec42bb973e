// covers: src/extension/terminalRouter.ts, src/preload/initiator/
// End-to-end: a `node --test` file debugged in the JavaScript Debug Terminal, with "Net Trace:
// Trace All Node Debugging" on, in a real VS Code (code-server) at 1440×900 with the Run and Debug
// side bar open. `node --test api.test.js` typed into the terminal runs the file in a child process
// of the test runner; the panel gets a trace named by the command line that lists the requests
// the tests made, each with the test file's own line as its initiator.
//
// Run by scripts/e2e.sh (code-server, Node 24, Chromium and the .vsix in NETTRACE_E2E_*), e.g.
// `scripts/e2e.sh test/e2e/testRunner.e2e.test.mjs`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findFrame, missing as skip, runCommand, sleep, until } from './support/codeServer.mjs';
import { e2eTest, runInDebugTerminal, visibleRows, withWorkbench } from './support/workbench.mjs';

const { results, step } = e2eTest('test-runner', 'test runner');

// A test file as a project has one: a local users API started by the file itself, and two tests
// that call it (fetch and http).
const TESTS = `const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');

let server;
let base;
before(async () => {
  server = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(req.url === '/api/users' ? [{ id: 1 }, { id: 2 }] : { id: 1, name: 'Ada' }));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = 'http://127.0.0.1:' + server.address().port;
});
after(() => server.close());

test('lists the users', async () => {
  const res = await fetch(base + '/api/users'); // e2e: users
  assert.equal((await res.json()).length, 2);
});

test('reads one user', async () => {
  const user = await new Promise((resolve, reject) => {
    http.get(base + '/api/users/1', (res) => { // e2e: user
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(JSON.parse(body)));
    }).on('error', reject);
  });
  assert.equal(user.name, 'Ada');
});
`;

test(
  'a node --test file in the JavaScript Debug Terminal: its requests with the test file’s lines',
  { skip, timeout: 8 * 60_000 },
  async () => {
    const lineOf = (tag) => TESTS.split('\n').findIndex((l) => l.includes(`// e2e: ${tag}`)) + 1;
    const prepare = ({ workspace }) => writeFileSync(join(workspace, 'api.test.js'), TESTS);
    const options = { label: 'test-runner', workspaceName: 'users', settings: { 'nettrace.traceNodeSessions': 'all' }, prepare, results };
    await withWorkbench({ ...options, openFile: 'api.test.js' }, async ({ page, shot }) => {
      await runCommand(page, 'View: Show Run and Debug');
      await runInDebugTerminal(page, 'node --test api.test.js', step);
      const panel = await until('the Net Trace panel', () => findFrame(page, '.list-rows'), 90_000, 500);
      await until(
        'the test command’s trace with the tests’ requests',
        async () => {
          const label = await panel.$eval('select.trace-select', (s) => s.selectedOptions[0]?.textContent ?? '').catch(() => '');
          const r = await visibleRows(panel);
          return (
            /^node --test api\.test\.js \(JavaScript Debug Terminal\)/.test(label) &&
            ['/api/users ', '/api/users/1'].every((p) => r.some((t) => `${t} `.includes(p) && / 200 /.test(` ${t} `)))
          );
        },
        90_000,
        500,
      );
      const listed = await visibleRows(panel);
      step(`panel lists:\n    ${listed.join('\n    ')}`);
      assert.equal(listed.length, 2, 'the two requests of the tests');
      // The test file's own line for each request (Initiator column, or under the URL when narrow).
      const initiators = await panel.$$eval('.list-rows .row .c-initiator', (els) => els.map((e) => e.textContent.trim()));
      step(`initiators: ${initiators.join(', ')}`);
      for (const tag of ['users', 'user'])
        assert.ok(initiators.includes(`api.test.js:${lineOf(tag)}`), `api.test.js:${lineOf(tag)} (${tag}) among ${initiators.join(', ')}`);
      await sleep(500);
      await shot('node-test-debug-terminal');
    });
  },
);
