/**
 * The values of the preload's wire format (src/protocol/preload.ts) that both ends use: the
 * preload encodes with them and the collector's TraceBuilder decodes with them. They live here,
 * beside the trace model they describe, so that src/trace/ takes only types from src/protocol/
 * (the protocol's messages are built from the model's types, src/trace/contract/types.ts). Values and
 * pure functions only: no imports but types, safe to bundle into the preload.
 */

import type { HeaderPair, RecordKind } from './types';

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

/** Blob frames a collector holds per connection until the record that refers to them arrives. */
export const MAX_PENDING_BLOBS = 1024;

/** Distinct initiator stacks a preload sends by reference (and a collector keeps) per connection. */
export const MAX_STACKS = 10000;

/**
 * Event-loop blocked stretches kept per thread (src/preload/clock/loopLag.ts sends at most this many;
 * the collector keeps at most this many on the thread's `processes[]` entry).
 */
export const MAX_LOOP_BLOCKS = 10_000;

/** The shortest blocked stretch src/preload/clock/loopLag.ts sends (ms). */
export const MIN_LOOP_BLOCK_MS = 20;

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
    ['repeatOf', 'httpRequests'],
    ['proxy.tunnel', 'tcpConns'],
    ['causedBy', 'incomingRequests'],
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
  incomingRequests: [],
};

/** Every record kind, in the order they appear in a trace file. */
export const RECORD_KINDS: readonly RecordKind[] = [
  'httpRequests',
  'dials',
  'tcpConns',
  'udpConns',
  'dnsQueries',
  'tlsTunnels',
  'incomingRequests',
];

/** The traceID prefix of each record kind ("req-1", "dial-2", ...). */
export const ID_PREFIX: Record<RecordKind, string> = {
  httpRequests: 'req',
  dials: 'dial',
  tcpConns: 'tcp',
  udpConns: 'udp',
  dnsQueries: 'dns',
  tlsTunnels: 'tls',
  incomingRequests: 'in',
};
