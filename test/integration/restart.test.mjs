// covers: src/trace/builder/processes.ts, src/cli/runTraced.ts
// A restarted program continues its trace, marked as a restart: `nettrace run -- node --watch
// app.cjs` (what a debug session with `restart: true` and nodemon do alike: the same parent
// starts the same command again after the first process ended). The program makes one request
// and stays up; the test changes the file, node --watch stops it and starts it again, and the new
// process's request lands in the same trace with `restart: 1`, its process entry with `restart`
// and `restartOf` (the pid it replaced); the first process and its request carry no `restart`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, nodeBinaries } from './harness.mjs';

const app = (generation) => `const http = require('node:http');
http.get(process.env.APP_URL + '/hit?generation=${generation}', (res) => {
  res.resume();
  res.on('end', () => process.stdout.write('requested ${generation} ' + process.pid + '\\n'));
});
setInterval(() => {}, 1000); // a server would stay up: node --watch stops it at the change
`;

// node --watch on the oldest and the newest Node (the same code path in between).
const nodes = nodeBinaries();
for (const { label, bin } of [nodes[0], nodes.at(-1)].filter((n, i, all) => n && all.indexOf(n) === i)) {
  test(
    `${label}: node --watch restarts the program; the new process continues the trace, marked as a restart`,
    { timeout: 60_000 },
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'nettrace-restart-'));
      const server = createServer((req, res) => res.end('ok'));
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const out = join(dir, 'trace.json');
      writeFileSync(join(dir, 'app.cjs'), app(1));
      const child = spawn(process.execPath, [cli, 'run', '--quiet', '--out', out, '--', bin, '--watch', 'app.cjs'], {
        cwd: dir,
        env: { ...process.env, APP_URL: `http://127.0.0.1:${server.address().port}`, NODE_OPTIONS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const closed = new Promise((r) => child.on('close', (code, signal) => r({ code, signal })));
      const until = async (re) => {
        for (let i = 0; i < 400 && !re.test(stdout); i++) await new Promise((r) => setTimeout(r, 50));
        assert.match(stdout, re, stderr);
        return re.exec(stdout);
      };
      try {
        const [, first] = await until(/requested 1 (\d+)/);
        // The change node --watch restarts on.
        writeFileSync(join(dir, 'app.cjs'), app(2));
        const [, second] = await until(/requested 2 (\d+)/);
        assert.notEqual(second, first, 'a new process');
        // The end of the session: nettrace run passes SIGTERM on to node --watch, which stops.
        process.kill(child.pid, 'SIGTERM');
        await closed;
        assert.ok(existsSync(out), stderr);
        const trace = JSON.parse(readFileSync(out, 'utf8'));
        const hits = trace.httpRequests.map((r) => [new URL(r.reqURL).searchParams.get('generation'), r.pid, r.restart]);
        assert.deepEqual(
          hits.sort(),
          [
            ['1', Number(first), undefined],
            ['2', Number(second), 1],
          ],
          'both requests in the one trace, the second marked as made after a restart',
        );
        const proc = (pid) => trace.processes.find((p) => p.pid === Number(pid) && p.threadId === 0);
        assert.equal(proc(first).restart, undefined);
        assert.equal(proc(second).restart, 1);
        assert.equal(proc(second).restartOf, Number(first));
        assert.equal(proc(second).ppid, proc(first).ppid, 'both started by node --watch');
      } finally {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* ended */
        }
        server.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
}
