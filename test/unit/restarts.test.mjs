// covers: src/trace/builder/processes.ts
// needs: the build (dist/core.cjs)
// Restarts (src/trace/builder/processes.ts markRestart, through the collector's TraceBuilder): a process
// started again by the same parent with the same command line and directory after the earlier
// one ended is marked `restart` n with `restartOf`, its requests and worker threads too; processes
// running side by side, or with another command line or parent, are not restarts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { TraceBuilder } = createRequire(import.meta.url)('../../dist/core.cjs');

const BEGIN = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms) => BEGIN + ms;
const hello = (pid, startMs, { ppid = 100, argv = ['node', '/app/server.js'], threadId = 0 } = {}) => ({
  type: 'hello',
  pid,
  ppid,
  threadId,
  argv,
  nodeVersion: 'v26.0.0',
  cwd: '/app',
  startAt: at(startMs),
});
const request = (id) => ({
  type: 'record',
  kind: 'httpRequests',
  id,
  fields: { client: 'fetch', reqMethod: 'GET', reqURL: `http://api/${id}` },
});

function start(b, msg) {
  const c = b.openConnection();
  b.apply(c, msg);
  return c;
}

test('a process started again after the earlier one ended is a restart; its requests and workers are marked', () => {
  const b = new TraceBuilder({ description: 'node --watch server.js', beginAt: new Date(BEGIN), now: () => at(9999) });
  const first = start(b, hello(201, 10));
  b.apply(first, request('r1'));
  b.closeConnection(first); // killed by node --watch (no exit message)
  const second = start(b, hello(202, 500));
  b.apply(second, request('r1'));
  const worker = start(b, hello(202, 520, { threadId: 1 }));
  b.apply(second, { type: 'exit', exitAt: at(900), exitCode: 0 }); // ended normally this time
  const third = start(b, hello(203, 1000));
  b.apply(third, request('r1'));
  const other = start(b, hello(204, 1100, { argv: ['node', '/app/other.js'] })); // another command
  const { processes, httpRequests } = b.trace;
  const byPid = (pid, threadId = 0) => processes.find((p) => p.pid === pid && p.threadId === threadId);
  assert.equal(byPid(201).restart, undefined);
  assert.deepEqual([byPid(202).restart, byPid(202).restartOf], [1, 201]);
  assert.deepEqual([byPid(202, 1).restart, byPid(202, 1).restartOf], [1, 201], 'a worker takes its process’s marks');
  assert.deepEqual([byPid(203).restart, byPid(203).restartOf], [2, 202]);
  assert.equal(byPid(204).restart, undefined);
  assert.deepEqual(
    httpRequests.map((r) => [r.pid, r.restart]),
    [
      [201, undefined],
      [202, 1],
      [203, 2],
    ],
  );
  void worker;
  void other;
});

test('processes running side by side (cluster workers) or from another parent are not restarts', () => {
  const b = new TraceBuilder({ description: 'cluster', beginAt: new Date(BEGIN), now: () => at(9999) });
  start(b, hello(301, 10));
  start(b, hello(302, 12)); // the first still runs
  const gone = start(b, hello(303, 20, { ppid: 999 }));
  b.closeConnection(gone);
  start(b, hello(304, 30, { ppid: 998 })); // same command, another parent
  assert.deepEqual(
    b.trace.processes.map((p) => p.restart),
    [undefined, undefined, undefined, undefined],
  );
});
