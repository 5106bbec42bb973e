// Issue 65, deterministic: the collector's instructions per request on a real run's raw input —
// the preload's socket bytes as they arrived and the kernel helper's stdout, in their order —
// replayed in-process through the collector's own decoding, Session and HelperLink
// (bench/apps/collector-input-replay.mjs), under callgrind with bench/lib/callgrindRun.mjs's steady
// V8 flags. Where bench/tools/collector-callgrind.mjs starts from a stream already decoded, this
// starts from the bytes: the frames' decoding and the helper's lines are in the figure.
//   node bench/tools/collector-input.mjs record: runs `nettrace run` (BENCH_RUN_ARGS more options;
//     as root the default `--helper auto` runs the eBPF helper) of the realistic mix
//     (bench/lib/common.mjs startWorkload('mixed')) at BENCH_SMALL (1,000) and BENCH_LARGE (4,000)
//     requests with bench/apps/collector-input-recorder.cjs in the CLI, into BENCH_INPUT_DIR
//     (default <tmp>/nettrace-collector-input).
//   node bench/tools/collector-input.mjs: replays both recordings under callgrind; Ir per request
//     = (Ir(large) − Ir(small)) / (requests(large) − requests(small)), with the helper's lines and
//     without (BENCH_HELPER=on|off|both, default both). BENCH_UPTO=table goes on past applying as
//     `nettrace run` does at the program's end (the file written, the records derived, the table
//     made): the whole collector's work on that input. BENCH_BASELINE=<dist dir> measures that
//     build on the same recordings (a build older than the recording's helper lines applies none of
//     its arrivals: before 2026-11-28 an arrival named its connection by `key`, since that evening
//     it is an array line; give such a build a recording made with its own helper,
//     BENCH_BASELINE_INPUT_DIR); BENCH_NODE_FLAGS adds V8 flags (e.g. the
//     tiering flag bin/nettrace.cjs gives Node 20). Prints only.
import { mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appsDir, root, runNode, startWorkload } from '../lib/common.mjs';
import { callgrindIr, STEADY_NODE_FLAGS } from '../lib/callgrindRun.mjs';

const SMALL = Number(process.env.BENCH_SMALL ?? 1000);
const LARGE = Number(process.env.BENCH_LARGE ?? 4000);
const dir = process.env.BENCH_INPUT_DIR ?? join(tmpdir(), 'nettrace-collector-input');
const fileOf = (n) => join(dir, `mixed-${n}.bin`);

if (process.argv[2] === 'record') {
  mkdirSync(dir, { recursive: true });
  const runArgs = (process.env.BENCH_RUN_ARGS ?? '').split(' ').filter(Boolean);
  for (const n of [SMALL, LARGE]) {
    const w = await startWorkload('mixed', { requests: n, warmup: 0 });
    try {
      const args = ['-r', join(appsDir, 'collector-input-recorder.cjs'), join(root, 'dist', 'cli.cjs'), 'run', ...runArgs];
      args.push('--out', join(dir, `trace-${n}.json`), '--', process.execPath, ...w.args());
      const r = await runNode(args, { env: { ...w.env, BENCH_INPUT_OUT: fileOf(n) } }).done;
      if (r.code !== 0) throw new Error(`run failed (${r.code}): ${r.stderr.slice(-2000)}`);
      console.log(`${fileOf(n)}: ${n} requests, ${(statSync(fileOf(n)).size / 1048576).toFixed(1)} MiB`);
    } finally {
      await w.server.stop();
    }
  }
  process.exit(0);
}

const app = join(root, 'bench', 'apps', 'collector-input-replay.mjs');
const builds = [{ label: 'this build', dir: join(root, 'dist'), inputDir: dir }];
if (process.env.BENCH_BASELINE) {
  builds.push({ label: 'baseline', dir: process.env.BENCH_BASELINE, inputDir: process.env.BENCH_BASELINE_INPUT_DIR ?? dir });
}
const upto = process.env.BENCH_UPTO ?? 'apply';
const helpers = (process.env.BENCH_HELPER ?? 'both') === 'both' ? ['on', 'off'] : [process.env.BENCH_HELPER];
const runOne = async (b, n, helper) => {
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const r = await callgrindIr([...STEADY_NODE_FLAGS, ...flags, app, b.dir, join(b.inputDir, `mixed-${n}.bin`), helper, upto], process.env);
  return { ir: r.ir, ...JSON.parse(r.stdout.trim().split('\n').pop()) };
};
for (const helper of helpers) {
  for (const b of builds) {
    const [a, z] = [await runOne(b, SMALL, helper), await runOne(b, LARGE, helper)];
    const per = (z.ir - a.ir) / (z.requests - a.requests);
    console.log(
      `${b.label}, helper's lines ${helper}, up to ${upto}: ${Math.round(per).toLocaleString('en-US')} Ir per request (${a.requests} → ${z.requests} requests, ${a.kernelEvents} → ${z.kernelEvents} kernel events)`,
    );
  }
}
