/**
 * The panel's data model: the records of the shown trace, the derived per-row values, and the
 * filtered + sorted view the virtual list renders. DOM-free so it runs under `node --test`.
 *
 * Streaming is incremental: a batch of new/changed requests costs O(batch·log batch + rows) (one
 * merge into the sorted view), never a full re-sort, so 1,000 requests/s stay cheap with 20k rows.
 */

import type { DebuggerPause, Dial, HttpRequest, TcpConn, TlsTunnel, UdpConn } from '../src/trace/contract/types';
import type { DnsQuery } from '../src/trace/contract/dnsMessages';
import type { RecordBatch, TraceSnapshot } from '../src/protocol/webview';
import type { IncomingRequest } from '../src/trace/contract/incoming';
import {
  normalizeDebuggerPauses,
  normalizeDials,
  normalizeDnsQueries,
  normalizeIncoming,
  normalizeRequests,
  normalizeTcpConns,
  normalizeUdpConns,
} from '../src/trace/formats/normalize';
import { isFailed } from '../src/trace/derive/timings';
import { formatInitiator, formatStatus, splitUrl, statusClass, type StatusClass } from './format';
import { axisFor, collapsiblePauses, extendAxis, requestDuration, requestStart, Timeline, type Axis, type TimeRange } from './waterfall';
import { matchesQuery, parseFilter, type FilterContext, type FilterQuery } from './filterQuery';
import { restartMarks, type RestartMark } from './restarts';

/** The slow threshold `is:slow` uses when the trace does not say (the collector's default). */
export const DEFAULT_SLOW_MS = 1000;

/** A request plus the values the list shows, filters and sorts on (computed once per version). */
export interface Row {
  req: HttpRequest;
  /** Arrival order; the final tie-break of every sort. */
  seq: number;
  start: number;
  duration: number | undefined;
  host: string;
  /** Path and query of the URL (what the URL column shows first). */
  path: string;
  status: string;
  cls: StatusClass;
  failed: boolean;
  initiator: string;
  size: number | undefined;
  /** Lower-case text the filter box searches: method, URL, status, host. */
  haystack: string;
}

/** The list's columns that can be sorted. */
export type SortKey = 'name' | 'method' | 'status' | 'client' | 'conn' | 'duration' | 'size' | 'initiator' | 'start';

/** All sort keys (for validating restored state). */
export const SORT_KEYS: readonly SortKey[] = ['name', 'method', 'status', 'client', 'conn', 'duration', 'size', 'initiator', 'start'];

/** Sort order: a column and a direction (1 ascending, -1 descending). */
export interface SortSpec {
  key: SortKey;
  dir: 1 | -1;
}

/** What the list shows. Empty `classes` / `host` mean "all". */
export interface FilterSpec {
  text: string;
  failedOnly: boolean;
  classes: StatusClass[];
  host: string;
  /**
   * Only requests that overlap this span of trace time (the waterfall's drag-select); absent or
   * null: any time. Not restored after a reload (state.ts drops it).
   */
  timeRange?: TimeRange | null;
}

/** The default filter: everything. */
export const NO_FILTER: FilterSpec = { text: '', failedOnly: false, classes: [], host: '' };

/** The default sort: by start time, i.e. the order requests were made. */
export const DEFAULT_SORT: SortSpec = { key: 'start', dir: 1 };

/** Builds the derived values of one request (`dial`: its own dial record, when the trace has it). */
export function makeRow(req: HttpRequest, seq: number, dial?: Dial): Row {
  const { host, path } = splitUrl(req.reqURL);
  const status = formatStatus(req);
  const at = requestStart(req, dial);
  const start = Number.isFinite(at) ? at : Number.POSITIVE_INFINITY;
  return {
    req,
    seq,
    start,
    duration: requestDuration({ req, start }),
    host,
    path,
    status,
    cls: statusClass(req),
    failed: isFailed(req),
    initiator: formatInitiator(req),
    size: req.respContentLen,
    haystack: `${req.reqMethod} ${req.reqURL} ${status} ${host}`.toLowerCase(),
  };
}

/**
 * A compiled filter: the filter box's query (webview/filterQuery.ts: free words, `key:value`
 * terms, `-` negation) and the toolbar's toggles, which compose with it (all must hold).
 */
export interface CompiledFilter {
  query: FilterQuery;
  failedOnly: boolean;
  classes: Set<StatusClass> | null;
  host: string;
  timeRange: TimeRange | null;
  ctx: FilterContext;
}

/** Compiles a FilterSpec once so matching a row does no parsing (`slowMs`: the session's slow threshold). */
export function compileFilter(
  f: FilterSpec,
  slowMs: number = DEFAULT_SLOW_MS,
  incoming?: ReadonlyMap<string, IncomingRequest>,
): CompiledFilter {
  return {
    query: parseFilter(f.text),
    failedOnly: f.failedOnly,
    classes: f.classes.length ? new Set(f.classes) : null,
    host: f.host.toLowerCase(),
    timeRange: validRange(f.timeRange),
    ctx: incoming ? { slowMs, incoming } : { slowMs },
  };
}

/** A time range with finite ends in order, else null. */
function validRange(r: TimeRange | null | undefined): TimeRange | null {
  return r && Number.isFinite(r.begin) && Number.isFinite(r.end) && r.end >= r.begin ? { begin: r.begin, end: r.end } : null;
}

/** True when the row's request overlaps the range (a request still pending runs on to the end of time). */
export function overlapsRange(row: Row, range: TimeRange): boolean {
  if (!Number.isFinite(row.start) || row.start > range.end) return false;
  return row.start + (row.duration ?? Number.POSITIVE_INFINITY) >= range.begin;
}

/** True when a row passes the filter. */
export function matches(row: Row, f: CompiledFilter): boolean {
  if (f.failedOnly && !row.failed) return false;
  if (f.classes && !f.classes.has(row.cls)) return false;
  if (f.host && row.host !== f.host) return false;
  if (f.timeRange && !overlapsRange(row, f.timeRange)) return false;
  return matchesQuery(row, f.query, f.ctx);
}

/** Order of status classes when sorting by status (numbers sort among their class). */
const CLASS_RANK: Record<StatusClass, number> = { '1xx': 1, '2xx': 2, '3xx': 3, '4xx': 4, '5xx': 5, error: 6, pending: 7 };

function cmpNum(a: number | undefined, b: number | undefined): number {
  // Unknown values sort after known ones in ascending order.
  const x = a ?? Number.POSITIVE_INFINITY;
  const y = b ?? Number.POSITIVE_INFINITY;
  return x < y ? -1 : x > y ? 1 : 0;
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two rows by one key (ascending), without tie-break. */
export function compareBy(key: SortKey, a: Row, b: Row): number {
  switch (key) {
    case 'name':
      return cmpStr(a.req.reqURL, b.req.reqURL);
    case 'method':
      return cmpStr(a.req.reqMethod, b.req.reqMethod);
    case 'status':
      return CLASS_RANK[a.cls] - CLASS_RANK[b.cls] || cmpNum(a.req.respStatusCode, b.req.respStatusCode) || cmpStr(a.status, b.status);
    case 'client':
      return cmpStr(a.req.client, b.req.client);
    case 'conn':
      return Number(!!a.req.reusedConn) - Number(!!b.req.reusedConn);
    case 'duration':
      return cmpNum(a.duration, b.duration);
    case 'size':
      return cmpNum(a.size, b.size);
    case 'initiator':
      return cmpStr(a.initiator, b.initiator);
    case 'start':
      return cmpNum(a.start, b.start);
  }
}

/** A total order for a sort spec: the key in its direction, then arrival order. */
export function comparator(sort: SortSpec): (a: Row, b: Row) => number {
  const { key, dir } = sort;
  return (a, b) => dir * compareBy(key, a, b) || a.seq - b.seq;
}

/** Merges sorted `add` into sorted `base` (both by `cmp`), returning a new array. */
export function mergeSorted<T>(base: readonly T[], add: readonly T[], cmp: (a: T, b: T) => number): T[] {
  if (add.length === 0) return base.slice();
  const out: T[] = new Array(base.length + add.length);
  let i = 0;
  let j = 0;
  let k = 0;
  // Fast path for streaming: everything new sorts after the current tail.
  if (base.length === 0 || cmp(base[base.length - 1]!, add[0]!) <= 0) {
    for (; i < base.length; i++) out[k++] = base[i]!;
  }
  while (i < base.length && j < add.length) out[k++] = cmp(base[i]!, add[j]!) <= 0 ? base[i++]! : add[j++]!;
  while (i < base.length) out[k++] = base[i++]!;
  while (j < add.length) out[k++] = add[j++]!;
  return out;
}

/** What an applied batch changed, for the UI to decide what to redraw. */
export interface BatchResult {
  added: number;
  changed: number;
  /** True when the filtered view changed (rows entered, left or moved). */
  viewChanged: boolean;
}

/** The records of one trace and the list's filtered, sorted view of its requests. */
export class TraceModel {
  description = '';
  traceBeginAt = '';
  traceEndAt: number | undefined;
  live = false;
  readonly dials = new Map<string, Dial>();
  readonly tcpConns = new Map<string, TcpConn>();
  readonly tlsTunnels = new Map<string, TlsTunnel>();
  readonly udpConns = new Map<string, UdpConn>();
  readonly dnsQueries = new Map<string, DnsQuery>();
  /** The requests the traced programs served (`incomingRequests`), by traceID. */
  readonly incoming = new Map<string, IncomingRequest>();
  /** When the program was stopped in the debugger (the trace's `debuggerPauses`). */
  debuggerPauses: DebuggerPause[] = [];
  private timelineCache: { key: string; timeline: Timeline } | undefined;
  private viewVersion = 0;
  /** True once any request carries a captured body (the trace was recorded with `bodies`). */
  bodiesRecorded = false;
  /** True once any DNS message record arrived (the trace was recorded with `dnsTrace`). */
  dnsTraced = false;
  /** dnsQueries traceIDs by their dial (`fromDial`): a dial does not name its DNS records. */
  private readonly dnsByDial = new Map<string, Set<string>>();
  /** TLS tunnel traceIDs by their TCP connection (a proxy's tunnel and the origin's share one). */
  private readonly tlsByConn = new Map<string, Set<string>>();
  /** Every request's row in arrival order. */
  rows: Row[] = [];
  /** The rows that pass the filter, in sort order (ungrouped). */
  flatView: Row[] = [];
  /** Turns the filtered view into the shown one (grouping.ts's grouping); undefined: shown as is. */
  private shape: ((flat: Row[]) => Row[]) | undefined;
  private shapeVersion = 0;
  private shapeCache: { key: string; rows: Row[] } | undefined;
  private incomingVersion = 0;
  /** The shared waterfall axis: spans the rows in `view` (and "now" while live). */
  axis: Axis = { begin: 0, end: 1 };
  failedCount = 0;
  /** Request count per host, for the host filter. */
  readonly hosts = new Map<string, number>();
  private readonly byId = new Map<string, Row>();
  private filterSpec: FilterSpec = NO_FILTER;
  private compiled: CompiledFilter = compileFilter(NO_FILTER, DEFAULT_SLOW_MS, this.incoming);
  /** A successful request longer than this is `is:slow` (the session's `slowThresholdMs`). */
  slowMs = DEFAULT_SLOW_MS;
  private sortSpec: SortSpec = DEFAULT_SORT;
  private cmp = comparator(DEFAULT_SORT);
  /** Bumped whenever `rows` change; restartMarks are recomputed on the next ask after it. */
  private rowsVersion = 0;
  /** Bumped whenever tcpConns arrive (see linksVersion). */
  private connsVersion = 0;
  private marksCache: { version: number; marks: Map<string, RestartMark> } | undefined;

  /** Changes whenever what linkServed reads changes: the requests, the TCP connections, the incoming requests. */
  get linksVersion(): string {
    return `${this.rowsVersion}|${this.connsVersion}|${this.incomingVersion}`;
  }

  get filter(): FilterSpec {
    return this.filterSpec;
  }

  get sort(): SortSpec {
    return this.sortSpec;
  }

  /** How many times the model was replaced by a snapshot (another trace, a reload): views that cache on its rows key on it. */
  resets = 0;

  /** Replaces everything with a snapshot. */
  reset(snap: TraceSnapshot, live: boolean): void {
    this.resets++;
    this.description = snap.description ?? '';
    this.traceBeginAt = snap.traceBeginAt;
    this.traceEndAt = snap.traceEndAt;
    this.live = live;
    const slow = snap.slowThresholdMs;
    this.slowMs = typeof slow === 'number' && slow > 0 ? slow : DEFAULT_SLOW_MS;
    if (this.compiled.ctx.slowMs !== this.slowMs) this.compiled = compileFilter(this.filterSpec, this.slowMs, this.incoming);
    this.dials.clear();
    this.tcpConns.clear();
    this.tlsTunnels.clear();
    this.udpConns.clear();
    this.dnsQueries.clear();
    this.incoming.clear();
    this.debuggerPauses = normalizeDebuggerPauses(snap.debuggerPauses);
    this.dnsByDial.clear();
    this.tlsByConn.clear();
    this.bodiesRecorded = false;
    this.dnsTraced = false;
    this.byId.clear();
    this.hosts.clear();
    this.failedCount = 0;
    this.rows = [];
    this.rowsVersion++;
    this.storeRefs(snap);
    // The host's requests may come from a saved trace file, damaged or hostile: checked here as
    // the other records are (storeRefs), so the views read them as typed.
    const reqs = normalizeRequests(snap.httpRequests ?? []);
    for (let i = 0; i < reqs.length; i++) {
      const req = reqs[i]!;
      if (req.reqBody || req.respBody) this.bodiesRecorded = true;
      const row = makeRow(req, i, this.ownDial(req));
      this.rows.push(row);
      this.byId.set(row.req.traceID, row);
      this.count(row, 1);
    }
    this.rebuildView();
  }

  /** The DNS message records of a dial, in arrival order. */
  dnsQueriesOf(dialID: string | undefined): DnsQuery[] {
    const ids = dialID ? this.dnsByDial.get(dialID) : undefined;
    if (!ids) return [];
    const out: DnsQuery[] = [];
    for (const id of ids) {
      const q = this.dnsQueries.get(id);
      if (q) out.push(q);
    }
    return out;
  }

  /** The TLS tunnels over a TCP connection, in arrival order. */
  tlsTunnelsOn(tcpConnID: string | undefined): TlsTunnel[] {
    const ids = tcpConnID ? this.tlsByConn.get(tcpConnID) : undefined;
    if (!ids) return [];
    const out: TlsTunnel[] = [];
    for (const id of ids) {
      const t = this.tlsTunnels.get(id);
      if (t) out.push(t);
    }
    return out;
  }

  /** The outgoing requests an incoming request caused (`causedBy`), in arrival order. */
  callsOf(incomingID: string): Row[] {
    return this.rows.filter((r) => r.req.causedBy === incomingID);
  }

  /** The rows the list shows: the filtered, sorted requests, shaped (grouped) when a shape is set. */
  get view(): Row[] {
    if (!this.shape) return this.flatView;
    const key = `${this.viewVersion}|${this.incomingVersion}|${this.shapeVersion}`;
    if (this.shapeCache?.key !== key) this.shapeCache = { key, rows: this.shape(this.flatView) };
    return this.shapeCache.rows;
  }

  /** Sets how the filtered view is shaped into the shown one (undefined: as is); see grouping.ts. */
  setViewShape(shape: ((flat: Row[]) => Row[]) | undefined): void {
    this.shape = shape;
    this.shapeVersion++;
  }

  /** The shape's own state changed (a group collapsed): recompute the shown view. */
  reshape(): void {
    this.shapeVersion++;
  }

  /** Looks up a request's row by traceID. */
  row(traceID: string): Row | undefined {
    return this.byId.get(traceID);
  }

  /** The restart mark of a row: set on the first request of each restarted process (restarts.ts). */
  restartMarkOf(row: Row): RestartMark | undefined {
    if (this.marksCache?.version !== this.rowsVersion) this.marksCache = { version: this.rowsVersion, marks: restartMarks(this.rows) };
    return this.marksCache.marks.get(row.req.traceID);
  }

  /** The trace's "now" for pending bars: its end time while live. */
  now(): number | undefined {
    return this.live ? this.traceEndAt : undefined;
  }

  /** Applies an append/update batch: each record replaces the one with its traceID. */
  apply(batch: RecordBatch, traceEndAt?: number): BatchResult {
    if (traceEndAt !== undefined) this.traceEndAt = Math.max(this.traceEndAt ?? 0, traceEndAt);
    if (batch.debuggerPauses !== undefined) this.debuggerPauses = normalizeDebuggerPauses(batch.debuggerPauses);
    this.storeRefs(batch);
    const now = this.now();
    if (now !== undefined && now > this.axis.end) this.axis.end = now;
    const fresh: Row[] = [];
    const replaced = new Set<Row>();
    const batchRequests = batch.httpRequests?.length ? normalizeRequests(batch.httpRequests) : [];
    if (batchRequests.length) this.rowsVersion++;
    for (const req of batchRequests) {
      if (req.reqBody || req.respBody) this.bodiesRecorded = true;
      const old = this.byId.get(req.traceID);
      const row = makeRow(req, old ? old.seq : this.rows.length, this.ownDial(req));
      if (old) {
        this.count(old, -1);
        this.rows[old.seq] = row;
        replaced.add(old);
      } else {
        this.rows.push(row);
      }
      this.byId.set(req.traceID, row);
      this.count(row, 1);
      fresh.push(row);
    }
    if (batch.incomingRequests?.length && this.compiled.query.terms.some((t) => t.key === 'caused-by')) {
      // A route learnt late (the framework names it after routing) changes what `caused-by:` matches.
      this.rebuildView();
      return { added: fresh.length - replaced.size, changed: replaced.size, viewChanged: true };
    }
    let viewChanged = false;
    if (replaced.size) {
      const before = this.flatView.length;
      const kept = this.flatView.filter((r) => !replaced.has(r));
      viewChanged = kept.length !== before;
      this.flatView = kept;
    }
    const entering = fresh.filter((r) => matches(r, this.compiled)).sort(this.cmp);
    for (const r of entering) extendAxis(this.axis, r, now);
    if (entering.length) {
      this.flatView = mergeSorted(this.flatView, entering, this.cmp);
      viewChanged = true;
    }
    if (viewChanged || fresh.length) this.viewVersion++;
    // A group header shows its incoming request's status and time.
    if (this.shape && batch.incomingRequests?.length) viewChanged = true;
    return { added: fresh.length - replaced.size, changed: replaced.size, viewChanged };
  }

  /**
   * Removes requests that left the trace (a trace rule dropped them at their end: `update.removed`).
   * Returns how many rows went. One pass over the rows per call, whatever the number removed.
   */
  remove(traceIDs: readonly string[]): number {
    const gone = new Set<Row>();
    for (const id of traceIDs) {
      const row = typeof id === 'string' ? this.byId.get(id) : undefined;
      if (!row) continue;
      gone.add(row);
      this.byId.delete(id);
      this.count(row, -1);
    }
    if (gone.size === 0) return 0;
    const kept = this.rows.filter((r) => !gone.has(r));
    // `seq` is a row's place in `rows` (the sort's tie-break and apply()'s slot): renumbered in order.
    for (let i = 0; i < kept.length; i++) kept[i]!.seq = i;
    this.rows = kept;
    this.rowsVersion++;
    const before = this.flatView.length;
    this.flatView = this.flatView.filter((r) => !gone.has(r));
    if (this.flatView.length !== before) this.viewVersion++;
    return gone.size;
  }

  /** Sets the filter and recomputes the view. */
  setFilter(f: FilterSpec): void {
    this.filterSpec = { ...f, classes: [...f.classes] };
    this.compiled = compileFilter(this.filterSpec, this.slowMs, this.incoming);
    this.rebuildView();
  }

  /** Sets the sort order and re-sorts the view. */
  setSort(s: SortSpec): void {
    this.sortSpec = { ...s };
    this.cmp = comparator(this.sortSpec);
    this.flatView.sort(this.cmp);
    this.viewVersion++;
  }

  /**
   * The waterfall's time line: the axis with the debugger pauses it collapses (see
   * collapsiblePauses). Cached until the view, the axis or the pauses change.
   */
  timeline(): Timeline {
    const now = this.now();
    const key = `${this.viewVersion}|${this.axis.begin}|${this.axis.end}|${now}|${JSON.stringify(this.debuggerPauses)}`;
    if (this.timelineCache?.key === key) return this.timelineCache.timeline;
    const pauses = this.debuggerPauses;
    const starts = pauses.length ? this.flatView.map((r) => r.start) : [];
    const gaps = pauses.length ? collapsiblePauses(pauses, this.axis, starts, now ?? this.traceEndAt) : [];
    const timeline = new Timeline({ ...this.axis }, gaps);
    this.timelineCache = { key, timeline };
    return timeline;
  }

  /** Index of a request in the view, or -1. */
  indexOf(traceID: string): number {
    const row = this.byId.get(traceID);
    if (row && !this.shape) return this.flatView.indexOf(row);
    return this.view.findIndex((r) => r.req.traceID === traceID);
  }

  /** Parse errors of the filter text ("larger-than: expects a size …"), for the filter box. */
  get filterErrors(): string[] {
    return this.compiled.query.errors;
  }

  /** Hosts sorted by name, with counts, for the host filter. */
  hostList(): Array<[string, number]> {
    return [...this.hosts].sort((a, b) => cmpStr(a[0], b[0]));
  }

  private rebuildView(): void {
    const f = this.compiled;
    this.flatView = this.rows.filter((r) => matches(r, f)).sort(this.cmp);
    this.viewVersion++;
    // The waterfall axis spans the shown rows, so filtering zooms the waterfall in.
    this.axis = axisFor(this.flatView, this.now());
  }

  private count(row: Row, d: 1 | -1): void {
    if (row.failed) this.failedCount += d;
    if (row.host) {
      const n = (this.hosts.get(row.host) ?? 0) + d;
      if (n > 0) this.hosts.set(row.host, n);
      else this.hosts.delete(row.host);
    }
  }

  /** A request's own dial (the start of a request without `reqStartAt` is its dial's begin). */
  private ownDial(req: HttpRequest): Dial | undefined {
    return req.dial ? this.dials.get(req.dial) : undefined;
  }

  /**
   * Stores the records a request may refer to. The host's records may come from a saved trace
   * file, damaged or hostile: the nested ones are normalized here, where they enter the panel
   * (src/trace/formats/normalize.ts), so the views read them as typed.
   */
  private storeRefs(b: RecordBatch): void {
    if (b.dials) for (const d of normalizeDials(b.dials)) this.dials.set(d.traceID, d);
    if (b.tcpConns) {
      for (const c of normalizeTcpConns(b.tcpConns)) this.tcpConns.set(c.traceID, c);
      this.connsVersion++;
    }
    for (const t of b.tlsTunnels ?? []) {
      const old = this.tlsTunnels.get(t.traceID);
      this.tlsTunnels.set(t.traceID, t);
      reindex(this.tlsByConn, t.traceID, old?.tcpConn, t.tcpConn);
    }
    if (b.incomingRequests) {
      for (const r of normalizeIncoming(b.incomingRequests)) this.incoming.set(r.traceID, r);
      this.incomingVersion++;
    }
    if (b.udpConns) for (const u of normalizeUdpConns(b.udpConns)) this.udpConns.set(u.traceID, u);
    for (const q of b.dnsQueries ? normalizeDnsQueries(b.dnsQueries) : []) {
      const old = this.dnsQueries.get(q.traceID);
      this.dnsQueries.set(q.traceID, q);
      reindex(this.dnsByDial, q.traceID, old?.fromDial, q.fromDial);
      this.dnsTraced = true;
    }
  }
}

/** Moves `id` from the group of `oldKey` to the group of `newKey` in a reverse index. */
function reindex(index: Map<string, Set<string>>, id: string, oldKey: unknown, newKey: unknown): void {
  if (oldKey === newKey && typeof newKey === 'string' && index.get(newKey)?.has(id)) return;
  if (typeof oldKey === 'string') {
    const set = index.get(oldKey);
    set?.delete(id);
    if (set && set.size === 0) index.delete(oldKey);
  }
  if (typeof newKey === 'string') {
    let set = index.get(newKey);
    if (!set) index.set(newKey, (set = new Set()));
    set.add(id);
  }
}
