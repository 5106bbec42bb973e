// covers: src/extension/nodeSessions.ts, src/collector/server.ts
// needs: the build (dist/preload.cjs)
// The auto-attach path for a process js-debug's bootloader holds before its program: a stand-in
// for the bootloader (a --require preload that opens the inspector and waits in
// inspector.waitForDebugger(), as js-debug's does) and a debugger client that evaluates the
// extension's load expression (src/extension/nodeSessions.ts preloadLoadExpression) over the real
// inspector protocol while the process waits. The preload loads at once, the answer says it was
// before the program (so the trace gets no "mid-run" note: midRunNote), and the program's first
// request — made by its main module as it starts — is in the trace. A program that calls
// waitForDebugger itself, mid-run, is not taken for a held one, and the expression reads no global
// `performance` there (perfbusy.cjs). CommonJS and ESM programs, on the Node versions installed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { bundleTs } from '../lib/bundleTs.mjs';
import { nodeBinaries, root } from './harness.mjs';

const preload = join(root, 'dist', 'preload.cjs');
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-attachheld-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const m = bundleTs(["export { startCollector } from './src/collector/server';", "export * from './src/extension/nodeSessions';"], {
  dir: tmp,
});

// The bootloader's part that matters here: open the inspector, say where, wait for the debugger.
writeFileSync(
  join(tmp, 'bootloader.cjs'),
  `const inspector = require('node:inspector');
inspector.open(0, '127.0.0.1', false);
process.stderr.write('INSPECTOR ' + inspector.url() + '\\n');
inspector.waitForDebugger();
`,
);
// The program: its first request at once, from its main module; a second later, from the loop.
const body = (http) => `
const url = process.env.TARGET;
${http}.get(url + '/first', (res) => {
  res.resume().on('end', () => setTimeout(() => ${http}.get(url + '/second', (r) => r.resume().on('end', () => process.exit(0))), 20));
});
`;
writeFileSync(join(tmp, 'app.cjs'), `const http = require('node:http');\n${body('http')}`);
writeFileSync(join(tmp, 'app.mjs'), `import http from 'node:http';\n${body('http')}`);
// A program that waits for the debugger itself, once its loop runs (mid-run: not held by a bootloader).
writeFileSync(
  join(tmp, 'waits.cjs'),
  `const inspector = require('node:inspector');
inspector.open(0, '127.0.0.1', false);
setTimeout(() => {
  process.stderr.write('INSPECTOR ' + inspector.url() + '\\n');
  inspector.waitForDebugger();
  setTimeout(() => process.exit(0), 200);
}, 10);
`,
);
// The same, with the global `performance` failing at its read until the program goes on, as when the
// evaluate interrupts Node loading one of perf_hooks' modules (a \`require('node:http')\`).
writeFileSync(
  join(tmp, 'perfbusy.cjs'),
  `const inspector = require('node:inspector');
inspector.open(0, '127.0.0.1', false);
let loading = true;
const real = Object.getOwnPropertyDescriptor(globalThis, 'performance');
Object.defineProperty(globalThis, 'performance', {
  configurable: true,
  get() {
    if (loading) throw new TypeError('setDispatchBufferFull is not a function');
    return real.get ? real.get.call(globalThis) : real.value;
  },
});
setTimeout(() => {
  process.stderr.write('INSPECTOR ' + inspector.url() + '\\n');
  inspector.waitForDebugger();
  loading = false;
  setTimeout(() => process.exit(0), 200);
}, 10);
`,
);

async function inspector(url) {
  const ws = new WebSocket(url);
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  let id = 0;
  const pending = new Map();
  const events = [];
  const waiters = [];
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data));
    if (msg.id && pending.has(msg.id)) (pending.get(msg.id)(msg), pending.delete(msg.id));
    if (msg.method) {
      events.push(msg.method);
      for (const w of waiters.splice(0)) w();
    }
  });
  return {
    send: (method, params) => new Promise((resolve) => (pending.set(++id, resolve), ws.send(JSON.stringify({ id, method, params })))),
    /** Resolves once the inspector sent event `method` (or at once if it did). */
    event: async (method) => {
      while (!events.includes(method)) await new Promise((r) => waiters.push(r));
    },
    close: () => new Promise((r) => (ws.once('close', r), ws.close())),
  };
}

function start(bin, args, env = {}) {
  const child = spawn(bin, args, { env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const url = new Promise((resolve, reject) => {
    child.stderr.on('data', (d) => {
      stderr += d;
      const found = /INSPECTOR (ws:\/\/\S+)/.exec(stderr);
      if (found) resolve(found[1]);
    });
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  const exited = new Promise((r) => child.on('exit', r));
  return { child, url, exited, errors: () => stderr };
}

const evaluate = (client, expression) =>
  client
    .send('Runtime.evaluate', { expression, includeCommandLineAPI: true, returnByValue: true })
    .then((r) => String(r.result?.result?.value));

const skip = !existsSync(preload) && 'dist/preload.cjs not built (npm run build)';

for (const { label, bin } of nodeBinaries()) {
  for (const file of ['app.cjs', 'app.mjs']) {
    test(
      `${label}, ${file}: held by the bootloader, the preload loads before the program, whose first request is traced; no mid-run note`,
      { skip, timeout: 30_000 },
      async (t) => {
        const srv = http.createServer((req, res) => res.end('ok'));
        await new Promise((r) => srv.listen(0, '127.0.0.1', r));
        t.after(() => (srv.closeAllConnections(), srv.close()));
        const collector = await m.startCollector({ description: 'held', changeIntervalMs: 10 });
        t.after(() => collector.close());
        const p = start(bin, ['--require', join(tmp, 'bootloader.cjs'), join(tmp, file)], {
          TARGET: `http://127.0.0.1:${srv.address().port}`,
        });
        t.after(() => p.child.kill('SIGKILL'));
        const client = await inspector(await p.url);
        // The stand-in says where its inspector is just before it waits: on a loaded machine an
        // evaluate could reach it in between. Node tells a client when the process waits for it.
        await client.send('NodeRuntime.enable', {});
        await client.event('NodeRuntime.waitingForDebugger');
        const answer = await evaluate(client, m.preloadLoadExpression(preload, { ipcPath: collector.ipcPath }));
        const loaded = m.parseAttachLoaded(answer);
        assert.equal(loaded?.pid, String(p.child.pid), answer);
        assert.equal(loaded.beforeProgram, true, answer);
        assert.equal(m.midRunNote(loaded, 'auto attach', new Date()), undefined);
        await client.send('Runtime.runIfWaitingForDebugger', {});
        await client.close();
        assert.equal(await p.exited, 0, p.errors());
        await collector.waitForIdle({ timeoutMs: 3000 });
        const paths = collector.session
          .snapshot()
          .httpRequests.map((r) => new URL(r.reqURL).pathname)
          .sort();
        assert.deepEqual(paths, ['/first', '/second']);
      },
    );
  }

  test(
    `${label}: the load expression reads no \`performance\` in a process not held before its program (its read may load a module mid-load)`,
    { skip, timeout: 30_000 },
    async (t) => {
      // Before: "nettrace: setDispatchBufferFull is not a function" at once, and nothing loaded.
      const { loaded, answer, pid } = await loadedMidRun(t, bin, 'perfbusy.cjs');
      assert.equal(loaded?.pid, pid, answer);
    },
  );

  test(
    `${label}: a program that waits for the debugger itself, mid-run, is loaded at the loop's next turn with the mid-run note`,
    { skip, timeout: 30_000 },
    async (t) => {
      const { loaded, answer, pid } = await loadedMidRun(t, bin, 'waits.cjs');
      assert.equal(loaded?.pid, pid, answer);
      assert.equal(loaded.beforeProgram, undefined);
      assert.match(
        m.midRunNote(loaded, 'auto attach', new Date(0)),
        /^tracing started mid-run at 1970-01-01T00:00:00\.000Z in pid \d+: loaded through the debugger when "auto attach" attached/,
      );
    },
  );
}

/**
 * Runs `script` (it waits for the debugger mid-run), evaluates the load expression while it waits
 * (answered: at the loop's next turn), lets it go on and asks again until loaded: {loaded, answer, pid}.
 */
async function loadedMidRun(t, bin, script) {
  const collector = await m.startCollector({ description: script, changeIntervalMs: 10 });
  t.after(() => collector.close());
  const p = start(bin, [join(tmp, script)]);
  t.after(() => p.child.kill('SIGKILL'));
  const client = await inspector(await p.url);
  await client.send('NodeRuntime.enable', {});
  await client.event('NodeRuntime.waitingForDebugger'); // as above: it prints, then waits
  const expression = m.preloadLoadExpression(preload, { ipcPath: collector.ipcPath });
  assert.equal(await evaluate(client, expression), m.STILL_STARTING);
  await client.send('Runtime.runIfWaitingForDebugger', {});
  let answer = '';
  for (let i = 0; i < 100 && !m.parseAttachLoaded(answer); i++) {
    await new Promise((r) => setTimeout(r, 10));
    answer = await evaluate(client, expression);
  }
  await client.close();
  return { loaded: m.parseAttachLoaded(answer), answer, pid: String(p.child.pid) };
}
