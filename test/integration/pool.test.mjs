// covers: src/preload/http/httpPool.ts, src/preload/undici/undiciPool.ts
// Waiting for a free connection in a full pool (issue 49.12), for real: more requests at once than
// an http.Agent's maxSockets, and than an undici Agent's or Pool's connections, against a server
// that holds each response for a known time. The wait is `blocked`, from the program's call to the
// connection's assignment (the program's own account of both, ±5 ms), the pool's limit and queue
// are recorded, and the slow sentence names the pool.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { nodeBinaries, runTraced } from './harness.mjs';

const HOLD_MS = 120;
let server;
let base;
before(async () => {
  server = http.createServer((rq, res) => {
    // A body far larger than undici reads ahead of a program that does not read it.
    if (rq.url === '/big') res.end(Buffer.alloc(4 << 20));
    else setTimeout(() => res.end('ok'), HOLD_MS);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/**
 * Runs pool.mjs in `mode` with `count` requests; checks each request's wait against the program's
 * account, ±5 ms. The program's marks are a tick from the hooks' (the 'socket' event after
 * onSocket, its create subscriber after the preload's): on a loaded machine a preempted process
 * can shift one by more, so a run off by more is repeated, twice at most (the rest is checked each time).
 */
async function check(bin, mode, count, limit, limitBy, client, story) {
  const runs = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const run = await checkOnce(bin, mode, count, limit, limitBy, client, story);
    if (run.late.length === 0) return run.worst;
    runs.push(run.late.join('\n'));
  }
  assert.fail(`more than 5 ms off in each of 3 runs:\n${runs.join('\nthen:\n')}`);
}

async function checkOnce(bin, mode, count, limit, limitBy, client, story) {
  const { code, trace, stderr, stdout } = await runTraced(bin, 'pool.mjs', {
    env: { NT_BASE: base },
    args: [mode, String(count)],
    cliArgs: ['--slow', '300'],
  });
  assert.equal(code, 0, stderr);
  const seen = JSON.parse(stdout);
  const reqs = trace.httpRequests.filter((r) => r.reqMethod === 'GET' && new URL(r.reqURL).pathname.startsWith(`/${mode}/`));
  assert.equal(reqs.length, count);
  let worst = 0;
  const late = [];
  for (const r of reqs) {
    const path = new URL(r.reqURL).pathname;
    const i = Number(path.split('/').pop());
    assert.equal(r.client, client, path);
    assert.equal(r.respStatusCode, 200, path);
    if (i < limit) {
      // Got a connection at once (a new one): no wait in the pool.
      assert.equal(r.pool, undefined, `${path} did not wait`);
      continue;
    }
    assert.deepEqual(r.pool, { limitBy, limit, waiting: i - limit + 1 }, `${path}: the pool when it joined the queue`);
    assert.equal(r.reusedConn, true, path);
    const waited = seen[path].assignedAt - seen[path].callAt;
    const off = Math.abs(r.timings.blocked - waited);
    worst = Math.max(worst, off);
    if (off > 5) late.push(`${path}: blocked ${r.timings.blocked} ms, the program waited ${waited.toFixed(3)} ms`);
    assert.ok(Math.abs(r.connAssignedAt - r.reqStartAt - r.timings.blocked) < 0.01, `${path}: blocked is reqStartAt → connAssignedAt`);
    // The server held each response HOLD_MS: the i-th waited for (i / limit) rounds of it.
    assert.ok(r.timings.blocked >= Math.floor(i / limit) * HOLD_MS * 0.9, `${path}: blocked ${r.timings.blocked} ms`);
    assert.ok(r.timings.send < r.timings.blocked, `${path}: the wait is not the upload (send ${r.timings.send} ms)`);
  }
  const last = reqs.find((r) => r.reqURL.endsWith(`/${mode}/${count - 1}`));
  assert.match(
    last.diagnosis ?? '',
    new RegExp(`^waited \\d+ ms for a free connection \\(\\d+% of \\d+ ms\\): ${story}, ${count - limit} requests were waiting`),
    last.diagnosis,
  );
  return { worst, late };
}

const worstOff = [];
for (const { label, bin } of nodeBinaries()) {
  describe(label, () => {
    test('an http.Agent at maxSockets: the wait for a free socket is blocked', async () => {
      const host = new URL(base).host;
      worstOff.push(await check(bin, 'http', 12, 4, 'maxSockets', 'http', `the agent allows 4 sockets to ${host.replace(/\./g, '\\.')}`));
    });
    test('an undici Agent at connections, undici.request: the wait is blocked, from the call', async () => {
      worstOff.push(
        await check(bin, 'undici-request', 8, 2, 'connections', 'undici', 'the pool allows 2 connections to 127\\.0\\.0\\.1:\\d+'),
      );
    });
    test('an undici Agent at connections, undici.fetch: the wait is blocked, from the call', async () => {
      worstOff.push(
        await check(bin, 'undici-fetch', 8, 2, 'connections', 'undici', 'the pool allows 2 connections to 127\\.0\\.0\\.1:\\d+'),
      );
    });
    for (const which of ['undici', 'global']) {
      test(`${which} fetch behind an unread body on a one-connection pool: the program's timeout, what held the connection`, async () => {
        const { code, trace, stderr, stdout } = await runTraced(bin, 'pool-unread.mjs', { env: { NT_BASE: base }, args: [which] });
        assert.equal(code, 0, stderr);
        assert.match(stdout, /^TimeoutError after \d+ ms$/m, 'the program saw its own timeout');
        const small = trace.httpRequests.find((r) => r.reqURL === `${base}/small`);
        assert.equal(small.client, which === 'global' ? 'fetch' : 'undici');
        assert.equal(small.reqError.name, 'TimeoutError', JSON.stringify(small.reqError));
        assert.equal(small.reqError.timedOut, true);
        assert.equal(small.reqError.aborted, undefined, 'a timeout is not an abort');
        assert.notEqual(small.reqError.code, 'UND_ERR_DESTROYED');
        assert.deepEqual(small.pool, { limitBy: 'connections', limit: 1, waiting: 1 });
        assert.equal(small.connAssignedAt, undefined, 'it never got the connection');
        // The program's own clock runs from just before its 1500 ms signal; the request starts a
        // little after it (on a busy machine up to a few hundred ms: fetch's first call loads undici).
        const programMs = Number(/^TimeoutError after (\d+) ms$/m.exec(stdout)[1]);
        const waited = small.reqEndAt - small.reqStartAt;
        assert.ok(programMs >= 1500 && programMs < 2500, `the program's timeout after ${programMs} ms`);
        assert.ok(
          waited <= programMs + 5 && waited >= programMs - 400,
          `waited ${waited} ms; the program ${programMs} ms for its 1500 ms timeout`,
        );
        assert.equal(small.timings.blocked, Math.round(waited * 1000) / 1000);
        const origin = base.replace('http://', '').replace(/\./g, '\\.');
        assert.match(
          small.diagnosis,
          new RegExp(
            `^timed out after \\d+ ms while waiting for a free connection \\(the pool allows 1 connection to ${origin}, 1 request was waiting\\); ` +
              `the connection was held by GET http://${origin}/big, whose response body was not read to its end \\(\\d+ bytes arrived\\)$`,
          ),
        );
      });
    }
    test('an undici Pool at connections: the wait is blocked, from the call', async () => {
      worstOff.push(await check(bin, 'pool', 8, 2, 'connections', 'undici', 'the pool allows 2 connections to 127\\.0\\.0\\.1:\\d+'));
    });
  });
}
after(() => {
  if (worstOff.length) console.log(`# pool waits: blocked within ${Math.max(...worstOff).toFixed(3)} ms of the program's account`);
});
