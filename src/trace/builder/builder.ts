/**
 * TraceBuilder: turns the preload's messages (src/protocol/preload.ts) into a Trace.
 *
 * Each IPC connection (one per traced process or worker thread) names records by local ids; the
 * builder maps them to trace-wide traceIDs ("req-1", "dial-2", ...), rewrites references
 * (REF_FIELDS), converts absolute epoch-ms `...At` times to ms since `traceBeginAt` (those field
 * conversions: upsert.ts), merges repeated upserts shallowly and links redirects (redirects.ts).
 * It keeps the state of each IPC connection and the trace's stats and warnings; what changed since
 * the views last looked is its ChangeLog (changes.ts). Bad input becomes a warning, never an exception.
 */

import type { PreloadMessage } from '../../protocol/preload';
import type { DecodedEvent } from '../../protocol/events';
import { redactedQueryNames } from '../contract/redact';
import { RedirectLinks } from '../derive/redirects';
import { emptyTrace } from '../formats/traceFile';
import { ChangeLog, type TraceChanges } from './changes';
import { RecordUsers } from './recordUsers';
import { TraceStats } from './traceStats';
import { ID_PREFIX, RECORD_KINDS } from '../contract/wire';
import { RecordTable } from './recordTable';
import type { HttpRequest, Initiator, ProcessInfo, RecordKind, RecordOfKind, TcpConn, Trace } from '../contract/types';
import type { IncompleteReason } from '../contract/incoming';
import type { KernelEvent } from '../contract/kernelRecords';
import {
  DEFAULTS,
  endReason,
  isObject,
  KIND_INDEX,
  newConnectionState,
  onlyRecordFields,
  namesRef,
  REF_PATHS,
  toCount,
  setField,
  UpsertDecoder,
  type AnyRecord,
  type ConnectionState,
  type UpsertHost,
} from './upsert';
import { MAX_STACKS } from '../contract/wire';
import { PendingBlobs } from './pendingBlobs';
import { RecordingBuilder } from './recordings';
import { addLoopBlock, droppedLoopBlocks } from '../derive/loopBlocked';
import { normalizeRecord } from '../formats/normalize';
import { newRecordObject } from './recordObject';
import { applyRequestFields, requestEventFields, requestEventFits, type RequestEventField } from './requestEvents';
import { RequestUpdates } from './requestUpdates';
import { markIncomplete, unmarkFinished, UnexitedProcesses } from './incomplete';
import { markRestart, processInfoOf } from './processes';
import { roundMs } from '../derive/timings';
import { DEFAULT_MAX_PENDING_BLOB_BYTES, DEFAULT_MAX_RECORDS, type TraceBuilderOptions } from './builderOptions';

/** The index of `httpRequests` in RECORD_KINDS (and in the events' KINDS). */
const REQUEST_KIND = KIND_INDEX.get('httpRequests')!;

/** What takeChanges returns to a caller that tells nobody (frozen: shared by every call). */
const NOTHING_CHANGED: TraceChanges = Object.freeze({
  requests: Object.freeze([]) as unknown as string[],
  records: Object.freeze([]) as unknown as Array<[RecordKind, string]>,
  other: false,
});

/** Builds a Trace from the messages of any number of preload connections. */
export class TraceBuilder implements UpsertHost {
  /** The trace being built; records are shared with the internal indexes (do not replace arrays). */
  readonly trace: Trace;
  private readonly beginMs: number;
  private readonly now: () => number;
  readonly connections = new Map<number, ConnectionState>();
  private nextConnection = 1;
  /** traceID → record, one map per kind (O(1) lookups). */
  private readonly byId: RecordTable[] = RECORD_KINDS.map((kind) => new RecordTable(`${ID_PREFIX[kind]}-`));
  /** traceID of a dial/tcpConn/tlsTunnel → requests that reference it. */
  private readonly users: RecordUsers;
  /** What a request's update changes beyond its record. */
  private readonly requestUpdates: RequestUpdates;
  /** Redirects waiting for their follow-up request. */
  private readonly redirects: RedirectLinks;
  /** Turns upserts into record fields. */
  readonly fields: UpsertDecoder;
  /** traceIDs removed by clear(); later upserts for them are ignored. */
  private readonly cleared = new Set<string>();
  /** The trace's warnings and the counts behind `trace.stats`. */
  private readonly stats: TraceStats;
  /** The processes whose connection closed without an exit message, and their warning. */
  private readonly unexited: UnexitedProcesses;
  /** What changed since the views last looked, and whose derived fields may read differently. */
  readonly changes = new ChangeLog();
  /**
   * Called after a record other than a request was created or updated by a preload message
   * (the privileged helper's link indexes tcpConns by their address tuple this way).
   */
  onRecord?: (kind: RecordKind, record: Readonly<Record<string, unknown>> & { traceID: string }) => void;

  private readonly maxRecords: number;
  /** The request fields applyEvent reads, by code (requestEvents.ts); none without TraceBuilderOptions.eventFieldNames. */
  private readonly eventFields: ReadonlyArray<RequestEventField | undefined>;
  /** Blob frames not yet claimed by their records. */
  private readonly blobs: PendingBlobs;
  /** The recording for replay (recordings.ts): with the `record` option, or from the first exchange a preload sends. */
  private recordings: RecordingBuilder | undefined;

  constructor(options: TraceBuilderOptions) {
    this.fields = new UpsertDecoder(this, redactedQueryNames(options.redactQuery));
    this.maxRecords = options.maxRecords ?? DEFAULT_MAX_RECORDS;
    this.eventFields = requestEventFields(options.eventFieldNames ?? []);
    const beginAt = options.beginAt ?? new Date();
    this.trace = emptyTrace(options.description, beginAt);
    this.beginMs = beginAt.getTime();
    this.stats = new TraceStats(this.trace, options.maxWarnings ?? 100);
    this.unexited = new UnexitedProcesses(this.stats, (text) => this.warn(text));
    this.blobs = new PendingBlobs(options.maxPendingBlobBytes ?? DEFAULT_MAX_PENDING_BLOB_BYTES, this.stats, (m) => this.warn(m));
    if (options.record) this.recordings = new RecordingBuilder(this, options.record, this.beginMs);
    this.redirects = new RedirectLinks(options.maxPendingRedirects ?? 1000);
    this.users = new RecordUsers(this.changes, this.byId[REQUEST_KIND], this.byId[KIND_INDEX.get('tcpConns')!]);
    this.now = options.now ?? Date.now;
    this.requestUpdates = new RequestUpdates(this.users, this.changes, this.stats, this.redirects, this.byId[REQUEST_KIND], () =>
      this.relative(this.now()),
    );
  }

  /** Epoch ms of `traceBeginAt`. */
  get beginEpochMs(): number {
    return this.beginMs;
  }

  /** Converts an absolute epoch-ms time to ms since the trace began. */
  relative(epochMs: number): number {
    return roundMs(epochMs - this.beginMs);
  }

  /** Registers a new IPC connection; returns its handle for `apply`. */
  openConnection(): number {
    const id = this.nextConnection++;
    this.connections.set(id, newConnectionState());
    return id;
  }

  /**
   * Marks a connection closed. Once every socket of a process or thread is closed, its requests
   * that started but did not finish are kept with `incomplete` and the reason: it exited with them
   * in flight, or — without an `exit` message — it was killed (a worker: terminated), and then it
   * also gets a warning that its last events may be missing. `stopped`: the collector itself
   * closed the connection (the trace stopped while the process ran on).
   */
  closeConnection(connection: number, stopped = false): void {
    const state = this.connections.get(connection);
    if (!state || this.closedConnections.has(connection)) return;
    this.closedConnections.add(connection);
    if (--state.sockets > 0) return;
    if (!state.exitSeen && state.process && !stopped) {
      if (state.process.threadId) {
        // Terminating workers is routine: one warning for all of them.
        this.warn(
          'worker threads ended without an exit message (terminate()): what they had not sent yet may be missing; their unfinished requests are marked incomplete',
        );
      } else {
        this.unexited.closed(state);
      }
    }
    this.endRequests(state, stopped ? 'trace stopped' : endReason(state));
    state.exited = true;
    // Bodies whose records never came cannot be claimed any more.
    if (this.blobs.dropAll(state)) this.changes.touch();
  }

  /** Connection handles already closed. */
  private readonly closedConnections = new Set<number>();

  /** Marks the unfinished requests of a process or thread whose sockets all closed. */
  private endRequests(state: ConnectionState, reason: IncompleteReason): void {
    state.ended = reason;
    this.stats.incomplete += markIncomplete(state, this.byId, reason, (kind, id) => {
      if (kind === 'httpRequests') return this.changes.request(id);
      this.changes.record(id, kind);
      this.users.stale(id);
    });
    this.stats.sync();
    this.changes.touch();
  }

  /** Applies one message (already JSON-parsed) from a connection. Never throws. */
  apply(connection: number, message: unknown): void {
    let state = this.connections.get(connection);
    if (!state) {
      this.openConnectionWithId(connection);
      state = this.connections.get(connection)!;
    }
    try {
      this.applyChecked(state, message, connection);
    } catch (err) {
      this.warn(`could not apply a preload message: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private openConnectionWithId(connection: number): void {
    this.connections.set(connection, newConnectionState());
    if (connection >= this.nextConnection) this.nextConnection = connection + 1;
  }

  private applyChecked(state: ConnectionState, message: unknown, connection: number): void {
    if (!isObject(message) || typeof message.type !== 'string') {
      this.warn('malformed preload message (not an object with a type)');
      return;
    }
    const msg = message as unknown as PreloadMessage;
    switch (msg.type) {
      case 'hello':
        this.applyHello(state, msg, connection);
        return;
      case 'record':
        if (isObject(msg.fields) && msg.fields.exchange !== undefined) return this.applyExchange(state, msg.kind, msg.id, msg.fields);
        this.applyRecord(state, msg.kind, msg.id, msg.fields);
        return;
      case 'stack':
        this.applyStack(state, msg.id, msg.initiator);
        return;
      case 'blob':
        this.blobs.add(state, msg.id, msg.data);
        return;
      case 'warning':
        this.warn(`${state.pid !== undefined ? `pid ${state.pid}: ` : ''}${String(msg.message)}`);
        return;
      case 'stats':
        // Totals: a stats message older than one already applied (it came on the other socket
        // of a continued connection) changes nothing.
        if (typeof msg.producedEvents === 'number') {
          if (msg.producedEvents < state.producedEvents) return;
          if (msg.producedEvents === state.producedEvents && toCount(msg.droppedEvents) < state.droppedEvents) return;
          state.producedEvents = msg.producedEvents;
        }
        this.stats.setConnectionTotals(state, toCount(msg.droppedEvents), toCount(msg.untracedRequests), toCount(msg.skippedInitiators));
        if (state.process) droppedLoopBlocks(state.process, toCount(msg.droppedLoopBlocks));
        this.stats.sync();
        this.changes.touch();
        return;
      case 'loopBlock':
        this.applyLoopBlock(state, msg);
        return;
      case 'exit':
        state.exited = true;
        state.exitSeen = true;
        if (state.ended !== undefined) this.exitAfterEnd(state);
        if (state.process) {
          if (typeof msg.exitAt === 'number') state.process.exitAt = this.relative(msg.exitAt);
          if (typeof msg.exitCode === 'number') state.process.exitCode = msg.exitCode;
          const end = state.process.exitAt;
          if (end !== undefined && (this.trace.traceEndAt === undefined || end > this.trace.traceEndAt)) {
            this.trace.traceEndAt = end;
          }
        }
        this.changes.touch();
        return;
      default:
        this.warn(`unknown preload message type "${String((msg as { type: unknown }).type).slice(0, 40)}"`);
    }
  }

  private applyHello(state: ConnectionState, msg: PreloadMessage & { type: 'hello' }, connection: number): void {
    if (typeof msg.pid !== 'number') {
      this.warn('malformed hello message (no pid)');
      return;
    }
    if (msg.continues === true && typeof msg.conn === 'string' && !state.process) {
      // The end of an earlier connection, sent on a second one (its pipe was full at exit):
      // from now on this connection feeds that one's state.
      for (const other of this.connections.values()) {
        if (other === state || other.conn !== msg.conn || other.pid !== msg.pid) continue;
        this.connections.set(connection, other);
        other.sockets++;
        return;
      }
    }
    if (typeof msg.conn === 'string') state.conn = msg.conn.slice(0, 100);
    state.pid = msg.pid;
    state.threadId = typeof msg.threadId === 'number' ? msg.threadId : 0;
    const info = processInfoOf(msg, state.threadId, this.relative(typeof msg.startAt === 'number' ? msg.startAt : this.now()));
    if (state.process) Object.assign(state.process, info);
    else {
      // A process started again (node --watch, nodemon) after an earlier one with its command line ended.
      // The processes whose connection ended, gathered once (asked of each earlier process, a walk of
      // the connections each time cost the square of a run's processes at each hello).
      let ended: Set<ProcessInfo> | undefined;
      markRestart(this.trace.processes, info, (p) => {
        if (p.exitAt !== undefined) return true;
        if (!ended) {
          ended = new Set();
          for (const s of this.connections.values()) if (s.exited && s.process) ended.add(s.process);
        }
        return ended.has(p);
      });
      state.process = info;
      state.restart = info.restart ?? 0;
      this.trace.processes.push(info);
    }
    this.changes.touch();
  }

  /** A LoopBlockMessage: kept on the thread's process entry (loopBlocked.ts addLoopBlock). */
  private applyLoopBlock(state: ConnectionState, msg: { beginAt?: unknown; endAt?: unknown }): void {
    if (!state.process) return;
    if (!addLoopBlock(state.process, msg, this, this.trace, this.changes)) this.warn('malformed loopBlock message');
    this.changes.touch();
  }

  private applyStack(state: ConnectionState, id: unknown, initiator: unknown): void {
    if (typeof id !== 'string' || !isObject(initiator) || !Array.isArray(initiator.frames)) {
      this.warn('malformed stack message');
      return;
    }
    if (state.stacks.size >= MAX_STACKS && !state.stacks.has(id)) {
      this.warn(`more than ${MAX_STACKS} distinct initiator stacks from one process: the rest are not kept`);
      return;
    }
    state.stacks.set(id, this.fields.shareStack(initiator as unknown as Initiator));
  }

  /** Removes a pending blob and returns it (its bytes no longer count as pending); see UpsertHost. */
  takeBlob(state: ConnectionState, id: string): Uint8Array | undefined {
    return this.blobs.take(state, id);
  }

  /**
   * A request update carrying its exchange recorded for replay (WireExchange: recordings.ts): its
   * other fields first, then the exchange, unless its request is not kept (a rule dropped it, a cap).
   */
  private applyExchange(state: ConnectionState, kind: unknown, id: unknown, fields: Record<string, unknown>): void {
    const { exchange, ...rest } = fields;
    if (Object.keys(rest).length > 0) this.applyRecord(state, kind, id, rest);
    const blob = (exchange as { data?: unknown } | null)?.data;
    const data = typeof blob === 'string' ? this.takeBlob(state, blob) : undefined;
    const traceID = state.ids[KIND_INDEX.get('httpRequests')!].get(String(id));
    if (traceID === undefined || this.get('httpRequests', traceID) === undefined) return;
    (this.recordings ??= new RecordingBuilder(this, {}, this.beginMs)).add(traceID, exchange, data);
    this.changes.touch();
  }

  private applyRecord(state: ConnectionState, kind: unknown, localId: unknown, fields: unknown): void {
    const k = typeof kind === 'string' ? KIND_INDEX.get(kind as RecordKind) : undefined;
    if (k === undefined) {
      this.warn(`record of unknown kind "${String(kind).slice(0, 40)}"`);
      return;
    }
    if ((typeof localId !== 'string' && typeof localId !== 'number') || localId === '') {
      this.warn(`${String(kind)} record without an id`);
      return;
    }
    if (fields !== undefined && !isObject(fields)) {
      this.warn(`${String(kind)} record with malformed fields`);
      return;
    }
    const recordKind = RECORD_KINDS[k];
    const traceID = this.fields.globalId(state, k, String(localId));
    if (this.cleared.size > 0 && this.cleared.has(traceID)) return;
    const index = this.byId[k];
    const f = (fields ?? {}) as Record<string, unknown>;
    if (f.ruleDropped === true && recordKind === 'httpRequests') return this.dropRequest(traceID);
    let record = index.get(traceID);
    const isRequest = recordKind === 'httpRequests';
    const had = isRequest ? record : undefined;
    const hadURL = had ? (had.reqURL as string) : '';
    const hadError = had?.reqError;
    const hadDial = had?.dial;
    const hadTcpConn = had?.tcpConn;
    const hadTlsTunnel = had?.tlsTunnel;
    if (!record && this.overCap(recordKind)) return;
    if (!record) {
      // The first upsert's fields, converted in place (the builder owns its messages), go into an
      // object with room for them inside it (recordObject.ts; `__proto__` as an own field).
      for (const key in f) this.fields.convertField(state, f as AnyRecord, key, f[key]);
      record = newRecordObject(recordKind) as AnyRecord;
      for (const key in f) {
        if (key === '__proto__') setField(record, key, f[key]);
        else record[key] = f[key];
      }
      this.addRecord(state, recordKind, k, traceID, record);
    } else {
      for (const key in f) if (key !== 'traceID') this.fields.convertField(state, record, key, f[key]);
    }
    if (!isRequest) normalizeRecord(recordKind, record); // a peer's malformed part: fixed or left out, as in a file
    if (recordKind === 'incomingRequests') unmarkFinished(record);
    if (namesRef(f)) for (const ref of REF_PATHS[k]) this.fields.mapRef(state, record, ref, f);

    if (isRequest)
      this.requestUpdates.after(record as unknown as HttpRequest, traceID, hadURL, hadError, hadDial, hadTcpConn, hadTlsTunnel);
    else this.otherRecordChanged(recordKind, traceID, record, fields);
  }

  /**
   * Applies a decoded record event (src/collector/eventDecoder.ts) of a request from its fields by
   * code, as applyRecord applies the `record` message it stands for, without making that message:
   * no `fields` object, no walk of its keys, references rewritten as they are read. Only an update
   * requestEventFits takes (requestEvents.ts); for any other it applies nothing and returns false,
   * and the caller applies the message (recordMessageOf). Never throws.
   */
  applyEvent(connection: number, ev: DecodedEvent): boolean {
    if (ev.kind !== REQUEST_KIND || ev.id === '' || !requestEventFits(ev, this.eventFields)) return false;
    if (!this.connections.has(connection)) this.openConnectionWithId(connection);
    const state = this.connections.get(connection)!;
    try {
      const traceID = this.fields.globalId(state, REQUEST_KIND, ev.id);
      if (this.cleared.size > 0 && this.cleared.has(traceID)) return true;
      let record = this.byId[REQUEST_KIND].get(traceID);
      const hadURL = record ? (record.reqURL as string) : '';
      const hadError = record?.reqError;
      const hadDial = record?.dial;
      const hadTcpConn = record?.tcpConn;
      const hadTlsTunnel = record?.tlsTunnel;
      const isNew = !record;
      if (!record) {
        if (this.overCap('httpRequests')) return true;
        record = newRecordObject('httpRequests') as AnyRecord;
      }
      applyRequestFields(this.fields, state, record, ev, this.eventFields);
      if (isNew) this.addRecord(state, 'httpRequests', REQUEST_KIND, traceID, record);
      this.requestUpdates.after(record as unknown as HttpRequest, traceID, hadURL, hadError, hadDial, hadTcpConn, hadTlsTunnel);
    } catch (err) {
      this.warn(`could not apply a preload message: ${err instanceof Error ? err.message : String(err)}`);
    }
    return true;
  }

  /** True, with a warning, when a new record of `recordKind` would pass the cap on records (`maxRecords`). */
  private overCap(recordKind: RecordKind): boolean {
    if ((this.trace[recordKind]?.length ?? 0) < this.maxRecords) return false;
    this.stats.droppedRecords++;
    this.warn(`more than ${this.maxRecords} ${recordKind} records: the rest are dropped (stats.droppedRecords)`);
    this.stats.sync();
    return true;
  }

  /** A new record, its first update's fields set: its traceID, process, thread and defaults, then kept. */
  private addRecord(state: ConnectionState, recordKind: RecordKind, k: number, traceID: string, record: AnyRecord): void {
    record.traceID = traceID;
    if (state.pid !== undefined) record.pid = state.pid;
    // Always stored (undefined when none: no field in the file): a store first made by a restart's first request deoptimized applyRecord.
    if (recordKind === 'httpRequests') record.restart = state.restart || undefined;
    if (recordKind !== 'udpConns' && recordKind !== 'dnsQueries' && state.threadId !== undefined) {
      record.threadId = state.threadId;
    }
    const defaults = DEFAULTS[recordKind]?.();
    if (defaults) for (const key in defaults) if (record[key] === undefined) setField(record, key, defaults[key]);
    this.byId[k].set(traceID, record);
    ((this.trace[recordKind] ??= []) as unknown as AnyRecord[]).push(record);
  }

  /** What a record other than a request changes (applyRecord; out of line, its rare branches deoptimized the whole). */
  private otherRecordChanged(recordKind: RecordKind, traceID: string, record: AnyRecord, fields?: Record<string, unknown>): void {
    // Closing a kept-alive connection must not re-send every request it carried: fields that no
    // request's timings or diagnosis read change only the record itself.
    // An incoming request changes itself (the editor's handler lenses and the panel's groups read it).
    if (recordKind === 'incomingRequests' || (fields !== undefined && onlyRecordFields(fields))) {
      this.changes.record(traceID, recordKind);
      if (recordKind !== 'incomingRequests') this.users.stale(traceID, fields);
    } else this.users.changed(traceID);
    // A DNS message of a dial: the diagnosis of the dial's requests tells its story.
    if (recordKind === 'dnsQueries' && typeof record.fromDial === 'string') this.users.stale(record.fromDial);
    this.changes.touch();
    if (recordKind === 'tcpConns') this.users.countRequests(traceID);
    this.onRecord?.(recordKind, record);
  }

  /** Removes a request the trace rules chose at its end not to keep (`ruleDropped`, docs/rules.md); later upserts are ignored. */
  private dropRequest(traceID: string): void {
    const record = this.byId[KIND_INDEX.get('httpRequests')!].get(traceID);
    this.cleared.add(traceID);
    if (!record) return;
    this.byId[KIND_INDEX.get('httpRequests')!].delete(traceID);
    const list = this.trace.httpRequests as unknown as AnyRecord[];
    list.splice(list.lastIndexOf(record) >>> 0, 1); // most drops are of a recent request
    for (const ref of ['dial', 'tcpConn', 'tlsTunnel']) this.users.forget(record[ref] as string | undefined, traceID);
    this.changes.removed(traceID); // reported as a changed record: live views remove it (LiveFeed)
  }

  /**
   * Shallow-merges fields learned outside the preload (the privileged helper's kernel metrics and
   * conntrack readings) into an existing record; times must already be trace-relative. The
   * requests using the record count as changed unless only record-only fields changed (see
   * RECORD_ONLY_FIELDS); a connection's kernel events are added by kernelEventsAdded instead.
   * False when there is no such record.
   */
  mergeFields(kind: RecordKind, traceID: string, fields: Record<string, unknown>): boolean {
    const record = this.byId[KIND_INDEX.get(kind)!].get(traceID);
    if (!record) return false;
    for (const [key, value] of Object.entries(fields)) if (key !== 'traceID') setField(record, key, value);
    if (onlyRecordFields(fields)) {
      this.changes.record(traceID, kind);
      this.users.stale(traceID, fields);
    } else {
      this.users.changed(traceID);
    }
    this.changes.touch();
    return true;
  }

  /**
   * Kernel events were added to a TCP connection's `kernelEvents` in place (collector/kernelEvents.ts
   * addKernelEvent); `list` is that array, `since` the earliest moment the new ones tell of: its
   * requests are marked at the next takeChanges (RecordUsers.kernelAdded). `conn` is the record
   * itself, as the caller found it (get, onRecord): not looked up again for each arrival.
   */
  kernelEventsAdded(conn: TcpConn, list: KernelEvent[], since: number): void {
    if (conn.kernelEvents !== list) setField(conn as unknown as AnyRecord, 'kernelEvents', list);
    this.users.kernelAdded(conn.traceID, since);
  }

  /** Notes a change outside the records (e.g. `stats.helper`, `packetCapture`) for takeChanges. */
  touch(): void {
    this.changes.touch();
  }

  /**
   * The `exit` of a process or thread arrived after its sockets all closed (on a continuation,
   * read after the first socket's end): it was not killed after all. Its requests' reason and the
   * warning given at the close are corrected.
   */
  private exitAfterEnd(state: ConnectionState): void {
    const reason = endReason(state);
    this.unexited.exited(state);
    if (state.ended !== reason && state.ended !== 'trace stopped') this.endRequests(state, reason);
    this.stats.sync();
  }

  /**
   * The run was interrupted (the CLI forwarded `signal` to the program): a process that ends, or
   * ended, without an exit message was stopped by it. Its warning says so instead of "killed".
   */
  interrupted(signal: string): void {
    this.unexited.interrupted(signal);
  }

  /** Records a warning (deduplicated, capped; the rest are counted). */
  warn(message: string): void {
    if (this.stats.warn(message)) this.changes.touch();
  }

  /** Looks a record up by traceID in O(1). */
  get<K extends RecordKind>(kind: K, traceID: string | undefined): RecordOfKind[K] | undefined {
    if (traceID === undefined) return undefined;
    return this.byId[KIND_INDEX.get(kind)!].get(traceID) as RecordOfKind[K] | undefined;
  }

  /** True when every connection has said `exit` or closed. */
  get idle(): boolean {
    for (const c of this.connections.values()) if (!c.exited) return false;
    return true;
  }

  /** Number of connections ever opened. */
  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Returns and forgets what changed since the last call: traceIDs of requests whose record (or
   * whose dial/connection/TLS record) changed, and whether anything else changed. `told` false: the
   * caller tells nobody (a Session without a `change` listener): what changed is forgotten and
   * nothing is returned, and the requests a connection's new kernel events may change are not
   * looked for unless ChangeLog.onStale listens.
   */
  takeChanges(told = true): TraceChanges {
    if (this.users.markKernel(told || this.changes.watchingStale)) this.changes.touch();
    if (told) return this.changes.take();
    this.changes.forget();
    return NOTHING_CHANGED;
  }

  /**
   * Drops finished work: every request, dial and DNS/UDP record, and every TCP/TLS record whose
   * connection is closed. Open connections stay so later requests reusing them keep their links.
   * Later upserts of dropped records are ignored. Processes and stats stay.
   */
  clear(): void {
    const keepTcp = new Set<string>();
    for (const kind of RECORD_KINDS) {
      const k = KIND_INDEX.get(kind)!;
      const list = (this.trace[kind] ?? []) as unknown as AnyRecord[];
      const kept: AnyRecord[] = [];
      for (const r of list) {
        let keep = false;
        if (kind === 'tcpConns') keep = r.connCloseAt === undefined && r.connected === true;
        if (kind === 'tlsTunnels') keep = typeof r.tcpConn === 'string' && keepTcp.has(r.tcpConn);
        if (keep) {
          kept.push(r);
          if (kind === 'tcpConns') keepTcp.add(r.traceID);
        } else {
          this.byId[k].delete(r.traceID);
          this.cleared.add(r.traceID);
          this.users.remove(r.traceID);
        }
      }
      list.length = 0;
      list.push(...kept);
    }
    this.users.clear();
    this.redirects.clear();
    this.changes.forgetRequests();
  }
}
