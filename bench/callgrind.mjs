// Instruction counts of the default path: the bench client (bench/apps/client.mjs) under
// `valgrind --tool=callgrind`, untraced and with each preload bundle given, with a small and a
// large number of timed requests; per request = (Ir at large − Ir at small) / (large − small).
// Instruction counts do not move with the VM's noise the way CPU time does (±40 µs per request
// here), so a difference of a few µs can be seen. Results: bench/RESULTS.md, "Default path in
// instructions — issue 12".
//
//   node bench/callgrind.mjs <http|fetch|mixed> <seq|conc> [--small=200] [--large=1200] [--warmup=200]
//        [--conc=50] [--jobs=1] [--time-scale=1000000] [--sampled] [--node-flags='...'] <preload.cjs|none>[#ENV=v&ENV=v] ...
//
// `mixed` is the floors' realistic row (bench/floors.mjs): `https.get` and `fetch` in alternate
// slots against bench/apps/tls-server.mjs (the test CA trusted through NODE_EXTRA_CA_CERTS, each
// response held --delay ms, default 2), every body JSON.parse'd.
//
// Prints one JSON line per run and a table (Ir per request, and over untraced when `none` is one
// of the conditions). A run of 200 + 1,200 requests takes 1–2 min on this project's machine when
// it is quiet, 5+ min under load. --jobs=N runs N valgrinds at once (the counts do not depend on
// it). A condition may end with `#NAME=value&...`: environment variables for its runs only (a
// scratch build can read switches from there to ablate one feature at a time).
//
// What makes two runs of one program count the same (to about 0.05% here):
// - V8's compilers and GC helpers run on background threads whose share of the work depends on
//   the load; callgrind counts every thread. --node-flags defaults to STEADY_NODE_FLAGS
//   (bench/lib/callgrindRun.mjs): `--single-threaded --predictable-gc-schedule`, all of it on the
//   main thread, collections by allocation only; `--hash-seed=1 --random-seed=1`, the same hash
//   tables every run (V8's per-process hash seed moved a 2,000-request difference by ±4k Ir).
// - The preload's time-based behaviour (the 25 ms batch timer, the 50 ms ration of completions
//   written at once, the 200 ms progress timer, the stack budget's window) would follow the wall
//   clock, which valgrind slows 50–100× and the load moves: a batch per request or two instead of
//   one per hundred as in a real run, and a different count each run (the event-loop monitor's
//   20 ms tick likewise: every few requests, each taking the slowed loop for a blocked one). --time-scale=K runs a copy
//   of each bundle with those constants multiplied by K (the `var NAME = value;` lines esbuild
//   emits; a bundle that lacks one keeps it, and a note says so). The default, 1,000,000, means
//   no timer fires during a run: batches leave by count (FLUSH_BATCH, FLUSH_EVENTS, as under load
//   in a real run), only the first 4 completions are written at once, and every request gets its
//   stack captured (as with `initiator: "all"`; the budget's 1% would skip some in a real run).
//   --time-scale=1 runs the bundles as they are.
// --sampled leaves STACK_WINDOW_MS as built: the initiators are then sampled by their share of
//   the time, as with the default options in a real run (valgrind slows the program and the clock
//   alike), not captured for every request; the counts then move a little from run to run.
// The preload's code cache (src/preload/loader.ts) is a folder of the run's, filled for each
// condition by a run of 2 requests outside valgrind first: every run counted starts as a user's
// later process does (the cache made warm by an earlier process's first request), and the last
// column compares whole processes, from the program's start, at the larger count.
// --out-dir=DIR keeps each run's callgrind output (DIR/<condition index>-<requests>.out) for
// callgrind_annotate: per-function counts of the C++ side (GC, JSON, buffers, syscalls); JIT code
// shows as '???'. Subtract an untraced run's counts to attribute a preload's cost.
// Set NETTRACE_CONFIG_EXTRA (JSON merged into the preload's config) to try other settings; a
// condition's `#NETTRACE_CONFIG_EXTRA=...` applies to its runs only (e.g. `{"record":true}`).
// --path=10k asks bench/apps/server.mjs for its 10,240-byte body instead of the ~100-byte one.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { callgrindIr, scaledCopy, STEADY_NODE_FLAGS } from './lib/callgrindRun.mjs';
import { appsDir, configExtra, loadCore, nodeOptions, startServer, startTlsServer, testCaPath } from './lib/common.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : def;
};
const [client, mode, ...rest] = args.filter((a) => !a.startsWith('--'));
// A condition may end with `#NAME=value&NAME=value`: environment variables for its runs only.
const conditions = rest.map((p) => (p === 'none' || p.startsWith('none#') ? p : resolve(p)));
const fileOf = (p) => p.split('#')[0];
const envOf = (p) => Object.fromEntries(new URLSearchParams(p.split('#')[1] ?? ''));
if (!['http', 'fetch', 'mixed'].includes(client) || !['seq', 'conc'].includes(mode) || conditions.length === 0) {
  console.error(
    'usage: node bench/callgrind.mjs <http|fetch|mixed> <seq|conc> [--small=N] [--large=N] [--warmup=N] [--conc=N] [--jobs=N] <preload.cjs|none> ...',
  );
  process.exit(2);
}
for (const p of conditions) if (fileOf(p) !== 'none' && !existsSync(fileOf(p))) throw new Error(`no such preload: ${p}`);
const small = opt('small', 200);
const large = opt('large', 1200);
const warmup = opt('warmup', 200);
const conc = opt('conc', 50);
const jobs = opt('jobs', 1);
// V8 runs its compilers and GC helpers on background threads whose share of the work depends on
// the machine's load; callgrind counts every thread, so two runs of one program differed by
// 1–3% (30–60 M instructions). --single-threaded does all of it on the main thread, in program
// order; --predictable-gc-schedule fixes the heap's growth so collections depend on allocation only.
const nodeFlagsArg = args.find((a) => a.startsWith('--node-flags='));
const nodeFlags = nodeFlagsArg ? nodeFlagsArg.slice('--node-flags='.length).split(' ').filter(Boolean) : STEADY_NODE_FLAGS;
const timeScale = opt('time-scale', 1_000_000);
const outDirArg = args.find((a) => a.startsWith('--out-dir='));
const outDir = outDirArg ? resolve(outDirArg.slice('--out-dir='.length)) : undefined;
if (outDir) mkdirSync(outDir, { recursive: true });
const extra = configExtra();
// --path=10k: the server's 10,240-byte answer instead of its 100-byte one (bench/apps/server.mjs).
const urlPath =
  args
    .find((a) => a.startsWith('--path='))
    ?.slice('--path='.length)
    .replace(/^\//, '') ?? '';

const scratch = mkdtempSync(join(tmpdir(), 'nettrace-callgrind-'));
/** A copy of the bundle with its time constants scaled (see the header), or the bundle itself. */
function scaled(preload) {
  if (preload === 'none' || timeScale === 1) return preload;
  const note = (name) => console.error(`note: ${basename(preload)} has no ${name}: not scaled`);
  // A folder per condition: the preload loads the rule engine from rules.cjs beside it.
  const keep = args.includes('--sampled') ? ['STACK_WINDOW_MS'] : [];
  return scaledCopy(fileOf(preload), timeScale, join(scratch, String(scaledCount++)), note, keep);
}
let scaledCount = 0;
const runAs = new Map(conditions.map((p) => [p, scaled(fileOf(p))]));

const core = loadCore();
const mixed = client === 'mixed';
const server = mixed ? await startTlsServer({ delayMs: opt('delay', 2) }) : await startServer();
const collector = await core.startCollector({ description: 'callgrind' });

/** The environment and arguments of a run of `n` requests. */
function runArgs(preload, n) {
  const env = { ...process.env, ...envOf(preload), NETTRACE_CACHE: join(scratch, 'cache') };
  if (mixed) env.NODE_EXTRA_CA_CERTS = testCaPath;
  delete env.NODE_OPTIONS;
  delete env.NETTRACE_CONFIG;
  if (fileOf(preload) !== 'none') {
    env.NODE_OPTIONS = nodeOptions([runAs.get(preload)]);
    // A condition's own `#NETTRACE_CONFIG_EXTRA=...` (JSON) adds to the run's.
    env.NETTRACE_CONFIG = JSON.stringify({
      ipcPath: collector.ipcPath,
      ...extra,
      ...JSON.parse(envOf(preload).NETTRACE_CONFIG_EXTRA ?? '{}'),
    });
  }
  const argv = [
    ...nodeFlags,
    join(appsDir, 'client.mjs'),
    client,
    mode,
    String(n),
    String(conc),
    String(warmup),
    server.url + urlPath,
    ...(mixed ? ['--parse-json'] : []),
  ];
  return { env, argv };
}

/** Total instructions (Ir) of one run of the client under callgrind. */
function run(preload, n) {
  const { env, argv } = runArgs(preload, n);
  const outFile = outDir ? join(outDir, `${conditions.indexOf(preload)}-${n}.out`) : '/dev/null';
  return callgrindIr(argv, env, outFile).then((r) => ({ ir: r.ir, s: r.seconds }));
}

// The code cache of each traced condition, as an earlier process of the user's leaves it.
for (const p of conditions) {
  if (fileOf(p) === 'none') continue;
  const { env, argv } = runArgs(p, 2);
  await new Promise((resolve, reject) =>
    execFile(process.execPath, argv, { env }, (err, stdout, stderr) => (err ? reject(new Error(`prewarm failed: ${stderr}`)) : resolve())),
  );
}

const tasks = [];
for (const p of conditions) for (const n of [small, large]) tasks.push({ p, n });
const results = new Map();
let next = 0;
async function worker() {
  while (next < tasks.length) {
    const task = tasks[next++];
    const r = await run(task.p, task.n);
    results.set(`${task.p}@${task.n}`, r.ir);
    console.log(JSON.stringify({ client, mode, preload: task.p, requests: task.n, ir: r.ir, seconds: r.s }));
  }
}
try {
  await Promise.all(Array.from({ length: jobs }, worker));
} finally {
  await collector.close();
  await server.stop();
}

const perReq = (p) => (results.get(`${p}@${large}`) - results.get(`${p}@${small}`)) / (large - small);
const base = conditions.includes('none') ? perReq('none') : undefined;
const fmtN = (x) => Math.round(x).toLocaleString('en-US');
console.log(
  `\n${client} ${mode}${mode === 'conc' ? ` ${conc}` : ''}: Ir at ${small} and ${large} requests (${warmup} warm-up), time scale ${timeScale}`,
);
console.log(`| condition | Ir, ${small} | Ir, ${large} | Ir per request | over untraced | whole process at ${large}, over untraced |`);
console.log('|---|---:|---:|---:|---:|---:|');
for (const p of conditions) {
  const r = perReq(p);
  const over = base !== undefined && p !== 'none' ? `+${fmtN(r - base)}` : '—';
  const whole =
    base !== undefined && p !== 'none' ? `${((results.get(`${p}@${large}`) / results.get(`none@${large}`) - 1) * 100).toFixed(1)}%` : '—';
  console.log(
    `| ${p === 'none' ? 'untraced' : p} | ${fmtN(results.get(`${p}@${small}`))} | ${fmtN(results.get(`${p}@${large}`))} | ${fmtN(r)} | ${over} | ${whole} |`,
  );
}
