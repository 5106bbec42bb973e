// A/B of two preload bundles in one run: the keep-alive workloads of bench/overhead.mjs (http and
// fetch, sequential and at concurrency 50), each under untraced, preload A and preload B, the
// conditions rotated every round; both preloads stream to a real collector in this process.
// Reports the median client CPU per cell and B − A in µs per request.
//   node bench/tools/ab.mjs <A/preload.cjs> <B/preload.cjs>
//   BENCH_RUNS (default 5), BENCH_REQUESTS (2000), BENCH_WARMUP (200), BENCH_CONCURRENCY (50),
//   BENCH_WORKLOADS (e.g. fetch-seq,http-conc; default all four), BENCH_CONFIG_EXTRA (JSON merged
//   into both preloads' NETTRACE_CONFIG, e.g. trace rules)
import { join } from 'node:path';
import { appsDir, loadCore, median, nodeOptions, runNode, startServer } from '../lib/common.mjs';

const [a, b] = process.argv.slice(2);
if (!a || !b) {
  console.error('usage: node bench/tools/ab.mjs <A/preload.cjs> <B/preload.cjs>');
  process.exit(2);
}
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const N = Number(process.env.BENCH_REQUESTS ?? 2000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 200);
const CONC = Number(process.env.BENCH_CONCURRENCY ?? 50);

const extra = JSON.parse(process.env.BENCH_CONFIG_EXTRA ?? '{}');
const core = loadCore();
const server = await startServer();
const collector = await core.startCollector({ description: 'ab' });
const conditions = [
  { name: 'untraced', env: {} },
  { name: 'A', env: { NODE_OPTIONS: nodeOptions([a]), NETTRACE_CONFIG: JSON.stringify({ ipcPath: collector.ipcPath, ...extra }) } },
  { name: 'B', env: { NODE_OPTIONS: nodeOptions([b]), NETTRACE_CONFIG: JSON.stringify({ ipcPath: collector.ipcPath, ...extra }) } },
];
// BENCH_WORKLOADS=fetch-seq,http-conc picks some of them.
const workloads = [
  ['http', 'seq'],
  ['fetch', 'seq'],
  ['http', 'conc'],
  ['fetch', 'conc'],
].filter(([c, m]) => !process.env.BENCH_WORKLOADS || process.env.BENCH_WORKLOADS.split(',').includes(`${c}-${m}`));
const cpu = new Map();
for (let round = 0; round < RUNS; round++) {
  for (const [client, mode] of workloads) {
    for (let i = 0; i < conditions.length; i++) {
      const c = conditions[(i + round) % conditions.length];
      const { done } = runNode([join(appsDir, 'client.mjs'), client, mode, String(N), String(CONC), String(WARMUP), server.url], {
        env: c.env,
      });
      const r = await done;
      const line = r.lines.find((l) => l.cpuMs !== undefined);
      if (!line) throw new Error(`${client} ${mode} ${c.name}: ${r.stderr}`);
      const key = `${client} ${mode} ${c.name}`;
      cpu.set(key, [...(cpu.get(key) ?? []), line.cpuMs]);
    }
  }
  process.stderr.write(`round ${round + 1}/${RUNS}\n`);
}
console.log(`| workload | untraced CPU ms | A CPU ms | B CPU ms | A µs/req over untraced | B µs/req over untraced | B − A µs/req |`);
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const [client, mode] of workloads) {
  const m = (c) => median(cpu.get(`${client} ${mode} ${c}`));
  const [u, ma, mb] = [m('untraced'), m('A'), m('B')];
  const per = (x) => ((x * 1000) / N).toFixed(1);
  console.log(
    `| ${client} ${mode} | ${u.toFixed(0)} | ${ma.toFixed(0)} | ${mb.toFixed(0)} | +${per(ma - u)} | +${per(mb - u)} | ${per(mb - ma)} |`,
  );
}
await collector.close();
await server.stop();
