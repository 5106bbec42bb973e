// covers: src/cli/runTraced.ts
// `nettrace run` yields the CPU to the program it traces: once the program runs, the collector's
// threads take a lower priority (a higher nice value: src/cli/runTraced.ts) and the program keeps its own, with and
// without the helper. The trace is whole.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { apps, cli, run } from './harness.mjs';

for (const helper of ['off', 'auto']) {
  test(
    `nettrace run --helper ${helper}: the collector runs below the program's priority`,
    { skip: process.platform !== 'linux' },
    async (t) => {
      const server = http.createServer((_req, res) => res.end('ok'));
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      t.after(() => server.close());
      const dir = mkdtempSync(join(tmpdir(), 'nettrace-priority-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const out = join(dir, 't.json');
      const res = await run(
        process.execPath,
        [cli, 'run', '--quiet', '--helper', helper, '--out', out, '--', process.execPath, join(apps, 'priority.mjs')],
        { env: { PRIORITY_URL: `http://127.0.0.1:${server.address().port}/p` } },
      );
      assert.equal(res.code, 0, res.stderr);
      const seen = JSON.parse(res.stdout.trim().split('\n').pop());
      assert.equal(seen.own, getPriority(), `the program keeps the priority it was started with: ${res.stdout}`);
      assert.ok(seen.parent > seen.own, `the collector's is lower (a higher nice value): ${res.stdout}`);
      const trace = JSON.parse(readFileSync(out, 'utf8'));
      assert.deepEqual(
        trace.httpRequests.map((r) => [r.reqURL.replace(/:\d+/, ''), r.respStatusCode]),
        [['http://127.0.0.1/p', 200]],
      );
    },
  );
}
