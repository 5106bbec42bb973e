// The `route:` filter term (webview/filterQuery.ts) the Summary view sets: the same grouping as
// the summary by route (src/trace/derive/routes.ts), with or without the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleTs } from '../lib/bundleTs.mjs';

const f = bundleTs(["export * from './webview/filterQuery';", "export { routeFilter } from './webview/summaryView';"]);

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
