// Loaded with `node -r` into the process being measured (the collector: `dist/cli.cjs run`): at
// exit, writes that process's own user+system CPU (µs), wall time since start, peak RSS (KiB) and
// GC time (ms) as one JSON object to the file named by BENCH_CPU_OUT.
const { writeFileSync } = require('node:fs');
const { performance, PerformanceObserver } = require('node:perf_hooks');
let gcMs = 0;
try {
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  obs.observe({ entryTypes: ['gc'] });
} catch {}
process.on('exit', () => {
  const out = process.env.BENCH_CPU_OUT;
  if (!out) return;
  const u = process.cpuUsage();
  writeFileSync(
    out,
    JSON.stringify({
      cpuUs: u.user + u.system,
      userUs: u.user,
      systemUs: u.system,
      wallMs: performance.now(),
      maxRssKiB: process.resourceUsage().maxRSS,
      gcMs,
    }),
  );
});
