// covers: src/helper/
// needs: the build (dist/helper.cjs)
// The helper's reader goes away (the collector exits, or closes the pipe, while the helper runs
// with a packet capture, so its Node side relays the native helper's lines): the helper stops
// its native part and exits, without an unhandled EPIPE. CI saw `Error: write EPIPE … Unhandled
// 'error' event` from dist/helper.cjs when a loaded run's collector had already gone. Root only.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { root, skipLoudly, skipReason } from './lib.mjs';

test('the reader closes the helper’s stdout: it stops and exits, no unhandled error', { timeout: 60_000 }, async (t) => {
  const why = skipReason({ pcap: true });
  if (why) return skipLoudly(t, why);
  // A traced program that keeps making connections, so the helper keeps writing.
  const program = spawn(
    process.execPath,
    [
      '-e',
      "const net = require('net'); const s = net.createServer((c) => c.end()).listen(0, '127.0.0.1', () => setInterval(() => net.connect(s.address().port, '127.0.0.1').on('error', () => {}).resume(), 5));",
    ],
    { stdio: 'ignore' },
  );
  t.after(() => program.kill());
  const helper = spawn(process.execPath, [join(root, 'dist', 'helper.cjs'), '--pid', String(program.pid), '--pcap', '--update-ms', '50'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.after(() => helper.kill('SIGKILL'));
  let stderr = '';
  helper.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((r) => helper.on('exit', (code, signal) => r({ code, signal })));
  await new Promise((resolve, reject) => {
    createInterface({ input: helper.stdout }).on('line', (l) => l.startsWith('{"type":"ready"') && resolve());
    exited.then(() => reject(new Error(`the helper exited before it was ready: ${stderr}`)));
  });
  await new Promise((r) => setTimeout(r, 300));
  helper.stdout.destroy(); // the reader goes away; the helper keeps writing into a closed pipe
  const end = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
  assert.notEqual(end, 'still running', 'the helper stopped once its reader was gone');
  assert.doesNotMatch(stderr, /Unhandled 'error' event|EPIPE/, stderr);
  assert.equal(end.signal, null, `exited by itself: ${JSON.stringify(end)} ${stderr}`);
});
