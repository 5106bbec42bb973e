// covers: src/preload/headerCapture.ts, src/preload/transport/wireValues.ts,
//   src/trace/contract/wire.ts, src/trace/contract/redact.ts
// Header capture in the preload and its wire forms: what goes as is (the block or flat array the
// program already holds), what is parsed and redacted first, and how the collector decodes each
// form into the trace's pairs within the caps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs([
  "export * from './src/preload/headerCapture';",
  "export { resolveLazy } from './src/preload/transport/wireValues';",
  "export { decodeHeaders, MAX_HEADERS, MAX_VALUE } from './src/trace/contract/wire';",
  "export { redactedHeaderNames } from './src/trace/contract/redact';",
]);

/** A capture with the default secret names plus `extra` (the `redact` option's entries). */
const capture = (mode = 'values', extra = []) => new m.HeaderCapture(mode, m.redactedHeaderNames(extra));

/** What the collector would store for a field the preload produced (resolving a lazy value). */
const stored = (field) => m.decodeHeaders(typeof field === 'function' ? field(() => {}) : field);

test('a header block with nothing to redact goes as is and decodes to its pairs', () => {
  const block = 'GET /x HTTP/1.1\r\nHost: example.test:8080\r\nAccept: */*\r\nX-Odd:  spaced value \r\n\r\n';
  const h = capture();
  assert.equal(h.blockField(block), block);
  assert.deepEqual(stored(h.blockField(block)), [
    ['Host', 'example.test:8080'],
    ['Accept', '*/*'],
    ['X-Odd', 'spaced value'],
  ]);
});

test('a header block with a secret is parsed and redacted in the preload, whatever the case', () => {
  const block = 'GET / HTTP/1.1\r\nHost: a\r\nAUTHORIZATION: Bearer secret-token\r\nCookie: sid=1\r\n\r\n';
  const field = capture().blockField(block);
  assert.equal(typeof field, 'function', 'parsed when its batch is sent, not on the request path');
  const pairs = field(() => {});
  assert.ok(!JSON.stringify(pairs).includes('secret-token'));
  assert.ok(!JSON.stringify(pairs).includes('sid=1'));
  assert.deepEqual(m.decodeHeaders(pairs), [
    ['Host', 'a'],
    ['AUTHORIZATION', '<redacted>'],
    ['Cookie', '<redacted>'],
  ]);
});

test('a configured redacted name is honoured in blocks and flat arrays', () => {
  const h = capture('values', ['x-vendor-key']);
  const block = 'GET / HTTP/1.1\r\nX-Vendor-Key: k123\r\n\r\n';
  assert.deepEqual(stored(h.blockField(block)), [['X-Vendor-Key', '<redacted>']]);
  assert.deepEqual(stored(h.flatField(['x-vendor-key', 'k123', 'Date', 'today'])), [
    ['x-vendor-key', '<redacted>'],
    ['Date', 'today'],
  ]);
  // A name that merely contains a redacted name (and no pattern) is kept.
  assert.equal(h.blockField('GET / HTTP/1.1\r\nX-Vendor-Keys: none\r\n\r\n').includes('none'), true);
});

// Issue 34, item 7: names and patterns (src/trace/contract/redact.ts) in every form the preload handles.
test('secret header names by name and by pattern; challenges, pseudo-headers and exceptions kept', () => {
  const secret = [
    'X-Api-Key',
    'X-Auth-Token',
    'Private-Token',
    'X-Amz-Security-Token',
    'X-Goog-Api-Key',
    'X-Csrf-Token',
    'X-Vendor-Token',
    'DB-Password',
    'X-Session-Id',
    'X-Client-Secret',
    'X-JWT',
    'Authentication-Info',
  ];
  const kept = ['WWW-Authenticate', 'Proxy-Authenticate', 'Content-Type', 'Accept', 'Sec-WebSocket-Key', ':authority', 'Author'];
  const h = capture();
  for (const name of secret) {
    const block = `GET / HTTP/1.1\r\nHost: a\r\n${name}: S3CRET\r\n\r\n`;
    assert.doesNotMatch(JSON.stringify(stored(h.blockField(block))), /S3CRET/, `${name} in a block`);
    assert.doesNotMatch(JSON.stringify(stored(h.flatField([name, 'S3CRET']))), /S3CRET/, `${name} in a flat array`);
    assert.equal(h.stringBlock([name, 'S3CRET']), undefined, name);
    assert.equal(h.byteBlock([Buffer.from(name), Buffer.from('S3CRET')]), undefined, name);
  }
  for (const name of kept) {
    const block = `GET / HTTP/1.1\r\n${name}: visible\r\n\r\n`;
    if (!name.startsWith(':')) assert.deepEqual(stored(h.blockField(block)), [[name, 'visible']], name);
    assert.deepEqual(stored(h.flatField([name, 'visible'])), [[name, 'visible']], name);
    // A kept name the block's quick check finds too (WWW-Authenticate holds a secret part): its names clear it.
    if (!name.startsWith(':'))
      assert.deepEqual(
        stored(h.stringBlock(['Accept', '*/*', name, 'visible'])),
        [
          ['Accept', '*/*'],
          [name, 'visible'],
        ],
        name,
      );
  }
  // The user's patterns and exceptions: `*sid*` adds a pattern, `!x-session-id` keeps a name.
  const u = capture('values', ['*sid*', '!x-session-id', '!cookie']);
  assert.deepEqual(stored(u.flatField(['X-Sid-Hash', 'a', 'X-Session-Id', 'b', 'Cookie', 'c', 'X-Token', 'd'])), [
    ['X-Sid-Hash', '<redacted>'],
    ['X-Session-Id', 'b'],
    ['Cookie', 'c'],
    ['X-Token', '<redacted>'],
  ]);
});

test('a flat rawHeaders array (strings or Buffers) goes as is unless it holds a secret or an oversized value', () => {
  const h = capture();
  const flat = ['Content-Type', 'text/plain', 'Date', 'today'];
  assert.equal(h.flatField(flat), flat);
  assert.deepEqual(stored(flat), [
    ['Content-Type', 'text/plain'],
    ['Date', 'today'],
  ]);
  const withCookie = ['Set-Cookie', 'sid=2', 'Date', 'today'];
  assert.equal(typeof h.flatField(withCookie), 'function');
  assert.deepEqual(stored(h.flatField(withCookie)), [
    ['Set-Cookie', '<redacted>'],
    ['Date', 'today'],
  ]);
  // Buffers (undici's response headers) go as is too: the event encoder copies their bytes, the
  // JSON path decodes them (resolveLazy); a secret among them is redacted as in strings.
  const buffers = [Buffer.from('server'), Buffer.from('x')];
  assert.equal(h.flatField(buffers), buffers);
  const fields = { respHeaders: h.flatField(buffers) };
  m.resolveLazy(fields, () => {});
  assert.deepEqual(fields.respHeaders, ['server', 'x']);
  // Decoded as Latin-1, as undici decodes header bytes for the program (c3 a9 reads "Ã©"), on the
  // JSON path and in parsed pairs alike.
  const utf8Bytes = [Buffer.from('x-v'), Buffer.from([0x63, 0xc3, 0xa9])];
  const latin = { respHeaders: h.flatField(utf8Bytes) };
  m.resolveLazy(latin, () => {});
  assert.deepEqual(latin.respHeaders, ['x-v', 'c\u00c3\u00a9']);
  assert.deepEqual(stored(h.flatField([Buffer.from('Cookie'), Buffer.from('a'), ...utf8Bytes])), [
    ['Cookie', '<redacted>'],
    ['x-v', 'c\u00c3\u00a9'],
  ]);
  // A name of a secret's length is compared in place, in any case.
  const sameLength = [Buffer.from('Connection'), Buffer.from('keep-alive')];
  assert.equal(h.flatField(sameLength), sameLength);
  assert.equal(typeof h.flatField([Buffer.from('SET-cookie'), Buffer.from('a=1')]), 'function');
  assert.equal(typeof h.flatField(['AuThOrIzAtIoN', 'Basic x']), 'function');
  const secret = [Buffer.from('Set-Cookie'), Buffer.from('sid=3'), Buffer.from('server'), Buffer.from('x')];
  assert.deepEqual(stored(h.flatField(secret)), [
    ['Set-Cookie', '<redacted>'],
    ['server', 'x'],
  ]);
  const long = 'v'.repeat(m.MAX_VALUE + 10);
  const capped = stored(h.flatField(['X-Long', long]));
  assert.equal(capped[0][1].length, m.MAX_VALUE + 1);
  assert.ok(capped[0][1].endsWith('…'));
});

test('modes: names keeps names only, none keeps nothing', () => {
  const block = 'GET / HTTP/1.1\r\nHost: a\r\nAuthorization: x\r\n\r\n';
  assert.deepEqual(stored(capture('names').blockField(block)), [['Host'], ['Authorization']]);
  assert.deepEqual(stored(capture('names').flatField(['Date', 'today'])), [['Date']]);
  assert.equal(capture('none').blockField(block), undefined);
  assert.equal(capture('none').flatField(['Date', 'today']), undefined);
});

test('the decoder caps the number of headers and the length of values, from any form', () => {
  const many = [];
  for (let i = 0; i < m.MAX_HEADERS + 50; i++) many.push(`X-${i}`, 'v');
  assert.equal(m.decodeHeaders(many).length, m.MAX_HEADERS);
  let block = 'GET / HTTP/1.1\r\n';
  for (let i = 0; i < m.MAX_HEADERS + 50; i++) block += `X-${i}: v\r\n`;
  assert.equal(m.decodeHeaders(block).length, m.MAX_HEADERS);
  // A block too long to send whole is parsed (and capped) in the preload.
  const huge = `GET / HTTP/1.1\r\nX-Big: ${'b'.repeat(20000)}\r\n\r\n`;
  const field = capture().blockField(huge);
  assert.equal(typeof field, 'function');
  assert.equal(stored(field)[0][1].length, m.MAX_VALUE + 1);
});

test('the decoder rejects what is not a header form', () => {
  assert.equal(m.decodeHeaders(42), undefined);
  assert.equal(m.decodeHeaders({ Host: 'a' }), undefined);
  assert.deepEqual(m.decodeHeaders([]), []);
  // Pairs (what older preloads and the parse path send) pass through; junk entries are skipped.
  assert.deepEqual(m.decodeHeaders([['Host', 'a'], 'junk', [3], ['Only']]), [['Host', 'a'], ['Only']]);
});

/** undici's response headers as its parser hands them: views of the one chunk the head arrived in. */
function undiciHead(lines) {
  const chunk = Buffer.from(`HTTP/1.1 200 OK\r\n${lines.join('\r\n')}\r\n\r\nbody`, 'latin1');
  const out = [];
  let at = chunk.indexOf('\r\n') + 2;
  for (const line of lines) {
    const colon = line.indexOf(':');
    let v = colon + 1;
    while (line[v] === ' ' || line[v] === '\t') v++;
    out.push(chunk.subarray(at, at + colon), chunk.subarray(at + v, at + line.length));
    at += line.length + 2;
  }
  return out;
}

test('undici response headers that are views of one chunk go as that block of bytes, and decode to the pairs undici gives', () => {
  const lines = ['Date: Mon, 23 Nov 2026 05:47:37 GMT', 'X-C: a: b', 'X-Empty:', 'X-Tab:\tv', 'X-L: caf\u00e9', 'Content-Length: 2'];
  const flat = undiciHead(lines);
  const block = capture().byteBlock(flat);
  assert.ok(block instanceof Uint8Array);
  const text = Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('latin1');
  assert.equal(text, lines.join('\r\n'));
  // The collector parses '\r\n' + block (RecordWriter.headerBytes): the pairs undici gave the program.
  assert.deepEqual(
    m.decodeHeaders('\r\n' + text),
    [0, 2, 4, 6, 8, 10].map((i) => [flat[i].toString('latin1'), flat[i + 1].toString('latin1')]),
  );
});

test('undici response headers that cannot go as one block fall back to the list: a secret, a trailing space, a copy, a gap', () => {
  const ok = ['Content-Type: text/plain', 'Content-Length: 2'];
  assert.ok(capture().byteBlock(undiciHead(ok)));
  // A redacted name (any case): the list path redacts it.
  assert.equal(capture().byteBlock(undiciHead([...ok, 'SET-COOKIE: sid=1'])), undefined);
  // undici keeps a value's trailing whitespace; the block form would trim it.
  assert.equal(capture().byteBlock(undiciHead(['X-A:  v  ', ...ok])), undefined);
  assert.equal(capture().byteBlock(undiciHead(['X-A: v\t', ...ok])), undefined);
  // A no-break space (Latin-1 0xA0) at either end of a value: String#trim would take it too.
  assert.equal(capture().byteBlock(undiciHead(['X-A: v\u00a0', ...ok])), undefined);
  assert.equal(capture().byteBlock(undiciHead(['X-A: \u00a0v', ...ok])), undefined);
  // A value undici made by concatenating (a folded line, a head split across reads): another buffer.
  const copied = undiciHead(ok);
  copied[1] = Buffer.from(copied[1]);
  assert.equal(capture().byteBlock(copied), undefined);
  // Names and values out of place in the chunk (not one CRLF between lines).
  const swapped = undiciHead(ok);
  assert.equal(capture().byteBlock([swapped[2], swapped[3], swapped[0], swapped[1]]), undefined);
  // Strings (Node's http rawHeaders), an odd count, names-only capture, no capture.
  assert.equal(capture().byteBlock(['a', 'b']), undefined);
  assert.equal(capture().byteBlock(undiciHead(ok).slice(0, 3)), undefined);
  assert.equal(capture('names').byteBlock(undiciHead(ok)), undefined);
  assert.equal(capture('none').byteBlock(undiciHead(ok)), undefined);
});

test('a byte block is checked for secret names on every line, past the quick check, and the names it only suspects go as the block', () => {
  const ok = ['Content-Type: text/plain', 'Content-Length: 2'];
  for (const secret of ['Cookie: a=1', 'x-AUTH-token: t', 'X-Vendor-Secret: s', 'Authentication-Info: i']) {
    for (const lines of [
      [secret, ...ok],
      [ok[0], secret, ok[1]],
      [...ok, secret],
    ]) {
      assert.equal(capture().byteBlock(undiciHead(lines)), undefined, lines.join(' | '));
    }
  }
  // Kept names the quick check cannot tell from secrets: compared one by one, and the block goes.
  assert.ok(capture().byteBlock(undiciHead(['WWW-Authenticate: Basic', 'Author: a', ...ok])));
  assert.ok(capture('values', ['!x-session-id']).byteBlock(undiciHead(['X-Session-Id: 1', ...ok])));
  // The user's names and patterns, a one-character and a non-ASCII pattern among them.
  assert.equal(capture('values', ['x-mine']).byteBlock(undiciHead([...ok, 'X-Mine: 1'])), undefined);
  assert.equal(capture('values', ['*q*']).byteBlock(undiciHead([...ok, 'X-Q: 1'])), undefined);
  assert.equal(capture('values', ['*\u00e9t\u00e9*']).byteBlock(undiciHead([...ok, 'X-\u00c9t\u00e9: 1'])), undefined);
  // A block too long for the quick check: its names are compared one by one.
  const long = Array.from({ length: 40 }, (_, i) => `X-Filler-${i}: ${'v'.repeat(60)}`);
  assert.ok(capture().byteBlock(undiciHead([...long, ...ok])));
  assert.equal(capture().byteBlock(undiciHead([...long, 'Set-Cookie: s=1'])), undefined);
});

test('a header name gets the same answer every time it is asked, whatever the case', () => {
  const names = m.redactedHeaderNames(['!x-session-id']);
  for (let round = 0; round < 3; round++) {
    for (const n of ['Cookie', 'COOKIE', 'cookie', 'X-Vendor-Token', 'x-session-id', 'WWW-Authenticate', 'Content-Type', '']) {
      const want = ['Cookie', 'COOKIE', 'cookie', 'X-Vendor-Token'].includes(n);
      assert.equal(names.has(n), want, n);
      assert.equal(names.has(Buffer.from(n)), want, `${n} as bytes`);
    }
  }
});

test('a flat list of header strings goes as one block that decodes to the same pairs', () => {
  // Node's rawHeaders: names as sent, values with inner whitespace, colons, Latin-1, an empty one.
  const flat = [
    'Content-Type',
    'text/plain; charset=utf-8',
    'X-C',
    'a: b',
    'X-Empty',
    '',
    'X-In',
    'a \t b',
    'X-L',
    'caf\u00e9',
    'x-dup',
    '1',
    'X-DUP',
    '2',
  ];
  const block = capture().stringBlock(flat);
  assert.equal(typeof block, 'string');
  assert.ok(block.startsWith('\r\n'));
  const pairs = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
  assert.deepEqual(stored(block), pairs);
});

test('a repeated header list gets the block of its items, whatever changed since', () => {
  const c = capture();
  // Past the first calls, which build every time (UNCACHED_CALLS: V8's feedback for the build path).
  for (let i = 0; i < m.UNCACHED_CALLS; i++) assert.deepEqual(stored(c.stringBlock(['A', String(i)])), [['A', String(i)]]);
  const flat = ['Accept', '*/*', 'X-Id', '1'];
  const first = c.stringBlock(flat);
  assert.deepEqual(stored(first), [
    ['Accept', '*/*'],
    ['X-Id', '1'],
  ]);
  // The same items again (another array): the same block.
  assert.equal(c.stringBlock(['Accept', '*/*', 'X-Id', '1']), first);
  // The array it last read changed since (a caller may reuse or change its own): the next list is
  // compared with the items as they were read.
  flat[3] = '2';
  assert.deepEqual(stored(c.stringBlock(['Accept', '*/*', 'X-Id', '2'])), [
    ['Accept', '*/*'],
    ['X-Id', '2'],
  ]);
  // One more header, one header fewer: each gets its own block.
  assert.deepEqual(stored(c.stringBlock(['Accept', '*/*', 'X-Id', '2', 'X-B', 'b'])), [
    ['Accept', '*/*'],
    ['X-Id', '2'],
    ['X-B', 'b'],
  ]);
  assert.deepEqual(stored(c.stringBlock(['Accept', '*/*'])), [['Accept', '*/*']]);
  // A list that cannot go as a block stays so when repeated, and the one after it is built anew.
  assert.equal(c.stringBlock(['Authorization', 'Bearer x']), undefined);
  assert.equal(c.stringBlock(['Authorization', 'Bearer x']), undefined);
  assert.deepEqual(stored(c.stringBlock(['X-C', 'Bearer x'])), [['X-C', 'Bearer x']]);
});

test('a flat list of header strings that would not read back the same falls back to the list', () => {
  const ok = ['Content-Type', 'text/plain', 'Content-Length', '2'];
  assert.equal(typeof capture().stringBlock(ok), 'string');
  // A redacted name, in any case.
  assert.equal(capture().stringBlock([...ok, 'Set-Cookie', 'sid=1']), undefined);
  assert.equal(capture().stringBlock(['AUTHORIZATION', 'Bearer x', ...ok]), undefined);
  // A value beginning or ending with what String#trim takes: space, tab, a control, a no-break space.
  for (const v of [' v', 'v ', '\tv', 'v\t', 'v\r', '\u00a0v', 'v\u00a0'])
    assert.equal(capture().stringBlock(['X-A', v, ...ok]), undefined, JSON.stringify(v));
  // Past the caps: a long value, too many headers.
  assert.equal(capture().stringBlock(['X-A', 'v'.repeat(m.MAX_VALUE + 1)]), undefined);
  assert.equal(capture().stringBlock(Array.from({ length: 2 * (m.MAX_HEADERS + 1) }, (_, i) => (i % 2 ? 'v' : `X-${i}`))), undefined);
  // Not all strings, an odd count, nothing, names-only or no capture.
  assert.equal(capture().stringBlock(['X-A', ['a', 'b']]), undefined);
  assert.equal(capture().stringBlock([Buffer.from('X-A'), 'v']), undefined);
  assert.equal(capture().stringBlock(ok.slice(0, 3)), undefined);
  assert.equal(capture().stringBlock([]), undefined);
  assert.equal(capture('names').stringBlock(ok), undefined);
  assert.equal(capture('none').stringBlock(ok), undefined);
});
