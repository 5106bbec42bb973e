// The panel for servers (issue 37 item 3): incoming requests reach the webview's model from
// snapshots and batches, and the filter's `is:incoming` and `caused-by:` terms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleTs } from '../lib/bundleTs.mjs';

const w = bundleTs(["export * from './webview/model';", "export * from './webview/filterQuery';"]);

const inc = (n, extra = {}) => ({
  traceID: `in-${n}`,
  pid: 7,
  server: 'http',
  reqMethod: 'POST',
  reqURL: `http://gw.local:3000/checkout/${n}?x=1`,
  reqRecvAt: 10 * n,
  ...extra,
});
const call = (n, causedBy, extra = {}) => ({
  traceID: `r${n}`,
  pid: 7,
  client: 'fetch',
  reqMethod: 'GET',
  reqURL: `http://svc.local/item/${n}`,
  reqStartAt: n,
  ...(causedBy ? { causedBy } : {}),
  ...extra,
});
const snap = (httpRequests, incomingRequests) => ({
  description: 't',
  traceBeginAt: '2026-11-25T00:00:00Z',
  httpRequests,
  dials: [],
  tcpConns: [],
  tlsTunnels: [],
  ...(incomingRequests ? { incomingRequests } : {}),
});
const ids = (m) => m.view.map((r) => r.req.traceID);

test('incoming requests arrive from a snapshot and from batches; a damaged one is dropped', () => {
  const m = new w.TraceModel();
  m.reset(snap([call(1, 'in-1'), call(2)], [inc(1), { traceID: 5 }]), true);
  assert.deepEqual([...m.incoming.keys()], ['in-1']);
  assert.deepEqual(
    m.callsOf('in-1').map((r) => r.req.traceID),
    ['r1'],
  );
  m.apply({ incomingRequests: [inc(2), inc(1, { respStatusCode: 201 })], httpRequests: [call(3, 'in-2')] });
  assert.deepEqual([...m.incoming.keys()].sort(), ['in-1', 'in-2']);
  assert.equal(m.incoming.get('in-1').respStatusCode, 201);
  assert.deepEqual(
    m.callsOf('in-2').map((r) => r.req.traceID),
    ['r3'],
  );
  m.reset(snap([call(1)]), false);
  assert.equal(m.incoming.size, 0);
});

test('is:incoming keeps the calls made while serving a request; -is:incoming the others', () => {
  const m = new w.TraceModel();
  m.reset(snap([call(1, 'in-1'), call(2), call(3, 'in-2')], [inc(1), inc(2)]), false);
  m.setFilter({ ...w.NO_FILTER, text: 'is:incoming' });
  assert.deepEqual(ids(m), ['r1', 'r3']);
  m.setFilter({ ...w.NO_FILTER, text: '-is:incoming' });
  assert.deepEqual(ids(m), ['r2']);
});

test('caused-by: matches the incoming request by id, route, path or method and path', () => {
  const m = new w.TraceModel();
  m.reset(
    snap(
      [call(1, 'in-1'), call(2), call(3, 'in-2'), call(4, 'in-3')],
      [inc(1, { route: '/checkout/:id' }), inc(2), inc(3, { reqMethod: 'GET' })],
    ),
    false,
  );
  const sel = (text) => {
    m.setFilter({ ...w.NO_FILTER, text });
    assert.deepEqual(m.filterErrors, []);
    return ids(m);
  };
  assert.deepEqual(sel('caused-by:in-2'), ['r3']);
  assert.deepEqual(sel('caused-by:/checkout/:id'), ['r1']);
  assert.deepEqual(sel('caused-by:/checkout/2'), ['r3']);
  assert.deepEqual(sel('caused-by:"get /checkout/3"'), ['r4']);
  assert.deepEqual(sel('caused-by:"post /checkout/3"'), []);
  assert.deepEqual(sel('-caused-by:/checkout/:id'), ['r2', 'r3', 'r4']);
  m.setFilter({ ...w.NO_FILTER, text: 'caused-by:' });
  assert.equal(m.filterErrors.length, 1);
});

test('a route learnt in a later batch re-filters the calls already shown', () => {
  const m = new w.TraceModel();
  m.reset(snap([call(1, 'in-1')], [inc(1)]), true);
  m.setFilter({ ...w.NO_FILTER, text: 'caused-by:/users/:id' });
  assert.deepEqual(ids(m), []);
  const r = m.apply({ incomingRequests: [inc(1, { route: '/users/:id' })] });
  assert.equal(r.viewChanged, true);
  assert.deepEqual(ids(m), ['r1']);
});

test('the filter offers is:incoming and caused-by:', () => {
  assert.ok(w.IS_VALUES.includes('incoming'));
  assert.deepEqual(
    w.suggest('caus', 4, new Map()).map((s) => s.text),
    ['caused-by:'],
  );
});
