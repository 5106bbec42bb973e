/**
 * What a replay did (docs/replay.md, docs/trace-format.md "Replay"): on each request of a replayed
 * program, `httpRequests[].replay` says whether the recording answered it (and which recorded call,
 * the how-manyth of its key) or not (and what differed from the nearest recorded call, and whether
 * it then failed as a refused connection or went to the network); on the trace, `replay` says what
 * was replayed from which recording with which options, and how many requests each way. A replayed
 * request is always marked so: the trace never passes a recorded answer off as the network's.
 * Part of the trace contract: imports nothing but types.
 */

import type { RecordedEnd } from './recording';

/** A request the recording answered (`outcome: 'replayed'`). */
export interface ReplayAnswered {
  outcome: 'replayed';
  /** The recorded call that answered: its `traceID` in the recorded trace (`req-12`), or a HAR entry's place (`entry 4`, from 1). */
  call: string;
  /** This was the `nth` request (from 1) with its key (method, URL, body and the headers matched on) … */
  nth: number;
  /** … of `of` the recording has with that key. */
  of: number;
  /** The last recorded answer given again, the recording having no more for the key. */
  repeated?: true;
  /** How the recorded exchange ended, and so how it was replayed (RecordedEnd's kind: `completed`, `reset`, `refused`, …). */
  end: RecordedEnd['kind'];
  /** The recorded response body was cut by the recording's cap: the program got its start, then a reset. */
  cut?: true;
  /** Delivered with the recorded delays (`--replay-timing recorded`); absent: at once. */
  timing?: 'recorded';
}

/** A request the recording had no answer for (`outcome`: `unmatched`, failed as a refused connection; `passed`, sent to the network). */
export interface ReplayUnmatched {
  outcome: 'unmatched' | 'passed';
  /**
   * `spent`: the recording's answers for it were all given (made more often than recorded);
   * `differs`: the nearest recorded call differs in `differences`; `nothing-near`: nothing was
   * recorded on its path or host; `bad-url`: its URL is not absolute; `not-replayable`: the
   * recorded answer is of a kind a replay does not give yet (a WebSocket's `101` to fetch/undici);
   * `unheld`: its connection was made outside the replay (an agent that connects by itself, npm's),
   * so it went to the network whatever `--replay-unmatched` says, and was never matched.
   */
  reason: 'spent' | 'differs' | 'nothing-near' | 'bad-url' | 'not-replayable' | 'unheld';
  /** The nearest recorded call, and how it was found. */
  nearest?: { call: string; method: string; url: string; nearness?: 'same method and path' | 'same path' | 'same host' };
  /** What differed, in words (`body field \`qty\`: 5, recorded 4`), at most 8; `more` counts the rest. */
  differences: string[];
  more?: number;
  /** The divergence in one sentence. */
  summary: string;
}

/** `httpRequests[].replay`: what a replay did with the request. */
export type ReplayMark = ReplayAnswered | ReplayUnmatched;

/** What a replayed program's requests came to, added up over its processes (`replay.counts`). */
export interface ReplayCounts {
  /** Answered from the recording. */
  replayed: number;
  /** Not in the recording, failed as a refused connection. */
  unmatched: number;
  /** Sent to the network: not in the recording (`--replay-unmatched pass`), or its connection made outside the replay (`unheld`). */
  passed: number;
}

/** A trace made under a replay (the trace's `replay`). */
export interface ReplayRun {
  /** The recording's file name (without its folder). */
  file: string;
  /** A trace recorded with `--record`, or a HAR. */
  source: 'trace' | 'har';
  /** When the recording began (ISO 8601), when it says. */
  recordedAt?: string;
  /** Recorded calls the replay could answer with. */
  calls: number;
  /** Recorded calls no request was answered with (the program made fewer, or other, requests). */
  unused: number;
  /** Every request the program asked the replay about, those the trace rules did not record included. */
  counts: ReplayCounts;
  /** The options in force (docs/replay.md). */
  options: {
    unmatched: 'fail' | 'pass';
    timing: 'now' | 'recorded';
    dates: 'shift' | 'keep';
    ignoreQuery?: string[];
    ignoreFields?: string[];
    matchHeaders?: string[];
    ignoreHost?: true;
  };
  /** What reading the recording left out or changed, one entry per kind (docs/replay.md, "What a replay says it left out"). */
  warnings?: Array<{ code: string; count: number; message: string; example?: string }>;
}

/** The short tag on a replayed request's row: `replay`. */
export const REPLAY_TAG = 'replay';
