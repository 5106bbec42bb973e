// A Net Trace collector in its own process (for bench/memory.mjs, which kills it mid-run): starts
// startCollector() from dist/core.cjs, prints {"ipcPath": ...}; on each stdin line "stats"
// prints {requests, completed, droppedEvents, rssMB}; closes on stdin end or SIGTERM.
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { corePath } from '../lib/common.mjs';

const { startCollector } = createRequire(import.meta.url)(corePath);
const collector = await startCollector({ description: process.argv[2] ?? 'bench/memory.mjs', sourceMaps: false });
process.stdout.write(JSON.stringify({ ipcPath: collector.ipcPath }) + '\n');

createInterface({ input: process.stdin }).on('line', async (line) => {
  if (line.trim() !== 'stats') return;
  await collector.waitForIdle({ timeoutMs: 10_000 });
  const t = collector.session.snapshot();
  process.stdout.write(
    JSON.stringify({
      requests: t.httpRequests.length,
      completed: t.httpRequests.filter((q) => q.respStatusCode === 200 && q.respDoneAt !== undefined).length,
      droppedEvents: t.stats?.droppedEvents ?? 0,
      rssMB: process.memoryUsage().rss / 2 ** 20,
    }) + '\n',
  );
});
const stop = async () => {
  await collector.close();
  process.exit(0);
};
process.stdin.on('end', stop);
process.on('SIGTERM', stop);
