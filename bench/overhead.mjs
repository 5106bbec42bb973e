// Overhead floors of issues 2 and 4, in one run. Each cell is one client process
// (bench/apps/client.mjs) making BENCH_REQUESTS requests (after BENCH_WARMUP warm-up requests, not
// timed) against a local HTTP server in its own process (bench/apps/server.mjs). Three groups of
// workloads, each with its own conditions and its own untraced baseline:
//
//   keep-alive, ~100-byte responses: `http` (keep-alive Agent) and `fetch`, sequential and at
//   concurrency 50, under
//     untraced   plain `node`
//     nettrace   dist/preload.cjs with default options, streaming to a real collector
//                (startCollector from dist/core.cjs) running in THIS process, not the client
//     otel       @opentelemetry/instrumentation-http + instrumentation-undici, NodeTracerProvider,
//                BatchSpanProcessor, discarding exporter (bench/apps/otel-preload.cjs)
//     socktrace  Net Trace with `sockTrace: true` (every read/write, default cap 1000 ops/conn)
//     bare       bench/apps/bare-hooks.cjs: the preload's channels and wrappers doing nothing (what
//                the observation points cost by themselves, information only)
//   keep-alive, 10 KiB responses (path /10k), the same four workloads, under
//     untraced, nettrace (default), bodies (Net Trace with `bodies: true`, default 64 KiB cap)
//   a new connection per request (`http`, `agent: false`, so `Connection: close`), to
//   http://bench.test:PORT/, sequential and at concurrency 50, under
//     untraced        `lookup` option answering 127.0.0.1 at once (no DNS at all)
//     untraced-cares  `lookup` option doing resolve4 + resolve6 with c-ares (dns.Resolver) against
//                     the local DNS server: an untraced program that pays for real DNS messages
//     nettrace        Net Trace default, with the same instant `lookup` as untraced
//     dnstrace        Net Trace with `dnsTrace: true, dnsServers: [the local DNS server]` and no
//                     `lookup` option: every connection resolves bench.test with the in-process
//                     resolver (A + AAAA over UDP), each message recorded
//   The DNS server is bench/apps/dns-server.mjs (test/integration/dnsServer.mjs, bench.test A
//   127.0.0.1, no AAAA) in its own process.
//
// Every cell runs BENCH_RUNS times; within each round the conditions of a workload are rotated so
// drift and noise spread evenly. Reports medians of wall time and of the client's own CPU time
// (user+system during the timed part), ratios to the group's untraced baseline and client CPU µs
// per request over it; checks what Net Trace recorded; writes the tables to test-results/bench/runs.md.
//
//   node bench/overhead.mjs                 (npm run bench builds first)
//   BENCH_RUNS=7 BENCH_REQUESTS=2000 BENCH_CONCURRENCY=50 BENCH_WARMUP=200 node bench/overhead.mjs
//   BENCH_QUICK=1 node bench/overhead.mjs   smoke test: 1 run, 200 requests (+50 warm-up), no
//                                           profiling, runs file untouched (unless --write)
//   After the timed runs, an untimed JIT round runs each keep-alive workload once untraced and once
//   with Net Trace under `--trace-opt` and sums V8's optimizing-compiler time per process; then an
//   extra untimed round of Net Trace clients runs under `--cpu-prof` and the preload's hot spots
//   are summarized (bench/lib/cpuprofile.mjs) into the report:
//   node bench/overhead.mjs --profile DIR   keep those profiles in DIR (default: a temp dir, removed)
//   node bench/overhead.mjs --no-profile    skip the profiling round
//   node bench/overhead.mjs --no-write      do not touch test-results/bench/runs.md
//   BENCH_PIN=1 node bench/overhead.mjs     pin the client to CPU 0, the servers and this process
//                                           (the collector) to CPU 1 (diagnostic: client cost
//                                           without the collector competing for its core)
//
// Issue 17's floors (≤ 12 µs client CPU per request over untraced sustained, ≤ 1.10× wall, the
// realistic HTTPS row ≤ 1.05×, the JIT warm-up share of the 2,000-request cells, and the peers
// OpenTelemetry + Node's network inspection on Node 24 and 26) are printed by bench/floors.mjs, which
// `npm run bench` runs after this script and bench/memory.mjs (untraced and Net Trace only, ~4 min
// on a quiet box). The long cells — OpenTelemetry in every floor cell, and every cell again on
// Node 24 and 26 with the inspector peer — run only with `npm run bench:full` (BENCH_FULL=1
// node bench/floors.mjs). See the header of bench/floors.mjs.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
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
  startDnsServer,
  startServer,
  writeSubsection,
  QUICK,
  SECTION,
} from './lib/common.mjs';
import { analyze, summarizeProfiles } from './lib/cpuprofile.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 7));
const N = Number(process.env.BENCH_REQUESTS ?? (QUICK ? 200 : 2000));
const CONC = Number(process.env.BENCH_CONCURRENCY ?? 50);
const WARMUP = Number(process.env.BENCH_WARMUP ?? (QUICK ? 50 : 200));
const argv = process.argv.slice(2);
const profIdx = argv.indexOf('--profile');
const keepProfiles = profIdx >= 0;
const profileDir =
  argv.includes('--no-profile') || (QUICK && !keepProfiles)
    ? undefined
    : keepProfiles
      ? resolve(argv[profIdx + 1] ?? 'bench-profiles')
      : mkdtempSync(join(tmpdir(), 'nettrace-bench-prof-'));
const noWrite = argv.includes('--no-write') || (QUICK && !argv.includes('--write'));
const t0 = Date.now();

const m = machine(); // before pinning, so nproc is the machine's
const PIN = process.env.BENCH_PIN === '1';
if (PIN) execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
const core = loadCore();
const server = await startServer({ cpus: PIN ? '1' : undefined });
const ns = await startDnsServer({ cpus: PIN ? '1' : undefined });

// ---- what runs -----------------------------------------------------------------------------
/** Conditions: preload config (Net Trace), OpenTelemetry, or none; extra client flags. */
const CONDITIONS = {
  untraced: { label: 'untraced' },
  'untraced-cares': { label: 'untraced, c-ares lookup' },
  nettrace: { label: 'Net Trace default', config: {} },
  otel: { label: 'OpenTelemetry', otel: true },
  socktrace: { label: 'Net Trace sockTrace', config: { sockTrace: true } },
  bare: { label: 'bare hooks, nothing recorded', preload: join(appsDir, 'bare-hooks.cjs') },
  bodies: { label: 'Net Trace bodies', config: { bodies: true } },
  dnstrace: { label: 'Net Trace dnsTrace', config: { dnsTrace: true, dnsServers: [ns.address] } },
};
const KA = [
  { client: 'http', mode: 'seq', name: 'http seq' },
  { client: 'http', mode: 'conc', name: `http conc${CONC}` },
  { client: 'fetch', mode: 'seq', name: 'fetch seq' },
  { client: 'fetch', mode: 'conc', name: `fetch conc${CONC}` },
];
const FLOORS = { nettrace: 1.1, socktrace: 1.3, bodies: 1.3 };
/** Requests per run of the sustained-load group (information, no floor): past JIT warm-up and
 * into steady-state garbage collection, where the cost a long-running program sees shows. */
const N_SUSTAINED = Number(process.env.BENCH_SUSTAINED_REQUESTS ?? (QUICK ? 400 : 20000));
const RUNS_SUSTAINED = Math.min(RUNS, 3);
const groups = [
  {
    id: 'ka',
    title: 'Keep-alive, ~100-byte responses',
    workloads: KA.map((w) => ({ ...w, url: server.url })),
    conditions: ['untraced', 'nettrace', 'otel', 'socktrace', 'bare'],
  },
  {
    id: 'body',
    title: 'Keep-alive, 10 KiB responses (bodies floor)',
    workloads: KA.map((w) => ({ ...w, name: `${w.name} 10 KiB`, url: `${server.url}10k` })),
    conditions: ['untraced', 'nettrace', 'bodies'],
  },
  {
    id: 'dns',
    title: 'A new connection per request to bench.test (DNS trace)',
    workloads: [
      { client: 'http', mode: 'seq', name: 'http seq new-conn' },
      { client: 'http', mode: 'conc', name: `http conc${CONC} new-conn` },
    ].map((w) => ({ ...w, url: `http://bench.test:${server.port}/` })),
    conditions: ['untraced', 'untraced-cares', 'nettrace', 'dnstrace'],
    flags: {
      untraced: ['--new-conn', '--lookup=literal'],
      'untraced-cares': ['--new-conn', `--lookup=cares:${ns.address}`],
      nettrace: ['--new-conn', '--lookup=literal'],
      dnstrace: ['--new-conn'],
    },
  },
  {
    id: 'sustained',
    title: `Sustained load: ${N_SUSTAINED.toLocaleString('en-US')} requests per run (information, no floor)`,
    workloads: KA.map((w) => ({ ...w, name: `${w.name} sustained`, url: server.url, requests: N_SUSTAINED })),
    conditions: ['untraced', 'nettrace'],
    runs: RUNS_SUSTAINED,
    noFloor: true,
  },
];
const cells = groups.reduce((a, g) => a + g.workloads.length * g.conditions.length, 0);
/** Timed requests per run of a workload. */
const nOf = (w) => w.requests ?? N;
console.error(
  `machine: ${machineLine(m)}${PIN ? ' (pinned: client CPU 0, servers + collector CPU 1)' : ''}${QUICK ? ' — BENCH_QUICK' : ''}`,
);
console.error(
  `server: ${server.url} (pid ${server.pid}), DNS server ${ns.address} (pid ${ns.pid}); ${RUNS} runs × ${cells} cells, ${N} requests (+${WARMUP} warm-up) each`,
);

/** results[group][workload][condition] = [client output line, ...] */
const results = Object.fromEntries(
  groups.map((g) => [g.id, Object.fromEntries(g.workloads.map((w) => [w.name, Object.fromEntries(g.conditions.map((c) => [c, []]))]))]),
);
const checks = []; // what Net Trace recorded, one per traced timed run
const otelChecks = [];

const profDirOf = (cond, w) => join(profileDir, cond, w.name.replace(/\s+/g, '-'));
const sum = (xs, f) => xs.reduce((a, x) => a + (f(x) ?? 0), 0);

/** What the collector saw from one client process, for the recording table. */
function inspect(trace, pid, cond) {
  const reqs = trace.httpRequests.filter((q) => q.pid === pid);
  const tcp = trace.tcpConns.filter((t) => t.pid === pid && !t.fromResolver);
  const c = {
    recorded: reqs.length,
    completed: reqs.filter((q) => q.respStatusCode === 200 && q.respDoneAt !== undefined && !q.reqError).length,
    reused: reqs.filter((q) => q.reusedConn === true).length,
    tcpConns: tcp.length,
    dials: trace.dials.filter((d) => d.pid === pid).length,
    withTimings: reqs.filter((q) => q.timings && typeof q.timings.wait === 'number').length,
    withInitiator: reqs.filter((q) => q.initiator?.frames?.length).length,
    dropped: trace.stats?.droppedEvents ?? 0,
  };
  if (cond === 'socktrace') {
    const st = tcp.filter((t) => t.socketTrace);
    const ops = st.flatMap((t) => t.socketTrace.socketOps);
    const full = st.filter((t) => t.socketTrace.droppedOps === 0);
    const adds = (t, type) =>
      sum(
        t.socketTrace.socketOps.filter((o) => o.type === type),
        (o) => o.dataLen,
      );
    c.extra = {
      connsWithOps: st.length,
      ops: ops.length,
      droppedOps: sum(st, (t) => t.socketTrace.droppedOps),
      uncapped: full.length,
      addUp: full.filter((t) => adds(t, 'read') === t.totalRecvBytes && adds(t, 'write') === t.totalSentBytes).length,
    };
  } else if (cond === 'bodies') {
    c.extra = {
      bodies: reqs.filter((q) => q.respBody && q.respBody.size === 10240 && q.respBody.text?.length === 10240 && !q.respBody.truncated)
        .length,
    };
  } else if (cond === 'dnstrace') {
    const qs = trace.dnsQueries.filter((q) => q.pid === pid);
    const dialsWith = new Set(qs.map((q) => q.fromDial));
    c.extra = {
      dnsQueries: qs.length,
      queryMsgs: sum(qs, (q) => q.dnsQueryMsgs.length),
      replyMsgs: sum(qs, (q) => q.dnsReplyMsgs.length),
      answered: qs.filter((q) => q.dnsReplyMsgs.some((r) => r.answers?.some((a) => a.resolvedVal === '127.0.0.1'))).length,
      dialsWithQuery: dialsWith.size,
      udpConns: trace.udpConns.filter((u) => u.pid === pid).length,
    };
  }
  return c;
}

async function runCell(g, cond, w, run, profile = false) {
  const def = CONDITIONS[cond];
  const args = [
    join(appsDir, 'client.mjs'),
    w.client,
    w.mode,
    String(nOf(w)),
    String(CONC),
    String(WARMUP),
    w.url,
    ...(g.flags?.[cond] ?? []),
  ];
  const env = {};
  let collector;
  if (def.config) {
    collector = await core.startCollector({ description: `bench ${w.name} ${cond} run ${run}` });
    env.NODE_OPTIONS = nodeOptions([preloadPath]);
    env.NETTRACE_CONFIG = JSON.stringify({ ipcPath: collector.ipcPath, ...def.config });
  } else if (def.otel) {
    env.NODE_OPTIONS = nodeOptions([otelPreloadPath]);
  } else if (def.preload) {
    env.NODE_OPTIONS = nodeOptions([def.preload]);
  }
  const nodeArgs = [];
  if (profile) {
    const dir = profDirOf(cond, w);
    mkdirSync(dir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
  }
  const r = await runNode([...nodeArgs, ...args], { env, cpus: PIN ? '0' : undefined }).done;
  const out = r.lines.find((l) => typeof l.ms === 'number');
  const tail = r.lines.find((l) => typeof l.cpuToExitMs === 'number');
  if (out && tail) Object.assign(out, tail);
  if (r.code !== 0 || !out || !tail) {
    await collector?.close();
    throw new Error(`${cond} ${w.name}: client exited ${r.code ?? r.signal}\n${r.stderr}`);
  }
  if (collector && profile) await collector.close();
  else if (collector) {
    const idle = await collector.waitForIdle({ timeoutMs: 10_000 });
    const c = inspect(collector.session.snapshot(), out.pid, cond);
    checks.push({ group: g.id, workload: w.name, cond, run, expected: nOf(w) + WARMUP, idle, ...c });
    await collector.close();
  }
  if (def.otel && !profile) otelChecks.push({ workload: w.name, run, expected: N + WARMUP, spans: out.spans });
  return out;
}

for (let run = 0; run < RUNS; run++) {
  for (const g of groups) {
    if (run >= (g.runs ?? RUNS)) continue;
    for (const [wi, w] of g.workloads.entries()) {
      const k = (run + wi) % g.conditions.length;
      const order = [...g.conditions.slice(k), ...g.conditions.slice(0, k)];
      for (const cond of order) {
        const out = await runCell(g, cond, w, run);
        results[g.id][w.name][cond].push(out);
        console.error(
          `run ${run + 1}/${RUNS}  ${w.name.padEnd(24)} ${cond.padEnd(14)} ${fmt(out.ms, 1).padStart(8)} ms  cpu ${fmt(out.cpuMs, 1).padStart(8)} ms`,
        );
      }
    }
  }
}

// Untimed JIT round: how much optimizing-compiler (TurboFan) time the tracer adds to a process. In
// a run of a few thousand requests much of the client's CPU goes to V8 tiering up the program's
// code; the tracer's hot functions are compiled too, and the program's functions that inline its
// wrappers grow. V8 (11.x in Node 20) prints each job as "[completed compiling … took A, B, C ms]".
const jit = [];
{
  console.error('JIT round: each keep-alive workload untraced and with Net Trace under --trace-opt (not timed)');
  for (const w of groups[0].workloads) {
    const row = { w };
    for (const cond of ['untraced', 'nettrace']) {
      const def = CONDITIONS[cond];
      const env = {};
      let collector;
      if (def.config) {
        collector = await core.startCollector({ description: `bench jit ${w.name}` });
        env.NODE_OPTIONS = nodeOptions([preloadPath]);
        env.NETTRACE_CONFIG = JSON.stringify({ ipcPath: collector.ipcPath, ...def.config });
      }
      const args = [join(appsDir, 'client.mjs'), w.client, w.mode, String(N), String(CONC), String(WARMUP), w.url];
      const r = await runNode(['--trace-opt', ...args], { env, keepStdout: true }).done;
      await collector?.close();
      let ms = 0;
      let jobs = 0;
      for (const m of r.stdout.matchAll(/\[completed compiling .*? took ([\d.]+), ([\d.]+), ([\d.]+) ms\]/g)) {
        ms += Number(m[1]) + Number(m[2]) + Number(m[3]);
        jobs++;
      }
      row[cond] = { ms, jobs };
    }
    jit.push(row);
  }
}

// Untimed profiling round: where does the traced client's time go? Net Trace default on each
// keep-alive workload (2 runs), each other Net Trace condition on each of its workloads (1 run).
const profiles = [];
if (profileDir) {
  const plan = [];
  for (const g of groups) {
    for (const cond of g.conditions.filter((c) => CONDITIONS[c].config)) {
      if (cond === 'nettrace' && g.id !== 'ka') continue;
      for (const w of g.workloads) plan.push({ g, cond, w, runs: cond === 'nettrace' ? 2 : 1 });
    }
  }
  console.error(`profiling: ${plan.reduce((a, p) => a + p.runs, 0)} Net Trace clients under --cpu-prof (not timed)`);
  for (const { g, cond, w, runs } of plan) {
    for (let i = 0; i < runs; i++) await runCell(g, cond, w, `profile ${i}`, true);
    const dir = profDirOf(cond, w);
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(dir, f));
    profiles.push({
      cond,
      w,
      files,
      a: analyze(files, { focus: 'preload.cjs' }),
      text: summarizeProfiles(files, { focus: 'preload.cjs' }),
    });
  }
}
await server.stop();
await ns.stop();
const loadEnd = os.loadavg();
const minutes = (Date.now() - t0) / 60_000;

// ---- report -------------------------------------------------------------------------------
const rowsOf = (g) =>
  g.workloads.map((w) => {
    const res = results[g.id][w.name];
    const med = (c, f) => median(res[c].map((x) => x[f]));
    const cells = Object.fromEntries(g.conditions.map((c) => [c, { ms: med(c, 'ms'), cpu: med(c, 'cpuMs'), cpuX: med(c, 'cpuToExitMs') }]));
    const base = cells.untraced;
    for (const c of g.conditions) {
      cells[c].rWall = cells[c].ms / base.ms;
      cells[c].rCpu = cells[c].cpu / base.cpu;
      cells[c].usPerReq = ((cells[c].cpu - base.cpu) * 1000) / nOf(w);
      cells[c].rCpuX = cells[c].cpuX / base.cpuX;
      cells[c].usPerReqX = ((cells[c].cpuX - base.cpuX) * 1000) / nOf(w);
    }
    return { name: w.name, cells, all: res };
  });
const rowsByGroup = Object.fromEntries(groups.map((g) => [g.id, rowsOf(g)]));
const flag = (ratio, cond, g) => (!g.noFloor && FLOORS[cond] !== undefined && ratio > FLOORS[cond] ? ' ✗' : '');
const sfmt = (x, d = 0) => (x >= 0 ? '+' : '−') + fmt(Math.abs(x), d);

function wallTable(g) {
  const cs = g.conditions;
  return [
    `| workload (${nOf(g.workloads[0])} req, +${WARMUP} warm-up) | ${cs.map((c, i) => (i === 0 ? `${CONDITIONS[c].label} ms` : `${CONDITIONS[c].label} ms (ratio)`)).join(' | ')} |`,
    `|---|${cs.map(() => '---:').join('|')}|`,
    ...rowsByGroup[g.id].map(
      (r) =>
        `| ${r.name} | ${cs
          .map((c, i) =>
            i === 0 ? fmt(r.cells[c].ms) : `${fmt(r.cells[c].ms)} (${fmt(r.cells[c].rWall, 2)}×)${flag(r.cells[c].rWall, c, g)}`,
          )
          .join(' | ')} |`,
    ),
  ].join('\n');
}
function cpuTable(g) {
  const cs = g.conditions;
  return [
    `| workload | ${['timed part', 'timed part to exit']
      .flatMap((span) => cs.map((c, i) => `${CONDITIONS[c].label}, ${span}${i === 0 ? '' : ' (ratio, µs/req over untraced)'}`))
      .join(' | ')} |`,
    `|---|${[...cs, ...cs].map(() => '---:').join('|')}|`,
    ...rowsByGroup[g.id].map(
      (r) =>
        `| ${r.name} | ${cs
          .map((c, i) =>
            i === 0
              ? fmt(r.cells[c].cpu)
              : `${fmt(r.cells[c].cpu)} (${fmt(r.cells[c].rCpu, 2)}×, ${sfmt(r.cells[c].usPerReq, 1)} µs)${flag(r.cells[c].rCpu, c, g)}`,
          )
          .join(' | ')} | ${cs
          .map((c, i) =>
            i === 0
              ? fmt(r.cells[c].cpuX)
              : `${fmt(r.cells[c].cpuX)} (${fmt(r.cells[c].rCpuX, 2)}×, ${sfmt(r.cells[c].usPerReqX, 1)} µs)${flag(r.cells[c].rCpuX, c, g)}`,
          )
          .join(' | ')} |`,
    ),
  ].join('\n');
}

/** The summary: one row per (workload, condition other than untraced). */
const summaryRows = [];
for (const g of groups) {
  for (const r of rowsByGroup[g.id]) {
    for (const c of g.conditions.slice(1)) {
      const x = r.cells[c];
      const floor = g.noFloor ? undefined : FLOORS[c];
      summaryRows.push({ g, w: r.name, c, x, floor });
    }
  }
}
const summaryTable = [
  '| workload | condition | wall ms: untraced → condition | wall ratio | client CPU ms (timed part): untraced → condition | CPU ratio | CPU µs/req over untraced | CPU to exit: ratio | CPU to exit: µs/req over untraced | floor | wall | CPU (to exit) |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---|:--:|:--:|',
  ...summaryRows.map(({ g, w, c, x, floor }) => {
    const base = rowsByGroup[g.id].find((r) => r.name === w).cells.untraced;
    const pf = (ratio) => (floor === undefined ? '—' : ratio <= floor ? 'pass' : '**FAIL**');
    return `| ${w} | ${CONDITIONS[c].label} | ${fmt(base.ms)} → ${fmt(x.ms)} | ${fmt(x.rWall, 2)}× | ${fmt(base.cpu)} → ${fmt(x.cpu)} | ${fmt(x.rCpu, 2)}× | ${sfmt(x.usPerReq, 1)} | ${fmt(x.rCpuX, 2)}× | ${sfmt(x.usPerReqX, 1)} | ${floor === undefined ? 'none (info)' : `≤ ${floor.toFixed(2)}×`} | ${pf(x.rWall)} | ${pf(x.rCpuX)} |`;
  }),
].join('\n');

const spread = groups
  .flatMap((g) =>
    rowsByGroup[g.id].map(
      (r) =>
        `- ${r.name}: ` +
        g.conditions
          .map((c) => `${c} [${r.all[c].map((x) => `${fmt(x.ms)}/${fmt(x.cpuMs)}/${fmt(x.cpuToExitMs)}`).join(', ')}]`)
          .join('; '),
    ),
  )
  .join('\n');

const same = (cs, f) => {
  const vals = [...new Set(cs.map(f))];
  return vals.length === 1 ? String(vals[0]) : `${Math.min(...vals)}–${Math.max(...vals)}`;
};
function extraText(cs, cond) {
  if (cond === 'socktrace') {
    return `ops kept ${same(cs, (c) => c.extra.ops)}, dropped (over the 1000/conn cap) ${same(cs, (c) => c.extra.droppedOps)}; conns with ops ${same(cs, (c) => c.extra.connsWithOps)}, uncapped ${same(cs, (c) => c.extra.uncapped)}, of which reads/writes add up to totalRecvBytes/totalSentBytes ${same(cs, (c) => c.extra.addUp)}`;
  }
  if (cond === 'bodies') return `response bodies captured (10,240 B as text, not truncated) ${same(cs, (c) => c.extra.bodies)}`;
  if (cond === 'dnstrace') {
    return `dnsQueries ${same(cs, (c) => c.extra.dnsQueries)} (query msgs ${same(cs, (c) => c.extra.queryMsgs)}, reply msgs ${same(cs, (c) => c.extra.replyMsgs)}, answered 127.0.0.1 ${same(cs, (c) => c.extra.answered)}), dials with a dnsQuery ${same(cs, (c) => c.extra.dialsWithQuery)}, resolver udpConns ${same(cs, (c) => c.extra.udpConns)}`;
  }
  return '';
}
const recRows = [];
for (const g of groups) {
  for (const w of g.workloads) {
    for (const cond of g.conditions.filter((c) => CONDITIONS[c].config)) {
      const cs = checks.filter((c) => c.group === g.id && c.workload === w.name && c.cond === cond);
      if (!cs.length) continue;
      recRows.push(
        `| ${w.name} | ${cond} | ${cs.length} | ${same(cs, (c) => c.expected)} | ${same(cs, (c) => c.recorded)} | ${same(cs, (c) => c.completed)} | ${same(cs, (c) => c.reused)} | ${same(cs, (c) => c.tcpConns)} | ${same(cs, (c) => c.dials)} | ${same(cs, (c) => c.withTimings)} | ${same(cs, (c) => c.withInitiator)} | ${same(cs, (c) => c.dropped)} | ${extraText(cs, cond) || '—'} |`,
      );
    }
  }
}
const recTable = [
  '| workload | condition | runs | requests made | recorded | completed (200, respDoneAt) | reusedConn | tcpConns | dials | with timings | with initiator | dropped events | condition-specific |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ...recRows,
].join('\n');
const otelSpans = KA.map((w) => {
  const cs = otelChecks.filter((c) => c.workload === w.name);
  return `${w.name}: ${[...new Set(cs.map((c) => c.spans))].join('/')} spans for ${N + WARMUP} requests`;
}).join('; ');

// Verdicts.
const ka = rowsByGroup.ka;
const over = (rows, c, key) => rows.filter((r) => r.cells[c][key] > FLOORS[c]);
const verdictLine = (what, rows, c) => {
  const w = over(rows, c, 'rWall');
  const cpu = over(rows, c, 'rCpuX');
  const list = (xs, key) => xs.map((r) => `${r.name} ${fmt(r.cells[c][key], 2)}×`).join(', ');
  return (
    `- ${what} ≤ ${FLOORS[c].toFixed(2)}× untraced in every cell — wall time: **${w.length ? 'NOT met' : 'met'}**${w.length ? ` (over: ${list(w, 'rWall')})` : ''}` +
    `; client CPU time (timed part to exit): **${cpu.length ? 'NOT met' : 'met'}**${cpu.length ? ` (over: ${list(cpu, 'rCpuX')})` : ''}`
  );
};
const notCheaper = ka.filter((r) => r.cells.nettrace.ms >= r.cells.otel.ms);
const notCheaperCpu = ka.filter((r) => r.cells.nettrace.cpuX >= r.cells.otel.cpuX);
const recordedAll = checks.every((c) => c.recorded === c.expected && c.completed === c.expected);
const extrasOk = checks.every((c) => {
  if (c.cond === 'bodies') return c.extra.bodies === c.expected;
  if (c.cond === 'dnstrace') return c.extra.dialsWithQuery === c.expected && c.extra.answered === c.expected;
  if (c.cond === 'socktrace') return c.extra.addUp === c.extra.uncapped;
  return true;
});
const verdict = [
  verdictLine('Net Trace default (issue 2)', ka, 'nettrace'),
  `- Net Trace default cheaper than OpenTelemetry in every cell (issue 2) — wall time: **${notCheaper.length ? 'NOT met' : 'met'}**${notCheaper.length ? ` (not cheaper: ${notCheaper.map((r) => r.name).join(', ')})` : ''}; client CPU time (timed part to exit): **${notCheaperCpu.length ? 'NOT met' : 'met'}**${notCheaperCpu.length ? ` (not cheaper: ${notCheaperCpu.map((r) => r.name).join(', ')})` : ''}`,
  verdictLine('Socket-op trace on, `sockTrace: true` (issue 4)', ka, 'socktrace'),
  verdictLine('Bodies on, `bodies: true` (64 KiB cap), 10 KiB responses (issue 4)', rowsByGroup.body, 'bodies'),
  `- DNS trace on (issue 4): no floor on the HTTP workload (issue 4's DNS floor is the resolver's lookup latency, bench/dns.mjs); ratios above are for information`,
  `- Net Trace recorded every request the client made, all completed (every traced run): **${recordedAll ? 'yes' : 'NO'}**; condition-specific records complete (every body captured, every dial with its DNS messages, socket ops adding up to the byte counts on every connection under the op cap): **${extrasOk ? 'yes' : 'NO'}**`,
].join('\n');

let jitText = '';
if (jit.length) {
  const kaRows = rowsByGroup.ka;
  const lines = jit.map(({ w, untraced, nettrace }) => {
    const extra = nettrace.ms - untraced.ms;
    const base = kaRows.find((r) => r.name === w.name).cells.untraced.cpu;
    return `| ${w.name} | ${fmt(untraced.ms)} (${untraced.jobs}) | ${fmt(nettrace.ms)} (${nettrace.jobs}) | ${sfmt(extra)} | ${sfmt((extra * 1000) / N, 1)} | ${sfmt((100 * extra) / base, 0)}% |`;
  });
  jitText = `JIT: optimizing-compiler (TurboFan) time per client process, one untimed run each under \`node --trace-opt\`
(${N} requests after ${WARMUP} warm-up, whole process; the sum of V8's compile jobs, which run partly on a background
thread and so count in the process's CPU time). Net Trace's hot functions are compiled as well, and the program's own
functions that inline its wrappers grow. The last column compares the extra compile time with the untraced client's
timed CPU (median above): it is part of why the ${N.toLocaleString('en-US')}-request cells cost more per request than the sustained rows.

| workload | untraced: compile ms (jobs) | Net Trace default: compile ms (jobs) | extra compile ms | extra per timed request, µs | extra, % of untraced timed CPU |
|---|---:|---:|---:|---:|---:|
${lines.join('\n')}`;
}

let profileText = '';
if (profiles.length) {
  const short = (label) => label.replace(/ preload\.cjs:(\d+)$/, ' (dist/preload.cjs:$1)');
  const lines = profiles.map(({ cond, w, files, a }) => {
    const pct = (us) => `${((100 * us) / a.busy).toFixed(1)}%`;
    const top = a.own
      .slice(0, 6)
      .map(([k, v]) => `${short(k)} ${pct(v)}`)
      .join(', ');
    return `| ${w.name} | ${cond} | ${files.length} | ${(a.busy / 1000).toFixed(0)} | ${pct(a.inFocus)} | ${top} |`;
  });
  profileText = `CPU profile of the Net Trace clients (extra untimed runs under \`node --cpu-prof\`: 2 per workload for the
default options, 1 per workload for the other conditions; whole process lifetime incl. start-up and warm-up; summarized
by \`bench/lib/cpuprofile.mjs\`). "In preload" = samples with a dist/preload.cjs frame on the stack, charged to the
deepest such frame together with the builtins it calls (JSON.stringify, Buffer, Error.captureStackTrace,
fs.writeSync...), but not the original http/undici/net code a wrapper calls through.

| workload | condition | profiles | busy ms | in preload | top preload functions (% of busy CPU) |
|---|---|---:|---:|---:|---|
${lines.join('\n')}`;
}

const body = `Machine: ${machineLine(m, loadEnd)}${PIN ? ' (pinned: client CPU 0, servers + collector CPU 1)' : ''}

Run: \`npm run bench\` (or \`node bench/overhead.mjs\` after \`node scripts/build.mjs\`; \`BENCH_QUICK=1\` for a smoke test);
this run took ${fmt(minutes, 1)} min. Server: \`bench/apps/server.mjs\` in its own process on 127.0.0.1: a ~100-byte JSON body,
or exactly 10,240 bytes on \`/10k\`; keeps connections alive unless asked to close. Client: \`bench/apps/client.mjs\`, one
process per cell and run; \`http\` with \`new http.Agent({keepAlive: true, maxSockets: ${CONC}})\`, \`fetch\` with Node's
global dispatcher. Median of ${RUNS} runs per cell (conditions of a workload rotated each round), ${WARMUP} warm-up requests per
process excluded from the timing. The same ${m.nproc}-core box runs server, client, DNS server and (for Net Trace) the collector,
which is this benchmark's own process (\`startCollector\`, events over the real IPC socket).

Conditions (Net Trace ones are \`--require dist/preload.cjs\` with \`NETTRACE_CONFIG={"ipcPath":…, <options>}\`):
- **untraced**: plain \`node\`.
- **Net Trace default**: no options. That includes \`initiator: "sampled"\`: the first 100 requests of the process get
  their initiator stack, then stack capture is held to 1% of the program's time, so at these request rates about a
  fifth to a third of the requests carry one (the "with initiator" column below; the others are counted in
  \`stats.skippedInitiators\`).
- **OpenTelemetry**: \`bench/apps/otel-preload.cjs\`: \`@opentelemetry/instrumentation-http\` + \`@opentelemetry/instrumentation-undici\`
  via \`registerInstrumentations\`, \`NodeTracerProvider\` (sdk-trace-node 2.x), \`BatchSpanProcessor\`, an exporter that
  counts and discards spans.
- **bare hooks, nothing recorded** (information, no floor): \`bench/apps/bare-hooks.cjs\`: the diagnostics-channel
  subscriptions and method wrappers Net Trace installs, with empty subscribers and pass-through wrappers. What Node's
  observation points cost by themselves; the rest of Net Trace's overhead is the work it does in them.
- **Net Trace sockTrace**: \`{"sockTrace": true}\` (every read and write, default cap 1,000 ops per connection; the
  sequential keep-alive workloads put all ${N + WARMUP} requests on 1–2 connections, 2 ops per request, so past the first
  500–1,000 requests they only count \`droppedOps\`; at concurrency ${CONC} every connection stays under the cap and every op
  is recorded).
- **Net Trace bodies**: \`{"bodies": true}\` (default 64 KiB cap; each 10,240-byte JSON response kept whole as text), on
  the 10 KiB workloads, compared with untraced and Net Trace default on the same 10 KiB workloads.
- DNS rows: every request on a new connection (\`http.get\` with \`agent: false\`, so \`Connection: close\`) to
  \`http://bench.test:PORT/\`; DNS server \`bench/apps/dns-server.mjs\` (\`test/integration/dnsServer.mjs\`, zone
  \`bench.test\` A 127.0.0.1, no AAAA) on 127.0.0.1 in its own process. Compared: **untraced** = \`lookup\` option answering
  127.0.0.1 on the next tick (no DNS at all: bench.test is in no hosts file); **untraced, c-ares lookup** = \`lookup\`
  option doing \`resolve4\` + \`resolve6\` in parallel with \`dns.Resolver\` against the same DNS server (an untraced
  program that pays for the same two DNS round trips per connection); **Net Trace default** with the instant \`lookup\`;
  **Net Trace dnsTrace** = \`{"dnsTrace": true, "dnsServers": ["127.0.0.1:PORT"]}\`, no \`lookup\` option, so every
  connection resolves through the in-process resolver (A + AAAA over UDP to the local server, every message recorded).
  Ratios are to the instant-lookup untraced baseline; dnsTrace over c-ares is the DNS trace's cost over a program that
  does the same DNS work untraced.
- Sustained rows (information, no floor): the keep-alive workloads again with ${N_SUSTAINED.toLocaleString('en-US')} timed
  requests per run, median of ${RUNS_SUSTAINED} runs. ${N.toLocaleString('en-US')} requests after ${WARMUP} warm-up take 0.2–1 s, much of it
  JIT warm-up of both the program and the tracer; a long-running program pays the steady-state cost, garbage
  collection included, which these rows show.

A load average above nproc (in the machine line) means other work shared the box; wall times then scatter (see every
run below), and client CPU time is the steadier measure of what the tracer costs the debuggee. The benchmark itself
keeps both cores busy (client, server, collector), so the 1-minute load average rises to about 2–3 during a run even on
an otherwise idle 2-core box.

Summary (medians; ratios and µs/request are against the untraced baseline of the same workload; "✗"/FAIL = over the floor):

${summaryTable}

${verdict}

Wall time, ms (median):

${groups.map((g) => `${g.title}:\n\n${wallTable(g)}`).join('\n\n')}

Client process CPU time (user+system, all threads), ms (median) — the debuggee's own cost, independent of the collector
and servers competing for the same cores; in brackets the ratio to untraced and the extra CPU per request. "Timed part":
from the first timed request to the last response (as before). "Timed part to exit": the same start, up to the last
\`exit\` listener of the process (registered by the client after any preload's), so it also counts work a tracer defers
past the last response — OpenTelemetry's \`forceFlush\`, Net Trace's queue flushed at exit (\`flushSync\`, which matters
when the collector lags behind, e.g. with bodies at concurrency ${CONC}); the CPU floors are judged on this one:

${groups.map((g) => `${g.title}:\n\n${cpuTable(g)}`).join('\n\n')}

Every run (wall ms / client CPU ms, timed part / client CPU ms, timed part to exit):
${spread}

What each Net Trace run recorded (from the collector's snapshot, per run; warm-up requests included in "made"):

${recTable}

OpenTelemetry: ${otelSpans}. One span per request with method, URL, status, peer address/port and start/end
time only: no DNS, connect or TLS phases, no connection records, nothing saying whether a keep-alive connection was
reused, no per-phase timings, no call site. Net Trace records each request with request/response headers, send/
wait/receive timings (HAR), the connection it used and whether it was reused, each TCP connection and dial (DNS
lookups and connect attempts), and the initiator stack.${jitText ? `\n\n${jitText}` : ''}${profileText ? `\n\n${profileText}` : ''}`;

console.log(`\n${SECTION}: overhead — ${machineLine(m, loadEnd)}${QUICK ? ' — BENCH_QUICK (smoke test, numbers mean nothing)' : ''}\n`);
console.log(summaryTable);
console.log('');
console.log(verdict);
console.log('');
console.log(recTable);
console.log(`\nOpenTelemetry: ${otelSpans}`);
console.log(`\noverhead benchmark took ${fmt(minutes, 1)} min`);
if (!noWrite) {
  writeSubsection('Overhead', body);
  console.error(`\nwrote test-results/bench/runs.md (section "${SECTION}", subsection "Overhead")`);
} else if (QUICK) console.error('\nBENCH_QUICK: test-results/bench/runs.md not written (pass --write to write anyway)');

for (const { cond, w, files, text } of profiles) {
  console.log(`\n== CPU profile, ${cond} client, ${w.name} (${files.length} profiles) ==`);
  console.log(text);
}
if (profileDir && !keepProfiles) rmSync(profileDir, { recursive: true, force: true });
else if (profileDir) console.error(`profiles kept in ${profileDir}`);
