/**
 * The summary by route: a trace's requests grouped by host, method and route template
 * (routes.ts), with per group the count, errors by kind, status classes, the percentiles
 * (percentiles.ts) of the total and of each phase (timings.ts), the kernel's network/server/program
 * split of `wait` where the helper measured it, bytes, connections opened and reused and the
 * program's lines that made them; and the same for the requests the program served (count,
 * status classes, p50/p95, the calls each made). Requests are added one at a time (a file is
 * streamed through it: `nettrace show --summary`, `nettrace diff`); only numbers are kept per
 * request (Float64Array samples), never the records. Pure and free of Node APIs: the panel
 * bundles it.
 */

import type { HttpRequest, IncomingRequest, Timings } from '../contract/types';
import { requestLine } from './initiator';
import { connectionState } from './labels';
import { percentilesOfSorted, Samples, type Percentiles } from './percentiles';
import { routeKeyOf, routeLabel, type RouteKey } from './routes';
import { timeBudget } from './timeBudget';
import { isFailed, PHASES, type Phase } from './timings';

/** What a route group measures per request: the total, each HAR phase (drawn: `connect` without TLS), the kernel's split of `wait`. */
export type Measure = 'total' | Phase | 'waitNetwork' | 'waitServer' | 'waitProgram' | 'loop';

/** Every measure, the total first, then the phases in waterfall order, then the split. */
export const MEASURES: readonly Measure[] = ['total', ...PHASES, 'waitNetwork', 'waitServer', 'waitProgram', 'loop'];

/** How a measure is named in text: the HAR phase's word, `tls` for `ssl`. */
export const MEASURE_WORDS: Record<Measure, string> = {
  total: 'total',
  blocked: 'queued',
  dns: 'dns',
  connect: 'connect',
  ssl: 'tls',
  send: 'send',
  wait: 'wait',
  receive: 'receive',
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
  return typeof status === 'number' && status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'none';
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
  /** The program's lines that made them (requestLine), the most first, at most SUMMARY_LINES. */
  lines: { file: string; line: number; function?: string; count: number }[];
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
}

/** A trace's summary by route. */
export interface TraceSummary {
  requests: number;
  served: number;
  /** Outgoing requests by route, the most time spent first (count × p50 of the total). */
  routes: RouteSummary[];
  /** Served requests by route, the most first. */
  servedRoutes: ServedRouteSummary[];
}

/** Lines kept per route group. */
export const SUMMARY_LINES = 5;

/** What a group keeps while requests are added. */
class RouteAcc {
  readonly samples = new Map<Measure, Samples>();
  count = 0;
  failed = 0;
  readonly errors = new Map<string, number>();
  readonly status = new Map<string, number>();
  sent = 0;
  received = 0;
  opened = 0;
  reused = 0;
  connFailed = 0;
  resets = 0;
  minResetIdle = Infinity;
  readonly lines = new Map<string, { file: string; line: number; function?: string; count: number }>();
  /** Per request, whether it reused a connection (1) or not (0), for the comparison's proportion test. */
  readonly reuse = new Samples();
  /** Per request, whether it failed (1) or not (0). */
  readonly failures = new Samples();

  constructor(readonly key: RouteKey) {}

  sample(m: Measure, v: number): void {
    let s = this.samples.get(m);
    if (!s) this.samples.set(m, (s = new Samples()));
    s.push(v);
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function objectOf(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...map].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)));
}

/** The end of a served exchange, or undefined while open. */
function servedEnd(inc: IncomingRequest): number | undefined {
  return inc.reqEndAt ?? inc.respDoneAt;
}

/** One served route while requests are added. */
class ServedAcc {
  readonly duration = new Samples();
  count = 0;
  failed = 0;
  readonly status = new Map<string, number>();
  readonly calls = new Map<string, number>();
  constructor(readonly key: RouteKey) {}
}

/**
 * Builds a TraceSummary from requests added one at a time (enriched: with `timings`). Served
 * requests are added first (addIncoming), so that each outgoing call made while serving one is
 * counted under its route.
 */
export class SummaryBuilder {
  private readonly groups = new Map<string, RouteAcc>();
  private readonly served = new Map<string, ServedAcc>();
  private readonly servedRouteOf = new Map<string, ServedAcc>();
  /** When each connection's last request ended, by tcpConn id (how long a reused one had been idle). */
  private readonly connLastEnd = new Map<string, number>();
  requests = 0;
  servedCount = 0;

  /** Adds a served request. */
  addIncoming(inc: IncomingRequest): void {
    const key = routeKeyOf(inc.reqMethod, inc.reqURL, inc.route);
    const label = routeLabel(key);
    let acc = this.served.get(label);
    if (!acc) this.served.set(label, (acc = new ServedAcc(key)));
    this.servedCount++;
    acc.count++;
    bump(acc.status, statusClass(inc.respStatusCode));
    if (inc.aborted || inc.error || (inc.respStatusCode ?? 0) >= 500) acc.failed++;
    const end = servedEnd(inc);
    if (end !== undefined && inc.reqRecvAt !== undefined && !inc.incomplete) acc.duration.push(Math.max(0, end - inc.reqRecvAt));
    this.servedRouteOf.set(inc.traceID, acc);
  }

  /** Adds an outgoing request, enriched (its `timings` computed). */
  addRequest(req: HttpRequest): void {
    const key = routeKeyOf(req.reqMethod, req.reqURL);
    const label = routeLabel(key);
    let acc = this.groups.get(label);
    if (!acc) this.groups.set(label, (acc = new RouteAcc(key)));
    this.requests++;
    acc.count++;
    const failed = isFailed(req);
    if (failed) acc.failed++;
    acc.failures.push(failed ? 1 : 0);
    const kind = errorKind(req);
    if (kind) bump(acc.errors, kind);
    bump(acc.status, statusClass(req.respStatusCode));
    acc.sent += req.reqContentLen ?? 0;
    acc.received += req.respContentLen ?? 0;
    this.addConnection(acc, req, kind);
    if (req.timings && !req.incomplete && (req.respDoneAt !== undefined || req.reqError)) this.addTimes(acc, req.timings, req);
    const f = requestLine(req);
    if (f) {
      const at = `${f.file}:${f.line}`;
      const line = acc.lines.get(at);
      if (line) line.count++;
      else acc.lines.set(at, { file: f.file, line: f.line, ...(f.function ? { function: f.function } : {}), count: 1 });
    }
    if (req.causedBy) {
      const served = this.servedRouteOf.get(req.causedBy);
      if (served) bump(served.calls, label);
    }
  }

  private addConnection(acc: RouteAcc, req: HttpRequest, kind: string | undefined): void {
    const state = connectionState(req);
    if (state === 'reused') acc.reused++;
    else if (state === 'new') acc.opened++;
    else if (state === 'failed') acc.connFailed++;
    if (state !== undefined) acc.reuse.push(state === 'reused' ? 1 : 0);
    const conn = req.tcpConn;
    if (!conn) return;
    const last = this.connLastEnd.get(conn);
    const start = req.reqStartAt ?? req.reqSentAt;
    if (kind && CLOSED_BY_PEER.has(kind) && req.reusedConn && last !== undefined && start !== undefined) {
      acc.resets++;
      acc.minResetIdle = Math.min(acc.minResetIdle, Math.max(0, start - last));
    }
    const end = req.respDoneAt ?? req.reqEndAt ?? req.reqErrorAt;
    if (end !== undefined) this.connLastEnd.set(conn, end);
  }

  /** The request's time budget (timeBudget.ts, the one reading of its phases and shares) into the group's samples. */
  private addTimes(acc: RouteAcc, t: Timings, req: HttpRequest): void {
    const budget = timeBudget({ request: req }, t);
    acc.sample('total', budget.total);
    for (const p of PHASES) acc.sample(p, budget.phases[p].ms);
    const split = budget.phases.wait.kernel;
    if (split?.network !== undefined && split.server !== undefined && split.program !== undefined) {
      acc.sample('waitNetwork', split.network);
      acc.sample('waitServer', split.server);
      acc.sample('waitProgram', split.program);
    }
    // The program's own share: its event loop blocked while the request was under way.
    if (budget.loop) acc.sample('loop', budget.loop.total);
  }

  /** The groups with their samples, for the comparison of two traces (compare.ts). */
  routeSamples(): Map<string, RouteSampleSet> {
    return new Map(this.sampleSets());
  }

  /** routeSamples() one group at a time (each sorts its samples: a caller may give the event loop back between groups). */
  *sampleSets(): Generator<[string, RouteSampleSet]> {
    for (const [label, acc] of this.groups) {
      const samples = new Map<Measure, Float64Array>();
      for (const [m, s] of acc.samples) samples.set(m, s.sorted());
      const set = { summary: routeSummaryOf(label, acc, samples), samples, reuse: acc.reuse.sorted(), failures: acc.failures.sorted() };
      yield [label, set];
    }
  }

  /** The summary of what was added. */
  result(): TraceSummary {
    const routes = [...this.groups].map(([label, acc]) => routeSummaryOf(label, acc));
    const weight = (r: RouteSummary) => r.count * (r.times.total?.p50 ?? 0);
    routes.sort((a, b) => weight(b) - weight(a) || b.count - a.count || (a.label < b.label ? -1 : 1));
    const servedRoutes = [...this.served].map(([label, acc]) => servedSummaryOf(label, acc));
    servedRoutes.sort((a, b) => b.count - a.count || (a.label < b.label ? -1 : 1));
    return { requests: this.requests, served: this.servedCount, routes, servedRoutes };
  }
}

/** One route's summary and its sorted samples (compare.ts reads both). */
export interface RouteSampleSet {
  summary: RouteSummary;
  samples: Map<Measure, Float64Array>;
  /** 0/1 per request that had a connection: 1 when reused; sorted. */
  reuse: Float64Array;
  /** 0/1 per request: 1 when it failed; sorted. */
  failures: Float64Array;
}

/** A group's summary; `sorted`: its samples already sorted (routeSamples), else sorted here. */
function routeSummaryOf(label: string, acc: RouteAcc, sorted?: Map<Measure, Float64Array>): RouteSummary {
  const times: Partial<Record<Measure, Percentiles>> = {};
  for (const m of MEASURES) {
    const s = sorted?.get(m) ?? acc.samples.get(m)?.sorted();
    const p = s && percentilesOfSorted(s);
    if (p) times[m] = p;
  }
  const lines = [...acc.lines.values()].sort((a, b) => b.count - a.count).slice(0, SUMMARY_LINES);
  const out: RouteSummary = {
    ...acc.key,
    label,
    count: acc.count,
    failed: acc.failed,
    errors: objectOf(acc.errors),
    status: objectOf(acc.status),
    times,
    bytes: { sent: acc.sent, received: acc.received },
    connections: { opened: acc.opened, reused: acc.reused, failed: acc.connFailed },
    lines,
  };
  if (acc.resets > 0) out.resetAfterIdle = { count: acc.resets, minIdleMs: acc.minResetIdle };
  return out;
}

function servedSummaryOf(label: string, acc: ServedAcc): ServedRouteSummary {
  const calls = [...acc.calls]
    .sort((a, b) => b[1] - a[1])
    .map(([l, count]) => ({ label: l, count, perRequest: Math.round((count / acc.count) * 100) / 100 }));
  const out: ServedRouteSummary = { ...acc.key, label, count: acc.count, failed: acc.failed, status: objectOf(acc.status), calls };
  const d = percentilesOfSorted(acc.duration.sorted());
  if (d) out.duration = d;
  return out;
}

/** The summary of a trace held whole (the panel's session, a test): its served requests first, then its requests (enriched). */
export function summarize(requests: Iterable<HttpRequest>, incoming: Iterable<IncomingRequest> = []): TraceSummary {
  const b = new SummaryBuilder();
  for (const inc of incoming) b.addIncoming(inc);
  for (const r of requests) b.addRequest(r);
  return b.result();
}
