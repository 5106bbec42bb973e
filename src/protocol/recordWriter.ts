/**
 * The fields of a record update by code, and the two ways of writing one field by field: the
 * event encoder (src/protocol/events.ts) and FieldsWriter (a `fields` object for the JSON path).
 */

import type { RecordKind } from '../trace/contract/types';
import type { PreloadMessage } from './preload';

/** Field names by code: the fields of the hot path; any other name goes as FIELD_LITERAL. */
export const FIELD_NAMES = [
  'client',
  'reqMethod',
  'reqURL',
  'protoMajor',
  'protoMinor',
  'reqStartAt',
  'reusedConn',
  'reqHeaders',
  'reqContentLen',
  'tcpConn',
  'tlsTunnel',
  'dial',
  'proxy',
  'initiator',
  'reqSentAt',
  'respRecvAt',
  'respStatusCode',
  'respStatusText',
  'respHeaders',
  'respContentLen',
  'respDoneAt',
  'respClosedEarly',
  'respEvents',
  'reqError',
  'reqEndAt',
  'webSocket',
  'marks',
  'ruleDropped',
  // dials and tcpConns (src/preload/tracer.ts sendConn/sendClose, socketHooks.ts)
  'dstAddress',
  'dialBeginAt',
  'dialEndAt',
  'sourceIP',
  'dnsLookups',
  'connectAttempts',
  'establishedConn',
  'dialErr',
  'fromDial',
  'handshakeBeginAt',
  'handshakeEndAt',
  'connected',
  'addrTuple',
  'requestCount',
  'totalSentBytes',
  'totalRecvBytes',
  'connCloseAt',
  // Never in an event (an update with a body goes as a JSON line, its bytes as blob frames): named
  // here so a FieldsWriter can write them by code.
  'reqBody',
  'respBody',
  // httpRequests: the incoming request that caused it; incomingRequests (src/preload/server/serverHooks.ts)
  'causedBy',
  'server',
  'route',
  'reqRecvAt',
  'reqBodyDoneAt',
  'respHeadAt',
  'aborted',
  'error',
  'traceparent',
  'handler',
  // httpRequests: what a what-if rule did to it (src/preload/rules/whatIfMarks.ts)
  'whatIf',
  // httpRequests: a response before the request's end, interim responses (src/preload/http/httpBeforeEnd.ts)
  'respEarly',
  'respInterim',
] as const;

/** A field name of the hot path. */
export type FieldName = (typeof FIELD_NAMES)[number];

/** Field codes by name: `F.reqMethod` is FIELD_NAMES' index of "reqMethod". */
export const F = Object.freeze(Object.fromEntries(FIELD_NAMES.map((n, i) => [n, i]))) as { readonly [K in FieldName]: number };

/** Computes a field's value when its update is written (see `lazy` in src/preload/transport/wireValues.ts). */
export type LazyValue = (side: (msg: PreloadMessage) => void) => unknown;

/**
 * Writes one record update field by field, each by its code (`F`), with the writer for its type:
 * no `fields` object, no name lookup, no type dispatch on the hot path. An `undefined` value is
 * left out. Two writers: EventEncoder (the event buffer) and FieldsWriter (a fields object, for
 * the JSON path).
 */
export interface RecordWriter {
  /** A number (u32 or f64 in an event; NaN and ±Infinity as null, as JSON writes them). */
  num(code: number, v: number | undefined): void;
  /** A string sent as it is. */
  text(code: number, v: string | undefined): void;
  /** A string with few distinct values (methods, status texts, client names): interned. */
  intern(code: number, v: string | undefined): void;
  flag(code: number, v: boolean | undefined): void;
  /** A headers field (a header block, a flat list of strings or bytes, pairs, or a lazy value). */
  headers(code: number, v: unknown): void;
  /**
   * A headers field given as the bytes of a header block's lines ("Name: value" lines joined by
   * CRLF, no request or status line), as an HTTP parser read them: the block form (see
   * headerBlockPairs), each byte one character (Latin-1, as parsers decode header bytes).
   */
  headerBytes(code: number, v: Uint8Array): void;
  /** Any other value: an object (as JSON), null, a lazy value. */
  any(code: number, v: unknown): void;
}

/**
 * A RecordWriter that builds the `fields` of a JSON `record` message (the JSON path: events off,
 * an update carrying a body, rules that read the fields at a request's end). Lazy values stay
 * lazy: the transport computes them when their batch is sent.
 */
export class FieldsWriter implements RecordWriter {
  readonly fields: Record<string, unknown> = {};

  constructor(
    readonly kind: RecordKind,
    readonly id: string,
  ) {}

  num(code: number, v: number | undefined): void {
    if (v !== undefined) this.fields[FIELD_NAMES[code]] = v;
  }

  text(code: number, v: string | undefined): void {
    if (v !== undefined) this.fields[FIELD_NAMES[code]] = v;
  }

  intern(code: number, v: string | undefined): void {
    if (v !== undefined) this.fields[FIELD_NAMES[code]] = v;
  }

  flag(code: number, v: boolean | undefined): void {
    if (v !== undefined) this.fields[FIELD_NAMES[code]] = v;
  }

  headers(code: number, v: unknown): void {
    if (v !== undefined) this.fields[FIELD_NAMES[code]] = v;
  }

  headerBytes(code: number, v: Uint8Array): void {
    this.fields[FIELD_NAMES[code]] = '\r\n' + Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1');
  }

  any(code: number, v: unknown): void {
    if (v !== undefined) this.fields[FIELD_NAMES[code]] = v;
  }
}

/**
 * The writer of an update that is dropped (the queue is full, the collector gone or not reading):
 * writes nothing, one instance for all, so a program whose collector stalled pays no object and no
 * stores per update.
 */
class DiscardWriter implements RecordWriter {
  num(): void {}
  text(): void {}
  intern(): void {}
  flag(): void {}
  headers(): void {}
  headerBytes(): void {}
  any(): void {}
}

/** The one DiscardWriter. */
export const DISCARD: RecordWriter = new DiscardWriter();
