/**
 * What changed between two traces, route by route (`nettrace diff A B`, the panel's "Compare
 * With…"): per route present in both, the change in count, error rate, connection reuse and each
 * percentile of the total and of each phase, each judged on the two samples — Mann–Whitney U on
 * the durations, Fisher's exact test on the rates (significance.ts) — and a change is notable
 * only when it is both significant (p < ALPHA) and large enough to matter (DiffOptions). A route
 * with fewer than MIN_SAMPLE requests in either trace is "too few to tell". Routes in one trace
 * only are new or gone. Each notable route gets one sentence saying where the time moved (the
 * phase, or the kernel's part of the wait) and why when the trace knows (connections no longer
 * reused, resets on connections idle that long). Routes match by their label (method, host and
 * template); a service on a new port of the same host (a server listening on port 0 in each run)
 * is the same service when its routes match: pairOrigins pairs such origins, and the diff says
 * it did. The OTHER_ROUTES groups (routes past the summary's cap) are counted, never compared.
 * Requests a what-if rule changed are set apart by the summary (summary.ts): only the others are
 * compared, and a route that had some says which rule changed how many, so a rule's delay or
 * failure is never read as the server's or the network's. Pure: the panel bundles it.
 */

import type { CompareMessage } from '../../protocol/webview';
import type { Trace } from '../contract/types';
import type { Percentiles } from './percentiles';
import { fisherExact, mannWhitney } from './significance';
import {
  MEASURE_WORDS,
  MEASURES,
  OTHER_ROUTES,
  SummaryBuilder,
  type Measure,
  type RateSample,
  type RouteSampleSet,
  type RouteSummary,
  type WhatIfShare,
} from './summary';
import { routeLabel } from './routes';
import { formatMs } from '../diagnosis/sentence';
import { PHASE_WORDS } from './words';

/** Significance level of every test. */
export const ALPHA = 0.01;

/** Fewer requests than this in either trace: too few to tell. */
export const MIN_SAMPLE = 8;

/** How large a significant change must be to be notable. */
export interface DiffOptions {
  /** A time change of at least this many ms (default 20)… */
  minMs?: number;
  /** …and this share of the first trace's value (default 0.2). */
  minShare?: number;
  /** An error rate change of at least this many points (default 0.05). */
  minErrorRate?: number;
  /** A reuse rate change of at least this many points (default 0.1). */
  minReuseRate?: number;
}

/** How a change was judged. */
export type Verdict = 'notable' | 'noise' | 'too few';

/** The change of one measure of one route. */
export interface MeasureChange {
  measure: Measure;
  a: Percentiles;
  b: Percentiles;
  /** b − a of each percentile, ms. */
  delta: { p50: number; p95: number; p99: number; max: number };
  /**
   * The two-sided p-value: Mann–Whitney's on the two samples, or, when the tail moved, Fisher's on
   * how many of each are above the lower p95; absent when too few.
   */
  p?: number;
  verdict: Verdict;
}

/** A rate (errors, reuse) in both traces and its change. */
export interface RateChange {
  a: number;
  b: number;
  /** Of how many requests in each. */
  nA: number;
  nB: number;
  p?: number;
  verdict: Verdict;
}

/** One route's change. */
export interface RouteChange {
  label: string;
  host: string;
  method: string;
  route: string;
  inferred: boolean;
  countA: number;
  countB: number;
  errorRate: RateChange;
  /** Share of requests that reused a connection (of those that had one). */
  reuse?: RateChange;
  /** Error kinds whose count changed: kind, rate in A and B, and the resets' idle time in B when known. */
  errors: { kind: string; a: number; b: number }[];
  /** The total first, then the phases, then the kernel's split. */
  measures: MeasureChange[];
  /** Some change is notable. */
  notable: boolean;
  /** Too few requests in either trace to judge anything. */
  tooFew: boolean;
  /** One sentence naming the notable changes; absent when none. */
  sentence?: string;
  /** How much it matters (the order of the list): ms × requests moved, error and reuse changes weighed in. */
  score: number;
  /** The host (`127.0.0.1:41234`) the route had in the first trace when its origin was paired with this one's (pairOrigins). */
  pairedFrom?: string;
  /** Requests what-if rules changed in the first trace and in the second: set apart, not compared (summary.ts). */
  whatIfA?: WhatIfShare;
  whatIfB?: WhatIfShare;
}

/** An origin of the first trace and one of the second taken as the same service: same host, another port, their routes alike. */
export interface OriginPair {
  /** `127.0.0.1:41234`. */
  a: string;
  /** `127.0.0.1:39871`. */
  b: string;
  /** Routes (method and template) in both, and in each. */
  common: number;
  routesA: number;
  routesB: number;
}

/** The comparison of two traces. */
export interface TraceDiff {
  /** Routes in both traces, the notable ones first (by score), then by requests. */
  routes: RouteChange[];
  /** Routes only in the second trace. */
  added: { label: string; count: number }[];
  /** Routes only in the first trace. */
  gone: { label: string; count: number }[];
  /** Origins paired across ports (pairOrigins): their routes compared as one's. */
  paired: OriginPair[];
  /** Requests on routes past the summary's cap (its OTHER_ROUTES group) in each trace: counted, not compared; absent when none. */
  otherRoutes?: { a: number; b: number };
}

/** Two traces' route groups, ready to compare: the first's relabelled to the second's hosts where origins were paired. */
export interface MatchedRoutes {
  a: Map<string, RouteSampleSet>;
  b: Map<string, RouteSampleSet>;
  paired: OriginPair[];
  /** The first trace's host of each relabelled route, by its new label. */
  pairedFrom: Map<string, string>;
}

function rateChange(a: RateSample, b: RateSample, minPoints: number): RateChange | undefined {
  if (a.n === 0 && b.n === 0) return undefined;
  const out: RateChange = {
    a: a.n ? a.ones / a.n : 0,
    b: b.n ? b.ones / b.n : 0,
    nA: a.n,
    nB: b.n,
    verdict: 'too few',
  };
  if (a.n < MIN_SAMPLE || b.n < MIN_SAMPLE) return out;
  out.p = fisherExact(a.ones, a.n, b.ones, b.n);
  out.verdict = out.p < ALPHA && Math.abs(out.b - out.a) >= minPoints ? 'notable' : 'noise';
  return out;
}

function measureChange(
  m: Measure,
  a: Float64Array,
  b: Float64Array,
  sa: Percentiles,
  sb: Percentiles,
  o: Required<DiffOptions>,
): MeasureChange {
  const delta = { p50: sb.p50 - sa.p50, p95: sb.p95 - sa.p95, p99: sb.p99 - sa.p99, max: sb.max - sa.max };
  for (const k of ['p50', 'p95', 'p99', 'max'] as const) delta[k] = Math.round(delta[k] * 1000) / 1000;
  const out: MeasureChange = { measure: m, a: sa, b: sb, delta, verdict: 'too few' };
  if (a.length < MIN_SAMPLE || b.length < MIN_SAMPLE) return out;
  out.p = mannWhitney(a, b)?.p ?? 1;
  const big = (d: number, base: number) => Math.abs(d) >= o.minMs && Math.abs(d) >= o.minShare * base;
  // The median moved: the rank test says the samples differ, and by enough.
  const median = out.p < ALPHA && big(delta.p50, sa.p50);
  // The tail moved: more (or fewer) of one sample above the lower of the two p95s than chance allows (Fisher), and by enough.
  // With fewer than 20 values p95 is the maximum: one request, not a tail.
  let tail = false;
  if (a.length >= 20 && b.length >= 20 && big(delta.p95, sa.p95)) {
    const t = Math.min(sa.p95, sb.p95);
    const tailP = fisherExact(countAbove(a, t), a.length, countAbove(b, t), b.length);
    tail = tailP < ALPHA;
    if (tail) out.p = Math.min(out.p, tailP);
  }
  out.verdict = median || tail ? 'notable' : 'noise';
  return out;
}

/** How many values of a sorted sample are above t. */
function countAbove(sorted: Float64Array, t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return sorted.length - lo;
}

const pct = (x: number) => `${Math.round(x * 100)}%`;
const signed = (ms: number) => `${ms >= 0 ? '+' : '−'}${formatMs(Math.abs(ms))} ms`;

/** How a measure is named in a sentence: the phase's name (diagnosis' words), the kernel's part of the wait. */
function measureName(m: Measure): string {
  if (m === 'waitServer') return "the server's part of the wait";
  if (m === 'waitNetwork') return "the network's part of the wait";
  if (m === 'waitProgram') return "the program's part of the wait (the response waited to be read)";
  if (m === 'total') return 'the total';
  if (m === 'loop') return "the program's blocked event loop";
  return `the ${PHASE_WORDS[m].name}`;
}

/** The sentence of a route's notable changes (see the module's comment), or undefined. */
function sentenceOf(c: RouteChange, b: RouteSummary): string | undefined {
  const parts: string[] = [];
  const total = c.measures.find((m) => m.measure === 'total');
  if (total?.verdict === 'notable') {
    const key = Math.abs(total.delta.p95) > Math.abs(total.delta.p50) ? 'p95' : 'p50';
    let head = `${key} ${signed(total.delta[key])} (${formatMs(total.a[key])} → ${formatMs(total.b[key])} ms)`;
    // Where it moved: the notable phases (the kernel's split in place of `wait` when measured), largest first.
    const split = c.measures.some((m) => m.measure.startsWith('wait') && m.measure !== 'wait' && m.verdict === 'notable');
    const moved = c.measures
      .filter((m) => m.measure !== 'total' && m.verdict === 'notable' && !(split && m.measure === 'wait'))
      .sort((x, y) => Math.abs(y.delta[key]) - Math.abs(x.delta[key]));
    if (moved.length) head += `: ${moved.map((m) => `${measureName(m.measure)} (${signed(m.delta[key])})`).join(', ')}`;
    parts.push(head);
  }
  if (c.errorRate.verdict === 'notable') {
    const kinds = c.errors.filter((e) => e.b > e.a).map((e) => e.kind);
    let text = `failed ${pct(c.errorRate.a)} → ${pct(c.errorRate.b)}${kinds.length ? ` (${kinds.join(', ')})` : ''}`;
    const idle = b.resetAfterIdle;
    if (idle && kinds.length && idle.count >= kinds.reduce((n, k) => n + (b.errors[k] ?? 0), 0))
      text += `, all on connections idle ≥ ${Math.floor(idle.minIdleMs / 100) / 10} s (the server closed them while idle: its keep-alive timeout)`;
    parts.push(text);
  }
  if (c.reuse?.verdict === 'notable') {
    let text = `connections reused ${pct(c.reuse.a)} → ${pct(c.reuse.b)}`;
    if (c.reuse.b <= 0.2 && c.reuse.a >= 0.5) text += ' (a new connection per request: keep-alive stopped)';
    else if (c.reuse.b >= 0.5 && c.reuse.a <= 0.2) text += ' (connections kept alive now)';
    parts.push(text);
  }
  const whatIf = whatIfText(c);
  if (whatIf) parts.push(whatIf);
  if (!parts.length) return undefined;
  return total?.verdict === 'notable' ? `${c.label} ${parts.join('; ')}` : `${c.label}: ${parts.join('; ')}`;
}

/** `rule "slow-pay" (held back its response's first byte 800 ms)`, or `rules "a" (…) on 8, "b" (…) on 4`, the most first. */
function rulesText(w: WhatIfShare): string {
  if (w.rules.length === 1) return `rule ${JSON.stringify(w.rules[0].name)} (${w.rules[0].words})`;
  return `rules ${w.rules.map((r) => `${JSON.stringify(r.name)} (${r.words}) on ${r.count}`).join(', ')}`;
}

/**
 * What the what-if rules did on a route, naming them: `12 of 40 requests were changed by what-if
 * rule "slow-pay" (held back …); in the first trace 3 of 40 by … — set apart, not compared: …`,
 * or undefined when no rule changed any.
 */
function whatIfText(c: RouteChange): string | undefined {
  const a = c.whatIfA;
  const b = c.whatIfB;
  if (!a && !b) return undefined;
  const parts: string[] = [];
  if (b) parts.push(`${b.count} of ${c.countB} requests were changed by what-if ${rulesText(b)}`);
  if (a)
    parts.push(
      `${b ? 'in the first trace ' : ''}${a.count} of ${c.countA}${b ? '' : ' requests of the first trace were changed'} by what-if ${rulesText(a)}`,
    );
  return `${parts.join('; ')} — set apart, not compared: their time and failures are the rule's doing, not the server's or the network's`;
}

/** Compares the route groups of two traces (SummaryBuilder.routeSamples()). */
export function compareRoutes(a: Map<string, RouteSampleSet>, b: Map<string, RouteSampleSet>, options: DiffOptions = {}): TraceDiff {
  const matched = matchRoutes(a, b);
  return diffOf(matched, [...routeChanges(matched, options)]);
}

/**
 * A share of their routes (method and template) two origins must have in common, of all the
 * routes of either, to be paired: at least half. A service that gained or lost a route or two
 * between the runs still pairs; two services on one host that share only `/health` among others
 * do not.
 */
export const PAIR_MIN_OVERLAP = 0.5;

/** `127.0.0.1` of `127.0.0.1:41234`, `[::1]` of `[::1]:8080`, the host itself without a port. */
function hostName(host: string): string {
  const m = /^(.*):\d+$/.exec(host);
  return m && !m[1].endsWith(':') ? m[1] : host;
}

/** Each host's routes (method and template) of a trace's groups, the OTHER_ROUTES group left out. */
function routesByHost(groups: Map<string, RouteSampleSet>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const g of groups.values()) {
    const s = g.summary;
    if (s.other) continue;
    let set = out.get(s.host);
    if (!set) out.set(s.host, (set = new Set()));
    set.add(`${s.method} ${s.route}`);
  }
  return out;
}

/**
 * The origins of `a` with no route in `b` paired with those of `b` with none in `a`, on the same
 * host: each pair whose routes overlap by PAIR_MIN_OVERLAP or more (common / all of either), the
 * best first; a tie (two origins as alike to a third) pairs neither, as nothing tells them apart.
 */
export function pairOrigins(a: Map<string, RouteSampleSet>, b: Map<string, RouteSampleSet>): OriginPair[] {
  const hostsA = routesByHost(a);
  const hostsB = routesByHost(b);
  const onlyB = [...hostsB.keys()].filter((h) => !hostsA.has(h));
  const candidates: (OriginPair & { score: number })[] = [];
  for (const [ha, ra] of hostsA) {
    if (hostsB.has(ha)) continue;
    for (const hb of onlyB) {
      if (hostName(hb) !== hostName(ha)) continue;
      const rb = hostsB.get(hb)!;
      let common = 0;
      for (const r of ra) if (rb.has(r)) common++;
      const score = common / (ra.size + rb.size - common);
      if (common > 0 && score >= PAIR_MIN_OVERLAP) candidates.push({ a: ha, b: hb, common, routesA: ra.size, routesB: rb.size, score });
    }
  }
  candidates.sort((x, y) => y.score - x.score || y.common - x.common);
  const used = new Set<string>();
  const pairs: OriginPair[] = [];
  for (const c of candidates) {
    if (used.has('a ' + c.a) || used.has('b ' + c.b)) continue;
    const tie = candidates.some(
      (d) =>
        d !== c &&
        d.score === c.score &&
        d.common === c.common &&
        (d.a === c.a) !== (d.b === c.b) &&
        !used.has('a ' + d.a) &&
        !used.has('b ' + d.b),
    );
    used.add('a ' + c.a).add('b ' + c.b);
    if (!tie) pairs.push({ a: c.a, b: c.b, common: c.common, routesA: c.routesA, routesB: c.routesB });
  }
  return pairs;
}

/** Two traces' groups matched: the first's routes of each paired origin (pairOrigins) relabelled with the second's host. */
export function matchRoutes(a: Map<string, RouteSampleSet>, b: Map<string, RouteSampleSet>): MatchedRoutes {
  const paired = pairOrigins(a, b);
  const pairedFrom = new Map<string, string>();
  if (paired.length === 0) return { a, b, paired, pairedFrom };
  const hostOfA = new Map(paired.map((p) => [p.a, p.b]));
  const relabelled = new Map<string, RouteSampleSet>();
  for (const [label, g] of a) {
    const to = g.summary.other ? undefined : hostOfA.get(g.summary.host);
    if (to === undefined) {
      relabelled.set(label, g);
      continue;
    }
    const moved = routeLabel({ ...g.summary, host: to });
    relabelled.set(moved, g);
    pairedFrom.set(moved, g.summary.host);
  }
  return { a: relabelled, b, paired, pairedFrom };
}

/** The change of each route in both traces, one at a time (a caller may give the event loop back between routes). */
export function* routeChanges(m: MatchedRoutes, options: DiffOptions = {}): Generator<RouteChange> {
  const o: Required<DiffOptions> = { minMs: 20, minShare: 0.2, minErrorRate: 0.05, minReuseRate: 0.1, ...options };
  for (const [label, gb] of m.b) {
    const ga = m.a.get(label);
    if (!ga || gb.summary.other) continue;
    const change = routeChange(label, ga, gb, o);
    const from = m.pairedFrom.get(label);
    if (from !== undefined) change.pairedFrom = from;
    yield change;
  }
}

/** The comparison of two traces from their routes' changes (routeChanges): sorted by what matters, with the routes new and gone. */
export function diffOf(m: MatchedRoutes, routes: RouteChange[]): TraceDiff {
  const byScore = (x: RouteChange, y: RouteChange) =>
    Number(y.notable) - Number(x.notable) || y.score - x.score || y.countB - x.countB || (x.label < y.label ? -1 : 1);
  routes.sort(byScore);
  const only = (x: Map<string, RouteSampleSet>, y: Map<string, RouteSampleSet>) => {
    const out: { label: string; count: number }[] = [];
    for (const [label, g] of x) if (!g.summary.other && !y.has(label)) out.push({ label, count: g.summary.count });
    return out.sort((p, q) => q.count - p.count);
  };
  const diff: TraceDiff = { routes, added: only(m.b, m.a), gone: only(m.a, m.b), paired: m.paired };
  const otherA = m.a.get(OTHER_ROUTES)?.summary.count ?? 0;
  const otherB = m.b.get(OTHER_ROUTES)?.summary.count ?? 0;
  if (otherA || otherB) diff.otherRoutes = { a: otherA, b: otherB };
  return diff;
}

function routeChange(label: string, ga: RouteSampleSet, gb: RouteSampleSet, o: Required<DiffOptions>): RouteChange {
  const sa = ga.summary;
  const sb = gb.summary;
  const measures: MeasureChange[] = [];
  for (const m of MEASURES) {
    const xa = ga.samples.get(m);
    const xb = gb.samples.get(m);
    const pa = sa.times[m];
    const pb = sb.times[m];
    if (xa && xb && pa && pb) measures.push(measureChange(m, xa, xb, pa, pb, o));
  }
  const errorRate = rateChange(ga.failures, gb.failures, o.minErrorRate)!;
  const reuse = rateChange(ga.reuse, gb.reuse, o.minReuseRate);
  const kinds = new Set([...Object.keys(sa.errors), ...Object.keys(sb.errors)]);
  const errors = [...kinds]
    .map((kind) => ({ kind, a: (sa.errors[kind] ?? 0) / sa.count, b: (sb.errors[kind] ?? 0) / sb.count }))
    .filter((e) => e.a !== e.b);
  // Requests a what-if rule changed are not compared (summary.ts): too few is judged on the others.
  const tooFew = sa.count - (sa.whatIf?.count ?? 0) < MIN_SAMPLE || sb.count - (sb.whatIf?.count ?? 0) < MIN_SAMPLE;
  const notable = measures.some((m) => m.verdict === 'notable') || errorRate.verdict === 'notable' || reuse?.verdict === 'notable';
  const change: RouteChange = {
    label,
    host: sb.host,
    method: sb.method,
    route: sb.route,
    inferred: sa.inferred || sb.inferred,
    countA: sa.count,
    countB: sb.count,
    errorRate,
    ...(reuse ? { reuse } : {}),
    errors,
    measures,
    notable,
    tooFew,
    score: 0,
    ...(sa.whatIf ? { whatIfA: sa.whatIf } : {}),
    ...(sb.whatIf ? { whatIfB: sb.whatIf } : {}),
  };
  const total = measures.find((m) => m.measure === 'total');
  const timeMoved = total?.verdict === 'notable' ? Math.max(Math.abs(total.delta.p50), Math.abs(total.delta.p95)) * sb.count : 0;
  const errorsMoved = errorRate.verdict === 'notable' ? Math.abs(errorRate.b - errorRate.a) * sb.count * 1000 : 0;
  const reuseMoved = reuse?.verdict === 'notable' ? Math.abs(reuse.b - reuse.a) * sb.count * 10 : 0;
  change.score = Math.round(timeMoved + errorsMoved + reuseMoved);
  const sentence = notable || sa.whatIf || sb.whatIf ? sentenceOf(change, sb) : undefined;
  if (sentence) change.sentence = sentence;
  return change;
}

/** The words of a measure in a table (MEASURE_WORDS). */
export function measureWord(m: Measure): string {
  return MEASURE_WORDS[m];
}

/** A trace's route groups with their samples (its requests enriched: timings). */
function routeSamples(trace: Trace): Map<string, RouteSampleSet> {
  const b = new SummaryBuilder();
  for (const inc of trace.incomingRequests ?? []) b.addIncoming(inc);
  for (const r of trace.httpRequests) b.addRequest(r);
  return b.routeSamples();
}

/** The comparison of `shown` with `baseline` (both enriched), as the panel's "Compare With…" message. */
export function compareMessage(traceKey: string, baselineName: string, baseline: Trace, shown: Trace): CompareMessage {
  return toCompareMessage(traceKey, baselineName, compareRoutes(routeSamples(baseline), routeSamples(shown)));
}

/** A comparison (compareRoutes) as the panel's "Compare With…" message. */
export function toCompareMessage(traceKey: string, baselineName: string, diff: TraceDiff): CompareMessage {
  return {
    type: 'compare',
    traceKey,
    baseline: baselineName,
    routes: diff.routes.map((r) => {
      const total = r.measures.find((m) => m.measure === 'total');
      return {
        label: r.label,
        countA: r.countA,
        countB: r.countB,
        ...(total ? { p95A: total.a.p95, p95B: total.b.p95 } : {}),
        notable: r.notable,
        tooFew: r.tooFew,
        ...(r.sentence ? { sentence: r.sentence } : {}),
        ...(r.pairedFrom !== undefined ? { pairedFrom: r.pairedFrom } : {}),
      };
    }),
    added: diff.added,
    gone: diff.gone,
    ...(diff.paired.length ? { paired: diff.paired.map(({ a, b, common }) => ({ a, b, common })) } : {}),
    ...(diff.otherRoutes ? { otherRoutes: diff.otherRoutes } : {}),
  };
}
