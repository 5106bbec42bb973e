// Issue 17's floors ("Record, don't build"), as printed checks against the untraced baseline of
// the same run — a benchmark, never a timed test. Each cell is one client process
// (bench/apps/client.mjs) against a server in its own process; Net Trace streams to a real
// collector (startCollector from dist/core.cjs) in THIS process, as in bench/overhead.mjs.
//
// Groups (each on one Node binary, so every condition of a cell runs on the same Node):
//   sustained   `http` (keep-alive Agent) and `fetch`, sequential and at concurrency 50,
//               BENCH_SUSTAINED_REQUESTS (20,000) timed requests after BENCH_WARMUP (200), ~100-byte
//               responses (bench/apps/server.mjs). Floors: client CPU over untraced ≤ 12 µs per
//               request (user+system of the client process from the first timed request to its
//               exit, process.cpuUsage), wall ≤ 1.10×.
//   short       the same four workloads with BENCH_REQUESTS (2,000) timed requests after 200
//               warm-up, run as TWO back-to-back passes in one process (client --passes=2). Pass 1
//               is the 2,000-request cell of bench/overhead.mjs, JIT warm-up included; pass 2 repeats
//               it on code that is already compiled. Floor: pass-1 wall ≤ 1.10×. The JIT warm-up
//               share is the part of the tracer's pass-1 CPU overhead (µs/request over untraced)
//               that is gone in pass 2: (over₁ − over₂) / over₁.
//   realistic   HTTPS keep-alive with TLS on 127.0.0.1 (bench/apps/tls-server.mjs: the test CA's
//               localhost certificate, every response held 2 ms, a ~1.3 KB JSON document),
//               concurrency 20, half the in-flight slots `https.get`, half `fetch` (client `mixed`,
//               trusting the test CA through NODE_EXTRA_CA_CERTS), every body JSON.parse'd;
//               BENCH_REALISTIC_REQUESTS (4,000) after 200 warm-up. Floor: wall ≤ 1.05×.
// Conditions:
//   untraced    plain node
//   nettrace    dist/preload.cjs, default options
//   otel        bench/apps/otel-preload.cjs (OpenTelemetry http + undici instrumentations)
//   inspect     Node's own network inspection, the source of VS Code js-debug's Network view:
//               `node --inspect=0 --experimental-network-inspection`, with a separate process
//               (bench/apps/inspector-peer.mjs, `ws`) that enables Runtime + Network over the
//               inspector WebSocket and consumes every event; the client waits for it before the
//               warm-up (client --wait-inspector). Checked on this machine: Node 20.20 accepts the
//               flag but reports only `http` requests (no fetch, no port in the URL); Node 22.23
//               and 24.21 report both `http` and `fetch`, as does 26.10 — so this condition runs on
//               the peer Nodes only (below).
//
//   node bench/floors.mjs            default (part of `npm run bench`): the three groups on this
//                                    Node, untraced and Net Trace only
//   BENCH_FULL=1 node bench/floors.mjs   (`npm run bench:full`) adds OpenTelemetry to those, and
//                                    the three groups again on each peer Node: the two newest of
//                                    otherNodeMajors (scripts/nodes.mjs: Node 24 and 26), installed once like `npm test`
//                                    does, or the majors in BENCH_PEERS (`26`, `22,24,26`), or the one binary
//                                    BENCH_PEER_NODE names — with untraced, Net Trace, OpenTelemetry and inspect
//   BENCH_PEERS_ONLY=1 (with BENCH_FULL=1) runs the peer Nodes' groups only, into a section of
//                                    RESULTS.md of their own ("Issue 17 floors — peers on Node <versions>"),
//                                    leaving the full run's section as it is
//   BENCH_RUNS (short/realistic, default 5), BENCH_SUSTAINED_RUNS (3), BENCH_REQUESTS (2000),
//   BENCH_SUSTAINED_REQUESTS (20000), BENCH_REALISTIC_REQUESTS (4000), BENCH_WARMUP (200),
//   BENCH_GROUPS=sustained,short,realistic (a subset), BENCH_QUICK=1 (smoke test: 1 run, few
//   requests, runs file untouched unless --write), --no-write.
//   BENCH_PIN=0 leaves every process where the scheduler puts it; by default (2 CPUs or more) the
//   client runs on CPU 0 and everything else (servers, the inspector peer, this process with
//   the collector) on CPU 1, so the program's CPU time is not its share of a core the collector
//   also uses, as on a machine with a core to spare.
//
// Every figure "over untraced" is the median of per-round differences: the conditions of a
// workload run back to back in each round (rotated), so a round's difference is measured at one
// moment of the machine's load, which on a shared VM moves the untraced cell itself by 2×
// between rounds; the range of the rounds' differences is printed with it.
// Writes the section "Issue 17 floors — with record events" of test-results/bench/runs.md.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ensureNode, nodeBin, otherNodeMajors } from '../scripts/nodes.mjs';
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
  startTlsServer,
  testCaPath,
  writeSection,
  QUICK,
} from './lib/common.mjs';

const FULL = process.env.BENCH_FULL === '1';
// The baseline's section ("Issue 17 floors — baseline before the rewrite") is in git history (bench/RESULTS.md) as
// written on 2026-11-22; runs since write this one.
const PEERS_ONLY = FULL && process.env.BENCH_PEERS_ONLY === '1';
const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 5));
const RUNS_SUSTAINED = Number(process.env.BENCH_SUSTAINED_RUNS ?? (QUICK ? 1 : 3));
const N = Number(process.env.BENCH_REQUESTS ?? (QUICK ? 200 : 2000));
const N_SUSTAINED = Number(process.env.BENCH_SUSTAINED_REQUESTS ?? (QUICK ? 1000 : 20000));
const N_REAL = Number(process.env.BENCH_REALISTIC_REQUESTS ?? (QUICK ? 300 : 4000));
const WARMUP = Number(process.env.BENCH_WARMUP ?? (QUICK ? 50 : 200));
const CONC = 50;
const CONC_REAL = 20;
const DELAY_MS = 2;
/** The peer Nodes' majors (see the header), or undefined when BENCH_PEER_NODE names one binary. */
const PEER_MAJORS =
  process.env.BENCH_PEER_NODE !== undefined
    ? undefined
    : (process.env.BENCH_PEERS?.split(',').map((x) => x.trim()) ?? otherNodeMajors.slice(-2));
const GROUP_FILTER = process.env.BENCH_GROUPS?.split(',');
const PIN = process.env.BENCH_PIN !== '0' && os.cpus().length >= 2;
const OTHERS_CPU = PIN ? '1' : undefined;
if (PIN) execFileSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
const noWrite = process.argv.includes('--no-write') || (QUICK && !process.argv.includes('--write'));

/** Floors of issue 17. */
const FLOOR = { cpuUsPerReq: 12, wall: 1.1, realisticWall: 1.05 };

const CONDITIONS = {
  untraced: { label: 'untraced' },
  nettrace: { label: 'Net Trace default' },
  otel: { label: 'OpenTelemetry' },
  inspect: { label: 'Node network inspection' },
};

const t0 = Date.now();
const m = machine();
const core = loadCore();
const server = await startServer({ cpus: OTHERS_CPU });
const tls = await startTlsServer({ delayMs: DELAY_MS, cpus: OTHERS_CPU });

const nodeVersion = (bin) => {
  const r = runNode(['-p', 'process.version'], { execPath: bin, keepStdout: true });
  return r.done.then((x) => x.stdout.trim());
};
const thisNode = { bin: process.execPath, version: process.version };
/** The Nodes the peer cells run on: { bin, version, tag }. */
const peerNodes = [];
if (FULL) {
  // Installed once from the npm registry, as `npm test` does (scripts/nodes.mjs).
  for (const major of PEER_MAJORS ?? []) {
    if (!ensureNode(major, 'bench'))
      throw new Error(`BENCH_FULL: no Node ${major} (could not install node@${major} from the npm registry)`);
    peerNodes.push({ bin: nodeBin(major), version: await nodeVersion(nodeBin(major)), tag: major });
  }
  if (PEER_MAJORS === undefined) {
    const bin = process.env.BENCH_PEER_NODE;
    if (!existsSync(bin)) throw new Error(`BENCH_FULL: BENCH_PEER_NODE ${bin} does not exist`);
    const version = await nodeVersion(bin);
    peerNodes.push({ bin, version, tag: version.replace(/^v(\d+).*/, '$1') });
  }
}
const peerVersions = peerNodes.map((n) => n.version).join(', ');
const HEADING = PEERS_ONLY ? `Issue 17 floors — peers on Node ${peerVersions}` : 'Issue 17 floors — with record events';

const KA = [
  { client: 'http', mode: 'seq', name: 'http seq' },
  { client: 'http', mode: 'conc', name: `http conc${CONC}` },
  { client: 'fetch', mode: 'seq', name: 'fetch seq' },
  { client: 'fetch', mode: 'conc', name: `fetch conc${CONC}` },
];
/** The three groups on one Node binary. */
function groupsOn(node, conditions, tag) {
  return [
    {
      id: `sustained${tag}`,
      kind: 'sustained',
      title: `Sustained: ${N_SUSTAINED.toLocaleString('en-US')} requests after ${WARMUP} warm-up (Node ${node.version})`,
      node,
      runs: RUNS_SUSTAINED,
      passes: 1,
      conditions,
      workloads: KA.map((w) => ({ ...w, url: server.url, requests: N_SUSTAINED, conc: CONC, warmup: WARMUP })),
    },
    {
      id: `short${tag}`,
      kind: 'short',
      title: `${N.toLocaleString('en-US')}-request cells, two passes in one process (Node ${node.version})`,
      node,
      runs: RUNS,
      passes: 2,
      conditions,
      workloads: KA.map((w) => ({ ...w, url: server.url, requests: N, conc: CONC, warmup: WARMUP })),
    },
    {
      id: `realistic${tag}`,
      kind: 'realistic',
      title: `Realistic: HTTPS keep-alive, server 2 ms, concurrency ${CONC_REAL}, half https.get half fetch, JSON parsed (Node ${node.version})`,
      node,
      runs: RUNS,
      passes: 1,
      conditions,
      workloads: [
        {
          client: 'mixed',
          mode: 'conc',
          name: `https+fetch conc${CONC_REAL} 2 ms JSON`,
          url: tls.url,
          requests: N_REAL,
          conc: CONC_REAL,
          warmup: WARMUP,
          flags: ['--parse-json'],
          env: { NODE_EXTRA_CA_CERTS: testCaPath },
        },
      ],
    },
  ].filter((g) => !GROUP_FILTER || GROUP_FILTER.includes(g.kind));
}
const groups = [
  ...(PEERS_ONLY ? [] : groupsOn(thisNode, FULL ? ['untraced', 'nettrace', 'otel'] : ['untraced', 'nettrace'], '')),
  ...peerNodes.flatMap((n) => groupsOn(n, ['untraced', 'nettrace', 'otel', 'inspect'], n.tag)),
];

console.error(`machine: ${machineLine(m)}${QUICK ? ' — BENCH_QUICK' : ''}${FULL ? ' — BENCH_FULL' : ''}`);
console.error(
  `servers: ${server.url} (pid ${server.pid}), ${tls.url} (pid ${tls.pid}, ${tls.bodyBytes}-byte JSON, ${DELAY_MS} ms); ` +
    groups.map((g) => `${g.id}: ${g.runs} runs × ${g.workloads.length} × ${g.conditions.length}`).join(', '),
);

/** results[group][workload][condition] = [{ms, cpuMs, cpuToExitMs, passes, load}, ...] */
const results = Object.fromEntries(
  groups.map((g) => [g.id, Object.fromEntries(g.workloads.map((w) => [w.name, Object.fromEntries(g.conditions.map((c) => [c, []]))]))]),
);
/** What each traced or peer-observed run saw, checked against what the client made. */
const checks = [];
/** 1-minute load average at the start of every cell, per group. */
const loads = Object.fromEntries(groups.map((g) => [g.id, []]));

async function runCell(g, cond, w, run) {
  const expected = w.requests * g.passes + w.warmup;
  const args = [
    join(appsDir, 'client.mjs'),
    w.client,
    w.mode,
    String(w.requests),
    String(w.conc),
    String(w.warmup),
    w.url,
    ...(w.flags ?? []),
    `--passes=${g.passes}`,
  ];
  const env = { ...(w.env ?? {}) };
  const nodeArgs = [];
  let collector;
  if (cond === 'nettrace') {
    collector = await core.startCollector({ description: `floors ${g.id} ${w.name} run ${run}` });
    env.NODE_OPTIONS = nodeOptions([preloadPath]);
    env.NETTRACE_CONFIG = JSON.stringify({ ipcPath: collector.ipcPath });
  } else if (cond === 'otel') {
    env.NODE_OPTIONS = nodeOptions([otelPreloadPath]);
  } else if (cond === 'inspect') {
    nodeArgs.push('--inspect=0', '--experimental-network-inspection');
    args.push('--wait-inspector');
  }
  let peer;
  const client = runNode([...nodeArgs, ...args], {
    env,
    execPath: g.node.bin,
    cpus: PIN ? '0' : undefined,
    onLine: (o) => {
      if (typeof o.inspectorUrl !== 'string') return;
      peer = runNode([join(appsDir, 'inspector-peer.mjs'), o.inspectorUrl], { cpus: OTHERS_CPU });
      // A peer that dies before releasing the client would leave it waiting for ever.
      peer.done.then(() => setTimeout(() => client.child.exitCode === null && client.child.kill('SIGKILL'), 5000).unref());
    },
  });
  const r = await client.done;
  const p = peer ? await peer.done : undefined;
  const out = r.lines.find((l) => typeof l.ms === 'number');
  const tail = r.lines.find((l) => typeof l.cpuToExitMs === 'number');
  if (r.code !== 0 || !out || !tail || (cond === 'inspect' && p?.code !== 0)) {
    await collector?.close();
    throw new Error(
      `${cond} ${g.id} ${w.name}: client exited ${r.code ?? r.signal}\n${r.stderr}${p ? `\npeer: ${p.code} ${p.stderr}` : ''}`,
    );
  }
  Object.assign(out, tail);
  const check = { group: g.id, workload: w.name, cond, run, expected };
  if (collector) {
    check.idle = await collector.waitForIdle({ timeoutMs: 30_000 });
    const t = collector.session.snapshot();
    const reqs = t.httpRequests.filter((q) => q.pid === out.pid);
    check.recorded = reqs.length;
    check.completed = reqs.filter((q) => q.respStatusCode === 200 && q.respDoneAt !== undefined && !q.reqError).length;
    check.dropped = t.stats?.droppedEvents ?? 0;
    await collector.close();
    checks.push(check);
  } else if (cond === 'otel') {
    check.recorded = out.spans;
    checks.push(check);
  } else if (cond === 'inspect') {
    const ev = p.lines.find((l) => l.peer)?.peer ?? {};
    check.recorded = ev['Network.requestWillBeSent'] ?? 0;
    check.completed = ev['Network.loadingFinished'] ?? 0;
    check.responses = ev['Network.responseReceived'] ?? 0;
    checks.push(check);
  }
  return out;
}

for (let run = 0; run < Math.max(...groups.map((g) => g.runs)); run++) {
  for (const g of groups) {
    if (run >= g.runs) continue;
    for (const [wi, w] of g.workloads.entries()) {
      const k = (run + wi) % g.conditions.length;
      for (const cond of [...g.conditions.slice(k), ...g.conditions.slice(0, k)]) {
        loads[g.id].push(os.loadavg()[0]);
        const out = await runCell(g, cond, w, run);
        results[g.id][w.name][cond].push(out);
        const pass2 = out.passes?.[1] ? ` | pass 2 ${fmt(out.passes[1].ms, 0)} ms cpu ${fmt(out.passes[1].cpuMs, 0)} ms` : '';
        console.error(
          `run ${run + 1}/${g.runs} ${g.id.padEnd(12)} ${w.name.padEnd(26)} ${cond.padEnd(9)} ${fmt(out.ms, 0).padStart(7)} ms  cpu ${fmt(out.cpuMs, 0).padStart(7)} ms  to exit ${fmt(out.cpuToExitMs, 0).padStart(7)} ms${pass2}`,
        );
      }
    }
  }
}
await server.stop();
await tls.stop();
const loadEnd = os.loadavg();
const minutes = (Date.now() - t0) / 60_000;

// ---- report -------------------------------------------------------------------------------
const sfmt = (x, d = 1) => (Number.isFinite(x) ? (x >= 0 ? '+' : '−') + fmt(Math.abs(x), d) : 'n/a');
const pf = (ok) => (ok ? 'pass' : '**FAIL**');
/** Medians of a cell: wall and CPU of pass 1 (the timed part), CPU to exit, and pass 2. */
function cellOf(g, w, c) {
  const xs = results[g.id][w.name][c];
  const med = (f) => median(xs.map(f));
  return {
    ms: med((x) => x.ms),
    cpu: med((x) => x.cpuMs),
    cpuX: med((x) => x.cpuToExitMs),
    ms2: g.passes > 1 ? med((x) => x.passes[1].ms) : undefined,
    cpu2: g.passes > 1 ? med((x) => x.passes[1].cpuMs) : undefined,
    n: xs.length,
  };
}
/** [untraced, condition] runs of the same round, for every round both completed. */
function paired(g, w, c) {
  const bs = results[g.id][w.name].untraced;
  const ys = results[g.id][w.name][c];
  return bs.slice(0, ys.length).map((b, i) => [b, ys[i]]);
}
/** "rounds +a…+b" for a list of per-round figures. */
function rangeText(xs) {
  return xs.length > 1 ? `rounds ${sfmt(Math.min(...xs))}…${sfmt(Math.max(...xs))}` : '';
}
function loadText(g) {
  const xs = loads[g.id];
  if (!xs.length) return '';
  const s = [...xs].sort((a, b) => a - b);
  return `1-minute load average at the start of this table's cells: min ${fmt(s[0], 1)}, median ${fmt(median(s), 1)}, max ${fmt(s[s.length - 1], 1)} (${m.nproc} CPUs)`;
}

const sections = [];
const verdicts = [];
for (const g of groups) {
  const traced = g.conditions.filter((c) => c !== 'untraced');
  const rows = [];
  for (const w of g.workloads) {
    const base = cellOf(g, w, 'untraced');
    const cells = Object.fromEntries(traced.map((c) => [c, cellOf(g, w, c)]));
    for (const c of traced) {
      const x = cells[c];
      // Per round (the conditions of a round ran back to back): the wall ratio and the CPU per
      // request over untraced. The CPU floor is judged on CPU from the first timed request to the
      // process's exit (what a tracer defers past the last response counts); with two passes, on
      // pass 1's timed part.
      const pairs = paired(g, w, c);
      const cpuRounds = pairs.map(([b, y]) => ((g.passes > 1 ? y.cpuMs - b.cpuMs : y.cpuToExitMs - b.cpuToExitMs) * 1000) / w.requests);
      const wall = median(pairs.map(([b, y]) => y.ms / b.ms));
      const cpuOver = median(cpuRounds);
      const row = { g, w, c, base, x, wall, cpuOver, cpuRange: rangeText(cpuRounds) };
      if (g.passes > 1) {
        row.wall2 = median(pairs.map(([b, y]) => y.passes[1].ms / b.passes[1].ms));
        row.cpuOver2 = median(pairs.map(([b, y]) => ((y.passes[1].cpuMs - b.passes[1].cpuMs) * 1000) / w.requests));
        row.jitShare = (cpuOver - row.cpuOver2) / cpuOver;
      }
      rows.push(row);
    }
    // Peers: Net Trace against each peer in this cell.
    if (cells.nettrace) {
      for (const peer of traced.filter((c) => c !== 'nettrace')) {
        const nt = rows.find((r) => r.w === w && r.c === 'nettrace');
        const pr = rows.find((r) => r.w === w && r.c === peer);
        verdicts.push({
          g,
          w,
          kind: 'peer',
          text: `${g.id} · ${w.name}: Net Trace cheaper than ${CONDITIONS[peer].label} — CPU ${sfmt(nt.cpuOver)} vs ${sfmt(pr.cpuOver)} µs/req: ${pf(nt.cpuOver < pr.cpuOver)}; wall ${fmt(nt.wall, 2)}× vs ${fmt(pr.wall, 2)}×: ${pf(nt.wall < pr.wall)}`,
          ok: nt.cpuOver < pr.cpuOver && nt.wall < pr.wall,
        });
      }
    }
  }

  let table;
  if (g.kind === 'sustained') {
    table = [
      `| workload | condition | wall ms: untraced → condition | wall ratio (floor ≤ ${FLOOR.wall.toFixed(2)}×) | client CPU ms to exit: untraced → condition | CPU µs/req over untraced (floor ≤ ${FLOOR.cpuUsPerReq}) | wall | CPU |`,
      '|---|---|---:|---:|---:|---:|:--:|:--:|',
      ...rows.map(
        (r) =>
          `| ${r.w.name} | ${CONDITIONS[r.c].label} | ${fmt(r.base.ms)} → ${fmt(r.x.ms)} | ${fmt(r.wall, 2)}× | ${fmt(r.base.cpuX)} → ${fmt(r.x.cpuX)} | ${sfmt(r.cpuOver)} (${r.cpuRange}) | ${pf(r.wall <= FLOOR.wall)} | ${pf(r.cpuOver <= FLOOR.cpuUsPerReq)} |`,
      ),
    ];
    for (const r of rows) {
      verdicts.push({
        g,
        w: r.w,
        kind: r.c,
        text: `${g.id} · ${r.w.name} · ${CONDITIONS[r.c].label}: CPU ${sfmt(r.cpuOver)} µs/req (${r.cpuRange}; ≤ ${FLOOR.cpuUsPerReq}): ${pf(r.cpuOver <= FLOOR.cpuUsPerReq)}; wall ${fmt(r.wall, 2)}× (≤ ${FLOOR.wall.toFixed(2)}×): ${pf(r.wall <= FLOOR.wall)}`,
        ok: r.cpuOver <= FLOOR.cpuUsPerReq && r.wall <= FLOOR.wall,
      });
    }
  } else if (g.kind === 'short') {
    table = [
      `| workload | condition | pass 1 wall ms: untraced → condition | pass 1 wall ratio (floor ≤ ${FLOOR.wall.toFixed(2)}×, JIT included) | pass 2 wall ratio | pass 1 CPU µs/req over untraced | pass 2 CPU µs/req over untraced | JIT warm-up share of pass-1 overhead | wall |`,
      '|---|---|---:|---:|---:|---:|---:|---:|:--:|',
      ...rows.map(
        (r) =>
          `| ${r.w.name} | ${CONDITIONS[r.c].label} | ${fmt(r.base.ms)} → ${fmt(r.x.ms)} | ${fmt(r.wall, 2)}× | ${fmt(r.wall2, 2)}× | ${sfmt(r.cpuOver)} | ${sfmt(r.cpuOver2)} | ${r.cpuOver > 0 ? `${fmt(100 * r.jitShare, 0)}%` : 'n/a'} | ${pf(r.wall <= FLOOR.wall)} |`,
      ),
    ];
    for (const r of rows) {
      verdicts.push({
        g,
        w: r.w,
        kind: r.c,
        text: `${g.id} · ${r.w.name} · ${CONDITIONS[r.c].label}: pass-1 wall ${fmt(r.wall, 2)}× (≤ ${FLOOR.wall.toFixed(2)}×, JIT included): ${pf(r.wall <= FLOOR.wall)}; JIT warm-up share ${r.cpuOver > 0 ? `${fmt(100 * r.jitShare, 0)}%` : 'n/a'} of ${sfmt(r.cpuOver)} µs/req`,
        ok: r.wall <= FLOOR.wall,
      });
    }
  } else {
    table = [
      `| workload | condition | wall ms: untraced → condition | wall ratio (floor ≤ ${FLOOR.realisticWall.toFixed(2)}×) | client CPU ms to exit: untraced → condition | CPU µs/req over untraced | wall |`,
      '|---|---|---:|---:|---:|---:|:--:|',
      ...rows.map(
        (r) =>
          `| ${r.w.name} | ${CONDITIONS[r.c].label} | ${fmt(r.base.ms)} → ${fmt(r.x.ms)} | ${fmt(r.wall, 2)}× | ${fmt(r.base.cpuX)} → ${fmt(r.x.cpuX)} | ${sfmt(r.cpuOver)} (${r.cpuRange}) | ${pf(r.wall <= FLOOR.realisticWall)} |`,
      ),
    ];
    for (const r of rows) {
      verdicts.push({
        g,
        w: r.w,
        kind: r.c,
        text: `${g.id} · ${r.w.name} · ${CONDITIONS[r.c].label}: wall ${fmt(r.wall, 2)}× (≤ ${FLOOR.realisticWall.toFixed(2)}×): ${pf(r.wall <= FLOOR.realisticWall)}; CPU ${sfmt(r.cpuOver)} µs/req`,
        ok: r.wall <= FLOOR.realisticWall,
      });
    }
  }
  const every = g.workloads
    .map(
      (w) =>
        `- ${w.name}: ` +
        g.conditions
          .map(
            (c) =>
              `${c} [${results[g.id][w.name][c]
                .map(
                  (x) =>
                    `${fmt(x.ms)}/${fmt(x.cpuMs)}/${fmt(x.cpuToExitMs)}${x.passes?.[1] ? ` p2 ${fmt(x.passes[1].ms)}/${fmt(x.passes[1].cpuMs)}` : ''}`,
                )
                .join(', ')}]`,
          )
          .join('; '),
    )
    .join('\n');
  sections.push(
    `#### ${g.title}\n\n${loadText(g)}; medians of ${g.runs} run${g.runs > 1 ? 's' : ''} (the "over untraced" and ratio columns: medians of the per-round differences and ratios).\n\n${table.join('\n')}\n\nEvery run (wall ms / CPU ms timed part / CPU ms to exit${g.passes > 1 ? '; p2 = pass 2 wall / CPU' : ''}):\n${every}`,
  );
}

// What each condition recorded (Net Trace: collector snapshot; OpenTelemetry: spans exported;
// inspect: Network events the peer received).
const same = (xs) => {
  const v = [...new Set(xs)];
  return v.length === 1 ? String(v[0]) : `${Math.min(...v)}–${Math.max(...v)}`;
};
const recRows = [];
for (const g of groups) {
  for (const w of g.workloads) {
    for (const c of g.conditions.filter((x) => x !== 'untraced')) {
      const cs = checks.filter((k) => k.group === g.id && k.workload === w.name && k.cond === c);
      if (!cs.length) continue;
      const what =
        c === 'nettrace'
          ? `requests recorded ${same(cs.map((k) => k.recorded))}, completed ${same(cs.map((k) => k.completed))}, dropped events ${same(cs.map((k) => k.dropped))}`
          : c === 'otel'
            ? `spans ${same(cs.map((k) => k.recorded))}`
            : `Network.requestWillBeSent ${same(cs.map((k) => k.recorded))}, responseReceived ${same(cs.map((k) => k.responses))}, loadingFinished ${same(cs.map((k) => k.completed))}`;
      const ok = cs.every((k) => k.recorded === k.expected && (k.completed === undefined || k.completed === k.expected));
      recRows.push(
        `| ${g.id} | ${w.name} | ${CONDITIONS[c].label} | ${cs.length} | ${same(cs.map((k) => k.expected))} | ${what} | ${ok ? 'yes' : '**NO**'} |`,
      );
    }
  }
}
const recTable = [
  '| group | workload | condition | runs | requests made | what it recorded | all of them |',
  '|---|---|---|---:|---:|---|:--:|',
  ...recRows,
].join('\n');
const allRecorded = checks.every((k) => k.recorded === k.expected && (k.completed === undefined || k.completed === k.expected));

const ntVerdicts = verdicts.filter((v) => v.kind === 'nettrace');
const peerVerdicts = verdicts.filter((v) => v.kind === 'peer');
const summary = [
  `Net Trace default against the floors: ${ntVerdicts.filter((v) => v.ok).length} of ${ntVerdicts.length} cells pass`,
  ...ntVerdicts.map((v) => `- ${v.text}`),
  ...(peerVerdicts.length
    ? [
        '',
        `Net Trace cheaper than each peer (CPU and wall): ${peerVerdicts.filter((v) => v.ok).length} of ${peerVerdicts.length} comparisons`,
        ...peerVerdicts.map((v) => `- ${v.text}`),
      ]
    : []),
  '',
  `Every condition recorded every request it saw made: **${allRecorded ? 'yes' : 'NO'}**`,
].join('\n');

const nodes = [...new Set(groups.map((g) => g.node.version))].join(', ');
const body = `Machine: ${machineLine(m, loadEnd)} · Node versions: ${nodes}

Measured with issue 17's record events (the preload's default path since 2026-11-22), on a 2-core box that may be
shared with other work (see the load average with every table: a 1-minute load above 2 means other processes competed
with client, server and collector for the two cores). The section "Issue 17 floors — baseline before the rewrite"
holds the same benchmark before the rewrite. Ratios and "over untraced" figures are medians of per-round ones: the
conditions of a workload run back to back in each round (rotated every round), and each round's difference is taken
at one moment of the machine's load; the range of the rounds' differences, and every run (listed under each table),
are the honest error bar. ${PIN ? 'The client ran pinned to CPU 0 and everything else (servers, inspector peer, the benchmark with its collector) to CPU 1 (`BENCH_PIN=0` to not pin).' : 'Nothing was pinned to a CPU (`BENCH_PIN=0`, or fewer than 2 CPUs).'} Client CPU (user+system of the client process, all its threads, \`process.cpuUsage\`) is steadier than wall time
under load, but also moves with cache and scheduler contention.

Run: \`${FULL ? 'npm run bench:full' : 'npm run bench'}\` (\`node bench/floors.mjs\`${FULL ? ` with \`BENCH_FULL=1\`${PEERS_ONLY ? `, \`BENCH_PEERS_ONLY=1\` and the peer Nodes ${peerVersions}: the section "Issue 17 floors — with record events" holds the full run` : ''}` : ''}), took ${fmt(minutes, 1)} min
(BENCH_SUSTAINED_RUNS=${RUNS_SUSTAINED}, BENCH_RUNS=${RUNS}).
${FULL ? '' : 'Without `BENCH_FULL=1` only untraced and Net Trace run, on this Node; `npm run bench:full` adds OpenTelemetry and the peer cells on Node 24 and 26.\n'}
How it measures:
- **Sustained** rows: ${N_SUSTAINED.toLocaleString('en-US')} timed requests after ${WARMUP} warm-up, one client process per run, keep-alive,
  ~100-byte responses from \`bench/apps/server.mjs\`; \`http\` = \`http.get\` with a keep-alive Agent (maxSockets ${CONC}),
  \`fetch\` = the global fetch. CPU floor (≤ ${FLOOR.cpuUsPerReq} µs/request over untraced) on client CPU from the first timed
  request to the process's exit (so work a tracer defers past the last response counts); wall floor ≤ ${FLOOR.wall.toFixed(2)}×.
- **${N.toLocaleString('en-US')}-request cells and the JIT warm-up share**: each client process makes ${WARMUP} warm-up requests, then the
  ${N.toLocaleString('en-US')}-request timed part twice back to back (\`client.mjs --passes=2\`). Pass 1 is exactly the cell of
  \`bench/overhead.mjs\` (JIT warm-up included; the wall floor ≤ ${FLOOR.wall.toFixed(2)}× is judged on it). Pass 2 repeats it in the same
  process, on the same connections, with V8 having compiled the hot code of program and tracer. The tracer's JIT
  warm-up share = (over₁ − over₂) / over₁, where overₖ is its client CPU per request over untraced in pass k: the
  untraced program's own warm-up cancels out, and what is left is what compiling (and the first-time work of) the
  tracer's code added to pass 1. Why this and not \`--no-opt\`/\`--max-lazy\`: those change how the program itself
  runs, so they would measure a different program; two passes keep everything the same except how warm the code is.
  A share near 0 (or negative: noise) means the overhead is steady-state cost; the sustained rows cross-check it.
- **Realistic** row: HTTPS keep-alive with TLS to \`bench/apps/tls-server.mjs\` on 127.0.0.1 (the test CA's localhost
  certificate, test/fixtures/certs; each response held ${DELAY_MS} ms; a ${tls.bodyBytes}-byte JSON document), concurrency ${CONC_REAL}: slots
  0, 2, 4… use \`https.get\` (keep-alive https.Agent), slots 1, 3, 5… the global \`fetch\` (undici's global
  dispatcher, trusting the test CA through \`NODE_EXTRA_CA_CERTS\`, set for every condition); every body is read whole
  and \`JSON.parse\`d. ${N_REAL.toLocaleString('en-US')} timed requests after ${WARMUP} warm-up. Floor: wall ≤ ${FLOOR.realisticWall.toFixed(2)}×.
- Conditions: **untraced** (plain node); **Net Trace default** (\`--require dist/preload.cjs\`, default options, streaming to a
  real collector in the benchmark's process)${
    FULL
      ? `; **OpenTelemetry** (\`bench/apps/otel-preload.cjs\`: instrumentation-http +
  instrumentation-undici, BatchSpanProcessor, discarding exporter); **Node network inspection** (Node ${peerVersions} only:
  \`node --inspect=0 --experimental-network-inspection\`, the source of VS Code js-debug's Network view, with
  \`bench/apps/inspector-peer.mjs\` in its own process connected to the inspector WebSocket, sending \`Runtime.enable\` +
  \`Network.enable\` and parsing every event; the client waits until the peer has enabled the domain and released it
  with \`Runtime.evaluate\` before its warm-up; on this machine Node 20.20 accepts the flag but reports only \`http\`
  requests, Node 22.23, 24.21 and 26.10 report \`http\` and \`fetch\`; the peer Nodes are the two newest the tests run on). js-debug also enables the Debugger domain and more; this peer is the
  network view's share only, a lower bound of what debugging with js-debug costs. Every condition of a cell runs on the
  same Node: the Node ${peerVersions} tables repeat untraced and Net Trace on it`
      : ''
  }.

${summary}

${sections.join('\n\n')}

What each condition recorded (per run; warm-up requests and both passes included in "requests made"):

${recTable}`;

console.log(`\n${HEADING} — ${machineLine(m, loadEnd)}${QUICK ? ' — BENCH_QUICK (smoke test, numbers mean nothing)' : ''}\n`);
console.log(summary);
console.log('');
console.log(sections.join('\n\n'));
console.log('');
console.log(recTable);
console.log(`\nfloors benchmark took ${fmt(minutes, 1)} min`);
if (!noWrite) {
  writeSection(HEADING, body);
  console.error(`\nwrote test-results/bench/runs.md (section "${HEADING}")`);
} else if (QUICK) console.error('\nBENCH_QUICK: test-results/bench/runs.md not written (pass --write to write anyway)');
