// covers: src/helper/
// needs: the build (dist/helper.cjs)
// The helper's lines all reach a reader that falls behind: the native helper shares the stdout of
// dist/helper.cjs, which Node made non-blocking, and a write refused on a full pipe used to be
// dropped by stdio (whole batches of connections' lines lost, some lines cut). Root only.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { root, skipLoudly, skipReason } from './lib.mjs';

// Waits for a line on stdin, then makes COUNT connections to PORT, 32 at a time; prints DONE.
const programSource = `const net = require('net');
const [port, count] = process.argv.slice(1).map(Number);
process.stdin.once('data', () => {
  let started = 0, done = 0;
  const one = () => {
    started++;
    const c = net.connect(port, '127.0.0.1');
    c.on('error', () => {});
    c.on('end', () => c.end());
    c.on('close', () => { done++; if (started < count) one(); else if (done === count) { console.log('DONE'); setTimeout(() => process.exit(0), 300); } });
  };
  for (let i = 0; i < 32; i++) one();
});`;

test('a reader that pauses still gets every connection’s final metrics, each line whole', { timeout: 90_000 }, async (t) => {
  const why = skipReason();
  if (why) return skipLoudly(t, why);
  const server = net.createServer((s) => s.on('error', () => {}).end());
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const count = 4000;
  const program = spawn(process.execPath, ['-e', programSource, String(server.address().port), String(count)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  t.after(() => program.kill());
  const helper = spawn(process.execPath, [join(root, 'dist', 'helper.cjs'), '--pid', String(program.pid)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  t.after(() => helper.kill('SIGKILL'));
  let finals = 0;
  let broken = 0;
  const lines = createInterface({ input: helper.stdout });
  const ready = new Promise((resolve) =>
    lines.on('line', (l) => {
      let m;
      try {
        m = JSON.parse(l);
      } catch {
        broken++;
        return;
      }
      if (m.type === 'ready') resolve();
      if (m.type === 'tcpMetrics' && m.final) finals++;
    }),
  );
  await ready;
  // The reader stops while the program makes its connections: the helper's lines pile up in the pipe.
  helper.stdout.pause();
  program.stdin.end('go\n');
  await once(program.stdout, 'data');
  await new Promise((r) => setTimeout(r, 500));
  helper.stdout.resume();
  await Promise.all([once(helper, 'exit'), once(lines, 'close')]);
  assert.equal(broken, 0, 'every line is whole JSON');
  assert.equal(finals, count, `final tcpMetrics for each of the ${count} connections`);
});
