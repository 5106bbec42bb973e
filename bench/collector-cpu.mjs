// Issue 40's floors for the collector (the other half of the system): what `nettrace run` itself
// costs per request, and the realistic workload's wall time traced against untraced.
//
//   Workload: the floors' realistic row (bench/lib/common.mjs startWorkload('mixed')): HTTPS
//   keep-alive to bench/apps/tls-server.mjs (every response held 2 ms, ~1.3 KB JSON), concurrency
//   20, half https.get half fetch, bodies JSON.parse'd; no warm-up requests (the collector sees
//   every request of the program).
//   Collector CPU per request: `node -r bench/apps/cpu-at-exit.cjs bin/nettrace.cjs run --out <tmp>
//   -- node client.mjs …` (default options, the trace file written) with 9,000 and with 1,000
//   requests; (CPU(9,000) − CPU(1,000)) / 8,000 is the cost of a request to the collector process,
//   start-up and the fixed part of writing the file taken out. Median of BENCH_RUNS (5) pairs.
//   Floor ≤ 20 µs.
//   Wall: the same 9,000-request run traced (`nettrace run`) and untraced (plain node), in
//   alternating pairs on the same two cores; median of the pairs' ratios. Floor ≤ 1.15× (issue
//   65; 1.10× before). Each pair also runs the program with the preload alone, its events read and dropped by a socket of
//   this process (no collector), for the wall's share no collector work can win back; and each run's
//   program reports its own CPU to its exit.
//   Memory: the collector's peak RSS over the 1,000-request run, for information (bench/memory.mjs
//   holds the 100,000-request floor).
//
//   Steady state (information): the same cost between 9,000 and BENCH_STEADY (25,000) requests.
//   The floor's window still holds V8's warm-up: functions that get hot only after the first
//   1,000 requests are compiled in it, on V8's worker threads (their CPU is printed apart).
//
//   BENCH_RUNS (5), BENCH_N (9000), BENCH_N0 (1000), BENCH_STEADY (25000; 0 leaves it out), BENCH_QUICK=1 (1 run, 3,000 / 500 requests,
//   runs file untouched unless --write), BENCH_PROFILE=<dir> (also writes a --cpu-prof of each
//   9,000-request collector into <dir>), BENCH_BASELINE=<dir> (another build's dist/, e.g. one
//   built at an earlier commit, run through the bin/nettrace.cjs beside it, else its cli.cjs
//   alone: its collector is measured the same way in every run, in
//   alternating order, and the table gets its figure and the ratio, both from the same run; as
//   root the default `--helper auto` runs each install's own eBPF helper, so a baseline checkout
//   without `npm run build:native` runs without one and applies no kernel events: compare with
//   `BENCH_RUN_ARGS='--helper off'`, or build the baseline's helper),
//   BENCH_RUN_ARGS (more `nettrace run` options, e.g. `--helper off`: as root the default `auto`
//   runs the kernel helper, whose events the collector applies too).
// Writes the section "Collector cost — issue 40" of test-results/bench/runs.md.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createServer } from 'node:net';
import {
  QUICK,
  appsDir,
  fmt,
  machine,
  machineLine,
  median,
  nodeOptions,
  root,
  runNode,
  startWorkload,
  writeSection,
} from './lib/common.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 5));
const N = Number(process.env.BENCH_N ?? (QUICK ? 3000 : 9000));
const N0 = Number(process.env.BENCH_N0 ?? (QUICK ? 500 : 1000));
const STEADY = Number(process.env.BENCH_STEADY ?? (QUICK ? 0 : 25000));
const PROFILE = process.env.BENCH_PROFILE;
const write = !process.argv.includes('--no-write') && (!QUICK || process.argv.includes('--write'));
const FLOOR = { usPerReq: 20, wall: 1.15 };
/** The CLI as users run it: bin/nettrace.cjs (V8's code cache, its tiering flag) before dist/cli.cjs. */
const cli = join(root, 'bin', 'nettrace.cjs');
const BASELINE = process.env.BENCH_BASELINE;
/** More `nettrace run` options (BENCH_RUN_ARGS, split on spaces), e.g. `--helper off`. */
const RUN_ARGS = (process.env.BENCH_RUN_ARGS ?? '').split(' ').filter(Boolean);
const tmp = mkdtempSync(join(os.tmpdir(), 'nettrace-collector-bench-'));

// The preload alone: the program traced as under `nettrace run`, its events read and dropped by
// this process (no collector), so the wall's share that no collector work can win back shows.
let sinkBytes = 0;
const sinkServer = createServer((s) => s.on('data', (d) => (sinkBytes += d.length)));
const sinkPath = join(tmp, 'sink.sock');
await new Promise((r) => sinkServer.listen(sinkPath, r));
const sinkEnv = { NODE_OPTIONS: nodeOptions([join(root, 'dist', 'preload.cjs')]), NETTRACE_CONFIG: JSON.stringify({ ipcPath: sinkPath }) };

const m = machine();
const started = performance.now();
/** One run of `requests` requests; traced through the CLI unless `untraced`. */
async function run(requests, { untraced = false, sink = false, profile = false, cliPath = cli } = {}) {
  const w = await startWorkload('mixed', { requests, warmup: 0 });
  try {
    const cpuOut = join(tmp, `cpu-${requests}.json`);
    const args =
      untraced || sink
        ? w.args()
        : [
            '-r',
            join(appsDir, 'cpu-at-exit.cjs'),
            ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : []),
            cliPath,
            'run',
            ...RUN_ARGS,
            '--out',
            join(tmp, 'trace.json'),
            '--',
            process.execPath,
            ...w.args(),
          ];
    const t0 = performance.now();
    const env = { ...w.env, BENCH_CPU_OUT: cpuOut, ...(sink ? sinkEnv : {}) };
    const r = await runNode(args, { env }).done;
    const wallMs = performance.now() - t0;
    if (r.code !== 0) throw new Error(`run failed (${r.code}): ${r.stderr.slice(-2000)}`);
    const client = r.lines.find((l) => l.ms !== undefined);
    // The program's own CPU from the start of its timed part to its exit (bench/apps/client.mjs).
    const clientCpuMs = r.lines.find((l) => l.cpuToExitMs !== undefined)?.cpuToExitMs;
    if (untraced || sink) return { wallMs, client, clientCpuMs };
    const cpu = JSON.parse(readFileSync(cpuOut, 'utf8'));
    const trace = JSON.parse(readFileSync(join(tmp, 'trace.json'), 'utf8'));
    if (trace.httpRequests.length !== requests) throw new Error(`trace has ${trace.httpRequests.length} requests, expected ${requests}`);
    return { wallMs, client, clientCpuMs, cpu };
  } finally {
    await w.server.stop();
  }
}

/** Where a run's extra CPU went per request (`n` more requests in `b` than in `a`): user and system time, and each thread's share. */
function split(a, b, n = N - N0) {
  const d = (k) => ((b[k] - a[k]) / n).toFixed(1);
  const names = Object.keys(b.threadMs ?? {}).sort((x, y) => b.threadMs[y] - b.threadMs[x]);
  const th = names.map((name) => `${name} ${(((b.threadMs[name] - (a.threadMs?.[name] ?? 0)) * 1000) / n).toFixed(1)}`);
  return `user ${d('userUs')}, system ${d('systemUs')} µs; threads (µs, 10 ms ticks): ${th.join(', ')}`;
}

/** CPU µs per request of every thread but the main one (V8's compiler and GC helpers, libuv's pool) from `a` to `b`, `n` requests apart. */
function workersPer(a, b, n) {
  let ms = 0;
  for (const [name, v] of Object.entries(b.threadMs ?? {})) if (name !== 'main') ms += v - (a.threadMs?.[name] ?? 0);
  return (ms * 1000) / n;
}
const per = [];
const basePer = [];
/** The collector's whole CPU (ms) of each 9,000-request run, this build's and the baseline's. */
const totals = [];
const baseTotals = [];
const walls = [];
const rss = [];
const gc = [];
const workers = [];
const steady = [];
const steadyWorkers = [];
const sinkWalls = [];
/** The program's CPU per request (µs), untraced, preload into the sink, under `nettrace run`. */
const clientCpu = { untraced: [], sink: [], traced: [] };
for (let i = 0; i < RUNS; i++) {
  const small = await run(N0);
  // Alternate which of the pair goes first, so a drift of the machine's load favours neither.
  const pair =
    i % 2 ? [await run(N, { untraced: true }), await run(N, { sink: true }), await run(N, { profile: !!PROFILE })] : [null, null, null];
  if (i % 2 === 0) {
    pair[2] = await run(N, { profile: !!PROFILE });
    pair[1] = await run(N, { sink: true });
    pair[0] = await run(N, { untraced: true });
  }
  const [bare, sunk, big] = pair;
  sinkWalls.push(sunk.wallMs / bare.wallMs);
  for (const [k, r] of [
    ['untraced', bare],
    ['sink', sunk],
    ['traced', big],
  ])
    clientCpu[k].push((r.clientCpuMs * 1000) / N);
  const us = (big.cpu.cpuUs - small.cpu.cpuUs) / (N - N0);
  per.push(us);
  totals.push(big.cpu.cpuUs / 1000);
  if (BASELINE) {
    const bin = join(BASELINE, '..', 'bin', 'nettrace.cjs');
    const cliPath = existsSync(bin) ? bin : join(BASELINE, 'cli.cjs');
    const b = i % 2 ? [await run(N, { cliPath }), await run(N0, { cliPath })] : [await run(N0, { cliPath })];
    if (i % 2 === 0) b.unshift(await run(N, { cliPath }));
    basePer.push((b[0].cpu.cpuUs - b[1].cpu.cpuUs) / (N - N0));
    baseTotals.push(b[0].cpu.cpuUs / 1000);
    console.log(`run ${i + 1}/${RUNS}: baseline collector ${fmt(basePer.at(-1), 1)} µs/req`);
  }
  walls.push(big.wallMs / bare.wallMs);
  rss.push(small.cpu.maxRssKiB / 1024);
  gc.push(((big.cpu.gcMs - small.cpu.gcMs) * 1000) / (N - N0));
  console.log(
    `run ${i + 1}/${RUNS}: collector ${fmt(us, 1)} µs/req (CPU ${fmt(small.cpu.cpuUs / 1000)} ms for ${N0}, ${fmt(big.cpu.cpuUs / 1000)} ms for ${N}; GC ${fmt(gc.at(-1), 1)} µs/req); wall ${fmt(bare.wallMs)} → ${fmt(big.wallMs)} ms = ${fmt(walls.at(-1), 3)}× (preload into a sink ${fmt(sunk.wallMs)} ms = ${fmt(sinkWalls.at(-1), 3)}×)`,
  );
  console.log(
    `  the program's CPU per request: untraced ${fmt(clientCpu.untraced.at(-1), 1)}, preload into a sink ${fmt(clientCpu.sink.at(-1), 1)}, nettrace run ${fmt(clientCpu.traced.at(-1), 1)} µs`,
  );
  console.log(`  per request: ${split(small.cpu, big.cpu)}`);
  workers.push(workersPer(small.cpu, big.cpu, N - N0));
  if (STEADY > N) {
    const long = await run(STEADY);
    steady.push((long.cpu.cpuUs - big.cpu.cpuUs) / (STEADY - N));
    steadyWorkers.push(workersPer(big.cpu, long.cpu, STEADY - N));
    console.log(`  steady, ${N} → ${STEADY}: ${fmt(steady.at(-1), 1)} µs/req; ${split(big.cpu, long.cpu, STEADY - N)}`);
  }
}
sinkServer.close();
rmSync(tmp, { recursive: true, force: true });
if (sinkBytes === 0) throw new Error('the sink received nothing: the preload runs were not traced');
const usMed = median(per);
const wallMed = median(walls);
const pf = (ok) => (ok ? 'pass' : 'FAIL');
const range = (xs, d) => `${fmt(Math.min(...xs), d)}–${fmt(Math.max(...xs), d)}`;
const body = `
Measured by \`bench/collector-cpu.mjs\` (part of \`npm run bench\`). Machine: ${machineLine(m, os.loadavg())}; the run took ${fmt((performance.now() - started) / 60000, 1)} min.

Workload: HTTPS keep-alive to a local server holding each response 2 ms (~1.3 KB JSON), concurrency 20, half \`https.get\` half \`fetch\`, bodies parsed; \`nettrace run\` with default options, writing the trace file. Client, server and collector share the machine's two cores.

| floor | measured (median of ${RUNS}) | range | |
|---|---|---|---|
| collector CPU per request, (CPU for ${N.toLocaleString('en-US')} − CPU for ${N0.toLocaleString('en-US')}) / ${(N - N0).toLocaleString('en-US')}: ≤ ${FLOOR.usPerReq} µs | ${fmt(usMed, 1)} µs | ${range(per, 1)} | ${pf(usMed <= FLOOR.usPerReq)} |
${
  BASELINE
    ? `| the same for the baseline build (\`BENCH_BASELINE\`), same runs (information) | ${fmt(median(basePer), 1)} µs | ${range(basePer, 1)} | |
| this build / baseline, median of the runs' ratios (information) | ${fmt(median(per.map((x, i) => x / basePer[i])), 2)}× | ${range(
        per.map((x, i) => x / basePer[i]),
        2,
      )} | |
| the collector's whole CPU for the ${N.toLocaleString('en-US')}-request run, start and warm-up included: this build / baseline (information) | ${fmt(median(totals))} / ${fmt(median(baseTotals))} ms | ${range(totals, 0)} / ${range(baseTotals, 0)} | |
`
    : `| the collector's whole CPU for the ${N.toLocaleString('en-US')}-request run, start and warm-up included (information; the figure above leaves out what the first ${N0.toLocaleString('en-US')} requests cost, V8's warm-up with it) | ${fmt(median(totals))} ms | ${range(totals, 0)} | |
`
}| traced / untraced wall, ${N.toLocaleString('en-US')} requests, alternating pairs: ≤ ${FLOOR.wall.toFixed(2)}× | ${fmt(wallMed, 3)}× | ${range(walls, 3)} | ${pf(wallMed <= FLOOR.wall)} |
| of it, the preload alone: the program traced, its events read and dropped by a sink instead of a collector, same pairs (information: the part no collector work can win back) | ${fmt(median(sinkWalls), 3)}× | ${range(sinkWalls, 3)} | |
| the program's own CPU per request, to its exit: untraced / preload into a sink / \`nettrace run\` (information) | ${fmt(median(clientCpu.untraced), 1)} / ${fmt(median(clientCpu.sink), 1)} / ${fmt(median(clientCpu.traced), 1)} µs | | |
| of the collector's CPU per request, garbage collection (information) | ${fmt(median(gc), 1)} µs | ${range(gc, 1)} | |
| of it, V8's worker threads: compiling the collector's code as it gets hot, GC helpers (information) | ${fmt(median(workers), 1)} µs | ${range(workers, 1)} | |
${
  steady.length
    ? `| steady state: (CPU for ${STEADY.toLocaleString('en-US')} − CPU for ${N.toLocaleString('en-US')}) / ${(STEADY - N).toLocaleString('en-US')} (information) | ${fmt(median(steady), 1)} µs | ${range(steady, 1)} | |
| of it, V8's worker threads (information) | ${fmt(median(steadyWorkers), 1)} µs | ${range(steadyWorkers, 1)} | |
`
    : ''
}
| collector peak RSS, ${N0.toLocaleString('en-US')} requests (information) | ${fmt(median(rss))} MiB | ${range(rss)} | |
`;
console.log(body);
if (write) writeSection('Collector cost — issue 40', body);
