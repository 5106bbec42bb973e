/**
 * The collector's side of record events (src/protocol/events.ts): turns a frame of events back
 * into the `record` messages the preload would have sent as JSON lines. One decoder per preload
 * connection (it holds that connection's intern table).
 *
 * Input comes from another process and is not trusted: a frame that is cut short, names an
 * unknown code or tag, refers to a string never defined, or says it holds more or fewer events
 * than it does, ends its decoding with an error; the events decoded before the damage are kept,
 * the rest of the frame is counted in `dropped`. Nothing here throws.
 */

import {
  EV_RECORD,
  FIELD_LITERAL,
  KINDS,
  MAX_INTERNED,
  T_DEF,
  T_F64,
  T_FALSE,
  T_JSON,
  T_LIST,
  T_NULL,
  T_REF,
  T_STR,
  T_TRUE,
  T_U32,
  type DecodedEvent,
} from '../protocol/events';
import { FIELD_NAMES } from '../protocol/recordWriter';
import type { RecordMessage } from '../protocol/preload';

/**
 * A Buffer with the slicers Node gives every Buffer (`buffer.utf8Slice(start, end)`, on its
 * prototype since Node's first releases, not in its types): `toString(encoding, start, end)`
 * checks its bounds and looks up its encoding before calling them, on each of a frame's strings,
 * and before V8 has optimized the decoder that wrapper was most of a string's cost (the bounds are
 * checked here by need()).
 */
interface SlicingBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

/** What decoding one frame gave. */
export interface DecodedFrame {
  messages: RecordMessage[];
  /** Events the frame announced that could not be decoded (0 when all were). */
  dropped: number;
  /** Why decoding stopped early, when it did. */
  error?: string;
}

/** What decoding one frame event by event gave (EventDecoder.each). */
export interface FrameOutcome {
  /** Events the frame announced that could not be decoded (0 when all were). */
  dropped: number;
  /** Why decoding stopped early, when it did. */
  error?: string;
}

/** The `record` message a decoded event stands for: the form the JSON path sends. */
export function recordMessageOf(ev: DecodedEvent): RecordMessage {
  const fields: Record<string, unknown> = {};
  for (let i = 0; i < ev.count; i++) {
    const code = ev.codes[i];
    fields[code >= 0 ? FIELD_NAMES[code] : ev.names[i]] = ev.values[i];
  }
  return { type: 'record', kind: KINDS[ev.kind], id: ev.id, fields };
}

class DecodeError extends Error {}

/** The decoder's view between frames (it holds no frame's bytes then). */
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

/** Decodes the event frames of one connection, in order. */
export class EventDecoder {
  private readonly table: string[] = [];
  /** Events lost to damaged frames so far. */
  dropped = 0;
  private buf = Buffer.alloc(0) as SlicingBuffer;
  /**
   * A view of the frame's bytes for its f64 values: DataView's getFloat64 is one builtin call,
   * where Buffer's readDoubleLE is JavaScript (Node 20: an offset check and eight byte copies),
   * which most of a short run executes in V8's interpreter (a request's times are f64 values).
   */
  private view: DataView<ArrayBufferLike> = EMPTY_VIEW;
  private at = 0;

  /** The event being decoded, filled again for each (DecodedEvent). */
  private readonly ev: DecodedEvent = { kind: 0, id: '', count: 0, codes: [], names: [], values: [] };

  /** Decodes a frame said (by its header) to hold `announced` events. */
  decode(data: Buffer, announced: number): DecodedFrame {
    const messages: RecordMessage[] = [];
    const out = this.each(data, announced, (ev) => messages.push(recordMessageOf(ev)));
    return out.error === undefined ? { messages, dropped: out.dropped } : { messages, dropped: out.dropped, error: out.error };
  }

  /**
   * Decodes a frame said (by its header) to hold `announced` events, handing each event to
   * `onEvent` as soon as it is whole: no message object is made for it (the collector applies
   * most of them from their codes: TraceBuilder.applyEvent). An event cut short by damage is not
   * handed on; those before it were.
   */
  each(data: Buffer, announced: number, onEvent: (ev: DecodedEvent) => void): FrameOutcome {
    this.buf = data as SlicingBuffer;
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.at = 0;
    let decoded = 0;
    let error: string | undefined;
    try {
      while (this.at < data.length) {
        if (decoded >= announced) throw new DecodeError('more events than the frame announced');
        this.event();
        decoded++;
        onEvent(this.ev);
      }
      if (decoded < announced) throw new DecodeError(`the frame ended after ${decoded} of ${announced} events`);
    } catch (err) {
      error = err instanceof DecodeError ? err.message : `unexpected: ${String(err)}`;
    }
    const dropped = error === undefined ? 0 : Math.max(0, announced - decoded);
    this.dropped += dropped;
    this.buf = Buffer.alloc(0) as SlicingBuffer;
    this.view = EMPTY_VIEW;
    return error === undefined ? { dropped } : { dropped, error };
  }

  /** Decodes one event into `this.ev`. */
  private event(): void {
    const ev = this.ev;
    const code = this.u8();
    if (code !== EV_RECORD) throw new DecodeError(`unknown event code ${code}`);
    const kind = this.u8();
    if (kind >= KINDS.length) throw new DecodeError('unknown record kind');
    ev.kind = kind;
    ev.id = this.ascii(this.u8());
    const n = this.u8();
    for (let i = 0; i < n; i++) {
      let f = this.u8();
      if (f === FIELD_LITERAL) {
        const name = this.text(this.u8());
        if (name === '__proto__') throw new DecodeError('field name __proto__');
        ev.names[i] = name;
        f = -1;
      } else if (f >= FIELD_NAMES.length) throw new DecodeError(`unknown field code ${f}`);
      ev.codes[i] = f;
      ev.values[i] = this.value();
    }
    ev.count = n;
  }

  private value(): unknown {
    const tag = this.u8();
    switch (tag) {
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_U32:
        return this.u32();
      case T_F64: {
        this.need(8);
        const v = this.view.getFloat64(this.at, true);
        this.at += 8;
        return v;
      }
      case T_STR:
        return this.text(this.u32());
      case T_REF: {
        const idx = this.u16();
        const s = this.table[idx];
        if (s === undefined) throw new DecodeError(`reference to string ${idx}, never defined`);
        return s;
      }
      case T_DEF: {
        const idx = this.u16();
        const s = this.text(this.u32());
        if (idx !== this.table.length || idx >= MAX_INTERNED) throw new DecodeError(`string ${idx} defined out of order`);
        this.table.push(s);
        return s;
      }
      case T_LIST: {
        const n = this.u16();
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) {
          const v = this.value();
          if (typeof v !== 'string') throw new DecodeError('a list item is not a string');
          out.push(v);
        }
        return out;
      }
      case T_JSON: {
        const text = this.text(this.u32());
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new DecodeError('a JSON value does not parse');
        }
      }
      default:
        throw new DecodeError(`unknown value tag ${tag}`);
    }
  }

  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new DecodeError('the frame is cut short');
  }

  private u8(): number {
    this.need(1);
    return this.buf[this.at++];
  }

  // The integers are put together from the bytes here (need() has checked the bounds): Buffer's
  // readUInt16LE and readUInt32LE validate their offset again on every call, and before V8 had
  // optimized the decoder (most of a short run) they were a fifth of a frame's decoding.
  private u16(): number {
    this.need(2);
    const b = this.buf;
    const at = this.at;
    this.at = at + 2;
    return b[at] | (b[at + 1] << 8);
  }

  private u32(): number {
    this.need(4);
    const b = this.buf;
    const at = this.at;
    this.at = at + 4;
    return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000;
  }

  private text(n: number): string {
    this.need(n);
    const s = this.buf.utf8Slice(this.at, this.at + n);
    this.at += n;
    return s;
  }

  private ascii(n: number): string {
    this.need(n);
    const s = this.buf.latin1Slice(this.at, this.at + n);
    this.at += n;
    return s;
  }
}
