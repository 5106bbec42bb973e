/**
 * The summary by route of a trace too large to hold twice (issue 53, "works at scale"): a trace
 * file streamed into a SummaryBuilder (src/trace/derive/summary.ts) — its records other than
 * requests read first, then its requests one at a time, enriched, counted and dropped, so only
 * numbers per request are kept — and a trace held whole summarized (or enriched) a slice at a time. Both give
 * the event loop back between slices (every file chunk; every YIELD_EVERY requests), so the
 * extension host's "Compare With…" never blocks it for the length of a 100,000-request trace.
 * `nettrace show --summary` and `nettrace diff` (src/cli/summary.ts, diff.ts) read files here too.
 */

import type { HttpRequest, Trace } from './contract/types';
import { diffOf, matchRoutes, routeChanges, toCompareMessage, type RouteChange } from './derive/compare';
import { SummaryBuilder, type RouteSampleSet } from './derive/summary';
import { forEachDerivedRequest, readTraceHeadAsync, YIELD_EVERY, type TraceHead } from './formats/readTrace';
import type { CompareMessage } from '../protocol/webview';

/** One turn of the event loop (its timers and I/O run). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** What summarizeFile reads. */
export interface SummarizeFileOptions {
  /** The diagnosis' slow-request threshold (enrichRequest). */
  slowThresholdMs?: number;
  /** The file's head, when already read (readTraceHead, readTraceHeadAsync). */
  head?: TraceHead;
  /** Called with each request, enriched, after the builder took it. */
  onRequest?: (request: HttpRequest) => void;
}

/**
 * A trace file streamed into a SummaryBuilder (served requests first, then each request
 * derived: src/trace/formats/readTrace.ts); returns the builder and the file's records other
 * than requests (`httpRequests` empty). Throws TraceFileError.
 */
export async function summarizeFile(path: string, options: SummarizeFileOptions = {}): Promise<{ trace: Trace; builder: SummaryBuilder }> {
  const head = options.head ?? (await readTraceHeadAsync(path));
  const trace = head.trace;
  const builder = new SummaryBuilder();
  for (const inc of trace.incomingRequests ?? []) builder.addIncoming(inc);
  const diagnosis = options.slowThresholdMs !== undefined ? { slowThresholdMs: options.slowThresholdMs } : {};
  await forEachDerivedRequest(
    path,
    head,
    (r) => {
      builder.addRequest(r);
      options.onRequest?.(r);
    },
    diagnosis,
  );
  trace.httpRequests = [];
  return { trace, builder };
}

/** The summary of a trace held whole (its requests enriched), YIELD_EVERY requests per turn of the event loop. */
export async function summarizeLoaded(trace: Trace): Promise<SummaryBuilder> {
  const builder = new SummaryBuilder();
  const incoming = trace.incomingRequests ?? [];
  for (let i = 0; i < incoming.length; i++) {
    builder.addIncoming(incoming[i]);
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await nextTurn();
  }
  const reqs = trace.httpRequests;
  for (let i = 0; i < reqs.length; i++) {
    builder.addRequest(reqs[i]);
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await nextTurn();
  }
  return builder;
}

/** What "Compare With…" compares the shown trace with: another trace held whole, or a trace file. */
export type Baseline = { trace: Trace } | { path: string };

/**
 * The panel's "Compare With…": the shown trace (held whole, enriched) compared route by route
 * with `baseline`, as `nettrace diff` does; a baseline file is streamed, never held.
 */
export async function compareWithBaseline(
  traceKey: string,
  shown: Trace,
  baseline: Baseline,
  baselineName: string,
): Promise<CompareMessage> {
  const base = 'path' in baseline ? (await summarizeFile(baseline.path)).builder : await summarizeLoaded(baseline.trace);
  const a = await routeSamplesOf(base);
  const b = await routeSamplesOf(await summarizeLoaded(shown));
  // Origins on new ports paired by their routes (as `nettrace diff` does), then route by route:
  // each compares its samples (Mann–Whitney per measure), then the loop turns.
  const matched = matchRoutes(a, b);
  const routes: RouteChange[] = [];
  for (const change of routeChanges(matched)) {
    routes.push(change);
    await nextTurn();
  }
  return toCompareMessage(traceKey, baselineName, diffOf(matched, routes));
}

/** A builder's route samples (SummaryBuilder.routeSamples), a route per turn of the event loop. */
async function routeSamplesOf(builder: SummaryBuilder): Promise<Map<string, RouteSampleSet>> {
  const out = new Map<string, RouteSampleSet>();
  for (const [label, set] of builder.sampleSets()) {
    out.set(label, set);
    await nextTurn();
  }
  return out;
}
