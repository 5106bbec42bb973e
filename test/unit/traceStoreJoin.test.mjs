// covers: src/extension/launchConfig.ts, src/extension/traceStore.ts,
//   src/trace/derive/incomingLinks.ts, src/collector/server.ts
// needs: the build (dist/preload.cjs)
// Two launches of one window in one trace (issue 37 item 4: a compound launch of two services, or
// two sessions started one after the other): the TraceStore with real collectors, and two real
// traced processes — a service and the program that calls it — recording into the joined trace,
// where the call is linked to the incoming request it became.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs, root } from '../lib/bundleTs.mjs';

const preload = join(root, 'dist', 'preload.cjs');
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-join-'));
const m = bundleTs(
  [
    "export * from './src/extension/launchConfig';",
    "export * from './src/extension/traceStore';",
    "export { linkServed } from './src/trace/derive/incomingLinks';",
    "export { startCollector } from './src/collector/server';",
  ],
  { dir: tmp },
);
after(() => rmSync(tmp, { recursive: true, force: true }));

const defaults = { headers: 'values', redact: [], openPanelOnStart: true };

/** Runs `script` with the traced launch's environment; resolves with its stdout. */
function run(env, script) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

/** A launch's environment: the preload and the collector's path, as injectTracing makes it. */
function envOf(name, ipcPath, key) {
  const cfg = m.toNodeLaunchConfig({ type: 'nettrace', request: 'launch', name, program: `${name}.js` }, defaults);
  return m.injectTracing(cfg, { preloadPath: preload, ipcPath, sessionId: key }).env;
}

test('launches with the same join key record into one trace, which ends with the last of them; another key gets its own', async () => {
  const store = new m.TraceStore({ startCollector: m.startCollector, idleTimeoutMs: 50, clock: () => '10:00:00' });
  try {
    // A compound prepares its launches at once.
    const [a, b] = await Promise.all([store.prepare('payments.ts', { join: 'k' }), store.prepare('gateway.ts', { join: 'k' })]);
    const other = await store.prepare('tests.ts', { join: 'other' });
    const plain = await store.prepare('attach');
    assert.equal(b.key, a.key);
    assert.equal(b.ipcPath, a.ipcPath);
    assert.equal(b.joined, true);
    assert.equal(a.joined, undefined);
    assert.equal(new Set([a.key, other.key, plain.key]).size, 3);
    // A launch without a key is not joined either.
    assert.notEqual((await store.prepare('later', {})).key, plain.key);
    assert.equal(store.get(a.key).label, 'payments.ts + gateway.ts — 10:00:00');
    assert.equal(store.fullTrace(store.get(a.key)).description, 'payments.ts + gateway.ts');

    // Each launch's debug session attaches once; a third session (a child) does not.
    assert.ok(store.attach(a.key, 'dbg-pay'));
    assert.ok(store.attach(a.key, 'dbg-gw'));
    assert.equal(store.attach(a.key, 'dbg-child'), undefined);
    assert.equal(store.byDebugSession('dbg-gw').key, a.key);
    // The first to end leaves the trace live; the last ends it.
    assert.equal(store.release('dbg-pay'), undefined);
    assert.equal(store.get(a.key).origin, 'current');
    assert.equal(store.release('dbg-gw').key, a.key);
    // A launch started while it ends (its last readings still coming) gets a trace of its own.
    assert.notEqual((await store.prepare('again', { join: 'k' })).key, a.key);
  } finally {
    await store.dispose();
  }
});

test('a launch joined but never started keeps the trace open until it is given up', async () => {
  const store = new m.TraceStore({ startCollector: m.startCollector, idleTimeoutMs: 50 });
  try {
    const a = await store.prepare('one', { join: 'k' });
    await store.prepare('two', { join: 'k' });
    assert.ok(store.attach(a.key, 'dbg-1'));
    assert.equal(store.release('dbg-1'), undefined, 'the second launch may still start');
    store.unprepare(a.key);
    await new Promise((resolve) => (store.get(a.key).origin === 'earlier' ? resolve() : store.once('ended', resolve)));
    assert.equal(store.get(a.key).origin, 'earlier');
  } finally {
    await store.dispose();
  }
});

test(
  'two processes of two joined launches: the call from one is linked to the request the other served',
  { skip: !existsSync(preload) && 'dist/preload.cjs not built (npm run build)' },
  async () => {
    const store = new m.TraceStore({ startCollector: m.startCollector, idleTimeoutMs: 3000, changeIntervalMs: 20 });
    try {
      const svc = await store.prepare('payments.js', { join: 'k' });
      const gw = await store.prepare('gateway.js', { join: 'k' });
      // The service answers one request, then exits; its port goes to the caller through stdout.
      const service = spawn(
        process.execPath,
        [
          '-e',
          `const s = require('node:http').createServer((req, res) => { req.resume(); res.end('ok'); s.close(); });
           s.listen(0, '127.0.0.1', () => console.log(s.address().port));`,
        ],
        { env: { ...process.env, ...envOf('payments', svc.ipcPath, svc.key) }, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const port = await new Promise((resolve) => service.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
      const exited = new Promise((resolve) => service.on('exit', resolve));
      await run(
        envOf('gateway', gw.ipcPath, gw.key),
        `fetch('http://127.0.0.1:${port}/charge', { method: 'POST', body: 'x' }).then((r) => r.text())`,
      );
      assert.equal(await exited, 0);
      await store.end(svc.key);
      const trace = store.fullTrace(store.get(svc.key));
      const call = trace.httpRequests.find((r) => r.reqURL.endsWith('/charge'));
      const served = trace.incomingRequests?.find((i) => i.reqURL.endsWith('/charge'));
      assert.ok(call && served, JSON.stringify({ requests: trace.httpRequests.length, incoming: trace.incomingRequests?.length }));
      assert.notEqual(call.pid, served.pid, 'two processes');
      assert.equal(m.linkServed(trace.httpRequests, trace.tcpConns, trace.incomingRequests).get(call.traceID), served.traceID);
    } finally {
      await store.dispose();
    }
  },
);
