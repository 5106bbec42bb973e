// bench/loop-monitor.mjs's idle-wait program: one GET to <url>, which the benchmark's server holds
// for a few seconds, so the request is in flight (and the tracer's event-loop monitor samples)
// while the program does nothing else. Prints {ms, cpuMs}: wall and this process's user+system
// CPU from just before the request to its response's end.
import http from 'node:http';

const url = process.argv[2];
const t0 = performance.now();
const c0 = process.cpuUsage();
http.get(url, (res) => {
  res.resume();
  res.on('end', () => {
    const c = process.cpuUsage(c0);
    console.log(JSON.stringify({ ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 }));
  });
});
