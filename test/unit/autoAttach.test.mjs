// covers: src/extension/, src/collector/server.ts
// Auto attach (src/extension/autoAttach.ts, nodeSessions.ts) against the recording `vscode` stub
// (test/fixtures/vscode-stub), real collectors and real Node processes with an inspector: js-debug's
// `node-terminal` attach session with a `delegateId` (what auto attach and a debug terminal start for
// a process found in a terminal) is asked through its `evaluate` whether the process is traced; an
// untraced one gets a trace of its own named by its script, the preload loaded through the
// debugger, the warning that tracing started mid-run, and its child process's session loads into
// the same trace; the session's end takes the preload out. A process started with the preload (a
// traced debug terminal's) gets no second trace, and with the switch off nothing is asked. A
// process js-debug's bootloader holds before its program is traced from its start, with no
// mid-run note.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { bundleTs, root } from '../lib/bundleTs.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'nettrace-autoattach-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const m = bundleTs(
  [
    "export * from './src/extension/nodeSessions';",
    "export * from './src/extension/traceAllNode';",
    "export * from './src/extension/debugProviders';",
    "export * from './src/extension/autoAttach';",
    "export * from './src/extension/inspectorEval';",
    "export * from './src/extension/ruleService';",
    "export * from './src/extension/traceStore';",
    "export { startCollector } from './src/collector/server';",
    "import * as vscodeStub from 'vscode'; export { vscodeStub };",
  ],
  { dir: tmp, name: 'autoattach.cjs', vscodeStub: true },
);
const vscode = m.vscodeStub;

test('found sessions: which are js-debug’s own, what the probe answers, the trace’s label', () => {
  const found = { type: 'node-terminal', request: 'attach', name: 'Node.js Process', delegateId: 2 };
  assert.equal(m.isFoundProcessSession(found), true);
  assert.equal(m.isFoundProcessSession({ ...found, delegateId: undefined }), false, 'a node-terminal attach of the user’s');
  assert.equal(m.isFoundProcessSession({ ...found, type: 'pwa-node' }), false);
  assert.equal(m.isFoundProcessSession({ ...found, request: 'launch' }), false);

  // js-debug's REPL quotes a string result.
  assert.deepEqual(m.parseFoundProcess(`'nettrace: found pid 42 untraced %2Fw%2Fmy%20app%2Fapp.js'`), {
    pid: '42',
    traced: false,
    script: '/w/my app/app.js',
  });
  assert.deepEqual(m.parseFoundProcess('nettrace: found pid 7 traced '), { pid: '7', traced: true, script: '' });
  assert.equal(m.parseFoundProcess('nettrace: Cannot read properties of undefined'), undefined);
  assert.equal(m.parseFoundProcess('ReferenceError: x'), undefined);

  const label = (script, folder, system) => m.foundProcessLabel({ pid: '42', traced: false, script }, folder, system);
  assert.equal(label('/w/app/src/server.js', '/w/app', 'posix'), 'node src/server.js (auto attach, from the attach on)');
  assert.equal(label('/elsewhere/tool.js', '/w/app', 'posix'), 'node /elsewhere/tool.js (auto attach, from the attach on)');
  assert.equal(
    label('C:\\Users\\Jane Doe\\app\\src\\server.js', 'c:\\Users\\Jane Doe\\app', 'win32'),
    'node src/server.js (auto attach, from the attach on)',
  );
  assert.equal(label('', '/w/app', 'posix'), 'node (pid 42) (auto attach, from the attach on)', 'node -e, the REPL: no script');
  assert.equal(label('/w/app/app.js', undefined, 'posix'), 'node /w/app/app.js (auto attach, from the attach on)');

  // The load's answer: mid-run (a note for the trace), or before the program started (none).
  const midRun = m.parseAttachLoaded(`'nettrace: tracing from now in pid 42 (inspector ws://127.0.0.1:9229/abc)'`);
  assert.deepEqual(midRun, { pid: '42', inspector: 'ws://127.0.0.1:9229/abc' });
  assert.equal(
    m.midRunNote(midRun, 'app.js (auto attach)', new Date(0)),
    'tracing started mid-run at 1970-01-01T00:00:00.000Z in pid 42: loaded through the debugger when "app.js (auto attach)" attached; requests made before are not in the trace, and connections opened before have no dial record',
  );
  const held = m.parseAttachLoaded(`'nettrace: tracing from now in pid 42 (inspector ws://127.0.0.1:9229/abc) before the program started'`);
  assert.deepEqual(held, { pid: '42', inspector: 'ws://127.0.0.1:9229/abc', beforeProgram: true });
  assert.equal(m.midRunNote(held, 'app.js (auto attach)', new Date(0)), undefined);
  assert.deepEqual(m.parseAttachLoaded('nettrace: tracing from now in pid 7 before the program started'), {
    pid: '7',
    inspector: undefined,
    beforeProgram: true,
  });
});

// ---- the extension side, with real collectors and processes ----------------------------------

function setup() {
  const logs = [];
  const log = (l) => logs.push(l);
  const traces = new m.TraceStore({ startCollector: m.startCollector, changeIntervalMs: 20, idleTimeoutMs: 500 });
  const mem = new Map();
  const rules = new m.RuleService(traces, { get: (k) => mem.get(k), update: async (k, v) => void mem.set(k, v) });
  const panel = { shown: [], show() {}, showTrace: (k) => panel.shown.push(k), setNotTraced() {} };
  const helpers = { off() {}, startFor() {}, join() {}, finish: async () => {}, prune() {} };
  const context = { subscriptions: [], extensionPath: root };
  const nodeSessions = new m.NodeSessionSwitch();
  const s = { context, traces, panel, helpers, rules, nodeSessions, log };
  m.registerDebugProviders(s, () => {});
  context.subscriptions.push(m.registerFoundProcessTracing(s, () => {}));
  const cleanup = async () => {
    for (const d of context.subscriptions.reverse()) d.dispose?.();
    nodeSessions.dispose();
    await traces.dispose();
  };
  return { traces, panel, logs, cleanup };
}

// A program started in a terminal: a request to /tick?n=… every 100 ms; with an argument, it also
// starts a child (itself, `child`) whose requests go to /child.
const program = join(tmp, 'app.js');
writeFileSync(
  program,
  `const http = require('node:http');
let n = 0;
const path = process.argv[2] === 'child' ? '/child' : '/tick';
setInterval(() => http.get(process.env.APP_URL + path + '?n=' + ++n, (res) => res.resume()).on('error', () => {}), 100);
`,
);

const processes = [];
after(() => processes.forEach((p) => p.kill('SIGKILL')));

/** Starts the program with an inspector; resolves with it and its inspector's WebSocket URL. */
async function startProgram(env, args = []) {
  const p = spawn(process.execPath, ['--inspect=127.0.0.1:0', program, ...args], {
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  processes.push(p);
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  for (const deadline = Date.now() + 10_000; !/ws:\/\/\S+/.test(err);) {
    if (Date.now() > deadline) throw new Error(`no inspector URL: ${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { p, ws: /ws:\/\/\S+/.exec(err)[0] };
}

/** js-debug's session for a process: its `evaluate` runs through the process's inspector, the REPL's way (a string quoted). */
function sessionOf(id, ws, configuration, parentSession) {
  const asked = [];
  return {
    id,
    name: configuration.name,
    configuration,
    parentSession,
    asked,
    customRequest: async (command, args) => {
      assert.equal(command, 'evaluate');
      asked.push(args.expression);
      return { result: `'${await m.evaluateOverInspector(ws, args.expression)}'` };
    },
  };
}

async function server() {
  const srv = createServer((req, res) => res.end(req.url));
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { srv, url: `http://127.0.0.1:${srv.address().port}` };
}

async function until(what, fn, timeoutMs = 10_000) {
  for (const deadline = Date.now() + timeoutMs; ;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const FOUND = { type: 'node-terminal', request: 'attach', name: 'Node.js Process', delegateId: 1 };

test('auto attach: an untraced process gets its trace from the attach on, its child joins it, the session’s end detaches', async () => {
  vscode.config.values = { traceNodeSessions: 'all' };
  const t = setup();
  const { srv, url } = await server();
  try {
    const app = await startProgram({ APP_URL: url });
    // js-debug: the found session runs no process itself (VS Code answers its evaluate with an
    // error); the process is in its child session.
    const rootSession = {
      id: 'dbg-found-1',
      name: 'Node.js Process',
      configuration: FOUND,
      customRequest: async () => Promise.reject(new Error("No debugger available, can not send 'evaluate'")),
    };
    vscode.debug.startSession(rootSession);
    const appSession = sessionOf(
      'dbg-found-1-app',
      app.ws,
      { type: 'pwa-node', request: 'attach', name: 'app.js [1]', __pendingTargetId: 'a1' },
      rootSession,
    );
    vscode.debug.startSession(appSession);
    const entry = await until('the found process’s trace', () => t.traces.list().find((e) => /auto attach/.test(e.label)));
    assert.match(entry.label, /^node \S*app\.js \(auto attach, from the attach on\) — /);
    assert.deepEqual(t.panel.shown, [entry.key], 'the panel shows it');
    const ticks = await until('ticks in the trace', () => {
      const r = entry.session.builder.trace.httpRequests.filter((q) => q.reqURL.includes('/tick?n='));
      return r.length >= 2 && r;
    });
    assert.ok(Number(new URL(ticks[0].reqURL).searchParams.get('n')) >= 1);
    // The preload loads at the process's next loop turn and the extension hears so at its next
    // ask (nodeSessions.ts STILL_STARTING): the warning may come after the first ticks.
    await until('the warning that tracing started mid-run', () =>
      entry.session
        .snapshot()
        .stats.warnings.some((w) =>
          new RegExp(
            `^tracing started mid-run at .* in pid ${app.p.pid}: loaded through the debugger when "app\\.js \\[1\\] \\(auto attach\\)" attached`,
          ).test(w),
        ),
    );

    // Its child process: js-debug's session under the process's; loaded into the same trace.
    const child = await startProgram({ APP_URL: url }, ['child']);
    vscode.debug.startSession(
      sessionOf(
        'dbg-found-1-child',
        child.ws,
        { type: 'pwa-node', request: 'attach', name: 'app.js [2]', __pendingTargetId: 'c1' },
        appSession,
      ),
    );
    await until('the child’s requests in the same trace', () =>
      entry.session.builder.trace.httpRequests.some((q) => q.reqURL.includes('/child?n=')),
    );
    assert.equal(t.traces.list().filter((e) => /auto attach/.test(e.label)).length, 1, 'one trace for the process and its child');

    vscode.debug.endSession(rootSession);
    await until('the preload detached from the process', () => t.logs.some((l) => l.includes(`nettrace: detached from pid ${app.p.pid} `)));
    await until('the trace ended', () => t.traces.get(entry.key).origin === 'earlier');
  } finally {
    srv.close();
    await t.cleanup();
  }
});

test('auto attach: a found session that runs the process itself is traced the same way', async () => {
  vscode.config.values = { traceNodeSessions: 'all' };
  const t = setup();
  const { srv, url } = await server();
  try {
    const app = await startProgram({ APP_URL: url });
    vscode.debug.startSession(sessionOf('dbg-found-2', app.ws, FOUND));
    const entry = await until('the found process’s trace', () => t.traces.list().find((e) => /auto attach/.test(e.label)));
    await until('a tick in the trace', () => entry.session.builder.trace.httpRequests.some((q) => q.reqURL.includes('/tick?n=')));
    assert.equal(t.traces.byDebugSession('dbg-found-2'), entry, 'the trace is the found session’s');
  } finally {
    srv.close();
    await t.cleanup();
  }
});

test('auto attach: a process started with the preload gets no second trace; the switch off asks nothing', async () => {
  const t = setup();
  const { srv, url } = await server();
  try {
    vscode.config.values = { traceNodeSessions: 'netTraceOnly' };
    const off = await startProgram({ APP_URL: url });
    const offSession = sessionOf('dbg-found-off', off.ws, FOUND);
    vscode.debug.startSession(offSession);

    vscode.config.values = { traceNodeSessions: 'all' };
    // A traced debug terminal's process: NETTRACE_CONFIG in its environment (here without the preload itself).
    const traced = await startProgram({ APP_URL: url, NETTRACE_CONFIG: '{"ipcPath":"/nonexistent"}' });
    const tracedSession = sessionOf('dbg-found-traced', traced.ws, FOUND);
    vscode.debug.startSession(tracedSession);
    await until('the probe’s answer', () => t.logs.some((l) => l.includes(`pid ${traced.p.pid} is traced already`)));
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(t.traces.list(), [], 'no trace');
    // Only the probe is asked (again while Node is still starting: nodeSessions.ts PROCESS_STARTING): nothing loaded.
    assert.ok(tracedSession.asked.length >= 1, 'asked');
    assert.deepEqual(new Set(tracedSession.asked), new Set([m.FOUND_PROCESS_PROBE]), 'only the probe: nothing loaded');
    assert.deepEqual(offSession.asked, [], 'the switch off: the process is not asked');
  } finally {
    srv.close();
    await t.cleanup();
  }
});

// A process js-debug's bootloader holds before its program: a stand-in bootloader (a --require
// that opens the inspector and waits in inspector.waitForDebugger(), as js-debug's does), and a
// program whose first request is made by its main module as it starts.
const bootloader = join(tmp, 'bootloader.cjs');
writeFileSync(
  bootloader,
  `const inspector = require('node:inspector');
inspector.open(0, '127.0.0.1', false);
process.stderr.write('Debugger listening on ' + inspector.url() + '\\n');
inspector.waitForDebugger();
`,
);
const heldProgram = join(tmp, 'held.js');
writeFileSync(
  heldProgram,
  `const http = require('node:http');
http.get(process.env.APP_URL + '/first', (res) => res.resume()).on('error', () => {});
setInterval(() => http.get(process.env.APP_URL + '/tick', (res) => res.resume()).on('error', () => {}), 100);
`,
);

test('auto attach: a process held by the bootloader before its program is traced from its start, with no mid-run note', async () => {
  vscode.config.values = { traceNodeSessions: 'all' };
  const t = setup();
  const { srv, url } = await server();
  try {
    const p = spawn(process.execPath, ['--require', bootloader, heldProgram], {
      env: { ...process.env, NODE_OPTIONS: '', APP_URL: url },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    processes.push(p);
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    const ws = await until('the inspector URL', () => /ws:\/\/\S+/.exec(err)?.[0]);
    vscode.debug.startSession(sessionOf('dbg-found-held', ws, FOUND));
    const entry = await until('the found process’s trace', () => t.traces.list().find((e) => /auto attach/.test(e.label)));
    await until('the preload loaded', () =>
      t.logs.some((l) => l.includes(`preload loaded into pid ${p.pid} through the debugger, before its program started`)),
    );
    // js-debug releases the process once attached.
    const release = new WebSocket(ws);
    await new Promise((r, j) => release.once('open', r).once('error', j));
    release.send(JSON.stringify({ id: 1, method: 'Runtime.runIfWaitingForDebugger' }));
    await until('the program’s first request and a tick in the trace', () => {
      const paths = entry.session.builder.trace.httpRequests.map((q) => new URL(q.reqURL).pathname);
      return paths.includes('/first') && paths.includes('/tick');
    });
    release.close();
    assert.deepEqual(
      entry.session.snapshot().stats.warnings.filter((w) => /mid-run/.test(w)),
      [],
      'nothing came before: no mid-run note',
    );
  } finally {
    srv.close();
    await t.cleanup();
  }
});
