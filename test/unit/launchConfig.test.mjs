// covers: src/extension/, src/collector/launchEnv.ts, src/trace/formats/filePath.ts,
//   src/collector/server.ts, src/protocol/options.ts
// needs: the build (dist/preload.cjs, dist/preload-body.cjs, dist/extension.cjs)
// The extension's vscode-free parts: launch configuration resolution (NODE_OPTIONS merge,
// quoting, env/envFile), the trace store with several concurrent sessions (real collectors, real
// traced node processes), the live feed batches and the editor annotation index.
// The modules are bundled on the fly with esbuild (they are TypeScript, and dist/extension.cjs
// needs `vscode`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { bundleTs } from '../lib/bundleTs.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const preload = join(root, 'dist', 'preload.cjs');
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-launchcfg-'));
const m = bundleTs(
  [
    "export * from './src/extension/launchConfig';",
    "export * from './src/extension/traceStore';",
    "export { mergeNodeOptions, quoteNodeOption } from './src/collector/launchEnv';",
    "export { LiveFeed } from './src/extension/liveFeed';",
    "export * from './src/extension/annotations';",
    "export { framePath } from './src/trace/formats/filePath';",
    "export { startCollector } from './src/collector/server';",
  ],
  { dir: tmp },
);

after(() => rmSync(tmp, { recursive: true, force: true }));

const defaults = { headers: 'values', redact: [], openPanelOnStart: true };
/** The normalized tracing options (src/protocol/options.ts) with every default, overridden by `over`. */
const full = (over = {}) => ({
  headers: 'values',
  redact: [],
  redactQuery: [],
  slowThresholdMs: 1000,
  initiator: 'sampled',
  bodies: { enabled: false, maxBytes: 65536 },
  sockTrace: { enabled: false, maxOps: 1000 },
  dns: { enabled: false, servers: [] },
  helper: 'auto',
  pcap: false,
  rules: [],
  defaultAction: 'trace',
  otlp: '',
  addTraceparent: false,
  record: { enabled: false, maxBodyBytes: 4194304, maxRunBytes: 268435456 },
  openPanel: true,
  ...over,
});

test('phase 1: a nettrace config becomes a pwa-node launch; tracing options move to __nettrace', () => {
  const cfg = {
    type: 'nettrace',
    request: 'launch',
    name: 'Net Trace',
    program: '${workspaceFolder}/app.js',
    args: ['--port', '1'],
    runtimeArgs: ['--import', 'tsx'],
    skipFiles: ['<node_internals>/**'],
    outFiles: ['${workspaceFolder}/out/**/*.js'],
    sourceMaps: true,
    console: 'integratedTerminal',
    preLaunchTask: 'build',
    headers: 'names',
    redact: ['X-Api-Key'],
    openPanel: false,
  };
  const out = m.toNodeLaunchConfig(cfg, { ...defaults, redact: ['x-secret', 'X-API-KEY'] });
  assert.equal(out.type, 'pwa-node');
  assert.equal(out.request, 'launch');
  assert.equal(out.name, 'Net Trace');
  for (const k of ['program', 'args', 'runtimeArgs', 'skipFiles', 'outFiles', 'sourceMaps', 'console', 'preLaunchTask']) {
    assert.deepEqual(out[k], cfg[k], k);
  }
  assert.deepEqual(out.__nettrace, full({ headers: 'names', redact: ['x-secret', 'X-API-KEY'], openPanel: false }));
  assert.equal('headers' in out, false);
  assert.equal('redact' in out, false);
  assert.equal('openPanel' in out, false);
  assert.equal(m.needsTracing(out), true);
  assert.equal(m.needsTracing({ type: 'pwa-node', request: 'launch' }), false);
  // Settings supply what the configuration leaves out; a bad header mode falls back, with a message
  // naming the attribute and the valid values.
  const errors = [];
  const d = m.toNodeLaunchConfig(
    { type: 'nettrace', request: 'launch', program: 'a.js', headers: 'all' },
    { headers: 'none', redact: [], openPanelOnStart: false },
    (e) => errors.push(e.message),
  );
  assert.deepEqual(d.__nettrace, full({ headers: 'none', openPanel: false }));
  assert.deepEqual(errors, ['"headers" must be none, names or values, not "all"']);
  assert.equal(d.name, 'Net Trace');
});

test('phase 1: dnsTrace, dnsServers, sockTrace, bodies, slowThresholdMs from the configuration, else the settings', () => {
  const cfg = {
    type: 'nettrace',
    request: 'launch',
    program: 'a.js',
    dnsTrace: true,
    dnsServers: ['127.0.0.1:5353', ' [::1]:53 ', '', 7],
    sockTrace: 50,
    bodies: true,
    slowThresholdMs: 250,
  };
  const out = m.toNodeLaunchConfig(cfg, defaults);
  assert.deepEqual(
    out.__nettrace,
    full({
      dns: { enabled: true, servers: ['127.0.0.1:5353', '[::1]:53'] },
      sockTrace: { enabled: true, maxOps: 50 },
      bodies: { enabled: true, maxBytes: 65536 },
      slowThresholdMs: 250,
    }),
  );
  for (const k of ['dnsTrace', 'dnsServers', 'sockTrace', 'bodies', 'slowThresholdMs'])
    assert.equal(k in out, false, `${k} is not passed to js-debug`);
  // Trace rules: the configuration's first, then the setting's new ids; not passed to js-debug.
  const withRules = m.toNodeLaunchConfig(
    {
      type: 'nettrace',
      request: 'launch',
      program: 'a.js',
      rules: [{ id: 'a', condition: 'true', action: 'skip' }],
      defaultAction: 'skip',
    },
    { ...defaults, rules: [{ id: 'b', condition: 'true', action: 'mark', enabled: true }] },
  );
  assert.deepEqual(
    withRules.__nettrace.rules.map((r) => r.id),
    ['a', 'b'],
  );
  assert.equal(withRules.__nettrace.defaultAction, 'skip');
  assert.equal('rules' in withRules, false, 'rules are not passed to js-debug');
  // Off by default.
  assert.deepEqual(m.toNodeLaunchConfig({ type: 'nettrace', request: 'launch', program: 'a.js' }, defaults).__nettrace, full());
  // The settings supply what the configuration leaves out; the configuration wins, false included.
  const settings = { ...defaults, dnsTrace: true, dnsServers: ['10.0.0.53'], sockTrace: true, bodies: 4096, slowThresholdMs: 800 };
  assert.deepEqual(
    m.toNodeLaunchConfig({ type: 'nettrace', request: 'launch', program: 'a.js' }, settings).__nettrace,
    full({
      dns: { enabled: true, servers: ['10.0.0.53'] },
      sockTrace: { enabled: true, maxOps: 1000 },
      bodies: { enabled: true, maxBytes: 4096 },
      slowThresholdMs: 800,
    }),
  );
  assert.deepEqual(
    m.toNodeLaunchConfig(
      { type: 'nettrace', request: 'launch', program: 'a.js', dnsTrace: false, sockTrace: false, bodies: false },
      settings,
    ).__nettrace,
    full({ slowThresholdMs: 800 }),
  );
  // dnsServers alone turns the DNS trace on; invalid values fall back to the settings.
  assert.deepEqual(m.toNodeLaunchConfig({ type: 'nettrace', request: 'launch', dnsServers: ['1.1.1.1'] }, defaults).__nettrace.dns, {
    enabled: true,
    servers: ['1.1.1.1'],
  });
  const errors = [];
  const bad = m.toNodeLaunchConfig(
    { type: 'nettrace', request: 'launch', dnsTrace: 'yes', sockTrace: -1, bodies: 1.5, slowThresholdMs: 0 },
    { ...defaults, bodies: true, sockTrace: 'many' },
    (e) => errors.push(e.message),
  );
  assert.deepEqual(bad.__nettrace, full({ bodies: { enabled: true, maxBytes: 65536 } }));
  assert.deepEqual(errors, [
    '"dnsTrace" must be true or false, not "yes"',
    '"sockTrace" must be true, false or a whole number ≥ 0, not -1',
    '"bodies" must be true, false or a whole number ≥ 0, not 1.5',
    '"slowThresholdMs" must be a number greater than 0, not 0',
    'nettrace.sockTrace must be true, false or a whole number ≥ 0, not "many"',
  ]);
  assert.deepEqual(
    m.toNodeLaunchConfig({ type: 'nettrace', request: 'launch', sockTrace: 0 }, defaults).__nettrace.sockTrace,
    { enabled: true, maxOps: 0 },
    '0 ops: counted only',
  );
});

test('phase 2: the optional recorders reach NETTRACE_CONFIG', () => {
  const cfg = m.toNodeLaunchConfig(
    {
      type: 'nettrace',
      request: 'launch',
      program: 'a.js',
      dnsServers: ['127.0.0.1:53'],
      sockTrace: 10,
      bodies: 2048,
      slowThresholdMs: 99,
    },
    defaults,
  );
  const out = m.injectTracing(cfg, { preloadPath: '/p.cjs', ipcPath: '/s', sessionId: 'x' });
  assert.deepEqual(JSON.parse(out.env.NETTRACE_CONFIG), {
    ipcPath: '/s',
    collectorPid: process.pid,
    headers: 'values',
    dnsTrace: true,
    dnsServers: ['127.0.0.1:53'],
    sockTrace: true,
    sockTraceMaxOps: 10,
    bodies: true,
    bodyMaxBytes: 2048,
    // The panel offers Send Again: a debug session's preload keeps its last requests for it.
    sendAgain: true,
  });
  const on = m.preloadConfigOf(
    full({
      headers: 'names',
      dns: { enabled: true, servers: [] },
      sockTrace: { enabled: true, maxOps: 1000 },
      bodies: { enabled: true, maxBytes: 65536 },
    }),
    '/i',
  );
  assert.deepEqual(on, { ipcPath: '/i', headers: 'names', dnsTrace: true, sockTrace: true, bodies: true, sendAgain: true });
});

test('initiator: the configuration, else the setting; sampled (the default) is left to the preload', () => {
  const launch = (initiator, settings = defaults) =>
    m.toNodeLaunchConfig({ type: 'nettrace', request: 'launch', program: 'a.js', initiator }, settings);
  assert.equal(launch('all').__nettrace.initiator, 'all');
  assert.equal('initiator' in launch('all'), false, 'not passed to js-debug');
  assert.equal(launch('off', { ...defaults, initiator: 'all' }).__nettrace.initiator, 'off');
  assert.equal(launch(undefined, { ...defaults, initiator: 'off' }).__nettrace.initiator, 'off');
  assert.equal(launch('sampled', { ...defaults, initiator: 'all' }).__nettrace.initiator, 'sampled');
  assert.equal(launch('every', { ...defaults, initiator: 'all' }).__nettrace.initiator, 'all', 'invalid: the setting');
  assert.equal(launch(7).__nettrace.initiator, 'sampled');
  assert.equal(
    'initiator' in JSON.parse(m.injectTracing(launch('sampled'), { preloadPath: '/p', ipcPath: '/s', sessionId: 'x' }).env.NETTRACE_CONFIG),
    false,
  );
  const out = m.injectTracing(launch('all'), { preloadPath: '/p.cjs', ipcPath: '/s', sessionId: 'x' });
  assert.equal(JSON.parse(out.env.NETTRACE_CONFIG).initiator, 'all');
});

test('empty config and the default configuration', () => {
  assert.equal(m.isEmptyConfig({}), true);
  assert.equal(m.isEmptyConfig({ type: 'nettrace', request: 'launch', name: 'x' }), false);
  const d = m.defaultLaunchConfig();
  assert.deepEqual(d, { type: 'nettrace', request: 'launch', name: 'Net Trace', program: '${file}', skipFiles: ['<node_internals>/**'] });
});

test('NODE_OPTIONS: preload first, quoted; the user options kept after it', () => {
  assert.equal(m.quoteNodeOption('/a b/c.cjs'), '"/a b/c.cjs"');
  assert.equal(m.quoteNodeOption('C:\\x "y"\\p.cjs'), '"C:\\\\x \\"y\\"\\\\p.cjs"');
  assert.equal(m.mergeNodeOptions('/x y/preload.cjs', '--max-old-space-size=200'), '--require "/x y/preload.cjs" --max-old-space-size=200');
  assert.equal(m.mergeNodeOptions('/p.cjs', '  '), '--require "/p.cjs"');
  assert.equal(m.mergeNodeOptions('/p.cjs', null), '--require "/p.cjs"');
});

test('envFile parsing (dotenv syntax)', () => {
  const env = m.parseEnvFile(
    [
      '\uFEFF# comment',
      'A=1',
      'export B = two words ',
      "C='single $X # kept'",
      'D="line\\nbreak \\"q\\""',
      'E=bare # comment',
      'not a line',
      'F=',
      'NODE_OPTIONS=--enable-source-maps',
      '',
    ].join('\r\n'),
  );
  assert.deepEqual(env, {
    A: '1',
    B: 'two words',
    C: 'single $X # kept',
    D: 'line\nbreak "q"',
    E: 'bare',
    F: '',
    NODE_OPTIONS: '--enable-source-maps',
  });
});

test('phase 2: env + envFile merged (env wins), NODE_OPTIONS from either kept, NETTRACE_CONFIG set, envFile consumed', () => {
  const dir = mkdtempSync(join(tmp, 'ws '));
  writeFileSync(join(dir, '.env'), 'FROM_FILE=1\nSHARED=file\nNODE_OPTIONS=--trace-warnings\n');
  const base = m.toNodeLaunchConfig(
    {
      type: 'nettrace',
      request: 'launch',
      program: join(dir, 'app.js'),
      cwd: dir,
      envFile: '.env',
      env: { SHARED: 'env', GONE: null },
      redact: ['x-token'],
    },
    defaults,
  );
  const out = m.injectTracing(base, { preloadPath: '/opt/my ext/dist/preload.cjs', ipcPath: '/tmp/a b/ipc.sock', sessionId: 'session-7' });
  assert.equal(out.envFile, undefined);
  assert.equal(out.__nettraceSession, 'session-7');
  assert.equal(out.type, 'pwa-node');
  assert.deepEqual(out.__nettrace, base.__nettrace);
  assert.equal(out.env.FROM_FILE, '1');
  assert.equal(out.env.SHARED, 'env');
  assert.equal(out.env.GONE, null);
  assert.equal(out.env.NODE_OPTIONS, '--require "/opt/my ext/dist/preload.cjs" --trace-warnings');
  assert.deepEqual(JSON.parse(out.env.NETTRACE_CONFIG), {
    ipcPath: '/tmp/a b/ipc.sock',
    headers: 'values',
    redact: ['x-token'],
    sendAgain: true,
    collectorPid: process.pid,
  });
  // The configuration's own NODE_OPTIONS wins over the envFile's, as in js-debug.
  const own = m.injectTracing(
    { ...base, env: { NODE_OPTIONS: '--inspect-publish-uid=http' } },
    { preloadPath: '/p.cjs', ipcPath: 's', sessionId: 'x' },
  );
  assert.equal(own.env.NODE_OPTIONS, '--require "/p.cjs" --inspect-publish-uid=http');
  // The input is not modified.
  assert.equal(base.envFile, '.env');
  assert.equal(base.env.NODE_OPTIONS, undefined);
  // A missing envFile is a clear error.
  assert.throws(
    () => m.injectTracing({ ...base, envFile: join(dir, 'missing.env') }, { preloadPath: '/p.cjs', ipcPath: 's', sessionId: 'x' }),
    (err) => {
      assert.ok(err instanceof m.EnvFileError);
      assert.match(err.message, /cannot read envFile .*missing\.env/);
      return true;
    },
  );
});

test('phase 2 on Windows: NODE_OPTIONS matched case-insensitively', () => {
  const base = m.toNodeLaunchConfig({ type: 'nettrace', request: 'launch', program: 'a.js', env: { Node_Options: '--x' } }, defaults);
  const out = m.injectTracing(base, { preloadPath: 'C:\\p\\pre.cjs', ipcPath: '\\\\.\\pipe\\n', sessionId: 's', platform: 'win32' });
  assert.equal(out.env.Node_Options, '--require "C:\\\\p\\\\pre.cjs" --x');
  assert.equal(out.env.NODE_OPTIONS, undefined);
});

test('describeLaunch', () => {
  assert.equal(m.describeLaunch({ name: 'Net Trace', program: '/w/src/app.js' }), 'Net Trace: app.js');
  assert.equal(m.describeLaunch({}), 'Net Trace');
});

// ---- several sessions at once, with real collectors and real traced processes -----------------

let server;
let port;
before(async () => {
  server = createServer((req, res) => res.end(`hello ${req.url}`));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
});
after(() => server?.close());

function runTraced(env, script) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}: ${stderr}`))));
  });
}

test(
  'several concurrent sessions each get their own collector and trace',
  { skip: !existsSync(preload) && 'dist/preload.cjs not built (npm run build)' },
  async () => {
    const logs = [];
    const store = new m.TraceStore({
      startCollector: m.startCollector,
      log: (l) => logs.push(l),
      changeIntervalMs: 20,
      idleTimeoutMs: 3000,
    });
    const changes = new Map();
    store.on('change', (entry, ids) => changes.set(entry.key, (changes.get(entry.key) ?? 0) + ids.length));
    const ended = [];
    store.on('ended', (e) => ended.push(e.key));
    try {
      // A path with spaces for the preload: copy it into such a folder.
      const spaced = join(tmp, 'ext dir with spaces', 'dist');
      mkdirSync(spaced, { recursive: true });
      writeFileSync(join(spaced, 'preload.cjs'), `require(${JSON.stringify(preload)});\n`);

      const sessions = [];
      for (const name of ['one', 'two', 'three']) {
        const cfg = m.toNodeLaunchConfig(
          { type: 'nettrace', request: 'launch', name, program: `${name}.js`, env: { NODE_OPTIONS: '--no-deprecation' } },
          defaults,
        );
        const { key, ipcPath } = await store.prepare(m.describeLaunch(cfg));
        const resolved = m.injectTracing(cfg, { preloadPath: join(spaced, 'preload.cjs'), ipcPath, sessionId: key });
        assert.equal(resolved.__nettraceSession, key);
        sessions.push({ name, key, resolved });
      }
      assert.deepEqual(new Set(sessions.map((s) => s.key)).size, 3);
      assert.equal(store.live().length, 3);
      // The debug sessions start (a child session carrying the same marker is ignored).
      sessions.forEach((s, i) => assert.ok(store.attach(s.key, `dbg-${i}`)));
      assert.equal(store.attach(sessions[0].key, 'dbg-child'), undefined);
      assert.equal(store.byDebugSession('dbg-1').key, sessions[1].key);

      // Run the three programs at once; each makes requests with its own path.
      await Promise.all(
        sessions.map((s, i) =>
          runTraced(
            s.resolved.env,
            `const http = require('node:http');
           let n = ${i + 1};
           const next = () => { if (n-- === 0) return; http.get('http://127.0.0.1:${port}/${s.name}/' + n, (res) => { res.resume(); res.on('end', next); }); };
           next();`,
          ),
        ),
      );
      await Promise.all(sessions.map((s) => store.end(s.key)));
      assert.deepEqual(ended.sort(), sessions.map((s) => s.key).sort());
      sessions.forEach((s, i) => {
        const entry = store.get(s.key);
        assert.equal(entry.origin, 'earlier');
        assert.equal(entry.collector, undefined);
        const trace = store.fullTrace(entry);
        assert.equal(trace.httpRequests.length, i + 1, `${s.name}: ${JSON.stringify(trace.httpRequests.map((r) => r.reqURL))}`);
        for (const r of trace.httpRequests) {
          assert.match(r.reqURL, new RegExp(`/${s.name}/\\d$`));
          assert.equal(r.respStatusCode, 200);
        }
        assert.ok((changes.get(s.key) ?? 0) >= 1, 'change events were emitted');
      });
      // The panel's list: earlier sessions, newest first, with request counts.
      const items = store.items();
      assert.equal(items.length, 3);
      assert.ok(items.every((it) => it.origin === 'earlier' && it.live === false));
      assert.equal(items[0].traceKey, sessions[2].key);
      assert.equal(items[0].detail, '3 requests');
      // Ending twice is harmless.
      await store.end(sessions[0].key);
    } finally {
      await store.dispose();
    }
  },
);

test('a prepared session that never starts is closed after the pending timeout', async () => {
  const store = new m.TraceStore({ startCollector: m.startCollector, pendingTimeoutMs: 50, idleTimeoutMs: 50 });
  const { key, ipcPath } = await store.prepare('never');
  assert.ok(existsSync(ipcPath));
  await new Promise((resolve) => store.once('ended', resolve));
  assert.equal(store.get(key).origin, 'earlier');
  assert.equal(existsSync(ipcPath), false);
  await store.dispose();
});

test('LiveFeed: new requests are appended, known ones updated, with their connection records', async () => {
  const store = new m.TraceStore({ startCollector: m.startCollector, changeIntervalMs: 10 });
  const { key, ipcPath } = await store.prepare('feed');
  const entry = store.get(key);
  const feed = new m.LiveFeed(entry.session);
  feed.reset(store.snapshot(entry).httpRequests);
  const batches = [];
  store.on('change', (e, ids) => batches.push(feed.batches(ids)));
  const env = m.injectTracing(m.toNodeLaunchConfig({ type: 'nettrace', request: 'launch', program: 'x' }, defaults), {
    preloadPath: preload,
    ipcPath,
    sessionId: key,
  }).env;
  await runTraced(env, `fetch('http://127.0.0.1:${port}/feed').then((r) => r.text())`);
  await store.end(key);
  const appended = batches.flatMap((b) => b.append?.httpRequests ?? []);
  const updated = batches.flatMap((b) => b.update?.httpRequests ?? []);
  assert.equal(appended.length, 1, 'appended once');
  assert.ok(appended.every((r) => r.reqURL.endsWith('/feed')));
  const all = [...appended, ...updated];
  const last = all[all.length - 1];
  assert.equal(last.respStatusCode, 200);
  assert.ok(last.timings, 'requests carry timings');
  assert.ok(
    batches.some((b) => (b.append?.tcpConns ?? b.update?.tcpConns ?? []).length > 0),
    'connection records travel with their requests',
  );
  assert.ok(batches.every((b) => typeof b.traceEndAt === 'number'));
  await store.dispose();
});

test(
  'a launch with bodies, sockTrace, dnsTrace and slowThresholdMs: the collector and the live feed carry them',
  { skip: !existsSync(preload) && 'dist/preload.cjs not built (npm run build)' },
  async () => {
    const { startDnsServer } = await import('../integration/dnsServer.mjs');
    const ns = await startDnsServer({ host: '127.0.0.1', zone: { 'svc.test': { A: ['127.0.0.1'], ttl: 60 } } });
    const slow = createServer((req, res) =>
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'), 400),
    );
    await new Promise((r) => slow.listen(0, '127.0.0.1', r));
    const collectorOptions = [];
    const store = new m.TraceStore({
      startCollector: (o) => (collectorOptions.push(o), m.startCollector(o)),
      changeIntervalMs: 10,
      idleTimeoutMs: 2000,
    });
    try {
      const cfg = m.toNodeLaunchConfig(
        {
          type: 'nettrace',
          request: 'launch',
          program: 'x.js',
          dnsServers: [ns.address],
          sockTrace: 100,
          bodies: 1000,
          slowThresholdMs: 30,
        },
        defaults,
      );
      const { key, ipcPath } = await store.prepare('opts', { openPanel: false, slowThresholdMs: cfg.__nettrace.slowThresholdMs });
      assert.equal(collectorOptions[0].slowThresholdMs, 30, 'the threshold reaches the collector');
      const entry = store.get(key);
      const feed = new m.LiveFeed(entry.session);
      feed.reset([]);
      const batches = [];
      store.on('change', (e, ids) => batches.push(feed.batches(ids)));
      const { env } = m.injectTracing(cfg, { preloadPath: preload, ipcPath, sessionId: key });
      await runTraced(env, `fetch('http://svc.test:${slow.address().port}/slow').then((r) => r.text())`);
      await store.end(key);
      const trace = store.fullTrace(entry);
      const req = trace.httpRequests[0];
      assert.equal(req.respStatusCode, 200);
      assert.deepEqual(req.respBody && { text: req.respBody.text, size: req.respBody.size }, { text: '{"ok":true}', size: 11 });
      // 400 ms is slow under the launch's 30 ms threshold (the default, 1000 ms, would say nothing).
      // Which phase the sentence names is the machine's business: a loaded one (CI) has taken 2 s
      // over the DNS lookup alone, and then that is the largest phase.
      assert.match(req.diagnosis ?? '', /^\d+% of the time was the /, 'slow diagnosis with the launch threshold');
      // The server waits 400 ms: its wait is named when it is the largest phase (a loaded machine's
      // DNS lookup has been longer).
      const phases = Object.entries(req.timings).filter(([, ms]) => ms > 0);
      const [largest] = phases.reduce((a, b) => (b[1] > a[1] ? b : a));
      if (largest === 'wait') assert.match(req.diagnosis, /server's first-byte wait/, JSON.stringify(req.timings));
      else assert.doesNotMatch(req.diagnosis, /server's first-byte wait/, JSON.stringify(req.timings));
      assert.ok(
        trace.tcpConns.some((c) => c.socketTrace?.socketOps.length > 0),
        'socket operations recorded',
      );
      assert.ok(trace.dnsQueries.length > 0, 'DNS messages recorded');
      // The panel's live batches carry the dial's DNS records.
      const sentDns = batches.flatMap((b) => [...(b.append?.dnsQueries ?? []), ...(b.update?.dnsQueries ?? [])]);
      assert.ok(sentDns.length > 0 && sentDns.every((q) => q.fromDial === req.dial), 'dnsQueries travel with the request of their dial');
      const sentUdp = batches.flatMap((b) => [...(b.append?.udpConns ?? []), ...(b.update?.udpConns ?? [])]);
      assert.ok(
        sentUdp.some((u) => u.traceID === sentDns[0].connection),
        'with the UDP socket they went over',
      );
      const snap = store.snapshot(entry);
      assert.equal(snap.dnsQueries.length, trace.dnsQueries.length, 'reset snapshots carry the DNS records');
      assert.equal(snap.udpConns.length, trace.udpConns.length);
    } finally {
      await store.dispose();
      await ns.close();
      slow.close();
    }
  },
);

test(
  'ended sessions persist (0600, newest kept) and are restored by a later store',
  { skip: !existsSync(preload) && 'dist/preload.cjs not built (npm run build)' },
  async () => {
    const dir = join(tmp, 'storage', 'sessions');
    const opts = { startCollector: m.startCollector, persistDir: dir, maxPersisted: 2, idleTimeoutMs: 2000, changeIntervalMs: 10 };
    const store = new m.TraceStore(opts);
    const keys = [];
    for (const name of ['a', 'b', 'c']) {
      const cfg = m.toNodeLaunchConfig({ type: 'nettrace', request: 'launch', name, program: `${name}.js` }, defaults);
      const { key, ipcPath } = await store.prepare(m.describeLaunch(cfg));
      const { env } = m.injectTracing(cfg, { preloadPath: preload, ipcPath, sessionId: key });
      await runTraced(env, `fetch('http://127.0.0.1:${port}/${name}').then((r) => r.text())`);
      await store.end(key);
      keys.push(key);
      await new Promise((r) => setTimeout(r, 5));
    }
    const index = JSON.parse(readFileSync(join(dir, 'sessions.json'), 'utf8'));
    assert.deepEqual(
      index.map((i) => i.label.split(' — ')[0]),
      ['c: c.js', 'b: b.js'],
    );
    assert.deepEqual(
      index.map((i) => i.requests),
      [1, 1],
    );
    for (const i of index) assert.equal(statSync(join(dir, i.file)).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'sessions.json')).mode & 0o777, 0o600);
    assert.equal(readdirSync(dir).length, 3, 'the oldest trace file was removed');
    await store.dispose();

    // A new window: the two newest are listed as earlier sessions and read when shown.
    const later = new m.TraceStore(opts);
    assert.equal(later.restore(), 2);
    const items = later.items();
    assert.deepEqual(
      items.map((i) => [i.origin, i.live, i.detail]),
      [
        ['earlier', false, '1 requests'],
        ['earlier', false, '1 requests'],
      ],
    );
    const first = later.get(items[0].traceKey);
    assert.equal(first.trace, undefined, 'not read before it is shown');
    const snap = later.snapshot(first);
    assert.match(snap.httpRequests[0].reqURL, /\/c$/);
    assert.ok(snap.httpRequests[0].timings);
    // Clearing a restored session removes it and its file.
    later.clear(items[1].traceKey);
    await later.flush();
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'sessions.json'), 'utf8')).length, 1);
    assert.equal(readdirSync(dir).length, 2);
    // A damaged index restores nothing (and does not throw).
    writeFileSync(join(dir, 'sessions.json'), '{not json');
    assert.equal(new m.TraceStore(opts).restore(), 0);
  },
);

test('opened trace files: listed, counted, removed by clear', () => {
  const store = new m.TraceStore({ startCollector: m.startCollector });
  const trace = {
    formatVersion: 1,
    description: 'file',
    traceBeginAt: new Date(0).toISOString(),
    processes: [],
    httpRequests: [
      {
        traceID: 'req-1',
        pid: 1,
        client: 'fetch',
        reqMethod: 'GET',
        reqURL: 'http://x/a',
        reqStartAt: 0,
        respStatusCode: 500,
        reqEndAt: 5,
      },
      {
        traceID: 'req-2',
        pid: 1,
        client: 'fetch',
        reqMethod: 'GET',
        reqURL: 'http://x/b',
        reqStartAt: 1,
        respStatusCode: 200,
        reqEndAt: 5,
      },
    ],
    dials: [],
    tcpConns: [],
    udpConns: [],
    dnsQueries: [],
    tlsTunnels: [],
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [] },
  };
  const e = store.addFile('/tmp/some dir/saved.json', trace);
  assert.equal(e.origin, 'file');
  assert.equal(e.label, 'saved.json');
  assert.deepEqual(store.counts(e), { requests: 2, failed: 1 });
  assert.ok(store.fullTrace(e).httpRequests[0].timings, 'enriched with timings');
  assert.deepEqual(store.items(), [
    // Not recorded for replay (no `exchanges`): the panel's Replay This Run says so.
    { traceKey: e.key, label: 'saved.json', origin: 'file', live: false, detail: '/tmp/some dir/saved.json', recorded: false },
  ]);
  store.clear(e.key);
  assert.equal(store.get(e.key), undefined);
});

// ---- annotations ---------------------------------------------------------------------------------

function req(id, over = {}) {
  return {
    traceID: id,
    pid: 1,
    client: 'fetch',
    reqMethod: 'GET',
    reqURL: 'http://127.0.0.1:8080/api/users?page=2',
    reqStartAt: Number(id.split('-')[1]),
    respStatusCode: 200,
    reqEndAt: 130,
    timings: { blocked: 1, dns: -1, connect: 3, ssl: -1, send: 0, wait: 100, receive: 20 },
    initiator: {
      frames: [
        { file: '/w/node_modules/lib/index.js', line: 3, column: 1, library: true },
        { file: '/w/src/app.js', line: 14, column: 5 },
      ],
    },
    ...over,
  };
}

test('annotation index: requests grouped by the first user frame; lens text; hover links', () => {
  const idx = new m.AnnotationIndex();
  assert.equal(idx.upsert(req('req-1')), '/w/src/app.js');
  idx.upsert(req('req-2'));
  idx.upsert(
    req('req-3', {
      respStatusCode: undefined,
      reqError: { phase: 'connect', message: 'refused', code: 'ECONNREFUSED' },
      reqURL: 'http://127.0.0.1:1/down',
    }),
  );
  idx.upsert(req('req-4', { initiator: { frames: [{ file: pathToFileURL('/w/src/esm file.mjs').href, line: 2, column: 3 }] } }));
  idx.upsert(req('req-5', { initiator: { frames: [{ file: 'node:internal/x', line: 2, column: 3 }] } }));
  assert.deepEqual(idx.files().sort(), ['/w/src/app.js', '/w/src/esm file.mjs']);
  const [line] = idx.lines('/w/src/app.js');
  assert.equal(line.line, 13);
  assert.deepEqual(
    line.requests.map((r) => r.traceID),
    ['req-1', 'req-2', 'req-3'],
  );
  assert.equal(m.lensTitle(line), 'GET /down · ECONNREFUSED · 124 ms · 3 calls · 1 failed');
  const one = idx.lines('/w/src/esm file.mjs')[0];
  assert.deepEqual([one.line, one.requests[0].column], [1, 2]);
  assert.equal(m.lensTitle(one), 'GET /api/users?page=2 · 200 · 124 ms · 1 call');
  // A request a breakpoint held says how much of its time that was.
  idx.upsert(req('req-6', { initiator: { frames: [{ file: '/w/src/held.js', line: 9, column: 1 }] }, debuggerPaused: 100 }));
  assert.equal(m.lensTitle(idx.lines('/w/src/held.js')[0]), 'GET /api/users?page=2 · 200 · 124 ms, 100 at a breakpoint · 1 call');
  // Re-upserting a request moves it; clear empties the index.
  idx.upsert(req('req-2', { initiator: { frames: [{ file: '/w/src/app.js', line: 20, column: 1 }] } }));
  assert.deepEqual(
    idx.lines('/w/src/app.js').map((l) => [l.line, l.requests.length]),
    [
      [13, 2],
      [19, 1],
    ],
  );
  const md = m.hoverMarkdown(idx.lines('/w/src/app.js')[0], 'session-1', 'nettrace.selectRequest');
  assert.match(
    md,
    /\(command:nettrace\.selectRequest\?%5B%7B%22traceKey%22%3A%22session-1%22%2C%22traceID%22%3A%22req-3%22%7D%5D "Show in the Net Trace panel"\)/,
  );
  idx.clear();
  assert.deepEqual(idx.files(), []);
});

test('annotation text from hostile URLs stays inert', () => {
  const evil = 'http://127.0.0.1:1/<img src=x onerror=alert(1)>/[x](command:workbench.action.quit)/$(bug)';
  const idx = new m.AnnotationIndex();
  idx.upsert(req('req-1', { reqURL: evil }));
  const line = idx.lines('/w/src/app.js')[0];
  assert.ok(!m.lensTitle(line).includes('$('), 'no codicon syntax in the lens');
  const md = m.hoverMarkdown(line, 's', 'nettrace.selectRequest');
  // The only link is ours: brackets, parentheses and angle brackets of the URL are escaped.
  assert.equal(md.match(/\]\(command:/g).length, 1);
  assert.ok(!md.includes('<img'), md);
  assert.ok(!/[^\\]\[x\]/.test(md), md);
  assert.equal(m.shortUrl('http://h/a\nb'), '/ab');
  assert.equal(m.shortUrl('not a url\u0001'), 'not a url ');
  assert.equal(m.framePath('https://x/y.js'), undefined);
  assert.equal(m.framePath('C:\\w\\a.js', 'win32'), 'C:\\w\\a.js');
});

test('a view whose change listener throws does not keep the change from the others (status bar, panel)', async () => {
  const logs = [];
  const store = new m.TraceStore({ startCollector: m.startCollector, log: (l) => logs.push(l), changeIntervalMs: 10 });
  try {
    const { key } = await store.prepare('throwing view');
    const seen = [];
    store.on('change', () => {
      throw new Error('a view broke');
    });
    store.on('change', (entry) => seen.push(entry.key));
    // A warning is a change of the session's trace (stats.warnings).
    store.get(key).session.warn('something to show');
    store.get(key).session.flushChanges();
    assert.deepEqual(seen, [key]);
    assert.ok(
      logs.some((l) => l.includes('a view failed on a change') && l.includes('a view broke')),
      logs.join('\n'),
    );
  } finally {
    await store.dispose();
  }
});

test('launch rules: the session validates them, and NETTRACE_CONFIG carries the set from the first request', async () => {
  const store = new m.TraceStore({ startCollector: m.startCollector });
  try {
    const rules = [{ id: 'tel', action: 'skip', condition: 'host == "telemetry.example.com"', enabled: true }];
    const { key, ipcPath, rulesConfig } = await store.prepare('rules', { rules, defaultAction: 'trace' });
    assert.deepEqual(
      rulesConfig.rules.map((r) => [r.id, r.action, r.enabled]),
      [['tel', 'skip', true]],
    );
    const out = m.injectTracing(
      { type: 'node', request: 'launch', program: '/a.js', __nettrace: full() },
      { preloadPath: '/p.cjs', ipcPath, sessionId: key, rulesConfig },
    );
    const cfg = JSON.parse(out.env.NETTRACE_CONFIG);
    assert.equal(cfg.ipcPath, ipcPath);
    assert.deepEqual(cfg.rules, rulesConfig.rules);
    // The collector's key, which it proves first on each connection (src/protocol/collectorProof.ts).
    assert.match(cfg.collectorKey, /^[0-9a-f]{64}$/);
    const none = await store.prepare('no rules');
    assert.match(none.rulesConfig.collectorKey, /^[0-9a-f]{64}$/);
    assert.notEqual(none.rulesConfig.collectorKey, cfg.collectorKey, 'a key per collector');
    assert.deepEqual(
      { ...none.rulesConfig, collectorKey: undefined },
      { collectorKey: undefined },
      'no rules: nothing else added to the preload configuration',
    );
    await assert.rejects(store.prepare('bad', { rules: [{ id: 'x', action: 'skip', condition: 'host == ' }] }), /condition|expected/i);
  } finally {
    await store.dispose();
  }
});

test("skipFiles: the preload bundle is added to the user's (or js-debug's default), once, last", () => {
  const base = m.toNodeLaunchConfig({ type: 'nettrace', request: 'launch', program: 'a.js' }, defaults);
  const none = m.injectTracing(base, { preloadPath: '/opt/ext/dist/preload.cjs', ipcPath: '/s', sessionId: 'x' });
  assert.deepEqual(
    none.skipFiles,
    ['<node_internals>/**', '/opt/ext/dist/preload.cjs', '/opt/ext/dist/preload-body.cjs'],
    "js-debug's default kept",
  );
  const own = m.injectTracing(
    { ...base, skipFiles: ['**/node_modules/**', '!**/node_modules/my-lib/**'] },
    { preloadPath: '/opt/ext/dist/preload.cjs', ipcPath: '/s', sessionId: 'x' },
  );
  assert.deepEqual(
    own.skipFiles,
    ['**/node_modules/**', '!**/node_modules/my-lib/**', '/opt/ext/dist/preload.cjs', '/opt/ext/dist/preload-body.cjs'],
    'after the negation',
  );
  assert.deepEqual(
    m.withPreloadSkipped([], '/d/p.cjs'),
    ['/d/p.cjs', '/d/preload-body.cjs'],
    'an empty list skips only the preload (loader and body)',
  );
  assert.deepEqual(
    m.withPreloadSkipped(['/d/p.cjs', '<node_internals>/**', '/d/preload-body.cjs'], '/d/p.cjs'),
    ['/d/p.cjs', '<node_internals>/**', '/d/preload-body.cjs'],
    'not twice',
  );
  assert.deepEqual(
    m.withPreloadSkipped(['C:/ext/preload.cjs', 'C:/ext/preload-body.cjs'], 'C:\\ext\\preload.cjs'),
    ['C:/ext/preload.cjs', 'C:/ext/preload-body.cjs'],
    'either slash',
  );
  assert.deepEqual(m.withPreloadSkipped(['a', 7, null], '/d/p.cjs'), ['a', '/d/p.cjs', '/d/preload-body.cjs'], 'non-strings dropped');
  assert.deepEqual(base.skipFiles, undefined, 'phase 1 leaves it to js-debug');
});
