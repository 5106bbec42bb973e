// covers: src/preload/rules/preloadRules.ts, src/preload/firstUse.ts
// needs: the build (dist/core.cjs, dist/preload.cjs, dist/rules.cjs)
// The preload's receiving side of the trace rules (src/preload/rules/preloadRules.ts): the first set from
// NETTRACE_CONFIG, later sets read from the collector socket as newline-delimited JSON (split
// anywhere), bad input dropped with a warning while the set in force stays, counters reported;
// and end to end, a real preloaded process and its worker thread getting a change live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSync } from 'esbuild';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const preloadPath = join(root, 'dist', 'preload.cjs');

/** src/preload/rules/preloadRules.ts bundled on the fly (it is bundled only into dist/preload.cjs otherwise). */
function loadModule() {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-prules-'));
  try {
    const outfile = join(dir, 'rules.cjs');
    buildSync({
      entryPoints: [join(root, 'src/preload/rules/preloadRules.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile,
      logLevel: 'error',
    });
    return require(outfile);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const m = loadModule();
const facts = { pid: 1, threadId: 0, command: 'node app.js' };
const view = (host, target = '/') => ({ method: 'GET', scheme: 'http', host, port: 80, target, client: 'http' });

function make(config = {}) {
  const r = new m.PreloadRules();
  const host = {
    warnings: [],
    changes: 0,
    changed() {
      this.changes++;
    },
    warn(msg) {
      this.warnings.push(msg);
    },
  };
  r.init({ ipcPath: '/x', ...config }, facts, host);
  return { r, host };
}

const line = (msg) => JSON.stringify(msg) + '\n';
const rule = (id, condition, action, extra = {}) => ({ id, name: id, condition, action, limit: null, enabled: true, ...extra });

test('no rules in the configuration: mode all, no report; a skip default alone: mode none', () => {
  const { r, host } = make();
  assert.equal(r.mode, 'all');
  assert.equal(r.report(), undefined);
  assert.equal(r.decideStart(view('a')).record, true);
  assert.equal(host.changes, 0, 'deciding in mode all counts nothing');
  assert.equal(make({ defaultAction: 'skip' }).r.mode, 'none');
});

test('the configuration set applies from the first request and is counted; reports carry version and a rising seq', () => {
  const { r, host } = make({ rules: [rule('t', 'host == "telemetry"', 'skip')], rulesVersion: 4 });
  assert.equal(r.mode, 'rules');
  assert.equal(r.version, 4);
  assert.equal(r.decideStart(view('telemetry')).record, false);
  assert.equal(r.decideStart(view('api')).record, true);
  assert.ok(host.changes >= 2, 'a decision asks for a stats message');
  const rep = r.report();
  assert.deepEqual(rep, { version: 4, seq: 1, counters: [{ id: 't', matched: 1, acted: 1, limitReached: false }] });
  assert.equal(r.report().seq, 2);
  // A bad configuration set is not applied, with a warning; tracing goes on as without rules.
  const bad = make({ rules: [rule('x', 'status >= "5"', 'skip')] });
  assert.equal(bad.r.mode, 'all');
  assert.match(bad.host.warnings[0], /^nettrace: the trace rules in NETTRACE_CONFIG were not applied: rule "x": status is a number/);
});

test('sets from the collector: lines split anywhere (mid UTF-8 character), older versions ignored, bad sets and lines dropped with a warning', () => {
  const { r, host } = make();
  const set1 = line({ type: 'rules', version: 1, defaultAction: 'trace', rules: [rule('ü', 'host == "ü.example"', 'skip')] });
  const bytes = Buffer.from(set1 + line({ type: 'future-thing', x: 1 }));
  const cut = bytes.indexOf(Buffer.from('ü')) + 1; // inside the two-byte character
  r.onData(bytes.subarray(0, 3));
  r.onData(bytes.subarray(3, cut));
  assert.equal(r.version, -1, 'nothing before the newline');
  r.onData(bytes.subarray(cut));
  assert.equal(r.version, 1);
  assert.equal(r.mode, 'rules');
  assert.equal(r.decideStart(view('ü.example')).record, false);
  assert.deepEqual(host.warnings, [], 'an unknown message type is ignored quietly');

  r.onData(line({ type: 'rules', version: 0, defaultAction: 'trace', rules: [] }));
  assert.equal(r.mode, 'rules', 'an older set changes nothing');
  r.onData(line({ type: 'rules', version: 2, defaultAction: 'trace', rules: [rule('x', 'status >= "5"', 'skip')] }));
  assert.equal(r.version, 1, 'a set that does not compile is not applied');
  assert.match(host.warnings.pop(), /rule set 2 from the collector was not applied: rule "x": status is a number/);
  r.onData('{not json\n');
  assert.match(host.warnings.pop(), /not valid JSON/);
  r.onData(line({ type: 'rules', rules: [] }));
  assert.match(host.warnings.pop(), /no version/);
  r.onData('x'.repeat(5 * 1024 * 1024));
  assert.match(host.warnings.pop(), /over 4194304 bytes/);
  r.onData(
    'tail of the long line\n' + line({ type: 'rules', version: 3, defaultAction: 'skip', rules: [rule('k', 'host == "keep"', 'trace')] }),
  );
  assert.equal(r.version, 3, 'the line after an oversized one is read');
  assert.equal(r.decideStart(view('other')).record, false, 'defaultAction skip');
  assert.equal(r.decideStart(view('keep')).record, true);
  r.onData(line({ type: 'rules', version: 4, defaultAction: 'skip', rules: [rule('k', 'host == "keep"', 'trace', { enabled: false })] }));
  assert.equal(r.mode, 'none', 'no enabled rule, default skip: record nothing');
  r.onData(line({ type: 'rules', version: 5, defaultAction: 'trace', rules: [rule('k', 'host == "keep"', 'trace', { enabled: false })] }));
  assert.equal(r.mode, 'all', 'disabled rules and default trace: the hooks skip the engine');
  assert.deepEqual(r.report().counters, [{ id: 'k', matched: 1, acted: 1, limitReached: false }], 'a kept rule keeps its counters');
  assert.equal(m.rulesMode === undefined, false);
});

test('decideEnd settles rules that need the end, and counts them', () => {
  const { r } = make({ rules: [rule('ok-health', 'path == "/health" and not failed', 'skip')] });
  const d = r.decideStart(view('h', '/health'));
  assert.equal(d.pending, true);
  assert.equal(r.decideEnd(d, { status: 200, error: null }).keep, false);
  const d2 = r.decideStart(view('h', '/health'));
  assert.equal(r.decideEnd(d2, { error: { code: 'ECONNRESET', phase: 'response' } }).keep, true);
  assert.deepEqual(r.report().counters, [{ id: 'ok-health', matched: 1, acted: 1, limitReached: false }]);
});

test(
  'a real preloaded process and its worker thread get the set after hello and every live change',
  { skip: !existsSync(preloadPath) && 'dist/preload.cjs not built' },
  async () => {
    const { startCollector } = require('../../dist/core.cjs');
    const collector = await startCollector({
      description: 'rules live',
      rules: [{ id: 'skip-x', condition: 'host == "x.invalid"', action: 'skip', enabled: true }],
    });
    const dir = mkdtempSync(join(tmpdir(), 'nettrace-prules-app-'));
    const app = join(dir, 'app.cjs');
    // One request in each thread (the preload connects on its first message), then wait for stdin's end.
    writeFileSync(
      app,
      `const http = require('http');
const { Worker, isMainThread } = require('worker_threads');
const get = (port) => new Promise((r) => http.get({ host: '127.0.0.1', port, path: '/' }, (res) => { res.resume(); res.on('end', r); }).on('error', r));
if (isMainThread) {
  const srv = http.createServer((q, s) => s.end('ok')).listen(0, async () => {
    await get(srv.address().port);
    const w = new Worker(__filename, { workerData: srv.address().port, argv: [] });
    w.on('message', () => {});
    process.stdin.on('end', () => { w.terminate(); srv.close(); });
    process.stdin.resume();
  });
} else {
  get(require('worker_threads').workerData).then(() => setInterval(() => {}, 1000));
}
`,
    );
    const config = { ipcPath: collector.ipcPath, headers: 'values', ...collector.session.rules.preloadConfig() };
    const child = spawn(process.execPath, ['--require', preloadPath, app], {
      env: { ...process.env, NETTRACE_CONFIG: JSON.stringify(config) },
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    const rules = collector.session.rules;
    const until = async (pred, what, timeoutMs = 10000) => {
      const end = Date.now() + timeoutMs;
      while (!pred()) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    let hellos = 0;
    collector.session.on('process', () => hellos++);
    try {
      await until(() => hellos === 2 && rules.behind() === 0, 'both threads to report the first set');
      const t0 = performance.now();
      rules.create({ id: 'tag-all', condition: 'true', action: 'mark', enabled: true });
      await until(() => rules.behind() === 0, 'both threads to apply version 1');
      const ms = performance.now() - t0;
      console.log(`# a change reached the process and its worker and came back acknowledged in ${ms.toFixed(1)} ms`);
      assert.ok(ms < 1000, `applied in ${ms} ms`);
      rules.disable('tag-all');
      rules.delete('skip-x');
      await until(() => rules.behind() === 0, 'both threads to apply version 3');
      assert.deepEqual(
        collector.session.builder.trace.stats.warnings.filter((w) => /rule/.test(w)),
        [],
      );
      assert.equal(collector.session.snapshot().traceRules.version, 3);
    } finally {
      child.stdin.end();
      await new Promise((r) => child.once('exit', r));
      await collector.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('the rule engine (dist/rules.cjs) is loaded only when the session has rules', async () => {
  const rulesFile = join(root, 'dist', 'rules.cjs');
  const loaded = async (config) => {
    // dns: the preload's body runs at the program's first use of the network (src/preload/firstUse.ts).
    const code = `require('node:dns');process.stdout.write(String(Object.keys(require.cache).includes(${JSON.stringify(rulesFile)})))`;
    const env = { ...process.env, NODE_OPTIONS: `--require ${JSON.stringify(preloadPath)}`, NETTRACE_CONFIG: JSON.stringify(config) };
    const child = spawn(process.execPath, ['-e', code], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    await new Promise((r) => child.once('close', r));
    return out;
  };
  assert.equal(await loaded({ ipcPath: '/tmp/nettrace-lazy.sock' }), 'false', 'no rules: not loaded');
  const withRules = {
    ipcPath: '/tmp/nettrace-lazy.sock',
    rules: [{ id: 'r', condition: 'host == "a.example"', action: 'skip', enabled: true }],
  };
  assert.equal(await loaded(withRules), 'true', 'a set in NETTRACE_CONFIG: loaded');
  // The preload bundle itself has no copy of the engine.
  assert.doesNotMatch(readFileSync(preloadPath, 'utf8'), /\/\/ src\/rules\/engine\.ts/);
});
