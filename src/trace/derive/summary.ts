/**
 * The summary by route: a trace's requests grouped by host, method and route template
 * (routes.ts), with per group the count, errors by kind, status classes, the percentiles
 * (percentiles.ts) of the total and of each phase (timings.ts), the kernel's network/server/program
 * split of `wait` where the helper measured it, bytes, connections opened and reused and the
 * program's lines that made them; and the same for the requests the program served (count,
 * status classes, p50/p95, the calls each made). Requests are added one at a time (a file is
 * streamed through it: `nettrace show --summary`, `nettrace diff`); only numbers are kept per
 * request (sampleRows.ts: a row of numbers a request, a random sample of them past a cap), never
 * the records. The first MAX_ROUTES routes of each kind are kept apart, the requests of any later
 * one are counted together in one "other routes" group: a trace whose paths carry values the
 * route inference does not see as such (a word per page) has as many routes as requests. A request
 * a what-if rule changed (`whatIf`: a delay, a failure, an answer the user made) is counted in its
 * route's `count` and `whatIf`, by rule, and set apart from everything else: its time, failure,
 * status, bytes and connection are the rule's doing, not the server's or the network's, so they
 * are in no percentile, rate or count a comparison reads (docs/rules.md). Pure and free of Node
 * APIs: the panel bundles it.
 */

import type { WhatIf } from '../contract/ruleTypes';
import type { HttpRequest, Timings } from '../contract/types';
import type { IncomingRequest } from '../contract/incoming';
import { whatIfWords } from '../diagnosis/whatIfText';
import { requestLine } from './initiatorLine';
import { connectionState } from './labels';
import { percentilesOfSorted, type Percentiles } from './percentiles';
import { routeKeyOf, routeLabel, type RouteKey } from './routes';
import { SampleBudget, SampleRows } from './sampleRows';
import { timeBudget } from './timeBudget';
import { isFailed, PHASES, type Phase } from './timings';
import { PHASE_WORDS } from './words';

/** What a route group measures per request: the total, each HAR phase (drawn: `connect` without TLS), the kernel's split of `wait`. */
export type Measure = 'total' | Phase | 'waitNetwork' | 'waitServer' | 'waitProgram' | 'loop';

/** Every measure, the total first, then the phases in waterfall order, then the split. */
export const MEASURES: readonly Measure[] = ['total', ...PHASES, 'waitNetwork', 'waitServer', 'waitProgram', 'loop'];

/** Each measure's column in a group's rows (SampleRows). */
const COLUMN = new Map(MEASURES.map((m, i) => [m, i]));

/**
 * Routes of each kind (made, served) a summary keeps apart: the first 10,000 seen. A program's API
 * has tens to hundreds of routes once values in paths are `:id`; ten thousand is a route
 * inference that failed (a word per page), and more would be rows nobody reads. 10,000 groups
 * hold a few MB of counts (ROW_BUDGET bounds their samples), the comparison of two traces tests
 * each in a few ms.
 */
export const MAX_ROUTES = 10_000;

/** The label of the group of requests on routes past the first MAX_ROUTES (no route's label: those hold a `/`). */
export const OTHER_ROUTES = 'other routes';

/** Error kinds counted apart per route; more are counted as OTHER_KINDS. */
const MAX_ERROR_KINDS = 32;
/** The error kind of the errors past the first MAX_ERROR_KINDS kinds of a route. */
const OTHER_KINDS = '(other kinds)';
/** What-if rules counted apart per route; the requests of more are counted under OTHER_RULES. */
const MAX_WHAT_IF_RULES = 16;
/** The rule id under which the requests of the rules past MAX_WHAT_IF_RULES are counted. */
const OTHER_RULES = '(other rules)';
/** The program's lines counted per route: the first this many distinct ones. */
const MAX_LINE_KEYS = 64;

/** The status classes statusClass gives, in the order a group counts them. */
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'none'] as const;

/** How a measure is named in text: a phase by its word (PHASE_WORDS), the others by theirs. */
export const MEASURE_WORDS: Record<Measure, string> = {
  total: 'total',
  blocked: PHASE_WORDS.blocked.word,
  dns: PHASE_WORDS.dns.word,
  connect: PHASE_WORDS.connect.word,
  ssl: PHASE_WORDS.ssl.word,
  send: PHASE_WORDS.send.word,
  wait: PHASE_WORDS.wait.word,
  receive: PHASE_WORDS.receive.word,
  waitNetwork: 'wait: network',
  waitServer: 'wait: server',
  waitProgram: 'wait: program',
  loop: 'program (loop blocked)',
};

/** The kind of a request's error, as the summary counts it: its code (`ECONNRESET`), `timeout`, `aborted`, else its name. */
export function errorKind(req: Pick<HttpRequest, 'reqError'>): string | undefined {
  const e = req.reqError;
  if (!e) return undefined;
  if (e.timedOut) return 'timeout';
  if (e.code) return e.code;
  if (e.aborted) return 'aborted';
  return e.cause?.code ?? e.name ?? 'error';
}

/** `2xx`…`5xx` of a status, `none` when no status arrived. */
export function statusClass(status: number | undefined): string {
  return STATUS_CLASSES[statusIndex(status)];
}

/** statusClass's index in STATUS_CLASSES. */
function statusIndex(status: number | undefined): number {
  return typeof status === 'number' && status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : 5;
}

/** Error kinds a server's idle-connection close shows as on the client's side. */
const CLOSED_BY_PEER = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED']);

/** The outgoing requests of one route. */
export interface RouteSummary extends RouteKey {
  /** `GET api.example.com/users/:id` (routeLabel). */
  label: string;
  count: number;
  /** Failed requests (an error, or a status of 400 or more: isFailed). */
  failed: number;
  /** Requests that ended with an error, by errorKind. */
  errors: Record<string, number>;
  /** Requests by status class (`2xx`…, `none`). */
  status: Record<string, number>;
  /** Percentiles of each measure over the requests that finished (for the kernel's split: those it measured). */
  times: Partial<Record<Measure, Percentiles>>;
  bytes: { sent: number; received: number };
  connections: { opened: number; reused: number; failed: number };
  /**
   * The errors of a closed-by-peer kind (ECONNRESET…) on reused connections: how many, and the
   * shortest time their connection had been idle (since its previous request ended), ms.
   */
  resetAfterIdle?: { count: number; minIdleMs: number };
  /** The program's lines that made them (requestLine), the most first, at most SUMMARY_LINES (of the first MAX_LINE_KEYS distinct lines). */
  lines: { file: string; line: number; function?: string; count: number }[];
  /** Set on the group of the requests on routes past the first MAX_ROUTES (label OTHER_ROUTES, no host, method or route). */
  other?: true;
  /**
   * Requests of `count` a what-if rule changed, set apart (in no other field): how many, and by
   * which rule (its id and what it did, the most first); absent when none.
   */
  whatIf?: WhatIfShare;
}

/** The requests of a route what-if rules changed: how many, and each rule's (`rule` its id, `name` its title, `words` what it did). */
export interface WhatIfShare {
  count: number;
  rules: { rule: string; name: string; words: string; count: number }[];
}

/** A what-if rule as people know it: the name the request's `whatIf` carries (the Rules view's title), else its id. */
function ruleName(w: WhatIf): string {
  const name = (w as { name?: unknown }).name;
  return typeof name === 'string' && name !== '' ? name : String(w.rule);
}

/** The requests the program served on one route. */
export interface ServedRouteSummary extends RouteKey {
  label: string;
  count: number;
  /** Exchanges that failed: aborted, an error, or a status of 500 or more. */
  failed: number;
  status: Record<string, number>;
  /** Percentiles of the exchange's duration (reqRecvAt → reqEndAt, else respDoneAt). */
  duration?: Percentiles;
  /** The outgoing calls made while serving them, by route, the most first: count, and per served request. */
  calls: { label: string; count: number; perRequest: number }[];
  /** Set on the group of the served requests on routes past the first MAX_ROUTES (label OTHER_ROUTES). */
  other?: true;
}

/** A trace's summary by route. */
export interface TraceSummary {
  requests: number;
  /** Requests a what-if rule changed (in `requests`, set apart in their routes: RouteSummary.whatIf). */
  whatIf: number;
  served: number;
  /** Outgoing requests by route, the most time spent first (count × p50 of the total); the OTHER_ROUTES group last. */
  routes: RouteSummary[];
  /** Served requests by route, the most first; the OTHER_ROUTES group last. */
  servedRoutes: ServedRouteSummary[];
}

/** Lines kept per route group. */
export const SUMMARY_LINES = 5;

/** What a group keeps while requests are added: counts, and a row of its measures per request. */
class RouteAcc {
  readonly rows = new SampleRows(MEASURES.length);
  count = 0;
  failed = 0;
  /** Requests by status class (STATUS_CLASSES). */
  readonly status = [0, 0, 0, 0, 0, 0];
  errors: Map<string, number> | undefined;
  sent = 0;
  received = 0;
  opened = 0;
  reused = 0;
  connFailed = 0;
  /** Requests that had a connection (connectionState defined): the reuse rate's base. */
  withConn = 0;
  resets = 0;
  minResetIdle = Infinity;
  lines: Map<string, { file: string; line: number; function?: string; count: number }> | undefined;
  /** Requests a what-if rule changed, by rule id (the first one's words), at most MAX_WHAT_IF_RULES rules apart. */
  whatIf: Map<string, { name: string; words: string; count: number }> | undefined;
  whatIfCount = 0;

  constructor(readonly key: RouteKey) {}

  addWhatIf(w: WhatIf): void {
    this.whatIfCount++;
    const rules = (this.whatIf ??= new Map());
    const id = typeof w.rule === 'string' ? w.rule : String(w.rule);
    const known = rules.get(id) ?? (rules.size < MAX_WHAT_IF_RULES ? undefined : rules.get(OTHER_RULES));
    if (known) known.count++;
    else if (rules.size < MAX_WHAT_IF_RULES) rules.set(id, { name: ruleName(w), words: whatIfWords(w), count: 1 });
    else rules.set(OTHER_RULES, { name: OTHER_RULES, words: 'other what-if rules', count: 1 });
  }

  addError(kind: string): void {
    const errors = (this.errors ??= new Map());
    bump(errors, errors.has(kind) || errors.size < MAX_ERROR_KINDS ? kind : OTHER_KINDS);
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function objectOf(map: Map<string, number> | undefined): Record<string, number> {
  return map ? Object.fromEntries([...map].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) : {};
}

/** A group's status counts as statusClass → count, the most first. */
function statusObject(counts: readonly number[]): Record<string, number> {
  return objectOf(new Map(STATUS_CLASSES.map((c, i) => [c, counts[i]] as const).filter(([, n]) => n > 0)));
}

/** The end of a served exchange, or undefined while open. */
function servedEnd(inc: IncomingRequest): number | undefined {
  return inc.reqEndAt ?? inc.respDoneAt;
}

/** One served route while requests are added. */
class ServedAcc {
  readonly duration = new SampleRows(1);
  count = 0;
  failed = 0;
  readonly status = [0, 0, 0, 0, 0, 0];
  readonly calls = new Map<string, number>();
  constructor(readonly key: RouteKey) {}
}

/** The key of an OTHER_ROUTES group. */
const OTHER_KEY: RouteKey = { host: '', method: '', route: '', inferred: false };

/**
 * Builds a TraceSummary from requests added one at a time (enriched: with `timings`). Served
 * requests are added first (addIncoming), so that each outgoing call made while serving one is
 * counted under its route.
 */
export class SummaryBuilder {
  private readonly groups = new Map<string, RouteAcc>();
  private otherGroup: RouteAcc | undefined;
  private readonly served = new Map<string, ServedAcc>();
  private otherServed: ServedAcc | undefined;
  private readonly servedRouteOf = new Map<string, ServedAcc>();
  /** When each connection's last request ended, by tcpConn id (how long a reused one had been idle). */
  private readonly connLastEnd = new Map<string, number>();
  /** The row cap every group's samples share (sampleRows.ts ROW_BUDGET). */
  private readonly budget = new SampleBudget();
  /** A request's row of measures while it is added. */
  private readonly row = new Float64Array(MEASURES.length);
  requests = 0;
  servedCount = 0;
  /** Requests a what-if rule changed (counted apart). */
  whatIfCount = 0;

  /** Adds a served request. */
  addIncoming(inc: IncomingRequest): void {
    const key = routeKeyOf(inc.reqMethod, inc.reqURL, inc.route);
    const label = routeLabel(key);
    let acc = this.served.get(label);
    if (!acc) {
      if (this.served.size < MAX_ROUTES) this.served.set(label, (acc = new ServedAcc(key)));
      else acc = this.otherServed ??= new ServedAcc(OTHER_KEY);
      this.groupAdded();
    }
    this.servedCount++;
    acc.count++;
    acc.status[statusIndex(inc.respStatusCode)]++;
    if (inc.aborted || inc.error || (inc.respStatusCode ?? 0) >= 500) acc.failed++;
    const end = servedEnd(inc);
    if (end !== undefined && inc.reqRecvAt !== undefined && !inc.incomplete) {
      this.row[0] = Math.max(0, end - inc.reqRecvAt);
      acc.duration.add(this.row.subarray(0, 1), this.budget.cap, this.budget.random);
    }
    this.servedRouteOf.set(inc.traceID, acc);
  }

  /** Adds an outgoing request, enriched (its `timings` computed). */
  addRequest(req: HttpRequest): void {
    const key = routeKeyOf(req.reqMethod, req.reqURL);
    const label = routeLabel(key);
    let acc = this.groups.get(label);
    if (!acc) {
      if (this.groups.size < MAX_ROUTES) this.groups.set(label, (acc = new RouteAcc(key)));
      else acc = this.otherGroup ??= new RouteAcc(OTHER_KEY);
      this.groupAdded();
    }
    this.requests++;
    acc.count++;
    if (req.whatIf) {
      // The rule's doing: counted apart (see the module's comment); its connection's end still dates the next request's idle time.
      this.whatIfCount++;
      acc.addWhatIf(req.whatIf);
      this.noteConnectionEnd(req);
    } else {
      if (isFailed(req)) acc.failed++;
      const kind = errorKind(req);
      if (kind) acc.addError(kind);
      acc.status[statusIndex(req.respStatusCode)]++;
      acc.sent += req.reqContentLen ?? 0;
      acc.received += req.respContentLen ?? 0;
      this.addConnection(acc, req, kind);
      if (req.timings && !req.incomplete && (req.respDoneAt !== undefined || req.reqError)) this.addTimes(acc, req.timings, req);
    }
    const f = requestLine(req);
    if (f) {
      const at = `${f.file}:${f.line}`;
      const lines = (acc.lines ??= new Map());
      const line = lines.get(at);
      if (line) line.count++;
      else if (lines.size < MAX_LINE_KEYS)
        lines.set(at, { file: f.file, line: f.line, ...(f.function ? { function: f.function } : {}), count: 1 });
    }
    if (req.causedBy) {
      const served = this.servedRouteOf.get(req.causedBy);
      if (served) bump(served.calls, acc === this.otherGroup ? OTHER_ROUTES : label);
    }
  }

  /** A group was made: the samples' row cap for this many groups, every group thinned when it was lowered. */
  private groupAdded(): void {
    const groups = this.groups.size + this.served.size + (this.otherGroup ? 1 : 0) + (this.otherServed ? 1 : 0);
    if (!this.budget.lowerFor(groups)) return;
    const { cap, random } = this.budget;
    for (const acc of this.groups.values()) acc.rows.thin(cap, random);
    for (const acc of this.served.values()) acc.duration.thin(cap, random);
    this.otherGroup?.rows.thin(cap, random);
    this.otherServed?.duration.thin(cap, random);
  }

  private addConnection(acc: RouteAcc, req: HttpRequest, kind: string | undefined): void {
    const state = connectionState(req);
    if (state === 'reused') acc.reused++;
    else if (state === 'new') acc.opened++;
    else if (state === 'failed') acc.connFailed++;
    if (state !== undefined) acc.withConn++;
    const conn = req.tcpConn;
    if (!conn) return;
    const last = this.connLastEnd.get(conn);
    const start = req.reqStartAt ?? req.reqSentAt;
    if (kind && CLOSED_BY_PEER.has(kind) && req.reusedConn && last !== undefined && start !== undefined) {
      acc.resets++;
      acc.minResetIdle = Math.min(acc.minResetIdle, Math.max(0, start - last));
    }
    this.noteConnectionEnd(req);
  }

  /** Notes when the request's connection last carried a request (how long a later one found it idle). */
  private noteConnectionEnd(req: HttpRequest): void {
    const end = req.respDoneAt ?? req.reqEndAt ?? req.reqErrorAt;
    if (req.tcpConn && end !== undefined) this.connLastEnd.set(req.tcpConn, end);
  }

  /** The request's time budget (timeBudget.ts, the one reading of its phases and shares) as a row of the group's samples. */
  private addTimes(acc: RouteAcc, t: Timings, req: HttpRequest): void {
    const budget = timeBudget({ request: req }, t);
    const row = this.row;
    row.fill(NaN);
    row[0] = budget.total;
    for (const p of PHASES) row[COLUMN.get(p)!] = budget.phases[p].ms;
    const split = budget.phases.wait.kernel;
    if (split?.network !== undefined && split.server !== undefined && split.program !== undefined) {
      row[COLUMN.get('waitNetwork')!] = split.network;
      row[COLUMN.get('waitServer')!] = split.server;
      row[COLUMN.get('waitProgram')!] = split.program;
    }
    // The program's own share: its event loop blocked while the request was under way.
    if (budget.loop) row[COLUMN.get('loop')!] = budget.loop.total;
    acc.rows.add(row, this.budget.cap, this.budget.random);
  }

  /** The groups with their samples, for the comparison of two traces (compare.ts); the OTHER_ROUTES group under its label. */
  routeSamples(): Map<string, RouteSampleSet> {
    return new Map(this.sampleSets());
  }

  /** routeSamples() one group at a time (each sorts its samples: a caller may give the event loop back between groups). */
  *sampleSets(): Generator<[string, RouteSampleSet]> {
    for (const [label, acc] of this.groups) yield [label, sampleSetOf(label, acc)];
    if (this.otherGroup) yield [OTHER_ROUTES, sampleSetOf(OTHER_ROUTES, this.otherGroup)];
  }

  /** The summary of what was added. */
  result(): TraceSummary {
    const routes = [...this.groups].map(([label, acc]) => routeSummaryOf(label, acc));
    const weight = (r: RouteSummary) => r.count * (r.times.total?.p50 ?? 0);
    routes.sort((a, b) => weight(b) - weight(a) || b.count - a.count || (a.label < b.label ? -1 : 1));
    if (this.otherGroup) routes.push(routeSummaryOf(OTHER_ROUTES, this.otherGroup));
    const servedRoutes = [...this.served].map(([label, acc]) => servedSummaryOf(label, acc));
    servedRoutes.sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : 1));
    if (this.otherServed) servedRoutes.push(servedSummaryOf(OTHER_ROUTES, this.otherServed));
    return { requests: this.requests, whatIf: this.whatIfCount, served: this.servedCount, routes, servedRoutes };
  }
}

/** How often a rate's event happened (`ones`) of `n` requests. */
export interface RateSample {
  ones: number;
  n: number;
}

/** One route's summary and its sorted samples (compare.ts reads both). */
export interface RouteSampleSet {
  summary: RouteSummary;
  /** Each measure's values sorted (a random sample of them past the group's row cap: sampleRows.ts). */
  samples: Map<Measure, Float64Array>;
  /** Requests that reused a connection, of those that had one. */
  reuse: RateSample;
  /** Requests that failed, of all. */
  failures: RateSample;
}

/** A group's summary with its samples sorted (SummaryBuilder.sampleSets). */
function sampleSetOf(label: string, acc: RouteAcc): RouteSampleSet {
  const samples = new Map<Measure, Float64Array>();
  MEASURES.forEach((m, i) => {
    const s = acc.rows.sorted(i);
    if (s.length) samples.set(m, s);
  });
  return {
    summary: routeSummaryOf(label, acc, samples),
    samples,
    reuse: { ones: acc.reused, n: acc.withConn },
    // Of the requests no what-if rule changed: the failures a rule made are the user's, not the server's.
    failures: { ones: acc.failed, n: acc.count - acc.whatIfCount },
  };
}

/** The percentiles of `sorted`, the values of column `column` of `rows`: with the exact count and maximum when they are a sample. */
function percentilesOf(rows: SampleRows, column: number, sorted: Float64Array): Percentiles | undefined {
  const p = percentilesOfSorted(sorted);
  const exact = rows.exactOf(column);
  if (!p || !exact) return p;
  return { ...p, n: exact.n, max: exact.max, sampled: sorted.length };
}

/** A group's summary; `sorted`: its samples already sorted (routeSamples), else sorted here. */
function routeSummaryOf(label: string, acc: RouteAcc, sorted?: Map<Measure, Float64Array>): RouteSummary {
  const times: Partial<Record<Measure, Percentiles>> = {};
  MEASURES.forEach((m, i) => {
    const p = percentilesOf(acc.rows, i, sorted?.get(m) ?? acc.rows.sorted(i));
    if (p) times[m] = p;
  });
  const lines = acc.lines ? [...acc.lines.values()].sort((a, b) => b.count - a.count).slice(0, SUMMARY_LINES) : [];
  const out: RouteSummary = {
    ...acc.key,
    label,
    count: acc.count,
    failed: acc.failed,
    errors: objectOf(acc.errors),
    status: statusObject(acc.status),
    times,
    bytes: { sent: acc.sent, received: acc.received },
    connections: { opened: acc.opened, reused: acc.reused, failed: acc.connFailed },
    lines,
  };
  if (acc.resets > 0) out.resetAfterIdle = { count: acc.resets, minIdleMs: acc.minResetIdle };
  if (acc.key === OTHER_KEY) out.other = true;
  if (acc.whatIf)
    out.whatIf = {
      count: acc.whatIfCount,
      rules: [...acc.whatIf].map(([rule, r]) => ({ rule, name: r.name, words: r.words, count: r.count })).sort((a, b) => b.count - a.count),
    };
  return out;
}

function servedSummaryOf(label: string, acc: ServedAcc): ServedRouteSummary {
  const calls = [...acc.calls]
    .sort((a, b) => b[1] - a[1])
    .map(([l, count]) => ({ label: l, count, perRequest: Math.round((count / acc.count) * 100) / 100 }));
  const out: ServedRouteSummary = { ...acc.key, label, count: acc.count, failed: acc.failed, status: statusObject(acc.status), calls };
  const d = percentilesOf(acc.duration, 0, acc.duration.sorted(0));
  if (d) out.duration = d;
  if (acc.key === OTHER_KEY) out.other = true;
  return out;
}

/** The summary of a trace held whole (the panel's session, a test): its served requests first, then its requests (enriched). */
export function summarize(requests: Iterable<HttpRequest>, incoming: Iterable<IncomingRequest> = []): TraceSummary {
  const b = new SummaryBuilder();
  for (const inc of incoming) b.addIncoming(inc);
  for (const r of requests) b.addRequest(r);
  return b.result();
}
