/**
 * What undici writes to and reads from an HTTP/1.1 socket: the header block and body length as
 * sent (watchWrites), and the frames of a WebSocket over an upgraded socket (watchWebSocket).
 */

import type { Hook, Tracer } from '../tracer';
import { overrideMethod, Slot } from '../tracer';
import { now } from '../clock/epoch';
import type { UState } from './undiciState';
import { countFrames, frameCounter, type FrameCounter } from '../message/wsFrames';

/** A WebSocket over an undici upgrade (Node's global WebSocket, the npm package's). */
interface WsWatch {
  s: UState;
  /** Set when the 101 arrived: frames flow from then on. */
  openAt?: number;
  closeAt?: number;
  closeCode?: number;
  closeReason?: string;
  out: FrameCounter;
  in: FrameCounter;
}

/**
 * The WebSocket whose socket is closing: set by our 'close' listener, which runs just before
 * undici's own (added later), which publishes `undici:websocket:close` with the close code and
 * reason. On Node 20/22 that message names the WebSocket object only, never its socket.
 */
let closingWs: WsWatch | undefined;

/**
 * What an HTTP/1.1 socket is writing for a request between `undici:client:sendHeaders` and
 * `undici:request:bodySent` (see watchWrites).
 */
interface PendingWrite {
  s: UState;
  /** The header block undici published (request line and headers, no framing header yet). */
  header: string;
  /** undefined until the header block is written; then the body's framing. */
  chunked?: boolean;
  /** Body bytes written so far (the chunk sizes, when chunked). */
  bytes: number;
  /** Chunked: the next write is a chunk's data (counted from its size line). */
  skip: boolean;
}

/** What is watched on an undici socket, set once per socket (see watchWrites). */
interface Watched {
  /** The request being written, from sendHeaders to bodySent. */
  p: PendingWrite | null;
  /** The WebSocket over the socket, once upgraded. */
  ws?: WsWatch;
}

const watched = new Slot<Watched>('nettrace.undici.watched');

/** A chunk-size line undici writes before each chunk of a chunked body ("\r\n1f\r\n"). */
const CHUNK_LINE = /^\r\n([0-9a-f]+)\r\n/;

/**
 * Watches an HTTP/1.1 request's writes on its socket until bodySent or error (takeWrite), and,
 * for a WebSocket handshake, the frames the socket carries once upgraded.
 */
export function watchRequest(t: Tracer, hook: Hook, s: UState, socket: object, header: string): void {
  s.socket = socket;
  const h = watchWrites(t, hook, socket as Writer);
  h.p = { s, header, bytes: 0, skip: false };
  if (s.upgrade === 'websocket') watchWebSocket(hook, s, socket as Reader, h);
}

/**
 * A WebSocket handshake's 101 arrived (see onUpgraded in undiciHooks.ts): frames flow from `at`
 * until the socket closes. Nothing for another upgrade, or a socket not watched as a WebSocket.
 */
export function onWebSocketOpen(t: Tracer, hook: Hook, s: UState, statusCode: unknown, socket: unknown, at: number): void {
  const w = socket && typeof socket === 'object' ? watched.get(socket)?.ws : undefined;
  if (!w || w.s !== s || statusCode !== 101) return s.rec?.end(s.id, { kind: 'completed' });
  w.openAt = at;
  const recorded = s.rec?.webSocketOpen(s.id, at);
  t.record('httpRequests', s.id, { webSocket: wsField(w) });
  (socket as Reader).once('close', () => {
    t.guard(hook, () => {
      w.closeAt = now();
      closingWs = w;
      // undici's own 'close' listener runs next and publishes the close code and reason.
      process.nextTick(() => {
        if (closingWs === w) closingWs = undefined;
        t.guard(hook, () => t.record('httpRequests', s.id, { webSocket: wsField(w) }));
        if (recorded) s.rec!.closed(recorded, w.closeCode !== undefined ? { kind: 'completed' } : { kind: 'reset' });
      });
    });
  });
}

/** `undici:websocket:close`: the close code and reason of the WebSocket whose socket is closing. */
export function onWebSocketClose(_t: Tracer, _hook: Hook, m: Record<string, unknown>): void {
  const w = closingWs;
  closingWs = undefined;
  if (!w) return;
  if (typeof m.code === 'number') w.closeCode = m.code;
  if (typeof m.reason === 'string') w.closeReason = m.reason;
}

/** A request's `webSocket` field as it stands. */
function wsField(w: WsWatch): Record<string, unknown> {
  return {
    openAt: w.openAt,
    closeAt: w.closeAt,
    closeCode: w.closeCode,
    closeReason: w.closeReason,
    sentMessages: w.out.messages,
    recvMessages: w.in.messages,
    sentBytes: w.out.bytes,
    recvBytes: w.in.bytes,
  };
}

type Reader = {
  push: (chunk: unknown, enc?: BufferEncoding) => boolean;
  unshift: (chunk: unknown, enc?: BufferEncoding) => void;
  once: (event: string, fn: () => void) => unknown;
};

/**
 * Counts the frames a WebSocket handshake's socket carries once upgraded: what arrives through
 * the socket's `push` and, first, the bytes that came with the 101 (undici's HTTP parser hands
 * them back with `unshift` just before the upgrade completes); what undici writes (watchWrites).
 * Wrapped on the instance, for WebSocket handshakes only.
 */
function watchWebSocket(hook: Hook, s: UState, socket: Reader, h: Watched): void {
  // Recording for replay: the frames' payloads too (recorder.ts).
  s.rec?.expectWebSocket();
  const w: WsWatch = { s, out: frameCounter(s.rec, 'out'), in: frameCounter(s.rec, 'in') };
  h.ws = w;
  let upgraded = false;
  const unshift = socket.unshift;
  overrideMethod(socket, 'unshift', function (this: Reader, chunk: unknown, enc?: BufferEncoding): void {
    if (!upgraded && hook.enabled) {
      upgraded = true;
      if (chunk instanceof Uint8Array) countFrames(w.in, chunk);
    }
    return unshift.call(this, chunk, enc);
  });
  const push = socket.push;
  overrideMethod(socket, 'push', function (this: Reader, chunk: unknown, enc?: BufferEncoding): boolean {
    if (upgraded && chunk instanceof Uint8Array && hook.enabled) countFrames(w.in, chunk);
    return push.call(this, chunk, enc);
  });
}

/** True when an undici header block starts with an HTTP/1.1 request line (HTTP/2 sends none). */
export function isRequestLine(header: string): boolean {
  const eol = header.indexOf('\r\n');
  return eol > 9 && header.startsWith(' HTTP/1.1', eol - 9);
}

type Writer = { write: (chunk: unknown, ...rest: unknown[]) => boolean };

/** The request's pending write state, removed from its socket (bodySent or error). */
export function takeWrite(s: UState): PendingWrite | undefined {
  const socket = s.socket;
  if (!socket) return undefined;
  s.socket = undefined;
  const h = watched.get(socket);
  const p = h?.p;
  if (!p || p.s !== s) return undefined;
  h!.p = null;
  return p;
}

/**
 * Watches what undici writes to an HTTP/1.1 socket while a request is being sent, to record the
 * header block as sent and the body's length as the server receives it.
 *
 * Workaround: `undici:client:sendHeaders` publishes the header block before undici adds the
 * body's framing header: `content-length` (known length: string, buffer, Blob, FormData,
 * URLSearchParams) or `transfer-encoding: chunked` (a stream or async iterable of unknown
 * length), decided inside writeH1's write* functions (undici 6 and 7, Node 20–24 and npm) and
 * written with the block in one `socket.write(header + framing)`. A streamed body's length is
 * known to no one until its end (undici 7 publishes `undici:request:bodyChunkSent`, 6 does not):
 * it is summed from the writes that follow, undici's chunk-size lines when chunked (each data
 * chunk is preceded by one), the data itself otherwise. `socket.write` is wrapped once per
 * socket, on the instance (undici's own socket); a write with no request pending costs one
 * property read.
 */
function watchWrites(t: Tracer, hook: Hook, socket: Writer): Watched {
  let h = watched.get(socket);
  if (h) return h;
  const holder: Watched = (h = { p: null });
  watched.set(socket, holder);
  const write = socket.write;
  overrideMethod(socket, 'write', function (this: Writer, chunk: unknown, ...rest: unknown[]): boolean {
    const p = holder.p;
    if (p) {
      if (hook.enabled) t.guard(hook, () => onWrite(t, p, chunk, rest[0]));
    } else {
      const w = holder.ws;
      if (w?.openAt !== undefined && chunk instanceof Uint8Array && hook.enabled) countFrames(w.out, chunk);
    }
    return write.call(this, chunk, ...rest);
  });
  return h;
}

/** One write of a request being sent: its header block, then its body's bytes. */
function onWrite(t: Tracer, p: PendingWrite, chunk: unknown, enc: unknown): void {
  if (p.chunked === undefined) {
    // The first write of a request is its header block with the framing header.
    if (typeof chunk !== 'string' || !chunk.startsWith(p.header)) return;
    const tail = chunk.slice(p.header.length);
    p.chunked = tail.startsWith('transfer-encoding: chunked');
    // Chunked: the blank line ending the block comes with the first chunk-size line.
    const fields: Record<string, unknown> = {};
    if (t.headers.mode !== 'none') fields.reqHeaders = t.headers.blockField(p.chunked ? chunk + '\r\n' : chunk);
    if (!p.chunked) {
      const declared = /^content-length: (\d+)/.exec(tail);
      fields.reqContentLen = declared ? Number(declared[1]) : 0;
    }
    t.record('httpRequests', p.s.id, fields);
    return;
  }
  if (!p.chunked) {
    p.bytes += byteLength(chunk, enc);
    return;
  }
  // Chunked: a chunk-size line, then the chunk's data, alternately; then "\r\n0\r\n\r\n".
  if (p.skip) {
    p.skip = false;
    return;
  }
  const m = typeof chunk === 'string' ? CHUNK_LINE.exec(chunk) : null;
  if (m) {
    p.bytes += parseInt(m[1], 16);
    p.skip = true;
  }
}

function byteLength(chunk: unknown, enc: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof enc === 'string' && Buffer.isEncoding(enc) ? enc : 'utf8');
  return chunk instanceof Uint8Array ? chunk.byteLength : 0;
}
