// covers: src/trace/derive/kernel.ts, src/trace/enrich.ts, webview/rowBar.ts
// Where a request's time went, from the kernel's clock (issue 39, item 2): kernelTimingsOf splits
// the wait phase into network + server + program and the receive phase into on-the-wire +
// queued-in-the-socket; the parts add up to their phase; the panel's bar and Timing tab lay them
// out in time (kernelParts, kernelBands) and tick the retransmitted SYN inside the connect phase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleTs } from '../lib/bundleTs.mjs';

const k = bundleTs([
  "export * from './src/trace/derive/kernel';",
  "export { enrichTrace } from './src/trace/enrich';",
  "export { kernelBands, kernelTicks } from './webview/rowBar';",
]);

const req = { traceID: 'r', reqStartAt: 10, reqSentAt: 12, respRecvAt: 80, respDoneAt: 200 };
/** A connection whose response's first byte arrived at 30 and last at 150. */
const conn = (dataIn, tcpMetrics) => ({
  kernelEvents: [
    { kind: 'dataIn', at: 30, ...dataIn },
    { kind: 'dataEnd', at: 150 },
  ],
  tcpMetrics,
});

test('the request acknowledged 1 ms after it was sent: network 1, server the rest until the first byte, program until it was read', () => {
  const kt = k.kernelTimingsOf(req, conn({ ackedAt: 13 }, { connectLatencyUs: 1500 }));
  assert.deepEqual(kt, {
    respFirstByteAt: 30,
    respLastByteAt: 150,
    reqAckedAt: 13,
    wait: { network: 1, server: 17, program: 50 },
    receive: { wire: 70, queued: 50 },
  });
  const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
  assert.equal(sum(kt.wait), req.respRecvAt - req.reqSentAt, 'the wait parts add up to the wait phase');
  assert.equal(sum(kt.receive), req.respDoneAt - req.respRecvAt, 'the receive parts add up to the receive phase');
});

test("the next request sent within the clocks' slack of the previous response's arrival: its own arrival, not that one", () => {
  // As a loop over a fast server does: the previous response arrived 1.8 ms before this send.
  const r = { traceID: 'r', reusedConn: true, reqStartAt: 9965.3, reqSentAt: 9965.759, respRecvAt: 9994.333, respDoneAt: 9994.662 };
  const c = {
    kernelEvents: [
      { kind: 'dataIn', at: 9963.953, prevLastAt: 9936.836, ackedAt: 9963.953 },
      { kind: 'dataIn', at: 9994.005, prevLastAt: 9963.953, ackedAt: 9994.005 },
    ],
  };
  const kt = k.kernelTimingsOf(r, c);
  assert.equal(kt.respFirstByteAt, 9994.005);
  assert.ok(kt.respFirstByteAt - r.reqSentAt > 28, 'the server took the time, not the program');
  // An arrival the kernel's clock puts just before the send, and none after it: still this request's.
  const skewed = k.kernelTimingsOf(r, { kernelEvents: [{ kind: 'dataIn', at: 9964.5 }] });
  assert.equal(skewed.respFirstByteAt, 9964.5);
});

test('an ACK that rode on the response: the handshake round trip is the network part, not the whole wait', () => {
  const kt = k.kernelTimingsOf(req, conn({ ackedAt: 30 }, { connectLatencyUs: 1002_000, synRetransmitAfterUs: 1000_000 }));
  assert.equal(kt.reqAckedAt, 30);
  assert.deepEqual(kt.wait, { network: 2, server: 16, program: 50 });
});

test('an acknowledgement from before the request, or none and no handshake: no reqAckedAt, no wait split', () => {
  const kt = k.kernelTimingsOf(req, conn({ ackedAt: 5 }));
  assert.equal(kt.reqAckedAt, undefined);
  assert.equal(kt.wait, undefined);
  assert.deepEqual(kt.receive, { wire: 70, queued: 50 });
  // All of the response in the kernel before the program read its head: the receive phase was all queue.
  const early = k.kernelTimingsOf({ ...req, respRecvAt: 160 }, conn({}));
  assert.deepEqual(early.receive, { wire: 0, queued: 40 });
  // HTTP/2: the connection's arrivals are its streams', not this one's.
  assert.equal(k.kernelTimingsOf({ ...req, protoMajor: 2 }, conn({ ackedAt: 13 })), undefined);
});

test('the parts in time, for the Timing tab and the bar; the bar bands the network and the socket', () => {
  const kernelTimings = k.kernelTimingsOf(req, conn({ ackedAt: 13 }));
  const r = { ...req, kernelTimings };
  assert.deepEqual(k.kernelParts(r), [
    { phase: 'wait', part: 'network', start: 12, end: 13 },
    { phase: 'wait', part: 'server', start: 13, end: 30 },
    { phase: 'wait', part: 'program', start: 30, end: 80 },
    { phase: 'receive', part: 'wire', start: 80, end: 150 },
    { phase: 'receive', part: 'queued', start: 150, end: 200 },
  ]);
  assert.deepEqual(
    k.kernelBands(r).map((b) => b.part),
    ['network', 'program', 'queued'],
  );
  assert.deepEqual(k.kernelParts(req), []);
});

test('enrichTrace fills kernelTimings with the split from the connection the request went over', () => {
  const trace = {
    httpRequests: [{ ...req, pid: 1, client: 'http', reqMethod: 'GET', reqURL: 'http://x/', tcpConn: 'tcp-1' }],
    tcpConns: [{ traceID: 'tcp-1', pid: 1, ...conn({ ackedAt: 13 }, { connectLatencyUs: 500 }) }],
    dials: [],
    tlsTunnels: [],
  };
  const [r] = k.enrichTrace(trace).httpRequests;
  assert.deepEqual(r.kernelTimings.wait, { network: 0.5, server: 17.5, program: 50 });
});

test('a retransmitted SYN is a tick inside the connect phase, where the retransmission went out', () => {
  const segments = [
    { phase: 'connect', start: 10, end: 1012 },
    { phase: 'wait', start: 1012, end: 1020 },
  ];
  const synConn = { tcpMetrics: { synRetransmits: 1, synRetransmitAfterUs: 1_000_000 } };
  const r = { traceID: 'r', reqStartAt: 10, reqSentAt: 1012, respRecvAt: 1020, respDoneAt: 1020 };
  assert.deepEqual(k.kernelTicks(r, synConn, segments), [{ kind: 'syn', at: 1010 }]);
  assert.deepEqual(k.kernelTicks({ ...r, reusedConn: true }, synConn, segments), [], 'not on a later request of the connection');
  assert.deepEqual(k.kernelTicks(r, { tcpMetrics: { synRetransmits: 0 } }, segments), []);
});
