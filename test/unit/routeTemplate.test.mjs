// covers: src/trace/contract/routeTemplate.ts, src/rules/, src/trace/derive/routes.ts
// needs: the build (dist/cli.cjs)
// The one route template (src/trace/contract/routeTemplate.ts) as its two readers use it: for a
// set of paths (numbers, decimals, UUIDs with and without dashes, hex and base64 ids, dates,
// slugs, versions), the rule "… Requests Like This" made from a request (src/rules/fromRequest.ts)
// and `nettrace show --summary` / `nettrace diff` (src/trace/derive/routes.ts) agree on every one.
// Runs the built CLI (dist/cli.cjs: `npm run build` first, as `npm test` does).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs([
  "export * from './src/rules/fromRequest';",
  "export * from './src/rules';",
  "export * from './src/trace/contract/routeTemplate';",
]);
const cli = fileURLToPath(new URL('../../dist/cli.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nettrace-route-template-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Each case: a path, its route template, and another path of the same route (other values in its
 * parameter segments; the same path where the template has none).
 */
const CASES = [
  { kind: 'number', path: '/users/42', route: '/users/:id', other: '/users/7' },
  { kind: 'numbers between literals', path: '/a/1/b/22/c', route: '/a/:id/b/:id/c', other: '/a/9/b/3/c' },
  { kind: 'decimal', path: '/prices/12.50', route: '/prices/:id', other: '/prices/3.99' },
  { kind: 'signed number', path: '/offsets/-12', route: '/offsets/:id', other: '/offsets/40' },
  {
    kind: 'UUID',
    path: '/sessions/550e8400-e29b-41d4-a716-446655440000',
    route: '/sessions/:id',
    other: '/sessions/123e4567-e89b-12d3-a456-426614174000',
  },
  {
    kind: 'UUID without dashes',
    path: '/carts/550e8400e29b41d4a716446655440000/items',
    route: '/carts/:id/items',
    other: '/carts/123e4567e89b12d3a456426614174000/items',
  },
  { kind: 'hex hash', path: '/blobs/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b', route: '/blobs/:id', other: '/blobs/00ab12cd34ef' },
  { kind: 'object id', path: '/objects/507f1f77bcf86cd799439011', route: '/objects/:id', other: '/objects/507f191e810c19729de860ea' },
  { kind: 'base64url id', path: '/files/aZ3kP9qL2mN8xV1w', route: '/files/:id', other: '/files/Qm9vazEyMzQ1Njc4OTA' },
  { kind: 'ULID', path: '/orders/01ARZ3NDEKTSV4RRFFQ69G5FAV', route: '/orders/:id', other: '/orders/01BX5ZZKBKACTAV9WEVGEMMVRZ' },
  { kind: 'date', path: '/reports/2024-01-31', route: '/reports/:id', other: '/reports/2023-12-01' },
  { kind: 'date and time', path: '/events/2024-01-31T10:00:00Z', route: '/events/:id', other: '/events/2024-02-01T11:30:00Z' },
  { kind: 'slug', path: '/posts/how-to-trace-node', route: '/posts/how-to-trace-node', other: '/posts/how-to-trace-node' },
  { kind: 'version', path: '/api/v2/items', route: '/api/v2/items', other: '/api/v2/items' },
  { kind: 'version and id', path: '/v1/users/42/orders', route: '/v1/users/:id/orders', other: '/v1/users/8/orders' },
  { kind: 'hex letters only (a word)', path: '/deadbeef/cafe', route: '/deadbeef/cafe', other: '/deadbeef/cafe' },
  {
    kind: 'token with one digit',
    path: '/invites/aZbKpQqLrMnXxVyW1',
    route: '/invites/aZbKpQqLrMnXxVyW1',
    other: '/invites/aZbKpQqLrMnXxVyW1',
  },
  { kind: 'word', path: '/health', route: '/health', other: '/health' },
];

const url = (path) => `http://api.example.com${path}`;

/** A trace file of one GET per path (done, 200). */
function writeTrace(name, paths) {
  const httpRequests = paths.map((path, i) => ({
    traceID: `req-${i + 1}`,
    pid: 1,
    client: 'fetch',
    reqMethod: 'GET',
    reqURL: url(path),
    reqStartAt: i * 2,
    reqSentAt: i * 2 + 0.1,
    respRecvAt: i * 2 + 1,
    respDoneAt: i * 2 + 1.2,
    respStatusCode: 200,
  }));
  const file = join(dir, name);
  const trace = { formatVersion: 1, traceBeginAt: '2026-11-26T10:00:00.000Z', processes: [], httpRequests, dials: [], tcpConns: [] };
  writeFileSync(file, JSON.stringify({ ...trace, udpConns: [], dnsQueries: [], tlsTunnels: [] }));
  return file;
}

function run(args) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Does the rule's condition hold for a GET of `path` on the case's host as the request starts? */
function holds(condition, path) {
  const c = m.compileCondition(condition, { process: { pid: 1, threadId: 0, command: 'node' } });
  const view = { method: 'GET', scheme: 'http', host: 'api.example.com', port: 80, target: path, client: 'fetch' };
  return c.atStart(new m.RequestFacts(view)) === m.YES;
}

test('the route template of each path: numbers, UUIDs, hex and base64 ids, dates and decimals become :id; slugs and versions stay', () => {
  for (const c of CASES) {
    assert.equal(m.inferRoute(c.path).route, c.route, c.kind);
    assert.equal(m.inferRoute(c.other).route, c.route, `${c.kind}: ${c.other}`);
  }
});

test('the rule made from a request globs exactly the segments the route template makes :id, and holds for the same route only', () => {
  for (const c of CASES) {
    const rule = m.ruleFromRequest('break', { reqMethod: 'GET', reqURL: url(c.path) });
    const glob = c.route
      .split('/')
      .map((s) => (s === m.ID_PLACEHOLDER ? '*' : s))
      .join('/');
    const path = c.route === c.path ? `path == "${c.path}"` : `path ~ "${glob}"`;
    assert.equal(rule.condition, `method == "GET" and host == "api.example.com" and ${path}`, c.kind);
    assert.equal(holds(rule.condition, c.path), true, `${c.kind}: the request itself`);
    assert.equal(holds(rule.condition, c.other), true, `${c.kind}: ${c.other}, of the same route`);
    for (const d of CASES.filter((x) => x.route !== c.route))
      assert.equal(holds(rule.condition, d.path), false, `${c.kind}: not ${d.path}`);
  }
});

test('show --summary groups the paths by the same templates, and diff matches each route of one trace with the other', () => {
  const a = writeTrace(
    'a.json',
    CASES.map((c) => c.path),
  );
  const b = writeTrace(
    'b.json',
    CASES.map((c) => c.other),
  );
  const routes = [...new Set(CASES.map((c) => c.route))].sort();
  const summary = run(['show', '--summary', '--json', a]);
  assert.deepEqual(summary.routes.map((g) => g.route).sort(), routes);
  for (const g of summary.routes) assert.equal(g.count, CASES.filter((c) => c.route === g.route).length, g.route);
  const diff = run(['diff', '--json', a, b]);
  assert.deepEqual(diff.routes.map((r) => r.route).sort(), routes);
  for (const r of diff.routes) assert.deepEqual([r.countA, r.countB], [1, 1], `${r.route}: in both traces`);
});
