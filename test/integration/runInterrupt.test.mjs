// covers: src/cli/runTraced.ts, src/preload/transport/transport.ts
// Ctrl+C on `nettrace run`: the terminal sends SIGINT to the whole process group, the program dies
// of it without an exit message (Node runs no exit handlers on a signal), and the collector writes
// the trace. The warning says the run was interrupted, not that a process was killed and events
// may be lost; the requests the server had received but not answered are incomplete, and their
// diagnosis does not claim they were never sent (the preload reports the send time with the
// response). The CLI exits as the program did (128 + SIGINT).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { apps, cli, readTraced, root } from './harness.mjs';

test('Ctrl+C on nettrace run: the trace is written, the warning says the run was interrupted, in-flight requests are not "never sent"', async (t) => {
  const held = [];
  let arrived;
  const both = new Promise((r) => (arrived = r));
  const server = http.createServer((req, res) => {
    held.push(res);
    if (held.length === 2) arrived();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    for (const res of held) res.destroy();
    server.close();
  });
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-interrupt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 't.json');
  // Its own process group, as a terminal's foreground job: the SIGINT goes to the CLI and the program.
  const child = spawn(
    process.execPath,
    [cli, 'run', '--quiet', '--helper', 'off', '--out', out, '--', process.execPath, join(apps, 'interrupt.mjs')],
    {
      cwd: root,
      env: { ...process.env, INTERRUPT_URL: `http://127.0.0.1:${server.address().port}` },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  await Promise.race([both, exited.then(() => assert.fail(`the run ended before the requests arrived: ${stderr}`))]);
  // The preload's last milestones leave within 25 ms (src/preload/transport/transport.ts).
  await new Promise((r) => setTimeout(r, 300));
  process.kill(-child.pid, 'SIGINT');
  const { code } = await exited;
  assert.equal(code, 128 + constants.signals.SIGINT, stderr);
  const trace = readTraced(out);
  const warnings = trace.stats.warnings.join('\n');
  assert.match(warnings, /pid \d+ was stopped by Ctrl\+C \(SIGINT\) when the run was interrupted/);
  assert.doesNotMatch(warnings, /without an exit message/);
  assert.deepEqual(trace.httpRequests.map((r) => [r.client, r.reqURL.replace(/:\d+/, ''), r.incomplete]).sort(), [
    ['fetch', 'http://127.0.0.1/fetch', 'process killed'],
    ['http', 'http://127.0.0.1/http', 'process killed'],
  ]);
  for (const r of trace.httpRequests) {
    assert.equal(r.diagnosis, 'never finished: the process was killed after its connection was ready, before any response arrived');
  }
});
