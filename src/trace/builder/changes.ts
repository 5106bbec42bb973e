/**
 * What changed in a TraceBuilder's records (builder.ts) since the views last looked: the requests
 * whose record (or whose dial, connection or TLS record) changed, other records whose change
 * concerns only themselves, and whether anything else changed. Besides what the views hear of, it
 * tells a listener (whatever keeps requests' derived fields between snapshots) of every
 * request whose timings, loop share or diagnosis may now come out differently — also when the
 * views need not hear of it (a connection's kernel metrics, a late DNS message).
 */

import type { RecordKind } from '../contract/types';

/** What changed since the last ChangeLog.take(). */
export interface TraceChanges {
  /** traceIDs of requests whose record, or a record they use, changed. */
  requests: string[];
  /** Records whose change concerns only themselves (and removed requests, as 'httpRequests'). */
  records: Array<[RecordKind, string]>;
  /** Anything else changed (stats, warnings, processes, rules). */
  other: boolean;
}

/** The changes of one TraceBuilder. */
export class ChangeLog {
  private readonly requests = new Set<string>();
  private readonly records = new Map<string, RecordKind>();
  private other = false;
  /**
   * Told of each request whose derived fields may have changed (the traceID), or of all of them
   * (undefined). Called synchronously, before the builder's update returns.
   */
  onStale?: (traceID: string | undefined) => void;
  /**
   * Whether views are told of changes (a Session sets it while something listens to its
   * `change`). False: what changed is not kept (the views' lists), only onStale is told.
   * `nettrace run` without a live export tells nobody: the set of traceIDs filled at every update
   * was the largest self time of its collector's CPU profile while the program ran (issue 65).
   */
  listening = true;

  /** A request's record, or a record it uses, changed: the views hear of it. */
  request(traceID: string): void {
    if (this.listening) this.requests.add(traceID);
    this.onStale?.(traceID);
  }

  /** A record changed in a way that concerns only itself (a connection closing, byte counts). */
  record(traceID: string, kind: RecordKind): void {
    if (this.listening) this.records.set(traceID, kind);
  }

  /** A request was removed: reported as a changed record (live views drop it). */
  removed(traceID: string): void {
    this.requests.delete(traceID);
    this.records.set(traceID, 'httpRequests');
    this.other = true;
    this.onStale?.(traceID);
  }

  /**
   * Whether anything listens for stale requests (onStale). Without a listener a caller need not
   * look for them: a connection's kernel metrics come several times a second and would walk every
   * request the connection ever carried each time (the square of a long run's requests).
   */
  get watchingStale(): boolean {
    return this.onStale !== undefined;
  }

  /**
   * Whether request() tells anyone (a view listens, or something watches for stale requests):
   * without either a caller need not look for the requests to mark (`nettrace run`).
   */
  get tellsRequests(): boolean {
    return this.listening || this.watchingStale;
  }

  /** A request's derived fields may read differently though its row need not be sent again. */
  stale(traceID: string): void {
    this.onStale?.(traceID);
  }

  /** Every request's derived fields may read differently (a proxy's CONNECT request changed). */
  staleAll(): void {
    this.onStale?.(undefined);
  }

  /** Something other than a record changed. */
  touch(): void {
    this.other = true;
  }

  /** Forgets the changed requests (the builder's clear(): they are gone); the views hear of it. */
  forgetRequests(): void {
    this.requests.clear();
    this.other = true;
    this.onStale?.(undefined);
  }

  /** Forgets what changed since the last take, telling nobody (a Session nobody listens to: no lists made). */
  forget(): void {
    this.requests.clear();
    this.records.clear();
    this.other = false;
  }

  /** Returns and forgets what changed since the last call. */
  take(): TraceChanges {
    const requests = [...this.requests];
    const records: Array<[RecordKind, string]> = [];
    for (const [id, kind] of this.records) records.push([kind, id]);
    const other = this.other;
    this.requests.clear();
    this.records.clear();
    this.other = false;
    return { requests, records, other };
  }
}
