/**
 * What a request's update changes beyond its record, for TraceBuilder (builder.ts): the users of
 * the dial, connection and TLS tunnel it names (RecordUsers), what the views hear of, the count of
 * unfinished requests, the time of a failure the preload did not date, its end, and its redirect
 * links. The same whether the update came as a `record` message or as an event applied by code.
 */

import type { HttpRequest } from '../contract/types';
import { inheritRedirectInitiator, type RedirectLinks } from '../derive/redirects';
import type { ChangeLog } from './changes';
import { unmarkFinished } from './incomplete';
import type { RecordUsers } from './recordUsers';
import type { RecordLookup } from './recordTable';
import type { TraceStats } from './traceStats';
import { endOfRequest, type AnyRecord } from './upsert';

/** A request update's effects beyond its record: `before` it is applied, `after`. */
export class RequestUpdates {
  /** What the request named before the update being applied (before()). */
  private hadURL = '';
  private hadError: unknown;
  private hadDial: unknown;
  private hadTcpConn: unknown;
  private hadTlsTunnel: unknown;

  constructor(
    private readonly users: RecordUsers,
    private readonly changes: ChangeLog,
    private readonly stats: TraceStats,
    private readonly redirects: RedirectLinks,
    private readonly requests: RecordLookup,
    /** Now, in ms since the trace began. */
    private readonly now: () => number,
  ) {}

  /** Notes what `record` (a request; undefined when new) names before an update: its URL, error and references (RecordUsers.note). */
  before(record: AnyRecord | undefined): void {
    this.hadURL = record ? (record.reqURL as string) : '';
    this.hadError = record?.reqError;
    this.hadDial = record?.dial;
    this.hadTcpConn = record?.tcpConn;
    this.hadTlsTunnel = record?.tlsTunnel;
  }

  /** What the update of `req` (applied since before()) changes beyond it. */
  after(req: HttpRequest, traceID: string): void {
    if (typeof req.dial === 'string') this.users.note(req.dial, traceID, this.hadDial);
    if (typeof req.tcpConn === 'string') this.users.note(req.tcpConn, traceID, this.hadTcpConn);
    if (typeof req.tlsTunnel === 'string') this.users.note(req.tlsTunnel, traceID, this.hadTlsTunnel);
    this.changes.request(traceID);
    if (req.reqMethod === 'CONNECT') this.changes.staleAll(); // a failed proxied request's diagnosis reads it
    if (unmarkFinished(req as unknown as AnyRecord)) {
      this.stats.incomplete--;
      this.stats.sync();
    }
    // No `reqEndAt`: the preload did not say when the request failed; the time it told us is close enough.
    if (req.reqError && !this.hadError && (req.reqErrorAt ?? req.reqEndAt) === undefined) req.reqErrorAt = this.now();
    endOfRequest(req);
    if (req.reqURL && req.reqURL !== this.hadURL) this.redirects.link(req);
    if (req.redirectedFrom) inheritRedirectInitiator(req, this.requests.get(req.redirectedFrom) as unknown as HttpRequest | undefined);
    this.redirects.remember(req);
  }
}
