// The preload's cost at startup: how long `require("dist/preload.cjs")` takes in a fresh Node (the
// time NODE_OPTIONS=--require adds before the program's first line), and its bundle size.
//
//   node bench/tools/preload-startup.mjs [--runs=41] [--callgrind=3] [--json] [preload.cjs ...]
//
// Per preload, `--runs` fresh processes (alternating between the preloads, so load drifts hit each
// alike), each timing its own require with process.hrtime around it; a session with no rules
// (NETTRACE_CONFIG with an ipcPath only) and one with a rule set (one enabled skip rule). Also the
// whole process (`node -e 0` with --require) for the first case. Medians. With --callgrind=N,
// also the instructions of `node -e 0` with each preload (no rules) under callgrind (single-threaded
// V8, as bench/callgrind.mjs), median of N runs: load-independent. Prints a table; --json prints
// one JSON object instead.
import { spawnSync } from 'node:child_process';
import { statSync, existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { preloadPath } from '../lib/common.mjs';
import { callgrindIr, STEADY_NODE_FLAGS } from '../lib/callgrindRun.mjs';

const args = process.argv.slice(2);
const runs = Number(args.find((a) => a.startsWith('--runs='))?.slice(7) ?? 41);
const asJson = args.includes('--json');
const cgRuns = Number(args.find((a) => a.startsWith('--callgrind='))?.slice(12) ?? 0);
const preloads = args.filter((a) => !a.startsWith('--')).map((p) => resolve(p));
if (preloads.length === 0) preloads.push(preloadPath);

const NO_RULES = JSON.stringify({ ipcPath: '/tmp/nettrace-startup-bench.sock' });
const WITH_RULES = JSON.stringify({
  ipcPath: '/tmp/nettrace-startup-bench.sock',
  rules: [{ id: 'r', condition: 'host == "telemetry.example.com"', action: 'skip', enabled: true }],
  defaultAction: 'trace',
  rulesVersion: 0,
});

/** ms the require took in a fresh process, the process's wall ms. */
function once(preload, config) {
  const code = `const t=process.hrtime.bigint();require(${JSON.stringify(preload)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const env = { ...process.env, NETTRACE_CONFIG: config };
  delete env.NODE_OPTIONS;
  const r = spawnSync(process.execPath, ['-e', code], { env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`run failed: ${r.stderr}`);
  return Number(r.stdout);
}
function wholeProcess(preload) {
  const env = { ...process.env, NETTRACE_CONFIG: NO_RULES, NODE_OPTIONS: `--require ${JSON.stringify(preload)}` };
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['-e', '0'], { env });
  if (r.status !== 0) throw new Error('run failed');
  return Number(process.hrtime.bigint() - t) / 1e6;
}
function bare() {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  delete env.NETTRACE_CONFIG;
  const t = process.hrtime.bigint();
  spawnSync(process.execPath, ['-e', '0'], { env });
  return Number(process.hrtime.bigint() - t) / 1e6;
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const samples = new Map(preloads.map((p) => [p, { noRules: [], rules: [], proc: [] }]));
const bareSamples = [];
for (let i = 0; i < runs; i++) {
  bareSamples.push(bare());
  for (const p of preloads) {
    const s = samples.get(p);
    s.noRules.push(once(p, NO_RULES));
    s.rules.push(once(p, WITH_RULES));
    s.proc.push(wholeProcess(p));
  }
}
/** Median Ir of `node -e 0` (with `preload`, or none) under callgrind. */
async function startupIr(preload) {
  const env = { ...process.env, NETTRACE_CONFIG: NO_RULES };
  delete env.NODE_OPTIONS;
  if (preload) env.NODE_OPTIONS = `--require ${JSON.stringify(preload)}`;
  const irs = [];
  for (let i = 0; i < cgRuns; i++) irs.push((await callgrindIr([...STEADY_NODE_FLAGS, '-e', '0'], env)).ir);
  return median(irs);
}
const bareIr = cgRuns > 0 ? await startupIr(undefined) : undefined;
const irOf = new Map();
for (const p of preloads) if (cgRuns > 0) irOf.set(p, await startupIr(p));
const out = preloads.map((p) => {
  const s = samples.get(p);
  const dir = dirname(p);
  const side = join(dir, 'rules.cjs');
  return {
    preload: p,
    bytes: statSync(p).size,
    rulesChunkBytes: existsSync(side) ? statSync(side).size : 0,
    requireMsNoRules: +median(s.noRules).toFixed(2),
    requireMsWithRules: +median(s.rules).toFixed(2),
    processMs: +median(s.proc).toFixed(1),
    startupIr: irOf.get(p),
    startupIrOverBare: bareIr === undefined ? undefined : irOf.get(p) - bareIr,
  };
});
const result = { runs, bareProcessMs: +median(bareSamples).toFixed(1), bareStartupIr: bareIr, preloads: out };
if (asJson) console.log(JSON.stringify(result));
else {
  console.log(`${runs} runs each, medians; node -e 0 without a preload: ${result.bareProcessMs} ms`);
  if (bareIr !== undefined) console.log(`node -e 0 without a preload: ${bareIr.toLocaleString('en-US')} Ir (median of ${cgRuns})`);
  console.log(
    '| preload | bytes | rules.cjs beside it, bytes | require ms, no rules | require ms, 1 rule | node -e 0 ms | node -e 0 Ir over no preload |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const o of out)
    console.log(
      `| ${basename(dirname(o.preload))}/${basename(o.preload)} | ${o.bytes.toLocaleString('en-US')} | ${o.rulesChunkBytes.toLocaleString('en-US')} | ${o.requireMsNoRules} | ${o.requireMsWithRules} | ${o.processMs} | ${o.startupIrOverBare === undefined ? '—' : o.startupIrOverBare.toLocaleString('en-US')} |`,
    );
}
