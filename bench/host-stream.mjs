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
// the end of the "Panel (webview) — issue 3" section of bench/RESULTS.md (replacing an earlier run
// of this subsection; nothing else changes).
//
//   node bench/host-stream.mjs [--no-write] [--seconds 20] [--rate 1000]
// Needs dist/preload.cjs (`npm run build`).

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { constants as perfConstants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { appsDir, machine, machineLine, preloadPath, resultsPath, root, runNode, startServer } from './lib/common.mjs';
import { bundleTs } from '../test/lib/bundleTs.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const RATE = opt('--rate', 1000);
const SECONDS = opt('--seconds', 20);
const TICK_MS = 10;
const SAMPLE_MS = 100;
const EDGE_S = Math.min(5, Math.floor(SECONDS / 2)); // "first and last 5 s" (less in short runs)
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
const max = (a) => (a.length ? Math.max(...a) : NaN);
const mean = (a) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN);
const f0 = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const f1 = (n) => (Number.isFinite(n) ? n.toFixed(1) : '—');
const f2 = (n) => (Number.isFinite(n) ? n.toFixed(2) : '—');

// ---- the extension's vscode-free modules, bundled from src/ (as test/unit/launchConfig.test.mjs) --
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-hoststream-'));
const ext = bundleTs(
  [
    "export { TraceStore, LiveFeed } from './src/extension/traceStore';",
    "export { AnnotationIndex } from './src/extension/annotations';",
    "export { startCollector } from './src/collector/server';",
  ],
  { dir: tmp },
);

const m0 = machine();
const server = await startServer();
const logs = [];
let client;
try {
  // ---- the extension: a TraceStore session (extension.ts passes no changeIntervalMs: 250 ms) ----
  const store = new ext.TraceStore({ startCollector: ext.startCollector, log: (l) => logs.push(l) });
  const clientScript = join(appsDir, 'stream-client.mjs');
  const { key, ipcPath } = await store.prepare(`node ${relative(root, clientScript)}`);
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
        if (typeof r.reqStartAt === 'number') firstLat.push([at, now - r.reqStartAt]);
      }
    }
    for (const r of [...(append?.httpRequests ?? []), ...(update?.httpRequests ?? [])]) {
      const end = r.respDoneAt ?? r.reqErrorAt;
      if (end !== undefined && !deliveredDone.has(r.traceID)) {
        deliveredDone.add(r.traceID);
        doneLat.push([at, now - end]);
      }
    }
    batches.push({ at, ms, bytes, appended: append?.httpRequests?.length ?? 0, updated: update?.httpRequests?.length ?? 0 });
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
  const clientSamples = []; // {at, started, completed, errors}
  let final;
  let resolveFinal;
  const finalP = new Promise((r) => (resolveFinal = r));
  client = runNode([clientScript, server.url, String(RATE), String(SECONDS), String(T0), String(TICK_MS)], {
    env: { NODE_OPTIONS: `--require ${JSON.stringify(preloadPath)}`, NETTRACE_CONFIG: JSON.stringify({ ipcPath }) },
    onLine: (o) => {
      if (typeof o.at !== 'number') return;
      clientSamples.push(o);
      if (o.final) {
        final = o;
        resolveFinal();
      }
    },
  });
  const clientDone = client.done;

  // ---- this process, sampled every 100 ms from T0 -----------------------------------------------
  const eld = monitorEventLoopDelay({ resolution: 5 });
  const eldAll = monitorEventLoopDelay({ resolution: 5 });
  eld.enable();
  const perSecond = 1000 / SAMPLE_MS;
  const samples = []; // {at, seen, delivered, deliveredDone, cpu}
  const secs = []; // per second: event-loop delay
  let sampling = true;
  let tick = 0;
  const sample = () => {
    const at = Date.now();
    if (tick === 0) {
      eld.reset();
      eldAll.enable();
    }
    samples.push({
      at,
      seen: session.builder.trace.httpRequests.length,
      delivered: delivered.size,
      deliveredDone: deliveredDone.size,
      cpu: process.cpuUsage(),
    });
    if (tick > 0 && tick % perSecond === 0) {
      secs.push({ p50: eld.percentile(50) / 1e6, p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 });
      eld.reset();
    }
    if (tick === SECONDS * perSecond) eldAll.disable(); // the "all" row: the stream's seconds only
    tick++;
    if (sampling) setTimeout(sample, Math.max(0, T0 + tick * SAMPLE_MS - Date.now()));
  };
  setTimeout(sample, Math.max(0, T0 - Date.now()));
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
  await Promise.race([
    finalP,
    clientDone.then((r) => {
      throw new Error(`the client exited before finishing (code ${r.code}): ${r.stderr}`);
    }),
  ]);
  const total = final.started;
  const doneTotal = final.completed + final.errors;
  const drainDeadline = Date.now() + 5000;
  while ((delivered.size < total || deliveredDone.size < doneTotal) && Date.now() < drainDeadline)
    await new Promise((r) => setTimeout(r, 5));
  const drainedAt = Date.now();
  const allDelivered = delivered.size >= total && deliveredDone.size >= doneTotal;
  // finish the current second of samples, then stop sampling
  await new Promise((r) => setTimeout(r, Math.max(0, T0 + Math.ceil((Date.now() - T0) / 1000) * 1000 + 50 - Date.now())));
  sampling = false;
  eld.disable();
  eldAll.disable();
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
  const perSec = 1000 / SAMPLE_MS;
  const rows = [];
  const cpuMs = (a, b) => (b.cpu.user + b.cpu.system - a.cpu.user - a.cpu.system) / 1000;
  for (let s = 1; s <= SECONDS && s * perSec < samples.length; s++) {
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
  // Backlog over every 100 ms sample of the first and the last 5 s.
  const backlogOf = (from, to) => samples.slice(from * perSec + 1, to * perSec + 1).map((x) => madeAt(x.at) - x.delivered);
  const firstBacklog = backlogOf(0, EDGE_S);
  const lastBacklog = backlogOf(SECONDS - EDGE_S, SECONDS);
  const A = samples[EDGE_S * perSec];
  const Z = samples[SECONDS * perSec] ?? samples[samples.length - 1];
  const madeRate = ((madeAt(Z.at) - madeAt(A.at)) * 1000) / (Z.at - A.at);
  const deliveredRate = ((Z.delivered - A.delivered) * 1000) / (Z.at - A.at);
  const rateOk = Math.abs(deliveredRate / madeRate - 1) <= 0.03;
  const backlogOk = mean(lastBacklog) <= 1.25 * mean(firstBacklog) + 50;
  const completeOk = allDelivered && seenTotal === total && stats.droppedEvents === 0;
  const keepsUp = rateOk && backlogOk && completeOk;
  const S0 = samples[0];
  const cpuAll = (cpuMs(S0, Z) * 100) / (Z.at - S0.at);
  const allMs = batches.filter((x) => x.at > S0.at && x.at <= Z.at);
  const allLat = firstLat.filter(([at]) => at > S0.at && at <= Z.at).map(([, ms]) => ms);
  const allDoneLat = doneLat.map(([, ms]) => ms);

  // ---- report ----------------------------------------------------------------------------------------
  const lines = [];
  lines.push(`Machine: ${machineLine(m0, loadEnd)}.`, '');
  lines.push(
    `Produced by \`node bench/host-stream.mjs\`. Without VS Code (the path is vscode-free): bench/apps/server.mjs in its own process; a real collector started by a real \`TraceStore\` session (change throttle 250 ms, the extension's default) in the benchmark process, which plays the extension host; bench/apps/stream-client.mjs traced by dist/preload.cjs with the extension's default options, making ${f0(RATE)} new requests/s (${(RATE * TICK_MS) / 1000} every ${TICK_MS} ms, keep-alive Agent, GET of ~100 bytes) for ${SECONDS} s. The host runs what panel.ts runs with the panel open: a \`reset\`, then per 'change' a \`LiveFeed\` batch posted as \`append\`/\`update\` and serialised as \`webview.postMessage\` does (\`JSON.stringify\`), plus the extension's other 'change' listeners (CodeLens index, status bar count). Modules bundled from src/ with esbuild at start.`,
    '',
  );
  lines.push(
    '| second | made | seen in session | delivered (`append`) | backlog at end (made − delivered) | batches | batch build+serialise ms p50 / max | batch KB p50 | start → delivered ms p50 / max | event-loop delay ms p99 / max | host CPU % |',
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
  lines.push(
    `Keeps up: **${keepsUp ? 'yes' : 'NO'}**. Delivered ${f0(deliveredRate)} requests/s vs made ${f0(madeRate)} requests/s over seconds ${EDGE_S}–${SECONDS} (${f1((deliveredRate / madeRate - 1) * 100)}%, within ±3%: ${rateOk ? 'yes' : 'NO'}); backlog (made − delivered, every ${SAMPLE_MS} ms) first ${EDGE_S} s mean ${f0(mean(firstBacklog))} / max ${f0(max(firstBacklog))}, last ${EDGE_S} s mean ${f0(mean(lastBacklog))} / max ${f0(max(lastBacklog))} (not growing: ${backlogOk ? 'yes' : 'NO'}; by design a sawtooth from 0 to ~${f0(RATE / 4)} and more: the session emits changes at most every 250 ms); all ${f0(total)} requests made were seen (${f0(seenTotal)}) and delivered (${f0(delivered.size)}), the last ${f0(drainedAt - final.lastStartAt)} ms after it was made, and ${f0(deliveredDone.size)} of ${f0(doneTotal)} completions were delivered (end → delivered p50 ${f0(med(allDoneLat))} ms, max ${f0(max(allDoneLat))} ms); dropped events ${stats.droppedEvents}, client errors ${final.errors}${final.firstError ? ` (${final.firstError})` : ''}: ${completeOk ? 'yes' : 'NO'}.`,
    '',
  );
  lines.push(
    `Batches: ${batches.length} 'change' events, ${f1(postedBytes / 2 ** 20)} MB serialised in all; the other 'change' listeners (CodeLens index, status bar) took ${f0(otherMs)} ms in all (status bar at the end: "${statusText}"). Session end (the panel's \`onEnded\`: pending changes, the end of live mode, stats and every connection record; ${f0(ended?.requests)} requests in the trace): ${f0(ended?.ms)} ms to build and serialise, ${f1((ended?.bytes ?? NaN) / 2 ** 20)} MB, Client exit: ${clientResult ? `code ${clientResult.code}` : 'still running after 5 s'}.`,
  );
  const late = batches.filter((x) => x.at > Z.at);
  lines.push(
    '',
    `After the stream (the client drains, then closes its keep-alive sockets and exits): ${late.length} batch${late.length === 1 ? '' : 'es'}: ${late.map((x) => `${f0(x.appended)} appended + ${f0(x.updated)} updated, ${f1(x.ms)} ms, ${f0(x.bytes / 1024)} KB (and ${f1(x.indexMs)} ms in the CodeLens index for the same requests)`).join('; ') || 'none'}. A connection's close, byte counts or kernel readings change only its own record (TraceBuilder's record-only fields), so no request is re-sent for them.`,
  );
  const when = (x) => `${x.ms.toFixed(0)} ms at ${x.at.toFixed(1)} s`;
  lines.push(
    '',
    `Stalls of the host's event loop over 50 ms (the stream runs from 0 to ${SECONDS} s, the drain after it): ${stalls.length ? stalls.map(when).join(', ') : 'none'}; garbage collections over 20 ms: ${gcs.length ? gcs.map((g) => `${g.kind} ${when(g)}`).join(', ') : 'none'}.`,
  );
  const text = lines.join('\n');
  console.log(text);
  if (write) {
    writeSubsection(
      `### Extension host streaming (${RATE.toLocaleString('en-US')} requests/s)`,
      `Run ${m0.date.replace('T', ' ').slice(0, 16)} UTC.\n\n${text}`,
    );
    console.log(`\nwritten to ${resultsPath}`);
  }
} finally {
  if (client && client.child.exitCode === null) client.child.kill('SIGTERM');
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
}

/**
 * Writes `sub` (a `### ` heading) and its body at the end of the "Panel (webview) — issue 3"
 * section of bench/RESULTS.md, replacing that subsection if an earlier run wrote it. Everything
 * else in the file is kept as it is.
 */
function writeSubsection(sub, body) {
  const heading = '## Panel (webview) — issue 3';
  const text = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '# Benchmark results\n';
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
  writeFileSync(resultsPath, out.replace(/\n*$/, '\n'));
}
