// What a server pays per incoming request (issue 37), and what causality adds per outgoing one.
//
// The measured process is bench/apps/gateway-server.cjs: an http server whose handler answers at
// once (`plain`) or after 3 sequential awaited calls to a backend (`calls`: bench/apps/server.mjs
// in its own process) over a keep-alive agent. The load generator (bench/apps/load.cjs, never
// traced) makes BENCH_REQUESTS requests at BENCH_CONCURRENCY over keep-alive after BENCH_WARMUP,
// and reads the server's own CPU time (user + system, process.cpuUsage) before and after: the
// figure is the server's CPU per incoming request, and its difference to untraced in the same
// round. Conditions of the server process:
//   untraced    plain node
//   bare        bench/apps/bare-server-hooks.cjs: the server channels with empty subscribers
//   nettrace    dist/preload.cjs, default options, streaming to a real collector in this process
//   no-cause    the same with NETTRACE_CAUSALITY=0: incoming requests recorded, no async context
//   otel        @opentelemetry/instrumentation-http (+ undici), BatchSpanProcessor, discarding
//               exporter (bench/apps/otel-preload.cjs): server and client spans
// Causality's extra cost per outgoing request = (nettrace − no-cause) / 3 in the `calls` workload.
// Every cell runs BENCH_RUNS times, the conditions rotated within each round; medians reported.
// Each Node of BENCH_NODES (default "20,26": on 20 and 22 AsyncLocalStorage turns on promise
// hooks, on 24 and later it is AsyncContextFrame) runs the whole matrix.
//
//   node bench/servers.mjs                 (writes its section of test-results/bench/runs.md)
//   BENCH_QUICK=1 node bench/servers.mjs   smoke test: 1 run, 300 requests, runs file untouched
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { nodeBin } from '../scripts/nodes.mjs';
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
  QUICK,
  runNode,
  startServer,
  writeSection,
} from './lib/common.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 5));
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? (QUICK ? 300 : 2000));
const CONC = Number(process.env.BENCH_CONCURRENCY ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP ?? (QUICK ? 100 : 500));
const CALLS = 3;
const NODES = (process.env.BENCH_NODES ?? '20,26').split(',').map((s) => s.trim());
const CONDITIONS = ['untraced', 'bare', 'nettrace', 'no-cause', 'otel'];
const WORKLOADS = ['plain', 'calls'];
export const HEADING = 'Servers: cost per incoming request and of causality — issue 37';

const core = loadCore();

function binOf(major) {
  if (major === process.versions.node.split('.')[0]) return process.execPath;
  const bin = nodeBin(major);
  return existsSync(bin) ? bin : undefined;
}

/** One cell: the server under `cond`, the load against it; resolves the server's CPU µs per request. */
async function cell(bin, workload, cond, backendPort) {
  const env = {};
  let collector;
  if (cond === 'nettrace' || cond === 'no-cause') {
    collector = await core.startCollector({ description: `bench servers ${workload} ${cond}` });
    env.NODE_OPTIONS = nodeOptions([preloadPath]);
    env.NETTRACE_CONFIG = JSON.stringify({ ipcPath: collector.ipcPath });
    if (cond === 'no-cause') env.NETTRACE_CAUSALITY = '0';
  } else if (cond === 'bare') env.NODE_OPTIONS = nodeOptions([join(appsDir, 'bare-server-hooks.cjs')]);
  else if (cond === 'otel') env.NODE_OPTIONS = nodeOptions([otelPreloadPath]);
  let ready;
  const portP = new Promise((r) => (ready = r));
  const server = runNode([join(appsDir, 'gateway-server.cjs'), workload, String(backendPort), String(CALLS)], {
    env,
    execPath: bin,
    onLine: (o) => o.port !== undefined && ready(o.port),
  });
  const port = await Promise.race([portP, server.done.then((r) => Promise.reject(new Error(`server exited: ${r.stderr}`)))]);
  const load = await runNode([join(appsDir, 'load.cjs'), String(port), String(REQUESTS), String(CONC), String(WARMUP)]).done;
  server.child.kill('SIGTERM');
  await server.done;
  let recorded;
  if (collector) {
    await collector.waitForIdle({ timeoutMs: 10_000 });
    recorded = collector.session.builder.trace.incomingRequests?.length;
    await collector.close();
  }
  const out = load.lines.find((l) => l.cpuUs !== undefined);
  if (!out || out.failed) throw new Error(`load failed: ${JSON.stringify(out)} ${load.stderr}`);
  return { cpuPerReq: out.cpuUs / REQUESTS, wallPerReq: (out.wallMs * 1000) / REQUESTS, recorded };
}

const m = machine();
const results = {};
const backend = await startServer();
try {
  for (const major of NODES) {
    const bin = binOf(major);
    if (!bin) {
      console.error(`servers: node ${major} is not installed, skipped`);
      continue;
    }
    for (const workload of WORKLOADS) {
      const per = Object.fromEntries(CONDITIONS.map((c) => [c, []]));
      for (let run = 0; run < RUNS; run++) {
        const order = CONDITIONS.map((_, i) => CONDITIONS[(i + run) % CONDITIONS.length]);
        for (const cond of order) {
          const r = await cell(bin, workload, cond, backend.port);
          per[cond].push(r.cpuPerReq);
          console.error(
            `node ${major} ${workload} ${cond} run ${run}: ${r.cpuPerReq.toFixed(1)} µs CPU/req${r.recorded !== undefined ? `, ${r.recorded} recorded` : ''}`,
          );
        }
      }
      results[`${major} ${workload}`] = Object.fromEntries(CONDITIONS.map((c) => [c, median(per[c])]));
    }
  }
} finally {
  await backend.stop();
}

const rows = [];
for (const [key, r] of Object.entries(results)) {
  const [major, workload] = key.split(' ');
  const over = (c) => (r[c] >= r.untraced ? '+' : '−') + fmt(Math.abs(r[c] - r.untraced), 1);
  const cause = workload === 'calls' ? fmt((r.nettrace - r['no-cause']) / CALLS, 1) : '—';
  rows.push(
    `| ${major} | ${workload} | ${fmt(r.untraced, 1)} | ${over('bare')} | ${over('nettrace')} | ${over('no-cause')} | ${over('otel')} | ${cause} |`,
  );
}
const body = `${machineLine(m, machine())}

\`node bench/servers.mjs\` (BENCH_RUNS=${RUNS}, ${REQUESTS} requests after ${WARMUP} warm-up, ${CONC} concurrent, keep-alive).
The server's own CPU per incoming request (µs, median of the runs), and over untraced in the same rounds.
\`plain\`: the handler answers at once; \`calls\`: it makes ${CALLS} sequential awaited calls to a backend first (each
call traced too, so the traced rows include ${CALLS} outgoing requests). The last column is causality's extra CPU per
outgoing request: (Net Trace − Net Trace with \`NETTRACE_CAUSALITY=0\`) / ${CALLS}.
On this shared 2-core VM a cell moves by about ±15 µs between rounds (in \`plain\`, Net Trace and its no-causality
twin do the same work): read the causality column as indicative. On Node 20 and 22 it is AsyncLocalStorage's
promise hooks, which every promise of the process pays once it has served a request; on 24 and later
(AsyncContextFrame) it is the context carried around the request's events.

| Node | workload | untraced µs/req | bare hooks | Net Trace | Net Trace, no causality | OpenTelemetry http | causality µs per outgoing |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}
`;
console.log(body);
if (!QUICK || process.argv.includes('--write')) writeSection(HEADING, body);
