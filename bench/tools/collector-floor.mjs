// Issue 52: where the collector's CPU per request goes past warm-up, beside what the trace file's
// text alone costs. Runs bench/apps/collector-replay.mjs (the realistic mix's recorded stream
// applied COPIES times into one Session, then snapshot, trace file and table) at two sizes,
// BENCH_ROUNDS times each (default 7: one stage's rounds spread by ±2 µs; sizes alternating), with BENCH_FORMAT=1; prints the median
// CPU µs per request between the sizes (9,000 → 24,900 requests by default: BENCH_SMALL=30,
// BENCH_LARGE=83 copies of 300) for each stage and for the file's text alone: JSON.stringify of
// the requests in the trace file's batches, indented as the format is and compact, and their
// UTF-8 encoding. Not in the stages: decoding the preload's frames (the stream is recorded after
// it), which `bench/collector-cpu.mjs` measures with everything else. BENCH_DIST: another build's
// dist/ (default this checkout's). CPU time: run it on a quiet machine (the load moves every
// figure). Prints only.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { root } from '../lib/common.mjs';

const SMALL = Number(process.env.BENCH_SMALL ?? 30);
const LARGE = Number(process.env.BENCH_LARGE ?? 83);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const app = join(root, 'bench', 'apps', 'collector-replay.mjs');
const STAGES = ['apply', 'snapshot', 'save', 'table', 'formatIndented', 'formatCompact', 'formatFacts'];

const run = (copies) =>
  JSON.parse(
    execFileSync(process.execPath, [app, process.env.BENCH_DIST ?? join(root, 'dist'), String(copies), 'stages'], {
      env: { ...process.env, BENCH_FORMAT: '1' },
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop(),
  );
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const perRequest = Object.fromEntries(STAGES.map((s) => [s, []]));
let requests = [0, 0];
for (let r = 0; r < ROUNDS; r++) {
  let a, z;
  if (r % 2 === 0) [a, z] = [run(SMALL), run(LARGE)];
  else [z, a] = [run(LARGE), run(SMALL)];
  requests = [a.requests, z.requests];
  for (const s of STAGES) if (z[s] !== undefined) perRequest[s].push((z[s] - a[s]) / (z.requests - a.requests));
}
const f = (x) => x.toFixed(1);
const med = Object.fromEntries(STAGES.map((s) => [s, median(perRequest[s])]));
const own = med.apply + med.snapshot + med.save + med.table;
console.log(
  `Collector CPU µs per request, ${requests[0].toLocaleString('en-US')} → ${requests[1].toLocaleString('en-US')} requests, median of ${ROUNDS}`,
);
console.log('| stage | µs per request | runs |');
console.log('|---|---:|---|');
for (const s of ['apply', 'snapshot', 'save', 'table']) console.log(`| ${s} | ${f(med[s])} | ${perRequest[s].map(f).join(', ')} |`);
console.log(`| **the collector (apply to table)** | **${f(own)}** | |`);
console.log(
  `| the file's text alone, indented (as the format is) | ${f(med.formatIndented)} | ${perRequest.formatIndented.map(f).join(', ')} |`,
);
console.log(`| the file's text alone, compact | ${f(med.formatCompact)} | ${perRequest.formatCompact.map(f).join(', ')} |`);
if (perRequest.formatFacts.length)
  console.log(
    `| the file's text alone, format version 2 (compact, recorded fields only) | ${f(med.formatFacts)} | ${perRequest.formatFacts.map(f).join(', ')} |`,
  );
