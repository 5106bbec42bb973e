// covers: src/replay/divergence.ts
// The divergence of an unmatched request (src/replay/divergence.ts): the nearest recorded call
// (same method and path, then same path, then same host) and what differed, in the words the panel
// and `nettrace show` print; bounded in the number of differences and the length of each value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matcherOf, replay } from './replayHelpers.mjs';

/** The divergence of `request` against a recording of `calls`. */
function diverge(calls, request, options) {
  const result = matcherOf(calls, options).match(request);
  assert.equal(result.matched, false, 'the request is unmatched');
  return result.divergence;
}

test('method: the nearest is the recorded call on the same path', () => {
  const d = diverge([{ url: 'http://api.test/jobs/7' }, { url: 'http://api.test/other' }], {
    method: 'POST',
    url: 'http://api.test/jobs/7',
  });
  assert.equal(d.reason, 'differs');
  assert.equal(d.nearness, 'same path');
  assert.equal(d.nearest.url, 'http://api.test/jobs/7');
  assert.deepEqual(d.differences, ['method POST, recorded GET']);
  assert.equal(
    d.summary,
    'POST http://api.test/jobs/7 matches no recorded call; the nearest (same path) is recorded call 1, GET http://api.test/jobs/7: method POST, recorded GET.',
  );
});

test('query parameters: changed, not sent, not recorded', () => {
  const d = diverge([{ url: 'http://api.test/search?q=a&page=2&lang=en' }], {
    method: 'GET',
    url: 'http://api.test/search?page=3&q=a&debug=1',
  });
  assert.equal(d.nearness, 'same method and path');
  assert.deepEqual(d.differences, [
    'query parameter `page`: 3, recorded 2',
    'query parameter `debug`: 1, not recorded',
    'query parameter `lang`: not sent, recorded en',
  ]);
});

test('JSON body fields by path; the nearest of several recorded calls is the one with the fewest differences', () => {
  const order = (qty, note) => ({
    customer: 'c-1',
    items: [
      { sku: 'x', qty: 1 },
      { sku: 'y', qty },
    ],
    note,
  });
  const d = diverge(
    [
      { method: 'POST', url: 'http://api.test/orders', body: { customer: 'c-9', items: [], note: 'n' } },
      { method: 'POST', url: 'http://api.test/orders', body: order(4, 'gift') },
      { method: 'POST', url: 'http://api.test/orders', body: { other: true } },
    ],
    { method: 'POST', url: 'http://api.test/orders', body: JSON.stringify(order(5, 'gift')) },
  );
  assert.equal(d.nearest.index, 1);
  assert.deepEqual(d.differences, ['body field `items[1].qty`: 5, recorded 4']);
  const fields = diverge([{ method: 'POST', url: 'http://api.test/x', body: { a: 1, 'odd key': [1, 2], gone: 'x' } }], {
    method: 'POST',
    url: 'http://api.test/x',
    body: JSON.stringify({ a: '1', 'odd key': [1], extra: null }),
  });
  assert.deepEqual(fields.differences, [
    'body field `a`: "1", recorded 1',
    'body field `["odd key"][1]`: not sent, recorded 2',
    'body field `gone`: not sent, recorded "x"',
    'body field `extra`: null, not recorded',
  ]);
});

test('bodies that are not JSON: their kind and length, or the first byte that differs', () => {
  const text = (n) => 'a'.repeat(n);
  assert.deepEqual(
    diverge([{ method: 'PUT', url: 'http://api.test/t', body: text(118) }], { method: 'PUT', url: 'http://api.test/t', body: text(120) })
      .differences,
    ['body: 120 bytes of text, recorded 118'],
  );
  assert.deepEqual(
    diverge([{ method: 'PUT', url: 'http://api.test/t', body: text(10) }], { method: 'PUT', url: 'http://api.test/t', body: 'aaaaabaaaa' })
      .differences,
    ['body: 10 bytes of text, recorded 10, first difference at byte 5'],
  );
  assert.deepEqual(
    diverge([{ method: 'PUT', url: 'http://api.test/t', body: 'plain text' }], {
      method: 'PUT',
      url: 'http://api.test/t',
      body: '{"a":[1,2]}',
    }).differences,
    ['body: 11 bytes of JSON, recorded 10 bytes of text'],
  );
  assert.deepEqual(
    diverge([{ method: 'POST', url: 'http://api.test/t', body: { a: 1 } }], { method: 'POST', url: 'http://api.test/t' }).differences,
    ['body: none, recorded 7 bytes of JSON'],
  );
  assert.deepEqual(
    diverge([{ method: 'PUT', url: 'http://api.test/b', body: '\u0000\u0001\u0002' }], {
      method: 'PUT',
      url: 'http://api.test/b',
      body: new Uint8Array([0, 1, 3]),
    }).differences,
    ['body: 3 bytes of binary data, recorded 3, first difference at byte 2'],
  );
  assert.deepEqual(
    diverge([{ method: 'POST', url: 'http://api.test/f', body: 'user=ada&role=admin' }], {
      method: 'POST',
      url: 'http://api.test/f',
      body: 'user=bob&role=admin',
    }).differences,
    ['form field `user`: bob, recorded ada'],
  );
});

test('multipart parts by name', () => {
  const body = (b, file) =>
    `--${b}\r\nContent-Disposition: form-data; name="title"\r\n\r\nreport\r\n--${b}\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\nContent-Type: text/csv\r\n\r\n${file}\r\n--${b}--\r\n`;
  const d = diverge([{ method: 'POST', url: 'http://api.test/up', body: body('AAA', 'a,b\n1,2\n') }], {
    method: 'POST',
    url: 'http://api.test/up',
    body: body('BBB', 'a,b\n1,2\n3,4\n'),
  });
  assert.deepEqual(d.differences, ['form part `file`: 12 bytes (r.csv) of text/csv, recorded 8 bytes (r.csv) of text/csv']);
});

test('tiers: same host when the path differs; nothing near on another host; a URL that is not absolute', () => {
  const calls = [{ url: 'https://api.test/v1/users' }];
  const host = diverge(calls, { method: 'GET', url: 'https://api.test/v2/users' });
  assert.equal(host.nearness, 'same host');
  assert.deepEqual(host.differences, ['path /v2/users, recorded /v1/users']);
  const far = diverge(calls, { method: 'GET', url: 'https://elsewhere.test/v2/users' });
  assert.equal(far.reason, 'nothing-near');
  assert.equal(far.nearest, undefined);
  assert.equal(
    far.summary,
    'GET https://elsewhere.test/v2/users matches no recorded call, and nothing was recorded on its path or at https://elsewhere.test.',
  );
  const bad = diverge(calls, { method: 'GET', url: '/v1/users' });
  assert.equal(bad.reason, 'bad-url');
  // The same path on another host is nearer than the same host.
  const moved = diverge(calls, { method: 'GET', url: 'https://api.internal:8443/v1/users' });
  assert.equal(moved.nearness, 'same method and path');
  assert.deepEqual(moved.differences, ['host api.internal:8443, recorded api.test:443']);
});

test('bounded: at most MAX_DIFFERENCES listed and the rest counted; long values cut', () => {
  const recorded = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, i]));
  const sent = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, i + 1]));
  const d = diverge([{ method: 'POST', url: 'http://api.test/many', body: recorded }], {
    method: 'POST',
    url: 'http://api.test/many',
    body: JSON.stringify(sent),
  });
  assert.equal(replay.MAX_DIFFERENCES, 8);
  assert.equal(d.differences.length, 8);
  assert.equal(d.more, 12);
  assert.match(d.summary, /body field `f0`: 1, recorded 0 \(and 19 more\)\.$/);
  const long = diverge([{ url: `http://api.test/q?token=${'r'.repeat(500)}` }], {
    method: 'GET',
    url: `http://api.test/q?token=${'s'.repeat(500)}`,
  });
  const [text] = long.differences;
  assert.equal(text, `query parameter \`token\`: ${'s'.repeat(59)}…, recorded ${'r'.repeat(59)}…`);
  assert.ok(text.length < 2 * replay.MAX_VALUE_CHARS + 50);
});

test('ignored fields, parameters and the host are not reported as differences', () => {
  const d = diverge(
    [{ method: 'POST', url: 'http://a.test:1/x?ts=1&page=1', body: { id: 1, sentAt: 't1', n: 1 } }],
    { method: 'POST', url: 'http://b.test:2/x?ts=2&page=1', body: JSON.stringify({ id: 1, sentAt: 't2', n: 2 }) },
    { ignoreQuery: ['ts'], ignoreFields: ['sentAt'], ignoreHost: true },
  );
  assert.deepEqual(d.differences, ['body field `n`: 2, recorded 1']);
});
