// covers: src/extension/pauseFlush.ts, src/collector/server.ts
// needs: the build (dist/preload.cjs)
// Live at a breakpoint, the preload's side: a paused program runs no timers, so its queued
// records leave only when the extension calls the preload's flush entry point through the
// debugger (src/extension/pauseFlush.ts). Here the program calls it itself and then blocks its
// event loop, as a breakpoint would: the collector must have the completed request while the
// program is still blocked. Real preload, real collector, real fetch and http server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';
import { nodeBinaries, root } from './harness.mjs';

const preload = join(root, 'dist', 'preload.cjs');
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-paused-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const m = bundleTs(["export { startCollector } from './src/collector/server';"], { dir: tmp });

// The server runs in the program (as in the e2e fixture); after the response the program flushes
// through the entry point the debugger evaluates, then blocks for 5 s like a paused thread.
const program = `
const http = require('node:http');
const server = http.createServer((req, res) => res.end('hello'));
server.listen(0, '127.0.0.1', async () => {
  const res = await fetch('http://127.0.0.1:' + server.address().port + '/before-the-breakpoint');
  await res.text();
  globalThis[Symbol.for('nettrace.flushNow')]?.();
  process.stdout.write('paused\\n');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5000);
  server.close();
});
`;

for (const { label, bin } of nodeBinaries()) {
  test(
    `${label}: a request completed before a pause reaches the collector while the program is paused`,
    {
      skip: !existsSync(preload) && 'dist/preload.cjs not built (npm run build)',
      timeout: 30_000,
    },
    async () => {
      const collector = await m.startCollector({ description: 'paused', changeIntervalMs: 10 });
      const child = spawn(bin, ['-e', program], {
        env: {
          ...process.env,
          NODE_OPTIONS: `--require ${JSON.stringify(preload)}`,
          NETTRACE_CONFIG: JSON.stringify({ ipcPath: collector.ipcPath }),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let exited = false;
      const done = new Promise((resolve) => child.on('exit', () => resolve((exited = true))));
      try {
        await new Promise((resolve, reject) => {
          child.stdout.on('data', (d) => String(d).includes('paused') && resolve());
          child.on('exit', (code) => reject(new Error(`the program exited (${code}) before pausing`)));
        });
        // While blocked: the completed request is in the trace (2 s is far within the 5 s pause).
        const deadline = Date.now() + 2000;
        let req;
        while (Date.now() < deadline) {
          req = collector.session.snapshot().httpRequests.find((r) => r.reqURL.endsWith('/before-the-breakpoint'));
          if (req?.respStatusCode === 200 && req.respDoneAt !== undefined) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.equal(exited, false, 'the program was still paused');
        assert.equal(req?.respStatusCode, 200, `request while paused: ${JSON.stringify(req)}`);
        assert.notEqual(req.respDoneAt, undefined, 'the response is complete in the trace');
      } finally {
        child.kill('SIGKILL');
        await done;
        await collector.close();
      }
    },
  );
}
