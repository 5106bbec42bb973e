// Where `nettrace run`'s share of the realistic workload's wall lies (issue 65): the 9,000-request
// realistic mix (bench/lib/common.mjs startWorkload('mixed')) untraced, with the preload alone (its
// events read and dropped by a socket of this process) and under `nettrace run` (default options;
// as root the eBPF helper), in rotated rounds. The program stamps its start (Node's timeOrigin) and
// its 'exit' event (bench/apps/start-exit-stamp.cjs), so each run's wall splits into: before (the
// command started → the program's Node started: for `nettrace run`, the CLI's own start, its
// collector and helper, the gate), the program (its start to its exit event) and after (its exit
// event → the command's end: for `nettrace run`, the trace file, the derivation, the table).
//
//   node bench/tools/run-phases.mjs [CLI …]: each CLI a bin/nettrace.cjs (default this checkout's);
//   BENCH_N (9000), BENCH_ROUNDS (5), BENCH_RUN_ARGS (more `nettrace run` options, e.g. `--helper
//   off`). Prints the medians; writes nothing.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { appsDir, median, root, runNode, startWorkload } from '../lib/common.mjs';
import { startSink } from '../lib/suites.mjs';

const N = Number(process.env.BENCH_N ?? 9000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RUN_ARGS = (process.env.BENCH_RUN_ARGS ?? '').split(' ').filter(Boolean);
const clis = process.argv.slice(2).map((c) => resolve(c));
if (clis.length === 0) clis.push(join(root, 'bin', 'nettrace.cjs'));

const tmp = mkdtempSync(join(os.tmpdir(), 'nettrace-run-phases-'));
// The preload alone: its events read and dropped by a socket of this process (the suites' sink).
const sink = await startSink(tmp);
const sinkEnv = sink.env;
const now = () => performance.timeOrigin + performance.now();

const sides = [{ label: 'untraced' }, { label: 'preload alone', env: sinkEnv }, ...clis.map((cli) => ({ label: cli, cli }))];
const results = new Map(sides.map((s) => [s.label, []]));
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 ? [...sides].reverse() : sides) {
      const w = await startWorkload('mixed', { requests: N, warmup: 0 });
      const stamp = join(tmp, 'stamp.jsonl');
      rmSync(stamp, { force: true });
      const program = [process.execPath, '-r', join(appsDir, 'start-exit-stamp.cjs'), ...w.args()];
      const args = side.cli ? [side.cli, 'run', ...RUN_ARGS, '--out', join(tmp, 'trace.json'), '--', ...program] : program.slice(1);
      const t0 = now();
      const r = await runNode(args, { env: { ...w.env, ...(side.env ?? {}), BENCH_STAMP_OUT: stamp } }).done;
      const t1 = now();
      await w.server.stop();
      if (r.code !== 0) throw new Error(`${side.label} failed (${r.code}): ${r.stderr.slice(-1000)}`);
      // The first process that stamped is the program (a traced program's children stamp after it).
      const lines = readFileSync(stamp, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      const start = lines.find((l) => l.origin !== undefined);
      const exit = lines.find((l) => l.exit !== undefined && l.pid === start.pid);
      results.get(side.label).push({ total: t1 - t0, before: start.origin - t0, program: exit.exit - start.origin, after: t1 - exit.exit });
    }
    console.log(`round ${round + 1}/${ROUNDS} done`);
  }
} finally {
  await sink.close();
  rmSync(tmp, { recursive: true, force: true });
}

if (sink.bytes() === 0) throw new Error('the sink received nothing: the preload-alone runs were not traced');
const fmt = (x) => x.toFixed(1);
const base = median(results.get('untraced').map((x) => x.total));
console.log(`\n${N} requests, ${ROUNDS} rounds, medians (ms):`);
console.log('| side | wall | / untraced | before the program | the program | after its exit |');
console.log('|---|---|---|---|---|---|');
for (const [label, runs] of results) {
  const m = (k) => median(runs.map((x) => x[k]));
  console.log(
    `| ${label} | ${fmt(m('total'))} | ${(m('total') / base).toFixed(3)}× | ${fmt(m('before'))} | ${fmt(m('program'))} | ${fmt(m('after'))} |`,
  );
}
