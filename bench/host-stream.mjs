// Extension host streaming benchmark (issue 3, Performance: "measure streaming at 1,000 new
// requests per second with the panel open: the extension host keeps up, with no growing backlog").
// bench/webview.mjs measures the panel's side; this measures the host's side, without VS Code
// (the path is vscode-free):
//   - bench/apps/server.mjs in its own process (keep-alive HTTP server);
//   - a real collector (startCollector, src/collector) started through a real TraceStore
//     (src/extension/traceStore.ts) as the extension starts one per Net Trace session (default
//     change throttle: 250 ms), in this process — the "extension host";
//   - bench/apps/stream-client.mjs, traced (NODE_OPTIONS=--require dist/preload.cjs,
//     NETTRACE_CONFIG={"ipcPath"}: the extension's default tracing options), making 1,000 new
//     requests per second (10 every 10 ms, keep-alive Agent) for 20 s;
//   - in this process, the panel host of src/extension/panel.ts with the panel open: a `reset`
//     when the session starts, then for every throttled 'change' a LiveFeed batch posted as
//     `append`/`update` messages, serialised as webview.postMessage does (JSON.stringify of the
//     message); plus the extension's other 'change' listeners: the CodeLens index (AnnotationIndex
//     upserts, codeLens.ts) and the status bar count (every 300 ms, TraceStore.counts); and at the
//     end the panel's `onEnded` update.
// Per second: requests made by the client, seen in the session, delivered in `append` batches,
// the backlog (made − delivered), the batch count and cost (LiveFeed.batches + JSON.stringify),
// first-delivery latency (request start → delivered), event-loop delay of this process
// (monitorEventLoopDelay) and its CPU %. "Keeps up": delivered rate ≈ made rate, the backlog of the
// last 5 s no bigger than that of the first 5 s, every request delivered at the end.
// Prints a table and writes it as the subsection "Extension host streaming (1,000 requests/s)" at
// the end of the "Panel (webview) — issue 3" section of test-results/bench/runs.md (replacing an earlier run
// of this subsection; nothing else changes).
//
//   node bench/host-stream.mjs [--no-write] [--seconds 20] [--rate 1000]
//
// Replay mode (issue 17: "the extension host and the CLI must keep up at 10,000 requests/s with the
// panel open, no growing backlog"; a real traced client cannot make 10,000 requests/s on a 2-core
// machine while the host runs too):
//   node bench/host-stream.mjs --replay [--rate 10000[,8000,…]] [--seconds 10] [--runs 2]
//                              [--procs 10] [--wire events|json] [--profile] [--no-write]
// First RECORDS what real preloads send: <procs> processes of bench/apps/client.mjs (http, 16
// concurrent keep-alive GETs to bench/apps/server.mjs, as fast as they go, two at a time), traced
// with the default options (NODE_OPTIONS=--require dist/preload.cjs, NETTRACE_CONFIG={"ipcPath"}) and
// record events on (NETTRACE_EVENTS=1; --wire json: the JSON record lines, off by default as built)
// against a recording socket in this process that keeps every connection's bytes; together they
// make max(rate) × seconds requests (each process's count is its own output). Then, per rate and
// run, REPLAYS them (bench/apps/replay-client.mjs, its own process) into (1) the TraceStore
// session's collector with the host side exactly as above, and (2) a plain startCollector session
// with no listener (the CLI's case, `nettrace run`); a lower rate replays the first processes'
// recordings only (rate × seconds requests). The bytes are the preloads' own, so the collector
// cannot tell; only their times are the recording's (earlier than the session's start), so
// "start → delivered" is replaced by "bytes written → delivered" (the k-th request delivered
// against the time the k-th request's bytes were written: a FIFO estimate). --profile adds one
// more run of each at the first rate under the V8 CPU profiler (in this process) and reports the
// top functions by self time. Writes the subsection "Extension host and collector at … requests/s
// (replay) — issue 17" at the end of the "Issue 17: record events, the first step" section.
// Needs dist/preload.cjs (`npm run build`).

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session as InspectorSession } from 'node:inspector';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { constants as perfConstants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { appsDir, machine, machineLine, preloadPath, resultsPath, root, runNode, startServer, writeResults } from './lib/common.mjs';
import { bundleTs } from '../test/lib/bundleTs.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const REPLAY = args.includes('--replay');
const RATE = opt('--rate', 1000);
const SECONDS = opt('--seconds', REPLAY ? 10 : 20);
/** Replay: the rates to run, in order (`--rate 10000,8000`). */
const RATES = REPLAY
  ? String(args.includes('--rate') ? args[args.indexOf('--rate') + 1] : '10000')
      .split(',')
      .map(Number)
  : [RATE];
const RUNS = opt('--runs', 2);
const PROCS = opt('--procs', 10);
const PROFILE = args.includes('--profile');
/**
 * Replay: what the recorded preloads send. `events` (default): record events
 * (NETTRACE_EVENTS=1: off by default in the preload until every reader of the wire reads frames,
 * see src/preload/transport/eventQueue.ts); `json`: the preload's default JSON record lines.
 */
const WIRE = args.includes('--wire') ? args[args.indexOf('--wire') + 1] : 'events';
if (!['events', 'json'].includes(WIRE)) {
  console.error(`bench/host-stream: --wire events|json, not ${WIRE}`);
  process.exit(2);
}
const TICK_MS = 10;
const SAMPLE_MS = 100;
const write = !args.includes('--no-write');
if (!existsSync(preloadPath)) {
  console.error(`bench/host-stream: ${preloadPath} is missing: run \`npm run build\` first`);
  process.exit(1);
}

// ---- statistics -----------------------------------------------------------------------------------
const sorted = (a) => [...a].sort((x, y) => x - y);
const pct = (a, p) => {
  const s = sorted(a);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] : NaN;
};
const med = (a) => pct(a, 50);
const max = (a) => (a.length ? a.reduce((x, y) => (y > x ? y : x), -Infinity) : NaN); // no spread: replay has 200k values
const mean = (a) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN);
const f0 = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : '—');
const f2 = (n) => (Number.isFinite(n) ? n.toFixed(2) : '—');

// ---- the client process and this process's samples, shared by the live and the replay runs ---------
/**
 * Runs a client that prints `{at, started, ...}` lines and a last one with `final: true`: its
 * samples, and a promise of the final line that rejects if the client exits first (`what` names it).
 */
function followClient(args, what, env) {
  const samples = [];
  let resolveFinal;
  const finalP = new Promise((r) => (resolveFinal = r));
  const client = runNode(args, {
    ...(env ? { env } : {}),
    onLine: (o) => {
      if (typeof o.at !== 'number') return;
      samples.push(o);
      if (o.final) resolveFinal(o);
    },
  });
  const final = Promise.race([
    finalP,
    client.done.then((r) => {
      throw new Error(`${what} exited before finishing (code ${r.code}): ${r.stderr}`);
    }),
  ]);
  return { client, samples, final };
}

/**
 * Samples this process every SAMPLE_MS from T0: `probe()`'s fields with the time and CPU, and per
 * second the event-loop delay (`secs`); `eldAll` covers the stream's `seconds` only. stop() ends it.
 */
function startSampler(T0, seconds, probe) {
  const eld = monitorEventLoopDelay({ resolution: 5 });
  const eldAll = monitorEventLoopDelay({ resolution: 5 });
  eld.enable();
  const perSecond = 1000 / SAMPLE_MS;
  const samples = [];
  const secs = [];
  let sampling = true;
  let tick = 0;
  const sample = () => {
    if (tick === 0) {
      eld.reset();
      eldAll.enable();
    }
    samples.push({ at: Date.now(), ...probe(), cpu: process.cpuUsage() });
    if (tick > 0 && tick % perSecond === 0) {
      secs.push({ p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 });
      eld.reset();
    }
    if (tick === seconds * perSecond) eldAll.disable(); // the "all" row: the stream's seconds only
    tick++;
    if (sampling) setTimeout(sample, Math.max(0, T0 + tick * SAMPLE_MS - Date.now()));
  };
  setTimeout(sample, Math.max(0, T0 - Date.now()));
  return {
    samples,
    secs,
    eldAll,
    stop() {
      sampling = false;
      eld.disable();
      eldAll.disable();
    },
  };
}

/**
 * The "keeps up" rule over `points` ({at, n}: a count the host or collector reached at `at`, epoch
 * ms): its rate within 3% of the rate made between the first and the last point of seconds
 * `edge`..`seconds` (after `t0`), and the backlog (made − n at each point) of the last `edge`
 * seconds not above that of the first (×1.25 + 50). The host's points are its batches (what was
 * delivered right after each): a count sampled between batches is a sawtooth whose phase at two
 * samples moved the rate by up to a batch (≈ 1.7% at 2,000/s over 15 s) and the backlog's mean by
 * how late the batches fell.
 */
function keepUp(points, madeAt, t0, seconds, edge) {
  const within = (from, to) => points.filter((p) => p.at > t0 + from * 1000 && p.at <= t0 + to * 1000);
  const backlogs = (list) => list.map((p) => madeAt(p.at) - p.n);
  const firstBacklog = backlogs(within(0, edge));
  const lastBacklog = backlogs(within(seconds - edge, seconds));
  const span = within(edge, seconds);
  const A = span[0];
  const Z = span[span.length - 1];
  const ok = A !== undefined && Z.at > A.at;
  const madeRate = ok ? ((madeAt(Z.at) - madeAt(A.at)) * 1000) / (Z.at - A.at) : NaN;
  const rate = ok ? ((Z.n - A.n) * 1000) / (Z.at - A.at) : NaN;
  return {
    firstBacklog,
    lastBacklog,
    madeRate,
    rate,
    rateOk: Math.abs(rate / madeRate - 1) <= 0.03,
    backlogOk: mean(lastBacklog) <= 1.25 * mean(firstBacklog) + 50,
  };
}

// ---- the extension's vscode-free modules, bundled from src/ (as test/unit/launchConfig.test.mjs) --
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-hoststream-'));
const ext = bundleTs(
  [
    "export { TraceStore } from './src/extension/traceStore';",
    "export { LiveFeed } from './src/extension/liveFeed';",
    "export { AnnotationIndex } from './src/extension/annotations';",
    "export { startCollector } from './src/collector/server';",
    "export { EventDecoder } from './src/collector/eventDecoder';",
  ],
  { dir: tmp },
);

const m0 = machine();
const server = await startServer();
const logs = [];
let client;
try {
  if (!REPLAY) {
    const { text } = await hostRun({ rate: RATE, seconds: SECONDS });
    console.log(text);
    if (write) {
      writeSubsection(
        `### Extension host streaming (${RATE.toLocaleString('en-US')} requests/s)`,
        `Run ${m0.date.replace('T', ' ').slice(0, 16)} UTC.\n\n${text}`,
      );
      console.log(`\nwritten to ${resultsPath}`);
    }
  } else await replayMain();
} finally {
  if (client && client.child.exitCode === null) client.child.kill('SIGTERM');
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
}

/**
 * One run of the extension host's side: a TraceStore session, the panel's LiveFeed, the CodeLens
 * index and the status bar, fed by the traced stream client (live), or with `replay` ({manifest}:
 * bench/apps/replay-client.mjs writing recorded preload bytes to the session's collector).
 * Returns the report's text and a summary.
 */
async function hostRun({ rate, seconds, replay }) {
  const edge = Math.min(5, Math.floor(seconds / 2)); // "first and last 5 s" (less in short runs)
  // ---- the extension: a TraceStore session (extension.ts passes no changeIntervalMs: 250 ms) ----
  const store = new ext.TraceStore({ startCollector: ext.startCollector, log: (l) => logs.push(l) });
  const clientScript = join(appsDir, replay ? 'replay-client.mjs' : 'stream-client.mjs');
  const { key, ipcPath } = await store.prepare(replay ? 'bench replay (recorded preload bytes)' : `node ${relative(root, clientScript)}`);
  const entry = store.attach(key, 'bench-debug-session');
  const session = entry.session;

  // PanelHost.post: webview.postMessage serialises the message (JSON.stringify).
  let postedBytes = 0;
  const post = (msg) => {
    const s = JSON.stringify(msg);
    postedBytes += s.length;
    return s.length;
  };

  // PanelHost with the panel open and ready (panel.ts sendReset): `traces`, `reset`, a LiveFeed.
  let feed;
  {
    const trace = store.snapshot(entry);
    post({ type: 'traces', traces: store.items(), activeTraceKey: key });
    feed = new ext.LiveFeed(session);
    feed.reset(trace.httpRequests);
    post({ type: 'reset', traceKey: key, live: true, traceJson: JSON.stringify(trace) });
  }

  // PanelHost.streamChanges (registered first, as in extension.ts), measured.
  const batches = []; // {at, ms, bytes, appended, updated}
  const firstLat = []; // [at, ms]: request start → first delivered
  const doneLat = []; // [at, ms]: request end → delivered finished
  const delivered = new Set();
  const deliveredDone = new Set();
  store.on('change', (e, ids, records) => {
    if (e.key !== key || !feed) return;
    const t0 = performance.now();
    const d0 = delivered.size;
    const { append, update, traceEndAt } = feed.batches(ids, records);
    let bytes = 0;
    if (append) bytes += post({ type: 'append', traceKey: key, traceEndAt, ...append });
    if (update) bytes += post({ type: 'update', traceKey: key, traceEndAt, ...update });
    const ms = performance.now() - t0;
    const at = Date.now();
    const now = session.builder.relative(at);
    for (const r of append?.httpRequests ?? []) {
      if (!delivered.has(r.traceID)) {
        delivered.add(r.traceID);
        if (!replay && typeof r.reqStartAt === 'number') firstLat.push([at, now - r.reqStartAt]);
      }
    }
    for (const r of [...(append?.httpRequests ?? []), ...(update?.httpRequests ?? [])]) {
      const end = r.respDoneAt ?? r.reqErrorAt;
      if (end !== undefined && !deliveredDone.has(r.traceID)) {
        deliveredDone.add(r.traceID);
        if (!replay) doneLat.push([at, now - end]);
      }
    }
    batches.push({
      at,
      ms,
      bytes,
      appended: append?.httpRequests?.length ?? 0,
      updated: update?.httpRequests?.length ?? 0,
      d0,
      d1: delivered.size,
    });
  });

  // TraceAnnotations (codeLens.ts): the index follows every change of the active trace.
  const index = new ext.AnnotationIndex();
  let otherMs = 0;
  store.on('change', (e, ids) => {
    if (e.key !== key || !e.session) return;
    const t0 = performance.now();
    for (const id of ids) {
      const req = e.session.request(id);
      if (req) index.upsert(req);
    }
    const ms = performance.now() - t0;
    otherMs += ms;
    if (batches.length) batches[batches.length - 1].indexMs = ms;
  });
  // The status bar (extension.ts): request and failure counts, at most every 300 ms.
  let statusTimer;
  let statusText = '';
  store.on('change', () => {
    if (statusTimer) return;
    statusTimer = setTimeout(() => {
      statusTimer = undefined;
      const t0 = performance.now();
      const shown = store.live().find((e) => e.key === key);
      if (shown) {
        const { requests, failed } = store.counts(shown);
        statusText = `Net Trace: ${requests} requests${failed ? `, ${failed} failed` : ''}`;
      }
      otherMs += performance.now() - t0;
    }, 300);
  });

  // The panel's onEnded (timed separately): pending changes go out as a batch, then the end of
  // live mode with the stats and every connection record (no second copy of the requests).
  let ended;
  store.on('ended', (e) => {
    if (e.key !== key || !feed) return;
    const t0 = performance.now();
    e.session?.flushChanges();
    const trace = e.session.builder.trace;
    const bytes = post({
      type: 'update',
      traceKey: key,
      traceEndAt: trace.traceEndAt,
      live: false,
      stats: trace.stats,
      ...feed.connections(),
    });
    ended = { ms: performance.now() - t0, bytes, requests: trace.httpRequests.length };
    feed = undefined;
  });

  // ---- the traced client ---------------------------------------------------------------------------
  const T0 = Date.now() + 1500; // time for the client to start and its preload to connect
  const followed = followClient(
    clientArgs({ clientScript, ipcPath, rate, seconds, T0, replay }),
    replay ? 'the replayer' : 'the client',
    replay ? {} : { NODE_OPTIONS: `--require ${JSON.stringify(preloadPath)}`, NETTRACE_CONFIG: JSON.stringify({ ipcPath }) },
  );
  client = followed.client;
  const clientSamples = followed.samples; // {at, started, completed, errors}
  const clientDone = client.done;

  // ---- this process, sampled every 100 ms from T0: {at, seen, delivered, deliveredDone, cpu} -----
  const sampler = startSampler(T0, seconds, () => ({
    seen: session.builder.trace.httpRequests.length,
    delivered: delivered.size,
    deliveredDone: deliveredDone.size,
  }));
  const { samples, secs, eldAll } = sampler;
  // Where the long stalls are: event-loop stalls over 50 ms (a 20 ms timer running late) and
  // garbage collections over 20 ms, with their time since T0.
  const stalls = [];
  let lastBeat = Date.now();
  const beat = setInterval(() => {
    const now = Date.now();
    if (now - lastBeat - 20 > 50) stalls.push({ at: (now - T0) / 1000, ms: now - lastBeat - 20 });
    lastBeat = now;
  }, 20);
  const gcs = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.duration > 20) {
        const kind =
          e.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR
            ? 'major'
            : e.detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR
              ? 'minor'
              : 'other';
        gcs.push({ at: (performance.timeOrigin + e.startTime - T0) / 1000, ms: e.duration, kind });
      }
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });

  // ---- wait for the stream, then for the host to deliver everything ------------------------------
  const final = await followed.final;
  const total = final.started;
  const doneTotal = final.completed + final.errors;
  // A replay the host cannot keep up with leaves a backlog of seconds: wait for it (up to 60 s).
  const drainDeadline = Date.now() + (replay ? 60_000 : 5000);
  while ((delivered.size < total || deliveredDone.size < doneTotal) && Date.now() < drainDeadline)
    await new Promise((r) => setTimeout(r, 5));
  const drainedAt = Date.now();
  const allDelivered = delivered.size >= total && deliveredDone.size >= doneTotal;
  // finish the current second of samples, then stop sampling
  await new Promise((r) => setTimeout(r, Math.max(0, T0 + Math.ceil((Date.now() - T0) / 1000) * 1000 + 50 - Date.now())));
  sampler.stop();
  clearInterval(beat);
  gcObserver.disconnect();

  // ---- the session ends (the debug session terminated): the panel's final update -----------------
  const clientResult = await Promise.race([clientDone, new Promise((r) => setTimeout(() => r(undefined), 5000))]);
  await store.end(key);
  const stats = session.builder.trace.stats;
  const seenTotal = session.builder.trace.httpRequests.length;
  await store.dispose();
  clearTimeout(statusTimer);
  const loadEnd = loadavg();

  // ---- per second ------------------------------------------------------------------------------------
  const madeAt = (at) => {
    const s = clientSamples;
    if (!s.length || at <= s[0].at) return s[0]?.started ?? 0;
    for (let i = 1; i < s.length; i++) {
      if (s[i].at >= at) {
        const a = s[i - 1];
        const b = s[i];
        return b.at === a.at ? b.started : a.started + ((b.started - a.started) * (at - a.at)) / (b.at - a.at);
      }
    }
    return s[s.length - 1].started;
  };
  if (replay) for (const x of writeLatencies(clientSamples, batches)) firstLat.push(x);
  const perSec = 1000 / SAMPLE_MS;
  const rows = [];
  const cpuMs = (a, b) => (b.cpu.user + b.cpu.system - a.cpu.user - a.cpu.system) / 1000;
  for (let s = 1; s <= seconds && s * perSec < samples.length; s++) {
    const P = samples[(s - 1) * perSec];
    const S = samples[s * perSec];
    const inSec = ([at]) => at > P.at && at <= S.at;
    const b = batches.filter((x) => x.at > P.at && x.at <= S.at);
    const lat = firstLat.filter(inSec).map(([, ms]) => ms);
    rows.push({
      s,
      made: madeAt(S.at) - madeAt(P.at),
      seen: S.seen - P.seen,
      delivered: S.delivered - P.delivered,
      backlog: madeAt(S.at) - S.delivered,
      batches: b.length,
      msMed: med(b.map((x) => x.ms)),
      msMax: max(b.map((x) => x.ms)),
      kbMed: med(b.map((x) => x.bytes / 1024)),
      latMed: med(lat),
      latMax: max(lat),
      lagP99: secs[s - 1]?.p99,
      lagMax: secs[s - 1]?.max,
      cpu: (cpuMs(P, S) * 100) / (S.at - P.at),
    });
  }
  const {
    firstBacklog,
    lastBacklog,
    madeRate,
    rate: deliveredRate,
    rateOk,
    backlogOk,
  } = keepUp(
    batches.map((x) => ({ at: x.at, n: x.d1 })),
    madeAt,
    samples[0].at,
    seconds,
    edge,
  );
  const Z = samples[seconds * perSec] ?? samples[samples.length - 1];
  const completeOk = allDelivered && seenTotal === total && stats.droppedEvents === 0;
  const keepsUp = rateOk && backlogOk && completeOk;
  const S0 = samples[0];
  const cpuAll = (cpuMs(S0, Z) * 100) / (Z.at - S0.at);
  const allMs = batches.filter((x) => x.at > S0.at && x.at <= Z.at);
  const allLat = firstLat.filter(([at]) => at > S0.at && at <= Z.at).map(([, ms]) => ms);
  const allDoneLat = doneLat.map(([, ms]) => ms);

  // ---- report ----------------------------------------------------------------------------------------
  const lines = [];
  if (replay) lines.push(`${replay.title} Load average (1 / 5 / 15 min) at end: ${loadEnd.map((x) => x.toFixed(2)).join(' / ')}.`, '');
  else lines.push(`Machine: ${machineLine(m0, loadEnd)}.`, '');
  if (!replay)
    lines.push(
      `Produced by \`node bench/host-stream.mjs\`. Without VS Code (the path is vscode-free): bench/apps/server.mjs in its own process; a real collector started by a real \`TraceStore\` session (change throttle 250 ms, the extension's default) in the benchmark process, which plays the extension host; bench/apps/stream-client.mjs traced by dist/preload.cjs with the extension's default options, making ${f0(rate)} new requests/s (${(rate * TICK_MS) / 1000} every ${TICK_MS} ms, keep-alive Agent, GET of ~100 bytes) for ${seconds} s. The host runs what panel.ts runs with the panel open: a \`reset\`, then per 'change' a \`LiveFeed\` batch posted as \`append\`/\`update\` and serialised as \`webview.postMessage\` does (\`JSON.stringify\`), plus the extension's other 'change' listeners (CodeLens index, status bar count). Modules bundled from src/ with esbuild at start.`,
      '',
    );
  lines.push(
    `| second | made | seen in session | delivered (\`append\`) | backlog at end (made − delivered) | batches | batch build+serialise ms p50 / max | batch KB p50 | ${replay ? 'bytes written → delivered ms p50 / max' : 'start → delivered ms p50 / max'} | event-loop delay ms p99 / max | host CPU % |`,
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of rows) {
    lines.push(
      `| ${r.s} | ${f0(r.made)} | ${f0(r.seen)} | ${f0(r.delivered)} | ${f0(r.backlog)} | ${r.batches} | ${f2(r.msMed)} / ${f2(r.msMax)} | ${f0(r.kbMed)} | ${f0(r.latMed)} / ${f0(r.latMax)} | ${f1(r.lagP99)} / ${f1(r.lagMax)} | ${f0(r.cpu)} |`,
    );
  }
  lines.push(
    `| all | ${f0(madeAt(Z.at) - madeAt(S0.at))} | ${f0(Z.seen - S0.seen)} | ${f0(Z.delivered - S0.delivered)} | mean ${f0(mean(rows.map((r) => r.backlog)))} | ${allMs.length} | ${f2(med(allMs.map((x) => x.ms)))} / ${f2(max(allMs.map((x) => x.ms)))} | ${f0(med(allMs.map((x) => x.bytes / 1024)))} | ${f0(med(allLat))} / ${f0(max(allLat))} | ${f1(eldAll.percentile(99) / 1e6)} / ${f1(eldAll.max / 1e6)} | ${f0(cpuAll)} |`,
    '',
  );
  if (replay)
    lines.push(
      `Keeps up: **${keepsUp ? 'yes' : 'NO'}**. Delivered ${f0(deliveredRate)} requests/s vs made ${f0(madeRate)} requests/s over seconds ${edge}–${seconds} (${f1((deliveredRate / madeRate - 1) * 100)}%, within ±3%: ${rateOk ? 'yes' : 'NO'}); backlog (made − delivered, right after each batch) first ${edge} s mean ${f0(mean(firstBacklog))} / max ${f0(max(firstBacklog))}, last ${edge} s mean ${f0(mean(lastBacklog))} / max ${f0(max(lastBacklog))} (not growing: ${backlogOk ? 'yes' : 'NO'}); all ${f0(total)} requests replayed were seen (${f0(seenTotal)}) and delivered (${f0(delivered.size)}${allDelivered ? '' : ` of them within ${f0((drainDeadline - final.lastStartAt) / 1000)} s`}), the last ${f0(drainedAt - final.lastStartAt)} ms after the last bytes were written, with ${f0(deliveredDone.size)} of ${f0(doneTotal)} completions; dropped events ${stats.droppedEvents}, warnings ${session.builder.trace.warnings?.length ?? 0}: ${completeOk ? 'yes' : 'NO'}. Bytes the collector had not yet read (buffered in the replayer) max ${f0(max(clientSamples.map((x) => x.queued ?? 0)) / 1024)} KB.`,
      '',
    );
  else
    lines.push(
      `Keeps up: **${keepsUp ? 'yes' : 'NO'}**. Delivered ${f0(deliveredRate)} requests/s vs made ${f0(madeRate)} requests/s over seconds ${edge}–${seconds} (${f1((deliveredRate / madeRate - 1) * 100)}%, within ±3%: ${rateOk ? 'yes' : 'NO'}); backlog (made − delivered, right after each batch) first ${edge} s mean ${f0(mean(firstBacklog))} / max ${f0(max(firstBacklog))}, last ${edge} s mean ${f0(mean(lastBacklog))} / max ${f0(max(lastBacklog))} (not growing: ${backlogOk ? 'yes' : 'NO'}; by design a sawtooth from 0 to ~${f0(rate / 4)} and more: the session emits changes at most every 250 ms); all ${f0(total)} requests made were seen (${f0(seenTotal)}) and delivered (${f0(delivered.size)}), the last ${f0(drainedAt - final.lastStartAt)} ms after it was made, and ${f0(deliveredDone.size)} of ${f0(doneTotal)} completions were delivered (end → delivered p50 ${f0(med(allDoneLat))} ms, max ${f0(max(allDoneLat))} ms); dropped events ${stats.droppedEvents}, client errors ${final.errors}${final.firstError ? ` (${final.firstError})` : ''}: ${completeOk ? 'yes' : 'NO'}.`,
      '',
    );
  lines.push(
    `Batches: ${batches.length} 'change' events, ${f1(postedBytes / 2 ** 20)} MB serialised in all; the other 'change' listeners (CodeLens index, status bar) took ${f0(otherMs)} ms in all (status bar at the end: "${statusText}"). Session end (the panel's \`onEnded\`: pending changes, the end of live mode, stats and every connection record; ${f0(ended?.requests)} requests in the trace): ${f0(ended?.ms)} ms to build and serialise, ${f1((ended?.bytes ?? NaN) / 2 ** 20)} MB, ${replay ? 'Replayer' : 'Client'} exit: ${clientResult ? `code ${clientResult.code}` : 'still running after 5 s'}.`,
  );
  const late = batches.filter((x) => x.at > Z.at);
  if (replay)
    lines.push(
      '',
      `After the stream (the replayer ends its connections; the host delivers its backlog): ${late.length} batches, ${f0(late.reduce((n, x) => n + x.appended, 0))} requests appended, ${f0(late.reduce((n, x) => n + x.updated, 0))} updated, ${f0(late.reduce((n, x) => n + x.ms, 0))} ms of batch build+serialise (max ${f0(max(late.map((x) => x.ms)))} ms).`,
    );
  else
    lines.push(
      '',
      `After the stream (${replay ? 'the replayer ends its connections' : 'the client drains, then closes its keep-alive sockets and exits'}): ${late.length} batch${late.length === 1 ? '' : 'es'}: ${late.map((x) => `${f0(x.appended)} appended + ${f0(x.updated)} updated, ${f1(x.ms)} ms, ${f0(x.bytes / 1024)} KB (and ${f1(x.indexMs)} ms in the CodeLens index for the same requests)`).join('; ') || 'none'}. A connection's close, byte counts or kernel readings change only its own record (TraceBuilder's record-only fields), so no request is re-sent for them.`,
    );
  const when = (x) => `${x.ms.toFixed(0)} ms at ${x.at.toFixed(1)} s`;
  lines.push(
    '',
    `Stalls of the host's event loop over 50 ms (the stream runs from 0 to ${seconds} s, the drain after it): ${stalls.length ? stalls.map(when).join(', ') : 'none'}; garbage collections over 20 ms: ${gcs.length ? gcs.map((g) => `${g.kind} ${when(g)}`).join(', ') : 'none'}.`,
  );
  const summary = {
    rate,
    madeRate,
    deliveredRate,
    rateOk,
    backlogOk,
    completeOk,
    keepsUp,
    cpu: cpuAll,
    lagP99: eldAll.percentile(99) / 1e6,
    lagMax: eldAll.max / 1e6,
    firstBacklog: mean(firstBacklog),
    lastBacklog: mean(lastBacklog),
    batchMed: med(allMs.map((x) => x.ms)),
    batchMax: max(allMs.map((x) => x.ms)),
    latMed: med(allLat),
    latMax: max(allLat),
    drainMs: drainedAt - final.lastStartAt,
    allDelivered,
    loadEnd,
  };
  return { text: lines.join('\n'), summary };
}

/** The stream client's command line: stream-client.mjs (live) or replay-client.mjs (`replay`). */
function clientArgs({ clientScript, ipcPath, rate, seconds, T0, replay }) {
  return replay
    ? [clientScript, replay.manifest, ipcPath, String(rate), String(T0), String(TICK_MS)]
    : [clientScript, server.url, String(rate), String(seconds), String(T0), String(TICK_MS)];
}

/**
 * Replay's "bytes written → delivered" per delivered request, as [deliveredAt, ms]: the k-th
 * request delivered (batches in order, `d0`..`d1`) against the time the replayer's count of
 * requests written reached k (interpolated between its 50 ms samples): a FIFO estimate.
 */
function writeLatencies(samples, batches) {
  const out = [];
  let i = 1;
  const timeOf = (k) => {
    while (i < samples.length && samples[i].started < k) i++;
    if (i >= samples.length) return NaN;
    const a = samples[i - 1];
    const b = samples[i];
    return b.started === a.started ? b.at : a.at + ((k - a.started) * (b.at - a.at)) / (b.started - a.started);
  };
  for (const x of batches) {
    for (let k = x.d0 + 1; k <= x.d1; k++) {
      const t = timeOf(k);
      if (Number.isFinite(t)) out.push([x.at, x.at - t]);
    }
  }
  return out;
}

/**
 * Lines, events frames and blob frames of one recorded preload connection; its first hello; and
 * `marks`: [byte offset, requests] wherever the count of requests the collector can have seen
 * grows — the end of the line or frame holding a request's first record. The replayer reports
 * "made" from them, exactly, not as the fraction of bytes written (a frame holds ~140 events and
 * later requests' records are longer, so that fraction drifted from the requests by hundreds).
 */
function scanWire(buf) {
  const s = { bytes: buf.length, lines: 0, frames: 0, events: 0, blobs: 0, bad: 0, partial: 0, types: {}, hello: undefined, marks: [] };
  const decoder = new ext.EventDecoder();
  const ids = new Set();
  const mark = (end, records) => {
    const before = ids.size;
    for (const r of records) if (r.kind === 'httpRequests') ids.add(r.id);
    if (ids.size > before) s.marks.push([end, ids.size]);
  };
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) {
      s.partial = buf.length - pos;
      break;
    }
    let msg;
    try {
      msg = JSON.parse(buf.subarray(pos, nl).toString('utf8'));
    } catch {
      s.bad++;
      pos = nl + 1;
      continue;
    }
    pos = nl + 1;
    if ((msg.type === 'events' || msg.type === 'blob') && typeof msg.len === 'number') {
      if (msg.type === 'events') mark(pos + msg.len, decoder.decode(buf.subarray(pos, pos + msg.len), msg.n ?? 0).messages);
      pos += msg.len;
      if (msg.type === 'events') {
        s.frames++;
        s.events += msg.n ?? 0;
      } else s.blobs++;
      continue;
    }
    if (msg.type === 'record') mark(pos, [msg]);
    s.lines++;
    s.types[msg.type] = (s.types[msg.type] ?? 0) + 1;
    if (msg.type === 'hello' && !s.hello) s.hello = msg;
  }
  return s;
}

/**
 * Records what real preloads send: `procs` traced processes of bench/apps/client.mjs (http, 16
 * concurrent keep-alive GETs, as fast as they go, two at a time), `total` requests in all, connected
 * to a unix socket of this process that keeps every connection's bytes (and sends nothing back, as
 * a collector without trace rules). Writes one file per connection and returns them in process
 * order with each process's request count (from its own output) on its main connection.
 */
async function recordPreloads(total, procs) {
  const dir = join(tmp, 'recording');
  mkdirSync(dir);
  const sockPath = join(dir, 'rec.sock');
  const conns = [];
  const open = new Set();
  const rec = createServer((sock) => {
    const c = { chunks: [] };
    conns.push(c);
    open.add(sock);
    sock.on('data', (d) => c.chunks.push(d));
    sock.on('error', () => {});
    sock.on('close', () => {
      open.delete(sock);
      c.data = Buffer.concat(c.chunks);
      c.chunks = undefined;
    });
  });
  await new Promise((r) => rec.listen(sockPath, r));
  const per = total / procs;
  if (!Number.isInteger(per)) throw new Error(`--procs ${procs} does not divide ${total} requests`);
  const outs = [];
  const t0 = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < procs) {
      const i = next++;
      const r = await runNode([join(appsDir, 'client.mjs'), 'http', 'conc', String(per), '16', '0', server.url], {
        env: {
          NODE_OPTIONS: `--require ${JSON.stringify(preloadPath)}`,
          NETTRACE_CONFIG: JSON.stringify({ ipcPath: sockPath }),
          ...(WIRE === 'events' ? { NETTRACE_EVENTS: '1' } : {}),
        },
      }).done;
      const out = r.lines.find((o) => typeof o.pid === 'number');
      if (r.code !== 0 || !out || out.failures) throw new Error(`recording client ${i} failed (code ${r.code}): ${r.stderr}`);
      outs[i] = { ...out, cpuToExitMs: r.lines.find((o) => o.cpuToExitMs)?.cpuToExitMs };
    }
  };
  await Promise.all([worker(), worker()]);
  const ms = Date.now() - t0;
  for (const deadline = Date.now() + 5000; open.size && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 10));
  if (open.size) throw new Error(`${open.size} recorded connections still open 5 s after the clients exited`);
  await new Promise((r) => rec.close(r));
  for (const c of conns) c.scan = scanWire(c.data);
  const list = [];
  outs.forEach((o, i) => {
    const mine = conns.filter((c) => c.scan.hello?.pid === o.pid);
    const main = mine.filter((c) => !c.scan.hello.continues);
    if (main.length !== 1) throw new Error(`process ${o.pid}: ${main.length} main connections recorded`);
    for (const c of [...main, ...mine.filter((x) => x !== main[0])]) {
      const file = `conn-${list.length}.bin`;
      writeFileSync(join(dir, file), c.data);
      list.push({
        file,
        proc: i,
        requests: c === main[0] ? o.warmup + o.requests : 0,
        continues: c !== main[0],
        ...c.scan,
        hello: undefined,
      });
    }
  });
  const unmatched = conns.filter((c) => !outs.some((o) => o.pid === c.scan.hello?.pid));
  if (unmatched.length) throw new Error(`${unmatched.length} recorded connections without a known process's hello`);
  const manifestFor = (rate, seconds) => {
    const n = (rate * seconds) / per;
    if (!Number.isInteger(n) || n < 1 || n > procs)
      throw new Error(`rate ${rate} × ${seconds} s is not a multiple of ${per} requests up to ${total}`);
    const path = join(dir, `manifest-${rate}.json`);
    writeFileSync(path, JSON.stringify({ conns: list.filter((c) => c.proc < n) }));
    return path;
  };
  return { dir, list, outs, ms, per, manifestFor };
}

/** Runs `fn` under the V8 CPU profiler of this process; resolves [its result, the profile]. */
async function profiled(fn) {
  const s = new InspectorSession();
  s.connect();
  const post = (m, p) => new Promise((res, rej) => s.post(m, p, (e, r) => (e ? rej(e) : res(r))));
  await post('Profiler.enable');
  await post('Profiler.start');
  try {
    const result = await fn();
    const { profile } = await post('Profiler.stop');
    return [result, profile];
  } finally {
    s.disconnect();
  }
}

/**
 * The source module of a line of the esbuild bundle in `tmp` (its `// src/…` markers), so the
 * profile's functions are named by their src/ file.
 */
function bundleModuleOf() {
  const marks = [];
  readFileSync(join(tmp, 'bundle.cjs'), 'utf8')
    .split('\n')
    .forEach((l, i) => /^\/\/ (src|node_modules)\//.test(l) && marks.push([i, l.slice(3)]));
  return (line) => {
    let m = 'bundle';
    for (const [at, name] of marks) if (at <= line) m = name;
    return m;
  };
}

/**
 * The top functions of a CPU profile by self time, and the self time by source file (a src/
 * module of the bundle, a node: module, the benchmark's own code), with the busy total (idle left
 * out).
 */
function selfTimes(profile, top = 15) {
  const moduleOf = bundleModuleOf();
  const byModule = new Map();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let busy = 0;
  let all = 0;
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < profile.samples.length; i++) {
    const us = deltas[i + 1] ?? 0;
    const cf = byId.get(profile.samples[i]).callFrame;
    all += us;
    if (cf.functionName === '(idle)') continue;
    busy += us;
    const file = cf.url ? basename(cf.url.replace(/^file:\/\//, '')) : '';
    const where = file === 'bundle.cjs' ? moduleOf(cf.lineNumber) : cf.url.startsWith('node:') ? cf.url : file ? `bench: ${file}` : '';
    const name = `${cf.functionName || '(anonymous)'}${where ? ` (${where}${file === 'bundle.cjs' ? '' : `:${cf.lineNumber + 1}`})` : ''}`;
    self.set(name, (self.get(name) ?? 0) + us);
    const mod = where === '' ? cf.functionName || '(native)' : where.startsWith('node:') ? 'node: internals' : where;
    byModule.set(mod, (byModule.get(mod) ?? 0) + us);
  }
  const sortRows = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / busy }));
  return { busyMs: busy / 1000, allMs: all / 1000, rows: sortRows(self, top), modules: sortRows(byModule, 12) };
}

/**
 * The CLI's case: the same replay into a plain startCollector session (no 'change' listener, as
 * `nettrace run`). Per second: requests made (written), seen in the session, backlog (made − seen),
 * event-loop delay and CPU % of this process. Returns the report's text and a summary.
 */
async function collectorRun({ rate, seconds, manifest, title }) {
  const edge = Math.min(5, Math.floor(seconds / 2));
  const col = await ext.startCollector({ description: 'bench replay (collector only)' });
  const session = col.session;
  const T0 = Date.now() + 1500;
  const followed = followClient(
    [join(appsDir, 'replay-client.mjs'), manifest, col.ipcPath, String(rate), String(T0), String(TICK_MS)],
    'the replayer',
  );
  client = followed.client;
  const clientSamples = followed.samples;
  const clientDone = client.done;
  const perSec = 1000 / SAMPLE_MS;
  const seen = () => session.builder.trace.httpRequests.length;
  const sampler = startSampler(T0, seconds, () => ({ seen: seen() }));
  const { samples, secs, eldAll } = sampler;
  const final = await followed.final;
  const total = final.started;
  const drainDeadline = Date.now() + 60_000;
  while (seen() < total && Date.now() < drainDeadline) await new Promise((r) => setTimeout(r, 5));
  const drainedAt = Date.now();
  await new Promise((r) => setTimeout(r, Math.max(0, T0 + Math.ceil((Date.now() - T0) / 1000) * 1000 + 50 - Date.now())));
  sampler.stop();
  const idle = await col.waitForIdle({ timeoutMs: 5000 });
  const trace = session.builder.trace;
  const seenTotal = trace.httpRequests.length;
  const completed = trace.httpRequests.filter((r) => r.respDoneAt !== undefined).length;
  const dropped = trace.stats.droppedEvents;
  const warnings = trace.warnings?.length ?? 0;
  await col.close();
  await clientDone;
  const loadEnd = loadavg();

  const madeAt = madeAtOf(clientSamples);
  const cpuMs = (a, b) => (b.cpu.user + b.cpu.system - a.cpu.user - a.cpu.system) / 1000;
  const rows = [];
  for (let s = 1; s <= seconds && s * perSec < samples.length; s++) {
    const P = samples[(s - 1) * perSec];
    const S = samples[s * perSec];
    rows.push({
      s,
      made: madeAt(S.at) - madeAt(P.at),
      seen: S.seen - P.seen,
      backlog: madeAt(S.at) - S.seen,
      lagP99: secs[s - 1]?.p99,
      lagMax: secs[s - 1]?.max,
      cpu: (cpuMs(P, S) * 100) / (S.at - P.at),
    });
  }
  const {
    firstBacklog,
    lastBacklog,
    madeRate,
    rate: seenRate,
    rateOk,
    backlogOk,
  } = keepUp(
    samples.map((x) => ({ at: x.at, n: x.seen })),
    madeAt,
    samples[0].at,
    seconds,
    edge,
  );
  const Z = samples[seconds * perSec] ?? samples[samples.length - 1];
  const S0 = samples[0];
  const completeOk = seenTotal === total && completed === total && dropped === 0 && warnings === 0;
  const keepsUp = rateOk && backlogOk && completeOk;
  const cpuAll = (cpuMs(S0, Z) * 100) / (Z.at - S0.at);
  const lines = [`${title} Load average (1 / 5 / 15 min) at end: ${loadEnd.map((x) => x.toFixed(2)).join(' / ')}.`, ''];
  lines.push(
    '| second | made | seen in session | backlog at end (made − seen) | event-loop delay ms p99 / max | CPU % (of one core) |',
    '|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of rows)
    lines.push(`| ${r.s} | ${f0(r.made)} | ${f0(r.seen)} | ${f0(r.backlog)} | ${f1(r.lagP99)} / ${f1(r.lagMax)} | ${f0(r.cpu)} |`);
  lines.push(
    `| all | ${f0(madeAt(Z.at) - madeAt(S0.at))} | ${f0(Z.seen - S0.seen)} | mean ${f0(mean(rows.map((r) => r.backlog)))} | ${f1(eldAll.percentile(99) / 1e6)} / ${f1(eldAll.max / 1e6)} | ${f0(cpuAll)} |`,
    '',
    `Keeps up: **${keepsUp ? 'yes' : 'NO'}**. Seen ${f0(seenRate)} requests/s vs made ${f0(madeRate)} requests/s over seconds ${edge}–${seconds} (${f1((seenRate / madeRate - 1) * 100)}%, within ±3%: ${rateOk ? 'yes' : 'NO'}); backlog (made − seen, every ${SAMPLE_MS} ms) first ${edge} s mean ${f0(mean(firstBacklog))}, last ${edge} s mean ${f0(mean(lastBacklog))} (not growing: ${backlogOk ? 'yes' : 'NO'}); ${f0(seenTotal)} of ${f0(total)} requests seen, the last ${f0(drainedAt - final.lastStartAt)} ms after the last bytes were written, ${f0(completed)} complete; dropped events ${dropped}, warnings ${warnings}, idle at the end: ${idle ? 'yes' : 'no'}: ${completeOk ? 'yes' : 'NO'}. Bytes the collector had not yet read (buffered in the replayer) max ${f0(max(clientSamples.map((x) => x.queued ?? 0)) / 1024)} KB.`,
  );
  const summary = {
    rate,
    madeRate,
    deliveredRate: seenRate,
    rateOk,
    backlogOk,
    completeOk,
    keepsUp,
    cpu: cpuAll,
    lagP99: eldAll.percentile(99) / 1e6,
    lagMax: eldAll.max / 1e6,
    firstBacklog: mean(firstBacklog),
    lastBacklog: mean(lastBacklog),
    drainMs: drainedAt - final.lastStartAt,
    loadEnd,
  };
  return { text: lines.join('\n'), summary };
}

/** made(at): the client's cumulative `started`, interpolated between its samples. */
function madeAtOf(s) {
  return (at) => {
    if (!s.length || at <= s[0].at) return s[0]?.started ?? 0;
    for (let i = 1; i < s.length; i++) {
      if (s[i].at >= at) {
        const a = s[i - 1];
        const b = s[i];
        return b.at === a.at ? b.started : a.started + ((b.started - a.started) * (at - a.at)) / (b.at - a.at);
      }
    }
    return s[s.length - 1].started;
  };
}

/** Replay mode: record, then per rate and run the host and the collector alone; report. */
async function replayMain() {
  const maxRate = Math.max(...RATES);
  const total = maxRate * SECONDS;
  console.log(`recording ${f0(total)} requests from ${PROCS} traced processes…`);
  const rec = await recordPreloads(total, PROCS);
  const recBytes = rec.list.reduce((n, c) => n + c.bytes, 0);
  const sum = (k) => rec.list.reduce((n, c) => n + c[k], 0);
  const types = {};
  for (const c of rec.list) for (const [t, n] of Object.entries(c.types)) types[t] = (types[t] ?? 0) + n;
  const recText = `Recording: ${PROCS} processes × ${f0(rec.per)} requests (${rec.list.length} preload connections), ${f1(rec.ms / 1000)} s two at a time (${f0((total * 1000) / rec.ms)} requests/s traced, recorded); ${f1(recBytes / 2 ** 20)} MB on the wire, ${f0(recBytes / total)} bytes per request: ${f0(sum('frames'))} events frames with ${f0(sum('events'))} events (${f2(sum('events') / total)} per request, ${f0(sum('events') / sum('frames'))} per frame), ${f0(sum('blobs'))} blob frames, ${f0(sum('lines'))} JSON lines (${Object.entries(
    types,
  )
    .sort((a, b) => b[1] - a[1])
    .map(([t, n]) => `${t} ${f0(n)}`)
    .join(', ')}); unreadable lines ${sum('bad')}, unfinished bytes at the end ${sum('partial')}.`;
  console.log(recText);
  const results = [];
  const texts = [];
  for (const rate of RATES) {
    const manifest = rec.manifestFor(rate, SECONDS);
    for (let run = 1; run <= RUNS; run++) {
      for (const mode of ['host', 'collector']) {
        const title = `**${mode === 'host' ? 'Extension host (panel open)' : 'Collector only (the CLI)'}, ${f0(rate)} requests/s, run ${run}.**`;
        console.log(`\n${title.replace(/\*/g, '')}`);
        const r =
          mode === 'host'
            ? await hostRun({ rate, seconds: SECONDS, replay: { manifest, title } })
            : await collectorRun({ rate, seconds: SECONDS, manifest, title });
        console.log(r.text);
        results.push({ mode, run, ...r.summary });
        texts.push(r.text);
      }
    }
  }
  const profiles = [];
  if (PROFILE) {
    const rate = RATES[0];
    const manifest = rec.manifestFor(rate, SECONDS);
    for (const mode of ['host', 'collector']) {
      const title = `**Profiled: ${mode}, ${f0(rate)} requests/s.**`;
      const [r, profile] = await profiled(() =>
        mode === 'host'
          ? hostRun({ rate, seconds: SECONDS, replay: { manifest, title } })
          : collectorRun({ rate, seconds: SECONDS, manifest, title }),
      );
      const file = join(tmpdir(), `nettrace-hoststream-${mode}-${rate}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      const top = selfTimes(profile);
      profiles.push({ mode, rate, file, top, summary: r.summary });
      console.log(`\n${title} profile written to ${file}; busy ${f0(top.busyMs)} ms of ${f0(top.allMs)} ms`);
      for (const x of [...top.rows, ...top.modules])
        console.log(`  ${f0(x.ms).padStart(7)} ms ${f1(x.share * 100).padStart(5)}%  ${x.name}`);
    }
  }
  const loadEnd = loadavg();

  const out = [];
  out.push(`Run ${m0.date.replace('T', ' ').slice(0, 16)} UTC. Machine: ${machineLine(m0, loadEnd)}.`, '');
  out.push(
    `Produced by \`node bench/host-stream.mjs --replay --rate ${RATES.join(',')} --seconds ${SECONDS} --runs ${RUNS} --procs ${PROCS}${WIRE === 'events' ? '' : ' --wire json'}${PROFILE ? ' --profile' : ''}\`. A real traced client cannot make ${f0(maxRate)} requests/s on this 2-core machine while the host runs, so the preloads' bytes are recorded first and replayed: ${PROCS} processes of bench/apps/client.mjs (http, 16 concurrent keep-alive GETs of ~100 bytes to bench/apps/server.mjs, as fast as they go), traced by dist/preload.cjs with the default options${WIRE === 'events' ? ' and record events on (`NETTRACE_EVENTS=1`; off by default in the preload as built, until every reader of the wire reads frames)' : ' (JSON record lines: record events off, as the preload is built)'}, each connected to a recording socket in the benchmark process. Then bench/apps/replay-client.mjs (its own process) connects as many sockets to the collector and writes the recorded bytes every ${TICK_MS} ms, the same fraction of every connection as the fraction of the requests due at the rate, so the bytes per tick are proportional to the requests (chunks may end mid-line or mid-frame, as a socket's may); the collector gets byte for byte what the preloads sent. Only the recorded times are earlier than the session, so latency is "bytes written → delivered" (the k-th request delivered against the time the k-th request's bytes were written: a FIFO estimate, ±50 ms). **Extension host**: the collector of a real \`TraceStore\` session (change throttle 250 ms) with the panel's \`LiveFeed\` batches serialised as \`postMessage\` does, the CodeLens index and the status bar, as in "Extension host streaming" above (Panel section). **Collector only**: a plain \`startCollector\` session with no listener, as \`nettrace run\` uses it. CPU % is the benchmark process's (the host, or the collector alone; the replayer and the recording are other processes or earlier), of one core. Keeps up: the delivered (host, between its first and last batch) or seen (collector) rate within 3% of the made rate over seconds ${Math.min(5, Math.floor(SECONDS / 2))}–${SECONDS}, the backlog (right after each batch for the host, every ${SAMPLE_MS} ms for the collector) of the last seconds not above the first's (×1.25 + 50); "made" counts the requests whose first record the replayer has written whole (exact, from the recorded frames), every request delivered/seen (within 60 s after the last bytes), no dropped event or warning.`,
    '',
    recText,
    '',
  );
  out.push(
    '| what | rate | run | made/s | delivered (host) / seen (collector) /s | vs made | backlog first / last s mean | last delivered after the end, ms | batch ms p50 / max | written → delivered ms p50 / max | event-loop delay ms p99 / max | CPU % | keeps up |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  );
  const row = (r, name) =>
    `| ${name} | ${f0(r.rate)} | ${r.run ?? 'profiled'} | ${f0(r.madeRate)} | ${f0(r.deliveredRate)} | ${f1((r.deliveredRate / r.madeRate - 1) * 100)}% | ${f0(r.firstBacklog)} / ${f0(r.lastBacklog)} | ${f0(r.drainMs)} | ${r.mode === 'host' ? `${f2(r.batchMed)} / ${f1(r.batchMax)}` : '—'} | ${r.mode === 'host' ? `${f0(r.latMed)} / ${f0(r.latMax)}` : '—'} | ${f1(r.lagP99)} / ${f1(r.lagMax)} | ${f0(r.cpu)} | ${r.keepsUp ? 'yes' : `**NO**${r.rateOk ? '' : ' (rate)'}${r.backlogOk ? '' : ' (backlog)'}${r.completeOk ? '' : ' (incomplete)'}`} |`;
  for (const r of results) out.push(row(r, r.mode === 'host' ? 'extension host' : 'collector only'));
  for (const p of profiles)
    out.push(row({ ...p.summary, mode: p.mode }, `${p.mode === 'host' ? 'extension host' : 'collector only'} (profiled)`));
  out.push('');
  for (const mode of ['host', 'collector']) {
    const mine = results.filter((r) => r.mode === mode);
    const ok = mine.filter((r) => r.keepsUp).map((r) => r.rate);
    const failed = mine.filter((r) => !r.keepsUp);
    out.push(
      `- ${mode === 'host' ? 'Extension host' : 'Collector only'}: kept up ${ok.length ? `at ${[...new Set(ok)].map(f0).join(', ')} requests/s (${ok.length} of ${mine.length} runs)` : 'in no run'}${failed.length ? `; did not keep up in ${failed.length} run${failed.length > 1 ? 's' : ''} (${failed.map((r) => `${f0(r.rate)}/s run ${r.run}: ${f0(r.deliveredRate)} delivered/s`).join('; ')})` : ''}.`,
    );
  }
  if (profiles.length) {
    out.push(
      '',
      'Where the time goes (the profiled runs: V8 CPU profiler in the benchmark process, top functions by self time, % of busy time):',
      '',
    );
    for (const p of profiles) {
      out.push(
        `${p.mode === 'host' ? 'Extension host' : 'Collector only'} at ${f0(p.rate)} requests/s: busy ${f1(p.top.busyMs / 1000)} s of ${f1(p.top.allMs / 1000)} s profiled.`,
        '',
        '| self ms | % of busy | function (source) |',
        '|---:|---:|---|',
        ...p.top.rows.map((x) => `| ${f0(x.ms)} | ${f1(x.share * 100)} | \`${x.name}\` |`),
        '',
        `By source: ${p.top.modules.map((x) => `${x.name} ${f1(x.share * 100)}%`).join(', ')}.`,
        '',
      );
    }
  }
  out.push('', 'Per second, each run:', '');
  for (const t of texts) out.push(t, '');
  const text = out.join('\n');
  if (write) {
    writeSubsection(
      `### Extension host and collector at ${f0(maxRate)} requests/s (replay) — issue 17`,
      text,
      '## Issue 17: record events, the first step (instruction counts)',
    );
    console.log(`\nwritten to ${resultsPath}`);
  } else console.log(`\n${text}`);
}

/**
 * Writes `sub` (a `### ` heading) and its body at the end of the `heading` section of
 * test-results/bench/runs.md (default: "Panel (webview) — issue 3"), replacing that subsection if an earlier
 * run wrote it. Everything else in the file is kept as it is.
 */
function writeSubsection(sub, body, heading = '## Panel (webview) — issue 3') {
  const text = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '# Benchmark runs\n';
  const lines = text.split('\n');
  const block = [sub, '', ...body.trim().split('\n')];
  const start = lines.findIndex((l) => l === heading);
  let out;
  if (start < 0) {
    out = `${text.replace(/\n*$/, '\n\n')}${heading}\n\n${block.join('\n')}\n`;
  } else {
    let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
    if (end < 0) end = lines.length;
    const at = lines.findIndex((l, i) => i > start && i < end && l.trim() === sub);
    let before;
    let after;
    if (at >= 0) {
      let subEnd = lines.findIndex((l, i) => i > at && i < end && /^##?#? /.test(l));
      if (subEnd < 0) subEnd = end;
      before = lines.slice(0, at);
      after = lines.slice(subEnd);
    } else {
      before = lines.slice(0, end);
      after = lines.slice(end);
    }
    while (before.length && before[before.length - 1].trim() === '') before.pop();
    const tail = after.length && after.some((l) => l.trim() !== '') ? ['', ...after] : [''];
    while (tail.length > 1 && tail[1].trim() === '') tail.splice(1, 1);
    out = [...before, '', ...block, ...tail].join('\n');
  }
  writeResults(out.replace(/\n*$/, '\n'));
}
