// What each TurboFan compilation costs, in instructions: the bench client (bench/apps/client.mjs)
// run once under callgrind with `--trace-opt`, a callgrind dump taken before and after every
// `Compiler::CompileOptimized` (V8 compiles on the main thread with `--single-threaded`, so each
// job is one call), each job's Ir paired with the function `--trace-opt` names for it. Lists the
// jobs by cost, the preload's functions (compiled from preload-body.cjs, `--print-opt-source`'s
// script) apart, and the totals, untraced and with each bundle: which functions a preload adds to
// TurboFan's work and what each costs (issue 65).
//
//   node bench/tools/opt-ir.mjs <http|fetch|mixed> [--requests=1500] [--top=40] <preload.cjs|none> ...
//
// The preload's code cache is filled first by a 2-request run, as bench/callgrind.mjs does; its
// time constants are scaled as there (--sampled's: the stack window as built). A measure for a
// question of the moment, not a floor: prints tables, exit code 0. OPT_IR_KEEP=1 keeps each run's
// callgrind dumps and `--trace-opt` output in the scratch folder it prints. A job's count holds
// what the compiler inlined into it, and a collection that fell inside it.
import { spawn, execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { scaledCopy, STEADY_NODE_FLAGS } from '../lib/callgrindRun.mjs';
import { appsDir, loadCore, nodeOptions, startServer, startTlsServer, testCaPath } from '../lib/common.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def);
const [client, ...conditions] = args.filter((a) => !a.startsWith('--'));
const requests = opt('requests', 1500);
const top = opt('top', 40);
const scratch = mkdtempSync(join(tmpdir(), 'nettrace-opt-ir-'));
if (process.env.OPT_IR_KEEP) console.log(`runs kept in ${scratch}`);
const core = loadCore();
const mixed = client === 'mixed';
const server = mixed ? await startTlsServer({ delayMs: 2 }) : await startServer();
const collector = await core.startCollector({ description: 'opt-ir' });

function runArgs(bundle, n, dir) {
  const env = { ...process.env, NETTRACE_CACHE: join(dir, 'cache') };
  delete env.NODE_OPTIONS;
  delete env.NETTRACE_CONFIG;
  if (mixed) env.NODE_EXTRA_CA_CERTS = testCaPath;
  if (bundle !== 'none') {
    env.NODE_OPTIONS = nodeOptions([bundle]);
    env.NETTRACE_CONFIG = JSON.stringify({ ipcPath: collector.ipcPath });
  }
  const argv = [join(appsDir, 'client.mjs'), client, 'seq', String(n), '50', '0', server.url, ...(mixed ? ['--parse-json'] : [])];
  return { env, argv };
}

/** One run under callgrind: [{name, preload, ir}] per TurboFan job, in order, and the process's total. */
async function measure(condition, index) {
  const dir = join(scratch, String(index));
  mkdirSync(dir, { recursive: true });
  const bundle = condition === 'none' ? 'none' : scaledCopy(resolve(condition), 1_000_000, join(dir, 'b'), () => {}, ['STACK_WINDOW_MS']);
  const flags = [...STEADY_NODE_FLAGS, '--trace-opt'];
  if (bundle !== 'none') {
    const { env, argv } = runArgs(bundle, 2, dir);
    await new Promise((ok, fail) =>
      execFile(process.execPath, [...flags, ...argv], { env }, (e, _o, se) => (e ? fail(new Error(se)) : ok())),
    );
  }
  const { env, argv } = runArgs(bundle, requests, dir);
  const out = join(dir, 'cg.out');
  // A function's entry and exit cannot both trigger dumps: the job's entry, and the exit of the call inside it that does the work.
  const vg = [
    '--tool=callgrind',
    '--smc-check=all-non-file',
    '--dump-instr=no',
    '--dump-before=v8::internal::Compiler::CompileOptimized(*',
    '--dump-after=v8::internal::(anonymous namespace)::GetOrCompileOptimized(*',
    `--callgrind-out-file=${out}`,
  ];
  const stdout = await new Promise((ok, fail) => {
    const c = spawn('valgrind', [...vg, process.execPath, ...flags, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let so = '';
    let se = '';
    c.stdout.on('data', (d) => (so += d));
    c.stderr.on('data', (d) => (se += d));
    c.on('close', (code) => (code === 0 ? ok(so) : fail(new Error(`exit ${code}: ${se.slice(-800)}`))));
  });
  // Dumps in order (cg.out.1, .2, …; cg.out at exit): a job's own is the one its inner call's exit triggered.
  const dumps = readdirSync(dir)
    .filter((f) => /^cg\.out\.\d+$/.test(f))
    .map((f) => {
      const text = readFileSync(join(dir, f), 'utf8');
      return {
        at: Number(f.slice(7)),
        ir: Number(/^(?:summary|totals): (\d+)/m.exec(text)?.[1] ?? 0),
        job: /^desc: Trigger: --dump-after/m.test(text),
      };
    })
    .sort((a, b) => a.at - b.at);
  const total = dumps.reduce((s, d) => s + d.ir, 0) + Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(out, 'utf8'))?.[1] ?? 0);
  const jobsIr = dumps.filter((d) => d.job).map((d) => d.ir);
  const names = [];
  for (const line of stdout.split('\n')) {
    const m = /^\[compiling method .*<JSFunction (.*?)\s*\(sfi = (0x[0-9a-f]+)\)>.*(?:using TurboFan|target TURBOFAN)/.exec(line);
    if (m) names.push({ name: m[1] || '(anonymous)', sfi: m[2], osr: line.includes('OSR') });
  }
  if (process.env.OPT_IR_KEEP) writeFileSync(join(dir, 'stdout.txt'), stdout);
  else rmSync(dir, { recursive: true, force: true });
  return { total, jobs: jobsIr.map((ir, i) => ({ ir, ...(names[i] ?? { name: '?' }) })), names: names.length };
}

const fmt = (x) => Math.round(x).toLocaleString('en-US');
const results = [];
try {
  for (const [i, c] of conditions.entries()) results.push([c, await measure(c, i)]);
} finally {
  await collector.close();
  await server.stop();
  if (!process.env.OPT_IR_KEEP) rmSync(scratch, { recursive: true, force: true });
}
const base = results.find(([c]) => c === 'none')?.[1];
const countBy = (jobs) => {
  const m = new Map();
  for (const j of jobs) {
    const e = m.get(j.name) ?? { n: 0, ir: 0 };
    e.n++;
    e.ir += j.ir;
    m.set(j.name, e);
  }
  return m;
};
for (const [c, r] of results) {
  const sum = r.jobs.reduce((s, j) => s + j.ir, 0);
  console.log(`\n${c}: ${r.jobs.length} TurboFan jobs (${r.names} named), ${fmt(sum)} Ir of ${fmt(r.total)}`);
  const mine = countBy(r.jobs);
  const theirs = base && c !== 'none' ? countBy(base.jobs) : new Map();
  const rows = [...mine].map(([name, e]) => [name, e, theirs.get(name) ?? { n: 0, ir: 0 }]);
  rows.sort((a, b) => b[1].ir - b[2].ir - (a[1].ir - a[2].ir));
  console.log('| function | jobs | Ir | untraced jobs | untraced Ir | difference |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [name, e, u] of rows.slice(0, top))
    console.log(`| ${name} | ${e.n} | ${fmt(e.ir)} | ${u.n} | ${fmt(u.ir)} | ${fmt(e.ir - u.ir)} |`);
  if (base && c !== 'none') {
    const gone = [...theirs].filter(([n]) => !mine.has(n));
    for (const [name, u] of gone) console.log(`| ${name} | 0 | 0 | ${u.n} | ${fmt(u.ir)} | ${fmt(-u.ir)} |`);
    console.log(
      `| **all** | ${r.jobs.length} | ${fmt(sum)} | ${base.jobs.length} | ${fmt(base.jobs.reduce((s, j) => s + j.ir, 0))} | ${fmt(sum - base.jobs.reduce((s, j) => s + j.ir, 0))} |`,
    );
  }
}
