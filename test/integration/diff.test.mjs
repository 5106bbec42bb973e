// `nettrace diff` (issue 53): the same workload run twice under `nettrace run`, the second time
// against a server that adds 150 ms to one route and closes connections idle for 1 s. The diff
// names that route and its phase (the server's wait) and the lost connection reuse, and nothing
// else as notable; each sentence's numbers are checked against the two trace files themselves.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { apps, cli, root, run } from './harness.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nettrace-diff-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A server of three routes; `slowUsersMs` added to /users/:id; `keepAliveMs` its idle-connection timeout. */
async function serve({ slowUsersMs, keepAliveMs, port = 0 }) {
  const server = http.createServer((req, res) => {
    const delay = req.url.startsWith('/users/') ? slowUsersMs : 0;
    setTimeout(() => res.end(JSON.stringify({ url: req.url })), delay);
  });
  server.keepAliveTimeout = keepAliveMs;
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return server;
}

async function traceWorkload(name, serverOptions) {
  const server = await serve(serverOptions);
  const out = join(dir, `${name}.json`);
  try {
    const r = await run(
      process.execPath,
      [cli, 'run', '--helper', 'off', '--quiet', '--out', out, '--', process.execPath, join(apps, 'diff-workload.cjs')],
      {
        env: { NT_TARGET: `http://127.0.0.1:${server.address().port}`, NT_ROUNDS: '12', NT_GAP_MS: '1300' },
        timeoutMs: 120000,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const { statuses } = JSON.parse(r.stdout.trim().split('\n').at(-1));
    assert.deepEqual(new Set(statuses), new Set([200]), 'every call answered');
  } finally {
    server.closeAllConnections?.();
    await new Promise((r) => server.close(r));
  }
  return out;
}

/** Nearest-rank percentile by counting. */
function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.find((v) => values.filter((x) => x <= v).length * 100 >= p * values.length);
}

const fmt = (ms) => (ms < 10 ? String(Math.round(ms * 10) / 10) : String(Math.round(ms)));

test('diff of two runs names the slowed route, its phase and the lost reuse, and nothing else', { timeout: 240000 }, async () => {
  // Both runs call the same host:port, as a program run twice against its dev server does.
  const free = await serve({});
  const port = free.address().port;
  await new Promise((r) => free.close(r));
  const a = await traceWorkload('before', { slowUsersMs: 0, keepAliveMs: 30000, port });
  const b = await traceWorkload('after', { slowUsersMs: 150, keepAliveMs: 1000, port });
  const json = await run(process.execPath, [cli, 'diff', '--json', a, b]);
  assert.equal(json.code, 0, json.stderr);
  const diff = JSON.parse(json.stdout);
  assert.deepEqual([diff.added, diff.gone], [[], []]);
  assert.equal(diff.routes.length, 3);
  const [users, ...others] = diff.routes;
  assert.match(users.label, /^GET 127\.0\.0\.1:\d+\/users\/:id$/, 'the changed route first');
  assert.equal(users.inferred, true);
  // The slowed route: its total and its wait are notable, no other phase.
  const notable = (c) => c.measures.filter((m) => m.verdict === 'notable').map((m) => m.measure);
  assert.deepEqual(notable(users), ['total', 'wait']);
  // Every route lost its reuse (a new connection each round); the others' times are noise.
  for (const c of diff.routes) {
    assert.equal(c.reuse.verdict, 'notable', c.label);
    assert.ok(c.reuse.a >= 0.9 && c.reuse.b === 0, `${c.label}: ${c.reuse.a} → ${c.reuse.b}`);
    assert.equal(c.errorRate.verdict, 'noise', c.label);
  }
  for (const c of others) {
    assert.match(c.label, /^GET 127\.0\.0\.1:\d+\/(items\/:id|health)$/);
    assert.deepEqual(notable(c), [], `${c.label}: ${JSON.stringify(c.measures.filter((m) => m.verdict === 'notable'))}`);
  }

  // Each sentence against the trace files: the percentiles of the wait and the total, the reuse rates.
  const enriched = (file) => core.enrichTrace(JSON.parse(readFileSync(file, 'utf8'))).httpRequests;
  const [ra, rb] = [enriched(a), enriched(b)];
  const of = (reqs, path) => reqs.filter((r) => new URL(r.reqURL).pathname.startsWith(path));
  const reused = (reqs) => `${Math.round((reqs.filter((r) => r.reusedConn).length / reqs.length) * 100)}%`;
  const s = users.sentence;
  const m =
    /^GET 127\.0\.0\.1:\d+\/users\/:id (p50|p95) \+(\S+) ms \((\S+) → (\S+) ms\): the server's first-byte wait \(\+(\S+) ms\); connections reused (\d+%) → 0% \(a new connection per request: keep-alive stopped\)$/.exec(
      s,
    );
  assert.ok(m, s);
  const p = Number(m[1].slice(1));
  const ua = of(ra, '/users/');
  const ub = of(rb, '/users/');
  const totalA = percentile(
    ua.map((r) => core.totalTime(r.timings)),
    p,
  );
  const totalB = percentile(
    ub.map((r) => core.totalTime(r.timings)),
    p,
  );
  const waitA = percentile(
    ua.map((r) => r.timings.wait),
    p,
  );
  const waitB = percentile(
    ub.map((r) => r.timings.wait),
    p,
  );
  assert.deepEqual([m[2], m[3], m[4], m[5], m[6]], [fmt(totalB - totalA), fmt(totalA), fmt(totalB), fmt(waitB - waitA), reused(ua)]);
  assert.ok(waitB - waitA >= 140 && waitB - waitA < 200, `the wait moved by ${waitB - waitA} ms`);
  for (const c of others) {
    const path = c.label.includes('/health') ? '/health' : '/items/';
    assert.equal(
      c.sentence,
      `${c.label}: connections reused ${reused(of(ra, path))} → 0% (a new connection per request: keep-alive stopped)`,
    );
  }

  // The text names the same, route first.
  const text = await run(process.execPath, [cli, 'diff', a, b]);
  assert.equal(text.code, 0, text.stderr);
  const lines = text.stdout.split('\n');
  const at = lines.indexOf('What changed');
  assert.ok(at > 0, text.stdout);
  assert.deepEqual(
    lines.slice(at + 1, at + 4),
    diff.routes.map((c) => `  ${c.sentence}`),
  );
});
