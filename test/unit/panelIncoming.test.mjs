// covers: webview/
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
  // A route matches as the Summary view groups served requests: the framework's template, or the
  // one inferred from the path (in-2's /checkout/2 and in-3's /checkout/3 are /checkout/:id too).
  assert.deepEqual(sel('caused-by:/checkout/:id'), ['r1', 'r3', 'r4']);
  assert.deepEqual(sel('caused-by:/checkout/2'), ['r3']);
  assert.deepEqual(sel('caused-by:"get /checkout/3"'), ['r4']);
  assert.deepEqual(sel('caused-by:"post /checkout/3"'), []);
  assert.deepEqual(sel('-caused-by:/checkout/:id'), ['r2']);
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

const g = bundleTs(["export * from './webview/model';", "export * from './webview/grouping';", "export * from './webview/listKeys';"]);
const shown = (m) =>
  m.view.map((r) =>
    r.group ? `[${r.req.traceID} ${r.group.calls}${r.group.collapsed ? ' shut' : ''}]` : `${r.depth ? '  ' : ''}${r.req.traceID}`,
  );

test('grouping puts each incoming request as a header above its calls, where its first call sorts', () => {
  const m = new g.TraceModel();
  m.reset(snap([call(1, 'in-1'), call(2), call(3, 'in-2'), call(4, 'in-1'), call(5, 'in-9')], [inc(1), inc(2)]), true);
  assert.deepEqual(shown(m), ['r1', 'r2', 'r3', 'r4', 'r5'], 'ungrouped mode unchanged');
  g.setGroupByIncoming(m, true);
  assert.deepEqual(shown(m), ['[in-1 2]', '  r1', '  r4', 'r2', '[in-2 1]', '  r3', 'r5']);
  assert.equal(m.indexOf('in-2'), 4);
  assert.equal(m.indexOf('r4'), 2);
  g.toggleGroup(m, 'in-1');
  assert.deepEqual(shown(m), ['[in-1 2 shut]', 'r2', '[in-2 1]', '  r3', 'r5']);
  assert.equal(g.toggleGroup(m, 'in-9'), false, 'a call whose incoming request is not in the trace stays ungrouped');
  m.apply({ httpRequests: [call(6, 'in-2')] });
  assert.deepEqual(shown(m), ['[in-1 2 shut]', 'r2', '[in-2 2]', '  r3', '  r6', 'r5']);
  m.setSort({ key: 'start', dir: -1 });
  assert.deepEqual(shown(m), ['[in-2 2]', '  r6', '  r3', 'r5', '[in-1 2 shut]', 'r2']);
  m.setFilter({ ...g.NO_FILTER, text: 'is:incoming' });
  assert.deepEqual(shown(m), ['[in-2 2]', '  r6', '  r3', 'r5', '[in-1 2 shut]'], 'r5: caused by a request the trace does not hold');
  m.setFilter({ ...g.NO_FILTER, text: 'caused-by:/checkout/1' });
  assert.deepEqual(shown(m), ['[in-1 2 shut]']);
  g.setGroupByIncoming(m, false);
  assert.deepEqual(shown(m), ['r4', 'r1']);
});

test('a call another traced service served has that service’s request nested under it, with its own calls', () => {
  // gateway (pid 7) in-1 → calls r1 (to service a) and r2 (to service b); a (pid 8) served r1 as
  // in-2 and called b with r3; b (pid 9) served r2 as in-3 and r3 as in-4. Linked by 4-tuple.
  const t = (port) => ({ srcIP: '127.0.0.1', srcPort: port, dstIP: '127.0.0.1', dstPort: 9000 });
  const conn = (n, port) => ({ traceID: `tcp-${n}`, pid: 7, connected: true, addrTuple: t(port) });
  const gw = inc(1, { reqRecvAt: 0, respDoneAt: 50 });
  const a = inc(2, { pid: 8, reqMethod: 'GET', reqURL: 'http://127.0.0.1:9000/a', reqRecvAt: 2, addrTuple: t(5001) });
  const b = inc(3, { pid: 9, reqMethod: 'GET', reqURL: 'http://127.0.0.1:9000/b', reqRecvAt: 21, addrTuple: t(5002) });
  const b2 = inc(4, { pid: 9, reqMethod: 'GET', reqURL: 'http://127.0.0.1:9000/c', reqRecvAt: 6, addrTuple: t(5003) });
  const calls = [
    call(1, 'in-1', { reqURL: 'http://127.0.0.1:9000/a', reqStartAt: 1, respRecvAt: 15, tcpConn: 'tcp-1' }),
    call(2, 'in-1', { reqURL: 'http://127.0.0.1:9000/b', reqStartAt: 20, respRecvAt: 30, tcpConn: 'tcp-2' }),
    call(3, 'in-2', { pid: 8, reqURL: 'http://127.0.0.1:9000/c', reqStartAt: 5, respRecvAt: 9, tcpConn: 'tcp-3' }),
  ];
  const m = new g.TraceModel();
  m.reset({ ...snap(calls, [gw, a, b, b2]), tcpConns: [conn(1, 5001), conn(2, 5002), { ...conn(3, 5003), pid: 8 }] }, true);
  g.setGroupByIncoming(m, true);
  const tree = m.view.map((r) => `${' '.repeat(r.depth ?? 0)}${r.group ? `[${r.req.traceID} ${r.group.calls}]` : r.req.traceID}`);
  assert.deepEqual(tree, ['[in-1 2]', ' r1', '  [in-2 1]', '   r3', '    [in-4 0]', ' r2', '  [in-3 0]']);
  // Collapsing a nested service hides its calls and what they reached.
  g.toggleGroup(m, 'in-2');
  assert.deepEqual(
    m.view.map((r) => r.req.traceID),
    ['in-1', 'r1', 'in-2', 'r2', 'in-3'],
  );
});

test('a link learnt from a later batch of connections alone nests the service it reached (the links are not kept from before it)', () => {
  const t = { srcIP: '127.0.0.1', srcPort: 5001, dstIP: '127.0.0.1', dstPort: 9000 };
  const m = new g.TraceModel();
  m.reset(
    snap(
      [call(1, 'in-1', { reqURL: 'http://127.0.0.1:9000/a', reqStartAt: 1, respRecvAt: 15, tcpConn: 'tcp-1' })],
      [inc(1, { reqRecvAt: 0 }), inc(2, { pid: 8, reqMethod: 'GET', reqURL: 'http://127.0.0.1:9000/a', reqRecvAt: 2, addrTuple: t })],
    ),
    true,
  );
  g.setGroupByIncoming(m, true);
  const tree = () => m.view.map((r) => `${' '.repeat(r.depth ?? 0)}${r.req.traceID}`);
  assert.deepEqual(tree(), ['in-1', ' r1'], 'in-2 made no call and is linked to none: not listed');
  m.setSort({ key: 'start', dir: 1 }); // a reshape with nothing new: the same links
  assert.deepEqual(tree(), ['in-1', ' r1']);
  m.apply({ tcpConns: [{ traceID: 'tcp-1', pid: 7, connected: true, addrTuple: t }] });
  m.setSort({ key: 'start', dir: 1 });
  assert.deepEqual(tree(), ['in-1', ' r1', '  in-2']);
});

test('a group header shows method, route (or path), status, duration and its number of calls', () => {
  const m = new g.TraceModel();
  m.reset(
    snap(
      [call(11, 'in-1'), call(12, 'in-2')],
      [inc(1, { route: '/checkout/:id', respStatusCode: 201, reqEndAt: 40 }), inc(2, { respStatusCode: 502, aborted: true })],
    ),
    false,
  );
  g.setGroupByIncoming(m, true);
  const [h1, , h2] = m.view;
  assert.equal(h1.req.reqMethod, 'POST');
  assert.equal(h1.path, '▾ /checkout/:id');
  assert.equal(h1.status, '201');
  assert.equal(h1.duration, 30);
  assert.equal(h1.host, '1 call');
  assert.equal(h2.path, '▾ /checkout/2?x=1');
  assert.equal(h2.cls, 'error', 'a request the client aborted shows as failed');
  m.apply({ incomingRequests: [inc(1, { route: '/checkout/:id', respStatusCode: 500, reqEndAt: 40 })] });
  assert.equal(m.view[0].status, '500', 'a later record of the incoming request updates its header');
  m.apply({ incomingRequests: [inc(2, { incomplete: 'process exited' })] });
  const h3 = m.view.find((r) => r.group?.incoming.traceID === 'in-2');
  assert.equal(h3.status, 'incomplete', 'still open when its program ended: no status made up');
  assert.equal(h3.failed, false);
});

test("a group header's initiator is its handler's line (the Initiator cell opens it); none without a handler", () => {
  const handler = { function: 'checkout', file: '/srv/routes.ts', line: 12, column: 5 };
  const m = new g.TraceModel();
  m.reset(snap([call(1, 'in-1'), call(2, 'in-2')], [inc(1, { handler }), inc(2)]), true);
  g.setGroupByIncoming(m, true);
  const [h1, , h2] = m.view;
  assert.equal(h1.initiator, 'routes.ts:12');
  assert.deepEqual(h1.req.initiator, { frames: [handler] });
  assert.equal(h2.initiator, '');
});

test('the list keys move the selection within the rows', () => {
  assert.equal(g.navTarget('ArrowDown', -1, 5, 3), 0);
  assert.equal(g.navTarget('ArrowDown', 4, 5, 3), 4);
  assert.equal(g.navTarget('PageDown', 1, 5, 3), 4);
  assert.equal(g.navTarget('PageUp', 1, 5, 3), 0);
  assert.equal(g.navTarget('End', 1, 5, 3), 4);
  assert.equal(g.navTarget('x', 1, 5, 3), undefined);
});

const iw = bundleTs(["export * from './webview/incomingWaterfall';"]);

test("an incoming request's waterfall: the program's time, each call's bar on its span, the diagnosis", () => {
  const gw = inc(1, { reqRecvAt: 100, respDoneAt: 1000, reqEndAt: 1000, respStatusCode: 200 });
  const calls = [
    call(1, 'in-1', { reqURL: 'https://payments.internal/charge?x=1', reqMethod: 'POST', reqStartAt: 200, reqEndAt: 1012 }),
    call(2, 'in-1', { reqURL: 'http://stock.internal/items', reqStartAt: 150, reqEndAt: 190 }),
    call(3, 'in-2', { reqStartAt: 100, reqEndAt: 900 }),
  ];
  calls[0].timings = { blocked: 0, dns: 1, connect: 10, ssl: 640, send: 1, wait: 150, receive: 10 };
  const wf = iw.incomingWaterfall(gw, calls);
  assert.equal(wf.totalMs, 900);
  assert.equal(wf.waitingMs, 840);
  assert.equal(wf.programMs, 60);
  assert.deepEqual(
    wf.bars.map((b) => [b.traceID, b.label, +b.left.toFixed(4), +b.width.toFixed(4), b.ms]),
    [
      ['r2', 'GET stock.internal/items', +(50 / 900).toFixed(4), +(40 / 900).toFixed(4), 40],
      ['r1', 'POST payments.internal/charge', +(100 / 900).toFixed(4), +(800 / 900).toFixed(4), 800],
    ],
    'only its own calls, in start order, clipped to its end',
  );
  assert.equal(wf.diagnosis, '800 of 900 ms waiting on POST payments.internal/charge, of which 640 ms TLS handshake');
  assert.equal(iw.incomingWaterfall(inc(3, { reqRecvAt: undefined }), calls), undefined);
  const idle = iw.incomingWaterfall(inc(4, { reqRecvAt: 0, reqEndAt: 50, respStatusCode: 200 }), calls);
  assert.deepEqual([idle.bars.length, idle.programMs], [0, 50]);
  assert.match(idle.diagnosis, /50 of 50 ms in the program itself \(it made no call\)/);
  const open = iw.incomingWaterfall(inc(5, { reqRecvAt: 0, reqBodyDoneAt: 2, incomplete: 'process killed' }), calls);
  assert.equal(open.diagnosis, 'never answered: the process was killed before the response was written');
});

test("a request's bar: ticks where the kernel saw its response arrive and its connection's events during it", () => {
  const k = bundleTs(["export * from './webview/rowBar';"]);
  const req = { traceID: 'r', reqStartAt: 10, reqSentAt: 12, respRecvAt: 80, respDoneAt: 90, kernelTimings: { respFirstByteAt: 30 } };
  const conn = {
    kernelEvents: [
      { kind: 'retransmit', at: 5, total: 1 },
      { kind: 'drop', at: 14, reason: 'NETFILTER_DROP', direction: 'out' },
      { kind: 'retransmit', at: 20, total: 2, rto: true },
      { kind: 'zeroWindow', at: 60, beginAt: 40, side: 'local' },
      { kind: 'dataIn', at: 30 },
      { kind: 'retransmit', at: 120, total: 3 },
    ],
  };
  const segments = [
    { phase: 'send', start: 10, end: 12 },
    { phase: 'wait', start: 12, end: 80 },
    { phase: 'receive', start: 80, end: 90 },
  ];
  assert.deepEqual(k.kernelTicks(req, conn, segments), [
    { kind: 'arrival', at: 30 },
    { kind: 'drop', at: 14 },
    { kind: 'rto', at: 20 },
    { kind: 'zero-window', at: 40, until: 60 },
  ]);
  assert.deepEqual(k.kernelTicks({ ...req, kernelTimings: undefined }, undefined, segments), []);
});
