// Issue 2, memory floor: the debuggee's extra memory after 100,000 requests (keep-alive `http` and
// `fetch`, alternating, 50 in flight) against the local server (its own process), measured in the
// client after forced GC (--expose-gc) every 10,000 requests, in four conditions:
//   untraced        plain `node`
//   attached        Net Trace preload (default options) streaming to a live collector
//                   (bench/apps/collector.mjs, its own process)
//   no-collector    Net Trace preload whose ipcPath has nothing listening
//   collector-killed  Net Trace preload, collector SIGKILLed in the middle of the run
//   collector-stalled Net Trace preload connected to a socket that accepts and never reads (the
//                   harshest case for the queue: the pipe fills, nothing tells the preload to stop)
// Floors: attached ≤ 50 MB over untraced (RSS and heapUsed after GC); with the collector gone the
// preload's queue stays bounded (memory flat as requests go on).
//
//   node bench/memory.mjs            (npm run bench runs it after bench/overhead.mjs)
//   BENCH_MEM_REQUESTS=100000 BENCH_MEM_CONCURRENCY=50 node bench/memory.mjs [--no-write]
//   BENCH_QUICK=1 node bench/memory.mjs   smoke test: 10,000 requests per condition, RESULTS.md
//                                         untouched (unless --write)
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appsDir,
  fmt,
  loadCore,
  machine,
  machineLine,
  nodeOptions,
  preloadPath,
  runNode,
  startServer,
  writeSubsection,
  QUICK,
  SECTION,
} from './lib/common.mjs';

const N = Number(process.env.BENCH_MEM_REQUESTS ?? (QUICK ? 10_000 : 100_000));
const CONC = Number(process.env.BENCH_MEM_CONCURRENCY ?? 50);
const EVERY = Number(process.env.BENCH_MEM_CHECKPOINT ?? N / 10);
const KILL_AT = N / 2;
const FLOOR_MB = 50;
const FLAT_MB = 5; // "flat": heapUsed grows by less than this over the second half of the run
const noWrite = process.argv.includes('--no-write') || (QUICK && !process.argv.includes('--write'));
const t0 = Date.now();
const MB = 2 ** 20;
const sfmt = (x) => (x >= 0 ? '+' : '−') + fmt(Math.abs(x), 1);

loadCore(); // fails early with a clear message when dist/ is not built
const m = machine();
const server = await startServer();
console.error(`machine: ${machineLine(m)}`);
console.error(
  `server: ${server.url}; ${N} requests per condition (http/fetch alternating, concurrency ${CONC}), checkpoint every ${EVERY}`,
);

async function startCollectorProcess() {
  let resolveInfo;
  const infoP = new Promise((r) => (resolveInfo = r));
  const waiters = [];
  const proc = runNode([join(appsDir, 'collector.mjs'), 'bench/memory.mjs'], {
    onLine: (o) => (o.ipcPath ? resolveInfo(o) : waiters.shift()?.(o)),
  });
  const info = await Promise.race([infoP, proc.done.then((r) => Promise.reject(new Error(`collector exited: ${r.stderr}`)))]);
  return {
    ipcPath: info.ipcPath,
    stats: () => new Promise((r) => (waiters.push(r), proc.child.stdin.write('stats\n'))),
    kill: () => proc.child.kill('SIGKILL'),
    async stop() {
      proc.child.stdin.end();
      await proc.done;
    },
  };
}

async function runCondition(cond) {
  const env = {};
  let collector;
  let scratch;
  let killedAt;
  if (cond === 'attached' || cond === 'collector-killed') {
    collector = await startCollectorProcess();
    env.NETTRACE_CONFIG = JSON.stringify({ ipcPath: collector.ipcPath });
  } else if (cond === 'collector-stalled') {
    scratch = mkdtempSync(join(tmpdir(), 'nettrace-bench-'));
    const path = join(scratch, 'stalled.sock');
    const sockets = [];
    const stalled = createServer((s) => (sockets.push(s), s.pause()));
    await new Promise((r) => stalled.listen(path, r));
    collector = { stop: async () => (sockets.forEach((s) => s.destroy()), await new Promise((r) => stalled.close(r))) };
    env.NETTRACE_CONFIG = JSON.stringify({ ipcPath: path });
  } else if (cond === 'no-collector') {
    scratch = mkdtempSync(join(tmpdir(), 'nettrace-bench-'));
    env.NETTRACE_CONFIG = JSON.stringify({ ipcPath: join(scratch, 'nobody-listens.sock') });
  }
  if (cond !== 'untraced') env.NODE_OPTIONS = nodeOptions([preloadPath]);
  const t0 = Date.now();
  const r = await runNode(['--expose-gc', join(appsDir, 'memory-client.mjs'), String(N), String(CONC), String(EVERY), server.url], {
    env,
    onLine: (o) => {
      if (typeof o.done === 'number') {
        console.error(
          `  ${cond.padEnd(16)} ${String(o.done).padStart(7)} req  rss ${fmt(o.rss / MB, 1).padStart(6)} MB  heapUsed ${fmt(o.heapUsed / MB, 1).padStart(6)} MB`,
        );
        if (cond === 'collector-killed' && killedAt === undefined && o.done >= KILL_AT) {
          // Kill during the next chunk, not at a quiet moment between chunks.
          killedAt = o.done;
          setTimeout(() => collector.kill(), 300);
        }
      }
    },
  }).done;
  const secs = (Date.now() - t0) / 1000;
  if (r.code !== 0) throw new Error(`${cond}: client exited ${r.code ?? r.signal}\n${r.stderr}`);
  const points = r.lines.filter((l) => typeof l.done === 'number');
  const final = r.lines.find((l) => l.final);
  let recorded;
  if (cond === 'attached') recorded = await collector.stats();
  if (collector) await collector.stop().catch(() => {});
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  return { cond, points, maxRSS: final.maxRSS, secs, recorded, killedAt, stderr: r.stderr.trim() };
}

const results = {};
for (const cond of ['untraced', 'attached', 'no-collector', 'collector-killed', 'collector-stalled']) {
  console.error(`${cond}:`);
  results[cond] = await runCondition(cond);
}
await server.stop();
const loadEnd = os.loadavg();
const minutes = (Date.now() - t0) / 60_000;

// ---- report -------------------------------------------------------------------------------
const last = (c) => results[c].points.at(-1);
const at = (c, done) => results[c].points.find((p) => p.done >= done) ?? last(c);
const base = last('untraced');
const half = N / 2 + EVERY; // first checkpoint after the kill
const rows = Object.values(results).map((res) => {
  const c = res.cond;
  const p0 = res.points[0];
  const pl = last(c);
  const ph = at(c, half);
  return {
    c,
    rss0: p0.rss / MB,
    rss: pl.rss / MB,
    heap0: p0.heapUsed / MB,
    heap: pl.heapUsed / MB,
    extraRss: (pl.rss - base.rss) / MB,
    extraHeap: (pl.heapUsed - base.heapUsed) / MB,
    growHeap: (pl.heapUsed - ph.heapUsed) / MB,
    growRss: (pl.rss - ph.rss) / MB,
    fromDone: ph.done,
    maxRSS: res.maxRSS / MB,
    secs: res.secs,
  };
});
const attached = rows.find((r) => r.c === 'attached');
const floorOk = attached.extraRss <= FLOOR_MB && attached.extraHeap <= FLOOR_MB;
const gone = rows.filter((r) => r.c !== 'untraced' && r.c !== 'attached');
const flatOk = gone.every((r) => r.growHeap < FLAT_MB);
const rec = results.attached.recorded;
const expected = N + 1000;

const table = [
  `| condition (${N.toLocaleString('en')} req) | RSS start → end MB | heapUsed start → end MB | extra over untraced at end: RSS / heapUsed MB | heapUsed / RSS change over the last half (from ${(N / 2 + EVERY).toLocaleString('en')} req) MB | peak RSS MB | wall s |`,
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.c} | ${fmt(r.rss0, 1)} → ${fmt(r.rss, 1)} | ${fmt(r.heap0, 1)} → ${fmt(r.heap, 1)} | ${r.c === 'untraced' ? '—' : `${sfmt(r.extraRss)} / ${sfmt(r.extraHeap)}`} | ${sfmt(r.growHeap)} / ${sfmt(r.growRss)} | ${fmt(r.maxRSS, 1)} | ${fmt(r.secs, 1)} |`,
  ),
].join('\n');
const series = Object.values(results)
  .map(
    (res) =>
      `- ${res.cond}${res.killedAt !== undefined ? ` (collector killed ~300 ms after ${res.killedAt.toLocaleString('en')} req)` : ''}: ` +
      res.points.map((p) => fmt(p.heapUsed / MB, 1)).join(', '),
  )
  .join('\n');
const seriesRss = Object.values(results)
  .map((res) => `- ${res.cond}: ` + res.points.map((p) => fmt(p.rss / MB, 0)).join(', '))
  .join('\n');
const verdict = [
  `- Extra memory with the collector attached ≤ ${FLOOR_MB} MB over untraced (RSS and heapUsed after GC, at ${N.toLocaleString('en')} requests): **${floorOk ? 'met' : 'NOT met'}** (RSS ${sfmt(attached.extraRss)} MB, heapUsed ${sfmt(attached.extraHeap)} MB)`,
  `- Collector gone or stuck (nothing listening / killed mid-run / accepts but never reads): preload memory stays flat (heapUsed grows < ${FLAT_MB} MB over the last half of the run): **${flatOk ? 'met' : 'NOT met'}** (${gone.map((r) => `${r.c} ${sfmt(r.growHeap)} MB`).join(', ')})`,
  `- Collector attached recorded ${rec ? `${rec.requests.toLocaleString('en')} of ${expected.toLocaleString('en')} requests made (incl. 1,000 warm-up), ${rec.completed.toLocaleString('en')} completed, ${rec.droppedEvents} dropped events` : 'n/a'}`,
].join('\n');

const body = `Machine: ${machineLine(m, loadEnd)}

Run: \`node bench/memory.mjs\` (part of \`npm run bench\`; this run took ${fmt(minutes, 1)} min). Client \`bench/apps/memory-client.mjs\` under \`--expose-gc\`: 1,000
warm-up requests, then ${N.toLocaleString('en')} requests, ${CONC} in flight, each worker alternating \`http\` (keep-alive Agent) and
\`fetch\`; every ${EVERY.toLocaleString('en')} requests it waits 200 ms, runs \`gc()\` twice and reads \`process.memoryUsage()\`.
Server: \`bench/apps/server.mjs\` (own process). Collector: \`bench/apps/collector.mjs\` (own process, \`startCollector\`).
Conditions: untraced; Net Trace preload (default options, so the queue cap is 20,000 events) with the collector
attached; with an ipcPath where nothing listens; with the collector SIGKILLed in the middle of the run; with a "collector"
that accepts the connection and never reads (the pipe fills up, so events pile up in the preload's queue).

${table}

${verdict}

heapUsed after GC at each checkpoint (MB, every ${EVERY.toLocaleString('en')} requests from 0):
${series}

RSS at each checkpoint (MB):
${seriesRss}`;

console.log(`\n${SECTION}: memory — ${machineLine(m, loadEnd)}${QUICK ? ' — BENCH_QUICK (smoke test)' : ''}\n`);
console.log(table);
console.log('');
console.log(verdict);
console.log('');
console.log(series);
const warnings = Object.values(results).filter((r) => r.stderr);
for (const w of warnings) console.error(`${w.cond} stderr: ${w.stderr.slice(0, 500)}`);
if (!noWrite) {
  writeSubsection('Memory', body);
  console.error(`\nwrote test-results/bench/runs.md (section "${SECTION}", subsection "Memory")`);
} else if (QUICK) console.error('\nBENCH_QUICK: test-results/bench/runs.md not written (pass --write to write anyway)');
console.log(`\nmemory benchmark took ${fmt(minutes, 1)} min`);
