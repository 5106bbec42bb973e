// Loaded with `node -r` into the program a benchmark times (bench/tools/run-phases.mjs): appends
// to the file named by BENCH_STAMP_OUT one JSON line when the process starts (its performance
// timeOrigin: when Node began, in wall-clock ms) and one at its 'exit' event. Changes nothing else.
const { performance } = require('node:perf_hooks');
const { appendFileSync } = require('node:fs');
const out = process.env.BENCH_STAMP_OUT;
if (out) {
  appendFileSync(out, JSON.stringify({ pid: process.pid, origin: performance.timeOrigin }) + '\n');
  process.on('exit', () =>
    appendFileSync(out, JSON.stringify({ pid: process.pid, exit: performance.timeOrigin + performance.now() }) + '\n'),
  );
}
