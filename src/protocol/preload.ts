/**
 * Messages from the preload (inside the debuggee) to the collector, and its configuration.
 *
 * Wire format: one JSON object per line (newline-delimited), UTF-8, over a unix socket or named
 * pipe whose path is in the preload configuration. The first message on every connection is a
 * `hello` saying which process/thread it is, so the collector can rebuild the process tree.
 *
 * A record's `pid` and `threadId` are the connection's (from its hello) and are not sent.
 * Records are sent as upserts: the preload names a record by a connection-local id and sends the
 * fields it learned; the collector merges them (shallow) into the record with that id, and maps
 * local ids, including the references in REF_FIELDS, to trace-wide `traceID`s. Every `...At`
 * number the preload sends is an absolute wall-clock time in epoch milliseconds
 * (`performance.timeOrigin + performance.now()`); the collector makes them relative to the trace.
 */

import type { HeaderCaptureMode, HeaderPair, Initiator, RecordKind } from '../trace/types';

/** Name of the environment variable that carries the JSON-encoded PreloadConfig. */
export const CONFIG_ENV = 'NETTRACE_CONFIG';

export { INITIATOR_MODES, type InitiatorMode } from './options';
import type { InitiatorMode } from './options';

/** Preload configuration, passed as JSON in NETTRACE_CONFIG. */
export interface PreloadConfig {
  /** Unix socket path (or Windows named pipe) of the session's collector. */
  ipcPath: string;
  /** Header capture mode (default "values"; defaults: DEFAULTS in ./options.ts). */
  headers?: HeaderCaptureMode;
  /** Extra header names to redact, besides the default list (case-insensitive). */
  redact?: string[];
  /** Maximum events held while the collector is slow or gone (default 10000). */
  maxQueuedEvents?: number;
  /** Maximum stack frames kept per initiator (default 10). */
  stackDepth?: number;
  /**
   * Which requests get their initiator stack (default "sampled"): "all"; "sampled" (the first 100
   * per thread, then as many as 1% of the program's time allows); "off".
   */
  initiator?: InitiatorMode;
  /**
   * Resolve names of traced connections with the in-process resolver, recording every DNS query
   * and reply message (default false). Differs from getaddrinfo: no nsswitch, no mDNS.
   */
  dnsTrace?: boolean;
  /** Nameservers for the DNS trace ("ip", "ip:port", "[v6]:port"), overriding /etc/resolv.conf. */
  dnsServers?: string[];
  /** Record every read and write on traced sockets (default false). */
  sockTrace?: boolean;
  /** Socket operations kept per connection; the rest are counted in droppedOps (default 1000). */
  sockTraceMaxOps?: number;
  /** Capture request and response bodies (default false). */
  bodies?: boolean;
  /** Bytes kept per body (default 65536). */
  bodyMaxBytes?: number;
  /**
   * For tests of the fail-safe path only: the named hook ("http", "undici", "net") throws on its
   * first use, as a real bug would, so it must disable itself and leave a warning.
   */
  testFailHook?: string;
}

/** Header names redacted by default. */
export const DEFAULT_REDACTED_HEADERS: readonly string[] = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'];

/** The value recorded in place of a redacted header's value. */
export const REDACTED = '<redacted>';

/** Headers kept per message; the rest are left out (a hostile server cannot grow the trace). */
export const MAX_HEADERS = 200;
/** Characters kept per header value; a longer value is cut and ends in "…". */
export const MAX_VALUE = 4096;

/**
 * Headers as a record's `reqHeaders`/`respHeaders` travel from the preload; decodeHeaders turns
 * each form into the trace's `[name, value]` pairs. Besides the pairs themselves, the preload may
 * send what it already holds, sparing the program the parsing, when nothing in it needs
 * redacting: a header block (`"GET / HTTP/1.1\r\nHost: x\r\n\r\n"`, the first line skipped, one
 * `Name: value` per CRLF-terminated line), or a flat `[name, value, name, value, …]` array of
 * strings (Node's `rawHeaders`; redacted values already replaced by REDACTED).
 */
export type WireHeaders = HeaderPair[] | string | string[];

/** Adds one pair within the caps. */
function pushPair(out: HeaderPair[], name: string, value: string): void {
  if (out.length < MAX_HEADERS) out.push([name, value.length > MAX_VALUE ? value.slice(0, MAX_VALUE) + '…' : value]);
}

/** Calls `add` with each header of a header block (see WireHeaders); the caller applies the caps. */
export function headerBlockPairs(block: string, add: (name: string, value: string) => void): void {
  // Skip the request line; then one "Name: value" per CRLF-terminated line.
  let start = block.indexOf('\r\n');
  while (start >= 0) {
    start += 2;
    const end = block.indexOf('\r\n', start);
    const stop = end < 0 ? block.length : end;
    const colon = block.indexOf(':', start);
    if (colon > start && colon < stop) add(block.slice(start, colon), block.slice(colon + 1, stop).trim());
    start = end;
  }
}

/**
 * Turns any WireHeaders form into pairs, applying MAX_HEADERS and MAX_VALUE. Anything else
 * (a malformed message) gives undefined.
 */
export function decodeHeaders(wire: unknown): HeaderPair[] | undefined {
  const out: HeaderPair[] = [];
  if (typeof wire === 'string') {
    headerBlockPairs(wire, (name, value) => pushPair(out, name, value));
    return out;
  }
  if (!Array.isArray(wire)) return undefined;
  if (wire.length === 0 || typeof wire[0] === 'string') {
    for (let i = 0; i + 1 < wire.length; i += 2) pushPair(out, String(wire[i]), String(wire[i + 1]));
    return out;
  }
  for (const p of wire) {
    if (!Array.isArray(p) || typeof p[0] !== 'string') continue;
    if (p.length === 1) {
      if (out.length < MAX_HEADERS) out.push([p[0]]);
    } else pushPair(out, p[0], String(p[1]));
  }
  return out;
}

/** First message on a connection: who is talking. */
export interface HelloMessage {
  type: 'hello';
  pid: number;
  ppid: number;
  threadId: number;
  argv: string[];
  nodeVersion: string;
  cwd: string;
  /** Epoch ms when the process (or worker) started. */
  startAt: number;
  /**
   * Names this connection (unique per preload connection). A second connection that sends a
   * hello with the same `conn` and `continues: true` carries the end of the first one (its final
   * stats and `exit`, when the first one's pipe was full at exit): the collector treats both as one.
   */
  conn?: string;
  /** This connection continues the earlier one with the same `conn` (see `conn`). */
  continues?: boolean;
}

/** Upsert of one record: merge `fields` into the record `kind`/`id`. */
export interface RecordMessage {
  type: 'record';
  kind: RecordKind;
  /** Connection-local id; the collector assigns the trace-wide traceID. */
  id: string;
  fields: Record<string, unknown>;
}

/** Something went wrong inside the preload (a hook disabled itself, a record was cut short). */
export interface WarningMessage {
  type: 'warning';
  message: string;
}

/**
 * Counters the preload keeps about itself; totals, not deltas. Sent out of band (never queued
 * behind records, never dropped by the queue limit) whenever a count changed, and at exit.
 */
export interface StatsMessage {
  type: 'stats';
  /**
   * Messages produced so far, stats excluded: received + dropped = produced. (An update to a record
   * that is still queued is merged into the queued message and is not a message of its own.)
   */
  producedEvents?: number;
  droppedEvents: number;
  untracedRequests: number;
  /** Requests whose initiator stack was not captured (option `initiator`). */
  skippedInitiators?: number;
}

/** The process or thread is exiting. */
export interface ExitMessage {
  type: 'exit';
  exitAt: number;
  exitCode?: number;
}

/**
 * An initiator stack, sent once per distinct stack: a request's `initiator` field is then this
 * message's connection-local `id` (a string) instead of the frames. Always sent before the first
 * record that refers to it. (A preload may still send an Initiator object inline, e.g. once its
 * table of distinct stacks is full.)
 */
export interface StackMessage {
  type: 'stack';
  id: string;
  initiator: Initiator;
}

/**
 * A blob frame: this header line, then exactly `len` raw bytes (not JSON, no newline after
 * them). Carries a captured body's bytes so they are neither decoded nor JSON-escaped inside the
 * debuggee: a CapturedBody on the wire may have `textBlob` (this id) in place of `text`, which
 * the collector decodes as UTF-8. Always sent before the record that refers to it; the collector
 * hands it on with the bytes in `data`.
 */
export interface BlobMessage {
  type: 'blob';
  id: string;
  len: number;
  data?: Uint8Array;
}

/**
 * The global symbol (`Symbol.for(FLUSH_NOW_SYMBOL)`) under which the preload defines a
 * non-enumerable function that writes everything queued to the collector synchronously and
 * returns how many messages it wrote. A debugger evaluates
 * `globalThis[Symbol.for('nettrace.flushNow')]?.()` in a paused debuggee, whose timers cannot run.
 * Safe to call at any time; never throws.
 */
export const FLUSH_NOW_SYMBOL = 'nettrace.flushNow';

/** Every message the preload sends. */
export type PreloadMessage = HelloMessage | RecordMessage | WarningMessage | StatsMessage | ExitMessage | StackMessage | BlobMessage;

/** Blob frames a collector holds per connection until the record that refers to them arrives. */
export const MAX_PENDING_BLOBS = 1024;

/** Distinct initiator stacks a preload sends by reference (and a collector keeps) per connection. */
export const MAX_STACKS = 10000;

/**
 * Fields of each record kind that hold a reference (a connection-local id) to another record,
 * with the kind they point to. Nested references use a dotted path.
 */
export const REF_FIELDS: Record<RecordKind, ReadonlyArray<readonly [string, RecordKind]>> = {
  httpRequests: [
    ['tcpConn', 'tcpConns'],
    ['tlsTunnel', 'tlsTunnels'],
    ['dial', 'dials'],
    ['redirectedFrom', 'httpRequests'],
    ['proxy.tunnel', 'tcpConns'],
  ],
  dials: [['establishedConn', 'tcpConns']],
  tcpConns: [['fromDial', 'dials']],
  udpConns: [['fromDial', 'dials']],
  dnsQueries: [
    ['fromDial', 'dials'],
    ['connection', 'udpConns'],
    ['tcpConn', 'tcpConns'],
  ],
  tlsTunnels: [['tcpConn', 'tcpConns']],
};
