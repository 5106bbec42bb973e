// covers: webview/filterQuery.ts
// The panel's DevTools-style filter language (webview/filterQuery.ts): property terms, negation,
// free words, errors, autocompletion, and the cost of filtering 10,000 rows is left to the bench.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleTs } from '../lib/bundleTs.mjs';

const f = bundleTs(["export * from './webview/filterQuery';"]);
const ctx = { slowMs: 1000 };

let seq = 0;
/** A row as the panel's model builds it, from a request. */
function row(req, extra = {}) {
  const r = { traceID: `r${seq++}`, pid: 100, client: 'fetch', reqMethod: 'GET', reqURL: 'http://api.example.com/users?id=1', ...req };
  const host = new URL(r.reqURL).hostname.toLowerCase();
  const status = r.respStatusCode !== undefined ? String(r.respStatusCode) : r.reqError ? r.reqError.code : 'pending';
  return {
    req: r,
    host,
    initiator: 'client.ts:14',
    failed: !!r.reqError || (r.respStatusCode ?? 0) >= 400,
    duration: 20,
    size: r.respContentLen,
    haystack: `${r.reqMethod} ${r.reqURL} ${status} ${host}`.toLowerCase(),
    ...extra,
  };
}
const sel = (rows, text) => {
  const q = f.parseFilter(text);
  return rows.filter((r) => f.matchesQuery(r, q, ctx)).map((r) => r.req.traceID);
};

test('free words match method, URL, status and host; "-" excludes', () => {
  const a = row({ traceID: 'a', reqURL: 'http://a.test/users' });
  const b = row({ traceID: 'b', reqURL: 'http://b.test/orders', reqMethod: 'POST' });
  assert.deepEqual(sel([a, b], 'users'), ['a']);
  assert.deepEqual(sel([a, b], 'post'), ['b']);
  assert.deepEqual(sel([a, b], '-users'), ['b']);
  assert.deepEqual(sel([a, b], ''), ['a', 'b']);
  assert.deepEqual(sel([a, b], 'http://b.test'), ['b'], 'a URL with a colon is a word, not an unknown key');
});

test('domain: globs, and *.x also matches x itself', () => {
  const a = row({ traceID: 'a', reqURL: 'https://example.com/' });
  const b = row({ traceID: 'b', reqURL: 'https://api.example.com/' });
  const c = row({ traceID: 'c', reqURL: 'https://example.org/' });
  assert.deepEqual(sel([a, b, c], 'domain:*.example.com'), ['a', 'b']);
  assert.deepEqual(sel([a, b, c], 'domain:example.com'), ['a']);
  assert.deepEqual(sel([a, b, c], '-domain:*.example.com'), ['c']);
  assert.deepEqual(sel([a, b, c], 'host:api.example.com:443'), [], 'URL host drops the default port');
  const d = row({ traceID: 'd', reqURL: 'http://127.0.0.1:8080/' });
  assert.deepEqual(sel([a, d], 'host:127.0.0.1:8080'), ['d']);
});

test('method:, status-code: (code or class), larger-than: with units', () => {
  const a = row({ traceID: 'a', reqMethod: 'POST', respStatusCode: 201, respContentLen: 100 });
  const b = row({ traceID: 'b', respStatusCode: 404, respContentLen: 20_000 });
  const c = row({ traceID: 'c', respStatusCode: 503, respContentLen: 3 * 1024 * 1024 });
  const rows = [a, b, c];
  assert.deepEqual(sel(rows, 'method:post'), ['a']);
  assert.deepEqual(sel(rows, 'status-code:404'), ['b']);
  assert.deepEqual(sel(rows, 'status-code:5xx'), ['c']);
  assert.deepEqual(sel(rows, 'larger-than:10k'), ['b', 'c']);
  assert.deepEqual(sel(rows, 'larger-than:2M'), ['c']);
  assert.deepEqual(sel(rows, 'larger-than:100'), ['b', 'c'], 'strictly larger');
  assert.equal(f.parseSize('1.5k'), 1536);
  assert.ok(Number.isNaN(f.parseSize('big')));
});

test('is: failed, slow, reused, redirect (3xx with Location, not 201), pending, websocket, paused', () => {
  const ok = row({ traceID: 'ok', respStatusCode: 200, respDoneAt: 5, reusedConn: true });
  const fail = row({ traceID: 'fail', reqError: { code: 'ECONNREFUSED' } });
  const slow = row({ traceID: 'slow', respStatusCode: 200, respDoneAt: 5 }, { duration: 5000 });
  const redir = row({ traceID: 'redir', respStatusCode: 302, respHeaders: [['Location', '/x']], respDoneAt: 1 });
  const created = row({ traceID: 'created', respStatusCode: 201, respHeaders: [['location', '/items/1']], respDoneAt: 1 });
  const pend = row({ traceID: 'pend' });
  const ws = row({
    traceID: 'ws',
    respStatusCode: 101,
    webSocket: { openAt: 1, sentMessages: 0, recvMessages: 0, sentBytes: 0, recvBytes: 0 },
  });
  const held = row({ traceID: 'held', respStatusCode: 200, respDoneAt: 5, debuggerPaused: 2641 }, { duration: 2700 });
  const rows = [ok, fail, slow, redir, created, pend, ws, held];
  assert.deepEqual(sel(rows, 'is:failed'), ['fail']);
  assert.deepEqual(sel(rows, 'is:slow'), ['slow']);
  assert.deepEqual(sel(rows, 'is:paused'), ['held'], 'held by a breakpoint; not slow for it (59 ms of its own)');
  assert.deepEqual(sel(rows, 'is:reused'), ['ok']);
  assert.deepEqual(sel(rows, 'is:redirect'), ['redir']);
  assert.deepEqual(sel(rows, 'is:pending'), ['pend']);
  assert.deepEqual(sel(rows, 'is:websocket'), ['ws']);
  assert.deepEqual(sel(rows, '-is:failed -is:pending status-code:2xx'), ['ok', 'slow', 'created', 'held']);
  assert.deepEqual(sel(rows, '-is:paused status-code:200'), ['ok', 'slow']);
});

test('has-response-header:, client:, pid:, initiator: (file or file:line), mark:', () => {
  const a = row(
    { traceID: 'a', client: 'axios', pid: 7, respHeaders: [['Set-Cookie', 'x']], marks: ['orders'] },
    { initiator: 'users.ts:14' },
  );
  const b = row({ traceID: 'b', client: 'http', pid: 8 }, { initiator: 'orders.ts:3' });
  const c = row({ traceID: 'c' }, { initiator: '' });
  const rows = [a, b, c];
  assert.deepEqual(sel(rows, 'has-response-header:set-cookie'), ['a']);
  assert.deepEqual(sel(rows, 'client:http'), ['b']);
  assert.deepEqual(sel(rows, 'pid:7'), ['a']);
  assert.deepEqual(sel(rows, 'initiator:users.ts'), ['a']);
  assert.deepEqual(sel(rows, 'initiator:users.ts:14'), ['a']);
  assert.deepEqual(sel(rows, 'initiator:users.ts:15'), []);
  assert.deepEqual(sel(rows, '-initiator:users.ts'), ['b', 'c']);
  assert.deepEqual(sel(rows, 'mark:orders'), ['a']);
});

test('a term that is not understood says why and matches nothing', () => {
  const q = f.parseFilter('status-code:abc larger-than:huge is:weird pid:x');
  assert.equal(q.errors.length, 4);
  assert.match(q.errors[0], /status-code: expects/);
  assert.match(q.errors[1], /larger-than: expects a size/);
  assert.match(q.errors[2], /is: expects one of failed, slow/);
  assert.deepEqual(sel([row({ traceID: 'a', respStatusCode: 200 })], 'is:weird'), []);
});

test('quoted values keep spaces', () => {
  assert.deepEqual(f.tokenize('has-response-header:"x a" -foo  bar'), ['has-response-header:x a', '-foo', 'bar']);
});

test('autocompletion offers keys, then the values seen in the rows', () => {
  const rows = [row({ reqMethod: 'POST', respStatusCode: 201 }), row({ reqMethod: 'GET', respStatusCode: 404, client: 'http' })];
  const values = f.collectValues(rows);
  assert.deepEqual(
    f.suggest('me', 2, values).map((s) => s.text),
    ['method:'],
  );
  assert.deepEqual(
    f.suggest('foo -st', 7, values).map((s) => [s.text, s.from, s.to]),
    [['-status-code:', 4, 7]],
  );
  assert.deepEqual(
    f.suggest('method:', 7, values).map((s) => s.text),
    ['method:GET', 'method:POST'],
  );
  assert.deepEqual(
    f.suggest('is:f', 4, values).map((s) => s.text),
    ['is:failed'],
  );
  assert.deepEqual(f.suggest('nokey:', 6, values), []);
});

test('caused-by: the incoming request by id, route, path or path prefix; none for requests outside any', () => {
  const incoming = new Map([
    ['in-1', { traceID: 'in-1', server: 'http', reqMethod: 'POST', reqURL: 'http://gw:8080/checkout/42?x=1', route: '/checkout/:id' }],
    ['in-2', { traceID: 'in-2', server: 'http', reqMethod: 'GET', reqURL: 'http://gw:8080/checkoutX' }],
  ]);
  const withIncoming = { slowMs: 1000, incoming };
  const rows = [
    row({ traceID: 'a', causedBy: 'in-1' }),
    row({ traceID: 'b', causedBy: 'in-2' }),
    row({ traceID: 'c' }),
    row({ traceID: 'd', causedBy: 'in-9' }),
  ];
  const pick = (text) => {
    const q = f.parseFilter(text);
    assert.deepEqual(q.errors, []);
    return rows.filter((r) => f.matchesQuery(r, q, withIncoming)).map((r) => r.req.traceID);
  };
  assert.deepEqual(pick('caused-by:in-1'), ['a']);
  assert.deepEqual(pick('caused-by:IN-9'), ['d'], 'an incoming request not seen yet still matches by id');
  assert.deepEqual(pick('caused-by:/checkout/:id'), ['a']);
  assert.deepEqual(pick('caused-by:/checkout'), ['a'], 'a path prefix stops at a segment: /checkoutX is not under /checkout');
  assert.deepEqual(pick('caused-by:/checkoutx'), ['b']);
  assert.deepEqual(pick('caused-by:/checkout/42'), ['a'], 'the path without its query');
  assert.deepEqual(pick('caused-by:none'), ['c']);
  assert.deepEqual(pick('-caused-by:none'), ['a', 'b', 'd']);
  assert.match(f.parseFilter('caused-by:').errors[0], /caused-by: expects/);
  const values = f.collectValues(rows, 50, incoming);
  assert.deepEqual(values.get('caused-by'), ['/checkout/:id', '/checkoutx']);
  assert.ok(f.suggest('cau', 3, values).some((s) => s.text === 'caused-by:'));
});
