/**
 * A run recorded for replay (`nettrace run --record`; docs/replay.md): beside the trace's records,
 * what a replay needs of each exchange that the trace does not keep — the request's body to match
 * on, and the response as the client received it off the wire (status, unredacted header pairs,
 * body bytes still content-encoded, trailers), when its bytes arrived, and how the exchange ended.
 * Read back from a trace file or made from a HAR (src/replay/), and served to a replayed program
 * through the what-if actions, so it cannot tell a replayed answer or failure from the original.
 * Request credentials (`Authorization`, cookies) are never stored: a replay does not match on them.
 */

/** Bytes as recorded: whole up to the recording's per-body cap. */
export interface RecordedBytes {
  /** The bytes, base64. */
  base64: string;
  /** How many bytes there were in all (more than `base64` holds when `truncated`). */
  size: number;
  /** The per-body or per-run cap cut them: a replay cannot give them whole (see RecordedExchange.over). */
  truncated?: boolean;
}

/** A response head: an interim one (`100 Continue`, `103 Early Hints`) or the final one. */
export interface RecordedHead {
  status: number;
  /** HTTP/1.x reason phrase as received (absent for HTTP/2). */
  statusText?: string;
  /** Header pairs in the order received, values unredacted (`Set-Cookie` included: docs/security.md). */
  headers: Array<[string, string]>;
}

/**
 * How an exchange ended for the program, in the terms a replay reproduces (each through the what-if
 * action of the same effect: src/rules/whatIfActions.ts):
 *   - `completed`: the response ended normally;
 *   - `refused`: the connection was not made (`code`: ECONNREFUSED, EHOSTUNREACH, ETIMEDOUT of a connect);
 *   - `dns`: the name did not resolve (`code`: ENOTFOUND, EAI_AGAIN);
 *   - `tls`: the TLS handshake failed (`code`: CERT_HAS_EXPIRED, DEPTH_ZERO_SELF_SIGNED_CERT, …);
 *   - `reset`: the connection was reset (or an HTTP/2 stream reset, `http2Code`), before the
 *     response head (`afterBodyBytes` absent) or after that many bytes of its body;
 *   - `closed`: the server closed the connection (an orderly close, no reset) before the response
 *     was whole: before its head (Node's "socket hang up") or after that many bytes of its body
 *     ("aborted", undici's "other side closed"); a program tells it from a reset by its error;
 *   - `timeout`: no answer came before the client's own timeout fired (a replay answers nothing,
 *     and the client's timeout fires again);
 *   - `aborted`: the program aborted the request before it ended (a replay holds it likewise).
 */
export type RecordedEnd =
  | { kind: 'completed' }
  | { kind: 'refused'; code: string }
  | { kind: 'dns'; code: string }
  | { kind: 'tls'; code: string }
  | { kind: 'reset'; afterBodyBytes?: number; http2Code?: number }
  | { kind: 'closed'; afterBodyBytes?: number }
  | { kind: 'timeout' }
  | { kind: 'aborted' };

/** Every RecordedEnd kind: what a reader of a recording or a replay mark accepts. */
export const RECORDED_END_KINDS: ReadonlySet<string> = new Set<RecordedEnd['kind']>([
  'completed',
  'refused',
  'dns',
  'tls',
  'reset',
  'closed',
  'timeout',
  'aborted',
]);

/** When the response's bytes arrived, for `--replay-timing recorded`. */
export interface RecordedTiming {
  /** Milliseconds from the request's start (`reqStartAt`) to the first byte of the response head. */
  firstByteMs: number;
  /** The body's arrival: [ms after the first byte, bytes] per read, in order (at most RECORDED_CHUNKS_MAX, the rest merged into the last). */
  chunks?: Array<[number, number]>;
}

/** A WebSocket message of a recorded upgrade, in the order sent and received. */
export interface RecordedMessage {
  /** `in`: the server sent it; `out`: the program did (matched, not replayed). */
  dir: 'in' | 'out';
  /** Milliseconds after the upgrade's `101`. */
  atMs: number;
  /** 1 text, 2 binary, 8 close, 9 ping, 10 pong. */
  opcode: number;
  data: RecordedBytes;
}

/** What a replay needs of one exchange (the trace's `exchanges[]`, one per recorded request). */
export interface RecordedExchange {
  /** The request (`httpRequests[].traceID`) whose method, URL and process this is of. */
  traceID: string;
  /** The request's body as the program sent it (matched on; absent: none was sent). */
  reqBody?: RecordedBytes;
  /** Interim heads before the final one (`100 Continue`). */
  interim?: RecordedHead[];
  /** The final response head (absent: the exchange ended before one came: see `end`). */
  response?: RecordedHead;
  /** The response body as received off the wire (still content-encoded), when there was one. */
  body?: RecordedBytes;
  /** Trailer pairs after the body (chunked HTTP/1.1, HTTP/2), unredacted. */
  trailers?: Array<[string, string]>;
  /** WebSocket messages after a `101`. */
  messages?: RecordedMessage[];
  timing?: RecordedTiming;
  end: RecordedEnd;
  /** A cap cut this exchange (`body`: its body over the per-body cap; `run`: the run's cap was reached). */
  over?: 'body' | 'run';
}

/** The recording's own facts (the trace's `recording`). */
export interface RecordingInfo {
  /** Epoch ms when the recording began (a replay shifts dates in answers by the time since). */
  recordedAt: number;
  /** The caps in force (bytes): per body, and for all the run's bodies together. */
  maxBodyBytes: number;
  maxRunBytes: number;
  /** Exchanges whose body a cap cut, and the bytes left out: said, never silently dropped. */
  cutExchanges: number;
  cutBytes: number;
}

/** Per body, by default: 4 MiB. */
export const RECORD_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** For the run, by default: 256 MiB of bodies. */
export const RECORD_MAX_RUN_BYTES = 256 * 1024 * 1024;
/** Body arrival entries kept per exchange (RecordedTiming.chunks). */
export const RECORDED_CHUNKS_MAX = 256;

/**
 * Whether a request's error (a RequestError, or a HAR's `_error`) is the one a client makes of a
 * connection the server closed in order before the response was whole (RecordedEnd `closed`), not
 * of a reset: Node's http client says `ECONNRESET` "aborted" (mid-body) or "socket hang up" (before
 * the head) with no `syscall`; undici says "other side closed" (`UND_ERR_SOCKET`, fetch's cause). A
 * reset the kernel reported carries its `syscall` ("read ECONNRESET").
 */
export function closedInOrder(err: {
  code?: unknown;
  message?: unknown;
  syscall?: unknown;
  cause?: { code?: unknown; message?: unknown };
}): boolean {
  const e = err.cause?.code === 'UND_ERR_SOCKET' ? err.cause : err;
  if (e.code === 'UND_ERR_SOCKET') return e.message === 'other side closed';
  return e.code === 'ECONNRESET' && err.syscall === undefined && (e.message === 'aborted' || e.message === 'socket hang up');
}
