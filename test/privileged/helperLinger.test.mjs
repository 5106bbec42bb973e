// covers: src/helper/helperProcess.ts
// The helper's end after its target's: it waits for the last sockets' final readings, and no
// longer than that. Root only (CI runs as root); skipped loudly otherwise.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api, fixtures, gatedClient, ofType, root, skipLoudly, skipReason } from './lib.mjs';

async function startTraced(client, authority = 'root') {
  await client.gated;
  const h = await api().startHelper({ pid: client.child.pid, root, authority });
  client.release();
  return h;
}

/** When a promise settled (performance.now()). */
const settledAt = (p) => p.then(() => performance.now());

describe('helper linger', { timeout: 60_000 }, () => {
  const reason = skipReason();
  let server;
  let port;
  before(async () => {
    if (reason) return;
    // Reads a 4-byte length and that many bytes, answers "ok", ends when the client does.
    server = net.createServer((s) => {
      let got = 0;
      s.on('data', (d) => {
        got += d.length;
        if (got >= 4 + 64) s.write('ok\n');
      });
      s.on('end', () => s.end());
      s.on('error', () => {});
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    port = server.address().port;
  });
  after(() => server?.close());

  test('the target exited and its sockets are gone: the helper ends at once, with their final readings', async (t) => {
    if (reason) return skipLoudly(t, reason);
    const client = gatedClient(undefined, ['127.0.0.1', port, 3, 64]);
    const h = await startTraced(client);
    const [clientEnd, helperEnd] = await Promise.all([settledAt(client.exited), settledAt(h.exited)]);
    const ports = client.ports();
    assert.equal(ports.length, 3);
    const finals = ofType(h, 'tcpMetrics').filter((m) => m.final && ports.includes(m.addrTuple.srcPort));
    assert.deepEqual(finals.map((m) => m.addrTuple.srcPort).sort(), [...ports].sort(), 'a final reading of every connection');
    const exit = ofType(h, 'exit')[0];
    assert.equal(exit?.reason, 'target exited');
    const after = helperEnd - clientEnd;
    console.error(`# helper ended ${after.toFixed(0)} ms after its target`);
    // The linger's bound is 500 ms; with every socket gone the helper needs a poll round or two.
    assert.ok(after < 300, `the helper ended ${after.toFixed(0)} ms after its target (every socket was gone)`);
  });

  test('inet_diag mode: the target exited and its sockets are gone: the helper ends at once (no fixed 200 ms)', async (t) => {
    if (reason) return skipLoudly(t, reason);
    // Unprivileged, the helper reads tcp_info through inet_diag (native/src/inet_diag.c); it
    // waited a fixed 200 ms after every target's exit, added to the end of every traced run.
    // Three runs, the quickest counts: the fixed wait made every one 200 ms or more, while a
    // loaded machine (CI) delays a single one past that now and then.
    const afters = [];
    for (let i = 0; i < 3; i++) {
      const client = gatedClient(undefined, ['127.0.0.1', port, 3, 64]);
      const h = await startTraced(client, 'unprivileged');
      assert.equal(h.ready.mode, 'inet_diag');
      const [clientEnd, helperEnd] = await Promise.all([settledAt(client.exited), settledAt(h.exited)]);
      assert.equal(ofType(h, 'exit')[0]?.reason, 'target exited');
      afters.push(helperEnd - clientEnd);
    }
    const after = Math.min(...afters);
    console.error(`# inet_diag helper ended ${afters.map((a) => a.toFixed(0)).join(', ')} ms after its target`);
    assert.ok(after < 150, `the helper ended ${after.toFixed(0)} ms after its target at the quickest (every socket was gone)`);
  });

  test('a child still holds a socket: the helper waits the linger out, not less', async (t) => {
    if (reason) return skipLoudly(t, reason);
    const script = join(fixtures, '..', `linger-parent-${process.pid}.mjs`);
    // The parent starts a child that connects and holds its socket for 3 s, then exits itself.
    writeFileSync(
      script,
      `import { spawn } from 'node:child_process';
const child = spawn(process.execPath, ['-e', \`const s = require('net').connect(${port}, '127.0.0.1', () => { console.log('CHILD ' + s.localPort); setTimeout(() => s.destroy(), 3000); }); s.on('error', () => {});\`], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
child.stdout.on('data', (d) => { process.stdout.write(d); child.stdout.destroy(); child.unref(); process.exit(0); });
`,
    );
    t.after(() => import('node:fs').then((fs) => fs.rmSync(script, { force: true })));
    const client = gatedClient(undefined, [], { script });
    const h = await startTraced(client);
    const [clientEnd, helperEnd] = await Promise.all([settledAt(client.exited), settledAt(h.exited)]);
    assert.ok(
      client.lines.some((l) => l.startsWith('CHILD ')),
      'the child connected',
    );
    const after = helperEnd - clientEnd;
    console.error(`# helper ended ${after.toFixed(0)} ms after its target, a child's socket still open`);
    assert.ok(after >= 400, `the helper waited for the child's socket (${after.toFixed(0)} ms)`);
    assert.ok(after < 2500, `but no longer than its linger (${after.toFixed(0)} ms)`);
  });
});
