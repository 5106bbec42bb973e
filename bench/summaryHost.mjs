// Issue 53, "works at scale" in the panel: the extension host's part of the Summary view and of
// "Compare With…" on 100,000-request traces, in one Node process with a 5 ms timer watching its
// event loop (the longest stretch it was blocked, the total, and the process's peak RSS). Steps,
// as the extension runs them (dist/core.cjs, the functions src/extension/ calls):
//   open      "Open Trace File": readTraceFileAsync, then each request enriched (TraceStore.addFileAsync);
//             the trace's rows reach the panel, which computes the summary itself
//   summary   the Summary view's summarize() of the 100,000 requests (the panel computes it in
//             its webview; measured here for its time, it does not run on the host)
//   compare   "Compare With…" a trace file: the baseline file streamed into its route samples,
//             the shown trace's route samples, compared (src/trace/summaryStream.ts)
//
//   node bench/summaryHost.mjs        BENCH_SUMMARY_N=300000 node bench/summaryHost.mjs
// It prints its lines; their figures go in RESULTS.md's issue 53 rows by hand.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, machine, machineLine } from './lib/common.mjs';
import { writeRouteTrace } from './lib/routeTrace.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const n = Number(process.env.BENCH_SUMMARY_N ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'nettrace-summary-host-'));

/**
 * Runs `fn` while a 5 ms timer measures the loop: wall ms; the longest stretch the loop did not
 * turn (ms), and the CPU time the process spent in its longest such stretch (on a loaded machine a
 * stretch also holds the time the process waited for a core: the CPU time is what it blocked);
 * stretches over 100 ms; peak RSS (MiB).
 */
async function watched(fn) {
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let longest = 0;
  let longestCpu = 0;
  let over100 = 0;
  let peak = process.memoryUsage.rss();
  const tick = () => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    const gap = now - last - 5;
    longest = Math.max(longest, gap);
    longestCpu = Math.max(longestCpu, (cpu.user + cpu.system) / 1000);
    if (gap > 100) over100++;
    last = now;
    lastCpu = process.cpuUsage();
    peak = Math.max(peak, process.memoryUsage.rss());
  };
  const timer = setInterval(tick, 5);
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  tick();
  clearInterval(timer);
  return { value, ms, longest: Math.max(0, longest), longestCpu, over100, peakMiB: Math.round(peak / 1048576) };
}

const line = (name, r, extra = '') =>
  `- ${name}: ${(r.ms / 1000).toFixed(1)} s, loop blocked at most ${Math.round(r.longest)} ms (CPU ${Math.round(r.longestCpu)} ms; ${r.over100} stretches > 100 ms), peak RSS ${r.peakMiB} MiB${extra}`;

try {
  const a = join(dir, 'a.json');
  const b = join(dir, 'b.json');
  await writeRouteTrace(a, { n, seed: 1 });
  await writeRouteTrace(b, { n, seed: 2, slow: { '/users/:id': 150 }, perConn: 1 });
  global.gc?.();
  const mib = (f) => (statSync(f).size / 1048576).toFixed(0);
  const lines = [`${n.toLocaleString('en')} requests per trace, files ${mib(a)} and ${mib(b)} MiB; ${machineLine(machine())}`, ''];

  // The shown trace, as "Open Trace File" holds it: read, then enriched in place (TraceStore.addFile).
  const read = await watched(() => core.readTraceFileAsync(b));
  const shown = read.value;
  lines.push(line('Open Trace File, read (readTraceFileAsync)', read));
  const enrich = await watched(() => core.enrichInPlace(shown));
  lines.push(line('Open Trace File, each request enriched in place (TraceStore.addFileAsync)', enrich));
  const summary = await watched(() => core.summarize(shown.httpRequests, shown.incomingRequests ?? []));
  lines.push(line("the Summary view's summarize() (the webview's work)", summary, `, ${summary.value.routes.length} routes`));
  const compare = await watched(() => core.compareWithBaseline('shown', shown, { path: a }, 'a.json'));
  const first = compare.value.routes.find((r) => r.sentence);
  lines.push(line('Compare With… a 100,000-request file (stream it, compare)', compare, `; first: ${first?.sentence ?? 'none'}`));
  console.log(lines.join('\n'));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
