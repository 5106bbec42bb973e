// covers: src/trace/contract/redact.ts, src/extension/, src/trace/formats/har.ts,
//   src/trace/formats/traceFile.ts, src/collector/server.ts
// needs: the build (dist/cli.cjs)
// Command-line secrets in trace labels and descriptions (issue 48, item 1): a command typed into a
// JavaScript Debug Terminal with Trace All on, `node app.js --db-password=hunter2 --token
// ghp_SECRET123`, names its trace. Its secret options are redacted — as in the trace's
// `processes[].argv`, by the one redaction (src/trace/contract/redact.ts redactArgv) — in every place the
// command line is kept or shown: the trace's label (the panel's trace picker), its `description`
// (the session file kept in the workspace storage, the panel's footer), `sessions.json`, the Net
// Trace output channel and an exported HAR's `comment`. A label or description an older version
// saved in clear is redacted when read back (sessions.json, a saved session, an opened trace
// file), and a node-terminal launch's `command` is redacted in the output channel. Against the
// recording `vscode` stub, with real collectors, a real shell and real programs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleTs, root } from '../lib/bundleTs.mjs';

const tmp = mkdtempSync(join(tmpdir(), 'nettrace-argsecrets-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const m = bundleTs(
  [
    "export * from './src/extension/nodeSessions';",
    "export * from './src/extension/traceAllNode';",
    "export * from './src/extension/terminalRouter';",
    "export * from './src/extension/debugProviders';",
    "export * from './src/extension/ruleService';",
    "export * from './src/extension/traceStore';",
    "export { redactCommandLine, redactedArgNames, redactArgv } from './src/trace/contract/redact';",
    "export { toHar } from './src/trace/formats/har';",
    "export { emptyTrace, parseTraceFile } from './src/trace/formats/traceFile';",
    "export { startCollector } from './src/collector/server';",
    "import * as vscodeStub from 'vscode'; export { vscodeStub };",
  ],
  { dir: tmp, name: 'argsecrets.cjs', vscodeStub: true },
);
const vscode = m.vscodeStub;

const SECRETS = ['hunter2', 'ghp_SECRET123'];
const ARGS = ['--db-password=hunter2', '--token', 'ghp_SECRET123'];
const noSecret = (text, where) => {
  for (const s of SECRETS) assert.ok(!String(text).includes(s), `${where} holds ${s}: ${text}`);
};

test('commandLabel and redactCommandLine: secret options redacted as processes[].argv is', () => {
  const names = m.redactedArgNames();
  assert.equal(
    m.commandLabel(['/usr/bin/node', '/home/u/shop/shop.js', ...ARGS, '--port', '80']),
    'node shop.js --db-password=<redacted> --token <redacted> --port 80',
  );
  assert.equal(
    m.commandLabel(['/usr/bin/node', '/usr/lib/node_modules/npm/bin/npm-cli.js', 'run', 'start', '--', '--api-key', 'K1']),
    'npm run start -- --api-key <redacted>',
  );
  // The label is the argv redaction's words, joined.
  const argv = ['node', 'shop.js', ...ARGS, 'x-pass=1'];
  assert.equal(m.commandLabel(argv), m.redactArgv(argv, names).join(' '));
  // The user's `redact` entries count too (a `*part*` pattern), as for argv.
  assert.equal(m.commandLabel(['node', 'a.js', '--shop-pin', '1234'], m.redactedArgNames(['*pin*'])), 'node a.js --shop-pin <redacted>');

  // Text: blanks kept, quoted values one word, `--token` at the end has nothing to redact.
  const text = 'node shop.js  --db-password="two words" --token ghp_SECRET123 (JavaScript Debug Terminal) — 10:00:00';
  assert.equal(
    m.redactCommandLine(text, names),
    'node shop.js  --db-password=<redacted> --token <redacted> (JavaScript Debug Terminal) — 10:00:00',
  );
  assert.equal(m.redactCommandLine('npm test --token', names), 'npm test --token');
  assert.equal(m.redactCommandLine('Net Trace: shop.js', names), 'Net Trace: shop.js', 'a launch name as it was');
  const once = m.redactCommandLine(`node a.js ${ARGS.join(' ')}`, names);
  assert.equal(m.redactCommandLine(once, names), once, 'redacting twice changes nothing');
});

/** A local HTTP server answering every request with its path. */
async function server() {
  const srv = createServer((req, res) => res.end(req.url));
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  return { srv, url: `http://127.0.0.1:${srv.address().port}` };
}

const program = join(tmp, 'app.js');
writeFileSync(
  program,
  `require('node:http').get(process.env.APP_URL + '/shop', (res) => res.resume()).on('error', () => {});
`,
);

function setup(persistDir) {
  const logs = [];
  const log = (l) => logs.push(l);
  const traces = new m.TraceStore({ startCollector: m.startCollector, changeIntervalMs: 20, idleTimeoutMs: 500, persistDir, log });
  const mem = new Map();
  const rules = new m.RuleService(traces, { get: (k) => mem.get(k), update: async (k, v) => void mem.set(k, v) });
  const panel = { show() {}, showTrace() {}, setNotTraced() {} };
  const helpers = { off() {}, startFor() {}, join() {}, finish: async () => {}, prune() {} };
  const context = { subscriptions: [], extensionPath: root };
  const nodeSessions = new m.NodeSessionSwitch();
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
  return { traces, logs, resolve, cleanup };
}

test('a debug terminal command’s secrets: not in the label, picker, description, session file, sessions.json, output channel or HAR comment', async () => {
  vscode.config.values = { traceNodeSessions: 'all' };
  let provider;
  const api = { registerDebugTerminalOptionsProvider: (p) => ((provider = p), { dispose() {} }) };
  vscode.extensions.installed.set('ms-vscode.js-debug', { isActive: true, exports: api, activate: async () => api });
  const persistDir = join(tmp, 'storage', 'sessions');
  const t = setup(persistDir);
  const { srv, url } = await server();
  try {
    const deadlineHook = Date.now() + 5000;
    while (!provider && Date.now() < deadlineHook) await new Promise((r) => setTimeout(r, 20));
    const options = await provider.provideTerminalOptions({ name: 'JavaScript Debug Terminal', env: {} });
    const env = { ...process.env, ...options.env, APP_URL: url };
    const quoted = [process.execPath, program, ...ARGS].map((a) => JSON.stringify(a)).join(' ');
    const shell = spawn('sh', ['-c', `sleep 0.3; ${quoted}; true`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    shell.stderr.on('data', (d) => (stderr += d));
    const terminal = { creationOptions: options, processId: Promise.resolve(shell.pid) };
    vscode.window.openTerminal(terminal);
    assert.equal(await new Promise((r) => shell.on('exit', r)), 0, stderr);

    let entry;
    const deadline = Date.now() + 10_000;
    while (!entry && Date.now() < deadline) {
      entry = t.traces.list().find((e) => e.session?.builder.trace.httpRequests.length === 1);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(entry, 'the command’s trace');
    const trace = entry.session.builder.trace;
    assert.match(entry.label, /^node app\.js --db-password=<redacted> --token <redacted> \(JavaScript Debug Terminal\) — /);
    noSecret(entry.label, 'the label');
    noSecret(JSON.stringify(t.traces.items()), 'the panel’s trace picker');
    noSecret(trace.description, 'the description');
    assert.match(trace.description, /--db-password=<redacted> --token <redacted>/);
    noSecret(t.traces.snapshot(entry).description, 'the panel’s snapshot');
    noSecret(JSON.stringify(trace.processes.map((p) => p.argv)), 'processes[].argv');

    const harFile = join(tmp, 'live.har');
    await entry.session.saveHar(harFile);
    const har = JSON.parse(readFileSync(harFile, 'utf8'));
    assert.match(har.log.comment, /--token <redacted>/);
    noSecret(har.log.comment, 'the HAR comment');
    noSecret(m.toHar(t.traces.fullTrace(entry)).log.comment, 'toHar’s comment');

    vscode.window.closeTerminal(terminal);
    const ended = Date.now() + 8000;
    while (entry.origin === 'current' && Date.now() < ended) await new Promise((r) => setTimeout(r, 50));
    assert.equal(entry.origin, 'earlier');
    await t.traces.flush();
    const files = readdirSync(persistDir);
    assert.ok(files.includes('sessions.json'));
    assert.ok(files.length >= 2, files.join());
    for (const f of files) noSecret(readFileSync(join(persistDir, f), 'utf8'), `the workspace storage’s ${f}`);
    assert.match(readFileSync(join(persistDir, 'sessions.json'), 'utf8'), /--token <redacted>/);
    assert.ok(
      t.logs.some((l) => l.includes('--token <redacted>')),
      t.logs.join('\n'),
    );
    noSecret(t.logs.join('\n'), 'the Net Trace output channel');
  } finally {
    srv.close();
    await t.cleanup();
    vscode.extensions.installed.clear();
  }
});

test('a node-terminal launch’s command line: its secret options redacted in the output channel', async () => {
  vscode.config.values = { traceNodeSessions: 'all' };
  const t = setup(undefined);
  try {
    const resolved = await t.resolve('node-terminal', {
      type: 'node-terminal',
      request: 'launch',
      name: 'Run shop',
      command: `node shop.js ${ARGS.join(' ')}`,
    });
    assert.equal(resolved.command, `node shop.js ${ARGS.join(' ')}`, 'the command runs as written');
    const line = t.logs.find((l) => l.includes('launching'));
    assert.match(line, /launching "node shop\.js --db-password=<redacted> --token <redacted>"/);
    noSecret(t.logs.join('\n'), 'the Net Trace output channel');
  } finally {
    await t.cleanup();
  }
});

test('labels and descriptions an older version saved in clear are redacted when read back', async () => {
  const dir = join(tmp, 'old-storage');
  mkdirSync(dir, { recursive: true });
  const clear = `node shop.js ${ARGS.join(' ')} (JavaScript Debug Terminal)`;
  const oldTrace = { ...m.emptyTrace(clear, new Date('2026-01-01T00:00:00Z')), description: clear };
  writeFileSync(join(dir, 'session-1-session-1.json'), JSON.stringify(oldTrace));
  writeFileSync(
    join(dir, 'sessions.json'),
    JSON.stringify([
      { file: 'session-1-session-1.json', label: `${clear} — 10:00:00`, createdAt: '2026-01-01T00:00:00.000Z', requests: 0 },
    ]),
  );
  const traces = new m.TraceStore({ startCollector: m.startCollector, persistDir: dir });
  assert.equal(traces.restore(), 1);
  const [saved] = traces.list();
  assert.equal(saved.label, 'node shop.js --db-password=<redacted> --token <redacted> (JavaScript Debug Terminal) — 10:00:00');
  noSecret(JSON.stringify(traces.items()), 'the restored picker');
  const full = traces.fullTrace(saved);
  assert.ok(!full.stats.warnings.some((w) => /could not be read/.test(w)), full.stats.warnings.join());
  noSecret(full.description, 'a saved session’s description');
  noSecret(traces.snapshot(saved).description, 'its snapshot');
  noSecret(m.toHar(full).log.comment, 'its HAR comment');

  // An opened trace file.
  const file = traces.addFile(join(dir, 'old.json'), structuredClone(oldTrace));
  assert.equal(traces.snapshot(file).description, 'node shop.js --db-password=<redacted> --token <redacted> (JavaScript Debug Terminal)');
  noSecret(m.toHar(traces.fullTrace(file)).log.comment, 'an opened file’s HAR comment');
  await traces.dispose();
});

test('nettrace show and export of a file an older version wrote: its description’s secret options redacted', () => {
  const dir = join(tmp, 'old-cli');
  mkdirSync(dir, { recursive: true });
  const clear = `node shop.js ${ARGS.join(' ')} (JavaScript Debug Terminal)`;
  const file = join(dir, 'old.json');
  writeFileSync(file, JSON.stringify({ ...m.emptyTrace(clear, new Date('2026-01-01T00:00:00Z')), description: clear }));
  const cli = fileURLToPath(new URL('../../dist/cli.cjs', import.meta.url));
  for (const args of [
    ['show', file],
    ['show', '--json', file],
  ]) {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
    noSecret(r.stdout + r.stderr, `nettrace ${args.slice(0, -1).join(' ')}`);
  }
  const parsed = m.parseTraceFile(JSON.stringify({ ...m.emptyTrace(clear), description: clear }), 'old.json');
  noSecret(m.toHar(parsed).log.comment, 'the HAR of a read file');
  assert.equal(parsed.description, 'node shop.js --db-password=<redacted> --token <redacted> (JavaScript Debug Terminal)');
});
