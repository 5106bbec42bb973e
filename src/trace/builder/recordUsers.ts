/**
 * Which requests use which dial, TCP connection and TLS tunnel, for TraceBuilder (builder.ts): a
 * change to one of those records changes the derived fields (timings, diagnosis, kernel timings)
 * of the requests that use it, and the views hear of those requests (changes.ts).
 */

import type { ChangeLog } from './changes';
import { KERNEL_CLOCK_SLACK_MS } from '../derive/kernel';
import type { RecordLookup } from './recordTable';
import type { AnyRecord } from './upsert';
import { ID_PREFIX } from '../contract/wire';
import { numberAt } from './localIds';

/** Requests in a row that ended before a kernel event, after which staleSince looks no further back. */
const STALE_LOOKBACK = 32;

/**
 * Lists up to this long grow by an exact-size copy; longer ones by push (which leaves ≈ a third
 * free). Short: each copy is the whole list, and a kept-alive connection of hundreds of requests
 * copied its list 64 times (at 64, ≈ 2k element copies per connection).
 */
const EXACT_LIST = 16;

/** A copy of `list` with `id` added, of its exact size (not concat: ≈ 10× slower on a short list). */
function withOneMore(list: readonly string[], id: string): string[] {
  const out = new Array<string>(list.length + 1);
  for (let i = 0; i < list.length; i++) out[i] = list[i];
  out[list.length] = id;
  return out;
}

/** When a request ended (its response's end, its own, or its failure); undefined while it is open. */
const endOf = (r: AnyRecord): unknown => r.respDoneAt ?? r.reqEndAt ?? r.reqErrorAt;

/** A value per traceID of a dial, TCP connection or TLS tunnel: in an array per kind at the id's number. */
class ByTarget<T> {
  private readonly byKind: Array<Array<T | undefined>> = [[], [], []];
  /** Any other id (none the builder makes), made at the first. */
  private others: Map<string, T> | undefined;

  /** The kind (0 dial, 1 tcp, 2 tls) and number of `target` as kind + 3 × number, or -1. */
  private static slot(target: string): number {
    const c = target.charCodeAt(0);
    let kind = -1;
    if (c === 100 && target.startsWith(DIAL)) kind = 0;
    else if (c === 116) kind = target.startsWith(TCP) ? 1 : target.startsWith(TLS) ? 2 : -1;
    if (kind < 0) return -1;
    const n = numberAt(target, kind === 0 ? DIAL.length : TCP.length);
    return n < 0 ? -1 : kind + 3 * n;
  }

  get(target: string): T | undefined {
    const s = ByTarget.slot(target);
    return s < 0 ? this.others?.get(target) : this.byKind[s % 3][Math.floor(s / 3)];
  }

  set(target: string, value: T): void {
    const s = ByTarget.slot(target);
    if (s < 0) {
      (this.others ??= new Map()).set(target, value);
      return;
    }
    const list = this.byKind[s % 3];
    const n = Math.floor(s / 3);
    while (list.length < n) list.push(undefined);
    list[n] = value;
  }

  delete(target: string): void {
    const s = ByTarget.slot(target);
    if (s < 0) this.others?.delete(target);
    else if (Math.floor(s / 3) < this.byKind[s % 3].length) this.byKind[s % 3][Math.floor(s / 3)] = undefined;
  }

  clear(): void {
    for (const l of this.byKind) l.length = 0;
    this.others = undefined;
  }
}

const DIAL = `${ID_PREFIX.dials}-`;
const TCP = `${ID_PREFIX.tcpConns}-`;
const TLS = `${ID_PREFIX.tlsTunnels}-`;

/** The requests using each dial, TCP connection and TLS tunnel (by traceID). */
export class RecordUsers {
  /**
   * traceID of a dial/tcpConn/tlsTunnel → the requests that reference it, each once, in the order
   * they were first seen there (staleSince reads a connection's newest first). Arrays at the
   * targets' numbers, not a Map of Sets: a Set's hash table costs ≈ 4× an array's slot per
   * request, a Map's entry ≈ 40 bytes a target, and each request is in up to three lists. A list
   * grows by exact-size copies while short (a connection carries a handful of requests).
   */
  private readonly usedBy = new ByTarget<string[]>();
  /**
   * Requests one of whose references was once another record (rare): whether such a request is
   * already in a list is looked up; any other is there exactly when its reference already named
   * that record before the update (see note).
   */
  private readonly moved = new Set<string>();

  constructor(
    private readonly changes: ChangeLog,
    /** The records by traceID: requests and TCP connections. */
    private readonly requests: RecordLookup,
    private readonly tcpConns: RecordLookup,
  ) {}

  /**
   * Request `requestID` references `target` (a dial, tcpConn or tlsTunnel) after an update of it;
   * `before` is what that reference field held before the update (every string it held was noted).
   * A reference the update left as it was changes nothing: its request is in the list, and the
   * connection's count was raised when it was added (an update of the connection itself that
   * lowers it raises it again: TraceBuilder calls countRequests).
   */
  note(target: string, requestID: string, before: unknown): void {
    if (before === target) return;
    if (typeof before === 'string') this.moved.add(requestID);
    const list = this.usedBy.get(target);
    if (!list) this.usedBy.set(target, [requestID]);
    else if (!this.moved.has(requestID) || !list.includes(requestID)) {
      if (list.length < EXACT_LIST) this.usedBy.set(target, withOneMore(list, requestID));
      else list.push(requestID);
    }
    if (target.startsWith(TCP)) this.countRequests(target);
  }

  /** `requestID` no longer references `target` (it was dropped). */
  forget(target: string | undefined, requestID: string): void {
    if (typeof target !== 'string') return;
    const list = this.usedBy.get(target);
    const i = list ? list.lastIndexOf(requestID) : -1;
    if (i >= 0) list!.splice(i, 1);
    this.ended.delete(target);
  }

  /** `target` was removed from the trace. */
  remove(target: string): void {
    this.usedBy.delete(target);
    this.ended.delete(target);
  }

  /** Forgets every use. */
  clear(): void {
    this.usedBy.clear();
    this.ended.clear();
    this.moved.clear();
  }

  /** `target` changed in a way its requests show: each of them is changed. */
  changed(target: string): void {
    const users = this.usedBy.get(target);
    if (users) for (const u of users) this.changes.request(u);
  }

  /**
   * Per TCP connection: its first requests (in `usedBy` order) that have all ended, and the latest
   * of their ends. staleSince stops there instead of reading STALE_LOOKBACK cold requests again
   * for each batch of kernel events; each request is read here once, when it is next in line.
   * Valid while the connection's list only grows at its end (forget and remove drop it).
   */
  private readonly ended = new ByTarget<{ count: number; lastEnd: number }>();

  /** The ended prefix of `order` (the requests of `tcpId`), brought up to date. */
  private endedPrefix(tcpId: string, order: readonly string[]): { count: number; lastEnd: number } {
    let done = this.ended.get(tcpId);
    if (!done) this.ended.set(tcpId, (done = { count: 0, lastEnd: -Infinity }));
    while (done.count < order.length) {
      const r = this.requests.get(order[done.count]);
      const end = r ? endOf(r) : undefined;
      if (r && typeof end !== 'number') break;
      if (typeof end === 'number' && end > done.lastEnd) done.lastEnd = end;
      done.count++;
    }
    return done;
  }

  /**
   * Marks changed the requests on TCP connection `tcpId` that had not ended by `since` (less the
   * clocks' slack), newest first: a kernel event of the connection is read only by the requests
   * whose time it falls in (kernel.ts). Stops after STALE_LOOKBACK requests in a row that had
   * ended before it; one still open behind them (an HTTP/2 stream) is read again at its end, with
   * every event its connection has by then.
   */
  staleSince(tcpId: string, since: number): void {
    const order = this.usedBy.get(tcpId);
    if (!order) return;
    const from = since - KERNEL_CLOCK_SLACK_MS;
    const done = this.endedPrefix(tcpId, order);
    // The ended prefix all ended before `from`: none of it is marked, so the walk stops there.
    const stop = done.lastEnd < from ? done.count : 0;
    let ended = 0;
    for (let i = order.length - 1; i >= stop && ended < STALE_LOOKBACK; i--) {
      const r = this.requests.get(order[i]);
      if (!r) continue;
      const end = endOf(r);
      if (typeof end === 'number' && end < from) {
        ended++;
        continue;
      }
      ended = 0;
      this.changes.request(order[i]);
    }
  }

  /** TCP connections with kernel events not yet marked (kernelAdded), with the earliest moment they tell of. */
  private readonly kernelSince = new Map<string, number>();

  /**
   * Kernel events telling of `since` onwards were added to TCP connection `tcpId`: its requests in
   * that time are marked at the next markKernel (TraceBuilder.takeChanges), once per connection and
   * batch. A kept-alive connection gets an arrival per response, and marking them one by one
   * walked the connection's requests each time.
   */
  kernelAdded(tcpId: string, since: number): void {
    const before = this.kernelSince.get(tcpId);
    if (before === undefined || since < before) this.kernelSince.set(tcpId, since);
  }

  /** Marks the requests the connections' new kernel events may change (kernelAdded; `mark` false: only forgets them); true when it marked any. */
  markKernel(mark: boolean): boolean {
    if (this.kernelSince.size === 0) return false;
    if (mark)
      for (const [tcpId, since] of this.kernelSince) {
        // A connection cleared since is skipped.
        if (this.tcpConns.get(tcpId) === undefined) continue;
        this.changes.record(tcpId, 'tcpConns');
        this.staleSince(tcpId, since);
      }
    this.kernelSince.clear();
    return mark;
  }

  /**
   * A change the views need not hear of, to a record requests use: the derived fields of the
   * requests whose diagnosis or kernel timings may read it are stale. Of the fields a connection's
   * close brings (RECORD_ONLY_FIELDS) only the received bytes are read, by a failed request's TLS
   * diagnosis; the helper's tcpMetrics and conntrack by any request's. `fields` undefined: all.
   */
  stale(target: string, fields?: Record<string, unknown>): void {
    if (!this.changes.watchingStale) return;
    const users = this.usedBy.get(target);
    if (!users) return;
    const all = !fields || 'tcpMetrics' in fields || 'conntrack' in fields;
    for (const u of users) if (all || this.requests.get(u)?.reqError) this.changes.stale(u);
  }

  /**
   * A connection's `requestCount` is at least the requests seen on it: the preload reports its own
   * count at connect (0) and at close, so an open connection would read 0 in a live view.
   */
  countRequests(tcpId: string): void {
    const conn = this.tcpConns.get(tcpId);
    const seen = this.usedBy.get(tcpId)?.length ?? 0;
    if (!conn || (conn.requestCount as number) >= seen) return;
    conn.requestCount = seen;
    this.changes.record(tcpId, 'tcpConns');
  }
}
