// covers: src/protocol/events.ts, src/collector/eventDecoder.ts, src/protocol/recordWriter.ts,
//   src/preload/transport/transport.ts
// needs: the build (dist/core.cjs, dist/preload.cjs)
// Record events (src/protocol/events.ts, src/collector/eventDecoder.ts): the preload's binary
// record updates decode to exactly the record messages the JSON path sends; hostile or cut
// frames end in a clear error and a counted drop, never an exception; and a real preloaded
// program gives the same trace with events on and off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs([
  "export * from './src/protocol/events';",
  "export * from './src/protocol/recordWriter';",
  "export { EventDecoder } from './src/collector/eventDecoder';",
]);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const preloadPath = join(root, 'dist', 'preload.cjs');

/** Encodes record messages as one frame: [bytes, count]. */
function encode(messages, enc = new m.EventEncoder()) {
  for (const msg of messages) {
    assert.ok(enc.begin(msg.kind, msg.id));
    for (const k in msg.fields) enc.field(k, msg.fields[k]);
    assert.ok(enc.end());
  }
  return [Buffer.from(enc.buf.subarray(0, enc.off)), enc.count];
}

/** What the collector gets for a message on the JSON path. */
const viaJson = (msg) => JSON.parse(JSON.stringify(msg));

const t0 = 1763830000123.4567;
const sample = [
  {
    type: 'record',
    kind: 'httpRequests',
    id: 'r1',
    fields: {
      client: 'http',
      reqMethod: 'GET',
      reqURL: 'http://h.test:8080/ünïcödé/€?q=𝄞',
      protoMajor: 1,
      protoMinor: 1,
      reqStartAt: t0,
      reusedConn: false,
      reqHeaders: 'GET / HTTP/1.1\r\nHost: h.test\r\nX-Lat: caf\u00e9\r\n\r\n',
      reqContentLen: 0,
      tcpConn: 't1',
      dial: 'd1',
      initiator: 's1',
      left: undefined,
    },
  },
  {
    type: 'record',
    kind: 'httpRequests',
    id: 'r1',
    fields: {
      reqSentAt: t0 + 0.25,
      respRecvAt: t0 + 1.5,
      respStatusCode: 200,
      respStatusText: 'OK',
      protoMajor: 1,
      protoMinor: 1,
      respHeaders: ['Content-Type', 'text/plain', 'Content-Length', '2', 'X-Empty', ''],
    },
  },
  { type: 'record', kind: 'httpRequests', id: 'r1', fields: { respContentLen: 2, respDoneAt: t0 + 2, respClosedEarly: true } },
  {
    type: 'record',
    kind: 'httpRequests',
    id: 'r2',
    fields: {
      client: 'fetch',
      reqMethod: 'GET',
      reqURL: 'http://h.test/',
      reqStartAt: -1.5,
      reqHeaders: [],
      respHeaders: ['content-type', 'text/plain'],
      proxy: { url: 'http://p:3128', tunnel: 't2' },
      reqError: { phase: 'connect', message: 'connect ECONNREFUSED', code: 'ECONNREFUSED', port: 1, cause: { message: 'x' } },
      reqEndAt: 2 ** 40,
      marks: ['a', 'b'],
      someNewField: { deep: [1, null, 'x'] },
      nothing: null,
      big: 2 ** 53,
      neg: -7,
      nan: NaN,
    },
  },
  { type: 'record', kind: 'tcpConns', id: 't1', fields: { totalSentBytes: 120, totalRecvBytes: 4 * 2 ** 30, requestCount: 3 } },
  { type: 'record', kind: 'dials', id: 'd1', fields: { dstAddress: '127.0.0.1:80', dnsLookups: [], dialErr: null } },
];

test('events decode to exactly the record messages of the JSON path', () => {
  const [bytes, n] = encode(sample);
  const out = new m.EventDecoder().decode(bytes, n);
  assert.equal(out.error, undefined);
  assert.equal(out.dropped, 0);
  assert.deepEqual(out.messages, sample.map(viaJson));
});

/** Writes a message's fields through a RecordWriter, by code, with the writer the hooks use for each type. */
function writeTyped(w, fields) {
  for (const [name, v] of Object.entries(fields)) {
    const code = m.F[name];
    assert.notEqual(code, undefined, name);
    if (name === 'reqHeaders' || name === 'respHeaders') w.headers(code, v);
    else if (typeof v === 'number' || v === undefined) w.num(code, v);
    else if (typeof v === 'boolean') w.flag(code, v);
    else if (typeof v === 'string') (['client', 'reqMethod', 'respStatusText'].includes(name) ? w.intern : w.text).call(w, code, v);
    else w.any(code, v);
  }
}

test('typed writers (by code) write the same events as field() by name, and FieldsWriter the same fields as JSON', () => {
  // The hot-path fields only (FIELD_NAMES); others go by name.
  const hot = sample.filter((msg) => Object.keys(msg.fields).every((k) => m.F[k] !== undefined));
  assert.ok(hot.length >= 4);
  const [byName] = encode(hot);
  const enc = new m.EventEncoder();
  for (const msg of hot) {
    assert.ok(enc.begin(msg.kind, msg.id));
    writeTyped(enc, msg.fields);
    assert.ok(enc.end());
  }
  assert.deepEqual(Buffer.from(enc.buf.subarray(0, enc.off)), byName);
  for (const msg of hot) {
    const w = new m.FieldsWriter(msg.kind, msg.id);
    writeTyped(w, msg.fields);
    assert.deepEqual(viaJson({ ...msg, fields: w.fields }), viaJson(msg));
  }
});

test('num and text write every number and string as the JSON path does (u32, f64, negative, past 2^32, NaN, ±Infinity, -0; ASCII, short and long UTF-8)', () => {
  const nums = [
    0,
    1,
    200,
    0xffffffff,
    2 ** 32,
    2 ** 53,
    -1,
    -7.25,
    0.5,
    t0,
    -0,
    NaN,
    Infinity,
    -Infinity,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
  ];
  const texts = [
    '',
    'a',
    'http://h.test/x?y=1',
    'é',
    'ü'.repeat(20),
    'x'.repeat(47) + 'é',
    'x'.repeat(48),
    'x'.repeat(49),
    '€'.repeat(100),
    'a\u0000b',
  ];
  const enc = new m.EventEncoder();
  const want = [];
  for (const [i, v] of nums.entries()) {
    assert.ok(enc.begin('httpRequests', `n${i}`));
    enc.num(m.F.reqStartAt, v);
    assert.ok(enc.end());
    want.push(viaJson({ type: 'record', kind: 'httpRequests', id: `n${i}`, fields: { reqStartAt: v } }));
  }
  for (const [i, v] of texts.entries()) {
    assert.ok(enc.begin('httpRequests', `s${i}`));
    enc.text(m.F.reqURL, v);
    assert.ok(enc.end());
    want.push(viaJson({ type: 'record', kind: 'httpRequests', id: `s${i}`, fields: { reqURL: v } }));
  }
  const out = new m.EventDecoder().decode(Buffer.from(enc.buf.subarray(0, enc.off)), enc.count);
  assert.equal(out.error, undefined);
  assert.deepEqual(out.messages, want);
});

test('a string whose worst-case size passes the byte limit but whose UTF-8 fits is written whole; one that does not fit is rewound', () => {
  const enc = new m.EventEncoder(1024);
  const fits = 'a'.repeat(600); // worst case 5 + 3 × 600 bytes > 1,024; its UTF-8: 600
  assert.ok(enc.begin('httpRequests', 'r1'));
  enc.text(m.F.reqURL, fits);
  assert.ok(enc.end());
  assert.ok(enc.begin('httpRequests', 'r2'));
  enc.text(m.F.reqURL, 'é'.repeat(600)); // 1,200 bytes of UTF-8: past the limit
  assert.equal(enc.end(), false);
  const out = new m.EventDecoder().decode(Buffer.from(enc.buf.subarray(0, enc.off)), enc.count);
  assert.deepEqual(out.messages, [{ type: 'record', kind: 'httpRequests', id: 'r1', fields: { reqURL: fits } }]);
});

test('a lazy value is computed when its event is written, its message sent through `side` first; one that throws is left out', () => {
  const enc = new m.EventEncoder();
  const sent = [];
  enc.side = (msg) => sent.push(msg);
  assert.ok(enc.begin('httpRequests', 'r1'));
  enc.any(m.F.initiator, (side) => {
    side({ type: 'stack', id: 's1' });
    return 's1';
  });
  enc.headers(m.F.reqHeaders, () => [['Host', 'h.test']]);
  enc.headers(m.F.respHeaders, () => {
    throw new Error('x');
  });
  enc.num(m.F.reqStartAt, 5);
  assert.ok(enc.end());
  assert.deepEqual(sent, [{ type: 'stack', id: 's1' }]);
  const out = new m.EventDecoder().decode(Buffer.from(enc.buf.subarray(0, enc.off)), enc.count);
  assert.deepEqual(out.messages, [
    { type: 'record', kind: 'httpRequests', id: 'r1', fields: { initiator: 's1', reqHeaders: [['Host', 'h.test']], reqStartAt: 5 } },
  ]);
});

test('header lists of Buffers (undici response headers) decode to their Latin-1 text, as undici gives them to the program', () => {
  // 0xe9 is é in Latin-1; c3 a9 (é in UTF-8) reads as "Ã©", as undici's fetch and Node's http parser read it.
  const raw = [
    [0x78, 0x2d, 0x6c, 0x31],
    [0x63, 0x61, 0x66, 0xe9],
    [0x78, 0x2d, 0x75, 0x38],
    [0x63, 0x61, 0x66, 0xc3, 0xa9],
  ];
  const bytes = [
    ...raw.map((b) => Buffer.from(b)),
    Buffer.from('content-type'),
    Buffer.from('text/plain'),
    Buffer.from('x-empty'),
    Buffer.alloc(0),
  ];
  const msg = { type: 'record', kind: 'httpRequests', id: 'r9', fields: { respHeaders: bytes, respStatusCode: 200 } };
  const [frame, n] = encode([msg]);
  const out = new m.EventDecoder().decode(frame, n);
  assert.equal(out.error, undefined);
  const text = ['x-l1', 'caf\u00e9', 'x-u8', 'caf\u00c3\u00a9', 'content-type', 'text/plain', 'x-empty', ''];
  assert.deepEqual(
    text,
    bytes.map((b) => b.toString('latin1')),
  );
  assert.deepEqual(out.messages, [{ ...msg, fields: { respHeaders: text, respStatusCode: 200 } }]);
  // Mixed with strings in one list, too.
  const mixed = { ...msg, fields: { reqHeaders: ['Host', Buffer.from('h.test')] } };
  const [frame2, n2] = encode([mixed]);
  assert.deepEqual(new m.EventDecoder().decode(frame2, n2).messages, [{ ...msg, fields: { reqHeaders: ['Host', 'h.test'] } }]);
});

test('a header block given as bytes (headerBytes) decodes to the block form, Latin-1, from the encoder and from FieldsWriter alike', () => {
  const head = (latin1) => Buffer.from(latin1, 'latin1');
  const cases = [
    // Short (copied byte by byte), long ASCII (one copy), long with Latin-1 bytes (converted).
    head('X-A: 1'),
    head('Date: Mon, 23 Nov 2026 05:47:37 GMT\r\nConnection: keep-alive\r\nContent-Length: 2'),
    head('Content-Type: text/plain\r\nX-L: caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, s\u00f8ren, \u00ff\r\nX-Empty:'),
  ];
  for (const bytes of cases) {
    // A view into a larger chunk, as undici's parser hands header bytes.
    const chunk = Buffer.concat([head('HTTP/1.1 200 OK\r\n'), bytes, head('\r\n\r\nbody')]);
    const view = new Uint8Array(chunk.buffer, chunk.byteOffset + 17, bytes.length);
    const enc = new m.EventEncoder();
    assert.ok(enc.begin('httpRequests', 'r1'));
    enc.headerBytes(m.F.respHeaders, view);
    enc.num(m.F.respStatusCode, 200);
    assert.ok(enc.end());
    const out = new m.EventDecoder().decode(Buffer.from(enc.buf.subarray(0, enc.off)), enc.count);
    assert.equal(out.error, undefined);
    const text = '\r\n' + bytes.toString('latin1');
    assert.deepEqual(out.messages, [
      { type: 'record', kind: 'httpRequests', id: 'r1', fields: { respHeaders: text, respStatusCode: 200 } },
    ]);
    const w = new m.FieldsWriter('httpRequests', 'r1');
    w.headerBytes(m.F.respHeaders, view);
    assert.deepEqual(w.fields, { respHeaders: text });
  }
});

test('a header list with something other than text after a text item is not encoded: the event is rewound whole', () => {
  const enc = new m.EventEncoder();
  assert.ok(enc.begin('httpRequests', 'r1'));
  enc.field('respHeaders', ['X-New-Name', 'v', { not: 'text' }, 'w']);
  assert.equal(enc.end(), false, 'the caller sends it as JSON');
  assert.equal(enc.off, 0);
  // The name it interned was taken back: a later event defines it again and decodes.
  const msg = { type: 'record', kind: 'httpRequests', id: 'r2', fields: { respHeaders: ['X-New-Name', 'v'] } };
  const [frame, n] = encode([msg], enc);
  assert.deepEqual(new m.EventDecoder().decode(frame, n).messages, [msg]);
});

test('method, status text and header names are interned: sent once per connection, then as an index', () => {
  const enc = new m.EventEncoder();
  const one = (id) => ({ type: 'record', kind: 'httpRequests', id, fields: { reqMethod: 'POST', respHeaders: ['Content-Type', 'a'] } });
  encode([one('r1')], enc);
  const first = enc.off;
  encode([one('r2')], enc);
  const second = enc.off - first;
  assert.ok(second < first - 'POST'.length - 'Content-Type'.length, `second event ${second} bytes, first ${first}`);
  const dec = new m.EventDecoder();
  const out = dec.decode(Buffer.from(enc.buf.subarray(0, enc.off)), 2);
  assert.deepEqual(out.messages, [one('r1'), one('r2')]);
  // The table lives across frames of one connection.
  enc.reset();
  encode([one('r3')], enc);
  assert.deepEqual(dec.decode(Buffer.from(enc.buf.subarray(0, enc.off)), 1).messages, [one('r3')]);
  // A fresh connection (decoder) without the definitions: a clear error, a counted drop.
  const fresh = new m.EventDecoder();
  const bad = fresh.decode(Buffer.from(enc.buf.subarray(0, enc.off)), 1);
  assert.match(bad.error, /never defined/);
  assert.equal(bad.dropped, 1);
  assert.equal(fresh.dropped, 1);
});

test('the buffer grows; an event past maxBytes is rewound whole, its interned strings taken back', () => {
  const enc = new m.EventEncoder(70 * 1024);
  const big = 'x'.repeat(20 * 1024);
  for (let i = 0; i < 3; i++) {
    assert.ok(enc.begin('httpRequests', `r${i}`));
    enc.field('reqURL', big);
    assert.ok(enc.end());
  }
  const before = enc.off;
  assert.ok(enc.begin('httpRequests', 'r9'));
  enc.field('reqMethod', 'NEWMETHOD');
  enc.field('reqURL', big);
  assert.equal(enc.end(), false);
  assert.equal(enc.off, before);
  assert.equal(enc.count, 3);
  // An event left open (a hook that threw midway) is dropped by the next begin.
  enc.reset();
  enc.begin('httpRequests', 'r10');
  enc.field('reqMethod', 'HALF');
  enc.begin('httpRequests', 'r11');
  enc.field('reqMethod', 'NEWMETHOD');
  enc.field('reqMethod2', 'literal name');
  assert.ok(enc.end());
  const out = new m.EventDecoder().decode(Buffer.from(enc.buf.subarray(0, enc.off)), 1);
  assert.equal(out.error, undefined);
  assert.deepEqual(out.messages, [
    { type: 'record', kind: 'httpRequests', id: 'r11', fields: { reqMethod: 'NEWMETHOD', reqMethod2: 'literal name' } },
  ]);
  // Unknown kinds and over-long ids are refused at begin (the caller sends JSON instead).
  assert.equal(enc.begin('nope', 'r1'), false);
  assert.equal(enc.begin('httpRequests', 'r'.repeat(256)), false);
  assert.equal(enc.end(), false);
});

test('reset keeps an open event (a flush in the middle of one) and it completes afterwards', () => {
  const enc = new m.EventEncoder();
  encode([sample[2]], enc);
  enc.begin('httpRequests', 'r7');
  enc.field('reqMethod', 'GET');
  enc.reset(true);
  enc.field('respStatusCode', 204);
  assert.ok(enc.end());
  const out = new m.EventDecoder().decode(Buffer.from(enc.buf.subarray(0, enc.off)), 1);
  assert.deepEqual(out.messages, [{ type: 'record', kind: 'httpRequests', id: 'r7', fields: { reqMethod: 'GET', respStatusCode: 204 } }]);
});

test('after a fresh buffer replaces a grown one, every typed writer checks its room against the new one', () => {
  const enc = new m.EventEncoder();
  // Grown well past the 64 KiB start, then flushed into a fresh (smaller) buffer.
  const big = 'y'.repeat(100 * 1024);
  assert.ok(enc.begin('httpRequests', 'r1'));
  enc.text(m.F.reqURL, big);
  assert.ok(enc.end());
  assert.ok(enc.buf.length > 100 * 1024);
  enc.reset(true);
  assert.ok(enc.buf.length < 100 * 1024);
  // Then more events than the fresh buffer holds, through each typed writer: it must grow again.
  const expected = [];
  const bytes = Buffer.from('Name: value\r\nOther: ' + 'v'.repeat(200), 'latin1');
  for (let i = 0; i < 400; i++) {
    assert.ok(enc.begin('httpRequests', `r${i + 2}`));
    enc.num(m.F.respStatusCode, 200 + (i % 5));
    enc.text(m.F.reqURL, `http://h.test/${'p'.repeat(100)}/${i}`);
    enc.headerBytes(m.F.respHeaders, bytes);
    assert.ok(enc.end());
    expected.push(i);
  }
  assert.ok(enc.buf.length > 64 * 1024, 'the fresh buffer grew');
  const out = new m.EventDecoder().decode(Buffer.from(enc.buf.subarray(0, enc.off)), enc.count);
  assert.equal(out.error, undefined);
  assert.equal(out.messages.length, 400);
  for (const i of expected) {
    const f = out.messages[i].fields;
    assert.equal(f.respStatusCode, 200 + (i % 5));
    assert.equal(f.reqURL, `http://h.test/${'p'.repeat(100)}/${i}`);
  }
});

test('a frame cut at any byte, or with a wrong count, ends in an error and a counted drop, never an exception', () => {
  const [bytes, n] = encode(sample);
  for (let cut = 0; cut < bytes.length; cut++) {
    const dec = new m.EventDecoder();
    const out = dec.decode(bytes.subarray(0, cut), n);
    assert.ok(out.error, `cut at ${cut}`);
    assert.equal(out.dropped, n - out.messages.length);
    assert.equal(dec.dropped, out.dropped);
    assert.deepEqual(out.messages, sample.slice(0, out.messages.length).map(viaJson));
  }
  const fewer = new m.EventDecoder().decode(bytes, n - 1);
  assert.match(fewer.error, /more events than the frame announced/);
  assert.equal(fewer.messages.length, n - 1);
  const more = new m.EventDecoder().decode(bytes, n + 2);
  assert.match(more.error, /ended after 6 of 8/);
  assert.equal(more.dropped, 2);
});

test('hostile frames: unknown codes and tags, bad JSON, __proto__, random bytes', () => {
  const cases = [
    [Buffer.from([9]), /unknown event code 9/],
    [Buffer.from([m.EV_RECORD, 200, 1, 0x72, 0]), /unknown record kind/],
    [Buffer.from([m.EV_RECORD, 0, 2, 0x72, 0x31, 1, 250, m.T_NULL]), /unknown field code 250/],
    [Buffer.from([m.EV_RECORD, 0, 2, 0x72, 0x31, 1, 0, 77]), /unknown value tag 77/],
    [Buffer.from([m.EV_RECORD, 0, 2, 0x72, 0x31, 1, 0, m.T_STR, 0xff, 0xff, 0xff, 0xff]), /cut short/],
    [Buffer.from([m.EV_RECORD, 0, 2, 0x72, 0x31, 1, 0, m.T_DEF, 5, 0, 1, 0, 0, 0, 0x41]), /defined out of order/],
    [Buffer.from([m.EV_RECORD, 0, 2, 0x72, 0x31, 1, 0, m.T_LIST, 1, 0, m.T_U32, 1, 0, 0, 0]), /not a string/],
    [Buffer.from([m.EV_RECORD, 0, 2, 0x72, 0x31, 1, 0, m.T_JSON, 1, 0, 0, 0, 0x7b]), /does not parse/],
    [
      Buffer.concat([Buffer.from([m.EV_RECORD, 0, 2, 0x72, 0x31, 1, 255, 9]), Buffer.from('__proto__'), Buffer.from([m.T_NULL])]),
      /__proto__/,
    ],
  ];
  for (const [bytes, re] of cases) {
    const out = new m.EventDecoder().decode(bytes, 1);
    assert.match(out.error ?? '', re);
    assert.equal(out.dropped, 1);
    assert.deepEqual(out.messages, []);
  }
  // Random bytes, and valid frames with random bytes flipped: no exception, counts consistent.
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff;
  const [valid, n] = encode(sample);
  for (let i = 0; i < 2000; i++) {
    const bytes = i % 2 === 0 ? Buffer.from(Array.from({ length: rnd() }, rnd)) : Buffer.from(valid);
    if (i % 2 === 1) for (let k = 0; k < 3; k++) bytes[rnd() % bytes.length] = rnd();
    const out = new m.EventDecoder().decode(bytes, n);
    assert.ok(out.messages.length <= n);
    assert.equal(out.dropped, out.error === undefined ? 0 : n - out.messages.length);
    for (const msg of out.messages) assert.equal(Object.getPrototypeOf(msg.fields), Object.prototype);
  }
});

test('the collector reads event frames between JSON lines, in order, and warns about a damaged one', async () => {
  const { startCollector } = require('../../dist/core.cjs');
  const collector = await startCollector({ description: 'events' });
  try {
    const now = Date.now();
    const hello = { type: 'hello', pid: 4243, ppid: 1, threadId: 0, argv: ['node', 'a.js'], nodeVersion: 'v20', cwd: '/', startAt: now };
    const start = {
      type: 'record',
      kind: 'httpRequests',
      id: 'r1',
      fields: { client: 'http', reqMethod: 'GET', reqURL: 'http://h/', reqStartAt: now },
    };
    const head = {
      type: 'record',
      kind: 'httpRequests',
      id: 'r1',
      fields: { respStatusCode: 201, respRecvAt: now + 1, reqSentAt: now + 0.5 },
    };
    const done = {
      type: 'record',
      kind: 'httpRequests',
      id: 'r1',
      fields: { respStatusCode: 202, respDoneAt: now + 2, respContentLen: 5 },
    };
    const [ev1, n1] = encode([start]);
    const enc2 = new m.EventEncoder();
    const [ev2, n2] = encode([done], enc2);
    const wire = Buffer.concat([
      Buffer.from(JSON.stringify(hello) + '\n'),
      Buffer.from(m.framePrefix(ev1.length, n1)),
      ev1,
      Buffer.from(JSON.stringify(head) + '\n'),
      Buffer.from(m.framePrefix(ev2.length, n2)),
      ev2,
      Buffer.from(m.framePrefix(3, 1)),
      Buffer.from([m.EV_RECORD, 0, 9]),
      Buffer.from(JSON.stringify({ type: 'exit', exitAt: now + 3, exitCode: 0 }) + '\n'),
    ]);
    await new Promise((resolve, reject) => {
      const s = connect(collector.ipcPath, async () => {
        // Split at odd places: frames and lines are put back together across chunks.
        for (let i = 0; i < wire.length; i += 7) {
          s.write(wire.subarray(i, i + 7));
          await new Promise((r) => setImmediate(r));
        }
        s.end(resolve);
      });
      s.on('error', reject);
    });
    assert.ok(await collector.waitForIdle({ timeoutMs: 5000 }));
    const trace = collector.session.builder.trace;
    assert.equal(trace.httpRequests.length, 1);
    const r = trace.httpRequests[0];
    // The later update (202, in an event frame after the JSON line's 201) wins: order kept.
    assert.equal(r.respStatusCode, 202);
    assert.equal(r.reqMethod, 'GET');
    assert.equal(r.respContentLen, 5);
    assert.ok(
      trace.stats.warnings.some((w) => /events frame was damaged .*cut short.*1 events dropped/.test(w)),
      trace.stats.warnings.join('\n'),
    );
  } finally {
    await collector.close();
  }
});

/** The trace of a real preloaded program, with record events on or off. */
async function traceOf(events) {
  const { startCollector } = require('../../dist/core.cjs');
  const collector = await startCollector({ description: `events ${events}` });
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-events-'));
  const app = join(dir, 'app.cjs');
  writeFileSync(
    app,
    `const http = require('http');
const srv = http.createServer((q, s) => { if (q.url === '/boom') return s.destroy(); s.setHeader('X-N', q.url); s.end('hello ' + q.url); }).listen(0, async () => {
  const base = 'http://127.0.0.1:' + srv.address().port;
  const agent = new http.Agent({ keepAlive: true });
  const get = (p) => new Promise((r) => http.get(base + p, { agent, headers: { 'X-Lat': 'caf\u00e9' } }, (res) => { res.resume(); res.on('end', r); }).on('error', r));
  for (let i = 0; i < 150; i++) await get('/h' + i);
  await get('/boom');
  for (let i = 0; i < 150; i++) await fetch(base + '/f' + i, { method: i % 2 ? 'POST' : 'GET', body: i % 2 ? 'x'.repeat(i) : undefined }).then((r) => r.text());
  await fetch(base + '/boom').catch(() => {});
  await fetch('http://127.0.0.1:1/refused').catch(() => {});
  agent.destroy();
  srv.close();
});
`,
  );
  const env = {
    ...process.env,
    NETTRACE_CONFIG: JSON.stringify({ ipcPath: collector.ipcPath, initiator: 'all' }),
    NETTRACE_EVENTS: events ? '1' : '0',
  };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--require', preloadPath, app], { env, stdio: 'inherit' });
  await new Promise((r) => child.on('exit', r));
  await collector.waitForIdle({ timeoutMs: 10000 });
  collector.session.flushChanges();
  const trace = structuredClone(collector.session.builder.trace);
  await collector.close();
  return trace;
}

/** A trace's requests without what differs from run to run (times, ports, ids). */
function shape(trace) {
  const scrub = (v) =>
    JSON.parse(
      JSON.stringify(v, (k, x) => {
        if (/At$|^traceID$|^tcpConn$|^dial$|^tlsTunnel$|^initiator$|^pid$/.test(k)) return undefined;
        if (Array.isArray(x) && x[0] === 'Date') return ['Date'];
        if (typeof x === 'string') return x.replace(/127\.0\.0\.1:\d+/g, 'HOST').replace(/:\d+:\d+\)?$/, '');
        return x;
      }),
    );
  return trace.httpRequests.map(scrub);
}

test(
  'a real program gives the same trace with record events on and off',
  { skip: !existsSync(preloadPath) && 'dist/preload.cjs not built' },
  async () => {
    const on = await traceOf(true);
    const off = await traceOf(false);
    assert.ok(on.httpRequests.length >= 300, `${on.httpRequests.length} requests`);
    assert.equal(on.httpRequests.length, off.httpRequests.length);
    assert.deepEqual(shape(on), shape(off));
    assert.equal(on.stats.droppedEvents, 0);
    assert.ok(
      on.httpRequests.every((r) => r.initiator),
      'every request has its initiator',
    );
    assert.equal(on.tcpConns.length, off.tcpConns.length);
  },
);

test('an update recorded by name while a typed one is open goes as a JSON line ahead of it: neither is lost', async () => {
  const { startCollector } = require('../../dist/core.cjs');
  const t = bundleTs([
    "export { Transport } from './src/preload/transport/transport';",
    "export { F } from './src/protocol/recordWriter';",
  ]);
  const collector = await startCollector({ description: 'nested update' });
  try {
    const now = Date.now();
    const hello = () => ({
      type: 'hello',
      pid: 4244,
      ppid: 1,
      threadId: 0,
      argv: ['node', 'n.js'],
      nodeVersion: 'v20',
      cwd: '/',
      startAt: now,
    });
    const stats = () => ({ type: 'stats', producedEvents: 0, droppedEvents: 0 });
    const tr = new t.Transport(collector.ipcPath, 1000, hello, stats);
    const w = tr.open('httpRequests', 'r1');
    w.intern(t.F.client, 'http');
    w.text(t.F.reqURL, 'http://h/one');
    // A hook between open() and close() records another update (by name).
    tr.record('httpRequests', 'r2', { client: 'fetch', reqMethod: 'POST', reqURL: 'http://h/two', reqStartAt: now });
    w.intern(t.F.reqMethod, 'GET');
    w.num(t.F.reqStartAt, now);
    tr.close(w, false);
    tr.send({ type: 'exit', exitAt: now + 1, exitCode: 0 }, true);
    // The transport connects and flushes on its own (batch timer).
    for (let i = 0; i < 100 && collector.session.builder.trace.httpRequests.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    const byId = Object.fromEntries(collector.session.builder.trace.httpRequests.map((r) => [r.reqURL, r]));
    assert.equal(byId['http://h/one']?.reqMethod, 'GET');
    assert.equal(byId['http://h/one']?.client, 'http');
    assert.equal(byId['http://h/two']?.reqMethod, 'POST');
    assert.equal(tr.dropped, 0);
  } finally {
    await collector.close();
  }
});
