// covers: src/cli/renderIncoming.ts, src/preload/server/
// A program that only serves (issue 49, item 10), traced by `nettrace run`: the run's summary and
// `nettrace show` count the requests it served, and do not say that nothing was traced.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apps, cli, run } from './harness.mjs';

let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nettrace-server-only-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** GET `path` of the program's server from this (untraced) process; `leaveAfterMs`: go away before the answer. */
function get(port, path, leaveAfterMs) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve('gone'));
    if (leaveAfterMs !== undefined) setTimeout(() => req.destroy(), leaveAfterMs);
  });
}

/** `nettrace run [args] -- node serve-only.cjs`, served four requests (one 404, one the client leaves); stdout and stderr. */
async function serveTraced(args) {
  const child = spawn(process.execPath, [cli, 'run', '--helper', 'off', ...args, '--', process.execPath, join(apps, 'serve-only.cjs')], {
    env: { ...process.env, NT_SERVE: '4' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      stdout += d;
      const m = /\{"port":(\d+)\}/.exec(stdout);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', () => reject(new Error(`the program ended before serving: ${stderr}`)));
  });
  const statuses = [await get(port, '/a'), await get(port, '/missing'), await get(port, '/b'), await get(port, '/slow', 50)];
  assert.deepEqual(statuses, [200, 404, 200, 'gone']);
  const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
  assert.equal(code, 0, stderr);
  return { stdout, stderr };
}

test('a server-only program: the run summary and nettrace show count what it served', async () => {
  const quietOut = join(dir, 'quiet.json');
  const quiet = await serveTraced(['--quiet', '--out', quietOut]);
  assert.match(quiet.stderr, /nettrace: 4 requests served \(1 failed\); 0 requests made, 0 failed/);
  const trace = JSON.parse(readFileSync(quietOut, 'utf8'));
  assert.equal(trace.incomingRequests.length, 4);
  assert.equal(trace.httpRequests.length, 0);

  const out = join(dir, 'table.json');
  const table = await serveTraced(['--out', out]);
  assert.doesNotMatch(table.stderr, /No HTTP requests were traced/);
  assert.match(table.stderr, /The program made no HTTP requests\./);
  assert.match(table.stderr, /Incoming requests/);
  assert.match(table.stderr, /4 requests served \(1 failed\); 0 requests made/);

  const show = await run(process.execPath, [cli, 'show', out]);
  assert.equal(show.code, 0, show.stderr);
  assert.doesNotMatch(show.stdout, /No HTTP requests were traced/);
  const lines = show.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'The program made no HTTP requests.');
  for (const path of ['/a', '/missing', '/b', '/slow']) assert.match(show.stdout, new RegExp(`GET http://127\\.0\\.0\\.1:\\d+${path} `));
  assert.match(show.stdout, / 404 /);
  assert.match(show.stdout, /aborted/);
  assert.match(lines.at(-1), /^4 requests served \(1 failed\); 0 requests made, 0 failed, \d+ connections?, 0 reused/);
});
