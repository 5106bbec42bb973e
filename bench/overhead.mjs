// Issue 2, overhead floor: wall time of 2,000 keep-alive requests, sequential and at concurrency
// 50, with `http` (keep-alive Agent) and `fetch`, against a local server in its own process, in
// three client conditions, each its own client process:
//   untraced  plain `node`
//   nettrace  dist/preload.cjs with default options, streaming to a real collector
//             (startCollector from dist/core.cjs) running in THIS process, not the client
//   otel      @opentelemetry/instrumentation-http + instrumentation-undici, NodeTracerProvider,
//             BatchSpanProcessor, discarding exporter (bench/apps/otel-preload.cjs)
// Every cell runs BENCH_RUNS times (default 5); conditions are rotated within each round so drift
// and noise spread evenly; warm-up requests are excluded. Reports medians and ratios to untraced,
// checks that Net Trace recorded every request the client made, and writes the table to
// bench/RESULTS.md.
//
//   node bench/overhead.mjs                 (npm run bench builds first)
//   BENCH_RUNS=7 BENCH_REQUESTS=2000 BENCH_CONCURRENCY=50 BENCH_WARMUP=200 node bench/overhead.mjs
//   After the timed runs, one extra untimed round of Net Trace clients runs under `--cpu-prof` and
//   the preload's hot spots are summarized (bench/lib/cpuprofile.mjs) into the report:
//   node bench/overhead.mjs --profile DIR   keep those profiles in DIR (default: a temp dir, removed)
//   node bench/overhead.mjs --no-profile    skip the profiling round
//   node bench/overhead.mjs --no-write      do not touch bench/RESULTS.md
//   BENCH_PIN=1 node bench/overhead.mjs     pin the client to CPU 0, the server and this process
//                                           (the collector) to CPU 1 (diagnostic: client cost
//                                           without the collector competing for its core)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  appsDir,
  fmt,
  loadCore,
  machine,
  machineLine,
  median,
  nodeOptions,
  otelPreloadPath,
  preloadPath,
  runNode,
  startServer,
  writeSubsection,
  SECTION,
} from './lib/common.mjs';
import { analyze, summarizeProfiles } from './lib/cpuprofile.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const N = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONC = Number(process.env.BENCH_CONCURRENCY ?? 50);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 200);
const FLOOR = 1.1;
const argv = process.argv.slice(2);
const profIdx = argv.indexOf('--profile');
const keepProfiles = profIdx >= 0;
const profileDir = argv.includes('--no-profile')
  ? undefined
  : keepProfiles
    ? resolve(argv[profIdx + 1] ?? 'bench-profiles')
    : mkdtempSync(join(tmpdir(), 'nettrace-bench-prof-'));
const PROFILE_RUNS = 2;
const noWrite = argv.includes('--no-write');

const workloads = [
  { name: 'http seq', client: 'http', mode: 'seq' },
  { name: `http conc${CONC}`, client: 'http', mode: 'conc' },
  { name: 'fetch seq', client: 'fetch', mode: 'seq' },
  { name: `fetch conc${CONC}`, client: 'fetch', mode: 'conc' },
];
const conditions = ['untraced', 'nettrace', 'otel'];

const m = machine(); // before pinning, so nproc is the machine's
const PIN = process.env.BENCH_PIN === '1';
if (PIN) execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
const core = loadCore();
const server = await startServer({ cpus: PIN ? '1' : undefined });
console.error(`machine: ${machineLine(m)}${PIN ? ' (pinned: client CPU 0, server + collector CPU 1)' : ''}`);
console.error(
  `server: ${server.url} (pid ${server.pid}); ${RUNS} runs × ${workloads.length} workloads × ${conditions.length} conditions, ${N} requests (+${WARMUP} warm-up) each`,
);

/** results[workload][condition] = [{ms, ...}] */
const results = Object.fromEntries(workloads.map((w) => [w.name, Object.fromEntries(conditions.map((c) => [c, []]))]));
const checks = []; // Net Trace recording checks, one per traced run
const otelChecks = [];

const profDirOf = (cond, w) => join(profileDir, cond, w.name.replace(/\s+/g, '-'));

async function runCell(cond, w, run, profile = false) {
  const args = [join(appsDir, 'client.mjs'), w.client, w.mode, String(N), String(CONC), String(WARMUP), server.url];
  const env = {};
  let collector;
  if (cond === 'nettrace') {
    collector = await core.startCollector({ description: `bench ${w.name} run ${run}` });
    env.NODE_OPTIONS = nodeOptions([preloadPath]);
    env.NETTRACE_CONFIG = JSON.stringify({ ipcPath: collector.ipcPath });
  } else if (cond === 'otel') {
    env.NODE_OPTIONS = nodeOptions([otelPreloadPath]);
  }
  const nodeArgs = [];
  if (profile) {
    const dir = profDirOf(cond, w);
    mkdirSync(dir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  const r = await runNode([...nodeArgs, ...args], { env, cpus: PIN ? '0' : undefined }).done;
  const out = r.lines.find((l) => typeof l.ms === 'number');
  if (r.code !== 0 || !out) {
    await collector?.close();
    throw new Error(`${cond} ${w.name}: client exited ${r.code ?? r.signal}\n${r.stderr}`);
  }
  if (collector && profile) await collector.close();
  else if (collector) {
    const idle = await collector.waitForIdle({ timeoutMs: 10_000 });
    const trace = collector.session.snapshot();
    const reqs = trace.httpRequests.filter((q) => q.pid === out.pid);
    const ok = reqs.filter((q) => q.respStatusCode === 200 && q.respDoneAt !== undefined && !q.reqError);
    checks.push({
      workload: w.name,
      run,
      expected: N + WARMUP,
      recorded: reqs.length,
      completed: ok.length,
      reused: reqs.filter((q) => q.reusedConn === true).length,
      tcpConns: trace.tcpConns.filter((t) => t.pid === out.pid).length,
      dials: trace.dials.filter((d) => d.pid === out.pid).length,
      withTimings: reqs.filter((q) => q.timings && typeof q.timings.wait === 'number').length,
      withInitiator: reqs.filter((q) => q.initiator?.frames?.length).length,
      dropped: trace.stats?.droppedEvents ?? 0,
      idle,
    });
    await collector.close();
  }
  if (cond === 'otel' && !profile) otelChecks.push({ workload: w.name, run, expected: N + WARMUP, spans: out.spans });
  return out;
}

for (let run = 0; run < RUNS; run++) {
  for (const [wi, w] of workloads.entries()) {
    const k = (run + wi) % conditions.length;
    const order = [...conditions.slice(k), ...conditions.slice(0, k)];
    for (const cond of order) {
      const out = await runCell(cond, w, run);
      results[w.name][cond].push(out);
      console.error(
        `run ${run + 1}/${RUNS}  ${w.name.padEnd(13)} ${cond.padEnd(9)} ${fmt(out.ms, 1).padStart(8)} ms  cpu ${fmt(out.cpuMs, 1).padStart(8)} ms`,
      );
    }
  }
}

// Untimed profiling round: where does the traced client's time go?
const profiles = [];
if (profileDir) {
  console.error(`profiling: ${PROFILE_RUNS} Net Trace client(s) per workload under --cpu-prof (not timed)`);
  for (const w of workloads) {
    for (let i = 0; i < PROFILE_RUNS; i++) await runCell('nettrace', w, `profile ${i}`, true);
    const dir = profDirOf('nettrace', w);
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(dir, f));
    profiles.push({ w, files, a: analyze(files, { focus: 'preload.cjs' }), text: summarizeProfiles(files, { focus: 'preload.cjs' }) });
  }
}
await server.stop();

// ---- report -------------------------------------------------------------------------------
const rows = workloads.map((w) => {
  const med = (c, f) => median(results[w.name][c].map((x) => x[f]));
  const [u, t, o] = conditions.map((c) => med(c, 'ms'));
  const [cu, ct, co] = conditions.map((c) => med(c, 'cpuMs'));
  return { name: w.name, u, t, o, rt: t / u, ro: o / u, cu, ct, co, all: results[w.name] };
});
const floorOk = rows.every((r) => r.rt <= FLOOR);
const beatsOtel = rows.every((r) => r.t < r.o);
const recordedAll = checks.every((c) => c.recorded === c.expected && c.completed === c.expected);

const table = [
  `| workload (${N} req, +${WARMUP} warm-up) | untraced ms | nettrace ms (ratio) | otel ms (ratio) |`,
  '|---|---:|---:|---:|',
  ...rows.map(
    (r) => `| ${r.name} | ${fmt(r.u)} | ${fmt(r.t)} (${fmt(r.rt, 2)}×)${r.rt > FLOOR ? ' ✗' : ''} | ${fmt(r.o)} (${fmt(r.ro, 2)}×) |`,
  ),
].join('\n');

const cpuTable = [
  '| workload | untraced client CPU ms | nettrace client CPU ms (ratio) | otel client CPU ms (ratio) |',
  '|---|---:|---:|---:|',
  ...rows.map((r) => `| ${r.name} | ${fmt(r.cu)} | ${fmt(r.ct)} (${fmt(r.ct / r.cu, 2)}×) | ${fmt(r.co)} (${fmt(r.co / r.cu, 2)}×) |`),
].join('\n');

const spread = rows
  .map((r) => `- ${r.name}: ` + conditions.map((c) => `${c} [${r.all[c].map((x) => fmt(x.ms)).join(', ')}]`).join('; '))
  .join('\n');

const recTable = [
  '| workload | runs | requests made | recorded by Net Trace | completed (200, respDoneAt) | reusedConn | tcpConns | dials | with timings | with initiator | dropped events |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...workloads.map((w) => {
    const cs = checks.filter((c) => c.workload === w.name);
    const same = (f) => {
      const vals = [...new Set(cs.map(f))];
      return vals.length === 1 ? String(vals[0]) : `${Math.min(...vals)}–${Math.max(...vals)}`;
    };
    return `| ${w.name} | ${cs.length} | ${same((c) => c.expected)} | ${same((c) => c.recorded)} | ${same((c) => c.completed)} | ${same((c) => c.reused)} | ${same((c) => c.tcpConns)} | ${same((c) => c.dials)} | ${same((c) => c.withTimings)} | ${same((c) => c.withInitiator)} | ${same((c) => c.dropped)} |`;
  }),
].join('\n');
const otelSpans = workloads
  .map((w) => {
    const cs = otelChecks.filter((c) => c.workload === w.name);
    return `${w.name}: ${[...new Set(cs.map((c) => c.spans))].join('/')} spans for ${N + WARMUP} requests`;
  })
  .join('; ');

const verdict = [
  `- Net Trace default ≤ ${FLOOR.toFixed(2)}× untraced in every cell: **${floorOk ? 'met' : 'NOT met'}**` +
    (floorOk
      ? ''
      : ` (over: ${rows
          .filter((r) => r.rt > FLOOR)
          .map((r) => `${r.name} ${fmt(r.rt, 2)}×`)
          .join(', ')})`),
  `- Net Trace cheaper than OpenTelemetry in every cell: **${beatsOtel ? 'met' : 'NOT met'}**` +
    (beatsOtel
      ? ''
      : ` (not cheaper: ${rows
          .filter((r) => r.t >= r.o)
          .map((r) => r.name)
          .join(', ')})`),
  `- Same two floors on client CPU time (below), which the collector and server sharing the 2 cores do not disturb: ≤ ${FLOOR.toFixed(2)}× in ${rows.filter((r) => r.ct / r.cu <= FLOOR).length}/${rows.length} cells, cheaper than OpenTelemetry in ${rows.filter((r) => r.ct < r.co).length}/${rows.length} cells`,
  `- Net Trace recorded every request the client made (collector snapshot count = requests made, all completed): **${recordedAll ? 'yes' : 'NO'}**`,
].join('\n');

let profileText = '';
if (profiles.length) {
  const short = (label) => label.replace(/ preload\.cjs:(\d+)$/, ' (dist/preload.cjs:$1)');
  const lines = profiles.map(({ w, a }) => {
    const pct = (us) => `${((100 * us) / a.busy).toFixed(1)}%`;
    const top = a.own
      .slice(0, 6)
      .map(([k, v]) => `${short(k)} ${pct(v)}`)
      .join(', ');
    return `| ${w.name} | ${(a.busy / 1000).toFixed(0)} | ${pct(a.inFocus)} | ${top} |`;
  });
  profileText = `CPU profile of the Net Trace client (${PROFILE_RUNS} extra untimed runs per workload under \`node --cpu-prof\`, whole
process lifetime incl. start-up and warm-up; summarized by \`bench/lib/cpuprofile.mjs\`). "In preload" = samples with a
dist/preload.cjs frame on the stack, charged to the deepest such frame together with the builtins it calls (JSON.stringify,
Buffer, Error.captureStackTrace, fs.writeSync...), but not the original http/undici/net code a wrapper calls through.

| workload | busy ms | in preload | top preload functions (% of busy CPU) |
|---|---:|---:|---|
${lines.join('\n')}`;
}

const body = `Machine: ${machineLine(m)}

Run: \`npm run bench\` (or \`node bench/overhead.mjs\` after \`node scripts/build.mjs\`). Server: \`bench/apps/server.mjs\`
in its own process on 127.0.0.1, ${'~'}100-byte JSON responses, keep-alive. Client: \`bench/apps/client.mjs\`, one process per
cell and run; \`http\` with \`new http.Agent({keepAlive: true, maxSockets: ${CONC}})\`, \`fetch\` with Node's global dispatcher.
Conditions: **untraced**; **nettrace** = \`--require dist/preload.cjs\` with default options (\`NETTRACE_CONFIG={"ipcPath":…}\`),
events streamed to a real collector (\`startCollector\`) in the benchmark's parent process; **otel** =
\`bench/apps/otel-preload.cjs\`: \`@opentelemetry/instrumentation-http\` + \`@opentelemetry/instrumentation-undici\`
via \`registerInstrumentations\`, \`NodeTracerProvider\` (sdk-trace-node 2.x) with a \`BatchSpanProcessor\` and an exporter
that counts and discards spans. Median of ${RUNS} runs per cell (conditions rotated each round), ${WARMUP} warm-up
requests per process excluded from the timing. Same 2-core box runs server, client and (for nettrace) collector.
A load average above nproc (in the machine line) means other work shared the box; wall times then scatter (see every
run below), and client CPU time (second table) is the steadier measure of what the tracer costs the debuggee.

${table}

${verdict}

Client process CPU time (user+system) during the timed requests, median — the debuggee's own cost, independent of
the collector and server competing for the same 2 cores:

${cpuTable}

Every run (wall ms):
${spread}

What each recorded (Net Trace, from the collector's snapshot, per run; warm-up requests included in "made"):

${recTable}

OpenTelemetry: ${otelSpans}. One span per request with method, URL, status, peer address/port and start/end
time only: no DNS, connect or TLS phases, no connection records, nothing saying whether a keep-alive connection was
reused, no per-phase timings, no call site. Net Trace records each request with request/response headers, send/
wait/receive timings (HAR), the connection it used and whether it was reused, each TCP connection and dial (DNS
lookups and connect attempts), and the initiator stack.${profileText ? `\n\n${profileText}` : ''}`;

console.log(`\n${SECTION}: overhead — ${machineLine(m)}\n`);
console.log(table);
console.log('');
console.log(verdict);
console.log('');
console.log(cpuTable);
console.log('');
console.log(recTable);
console.log(`\nOpenTelemetry: ${otelSpans}`);
if (!noWrite) {
  writeSubsection('Overhead', body);
  console.error(`\nwrote bench/RESULTS.md (section "${SECTION}", subsection "Overhead")`);
}

for (const { w, files, text } of profiles) {
  console.log(`\n== CPU profile, Net Trace client, ${w.name} (${files.length} profiles) ==`);
  console.log(text);
}
if (profileDir && !keepProfiles) rmSync(profileDir, { recursive: true, force: true });
else if (profileDir) console.error(`profiles kept in ${profileDir}`);
