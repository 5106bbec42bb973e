// Copy as cURL / fetch (src/trace/copyAs.ts): the commands are run for real — the curl line by
// /bin/sh against a local server, the fetch snippet by node — and the server must see the same
// method, headers and body the trace recorded. Redacted values stay redacted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';

const c = bundleTs(["export * from './src/trace/copyAs';"]);
/** Runs a command without blocking the event loop (the echo server lives in this process). */
const run = async (file, args) => (await promisify(execFile)(file, args, { encoding: 'utf8' })).stdout;
const hasCurl = spawnSync('curl', ['--version']).status === 0;

/** A server that answers with what it received, as JSON. */
async function echoServer() {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

const tricky = `it's "quoted" $HOME \`x\` \\ ok`;
const req = (base, f = {}) => ({
  traceID: 'r1',
  pid: 1,
  client: 'fetch',
  reqMethod: 'PUT',
  reqURL: `${base}/items/1?q=a%20b&x=it's`,
  reqHeaders: [
    ['Content-Type', 'application/json'],
    ['X-Note', tricky],
    ['Authorization', '<redacted>'],
    ['Content-Length', '99'],
    ['Host', 'wrong.example'],
  ],
  reqContentLen: 20,
  reqBody: { size: 20, truncated: false, text: `{"a":"${tricky.replace(/["\\]/g, '\\$&')}"}` },
  ...f,
});

test(
  'curl: the shell runs it and the server sees the traced method, URL, headers and body',
  { skip: !hasCurl && 'curl is not installed' },
  async () => {
    const { server, url } = await echoServer();
    try {
      const r = req(url);
      const { text, missing } = c.toCurl(r);
      assert.deepEqual(missing, ['Authorization is redacted']);
      const seen = JSON.parse(await run('/bin/sh', ['-c', text]));
      assert.equal(seen.method, 'PUT');
      assert.equal(seen.url, "/items/1?q=a%20b&x=it's");
      assert.equal(seen.headers['x-note'], tricky);
      assert.equal(seen.headers.authorization, '<redacted>', 'a redacted value is not revealed');
      assert.equal(seen.headers.host, url.slice(7), 'Host and Content-Length are computed by curl, not replayed');
      assert.equal(seen.body, r.reqBody.text);
    } finally {
      server.close();
    }
  },
);

test('fetch: node runs the snippet and the server sees the same request', async () => {
  const { server, url } = await echoServer();
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-copyas-'));
  try {
    const r = req(url);
    const { text } = c.toFetch(r);
    const file = join(dir, 'replay.mjs');
    writeFileSync(file, `${text}\nprocess.stdout.write(await res.text());\n`);
    const seen = JSON.parse(await run(process.execPath, [file]));
    assert.equal(seen.method, 'PUT');
    assert.equal(seen.headers['x-note'], tricky);
    assert.equal(seen.body, r.reqBody.text);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('what could not be reproduced is listed; GET/POST/HEAD need no -X', () => {
  const base = { traceID: 'x', pid: 1, client: 'http', reqURL: 'https://h.test/' };
  assert.equal(c.toCurl({ ...base, reqMethod: 'GET', reqHeaders: [] }).text, 'curl https://h.test/');
  assert.match(c.toCurl({ ...base, reqMethod: 'HEAD', reqHeaders: [] }).text, /--head/);
  const post = c.toCurl({ ...base, reqMethod: 'POST', reqHeaders: [], reqBody: { size: 2, truncated: false, text: '{}' } }).text;
  assert.doesNotMatch(post, /-X/);
  const big = c.toCurl({ ...base, reqMethod: 'POST', reqHeaders: [['Cookie']], reqContentLen: 5000 });
  assert.deepEqual(big.missing, ["Cookie: only the header's name was captured", 'the body (5000 bytes) was not captured']);
  const trunc = c.toCurl({ ...base, reqMethod: 'POST', reqHeaders: [], reqBody: { size: 9000, truncated: true, text: 'abc' } });
  assert.match(trunc.missing[0], /truncated at capture \(9000 bytes sent\)/);
  assert.doesNotMatch(trunc.text, /--data-raw/);
  const h2 = c.toCurl({
    ...base,
    reqMethod: 'GET',
    protoMajor: 2,
    reqHeaders: [
      [':method', 'GET'],
      [':path', '/'],
      ['accept-encoding', 'gzip'],
    ],
  });
  assert.equal(h2.text, "curl https://h.test/ \\\n  -H 'accept-encoding: gzip' \\\n  --http2 \\\n  --compressed");
  assert.deepEqual(c.toCurl({ ...base, reqMethod: 'GET' }).missing, ['the request headers were not captured']);
});
