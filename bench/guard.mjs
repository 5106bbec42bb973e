// Issue 52: the CI guard. Instruction counts of a short fixed set of programs, compared to the
// baselines kept in bench/baselines.json; fails when one grows by more than the tolerance (3%)
// unless the baseline file says why it grew (the same commit updates it: `--update="why"`).
//
//   node bench/guard.mjs [--only=startup,http-seq,...] [--runs=1] [--jobs=2] [--dist=DIR]
//        [--baselines=FILE] [--update="why the counts moved"] [--json]
//
// Each case is one process under `valgrind --tool=callgrind` with single-threaded V8, fixed seeds
// and the preload's timers scaled out (bench/callgrind.mjs's header says why), counted whole, from
// the program's start: start-up, compilation and warm-up included, as a short program pays them.
// - `node-e0`: `node -e 0` untraced, the reference: it moves only with Node or the machine
//   (a moved reference is reported; the cases are then compared anyway and a failure says so).
// - `startup`: `node -e 0` with the preload and a collector to talk to: the loader alone, as
//   a process that never uses the network pays it (src/preload/firstUse.ts).
// - `startup-http`, `node-http`: `node -e "require('node:http')"` with the preload and without:
//   a program that uses the network pays the preload's body too.
// - `http-seq`, `fetch-seq`: 100 sequential requests (bench/apps/client.mjs) with the preload.
// - `mixed-seq`: the realistic mix (https.get and fetch in turn, JSON bodies) 0 → 200
//   requests with the preload.
// - `collector-replay`: the collector applying the recorded realistic stream once (300
//   requests), snapshot, trace file and table (bench/apps/collector-replay.mjs).
// Counts repeat to ≈ 0.1% here (bench/RESULTS.md, "CI guard"). With --dist=DIR the preload and
// collector are DIR's (a test measures a dearer build that way). --update writes the counts
// measured into the baselines with `why` (required, a sentence) and the machine and Node they
// were taken on. Exit 0: every case within tolerance; 1: a case grew past it or a baseline moved
// without a new reason; 2: usage or a run failed. Runs in `.ci/run` after the tests.
import { execFile, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { callgrindIr, scaledCopy, STEADY_NODE_FLAGS } from './lib/callgrindRun.mjs';
import { appsDir, machine, median, nodeOptions, root, startServer, startTlsServer, testCaPath } from './lib/common.mjs';

const args = process.argv.slice(2);
const opt = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const dist = resolve(opt('dist') ?? join(root, 'dist'));
const baselinesPath = resolve(opt('baselines') ?? join(root, 'bench', 'baselines.json'));
const runs = Number(opt('runs') ?? 1);
const jobs = Number(opt('jobs') ?? 2);
const update = opt('update');
const asJson = args.includes('--json');
/** The tolerance: a case may grow by this share of its baseline. */
const TOLERANCE = 0.03;

/** The cases, in the order they run (the longest first, so two jobs finish together). */
const CASES = {
  'mixed-seq': { client: ['mixed', 'seq', '200', '1', '0'], traced: true },
  'collector-replay': { replay: 1 },
  'fetch-seq': { client: ['fetch', 'seq', '100', '1', '0'], traced: true },
  'http-seq': { client: ['http', 'seq', '100', '1', '0'], traced: true },
  // `node -e 0` with the preload: the loader only (its body runs at the first use of the network).
  startup: { eval: '0', traced: true },
  'node-e0': { eval: '0', traced: false },
  // A program that loads http: the body's start too.
  'startup-http': { eval: "require('node:http')", traced: true },
  'node-http': { eval: "require('node:http')", traced: false },
};
const only = opt('only')?.split(',');
if (only?.some((c) => !(c in CASES))) {
  console.error(`unknown case in --only: known are ${Object.keys(CASES).join(', ')}`);
  process.exit(2);
}
if (update !== undefined && update.trim().length < 10) {
  console.error('--update needs a reason: --update="what changed and why the counts moved"');
  process.exit(2);
}
const names = Object.keys(CASES).filter((c) => !only || only.includes(c));
for (const f of ['preload.cjs', 'core.cjs']) {
  if (!existsSync(join(dist, f))) {
    console.error(`${join(dist, f)} is missing: run \`npm run -s build\` first`);
    process.exit(2);
  }
}
try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  console.error('valgrind is missing (apt-get install valgrind)');
  process.exit(2);
}

const scratch = mkdtempSync(join(tmpdir(), 'nettrace-guard-'));
// The bundle with its timers scaled out, beside a copy of every other file of its dist folder
// that it may load lazily.
const preload = scaledCopy(join(dist, 'preload.cjs'), 1_000_000, scratch);
for (const f of readdirSync(dist)) {
  if (f.endsWith('.cjs') && f !== 'preload.cjs' && !existsSync(join(scratch, f))) {
    writeFileSync(join(scratch, f), readFileSync(join(dist, f)));
  }
}
const core = createRequire(import.meta.url)(join(dist, 'core.cjs'));
const collector = await core.startCollector({ description: 'guard' });
const needs = (k) => names.some((c) => CASES[c].client?.[0] === k);
const server = needs('http') || needs('fetch') ? await startServer() : undefined;
const tls = needs('mixed') ? await startTlsServer({ delayMs: 2 }) : undefined;

// The preload's code cache (src/preload/loader.ts) in a folder of this run's, filled by one run
// outside valgrind first (same V8 flags, so the same cache) that makes one request, so the cache
// is made warm too: every case then starts as a user's later process does, not as the first
// (which writes the cache), and none writes it during the count (the cases would then depend on
// their order).
const tracedEnv = {
  NODE_OPTIONS: nodeOptions([preload]),
  // With the collector's key: each connection waits for its proof first, as in every run (src/protocol/collectorProof.ts).
  NETTRACE_CONFIG: JSON.stringify({ ipcPath: collector.ipcPath, collectorKey: collector.collectorKey }),
  NETTRACE_CACHE: join(scratch, 'cache'),
};
const warmServer = createServer((req, res) => res.end('ok'));
await new Promise((resolve) => warmServer.listen(0, '127.0.0.1', resolve));
const warmUrl = `http://127.0.0.1:${warmServer.address().port}/`;
// Not execFileSync: this process's server answers the request.
await new Promise((resolve, reject) =>
  execFile(
    process.execPath,
    [
      ...STEADY_NODE_FLAGS,
      '-e',
      `require('node:http').get(${JSON.stringify(warmUrl)}, (r) => { r.resume(); r.on('end', () => setTimeout(() => {}, 100)); })`,
    ],
    { env: { PATH: process.env.PATH, ...tracedEnv } },
    (err, stdout, stderr) => (err ? reject(new Error(`the warm-up run failed: ${stderr}`)) : resolve()),
  ),
);
warmServer.close();

/** One run of case `name`: its instruction count. */
async function measure(name) {
  const c = CASES[name];
  // Only what a run needs: the environment changes the count (NODE_EXTRA_CA_CERTS with the
  // system's bundle is 400 M instructions of certificate parsing in every process).
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', LANG: 'C' };
  if (c.traced) Object.assign(env, tracedEnv);
  let argv;
  if (c.eval) argv = ['-e', c.eval];
  else if (c.replay) argv = [join(appsDir, 'collector-replay.mjs'), dist, String(c.replay)];
  else {
    const mixed = c.client[0] === 'mixed';
    if (mixed) env.NODE_EXTRA_CA_CERTS = testCaPath;
    argv = [join(appsDir, 'client.mjs'), ...c.client, (mixed ? tls : server).url, ...(mixed ? ['--parse-json'] : [])];
  }
  return (await callgrindIr([...STEADY_NODE_FLAGS, ...argv], env)).ir;
}

const tasks = [];
for (let r = 0; r < runs; r++) for (const n of names) tasks.push(n);
const counts = Object.fromEntries(names.map((n) => [n, []]));
let next = 0;
let failedRun;
async function worker() {
  while (next < tasks.length && !failedRun) {
    const n = tasks[next++];
    try {
      counts[n].push(await measure(n));
      if (!asJson) console.error(`${n}: ${counts[n].at(-1).toLocaleString('en-US')} Ir`);
    } catch (e) {
      failedRun = `${n}: ${e.message}`;
    }
  }
}
try {
  await Promise.all(Array.from({ length: jobs }, worker));
} finally {
  await collector.close();
  await server?.stop();
  await tls?.stop();
  rmSync(scratch, { recursive: true, force: true });
}
if (failedRun) {
  console.error(`a run failed: ${failedRun}`);
  process.exit(2);
}

const measured = Object.fromEntries(names.map((n) => [n, Math.round(median(counts[n]))]));
const m = machine();
const here = { cpu: m.cpu, nproc: m.nproc, node: m.node, os: m.os };
const file = existsSync(baselinesPath) ? JSON.parse(readFileSync(baselinesPath, 'utf8')) : { cases: {} };

if (update !== undefined) {
  for (const n of names) {
    file.cases[n] = { ir: measured[n], why: update, date: m.date.slice(0, 10), machine: here };
  }
  file.tolerance = TOLERANCE;
  writeFileSync(baselinesPath, JSON.stringify(file, null, 2) + '\n');
  console.log(`baselines updated in ${baselinesPath}: ${names.join(', ')}`);
  process.exit(0);
}

/** The baselines file as the commit before this one had it (none outside git or at the first). */
function parentBaselines() {
  try {
    const rel = baselinesPath.startsWith(root + '/') ? baselinesPath.slice(root.length + 1) : undefined;
    if (!rel) return undefined;
    const text = execFileSync('git', ['-C', root, 'show', `HEAD~1:${rel}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
const parent = parentBaselines();
const rows = [];
let failed = false;
const ref = file.cases['node-e0'];
const refMoved = ref && measured['node-e0'] !== undefined ? measured['node-e0'] / ref.ir - 1 : undefined;
for (const n of names) {
  const base = file.cases[n];
  const row = { case: n, ir: measured[n], runs: counts[n] };
  if (!base) {
    row.verdict = 'no baseline (add one with --update)';
    failed = true;
  } else {
    row.baseline = base.ir;
    row.change = measured[n] / base.ir - 1;
    const prior = parent?.cases?.[n];
    if (prior && prior.ir !== base.ir && prior.why === base.why) {
      row.verdict = 'FAIL: the baseline moved without a new reason (`why`)';
      failed = true;
    } else if (row.change > TOLERANCE) {
      row.verdict = `FAIL: more than ${TOLERANCE * 100}% over the baseline`;
      failed = true;
    } else row.verdict = row.change < -TOLERANCE ? 'pass (cheaper: update the baseline)' : 'pass';
  }
  rows.push(row);
}
if (asJson) console.log(JSON.stringify({ machine: here, rows, referenceMoved: refMoved }));
else {
  const pct = (x) => (x === undefined ? '—' : `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`);
  console.log(`Instruction guard (issue 52), ${m.node} on ${m.cpu}, baselines ${baselinesPath}`);
  console.log('| case | Ir | baseline | change | verdict |');
  console.log('|---|---:|---:|---:|---|');
  for (const r of rows) {
    console.log(
      `| ${r.case} | ${r.ir.toLocaleString('en-US')} | ${r.baseline?.toLocaleString('en-US') ?? '—'} | ${pct(r.change)} | ${r.verdict} |`,
    );
  }
  const baseNode = ref?.machine?.node;
  if (refMoved !== undefined && Math.abs(refMoved) > 0.005) {
    console.log(
      `note: untraced \`node -e 0\` moved ${pct(refMoved)} from its baseline (taken with Node ${baseNode} on ${ref.machine?.cpu}): Node or the machine differs, and every case moves with it`,
    );
  }
}
if (failed) {
  console.log(
    'The guard failed. If the cost is meant, update the baselines in the same commit: node bench/guard.mjs --update="what changed and why"',
  );
}
process.exit(failed ? 1 : 0);
