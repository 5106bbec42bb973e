// covers: src/collector/helperLink.ts
// needs: the build (dist/core.cjs)
// The privileged helper's lines merged into a session (src/collector/helperLink.ts): by socket
// tuple into tcpConns (later line wins), buffered when they come before the preload's record
// (bounded), ready/stats/capture into stats.helper, reasons and helper warnings as trace
// warnings, inet_diag snapshots at connection milestones, pcapng labels. No root, no helper.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const core = createRequire(import.meta.url)('../../dist/core.cjs');
const { Session, HelperLink, pcapLabels, pcapUnavailableReason, tupleKey } = core;

const T0 = Date.parse('2026-11-21T10:00:00.000Z');
const tuple = (srcPort, dstPort = 8080) => ({ srcIP: '127.0.0.1', srcPort, dstIP: '127.0.0.1', dstPort });

function setup(options = {}) {
  const session = new Session({ description: 'test', beginAt: new Date(T0), sourceMaps: false, changeIntervalMs: 1 });
  // The tests read what changed from the builder, as a view would hear it: kept as while one listens.
  session.builder.changes.listening = true;
  const sent = [];
  const link = new HelperLink(session, { send: (c) => sent.push(c), ...options });
  const conn = session.openConnection();
  session.apply(conn, { type: 'hello', pid: 42, ppid: 1, threadId: 0, argv: ['node'], nodeVersion: 'v20', cwd: '/', startAt: T0 });
  const record = (kind, id, fields) => session.apply(conn, { type: 'record', kind, id, fields });
  const trace = () => session.builder.trace;
  const tcp = (id) => trace().tcpConns.find((c) => c.traceID === id);
  return { session, link, sent, record, trace, tcp };
}

const metrics = (port, fields, final = false) => ({
  type: 'tcpMetrics',
  pid: 42,
  addrTuple: tuple(port),
  final,
  at: T0 + 50,
  tcpMetrics: { source: 'bpf', ...fields },
});

test('tcpMetrics and conntrack merge into the tcpConns record with the same tuple; the later line wins', () => {
  const { link, record, tcp, session } = setup();
  record('tcpConns', 'c1', { addrTuple: tuple(40001), connected: true, handshakeBeginAt: T0 + 1, handshakeEndAt: T0 + 2 });
  record('tcpConns', 'c2', { addrTuple: tuple(40002), connected: true });
  record('httpRequests', 'r1', { reqMethod: 'GET', reqURL: 'http://127.0.0.1:8080/', tcpConn: 'c1' });
  session.builder.takeChanges();
  link.apply(metrics(40001, { rttUs: 900, retransmits: 0 }));
  assert.deepEqual(tcp('tcp-1').tcpMetrics, { source: 'bpf', rttUs: 900, retransmits: 0 });
  const changes = session.builder.takeChanges();
  // Kernel readings change the connection record only: the panel gets that record, not every
  // request that used the connection again.
  assert.deepEqual(changes.requests, []);
  assert.deepEqual(changes.records, [['tcpConns', 'tcp-1']], 'the connection record changed (the panel updates it)');
  link.apply(metrics(40001, { rttUs: 1100, retransmits: 2 }, true));
  assert.deepEqual(tcp('tcp-1').tcpMetrics, { source: 'bpf', rttUs: 1100, retransmits: 2 }, 'replaced, not deep-merged');
  const ct = {
    capturedAt: T0 + 250,
    status: 'assured|seen-reply',
    tcpState: 'time-wait',
    mark: 0,
    addrOrig: tuple(40001),
    addrReply: { srcIP: '127.0.0.1', srcPort: 8080, dstIP: '127.0.0.1', dstPort: 40001 },
    packetsSent: 6,
    packetsRecv: 4,
  };
  link.apply({ type: 'conntrack', pid: 42, addrTuple: tuple(40001), final: true, via: 'lookup', conntrack: ct });
  assert.equal(tcp('tcp-1').conntrack.capturedAt, 250, 'capturedAt made relative to traceBeginAt');
  assert.equal(tcp('tcp-1').conntrack.packetsSent, 6);
  assert.equal(tcp('tcp-2').tcpMetrics, undefined, 'the other connection is untouched');
  assert.equal(tcp('tcp-1').handshakeEndAt, 2, 'preload fields stay');
});

test('lines that come before the preload reports the connection wait for it, by tuple', () => {
  const { link, record, tcp } = setup();
  link.apply({
    type: 'tcpConnect',
    pid: 42,
    addrTuple: tuple(40010),
    beginAt: T0,
    at: T0 + 1,
    connectLatencyUs: 55,
    synRetransmits: 0,
    rttUs: 20,
  });
  link.apply(metrics(40011, { rttUs: 300 }));
  link.apply(metrics(40011, { rttUs: 400 }, true));
  assert.equal(link.pendingCount, 2);
  record('tcpConns', 'a', { connected: false });
  assert.equal(tcp('tcp-1').tcpMetrics, undefined, 'no tuple yet: nothing to match');
  record('tcpConns', 'a', { addrTuple: tuple(40011), connected: true });
  assert.deepEqual(tcp('tcp-1').tcpMetrics, { source: 'bpf', rttUs: 400 }, 'the latest buffered line');
  record('tcpConns', 'b', { addrTuple: tuple(40010), connected: true });
  assert.deepEqual(tcp('tcp-2').tcpMetrics, { source: 'bpf', connectLatencyUs: 55, synRetransmits: 0, rttUs: 20 });
  assert.equal(link.pendingCount, 0);
  // tcpConnect only fills in what no metrics line has set.
  link.apply({ type: 'tcpConnect', pid: 42, addrTuple: tuple(40011), beginAt: T0, at: T0, connectLatencyUs: 1, synRetransmits: 9 });
  assert.deepEqual(tcp('tcp-1').tcpMetrics, { source: 'bpf', rttUs: 400 });
});

test('the buffer is bounded: the tuple waiting longest goes first; unmatched connections are counted', () => {
  const { link, record, tcp, trace } = setup({ maxPending: 2 });
  link.apply(metrics(40021, { rttUs: 1 }));
  link.apply(metrics(40022, { rttUs: 2 }));
  link.apply(metrics(40021, { rttUs: 11 })); // news for 40021: now 40022 waited longest
  link.apply(metrics(40023, { rttUs: 3 }));
  assert.equal(link.pendingCount, 2);
  record('tcpConns', 'x', { addrTuple: tuple(40022), connected: true });
  assert.equal(tcp('tcp-1').tcpMetrics, undefined, 'evicted');
  record('tcpConns', 'y', { addrTuple: tuple(40021), connected: true });
  assert.equal(tcp('tcp-2').tcpMetrics.rttUs, 11);
  link.apply({ type: 'exit', reason: 'target exited' });
  assert.equal(trace().stats.helper.unmatchedConns, 2, '40023 still waiting + 40022 evicted');
  assert.equal(trace().stats.helper.exit, 'target exited');
});

test('a reused tuple: lines go to the newest connection with it', () => {
  const { link, record, tcp } = setup();
  record('tcpConns', 'old', { addrTuple: tuple(40030), connected: true, connCloseAt: T0 + 5 });
  record('tcpConns', 'new', { addrTuple: tuple(40030), connected: true });
  link.apply(metrics(40030, { rttUs: 5 }));
  assert.equal(tcp('tcp-1').tcpMetrics, undefined);
  assert.equal(tcp('tcp-2').tcpMetrics.rttUs, 5);
});

test('ready: each reason a feature is off becomes a warning; stats.helper says how the helper ran', () => {
  const { link, trace, session } = setup({ pcapRequested: false });
  link.apply({
    type: 'ready',
    mode: 'inet_diag',
    authority: 'unprivileged',
    features: { tcpMetrics: 'inet_diag', conntrack: false, captureFilter: false },
    unavailable: { bpf: 'needs root: run as root or through sudo', conntrack: 'needs CAP_NET_ADMIN (root)', capture: 'not requested' },
  });
  const w = trace().stats.warnings;
  assert.ok(w.includes('eBPF TCP metrics are off: needs root: run as root or through sudo'), JSON.stringify(w));
  assert.ok(w.includes('conntrack (NAT) readings are off: needs CAP_NET_ADMIN (root)'), JSON.stringify(w));
  assert.ok(!w.some((x) => x.includes('not requested')), 'capture was not asked for: no warning');
  assert.equal(trace().stats.helper.mode, 'inet_diag');
  assert.equal(trace().stats.helper.authority, 'unprivileged');
  assert.deepEqual(Object.keys(trace().stats.helper.unavailable), ['bpf', 'conntrack']);
  link.apply({ type: 'warning', message: 'conntrack is not active in the namespace' });
  link.apply({ type: 'error', code: 'EIO', message: 'ring buffer read failed' });
  link.apply({ type: 'conntrack', pid: 42, addrTuple: tuple(1), final: false, via: 'lookup', missing: 'no conntrack entry' });
  assert.ok(trace().stats.warnings.includes('helper: conntrack is not active in the namespace'));
  assert.ok(trace().stats.warnings.includes('helper error (EIO): ring buffer read failed'));
  assert.ok(trace().stats.warnings.includes('conntrack: no conntrack entry'));
  const snap = session.snapshot();
  assert.equal(snap.stats.helper.mode, 'inet_diag', 'snapshots carry stats.helper');
  assert.notEqual(snap.stats.helper, trace().stats.helper, '... as a copy');
  link.apply(null);
  link.apply({ type: 'tcpMetrics', addrTuple: null });
  assert.ok(
    trace().stats.warnings.some((x) => x.startsWith('could not apply a helper message')),
    'bad lines become warnings',
  );
});

test('stats and capture lines go into stats.helper; a capped capture and lost events are warned about once', () => {
  const { link, trace } = setup({ pcapRequested: true });
  assert.match(link.pcapUnavailable(), /did not run|not reported/);
  link.apply({ type: 'stats', lostEvents: 0, captureKernelDrops: 0, events: 10 });
  link.apply({
    type: 'capture',
    spool: '/tmp/x/spool.pcapng',
    interfaces: ['lo'],
    packets: 5,
    bytes: 900,
    truncated: false,
    unattributed: 0,
  });
  assert.deepEqual(trace().stats.helper.capture, { interfaces: ['lo'], packets: 5, bytes: 900, truncated: false, unattributed: 0 });
  assert.equal(link.pcapUnavailable(), undefined);
  link.apply({
    type: 'capture',
    spool: '/tmp/x/spool.pcapng',
    interfaces: ['lo'],
    packets: 9,
    bytes: 2000,
    truncated: true,
    unattributed: 0,
  });
  link.apply({
    type: 'capture',
    spool: '/tmp/x/spool.pcapng',
    interfaces: ['lo'],
    packets: 9,
    bytes: 2000,
    truncated: true,
    unattributed: 0,
  });
  link.apply({ type: 'stats', lostEvents: 3 });
  link.apply({ type: 'stats', lostEvents: 7 });
  assert.equal(trace().stats.helper.lostEvents, 7);
  assert.equal(trace().stats.helper.captureKernelDrops, 0);
  assert.equal(trace().stats.warnings.filter((w) => /size cap/.test(w)).length, 1);
  assert.equal(trace().stats.warnings.filter((w) => /lost eBPF events/.test(w)).length, 1);
  assert.equal(trace().stats.helper.capture.truncated, true);
});

test('inet_diag mode: one snapshot request per milestone moment (connected, closed); none in bpf mode', async () => {
  const { link, record, sent } = setup();
  const ready = (mode) => ({ type: 'ready', mode, features: {}, unavailable: {} });
  link.apply(ready('bpf'));
  record('tcpConns', 'a', { addrTuple: tuple(40040), connected: true });
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(sent, [], 'bpf mode needs no snapshots');

  // A helper ready after the program connected (nettrace run lets the program go at once for an
  // unprivileged one) reads what is open then, not at its first tick.
  const s3 = setup();
  s3.link.apply(ready('inet_diag'));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(s3.sent, [{ type: 'snapshot' }], 'a snapshot when ready');

  const s2 = setup();
  s2.link.apply(ready('inet_diag'));
  await new Promise((r) => setTimeout(r, 20));
  s2.sent.length = 0; // the snapshot when ready
  s2.record('tcpConns', 'a', { addrTuple: tuple(40041), connected: false });
  s2.record('tcpConns', 'a', { connected: true });
  s2.record('tcpConns', 'b', { addrTuple: tuple(40042), connected: true });
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(s2.sent, [{ type: 'snapshot' }], 'both connects at once: one snapshot');
  s2.record('tcpConns', 'a', { totalSentBytes: 10 });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s2.sent.length, 1, 'no milestone, no snapshot');
  s2.record('tcpConns', 'a', { connCloseAt: T0 + 9 });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s2.sent.length, 2, 'closed');
  s2.link.apply({ type: 'exit', reason: 'target exited' });
  s2.record('tcpConns', 'b', { connCloseAt: T0 + 10 });
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(s2.sent.length, 2, 'nothing after the helper exited');
});

test('a helper attached after connections were reported still matches them (the extension)', () => {
  const session = new Session({ description: 'late', beginAt: new Date(T0), sourceMaps: false });
  const conn = session.openConnection();
  session.apply(conn, { type: 'hello', pid: 7, ppid: 1, threadId: 0, argv: [], nodeVersion: 'v20', cwd: '/', startAt: T0 });
  session.apply(conn, { type: 'record', kind: 'tcpConns', id: 'c', fields: { addrTuple: tuple(40050), connected: true } });
  const link = new HelperLink(session, {});
  link.apply(metrics(40050, { rttUs: 77 }));
  assert.equal(session.builder.trace.tcpConns[0].tcpMetrics.rttUs, 77);
});

test('pcapLabels: connection trace IDs and the requests on each (proxy tunnels, DNS of the dial); tupleKey format', () => {
  const trace = {
    tcpConns: [
      { traceID: 'tcp-1', addrTuple: tuple(40060) },
      { traceID: 'tcp-2', addrTuple: { srcIP: '::1', srcPort: 40061, dstIP: '::1', dstPort: 3128 } },
      { traceID: 'tcp-3' },
    ],
    udpConns: [
      { traceID: 'udp-1', fromDial: 'dial-1', addrTuple: { srcIP: '127.0.0.1', srcPort: 5353, dstIP: '127.0.0.53', dstPort: 53 } },
    ],
    httpRequests: [
      { traceID: 'req-1', tcpConn: 'tcp-1', dial: 'dial-1' },
      { traceID: 'req-2', tcpConn: 'tcp-1' },
      { traceID: 'req-3', tcpConn: 'tcp-1', proxy: { url: 'http://p', tunnel: 'tcp-2' } },
    ],
  };
  const labels = pcapLabels(trace);
  assert.equal(tupleKey({ srcIP: '::1', srcPort: 40061, dstIP: '::1', dstPort: 3128 }), '[::1]:40061>[::1]:3128');
  assert.deepEqual(labels.get('127.0.0.1:40060>127.0.0.1:8080'), { conn: 'tcp-1', requests: ['req-1', 'req-2', 'req-3'] });
  assert.deepEqual(labels.get('[::1]:40061>[::1]:3128'), { conn: 'tcp-2', requests: ['req-3'] });
  assert.deepEqual(labels.get('127.0.0.1:5353>127.0.0.53:53'), { conn: 'udp-1', requests: ['req-1'] });
  assert.equal(labels.size, 3);
});

test('pcapUnavailableReason says why and how', () => {
  assert.match(pcapUnavailableReason(undefined), /helper did not run/);
  assert.match(pcapUnavailableReason({ notRunning: 'not built: run npm run build:native' }), /not built: run npm run build:native/);
  assert.equal(
    pcapUnavailableReason({ mode: 'inet_diag', unavailable: { capture: 'packet capture needs root' } }),
    'packet capture needs root',
  );
  assert.match(pcapUnavailableReason({ mode: 'bpf', unavailable: {} }, false), /not turned on/);
});

test('kernelEvent lines: appended to the connection in time order (waiting by tuple if early); a failed connect’s ICMP error by destination', () => {
  const { link, record, tcp, trace } = setup();
  const ev = (port, kind, at, extra = {}) => ({ type: 'kernelEvent', pid: 42, addrTuple: tuple(port), kind, at: T0 + at, ...extra });
  // Before the preload reported the connection: waits, then lands with it.
  link.apply(ev(40010, 'retransmit', 30, { total: 2, rto: true }));
  record('tcpConns', 'c1', { addrTuple: tuple(40010), connected: true });
  link.apply(ev(40010, 'zeroWindow', 60, { beginAt: T0 + 40, side: 'peer' }));
  link.apply(ev(40010, 'retransmit', 20, { total: 1 }));
  assert.deepEqual(tcp('tcp-1').kernelEvents, [
    { kind: 'retransmit', at: 20, total: 1 },
    { kind: 'retransmit', at: 30, total: 2, rto: true },
    { kind: 'zeroWindow', at: 60, beginAt: 40, side: 'peer' },
  ]);
  // A connect that failed: the preload's connection has no tuple; the dial's attempt names the destination.
  record('dials', 'd1', {
    dstAddress: '10.0.0.2:80',
    connectAttempts: [{ address: '10.0.0.2', port: 80, family: 4, beginAt: T0 + 100, endAt: T0 + 104, error: 'EHOSTUNREACH' }],
    dnsLookups: [],
  });
  record('tcpConns', 'c2', { fromDial: 'd1', connected: false });
  link.apply({
    type: 'kernelEvent',
    pid: 42,
    addrTuple: { srcIP: '10.0.0.1', srcPort: 50000, dstIP: '10.0.0.2', dstPort: 80 },
    kind: 'socketError',
    at: T0 + 103,
    icmp: { version: 4, type: 3, code: 13, from: '10.0.0.254' },
  });
  assert.deepEqual(tcp('tcp-2').kernelEvents, [
    { kind: 'socketError', at: 103, icmp: { version: 4, type: 3, code: 13, from: '10.0.0.254' } },
  ]);
  // Another process's failed connect to the same place is not it; an errno gets its name.
  link.apply({
    type: 'kernelEvent',
    pid: 99,
    addrTuple: { srcIP: '10.0.0.1', srcPort: 50001, dstIP: '10.0.0.2', dstPort: 80 },
    kind: 'socketError',
    at: T0 + 103,
    errno: 113,
  });
  link.finish();
  assert.equal(tcp('tcp-2').kernelEvents.length, 1);
  assert.equal(trace().tcpConns.filter((c) => c.kernelEvents).length, 2);
});

test('a long kept-alive connection keeps an arrival per exchange past the 256 other events; the others stay capped; a snapshot keeps what it had', () => {
  const { link, record, tcp, session } = setup();
  record('tcpConns', 'c1', { addrTuple: tuple(40020), connected: true });
  const ev = (kind, at, extra = {}) => ({ type: 'kernelEvent', pid: 42, addrTuple: tuple(40020), kind, at: T0 + at, ...extra });
  for (let i = 0; i < 300; i++) link.apply(ev('retransmit', i, { total: i + 1 }));
  for (let i = 0; i < 1000; i++) link.apply(ev('dataIn', 1000 + i));
  const before = session.snapshot();
  link.apply(ev('dataIn', 999.5)); // a little out of order: goes in its place
  const events = tcp('tcp-1').kernelEvents;
  assert.equal(events.filter((e) => e.kind === 'retransmit').length, 256, 'other kinds: at most 256');
  assert.equal(events.filter((e) => e.kind === 'dataIn').length, 1001, 'every arrival');
  assert.ok(
    events.every((e, i) => i === 0 || events[i - 1].at <= e.at),
    'in time order',
  );
  assert.equal(before.tcpConns[0].kernelEvents.length, 1256, "the snapshot's list is its own");
});

test('arrivals before any other event: the others still stop at 256 after them, and arrivals at their own cap (65,536) whatever came first', () => {
  const { link, record, tcp } = setup();
  record('tcpConns', 'c1', { addrTuple: tuple(40030), connected: true });
  const ev = (kind, at, extra = {}) => ({
    type: 'kernelEvent',
    pid: 42,
    key: `127.0.0.1:40030>127.0.0.1:8080`,
    kind,
    at: T0 + at,
    ...extra,
  });
  for (let i = 0; i < 1000; i++) link.apply(ev('dataIn', i));
  for (let i = 0; i < 300; i++) link.apply(ev('retransmit', 2000 + i, { total: i + 1 }));
  let events = tcp('tcp-1').kernelEvents;
  assert.equal(events.filter((e) => e.kind === 'retransmit').length, 256, 'other kinds: at most 256, counted past the arrivals');
  for (let i = 1000; i < 70_000; i++) link.apply(ev('dataIn', 3000 + i / 100));
  events = tcp('tcp-1').kernelEvents;
  assert.equal(events.filter((e) => e.kind === 'dataIn').length, 65_536, 'arrivals: at most 65,536');
  assert.equal(events.length, 65_536 + 256);
  assert.ok(
    events.every((e, i) => i === 0 || events[i - 1].at <= e.at),
    'in time order',
  );
});

test('an arrival line (the native helper’s array) lands as an older helper’s dataIn object does, by key or tuple, early or not; a malformed one is dropped', () => {
  const { link, record, tcp, trace } = setup();
  const key = tupleKey(tuple(40030));
  // Before the preload reported the connection: waits by its key, then lands with it.
  link.apply(['dataIn', 42, key, T0 + 5, null, T0 + 4]);
  record('tcpConns', 'c1', { addrTuple: tuple(40030), connected: true });
  link.apply(['dataIn', 42, key, T0 + 15, T0 + 7, T0 + 14]);
  link.apply(['dataIn', 42, key, T0 + 16, T0 + 15.5, null]);
  // Helpers built before the array line: an object naming the connection by key, or by its tuple.
  link.apply({ type: 'kernelEvent', pid: 42, key, kind: 'dataIn', at: T0 + 20, prevLastAt: T0 + 19, ackedAt: T0 + 18 });
  link.apply({ type: 'kernelEvent', pid: 42, addrTuple: tuple(40030), kind: 'dataIn', at: T0 + 25 });
  // Nothing to match it by, or not an arrival: nothing added, nothing thrown, no warning.
  link.apply({ type: 'kernelEvent', pid: 42, kind: 'dataIn', at: T0 + 30 });
  link.apply(['dataIn', 42, 7, T0 + 31, null, null]);
  link.apply(['dataIn', 42, key]);
  link.apply([]);
  assert.deepEqual(tcp('tcp-1').kernelEvents, [
    { kind: 'dataIn', at: 5, ackedAt: 4 },
    { kind: 'dataIn', at: 15, prevLastAt: 7, ackedAt: 14 },
    { kind: 'dataIn', at: 16, prevLastAt: 15.5 },
    { kind: 'dataIn', at: 20, prevLastAt: 19, ackedAt: 18 },
    { kind: 'dataIn', at: 25 },
  ]);
  assert.deepEqual(trace().stats.warnings, []);
});

test('a program polling a refusing port: each refusal lands on its own connection, even when it comes before that connection', () => {
  const { link, record, tcp } = setup();
  const refused = (at) => ({ type: 'kernelEvent', pid: 42, addrTuple: tuple(40100), kind: 'socketError', at: T0 + at, errno: 111 });
  const attempt = (n, begin) => {
    record('dials', `d${n}`, {
      dstAddress: '127.0.0.1:8080',
      connectAttempts: [
        { address: '127.0.0.1', port: 8080, family: 4, beginAt: T0 + begin, endAt: T0 + begin + 30, error: 'ECONNREFUSED' },
      ],
      dnsLookups: [],
    });
    record('tcpConns', `c${n}`, { fromDial: `d${n}`, connected: false });
  };
  attempt(1, 0);
  link.apply(refused(1));
  // The second refusal (200 ms later, from the same local port) reaches the collector before the
  // preload's second connection: it must wait, not join the first.
  link.apply(refused(201));
  assert.equal(tcp('tcp-1').kernelEvents.length, 1);
  attempt(2, 200);
  attempt(3, 400);
  link.apply(refused(402));
  link.finish();
  assert.deepEqual(
    [1, 2, 3].map((n) => tcp(`tcp-${n}`).kernelEvents?.map((e) => e.at)),
    [[1], [201], [402]],
  );
});

test('kernel events in words, per request: retransmitted segments by the kernel’s totals, zero windows, ICMP messages', () => {
  const { kernelStory, requestKernelEvents, retransmittedSegments, icmpText } = core;
  const all = [
    { kind: 'retransmit', at: 5, total: 2 }, // SYN retransmits: 1, so this event resent 1 segment
    { kind: 'retransmit', at: 15, total: 5, rto: true }, // one event, 3 segments
    { kind: 'zeroWindow', at: 40, beginAt: 18, side: 'peer' },
    { kind: 'retransmit', at: 55 },
  ];
  const conn = { kernelEvents: all };
  const first = { reqStartAt: 0, respDoneAt: 20 };
  const second = { reusedConn: true, reqStartAt: 30, respDoneAt: 60 };
  const ctx = { all, synRetransmits: 1 };
  assert.deepEqual(requestKernelEvents(first, conn), all.slice(0, 3), 'the zero window overlaps it');
  assert.deepEqual(requestKernelEvents(second, conn), all.slice(2));
  assert.equal(retransmittedSegments(requestKernelEvents(first, conn), ctx), 4);
  assert.equal(retransmittedSegments(requestKernelEvents(second, conn), ctx), 1, 'no total recorded: 1');
  assert.equal(
    kernelStory(requestKernelEvents(first, conn), ctx),
    "4 segments retransmitted (once after a retransmission timeout); the server's receive window was zero for 22.0 ms (it was not reading)",
  );
  assert.equal(
    kernelStory([{ kind: 'zeroWindow', at: 2500, beginAt: 1000, side: 'local' }]),
    "the program's receive window was zero for 1.50 s (it was not reading what arrived)",
  );
  assert.equal(kernelStory([]), undefined);
  assert.equal(
    icmpText({ version: 4, type: 3, code: 13, from: '10.0.0.254' }),
    'ICMP communication administratively prohibited (type 3, code 13) from 10.0.0.254',
  );
  assert.equal(
    icmpText({ version: 6, type: 1, code: 4, from: '2001:db8::1' }),
    'ICMPv6 port unreachable (type 1, code 4) from 2001:db8::1',
  );
  assert.equal(icmpText({ version: 4, type: 11, code: 0, from: '192.0.2.1' }), 'ICMP time exceeded (type 11, code 0) from 192.0.2.1');
});

test('kernel drops in words: those that matter by direction, with what the reason means; TCP’s discards by design listed apart, or left out of a sentence (issue 49 item 9)', () => {
  const { kernelStory, isBenignDrop } = core;
  const drops = [
    { kind: 'drop', at: 1, reason: 'NETFILTER_DROP', direction: 'in' },
    { kind: 'drop', at: 2, reason: 'TCP_OLD_DATA', direction: 'in' },
    { kind: 'drop', at: 3, reason: 'NETFILTER_DROP', direction: 'in' },
    { kind: 'drop', at: 4, reason: 'TCP_OLD_SEQUENCE', direction: 'in' },
    { kind: 'drop', at: 5, reason: 'SOCKET_RCVBUFF', direction: 'in' },
    { kind: 'drop', at: 6, reason: 'NETFILTER_DROP', direction: 'out' },
    { kind: 'drop', at: 7, reason: 'TCP_OLD_SEQUENCE', direction: 'in' },
  ];
  assert.equal(
    kernelStory(drops),
    "1 packet dropped by the kernel on its way out (NETFILTER_DROP: a firewall rule); 3 packets on their way in (NETFILTER_DROP ×2: a firewall rule, SOCKET_RCVBUFF: the socket's receive buffer was full); 3 packets TCP discarded by design as duplicates or window probes (TCP_OLD_DATA, TCP_OLD_SEQUENCE ×2)",
  );
  assert.equal(
    kernelStory(drops, { omitBenign: true }),
    "1 packet dropped by the kernel on its way out (NETFILTER_DROP: a firewall rule); 3 packets on their way in (NETFILTER_DROP ×2: a firewall rule, SOCKET_RCVBUFF: the socket's receive buffer was full)",
  );
  // Only TCP's discards: nothing for a sentence to say.
  assert.equal(kernelStory([drops[1], drops[3]], { omitBenign: true }), undefined);
  assert.equal(
    kernelStory([{ kind: 'drop', at: 1, reason: 'TCP_FLAGS', direction: 'in' }]),
    '1 packet dropped by the kernel on its way in (TCP_FLAGS)',
  );
  assert.deepEqual(['TCP_OLD_DATA', 'TCP_OLD_SEQUENCE', 'TCP_OLD_ACK', 'NETFILTER_DROP', 'TCP_ZEROWINDOW'].map(isBenignDrop), [
    true,
    true,
    true,
    false,
    false,
  ]);
});
