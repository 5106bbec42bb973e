// covers: src/replay/
// The replay table (src/replay/): a trace recorded with `--record` and HARs with content become one
// list of recorded calls in the order they started. Fixtures in test/fixtures/replay/ (README.md
// there says how each was made): a HAR written by Chromium, one in the shape of Chromium's DevTools
// export, one written by Polly.js, and a recorded trace in the contract's shape. Bad input is a
// ReplayInputError or a counted warning, never a TypeError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answerOf, core, replay } from './replayHelpers.mjs';

const dir = fileURLToPath(new URL('../fixtures/replay/', import.meta.url));
const text = (name) => readFileSync(join(dir, name), 'utf8');
const load = (name) => replay.parseReplayTable(text(name), name);
const header = (head, name) => head?.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
const utf8 = (bytes) => Buffer.from(bytes ?? []).toString('utf8');
const warnings = (table) => table.warnings.map((w) => [w.code, w.count]);

test('a HAR written by Chromium: calls in order, bodies as the page got them, failures as Node meets them', () => {
  const table = load('chromium.har');
  const har = JSON.parse(text('chromium.har'));
  assert.equal(table.source, 'har');
  const origin = new URL(har.log.entries[0].request.url).origin;
  assert.deepEqual(
    table.calls.map((c) => `${c.method} ${c.url.replace(origin, '')}`),
    [
      'GET /',
      'GET /jobs/7',
      'GET /jobs/7',
      'GET /search?q=net%20trace&page=2&tag=a&tag=b',
      'POST /orders',
      'POST /form',
      'GET /gzip',
      'GET /image.bin',
      'GET /jobs/7',
      `GET ${table.calls[9].url}`,
      'GET http://nx.test/nothing',
      'GET /reset',
    ],
  );
  assert.equal(table.recordedAt, Date.parse(har.log.entries[0].startedDateTime));
  assert.deepEqual(warnings(table), [['decoded', 1]]);
  const [, , , , orders, , gzip, image] = table.calls;
  // The gzip answer: the HAR holds it decoded, so the head no longer says gzip and its length is the decoded one.
  assert.equal(gzip.decodedFrom, 'gzip');
  assert.deepEqual(header(gzip.response, 'content-encoding'), []);
  assert.deepEqual(header(gzip.response, 'content-length'), ['228']);
  assert.deepEqual(JSON.parse(utf8(gzip.body)), { compressed: true, pad: 'x'.repeat(200) });
  assert.deepEqual([...image.body], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x80, 0x81, 0x7f, 0xc3, 0x28]);
  assert.equal(orders.response.status, 201);
  assert.equal(orders.reqBodyState, 'whole');
  assert.deepEqual(JSON.parse(utf8(orders.reqBody)), { customer: 'c-1', items: [{ sku: 'x', qty: 4 }], note: 'é' });
  assert.deepEqual(
    table.calls.slice(9).map((c) => [c.end, c.response]),
    [
      [{ kind: 'refused', code: 'ECONNREFUSED' }, undefined],
      [{ kind: 'dns', code: 'ENOTFOUND' }, undefined],
      [{ kind: 'reset' }, undefined],
    ],
  );
  const wait = har.log.entries[1].timings.wait;
  assert.equal(table.calls[1].timing.firstByteMs, Math.round(wait * 1000) / 1000);
  assert.deepEqual(table.calls[1].timing.chunks, [[har.log.entries[1].timings.receive, 37]]);
});

test('the Chromium HAR answers the requests a Node program makes for the same calls', () => {
  const table = load('chromium.har');
  const origin = new URL(table.calls[1].url).origin;
  const m = new replay.ReplayMatcher(table);
  assert.deepEqual(
    [1, 2, 3].map(
      () => JSON.parse(answerOf(m.match({ method: 'GET', url: `${origin}/jobs/7`, headers: { 'user-agent': 'node' } }))).answer,
    ),
    [1, 2, 3],
  );
  const order = m.match({
    method: 'POST',
    url: `${origin}/orders`,
    body: JSON.stringify({ note: 'é', items: [{ qty: 4, sku: 'x' }], customer: 'c-1' }),
  });
  assert.equal(order.matched && order.call.response.status, 201);
  assert.equal(m.match({ method: 'POST', url: `${origin}/form`, body: 'lang=en&name=Ada%20Lovelace' }).matched, true);
  assert.equal(m.match({ method: 'GET', url: `${origin}/search?tag=a&tag=b&page=2&q=net+trace` }).matched, true);
  assert.deepEqual(m.match({ method: 'GET', url: 'http://nx.test/nothing' }).call.end, { kind: 'dns', code: 'ENOTFOUND' });
  const moved = replay.shiftDates(order.call.response.headers, 86_400_000);
  assert.deepEqual(header({ headers: moved }, 'set-cookie'), ['session=s-1; Path=/; Expires=Thu, 22 Oct 2037 07:28:00 GMT; HttpOnly']);
});

test("a HAR in the shape of Chromium DevTools' export: `_error` names, a body decoded from br, a reset mid-body, WebSocket messages", () => {
  const table = load('devtools.har');
  assert.deepEqual(warnings(table), [
    ['decoded', 2],
    ['unknown-failure', 1],
    ['not-http', 1],
    ['no-response', 1],
  ]);
  assert.match(table.warnings[1].example, /^net::ERR_BLOCKED_BY_CLIENT GET https:\/\/ads\.test\/pixel\.gif$/);
  const byPath = Object.fromEntries(table.calls.map((c) => [new URL(c.url).pathname + (c.index === 8 ? '#2' : ''), c]));
  const cart = byPath['/api/cart'];
  assert.equal(cart.decodedFrom, 'br');
  assert.equal(cart.httpVersion, 'HTTP/2');
  assert.deepEqual(cart.response.headers, [
    ['content-type', 'application/json'],
    ['content-length', '24'],
    ['vary', 'Accept-Encoding'],
  ]);
  assert.deepEqual(byPath['/rates'].end, { kind: 'tls', code: 'CERT_HAS_EXPIRED' });
  assert.equal(byPath['/rates'].timing, undefined, 'no first byte for an exchange that never had a response');
  assert.deepEqual(byPath['/poll'].end, { kind: 'timeout' });
  const feed = byPath['/feed'];
  assert.deepEqual(feed.end, { kind: 'reset', afterBodyBytes: 11 });
  assert.deepEqual(header(feed.response, 'content-length'), ['1000'], 'the head the client saw before the reset is kept');
  assert.equal(utf8(feed.body), 'first part ');
  const live = byPath['/live'];
  assert.equal(live.response.status, 101);
  assert.deepEqual(
    live.messages.map((x) => [x.dir, x.atMs, Buffer.from(x.data.base64, 'base64').toString()]),
    [
      ['out', 0, 'subscribe'],
      ['in', 50, '{"price":10}'],
    ],
  );
  assert.equal(utf8(byPath['/api/checkout'].reqBody), '{"cart":"abc","card":{"last4":"4242"},"n":1}');
  // The two answers of the cart, in order, whatever the order of the query.
  const m = new replay.ReplayMatcher(table);
  assert.equal(answerOf(m.match({ method: 'GET', url: 'https://shop.test/api/cart?v=2&session=abc' })), '{"items":2,"total":31.5}');
  assert.equal(answerOf(m.match({ method: 'GET', url: 'https://shop.test/api/cart?session=abc&v=2' })), '{"items":3,"total":40}');
});

test('a HAR written by Polly.js: a compressed body kept as its chunks stays compressed; base64 and old hex bodies', () => {
  const table = load('polly.har');
  assert.deepEqual(warnings(table), []);
  const [me, users, avatar, old, oldAvatar] = table.calls;
  assert.equal(me.decodedFrom, undefined);
  assert.deepEqual(header(me.response, 'content-encoding'), ['gzip']);
  assert.deepEqual(header(me.response, 'content-length'), [String(me.body.length)]);
  assert.deepEqual(JSON.parse(gunzipSync(me.body).toString()), { user: 'ada', roles: ['admin'] });
  assert.deepEqual(header(me.response, 'set-cookie'), ['a=1; Expires=Fri, 20 Nov 2026 16:20:00 GMT', 'b=2']);
  assert.deepEqual(JSON.parse(utf8(users.reqBody)), { name: 'Ada', admin: true });
  assert.equal(Buffer.from(avatar.body).toString('hex').slice(0, 16), '89504e470d0a1a0a');
  assert.deepEqual(JSON.parse(gunzipSync(old.body).toString()), { user: 'bob' });
  assert.deepEqual([...oldAvatar.body], [...avatar.body]);
  // Polly's fetch adapter keeps a body decoded: a JSON list of strings under `Content-Encoding: gzip` is not a chunk list.
  const fetched = replay.readReplayTable({
    log: {
      creator: { name: 'Polly.JS', version: '6.0.6' },
      entries: [
        {
          request: { method: 'GET', url: 'http://users.test/tags' },
          response: { status: 200, headers: [{ name: 'content-encoding', value: 'gzip' }], content: { size: 9, text: '["a","b"]' } },
        },
      ],
    },
  });
  assert.deepEqual([utf8(fetched.calls[0].body), fetched.calls[0].decodedFrom], ['["a","b"]', 'gzip']);
});

test("Net Trace's own HAR export: failures from its `_error`, bodies it does not hold counted", () => {
  const { toHar } = core;
  const base = { pid: 1, threadId: 0, client: 'http', reqHeaders: [], reqStartAt: 1 };
  const trace = {
    formatVersion: 1,
    description: 'x',
    traceBeginAt: '2026-11-20T09:00:00.000Z',
    processes: [],
    httpRequests: [
      {
        ...base,
        traceID: 'req-1',
        reqMethod: 'GET',
        reqURL: 'http://a.test/ok',
        respStatusCode: 200,
        respStatusText: 'OK',
        respHeaders: [['content-type', 'text/plain']],
        respContentLen: 120,
        reqError: null,
      },
      {
        ...base,
        traceID: 'req-2',
        reqMethod: 'GET',
        reqURL: 'http://a.test:1/down',
        reqError: { phase: 'connect', message: 'connect ECONNREFUSED 127.0.0.1:1', code: 'ECONNREFUSED' },
      },
      {
        ...base,
        traceID: 'req-3',
        reqMethod: 'GET',
        reqURL: 'http://nx.test/',
        reqError: { phase: 'dns', message: 'getaddrinfo ENOTFOUND nx.test', code: 'ENOTFOUND' },
      },
      {
        ...base,
        traceID: 'req-4',
        reqMethod: 'GET',
        reqURL: 'http://a.test/slow',
        reqError: { phase: 'response', message: 'timeout', timedOut: true },
      },
    ],
    dials: [],
    tcpConns: [],
    udpConns: [],
    dnsQueries: [],
    tlsTunnels: [],
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [] },
  };
  const table = replay.readReplayTable(toHar(trace));
  assert.deepEqual(
    table.calls.map((c) => [c.traceID, c.end, c.response?.status, c.bodyCut]),
    [
      ['req-1', { kind: 'completed' }, 200, true],
      ['req-2', { kind: 'refused', code: 'ECONNREFUSED' }, undefined, undefined],
      ['req-3', { kind: 'dns', code: 'ENOTFOUND' }, undefined, undefined],
      ['req-4', { kind: 'timeout' }, undefined, undefined],
    ],
  );
  assert.deepEqual(warnings(table), [['body-missing', 1]]);
});

test('a trace recorded with --record: exchanges joined to their requests, in start order, what cannot be replayed counted', () => {
  const table = load('recorded-trace.json');
  const trace = JSON.parse(text('recorded-trace.json'));
  assert.equal(table.source, 'trace');
  assert.equal(table.recordedAt, trace.recording.recordedAt);
  assert.deepEqual(table.recording, trace.recording);
  assert.deepEqual(warnings(table), [
    ['request-body-cut', 1],
    ['sent-again', 1],
    ['body-cut', 1],
    ['what-if', 1],
    ['orphan-exchange', 1],
    ['duplicate-exchange', 1],
    ['bad-exchange', 1],
    ['no-exchange', 1],
  ]);
  assert.deepEqual(
    table.calls.map((c) => c.traceID),
    ['req-1', 'req-14', 'req-2', 'req-3', 'req-4', 'req-5', 'req-6', 'req-7', 'req-8', 'req-9', 'req-12', 'req-13'],
  );
  const begin = Date.parse(trace.traceBeginAt);
  const by = Object.fromEntries(table.calls.map((c) => [c.traceID, c]));
  assert.equal(by['req-2'].startAt, begin + 120.25);
  assert.equal(by['req-1'].pid, 4242);
  assert.deepEqual(by['req-3'].interim, [{ status: 100, statusText: 'Continue', headers: [] }]);
  // Compressed bodies stay compressed, with their head, as the client received them.
  const report = by['req-4'];
  assert.deepEqual(header(report.response, 'content-encoding'), ['gzip']);
  assert.deepEqual(JSON.parse(gunzipSync(report.body).toString()), { report: 'weekly', rows: [1, 2, 3] });
  assert.deepEqual(report.trailers, [['x-checksum', 'abc123']]);
  assert.deepEqual(by['req-6'].end, { kind: 'dns', code: 'ENOTFOUND' });
  assert.deepEqual(by['req-7'].end, { kind: 'reset', afterBodyBytes: 5 });
  assert.deepEqual([by['req-9'].reqBodyState, by['req-9'].reqBodySize, by['req-9'].reqBody.length], ['cut', 1000, 16]);
  assert.deepEqual(
    [by['req-13'].bodyCut, by['req-13'].bodySize, by['req-13'].body.length, by['req-13'].httpVersion],
    [true, 5000000, 10, 'HTTP/2'],
  );
  assert.equal(by['req-14'].whatIfRule, 'slow-api');
  assert.deepEqual(
    by['req-12'].messages.map((x) => [x.dir, x.atMs, x.opcode]),
    [
      ['out', 1, 1],
      ['in', 4.5, 1],
      ['in', 9, 8],
    ],
  );
  // The redacted key matches whatever key the replayed program sends.
  const m = new replay.ReplayMatcher(table);
  assert.equal(m.match({ method: 'GET', url: 'https://api.test/report?page=2&api_key=k-123' }).call?.traceID, 'req-4');
});

test('bad input: a plain ReplayInputError that names the file, or counted warnings', () => {
  const fails = (input, pattern) =>
    assert.throws(
      () => replay.parseReplayTable(input, 'run.json'),
      (err) => err instanceof replay.ReplayInputError && err.name === 'ReplayInputError' && pattern.test(err.message),
    );
  fails('not json', /^run\.json is not JSON \(/);
  fails(text('chromium.har').slice(0, 5000), /^run\.json is not JSON/);
  fails('[1, 2]', /^run\.json: A recording is a JSON object/);
  fails('{}', /neither a Net Trace trace/);
  fails('{"log": {"entries": 3}}', /not a HAR: it has no `log.entries`/);
  fails(
    '{"formatVersion": 1, "httpRequests": []}',
    /not recorded for replay \(it has no `exchanges`\): record the run with `nettrace run --record`/,
  );
  fails('{"formatVersion": 1}', /no `httpRequests`/);
  const junk = replay.readReplayTable({
    log: {
      entries: [
        null,
        1,
        { request: 5 },
        { request: { method: 'GET' } },
        { request: { method: 'GET', url: 'http://a.test/' }, response: { status: 'x' } },
      ],
    },
  });
  assert.deepEqual(junk.calls, []);
  assert.deepEqual(warnings(junk), [
    ['bad-entry', 4],
    ['no-response', 1],
  ]);
  const cut = replay.readReplayTable({
    log: {
      entries: [
        {
          request: { method: 'GET', url: 'http://a.test/' },
          response: { status: 200, headers: [], content: { size: 500, text: 'only this' } },
        },
      ],
    },
  });
  assert.deepEqual([cut.calls[0].bodyCut, cut.calls[0].bodySize, utf8(cut.calls[0].body)], [true, 500, 'only this']);
  assert.deepEqual(warnings(cut), [['body-cut', 1]]);
});

/** A deterministic PRNG (mulberry32). */
function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('mangled files (fields deleted or of the wrong type, anywhere) never throw anything but ReplayInputError', () => {
  const random = rng(64);
  const values = [null, 0, -1, 1e308, '', 'x', '<redacted>', [], {}, true, [[1, 2]], { kind: 'reset' }, 'net::ERR_ABORTED', '\u0000'];
  let tables = 0;
  let errors = 0;
  for (const name of ['chromium.har', 'devtools.har', 'polly.har', 'recorded-trace.json']) {
    const original = JSON.parse(text(name));
    for (let round = 0; round < 150; round++) {
      const doc = structuredClone(original);
      for (let k = 0; k < 3; k++) {
        // Walk down to a random node and change one of its fields.
        let node = doc;
        for (let depth = 0; depth < 8; depth++) {
          const keys = Object.keys(node);
          if (keys.length === 0) break;
          const key = keys[Math.floor(random() * keys.length)];
          const child = node[key];
          if (child && typeof child === 'object' && random() < 0.8) node = child;
          else {
            if (random() < 0.3) delete node[key];
            else node[key] = structuredClone(values[Math.floor(random() * values.length)]);
            break;
          }
        }
      }
      let table;
      try {
        table = replay.readReplayTable(doc);
      } catch (err) {
        assert.ok(err instanceof replay.ReplayInputError, `${name} round ${round}: ${err.stack}`);
        errors++;
        continue;
      }
      tables++;
      const m = new replay.ReplayMatcher(table, { ignoreFields: ['a.b'], matchHeaders: ['accept'] });
      for (const c of table.calls) m.match({ method: c.method, url: c.url, body: c.reqBody, headers: c.reqHeaders });
    }
  }
  assert.ok(tables > 300 && errors > 0, `${tables} tables read, ${errors} files refused`);
});
