// covers: src/extension/, src/collector/server.ts
// needs: the build (dist/preload.cjs)
// "Net Trace: Trace All Node Debugging" (src/extension/nodeSessions.ts, traceAllNode.ts and the
// Node provider of debugProviders.ts) against the recording `vscode` stub
// (test/fixtures/vscode-stub) and real collectors: which Node configurations are traced and which
// are not (and why); with the switch off a launch is handed back unchanged; with it on, a plain
// `node` launch and a `node-terminal` one get the preload (the user's NODE_OPTIONS kept) and a
// real program run with the resolved environment — parent and forked child — records into the
// session's trace; js-debug's child sessions are left alone; a remote attach says why it is not
// traced; a local attach loads the preload into a running process through the target session's
// `evaluate` and its trace says tracing started mid-run; a JavaScript Debug Terminal created
// through js-debug's options provider gets the preload, and each command typed into it (grouped by
// /proc ancestry) records into a trace of its own, named by its command line.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs, root } from '../lib/bundleTs.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'nettrace-allnode-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const m = bundleTs(
  [
    "export * from './src/extension/nodeSessions';",
    "export * from './src/extension/traceAllNode';",
    "export * from './src/extension/terminalRouter';",
    "export * from './src/extension/debugProviders';",
    "export * from './src/extension/ruleService';",
    "export * from './src/extension/traceStore';",
    "export { startCollector } from './src/collector/server';",
    "import * as vscodeStub from 'vscode'; export { vscodeStub };",
  ],
  { dir: tmp, name: 'allnode.cjs', vscodeStub: true },
);
const vscode = m.vscodeStub;
const preload = join(root, 'dist', 'preload.cjs');

// ---- the rules (pure) ------------------------------------------------------------------------

test('planNodeSession: which Node configurations "all" traces, which it leaves alone, and why', () => {
  const launch = { type: 'node', request: 'launch', name: 'App', program: '/w/app.js' };
  assert.deepEqual(m.planNodeSession(launch, 'netTraceOnly', {}), { action: 'ignore' }, 'the switch off: nothing');
  const traced = m.planNodeSession(launch, 'all', { headers: 'names', bodies: 4096 });
  assert.equal(traced.action, 'trace');
  assert.equal(traced.config.type, 'node', 'the type stays js-debug’s');
  assert.equal(traced.config.program, '/w/app.js');
  assert.equal(traced.config.__nettrace.headers, 'names', 'tracing options from the nettrace.* settings');
  assert.deepEqual(traced.config.__nettrace.bodies, { enabled: true, maxBytes: 4096 });
  for (const type of ['pwa-node', 'node-terminal']) assert.equal(m.planNodeSession({ ...launch, type }, 'all', {}).action, 'trace', type);
  for (const runtimeExecutable of ['npm', 'pnpm', 'npx', '/usr/local/bin/yarn', 'nodemon', 'C:\\Program Files\\nodejs\\node.exe'])
    assert.equal(m.planNodeSession({ ...launch, runtimeExecutable }, 'all', {}).action, 'trace', runtimeExecutable);

  for (const [config, why] of [
    [{ ...launch, type: 'chrome' }, 'not a Node debugger'],
    [{ ...launch, __pendingTargetId: 't1', request: 'attach' }, 'js-debug’s child session: the process inherited the preload'],
    [
      { type: 'node-terminal', request: 'attach', name: 'Node.js Process', delegateId: 3 },
      'a debug terminal’s process: it has the terminal’s environment',
    ],
    [{ ...launch, __nettrace: { headers: 'values' } }, 'a nettrace launch: traced with its own options'],
    [{ ...launch, __nettraceSession: 'session-1' }, 'already injected'],
  ])
    assert.deepEqual(m.planNodeSession(config, 'all', {}), { action: 'ignore' }, why);

  const reasons = [
    [
      { type: 'node', request: 'attach', name: 'Attach', address: 'api.internal', port: 9229 },
      /"Attach" attaches to a process on api\.internal.*Remote - SSH/,
    ],
    [
      { type: 'pwa-node', request: 'attach', name: 'Docker', port: 9229, remoteRoot: '/app' },
      /"Docker" attaches to a process on a remote file system/,
    ],
    [{ ...launch, runtimeExecutable: 'deno' }, /runs Deno.*run the program with Node\.js/],
    [{ ...launch, runtimeExecutable: '/home/u/.bun/bin/bun' }, /runs Bun/],
    [{ ...launch, runtimeExecutable: 'C:\\app\\node_modules\\.bin\\electron.cmd' }, /an Electron main process, which rejects --require/],
    [{ ...launch, remoteRoot: '/srv/app' }, /remote target \(remoteRoot\).*Remote - SSH, WSL, Dev Containers/],
  ];
  for (const [config, re] of reasons) {
    const plan = m.planNodeSession(config, 'all', {});
    assert.equal(plan.action, 'notTraced', JSON.stringify(config));
    assert.match(plan.reason, re);
  }

  for (const address of [undefined, 'localhost', '127.0.0.1']) {
    const attach = m.planNodeSession({ type: 'node', request: 'attach', name: 'Attach', port: 9229, address }, 'all', { headers: 'names' });
    assert.equal(attach.action, 'attach', `a local attach (${address}) is traced through the debugger`);
    assert.equal(attach.tracing.headers, 'names');
  }

  const errors = [];
  const bad = m.planNodeSession(launch, 'all', { headers: 'everything' }, (e) => errors.push(e.message));
  assert.equal(bad.config.__nettrace.headers, 'values', 'an invalid setting: the default');
  assert.match(errors[0], /nettrace\.headers/);
  assert.equal(m.traceNodeSessionsMode('all'), 'all');
  assert.equal(m.traceNodeSessionsMode('yes'), 'netTraceOnly');
  assert.equal(m.runtimeName('/usr/bin/Node.EXE'), 'node');
});

// ---- the providers, with real collectors and programs ---------------------------------------

function setup() {
  const logs = [];
  const log = (l) => logs.push(l);
  const traces = new m.TraceStore({ startCollector: m.startCollector, changeIntervalMs: 20, idleTimeoutMs: 500 });
  const mem = new Map();
  const rules = new m.RuleService(traces, { get: (k) => mem.get(k), update: async (k, v) => void mem.set(k, v) });
  const panel = {
    shown: [],
    notTraced: [],
    show() {},
    showTrace: (k) => panel.shown.push(k),
    setNotTraced: (r) => panel.notTraced.push(r),
  };
  const helpers = { off() {}, startFor() {}, join() {}, finish: async () => {}, prune() {} };
  const context = { subscriptions: [], extensionPath: root };
  const nodeSessions = new m.NodeSessionSwitch();
  nodeSessions.onDidChange(() => panel.setNotTraced(nodeSessions.lastNotTraced));
  const s = { context, traces, panel, helpers, rules, nodeSessions, log };
  m.registerDebugProviders(s, () => {});
  m.registerTraceAllNode(s, nodeSessions);
  const resolve = (type, config) =>
    vscode.debug.providers.get(type)[0].resolveDebugConfigurationWithSubstitutedVariables(undefined, structuredClone(config));
  const cleanup = async () => {
    for (const d of context.subscriptions.reverse()) d.dispose?.();
    nodeSessions.dispose();
    await traces.dispose();
  };
  return { s, traces, panel, logs, resolve, cleanup, item: vscode.window.statusItems.at(-1) };
}

/** A local HTTP server answering every request with its path. */
async function server() {
  const srv = createServer((req, res) => res.end(req.url));
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { srv, url: `http://127.0.0.1:${srv.address().port}` };
}

// The program: requests /parent, forks itself, the child requests /child.
const program = join(tmp, 'app.js');
writeFileSync(
  program,
  `const http = require('node:http');
const { fork } = require('node:child_process');
const get = (path) => new Promise((r) => http.get(process.env.APP_URL + path, (res) => { res.resume(); res.on('end', r); }).on('error', r));
(async () => {
  if (process.argv[2] === 'child') { await get('/child'); return; }
  await get('/parent');
  await new Promise((r) => fork(__filename, ['child']).on('exit', r));
})();
`,
);

/** Runs the program with `env` over this process's (null removes a variable) and waits for it. */
function run(env, extra) {
  const full = { ...process.env, ...extra };
  for (const [k, v] of Object.entries(env))
    if (v === null || v === undefined) delete full[k];
    else full[k] = v;
  const child = spawn(process.execPath, [program], { env: full, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((r) => child.on('exit', (code) => r({ code, stderr })));
}

async function requestsOf(traces, key, n) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const reqs = traces.get(key).session.builder.trace.httpRequests;
    if (reqs.length >= n || Date.now() > deadline) return reqs;
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('the switch: off leaves a node launch unchanged; on traces it (parent and forked child), node-terminal too; child sessions and a remote attach are not injected', async () => {
  vscode.config.values = {};
  const t = setup();
  const { srv, url } = await server();
  try {
    const launch = {
      type: 'node',
      request: 'launch',
      name: 'App',
      program,
      env: { NODE_OPTIONS: '--max-old-space-size=200', APP_URL: url },
    };
    assert.equal(t.item.visible, true);
    assert.match(t.item.text, /circle-slash/);
    assert.match(t.item.tooltip, /only "Net Trace" launch configurations/);
    const off = await t.resolve('node', launch);
    assert.deepEqual(off, launch, 'off: the launch (and its env) unchanged');
    assert.equal(t.traces.list().length, 0, 'no collector started');

    await vscode.commands.executeCommand(m.TOGGLE_COMMAND);
    assert.equal(vscode.config.values.traceNodeSessions, 'all', 'the command sets the setting');
    assert.match(t.item.text, /pulse/);
    assert.match(t.item.tooltip, /every Node debug session/);

    const on = await t.resolve('node', launch);
    assert.equal(on.type, 'node');
    assert.equal(on.program, program);
    assert.equal(
      on.env.NODE_OPTIONS,
      `--require ${JSON.stringify(preload)} --max-old-space-size=200`,
      'the preload first, the user’s options kept',
    );
    assert.equal(on.env.APP_URL, url);
    const config = JSON.parse(on.env.NETTRACE_CONFIG);
    assert.ok(config.ipcPath, 'the collector’s IPC path');
    assert.ok(on.skipFiles.includes(preload), 'the preload skipped when stepping');
    const key = on.__nettraceSession;
    assert.ok(t.traces.get(key), 'a session prepared');
    vscode.debug.startSession({ id: 'dbg-1', configuration: on });
    assert.deepEqual(t.panel.shown, [key], 'the panel shows the session when it starts');

    const result = await run(on.env);
    assert.equal(result.code, 0, result.stderr);
    const reqs = await requestsOf(t.traces, key, 2);
    assert.deepEqual(reqs.map((r) => new URL(r.reqURL).pathname).sort(), ['/child', '/parent'], 'the parent and the forked child traced');
    assert.equal(new Set(reqs.map((r) => r.pid)).size, 2, 'two processes');

    // js-debug's session for the child process: not injected again.
    const child = { type: 'pwa-node', request: 'attach', name: 'app.js [123]', __pendingTargetId: 'abc' };
    assert.deepEqual(await t.resolve('pwa-node', child), child);

    // node-terminal (npm scripts' Debug): the command's environment gets the preload.
    const term = await t.resolve('node-terminal', {
      type: 'node-terminal',
      request: 'launch',
      name: 'npm run dev',
      command: 'npm run dev',
    });
    assert.equal(term.type, 'node-terminal');
    assert.equal(term.command, 'npm run dev');
    assert.match(term.env.NODE_OPTIONS, /^--require ".*preload\.cjs"$/);

    // A remote attach: launched unchanged, and said why.
    const remote = { type: 'node', request: 'attach', name: 'Remote', address: '10.1.2.3', port: 9229 };
    assert.deepEqual(await t.resolve('node', remote), remote);
    assert.match(t.item.tooltip, /Not traced: "Remote" attaches to a process on 10\.1\.2\.3/);
    assert.match(t.panel.notTraced.at(-1), /"Remote" attaches/, 'the panel’s empty state is told');
    // The next traced session clears the reason.
    await t.resolve('pwa-node', { ...launch, type: 'pwa-node' });
    assert.equal(t.panel.notTraced.at(-1), undefined);
    assert.doesNotMatch(t.item.tooltip, /Not traced/);

    // Tracing cannot start (an invalid trace rule): the user's session starts as it would without Net Trace.
    vscode.config.values.rules = [{ id: 'bad', condition: 'host == ', action: 'skip', enabled: true }];
    assert.deepEqual(await t.resolve('node', launch), launch, 'launched unchanged');
    assert.match(vscode.messages.at(-1), /error: Net Trace: the trace rules are not valid/);
    assert.match(t.item.tooltip, /Not traced: "App" was started without tracing: the trace rules or its envFile could not be used/);
    delete vscode.config.values.rules;

    await vscode.commands.executeCommand(m.TOGGLE_COMMAND);
    assert.equal(vscode.config.values.traceNodeSessions, 'netTraceOnly');
    assert.deepEqual(await t.resolve('node', launch), launch, 'off again: unchanged');
  } finally {
    srv.close();
    await t.cleanup();
  }
});

test('JavaScript Debug Terminal: js-debug’s options get the preload while the switch is on; one live trace per command typed into it', async () => {
  vscode.config.values = {};
  let provider;
  const api = {
    registerDebugTerminalOptionsProvider: (p) => {
      provider = p;
      return { dispose: () => (provider = undefined) };
    },
  };
  vscode.extensions.installed.set('ms-vscode.js-debug', { isActive: false, exports: undefined, activate: async () => api });
  const t = setup();
  const { srv, url } = await server();
  // js-debug's bootloader stands in as a file that records it ran.
  const boot = join(tmp, 'boot.js');
  const bootLog = join(tmp, 'boot.log');
  writeFileSync(boot, `require('node:fs').appendFileSync(${JSON.stringify(bootLog)}, process.pid + '\\n');`);
  try {
    assert.equal(provider, undefined, 'js-debug is not activated while the switch is off');
    await vscode.commands.executeCommand(m.TOGGLE_COMMAND);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(provider, 'registered once the switch is on');
    const jsDebugOptions = {
      name: 'JavaScript Debug Terminal',
      env: { NODE_OPTIONS: ` --require ${boot} `, VSCODE_INSPECTOR_OPTIONS: ':{}' },
    };
    const options = await provider.provideTerminalOptions(structuredClone(jsDebugOptions));
    assert.equal(options.name, 'JavaScript Debug Terminal');
    assert.equal(options.env.NODE_OPTIONS, `--require ${JSON.stringify(preload)} --require ${boot}`, 'js-debug’s bootloader kept');
    assert.equal(options.env.VSCODE_INSPECTOR_OPTIONS, ':{}');
    assert.equal(t.traces.list().length, 0, 'no trace before a command runs');

    // The terminal's shell, and two commands typed into it, each forking a child.
    const env = { ...process.env, ...options.env, APP_URL: url };
    const shell = spawn(
      'sh',
      [
        '-c',
        `sleep 0.5; ${JSON.stringify(process.execPath)} ${JSON.stringify(program)}; ${JSON.stringify(process.execPath)} ${JSON.stringify(program)} second; true`,
      ],
      {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    shell.stderr.on('data', (d) => (stderr += d));
    const terminal = { creationOptions: options, processId: Promise.resolve(shell.pid) };
    vscode.window.openTerminal(terminal);
    const code = await new Promise((r) => shell.on('exit', r));
    assert.equal(code, 0, stderr);

    const deadline = Date.now() + 10_000;
    let entries = [];
    while (Date.now() < deadline) {
      entries = t.traces.list().filter((e) => e.session?.builder.trace.httpRequests.length === 2);
      if (entries.length === 2) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const labels = entries.map((e) => e.label.replace(/ — .*/, '')).sort();
    assert.deepEqual(
      labels,
      ['node app.js (JavaScript Debug Terminal)', 'node app.js second (JavaScript Debug Terminal)'],
      'one trace per command, named by it',
    );
    for (const e of entries) {
      const reqs = e.session.builder.trace.httpRequests;
      assert.deepEqual(
        reqs.map((r) => new URL(r.reqURL).pathname).sort(),
        ['/child', '/parent'],
        `${e.label}: the command’s process and its child`,
      );
      assert.equal(new Set(reqs.map((r) => r.pid)).size, 2);
    }
    assert.equal(readFileSync(bootLog, 'utf8').trim().split('\n').length, 4, 'js-debug’s bootloader ran in each process');

    // Each command's trace ends a few seconds after its processes are gone; the terminal's close ends what is left.
    vscode.window.closeTerminal(terminal);
    const ended = Date.now() + 8000;
    while (entries.some((e) => e.origin === 'current') && Date.now() < ended) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      entries.map((e) => e.origin),
      ['earlier', 'earlier'],
    );

    // A node-terminal launch's terminal: its env already carries the launch's trace.
    const launched = {
      name: 'npm run dev',
      env: { NODE_OPTIONS: `--require ${JSON.stringify(preload)}`, NETTRACE_CONFIG: '{"ipcPath":"/x"}' },
    };
    assert.deepEqual(await provider.provideTerminalOptions(structuredClone(launched)), launched);

    // The trace rules go into the terminal's NETTRACE_CONFIG, so they apply from each process's first request.
    vscode.config.values.rules = [{ id: 'skip-health', condition: 'path == "/health"', action: 'skip', enabled: true }];
    const withRules = await provider.provideTerminalOptions(structuredClone(jsDebugOptions));
    assert.deepEqual(
      JSON.parse(withRules.env.NETTRACE_CONFIG).rules.map((r) => r.id),
      ['skip-health'],
    );
    vscode.config.values.rules = [{ id: 'bad', condition: 'path == ', action: 'skip', enabled: true }];
    const invalid = await provider.provideTerminalOptions(structuredClone(jsDebugOptions));
    assert.deepEqual(invalid, jsDebugOptions, 'invalid rules: the terminal as js-debug made it');
    assert.match(vscode.messages.at(-1), /error: Net Trace: the trace rules are not valid/);
    delete vscode.config.values.rules;

    await vscode.commands.executeCommand(m.TOGGLE_COMMAND);
    const untouched = await provider.provideTerminalOptions(structuredClone(jsDebugOptions));
    assert.deepEqual(untouched, jsDebugOptions, 'off: the terminal’s options unchanged');
  } finally {
    srv.close();
    await t.cleanup();
  }
});

test('terminal router: a process’s command from /proc ancestry, the command line as the user typed it, the hello among the first lines', () => {
  const procs = { 100: [1, 'bash'], 200: [100, 'node'], 300: [200, 'node (worker)'], 400: [1, 'orphan'] };
  const read = (path) => {
    const pid = Number(/\/proc\/(\d+)\/stat/.exec(path)?.[1]);
    if (!procs[pid]) throw new Error('ENOENT');
    return `${pid} (${procs[pid][1]}) S ${procs[pid][0]} 1 1 0`;
  };
  assert.equal(m.commandRoot(300, 100, read), 200, 'a child: its command is its parent');
  assert.equal(m.commandRoot(200, 100, read), 200, 'the command itself');
  assert.equal(m.commandRoot(400, 100, read), undefined, 'reparented to init: no command');
  assert.equal(m.commandRoot(100, 100, read), undefined, 'the shell itself');
  assert.equal(m.commandRoot(999, 100, read), undefined, 'gone');
  // The parents the hellos gave: a child whose command exited before the child's connection was
  // routed (reparented to init, or gone from /proc itself) still belongs to that command.
  const known = new Map([
    [400, 200],
    [999, 300],
  ]);
  assert.equal(m.commandRoot(400, 100, read, known), 200, 'reparented: its hello names its parent');
  assert.equal(m.commandRoot(999, 100, read, known), 200, 'gone from /proc: its hello and its parent’s');
  assert.equal(
    m.parentPid(1, () => '1 (a) b) c) S 0 1'),
    undefined,
    'a command name with ") " in it; ppid 0',
  );
  assert.equal(m.commandLabel(['/usr/bin/node', '/usr/lib/node_modules/npm/bin/npm-cli.js', 'run', 'start']), 'npm run start');
  assert.equal(
    m.commandLabel(['/home/u/.nvm/versions/node/v22/bin/node', '/home/u/shop/shop.js', '--port', '80']),
    'node shop.js --port 80',
  );
  assert.equal(m.commandLabel(['node', '--test']), 'node --test');
  const hello = Buffer.from('{"type":"stats","producedEvents":0}\n{"type":"hello","pid":4242,"ppid":1}\n');
  assert.equal(m.helloPid(hello), 4242, 'a due stats line may come first');
  assert.deepEqual(m.helloOf(Buffer.from('{"type":"hello","pid":7,"ppid":6}\n')), { pid: 7, ppid: 6 });
  assert.deepEqual(m.helloOf(hello), { pid: 4242 }, 'ppid 1 (init) names no command');
  assert.equal(m.helloPid(Buffer.from('{"type":"hello","pid":7')), 'more');
  assert.equal(m.helloPid(Buffer.from('\x00\x01binary\n')), undefined);
});

test('terminal router: a command that exited before its stream was read is labelled by its hello’s argv, not its pid', async () => {
  const { createConnection } = await import('node:net');
  const labels = [];
  const router = new m.TerminalRouter({
    shellPid: () => 100,
    // The process is gone: /proc has nothing of it (its parent, the shell, is in its hello).
    readProc: () => {
      throw new Error('ENOENT');
    },
    open: async (label) => (labels.push(label), undefined),
    idle: () => {},
  });
  const routerPath = await router.listen();
  try {
    const argv = ['/usr/bin/node', '/w/app.js', '--token', 's3cret'];
    const c = createConnection(routerPath);
    c.end(`${JSON.stringify({ type: 'hello', pid: 4242, ppid: 100, argv })}\n`);
    for (let i = 0; i < 100 && labels.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(labels, ['node app.js --token <redacted>']);
  } finally {
    await router.close();
  }
});

test('terminal router: a short program whose whole stream came with its hello, closed before its command’s trace opened, is relayed whole', async () => {
  const { createConnection, createServer: netServer } = await import('node:net');
  const dir = mkdtempSync(join(tmp, 'router-'));
  // The command's collector: what it receives, once its peer ends.
  const received = [];
  const collector = netServer((s) => {
    let text = '';
    s.on('data', (d) => (text += d));
    s.on('end', () => received.push(text));
  });
  const ipcPath = join(dir, 'c.sock');
  await new Promise((r) => collector.listen(ipcPath, r));
  let openNow;
  const opened = new Promise((r) => (openNow = r));
  const router = new m.TerminalRouter({
    shellPid: () => undefined,
    // The trace opens late (a collector started on a busy machine).
    open: async () => (await opened, { key: 'k', ipcPath }),
    idle: () => {},
  });
  const routerPath = await router.listen();
  try {
    const stream = '{"type":"hello","pid":4242,"ppid":1}\n{"type":"record","kind":"httpRequest","id":"r1","fields":{}}\n{"type":"exit"}\n';
    const c = createConnection(routerPath);
    c.end(stream);
    await new Promise((r) => c.on('close', r));
    await new Promise((r) => setTimeout(r, 100));
    openNow();
    for (let i = 0; i < 100 && received.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(received, [stream]);
  } finally {
    await router.close();
    collector.close();
  }
});

test('attach: the preload is loaded into the attached process through the debugger; the trace says tracing started mid-run', async () => {
  vscode.config.values = { traceNodeSessions: 'all' };
  const t = setup();
  const { srv, url } = await server();
  try {
    const attach = { type: 'pwa-node', request: 'attach', name: 'Attach to shop', port: 9229 };
    const resolved = await t.resolve('pwa-node', attach);
    const { __nettraceSession: key, __nettraceAttach, ...rest } = resolved;
    assert.deepEqual(rest, attach, 'the attach configuration otherwise unchanged');
    assert.equal(__nettraceAttach, true);
    assert.ok(t.traces.get(key), 'its trace prepared');
    // js-debug: the attach session, and the target's child session. The child's `evaluate` runs
    // the expression in a real process already running (started without the preload), which then
    // makes a request.
    const root = {
      id: 'dbg-attach',
      name: 'Attach to shop',
      configuration: resolved,
      customRequest: async () => Promise.reject(new Error('no target')),
    };
    const evaluated = [];
    const child = {
      id: 'dbg-child',
      name: 'shop [1234]',
      parentSession: root,
      configuration: { type: 'pwa-node', request: 'attach', __pendingTargetId: 't1' },
      customRequest: async (command, args) => {
        assert.equal(command, 'evaluate');
        assert.equal(args.context, 'repl');
        // The load expression answers STILL_STARTING and loads at the next turn of the loop: the
        // program asks again until it has the load's answer (this stub is one evaluate, one process).
        const code = [
          "const http = require('node:http');",
          'setTimeout(function ask() {',
          '  const r = (0, eval)(process.env.EXPR);',
          '  if (r === process.env.STILL) return setTimeout(ask, 10);',
          "  process.stdout.write(JSON.stringify(r) + '\\n');",
          "  http.get(process.env.APP_URL + '/after-attach', (res) => res.resume());",
          '}, 100);',
        ].join('\n');
        const p = spawn(process.execPath, ['-e', code], {
          env: { ...process.env, NODE_OPTIONS: '', EXPR: args.expression, STILL: m.STILL_STARTING, APP_URL: url },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        p.stdout.on('data', (d) => (out += d));
        await new Promise((r) => p.on('exit', r));
        evaluated.push(out);
        // js-debug quotes a string result in the REPL.
        return { result: `'${JSON.parse(out.trim())}'` };
      },
    };
    vscode.debug.startSession(root);
    vscode.debug.startSession(child);
    const reqs = await requestsOf(t.traces, key, 1);
    assert.deepEqual(
      reqs.map((r) => new URL(r.reqURL).pathname),
      ['/after-attach'],
    );
    // The program exits after its request: wait for the evaluate's answer too.
    for (const deadline = Date.now() + 5000; !evaluated.length && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
    assert.match(evaluated[0], /nettrace: tracing from now in pid \d+/);
    const deadline = Date.now() + 3000;
    let warnings = [];
    while (Date.now() < deadline) {
      warnings = t.traces.get(key).session.snapshot().stats.warnings;
      if (warnings.some((w) => /tracing started mid-run/.test(w))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(
      warnings.some((w) =>
        /^tracing started mid-run at \d{4}-\d\d-\d\dT.* in pid \d+: loaded through the debugger when "Attach to shop" attached/.test(w),
      ),
      JSON.stringify(warnings),
    );
  } finally {
    srv.close();
    await t.cleanup();
  }
});

test('attach: when the session ends, the preload is taken out of the process through its inspector', async () => {
  vscode.config.values = { traceNodeSessions: 'all' };
  const t = setup();
  const { srv, url } = await server();
  let program;
  try {
    const resolved = await t.resolve('pwa-node', { type: 'pwa-node', request: 'attach', name: 'Attach to api', port: 9229 });
    const key = resolved.__nettraceSession;
    const root = {
      id: 'dbg-attach-2',
      name: 'Attach to api',
      configuration: resolved,
      customRequest: () => Promise.reject(new Error('no target')),
    };
    let out = '';
    const child = {
      id: 'dbg-child-2',
      name: 'api [1]',
      parentSession: root,
      configuration: { type: 'pwa-node', request: 'attach', __pendingTargetId: 't2' },
      // The target: a running process with an inspector; it makes a request once the preload is in,
      // then says when no hook of Net Trace is left in it.
      customRequest: async (_command, args) => {
        const code = [
          "const dc = require('node:diagnostics_channel');",
          // Asked again until the load (at the next turn of the loop) answered, as in the test above.
          '(function ask() {',
          '  const r = (0, eval)(process.env.EXPR);',
          '  if (r === process.env.STILL) return setTimeout(ask, 10);',
          "  process.stdout.write(JSON.stringify(r) + '\\n');",
          "  require('node:http').get(process.env.APP_URL + '/while-attached', (res) => res.resume());",
          '  const poll = setInterval(() => {',
          "    if (dc.hasSubscribers('http.client.request.start') || globalThis[Symbol.for('nettrace.detach')]) return;",
          "    process.stdout.write('no hook left\\n');",
          '    clearInterval(poll);',
          '  }, 20);',
          '})();',
        ].join('\n');
        program = spawn(process.execPath, ['--inspect=127.0.0.1:0', '-e', code], {
          env: { ...process.env, NODE_OPTIONS: '', EXPR: args.expression, STILL: m.STILL_STARTING, APP_URL: url },
          stdio: ['ignore', 'pipe', 'ignore'],
        });
        program.stdout.on('data', (d) => (out += d));
        while (!out.includes('\n')) await new Promise((r) => setTimeout(r, 20));
        return { result: `'${JSON.parse(out.split('\n')[0])}'` };
      },
    };
    vscode.debug.startSession(root);
    vscode.debug.startSession(child);
    assert.deepEqual(
      (await requestsOf(t.traces, key, 1)).map((r) => new URL(r.reqURL).pathname),
      ['/while-attached'],
    );
    assert.doesNotMatch(out, /no hook left/, 'hooked while attached');
    // The program's request can reach the trace before this fake debugger hands the load's answer
    // back (it polls the program's output): the session ends once the extension has the answer,
    // as a user's would, or there is no process on record to detach yet.
    const loaded = () => t.logs.some((l) => l.includes(`${key}: preload loaded into pid ${program.pid} `));
    for (const deadline = Date.now() + 5000; !loaded() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 10));
    assert.ok(loaded(), t.logs.join('\n'));
    vscode.debug.endSession(root); // the debugger detached
    for (const deadline = Date.now() + 5000; !out.includes('no hook left') && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /no hook left/, t.logs.join('\n'));
    // The program can say so before the evaluate that detached it has answered the extension,
    // which logs the detach then.
    const detached = () => t.logs.some((l) => l.includes(`${key}: nettrace: detached from pid ${program.pid} `));
    for (const deadline = Date.now() + 5000; !detached() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    assert.ok(detached(), t.logs.join('\n'));
  } finally {
    program?.kill('SIGKILL');
    srv.close();
    await t.cleanup();
  }
});
