/**
 * Recording for replay (the `record` option, off by default; src/trace/contract/recording.ts):
 * what a replay needs of each exchange that the trace does not keep. Every client's hooks feed an
 * ExchangeRecorder per request — the request's body as the program wrote it, the response's heads
 * as received (header pairs in order, unredacted), its body as it came off the wire (still
 * content-encoded: Node's http parser, undici's Request handler and an HTTP/2 stream hand it on
 * before anything decodes it), its trailers, when its bytes arrived, a WebSocket's messages — and
 * say how the exchange ended; the recorder then sends it once as a WireExchange
 * (src/protocol/preload.ts): its bytes in one blob frame, never as JSON text in the program.
 *
 * Nothing of a request's headers is kept: a replay matches on the method, URL and body, so the
 * program's credentials (`Authorization`, `Cookie`, `Proxy-Authorization`) never leave it here.
 * Bounded: a body past the per-body cap is cut, and the process keeps no more than the run's cap
 * in all (the collector holds the run to it across processes); what a cap cut is said (WireBytes.over).
 * A failure in here turns recording off for the process with a warning; the client's hook goes on.
 */

import { closedInOrder, RECORDED_CHUNKS_MAX, type RecordedEnd, type RecordedHead } from '../../trace/contract/recording';
import type { RequestError } from '../../trace/contract/types';
import type { PreloadMessage, WireBytes, WireExchange } from '../../protocol/preload';
import { WireBlob } from '../transport/wireValues';
import { now } from '../clock/epoch';

/** What recording needs of the Tracer (its configuration, warnings, the transport): no import of tracer.ts, which starts it. */
export interface RecordingHost {
  readonly config: { record?: boolean; recordMaxBodyBytes: number; recordMaxRunBytes: number };
  warn(message: string): void;
  readonly transport: { send(msg: PreloadMessage): void };
}

/** The process's recording: its caps, and the bytes kept so far against the run's cap. */
export class Recording {
  /** Bytes kept (held or sent) by this process. */
  used = 0;
  /** Recorders of WebSockets still open, sent at the process's exit (flushOpenRecordings). */
  readonly open = new Set<{ rec: ExchangeRecorder; id: string }>();
  /** Set when a recorder failed: nothing more is recorded in this process. */
  off = false;

  constructor(
    readonly t: RecordingHost,
    readonly maxBody: number,
    readonly maxRun: number,
  ) {}

  /** Turns recording off for the process after a failure, with a warning. */
  fail(err: unknown): void {
    if (this.off) return;
    this.off = true;
    try {
      this.t.warn(`nettrace: recording for replay stopped in pid ${process.pid}: ${err instanceof Error ? err.message : String(err)}`);
    } catch {
      // Nothing more to do.
    }
  }
}

/** The process's recording while the `record` option is on (set by startRecording); undefined: the hooks record nothing. */
export let recording: Recording | undefined;

/**
 * Turns recording on for this process when its configuration asks for it: called by the Tracer's
 * constructor (tracer.ts), before any hook is installed.
 */
export function startRecording(t: RecordingHost): void {
  const config = t.config;
  if (config.record === true) recording = new Recording(t, config.recordMaxBodyBytes, config.recordMaxRunBytes);
}

/** A new exchange's recorder when recording is on (the request started at `startAt`, epoch ms). */
export function newRecorder(startAt: number): ExchangeRecorder | undefined {
  const r = recording;
  return r !== undefined && !r.off ? new ExchangeRecorder(r, startAt) : undefined;
}

/** Sends every WebSocket recorder still open, as the process exits (index.ts). */
export function flushOpenRecordings(): void {
  const r = recording;
  if (r === undefined) return;
  for (const { rec, id } of r.open) rec.end(id, { kind: 'aborted' });
  r.open.clear();
}

/** Bytes of one body as kept: the pieces copied so far, how many, of how many in all, and the cap that cut them. */
class Kept {
  parts: Buffer[] = [];
  kept = 0;
  size = 0;
  over: 'body' | 'run' | undefined = undefined;

  /**
   * Adds a chunk (bytes, or a string in its encoding); returns its length. `pool`: the bytes kept of
   * every part sharing one per-body cap with this one (a WebSocket's messages).
   */
  add(r: Recording, chunk: unknown, encoding?: BufferEncoding, pool?: { kept: number }): number {
    let buf: Buffer;
    if (typeof chunk === 'string') buf = Buffer.from(chunk, encoding && Buffer.isEncoding(encoding) ? encoding : 'utf8');
    else if (chunk instanceof Uint8Array) buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else return 0;
    const len = buf.length;
    this.size += len;
    const bodyRoom = r.maxBody - (pool !== undefined ? pool.kept : this.kept);
    const runRoom = r.maxRun - r.used;
    const room = Math.max(0, Math.min(bodyRoom, runRoom));
    if (len > room) this.over ??= bodyRoom <= runRoom ? 'body' : 'run';
    const take = Math.min(len, room);
    if (take > 0) {
      // Copied: the stream may reuse the chunk's memory after this call.
      this.parts.push(Buffer.from(take === len ? buf : buf.subarray(0, take)));
      this.kept += take;
      r.used += take;
      if (pool !== undefined) pool.kept += take;
    }
    return len;
  }
}

/** Header pairs from a flat [name, value, ...] list (strings, or bytes as undici holds them: Latin-1). */
export function headerPairs(flat: readonly unknown[] | undefined): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!Array.isArray(flat)) return out;
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([latin1(flat[i]), latin1(flat[i + 1])]);
  return out;
}

function latin1(v: unknown): string {
  return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1') : String(v);
}

/** A WebSocket frame's type as the frame reader names it (wsFrames.ts), as its opcode. */
const OPCODE: Record<string, number> = { text: 1, binary: 2, close: 8, ping: 9, pong: 10 };

/** Milliseconds, to the hundredth. */
function ms(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * How an exchange ended for the program, in the recording's terms (RecordedEnd), from the error the
 * trace records (`err`, as toRequestError made it and the hooks marked it; undefined: it completed)
 * and the response's body bytes (`bodyBytes` undefined: no head arrived).
 */
export function recordedEnd(err: RequestError | undefined, bodyBytes: number | undefined, http2Code?: number): RecordedEnd {
  if (err === undefined) return { kind: 'completed' };
  if (err.aborted) return { kind: 'aborted' };
  // The underlying failure's code first (HTTP/2's ERR_HTTP2_STREAM_CANCEL wraps the session's ECONNREFUSED).
  const code = err.cause?.code ?? err.code;
  if (err.phase === 'dns') return { kind: 'dns', code: code ?? 'ENOTFOUND' };
  if (err.phase === 'tls' && !err.timedOut) return { kind: 'tls', code: code ?? 'ERR_SSL' };
  // A connect the kernel gave up on (ETIMEDOUT) is refused; the client's own connect timeout is a timeout.
  if (err.phase === 'connect' && (!err.timedOut || code === 'ETIMEDOUT') && code !== undefined && /^E[A-Z]+$/.test(code))
    return { kind: 'refused', code };
  if (err.timedOut) return { kind: 'timeout' };
  if (http2Code === undefined && closedInOrder(err))
    return bodyBytes !== undefined ? { kind: 'closed', afterBodyBytes: bodyBytes } : { kind: 'closed' };
  const reset: RecordedEnd = { kind: 'reset' };
  if (bodyBytes !== undefined) reset.afterBodyBytes = bodyBytes;
  if (http2Code !== undefined) reset.http2Code = http2Code;
  return reset;
}

/** What a replay needs of one exchange, gathered as it happens; sent once by end(). */
export class ExchangeRecorder {
  private req: Kept | undefined;
  private body: Kept | undefined;
  private interim: RecordedHead[] | undefined;
  private response: RecordedHead | undefined;
  private trailers: Array<[string, string]> | undefined;
  /** When the response's first byte arrived (epoch ms), and the body's reads after it. */
  private firstAt: number | undefined;
  private chunks: Array<[number, number]> | undefined;
  /** A WebSocket's messages (`at`: epoch ms) after its `101` at `openAt`. */
  private messages: Array<{ dir: 'in' | 'out'; at: number; opcode: number; data: Kept }> | undefined;
  private openAt = 0;
  /** The message being read in each direction, and the control frame (a control frame may come between a message's frames). */
  private partial: { in?: Kept; out?: Kept; inControl?: Kept; outControl?: Kept } = {};
  /** A WebSocket's messages share one per-body cap: their bytes kept so far. */
  private readonly wsKept = { kept: 0 };
  private sent = false;
  /** An HTTP/2 stream reset's code, when one ended it. */
  http2Code: number | undefined;
  /** Response body bytes seen (kept or not). */
  bodyBytes = 0;

  constructor(
    private readonly r: Recording,
    /** Epoch ms of the request's start (its `reqStartAt`). */
    private readonly startAt: number,
  ) {}

  /** Runs a step; a failure stops recording in the process (never the client's hook). */
  private safe(fn: () => void): void {
    if (this.r.off) return;
    try {
      fn();
    } catch (err) {
      this.r.fail(err);
    }
  }

  /** A chunk of the request's body as the program wrote it. */
  requestBody(chunk: unknown, encoding?: BufferEncoding): void {
    this.safe(() => (this.req ??= new Kept()).add(this.r, chunk, encoding));
  }

  /** An interim (1xx) head; `flat` is its header list as received (not timed: `firstByteMs` is the final head's). */
  interimHead(status: unknown, statusText: unknown, flat: readonly unknown[] | undefined): void {
    this.safe(() => {
      const list = (this.interim ??= []);
      if (list.length < 8) list.push(head(status, statusText, flat));
    });
  }

  /** The final head (`flat`: its header list as received, names and values as they came). */
  head(status: unknown, statusText: unknown, flat: readonly unknown[] | undefined, at: number = now()): void {
    this.safe(() => {
      this.firstAt ??= at;
      this.response = head(status, statusText, flat);
    });
  }

  /** A read of the response's body, as the client received it. */
  bodyChunk(chunk: unknown, encoding?: BufferEncoding): void {
    this.safe(() => {
      const at = now();
      const n = (this.body ??= new Kept()).add(this.r, chunk, encoding);
      if (n === 0) return;
      this.bodyBytes += n;
      const list = (this.chunks ??= []);
      const after = ms(at - (this.firstAt ?? at));
      if (list.length < RECORDED_CHUNKS_MAX) list.push([after, n]);
      else {
        // Past the cap, merged into the last: those bytes arrived by the time of this read.
        const last = list[list.length - 1];
        last[0] = after;
        last[1] += n;
      }
    });
  }

  /** Trailer pairs after the body (`flat`: as received). */
  trailerList(flat: readonly unknown[] | undefined): void {
    this.safe(() => {
      const pairs = headerPairs(flat);
      if (pairs.length > 0) this.trailers = pairs;
    });
  }

  /** A WebSocket handshake: its frames are kept from now on (the bytes that came with its `101` may be read before webSocketOpen). */
  expectWebSocket(): void {
    this.messages ??= [];
  }

  /** The WebSocket opened (its `101` at `at`): messages are timed from here, and the exchange is sent at its close or the process's exit. */
  webSocketOpen(id: string, at: number): { rec: ExchangeRecorder; id: string } {
    const entry = { rec: this as ExchangeRecorder, id };
    this.safe(() => {
      this.openAt = at;
      this.messages ??= [];
      this.r.open.add(entry);
    });
    return entry;
  }

  /** Payload bytes of a WebSocket frame, unmasked, in direction `dir` (`control`: of a close, ping or pong). */
  messageBytes(dir: 'in' | 'out', bytes: Uint8Array, control: boolean): void {
    if (this.messages === undefined) return;
    this.safe(() => (this.partial[control ? (`${dir}Control` as const) : dir] ??= new Kept()).add(this.r, bytes, undefined, this.wsKept));
  }

  /** A WebSocket message (or control frame) of type `type` ended in direction `dir`: its bytes are those since the last. */
  message(dir: 'in' | 'out', type: string): void {
    if (this.messages === undefined) return;
    this.safe(() => {
      const key = OPCODE[type] >= 8 ? (`${dir}Control` as const) : dir;
      const data = this.partial[key] ?? new Kept();
      this.partial[key] = undefined;
      this.messages?.push({ dir, at: now(), opcode: OPCODE[type] ?? 2, data });
    });
  }

  /** The exchange ended: sends it (once) as request `id`'s `exchange`. */
  end(id: string, end: RecordedEnd): void {
    if (this.sent) return;
    this.sent = true;
    this.safe(() => this.send(id, end));
  }

  /** Removes an open WebSocket's entry (its close sends it). */
  closed(entry: { rec: ExchangeRecorder; id: string }, end: RecordedEnd): void {
    this.r.open.delete(entry);
    this.end(entry.id, end);
  }

  private send(id: string, end: RecordedEnd): void {
    const parts: Buffer[] = [];
    let at = 0;
    const wire = (k: Kept): WireBytes => {
      const b: WireBytes = { at, kept: k.kept, size: k.size };
      if (k.over !== undefined) b.over = k.over;
      for (const p of k.parts) parts.push(p);
      at += k.kept;
      return b;
    };
    const ex: WireExchange = { end };
    if (this.req) ex.reqBody = wire(this.req);
    if (this.interim) ex.interim = this.interim;
    if (this.response) ex.response = this.response;
    if (this.body) ex.body = wire(this.body);
    if (this.trailers) ex.trailers = this.trailers;
    if (this.messages) {
      const open = this.openAt;
      ex.messages = this.messages.map((m) => ({ dir: m.dir, atMs: ms(Math.max(0, m.at - open)), opcode: m.opcode, data: wire(m.data) }));
    }
    if (this.firstAt !== undefined) {
      ex.timing = { firstByteMs: ms(Math.max(0, this.firstAt - this.startAt)) };
      if (this.chunks) ex.timing.chunks = this.chunks;
    }
    // One blob frame: the bytes go as they are (transport.ts), not as base64 inside the JSON line.
    if (at > 0) ex.data = new WireBlob(parts.length === 1 ? parts[0] : Buffer.concat(parts, at)) as unknown as string;
    this.req = this.body = this.messages = undefined;
    this.r.t.transport.send({ type: 'record', kind: 'httpRequests', id, fields: { exchange: ex } });
  }
}

/** A head as recorded. */
function head(status: unknown, statusText: unknown, flat: readonly unknown[] | undefined): RecordedHead {
  const h: RecordedHead = { status: Number(status), headers: headerPairs(flat) };
  if (typeof statusText === 'string' && statusText !== '') h.statusText = statusText;
  return h;
}
