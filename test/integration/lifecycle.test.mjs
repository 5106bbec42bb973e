// Nothing completed is lost to an ending thread or process, and what could not be sent is
// counted: workers terminated right after a request, process.exit() in a response handler,
// SIGTERM with Node's default action, SIGKILL (the collector keeps the request it saw start as
// `incomplete`), a flush entry point for a paused debuggee, a program that patches the APIs the
// preload uses, a bad configuration, and a collector stopped with SIGSTOP.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServers } from './servers.mjs';
import { apps, nodeBinaries, root } from './harness.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const preload = join(root, 'dist', 'preload.cjs');

let servers;
before(async () => {
  servers = await startServers();
});
after(() => servers.close());

/** Starts `node <script>` traced into `collector`; returns the child and a promise of its end. */
function start(bin, script, collector, { env = {}, config = {}, args = [], stdin = 'ignore' } = {}) {
  const childEnv = core.buildPreloadEnv({ ...process.env, ...env }, { preloadPath: preload, config: { ipcPath: collector.ipcPath, ...config } });
  const child = spawn(bin, [script, ...args], { env: childEnv, stdio: [stdin, 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const waiters = [];
  child.stdout.on('data', () => {
    for (const w of waiters.splice(0)) if (!w(stdout)) waiters.push(w);
  });
  const done = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, get stdout() { return stdout; }, get stderr() { return stderr; } })));
  const waitFor = (text) =>
    new Promise((resolve) => {
      const check = (out) => {
        if (out.includes(text)) resolve(out);
        return out.includes(text);
      };
      if (!check(stdout)) waiters.push(check);
    });
  return { child, done, waitFor, output: () => ({ stdout, stderr }) };
}

const lifecycleApp = join(apps, 'lifecycle.cjs');

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: 100 workers, each terminated right after its fetch posted the status: 100 requests, 100 threads`, async () => {
    const collector = await core.startCollector({ description: 'workers' });
    try {
      // 100 terminations in 4 processes of 25, two at a time.
      const runs = [0, 1, 2, 3].map(() => null);
      const results = [];
      for (let i = 0; i < runs.length; i += 2) {
        results.push(
          ...(await Promise.all(
            runs.slice(i, i + 2).map(async () => {
              const p = start(bin, lifecycleApp, collector, { env: { NT_MODE: 'workers', NT_COUNT: '25', NT_URL: servers.urls.http } });
              return p.done;
            }),
          )),
        );
      }
      for (const r of results) {
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^statuses 25$/m);
      }
      assert.ok(await collector.waitForIdle({ timeoutMs: 10_000 }));
      const trace = collector.session.snapshot();
      const reqs = trace.httpRequests.filter((r) => r.reqURL.includes('/w?id='));
      assert.equal(reqs.length, 100, `requests in the trace: ${reqs.length}`);
      for (const r of reqs) assert.equal(r.respStatusCode, 200, r.reqURL);
      assert.equal(trace.processes.filter((p) => p.threadId > 0).length, 100, 'one process record per worker');
      assert.equal(trace.stats.droppedEvents, 0);
    } finally {
      await collector.close();
    }
  });
}
