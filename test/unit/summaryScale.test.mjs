// covers: src/cli/
// needs: the build (dist/core.cjs, dist/cli.cjs)
// The summary by route at scale (issue 61, finding 6): a trace of 200,000 requests each on a route of
// its own (paths of words, which the route inference rightly keeps), through `nettrace show` (a large
// trace leads with its summary), `show --summary --json` and `nettrace diff`, each with V8's heap
// capped at 256 MB: every one succeeds, keeps the first MAX_ROUTES routes apart and counts the rest in
// one "other routes" group, and says so. Before the cap, `show` and `--summary` died with "Maximum
// call stack size exceeded" past ~40,000 routes and `diff` took 4.5 GB. And the builder's caps in
// process: routes, served routes, the calls under a served route.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const core = createRequire(import.meta.url)('../../dist/core.cjs');
const cli = fileURLToPath(new URL('../../dist/cli.cjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'nettrace-summary-scale-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** The V8 heap the CLI runs with, MB: the bound these commands must hold. */
const HEAP_MB = 256;
const ROUTES = 200_000;

/** `aa`, `ab`…: a path segment of letters, never read as a value (routes.ts keeps words). */
function word(i) {
  let s = '';
  do {
    s += String.fromCharCode(97 + (i % 26));
    i = Math.floor(i / 26);
  } while (i > 0);
  return s;
}

/** A trace of `n` requests, the i-th to /svc/<word i>/view, 3 + i % 13 ms each, written streaming. */
async function writeWordTrace(file, n) {
  const out = createWriteStream(file, { mode: 0o600 });
  const w = async (s) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await w('{"formatVersion":1,"description":"words","traceBeginAt":"2026-01-01T00:00:00.000Z","processes":[],"httpRequests":[');
  for (let i = 0; i < n; i++) {
    const at = i * 0.01;
    const r = {
      traceID: `r${i}`,
      pid: 1,
      client: 'http',
      reqMethod: 'GET',
      reqURL: `http://api.example:8080/svc/${word(i)}/view`,
      reqStartAt: at,
      reqSentAt: at + 1,
      respRecvAt: at + 2 + (i % 13),
      respDoneAt: at + 3 + (i % 13),
      respStatusCode: 200,
      respContentLen: 10,
    };
    await w((i ? ',' : '') + JSON.stringify(r));
  }
  await w(
    '],"dials":[],"tcpConns":[],"udpConns":[],"dnsQueries":[],"tlsTunnels":[],"stats":{"droppedEvents":0,"untracedRequests":0,"warnings":[]}}',
  );
  out.end();
  await once(out, 'finish');
}

/** The CLI with its heap capped at HEAP_MB: exit code, output, seconds. */
function capped(args) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    let stderr = '';
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr, s: Number(process.hrtime.bigint() - started) / 1e9 }),
    );
  });
}

test(
  `200,000 routes through show, show --summary and diff in a ${HEAP_MB} MB heap: the first ${core.MAX_ROUTES} kept, the rest "other routes"`,
  { timeout: 600_000 },
  async () => {
    const file = join(dir, 'words.json');
    await writeWordTrace(file, ROUTES);
    const others = ROUTES - core.MAX_ROUTES;

    const show = await capped(['show', file]);
    assert.equal(show.code, 0, `show: ${show.signal ?? ''} ${show.stderr}`);
    assert.match(show.stdout, new RegExp(`^other routes † +${others} +0 `, 'm'));
    assert.match(show.stdout, /^† other routes: the requests on any route after the first 10,000 of a kind, counted together$/m);
    assert.match(show.stdout, /^\(200000 requests: `nettrace show --all` lists every row/m);

    const summary = await capped(['show', '--summary', '--json', file]);
    assert.equal(summary.code, 0, `--summary: ${summary.signal ?? ''} ${summary.stderr}`);
    const s = JSON.parse(summary.stdout);
    assert.equal(s.requests, ROUTES);
    assert.equal(s.routes.length, core.MAX_ROUTES + 1);
    const other = s.routes.at(-1);
    assert.deepEqual([other.label, other.other, other.count, other.times.total.n], [core.OTHER_ROUTES, true, others, others]);
    // The kept routes are the first seen, one request each; the other group's max is exact though sampled.
    assert.deepEqual(
      s.routes
        .slice(0, -1)
        .map((r) => r.label)
        .sort(),
      Array.from({ length: core.MAX_ROUTES }, (_, i) => `GET api.example:8080/svc/${word(i)}/view`).sort(),
    );
    assert.equal(other.times.total.max, 15);
    assert.ok(other.times.total.sampled > 0 && other.times.total.sampled < others, String(other.times.total.sampled));

    const diff = await capped(['diff', file, file]);
    assert.equal(diff.code, 0, `diff: ${diff.signal ?? ''} ${diff.stderr}`);
    assert.match(
      diff.stdout,
      new RegExp(
        `^other routes: ${others} requests in \\S+ and ${others} in \\S+ on routes after the first 10,000 of each, counted together, not compared$`,
        'm',
      ),
    );
    assert.match(diff.stdout, /^No notable change: every route in both is within the noise$/m);
    assert.match(diff.stdout, /^ {2}10000 routes with fewer than 8 requests in one trace: too few to tell$/m);
    console.log(
      `# ${ROUTES} routes, heap ${HEAP_MB} MB: show ${show.s.toFixed(1)} s, --summary --json ${summary.s.toFixed(1)} s, diff ${diff.s.toFixed(1)} s`,
    );
  },
);

test('the builder keeps MAX_ROUTES routes of each kind; later ones, and the calls to them, count as other routes', () => {
  const b = new core.SummaryBuilder();
  const n = core.MAX_ROUTES + 50;
  for (let i = 0; i < n; i++)
    b.addIncoming({
      traceID: `in-${i}`,
      pid: 1,
      server: 'http',
      reqMethod: 'GET',
      reqURL: `http://me/p/${word(i)}`,
      reqRecvAt: i,
      reqEndAt: i + 2,
      respStatusCode: 200,
    });
  for (let i = 0; i < n; i++) {
    const at = i;
    b.addRequest({
      traceID: `r${i}`,
      pid: 1,
      client: 'http',
      reqMethod: i % 2 ? 'get' : 'GET',
      reqURL: `http://api/q/${word(i)}`,
      reqStartAt: at,
      reqSentAt: at,
      respRecvAt: at + 1,
      respDoneAt: at + 2,
      respStatusCode: i < n - 50 ? 200 : 503,
      causedBy: `in-${n - 1}`,
      timings: { blocked: 0, dns: -1, connect: -1, ssl: -1, send: 0, wait: 1, receive: 1 },
    });
  }
  const s = b.result();
  assert.equal(s.routes.length, core.MAX_ROUTES + 1);
  assert.deepEqual(
    [s.routes.at(-1).label, s.routes.at(-1).count, s.routes.at(-1).failed, s.routes.at(-1).status],
    [core.OTHER_ROUTES, 50, 50, { '5xx': 50 }],
  );
  assert.equal(s.routes.filter((r) => r.other).length, 1);
  assert.equal(s.servedRoutes.length, core.MAX_ROUTES + 1);
  const served = s.servedRoutes.at(-1);
  assert.deepEqual([served.label, served.count, served.other], [core.OTHER_ROUTES, 50, true]);
  // The last served request (past the cap) made every call: MAX_ROUTES route labels and one "other routes".
  assert.equal(served.calls.length, core.MAX_ROUTES + 1);
  assert.deepEqual(
    served.calls.find((c) => c.label === core.OTHER_ROUTES),
    { label: core.OTHER_ROUTES, count: 50, perRequest: 1 },
  );
  // The comparison leaves the group out of the routes and counts it.
  const diff = core.compareRoutes(b.routeSamples(), b.routeSamples());
  assert.equal(diff.routes.length, core.MAX_ROUTES);
  assert.deepEqual(diff.otherRoutes, { a: 50, b: 50 });
  assert.deepEqual([diff.added, diff.gone], [[], []]);
});
