/**
 * How one record upsert from the preload becomes fields of a trace record, for TraceBuilder
 * (builder.ts): the state kept per IPC connection (its local ids, initiator stacks and blobs),
 * references rewritten from local ids to traceIDs (REF_FIELDS), `...At` times made relative to
 * the trace, headers decoded from their wire forms with URLs redacted, stack references and blob
 * bodies resolved. Bad input becomes a warning, never an exception.
 */

import { isTime, isTimeKey } from '../formats/normalize';
import { redactUrl, type NameSet } from '../contract/redactUrl';
import type { HeaderPair, HttpRequest, Initiator, ProcessInfo, RecordKind } from '../contract/types';
import type { IncompleteReason } from '../contract/incoming';
import { ID_PREFIX, RECORD_KINDS } from '../contract/wire';
import { decodeHeaders, REF_FIELDS } from '../contract/wire';
import { SharedPairs } from './sharedPairs';
import { LocalIds } from './localIds';

/**
 * Fields of a connection record that no request's timings or diagnosis read: an update made only
 * of these changes the record alone (see takeChanges).
 */
export const RECORD_ONLY_FIELDS: ReadonlySet<string> = new Set([
  'connCloseAt',
  'totalSentBytes',
  'totalRecvBytes',
  'requestCount',
  'socketTrace',
  'tcpMetrics',
  'conntrack',
]);

/** Whether every field of an update is one that changes its record alone (RECORD_ONLY_FIELDS); no list nor closure made. */
export function onlyRecordFields(fields: Record<string, unknown>): boolean {
  for (const key in fields) if (!RECORD_ONLY_FIELDS.has(key)) return false;
  return true;
}

/** Header names whose values are URLs or paths with a query (see redactUrl). */
const URL_HEADERS = /^(:path|location|content-location)$/i;

/** What the builder knows about one IPC connection (one traced process or worker thread). */
export interface ConnectionState {
  /** Local id → traceID, per record kind. */
  ids: LocalIds[];
  /** Initiator stacks the connection sent (`stack` messages), by their local id. */
  stacks: Map<string, Initiator>;
  /** Blob frames not yet claimed by a record, by their local id (see BlobMessage). */
  blobs: Map<string, Uint8Array>;
  pid?: number;
  threadId?: number;
  process?: ProcessInfo;
  /**
   * Its process's `restart`, set with `process` at the hello: read for every request (applyRecord)
   * here, not on the process's entry, whose hidden class differs from one process to the next
   * (each gains its fields in its own order), which threw TurboFan's code of applyRecord away.
   * 0 when none (a small integer from the start: a number stored where undefined was also did).
   */
  restart: number;
  droppedEvents: number;
  untracedRequests: number;
  skippedInitiators: number;
  /** The highest producedEvents a stats message reported (older stats arriving later are ignored). */
  producedEvents: number;
  /** Done: said `exit`, or every socket of it closed (see `idle`). */
  exited: boolean;
  /** The preload's `exit` message arrived. */
  exitSeen: boolean;
  /** The preload's name for this connection (HelloMessage.conn). */
  conn?: string;
  /** Sockets feeding this state: a continuation (HelloMessage.continues) adds one. */
  sockets: number;
  /** Why its unfinished requests were marked incomplete, once its last socket closed. */
  ended?: IncompleteReason;
}

/**
 * The state of a connection that has sent nothing yet. Every field is there from the start, the
 * ones a hello or the end fills as undefined: added later, `process` took the hidden class of the
 * first process's entry as its field type, and the next process's hello widened it, which threw
 * away TurboFan's code of every function reading it (applyRecord, compiled again: ≈ 15 ms).
 */
export function newConnectionState(): ConnectionState {
  return {
    ids: RECORD_KINDS.map(() => new LocalIds()),
    stacks: new Map(),
    blobs: new Map(),
    pid: undefined,
    threadId: undefined,
    process: undefined,
    restart: 0,
    droppedEvents: 0,
    untracedRequests: 0,
    skippedInitiators: 0,
    producedEvents: 0,
    exited: false,
    exitSeen: false,
    conn: undefined,
    sockets: 1,
    ended: undefined,
  };
}

/** A record of any kind, as the builder holds it. */
export type AnyRecord = Record<string, unknown> & { traceID: string };

/** Top-level reference fields of any kind: their values are ids, unique, not worth sharing. */
const REF_KEYS: ReadonlySet<string> = new Set(Object.values(REF_FIELDS).flatMap((refs) => refs.map(([path]) => path.split('.')[0])));

/**
 * Whether an upsert's fields name a reference (REF_FIELDS): most name none, and their kind's
 * reference paths need not be looked for one by one.
 */
export function namesRef(fields: Record<string, unknown>): boolean {
  for (const key in fields) if (REF_KEYS.has(key)) return true;
  return false;
}

/** Index of each record kind in RECORD_KINDS. */
export const KIND_INDEX = new Map<RecordKind, number>(RECORD_KINDS.map((k, i) => [k, i]));

/** One reference field: its (dotted) path and the kind it points to. */
export interface RefPath {
  parts: readonly string[];
  target: RecordKind;
}
/** REF_FIELDS per kind index, paths split once. */
export const REF_PATHS: RefPath[][] = RECORD_KINDS.map((k) => REF_FIELDS[k].map(([path, target]) => ({ parts: path.split('.'), target })));

/**
 * Object-valued fields that hold no `...At` times (headers, stacks, bodies, addresses,
 * certificates): stored as sent, without the recursive walk of convertTimes.
 */
const NO_TIMES: ReadonlySet<string> = new Set([
  'reqHeaders',
  'respHeaders',
  'respTrailers',
  'initiator',
  'handler',
  'reqBody',
  'respBody',
  'addrTuple',
  'peerCerts',
  'proxy',
]);

/** Header blocks remembered per field (UpsertDecoder.headerListOf), and the longest remembered. */
const MAX_CACHED_BLOCKS = 64;
const MAX_CACHED_BLOCK = 4096;

/** Default fields a new record starts with, so required fields of the model exist. */
export const DEFAULTS: { readonly [K in RecordKind]?: () => Record<string, unknown> } = {
  httpRequests: () => ({ client: 'http', reqMethod: 'GET', reqURL: '' }),
  dials: () => ({ dstAddress: '', dialBeginAt: 0, dnsLookups: [], connectAttempts: [] }),
  tcpConns: () => ({ connected: false }),
  tlsTunnels: () => ({ forProxy: false, handshakeErr: null }),
  dnsQueries: () => ({ dnsQueryMsgs: [], dnsReplyMsgs: [] }),
};

/** What converting fields needs of the builder. */
export interface UpsertHost {
  /** Converts an absolute epoch-ms time to ms since the trace began. */
  relative(epochMs: number): number;
  /** Records a warning. */
  warn(message: string): void;
  /** Removes a pending blob of the connection and returns it. */
  takeBlob(state: ConnectionState, id: string): Uint8Array | undefined;
}

/** Converts the fields of upserts into record fields, and allocates the trace-wide traceIDs. */
export class UpsertDecoder {
  /** traceIDs allocated so far, per kind. */
  private readonly counters: number[] = RECORD_KINDS.map(() => 0);
  /** Equal header pairs held once (sharedPairs.ts). */
  private readonly sharedPairs = new SharedPairs();
  /** Header lists by the header block they were decoded from, per field (headerListOf). */
  private readonly blocks = new Map<string, Map<string, HeaderPair[]>>();

  constructor(
    private readonly host: UpsertHost,
    /** Query parameter names whose values are redacted in URLs (see redactUrl). */
    private readonly redactQuery: NameSet,
  ) {}

  /** Maps a local id to the traceID of its kind, allocating one on first sight. */
  globalId(state: ConnectionState, kindIndex: number, localId: string): string {
    const ids = state.ids[kindIndex];
    let id = ids.get(localId);
    if (id === undefined) {
      id = `${ID_PREFIX[RECORD_KINDS[kindIndex]]}-${++this.counters[kindIndex]}`;
      ids.set(localId, id);
    }
    return id;
  }

  /** Rewrites one (possibly dotted) reference field from a local id to a traceID. */
  mapRef(state: ConnectionState, record: AnyRecord, ref: RefPath, fields: Record<string, unknown>): void {
    const { parts, target } = ref;
    if (!(parts[0] in fields)) return;
    // Only map references present in this upsert: older ones are already traceIDs.
    let sent: unknown = fields;
    for (const p of parts) sent = isObject(sent) ? sent[p] : undefined;
    if (typeof sent !== 'string' && typeof sent !== 'number') return;
    let holder: Record<string, unknown> = record;
    for (let i = 0; i < parts.length - 1; i++) {
      const next = holder[parts[i]];
      if (!isObject(next)) return;
      // Copy nested objects before editing so the preload's message object is not mutated.
      const copy = { ...next };
      holder[parts[i]] = copy;
      holder = copy;
    }
    const last = parts[parts.length - 1];
    holder[last] = this.globalId(state, KIND_INDEX.get(target)!, String(sent));
  }

  /** A request's URL: the one place URLs are redacted (every view and file is made from this record). */
  setUrl(record: AnyRecord, url: string): void {
    record.reqURL = this.sharedPairs.string(redactUrl(url, this.redactQuery));
  }

  /** A header field (reqHeaders, respHeaders, respTrailers) from any of its wire forms (headerListOf); a malformed one is left out, with a warning. */
  setHeaders(record: AnyRecord, key: string, value: unknown): void {
    const list = this.headerListOf(key, value);
    setField(record, key, list);
    if (!list && value !== undefined && value !== null) this.host.warn(`a request's ${key} were malformed and are left out`);
  }

  /**
   * A time (a `...At` field): epoch milliseconds within what a Date holds, made trace-relative.
   * Anything else (a hostile or broken peer's) is left out, keeping a value an earlier update gave;
   * views and exports read these as numbers (a HAR entry's startedDateTime is a Date of it).
   */
  setTime(record: AnyRecord, key: string, value: unknown): void {
    if (isTime(value)) setField(record, key, this.host.relative(value));
    else if (record[key] === value) record[key] = undefined;
  }

  /** A request's initiator from its stack's local id: every request made from the same place shares one Initiator object. */
  setInitiator(state: ConnectionState, record: AnyRecord, stackId: string): void {
    const initiator = state.stacks.get(stackId);
    record.initiator = initiator;
    if (!initiator) this.host.warn(`a request referred to an initiator stack that never arrived (${stackId.slice(0, 20)})`);
  }

  /** A text field other than those above: equal strings held once. */
  setText(record: AnyRecord, key: string, text: string): void {
    setField(record, key, this.sharedPairs.string(text));
  }

  /**
   * Stores one field of an upsert into a record: `...At` times made trace-relative (nested ones
   * too), an initiator stack reference replaced by the stack (see StackMessage).
   */
  convertField(state: ConnectionState, record: AnyRecord, key: string, value: unknown): void {
    if (key === 'reqURL' && typeof value === 'string') {
      this.setUrl(record, value);
    } else if (key === 'reqHeaders' || key === 'respHeaders' || key === 'respTrailers') {
      this.setHeaders(record, key, value);
    } else if (isTimeKey(key)) {
      this.setTime(record, key, value);
    } else if (typeof value === 'number') {
      setField(record, key, value);
    } else if (key === 'initiator' && typeof value === 'string') {
      this.setInitiator(state, record, value);
    } else if (key === 'handler' && typeof value === 'string') {
      // An incoming request's handler: the one frame of a stack message.
      const frame = state.stacks.get(value)?.frames[0];
      if (frame) record.handler = frame;
      else if (record.handler === value) delete record.handler; // its stack never came: no position
    } else if ((key === 'reqBody' || key === 'respBody') && isObject(value) && typeof value.textBlob === 'string') {
      setField(record, key, this.bodyFromBlob(state, value));
    } else if (typeof value === 'string' && !REF_KEYS.has(key)) {
      this.setText(record, key, value);
    } else if (key === 'addrTuple' && isObject(value)) {
      // A connection's addresses: the same few strings on every connection (its ports differ).
      for (const k of Object.keys(value)) if (typeof value[k] === 'string') value[k] = this.sharedPairs.string(value[k]);
      setField(record, key, value);
    } else if (key === 'peerCerts') {
      // Every connection to a server gets the same chain: held once.
      setField(record, key, this.sharedPairs.json(value));
    } else if (value === null || typeof value !== 'object' || NO_TIMES.has(key)) {
      setField(record, key, value);
    } else {
      setField(record, key, this.convertTimes(key, value));
    }
  }

  /**
   * The header list of any of the preload's header forms (see WireHeaders), its URL-valued headers
   * redacted, shared with equal lists (SharedPairs.list); undefined when malformed. A header block
   * seen before gives the list it gave then without being parsed again: a program's requests
   * repeat a few blocks (the responses' change with their Date), and parsing each one again was
   * a tenth of the collector's work on a request.
   */
  private headerListOf(field: string, value: unknown): HeaderPair[] | undefined {
    const block = typeof value === 'string' && value.length <= MAX_CACHED_BLOCK ? value : undefined;
    let cache = this.blocks.get(field);
    const known = block !== undefined ? cache?.get(block) : undefined;
    if (known) return known;
    const pairs = decodeHeaders(value);
    if (!pairs) return undefined;
    // Headers holding a URL (a redirect's Location, HTTP/2's :path) are redacted the same way
    // (redirect links compare the Location with the next request's URL).
    for (let i = 0; i < pairs.length; i++) {
      const p = pairs[i];
      if (p.length > 1 && typeof p[1] === 'string' && URL_HEADERS.test(String(p[0]))) pairs[i] = [p[0], redactUrl(p[1], this.redactQuery)];
    }
    const list = this.sharedPairs.list(field, pairs);
    if (block !== undefined) {
      if (!cache) this.blocks.set(field, (cache = new Map()));
      // Oldest first out: a Map iterates in insertion order.
      if (cache.size >= MAX_CACHED_BLOCKS) cache.delete(cache.keys().next().value!);
      cache.set(block, list);
    }
    return list;
  }

  /**
   * An initiator stack as a connection sent it, its frames' strings (file names, function names)
   * shared with the other stacks of the trace (each process of a program sends its own stacks,
   * naming the same files). Changed in place (the builder owns the messages it is given).
   */
  shareStack(initiator: Initiator): Initiator {
    for (const frame of initiator.frames as unknown[]) {
      if (!isObject(frame)) continue;
      for (const k of Object.keys(frame)) if (typeof frame[k] === 'string') frame[k] = this.sharedPairs.string(frame[k]);
    }
    return initiator;
  }

  /** A captured body whose text came as a blob frame (`textBlob`), with the text decoded. */
  private bodyFromBlob(state: ConnectionState, body: Record<string, unknown>): Record<string, unknown> {
    const { textBlob, ...rest } = body;
    const data = this.host.takeBlob(state, textBlob as string);
    if (data === undefined) {
      this.host.warn(`a captured body referred to bytes that never arrived (${String(textBlob).slice(0, 20)})`);
      return rest;
    }
    rest.text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
    return rest;
  }

  /** Converts every numeric `...At` field (recursively) from epoch ms to trace-relative ms. */
  private convertTimes(key: string, value: unknown): unknown {
    if (typeof value === 'number') return isTimeKey(key) ? this.host.relative(value) : value;
    if (typeof value === 'string') return this.sharedPairs.string(value); // an address, a host name: repeated
    if (Array.isArray(value)) return value.map((v) => this.convertTimes('', v));
    if (isObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.convertTimes(k, v);
      return out;
    }
    return value;
  }
}

/**
 * Stores one field of a record. A property added by a keyed store (`record[key] = value`) past a
 * dozen out-of-object properties turns the object into V8's dictionary mode — a hash table of
 * ≈ 1.3 KB per request, slower to read, copy and stringify — and requests have 20-odd fields;
 * a property added with Object.defineProperty keeps the object's fast properties. A field named
 * `__proto__` becomes an own property, not the record's prototype.
 */
export function setField(record: Record<string, unknown>, key: string, value: unknown): void {
  // A named store, whether the field is there yet or not: one lookup instead of two.
  const set = SETTER_OF.get(key);
  if (set !== undefined) set(record, value);
  else if (Object.hasOwn(record, key)) record[key] = value;
  else Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
}

type Setter = (record: Record<string, unknown>, value: unknown) => void;

/**
 * A named store per request field (setField), one for each field of HttpRequest (checked): a property added by a named store keeps the
 * object's fast properties up to V8's far higher limit for those, without the runtime call an
 * Object.defineProperty is (≈ a dozen per request).
 */
const SETTERS: Record<string, Setter> = {
  traceID: (r, v) => void (r.traceID = v),
  pid: (r, v) => void (r.pid = v),
  threadId: (r, v) => void (r.threadId = v),
  restart: (r, v) => void (r.restart = v),
  client: (r, v) => void (r.client = v),
  reqMethod: (r, v) => void (r.reqMethod = v),
  reqURL: (r, v) => void (r.reqURL = v),
  protoMajor: (r, v) => void (r.protoMajor = v),
  protoMinor: (r, v) => void (r.protoMinor = v),
  reqHeaders: (r, v) => void (r.reqHeaders = v),
  reqContentLen: (r, v) => void (r.reqContentLen = v),
  reqStartAt: (r, v) => void (r.reqStartAt = v),
  connAssignedAt: (r, v) => void (r.connAssignedAt = v),
  pool: (r, v) => void (r.pool = v),
  reqSentAt: (r, v) => void (r.reqSentAt = v),
  respRecvAt: (r, v) => void (r.respRecvAt = v),
  respDoneAt: (r, v) => void (r.respDoneAt = v),
  respStatusCode: (r, v) => void (r.respStatusCode = v),
  respStatusText: (r, v) => void (r.respStatusText = v),
  respHeaders: (r, v) => void (r.respHeaders = v),
  respTrailers: (r, v) => void (r.respTrailers = v),
  respContentLen: (r, v) => void (r.respContentLen = v),
  respDecodedLen: (r, v) => void (r.respDecodedLen = v),
  reqError: (r, v) => void (r.reqError = v),
  reqEndAt: (r, v) => void (r.reqEndAt = v),
  reqErrorAt: (r, v) => void (r.reqErrorAt = v),
  tcpConn: (r, v) => void (r.tcpConn = v),
  tlsTunnel: (r, v) => void (r.tlsTunnel = v),
  dial: (r, v) => void (r.dial = v),
  reusedConn: (r, v) => void (r.reusedConn = v),
  redirectedFrom: (r, v) => void (r.redirectedFrom = v),
  repeatOf: (r, v) => void (r.repeatOf = v),
  proxy: (r, v) => void (r.proxy = v),
  initiator: (r, v) => void (r.initiator = v),
  causedBy: (r, v) => void (r.causedBy = v),
  reqBody: (r, v) => void (r.reqBody = v),
  respBody: (r, v) => void (r.respBody = v),
  respClosedEarly: (r, v) => void (r.respClosedEarly = v),
  respEvents: (r, v) => void (r.respEvents = v),
  respEarly: (r, v) => void (r.respEarly = v),
  respInterim: (r, v) => void (r.respInterim = v),
  webSocket: (r, v) => void (r.webSocket = v),
  incomplete: (r, v) => void (r.incomplete = v),
  marks: (r, v) => void (r.marks = v),
  whatIf: (r, v) => void (r.whatIf = v),
  replay: (r, v) => void (r.replay = v),
  timings: (r, v) => void (r.timings = v),
  loopBlocked: (r, v) => void (r.loopBlocked = v),
  debuggerPaused: (r, v) => void (r.debuggerPaused = v),
  kernelTimings: (r, v) => void (r.kernelTimings = v),
  diagnosis: (r, v) => void (r.diagnosis = v),
  http2StreamId: (r, v) => void (r.http2StreamId = v),
  http2RstCode: (r, v) => void (r.http2RstCode = v),
  http2Goaway: (r, v) => void (r.http2Goaway = v),
} satisfies Record<keyof HttpRequest, Setter>;

/** SETTERS by field name (a Map: no prototype to look through, the name's hash kept in the string). */
const SETTER_OF: ReadonlyMap<string, Setter> = new Map(Object.entries(SETTERS));

/**
 * A request's end, `reqEndAt` (docs/trace-format.md): the failure's time, which the preload sends
 * with the error, or for a request that did not fail, when its response body was done
 * (`respDoneAt`). Set here, for every client, from what the hooks report.
 */
export function endOfRequest(req: { reqError?: unknown; respDoneAt?: number; reqEndAt?: number }): void {
  if (req.respDoneAt !== undefined && (req.reqError === undefined || req.reqError === null)) req.reqEndAt = req.respDoneAt;
}

/** True when a request ended: its response is complete, or it failed. */
export function isFinished(req: Record<string, unknown>): boolean {
  return req.respDoneAt !== undefined || req.reqEndAt !== undefined || (req.reqError !== undefined && req.reqError !== null);
}

/** Why the requests of a process or thread whose sockets closed did not finish. */
export function endReason(state: ConnectionState): IncompleteReason {
  const thread = (state.threadId ?? 0) > 0;
  if (state.exitSeen) return thread ? 'thread exited' : 'process exited';
  return thread ? 'thread terminated' : 'process killed';
}

/** A plain object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A count from a message: a finite non-negative number, else 0. */
export function toCount(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0;
}
