// covers: src/trace/builder/builder.ts, src/trace/builder/upsert.ts, src/collector/eventDecoder.ts
// needs: the build (dist/core.cjs)
// The collector applies a request update of the preload's event frames from its fields by code
// (TraceBuilder.applyEvent) only when each field is one it converts alone, with a value of its wire
// type, none twice; any other update goes as the `record` message it stands for. Both ways give
// the same trace: here for updates a faulty or hostile preload could send, next to the ordinary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { bundleTs } from '../lib/bundleTs.mjs';

const core = createRequire(import.meta.url)('../../dist/core.cjs');
const m = bundleTs([
  "export { EventEncoder } from './src/protocol/events';",
  "export { EventDecoder, recordMessageOf } from './src/collector/eventDecoder';",
]);
const t0 = 1763830000000;
const beginAt = new Date(t0 - 1000);

/** A session fed `updates` ([kind, id, fields]) by events (`events` true) or as the record messages they decode to; its facts and warnings, and how many the builder took by code. */
function build(updates, events) {
  const session = new core.Session({ description: 'edges', beginAt, sourceMaps: false, changeIntervalMs: 1e9 });
  const c = session.openConnection();
  session.apply(c, { type: 'hello', pid: 4242, threadId: 0, startAt: t0 - 500, argv: ['node', 'app.js'] });
  const enc = new m.EventEncoder();
  const dec = new m.EventDecoder();
  let byCode = 0;
  const builder = session.builder;
  const applyEvent = builder.applyEvent.bind(builder);
  builder.applyEvent = (connection, ev) => {
    const took = applyEvent(connection, ev);
    if (took) byCode++;
    return took;
  };
  for (const [kind, id, fields] of updates) {
    assert.ok(enc.begin(kind, id));
    for (const [k, v] of fields) enc.field(k, v);
    assert.ok(enc.end());
    const frame = Buffer.from(enc.buf.subarray(0, enc.off));
    enc.reset();
    const out = dec.each(frame, 1, (ev) => (events ? session.applyEvent(c, ev) : session.apply(c, m.recordMessageOf(ev))));
    assert.equal(out.error, undefined);
  }
  const facts = session.facts();
  delete facts.traceEndAt;
  session.dispose();
  return { text: JSON.stringify(facts), warnings: facts.stats.warnings, byCode };
}

const begin = [
  ['client', 'http'],
  ['reqMethod', 'GET'],
  ['reqURL', 'http://h.test/a?token=s3cret'],
  ['protoMajor', 1],
  ['protoMinor', 1],
  ['reqStartAt', t0],
  ['reusedConn', false],
  ['reqHeaders', 'GET /a HTTP/1.1\r\nHost: h.test\r\nAccept: */*\r\n\r\n'],
  ['tcpConn', 'c1'],
  ['dial', 'd1'],
];
const head = [
  ['reqSentAt', t0 + 1],
  ['respRecvAt', t0 + 5],
  ['respStatusCode', 200],
  ['respStatusText', 'OK'],
  ['respHeaders', 'Content-Length: 2'],
];
const done = [
  ['respContentLen', 2],
  ['respDoneAt', t0 + 6],
];

const cases = {
  'an ordinary request: begin, head, end (all by code)': [
    [
      ['httpRequests', 'r1', begin],
      ['httpRequests', 'r1', head],
      ['httpRequests', 'r1', done],
    ],
    3,
  ],
  'a field given twice (the message keeps the last; by code the first reference would take a traceID)': [
    [
      ['httpRequests', 'r1', [...begin, ['tcpConn', 'c2']]],
      [
        'httpRequests',
        'r2',
        [
          ['client', 'http'],
          ['tcpConn', 'c3'],
        ],
      ],
    ],
    1,
  ],
  'a time that is not one (text, far past a Date), a number as text, a flag as a number': [
    [
      ['httpRequests', 'r1', begin],
      ['httpRequests', 'r1', [['reqSentAt', 'soon']]],
      ['httpRequests', 'r1', [['respRecvAt', 1e20]]],
      ['httpRequests', 'r1', [['respStatusCode', '200']]],
      ['httpRequests', 'r1', [['reusedConn', 1]]],
    ],
    1,
  ],
  'a reference that is null, a header block that is an object, an initiator that never came': [
    [
      [
        'httpRequests',
        'r1',
        [
          ['client', 'http'],
          ['tcpConn', null],
        ],
      ],
      ['httpRequests', 'r1', [['respHeaders', { a: 1 }]]],
      ['httpRequests', 'r1', [['initiator', 's9']]],
    ],
    1,
  ],
  'fields by code applyEvent leaves to the message (an error, a proxy, a rule dropping it) and a name sent as text': [
    [
      ['httpRequests', 'r1', begin],
      [
        'httpRequests',
        'r1',
        [
          ['reqError', { name: 'Error', message: 'boom', code: 'ECONNRESET' }],
          ['reqEndAt', t0 + 9],
        ],
      ],
      [
        'httpRequests',
        'r2',
        [
          ['client', 'fetch'],
          ['proxy', { url: 'http://p.test', tunnel: 'c5' }],
        ],
      ],
      ['httpRequests', 'r2', [['myOwnField', 1]]],
      ['httpRequests', 'r3', [['client', 'http']]],
      ['httpRequests', 'r3', [['ruleDropped', true]]],
    ],
    2,
  ],
  'other kinds and an empty id go as messages': [
    [
      [
        'tcpConns',
        'c1',
        [
          ['connected', true],
          ['handshakeBeginAt', t0],
        ],
      ],
      ['httpRequests', '', [['client', 'http']]],
      [
        'httpRequests',
        'r1',
        [
          ['client', 'http'],
          ['tcpConn', 'c1'],
        ],
      ],
    ],
    1,
  ],
};

for (const [name, [updates, byCode]] of Object.entries(cases)) {
  test(name, () => {
    const viaMessages = build(updates, false);
    const viaEvents = build(updates, true);
    assert.equal(viaMessages.byCode, 0);
    assert.equal(viaEvents.byCode, byCode, 'updates applied by code');
    assert.equal(viaEvents.text, viaMessages.text);
    assert.deepEqual(viaEvents.warnings, viaMessages.warnings);
  });
}

test("an update applied by code has its URL's secret query values redacted, as a message has", () => {
  const { text, byCode } = build([['httpRequests', 'r1', begin]], true);
  assert.equal(byCode, 1);
  assert.ok(text.includes('"reqURL":"http://h.test/a?token=<redacted>"'), text);
});
