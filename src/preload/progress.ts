/**
 * Progress of responses whose body is still arriving (undici and http2 hooks): bytes so far,
 * sent on one shared timer so that a long response shows as streaming, not pending.
 */

import type { Hook, Tracer } from './tracer';

/** A response being received: its request's id, body bytes so far, whether it ended. */
export interface Progressing {
  id: string;
  bodyBytes: number;
  done: boolean;
  /** Waiting in the progress set for its next update. */
  progressDue?: boolean;
}

/** How often a response still arriving reports its bytes so far (ms). */
const PROGRESS_MS = 200;
/** Responses that received body bytes since the last progress update. */
const streaming = new Set<Progressing>();
let progressTimer: NodeJS.Timeout | undefined;

/**
 * Notes that a response body is arriving. A response still arriving PROGRESS_MS later (a
 * server-sent event stream, a long download) gets an update with its bytes so far, and again
 * every PROGRESS_MS while more come: the trace shows it streaming, not pending. One timer serves
 * every response; a response that ends before it fires costs a Set insertion.
 */
export function noteProgress(t: Tracer, hook: Hook, s: Progressing): void {
  s.progressDue = true;
  streaming.add(s);
  if (progressTimer) return;
  progressTimer = setTimeout(() => {
    progressTimer = undefined;
    t.guard(hook, () => {
      for (const r of streaming) {
        r.progressDue = false;
        if (!r.done) t.record('httpRequests', r.id, { respContentLen: r.bodyBytes });
      }
      streaming.clear();
    });
  }, PROGRESS_MS);
  progressTimer.unref();
}
