/**
 * The trace model: TypeScript types for the JSON contract in docs/trace-format.md. Field names are a contract read by the CLI,
 * the panel, HAR export and outside scripts: add fields freely, never rename or drop them.
 *
 * Times: `traceBeginAt` is ISO-8601; every other `...At` field is milliseconds since it.
 */

import type { IncomingRequest, IncompleteReason, StackFrame } from './incoming';
import type { TraceRules, WhatIf } from './ruleTypes';
import type { ReplayMark, ReplayRun } from './replayMark';
import type { KernelEvent, KernelTimings, TcpMetrics } from './kernelRecords';
import type { WebSocketSession } from './webSocket';
import type { DnsQuery } from './dnsMessages';
import type { RecordedExchange, RecordingInfo } from './recording';

/**
 * The trace format version this code writes: 2, compact and recorded facts only (docs/trace-format.md,
 * "Versioning"). Every version from OLDEST_FORMAT_VERSION up to it is read.
 */
export const FORMAT_VERSION = 2;

/** The oldest trace format version this code reads: 1, indented, its derived fields written too. */
export const OLDEST_FORMAT_VERSION = 1;

/** Which client API made a request. */
export type HttpClientKind = 'http' | 'https' | 'fetch' | 'undici' | 'http2';

/** The phase a request failed in. */
export type ErrorPhase = 'dns' | 'connect' | 'tls' | 'request' | 'response';

/** A header as a [name, value] pair; value is "<redacted>" for secrets, absent in `names` mode. */
export type HeaderPair = [string, string] | [string];

/** How much of each header is recorded. */
export type HeaderCaptureMode = 'none' | 'names' | 'values';

/** The address 4-tuple of a connection. */
export interface AddrTuple {
  srcIP: string;
  srcPort: number;
  dstIP: string;
  dstPort: number;
}

/** A structured error: phase plus the attributes Node attaches to system errors. */
export interface RequestError {
  phase: ErrorPhase;
  message: string;
  name?: string;
  code?: string;
  syscall?: string;
  address?: string;
  port?: number;
  hostname?: string;
  /**
   * True when the program aborted the request (AbortSignal, `req.destroy()`, a client's cancel). A timeout sets `timedOut` instead (traces
   * written before may have both).
   */
  aborted?: boolean;
  /**
   * True when the request ended by a timeout: the client's own (axios/got/needle `timeout`, `req.setTimeout` + destroy,
   * AbortSignal.timeout) or the socket's. `message` is the error the program got.
   */
  timedOut?: boolean;
  /** The underlying cause's code/message when the error wraps another (fetch's "fetch failed"). */
  cause?: { code?: string; message: string };
}

/** Where in the program a request was made. */
export interface Initiator {
  frames: StackFrame[];
  /**
   * Set when the program's frame was not on the stack that made the request and was found through the async context instead: an `await`
   * chain (V8's async frames), or the call into a library that started the request later (from a microtask, a callback or a queue).
   */
  async?: boolean;
}

/** A captured request or response body (only with the `bodies` option). */
export interface CapturedBody {
  /** Bytes of the whole body at the HTTP layer (still compressed when content-encoded). */
  size: number;
  /** True when `text`/`hex` hold less than the whole body. */
  truncated: boolean;
  /** The body as UTF-8 text, when the content type is textual and not content-encoded. */
  text?: string;
  /** A hex preview of the first bytes otherwise. */
  hex?: string;
  contentType?: string;
  contentEncoding?: string;
}

/** HAR 1.2 timing phases in milliseconds, -1 where a phase did not apply. */
export interface Timings {
  blocked: number;
  dns: number;
  connect: number;
  ssl: number;
  send: number;
  wait: number;
  receive: number;
}

/**
 * A full connection pool a request waited in: an `http.Agent` at its `maxSockets` (or
 * `maxTotalSockets`), an undici `Pool` (an `Agent` holds one per origin) at its `connections`.
 */
export interface PoolWait {
  /** Which limit was reached: `maxSockets` (per host and port) or `maxTotalSockets` (an `http.Agent`), `connections` (undici). */
  limitBy: 'maxSockets' | 'maxTotalSockets' | 'connections';
  /** The limit's value: how many connections the pool allows. */
  limit: number;
  /** How many requests were waiting in the pool's queue once this one joined it, itself included. */
  waiting: number;
}

/** One HTTP request/response exchange. */
/** An interim (1xx) response a request got before its final one (`HttpRequest.respInterim`). */
export interface InterimResponse {
  statusCode: number;
  /** The reason phrase the server sent, when any. */
  statusText?: string;
  recvAt: number;
  /** Its headers, as a response's (redacted), when it had any. */
  headers?: HeaderPair[];
}

export interface HttpRequest {
  traceID: string;
  pid: number;
  threadId?: number;
  /** Made by a restarted process: its `processes[].restart` (absent before the first restart). */
  restart?: number;
  client: HttpClientKind;
  reqMethod: string;
  reqURL: string;
  protoMajor?: number;
  protoMinor?: number;
  reqHeaders?: HeaderPair[];
  reqContentLen?: number;
  /** When the program started the request (before waiting for a socket). */
  reqStartAt?: number;
  /**
   * When the request was given its connection after waiting in a full pool (`pool`): the wait is
   * `blocked`. Absent when it got one at once.
   */
  connAssignedAt?: number;
  /** The connection pool the request had to wait in: its limit and queue when the request joined it. */
  pool?: PoolWait;
  reqSentAt?: number;
  respRecvAt?: number;
  respDoneAt?: number;
  respStatusCode?: number;
  respStatusText?: string;
  respHeaders?: HeaderPair[];
  /** Trailer pairs after the response body (HTTP/2; a gRPC call's `grpc-status` is there), as `respHeaders`. */
  respTrailers?: HeaderPair[];
  respContentLen?: number;
  /** The response body's length once decoded (its `Content-Encoding` undone), where the client decoded it for the program (`fetch`). */
  respDecodedLen?: number;
  reqError?: RequestError | null;
  /** When the request ended: response body done, or the failure (sent by the preload). */
  reqEndAt?: number;
  /** When the request failed (set by the collector on receipt when the preload does not send it). */
  reqErrorAt?: number;
  tcpConn?: string;
  tlsTunnel?: string;
  dial?: string;
  reusedConn?: boolean;
  redirectedFrom?: string;
  /** Sent again from the panel (Send Again): the request this one repeats, made by the same process. */
  repeatOf?: string;
  proxy?: { url: string; tunnel?: string };
  initiator?: Initiator;
  /** The `incomingRequests` record during whose handling the program started this request; absent: outside any. */
  causedBy?: string;
  /** HTTP/2: the stream's id on its session. */
  http2StreamId?: number;
  /** HTTP/2: the RST_STREAM code the stream closed with, when not NO_ERROR. */
  http2RstCode?: number;
  /** HTTP/2: the GOAWAY the session received. */
  http2Goaway?: { errorCode: number; lastStreamID: number };
  reqBody?: CapturedBody;
  respBody?: CapturedBody;
  /**
   * The program closed the response before the server ended its body, without an error (a client following a redirect without reading the
   * body, one that wanted only the head, an event stream the program stopped): not a failure. `respContentLen` counts the body bytes that
   * arrived, `respDoneAt` is when it was closed.
   */
  respClosedEarly?: boolean;
  /**
   * Server-sent events (`text/event-stream`) received: blocks ended by a blank line that carry a `data` field, i.e. the events an
   * EventSource dispatches. While the stream is open, this and `respContentLen` are the counts so far (updated as it streams; `respDoneAt`
   * absent).
   */
  respEvents?: number;
  /**
   * The response's head arrived before the program had ended its request (an `Expect: 100-continue` request refused, an upload
   * rejected part-way): `reqContentLen` is the body bytes it had written, `reqSentAt` the response's arrival (the request was
   * still being sent).
   */
  respEarly?: boolean;
  /** The interim (1xx) responses that came before the final one (`100 Continue`, `103 Early Hints`), in order; http/https only. */
  respInterim?: InterimResponse[];
  /** The WebSocket connection a `101 Switching Protocols` response opened. */
  webSocket?: WebSocketSession;
  /**
   * Set by the collector on a request that started but will never finish in this trace: its process or thread ended first, and why
   * (IncompleteReason). The fields it has are the phases it passed.
   */
  incomplete?: IncompleteReason;
  /** Tags given by the trace rules' `mark` rules (docs/rules.md), in rule order; absent when none. */
  marks?: string[];
  /** A what-if rule made what the program received (docs/rules.md "What-if actions"): rule, action, kind. */
  whatIf?: WhatIf;
  /** Made under a replay (docs/replay.md): answered from the recording, or not in it (and what differed). */
  replay?: ReplayMark;
  timings?: Timings;
  loopBlocked?: LoopBlocked;
  /**
   * Derived: how long (ms) the program was stopped in the debugger during the request's phases
   * (its thread held by a breakpoint, a step or the pause button; not part of `loopBlocked`).
   */
  debuggerPaused?: number;
  /** When the response reached the machine (privileged helper), from its connection's `kernelEvents`. */
  kernelTimings?: KernelTimings;
  diagnosis?: string;
}

/**
 * One DNS lookup made while dialing: through Node's resolver (`dns.lookup`, getaddrinfo), called by
 * net itself or by the program's own lookup function (a cache miss, see ProgramLookup).
 */
export interface DnsLookup {
  host: string;
  beginAt: number;
  endAt?: number;
  addresses: string[];
  error: string | null;
}

/**
 * The program's own `lookup` function (the `lookup` option of `net.connect`, an http Agent, undici's
 * `connect`) that net called for a dial instead of Node's resolver: a cache, a fixed table. It is
 * not a DNS lookup; the lookups it made through Node's resolver are the dial's `dnsLookups`.
 */
export interface ProgramLookup {
  /** The function's name, when it has one. */
  function?: string;
  /** The package that defined it (`@npmcli/agent`), or the program's file; when known (see docs/trace-format.md). */
  module?: string;
  host: string;
  beginAt: number;
  endAt?: number;
  addresses: string[];
  error: string | null;
}

/** One TCP connect attempt to one address. */
export interface ConnectAttempt {
  address: string;
  port: number;
  family?: number;
  beginAt: number;
  endAt?: number;
  error: string | null;
}

/** Establishing a connection to a `host:port`: lookups plus connect attempts. */
export interface Dial {
  traceID: string;
  pid: number;
  threadId?: number;
  dstAddress: string;
  dialBeginAt: number;
  dialEndAt?: number;
  sourceIP?: string;
  dnsLookups: DnsLookup[];
  /** The program's own lookup function, when the dial used one instead of Node's resolver. */
  programLookup?: ProgramLookup;
  connectAttempts: ConnectAttempt[];
  establishedConn?: string;
  dialErr?: string | null;
  /** A what-if rule answered on this dial's socket in the server's place: no lookup, connect or handshake happened. */
  whatIf?: boolean;
}

/** A socket operation (only with the socket-op trace). */
export interface SocketOp {
  type: 'read' | 'write';
  /**
   * Set on the operations of a TLS session that took the connection over after a proxy's CONNECT: its plaintext reads and writes ("tls"),
   * recorded in the connection's list after the CONNECT exchange (whose own ops have the list's `layer`).
   */
  layer?: 'tcp' | 'tls';
  callAt: number;
  returnAt?: number;
  dataLen: number;
  returnErr: string | null;
}

/**
 * The conntrack entry of a connection (privileged helper): NAT mapping, state and counters, each absent when the entry lacked it (the
 * counters need conntrack accounting, `tcpState` a TCP entry).
 */
export interface Conntrack {
  capturedAt?: number;
  /** Status flags joined by "|" ("assured|seen-reply|src-nat"). */
  status?: string;
  tcpState?: string;
  mark?: number;
  /** The tuple of the original direction (as the program sent it). */
  addrOrig?: AddrTuple;
  /** The tuple of the reply direction (reversed `addrOrig` unless NAT rewrote it). */
  addrReply?: AddrTuple;
  packetsSent?: number;
  packetsRecv?: number;
  bytesSent?: number;
  bytesRecv?: number;
  timeoutSec?: number;
}

/** Socket operations of a connection (only with the socket-op trace). */
export interface SocketTrace {
  socketOps: SocketOp[];
  /** Operations past the per-connection cap, counted only. */
  droppedOps: number;
  /** What they count: "tcp" for plain connections, "tls" (plaintext above TLS) for TLS ones. */
  layer?: 'tcp' | 'tls';
  /**
   * A layer reads and writes the socket in C++, out of the preload's sight (an HTTP/2 session; a
   * TLS session over a proxy's CONNECT): its ops are the bytes moved between two moments it ran JS.
   */
  coalesced?: boolean;
}

/** One TCP connection. */
export interface TcpConn {
  traceID: string;
  pid: number;
  threadId?: number;
  fromDial?: string;
  /** True for the resolver's own TCP connections to a nameserver (DNS trace). */
  fromResolver?: boolean;
  /** The socket error that ended a resolver's connection (DNS trace). */
  error?: string;
  handshakeBeginAt?: number;
  handshakeEndAt?: number;
  connected: boolean;
  connCloseAt?: number;
  addrTuple?: AddrTuple;
  totalSentBytes?: number;
  totalRecvBytes?: number;
  /** How many HTTP requests used this connection. */
  requestCount?: number;
  /** A what-if rule answered on this socket in the server's place: it never reached the network (`connected` is false). */
  whatIf?: boolean;
  /** Socket operations (only with the socket-op trace). */
  socketTrace?: SocketTrace;
  tcpMetrics?: TcpMetrics;
  conntrack?: Conntrack;
  /** What the kernel saw happen on the connection, in time order, at most 256 (privileged helper). */
  kernelEvents?: KernelEvent[];
}

/** One UDP "connection" (e.g. to a nameserver). */
export interface UdpConn {
  traceID: string;
  pid?: number;
  fromDial?: string;
  fromResolver?: boolean;
  /** The socket error that ended it, if any. */
  error?: string;
  socketCreateAt?: number;
  connCloseAt?: number;
  addrTuple?: AddrTuple;
  totalSentBytes?: number;
  totalRecvBytes?: number;
}

/** A certificate of the peer's chain. */
export interface PeerCert {
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  isCA: boolean;
  subjectAltNames: string[];
  fingerprint256: string;
}

/** One TLS session over a TCP connection. */
export interface TlsTunnel {
  traceID: string;
  pid: number;
  threadId?: number;
  tcpConn?: string;
  forProxy: boolean;
  handshakeBeginAt?: number;
  handshakeEndAt?: number;
  handshakeErr: string | null;
  handshakeErrCode?: string;
  didResume?: boolean;
  serverName?: string;
  tlsVersion?: string;
  cipherSuite?: string;
  negotiatedProto?: string;
  peerCerts?: PeerCert[];
}

/** A traced process or worker thread. */
export interface ProcessInfo {
  pid: number;
  ppid?: number;
  threadId: number;
  argv: string[];
  nodeVersion: string;
  cwd: string;
  startAt: number;
  exitAt?: number;
  exitCode?: number;
  /** The program was started again (node --watch, nodemon, `restart: true`): this process is its n-th restart (1 for the first). */
  restart?: number;
  /** The pid of the process this one replaced (its restart). */
  restartOf?: number;
  /** This thread's event-loop blocked stretches while it had requests in flight, in time order; the rest past 10,000 are counted. */
  loopBlocks?: LoopBlock[];
  droppedLoopBlocks?: number;
}

/**
 * A stretch during which a thread's event loop was blocked (ProcessInfo.loopBlocks, LoopBlocked.stretches).
 * `ownMs`: how much of it was the thread's own (it ran, or slept in a synchronous call), where the
 * preload could read the thread's scheduler clock; the rest it waited for a CPU (a busy machine).
 */
export type LoopBlock = { beginAt: number; endAt: number; ownMs?: number };
/**
 * Derived (like `timings`): how long the event loop was blocked in each phase of a request, and by
 * which stretches. `wait` and `receive` are always there; a phase before the request was sent only
 * when the loop was blocked in it.
 */
export type LoopBlocked = {
  blocked?: number;
  dns?: number;
  connect?: number;
  ssl?: number;
  send?: number;
  wait: number;
  receive: number;
  /**
   * Of the shares above, the ms the thread may have spent runnable but waiting for a CPU (its
   * stretches' `ownMs`): a busy machine, not the program. Absent when none (or not known).
   */
  machine?: number;
  stretches: LoopBlock[];
  moreStretches?: number;
};

/**
 * The privileged helper's part of a trace (`stats.helper`): how it ran, which of its features were off and why, and its counters. Absent in
 * traces recorded without any attempt to start it.
 */
export interface HelperStats {
  /** Where `tcpMetrics` came from: "bpf" or "inet_diag"; absent when the helper did not run. */
  mode?: 'bpf' | 'inet_diag';
  /** How it got its privileges: root, sudo, pkexec, capabilities or unprivileged. */
  authority?: string;
  /** Why the helper did not run at all (turned off, not built, could not start). */
  notRunning?: string;
  /** Feature ("bpf", "conntrack", "capture") → why it was off and how to turn it on. */
  unavailable?: Record<string, string>;
  /** eBPF events lost because the ring buffer was full. */
  lostEvents?: number;
  /** Runs of the helper's kernel programs the kernel skipped (nested on one CPU): their events are missing. */
  missedRuns?: number;
  /** Packets the kernel dropped from the capture sockets. */
  captureKernelDrops?: number;
  /** The packet capture while it ran (the spool; `packetCapture` describes a saved file). */
  capture?: { interfaces: string[]; packets: number; bytes: number; truncated: boolean; unattributed: number };
  /** Connections the helper reported that are not in the trace (e.g. a non-Node child's). */
  unmatchedConns?: number;
  /** Why the helper exited. */
  exit?: string;
  /** How many helpers fed this trace (one per process tree: launches that joined one trace); absent when one. */
  helpers?: number;
}

/** What the trace may have missed, and why. */
export interface TraceStats {
  droppedEvents: number;
  untracedRequests: number;
  /** Requests that started but never finished (see HttpRequest.incomplete); absent when none. */
  incompleteRequests?: number;
  /**
   * Requests recorded without an initiator stack because capture was sampled (preload option `initiator`: by default, past the first 100
   * requests of a thread, stacks are captured only as far as 1% of the program's time allows) or off.
   */
  skippedInitiators?: number;
  /** Records not kept because their kind reached its cap (a runaway or hostile peer must not grow it); absent when 0. */
  droppedRecords?: number;
  /** Captured-body blobs dropped: over the pending-bytes cap, or never claimed by a record; absent when 0. */
  droppedBlobs?: number;
  /** OpenTelemetry spans `nettrace run --otlp` could not deliver (docs/opentelemetry.md); absent when 0. */
  undeliveredSpans?: number;
  warnings: string[];
  /** The privileged helper (kernel metrics, conntrack, packet capture), when it was tried. */
  helper?: HelperStats;
}

/** A pcapng saved from the helper's spool: file, interfaces, packets, size-cap cut, and the request it was limited to (absent: the whole session). */
export interface PacketCapture {
  file: string;
  interfaces: string[];
  packets: number;
  truncated: boolean;
  requestTraceID?: string;
}

/** A stop in the debugger, from DAP `stopped` until the program runs again (trace-format.md). */
export interface DebuggerPause {
  beginAt: number;
  /** Absent while still stopped, or when the session ended stopped. */
  endAt?: number;
  /** The adapter's reason: "breakpoint", "step", "exception", "pause", … */
  reason?: string;
  /** The process that stopped, when the editor knows it (a JavaScript Debug Terminal's, an auto-attached one); absent: any of the session's. */
  pid?: number;
}

/** A whole trace file. */
export interface Trace {
  formatVersion: number;
  description: string;
  traceBeginAt: string;
  traceEndAt?: number;
  processes: ProcessInfo[];
  httpRequests: HttpRequest[];
  dials: Dial[];
  tcpConns: TcpConn[];
  udpConns: UdpConn[];
  dnsQueries: DnsQuery[];
  tlsTunnels: TlsTunnel[];
  /** Requests the traced programs served (servers only; absent in files of older versions). */
  incomingRequests?: IncomingRequest[];
  packetCapture?: PacketCapture;
  debuggerPauses?: DebuggerPause[];
  traceRules?: TraceRules;
  /** The run was a replay of a recording (docs/replay.md): from which file, with which options, how many requests each way. */
  replay?: ReplayRun;
  stats: TraceStats;
  /** What a replay needs of each request, with `nettrace run --record` (recording.ts; docs/trace-format.md). */
  exchanges?: RecordedExchange[];
  /** The recording's caps and what they cut (with `exchanges`). */
  recording?: RecordingInfo;
}

/** The record kinds that are arrays of records with a `traceID`. */
export type RecordKind = 'httpRequests' | 'dials' | 'tcpConns' | 'udpConns' | 'dnsQueries' | 'tlsTunnels' | 'incomingRequests';

/** Maps a record kind to its record type. */
export interface RecordOfKind {
  httpRequests: HttpRequest;
  dials: Dial;
  tcpConns: TcpConn;
  udpConns: UdpConn;
  dnsQueries: DnsQuery;
  tlsTunnels: TlsTunnel;
  incomingRequests: IncomingRequest;
}
