// covers: src/preload/undici/plainUrl.ts
// plainHttpUrl (src/preload/undici/plainUrl.ts): the fetch() wrapper's cheap "this input parses as an
// http(s) URL" answer, which stands in for URL.canParse when the trace rules decide a fetch() at
// its call. It may say "not known" (false) for a URL that parses, never true for one that does
// not: a true for a URL fetch rejects would count a request that was never made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleTs } from '../lib/bundleTs.mjs';
import { prng } from '../lib/fuzz.mjs';

const { plainHttpUrl } = bundleTs(["export { plainHttpUrl } from './src/preload/undici/plainUrl';"]);

/** What the answer must agree with: the URL parses, as http or https. */
function parsesAsHttp(raw) {
  if (!URL.canParse(raw)) return false;
  const { protocol } = new URL(raw);
  return protocol === 'http:' || protocol === 'https:';
}

test('the plain forms programs fetch are known to parse (no URL.canParse for them)', () => {
  for (const raw of [
    'http://127.0.0.1:8080/',
    'http://127.0.0.1:34567/items?id=1',
    'https://api.example.com/v1/orders?limit=10#top',
    'HTTPS://API.Example.COM',
    'http://localhost:3000',
    'http://localhost/a b/ü?q=ä',
    'https://my-service.internal.svc.cluster.local:8443/health',
    'http://0.0.0.0:1/',
    'http://255.255.255.255/',
    'http://host\\path',
    'https://1.2.3.example/',
    'https://x.io?',
  ]) {
    assert.equal(plainHttpUrl(raw), true, raw);
    assert.equal(parsesAsHttp(raw), true, raw);
  }
});

test('forms outside the plain one are "not known", whether they parse or not', () => {
  for (const raw of [
    'http://[bad',
    'http://exa mple.com/',
    ' http://example.com/',
    'http://example.com:99999/',
    'http://example.com:/',
    'http://example.com.:80/',
    'http://1.2.3.256/',
    'http://1.2.3/',
    'http://01.2.3.4/',
    'http://0x7f.1/',
    'http://123456/',
    'http://xn--a/',
    'http://a.XN--zz.com/',
    'http://user:pw@example.com/',
    'http://[::1]:8080/',
    'http:///x',
    'http://a..b/',
    'http://.a/',
    'http://é.com/',
    'http://a%41.com/',
    'http://a\tb.com/',
    'ftp://example.com/',
    'https:/example.com/',
    'data:text/plain,hi',
    'http://',
    '',
  ]) {
    assert.equal(plainHttpUrl(raw), false, raw);
  }
});

test('never true for an input that does not parse as http(s): 200,000 generated inputs against URL.canParse', () => {
  const seed = Number(process.env.FUZZ_SEED ?? 20261124);
  const r = prng(seed);
  const schemes = ['http://', 'https://', 'HTTP://', 'hTtPs://', 'http:/', 'http:', 'https//', 'httpx://', ' http://', 'http:\\\\'];
  const hostChars = 'abcxnXN0123456789-.:@[]%_ ~\t\nü\u0000/\\?#';
  const pieces = [
    'xn--',
    'xn--a',
    'xn--ls8h',
    '255',
    '256',
    '0',
    '00',
    '0x',
    '1e3',
    '..',
    '.',
    '-',
    ':',
    ':0',
    ':65535',
    ':65536',
    ':123456',
    '@',
    '[::1]',
    'localhost',
    'a'.repeat(70),
    '9'.repeat(12),
  ];
  const quadParts = ['0', '00', '07', '08', '09', '010', '1', '25', '199', '255', '256', '300', '999', '1000', '0x1f', '1e', ''];
  let trues = 0;
  for (let k = 0; k < 200_000; k++) {
    let host = '';
    const parts = 1 + r.int(6);
    // A fifth are numeric hosts, read as IPv4 addresses (ranges, octal, hex, too few or many parts).
    if (r.next() < 0.2) host = Array.from({ length: 2 + r.int(4) }, () => r.pick(quadParts)).join('.');
    else
      for (let p = 0; p < parts; p++) {
        if (r.next() < 0.3) host += r.pick(pieces);
        else {
          const len = r.int(6);
          for (let c = 0; c < len; c++) host += hostChars[r.int(r.next() < 0.7 ? 16 : hostChars.length)];
        }
        if (p < parts - 1 && r.next() < 0.6) host += '.';
      }
    const tail = r.pick(['', '/', '/path?q=1#f', '?x', '#y', '\\z', ':80/', ':', ' /', '%zz', '/ü']);
    const raw = r.pick(schemes) + host + tail;
    const plain = plainHttpUrl(raw);
    if (plain) trues++;
    if (plain && !parsesAsHttp(raw)) assert.fail(`plainHttpUrl(${JSON.stringify(raw)}) is true, but it does not parse (FUZZ_SEED=${seed})`);
  }
  // The generator reaches the plain form often enough for the comparison to mean something.
  assert.ok(trues > 5_000, `only ${trues} generated inputs were in the plain form`);
});

test('the last plain origin, remembered, answers only for URLs with that very authority', () => {
  assert.equal(plainHttpUrl('http://api.example.com/v1'), true);
  assert.equal(plainHttpUrl('http://api.example.com?x'), true);
  assert.equal(plainHttpUrl('http://api.example.com'), true);
  for (const raw of [
    'http://api.example.com:99999/',
    'http://api.example.com.:80/',
    'http://api.example.com%zz/',
    'http://api.example.com@evil/',
    'http://api.example.com /',
  ]) {
    assert.equal(plainHttpUrl(raw), false, raw);
    assert.equal(plainHttpUrl('http://api.example.com/again'), true);
  }
  assert.equal(plainHttpUrl('http://127.0.0.1:8080/a'), true);
  assert.equal(plainHttpUrl('http://127.0.0.1:80800/a'), false);
  assert.equal(plainHttpUrl('http://127.0.0.1:8080'), true);
});
