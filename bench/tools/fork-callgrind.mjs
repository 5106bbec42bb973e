// What the preload costs one of the vitest suite's workers, in instructions (issue 65): the suite's
// services (bench/apps/suite-server.mjs) started, and bench/apps/vitest-suite/fork.mjs (vitest's API,
// axios and node:http loaded as a test file loads them, then orders.test.ts's 100 calls) run under
// `valgrind --tool=callgrind`, untraced and with each preload bundle given, traced into a real
// collector (it proves its key, as under `nettrace run`). Each condition runs with 0 calls (the
// process's start: the modules, the preload's start) and with 100; prints Ir of each run, the
// median of --rounds, and the traced conditions over untraced: whole process, start, per call.
//
//   node bench/tools/fork-callgrind.mjs [--rounds=2] [--jobs=1] [--time-scale=1000000] [--sampled]
//        [--node-flags='...'] [--out-dir=DIR] <preload.cjs|none>[#ENV=v&ENV=v] ...
//
// The runs are made as bench/callgrind.mjs makes them (its header): V8 on one thread with fixed
// seeds, each bundle's time constants scaled (--time-scale; --sampled leaves the initiators' budget
// as built; on 2026-11-28 its traced runs spread by ≈ 10%, without it most repeated within 0.1%,
// one in nine 5% over: read the median), the code cache warmed first by a run outside valgrind,
// in the suite's folder (a worker's cwd: Node reads the package.json above the cwd for a
// `--require`d preload). --out-dir keeps
// DIR/<condition>-<calls>.out of the last round: `node bench/tools/callgrind-groups.mjs DIR 0 1 0 100`
// splits the per-call difference, `--whole` (same arguments) the whole process's at 100.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { callgrindIr, scaledCopy, STEADY_NODE_FLAGS } from '../lib/callgrindRun.mjs';
import { loadCore, median, nodeOptions } from '../lib/common.mjs';
import { cleanEnv, vitestSuite } from '../lib/suites.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : def;
};
const conditions = args.filter((a) => !a.startsWith('--')).map((p) => (p === 'none' || p.startsWith('none#') ? p : resolve(p)));
const fileOf = (p) => p.split('#')[0];
const envOf = (p) => Object.fromEntries(new URLSearchParams(p.split('#')[1] ?? ''));
if (conditions.length === 0) {
  console.error('usage: node bench/tools/fork-callgrind.mjs [--rounds=N] [--jobs=N] [--out-dir=DIR] <preload.cjs|none> ...');
  process.exit(2);
}
for (const p of conditions) if (fileOf(p) !== 'none' && !existsSync(fileOf(p))) throw new Error(`no such preload: ${p}`);
const rounds = Number(opt('rounds', 2));
const jobs = Number(opt('jobs', 1));
const timeScale = Number(opt('time-scale', 1_000_000));
const nodeFlagsArg = opt('node-flags', undefined);
const nodeFlags = nodeFlagsArg ? nodeFlagsArg.split(' ').filter(Boolean) : STEADY_NODE_FLAGS;
const outDir = opt('out-dir', undefined) && resolve(opt('out-dir', undefined));
if (outDir) mkdirSync(outDir, { recursive: true });
const CALLS = [0, 100];

const scratch = mkdtempSync(join(tmpdir(), 'nettrace-fork-callgrind-'));
let scaledCount = 0;
const runAs = new Map(
  conditions.map((p) => {
    if (fileOf(p) === 'none' || timeScale === 1) return [p, fileOf(p)];
    const note = (name) => console.error(`note: ${basename(fileOf(p))} has no ${name}: not scaled`);
    const keep = args.includes('--sampled') ? ['STACK_WINDOW_MS'] : [];
    return [p, scaledCopy(fileOf(p), timeScale, join(scratch, String(scaledCount++)), note, keep)];
  }),
);

const suite = await vitestSuite(scratch);
const core = loadCore();
const collector = await core.startCollector({ description: 'fork-callgrind' });

/** The environment and argv of one run of fork.mjs with `calls` calls (0 or 100). */
function runArgs(p, calls) {
  const env = cleanEnv({ ...suite.env, ...envOf(p), NETTRACE_CACHE: join(scratch, 'cache'), FORK_CASES: String(calls / 5) });
  if (fileOf(p) !== 'none') {
    env.NODE_OPTIONS = nodeOptions([runAs.get(p)]);
    env.NETTRACE_CONFIG = JSON.stringify({
      ipcPath: collector.ipcPath,
      collectorKey: collector.collectorKey,
      ...JSON.parse(envOf(p).NETTRACE_CONFIG_EXTRA ?? '{}'),
    });
  }
  return { env, argv: [...nodeFlags, join(suite.app, 'fork.mjs')] };
}

// The code cache of each traced condition, as an earlier worker of the suite leaves it.
for (const p of conditions) {
  if (fileOf(p) === 'none') continue;
  const { env, argv } = runArgs(p, 100);
  await new Promise((done, fail) =>
    execFile(process.execPath, argv, { env, cwd: suite.app }, (err, _out, stderr) =>
      err ? fail(new Error(`prewarm failed: ${stderr}`)) : done(),
    ),
  );
}

const tasks = [];
for (let r = 0; r < rounds; r++) for (const p of conditions) for (const calls of CALLS) tasks.push({ p, calls, last: r === rounds - 1 });
const results = new Map();
let next = 0;
async function worker() {
  while (next < tasks.length) {
    const { p, calls, last } = tasks[next++];
    const { env, argv } = runArgs(p, calls);
    const out = outDir && last ? join(outDir, `${conditions.indexOf(p)}-${calls}.out`) : '/dev/null';
    const r = await callgrindIr(argv, env, out, suite.app);
    const key = `${p}@${calls}`;
    results.set(key, [...(results.get(key) ?? []), r.ir]);
    console.log(JSON.stringify({ preload: p, calls, ir: r.ir, seconds: r.seconds }));
  }
}
try {
  await Promise.all(Array.from({ length: jobs }, worker));
} finally {
  await collector.close();
  await suite.stop();
}

const M = (x) => (x / 1e6).toFixed(1);
const med = (p, calls) => median(results.get(`${p}@${calls}`));
const spread = (p, calls) => {
  const xs = results.get(`${p}@${calls}`);
  return xs.length > 1 ? ` (${M(Math.min(...xs))}–${M(Math.max(...xs))})` : '';
};
const has = conditions.includes('none');
console.log(
  `\nfork.mjs under callgrind, M Ir, median of ${rounds} (time scale ${timeScale}${args.includes('--sampled') ? ', sampled' : ''})`,
);
console.log('| condition | start (0 calls) | 100 calls | per call, k Ir | over untraced: whole | start | per call, k Ir |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const p of conditions) {
  const [s, w] = [med(p, 0), med(p, 100)];
  const per = (w - s) / 100;
  const base = has && p !== 'none' ? [med('none', 0), med('none', 100)] : undefined;
  const over = base
    ? `+${M(w - base[1])} (${((w / base[1] - 1) * 100).toFixed(1)}%) | +${M(s - base[0])} | +${((per - (base[1] - base[0]) / 100) / 1e3).toFixed(1)}`
    : '— | — | —';
  console.log(
    `| ${p === 'none' ? 'untraced' : p} | ${M(s)}${spread(p, 0)} | ${M(w)}${spread(p, 100)} | ${(per / 1e3).toFixed(1)} | ${over} |`,
  );
}
