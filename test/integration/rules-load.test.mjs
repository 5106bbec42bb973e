// covers: src/preload/rules/preloadRules.ts, src/rules/engine.ts
// needs: the build (dist/core.cjs, dist/preload.cjs)
// Trace rules under load (issue 16's acceptance): limits are per process (a parent, its child
// process and its worker thread each act on `limit` requests), and enabling, disabling, deleting
// and editing rules while 200 requests are in flight loses no request and leaves the counters
// exact (matched + not matched = 200, acted = min(matched, limit)), over http and fetch.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { apps, root, runTraced } from './harness.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const preload = join(root, 'dist', 'preload.cjs');

/** /hold/NAME?code=C is answered (with C) only once release(NAME) is called; anything else at once. */
let server;
let base;
const held = new Map();
before(async () => {
  server = createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    req.resume();
    const answer = () => {
      res.writeHead(Number(u.searchParams.get('code') ?? 200), { 'content-type': 'text/plain' });
      res.end('ok');
    };
    const m = /^\/hold\/(\w+)$/.exec(u.pathname);
    if (!m) return answer();
    const h = held.get(m[1]) ?? { waiting: [], released: false };
    held.set(m[1], h);
    if (h.released) answer();
    else h.waiting.push(answer);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const heldCount = (name) => held.get(name)?.waiting.length ?? 0;
function release(name) {
  const h = held.get(name);
  h.released = true;
  for (const answer of h.waiting.splice(0)) answer();
}
async function until(pred, what, ms = 20_000) {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
const urlOf = (r) => new URL(r.reqURL);

test('limits act per process: in the parent, a child process and a worker thread, over http and fetch', async () => {
  const { code, stdout, stderr, trace } = await runTraced(process.execPath, 'rulesLoad.cjs', {
    env: { NT_BASE: base, NT_MODE: 'limits' },
    cliArgs: ['--rule', 'lim-mark: mark tag=lim limit=10 path == "/lim"', '--rule', 'lim-skip: skip limit=5 path == "/limskip"'],
  });
  assert.equal(code, 0, stderr);
  assert.match(stdout, /limits done/);
  for (const who of ['parent', 'child', 'worker']) {
    const mine = trace.httpRequests.filter((r) => urlOf(r).searchParams.get('who') === who);
    const lim = mine.filter((r) => urlOf(r).pathname === '/lim');
    assert.equal(lim.length, 30, `${who}: every /lim request recorded`);
    const marked = lim.filter((r) => r.marks?.includes('lim'));
    assert.equal(marked.length, 10, `${who}: the mark rule acted on 10 of its requests`);
    // The first 10 in the order they started (one after the other): the limit is not shared.
    assert.deepEqual(
      marked.map((r) => Number(urlOf(r).searchParams.get('i'))).sort((a, b) => a - b),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      `${who}: the first 10 marked`,
    );
    const kept = mine.filter((r) => urlOf(r).pathname === '/limskip');
    assert.deepEqual(
      kept.map((r) => Number(urlOf(r).searchParams.get('i'))).sort((a, b) => a - b),
      Array.from({ length: 15 }, (_, k) => k + 5),
      `${who}: the first 5 /limskip skipped, the other 15 recorded`,
    );
  }
  const worker = trace.httpRequests.find((r) => urlOf(r).searchParams.get('who') === 'worker');
  assert.ok(worker.threadId > 0, 'the worker requests come from a worker thread');
  const counts = Object.fromEntries(trace.traceRules.rules.map((r) => [r.id, [r.matched, r.acted, r.limitReached]]));
  assert.deepEqual(counts, { 'lim-mark': [90, 30, true], 'lim-skip': [60, 15, true] });
});

test('enable, disable, delete and edit rules while 200 requests are in flight: none lost, counters exact', async () => {
  const collector = await core.startCollector({ description: 'rules under load' });
  const rules = collector.session.rules;
  // Phase a: two rules decided at the end, a limit edited in flight, a start rule enabled in flight.
  rules.create({ id: 'ok-mark', condition: 'path == "/hold/a" and status == 200', action: 'mark', tag: 'ok', limit: 50, enabled: true });
  rules.create({ id: 'drop-5xx', condition: 'path == "/hold/a" and statusClass == 5xx', action: 'skip', limit: 30, enabled: true });
  rules.create({ id: 'late-on', condition: 'path == "/hold/a"', action: 'mark', tag: 'late' });
  // Phase b: disabled in flight; phase c: deleted in flight.
  rules.create({ id: 'off-b', condition: 'path == "/hold/b" and status == 200', action: 'mark', tag: 'b', enabled: true });
  rules.create({ id: 'gone-c', condition: 'path == "/hold/c" and status == 200', action: 'mark', tag: 'c', enabled: true });
  const env = core.buildPreloadEnv(
    { ...process.env, NT_BASE: base, NT_MODE: 'flight' },
    { preloadPath: preload, config: { ipcPath: collector.ipcPath, ...rules.preloadConfig() } },
  );
  const child = spawn(process.execPath, [join(apps, 'rulesLoad.cjs')], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d) => (stdout += d));
  const phase = async (name, change) => {
    child.stdin.write(`go ${name}\n`);
    await until(() => heldCount(name) === 200, `200 requests of ${name} in flight`);
    change();
    await until(() => rules.behind() === 0, 'the process to apply the change');
    release(name);
    await until(() => new RegExp(`done ${name} \\d+ \\d+\\n`).test(stdout), `the requests of ${name} to end`);
    assert.match(stdout, new RegExp(`done ${name} 200 0\\n`), `${name}: all 200 requests succeeded`);
  };
  try {
    await phase('a', () => {
      rules.update('ok-mark', { limit: 40 });
      rules.enable('late-on');
    });
    await phase('b', () => rules.disable('off-b'));
    await phase('c', () => rules.delete('gone-c'));
    child.stdin.end();
    await new Promise((r) => child.once('close', r));
    assert.ok(await collector.waitForIdle({ timeoutMs: 10_000 }));
    const trace = collector.session.snapshot();
    const of = (name) => trace.httpRequests.filter((r) => urlOf(r).pathname === `/hold/${name}`);
    const counters = Object.fromEntries(trace.traceRules.rules.map((r) => [r.id, r]));

    // a: 100 answered 200, 100 answered 500. ok-mark matched the 200s and, its limit lowered to
    // 40 in flight, acted on 40; drop-5xx matched the 500s and dropped 30 of them; late-on,
    // enabled after they started, acted on none.
    const a = of('a');
    const ok = a.filter((r) => r.respStatusCode === 200);
    const failed = a.filter((r) => r.respStatusCode === 500);
    assert.equal(ok.length, 100, 'a: every 200 kept');
    assert.equal(failed.length, 70, 'a: 30 of the 500s dropped, 70 kept');
    assert.equal(a.length, 170, 'a: no other record');
    assert.equal(ok.filter((r) => r.marks?.includes('ok')).length, 40, 'a: 40 marked ok');
    assert.equal(a.filter((r) => r.marks?.includes('late')).length, 0, 'a: a rule enabled in flight does not act on them');
    const okMark = counters['ok-mark'];
    const drop = counters['drop-5xx'];
    assert.deepEqual([okMark.matched, okMark.acted, okMark.limitReached], [100, 40, true]);
    assert.deepEqual([drop.matched, drop.acted, drop.limitReached], [100, 30, true]);
    assert.equal(okMark.matched + drop.matched, 200, 'a: matched + not matched = 200 for each end rule');
    assert.deepEqual([counters['late-on'].matched, counters['late-on'].acted], [0, 0]);
    for (const name of ['a', 'b', 'c']) {
      const ids = new Set(
        trace.httpRequests.filter((r) => urlOf(r).pathname === `/hold/${name}`).map((r) => urlOf(r).searchParams.get('i')),
      );
      assert.equal(ids.size, of(name).length, `${name}: no request recorded twice`);
    }

    // b: disabled while in flight: the undecided rule no longer acts; all 200 recorded.
    assert.equal(of('b').length, 200, 'b: every request recorded');
    assert.equal(of('b').filter((r) => r.marks !== undefined).length, 0, 'b: none marked');
    assert.deepEqual([counters['off-b'].matched, counters['off-b'].acted, counters['off-b'].enabled], [0, 0, false]);

    // c: deleted while in flight: likewise, and it is gone from the saved rules.
    assert.equal(of('c').length, 200, 'c: every request recorded');
    assert.equal(of('c').filter((r) => r.marks !== undefined).length, 0, 'c: none marked');
    assert.equal(counters['gone-c'], undefined);
  } finally {
    child.kill();
    await collector.close();
  }
});
