// Issue 65's floor for a real test suite, as users run one: `nettrace run -- npm test` over
// `npm test`, wall, median of alternating pairs, ≤ 1.10×.
//
//   The suite: bench/apps/vitest-suite, vitest 3 (vite 7) in 4 worker processes (forks, each test
//   file in a fresh one), 13 TypeScript test files, 260 tests, 1,300 HTTP calls through node:http
//   (a keep-alive agent, and a connection per request), axios and fetch, JSON both ways, 4xx among
//   them, to two local services (bench/apps/suite-server.mjs, its own process, started here).
//   Its dependencies are installed once from the npm registry into ~/.cache/nettrace/bench.
//   Each side runs `npm test` in that folder with a fresh vitest cache. Traced: `nettrace run
//   --out F -- npm test`, default options (as root with the helper built, `--helper auto` runs it).
//   CPU, reported apart: the collector (the `nettrace run` process's own CPU), the preload (the
//   program's process tree traced minus untraced, read by bench/apps/tree-cpu.cjs around `npm
//   test` on both sides), the rest (the helper); and a third side per pair, the preload alone
//   (its events dropped by a socket of this process, no collector).
//   Checked every run: every test passed (≥ 200), the services saw the same number of calls in
//   every run (≥ 1,000), and traced, the trace holds exactly that many requests with nothing
//   dropped (stats) — a run that traced nothing fails.
//
//   Then BENCH_START_PAIRS (3) pairs of the same suite with no test run (`-t` with a name none
//   matches): its processes start and import alike and make no request, so the preload's start in
//   them is told from its per-request path.
//
//   BENCH_PAIRS (5), BENCH_SINK (1; 0 leaves the preload-alone side out), BENCH_START_PAIRS (3; 0
//   leaves the no-test pairs out), BENCH_RUN_ARGS (more `nettrace run` options, e.g. `--helper
//   off`), BENCH_VITEST_ARGS (more vitest options on both sides, e.g. `--no-isolate`),
//   BENCH_PROFILE=<dir> (every process of the suite under `node --cpu-prof`, profiles kept in <dir>;
//   the table gets the time in the preload's own functions; the flag changes V8's flags, so the
//   preload's code cache is not used and its start is overstated), BENCH_NODE (a major, `26`: the
//   suite's processes on that Node, bench/lib/suites.mjs vitestSuite; else the PATH's), --no-write.
// Writes the section "Real suites — issue 65: vitest" of test-results/bench/runs.md.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fmt, machine, machineLine, median, writeSection } from './lib/common.mjs';
import { figureRows, mr, profileFigure, runPairs, summarize, traceHealth, vitestSuite } from './lib/suites.mjs';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 5);
const SINK = process.env.BENCH_SINK !== '0';
const RUN_ARGS = (process.env.BENCH_RUN_ARGS ?? '').split(' ').filter(Boolean);
const write = !process.argv.includes('--no-write');
const START_PAIRS = Number(process.env.BENCH_START_PAIRS ?? 3);
/** More vitest options, both sides (BENCH_VITEST_ARGS, e.g. `--no-isolate`: 4 worker processes, not one per file). */
const VITEST_ARGS = (process.env.BENCH_VITEST_ARGS ?? '').split(' ').filter(Boolean);
const PROFILE = process.env.BENCH_PROFILE;

const tmp = mkdtempSync(join(os.tmpdir(), 'nettrace-vitest-bench-'));
const m = machine();
const started = performance.now();
let calls; // the services' count in the first run: every later run must make the same
/**
 * How many processes the trace's warnings say closed their connection without an exit message: one
 * warning names them all ("N processes closed their connection…", or "pid P closed its connection…"
 * for one: src/trace/builder/incomplete.ts endWarning).
 */
function unflushed(warnings) {
  let n = 0;
  for (const w of warnings) {
    const m = /^(?:pid \d+|(\d+) processes) closed (?:its|their) connection without an exit message/.exec(w);
    if (m) n += m[1] ? Number(m[1]) : 1;
  }
  return n;
}

/** Per traced run: requests recorded and seen, the trace's own counters, processes it says were killed. */
const runs = [];
const counts = { tests: 0, calls: 0, processes: [], byStatus: null, closes: 0, helper: '' };
const { app, env, prepare, ask, stop } = await vitestSuite(tmp);
// With BENCH_PROFILE, vitest runs as `node --cpu-prof …/vitest.mjs run` (no npm: Node 20 refuses
// --cpu-prof in NODE_OPTIONS); its workers inherit the flag, one folder per run.
let profiled = 0;
const sides = await runPairs({
  pairs: PAIRS,
  cmd: ['npm', 'test', ...(VITEST_ARGS.length ? ['--', ...VITEST_ARGS] : [])],
  cwd: app,
  env,
  runArgs: RUN_ARGS,
  sink: SINK,
  async prepare(side) {
    await prepare();
    if (!PROFILE) return;
    const dir = join(PROFILE, `${String(++profiled).padStart(2, '0')}-${side}`);
    return {
      cmd: [
        process.execPath,
        '--cpu-prof',
        `--cpu-prof-dir=${dir}`,
        join(app, 'node_modules', 'vitest', 'vitest.mjs'),
        'run',
        ...VITEST_ARGS,
      ],
    };
  },
  async check(side, r) {
    const seen = await ask('count');
    const t = /Tests\s+(\d+) passed \((\d+)\)/.exec(r.stdout);
    if (!t || t[1] !== t[2] || Number(t[1]) < 200)
      throw new Error(`${side}: not every test passed, or fewer than 200:\n${r.stdout.slice(-2000)}`);
    calls ??= seen.count;
    if (seen.count !== calls || calls < 1000)
      throw new Error(`${side}: the services saw ${seen.count} calls (the first run ${calls}; at least 1,000)`);
    counts.tests = Number(t[1]);
    counts.calls = calls;
    counts.byStatus = seen.byStatus;
    counts.closes = seen.closes;
    if (side !== 'traced') return;
    const recorded = r.trace.httpRequests.length;
    const health = traceHealth(r.trace);
    // A trace short of what the services saw by more than a few requests traced nothing useful:
    // stop. A few short (a worker killed before its last events left it) is the figure reported.
    if (recorded < seen.count * 0.95 || recorded > seen.count)
      throw new Error(`the trace holds ${recorded} requests, the services saw ${seen.count}`);
    runs.push({
      recorded,
      seen: seen.count,
      ...health.dropped,
      killed: unflushed(health.warnings),
    });
    counts.processes.push(health.processes);
    counts.helper = health.helper;
  },
});

// The same suite with no test run (a name filter none matches): the same processes start and
// import the same modules, and no request is made, so what the preload costs them at start is
// told from its per-request path.
const startProcesses = [];
const startSides =
  START_PAIRS > 0 &&
  (await runPairs({
    pairs: START_PAIRS,
    cmd: ['npm', 'test', '--', ...VITEST_ARGS, '-t', 'no test has this name'],
    cwd: app,
    env,
    runArgs: RUN_ARGS,
    prepare,
    async check(side, r) {
      const seen = await ask('count');
      const t = /Tests\s+(\d+) skipped \((\d+)\)/.exec(r.stdout);
      if (!t || t[1] !== t[2] || seen.count !== 0)
        throw new Error(`${side}: the no-test run ran tests or made ${seen.count} calls:\n${r.stdout.slice(-2000)}`);
      if (side !== 'traced') return;
      if (r.trace.httpRequests.length !== 0) throw new Error(`the no-test run's trace holds ${r.trace.httpRequests.length} requests`);
      startProcesses.push(traceHealth(r.trace).processes);
    },
  }));
await stop();
rmSync(tmp, { recursive: true, force: true });

const s = summarize(sides);
const pf = (ok) => (ok ? 'pass' : 'FAIL');
const four = Object.entries(counts.byStatus)
  .filter(([k]) => k >= 400)
  .reduce((a, [, v]) => a + v, 0);
const exact = runs.filter(
  (r) => r.recorded === r.seen && r.droppedEvents + r.untracedRequests + r.droppedRecords + r.incompleteRequests === 0,
);
const short = runs.filter((r) => !exact.includes(r));
const traceRow = `| the trace is right: requests recorded = calls the services saw, nothing dropped or incomplete (stats), every traced run | ${exact.length} of ${runs.length} runs exact${
  short.length
    ? `; ${short.map((r) => `${r.recorded} of ${r.seen} recorded, ${r.incompleteRequests} incomplete ("process killed"), dropped events ${r.droppedEvents}`).join('; ')}`
    : ''
}; processes the trace says ended without flushing (killed by vitest's pool): ${median(runs.map((r) => r.killed))} per run | ${pf(!short.length)} |`;
const profileRow = PROFILE ? `\n${profileFigure(PROFILE, counts.calls)}` : '';
let startRows = '';
if (startSides) {
  const z = summarize(startSides);
  const perProcess = (ms) => fmt(ms / median(counts.processes), 1);
  startRows = [
    `| no test run (\`npm test -- -t NAME\` that none matches: the same ${median(counts.processes)} processes start and import the same modules, no request; ${START_PAIRS} pairs): traced / untraced wall | ${mr(z.ratio, 3, '×')} (${mr(z.untracedWall)} / ${mr(z.tracedWall)} ms) | |`,
    `| of the preload's CPU, its start in those processes (no-test traced − untraced) | ${mr(z.preload)} ms (user ${fmt(z.preloadUser.med)}), ${perProcess(z.preload.med)} ms per process; the trace lists ${median(startProcesses)} | |`,
    `| so the preload's per-request path in this suite: (its CPU with the tests − its start) / ${counts.calls} | ${fmt(((s.preload.med - z.preload.med) * 1000) / counts.calls, 1)} µs per request | |`,
    `| the collector's CPU with no request (its start, the helper's events, the file) | ${mr(z.collector)} ms; with the tests ${fmt(((s.collector.med - z.collector.med) * 1000) / counts.calls, 1)} µs more per request | |`,
    `| the rest (the kernel helper) with no request | ${mr(z.rest)} ms | |`,
  ].join('\n');
}
const body = `
Measured by \`bench/suite-vitest.mjs\`${process.env.BENCH_NODE ? ` (the suite on Node ${process.env.BENCH_NODE})` : ''}. Machine: ${machineLine(m, os.loadavg())}; the run took ${fmt((performance.now() - started) / 60000, 1)} min.

The suite (bench/apps/vitest-suite): vitest 3.2.7 (vite 7.3.8), 4 worker processes (forks), ${counts.tests} tests in 13 TypeScript files, **${counts.calls} HTTP calls** (node:http, axios, fetch; ${counts.closes} on a connection of their own, ${four} answered 4xx) to two local services. \`npm test${VITEST_ARGS.length ? ' -- ' + VITEST_ARGS.join(' ') : ''}\` against \`nettrace run${RUN_ARGS.length ? ' ' + RUN_ARGS.join(' ') : ''} --out F -- npm test…\`, ${PAIRS} alternating pairs; the helper: ${counts.helper}; ${median(counts.processes)} processes traced per run.

| figure | median (min–max) | |
|---|---|---|
${traceRow}
${figureRows(s, { requests: counts.calls, processes: median(counts.processes) })}${profileRow}
${startRows}
`;
console.log(body);
if (write) writeSection('Real suites — issue 65: vitest', body);
