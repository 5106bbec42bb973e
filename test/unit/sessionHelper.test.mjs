// covers: src/collector/helperSession.ts, src/helper/findOnPath.ts, src/collector/session.ts,
//   src/helper/pcapng.ts, src/extension/launchConfig.ts
// needs: the build (dist/helper.cjs)
// The glue between a session and the helper (src/collector/helperSession.ts), with a stand-in for the
// helper process: lines read before and after attaching reach the trace, a helper that cannot
// start leaves a warning saying why, Save PCAP writes a 0600 pcapng with trace IDs (whole session
// or one request) and says why when there is no capture, the spool is removed. Also the launch
// attributes `helper` and `pcap`. No root, no native build.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'nettrace-sessionhelper-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const m = bundleTs(
  [
    "export * from './src/collector/helperSession';",
    "export { findOnPath } from './src/helper/findOnPath';",
    "export { Session } from './src/collector/session';",
    "export { PcapngWriter, readPcapng } from './src/helper/pcapng';",
    "export { toNodeLaunchConfig } from './src/extension/launchConfig';",
  ],
  { dir: tmp },
);

const T0 = Date.now();
const tuple = (srcPort) => ({ srcIP: '127.0.0.1', srcPort, dstIP: '127.0.0.1', dstPort: 8080 });

/** A checkout-like root whose native helper "is built" (startHelper is replaced anyway). */
function fakeRoot() {
  const dir = mkdtempSync(join(tmp, 'root-'));
  mkdirSync(join(dir, 'native', 'build'), { recursive: true });
  writeFileSync(join(dir, 'native', 'build', 'nettrace-helper'), '#!/bin/sh\n');
  chmodSync(join(dir, 'native', 'build', 'nettrace-helper'), 0o755);
  return dir;
}

/** Stands in for HelperClient: lines pushed before start() resolves, then emitted. */
class FakeClient extends EventEmitter {
  constructor(lines) {
    super();
    this.messages = [...lines];
    this.ready = lines.find((l) => l.type === 'ready');
    this.authority = 'root';
    this.sent = [];
    this.exited = new Promise((r) => (this.exit = (code) => (r(code), this.emit('exit', code))));
    this.child = { kill: () => this.exit(null) };
  }
  send(c) {
    this.sent.push(c);
  }
  async stop() {
    this.exit(0);
    return this.exited;
  }
  line(m) {
    this.messages.push(m);
    this.emit('message', m);
  }
}

function newSession() {
  const session = new m.Session({ description: 'glue', beginAt: new Date(T0), sourceMaps: false });
  const conn = session.openConnection();
  session.apply(conn, { type: 'hello', pid: 42, ppid: 1, threadId: 0, argv: [], nodeVersion: 'v20', cwd: '/', startAt: T0 });
  const record = (kind, id, fields) => session.apply(conn, { type: 'record', kind, id, fields });
  return { session, record };
}

/** A spool like the helper's: one packet per connection tuple, commented `pid= sock= wire= proto=`. */
function writeSpool(ports) {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-pcap-'));
  const spool = join(dir, 'spool.pcapng');
  const w = new m.PcapngWriter(spool, [{ name: 'lo', linkType: 1 }]);
  for (const port of ports) {
    const key = `127.0.0.1:${port}>127.0.0.1:8080`;
    for (let i = 0; i < 2; i++)
      w.write({
        iface: 0,
        tsUs: BigInt(T0) * 1000n,
        data: Buffer.alloc(60),
        origLen: 60,
        comment: `pid=42 sock=${key} wire=${key} proto=tcp`,
      });
  }
  w.close();
  return spool;
}

test('lines read before and after attaching reach the trace; finish waits for the exit', async () => {
  const { session, record } = newSession();
  record('tcpConns', 'c', { addrTuple: tuple(40100), connected: true });
  const ready = { type: 'ready', mode: 'bpf', authority: 'root', features: {}, unavailable: { conntrack: 'conntrack is off here' } };
  const early = { type: 'tcpMetrics', pid: 42, addrTuple: tuple(40100), final: false, at: T0, tcpMetrics: { source: 'bpf', rttUs: 10 } };
  const client = new FakeClient([ready, early]);
  const h = await m.SessionHelper.start(session, { pid: 42, root: fakeRoot(), start: async () => client });
  assert.equal(h.running, true);
  assert.equal(session.builder.trace.tcpConns[0].tcpMetrics.rttUs, 10, 'a line read before attaching');
  assert.ok(session.builder.trace.stats.warnings.includes('conntrack (NAT) readings are off: conntrack is off here'));
  client.line({ ...early, final: true, tcpMetrics: { source: 'bpf', rttUs: 20 } });
  assert.equal(session.builder.trace.tcpConns[0].tcpMetrics.rttUs, 20, 'a line read after');
  assert.equal(client.messages.length, 0, 'the client does not keep every line of a long session');
  setTimeout(() => client.line({ type: 'exit', reason: 'target exited' }) || client.exit(0), 30);
  await h.finish(2000);
  assert.equal(h.running, false);
  assert.equal(session.builder.trace.stats.helper.exit, 'target exited');
});

test('a helper that cannot start (or is not built) leaves a warning that says why; the session goes on', async () => {
  const a = newSession();
  const h = await m.SessionHelper.start(a.session, {
    pid: 42,
    root: fakeRoot(),
    start: async () => {
      throw new Error('target pid 42 belongs to uid 1001, not to the invoking user (uid 1000): refusing to trace it');
    },
  });
  assert.equal(h.running, false);
  assert.match(
    a.session.builder.trace.stats.warnings[0],
    /^kernel TCP metrics, conntrack and packet capture are off: the Net Trace helper could not start: target pid 42 belongs/,
  );
  assert.match(a.session.builder.trace.stats.helper.notRunning, /could not start/);
  assert.throws(
    () => h.savePcap(join(tmp, 'never.pcapng')),
    (e) => e.name === 'PcapUnavailableError' && /could not start/.test(e.message),
  );
  assert.equal(existsSync(join(tmp, 'never.pcapng')), false);

  // A machine where no helper is set up (issue 49 item 14: what is installed here must not count).
  const installed = process.env.NETTRACE_HELPER_PREFIX;
  process.env.NETTRACE_HELPER_PREFIX = 'none';
  after(() => restoreEnv('NETTRACE_HELPER_PREFIX', installed));
  const b = newSession();
  const nb = await m.SessionHelper.start(b.session, { pid: 42, root: join(tmp, 'nowhere'), start: () => assert.fail('not started') });
  assert.equal(nb.notRunning, m.HELPER_NOT_BUILT);
  assert.match(b.session.builder.trace.stats.warnings[0], /"Net Trace: Set Up Kernel Helper"/);

  const quiet = newSession();
  await m.SessionHelper.start(quiet.session, { pid: 42, root: join(tmp, 'nowhere'), warnIfNotBuilt: false });
  assert.deepEqual(quiet.session.builder.trace.stats.warnings, [], 'the extension: no warning for a helper that is not built');
  assert.equal(quiet.session.builder.trace.stats.helper.notRunning, m.HELPER_NOT_BUILT);

  const c = newSession();
  const slow = await m.SessionHelper.start(c.session, {
    pid: 42,
    root: fakeRoot(),
    readyTimeoutMs: 50,
    start: () => new Promise(() => {}),
  });
  assert.match(slow.notRunning, /not ready within/);

  const d = newSession();
  const off = m.SessionHelper.off(d.session, 'turned off (--helper off)');
  assert.deepEqual(d.session.builder.trace.stats.warnings, [], 'turned off on purpose: no warning');
  assert.equal(d.session.builder.trace.stats.helper.notRunning, 'turned off (--helper off)');
  assert.match(off.pcapUnavailable(), /turned off/);
});

function restoreEnv(name, value) {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

test('the installed helper stands in for a root without one, unless the root was named or none is meant (NETTRACE_HELPER_PREFIX=none)', async (t) => {
  const saved = process.env.NETTRACE_HELPER_PREFIX;
  t.after(() => restoreEnv('NETTRACE_HELPER_PREFIX', saved));
  const prefix = fakeRoot();
  mkdirSync(join(prefix, 'dist'));
  writeFileSync(join(prefix, 'dist', 'helper.cjs'), '');
  process.env.NETTRACE_HELPER_PREFIX = prefix;
  const roots = [];
  const start = async (o) => {
    roots.push(o.root);
    throw new Error('stand-in');
  };
  const nowhere = join(tmp, 'nowhere');
  const a = await m.SessionHelper.start(newSession().session, { pid: 42, root: nowhere, start });
  assert.deepEqual(roots, [prefix], 'the extension: its own folder has no helper, the installed one runs');
  assert.match(a.notRunning, /could not start: stand-in/);
  const named = await m.SessionHelper.start(newSession().session, { pid: 42, root: nowhere, orInstalled: false, start });
  assert.equal(named.notRunning, m.HELPER_NOT_BUILT, '`nettrace run --helper-root DIR`: that folder or none');
  process.env.NETTRACE_HELPER_PREFIX = 'none';
  const none = await m.SessionHelper.start(newSession().session, { pid: 42, root: nowhere, start });
  assert.equal(none.notRunning, m.HELPER_NOT_BUILT, 'none: no installed helper is looked for');
  assert.deepEqual(roots, [prefix]);
});

test('Save PCAP: a 0600 pcapng of the session or of one request, labelled with trace IDs; packetCapture set; spool removed', async () => {
  const { session, record } = newSession();
  record('tcpConns', 'c1', { addrTuple: tuple(40201), connected: true });
  record('tcpConns', 'c2', { addrTuple: tuple(40202), connected: true });
  record('httpRequests', 'r1', { reqMethod: 'GET', reqURL: 'http://127.0.0.1:8080/1', tcpConn: 'c1' });
  record('httpRequests', 'r2', { reqMethod: 'GET', reqURL: 'http://127.0.0.1:8080/2', tcpConn: 'c2' });
  const spool = writeSpool([40201, 40202, 40299]);
  const ready = { type: 'ready', mode: 'bpf', features: {}, unavailable: {} };
  const capture = { type: 'capture', spool, interfaces: ['lo'], packets: 6, bytes: 1000, truncated: false, unattributed: 0 };
  const client = new FakeClient([ready, capture]);
  const h = await m.SessionHelper.start(session, { pid: 42, pcap: true, root: fakeRoot(), start: async () => client });
  const out = join(tmp, 'all.pcapng');
  writeFileSync(out, 'old', { mode: 0o644 });
  const all = h.savePcap(out);
  assert.deepEqual(all, { file: out, interfaces: ['lo'], packets: 6, truncated: false });
  assert.equal(statSync(out).mode & 0o777, 0o600, 'an existing file is made private too');
  const comments = m.readPcapng(out).packets.map((p) => p.comment);
  assert.equal(comments[0], 'connection=tcp-1 requests=req-1 pid=42 tuple=127.0.0.1:40201>127.0.0.1:8080');
  assert.equal(comments[2], 'connection=tcp-2 requests=req-2 pid=42 tuple=127.0.0.1:40202>127.0.0.1:8080');
  assert.equal(comments[4], 'pid=42 tuple=127.0.0.1:40299>127.0.0.1:8080', 'a connection not in the trace keeps pid and tuple');
  assert.deepEqual(session.builder.trace.packetCapture, all);

  const one = h.savePcap(join(tmp, 'one.pcapng'), 'req-2');
  assert.equal(one.packets, 2);
  assert.equal(one.requestTraceID, 'req-2');
  assert.equal(statSync(join(tmp, 'one.pcapng')).mode & 0o777, 0o600);
  assert.ok(m.readPcapng(join(tmp, 'one.pcapng')).packets.every((p) => p.comment.startsWith('connection=tcp-2 requests=req-2 ')));
  assert.throws(() => h.savePcap(join(tmp, 'x.pcapng'), 'req-99'), /no request req-99/);

  await h.stop();
  h.removeSpool();
  assert.equal(existsSync(dirname(spool)), false, 'the spool directory is gone');
  assert.throws(() => h.savePcap(join(tmp, 'late.pcapng')), /gone/);
});

test("capture requested but unavailable: Save PCAP gives the helper's reason", async () => {
  const { session } = newSession();
  const why =
    "packet capture needs root (it opens packet sockets, which needs CAP_NET_RAW: not among the native helper's file capabilities): start the helper as root, through `sudo -n` or pkexec (see native/README.md)";
  const client = new FakeClient([
    { type: 'ready', mode: 'inet_diag', authority: 'unprivileged', features: {}, unavailable: { capture: why } },
  ]);
  const h = await m.SessionHelper.start(session, { pid: 42, pcap: true, root: fakeRoot(), start: async () => client });
  assert.ok(session.builder.trace.stats.warnings.includes(`packet capture is off: ${why}`));
  assert.throws(
    () => h.savePcap(join(tmp, 'no.pcapng')),
    (e) => e.message === why,
  );
  await h.stop();
});

test('launch attributes helper and pcap: auto and off by default, from the configuration, else the settings', () => {
  const defaults = { headers: 'values', redact: [], openPanelOnStart: true };
  const plain = m.toNodeLaunchConfig({ type: 'nettrace', request: 'launch', program: 'a.js' }, defaults).__nettrace;
  assert.equal(plain.helper, 'auto');
  assert.equal(plain.pcap, false);
  const off = m.toNodeLaunchConfig({ type: 'nettrace', request: 'launch', helper: 'off', pcap: true }, defaults).__nettrace;
  assert.equal(off.helper, 'off');
  assert.equal(off.pcap, true);
  const fromSettings = m.toNodeLaunchConfig({ type: 'nettrace', request: 'launch' }, { ...defaults, helper: 'off', pcap: true }).__nettrace;
  assert.equal(fromSettings.helper, 'off');
  assert.equal(fromSettings.pcap, true);
  const wins = m.toNodeLaunchConfig(
    { type: 'nettrace', request: 'launch', helper: 'auto', pcap: false },
    { ...defaults, helper: 'off', pcap: true },
  ).__nettrace;
  assert.equal(wins.helper, 'auto', 'the configuration wins over the setting');
  assert.equal(wins.pcap, false);
  const errors = [];
  const bad = m.toNodeLaunchConfig(
    { type: 'nettrace', request: 'launch', helper: 'sometimes', pcap: 'yes' },
    { ...defaults, helper: 'required' },
    (e) => errors.push(e.message),
  ).__nettrace;
  assert.equal(bad.helper, 'auto');
  assert.equal(bad.pcap, false);
  assert.deepEqual(errors, [
    '"helper" must be auto or off, not "sometimes"',
    '"pcap" must be true or false, not "yes"',
    'nettrace.helper must be auto or off, not "required"',
  ]);
});

test('authorityWithoutPrompt never picks pkexec; findOnPath', async () => {
  // As root this is "root"; otherwise whatever works without a prompt.
  const a = await m.authorityWithoutPrompt({ pid: process.pid, root: fakeRoot() });
  assert.notEqual(a, 'pkexec');
  if (process.getuid() === 0) assert.equal(a, 'root');
  assert.equal(m.findOnPath('node', dirname(process.execPath)), process.execPath);
  assert.equal(m.findOnPath('definitely-not-here-xyz'), undefined);
});
