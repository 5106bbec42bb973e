// covers: src/cli/demo/, src/cli/nettrace.ts
// needs: the build (dist/cli.cjs, dist/core.cjs)
// `nettrace demo`: the demo's app traced against its own local servers (no internet), its trace
// and HAR written private (0600) where asked, and the requests each step made, with the five that
// fail on purpose failed as the servers made them fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../dist/cli.cjs', import.meta.url));
const core = createRequire(import.meta.url)('../../dist/core.cjs');

test('nettrace demo writes its trace and HAR, 0600, with each step of the app and its failures', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-demo-test-'));
  try {
    const r = spawnSync(process.execPath, [cli, 'demo', '--out-dir', dir], { encoding: 'utf8', timeout: 50_000 });
    assert.equal(r.status, 0, r.stderr);
    const file = join(dir, 'nettrace-demo.json');
    const har = join(dir, 'nettrace-demo.har');
    for (const f of [file, har]) assert.equal(statSync(f).mode & 0o777, 0o600, f);
    const trace = core.enrichTrace(JSON.parse(readFileSync(file, 'utf8')));
    const reqs = trace.httpRequests;
    const path = (q) => new URL(q.reqURL).pathname;
    // The steps of src/cli/demo/app.mjs: users twice, status over https and fetch, two pages, a
    // redirect chain of three hops, a slow report, then the five failures.
    assert.deepEqual(reqs.map((q) => `${q.reqMethod} ${path(q)}`).sort(), [
      'GET /api',
      'GET /api/slow',
      'GET /api/status',
      'GET /api/status',
      'GET /api/stuck',
      'GET /api/users',
      'GET /api/users',
      'GET /api/users',
      'GET /download/big.bin',
      'GET /final',
      'GET /health',
      'GET /r/1',
      'GET /r/2',
      'GET /r/3',
      'GET /unavailable',
      'POST /api/users',
    ]);
    const failed = reqs
      .filter((q) => core.isFailed(q))
      .map(path)
      .sort();
    assert.deepEqual(failed, ['/api', '/api/stuck', '/download/big.bin', '/health', '/unavailable']);
    const by = (p) => reqs.find((q) => path(q) === p);
    assert.equal(by('/health').reqError.code, 'ECONNREFUSED');
    assert.equal(by('/api').reqError.code, 'ENOTFOUND');
    assert.equal(by('/download/big.bin').reqError.code, 'ECONNRESET');
    assert.equal(by('/unavailable').respStatusCode, 503);
    assert.match(by('/api/stuck').diagnosis, /^timed out after \d+ ms while waiting for the server's first byte/);
    assert.match(r.stdout + r.stderr, /16 requests, 5 failed/);
    assert.equal(JSON.parse(readFileSync(har, 'utf8')).log.entries.length, reqs.length);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
