// covers: src/trace/diagnosis/poolDiagnosis.ts, src/trace/derive/timings.ts
// needs: the build (dist/core.cjs)
// A request that waited for a free connection in a full pool (its `pool` and `connAssignedAt`):
// the wait is `blocked`, not `send`; the sentences name the pool.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { computeTimings, diagnose } = createRequire(import.meta.url)('../../dist/core.cjs');

const req = (f) => ({ traceID: 'req-1', pid: 1, client: 'http', reqMethod: 'GET', reqURL: 'http://127.0.0.1:38775/x', ...f });
const agentPool = { limitBy: 'maxSockets', limit: 4, waiting: 76 };

test('a reused connection after a wait in the pool: blocked runs from the call to the assignment', () => {
  const request = req({
    reqStartAt: 100,
    connAssignedAt: 960,
    reqSentAt: 960.2,
    respRecvAt: 1100,
    respDoneAt: 1121,
    reusedConn: true,
    pool: agentPool,
  });
  const t = computeTimings({ request, tcpConn: { handshakeBeginAt: 1, handshakeEndAt: 5, connected: true } });
  assert.deepEqual(t, { blocked: 860, dns: -1, connect: -1, ssl: -1, send: 0.2, wait: 139.8, receive: 21 });
  assert.equal(
    diagnose({ request }, t),
    'waited 860 ms for a free connection (84% of 1021 ms): the agent allows 4 sockets to 127.0.0.1:38775, 76 requests were waiting',
  );
});

test('without a wait, a reused connection has blocked 0 (as before)', () => {
  const t = computeTimings({ request: req({ reqStartAt: 100, reqSentAt: 101, respRecvAt: 110, respDoneAt: 111, reusedConn: true }) });
  assert.equal(t.blocked, 0);
  assert.equal(t.send, 1);
});

test('an undici pool, a total limit: each named for what it is', () => {
  const undici = req({
    client: 'undici',
    reqStartAt: 0,
    connAssignedAt: 1500,
    reqSentAt: 1501,
    respRecvAt: 1600,
    respDoneAt: 1601,
    reusedConn: true,
    pool: { limitBy: 'connections', limit: 1, waiting: 1 },
  });
  assert.match(diagnose({ request: undici }), /: the pool allows 1 connection to 127\.0\.0\.1:38775, 1 request was waiting$/);
  const total = { ...undici, client: 'http', pool: { limitBy: 'maxTotalSockets', limit: 8, waiting: 3 } };
  assert.match(diagnose({ request: total }), /: the agent allows 8 sockets in all, 3 requests were waiting$/);
});

test('timed out while still waiting in the pool: all of it blocked, the sentence says for what', () => {
  const request = req({
    client: 'fetch',
    reqStartAt: 10,
    reqEndAt: 1510,
    reqError: { message: 'The operation was aborted due to timeout', name: 'TimeoutError', timedOut: true },
    pool: { limitBy: 'connections', limit: 1, waiting: 1 },
  });
  const t = computeTimings({ request });
  assert.equal(t.blocked, 1500);
  assert.equal(
    diagnose({ request }, t),
    'timed out after 1500 ms while waiting for a free connection (the pool allows 1 connection to 127.0.0.1:38775, 1 request was waiting)',
  );
});
