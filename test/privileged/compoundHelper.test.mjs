// covers: src/extension/helpers.ts, src/collector/server.ts, src/collector/launchEnv.ts,
//   src/collector/processTree.ts
// needs: the build (dist/preload.cjs)
// A compound launch's services in one trace, with the real collector, preload and helpers
// (src/extension/helpers.ts SessionHelpers, as the extension uses it): two separate traced
// processes (siblings, neither a child of the other) record into one session; the launch that
// joined gets a helper of its own on its process (named by its environment: not on another
// process of the first launch that reported in before it), so the connections of both have kernel
// TCP metrics (bpf); only the first process tree is captured, and the trace says so.
// Root only (CI runs as root); skipped loudly otherwise.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { bundleTs } from '../lib/bundleTs.mjs';
import { root, skipLoudly, skipReason } from './lib.mjs';

const preload = join(root, 'dist', 'preload.cjs');

/**
 * A traced Node process: a first request (`/warm`: the preload reports the process in with its
 * first event, and the helper attaches then), then, told "go" on stdin, `n` requests (one
 * connection each) to `url`.
 */
function tracedClient(env, url, n) {
  const code = `
    const http = require('http');
    const get = (path) => new Promise((r) => http.get(${JSON.stringify(url)} + path, { agent: false }, (res) => res.resume().on('end', r)));
    process.stdin.once('data', async () => {
      for (let i = 0; i < ${n}; i++) await get('/' + process.pid + '/' + i);
      process.exit(0);
    });
    get('/warm').then(() => console.log('READY'));`;
  const child = spawn(process.execPath, ['-e', code], { env, stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (l) => l === 'READY' && resolve());
    child.on('exit', (c) => reject(new Error(`client exited (${c})`)));
  });
  const exited = new Promise((r) => child.on('exit', r));
  return { child, ready, exited, go: () => child.stdin.write('go\n') };
}

test(
  'two launches in one trace: each process tree has its own helper, the connections of both get tcpMetrics',
  { timeout: 90_000 },
  async (t) => {
    const why = skipReason({ pcap: true });
    if (why) return skipLoudly(t, why);
    const tmp = mkdtempSync(join(tmpdir(), 'nettrace-compound-'));
    t.after(() => rmSync(tmp, { recursive: true, force: true }));
    const m = bundleTs(
      [
        "export { startCollector } from './src/collector/server';",
        "export { buildPreloadEnv } from './src/collector/launchEnv';",
        "export { SessionHelpers } from './src/extension/helpers';",
        "export { LAUNCH_ENV } from './src/collector/processTree';",
      ],
      { dir: tmp },
    );
    const srv = http.createServer((req, res) => res.end('ok'));
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    t.after(() => {
      srv.closeAllConnections();
      srv.close();
    });
    const url = `http://127.0.0.1:${srv.address().port}`;

    const collector = await m.startCollector({ description: 'compound', changeIntervalMs: 10 });
    t.after(() => collector.close());
    const entry = { key: 'k', session: collector.session, collector, origin: 'current' };
    const logs = [];
    const helpers = new m.SessionHelpers(
      { get: (k) => (k === 'k' ? entry : undefined) },
      () => root,
      (l) => logs.push(l),
    );
    t.after(() => helpers.dispose());
    // The first launch starts the trace's helper; the second joins the trace (startTracedLaunch).
    // Each is named in its environment, as injectTracing does.
    const first = helpers.startFor('k', true);
    const second = helpers.join('k');

    const env = (launch) => ({
      ...m.buildPreloadEnv(process.env, { preloadPath: preload, config: { ipcPath: collector.ipcPath } }),
      [m.LAUNCH_ENV]: launch,
    });
    const a = tracedClient(env(first), url, 2);
    t.after(() => a.child.kill('SIGKILL'));
    await a.ready;
    // Another process of the first launch, not a child of the first (as npm may start two): it
    // reports in before the second launch's process, and must not take that launch's helper.
    const sibling = tracedClient(env(first), url, 1);
    t.after(() => sibling.child.kill('SIGKILL'));
    await sibling.ready;
    const b = tracedClient(env(second), url, 2);
    t.after(() => b.child.kill('SIGKILL'));
    await b.ready;
    // Both helpers attached (the extension's helpers attach once a process reports in).
    for (let i = 0; i < 600 && !(helpers.all('k').length === 2 && helpers.all('k').every((h) => h.running)); i++)
      await new Promise((r) => setTimeout(r, 50));
    assert.equal(helpers.all('k').length, 2, logs.join('\n'));
    assert.ok(
      helpers.all('k').every((h) => h.running && h.link.ready?.mode === 'bpf'),
      logs.join('\n'),
    );
    // Each launch's helper to its own first process (not the sibling), in whichever order the two
    // helpers, started together, got attached.
    assert.deepEqual(
      logs
        .filter((l) => /helper attached to pid/.test(l))
        .map((l) => Number(/pid (\d+)/.exec(l)[1]))
        .sort((x, y) => x - y),
      [a.child.pid, b.child.pid].sort((x, y) => x - y),
      logs.join('\n'),
    );
    a.go();
    b.go();
    await Promise.all([a.exited, b.exited]);
    // The helpers linger briefly for the last readings, then exit (their targets are gone).
    await helpers.finish('k', 5000);
    await collector.waitForIdle({ timeoutMs: 3000 });

    const trace = collector.session.snapshot();
    for (const pid of [a.child.pid, b.child.pid]) {
      const requests = trace.httpRequests.filter((r) => r.reqURL.includes(`/${pid}/`));
      assert.equal(requests.length, 2, JSON.stringify(trace.httpRequests.map((r) => r.reqURL)));
      const conns = requests.map((r) => trace.tcpConns.find((c) => c.traceID === r.tcpConn));
      for (const c of conns) {
        assert.equal(c?.pid, pid);
        assert.equal(c.tcpMetrics?.source, 'bpf', `pid ${pid}: ${JSON.stringify(c)}`);
        assert.equal(typeof c.tcpMetrics.rttUs, 'number', JSON.stringify(c.tcpMetrics));
      }
    }
    assert.equal(trace.stats.helper.helpers, 2);
    assert.equal(trace.stats.helper.notRunning, undefined);
    assert.ok(
      trace.stats.warnings.some((w) =>
        /^packet capture covers the processes of pid \d+ only: pid \d+ \(a launch that joined this trace\)/.test(w),
      ),
      trace.stats.warnings.join('\n'),
    );
    // Save PCAP: the first tree's capture.
    const saved = helpers.get('k').savePcap(join(tmp, 'compound.pcapng'));
    assert.ok(saved.packets > 0, JSON.stringify(saved));
  },
);
