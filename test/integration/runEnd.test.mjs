// covers: src/cli/nettrace.ts, src/cli/runTraced.ts
// The end of `nettrace run` (issue 65): once its work is done it exits at once (exitAtOnce), not
// after Node's own end of the loop. Nothing of its end is lost to that: with stderr a pipe the
// parent reads late, the whole table, the summary line and the `Wrote` line arrive, the exit code
// is the program's, and the trace file holds every request, readable by its owner only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, run } from './harness.mjs';

const N = 400;

// Keep-alive requests one after another; then the program ends with exit code 5.
const program = `
const http = require('node:http');
const agent = new http.Agent({ keepAlive: true });
(async () => {
  for (let i = 0; i < ${N}; i++)
    await new Promise((resolve, reject) =>
      http.get(process.env.END_URL + '/r' + i, { agent }, (res) => res.resume().on('end', resolve)).on('error', reject));
  agent.destroy();
  process.exitCode = 5;
})();
`;

test(`nettrace run's end: a ${N}-request run's table, summary and Wrote line reach a pipe read late; the exit code is the program's`, async (t) => {
  const server = http.createServer((_req, res) => res.end('ok'));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-run-end-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 't.json');
  // stderr is a pipe whose reader starts 300 ms late (the kernel keeps what is written meanwhile);
  // bash gives back the command's own exit code.
  const res = await run(
    'bash',
    [
      '-c',
      '"$@" 2>&1 >/dev/null | { sleep 0.3; cat; }; exit "${PIPESTATUS[0]}"',
      'bash',
      process.execPath,
      cli,
      'run',
      '--helper',
      'off',
      '--out',
      out,
      '--',
      process.execPath,
      '-e',
      program,
    ],
    { env: { END_URL: `http://127.0.0.1:${server.address().port}` } },
  );
  const stderr = res.stdout;
  assert.equal(res.code, 5, `the program's exit code: ${stderr.slice(-2000)}`);
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.at(-1), `Wrote ${out}`, 'the last line is the file written');
  assert.match(stderr, new RegExp(`^${N} requests, 0 failed, 1 connection, ${N - 1} reused`, 'm'), 'the summary line');
  assert.match(stderr, /# METHOD/, "the table's head");
  const trace = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(trace.httpRequests.length, N);
  assert.ok(trace.httpRequests.every((r) => r.respStatusCode === 200 && typeof r.respDoneAt === 'number'));
  assert.equal(statSync(out).mode & 0o777, 0o600, 'the trace file is private');
});
