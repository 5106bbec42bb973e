// Issue 40, deterministic: the collector's instructions per request for a recorded stream
// (bench/apps/collector-replay.mjs: the realistic mix's 300 recorded requests applied COPIES
// times into one Session, then snapshot, trace file and the CLI's table), under
// `valgrind --tool=callgrind` with bench/lib/callgrindRun.mjs's steady V8 flags. Ir per request =
// (Ir at BENCH_LARGE copies − Ir at BENCH_SMALL copies) / the requests between them, so start-up
// and compilation drop out. BENCH_STAGES=1 also runs each build stopped after each stage (prepare:
// the bench's own copying of the input, which is in every other figure; apply, snapshot, save,
// table) and prints each stage's share. BENCH_BASELINE=<dist dir> measures that
// build the same way. Counts, not seconds: the machine's load does not move them. Prints only.
import { join } from 'node:path';
import { root } from '../lib/common.mjs';
import { callgrindIr, STEADY_NODE_FLAGS } from '../lib/callgrindRun.mjs';

const SMALL = Number(process.env.BENCH_SMALL ?? 2);
const LARGE = Number(process.env.BENCH_LARGE ?? 12);
const STAGES = process.env.BENCH_STAGES === '1' ? ['prepare', 'apply', 'snapshot', 'save', 'table'] : ['table'];
const app = join(root, 'bench', 'apps', 'collector-replay.mjs');
const builds = [{ label: 'this build', dir: join(root, 'dist') }];
if (process.env.BENCH_BASELINE) builds.push({ label: 'baseline', dir: process.env.BENCH_BASELINE });

const runOne = async (dir, copies, upto) => {
  const r = await callgrindIr([...STEADY_NODE_FLAGS, app, dir, String(copies), '-', upto], process.env);
  return { ir: r.ir, requests: JSON.parse(r.stdout.trim().split('\n').pop()).requests };
};
for (const b of builds) {
  const cum = {};
  for (const upto of STAGES) {
    const [a, z] = [await runOne(b.dir, SMALL, upto), await runOne(b.dir, LARGE, upto)];
    cum[upto] = (z.ir - a.ir) / (z.requests - a.requests);
  }
  let prev = 0;
  const parts = STAGES.map((s) => {
    const v = cum[s] - prev;
    prev = cum[s];
    return `${s} ${Math.round(v).toLocaleString('en-US')}`;
  });
  const own = prev - (cum.prepare ?? 0);
  console.log(
    `${b.label}: ${Math.round(own).toLocaleString('en-US')} Ir per request${cum.prepare !== undefined ? " past the bench's copying" : ''}${STAGES.length > 1 ? ` (${parts.join(', ')})` : ''}`,
  );
}
