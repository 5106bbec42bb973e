// Issue 53: the summary by route and the comparison of two 100,000-request traces, each read
// streaming. Two synthetic traces (bench/lib/routeTrace.mjs: four routes, the second with one
// route 150 ms slower and no keep-alive) are written, then `nettrace show --summary --json A`
// and `nettrace diff --json A B` run under /usr/bin/time: wall seconds, CPU and peak RSS.
// Floor: the diff's peak RSS at most 50 MiB over plain `nettrace show` of the larger file (which
// holds its connection records), i.e. the numbers per request, never the requests themselves.
//
//   node bench/summary.mjs            BENCH_SUMMARY_N=300000 node bench/summary.mjs [--no-write]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, machine, machineLine, writeSection } from './lib/common.mjs';
import { writeRouteTrace } from './lib/routeTrace.mjs';

const cli = join(root, 'dist', 'cli.cjs');
const n = Number(process.env.BENCH_SUMMARY_N ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'nettrace-summary-bench-'));
const m = machine();

/** Runs a command under /usr/bin/time: seconds, peak RSS (KiB), CPU seconds, exit code, stdout length. */
function timed(args) {
  return new Promise((resolve) => {
    const child = spawn('/usr/bin/time', ['-f', 'TIME %e %M %U %S', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => {
      const t = /TIME ([\d.]+) (\d+) ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      resolve({ s: t ? Number(t[1]) : NaN, kib: t ? Number(t[2]) : NaN, cpu: t ? Number(t[3]) + Number(t[4]) : NaN, code, out });
    });
  });
}

try {
  const a = join(dir, 'a.json');
  const b = join(dir, 'b.json');
  await writeRouteTrace(a, { n, seed: 1 });
  await writeRouteTrace(b, { n, seed: 2, slow: { '/users/:id': 150 }, perConn: 1 });
  const mib = (f) => (statSync(f).size / 1048576).toFixed(0);
  const lines = [`${n.toLocaleString('en')} requests per trace, files ${mib(a)} and ${mib(b)} MiB; ${machineLine(m)}`, ''];
  const summary = await timed([process.execPath, cli, 'show', '--summary', '--json', a]);
  const routes = summary.code === 0 ? JSON.parse(summary.out).routes.length : NaN;
  lines.push(
    `- show --summary: ${summary.s.toFixed(1)} s, CPU ${summary.cpu.toFixed(1)} s, peak RSS ${Math.round(summary.kib / 1024)} MiB, ${routes} routes, exit ${summary.code}`,
  );
  const diff = await timed([process.execPath, cli, 'diff', '--json', a, b]);
  const notable = diff.code === 0 ? JSON.parse(diff.out).routes.filter((r) => r.notable).length : NaN;
  lines.push(
    `- diff: ${diff.s.toFixed(1)} s, CPU ${diff.cpu.toFixed(1)} s, peak RSS ${Math.round(diff.kib / 1024)} MiB, ${notable} notable routes, exit ${diff.code}`,
  );
  const show = await timed([process.execPath, cli, 'show', b]);
  lines.push(
    `- for reference, show (table) of the second file: ${show.s.toFixed(1)} s, peak RSS ${Math.round(show.kib / 1024)} MiB; the diff ${Math.round((diff.kib - show.kib) / 1024)} MiB over it`,
  );
  console.log(lines.join('\n'));
  if (!process.argv.includes('--no-write')) writeSection('Summary by route and diff — issue 53', lines.join('\n'));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
