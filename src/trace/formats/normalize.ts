/**
 * The one check of records that come from outside this process: a saved trace file (read by
 * traceFile.ts) and the records a host posts to the panel (webview/model.ts). Such JSON may be
 * damaged or hostile; after normalization the nested parts of a record match their types in
 * types.ts, so the CLI, HAR export, diagnosis and the panel read them as typed, with no checks
 * of their own:
 *
 * - a field of the wrong type is removed (optional fields), or set to its neutral value (flags to
 *   false, texts to "", lists to []);
 * - a list entry that cannot be made to fit (a DNS message without its time or id, a socket
 *   operation that is neither a read nor a write) is dropped;
 * - counters must be finite and not negative, times finite.
 *
 * Records are fixed in place (a record that needs no change stays the same object, its lists
 * too), so checking what this process wrote itself costs a few type tests per record. A record
 * without a string `traceID` is dropped: nothing could refer to it (a trace file's request without
 * one is an error, traceFile.ts).
 */

import type {
  AddrTuple,
  ConnectAttempt,
  Conntrack,
  DebuggerPause,
  Dial,
  DnsLookup,
  HttpRequest,
  SocketOp,
  SocketTrace,
  TcpConn,
  UdpConn,
} from '../contract/types';
import type { DnsAnswer, DnsQuery, DnsQueryMsg, DnsQuestion, DnsReplyMsg } from '../contract/dnsMessages';
import type { KernelEvent, TcpMetrics } from '../contract/kernelRecords';
import type { IncomingRequest, StackFrame } from '../contract/incoming';
import { fixReplayMark } from './replayNormalize';

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The largest time a Date holds, in ms either side of the epoch (ECMA-262's time value range). */
const MAX_TIME_MS = 8.64e15;

/** A record's `…At` value: epoch (or trace-relative) milliseconds that a Date holds. */
export function isTime(v: unknown): v is number {
  return typeof v === 'number' && Math.abs(v) <= MAX_TIME_MS;
}

/**
 * Whether a field named `key` holds a time (its name ends in `At`). Two character codes, not
 * String.prototype.endsWith: that is a call into a builtin that TurboFan does not inline, made for
 * every field of every update the collector applies.
 */
export function isTimeKey(key: string): boolean {
  const n = key.length;
  return n >= 2 && key.charCodeAt(n - 1) === 116 && key.charCodeAt(n - 2) === 65;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/** Removes `key` unless its value passes `ok`. */
function keepIf(o: Obj, key: string, ok: (v: unknown) => boolean): void {
  if (key in o && !ok(o[key])) delete o[key];
}

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

/** Sets `key` to `fallback` unless its value passes `ok`. */
function orDefault(o: Obj, key: string, ok: (v: unknown) => boolean, fallback: unknown): void {
  if (!ok(o[key])) o[key] = fallback;
}

/** The objects of a list (anything else dropped); [] for what is not a list. */
function objects(v: unknown): Obj[] {
  if (!Array.isArray(v)) return [];
  return v.every(isObject) ? (v as Obj[]) : (v.filter(isObject) as Obj[]);
}

/** The entries of a list that `fix` accepts (fixed in place); the same array when all are. */
function fixList<T extends Obj>(v: unknown, fix: (o: Obj) => o is T): T[] {
  const list = objects(v);
  return list.every(fix) ? (list as T[]) : list.filter(fix);
}

function isTuple(v: unknown): v is AddrTuple {
  return isObject(v) && isString(v.srcIP) && isString(v.dstIP) && isCount(v.srcPort) && isCount(v.dstPort);
}

// ---- DNS messages ---------------------------------------------------------------------------------

function fixQuestion(q: Obj): q is Obj & DnsQuestion {
  orDefault(q, 'name', isString, '');
  orDefault(q, 'type', isString, '');
  // The resolver asks class IN only.
  orDefault(q, 'class', isCount, 1);
  return true;
}

function fixAnswer(a: Obj): a is Obj & DnsAnswer {
  if (!isCount(a.ttl)) return false;
  fixQuestion(a);
  orDefault(a, 'resolvedVal', isString, '');
  return true;
}

function isBool(v: unknown): v is boolean {
  return typeof v === 'boolean';
}

/** What queries and replies share: their time, id, size, flags and questions. */
function fixMessage(m: Obj, at: 'sentAt' | 'recvAt', flags: readonly string[]): boolean {
  if (!isTime(m[at]) || !isCount(m.id) || !isCount(m.size)) return false;
  for (const flag of flags) orDefault(m, flag, isBool, false);
  m.questions = fixList(m.questions, fixQuestion);
  return true;
}

function fixQueryMsg(m: Obj): m is Obj & DnsQueryMsg {
  if (!fixMessage(m, 'sentAt', ['recursionDesired', 'truncated'])) return false;
  keepIf(m, 'error', isString);
  return true;
}

function fixReplyMsg(m: Obj): m is Obj & DnsReplyMsg {
  if (!fixMessage(m, 'recvAt', ['authoritative', 'recursionAvailable', 'truncated'])) return false;
  orDefault(m, 'rCode', isString, '');
  m.answers = fixList(m.answers, fixAnswer);
  keepIf(m, 'malformed', isString);
  return true;
}

function fixDnsQuery(o: Obj): o is Obj & DnsQuery {
  if (!isString(o.traceID)) return false;
  for (const k of ['fromDial', 'connection', 'tcpConn', 'server', 'host']) keepIf(o, k, isString);
  keepIf(o, 'proto', (v) => v === 'udp' || v === 'tcp');
  keepIf(o, 'timeoutMs', isCount);
  o.dnsQueryMsgs = fixList(o.dnsQueryMsgs, fixQueryMsg);
  o.dnsReplyMsgs = fixList(o.dnsReplyMsgs, fixReplyMsg);
  return true;
}

// ---- TCP connections: socket operations, kernel metrics, conntrack --------------------------------

function fixSocketOp(op: Obj): op is Obj & SocketOp {
  if ((op.type !== 'read' && op.type !== 'write') || !isTime(op.callAt)) return false;
  keepIf(op, 'returnAt', isTime);
  keepIf(op, 'layer', (v) => v === 'tcp' || v === 'tls');
  orDefault(op, 'dataLen', isCount, 0);
  orDefault(op, 'returnErr', (v) => v === null || isString(v), null);
  return true;
}

function fixSocketTrace(v: Obj): v is Obj & SocketTrace {
  v.socketOps = fixList(v.socketOps, fixSocketOp);
  orDefault(v, 'droppedOps', isCount, 0);
  keepIf(v, 'layer', (x) => x === 'tcp' || x === 'tls');
  keepIf(v, 'coalesced', isBool);
  return true;
}

const TCP_METRIC_COUNTS: ReadonlyArray<keyof TcpMetrics> = [
  'rttUs',
  'rttVarUs',
  'retransmits',
  'synRetransmits',
  'synRetransmitAfterUs',
  'sndCwnd',
  'segsOut',
  'segsIn',
  'bytesSent',
  'bytesAcked',
  'bytesReceived',
  'bytesRetrans',
  'lost',
  'rtoCount',
  'resetsSent',
  'resetsReceived',
  'connectLatencyUs',
  'lifespanUs',
  'kernelEventsDropped',
];

function fixTcpMetrics(v: Obj): v is Obj & TcpMetrics {
  keepIf(v, 'source', isString);
  keepIf(v, 'established', isBool);
  for (const k of TCP_METRIC_COUNTS) keepIf(v, k, isCount);
  return true;
}

const CONNTRACK_COUNTS: ReadonlyArray<keyof Conntrack> = ['mark', 'packetsSent', 'packetsRecv', 'bytesSent', 'bytesRecv', 'timeoutSec'];

function fixConntrack(v: Obj): v is Obj & Conntrack {
  keepIf(v, 'capturedAt', isTime);
  keepIf(v, 'status', isString);
  keepIf(v, 'tcpState', isString);
  keepIf(v, 'addrOrig', isTuple);
  keepIf(v, 'addrReply', isTuple);
  for (const k of CONNTRACK_COUNTS) keepIf(v, k, isCount);
  return true;
}

/** Removes `key` unless it holds an object that `fix` accepts (fixed in place). */
function keepFixed(o: Obj, key: string, fix: (v: Obj) => boolean): void {
  if (!(key in o)) return;
  const v = o[key];
  if (!isObject(v) || !fix(v)) delete o[key];
}

/** A kernel event (`tcpConns[].kernelEvents[]`): a known kind with its time; the rest dropped. */
function fixKernelEvent(e: Obj): e is Obj & KernelEvent {
  if (!isTime(e.at)) return false;
  if (e.kind === 'retransmit') {
    keepIf(e, 'rto', isBool);
    keepIf(e, 'total', isCount);
    return true;
  }
  if (e.kind === 'zeroWindow') return isTime(e.beginAt) && (e.side === 'peer' || e.side === 'local');
  if (e.kind === 'dataEnd') return true;
  if (e.kind === 'drop') return isString(e.reason) && (e.direction === 'in' || e.direction === 'out');
  if (e.kind === 'dataIn') {
    keepIf(e, 'prevLastAt', isTime);
    keepIf(e, 'ackedAt', isTime);
    return true;
  }
  if (e.kind !== 'socketError') return false;
  keepIf(e, 'errno', isCount);
  keepIf(e, 'code', isString);
  keepIf(e, 'icmp', (v) => isObject(v) && (v.version === 4 || v.version === 6) && isCount(v.type) && isCount(v.code) && isString(v.from));
  return 'errno' in e || 'icmp' in e;
}

function fixTcpConn(o: Obj): o is Obj & TcpConn {
  if (!isString(o.traceID)) return false;
  keepIf(o, 'addrTuple', isTuple);
  keepFixed(o, 'socketTrace', fixSocketTrace);
  keepFixed(o, 'tcpMetrics', fixTcpMetrics);
  keepFixed(o, 'conntrack', fixConntrack);
  if ('kernelEvents' in o) o.kernelEvents = fixList(o.kernelEvents, fixKernelEvent);
  return true;
}

// ---- dials ----------------------------------------------------------------------------------------

function fixLookup(l: Obj): l is Obj & DnsLookup {
  if (!isTime(l.beginAt)) return false;
  orDefault(l, 'host', isString, '');
  keepIf(l, 'endAt', isTime);
  if (!Array.isArray(l.addresses) || !l.addresses.every(isString))
    l.addresses = Array.isArray(l.addresses) ? l.addresses.filter(isString) : [];
  orDefault(l, 'error', (v) => v === null || isString(v), null);
  return true;
}

/** A dial's `programLookup`: a lookup's fields, and the function's name and module when they are text. */
function fixProgramLookup(l: Obj): boolean {
  if (!fixLookup(l)) return false;
  keepIf(l, 'function', isString);
  keepIf(l, 'module', isString);
  return true;
}

function fixAttempt(a: Obj): a is Obj & ConnectAttempt {
  if (!isString(a.address) || !isCount(a.port) || !isTime(a.beginAt)) return false;
  keepIf(a, 'endAt', isTime);
  keepIf(a, 'family', isCount);
  orDefault(a, 'error', (v) => v === null || isString(v), null);
  return true;
}

function fixDial(o: Obj): o is Obj & Dial {
  if (!isString(o.traceID)) return false;
  o.dnsLookups = fixList(o.dnsLookups, fixLookup);
  keepFixed(o, 'programLookup', fixProgramLookup);
  o.connectAttempts = fixList(o.connectAttempts, fixAttempt);
  return true;
}

/** The `dials` of a trace or batch from outside, normalized (see the module comment). */
export function normalizeDials(list: unknown): Dial[] {
  return fixList(list, fixDial);
}

/** The `tcpConns` of a trace or batch from outside: socket operations and kernel data normalized. */
export function normalizeTcpConns(list: unknown): TcpConn[] {
  return fixList(list, fixTcpConn);
}

function fixUdpConn(o: Obj): o is Obj & UdpConn {
  if (!isString(o.traceID)) return false;
  keepIf(o, 'addrTuple', isTuple);
  return true;
}

/** The `udpConns` (the resolver's sockets) of a trace or batch from outside: their tuples checked. */
export function normalizeUdpConns(list: unknown): UdpConn[] {
  return fixList(list, fixUdpConn);
}

// ---- stack frames ---------------------------------------------------------------------------

/** A position in a file: its path or URL, 1-based line and column. */
function isPosition(v: unknown): v is { file: string; line: number; column: number } {
  return isObject(v) && isString(v.file) && isCount(v.line) && isCount(v.column);
}

/** A stack frame (an initiator's, a handler's): a file with its line and column, else dropped. */
function fixFrame(f: Obj): f is Obj & StackFrame {
  if (!isPosition(f)) return false;
  keepIf(f, 'function', isString);
  keepIf(f, 'library', isBool);
  keepIf(f, 'generated', isPosition);
  return true;
}

// ---- outgoing requests ----------------------------------------------------------------------

const REQUEST_TIMES = ['reqStartAt', 'connAssignedAt', 'reqSentAt', 'respRecvAt', 'respDoneAt', 'reqEndAt', 'reqErrorAt'] as const;
const REQUEST_COUNTS = [
  'threadId',
  'restart',
  'protoMajor',
  'protoMinor',
  'reqContentLen',
  'respContentLen',
  'respEvents',
  'http2StreamId',
  'http2RstCode',
  'debuggerPaused',
] as const;
const REQUEST_TEXTS = [
  'respStatusText',
  'tcpConn',
  'tlsTunnel',
  'dial',
  'redirectedFrom',
  'repeatOf',
  'causedBy',
  'incomplete',
  'diagnosis',
] as const;
const TIMING_PHASES = ['blocked', 'dns', 'connect', 'ssl', 'send', 'wait', 'receive'] as const;

/** An HTTP status code: a whole number of three digits at most. */
function isStatus(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 999;
}

/** Header pairs: `[name, value]` or `[name]` of texts (other entries dropped); undefined for what is not a list. */
function headerPairs(v: unknown): unknown[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const ok = (p: unknown) => Array.isArray(p) && (p.length === 1 || p.length === 2) && p.every(isString);
  return v.every(ok) ? v : v.filter(ok);
}

function fixRequestError(e: Obj): boolean {
  orDefault(e, 'phase', isString, '');
  orDefault(e, 'message', isString, '');
  for (const k of ['name', 'code', 'syscall', 'address', 'hostname']) keepIf(e, k, isString);
  keepIf(e, 'port', isCount);
  keepIf(e, 'aborted', isBool);
  keepIf(e, 'timedOut', isBool);
  keepIf(e, 'cause', (c) => isObject(c) && isString(c.message) && (c.code === undefined || isString(c.code)));
  return true;
}

function fixBody(b: Obj): boolean {
  if (!isCount(b.size)) return false;
  orDefault(b, 'truncated', isBool, false);
  for (const k of ['text', 'hex', 'contentType', 'contentEncoding']) keepIf(b, k, isString);
  return true;
}

function fixWebSocket(w: Obj): boolean {
  if (!isTime(w.openAt)) return false;
  for (const k of ['sentMessages', 'recvMessages', 'sentBytes', 'recvBytes']) orDefault(w, k, isCount, 0);
  keepIf(w, 'closeAt', isTime);
  keepIf(w, 'closeCode', isCount);
  keepIf(w, 'closeReason', isString);
  keepIf(w, 'closedBy', (v) => v === 'client' || v === 'server');
  keepIf(w, 'droppedMessages', isCount);
  if ('messages' in w)
    w.messages = fixList(
      w.messages,
      (m): m is Obj => (m.dir === 'sent' || m.dir === 'recv') && isString(m.type) && isCount(m.len) && isTime(m.endAt),
    );
  return true;
}

function fixWhatIf(w: Obj): boolean {
  if (!isString(w.rule) || !isString(w.action)) return false;
  keepIf(w, 'kind', isString);
  for (const k of ['afterBytes', 'ms', 'rate']) keepIf(w, k, isCount);
  keepIf(w, 'status', isStatus);
  return true;
}

/**
 * An outgoing request (`httpRequests[]`): every field the views read of the type types.ts gives
 * it (a status, a frame's line a number; a method, a URL a text), else removed or neutral (see
 * the module comment). Its derived fields (`timings`, `diagnosis`…) are worked out again when it
 * is enriched; here they are only checked.
 */
function fixHttpRequest(o: Obj): o is Obj & HttpRequest {
  if (!isString(o.traceID)) return false;
  orDefault(o, 'pid', isCount, 0);
  orDefault(o, 'client', isString, '');
  orDefault(o, 'reqMethod', isString, '');
  orDefault(o, 'reqURL', isString, '');
  for (const k of REQUEST_TIMES) keepIf(o, k, isTime);
  for (const k of REQUEST_COUNTS) keepIf(o, k, isCount);
  for (const k of REQUEST_TEXTS) keepIf(o, k, isString);
  keepIf(o, 'respStatusCode', isStatus);
  for (const k of ['reusedConn', 'respClosedEarly']) keepIf(o, k, isBool);
  for (const k of ['reqHeaders', 'respHeaders', 'respTrailers']) {
    if (!(k in o)) continue;
    const pairs = headerPairs(o[k]);
    if (pairs) o[k] = pairs;
    else delete o[k];
  }
  if (o.reqError !== null) keepFixed(o, 'reqError', fixRequestError);
  keepIf(o, 'pool', (v) => isObject(v) && isString(v.limitBy) && isCount(v.limit) && isCount(v.waiting));
  keepIf(o, 'proxy', (v) => isObject(v) && isString(v.url) && (v.tunnel === undefined || isString(v.tunnel)));
  keepIf(o, 'http2Goaway', (v) => isObject(v) && isCount(v.errorCode) && isCount(v.lastStreamID));
  keepFixed(o, 'initiator', (i) => {
    i.frames = fixList(i.frames, fixFrame);
    keepIf(i, 'async', isBool);
    return true;
  });
  keepFixed(o, 'reqBody', fixBody);
  keepFixed(o, 'respBody', fixBody);
  keepFixed(o, 'webSocket', fixWebSocket);
  keepFixed(o, 'whatIf', fixWhatIf);
  keepFixed(o, 'replay', fixReplayMark);
  if ('marks' in o) {
    const marks = Array.isArray(o.marks) ? o.marks.filter(isString) : [];
    if (marks.length) o.marks = marks.length === (o.marks as unknown[]).length ? o.marks : marks;
    else delete o.marks;
  }
  keepIf(o, 'timings', (t) => isObject(t) && TIMING_PHASES.every((p) => typeof t[p] === 'number' && Number.isFinite(t[p])));
  for (const k of ['loopBlocked', 'kernelTimings']) keepIf(o, k, isObject);
  return true;
}

/**
 * One `httpRequests` entry of a trace from outside, fixed in place (see fixHttpRequest); false
 * when it has no `traceID`.
 */
export function normalizeRequest(o: unknown): o is HttpRequest {
  return isObject(o) && fixHttpRequest(o);
}

/** The `httpRequests` of a trace or batch from outside, normalized (entries without a `traceID` dropped). */
export function normalizeRequests(list: unknown): HttpRequest[] {
  return fixList(list, fixHttpRequest);
}

// ---- incoming requests ----------------------------------------------------------------------

const INCOMING_TIMES = ['reqRecvAt', 'reqBodyDoneAt', 'respHeadAt', 'respDoneAt', 'reqEndAt'] as const;
const INCOMING_COUNTS = ['pid', 'threadId', 'protoMajor', 'protoMinor', 'reqContentLen', 'respStatusCode', 'respContentLen'] as const;

function fixIncoming(o: Obj): o is Obj & IncomingRequest {
  if (!isString(o.traceID)) return false;
  orDefault(o, 'reqMethod', isString, '');
  orDefault(o, 'reqURL', isString, '');
  orDefault(o, 'server', isString, 'http');
  for (const k of ['route', 'traceparent', 'incomplete'] as const) keepIf(o, k, isString);
  for (const k of INCOMING_TIMES) keepIf(o, k, isTime);
  for (const k of INCOMING_COUNTS) keepIf(o, k, isCount);
  keepIf(o, 'addrTuple', isTuple);
  keepFixed(o, 'handler', fixFrame);
  keepIf(o, 'aborted', (v) => typeof v === 'boolean');
  keepIf(o, 'error', (v) => isObject(v) && isString(v.message));
  keepIf(
    o,
    'webSocket',
    (v) => isObject(v) && isTime(v.openAt) && ['sentMessages', 'recvMessages', 'sentBytes', 'recvBytes'].every((k) => isCount(v[k])),
  );
  return true;
}

/** The `incomingRequests` of a trace or batch from outside, normalized. */
export function normalizeIncoming(list: unknown): IncomingRequest[] {
  return fixList(list, fixIncoming);
}

/** The `dnsQueries` (DNS messages) of a trace or batch from outside, normalized. */
export function normalizeDnsQueries(list: unknown): DnsQuery[] {
  return fixList(list, fixDnsQuery);
}

/**
 * One record of a side kind as a live peer sent it, fixed in place as the collector merges it
 * (the same checks as for a file: a same-user peer may send anything on the collector's socket).
 */
export function normalizeRecord(kind: string, o: Obj): void {
  if (kind === 'dials') fixDial(o);
  else if (kind === 'tcpConns') fixTcpConn(o);
  else if (kind === 'udpConns') fixUdpConn(o);
  else if (kind === 'dnsQueries') fixDnsQuery(o);
}

/**
 * The well-formed entries of a `debuggerPauses` list (a saved file is untrusted): `beginAt` a
 * finite number, `endAt` (when present) one not before it, `reason` a short string, `pid` a process id.
 */
export function normalizeDebuggerPauses(value: unknown): DebuggerPause[] {
  if (!Array.isArray(value)) return [];
  const out: DebuggerPause[] = [];
  for (const p of value) {
    if (typeof p !== 'object' || p === null) continue;
    const { beginAt, endAt, reason, pid } = p as Record<string, unknown>;
    if (typeof beginAt !== 'number' || !Number.isFinite(beginAt)) continue;
    const pause: DebuggerPause = { beginAt };
    if (typeof endAt === 'number' && Number.isFinite(endAt) && endAt >= beginAt) pause.endAt = endAt;
    if (typeof reason === 'string') pause.reason = reason.slice(0, 100);
    if (typeof pid === 'number' && Number.isInteger(pid) && pid > 0) pause.pid = pid;
    out.push(pause);
  }
  return out.sort((a, b) => a.beginAt - b.beginAt);
}
