// Issue 40, information: where the collector's CPU per request goes, stage by stage, without the
// IPC and the traced program — a recorded input stream (test/fixtures/streams/mixed.json.gz: the
// realistic mix's 300 requests, or BENCH_STREAM=<file> recorded the same way, see
// test/fixtures/streams/record.mjs) replayed into a Session: apply (TraceBuilder), snapshot
// (enrichRequest of every request), save (the trace file), table (the CLI's renderTrace); `again`,
// not in the total: a second snapshot right after (the derived fields kept per request, issue 40).
// Best of BENCH_RUNS (15) rounds per build. BENCH_BASELINE=<dist dir> replays into that build too,
// rounds alternating, and prints the ratio. Prints only; RESULTS.md is edited by hand.
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './lib/common.mjs';
import { readStream } from '../test/lib/replayStream.mjs';

const require = createRequire(import.meta.url);
const stream = readStream(process.env.BENCH_STREAM ?? join(root, 'test', 'fixtures', 'streams', 'mixed.json.gz'));
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const builds = [{ label: 'this build', dir: join(root, 'dist') }];
if (process.env.BENCH_BASELINE) builds.push({ label: 'baseline', dir: process.env.BENCH_BASELINE });
for (const b of builds) {
  b.core = require(join(b.dir, 'core.cjs'));
  b.best = {};
}
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const file = join(tmpdir(), `nettrace-stages-${process.pid}.json`);
let requests = 0;
for (let r = 0; r < RUNS; r++) {
  for (const b of r % 2 ? [...builds].reverse() : builds) {
    const ops = structuredClone(stream.ops);
    const m = {};
    let t = cpu();
    const s = new b.core.Session({ description: 'stages', beginAt: new Date(stream.beginAt), sourceMaps: false, changeIntervalMs: 1e9 });
    for (const o of ops) if (o.op !== 'flushChanges') s[o.op](...o.args);
    s.flushChanges();
    m.apply = cpu() - t;
    t = cpu();
    const trace = s.snapshot();
    m.snapshot = cpu() - t;
    t = cpu();
    await s.saveJson(file, trace);
    m.save = cpu() - t;
    t = cpu();
    // As `nettrace run` prints it (in pieces) when the build has writeTrace; the text is discarded.
    if (b.core.writeTrace) b.core.writeTrace(trace, { width: 120 }, () => {});
    else b.core.renderTrace(trace, { width: 120 });
    m.table = cpu() - t;
    m.total = m.apply + m.snapshot + m.save + m.table;
    // A second snapshot (the extension saving again, an export after a save): not in the total.
    t = cpu();
    s.snapshot();
    m.again = cpu() - t;
    requests = trace.httpRequests.length;
    for (const k in m) b.best[k] = Math.min(b.best[k] ?? Infinity, m[k] / requests);
    s.dispose();
  }
}
rmSync(file, { force: true });
console.log(`${requests} requests per round, best of ${RUNS} rounds, CPU µs per request:`);
const keys = Object.keys(builds[0].best);
console.log(['build'.padEnd(12), ...keys.map((k) => k.padStart(9))].join(' '));
for (const b of builds) console.log([b.label.padEnd(12), ...keys.map((k) => b.best[k].toFixed(1).padStart(9))].join(' '));
if (builds.length > 1)
  console.log(['ratio'.padEnd(12), ...keys.map((k) => `${(builds[0].best[k] / builds[1].best[k]).toFixed(2)}×`.padStart(9))].join(' '));
