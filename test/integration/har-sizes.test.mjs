// covers: src/trace/formats/har.ts
// HAR sizes of compressed responses (issue 49 item 8, issue 62 item 7): HAR 1.2's `content.size`
// is the decoded length and `bodySize` what was received. The trace records the received bytes,
// and the decoded length where the client decoded the body for the program (fetch); a program
// using http decodes the body itself, after the trace saw it. So a gzip response's `bodySize` is
// the compressed length the server sent; through fetch its `content.size` is the length the
// program read (and `compression` the bytes saved), through http.get and axios -1 (not available)
// with a comment, never the compressed length; a plain response's two sizes are its length. On
// every Node the harness runs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { apps, cli, nodeBinaries, run } from './harness.mjs';

// About 60 kB of JSON that gzip makes about a sixth of.
const json = Buffer.from(
  JSON.stringify(Array.from({ length: 800 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b', String(i % 7)] }))),
);
const gz = gzipSync(json);
let server;
let base;

before(async () => {
  server = http.createServer((req, res) => {
    if (req.url.startsWith('/gzip')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': gz.length });
      res.end(gz);
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': json.length });
      res.end(json);
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => server?.close());

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: a gzip response's HAR content.size is the length fetch decoded, never its compressed length; a plain one's is its length`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nettrace-har-sizes-'));
    try {
      const harFile = join(dir, 't.har');
      const res = await run(
        process.execPath,
        [cli, 'run', '--quiet', '--helper', 'off', '--out', join(dir, 't.json'), '--har', harFile, '--', bin, join(apps, 'har-sizes.cjs')],
        {
          env: { NT_BASE: base },
        },
      );
      assert.equal(res.code, 0, res.stderr);
      assert.ok(existsSync(harFile), res.stderr);
      const decoded = JSON.parse(res.stdout.trim().split('\n').pop());
      const entries = JSON.parse(readFileSync(harFile, 'utf8')).log.entries;
      assert.ok(gz.length < json.length / 3, `gzip made ${json.length} bytes ${gz.length}`);
      for (const via of ['fetch', 'http', 'axios']) {
        assert.equal(decoded[`${via}/gzip`], json.length, `${via}: the program decoded the whole body`);
        const gzip = entries.find((e) => e.request.url === `${base}/gzip?via=${via}`);
        assert.ok(gzip, `${via}: the gzip request is in the HAR`);
        assert.equal(gzip.response.bodySize, gz.length, `${via}: bodySize is what was received`);
        if (via === 'fetch') {
          // fetch decoded it for the program: the length the program read.
          assert.deepEqual(gzip.response.content, {
            size: json.length,
            compression: json.length - gz.length,
            mimeType: 'application/json',
          });
        } else {
          assert.equal(gzip.response.content.size, -1, `${via}: the decoded length is not known: ${JSON.stringify(gzip.response.content)}`);
          assert.equal(gzip.response.content.compression, undefined);
          assert.match(
            gzip.response.content.comment,
            new RegExp(`^Content-Encoding: gzip: the decoded length was not recorded; ${gz.length} bytes were received`),
          );
        }
        const plain = entries.find((e) => e.request.url === `${base}/plain?via=${via}`);
        assert.ok(plain, `${via}: the plain request is in the HAR`);
        assert.equal(decoded[`${via}/plain`], json.length);
        assert.deepEqual([plain.response.bodySize, plain.response.content.size], [json.length, json.length], via);
        assert.equal(plain.response.content.comment, undefined);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
