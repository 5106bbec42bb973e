/**
 * A replayed program's questions to its collector (docs/replay.md; src/protocol/replayWire.ts):
 * a request that ended is described in a `replayAsk` (its body base64, up to the recording's
 * per-body cap), written at once,
 * and the collector's `replayAnswer` (its body in `replayBody` parts after it) comes back on the
 * same socket as the rule sets, read by rules.ts and handed here. The collector holds the
 * recording and keeps each key's order across every process, so the preload never sees the table.
 *
 * Its timers are Node's own, bound before the program ran (a test's fake timers never hold an
 * answer back). While an ask waits, a ref'd timer keeps the process alive (a held connection keeps nothing
 * alive), and ends it after ASK_TIMEOUT_MS: a collector that never answers (gone, stopped) makes
 * the request fail as a refused connection, with a warning, rather than hang. Never throws.
 */

import type { ReplayAnswerMessage, ReplayAskMessage, ReplayBodyMessage } from '../../protocol/replayWire';
import { REPLAY_ASK_BODY_MAX } from '../../protocol/replayWire';
import type { HttpClientKind } from '../../trace/contract/types';
import type { Tracer } from '../tracer';
import { orig } from '../transport/collectorNet';
import { onReplayMessage } from '../rules/preloadRules';

/** How long an ask waits for its answer before the request fails as refused (ms). */
export const ASK_TIMEOUT_MS = 60_000;

/** A request to ask about. */
export interface ReplayQuestion {
  /** Its record's local id, when it is recorded. */
  id?: string;
  client: HttpClientKind;
  method: string;
  url: string;
  /** The matched headers it sent (PreloadReplayConfig.matchHeaders). */
  headers?: Array<[string, string]>;
  /** The body's bytes (up to REPLAY_ASK_BODY_MAX are sent) and its length in all. */
  body?: Buffer;
  bodySize?: number;
}

/** An answer, its body put together. */
export type ReplayAnswer = Omit<ReplayAnswerMessage, 'type' | 'parts'> & { body: Buffer };

interface Waiting {
  done: (a: ReplayAnswer) => void;
  timer: NodeJS.Timeout;
  answer?: ReplayAnswerMessage;
  parts: Buffer[];
  left: number;
}

const waiting = new Map<number, Waiting>();
let next = 1;
let tracer: Tracer | undefined;

/** Reads the collector's replay messages from now on (installReplay). */
export function listenForAnswers(t: Tracer): void {
  tracer = t;
  onReplayMessage(received);
}

/** The answer given when the collector cannot answer: the request fails as refused, and says why. */
function noAnswer(ask: number, why: string): ReplayAnswer {
  return {
    ask,
    act: 'refuse',
    mark: { outcome: 'unmatched', reason: 'not-replayable', differences: [], summary: why },
    body: Buffer.alloc(0),
  };
}

/**
 * Asks the collector about a request that ended; `done` gets the answer (once, later, never
 * synchronously). Never throws.
 */
export function askReplay(t: Tracer, q: ReplayQuestion, done: (a: ReplayAnswer) => void): void {
  const ask = next++;
  const timer = orig.setTimeout(() => {
    waiting.delete(ask);
    try {
      t.warn('nettrace: the replay got no answer from its collector in time: the request failed as a refused connection');
    } catch {
      // The transport never throws.
    }
    done(noAnswer(ask, 'the replay got no answer from its collector in time'));
  }, ASK_TIMEOUT_MS);
  waiting.set(ask, { done, timer, parts: [], left: 0 });
  try {
    const msg: ReplayAskMessage = { type: 'replayAsk', ask, client: q.client, method: q.method, url: q.url };
    if (q.id !== undefined) msg.id = q.id;
    if (q.headers && q.headers.length > 0) msg.headers = q.headers;
    const body = q.body;
    if (body && body.length > 0) {
      const held = body.length > REPLAY_ASK_BODY_MAX ? body.subarray(0, REPLAY_ASK_BODY_MAX) : body;
      msg.body = held.toString('base64');
      const size = Math.max(q.bodySize ?? body.length, body.length);
      if (size > held.length) msg.bodySize = size;
    }
    // Not with the next batch: the program waits for the answer. A message the transport could
    // not queue (its collector gone, its queue full) is counted as dropped: it will not be answered.
    const dropped = t.transport.dropped;
    t.transport.send(msg);
    t.transport.flushNow();
    if (t.transport.dropped > dropped) settle(ask, noAnswer(ask, 'the replay’s collector could not be reached'));
  } catch (err) {
    settle(ask, noAnswer(ask, `the replay could not ask its collector (${String((err as Error)?.message ?? err)})`));
  }
}

/** Gives an ask its answer, on a later turn (never inside the caller's own call). */
function settle(ask: number, a: ReplayAnswer): void {
  const w = waiting.get(ask);
  if (w === undefined) return;
  waiting.delete(ask);
  orig.clearTimeout(w.timer);
  orig.setImmediate(() => {
    try {
      w.done(a);
    } catch (err) {
      try {
        tracer?.warn(`nettrace: a replayed answer could not be given: ${String((err as Error)?.message ?? err)}`);
      } catch {
        // The transport never throws.
      }
    }
  });
}

/** A replay message from the collector (rules.ts hands it here). Never throws. */
function received(m: ReplayAnswerMessage | ReplayBodyMessage): void {
  try {
    const w = typeof m.ask === 'number' ? waiting.get(m.ask) : undefined;
    if (w === undefined) return;
    if (m.type === 'replayAnswer') {
      w.answer = m;
      w.left = typeof m.parts === 'number' && m.parts > 0 ? m.parts : 0;
    } else if (w.answer !== undefined && w.left > 0 && typeof m.data === 'string') {
      w.parts.push(Buffer.from(m.data, 'base64'));
      w.left--;
    }
    const a = w.answer;
    if (a === undefined || w.left > 0) return;
    const { type: _type, parts: _parts, ...rest } = a;
    settle(m.ask, { ...rest, body: w.parts.length === 1 ? w.parts[0] : Buffer.concat(w.parts) });
  } catch {
    // A malformed message: its ask times out.
  }
}
