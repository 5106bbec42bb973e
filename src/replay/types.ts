/**
 * The replay table (docs/replay.md): the recorded calls of a run, in the order the program made
 * them, each with what a replay matches on (method, URL, request headers and body) and what it
 * answers with (heads, body bytes, trailers, timing, how the exchange ended). One shape whichever
 * file it came from: a trace recorded with `--record` (./fromTrace.ts) or a HAR with content
 * (./fromHar.ts). What a reader left out or changed is counted in `warnings`, never dropped silently.
 */

import type { HeaderPair } from '../trace/contract/types';
import type { RecordedEnd, RecordedHead, RecordedMessage, RecordedTiming, RecordingInfo } from '../trace/contract/recording';

/**
 * What the recording holds of a request body:
 *   - `none`: no body was sent;
 *   - `whole`: `reqBody` is the whole body;
 *   - `cut`: `reqBody` is its start, `reqBodySize` its length (the recording's cap cut it): it
 *     matches a body of that length that starts so;
 *   - `unknown`: a body was sent but the file does not hold it (a HAR's binary upload): it matches any body.
 */
export type RecordedBodyState = 'none' | 'whole' | 'cut' | 'unknown';

/** One recorded call: a request the program made and how it was answered. */
export interface ReplayCall {
  /** Its place in the table (from 0), the order the calls were started. */
  index: number;
  /** Where it came from: its index in the trace's `httpRequests[]` or the HAR's `log.entries[]`. */
  sourceIndex: number;
  /** The trace's `httpRequests[].traceID` (a HAR's `_traceID`, when it has one). */
  traceID?: string;
  /** The process that made it (a trace's `pid`). */
  pid?: number;
  /** The method as sent (`GET`). */
  method: string;
  /** The absolute URL, secret query values reading `<redacted>` in a trace (src/trace/contract/redactUrl.ts). */
  url: string;
  /** Epoch ms when the program started it, when known. */
  startAt?: number;
  /** `HTTP/1.1`, `HTTP/2`, … when known. */
  httpVersion?: string;
  /**
   * The server address the recorded connection reached or tried last (a trace's connection or
   * connect attempt, a HAR's `serverIPAddress`), when known: a replayed refusal names it as the
   * original did (`connect ECONNREFUSED 10.0.0.7:443`).
   */
  address?: string;
  /** The request's headers as recorded (credential values `<redacted>`, no value when only names were kept). */
  reqHeaders: HeaderPair[];
  reqBodyState: RecordedBodyState;
  /** The request body's bytes (whole or its start: see reqBodyState). */
  reqBody?: Uint8Array;
  /** The request body's length in bytes (0 for none; for `unknown`, the file's figure or -1). */
  reqBodySize: number;
  /** Interim heads before the final one (`100 Continue`, `103 Early Hints`). */
  interim?: RecordedHead[];
  /** The final response head (absent: the exchange ended before one came, see `end`). */
  response?: RecordedHead;
  /** The response body a client received: off the wire from a trace, as the HAR holds it (see `decodedFrom`). */
  body?: Uint8Array;
  /** The response body's length in all; more than `body` holds when `bodyCut`. */
  bodySize?: number;
  /** The recording's cap (or the HAR's writer) cut the body: `body` is its start. */
  bodyCut?: boolean;
  trailers?: Array<[string, string]>;
  /** WebSocket messages after a `101`, in order. */
  messages?: RecordedMessage[];
  timing?: RecordedTiming;
  end: RecordedEnd;
  /**
   * A HAR gave the body decoded while its head named this `Content-Encoding`: the header was taken
   * out (and `Content-Length` set to the decoded length) so a client gets what the browser got.
   */
  decodedFrom?: string;
  /** The recorded run's answer was made by a what-if rule (the trace's `whatIf.rule`), replayed as recorded. */
  whatIfRule?: string;
}

/** Something a reader left out, changed or could not give whole, counted. */
export interface ReplayWarning {
  /** A stable name (`no-exchange`, `body-cut`, `unknown-failure`, …: docs/replay.md). */
  code: string;
  /** How many calls or records it concerns. */
  count: number;
  /** What happened, in a sentence a user reads. */
  message: string;
  /** The first call or record it concerns (`GET http://…`, `net::ERR_BLOCKED_BY_CLIENT`). */
  example?: string;
}

/** The replay table. */
export interface ReplayTable {
  /** What it was read from. */
  source: 'trace' | 'har';
  /** The recorded calls in the order they were started. */
  calls: ReplayCall[];
  /** Epoch ms when the recording began (dates in answers are shifted by the time since: ./dates.ts). */
  recordedAt?: number;
  /** A trace's `recording` as it was written. */
  recording?: RecordingInfo;
  /** What was left out or changed, one entry per kind. */
  warnings: ReplayWarning[];
}

/** A file that cannot be replayed, with a sentence that says why (never a TypeError). */
export class ReplayInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplayInputError';
  }
}

/** Counts warnings by code while a table is read; `list()` gives them in the order first met. */
export class WarningCounter {
  private readonly byCode = new Map<string, ReplayWarning>();

  add(code: string, message: string, example?: string): void {
    const w = this.byCode.get(code);
    if (w) w.count++;
    else this.byCode.set(code, { code, count: 1, message, ...(example !== undefined ? { example: cut(example, 200) } : {}) });
  }

  list(): ReplayWarning[] {
    return [...this.byCode.values()];
  }
}

/** `text` cut to `max` characters, ending in "…" when it was longer. */
export function cut(text: string, max: number): string {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}
