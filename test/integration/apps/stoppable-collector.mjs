// A collector in a process of its own, for tests that stop it with SIGSTOP. Prints its IPC path
// on the first line; once a SIGCONT arrived and everything settled, prints one JSON line and exits.
//   node stoppable-collector.mjs raw    a raw reader (./wireReader.mjs): counts every message that is
//                                       not hello or stats (an events frame as its events), keeps the stats with the highest
//                                       producedEvents, notes exit messages and continuations
//   node stoppable-collector.mjs real   the real collector (dist/core.cjs): the trace's stats and
//                                       request count
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WireReader, messageCount } from './wireReader.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const mode = process.argv[2];
let resumed = false;
process.on('SIGCONT', () => (resumed = true));

if (mode === 'real') {
  const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
  const collector = await core.startCollector({ description: 'stoppable' });
  console.log(collector.ipcPath);
  while (!resumed) await new Promise((r) => setTimeout(r, 20));
  await collector.waitForIdle({ timeoutMs: 20_000 });
  const trace = collector.session.snapshot();
  console.log(
    JSON.stringify({
      requests: trace.httpRequests.length,
      stats: trace.stats,
      processes: trace.processes.length,
      exitCodes: trace.processes.map((p) => p.exitCode),
    }),
  );
  await collector.close();
} else {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-stop-'));
  const path = join(dir, 'ipc.sock');
  let received = 0;
  let stats;
  let exits = 0;
  let continuations = 0;
  let open = 0;
  let seen = 0;
  let lastActivity = Date.now();
  const server = createServer((c) => {
    open++;
    seen++;
    lastActivity = Date.now();
    const reader = new WireReader();
    c.on('data', (d) => {
      lastActivity = Date.now();
      for (const m of reader.push(d)) {
        if (m.type === 'stats') {
          if (!stats || m.producedEvents >= stats.producedEvents) stats = m;
        } else if (m.type === 'hello') {
          if (m.continues) continuations++;
        } else {
          received += messageCount(m);
          if (m.type === 'exit') exits++;
        }
      }
    });
    c.on('close', () => {
      open--;
      lastActivity = Date.now();
    });
  });
  await new Promise((r) => server.listen(path, r));
  console.log(path);
  while (!resumed || seen === 0 || open > 0 || Date.now() - lastActivity < 300) await new Promise((r) => setTimeout(r, 20));
  console.log(JSON.stringify({ received, stats, exits, continuations }));
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
