// Issue 64, what a replayed request costs (docs/replay.md): the bench client (bench/apps/client.mjs
// --numbered: `?n=K` on each URL, so every request has a recorded call of its own), http and fetch,
// sequential, in three conditions:
//   - traced: the preload, no replay, against the bench server over a keep-alive connection;
//   - replayed: the preload with a replay (`--replay-timing now`), every request answered by a
//     collector in this process from a recording of `200 ok` answers, the server never reached;
//   - untraced, against the server, for reference.
// Measures, per request:
//   - instructions (primary) of the client process under `valgrind --tool=callgrind` at two sizes
//     (`--small`, `--large` timed requests after `--warmup`): Ir per request = the difference /
//     (large − small) (bench/callgrind.mjs's header: single-threaded V8, the preload's timers scaled);
//   - the client's CPU and wall time, median of `--cpu-runs` runs in rotation (move with the load);
//   - the collector's CPU per answer (this process's CPU during the replayed runs, less the same
//     during the traced ones, per request).
//
//   node bench/replay.mjs [--small=200] [--large=1000] [--warmup=300] [--jobs=2] [--cpu-runs=5]
//                         [--cpu-requests=2000] [--no-callgrind] [--no-write]
// Writes its section of test-results/bench/runs.md unless --no-write (or BENCH_QUICK=1).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callgrindIr, scaledCopy, STEADY_NODE_FLAGS } from './lib/callgrindRun.mjs';
import {
  appsDir,
  fmt,
  loadCore,
  machine,
  machineLine,
  median,
  nodeOptions,
  preloadPath,
  QUICK,
  runNode,
  startServer,
  writeSection,
} from './lib/common.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : def;
};
const small = opt('small', QUICK ? 20 : 200);
const large = opt('large', QUICK ? 60 : 1000);
const warmup = opt('warmup', QUICK ? 20 : 300);
const jobs = opt('jobs', 2);
const cpuRuns = opt('cpu-runs', QUICK ? 2 : 5);
const cpuRequests = opt('cpu-requests', QUICK ? 200 : 2000);
const withCallgrind = !args.includes('--no-callgrind');
const write = !args.includes('--no-write') && !QUICK;
const SECTION = 'A replayed request — issue 64';
const CLIENTS = ['http', 'fetch'];
const CONDITIONS = ['untraced', 'traced', 'replayed'];

const core = loadCore();
const server = await startServer();
const scratch = mkdtempSync(join(tmpdir(), 'nettrace-replay-bench-'));
// Copies taken now, so a rebuild while the benchmark runs does not change them.
const benchPreload = scaledCopy(preloadPath, 1, join(scratch, 'as-built'));
const scaledPreload = scaledCopy(preloadPath, 1_000_000, join(scratch, 'scaled'));
const m0 = machine();
const traceCollector = await core.startCollector({ description: 'replay bench (traced)' });

/** A recording of `count` numbered `GET <server>/?n=K` answered `200 ok`, in the contract's shape. */
function recording(count) {
  const httpRequests = [];
  const exchanges = [];
  for (let k = 0; k < count; k++) {
    const traceID = `req-${k + 1}`;
    httpRequests.push({ traceID, pid: 1, client: 'http', reqMethod: 'GET', reqURL: `${server.url}?n=${k}`, reqStartAt: k });
    exchanges.push({
      traceID,
      response: {
        status: 200,
        statusText: 'OK',
        headers: [
          ['content-type', 'text/plain'],
          ['content-length', '2'],
        ],
      },
      body: { base64: Buffer.from('ok').toString('base64'), size: 2 },
      end: { kind: 'completed' },
    });
  }
  const trace = {
    formatVersion: 1,
    traceBeginAt: new Date().toISOString(),
    httpRequests,
    exchanges,
    recording: { recordedAt: Date.now() },
  };
  return core.replay.readReplayTable(trace);
}

const OPTIONS = { unmatched: 'fail', timing: 'now', dates: 'keep', ignoreQuery: [], ignoreFields: [], matchHeaders: [], ignoreHost: false };

/** The environment of a run of `condition`, and what to close after it (a replay's own collector: its answers are given once). */
async function envFor(condition, requests, scaled) {
  if (condition === 'untraced') return { env: {}, close: async () => {} };
  const preload = scaled ? scaledPreload : benchPreload;
  if (condition === 'traced')
    return {
      env: { NODE_OPTIONS: nodeOptions([preload]), NETTRACE_CONFIG: JSON.stringify({ ipcPath: traceCollector.ipcPath }) },
      close: async () => {},
    };
  const collector = await core.startCollector({
    description: 'replay bench',
    replay: { file: 'bench', table: recording(requests), options: OPTIONS },
  });
  return {
    env: {
      NODE_OPTIONS: nodeOptions([preload]),
      NETTRACE_CONFIG: JSON.stringify({ ipcPath: collector.ipcPath, replay: { unmatched: 'fail', timing: 'now' } }),
    },
    collector,
    close: () => collector.close(),
  };
}

const clientArgs = (client, n, warm) => [
  join(appsDir, 'client.mjs'),
  client,
  'seq',
  String(n),
  '1',
  String(warm),
  server.url,
  '--numbered',
];

/** Ir per request of every (client, condition), by callgrind at two sizes. */
async function instructions() {
  const tasks = [];
  for (const condition of CONDITIONS) for (const client of CLIENTS) for (const n of [small, large]) tasks.push({ client, condition, n });
  const ir = new Map();
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const { client, condition, n } = tasks[next++];
      const { env, close } = await envFor(condition, warmup + n, true);
      try {
        const e = { ...process.env, ...env };
        if (condition === 'untraced') {
          delete e.NODE_OPTIONS;
          delete e.NETTRACE_CONFIG;
        }
        const r = await callgrindIr([...STEADY_NODE_FLAGS, ...clientArgs(client, n, warmup)], e);
        ir.set(`${client}/${condition}/${n}`, r.ir);
        console.error(JSON.stringify({ client, condition, requests: n, ir: r.ir, seconds: r.seconds }));
      } finally {
        await close();
      }
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  const per = new Map();
  for (const client of CLIENTS)
    for (const condition of CONDITIONS)
      per.set(
        `${client}/${condition}`,
        (ir.get(`${client}/${condition}/${large}`) - ir.get(`${client}/${condition}/${small}`)) / (large - small),
      );
  return per;
}

/** Median client CPU µs and wall µs per request, and the collector's CPU µs per request, runs in rotation. */
async function timings() {
  const samples = new Map();
  const push = (key, v) => samples.set(key, [...(samples.get(key) ?? []), v]);
  for (let run = 0; run < cpuRuns; run++) {
    for (const client of CLIENTS) {
      for (const condition of CONDITIONS) {
        const { env, close } = await envFor(condition, 200 + cpuRequests, false);
        const before = process.cpuUsage();
        let line;
        try {
          const { done } = runNode(clientArgs(client, cpuRequests, 200), { env, onLine: (o) => (line ??= o) });
          await done;
        } finally {
          await close();
        }
        const used = process.cpuUsage(before);
        if (line?.failures) throw new Error(`${client}/${condition}: ${line.failures} requests failed`);
        push(`${client}/${condition}/cpu`, (line.cpuMs * 1000) / cpuRequests);
        push(`${client}/${condition}/wall`, (line.ms * 1000) / cpuRequests);
        push(`${client}/${condition}/collector`, (used.user + used.system) / cpuRequests);
      }
    }
  }
  const out = new Map();
  for (const [k, v] of samples) out.set(k, median(v));
  return out;
}

try {
  const ir = withCallgrind ? await instructions() : undefined;
  const t = cpuRuns > 0 ? await timings() : undefined;
  const rows = [];
  rows.push('| client | condition | Ir per request | client CPU µs per request | wall µs per request | collector CPU µs per request |');
  rows.push('|---|---|---|---|---|---|');
  for (const client of CLIENTS)
    for (const condition of CONDITIONS)
      rows.push(
        `| ${client} | ${condition} | ${fmt(ir?.get(`${client}/${condition}`))} | ${fmt(t?.get(`${client}/${condition}/cpu`), 1)} | ${fmt(t?.get(`${client}/${condition}/wall`), 1)} | ${condition === 'untraced' ? '–' : fmt(t?.get(`${client}/${condition}/collector`), 1)} |`,
      );
  const body = [
    `\`node bench/replay.mjs\` (${small}/${large} timed requests after ${warmup} for the instructions; ${cpuRequests} after 200, median of ${cpuRuns} runs, for the times). ${machineLine(m0, machine())}`,
    '',
    ...rows,
  ].join('\n');
  console.log(body);
  if (write) writeSection(SECTION, body);
} finally {
  await traceCollector.close();
  await server.stop();
}
