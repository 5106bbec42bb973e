// covers: src/trace/derive/summary.ts, src/cli/summary.ts
// needs: the build (dist/core.cjs, dist/cli.cjs)
// The summary by route (src/trace/derive/summary.ts, src/cli/summary.ts): groups, percentiles of
// the total and each phase against a reference, connections, errors, lines; served routes and
// the calls each made; `nettrace show --summary [--json]`, and a large trace's default view.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { writeRouteTrace, ROUTES } from '../../bench/lib/routeTrace.mjs';

const core = createRequire(import.meta.url)('../../dist/core.cjs');
const cli = fileURLToPath(new URL('../../dist/cli.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nettrace-summary-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const run = (args) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 60000 });

/** Nearest rank, by counting (as test/unit/percentiles.test.mjs's reference). */
function reference(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.find((v) => values.filter((x) => x <= v).length * 100 >= p * values.length);
}

test('show --summary --json: one group per route, counts and percentiles as computed from the requests themselves', async () => {
  const file = join(dir, 'a.json');
  await writeRouteTrace(file, { n: 400, perConn: 20 });
  const r = run(['show', '--summary', '--json', file]);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.equal(summary.requests, 400);
  assert.deepEqual(summary.routes.map((g) => g.route).sort(), ROUTES.map((x) => x.route).sort());
  // The reference: the trace file's requests, grouped by the generator's own routes, timed by hand.
  const trace = JSON.parse((await import('node:fs')).readFileSync(file, 'utf8'));
  const timed = core.enrichTrace(trace).httpRequests;
  for (const def of ROUTES) {
    const group = summary.routes.find((g) => g.route === def.route);
    const mine = timed.filter((q, i) => ROUTES[i % ROUTES.length] === def);
    assert.equal(group.label, `${def.method} api.example.com:8080${def.route}`);
    assert.equal(group.inferred, def.route.includes(':id'));
    assert.equal(group.count, mine.length);
    assert.equal(group.failed, mine.filter((q) => q.respStatusCode >= 400).length);
    assert.equal(group.status['5xx'] ?? 0, group.failed);
    const totals = mine.map((q) => core.totalTime(q.timings));
    const waits = mine.map((q) => q.timings.wait);
    for (const p of [50, 95, 99]) {
      assert.equal(group.times.total[`p${p}`], reference(totals, p), `${def.route} total p${p}`);
      assert.equal(group.times.wait[`p${p}`], reference(waits, p), `${def.route} wait p${p}`);
    }
    assert.equal(group.times.total.max, Math.max(...totals));
    assert.equal(group.connections.opened, mine.filter((q) => !q.reusedConn).length);
    assert.equal(group.connections.reused, mine.filter((q) => q.reusedConn).length);
    assert.equal(group.bytes.received, 300 * mine.length);
    assert.deepEqual(group.lines, [{ file: '/app/client.js', line: 10 + ROUTES.indexOf(def), function: 'call', count: mine.length }]);
  }
});

test('served routes: the framework route wins, the rest inferred; status classes, p50/p95, the calls each made; errors by kind', () => {
  const inc = (i, url, route, status, ms) => ({
    traceID: `in-${i}`,
    pid: 1,
    server: 'http',
    reqMethod: 'GET',
    reqURL: url,
    route,
    reqRecvAt: i * 100,
    respDoneAt: i * 100 + ms,
    reqEndAt: i * 100 + ms,
    respStatusCode: status,
  });
  const incoming = [
    inc(1, 'http://localhost:3000/users/7', '/users/:userId', 200, 10),
    inc(2, 'http://localhost:3000/users/8', '/users/:userId', 500, 30),
    inc(3, 'http://localhost:3000/files/2024-05-01', undefined, 200, 5),
  ];
  const call = (i, causedBy, url, extra = {}) => ({
    traceID: `req-${i}`,
    pid: 1,
    client: 'http',
    reqMethod: 'GET',
    reqURL: url,
    causedBy,
    reqStartAt: i,
    reqSentAt: i,
    respRecvAt: i + 1,
    respDoneAt: i + 2,
    respStatusCode: 200,
    timings: { blocked: 0, dns: -1, connect: -1, ssl: -1, send: 0, wait: 1, receive: 1 },
    ...extra,
  });
  const err = (i, code) => ({ reqError: { phase: 'response', message: code, code }, respStatusCode: undefined, respDoneAt: undefined });
  const requests = [
    call(1, 'in-1', 'http://db:5984/users/7'),
    call(2, 'in-1', 'http://cache:6379/get?k=1'),
    call(3, 'in-2', 'http://db:5984/users/8', err(3, 'ECONNRESET')),
    call(4, undefined, 'http://db:5984/users/9', err(4, 'ETIMEDOUT')),
  ];
  const s = core.summarize(requests, incoming);
  assert.equal(s.served, 3);
  const users = s.servedRoutes.find((g) => g.route === '/users/:userId');
  assert.deepEqual(
    {
      inferred: users.inferred,
      count: users.count,
      failed: users.failed,
      status: users.status,
      p50: users.duration.p50,
      p95: users.duration.p95,
    },
    { inferred: false, count: 2, failed: 1, status: { '2xx': 1, '5xx': 1 }, p50: 10, p95: 30 },
  );
  assert.deepEqual(users.calls, [
    { label: 'GET db:5984/users/:id', count: 2, perRequest: 1 },
    { label: 'GET cache:6379/get', count: 1, perRequest: 0.5 },
  ]);
  const files = s.servedRoutes.find((g) => g.host === 'localhost:3000' && g.route === '/files/:id');
  assert.equal(files.inferred, true);
  const db = s.routes.find((g) => g.label === 'GET db:5984/users/:id');
  assert.deepEqual(db.errors, { ECONNRESET: 1, ETIMEDOUT: 1 });
  assert.equal(db.failed, 2);
});

test('show of a trace past 300 requests leads with the summary, the failures and the slowest; --all lists every row', async () => {
  const file = join(dir, 'big.json');
  await writeRouteTrace(file, { n: 1200 });
  const r = run(['show', file]);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.ok(lines.length < 120, `${lines.length} lines`);
  assert.match(lines[0], /^Requests made: 1200 by route/);
  assert.match(r.stdout, /^GET api\.example\.com:8080\/users\/:id \*/m);
  assert.match(r.stdout, /^Failures \(the first 10 of 13\)$/m);
  assert.match(r.stdout, /^Slowest 10$/m);
  assert.match(r.stdout, /`nettrace show --all` lists every row/);
  const all = run(['show', '--all', file]);
  assert.equal(all.status, 0, all.stderr);
  assert.ok(all.stdout.split('\n').length > 1200);
  const small = join(dir, 'small.json');
  await writeRouteTrace(small, { n: 40 });
  const few = run(['show', small]);
  assert.doesNotMatch(few.stdout, /by route/);
});

test('show --summary as text: routes, phases, connections, lines, the inferred mark', async () => {
  const file = join(dir, 's.json');
  await writeRouteTrace(file, { n: 100, perConn: 1 });
  const r = run(['show', '--summary', file]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^POST api\.example\.com:8080\/orders {2,}25 {5,}\d+ /m);
  assert.match(r.stdout, /25\/0$/m); // every request opened its connection
  assert.match(r.stdout, /connect [\d.]+ \/ /);
  assert.match(r.stdout, /from \/app\/client\.js:12 \(25\)/);
  assert.match(r.stdout, /^\* route inferred from the paths/m);
});
