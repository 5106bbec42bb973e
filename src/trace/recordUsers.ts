/**
 * Which requests use which dial, TCP connection and TLS tunnel, for TraceBuilder (builder.ts): a
 * change to one of those records changes the derived fields (timings, diagnosis, kernel timings)
 * of the requests that use it, and the views hear of those requests (changes.ts).
 */

import type { ChangeLog } from './changes';
import { KERNEL_CLOCK_SLACK_MS } from './kernel';
import type { AnyRecord } from './upsert';

/** Requests in a row that ended before a kernel event, after which staleSince looks no further back. */
const STALE_LOOKBACK = 32;

/** The requests using each dial, TCP connection and TLS tunnel (by traceID). */
export class RecordUsers {
  /** traceID of a dial/tcpConn/tlsTunnel → requests that reference it. */
  private readonly usedBy = new Map<string, Set<string>>();
  /** traceID of a tcpConn → the requests on it, in the order they were first seen there (staleSince). */
  private readonly connUsers = new Map<string, string[]>();

  constructor(
    private readonly changes: ChangeLog,
    /** The records by traceID: requests and TCP connections. */
    private readonly requests: ReadonlyMap<string, AnyRecord>,
    private readonly tcpConns: ReadonlyMap<string, AnyRecord>,
  ) {}

  /** Request `requestID` references `target` through its field `ref` (dial, tcpConn, tlsTunnel). */
  note(target: string, requestID: string, ref: string): void {
    let set = this.usedBy.get(target);
    if (!set) this.usedBy.set(target, (set = new Set()));
    if (!set.has(requestID)) {
      set.add(requestID);
      if (ref === 'tcpConn') {
        const order = this.connUsers.get(target);
        if (order) order.push(requestID);
        else this.connUsers.set(target, [requestID]);
      }
    }
    this.countRequests(target);
  }

  /** `requestID` no longer references `target` (it was dropped). */
  forget(target: string, requestID: string): void {
    this.usedBy.get(target)?.delete(requestID);
  }

  /** `target` was removed from the trace. */
  remove(target: string): void {
    this.usedBy.delete(target);
    this.connUsers.delete(target);
  }

  /** Forgets every use. */
  clear(): void {
    this.usedBy.clear();
    this.connUsers.clear();
  }

  /** `target` changed in a way its requests show: each of them is changed. */
  changed(target: string): void {
    const users = this.usedBy.get(target);
    if (users) for (const u of users) this.changes.request(u);
  }

  /**
   * Marks changed the requests on TCP connection `tcpId` that had not ended by `since` (less the
   * clocks' slack), newest first: a kernel event of the connection is read only by the requests
   * whose time it falls in (kernel.ts). Stops after STALE_LOOKBACK requests in a row that had
   * ended before it; one still open behind them (an HTTP/2 stream) is read again at its end, with
   * every event its connection has by then.
   */
  staleSince(tcpId: string, since: number): void {
    const order = this.connUsers.get(tcpId);
    if (!order) return;
    const from = since - KERNEL_CLOCK_SLACK_MS;
    let ended = 0;
    for (let i = order.length - 1; i >= 0 && ended < STALE_LOOKBACK; i--) {
      const r = this.requests.get(order[i]);
      if (!r) continue;
      const end = r.respDoneAt ?? r.reqEndAt ?? r.reqErrorAt;
      if (typeof end === 'number' && end < from) {
        ended++;
        continue;
      }
      ended = 0;
      this.changes.request(order[i]);
    }
  }

  /**
   * A change the views need not hear of, to a record requests use: the derived fields of the
   * requests whose diagnosis or kernel timings may read it are stale. Of the fields a connection's
   * close brings (RECORD_ONLY_FIELDS) only the received bytes are read, by a failed request's TLS
   * diagnosis; the helper's tcpMetrics and conntrack by any request's. `fields` undefined: all.
   */
  stale(target: string, fields?: Record<string, unknown>): void {
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
    const seen = this.usedBy.get(tcpId)?.size ?? 0;
    if (!conn || (conn.requestCount as number) >= seen) return;
    conn.requestCount = seen;
    this.changes.record(tcpId, 'tcpConns');
  }
}
