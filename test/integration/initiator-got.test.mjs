// covers: src/preload/initiator/sdkCalls.ts, src/preload/initiator/sdkPackages.ts
// got makes its requests from its own async chain, HTTP/2 ones from http2-wrapper's session
// queue, and its retries from a timer: each request's initiator is still the program's line of
// the got() call that caused it, on every Node installed, for got 14 (found at its
// `got:request:create`, so from the first call), got 12 (an ES module found at its first
// request: that one keeps library frames only, never another call's line) and got 11 (CommonJS,
// likewise). Real got from npm against a local server speaking HTTP/1.1 and HTTP/2.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { apps, cli, nodeBinaries, root, run } from './harness.mjs';

const certs = join(root, 'test', 'fixtures', 'certs');
const LINES = {};
readFileSync(join(apps, 'initiator-got.mjs'), 'utf8')
  .split('\n')
  .forEach((text, i) => {
    const m = text.match(/\/\/ @line ([\w-]+)/);
    if (m) LINES[m[1]] = i + 1;
  });

let server;
let base;
const seen = [];
// The older got versions are installed under other names (package.json: got-11, got-12); the
// program loads each from a folder of its own as `node_modules/got`, as a user's would be.
const work = mkdtempSync(join(root, 'node_modules', '.nettrace-got-'));
const gotDirs = { 'got 14': root };
for (const [label, pkg] of [
  ['got 12', 'got-12'],
  ['got 11', 'got-11'],
]) {
  const dir = join(work, pkg);
  cpSync(join(root, 'node_modules', pkg), join(dir, 'node_modules', 'got'), { recursive: true });
  gotDirs[label] = dir;
}

before(async () => {
  let flaky = 0;
  server = http2.createSecureServer(
    { key: readFileSync(join(certs, 'localhost.key')), cert: readFileSync(join(certs, 'localhost.pem')), allowHTTP1: true },
    (req, res) => {
      seen.push(`${req.httpVersion} ${req.url}`);
      if (req.url === '/g/flaky' && flaky++ % 2 === 0) {
        res.writeHead(503);
        res.end();
        return;
      }
      setTimeout(() => res.end('ok'), 5);
    },
  );
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `https://127.0.0.1:${server.address().port}`;
});

after(() => {
  server?.close();
  rmSync(work, { recursive: true, force: true });
});

/** The program line of a request's initiator (undefined when it has none of the program's frames). */
function programLine(r) {
  const f = r.initiator?.frames.find((fr) => !fr.library);
  return f && /initiator-got\.mjs$/.test(f.file) ? f.line : f ? `${f.file}:${f.line}` : undefined;
}

for (const { label: nodeLabel, bin } of nodeBinaries()) {
  for (const [gotLabel, dir] of Object.entries(gotDirs)) {
    test(`${nodeLabel}, ${gotLabel}: every request got made has the line of the got() call behind it`, async () => {
      const out = join(work, `trace-${process.pid}-${Date.now()}.json`);
      const res = await run(
        process.execPath,
        [cli, 'run', '--quiet', '--helper', 'off', '--initiator', 'all', '--out', out, '--', bin, join(apps, 'initiator-got.mjs')],
        {
          env: { GOT_DIR: dir, BASE: base, CA: join(certs, 'ca.pem') },
        },
      );
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /done/);
      assert.ok(existsSync(out));
      const trace = JSON.parse(readFileSync(out, 'utf8'));
      rmSync(out, { force: true });
      const rows = trace.httpRequests
        .filter((r) => r.reqURL.includes('/g/'))
        .sort((a, b) => a.reqStartAt - b.reqStartAt)
        .map((r) => ({ path: new URL(r.reqURL).pathname, client: r.client, line: programLine(r), async: r.initiator?.async === true }));
      const shown = JSON.stringify(rows);
      const expected = {
        '/g/first': LINES.first,
        '/g/second': LINES.second,
        '/g/get': LINES.get,
        '/g/h2a-1': LINES.h2a,
        '/g/h2a-2': LINES.h2a,
        '/g/h2b-1': LINES.h2b,
        '/g/h2b-2': LINES.h2b,
        '/g/flaky': LINES.retried,
        '/g/stream': LINES.stream,
      };
      assert.deepEqual(rows.map((r) => r.path).sort(), [...Object.keys(expected), '/g/flaky', '/g/second'].sort(), shown);
      assert.deepEqual(
        rows.filter((r) => r.path.startsWith('/g/h2')).map((r) => r.client),
        ['http2', 'http2', 'http2', 'http2'],
        shown,
      );
      for (const [i, r] of rows.entries()) {
        if (i === 0 && gotLabel !== 'got 14') {
          // Found at this request: it keeps got's frames only, and no other call's line.
          assert.equal(r.line, undefined, shown);
          continue;
        }
        assert.equal(r.line, expected[r.path], `${r.path}: ${shown}`);
        assert.equal(r.async, true, `${r.path}: ${shown}`);
      }
    });
  }
}
