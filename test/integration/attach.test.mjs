// covers: src/extension/nodeSessions.ts, src/collector/server.ts
// needs: the build (dist/preload.cjs)
// The attach path without VS Code: a program started with `--inspect` (no preload), a debugger
// client that evaluates the expression the extension sends through an attach session
// (src/extension/nodeSessions.ts preloadLoadExpression) over the real inspector protocol, then the
// program's requests. For CommonJS and ESM programs on Node 20, 22, 24 and 26: the preload loads
// mid-run, the requests made after it are traced (fetch and http, the latter on a keep-alive
// connection opened before the attach, which therefore has no dial), none from before is, the
// program's own environment is as it was (NETTRACE_CONFIG restored) and its output is the same as
// without the attach. A second evaluate does not load it twice.
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
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-attach-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const m = bundleTs(["export { startCollector } from './src/collector/server';", "export * from './src/extension/nodeSessions';"], {
  dir: tmp,
});

// The program: a server of its own, one request on a keep-alive agent before the attach; on "go"
// (stdin) the requests after it — http on the same agent (the connection opened before) and
// fetch — then prints what it got and whether NETTRACE_CONFIG is in its environment.
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
server.listen(0, '127.0.0.1', async () => {
  const before = await get('/before');
  process.stdout.write('ready\\n');
  process.stdin.once('data', async () => {
    const afterHttp = await get('/after-http');
    const afterFetch = await (await fetch('http://127.0.0.1:' + server.address().port + '/after-fetch')).text();
    process.stdout.write(JSON.stringify({ before, afterHttp, afterFetch, config: process.env.NETTRACE_CONFIG ?? null }) + '\\n');
    agent.destroy();
    server.close();
    process.stdin.pause();
  });
});
`;
const programs = {
  cjs: ['app.cjs', `const http = require('node:http');\n${body}`],
  esm: ['app.mjs', `import http from 'node:http';\n${body}`],
};
for (const [file, text] of Object.values(programs)) writeFileSync(join(tmp, file), text);

const nodes = nodeBinaries();

/** Starts the program with --inspect; resolves with its inspector URL, once it said "ready". */
function startProgram(bin, file) {
  const child = spawn(bin, ['--inspect=127.0.0.1:0', join(tmp, file)], {
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => child.on('exit', r));
  const ready = new Promise((resolve, reject) => {
    const check = () => {
      const url = /ws:\/\/\S+/.exec(stderr)?.[0];
      if (url && stdout.includes('ready')) resolve(url);
    };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.on('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });
  return { child, ready, exited, output: () => stdout, errors: () => stderr };
}

/** A minimal inspector client: `send(method, params)` resolves with the result. */
async function inspector(url) {
  const ws = new WebSocket(url);
  await new Promise((r, j) => ws.once('open', r).once('error', j));
  let id = 0;
  const pending = new Map();
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data));
    if (msg.id && pending.has(msg.id)) {
      pending.get(msg.id)(msg);
      pending.delete(msg.id);
    }
  });
  return {
    send: (method, params) =>
      new Promise((resolve) => {
        pending.set(++id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => new Promise((r) => (ws.once('close', r), ws.close())),
  };
}

/** The program's output line without any attach (the reference). */
async function plainRun(bin, file) {
  const p = startProgram(bin, file);
  await p.ready;
  p.child.stdin.write('go\n');
  await p.exited;
  return JSON.parse(
    p
      .output()
      .split('\n')
      .find((l) => l.startsWith('{')),
  );
}

for (const { label, bin } of nodes) {
  for (const kind of Object.keys(programs)) {
    test(
      `${label}, ${kind}: the preload loaded through the inspector mid-run traces what follows, and nothing before`,
      { skip: !existsSync(preload) && 'dist/preload.cjs not built (npm run build)', timeout: 30_000 },
      async () => {
        const [file] = programs[kind];
        const reference = await plainRun(bin, file);
        const collector = await m.startCollector({ description: 'attach', changeIntervalMs: 10 });
        const p = startProgram(bin, file);
        try {
          const client = await inspector(await p.ready);
          const expression = m.preloadLoadExpression(preload, { ipcPath: collector.ipcPath });
          const evaluate = () => client.send('Runtime.evaluate', { expression, includeCommandLineAPI: true, returnByValue: true });
          // The load runs at the loop's next turn (nodeSessions.ts STILL_STARTING): asked again until it answers.
          let first = await evaluate();
          for (let i = 0; i < 200 && String(first.result?.result?.value).includes(m.STILL_STARTING); i++) {
            await new Promise((r) => setTimeout(r, 20));
            first = await evaluate();
          }
          const loaded = m.parseAttachLoaded(String(first.result?.result?.value));
          assert.equal(loaded?.pid, String(p.child.pid), JSON.stringify(first));
          assert.match(loaded.inspector, /^ws:\/\/127\.0\.0\.1:\d+\//, 'the answer names the process’s inspector');
          const second = await evaluate();
          assert.match(second.result.result.value, /already loaded the preload/, 'loaded once');
          await client.close(); // detach before the requests: the hooks keep recording into the collector
          p.child.stdin.write('go\n');
          await p.exited;
          const line = JSON.parse(
            p
              .output()
              .split('\n')
              .find((l) => l.startsWith('{')),
          );
          assert.deepEqual(line, reference, 'the program’s results and environment as without the attach');
          assert.equal(line.config, null, 'NETTRACE_CONFIG restored (absent)');
          await collector.waitForIdle({ timeoutMs: 3000 });
          const trace = collector.session.snapshot();
          const paths = trace.httpRequests.map((r) => new URL(r.reqURL).pathname).sort();
          assert.deepEqual(paths, ['/after-fetch', '/after-http'], 'the requests after the attach, none before');
          const reused = trace.httpRequests.find((r) => r.reqURL.endsWith('/after-http'));
          assert.equal(reused.respStatusCode, 200);
          assert.equal(reused.dial, undefined, 'the connection opened before the attach has no dial record');
          const fetched = trace.httpRequests.find((r) => r.reqURL.endsWith('/after-fetch'));
          assert.equal(fetched.respStatusCode, 200);
          assert.ok(fetched.dial, 'a connection opened after the attach has its dial');
        } finally {
          p.child.kill('SIGKILL');
          await p.exited;
          await collector.close();
        }
      },
    );
  }
}
