// The cost of the preload's event-loop monitor (src/preload/clock/loopLag.ts, issue 39 item 1): Net
// Trace with its default options, with the monitor (as built) and without it
// (NETTRACE_LOOP_MONITOR=0), in the same run, against the same collector, the conditions rotated
// in every round so drift spreads evenly. Two workloads:
//   busy   bench/apps/client.mjs, `http` and `fetch`, sequential keep-alive requests to
//          bench/apps/server.mjs (its own process): a request is always in flight, so the monitor
//          tracks every request (a Set add and delete) and its 10 ms timer runs throughout;
//          client CPU µs per request and wall ms, medians of RUNS rounds.
//   idle   bench/apps/held-request.mjs: one request the server in this process holds HOLD_MS, the
//          program doing nothing else: what the timer alone costs, as client CPU ms per second.
// Writes the "Event-loop monitor — issue 39" section of test-results/bench/runs.md (--no-write: print only).
//   node bench/loop-monitor.mjs            (after npm run build)
//   BENCH_RUNS=7 BENCH_REQUESTS=3000 node bench/loop-monitor.mjs
import http from 'node:http';
import { join } from 'node:path';
import {
  appsDir,
  fmt,
  loadCore,
  machine,
  machineLine,
  median,
  nodeOptions,
  preloadPath,
  runNode,
  startServer,
  writeSection,
} from './lib/common.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 200);
const HOLD_MS = Number(process.env.BENCH_HOLD_MS ?? 3000);
const write = !process.argv.includes('--no-write');

const core = loadCore();
const m0 = machine();
const server = await startServer();
const collector = await core.startCollector({ description: 'loop-monitor bench' });
const held = http.createServer((req, res) => setTimeout(() => res.end('ok'), HOLD_MS));
await new Promise((r) => held.listen(0, '127.0.0.1', r));
const heldUrl = `http://127.0.0.1:${held.address().port}/held`;

const CONDITIONS = {
  monitor: {},
  'no monitor': { NETTRACE_LOOP_MONITOR: '0' },
};
const env = (extra) => ({
  NODE_OPTIONS: nodeOptions([preloadPath]),
  NETTRACE_CONFIG: JSON.stringify({ ipcPath: collector.ipcPath }),
  ...extra,
});

async function once(args, extra) {
  let line;
  const { child, done } = runNode(args, { env: env(extra), onLine: (o) => (line ??= o) });
  child.stdin.end();
  const r = await done;
  if (r.code !== 0 || !line || line.failures) throw new Error(`${args.join(' ')}: ${r.stderr.slice(-500)}`);
  return line;
}

/** Untraced programs that only wait HOLD_MS: with nothing else, and with a bare 20 ms timer. */
const wait = (timer) =>
  `const c0 = process.cpuUsage(), t0 = performance.now();${timer ? ' const t = setTimeout(function tick() { t.refresh(); }, 20); t.unref();' : ''}
setTimeout(() => { const c = process.cpuUsage(c0); console.log(JSON.stringify({ ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 })); }, ${HOLD_MS});`;
const BARE = { none: wait(false), timer: wait(true) };
const bare = new Map();
const busy = new Map();
const idle = new Map();
for (let run = 0; run < RUNS; run++) {
  for (const client of ['http', 'fetch']) {
    for (const [name, extra] of Object.entries(CONDITIONS)) {
      const line = await once([join(appsDir, 'client.mjs'), client, 'seq', String(REQUESTS), '1', String(WARMUP), server.url], extra);
      const k = `${client}/${name}`;
      if (!busy.has(k)) busy.set(k, []);
      busy.get(k).push({ us: (line.cpuMs * 1000) / REQUESTS, ms: line.ms });
    }
  }
  for (const [name, extra] of Object.entries(CONDITIONS)) {
    const line = await once([join(appsDir, 'held-request.mjs'), heldUrl], extra);
    if (!idle.has(name)) idle.set(name, []);
    idle.get(name).push((line.cpuMs / line.ms) * 1000);
  }
  // The wake-up alone: an untraced program whose only work is an unref'd SAMPLE_MS timer.
  for (const [name, code] of Object.entries(BARE)) {
    const line = await once(['-e', code], { NODE_OPTIONS: '', NETTRACE_CONFIG: '' });
    if (!bare.has(name)) bare.set(name, []);
    bare.get(name).push((line.cpuMs / line.ms) * 1000);
  }
  console.error(`round ${run + 1}/${RUNS} done`);
}
const m1 = machine();
await collector.close?.();
held.close();
await server.stop();

const rows = [];
for (const client of ['http', 'fetch']) {
  const on = busy.get(`${client}/monitor`);
  const off = busy.get(`${client}/no monitor`);
  const us = (xs) => median(xs.map((x) => x.us));
  const ms = (xs) => median(xs.map((x) => x.ms));
  rows.push(
    `| ${client} seq, ${REQUESTS} requests | ${fmt(us(off), 1)} | ${fmt(us(on), 1)} | ${fmt(us(on) - us(off), 1)} | ${fmt(Math.min(...off.map((x) => x.us)), 1)}–${fmt(Math.max(...off.map((x) => x.us)), 1)} | ${fmt(ms(off))} | ${fmt(ms(on))} | ${fmt(ms(on) / ms(off), 3)}× |`,
  );
}
const idleOn = median(idle.get('monitor'));
const idleOff = median(idle.get('no monitor'));
const body = `Measured by \`node bench/loop-monitor.mjs\` (after \`npm run build\`): Net Trace with default options, the
event-loop monitor on (as built) against \`NETTRACE_LOOP_MONITOR=0\`, same run and collector, conditions rotated in
each of ${RUNS} rounds; medians. Busy: \`bench/apps/client.mjs\` sequential keep-alive requests (${WARMUP} warm-up) to
\`bench/apps/server.mjs\`, a request always in flight, so the monitor tracks each one and its 20 ms timer runs
throughout. Idle: \`bench/apps/held-request.mjs\`, one request held ${HOLD_MS} ms by the server, the program doing
nothing else (the timer alone).

${machineLine(m0, m1)}

| workload | client CPU µs/req, no monitor | with monitor | difference | spread of the rounds (no monitor) | wall ms, no monitor | with monitor | wall ratio |
|---|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

| idle wait (one request in flight ${HOLD_MS} ms) | client CPU ms per second, no monitor | with monitor | difference |
|---|---:|---:|---:|
| held-request.mjs | ${fmt(idleOff, 2)} | ${fmt(idleOn, 2)} | ${fmt(idleOn - idleOff, 2)} |
| untraced, waiting ${HOLD_MS} ms: nothing / a bare unref'd 20 ms timer | ${fmt(median(bare.get('none')), 2)} | ${fmt(median(bare.get('timer')), 2)} | ${fmt(median(bare.get('timer')) - median(bare.get('none')), 2)} |

Per request the monitor adds a Set add and delete of the request's id and a branch or two; the busy rows'
difference is to be read against the spread of the rounds on the same machine (it is inside it here).

The last row is the wake-up alone (50 a second), without Net Trace: most of what the monitor costs an idle
program is what any 20 ms timer costs on this machine (a wake-up of an idle process is expensive on this VM);
its own work per tick (two clock reads, \`eventLoopUtilization()\`) is the rest. The monitor runs only while a
request is in flight.

Per-round samples (CPU µs/req, monitor / no monitor): ${['http', 'fetch']
  .map(
    (c) =>
      `${c} ${busy
        .get(`${c}/monitor`)
        .map((x) => fmt(x.us, 1))
        .join(', ')} / ${busy
        .get(`${c}/no monitor`)
        .map((x) => fmt(x.us, 1))
        .join(', ')}`,
  )
  .join('; ')}; idle ms/s ${idle
  .get('monitor')
  .map((x) => fmt(x, 2))
  .join(', ')} / ${idle
  .get('no monitor')
  .map((x) => fmt(x, 2))
  .join(', ')}.`;
console.log(body);
if (write) writeSection('Event-loop monitor — issue 39', body);
process.exit(0);
