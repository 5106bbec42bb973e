/**
 * The panel's live feed of one session: its change notifications as `append`/`update` batches.
 */

import type { Session } from '../collector/session';
import type { HttpRequest, RecordKind, TlsTunnel } from '../trace/contract/types';
import type { DnsQuery } from '../trace/contract/dnsMessages';
import type { RecordBatch } from '../protocol/webview';

/**
 * Turns a session's throttled change notifications into the panel's `append`/`update` batches:
 * requests not sent before are appended, others updated, each with the records it references:
 * its dial, TCP connection(s) and TLS tunnel, a proxy's TLS tunnel on the same connection
 * (`forProxy`), the DNS message records of its dial (`dnsQueries` with `fromDial`, and the
 * UDP/TCP connections they went over), and the incoming request that caused it (`causedBy`). One batch per change event (the session throttles them),
 * so a program making 1,000 requests/s costs the webview a few messages per second.
 */
export class LiveFeed {
  private readonly sent = new Set<string>();
  /** dnsQueries by the dial that made them (`fromDial`). */
  private readonly dnsByDial = new ReverseIndex<DnsQuery>((q) => q.fromDial);
  /** TLS tunnels by the TCP connection under them (a proxy's and the origin's share one). */
  private readonly tlsByConn = new ReverseIndex<TlsTunnel>((t) => t.tcpConn);

  constructor(private readonly session: Session) {}

  /** Marks every request of a snapshot as sent (after a `reset`). */
  reset(requests: readonly HttpRequest[]): void {
    this.sent.clear();
    for (const r of requests) this.sent.add(r.traceID);
  }

  /**
   * The batches for the requests that changed, plus records that changed on their own (a
   * connection's close or counters: sent as themselves, without the requests that used them).
   */
  batches(
    requestIDs: readonly string[],
    records: ReadonlyArray<readonly [RecordKind, string]> = [],
  ): { append: RecordBatch | undefined; update: RecordBatch | undefined; removed: string[]; traceEndAt: number } {
    const append = emptyBatch();
    const update = emptyBatch();
    const trace = this.session.builder.trace;
    this.dnsByDial.refresh(trace.dnsQueries);
    this.tlsByConn.refresh(trace.tlsTunnels);
    const refs: Record<RefKind, Set<string>> = {
      dials: new Set(),
      tcpConns: new Set(),
      tlsTunnels: new Set(),
      udpConns: new Set(),
      dnsQueries: new Set(),
      incomingRequests: new Set(),
    };
    const push = (batch: RecordBatch, kind: RefKind, id: string | undefined): void => {
      if (id) pushRef(this.session, batch, refs[kind], kind, id);
    };
    for (const id of requestIDs) {
      const req = this.session.request(id);
      if (!req) continue;
      const target = this.sent.has(id) ? update : append;
      this.sent.add(id);
      target.httpRequests!.push(req);
      push(target, 'dials', req.dial);
      push(target, 'tcpConns', req.tcpConn);
      push(target, 'tcpConns', req.proxy?.tunnel);
      push(target, 'tlsTunnels', req.tlsTunnel);
      push(target, 'incomingRequests', req.causedBy);
      if (req.proxy) {
        for (const t of this.tlsByConn.get(req.proxy.tunnel ?? req.tcpConn)) if (t.forProxy) push(target, 'tlsTunnels', t.traceID);
      }
      if (req.dial) {
        for (const q of this.dnsByDial.get(req.dial)) {
          push(target, 'dnsQueries', q.traceID);
          push(target, 'udpConns', q.connection);
          push(target, 'tcpConns', q.tcpConn);
        }
      }
    }
    const removed: string[] = [];
    for (const [kind, id] of records) {
      if ((REF_KINDS as readonly string[]).includes(kind)) push(update, kind as RefKind, id);
      else if (kind === 'httpRequests' && !this.session.request(id) && this.sent.delete(id)) removed.push(id); // a rule dropped it
    }
    const traceEndAt = this.session.builder.relative(Date.now());
    return { append: nonEmpty(append), update: nonEmpty(update), removed, traceEndAt };
  }

  /** Every connection and DNS record, to refresh the panel's copies when the session ends. */
  connections(): RecordBatch {
    const t = this.session.builder.trace;
    return {
      dials: t.dials.slice(),
      tcpConns: t.tcpConns.slice(),
      tlsTunnels: t.tlsTunnels.slice(),
      udpConns: t.udpConns.slice(),
      dnsQueries: t.dnsQueries.slice(),
      incomingRequests: (t.incomingRequests ?? []).slice(),
    };
  }
}

/** The record kinds a request's batch carries besides the request. */
type RefKind = 'dials' | 'tcpConns' | 'tlsTunnels' | 'udpConns' | 'dnsQueries' | 'incomingRequests';

const REF_KINDS: readonly RefKind[] = ['dials', 'tcpConns', 'tlsTunnels', 'udpConns', 'dnsQueries', 'incomingRequests'];

/**
 * Records of one kind grouped by a reference field, for the references that point the other way
 * (a dnsQuery names its dial, the dial does not name it). Built incrementally from the builder's
 * append-only array: each refresh indexes only the records added since the last one, and starts
 * over when the array was cleared (Session.clear). The field must be set in a record's first
 * upsert (the preload sends `fromDial` and `tcpConn` with every one).
 */
class ReverseIndex<T extends { traceID: string }> {
  private readonly groups = new Map<string, T[]>();
  private indexed = 0;
  private last: T | undefined;

  constructor(private readonly key: (record: T) => string | undefined) {}

  refresh(records: readonly T[]): void {
    if (records.length < this.indexed || (this.indexed > 0 && records[this.indexed - 1] !== this.last)) {
      this.groups.clear();
      this.indexed = 0;
    }
    for (; this.indexed < records.length; this.indexed++) {
      const r = records[this.indexed]!;
      const k = this.key(r);
      if (!k) continue;
      const list = this.groups.get(k);
      if (list) list.push(r);
      else this.groups.set(k, [r]);
    }
    this.last = this.indexed > 0 ? records[this.indexed - 1] : undefined;
  }

  get(key: string | undefined): readonly T[] {
    return (key && this.groups.get(key)) || [];
  }
}

function emptyBatch(): RecordBatch {
  return { httpRequests: [], dials: [], tcpConns: [], tlsTunnels: [], udpConns: [], dnsQueries: [], incomingRequests: [] };
}

function pushRef(session: Session, batch: RecordBatch, seen: Set<string>, kind: RefKind, id: string): void {
  if (seen.has(id)) return;
  seen.add(id);
  const rec = kind === 'incomingRequests' ? session.incoming(id) : session.builder.get(kind, id);
  if (rec) (batch[kind] as unknown[]).push(rec);
}

function nonEmpty(b: RecordBatch): RecordBatch | undefined {
  const out: RecordBatch = {};
  let any = false;
  for (const k of ['httpRequests', ...REF_KINDS] as const) {
    if (b[k] && b[k]!.length > 0) {
      (out[k] as unknown) = b[k];
      any = true;
    }
  }
  return any ? out : undefined;
}
