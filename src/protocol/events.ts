/**
 * Record events: the compact binary form in which the preload sends record updates (issue 17),
 * instead of one JSON line per record.
 *
 * At each observation point the preload appends one event to a preallocated buffer; a batch of
 * events goes to the collector as one frame, with the bytes as they are:
 *
 *   {"type":"events","len":N,"n":K}\n   (a header line, like a blob's: see BlobMessage)
 *   N bytes: K events back to back
 *
 * The collector (src/collector/eventDecoder.ts) turns each event back into the `record` message
 * the preload would have sent as JSON, so everything downstream is unchanged. Frames and JSON lines
 * share the connection in the order they were produced (the transport cuts the event buffer into
 * frames around every JSON message it queues, see Transport in src/preload/transport/transport.ts).
 *
 * Event layout (all integers little-endian):
 *
 *   EV_RECORD  u8 kind (KINDS index) · u8 idLen · idLen bytes of the local id (ASCII) ·
 *              u8 field count · that many fields
 *   field      u8 code (FIELD_NAMES index; FIELD_LITERAL: u8 len + UTF-8 name follows) · value
 *   value      u8 tag, then:
 *              T_NULL, T_FALSE, T_TRUE: nothing
 *              T_U32: u32 · T_F64: f64
 *              T_STR: u32 byte length + UTF-8 bytes
 *              T_REF: u16 index into the connection's intern table
 *              T_DEF: u16 index + u32 length + UTF-8: adds the string to the table, and is it
 *              T_LIST: u16 count + that many values (a list of strings: header names and values)
 *              T_JSON: u32 length + UTF-8 JSON (objects: errors, proxies, initiators...)
 *
 * Interning: method names, header names, status texts and client names are sent once per
 * connection (T_DEF, the first time), then as a 2-byte index (T_REF). The table is per connection
 * and never shrinks; past MAX_INTERNED entries strings go as T_STR. A value that is `undefined`
 * is left out, as JSON.stringify leaves it out.
 */

import { FIELD_NAMES, type LazyValue, type RecordWriter } from './recordWriter';

/** Event codes. */
export const EV_RECORD = 1;

/** Value tags (see the layout above). */
export const T_NULL = 0;
export const T_FALSE = 1;
export const T_TRUE = 2;
export const T_U32 = 3;
export const T_F64 = 4;
export const T_STR = 5;
export const T_REF = 6;
export const T_DEF = 7;
export const T_LIST = 8;
export const T_JSON = 9;

/** A field whose name follows as text (not in FIELD_NAMES). */
export const FIELD_LITERAL = 255;

/** Strings interned per connection, at most. */
export const MAX_INTERNED = 4096;

/** How a frame's header line starts. */
export const EVENTS_PREFIX = '{"type":"events"';

/** Record kinds by code (httpRequests first: see begin). */
export const KINDS = ['httpRequests', 'dials', 'tcpConns', 'udpConns', 'dnsQueries', 'tlsTunnels', 'incomingRequests'] as const;

/**
 * One record event as the collector decodes it (src/collector/eventDecoder.ts): its kind, its local
 * id and its fields by code, in the frame's order. The decoder fills one such object again for
 * each event, so a reader keeps its values, never the object or its arrays.
 */
export interface DecodedEvent {
  /** Index in KINDS. */
  kind: number;
  /** The record's local id. */
  id: string;
  /** Fields decoded: the first `count` entries of `codes`, `names` and `values`. */
  count: number;
  /** Each field's code (FIELD_NAMES index), or -1 for a field whose name came as text (in `names`). */
  readonly codes: number[];
  /** The names of the fields that came as text (`codes` -1); the others' entries are not read. */
  readonly names: string[];
  readonly values: unknown[];
}

/** Fields whose string values are interned (few distinct values, one per request). */
const INTERNED_FIELDS = new Set(['client', 'reqMethod', 'respStatusText']);
/** Fields whose string lists are header lists (names interned, values as text). */
const HEADER_FIELDS = new Set(['reqHeaders', 'respHeaders']);

/** Per field code: 1 = interned string, 2 = header list, 0 = plain. */
export const FIELD_MODE: readonly number[] = FIELD_NAMES.map((n) => (INTERNED_FIELDS.has(n) ? 1 : HEADER_FIELDS.has(n) ? 2 : 0));

const fieldCodes = new Map<string, number>(FIELD_NAMES.map((n, i) => [n, i]));
const kindCodes = new Map<string, number>(KINDS.map((n, i) => [n, i]));

/** Size of a fresh buffer (after one whose bytes the pipe still holds); it doubles as needed up to `maxBytes`. */
const INITIAL_BYTES = 64 * 1024;
/**
 * Size of an encoder's first buffer, which doubles to INITIAL_BYTES and beyond within a busy
 * program's first requests. V8 allocates a function's feedback only after its first 8 calls (lazy
 * feedback allocation), and optimized code that reaches a path without feedback deoptimizes: with
 * a first buffer large enough for the warm-up, the room checks' slow path (growing the buffer,
 * measuring a long string) first ran in a hot, optimized writer, deoptimizing it and the hook
 * that inlined it (bench/tools/deopts.mjs, http at concurrency 50: `str` and `num`, and `onResponse2`
 * through `num`). Growing early gives that path its feedback while the code is still warming up
 * (and every writer reaches it through `ensure`, whose feedback all writers share).
 */
const FIRST_BYTES = 1024;

/**
 * Appends events to one growing buffer. An event is written in place; if it cannot be completed
 * (the buffer would pass `maxBytes`, or a value cannot be encoded) it is rewound, as if never
 * begun, and `end` returns false. Never throws from `begin`/`field`/`end`.
 */
export class EventEncoder implements RecordWriter {
  buf: Buffer;
  /** Where a lazy value computed while its event is written sends the message it refers to. */
  side: Parameters<LazyValue>[0] = () => undefined;
  /** A view of `buf` for f64 values (DataView stores compile to plain stores; Buffer#writeDoubleLE is a call). */
  private view: DataView;
  /**
   * `buf.length`, kept as a number: reading a typed array's length is a builtin call in Node 24's
   * optimized code (V8 13), and the room checks read it for every field.
   */
  private cap: number;
  /** Bytes written. */
  off = 0;
  /** Complete events in the buffer. */
  count = 0;
  /** Where the open event began (-1: none open). */
  private evStart = -1;
  private nfieldsAt = 0;
  private nfields = 0;
  /** The event cannot be completed (too large, unencodable): rewound at `end`. */
  private broken = false;
  private readonly interned = new Map<string, number>();
  /** Strings this open event added to the table (taken back if it is rewound). */
  private readonly definedNow: string[] = [];

  constructor(readonly maxBytes = 4 * 1024 * 1024) {
    this.buf = Buffer.allocUnsafe(Math.min(FIRST_BYTES, maxBytes));
    this.cap = this.buf.length;
    this.view = viewOf(this.buf);
  }

  /** Offset where the open event began, or the end of the buffer when none is open. */
  get eventStart(): number {
    return this.evStart >= 0 ? this.evStart : this.off;
  }

  /** An event is open (begun, not yet ended). */
  get isOpen(): boolean {
    return this.evStart >= 0;
  }

  /** Starts a record event; an event left open (a hook that threw midway) is dropped. */
  begin(kind: string, id: string): boolean {
    if (this.evStart >= 0) this.rewind();
    // Most events are httpRequests': one comparison of internalized strings instead of a Map lookup.
    const k = kind === 'httpRequests' ? 0 : kindCodes.get(kind);
    if (k === undefined || id.length > 255) return false;
    this.evStart = this.off;
    this.broken = false;
    if (!this.ensure(4 + id.length)) return false;
    const b = this.buf;
    let o = this.off;
    b[o++] = EV_RECORD;
    b[o++] = k;
    b[o++] = id.length;
    for (let i = 0; i < id.length; i++) b[o++] = id.charCodeAt(i) & 0x7f;
    this.nfieldsAt = o;
    b[o++] = 0;
    this.nfields = 0;
    this.off = o;
    return true;
  }

  /** Adds one field by name (left out when `value` is undefined; a lazy value is computed now). */
  field(name: string, value: unknown): void {
    if (typeof value === 'function') value = this.computed(value as LazyValue);
    const code = fieldCodes.get(name);
    if (code !== undefined) {
      // A field of FIELD_NAMES: as its typed writer writes it.
      const mode = FIELD_MODE[code];
      if (mode === 1 && typeof value === 'string') this.intern(code, value);
      else if (mode === 2) this.headers(code, value);
      else this.any(code, value);
      return;
    }
    if (value === undefined || this.evStart < 0 || this.broken) return;
    if (this.nfields === 255 || name.length > 255 || !this.ensure(2 + name.length * 3)) {
      this.broken = true;
      return;
    }
    this.buf[this.off++] = FIELD_LITERAL;
    const n = this.buf.write(name, this.off + 1, 'utf8');
    if (n > 255) {
      this.broken = true;
      return;
    }
    this.buf[this.off] = n;
    this.off += 1 + n;
    this.value(value);
    this.nfields++;
  }

  /**
   * Starts a field by code (the typed writers below): false when no event is open or it cannot
   * take another field.
   */
  private head(code: number): boolean {
    if (this.evStart < 0 || this.broken) return false;
    if (this.nfields === 255 || !this.ensure(1)) {
      this.broken = true;
      return false;
    }
    this.buf[this.off++] = code;
    this.nfields++;
    return true;
  }

  num(code: number, v: number | undefined): void {
    // head() and the value in one room check: the most frequent field type.
    if (v === undefined || this.evStart < 0 || this.broken) return;
    if (this.nfields === 255 || !this.ensure(10)) {
      this.broken = true;
      return;
    }
    const b = this.buf;
    const o = this.off;
    b[o] = code;
    this.nfields++;
    // The value as writeNumber writes it, its two common forms inline: a call less per field,
    // and one small function less for V8 to compile on its own once hot.
    if (v >= 0 && v <= 0xffffffff && Number.isInteger(v)) {
      b[o + 1] = T_U32;
      this.view.setUint32(o + 2, v, true);
      this.off = o + 6;
    } else if (v - v === 0) {
      // Finite (NaN and ±Infinity give NaN here).
      b[o + 1] = T_F64;
      this.view.setFloat64(o + 2, v, true);
      this.off = o + 10;
    } else this.off = writeNumber(b, this.view, o + 1, v);
  }

  text(code: number, v: string | undefined): void {
    if (v !== undefined && this.head(code)) this.str(T_STR, v);
  }

  intern(code: number, v: string | undefined): void {
    if (v !== undefined && this.head(code)) this.internedStr(v);
  }

  flag(code: number, v: boolean | undefined): void {
    if (v !== undefined && this.head(code)) {
      if (this.ensure(1)) this.buf[this.off++] = v ? T_TRUE : T_FALSE;
    }
  }

  headers(code: number, v: unknown): void {
    if (typeof v === 'function') v = this.computed(v as LazyValue);
    if (v === undefined || !this.head(code)) return;
    if (typeof v === 'string') this.str(T_STR, v);
    else if (Array.isArray(v) && (v.length === 0 || isText(v[0]))) this.list(v);
    else this.value(v);
  }

  headerBytes(code: number, v: Uint8Array): void {
    if (this.head(code)) this.bytes(v, true);
  }

  any(code: number, v: unknown): void {
    if (typeof v === 'function') v = this.computed(v as LazyValue);
    if (v !== undefined && this.head(code)) this.value(v);
  }

  /** A lazy value, computed now; one that throws is left out. */
  private computed(compute: LazyValue): unknown {
    try {
      return compute(this.side);
    } catch {
      return undefined;
    }
  }

  /** Completes the open event; false when it was dropped (rewound). */
  end(): boolean {
    if (this.evStart < 0) return false;
    if (this.broken) {
      this.rewind();
      return false;
    }
    this.buf[this.nfieldsAt] = this.nfields;
    this.evStart = -1;
    // Setting an array's length is a runtime call: only when something was defined.
    if (this.definedNow.length !== 0) this.definedNow.length = 0;
    this.count++;
    return true;
  }

  /**
   * Empties the buffer (after its bytes were sent), keeping an open event's bytes; with `fresh`,
   * a new buffer is taken and the old one stays with whoever holds its bytes.
   */
  reset(fresh = false): void {
    const old = this.buf;
    if (fresh) {
      this.buf = Buffer.allocUnsafe(Math.max(Math.min(INITIAL_BYTES, this.maxBytes), this.off - this.eventStart));
      this.cap = this.buf.length;
      this.view = viewOf(this.buf);
    }
    if (this.evStart >= 0) {
      old.copy(this.buf, 0, this.evStart, this.off);
      this.off -= this.evStart;
      this.nfieldsAt -= this.evStart;
      this.evStart = 0;
    } else this.off = 0;
    this.count = 0;
  }

  /** Drops the open event's bytes and the strings it interned. */
  private rewind(): void {
    if (this.evStart < 0) return;
    this.off = this.evStart;
    this.evStart = -1;
    for (const s of this.definedNow) this.interned.delete(s);
    if (this.definedNow.length !== 0) this.definedNow.length = 0;
  }

  /**
   * Room for `n` more bytes; false (and the event broken) past maxBytes. Every writer calls it,
   * with no room check of its own before: V8 inlines this small check, and the call to `grow` in
   * it, shared by all writers, has feedback from the first buffer's growth (see FIRST_BYTES) — a
   * writer's own slow path would have none until it first ran, possibly in optimized code. `grow`
   * stays a call (rarely taken, V8 does not inline it), so the writers' optimized code stays small.
   */
  private ensure(n: number): boolean {
    const need = this.off + n;
    return need <= this.cap || this.grow(need);
  }

  /** A larger buffer for `need` bytes in all; false (and the event broken) past maxBytes. */
  private grow(need: number): boolean {
    if (need > this.maxBytes) {
      this.broken = true;
      return false;
    }
    let size = this.cap * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(Math.min(size, this.maxBytes));
    this.buf.copy(next, 0, 0, this.off);
    this.buf = next;
    this.cap = next.length;
    this.view = viewOf(next);
    return true;
  }

  private value(v: unknown): void {
    switch (typeof v) {
      case 'number':
        if (this.ensure(9)) this.off = writeNumber(this.buf, this.view, this.off, v);
        return;
      case 'string':
        this.str(T_STR, v);
        return;
      case 'boolean':
        if (!this.ensure(1)) return;
        this.buf[this.off++] = v ? T_TRUE : T_FALSE;
        return;
      default:
        if (v === null) {
          if (!this.ensure(1)) return;
          this.buf[this.off++] = T_NULL;
          return;
        }
        this.json(v);
    }
  }

  private json(v: unknown): void {
    let text: string | undefined;
    try {
      text = JSON.stringify(v);
    } catch {
      text = undefined;
    }
    if (text === undefined) this.broken = true;
    else this.str(T_JSON, text);
  }

  /** A tag, a u32 byte length and the UTF-8 bytes. */
  private str(tag: number, s: string): void {
    // Room for the worst case (3 bytes per UTF-16 unit); only a string too long for that to fit
    // under maxBytes has its exact length measured.
    const worst = 5 + s.length * 3;
    if (!this.ensure(this.off + worst <= this.maxBytes ? worst : 5 + Buffer.byteLength(s, 'utf8'))) return;
    const b = this.buf;
    const at = this.off;
    b[at] = tag;
    // writeText, inline (see num): a short ASCII string byte by byte, anything else by Buffer#write.
    const len = s.length;
    let i = 0;
    if (len <= SHORT_TEXT) {
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[at + 5 + i] = c;
      }
    }
    const n = i === len ? len : b.write(s, at + 5, 'utf8');
    this.view.setUint32(at + 1, n, true);
    this.off = at + 5 + n;
  }

  /** A string through the intern table (T_REF, or T_DEF the first time; T_STR once it is full). */
  private internedStr(s: string): void {
    const idx = this.interned.get(s);
    if (idx !== undefined) {
      if (!this.ensure(3)) return;
      const b = this.buf;
      const at = this.off;
      b[at] = T_REF;
      b[at + 1] = idx & 0xff;
      b[at + 2] = idx >>> 8;
      this.off = at + 3;
      return;
    }
    if (this.interned.size >= MAX_INTERNED || s.length > 256) {
      this.str(T_STR, s);
      return;
    }
    const next = this.interned.size;
    if (!this.ensure(7 + Buffer.byteLength(s, 'utf8'))) return;
    const b = this.buf;
    const at = this.off;
    b[at] = T_DEF;
    b[at + 1] = next & 0xff;
    b[at + 2] = next >>> 8;
    const n = writeText(b, s, at + 7);
    this.view.setUint32(at + 3, n, true);
    this.off = at + 7 + n;
    this.interned.set(s, next);
    this.definedNow.push(s);
  }

  /**
   * A list of strings: even positions (header names) interned, the others as text. Items given as
   * bytes (undici's header Buffers) go as their Latin-1 text (see bytes; names not interned).
   */
  private list(a: readonly unknown[]): void {
    if (a.length > 0xffff) {
      this.json(a);
      return;
    }
    if (!this.ensure(3)) return;
    this.buf[this.off] = T_LIST;
    this.buf[this.off + 1] = a.length & 0xff;
    this.buf[this.off + 2] = a.length >>> 8;
    this.off += 3;
    for (let i = 0; i < a.length && !this.broken; i++) {
      const item = a[i];
      if (typeof item === 'string') {
        if ((i & 1) === 0) this.internedStr(item);
        else this.str(T_STR, item);
      } else if (item instanceof Uint8Array) this.bytes(item);
      // Not text after a text first item (field() checks only that one): the event goes as JSON.
      else this.broken = true;
    }
  }

  /**
   * Header bytes as text decoded as Latin-1 (one character per byte), as Node's http parser and
   * undici decode them for the program: a T_STR of their UTF-8 form, ASCII bytes copied as they
   * are (a block of them in one copy). `block`: a header block's lines, after a CRLF (the block form).
   */
  private bytes(b: Uint8Array, block = false): void {
    const n = b.length;
    const pre = block ? 2 : 0;
    if (!this.ensure(5 + pre + 2 * n)) return;
    const buf = this.buf;
    let o = this.off + 5;
    if (block) {
      buf[o++] = 13;
      buf[o++] = 10;
    }
    if (n > SHORT_BYTES && this.copiedAscii(b, o)) o += n;
    else {
      for (let i = 0; i < n; i++) {
        const c = b[i];
        if (c < 0x80) buf[o++] = c;
        else {
          buf[o++] = 0xc0 | (c >> 6);
          buf[o++] = 0x80 | (c & 0x3f);
        }
      }
    }
    buf[this.off] = T_STR;
    this.view.setUint32(this.off + 1, o - this.off - 5, true);
    this.off = o;
  }

  /** Copies `b` to `o` in one piece; true when all of it is ASCII (checked four bytes at a time). */
  private copiedAscii(b: Uint8Array, o: number): boolean {
    this.buf.set(b, o);
    const v = this.view;
    const n = b.length;
    let i = 0;
    for (; i + 4 <= n; i += 4) if ((v.getUint32(o + i) & 0x80808080) !== 0) return false;
    for (; i < n; i++) if (b[i]! >= 0x80) return false;
    return true;
  }
}

/** A DataView of a Buffer's bytes. */
function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Writes a number value (tag and bytes) at `o` (9 bytes of room checked by the caller); returns the offset after it. */
function writeNumber(b: Buffer, view: DataView, o: number, v: number): number {
  if (v >= 0 && v <= 0xffffffff && Number.isInteger(v)) {
    b[o] = T_U32;
    view.setUint32(o + 1, v, true);
    return o + 5;
  }
  if (v !== v || v === Infinity || v === -Infinity) {
    // As JSON writes them.
    b[o] = T_NULL;
    return o + 1;
  }
  b[o] = T_F64;
  view.setFloat64(o + 1, v, true);
  return o + 9;
}

/**
 * Strings this short are copied character by character when ASCII; longer ones by one call into
 * Buffer#write. That call costs about 900 instructions whatever the length, a character read by
 * `charCodeAt` 40–60 in V8's optimized code (Node 20: the read dispatches on the string's
 * representation each time, and a URL is often a cons or sliced string), so the loop wins only
 * below about 16 characters (bench/encoder-ir.mjs, in git history: 18,550 → 16,771 Ir per http request when this
 * went from 48 to 16; 8: 18,126; 24: 16,854).
 */
const SHORT_TEXT = 16;

/** Byte blocks this short are copied byte by byte (a typed array's reads need no dispatch); longer ones in one set(). */
const SHORT_BYTES = 48;

/** Writes `s` as UTF-8 at `at` (room checked by the caller); returns the byte count. */
function writeText(b: Buffer, s: string, at: number): number {
  const len = s.length;
  if (len <= SHORT_TEXT) {
    let i = 0;
    for (; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      b[at + i] = c;
    }
    if (i === len) return len;
  }
  return b.write(s, at, 'utf8');
}

/** A string or bytes. */
function isText(v: unknown): v is string | Uint8Array {
  return typeof v === 'string' || v instanceof Uint8Array;
}

/** The header line of an events frame of `len` bytes holding `n` events. */
export function framePrefix(len: number, n: number): string {
  return `${EVENTS_PREFIX},"len":${len},"n":${n}}\n`;
}
