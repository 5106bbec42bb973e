// Issue 17's JIT warm-up, by what V8 compiles: how long TurboFan spends compiling in each phase of
// the bench client (bench/apps/client.mjs: start-up and warm-up, pass 1, pass 2), untraced and with
// each preload bundle, and which of those compilations are the preload's own functions; also
// Node's and the program's functions whose compile time differs most with each bundle (code a hook
// makes hot, or compiles differently).
//
//   node bench/jit.mjs <http|fetch|mixed> [--rounds=3] [--requests=2000] [--warmup=200] [--conc=20] [bundle.cjs ...]
//
// `http` and `fetch` run sequentially, `mixed` is the floors' realistic row (startWorkload in
// bench/lib/common.mjs).
//
// The client runs with `--single-threaded`, so V8 compiles on the main thread and the `took` times
// `--trace-opt` prints are the client's own CPU (with concurrent compilation they are wall times
// of a background thread that competes with the program for the CPU it is pinned to). Rounds
// rotate the conditions; the tables give medians over rounds. Which functions are the preload's:
// one extra traced run with `--print-opt-source` names each compiled function's script; a name
// compiled from the preload and never from Node or the program counts as the preload's (names
// both have, such as `get` or `close`, are shown apart). Compilation times move with the machine's
// load like any CPU time; the names and counts do not.
//
// Set NETTRACE_CONFIG_EXTRA (JSON merged into the preload's config) to measure other settings, for
// example a skip-all rule set.
//
// Prints the tables (markdown). A measure, not a test: exit code 0 whatever it finds.
import { resolve } from 'node:path';
import { configExtra, loadCore, machine, machineLine, median, nodeOptions, preloadPath, runNode, startWorkload } from './lib/common.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def);
const [client = 'fetch', ...rest] = args.filter((a) => !a.startsWith('--'));
const bundles = rest.length > 0 ? rest.map((p) => resolve(p)) : [preloadPath];
const rounds = opt('rounds', 3);
const requests = opt('requests', 2000);
const warmup = opt('warmup', 200);
const PHASES = ['start-up and warm-up', 'pass 1', 'pass 2'];
const extra = configExtra();

const core = loadCore();
const workload = await startWorkload(client, { requests, warmup, conc: opt('conc', 20), cpus: '1' });
const collector = await core.startCollector({ description: 'jit' });

/** One client run under --trace-opt: compile ms per phase and per [phase, function], and the pass CPU. */
async function run(bundle, extraFlags = []) {
  const env =
    bundle === 'none'
      ? { ...workload.env }
      : { ...workload.env, NODE_OPTIONS: nodeOptions([bundle]), NETTRACE_CONFIG: JSON.stringify({ ...extra, ipcPath: collector.ipcPath }) };
  const argv = [
    '-o0',
    process.execPath,
    '--single-threaded',
    '--trace-opt',
    ...extraFlags,
    ...workload.args(['--passes=2', '--mark-passes']),
  ];
  // V8 prints through C stdio: unbuffered (stdbuf), its lines stay in order with the pass marks.
  const { done } = runNode(argv, { env, cpus: '0', keepStdout: true, execPath: 'stdbuf' });
  const r = await done;
  if (r.code !== 0) throw new Error(`client exited with ${r.code}: ${r.stderr.slice(-500)}`);
  const total = [0, 0, 0];
  const byFn = new Map();
  const scripts = new Map();
  let phase = 0;
  let passes;
  for (const line of r.stdout.split('\n')) {
    const mark = /^\{"pass":(\d+)\}$/.exec(line);
    if (mark) phase = Math.min(Number(mark[1]), 3);
    if (line.startsWith('{"client"')) passes = JSON.parse(line).passes;
    const src = /^--- FUNCTION SOURCE \((.*):([^:()]*)\) id\{\d+,-1\}/.exec(line);
    if (src)
      (scripts.get(src[2]) ?? scripts.set(src[2], new Set()).get(src[2])).add(/preload\.cjs|rules\.cjs/.test(src[1]) ? 'preload' : 'other');
    const m = /^\[(?:completed compiling|aborted optimizing)[^<]*<JSFunction ([^ >]*).*took ([\d.]+), ([\d.]+), ([\d.]+) ms/.exec(line);
    if (!m || phase > 2) continue;
    const ms = Number(m[2]) + Number(m[3]) + Number(m[4]);
    total[phase] += ms;
    const key = `${phase}\t${m[1] && !m[1].startsWith('(') ? m[1] : '(anonymous)'}`;
    byFn.set(key, (byFn.get(key) ?? 0) + ms);
  }
  return { total, byFn, scripts, passes };
}

// Which names are the preload's: one run that prints each optimized function's source and script.
const named = await run(bundles[0], ['--print-opt-source']);
const untracedNames = new Set();
const results = new Map([['none', []], ...bundles.map((b) => [b, []])]);
for (let i = 0; i < rounds; i++) {
  const order = [...results.keys()];
  for (let k = 0; k < order.length; k++) {
    const c = order[(k + i) % order.length];
    const r = await run(c);
    results.get(c).push(r);
    if (c === 'none') for (const key of r.byFn.keys()) untracedNames.add(key.split('\t')[1]);
    process.stderr.write(`round ${i + 1} ${c === 'none' ? 'untraced' : c}: ${r.total.map((x) => x.toFixed(0)).join(' / ')} ms\n`);
  }
}
await collector.close?.();
workload.server.stop?.();

const label = (c) => (c === 'none' ? 'untraced' : c.replace(/^.*\/(dist|tmp)\//, '$1/'));
const m = machine();
const out = [];
out.push(
  `${machineLine(m)}; ${workload.label}, ${warmup} warm-up requests then ${requests} × 2 passes, ${rounds} rounds, \`--single-threaded\`${Object.keys(extra).length > 0 ? `; preload config ${JSON.stringify(extra)}` : ''}`,
);
out.push('');
out.push(`| condition | TurboFan ms: ${PHASES.join(' | ')} | pass 1 CPU ms | pass 2 CPU ms |`);
out.push(`|---|---:|---:|---:|---:|---:|`);
for (const [c, rs] of results) {
  const cells = PHASES.map((_, p) => median(rs.map((r) => r.total[p])).toFixed(0));
  const cpu = (p) => median(rs.map((r) => r.passes?.[p]?.cpuMs ?? NaN)).toFixed(0);
  out.push(`| ${label(c)} | ${cells.join(' | ')} | ${cpu(0)} | ${cpu(1)} |`);
}
const kind = (name) => {
  const s = named.scripts.get(name);
  if (!s?.has('preload')) return 'other';
  return s.has('other') || untracedNames.has(name) ? 'both' : 'preload';
};
for (const b of bundles) {
  const rs = results.get(b);
  const perPhase = [0, 0, 0];
  const rows = new Map();
  for (const r of rs) {
    for (const [key, ms] of r.byFn) {
      const [p, name] = key.split('\t');
      if (kind(name) !== 'preload') continue;
      perPhase[Number(p)] += ms / rs.length;
      const row = rows.get(name) ?? [0, 0, 0, 0];
      row[Number(p)] += ms / rs.length;
      row[3]++;
      rows.set(name, row);
    }
  }
  out.push('');
  out.push(
    `${label(b)}: the preload's own functions compiled, mean ms per run: ${PHASES.map((ph, p) => `${ph} ${perPhase[p].toFixed(1)}`).join(', ')} (${rows.size} functions)`,
  );
  out.push('');
  out.push(`| function | ${PHASES.join(' | ')} | compilations per run |`);
  out.push('|---|---:|---:|---:|---:|');
  for (const [name, row] of [...rows].sort((a, b) => b[1][0] + b[1][1] + b[1][2] - (a[1][0] + a[1][1] + a[1][2])).slice(0, 30)) {
    out.push(
      `| ${name} | ${row
        .slice(0, 3)
        .map((x) => x.toFixed(1))
        .join(' | ')} | ${(row[3] / rs.length).toFixed(1)} |`,
    );
  }
  // Node's and the program's own functions: what they took to compile with this preload against
  // untraced (a hook can make Node code hot that is cold without it, or change what V8 inlines).
  const otherMs = (runs) => {
    const byName = new Map();
    for (const r of runs)
      for (const [key, ms] of r.byFn) {
        const name = key.split('\t')[1];
        if (kind(name) === 'preload') continue;
        const row = byName.get(name) ?? [0, 0];
        row[0] += ms / runs.length;
        row[1] += 1 / runs.length;
        byName.set(name, row);
      }
    return byName;
  };
  const base = otherMs(results.get('none'));
  const mine = otherMs(rs);
  const diffs = [...new Set([...base.keys(), ...mine.keys()])].map((name) => {
    const [untracedMs = 0, untracedN = 0] = base.get(name) ?? [];
    const [tracedMs = 0, tracedN = 0] = mine.get(name) ?? [];
    return { name, untracedMs, tracedMs, untracedN, tracedN };
  });
  const sumOther = (byName) => [...byName.values()].reduce((x, [ms]) => x + ms, 0);
  out.push('');
  out.push(
    `${label(b)}: Node's and the program's functions, all phases, mean ms per run: untraced ${sumOther(base).toFixed(1)}, with the preload ${sumOther(mine).toFixed(1)}; the largest differences:`,
  );
  out.push('');
  out.push('| function | untraced ms (compilations) | with the preload ms (compilations) |');
  out.push('|---|---:|---:|');
  const change = (d) => Math.abs(d.tracedMs - d.untracedMs);
  for (const d of diffs.sort((x, y) => change(y) - change(x)).slice(0, 15))
    out.push(`| ${d.name} | ${d.untracedMs.toFixed(1)} (${d.untracedN.toFixed(1)}) | ${d.tracedMs.toFixed(1)} (${d.tracedN.toFixed(1)}) |`);
  const shared = [...new Set([...rs[0].byFn.keys()].map((k) => k.split('\t')[1]).filter((n) => kind(n) === 'both'))];
  if (shared.length > 0) out.push(`\nNames both the preload and Node or the program have (not counted above): ${shared.join(', ')}`);
}
console.log(out.join('\n'));
process.exit(0);
