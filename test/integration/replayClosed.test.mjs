// covers: src/preload/message/recorder.ts, src/preload/playback/replayHttp.ts, src/preload/playback/replayUndici.ts, src/trace/contract/recording.ts
// An answer cut short, recorded and replayed as the program saw it (issue 64): a server that closes
// its connection in order mid-body (Node's http: "aborted"; undici: "other side closed") or before
// any answer ("socket hang up") is recorded as `closed`, not `reset`, and replayed as a close; a
// reset mid-body stays a reset ("read ECONNRESET"). Recorded with `nettrace run --record` against a
// real server, then replayed with the server closed: http, fetch and axios observe the same events
// and errors, in the same order, on every Node the harness runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apps, cli, nodeBinaries, root, run } from './harness.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'nettrace-closed-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const app = join(apps, 'closed-observe.mjs');

/** A server whose answers are cut: closed in order mid-body or before the head, or reset mid-body. */
async function cuttingServer() {
  const server = http.createServer((req, res) => {
    if (req.url === '/fin-before') return void req.socket.end();
    res.writeHead(200, { 'content-length': 1000, 'content-type': 'text/plain' });
    res.write('x'.repeat(100));
    // After the 100 bytes were read: a close in order, or a reset.
    setTimeout(() => (req.url === '/rst-mid' ? res.socket.resetAndDestroy() : res.socket.destroy()), 30);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return server;
}

const lines = (stdout) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));

let n = 0;
for (const { label, bin } of nodeBinaries()) {
  for (const client of ['http', 'fetch', 'axios']) {
    test(`${label}, ${client}: a close in order before the answer was whole is recorded and replayed as a close, a reset as a reset`, async () => {
      const server = await cuttingServer();
      const base = `http://127.0.0.1:${server.address().port}`;
      const env = { NT_BASE: base, NT_CLIENT: client, NODE_PATH: join(root, 'node_modules') };
      const rec = join(tmp, `rec-${++n}.json`);
      let recorded;
      try {
        const r = await run(process.execPath, [cli, 'run', '--helper', 'off', '--record', '--out', rec, '--', bin, app], { env });
        assert.equal(r.code, 0, r.stderr);
        recorded = lines(r.stdout);
      } finally {
        server.closeAllConnections?.();
        await new Promise((ok) => server.close(ok));
      }
      const trace = JSON.parse(readFileSync(rec, 'utf8'));
      const ends = Object.fromEntries(
        trace.exchanges.map((x) => [new URL(trace.httpRequests.find((q) => q.traceID === x.traceID).reqURL).pathname, x.end]),
      );
      assert.deepEqual(ends['/fin-mid'], { kind: 'closed', afterBodyBytes: 100 }, JSON.stringify(ends));
      assert.deepEqual(ends['/fin-before'], { kind: 'closed' }, JSON.stringify(ends));
      // A reset the client was told of ("read ECONNRESET"); when Node's http reported only the
      // close that followed ("aborted": the reset came after the end of the stream was read), a close.
      const rst = trace.httpRequests.find((q) => q.reqURL.endsWith('/rst-mid'));
      assert.deepEqual(
        ends['/rst-mid'],
        rst.reqError?.syscall === 'read' ? { kind: 'reset', afterBodyBytes: 100 } : { kind: 'closed', afterBodyBytes: 100 },
        JSON.stringify(rst.reqError),
      );

      const out = join(tmp, `out-${n}.json`);
      const r = await run(process.execPath, [cli, 'run', '--helper', 'off', '--replay', rec, '--out', out, '--', bin, app], { env });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(lines(r.stdout), recorded, 'the program observes the same replayed as recorded');
      const replayed = JSON.parse(readFileSync(out, 'utf8'));
      assert.deepEqual(
        replayed.httpRequests.map((q) => q.replay?.outcome),
        replayed.httpRequests.map(() => 'replayed'),
      );
    });
  }
}
