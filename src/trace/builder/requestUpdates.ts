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

/** A request update's effects beyond its record (after), given what the request named before it. */
export class RequestUpdates {
  constructor(
    private readonly users: RecordUsers,
    private readonly changes: ChangeLog,
    private readonly stats: TraceStats,
    private readonly redirects: RedirectLinks,
    private readonly requests: RecordLookup,
    /** Now, in ms since the trace began. */
    private readonly now: () => number,
  ) {}

  /** What the update of `req` changes beyond it; `had…` what it named before the update (undefined, and '' for the URL, when new). */
  after(
    req: HttpRequest,
    traceID: string,
    hadURL: string,
    hadError: unknown,
    hadDial: unknown,
    hadTcpConn: unknown,
    hadTlsTunnel: unknown,
  ): void {
    if (typeof req.dial === 'string') this.users.note(req.dial, traceID, hadDial);
    if (typeof req.tcpConn === 'string') this.users.note(req.tcpConn, traceID, hadTcpConn);
    if (typeof req.tlsTunnel === 'string') this.users.note(req.tlsTunnel, traceID, hadTlsTunnel);
    this.changes.request(traceID);
    if (req.reqMethod === 'CONNECT') this.changes.staleAll(); // a failed proxied request's diagnosis reads it
    if (unmarkFinished(req as unknown as AnyRecord)) {
      this.stats.incomplete--;
      this.stats.sync();
    }
    // No `reqEndAt`: the preload did not say when the request failed; the time it told us is close enough.
    if (req.reqError && !hadError && (req.reqErrorAt ?? req.reqEndAt) === undefined) req.reqErrorAt = this.now();
    endOfRequest(req);
    if (req.reqURL && req.reqURL !== hadURL) this.redirects.link(req);
    if (req.redirectedFrom) inheritRedirectInitiator(req, this.requests.get(req.redirectedFrom) as unknown as HttpRequest | undefined);
    this.redirects.remember(req);
  }
}
