// covers: src/extension/nodeSessions.ts, src/extension/inspectorEval.ts, src/collector/server.ts
// needs: the build (dist/preload.cjs)
// Detaching the preload loaded through an attach, without VS Code, against real inspectors on
// Node 20, 22, 24 and 26, for CommonJS and ESM programs: the preload is loaded mid-run (the
// expression the extension sends, src/extension/nodeSessions.ts), the program's requests are
// traced, the debugger detaches, and the extension's detach (preloadDetachExpression, sent by
// src/extension/inspectorEval.ts, its own inspector client) takes everything out: no diagnostics
// channel the preload used has a subscriber left, every function it replaced on Node's modules,
// their classes' prototypes, `process` and the global `fetch` is the original again, its global
// entry points are gone, later requests are not recorded, and the program's output (with its
// active resources at each step, what decides when it exits) is the same as without Net Trace.
// It then exits on its own. The trace ends with the preload's own line saying when tracing stopped.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { bundleTs } from '../lib/bundleTs.mjs';
import { nodeBinaries, root } from './harness.mjs';

const preload = join(root, 'dist', 'preload.cjs');
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-detach-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const m = bundleTs(
  [
    "export { startCollector } from './src/collector/server';",
    "export * from './src/extension/nodeSessions';",
    "export { evaluateOverInspector } from './src/extension/inspectorEval';",
  ],
  { dir: tmp },
);

// The program: a server of its own and a keep-alive agent; each stdin line "go NAME" makes an
// http request (on the agent) and a fetch, then prints what it got with its active resources;
// "end" closes everything, after which it should exit by itself.
const body = `
const server = http.createServer((req, res) => res.end('ok ' + req.url));
const agent = new http.Agent({ keepAlive: true });
const get = (path) => new Promise((resolve, reject) => {
  http.get({ host: '127.0.0.1', port: server.address().port, path, agent }, (res) => {
    let b = '';
    res.on('data', (c) => (b += c));
    res.on('end', () => resolve(b));
  }).on('error', reject);
});
const resources = () => new Promise((r) => setImmediate(() => r(process.getActiveResourcesInfo().sort())));
server.listen(0, '127.0.0.1', async () => {
  await get('/before');
  process.stdout.write('ready\\n');
  let lines = '';
  process.stdin.on('data', async (d) => {
    lines += d;
    for (let i = lines.indexOf('\\n'); i >= 0; i = lines.indexOf('\\n')) {
      const [cmd, name] = lines.slice(0, i).split(' ');
      lines = lines.slice(i + 1);
      if (cmd === 'go') {
        const viaHttp = await get('/' + name + '-http');
        const viaFetch = await (await fetch('http://127.0.0.1:' + server.address().port + '/' + name + '-fetch')).text();
        process.stdout.write(JSON.stringify({ name, viaHttp, viaFetch, resources: await resources() }) + '\\n');
      } else if (cmd === 'end') {
        agent.destroy();
        server.close();
        process.stdin.pause();
      }
    }
  });
});
`;
const programs = {
  cjs: ['app.cjs', `const http = require('node:http');\n${body}`],
  esm: ['app.mjs', `import http from 'node:http';\n${body}`],
};
for (const [file, text] of Object.values(programs)) writeFileSync(join(tmp, file), text);

const nodes = nodeBinaries();

/** Starts the program (with --inspect when asked); `line(name)` waits for its output line of that step. */
function startProgram(bin, file, inspect) {
  const child = spawn(bin, [...(inspect ? ['--inspect=127.0.0.1:0'] : []), join(tmp, file)], {
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters = [];
  const check = () => {
    for (const w of waiters.splice(0)) if (!w()) waiters.push(w);
  };
  child.stdout.on('data', (d) => ((stdout += d), check()));
  child.stderr.on('data', (d) => ((stderr += d), check()));
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const until = (pick) =>
    new Promise((resolve, reject) => {
      const w = () => {
        const v = pick();
        if (v !== undefined) resolve(v);
        return v !== undefined;
      };
      if (!w()) waiters.push(w);
      child.on('exit', (code) => reject(new Error(`exited ${code} before that: ${stderr}`)));
    });
  const lines = () =>
    stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
  return {
    child,
    exited,
    ready: until(() =>
      stdout.includes('ready') && (!inspect || /ws:\/\/\S+/.test(stderr)) ? (/ws:\/\/\S+/.exec(stderr)?.[0] ?? '') : undefined,
    ),
    step: (name) => (child.stdin.write(`go ${name}\n`), until(() => lines().find((l) => l.name === name))),
    end: () => child.stdin.end('end\n'),
    lines,
    errors: () => stderr,
  };
}

/** A minimal inspector client (the debugger's side): `evaluate(expression)` resolves with the value. */
async function inspector(url) {
  const ws = new WebSocket(url);
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  let id = 0;
  const pending = new Map();
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data));
    if (msg.id && pending.has(msg.id)) (pending.get(msg.id)(msg), pending.delete(msg.id));
  });
  return {
    evaluate: (expression) =>
      new Promise((resolve, reject) => {
        pending.set(++id, (msg) =>
          msg.result?.exceptionDetails || msg.error ? reject(new Error(JSON.stringify(msg))) : resolve(msg.result.result.value),
        );
        ws.send(
          JSON.stringify({ id, method: 'Runtime.evaluate', params: { expression, includeCommandLineAPI: true, returnByValue: true } }),
        );
      }),
    close: () => new Promise((r) => (ws.once('close', r), ws.close())),
  };
}

/** Evaluates the preload's load expression until it answers: the load runs at the loop's next turn (nodeSessions.ts STILL_STARTING). */
async function loadPreload(client, expression) {
  for (let i = 0; ; i++) {
    const answer = await client.evaluate(expression);
    if (!String(answer).includes(m.STILL_STARTING) || i >= 200) return answer;
    await new Promise((r) => setTimeout(r, 20));
  }
}

// What the preload could have replaced: every function-valued own property of Node's networking
// modules, of the prototypes of the classes they export, of `process`, and the global `fetch`;
// with the channels it may subscribe to. SNAPSHOT keeps them (in a global of the test's own),
// DIFF lists what differs from then and which of the channels have subscribers.
const SNAPSHOT_KEY = "Symbol.for('nettrace.test.snapshot')";
const TARGETS = `(() => {
  const out = [['process', process], ['globalThis.fetch', { fetch: globalThis.fetch }]];
  for (const name of ['http', 'https', 'net', 'tls', 'http2', 'dns', 'module', 'events', 'stream']) {
    const mod = require('node:' + name);
    out.push([name, mod]);
    for (const key of Object.getOwnPropertyNames(mod)) {
      const d = Object.getOwnPropertyDescriptor(mod, key);
      if (d && typeof d.value === 'function' && d.value.prototype && typeof d.value.prototype === 'object')
        out.push([name + '.' + key + '.prototype', d.value.prototype]);
    }
  }
  return out;
})()`;
const CHANNELS = [
  'http.client.request.start',
  'http.client.response.finish',
  'http.client.request.error',
  'http.server.request.start',
  'http.server.response.finish',
  'undici:request:create',
  'undici:request:headers',
  'undici:client:connected',
  'net.client.socket',
];
// The modules the preload loads are loaded first: loading one may change what Node itself defines
// (loading worker_threads replaces process.chdir by Node's own wrapper, which tells workers).
const SNAPSHOT = `(() => {
  for (const name of ['worker_threads', 'diagnostics_channel', 'async_hooks', 'inspector']) require('node:' + name);
  const snap = new Map();
  for (const [name, obj] of ${TARGETS}) {
    const own = new Map();
    for (const key of Reflect.ownKeys(obj)) {
      const d = Object.getOwnPropertyDescriptor(obj, key);
      own.set(key, d && 'value' in d ? (typeof d.value === 'function' ? d.value : 'data') : 'accessor');
    }
    snap.set(name, own);
  }
  globalThis[${SNAPSHOT_KEY}] = snap;
  return snap.size;
})()`;
const DIFF = `(() => {
  const snap = globalThis[${SNAPSHOT_KEY}];
  const changed = [];
  for (const [name, obj] of ${TARGETS}) {
    const before = snap.get(name) || new Map();
    for (const key of Reflect.ownKeys(obj)) {
      const d = Object.getOwnPropertyDescriptor(obj, key);
      const now = d && 'value' in d ? (typeof d.value === 'function' ? d.value : 'data') : 'accessor';
      if (!before.has(key)) changed.push(name + '.' + String(key) + ' (added)');
      else if (typeof now === 'function' && before.get(key) !== now) changed.push(name + '.' + String(key));
    }
    for (const key of before.keys()) if (!Object.prototype.hasOwnProperty.call(obj, key)) changed.push(name + '.' + String(key) + ' (removed)');
  }
  const dc = require('node:diagnostics_channel');
  const subscribed = ${JSON.stringify(CHANNELS)}.filter((c) => dc.hasSubscribers(c));
  const globals = Object.getOwnPropertySymbols(globalThis).map(String).filter((s) => s.includes('nettrace.') && !s.includes('nettrace.test.'));
  return { changed, subscribed, globals };
})()`;
const hasSubscribers = (names) =>
  `(() => { const dc = require('node:diagnostics_channel'); return ${JSON.stringify(names)}.filter((c) => dc.hasSubscribers(c)); })()`;

/** The program's lines without Net Trace (the reference). */
async function plainRun(bin, file) {
  const p = startProgram(bin, file, false);
  await p.ready;
  await p.step('a');
  await p.step('b');
  p.end();
  assert.deepEqual(await p.exited, { code: 0, signal: null });
  return p.lines();
}

for (const { label, bin } of nodes) {
  for (const kind of Object.keys(programs)) {
    test(
      `${label}, ${kind}: detaching the preload loaded through the inspector takes every hook out`,
      { skip: !existsSync(preload) && 'dist/preload.cjs not built (npm run build)', timeout: 60_000 },
      async () => {
        const [file] = programs[kind];
        const reference = await plainRun(bin, file);
        const collector = await m.startCollector({ description: 'attach-detach', changeIntervalMs: 10 });
        const p = startProgram(bin, file, true);
        try {
          const url = await p.ready;
          // The debugger attaches: the program's functions as they are, then the preload.
          let debuggerClient = await inspector(url);
          assert.ok((await debuggerClient.evaluate(SNAPSHOT)) > 10);
          assert.deepEqual(
            await debuggerClient.evaluate(DIFF),
            { changed: [], subscribed: [], globals: [] },
            'nothing hooked before the attach',
          );
          const loaded = m.parseAttachLoaded(
            await loadPreload(debuggerClient, m.preloadLoadExpression(preload, { ipcPath: collector.ipcPath })),
          );
          assert.equal(loaded?.pid, String(p.child.pid));
          assert.equal(loaded.inspector, url, 'the load names the process’s inspector');
          await p.step('a');
          const hooked = await debuggerClient.evaluate(DIFF);
          for (const name of ['http.request', 'net.Socket.prototype.connect', 'globalThis.fetch.fetch', 'module._load'])
            assert.ok(hooked.changed.includes(name), `${name} is hooked while attached: ${hooked.changed}`);
          assert.ok(hooked.subscribed.includes('http.client.request.start') && hooked.subscribed.includes('undici:request:create'));
          assert.ok(hooked.globals.length >= 2, 'the preload’s global entry points');

          // The debugger detaches; the extension detaches the preload through the process's inspector.
          await debuggerClient.close();
          const answer = await m.evaluateOverInspector(loaded.inspector, m.preloadDetachExpression('the test detached'));
          assert.ok(answer.startsWith(`${m.DETACHED}${p.child.pid} `), answer);
          const report = JSON.parse(answer.slice(`${m.DETACHED}${p.child.pid} `.length));
          assert.equal(report.already, false);
          assert.equal(report.passThrough, 0, 'nothing was wrapped over the preload’s functions');
          assert.ok(report.restored >= 10, `functions put back: ${report.restored}`);
          assert.ok(
            report.channels.includes('http.client.request.start') && report.channels.includes('undici:request:create'),
            report.channels,
          );
          assert.match(
            await m.evaluateOverInspector(loaded.inspector, m.preloadDetachExpression('again')),
            /no preload to detach/,
            'a second detach finds nothing',
          );

          // Nothing of Net Trace is left in the program.
          debuggerClient = await inspector(url);
          assert.deepEqual(await debuggerClient.evaluate(DIFF), { changed: [], subscribed: [], globals: [] }, 'every hook taken out');
          assert.deepEqual(
            await debuggerClient.evaluate(hasSubscribers(report.channels)),
            [],
            'no channel the preload used has a subscriber',
          );
          await debuggerClient.close();
          await p.step('b');
          p.end();
          assert.deepEqual(await p.exited, { code: 0, signal: null }, 'the program exits by itself');
          assert.deepEqual(p.lines(), reference, 'the program’s results and active resources as without Net Trace');

          await collector.waitForIdle({ timeoutMs: 3000 });
          const trace = collector.session.snapshot();
          const paths = trace.httpRequests.map((r) => new URL(r.reqURL).pathname).sort();
          assert.deepEqual(paths, ['/a-fetch', '/a-http'], 'the requests while attached, none after the detach');
          assert.ok(
            trace.stats.warnings.some((w) => /tracing stopped at .* in pid \d+: the test detached; the hooks were removed/.test(w)),
            trace.stats.warnings.join('\n'),
          );
        } finally {
          p.child.kill('SIGKILL');
          await p.exited;
          await collector.close();
        }
      },
    );
  }
}

test(
  'the preload loaded through an attach detaches itself when its trace ends (the collector closes)',
  { skip: !existsSync(preload) },
  async () => {
    const [file] = programs.cjs;
    const reference = await plainRun(process.execPath, file);
    const collector = await m.startCollector({ description: 'attach-detach', changeIntervalMs: 10 });
    const p = startProgram(process.execPath, file, true);
    try {
      const url = await p.ready;
      const client = await inspector(url);
      await client.evaluate(SNAPSHOT);
      assert.ok(m.parseAttachLoaded(await loadPreload(client, m.preloadLoadExpression(preload, { ipcPath: collector.ipcPath }))));
      await p.step('a');
      await collector.waitForIdle({ timeoutMs: 3000 });
      assert.equal(collector.session.snapshot().httpRequests.length, 2);
      await collector.close();
      // The preload notices on its next turn; the debugger is still attached but does nothing.
      let diff;
      for (let i = 0; i < 100; i++) {
        diff = await client.evaluate(DIFF);
        if (diff.changed.length === 0 && diff.subscribed.length === 0 && diff.globals.length === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(diff, { changed: [], subscribed: [], globals: [] }, 'every hook taken out once the trace ended');
      await client.close();
      await p.step('b');
      p.end();
      assert.deepEqual(await p.exited, { code: 0, signal: null });
      assert.deepEqual(p.lines(), reference);
    } finally {
      p.child.kill('SIGKILL');
      await p.exited;
      await collector.close();
    }
  },
);
