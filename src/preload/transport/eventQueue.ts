/**
 * The preload's record events not yet sent (src/protocol/events.ts): one growing buffer, cut into
 * segments wherever a JSON message was queued in between, so that frames and lines reach the
 * collector in the order they were produced (see Transport).
 */

import { EventEncoder } from '../../protocol/events';
import type { SideChannel } from './wireValues';

/**
 * Record events (src/protocol/events.ts) instead of JSON record lines: on by default;
 * NETTRACE_EVENTS=0 in the environment sends JSON record lines instead (the earlier path, kept for
 * the benchmarks' A/B within one bundle and as a way out should a reader of the wire not read
 * event frames).
 */
export const EVENTS_ON = process.env.NETTRACE_EVENTS !== '0';

/**
 * A stretch of the event buffer (bytes start..end, n events) that goes out as one frame at its
 * place in the transport's queue: the events were recorded before the queue's next message.
 */
export interface EventSeg {
  type: '__events';
  start: number;
  end: number;
  n: number;
}

/**
 * Events waiting to be sent, and where the transport's queue cuts them. The hot path writes into
 * `enc` directly (Transport.open/close: begin, the typed writers, end), with no call through
 * this class: each layer between a hook and the buffer is one more small function that V8
 * compiles on its own once it is hot (see `git log -p bench/RESULTS.md`, "The JIT warm-up, by what
 * TurboFan compiles"). The counts are the encoder's.
 */
export class EventQueue {
  /** The encoder the events are written with (begin … end). */
  readonly enc = new EventEncoder();
  /** Where the stretch not yet cut into a segment begins. */
  private segStart = 0;
  /** Events of the buffer already in segments. */
  private cutCount = 0;

  /** `side`: where a lazy value computed while its event is written sends its message (ahead of the event). */
  constructor(side: SideChannel) {
    this.enc.side = side;
  }

  /** Events in the stretch not yet cut into a segment. */
  get openEvents(): number {
    return this.enc.count - this.cutCount;
  }

  /** Events in the buffer (in segments and after them). */
  get queued(): number {
    return this.enc.count;
  }

  /** An event is open (begun and not yet ended). */
  get writing(): boolean {
    return this.enc.isOpen;
  }

  /** The buffer the segments' offsets refer to (valid until `sent`). */
  get bytes(): Buffer {
    return this.enc.buf;
  }

  /**
   * Appends one record update, given by field name, as an event; a lazy field (a function) is
   * computed now, and what it sends through `side` is queued ahead of this event. False when the
   * event could not be written (too large, not encodable): the caller sends it as JSON.
   */
  add(kind: string, id: string, fields: Record<string, unknown>): boolean {
    const enc = this.enc;
    if (!enc.begin(kind, id)) return false;
    for (const key in fields) enc.field(key, fields[key]);
    return enc.end();
  }

  /** The events not yet in a segment, as one (up to an event being written), or undefined. */
  cut(): EventSeg | undefined {
    const n = this.openEvents;
    if (n === 0) return undefined;
    const end = this.enc.eventStart;
    const seg: EventSeg = { type: '__events', start: this.segStart, end, n };
    this.segStart = end;
    this.cutCount = this.enc.count;
    return seg;
  }

  /**
   * Every segment was handed to the pipe; `held`: some bytes were not taken and stay pending,
   * so the buffer is replaced rather than written over.
   */
  sent(held: boolean): void {
    this.enc.reset(held);
    this.segStart = this.enc.eventStart;
    this.cutCount = 0;
  }

  /** Forgets every event (they were counted as dropped). */
  clear(): void {
    this.sent(true);
  }
}
