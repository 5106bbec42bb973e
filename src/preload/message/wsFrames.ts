/**
 * Observes a WebSocket connection after its HTTP upgrade: counts messages and bytes each way and
 * reads the close frames (code and reason), by parsing the frames (RFC 6455 §5.2) as they pass
 * the socket. Node publishes nothing for an upgraded socket, and a 'data' listener would switch
 * it to flowing mode under the library that owns it, so the socket's own `push` (bytes in) and
 * `_writeGeneric` (bytes out) are wrapped on the instance, as the socket-op trace does.
 */

import { CLOSE, observeEvents } from '../emitTaps';
import type { WebSocketMessage, WebSocketSession } from '../../trace/contract/webSocket';
import type { Hook, Tracer } from '../tracer';
import { overrideMethod } from '../tracer';
import { now } from '../clock/epoch';
import type { ExchangeRecorder } from './recorder';

const OPCODES: Record<number, WebSocketMessage['type']> = { 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

/** Incremental frame parser for one direction. */
class FrameReader {
  /** Bytes of the current frame's header read so far (a header is 2–14 bytes). */
  private head = Buffer.alloc(14);
  private headLen = 0;
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;
  private opcode = 0;
  private fin = false;
  private mask: Buffer | undefined;
  /** Payload of the current close frame (at most 125 bytes by the RFC). */
  private closePayload: number[] | undefined;
  private closeOffset = 0;
  /** Payload bytes of the data message in progress, and its type. */
  private messageLen = 0;
  private messageType: WebSocketMessage['type'] | undefined;
  private frameLen = 0;
  private inPayload = false;

  constructor(
    private readonly onFrame: (type: WebSocketMessage['type'], len: number, close?: { code?: number; reason: string }) => void,
    /** Given each frame's payload bytes, unmasked, and whether the frame is a control frame (recording: recorder.ts). */
    private readonly sink?: (bytes: Uint8Array, control: boolean) => void,
  ) {}

  feed(buf: Uint8Array): void {
    let i = 0;
    while (i < buf.length) {
      if (!this.inPayload) {
        this.head[this.headLen++] = buf[i++];
        const need = this.headerSize();
        if (need !== undefined && this.headLen === need) this.startFrame();
        continue;
      }
      const n = Math.min(this.remaining, buf.length - i);
      if (this.sink !== undefined && n > 0) this.sinkPayload(buf, i, n);
      if (this.closePayload) {
        for (let k = 0; k < n && this.closePayload.length < 125; k++) {
          const b = buf[i + k];
          this.closePayload.push(this.mask ? b ^ this.mask[this.closeOffset++ & 3] : b);
        }
      }
      this.remaining -= n;
      i += n;
      if (this.remaining === 0) this.endFrame();
    }
  }

  /** Hands `n` payload bytes at `i` to the sink, unmasked. */
  private sinkPayload(buf: Uint8Array, i: number, n: number): void {
    const piece = buf.subarray(i, i + n);
    const control = this.opcode >= 8;
    const mask = this.mask;
    if (mask === undefined) return this.sink!(piece, control);
    const off = this.frameLen - this.remaining;
    const out = Buffer.allocUnsafe(n);
    for (let k = 0; k < n; k++) out[k] = piece[k] ^ mask[(off + k) & 3];
    this.sink!(out, control);
  }

  /** The full header size once the bytes that say it have arrived. */
  private headerSize(): number | undefined {
    if (this.headLen < 2) return undefined;
    const len7 = this.head[1] & 0x7f;
    const masked = (this.head[1] & 0x80) !== 0;
    const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    return 2 + ext + (masked ? 4 : 0);
  }

  private startFrame(): void {
    const h = this.head;
    this.fin = (h[0] & 0x80) !== 0;
    this.opcode = h[0] & 0x0f;
    const len7 = h[1] & 0x7f;
    let off = 2;
    let len = len7;
    if (len7 === 126) {
      len = h.readUInt16BE(2);
      off = 4;
    } else if (len7 === 127) {
      len = Number(h.readBigUInt64BE(2));
      off = 10;
    }
    this.mask = (h[1] & 0x80) !== 0 ? Buffer.from(h.subarray(off, off + 4)) : undefined;
    this.headLen = 0;
    this.remaining = len;
    this.frameLen = len;
    this.closePayload = this.opcode === 8 ? [] : undefined;
    this.closeOffset = 0;
    this.inPayload = true;
    if (len === 0) this.endFrame();
  }

  private endFrame(): void {
    this.inPayload = false;
    const op = this.opcode;
    if (op === 0 || op === 1 || op === 2) {
      if (op !== 0) this.messageType = OPCODES[op];
      this.messageLen += this.frameLen;
      if (this.fin) {
        this.onFrame(this.messageType ?? 'binary', this.messageLen);
        this.messageLen = 0;
        this.messageType = undefined;
      }
    } else if (op === 8) {
      const p = this.closePayload ?? [];
      const code = p.length >= 2 ? (p[0] << 8) | p[1] : undefined;
      const reason = p.length > 2 ? Buffer.from(p.slice(2)).toString('utf8') : '';
      this.onFrame('close', this.frameLen, { code, reason });
    } else if (OPCODES[op]) {
      this.onFrame(OPCODES[op], this.frameLen);
    }
    this.closePayload = undefined;
  }
}

/** Milliseconds between two progress updates of an open WebSocket. */
const PROGRESS_MS = 200;

/**
 * Starts observing an upgraded WebSocket `socket` for the request record `id`; `head` is what
 * arrived after the 101 response in the same read (the library unshifts it back into the socket).
 * `kind` and `end`: the record is an outgoing request's (the program is the client, the default)
 * or an incoming request's (the program is the server: `sent` is what the server sent).
 */
export function observeWebSocket(
  t: Tracer,
  hook: Hook,
  id: string,
  socket: object,
  head: Uint8Array | undefined,
  openAt: number,
  kind: 'httpRequests' | 'incomingRequests' = 'httpRequests',
  end: 'client' | 'server' = 'client',
  rec?: ExchangeRecorder,
): WebSocketSession {
  const ws: WebSocketSession = { openAt, sentMessages: 0, recvMessages: 0, sentBytes: 0, recvBytes: 0 };
  const max = t.config.sockTrace ? t.config.sockTraceMaxOps : 0;
  if (max > 0) {
    ws.messages = [];
    ws.droppedMessages = 0;
  }
  let lastSent = openAt;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const send = () => {
    timer = undefined;
    lastSent = now();
    t.record(kind, id, { webSocket: { ...ws, messages: ws.messages?.slice() } });
  };
  const progress = () => {
    if (ws.closeAt !== undefined || timer !== undefined) return;
    const wait = PROGRESS_MS - (now() - lastSent);
    if (wait <= 0) send();
    else {
      timer = setTimeout(() => t.guard(hook, send), wait);
      timer.unref?.();
    }
  };
  const frame = (dir: 'sent' | 'recv') => (type: WebSocketMessage['type'], len: number, close?: { code?: number; reason: string }) => {
    const at = now();
    if (type === 'text' || type === 'binary') {
      if (dir === 'sent') {
        ws.sentMessages++;
        ws.sentBytes += len;
      } else {
        ws.recvMessages++;
        ws.recvBytes += len;
      }
    }
    if (close && ws.closedBy === undefined) {
      ws.closedBy = dir === 'sent' ? end : end === 'client' ? 'server' : 'client';
      if (close.code !== undefined) ws.closeCode = close.code;
      ws.closeReason = close.reason;
    }
    if (ws.messages) {
      if (ws.messages.length < max) ws.messages.push({ dir, type, len, endAt: at });
      else ws.droppedMessages!++;
    }
    rec?.message(dir === 'sent' ? 'out' : 'in', type);
  };
  // Recording for replay: every message's payload, in order (recorder.ts).
  const recorded = rec?.webSocketOpen(id, openAt);
  const inbound = new FrameReader(frame('recv'), rec && ((b, control) => rec.messageBytes('in', b, control)));
  const outbound = new FrameReader(frame('sent'), rec && ((b, control) => rec.messageBytes('out', b, control)));
  const read = (chunk: unknown) => {
    if (!(chunk instanceof Uint8Array) || chunk.length === 0) return;
    inbound.feed(chunk);
    progress();
  };
  const write = (chunk: unknown) => {
    if (!(chunk instanceof Uint8Array) || chunk.length === 0) return;
    outbound.feed(chunk);
    progress();
  };
  const s = socket as {
    push: (chunk: unknown, enc?: BufferEncoding) => boolean;
    _writeGeneric: (writev: boolean, data: unknown, encoding: BufferEncoding, cb: (err?: Error | null) => void) => unknown;
    once: (ev: string, fn: () => void) => unknown;
  };
  const push = s.push;
  overrideMethod(s, 'push', function (this: unknown, chunk: unknown, enc?: BufferEncoding): boolean {
    if (hook.enabled && chunk != null) t.guard(hook, () => read(chunk));
    return push.call(this, chunk, enc);
  });
  const writeGeneric = s._writeGeneric;
  overrideMethod(
    s,
    '_writeGeneric',
    function (this: unknown, writev: boolean, data: unknown, encoding: BufferEncoding, cb: (err?: Error | null) => void) {
      if (hook.enabled) {
        t.guard(hook, () => {
          if (!writev) write(typeof data === 'string' ? Buffer.from(data, encoding) : data);
          else
            for (const e of data as Array<{ chunk?: unknown; encoding?: BufferEncoding } | Uint8Array>) {
              const c = e instanceof Uint8Array ? e : e.chunk;
              write(typeof c === 'string' ? Buffer.from(c, (e as { encoding?: BufferEncoding }).encoding) : c);
            }
        });
      }
      return writeGeneric.call(this, writev, data, encoding, cb);
    },
  );
  // A 'close' listener changes nothing for the socket's owner.
  let closeSeen = false;
  observeEvents(s, CLOSE, (event) => {
    if (event !== 'close' || closeSeen) return;
    closeSeen = true;
    t.guard(hook, () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      ws.closeAt = now();
      send();
      if (recorded) rec!.closed(recorded, ws.closedBy !== undefined ? { kind: 'completed' } : { kind: 'reset' });
    });
  });
  if (head && head.length > 0) read(head);
  return ws;
}

/**
 * One direction's counts of data messages and their payload bytes, for a socket whose frames are
 * seen elsewhere (undici's WebSocket): the same parser, without the close-frame bookkeeping.
 */
export interface FrameCounter {
  messages: number;
  bytes: number;
  readonly reader: FrameReader;
}

/** A fresh counter; with `rec` (recording), each message's payload goes to it too, in direction `dir`. */
export function frameCounter(rec?: ExchangeRecorder, dir: 'in' | 'out' = 'in'): FrameCounter {
  const c = { messages: 0, bytes: 0 } as { messages: number; bytes: number; reader: FrameReader };
  c.reader = new FrameReader(
    (type, len) => {
      if (type === 'text' || type === 'binary') {
        c.messages++;
        c.bytes += len;
      }
      rec?.message(dir, type);
    },
    rec && ((b, control) => rec.messageBytes(dir, b, control)),
  );
  return c;
}

/** Feeds one chunk of the stream, however the stream is cut. */
export function countFrames(c: FrameCounter, chunk: Uint8Array): void {
  c.reader.feed(chunk);
}
