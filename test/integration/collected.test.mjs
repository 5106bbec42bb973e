// covers: src/preload/
// What the preload keeps of a request must not keep the program's objects alive (issue 62 item
// 8): every ClientRequest, IncomingMessage (client and server side), socket and fetch Response a
// traced program dropped is collected, as it is untraced (apps/collected.mjs: a
// FinalizationRegistry after `gc()` with `--expose-gc`), on every Node the harness runs: keep-alive
// and one-shot http, https, refused, destroyed and timed-out requests, an `Expect: 100-continue`
// request refused and one let through, Node's own test-http-client-leaky-with-double-response
// (the preload once kept the last socket it saw, and with it the request it last carried), fetch
// (read, gzip, cancelled, an event stream reset, refused), and the program's last request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apps, cli, nodeBinaries, run } from './harness.mjs';

const app = join(apps, 'collected.mjs');
const scenarios = ['fetches', 'sequential', 'failures', 'early', 'double', 'last'];

/** The program's report: how many objects it watched, and those never collected. */
function report(res) {
  assert.equal(res.code, 0, res.stderr);
  const line = res.stdout.split('\n').find((l) => l.startsWith('{"tracked"'));
  assert.ok(line, `the program reported: ${res.stdout}\n${res.stderr}`);
  return JSON.parse(line);
}

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: every request, response, socket and fetch Response the program dropped is collected traced, as untraced`, async () => {
    const plain = report(await run(bin, ['--expose-gc', app, ...scenarios]));
    const dir = mkdtempSync(join(tmpdir(), 'nettrace-collected-'));
    try {
      const out = join(dir, 'trace.json');
      const traced = report(
        await run(process.execPath, [cli, 'run', '--quiet', '--out', out, '--', bin, '--expose-gc', app, ...scenarios]),
      );
      assert.ok(existsSync(out), 'a trace was written');
      const trace = JSON.parse(readFileSync(out, 'utf8'));
      assert.ok(trace.httpRequests.length >= 15, `the requests were traced: ${trace.httpRequests.length}`);
      // The control: what Node itself keeps (Node 20 keeps the double response's request, its own leak).
      for (const key of plain.notCollected) assert.match(key, /double response$/, `untraced, ${key} was not collected`);
      assert.ok(plain.tracked > 60 && traced.tracked > 60, `objects watched: ${plain.tracked} untraced, ${traced.tracked} traced`);
      assert.deepEqual(traced.notCollected, plain.notCollected, 'traced, the same objects are collected as untraced');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
