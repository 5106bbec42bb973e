// covers: src/extension/, src/collector/
// Several helpers on one trace (src/extension/helpers.ts SessionHelpers, src/collector/processTree.ts,
// helperLink.ts): a launch that joins a trace (a compound launch's services) is a process tree of its
// own, which the first launch's helper does not follow, so its first process gets a helper of its
// own; a child process does not. Each helper's readings reach their connections; the counters of
// stats.helper are summed; only the first tree is captured and the trace says so. Stand-ins for the
// helper process, no root.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'nettrace-compoundhelpers-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const m = bundleTs(
  [
    "export { SessionHelpers } from './src/extension/helpers';",
    "export { descendsFrom, procParent } from './src/collector/processTree';",
    "export { SessionHelper } from './src/collector/helperSession';",
    "export { Session } from './src/collector/session';",
    "export { injectTracing, toNodeLaunchConfig } from './src/extension/launchConfig';",
    "export { LAUNCH_ENV, procLaunch } from './src/collector/processTree';",
  ],
  { dir: tmp },
);

const T0 = Date.now();
const tuple = (srcPort) => ({ srcIP: '127.0.0.1', srcPort, dstIP: '127.0.0.1', dstPort: 8080 });
const tick = () => new Promise((r) => setImmediate(r));

/** A checkout-like root whose native helper "is built" (the start is replaced anyway). */
function fakeRoot() {
  const dir = mkdtempSync(join(tmp, 'root-'));
  mkdirSync(join(dir, 'native', 'build'), { recursive: true });
  writeFileSync(join(dir, 'native', 'build', 'nettrace-helper'), '#!/bin/sh\n');
  chmodSync(join(dir, 'native', 'build', 'nettrace-helper'), 0o755);
  return dir;
}

/** Stands in for HelperClient: ready at once, then the lines a test pushes. */
class FakeClient extends EventEmitter {
  constructor(options) {
    super();
    this.options = options;
    this.ready = { type: 'ready', mode: 'bpf', authority: 'root', unavailable: {} };
    this.messages = [this.ready];
    this.authority = 'root';
    this.exited = new Promise((r) => (this.exit = (code) => (r(code), this.emit('exit', code))));
    this.child = { kill: () => this.exit(null) };
  }
  send() {}
  async stop() {
    this.exit(0);
    return this.exited;
  }
  line(msg) {
    this.emit('message', msg);
  }
}

/** A session in a fake trace store, and a way to make processes report in and record connections. */
function fixture(parents = {}, launches = {}) {
  const session = new m.Session({ description: 'compound', beginAt: new Date(T0), sourceMaps: false });
  const entry = { key: 'k', session, collector: {}, origin: 'current' };
  const clients = [];
  const logs = [];
  const helpers = new m.SessionHelpers({ get: (key) => (key === 'k' ? entry : undefined) }, fakeRoot, (l) => logs.push(l), {
    parentOf: (pid) => parents[pid],
    launchOf: (pid) => launches[pid],
    start: async (options) => {
      const c = new FakeClient(options);
      clients.push(c);
      return c;
    },
  });
  const hello = (pid, ppid) => {
    const conn = session.openConnection();
    session.apply(conn, { type: 'hello', pid, ppid, threadId: 0, argv: [], nodeVersion: 'v20', cwd: '/', startAt: T0 });
    return (id, port) => session.apply(conn, { type: 'record', kind: 'tcpConns', id, fields: { addrTuple: tuple(port), connected: true } });
  };
  return { session, entry, helpers, clients, logs, hello };
}

const metrics = (port, rttUs) => ({
  type: 'tcpMetrics',
  pid: 1,
  addrTuple: tuple(port),
  final: false,
  at: T0,
  tcpMetrics: { source: 'bpf', rttUs },
});

test('descendsFrom: the roots themselves and their descendants, by the given parent then the parent chain', () => {
  const parents = { 30: 20, 20: 10, 10: 1, 40: 1 };
  const parentOf = (pid) => parents[pid];
  const roots = new Set([10]);
  assert.equal(m.descendsFrom(10, 1, roots, parentOf), true);
  assert.equal(m.descendsFrom(20, 10, roots, parentOf), true);
  assert.equal(m.descendsFrom(30, undefined, roots, parentOf), true, 'grandchild, through the parent chain');
  assert.equal(m.descendsFrom(50, 30, roots, parentOf), true, 'its ppid as it said, then the chain');
  assert.equal(m.descendsFrom(40, 1, roots, parentOf), false, 'another tree');
  assert.equal(m.descendsFrom(60, 55, roots, parentOf), false, 'a broken chain (a parent gone)');
  // A cycle (pid reuse in a stale read) ends at maxDepth.
  assert.equal(
    m.descendsFrom(70, 71, roots, (p) => (p === 71 ? 72 : 71)),
    false,
  );
  assert.equal(m.procParent(process.pid), process.ppid);
  assert.equal(m.procParent(-5), undefined);
});

test('a joined launch: its first process gets a helper of its own (no capture, said in a warning); a child does not; readings of both reach their connections, counters summed', async () => {
  const f = fixture({ 101: 100 });
  f.helpers.startFor('k', true);
  f.helpers.join('k');
  const first = f.hello(100, 1);
  const child = f.hello(101, 100);
  const joined = f.hello(200, 1);
  f.hello(300, 1); // no third launch: no third helper
  await tick();
  await tick();
  assert.deepEqual(
    f.clients.map((c) => [c.options.pid, !!c.options.pcap]),
    [
      [100, true],
      [200, false],
    ],
  );
  first('a', 40001);
  child('b', 40002);
  joined('c', 40003);
  f.clients[0].line(metrics(40001, 111));
  f.clients[0].line(metrics(40002, 222));
  f.clients[1].line(metrics(40003, 333));
  f.clients[0].line({ type: 'stats', lostEvents: 2 });
  f.clients[1].line({ type: 'stats', lostEvents: 3 });
  const trace = f.session.builder.trace;
  const rtt = Object.fromEntries(trace.tcpConns.map((c) => [c.addrTuple.srcPort, c.tcpMetrics?.rttUs]));
  assert.deepEqual(rtt, { 40001: 111, 40002: 222, 40003: 333 });
  assert.equal(trace.stats.helper.helpers, 2);
  assert.equal(trace.stats.helper.lostEvents, 5, 'the sum of both helpers');
  assert.ok(
    trace.stats.warnings.some((w) => /packet capture covers the processes of pid 100 only: pid 200 .*not captured/.test(w)),
    trace.stats.warnings.join('\n'),
  );
  assert.equal(f.helpers.get('k').client, f.clients[0], 'Save PCAP takes the capturing helper');
  assert.equal(f.helpers.all('k').length, 2);
  // A connection each helper saw that is not in the trace: counted once per helper.
  f.clients[0].line(metrics(49001, 1));
  f.clients[1].line(metrics(49002, 1));
  for (const c of f.clients) c.exit(0);
  await f.helpers.finish('k', 50);
  assert.equal(trace.stats.helper.unmatchedConns, 2);
  f.helpers.dispose();
});

test('the joined launch may report in first: each tree still gets one helper; without pcap, no capture warning', async () => {
  const f = fixture();
  f.helpers.startFor('k', false);
  f.helpers.join('k');
  f.hello(200, 1);
  f.hello(100, 1);
  await tick();
  await tick();
  assert.deepEqual(
    f.clients.map((c) => c.options.pid),
    [200, 100],
  );
  assert.ok(!f.session.builder.trace.stats.warnings.some((w) => /packet capture/.test(w)));
  f.helpers.dispose();
});

test("a joined launch's helper that cannot start: a warning for its tree only; the trace's helper stays running", async () => {
  const f = fixture();
  let n = 0;
  const helpers = new m.SessionHelpers({ get: () => f.entry }, fakeRoot, () => {}, {
    start: async (options) => {
      if (n++ > 0) throw new Error('no permission');
      const c = new FakeClient(options);
      f.clients.push(c);
      return c;
    },
  });
  helpers.startFor('k', false);
  helpers.join('k');
  f.hello(100, 1);
  f.hello(200, 1);
  await tick();
  await tick();
  const stats = f.session.builder.trace.stats;
  assert.equal(stats.helper.notRunning, undefined);
  assert.equal(stats.helper.mode, 'bpf');
  assert.ok(
    stats.warnings.some((w) => /kernel TCP metrics and conntrack are off for pid 200 .*no permission/.test(w)),
    stats.warnings.join('\n'),
  );
  helpers.dispose();
});

test('each launch is named in its environment; its helper goes to its own first process, not to another process of the first launch', async () => {
  // pid 100: the first launch's (npm), 150: a sibling it spawned (not its descendant as seen: its
  // parent gone), 200: the joined launch's.
  const f = fixture({}, { 100: 'k#1', 150: 'k#1', 200: 'k#2' });
  assert.equal(f.helpers.startFor('k', false), 'k#1');
  assert.equal(f.helpers.join('k'), 'k#2');
  f.hello(100, 1);
  f.hello(150, 77);
  f.hello(200, 1);
  await tick();
  await tick();
  assert.deepEqual(
    f.clients.map((c) => c.options.pid),
    [100, 200],
  );
  f.helpers.dispose();

  const env = (launch) =>
    m.injectTracing(
      m.toNodeLaunchConfig({ type: 'nettrace', request: 'launch', program: 'a.js', env: { A: '1' } }, { headers: 'values', redact: [] }),
      {
        preloadPath: '/p/preload.cjs',
        ipcPath: '/tmp/ipc',
        sessionId: 'k',
        ...(launch ? { launch } : {}),
      },
    ).env;
  assert.equal(env('k#2')[m.LAUNCH_ENV], 'k#2');
  assert.equal(env()[m.LAUNCH_ENV], undefined);
  assert.equal(m.procLaunch(process.pid), process.env.NETTRACE_LAUNCH);
  assert.equal(m.procLaunch(-5), undefined);
});

test('a helper turned off: a joined launch starts none', async () => {
  const f = fixture();
  f.helpers.off('k', 'turned off');
  assert.equal(f.helpers.join('k'), undefined);
  f.hello(100, 1);
  await tick();
  assert.equal(f.clients.length, 0);
  assert.equal(f.helpers.get('k').notRunning, 'turned off');
});

test('startTracedLaunch: a second launch with the same tracing options joins the trace, named as its second launch, and its process gets a helper', async () => {
  const x = bundleTs(
    [
      "export * from './src/extension/debugProviders';",
      "export { SessionHelpers } from './src/extension/helpers';",
      "export { toNodeLaunchConfig } from './src/extension/launchConfig';",
      "export { NodeSessionSwitch } from './src/extension/traceAllNode';",
      "export * from './src/extension/ruleService';",
      "export * from './src/extension/traceStore';",
      "export { startCollector } from './src/collector/server';",
      "import * as vscodeStub from 'vscode'; export { vscodeStub };",
    ],
    { dir: mkdtempSync(join(tmp, 'ext-')), name: 'ext.cjs', vscodeStub: true },
  );
  const vscode = x.vscodeStub;
  vscode.config.values = {};
  const traces = new x.TraceStore({ startCollector: x.startCollector, changeIntervalMs: 20, idleTimeoutMs: 500 });
  const mem = new Map();
  const rules = new x.RuleService(traces, { get: (k) => mem.get(k), update: async (k, v) => void mem.set(k, v) });
  const panel = { show() {}, showTrace() {}, setNotTraced() {} };
  const started = [];
  const launchOfPid = {};
  const helpers = new x.SessionHelpers(traces, fakeRoot, () => {}, {
    parentOf: () => undefined,
    launchOf: (pid) => launchOfPid[pid],
    start: async (options) => (started.push(options), new FakeClient(options)),
  });
  const context = { subscriptions: [], extensionPath: join(tmp, 'ext') };
  const nodeSessions = new x.NodeSessionSwitch();
  x.registerDebugProviders({ context, traces, panel, helpers, rules, nodeSessions, log: () => {} }, () => {});
  try {
    const resolve = (name) =>
      vscode.debug.providers
        .get('pwa-node')[0]
        .resolveDebugConfigurationWithSubstitutedVariables(
          undefined,
          x.toNodeLaunchConfig({ type: 'nettrace', request: 'launch', name, program: `/w/${name}.js` }, { headers: 'values', redact: [] }),
        );
    const gateway = await resolve('gateway');
    const payments = await resolve('payments');
    const key = gateway.__nettraceSession;
    assert.equal(payments.__nettraceSession, key, 'one trace');
    assert.equal(gateway.env.NETTRACE_LAUNCH, `${key}#1`);
    assert.equal(payments.env.NETTRACE_LAUNCH, `${key}#2`);
    const session = traces.get(key).session;
    launchOfPid[100] = gateway.env.NETTRACE_LAUNCH;
    launchOfPid[200] = payments.env.NETTRACE_LAUNCH;
    for (const pid of [100, 200])
      session.apply(session.openConnection(), {
        type: 'hello',
        pid,
        ppid: 1,
        threadId: 0,
        argv: [],
        nodeVersion: 'v20',
        cwd: '/',
        startAt: T0,
      });
    await tick();
    await tick();
    assert.deepEqual(
      started.map((o) => o.pid),
      [100, 200],
    );
  } finally {
    for (const d of context.subscriptions.reverse()) d.dispose?.();
    nodeSessions.dispose();
    helpers.dispose();
    await traces.dispose();
  }
});
