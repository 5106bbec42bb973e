// Where the collector's time goes past warm-up, function by function: bench/apps/collector-replay.mjs
// (the realistic mix's recorded stream applied BENCH_COPIES times into one Session, default 83 =
// 24,900 requests, then the trace file and the derivation) with BENCH_PROFILE, its stages profiled
// with node:inspector (apply from a third of the copies on, save, snapshot), and the functions with
// the most self time printed per stage (BENCH_TOP, default 25), µs per request over the requests the
// profile covers. A function's self time holds the builtins it calls (JSON.stringify's in
// `batchedElements`); `dispatch` is the profiler's own. BENCH_DIST: another build's dist/. Prints only.
//   node bench/tools/collector-profile.mjs
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from '../lib/common.mjs';
import { analyze } from '../lib/cpuprofile.mjs';

const COPIES = Number(process.env.BENCH_COPIES ?? 83);
const TOP = Number(process.env.BENCH_TOP ?? 25);
const from = Math.floor(COPIES / 3);
const dir = mkdtempSync(join(tmpdir(), 'nettrace-collector-profile-'));
try {
  const out = execFileSync(
    process.execPath,
    [
      join(root, 'bench', 'apps', 'collector-replay.mjs'),
      process.env.BENCH_DIST ?? join(root, 'dist'),
      String(COPIES),
      'stages',
      'snapshot',
    ],
    {
      env: { ...process.env, BENCH_PROFILE: dir, BENCH_PROFILE_FROM: String(from) },
      encoding: 'utf8',
    },
  );
  const { requests } = JSON.parse(out.trim().split('\n').pop());
  for (const [stage, covered] of [
    ['apply', requests - from * (requests / COPIES)],
    ['save', requests],
    ['snapshot', requests],
  ]) {
    const a = analyze([join(dir, `${stage}.cpuprofile`)], { focus: 'core.cjs' });
    const rows = a.selfAll.filter(([name]) => !name.startsWith('dispatch'));
    const busy = rows.reduce((n, [, us]) => n + us, 0);
    console.log(`\n${stage}: ${(busy / covered).toFixed(2)} µs per request of busy time (${covered.toLocaleString('en-US')} requests)`);
    console.log('| function | µs per request | share |\n|---|---:|---:|');
    for (const [name, us] of rows.slice(0, TOP))
      console.log(`| ${name} | ${(us / covered).toFixed(3)} | ${((100 * us) / busy).toFixed(1)}% |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
