// covers: src/preload/playback/replayHttp2.ts
// A replayed http2 stream reset after some of its body (src/preload/playback/replayHttp2.ts,
// resetStream): the client reads the bytes sent, then the stream's error with the recorded code,
// as from the recorded server. Node's own `stream.close(code)` on a server stream still open ends
// it first (END_STREAM), so the client took a cut body for a whole one: held here beside it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';

const dir = mkdtempSync(join(tmpdir(), 'nettrace-h2reset-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const { resetStream } = bundleTs(["export { resetStream } from './src/preload/playback/replayHttp2';"], { dir, name: 'h2reset.cjs' });

/** A server that sends a head and 40 bytes, then ends the stream with `cut(stream)`; what a client saw of it. */
async function seen(cut) {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
    stream.write(Buffer.alloc(40, 120), () => setImmediate(() => cut(stream)));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const session = http2.connect(`http://127.0.0.1:${server.address().port}`);
  session.on('error', () => {});
  try {
    return await new Promise((resolve) => {
      const req = session.request({ ':path': '/' });
      let read = 0;
      req.on('data', (d) => (read += d.length));
      req.on('end', () => resolve({ read, ended: true }));
      req.on('error', (e) => resolve({ read, code: e.code, message: e.message, rstCode: req.rstCode }));
      req.end();
    });
  } finally {
    session.close();
    server.close();
  }
}

test('resetStream: the bytes sent, then an RST_STREAM with the code given, not an end', async () => {
  for (const code of [http2.constants.NGHTTP2_INTERNAL_ERROR, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM]) {
    const got = await seen((s) => resetStream(s, code));
    assert.equal(got.read, 40);
    assert.equal(got.ended, undefined, 'no END_STREAM before the reset');
    assert.equal(got.code, 'ERR_HTTP2_STREAM_ERROR');
    assert.equal(got.rstCode, code);
  }
});

test("Node's stream.close(code) on an open stream ends it first: the client reads a whole body (why resetStream exists)", async () => {
  const got = await seen((s) => s.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
  assert.deepEqual(got, { read: 40, ended: true });
});
