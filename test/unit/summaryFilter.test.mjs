// covers: webview/filterQuery.ts, src/trace/derive/routes.ts, webview/summaryView.ts,
//   src/trace/derive/summary.ts
// The `route:` filter term (webview/filterQuery.ts) the Summary view sets: the same grouping as
// the summary by route (src/trace/derive/routes.ts), with or without the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleTs } from '../lib/bundleTs.mjs';

const f = bundleTs([
  "export * from './webview/filterQuery';",
  "export { routeFilter, servedRouteFilter, callsText } from './webview/summaryView';",
  "export { summarize } from './src/trace/derive/summary';",
]);

const row = (method, url) => ({
  req: { traceID: 'r', reqMethod: method, reqURL: url },
  host: new URL(url).hostname,
  initiator: '',
  failed: false,
  duration: 1,
  size: 0,
  haystack: '',
});
const matches = (text, r) => f.matchesQuery(r, f.parseFilter(text), { slowMs: 1000 });

test('route: matches the inferred template, with or without host; never another literal route', () => {
  const a = row('GET', 'http://metrics.internal.test:9091/v1/orders/42?page=2');
  assert.equal(matches('route:/v1/orders/:id', a), true);
  assert.equal(matches('route:metrics.internal.test:9091/v1/orders/:id', a), true);
  assert.equal(matches('method:GET route:metrics.internal.test:9091/v1/orders/:id', a), true);
  assert.equal(matches('route:/v1/orders', a), false);
  assert.equal(matches('route:other.test/v1/orders/:id', a), false);
  assert.equal(matches('route:/v1/users/me', row('GET', 'https://h.test/v1/users/me')), true);
  assert.equal(matches('route:/v1/users/:id', row('GET', 'https://h.test/v1/users/me')), false);
  assert.deepEqual(f.parseFilter('route:').errors.length, 1);
});

test("the Summary view's filter for a group keeps exactly that group's requests", () => {
  const text = f.routeFilter({ method: 'POST', host: 'api.test:8080', route: '/items/:id' });
  assert.equal(text, 'method:POST route:api.test:8080/items/:id');
  assert.equal(matches(text, row('POST', 'http://api.test:8080/items/7')), true);
  assert.equal(matches(text, row('GET', 'http://api.test:8080/items/7')), false);
  assert.equal(matches(text, row('POST', 'http://api.test:8081/items/7')), false);
});

test("a served group's filter keeps the calls its requests made: the route inferred or named, with host and method", () => {
  const incoming = new Map([
    ['in-1', { traceID: 'in-1', server: 'http', reqMethod: 'GET', reqURL: 'http://gw.test:3000/users/7', respStatusCode: 200 }],
    ['in-2', { traceID: 'in-2', server: 'http', reqMethod: 'GET', reqURL: 'http://gw.test:3000/users/8', respStatusCode: 200 }],
    ['in-3', { traceID: 'in-3', server: 'http', reqMethod: 'POST', reqURL: 'http://gw.test:3000/users/9', respStatusCode: 201 }],
    ['in-4', { traceID: 'in-4', server: 'http', reqMethod: 'GET', reqURL: 'http://gw.test:3000/users/me', respStatusCode: 200 }],
    ['in-5', { traceID: 'in-5', server: 'http', reqMethod: 'GET', reqURL: 'http://gw.test:3000/o/42', route: '/o/:orderId' }],
  ]);
  const call = (id, causedBy) => ({
    ...row('GET', `http://db.test/q/${id.charCodeAt(0)}`),
    req: { traceID: id, reqMethod: 'GET', reqURL: `http://db.test/q/${id.charCodeAt(0)}`, causedBy },
  });
  const rows = [call('a', 'in-1'), call('b', 'in-2'), call('c', 'in-3'), call('d', 'in-4'), call('e', 'in-5'), call('f')];
  // The view's groups are summary.ts's: one per method, host and template.
  const summary = f.summarize(
    rows.map((r) => r.req),
    incoming.values(),
  );
  const group = summary.servedRoutes.find((r) => r.label === 'GET gw.test:3000/users/:id');
  assert.equal(group.count, 2);
  assert.equal(f.callsText(group), 'GET db.test/q/:id ×1');
  const text = f.servedRouteFilter(group);
  assert.equal(text, 'caused-by:"GET gw.test:3000/users/:id"');
  const pick = (t) => {
    const q = f.parseFilter(t);
    assert.deepEqual(q.errors, []);
    return rows.filter((r) => f.matchesQuery(r, q, { slowMs: 1000, incoming })).map((r) => r.req.traceID);
  };
  assert.deepEqual(pick(text), ['a', 'b'], 'not POST, not the literal /users/me');
  assert.deepEqual(pick('caused-by:/users/:id'), ['a', 'b', 'c']);
  assert.deepEqual(pick('caused-by:gw.test:3000/users/:id'), ['a', 'b', 'c']);
  assert.deepEqual(pick('caused-by:"GET other.test:3000/users/:id"'), []);
  // A route the framework named: its template, not the inferred one.
  const named = summary.servedRoutes.find((r) => r.route === '/o/:orderId');
  assert.deepEqual(pick(f.servedRouteFilter(named)), ['e']);
  assert.deepEqual(pick('caused-by:"GET /o/:id"'), []);
  assert.equal(f.callsText({ calls: [] }), '–');
});
