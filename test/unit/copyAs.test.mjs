// covers: src/trace/formats/copyAs.ts
// Copy as cURL / fetch (src/trace/formats/copyAs.ts): the commands are run for real — the curl line by
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
import { rawServer } from '../lib/rawServer.mjs';

const c = bundleTs(["export * from './src/trace/formats/copyAs';"]);
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
  assert.equal(c.toCurl({ ...base, reqMethod: 'GET', reqHeaders: [] }).text, 'curl --globoff \\\n  --url https://h.test/');
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
  assert.equal(h2.text, "curl --globoff \\\n  --url https://h.test/ \\\n  -H 'accept-encoding: gzip' \\\n  --http2 \\\n  --compressed");
  assert.deepEqual(c.toCurl({ ...base, reqMethod: 'GET' }).missing, ['the request headers were not captured']);
});

// Control characters (issue 34, item 2): ESC, ^C, CR and the rest are written as bash's $'…'
// escapes, never raw, and the shell still makes the exact bytes. (The paste into a real terminal:
// test/integration/copyPaste.test.mjs.)
test("shellQuote: plain values in single quotes, any control character as $'…' escapes", () => {
  assert.equal(c.shellQuote('abc'), 'abc');
  assert.equal(c.shellQuote("it's $x"), `'it'\\''s $x'`);
  assert.equal(c.shellQuote('a\x1b[201~\x03b\r\n'), "$'a\\e[201~\\x03b\\r\\n'");
  assert.equal(c.shellQuote("q'\\\t\x7f"), "$'q\\x27\\\\\\t\\x7f'");
  assert.equal(c.shellQuote('\u009b0m é'), "$'\\xc2\\x9b0m é'");
  for (let code = 0; code < 0xa0; code++) {
    if (code >= 0x20 && code < 0x7f) continue;
    const q = c.shellQuote(`x${String.fromCharCode(code)}y`);
    assert.ok(q.startsWith("$'"), `U+${code.toString(16)}: ${q}`);
    assert.doesNotMatch(q, /[\u0000-\u001f\u007f-\u009f]/, `U+${code.toString(16)} stays raw`);
  }
});

/** Values a hostile server or trace file can put in a request: each must reach curl byte for byte. */
const HOSTILE = [
  'x\x1b[201~\x03touch /tmp/owned\r',
  'a\'b\\c"d$(id)`id`!!\n\t\x7f',
  '\u0085\u009b31m\u008d',
  '\x1b]52;c;aGk=\x07 \x08\x0b\x0c\x1f',
];

test(
  'curl: hostile control characters, quotes and shell syntax reach the server byte for byte',
  { skip: !hasCurl && 'curl is not installed' },
  async () => {
    const { server, got, url } = await rawServer();
    try {
      for (const v of HOSTILE) {
        const header = v.replace(/[\r\n]/g, ' ');
        const r = {
          traceID: 't',
          pid: 1,
          client: 'http',
          reqMethod: 'POST',
          reqURL: `${url}/p?filter[name]=x&n={1,2}`,
          reqHeaders: [['X-Evil', header]],
          reqBody: { size: v.length, truncated: false, text: v },
        };
        const { text } = c.toCurl(r);
        // Only the line continuations are raw controls.
        assert.doesNotMatch(text.replace(/ \\\n {2}/g, ' '), /[\u0000-\u001f\u007f-\u009f]/, text);
        got.length = 0;
        assert.equal(await run('bash', ['-c', text]), 'ok');
        const bytes = got[0];
        assert.ok(bytes.toString('latin1').startsWith('POST /p?filter[name]=x&n={1,2} HTTP/1.1\r\n'), 'globbing is off');
        assert.ok(bytes.includes(Buffer.from(`\r\nX-Evil: ${header}\r\n`)), `header sent as recorded: ${JSON.stringify(bytes.toString())}`);
        assert.ok(bytes.subarray(bytes.length - Buffer.byteLength(v)).equals(Buffer.from(v)), 'body sent as recorded');
      }
    } finally {
      server.close();
    }
  },
);

test('curl: a URL beginning with "-" is not an option; NUL is left out and said', () => {
  const { text } = c.toCurl({ traceID: 't', pid: 1, client: 'http', reqMethod: 'GET', reqURL: '-o/tmp/x', reqHeaders: [] });
  assert.match(text, /--url '?-o\/tmp\/x'?$/);
  const nul = c.toCurl({
    traceID: 't',
    pid: 1,
    client: 'http',
    reqMethod: 'POST',
    reqURL: 'http://h.test/',
    reqHeaders: [['X-A', 'a\0b']],
    reqBody: { size: 3, truncated: false, text: 'a\0b' },
  });
  assert.doesNotMatch(nul.text, /X-A|--data/);
  assert.deepEqual(nul.missing, [
    'X-A: its value holds a NUL character, which a command cannot carry',
    'the body holds a NUL character, which a shell argument cannot carry',
  ]);
});

test('fetch, HAR text and Copy URL hold no control character raw', async () => {
  for (const v of HOSTILE) {
    const r = {
      traceID: 't',
      pid: 1,
      client: 'fetch',
      reqMethod: 'POST',
      reqURL: `http://h.test/${v}`,
      reqHeaders: [['x-a', v]],
      reqBody: { size: 1, truncated: false, text: v },
    };
    const f = c.toFetch(r).text;
    assert.doesNotMatch(f.replace(/\n/g, ''), /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/, f);
    assert.doesNotMatch(c.safeJson({ v }, 2).replace(/\n/g, ''), /[\u0000-\u001f\u007f-\u009f]/);
    assert.deepEqual(JSON.parse(c.safeJson({ v, w: '\u2028' }, 2)), { v, w: '\u2028' });
    const u = c.copyUrl(r);
    assert.doesNotMatch(u.text, /[\u0000-\u001f\u007f-\u009f]/);
    assert.equal(decodeURIComponent(u.text), r.reqURL);
  }
});
