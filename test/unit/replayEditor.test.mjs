// covers: src/extension/replayLaunch.ts, src/extension/replayCommands.ts, src/extension/debugProviders.ts, src/extension/nodeSessions.ts, src/extension/statusView.ts, src/extension/traceStore.ts, test/fixtures/vscode-stub/index.cjs
// needs: the build (dist/preload.cjs)
// Replay and recording in the editor (docs/replay.md, "In VS Code") through the real providers,
// collectors and programs, with the recording `vscode` stub: a "Net Trace" launch with
// `"record": true`, the `nettrace.record` setting and the panel's "Record the next run for
// replay" each record a run (a program calling a server that answers and one that resets
// mid-body); Replay This Run saves the recording 0600 and starts the same launch with it; that
// launch, resolved through the providers with the servers stopped, answers every request from the
// recording (the program sees the same answer and the same reset), marks them, and the status bar
// says "replay on"; a compound launch's trace (two services recording into one trace) is replayed
// by both, started again at once with the recording, into one replay trace; a user's own `node` configuration with `"replay"` replays too; in an untrusted
// workspace the replay is off in the collector and the preload alike; a recording that cannot be
// read starts nothing; a trace not recorded is said so, with a button that turns recording on.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs, root } from '../lib/bundleTs.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'nettrace-replayeditor-'));
after(() => process.env.KEEP_TMP || rmSync(tmp, { recursive: true, force: true }));
const m = bundleTs(
  [
    "export * from './src/extension/replayLaunch';",
    "export * from './src/extension/replayCommands';",
    "export * from './src/extension/nodeSessions';",
    "export * from './src/extension/traceAllNode';",
    "export * from './src/extension/debugProviders';",
    "export * from './src/extension/ruleService';",
    "export * from './src/extension/traceStore';",
    "export * from './src/extension/statusView';",
    "export { initSettingsGuard } from './src/extension/settingsGuard';",
    "export { toNodeLaunchConfig } from './src/extension/launchConfig';",
    "export { startCollector } from './src/collector/server';",
    "import * as vscodeStub from 'vscode'; export { vscodeStub };",
  ],
  { dir: tmp, name: 'replayEditor.cjs', vscodeStub: true },
);
const vscode = m.vscodeStub;
// The providers put the extension's preload (its path under the extension, `root`) in the launches' NODE_OPTIONS.
const preload = join(root, 'dist', 'preload.cjs');

// The program: one call answered, one reset in the middle of its body; it prints what it saw.
const program = join(tmp, 'app.js');
writeFileSync(
  program,
  `const http = require('node:http');
const get = (url) => new Promise((resolve) => {
  http.get(url, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (body += d));
    res.on('end', () => resolve(res.statusCode + ' ' + body));
    res.on('error', (e) => resolve('error ' + e.code + ' after ' + JSON.stringify(body)));
  }).on('error', (e) => resolve('error ' + e.code));
});
(async () => {
  const ok = await get(process.env.OK_URL + '/stock?sku=7');
  const reset = await get(process.env.RESET_URL + '/price');
  console.log(JSON.stringify([ok, reset]));
})();
`,
);

/** Two servers: one answers (a number per answer), one resets its connection after part of the body. */
async function servers() {
  let n = 0;
  const ok = createServer((req, res) => res.end(JSON.stringify({ answer: ++n, url: req.url })));
  const reset = createServer((req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('{"partial":');
    // A reset (RST) in the middle of the body: the program sees `read ECONNRESET`.
    setTimeout(() => res.socket.resetAndDestroy(), 30);
  });
  for (const s of [ok, reset]) await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const url = (s) => `http://127.0.0.1:${s.address().port}`;
  return {
    env: { OK_URL: url(ok), RESET_URL: url(reset) },
    stop: () => Promise.all([ok, reset].map((s) => new Promise((r) => (s.closeAllConnections(), s.close(r))))),
  };
}

/** Runs the program with the resolved launch's environment; its output line. */
function run(env, extra = {}) {
  const full = { ...process.env, ...extra };
  for (const [k, v] of Object.entries(env))
    if (v === null || v === undefined) delete full[k];
    else full[k] = v;
  const child = spawn(process.execPath, [program], { env: full, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((r) => child.on('exit', (code) => r({ code, out: out.trim(), err })));
}

function setup() {
  // Each test's store numbers its traces from session-1: the launches a test before kept are not this one's.
  m.replayState.launches.clear();
  const logs = [];
  const traces = new m.TraceStore({ startCollector: m.startCollector, changeIntervalMs: 20, idleTimeoutMs: 500 });
  const mem = new Map();
  const memento = { get: (k) => mem.get(k), update: async (k, v) => void mem.set(k, v) };
  m.initSettingsGuard(memento);
  const rules = new m.RuleService(traces, memento);
  const panel = { recordNext: [], show() {}, showTrace() {}, setNotTraced() {}, setRecordNext: (on) => panel.recordNext.push(on) };
  const helpers = { off() {}, startFor() {}, join() {}, finish: async () => {}, prune() {} };
  const storage = join(tmp, `storage-${Math.random().toString(36).slice(2)}`);
  const context = {
    subscriptions: [],
    extensionPath: root,
    workspaceState: memento,
    storageUri: { scheme: 'file', fsPath: storage },
    globalStorageUri: { scheme: 'file', fsPath: storage },
  };
  const nodeSessions = new m.NodeSessionSwitch();
  const s = { context, traces, panel, helpers, rules, nodeSessions, log: (l) => logs.push(l) };
  m.registerDebugProviders(s, () => {});
  m.registerReplay(s);
  const phase1 = (config) => vscode.debug.providers.get('nettrace')[0].resolveDebugConfiguration(undefined, structuredClone(config));
  const phase2 = (config) =>
    vscode.debug.providers.get(config.type)[0].resolveDebugConfigurationWithSubstitutedVariables(undefined, structuredClone(config));
  const cleanup = async () => {
    for (const d of context.subscriptions.reverse()) d.dispose?.();
    nodeSessions.dispose();
    await traces.dispose();
  };
  return { s, traces, panel, logs, phase1, phase2, cleanup };
}

let debugIds = 0;
/** Starts the resolved launch as VS Code would, runs the program, ends the session; the trace's key and what the program printed. */
async function session(t, resolved, extra) {
  const key = resolved.__nettraceSession;
  const id = `dbg-${++debugIds}`;
  vscode.debug.startSession({ id, configuration: resolved });
  const result = await run(resolved.env, extra);
  assert.equal(result.code, 0, result.err);
  const ended = new Promise((r) => t.traces.once('ended', r));
  vscode.debug.endSession({ id, configuration: resolved });
  await ended;
  return { key, out: JSON.parse(result.out) };
}

const LAUNCH = { type: 'nettrace', request: 'launch', name: 'Shop', program };

test('record from a launch configuration, Replay This Run with the servers stopped: every request answered as recorded, marked, the status bar says so', async () => {
  vscode.config.values = {};
  vscode.workspace.isTrusted = undefined;
  const t = setup();
  const srv = await servers();
  try {
    const resolved = await t.phase2(t.phase1({ ...LAUNCH, record: true, env: srv.env }));
    assert.equal(JSON.parse(resolved.env.NETTRACE_CONFIG).record, true, 'the preload records');
    assert.ok(resolved.env.NODE_OPTIONS.includes(preload), resolved.env.NODE_OPTIONS);
    const recorded = await session(t, resolved);
    assert.match(recorded.out[0], /^200 \{"answer":1,/);
    assert.match(recorded.out[1], /^error ECONNRESET/, 'the reset mid-body, as the program saw it');
    await srv.stop();
    const entry = t.traces.get(recorded.key);
    assert.equal(t.traces.items().find((i) => i.traceKey === recorded.key).recorded, true, 'the panel is told it can be replayed');

    vscode.debug.started.length = 0;
    await m.replayRun(t.s, entry.key);
    assert.equal(vscode.debug.started.length, 1, 'the same launch started again');
    const again = vscode.debug.started[0].config;
    assert.equal(again.name, 'Shop');
    assert.equal(again.program, program);
    assert.equal(again.__nettraceSession, undefined, 'the old session’s marker taken out');
    assert.equal(again.__nettrace.record.enabled, false, 'a replay is not recorded over');
    const file = again.__nettrace.replay.file;
    assert.equal(statSync(file).mode & 0o777, 0o600, 'the saved recording is 0600');

    const replaying = await t.phase2(again);
    const preloadConfig = JSON.parse(replaying.env.NETTRACE_CONFIG);
    assert.deepEqual(preloadConfig.replay, { unmatched: 'fail', timing: 'now' }, 'the preload replays');
    assert.equal(preloadConfig.record, undefined);
    const live = t.traces.get(replaying.__nettraceSession);
    assert.match(live.label, /\(replay of recording-\d+-session-\d+\.json\)/, 'the trace says it is a replay');
    const view = m.statusView(t.traces, { isOpen: false, traceKey: undefined }, undefined, m.liveReplay);
    assert.match(view.text, /^\$\(debug-restart\) Net Trace: \d+ requests?.*, replay on$/, 'the status bar says a replay is on');
    assert.match(view.tooltip, /every request is answered from recording-.*\.json, the network is off/);

    const replayed = await session(t, replaying);
    assert.deepEqual(replayed.out, recorded.out, 'the program saw what it saw when recorded, the servers stopped');
    const reqs = t.traces.fullTrace(t.traces.get(replayed.key)).httpRequests;
    assert.deepEqual(
      reqs.map((r) => [new URL(r.reqURL).pathname, r.replay?.outcome, r.replay?.end]),
      [
        ['/stock', 'replayed', 'completed'],
        ['/price', 'replayed', 'reset'],
      ],
    );
    const after = m.statusView(t.traces, { isOpen: true, traceKey: replayed.key }, undefined, m.liveReplay);
    assert.equal(after, undefined, 'nothing recording: no item (no replay on)');
  } finally {
    await srv.stop().catch(() => {});
    await t.cleanup();
  }
});

/** Starts resolved launches as VS Code starts a compound's, runs their programs at once, ends them; the trace's key and what each printed. */
async function sessions(t, resolved) {
  const ids = resolved.map(() => `dbg-${++debugIds}`);
  resolved.forEach((r, i) => vscode.debug.startSession({ id: ids[i], configuration: r }));
  const results = await Promise.all(resolved.map((r) => run(r.env)));
  for (const r of results) assert.equal(r.code, 0, r.err);
  const ended = new Promise((r) => t.traces.once('ended', r));
  resolved.forEach((r, i) => vscode.debug.endSession({ id: ids[i], configuration: r }));
  await ended;
  return { keys: resolved.map((r) => r.__nettraceSession), out: results.map((r) => JSON.parse(r.out)) };
}

test('a compound launch’s trace (two services, one trace): Replay This Run starts both with the recording, and they replay into one trace', async () => {
  vscode.config.values = {};
  vscode.workspace.isTrusted = undefined;
  const t = setup();
  const srv = await servers();
  try {
    // Two services of a compound, each with its own routes on the answering server (their answers are told apart).
    const api = { ...LAUNCH, name: 'API', record: true, env: { ...srv.env, OK_URL: `${srv.env.OK_URL}/api` } };
    const worker = { ...LAUNCH, name: 'Worker', record: true, env: { ...srv.env, OK_URL: `${srv.env.OK_URL}/worker` } };
    const started = await Promise.all([api, worker].map((c) => t.phase2(t.phase1(c))));
    const recorded = await sessions(t, started);
    assert.equal(recorded.keys[0], recorded.keys[1], 'the compound’s launches recorded into one trace');
    const key = recorded.keys[0];
    assert.deepEqual(recorded.out.map((o) => JSON.parse(o[0].slice(4)).url).sort(), ['/api/stock?sku=7', '/worker/stock?sku=7']);
    // A service restarted into the trace is one launch still.
    const restarted = await t.phase2(t.phase1(worker));
    assert.notEqual(restarted.__nettraceSession, key, 'the ended trace is joined by no one');
    m.noteLaunch(key, undefined, m.toNodeLaunchConfig(worker, {}));
    await srv.stop();

    vscode.debug.started.length = 0;
    await m.replayRun(t.s, key);
    assert.deepEqual(
      vscode.debug.started.map((s) => s.config.name),
      ['API', 'Worker'],
      'every launch that recorded into the trace, once each',
    );
    const files = new Set(vscode.debug.started.map((s) => s.config.__nettrace.replay.file));
    assert.equal(files.size, 1, 'all with the same recording');
    assert.ok(vscode.debug.started.every((s) => s.config.__nettrace.record.enabled === false && s.config.__nettraceSession === undefined));

    // Resolved at once, as VS Code resolves a compound's: the second joins the first's replay trace.
    const replaying = await Promise.all(vscode.debug.started.map((s) => t.phase2(s.config)));
    assert.equal(replaying[0].__nettraceSession, replaying[1].__nettraceSession, 'one replay trace, as the recorded run was one trace');
    for (const r of replaying) assert.ok(JSON.parse(r.env.NETTRACE_CONFIG).replay, 'each service replays');
    const replayed = await sessions(t, replaying);
    assert.deepEqual(replayed.out, recorded.out, 'each service saw what it saw when recorded, the servers stopped');
    const trace = t.traces.fullTrace(t.traces.get(replayed.keys[0]));
    // Named in the order their launches were prepared (which of the two first: VS Code's doing).
    const named = trace.description.split(' + ').sort();
    assert.equal(named.length, 2, trace.description);
    assert.match(named[0], /^API: app\.js \(replay of recording-.*\.json\)$/);
    assert.match(named[1], /^Worker: app\.js \(replay of recording-.*\.json\)$/);
    assert.deepEqual(trace.httpRequests.map((r) => [new URL(r.reqURL).pathname, r.replay?.outcome, r.replay?.end]).sort(), [
      ['/api/stock', 'replayed', 'completed'],
      ['/price', 'replayed', 'reset'],
      ['/price', 'replayed', 'reset'],
      ['/worker/stock', 'replayed', 'completed'],
    ]);
    assert.equal(trace.replay.counts.unmatched, 0);

    // A run of an earlier window (its launches not known): the launch configurations its description names, both.
    m.replayState.launches.delete(key);
    vscode.config.values = { configurations: [{ ...LAUNCH, name: 'Other', program: join(tmp, 'other.js') }, api, worker] };
    vscode.debug.started.length = 0;
    await m.replayRun(t.s, key);
    assert.deepEqual(
      vscode.debug.started.map((s) => [s.config.name, s.config.type, s.config.replay === files.values().next().value]),
      [
        ['API', 'nettrace', true],
        ['Worker', 'nettrace', true],
      ],
    );
  } finally {
    vscode.config.values = {};
    await srv.stop().catch(() => {});
    await t.cleanup();
  }
});

test('the nettrace.record setting and the toolbar’s toggle record; a user’s own node configuration replays; untrusted: no replay anywhere; a bad recording starts nothing; not recorded: said', async () => {
  vscode.config.values = { record: true };
  vscode.workspace.isTrusted = undefined;
  const t = setup();
  const srv = await servers();
  try {
    const bySetting = await t.phase2(t.phase1({ ...LAUNCH, env: srv.env }));
    assert.equal(JSON.parse(bySetting.env.NETTRACE_CONFIG).record, true, 'nettrace.record');
    const a = await session(t, bySetting);
    assert.ok(t.traces.fullTrace(t.traces.get(a.key)).exchanges.length >= 2);

    vscode.config.values = {};
    const plain = await t.phase2(t.phase1({ ...LAUNCH, env: srv.env }));
    assert.equal(JSON.parse(plain.env.NETTRACE_CONFIG).record, undefined, 'off by default');
    const b = await session(t, plain);
    assert.equal(t.traces.items().find((i) => i.traceKey === b.key).recorded, false);
    vscode.debug.started.length = 0;
    vscode.messages.length = 0;
    await m.replayRun(t.s, b.key);
    assert.equal(vscode.debug.started.length, 0, 'nothing broken started');
    assert.match(vscode.messages.at(-1), /^Net Trace: This run was not recorded for replay: its trace has no recorded exchanges/);
    m.setRecordNext(t.s);
    assert.equal(m.replayState.recordNext, true, '"Record the next run for replay" on');
    assert.deepEqual(t.panel.recordNext, [true], 'the toolbar follows');
    const byToggle = await t.phase2(t.phase1({ ...LAUNCH, env: srv.env }));
    assert.equal(JSON.parse(byToggle.env.NETTRACE_CONFIG).record, true, 'the toggle records the next run');
    const c = await session(t, byToggle);
    m.setRecordNext(t.s, false);
    await srv.stop();

    // The recording of the toggle's run, replayed by the user's own node configuration (traced by "all").
    await m.replayRun(t.s, c.key);
    const file = vscode.debug.started.at(-1).config.__nettrace.replay.file;
    vscode.config.values = { traceNodeSessions: 'all' };
    t.s.nodeSessions.mode = () => 'all';
    const own = { type: 'node', request: 'launch', name: 'Mine', program, env: srv.env, replay: file };
    // A launch.json's replay is shown before it acts (as its what-if rules are): Not now runs without it.
    const asked = [];
    vscode.prompts.push((msg, options, ...buttons) => (asked.push([msg, options.modal, buttons]), 'Not now'));
    const declined = await t.phase2(own);
    assert.match(
      asked[0][0],
      /^Net Trace: the launch configuration "Mine" replays .*recording-.*\.json: every request of the program is answered from that recording instead of the network/,
    );
    assert.deepEqual(asked[0].slice(1), [true, ['Allow', 'Not now']]);
    assert.equal(JSON.parse(declined.env.NETTRACE_CONFIG).replay, undefined, 'Not now: no replay this session');
    assert.equal(t.traces.get(declined.__nettraceSession).session.replay, undefined);
    // A launch.json cannot pass itself off as the panel's Replay This Run.
    vscode.prompts.push((msg) => (asked.push([msg]), 'Allow'));
    const mine = await t.phase2({ ...own, __nettraceReplayFromPanel: true });
    assert.equal(asked.length, 2, 'asked again: the mark’s value is the window’s own');
    assert.ok(JSON.parse(mine.env.NETTRACE_CONFIG).replay, 'the user’s own configuration replays');
    // Run before the same configuration is resolved again: a second launch of it prepared while the
    // first runs may join the first's trace (as a restart does), whose end then waits for both.
    const d = await session(t, mine);
    assert.deepEqual(d.out, c.out);
    const again = await t.phase2(own);
    assert.equal(asked.length, 2, 'allowed: not asked again for that configuration and file');
    assert.ok(JSON.parse(again.env.NETTRACE_CONFIG).replay);
    vscode.prompts.length = 0;

    // Untrusted: the launch's replay is off in the collector and in the preload (else every request would fail).
    vscode.workspace.isTrusted = false;
    const untrusted = await t.phase2(t.phase1({ ...LAUNCH, env: srv.env, replay: file }));
    assert.equal(JSON.parse(untrusted.env.NETTRACE_CONFIG).replay, undefined, 'no replay in the preload');
    assert.equal(t.traces.get(untrusted.__nettraceSession).session.replay, undefined, 'nor in the collector');
    vscode.prompts.length = 0;
    vscode.workspace.isTrusted = undefined;

    // A recording that cannot be read: nothing starts (never the network instead).
    vscode.messages.length = 0;
    vscode.prompts.push(
      () => 'Allow',
      () => 'Allow',
    );
    const missing = await t.phase2(t.phase1({ ...LAUNCH, env: srv.env, replay: join(tmp, 'gone.json') }));
    assert.equal(missing, undefined, 'not started');
    assert.match(
      vscode.messages.at(-1),
      /error: Net Trace: "Shop" was not started: its replay cannot be read — cannot read the recording .*gone\.json: no such file/,
    );
    const ownMissing = await t.phase2({ ...own, replay: join(tmp, 'gone.json') });
    assert.equal(ownMissing, undefined, 'the user’s own configuration is not run against the network instead');
  } finally {
    m.setRecordNext(t.s, false);
    await srv.stop().catch(() => {});
    await t.cleanup();
  }
});

test('the launch that replays a run, and the configurations an opened trace may be replayed with (pure)', () => {
  assert.deepEqual(m.recordReplayAttributes({ type: 'node', record: true, replay: 'r.json', replayTiming: 'recorded', headers: 'none' }), {
    record: true,
    replay: 'r.json',
    replayTiming: 'recorded',
  });
  assert.equal(m.replayPath('r.json', '/w/app', '/w'), '/w/app/r.json');
  assert.equal(m.replayPath('r.json', undefined, '/w'), '/w/r.json');
  assert.equal(m.replayPath('/x/r.json', '/w/app', '/w'), '/x/r.json');
  const launched = m.toNodeLaunchConfig({ ...LAUNCH, record: true, headers: 'names' }, {});
  const again = m.replayLaunchOf({ ...launched, __nettraceSession: 'session-3', __workspaceFolder: '/w', cwd: '/w' }, '/s/r.json');
  assert.equal(again.__nettraceSession, undefined);
  assert.equal(again.__workspaceFolder, undefined);
  assert.equal(again.cwd, '/w');
  assert.equal(again.__nettrace.headers, 'names', 'the run’s own tracing options');
  assert.equal(again.__nettrace.record.enabled, false);
  assert.deepEqual(again.__nettrace.replay, {
    file: '/s/r.json',
    unmatched: 'fail',
    timing: 'now',
    dates: 'shift',
    ignoreQuery: [],
    ignoreFields: [],
    matchHeaders: [],
    ignoreHost: false,
  });
  const configs = [
    { type: 'nettrace', request: 'launch', name: 'A', program: '/w/a.ts' },
    { type: 'node', request: 'launch', name: 'B', program: '/w/b.ts' },
    { type: 'node', request: 'attach', name: 'C', port: 9229 },
    { type: 'node-terminal', request: 'launch', name: 'D', command: 'npm start' },
  ];
  const describe = (c) => `${c.name}: ${c.program.split('/').pop()}`;
  assert.deepEqual(
    m.launchCandidates(configs, 'B: b.ts', describe).map((c) => c.name),
    ['B', 'A'],
    'the matching one first; only those a replay can start',
  );
  const usable = configs.slice(0, 2);
  assert.deepEqual(
    m.namedLaunches(usable, 'A: a.ts + B: b.ts', describe).map((c) => c.name),
    ['A', 'B'],
    'a compound’s trace: every service it names, each found once',
  );
  assert.deepEqual(
    m.namedLaunches(usable, 'B: b.ts', describe).map((c) => c.name),
    ['B'],
  );
  assert.deepEqual(
    m.namedLaunches(usable, 'A: a.ts + E: e.ts', describe).map((c) => c.name),
    ['A'],
    'the one found',
  );
  assert.deepEqual(
    m.namedLaunches([...usable, { ...configs[0], name: 'A' }], 'A: a.ts + B: b.ts', describe),
    [],
    'a service found twice: the user picks',
  );
  assert.deepEqual(m.namedLaunches(usable, 'X: x.ts', describe), []);
  const restart = { ...launched, __nettraceSession: 'session-9', __sessionId: 'x' };
  assert.equal(m.sameLaunch(launched, restart), true, 'a restart is the same launch');
  assert.equal(m.sameLaunch(launched, { ...launched, name: 'Other' }), false);
  assert.equal(m.sameLaunch(launched, { ...launched, __nettrace: { ...launched.__nettrace, headers: 'all' } }), false);
  assert.deepEqual(m.replayConfigOf(configs[1], '/r.json'), { ...configs[1], type: 'nettrace', replay: '/r.json', record: false });
  assert.equal(m.replayConfigOf(configs[2], '/r.json'), undefined);
  const tracing = launched.__nettrace;
  assert.equal(m.withRecordNext({ ...tracing, record: { ...tracing.record, enabled: false } }, true).record.enabled, true);
  assert.equal(
    m.withRecordNext({ ...tracing, record: { ...tracing.record, enabled: false }, replay: again.__nettrace.replay }, true).record.enabled,
    false,
    'a replay is never recorded over',
  );
  assert.equal(m.isRecorded({ exchanges: [] }), false);
  assert.equal(m.isRecorded({}), false);
});
