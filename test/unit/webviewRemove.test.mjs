// covers: webview/model.ts
// The panel model's remove() (webview/model.ts): requests a trace rule dropped at their end leave
// the rows, the filtered view, the host counts and the failed count; the rows after them keep their
// order, and a later update of one of them replaces the right row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleTs } from '../lib/bundleTs.mjs';

const { TraceModel } = bundleTs(["export * from './webview/model';"]);

const req = (i, extra = {}) => ({
  traceID: `r${i}`,
  reqMethod: 'GET',
  reqURL: `https://${i % 2 ? 'a' : 'b'}.test/p${i}`,
  client: 'fetch',
  reqStartAt: i,
  respDoneAt: i + 1,
  respStatusCode: 200,
  ...extra,
});

test('remove: rows, view, host counts and failed count; later rows keep their order and their updates land', () => {
  const m = new TraceModel();
  m.reset(
    {
      description: 't',
      traceBeginAt: '2026-11-22T00:00:00.000Z',
      httpRequests: [req(0), req(1, { respStatusCode: 500 }), req(2), req(3)],
      dials: [],
      tcpConns: [],
      tlsTunnels: [],
    },
    true,
  );
  assert.equal(m.failedCount, 1);
  assert.equal(m.remove(['r1', 'missing']), 1);
  assert.equal(m.remove([]), 0);
  assert.deepEqual(
    m.rows.map((r) => [r.req.traceID, r.seq]),
    [
      ['r0', 0],
      ['r2', 1],
      ['r3', 2],
    ],
  );
  assert.deepEqual(
    m.view.map((r) => r.req.traceID),
    ['r0', 'r2', 'r3'],
  );
  assert.equal(m.failedCount, 0);
  assert.equal(m.row('r1'), undefined);
  assert.equal(m.hosts.get('a.test'), 1, 'r3 is still on a.test');
  assert.equal(m.indexOf('r1'), -1);
  m.apply({ httpRequests: [req(3, { respStatusCode: 404 })] });
  assert.equal(m.rows[2].req.respStatusCode, 404, 'the update replaced r3, not another row');
  assert.equal(m.rows.length, 3);
  m.apply({ httpRequests: [req(4)] });
  assert.deepEqual(
    m.rows.map((r) => r.seq),
    [0, 1, 2, 3],
  );
});
