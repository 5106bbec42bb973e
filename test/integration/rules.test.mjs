// covers: src/preload/rules/, src/collector/rules.ts
// needs: the build (dist/core.cjs, dist/preload.cjs)
// Trace rules in the preload's hooks (docs/rules.md): `skip` leaves no record, `mark` tags the
// record, a condition on the end decides what is kept, and the counters saved in `traceRules` are
// exact, over http, https, fetch, undici and http2, in a child process and a worker thread; a
// rule created through the collector while a program runs acts on its later requests (and on a
// worker it starts afterwards).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { caFile, startServers } from './servers.mjs';
import { apps, root, runTraced } from './harness.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const preload = join(root, 'dist', 'preload.cjs');

let servers;
before(async () => {
  servers = await startServers();
});
after(() => servers.close());

const CLIENTS = ['http', 'https', 'fetch', 'undici', 'http2', 'child', 'worker-fetch', 'worker'];

/** The requests of one client (`c=` in the query) whose path is `path`. */
function of(trace, client, path) {
  return trace.httpRequests.filter((r) => {
    const u = new URL(r.reqURL);
    return (
      u.searchParams.get('c') === client &&
      u.pathname === path.split('?')[0] &&
      (!path.includes('?') || u.search.includes(path.split('?')[1]))
    );
  });
}

// Twice: a fetch is decided whole in the fetch() wrapper unless a rule reads a request header
// (undici adds some only later); then only its break rules are, and the rest at undici's request.
for (const [label, first] of [
  ['', []],
  [" (a rule reads a header: fetch decided at undici's request)", ['--rule', 'never: skip header.x-never == "1"']],
]) {
  test(`skip, mark and an end condition on every client, in a child process and a worker; counters exact${label}`, async () => {
    const { code, stdout, stderr, trace } = await runTraced(process.execPath, 'rules.cjs', {
      env: { NT_URLS: JSON.stringify(servers.urls), NODE_EXTRA_CA_CERTS: caFile },
      cliArgs: [
        ...first,
        '--rule',
        'no-skip: skip path == "/skip"',
        '--rule',
        'tag-mark: mark tag=marked path == "/mark"',
        '--rule',
        'ok-status: skip path == "/status" and statusClass == 2xx',
      ],
    });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /done 0/);
    assert.ok(trace, 'a trace was written');
    const clientOf = (r) => new URL(r.reqURL).searchParams.get('c');
    for (const c of CLIENTS) {
      assert.equal(of(trace, c, '/keep').length, 1, `${c}: /keep recorded`);
      assert.equal(of(trace, c, '/keep')[0].marks, undefined, `${c}: /keep has no marks`);
      assert.equal(of(trace, c, '/skip').length, 0, `${c}: /skip not recorded`);
      const marked = of(trace, c, '/mark');
      assert.equal(marked.length, 1, `${c}: /mark recorded`);
      assert.deepEqual(marked[0].marks, ['marked'], `${c}: /mark tagged`);
      assert.equal(of(trace, c, '/status?code=200').length, 0, `${c}: a 200 from /status dropped at its end`);
      const failed = of(trace, c, '/status?code=500');
      assert.equal(failed.length, 1, `${c}: a 500 from /status kept`);
      assert.equal(failed[0].respStatusCode, 500);
    }
    assert.deepEqual(
      trace.httpRequests.map(clientOf).filter((c) => !CLIENTS.includes(c)),
      [],
      'no other request',
    );
    assert.equal(trace.httpRequests.length, CLIENTS.length * 3);
    // The worker and the child ran the rules too: their records carry their own pid / threadId.
    const worker = of(trace, 'worker', '/keep')[0];
    assert.ok(worker.threadId > 0, 'the worker request comes from a worker thread');
    assert.notEqual(of(trace, 'child', '/keep')[0].pid, of(trace, 'http', '/keep')[0].pid);
    const counts = Object.fromEntries(trace.traceRules.rules.map((r) => [r.id, [r.matched, r.acted]]));
    const n = CLIENTS.length;
    // ok-status is read for every request not skipped above it that reaches the end: /keep, /mark
    // and both /status requests are evaluated at the start (false for the first two), the /status
    // ones at their end; it matches (and acts on) the 200s only.
    assert.deepEqual(counts, { ...(first.length ? { never: [0, 0] } : {}), 'no-skip': [n, n], 'tag-mark': [n, n], 'ok-status': [n, n] });
  });
}

test('a rule created through the collector while the program runs acts on its later requests and a worker started after', async () => {
  const collector = await core.startCollector({ description: 'rules live' });
  const env = core.buildPreloadEnv(
    { ...process.env, NT_URLS: JSON.stringify(servers.urls), NT_STEP: '1' },
    { preloadPath: preload, config: { ipcPath: collector.ipcPath, ...collector.session.rules.preloadConfig() } },
  );
  const child = spawn(process.execPath, [join(apps, 'rules.cjs')], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  const rounds = [];
  child.stdout.on('data', (d) => {
    stdout += d;
    for (const w of rounds.splice(0)) if (!w()) rounds.push(w);
  });
  const round = (n) =>
    new Promise((resolve) => {
      const check = () => stdout.includes(`round ${n}\n`) && (resolve(), true);
      child.stdin.write('go\n');
      if (!check()) rounds.push(check);
    });
  const rules = collector.session.rules;
  const until = async (pred, what, ms = 10000) => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  try {
    await round(1);
    rules.create({ id: 'late-skip', condition: 'path == "/skip" or path == "/worker"', action: 'skip', enabled: true });
    await until(() => rules.behind() === 0, 'the process to apply the new set');
    await round(2);
    rules.disable('late-skip');
    await until(() => rules.behind() === 0, 'the process to apply the disabled set');
    await round(3);
    child.stdin.end();
    await new Promise((r) => child.once('close', r));
    assert.ok(await collector.waitForIdle({ timeoutMs: 10_000 }));
    const trace = collector.session.snapshot();
    const urls = trace.httpRequests
      .map((r) => new URL(r.reqURL))
      .map((u) => u.pathname + u.search)
      .sort();
    assert.deepEqual(urls, ['/keep?n=1', '/keep?n=2', '/keep?n=3', '/skip?n=1', '/skip?n=3', '/worker?n=1', '/worker?n=3']);
    const late = trace.traceRules.rules.find((r) => r.id === 'late-skip');
    assert.equal(late.enabled, false);
    assert.deepEqual([late.matched, late.acted], [2, 2], 'the skip in the process and the one in its new worker');
  } finally {
    child.kill();
    await collector.close();
  }
});

// Two rule sets: trace and skip rules without limits, whose counts the fetch() wrapper takes first
// and takes back when the call makes no request (the URL is checked only then); and the same with
// a limit, which makes the wrapper check the URL before it asks the rules.
for (const [label, rest] of [
  ['counted first, taken back', 'rest: skip true'],
  ['checked first', 'rest: skip limit=50 true'],
]) {
  test(`fetch() calls the rules decide at the call (${label}): no request, no count; the method as fetch normalizes it; the URL read only when a rule asks`, async () => {
    const { code, stdout, stderr, trace } = await runTraced(process.execPath, 'rulesFetchCalls.cjs', {
      env: { NT_URLS: JSON.stringify(servers.urls) },
      cliArgs: [
        '--rule',
        'keep-posts: trace method == "POST"',
        '--rule',
        'keep-puts: trace method == "PUT"',
        '--rule',
        'keep-upper: trace path == "/keep" and method == "GET"',
        '--rule',
        rest,
      ],
    });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^done$/m);
    assert.doesNotMatch(stdout, /unexpected|failed/);
    assert.ok(trace, 'a trace was written');
    const got = trace.httpRequests.map((r) => `${r.reqMethod} ${new URL(r.reqURL).search}`).sort();
    assert.deepEqual(got, ['GET ?c=upper', 'POST ?c=post', 'PUT ?c=put']);
    const counts = Object.fromEntries(trace.traceRules.rules.map((r) => [r.id, [r.matched, r.acted]]));
    // Four requests were made (the data: URL and the five that do not parse made none).
    assert.deepEqual(counts, { 'keep-posts': [1, 1], 'keep-puts': [1, 1], 'keep-upper': [1, 1], rest: [1, 1] });
  });
}
