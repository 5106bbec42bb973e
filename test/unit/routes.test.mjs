// covers: src/trace/derive/routes.ts
// needs: the build (dist/core.cjs)
// Route templates (src/trace/derive/routes.ts): the framework's route when the program's server
// named it, else one inferred from the path; never two real routes merged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { inferRoute, routeKeyOf, routeLabel, hostOf } = createRequire(import.meta.url)('../../dist/core.cjs');

const route = (p) => inferRoute(p).route;

test('numbers, UUIDs, hex hashes, dates and opaque tokens become :id, marked inferred', () => {
  assert.deepEqual(inferRoute('/users/42'), { route: '/users/:id', inferred: true });
  assert.equal(route('/users/550e8400-e29b-41d4-a716-446655440000/orders'), '/users/:id/orders');
  assert.equal(route('/blobs/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b'), '/blobs/:id');
  assert.equal(route('/objects/507f1f77bcf86cd799439011'), '/objects/:id'); // a MongoDB ObjectId
  assert.equal(route('/reports/2024-01-31'), '/reports/:id');
  assert.equal(route('/reports/2024-01-31T10:00:00Z'), '/reports/:id');
  assert.equal(route('/prices/-12.50'), '/prices/:id');
  assert.equal(route('/charges/ch_3NqFGhLkdIwHu7ix0abcdEFG'), '/charges/:id');
  assert.equal(route('/a/1/b/2/c/3'), '/a/:id/b/:id/c/:id');
  assert.equal(route('/users/%34%32'), '/users/:id'); // percent-encoded digits
});

test('literal segments stay: words, versions, short mixed names; no parameter means not inferred', () => {
  assert.deepEqual(inferRoute('/v1/users/me'), { route: '/v1/users/me', inferred: false });
  assert.equal(route('/api/v2/items'), '/api/v2/items');
  assert.equal(route('/deadbeef/cafe'), '/deadbeef/cafe'); // hex letters only: may be a word
  assert.equal(route('/oauth2/callback'), '/oauth2/callback');
  assert.equal(route('/static/main.js'), '/static/main.js');
  assert.equal(route('/'), '/');
  assert.equal(route(''), '/');
});

test('two real routes that differ in a literal segment never merge', () => {
  const pairs = [
    ['/users/me', '/users/42'],
    ['/v1/items/7', '/v2/items/7'],
    ['/users/1/orders', '/users/1/invoices'],
    ['/a/b', '/a/b/'],
    ['/health', '/healthz'],
  ];
  for (const [a, b] of pairs) assert.notEqual(route(a), route(b), `${a} and ${b}`);
  // …and the same route with other values does merge.
  assert.equal(route('/users/1/orders/2024-02-01'), route('/users/987654/orders/2023-12-31'));
});

test('query strings and fragments are ignored', () => {
  assert.equal(route('/search?q=42&page=3'), '/search');
  assert.equal(route('http://h.example/users/42?x=1#frag'), '/users/:id');
  assert.equal(route('https://h.example?x=1'), '/');
});

test('a served request keeps the route its framework named, not marked inferred', () => {
  const k = routeKeyOf('get', 'http://127.0.0.1:3000/users/42?x=1', '/users/:userId');
  assert.deepEqual(k, { host: '127.0.0.1:3000', method: 'GET', route: '/users/:userId', inferred: false });
  assert.equal(routeLabel(k), 'GET 127.0.0.1:3000/users/:userId');
  assert.equal(routeKeyOf('POST', 'https://api.example.com:443/charge').host, 'api.example.com');
});

test('the host leaves out default ports and userinfo, keeps others', () => {
  assert.equal(hostOf('http://api.example.com:80/x'), 'api.example.com');
  assert.equal(hostOf('https://u:p@API.example.com:8443/x'), 'api.example.com:8443');
  assert.equal(hostOf('http://[::1]:3000/'), '[::1]:3000');
});
