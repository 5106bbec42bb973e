/**
 * The messages of a replay (docs/replay.md) between a traced program's preload and its collector.
 * The collector holds the recording once for the whole run, so every process and thread asks it:
 * a request that ended is described in a ReplayAskMessage (its body in it, base64),
 * and the collector, which keeps the order of each key across the run's processes, answers with a
 * ReplayAnswerMessage: the recorded exchange to serve (its body in ReplayBodyMessage lines after
 * it), or that the request is not in the recording (fail it as refused, or send it to the network).
 * What is written into the request's record (`replay`) travels with the answer, so the preload
 * writes it in order with the request's other fields.
 */

import type { HttpClientKind } from '../trace/contract/types';
import type { RecordedEnd, RecordedHead, RecordedMessage, RecordedTiming } from '../trace/contract/recording';
import type { ReplayMark } from '../trace/contract/replayMark';

/** The replay part of the preload's configuration (PreloadConfig.replay): what a preload needs, never the recording. */
export interface PreloadReplayConfig {
  /** Requests the recording has no answer for: `fail` (as a refused connection) or `pass` (to the network). */
  unmatched: 'fail' | 'pass';
  /** `recorded`: the head after its recorded delay and each body part at its recorded time; `now`: at once. */
  timing: 'now' | 'recorded';
  /** Request headers the matcher compares (`--replay-match-header`), lower case: the only ones an ask carries. */
  matchHeaders?: string[];
}

/** Request body bytes an ask carries: the recording's per-body cap; a longer body is matched by its start and length. */
export const REPLAY_ASK_BODY_MAX = 4 * 1024 * 1024;
/** Bytes of an answer's body per ReplayBodyMessage (base64: a line of at most ≈ 700 KB). */
export const REPLAY_BODY_PART = 512 * 1024;

/** Preload → collector: a request of the replayed program that ended, to be answered from the recording. */
export interface ReplayAskMessage {
  type: 'replayAsk';
  /** Names the answer (counted per preload connection). */
  ask: number;
  /** The request's local id (its `httpRequests` record), when it is recorded. */
  id?: string;
  client: HttpClientKind;
  method: string;
  /** The absolute URL as sent. */
  url: string;
  /** The values of PreloadReplayConfig.matchHeaders the request sent, as `[name, value]` pairs. */
  headers?: Array<[string, string]>;
  /** The body's bytes, base64, up to REPLAY_ASK_BODY_MAX (a line of at most ≈ 5.6 MB); absent: no body. */
  body?: string;
  /** The body's length in all, when more than the blob holds. */
  bodySize?: number;
}

/** What the preload does with a request (ReplayAnswerMessage.act). */
export type ReplayAct = 'answer' | 'refuse' | 'pass';

/** Collector → preload: how to answer a ReplayAskMessage. One JSON line; the body follows in `parts` ReplayBodyMessage lines. */
export interface ReplayAnswerMessage {
  type: 'replayAnswer';
  ask: number;
  /** `answer`: serve the recorded exchange below; `refuse`: not in the recording, fail as a refused connection; `pass`: send it to the network. */
  act: ReplayAct;
  /** What the request's record says of it (`httpRequests[].replay`). */
  mark: ReplayMark;
  /** Interim heads before the final one (`100 Continue`). */
  interim?: RecordedHead[];
  /** The response head, its dates moved by the time since the recording (unless `--replay-dates keep`). */
  response?: RecordedHead;
  /** The response body's bytes, in `parts` ReplayBodyMessage lines that follow (0 or absent: none). */
  parts?: number;
  /** The recorded body was cut by the recording's cap: after its bytes, the connection is reset. */
  bodyCut?: boolean;
  trailers?: Array<[string, string]>;
  /** A WebSocket's messages after its `101`, both ways, in the recorded order (the program's are waited for, the server's given). */
  messages?: RecordedMessage[];
  /** How the recorded exchange ended (for `answer`). */
  end?: RecordedEnd;
  /** The recorded arrival times (with `--replay-timing recorded`). */
  timing?: RecordedTiming;
  /** The HTTP version recorded (`HTTP/1.1`, `HTTP/2`), when known. */
  httpVersion?: string;
  /** The server address the recorded connection reached (a replayed refusal names it, as the original error did). */
  address?: string;
}

/** Collector → preload: a part of an answer's body, in order. */
export interface ReplayBodyMessage {
  type: 'replayBody';
  ask: number;
  /** The part's bytes, base64. */
  data: string;
}
