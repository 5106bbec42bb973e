// Issue 40's memory floor for the collector: ≤ 50 MB extra after 100,000 requests. The realistic
// mix's recorded input (bench/apps/collector-replay.mjs with BENCH_MEMORY=1) applied into a Session
// until it holds ~1,000 (BENCH_N0) and ~100,000 (BENCH_N) requests, one snapshot taken (so the
// derived fields a Session keeps per request are in), then a full collection: the process's
// heapUsed and RSS, and the difference between the two sizes. Each size in its own process.
// BENCH_BASELINE=<dist dir> measures that build the same way. Prints only.
import { join } from 'node:path';
import { root, runNode } from './lib/common.mjs';

const N0 = Number(process.env.BENCH_N0 ?? 1000);
const N = Number(process.env.BENCH_N ?? 100000);
const PER_COPY = 300; // requests in test/fixtures/streams/mixed.json.gz
/** The floor: 50 MB, in bytes (47.7 MiB; the figures print in MiB). */
const FLOOR_BYTES = 50_000_000;
const app = join(root, 'bench', 'apps', 'collector-replay.mjs');
const builds = [{ label: 'this build', dir: join(root, 'dist') }];
if (process.env.BENCH_BASELINE) builds.push({ label: 'baseline', dir: process.env.BENCH_BASELINE });

const MB = (b) => (b / 1024 / 1024).toFixed(1);
for (const b of builds) {
  const at = [];
  for (const n of [N0, N]) {
    const copies = Math.max(1, Math.round(n / PER_COPY));
    const r = await runNode(['--expose-gc', app, b.dir, String(copies)], { env: { BENCH_MEMORY: '1' }, keepStdout: true }).done;
    if (r.code !== 0) throw new Error(`replay failed (${r.code}): ${r.stderr.slice(-1000)}`);
    at.push(r.lines.find((l) => l.heapUsed !== undefined));
  }
  const [a, z] = at;
  const extra = z.heapUsed - a.heapUsed;
  console.log(
    `${b.label}: ${a.requests} requests heapUsed ${MB(a.heapUsed)} MiB, RSS ${MB(a.rss)} MiB; ${z.requests} requests heapUsed ${MB(z.heapUsed)} MiB, RSS ${MB(z.rss)} MiB; ` +
      `extra heapUsed ${MB(extra)} MiB (${Math.round(extra / (z.requests - a.requests))} B per request), RSS ${MB(z.rss - a.rss)} MiB: ` +
      `${extra <= FLOOR_BYTES ? 'pass' : 'FAIL'} (≤ 50 MB = ${MB(FLOOR_BYTES)} MiB)`,
  );
}
