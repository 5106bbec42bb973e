// covers: src/collector/, src/preload/transport/
// needs: the build (dist/core.cjs, dist/preload.cjs)
// Nothing a short program wrote is lost when its collector reads late. The collector here runs in
// this process and the program is started with spawnSync, which blocks this event loop until the
// program has exited: the program connects (the kernel queues the connection), writes its whole
// trace, exit message included, and closes its end before the collector accepts or reads a byte.
// The session has a rule, so the collector answers the program's hello with the rule set: that
// write meets a closed peer (EPIPE) while most of the program's stream is still unread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { apps, nodeBinaries, root } from './harness.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const preload = join(root, 'dist', 'preload.cjs');
const app = join(apps, 'short-selfserved.cjs');
// ~93 KB of trace: more than the 64 KiB libuv reads at once, less than a unix socket holds while
// nobody reads (130 KB in writes of 1.4 KB, 180 KB in writes of 4 KB: each write is a kernel
// buffer of its own, see HOLD_BELOW_BYTES in src/preload/transport/batching.ts; past that the
// preload drops and counts events).
const COUNT = 100;

/** Runs the short program traced into a fresh collector that is blocked until it has exited; returns the trace. */
async function runBlocked(bin, rules) {
  const collector = await core.startCollector({ description: 'eof', rules, changeIntervalMs: 10 });
  try {
    const config = { ipcPath: collector.ipcPath, ...collector.session.rules.preloadConfig() };
    const env = core.buildPreloadEnv({ ...process.env }, { preloadPath: preload, config });
    const res = spawnSync(bin, [app, String(COUNT)], { env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout.trim(), `done ${COUNT}`);
    // waitForIdle is true while no connection is open: first let the loop accept the queued one.
    const deadline = Date.now() + 10_000;
    while (collector.session.builder.trace.processes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.ok(await collector.waitForIdle({ timeoutMs: 10_000 }), 'the collector saw the program end');
    return collector.session.snapshot();
  } finally {
    await collector.close();
  }
}

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: a program that exited before the collector read its stream loses nothing (answered with rules)`, async () => {
    // A tag rule: acts on nothing the program sees, but makes the collector write to it after its hello.
    const rules = [{ id: 'mark-all', name: 'mark all', condition: 'true', action: 'mark', tag: 'seen' }];
    for (let round = 0; round < 3; round++) {
      const trace = await runBlocked(bin, rules);
      const warnings = trace.stats.warnings.join('\n');
      assert.doesNotMatch(warnings, /without an exit message|middle of a message/, `round ${round}`);
      const outgoing = trace.httpRequests.filter((r) => r.reqURL.includes('/short/'));
      assert.equal(outgoing.length, COUNT, `round ${round}: ${outgoing.map((r) => r.reqURL).join(', ')}`);
      for (const r of outgoing) {
        assert.equal(r.respStatusCode, 200, r.reqURL);
        assert.equal(r.incomplete, undefined, r.reqURL);
      }
      const proc = trace.processes.find((p) => (p.threadId ?? 0) === 0);
      assert.equal(proc?.exitCode, 0, `round ${round}: the exit message arrived`);
    }
  });
}
