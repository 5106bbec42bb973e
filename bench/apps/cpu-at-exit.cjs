// Loaded with `node -r` into the process being measured (the collector: `dist/cli.cjs run`): at
// exit, writes that process's own user+system CPU (µs), wall time since start, peak RSS (KiB) and
// GC time (ms) as one JSON object to the file named by BENCH_CPU_OUT; on Linux also each thread's
// CPU (ms, at the kernel's clock-tick resolution) by thread name, to tell the main thread's share
// from V8's compiler and GC threads and libuv's pool.
const { readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { performance, PerformanceObserver } = require('node:perf_hooks');
let gcMs = 0;
try {
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  obs.observe({ entryTypes: ['gc'] });
} catch {}
/** CPU ms per thread name (threads of one name summed), from /proc; {} elsewhere. */
function threads() {
  const by = {};
  try {
    for (const t of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = ((Number(f[11]) + Number(f[12])) * 1000) / 100;
      const key = t === String(process.pid) ? 'main' : name;
      by[key] = (by[key] ?? 0) + ms;
    }
  } catch {}
  return by;
}
process.on('exit', () => {
  const out = process.env.BENCH_CPU_OUT;
  if (!out) return;
  const u = process.cpuUsage();
  const threadMs = threads();
  writeFileSync(
    out,
    JSON.stringify({
      cpuUs: u.user + u.system,
      userUs: u.user,
      systemUs: u.system,
      wallMs: performance.now(),
      maxRssKiB: process.resourceUsage().maxRSS,
      gcMs,
      threadMs,
    }),
  );
});
