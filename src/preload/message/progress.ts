/**
 * Progress of responses whose body is still arriving (http, undici and http2 hooks): bytes so far,
 * sent on one shared timer so that a long response shows as streaming, not pending.
 */

import type { Hook, Tracer } from '../tracer';
import { sameLower } from '../../trace/contract/redact';
import { onDetach } from '../detach';

/** A response being received: its request's id, body bytes so far, whether it ended. */
export interface Progressing {
  id: string;
  bodyBytes: number;
  done: boolean;
  /** Server-sent events so far, for a `text/event-stream` response. */
  sse?: SseCounter;
  /** Waiting in the progress set for its next update. */
  progressDue?: boolean;
}

/** How often a response still arriving reports its bytes so far (ms). */
const PROGRESS_MS = 200;
/** Responses that received body bytes since the last progress update. */
const streaming = new Set<Progressing>();
let progressTimer: NodeJS.Timeout | undefined;
onDetach(() => {
  if (progressTimer) clearTimeout(progressTimer);
  progressTimer = undefined;
  streaming.clear();
});

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
        if (!r.done)
          t.record(
            'httpRequests',
            r.id,
            r.sse ? { respContentLen: r.bodyBytes, respEvents: r.sse.events } : { respContentLen: r.bodyBytes },
          );
      }
      streaming.clear();
    });
  }, PROGRESS_MS);
  progressTimer.unref();
}

/**
 * Counts server-sent events as an EventSource dispatches them: a block ended by a blank line
 * that holds a `data` field (comment-only or id-only blocks dispatch nothing). CR, LF and CRLF
 * all end a line. Only the first five characters of each line are looked at.
 */
export class SseCounter {
  events = 0;
  private lineLen = 0;
  private prefix = '';
  private hasData = false;
  private cr = false;

  feed(chunk: unknown, encoding?: BufferEncoding): void {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding) : (chunk as Uint8Array);
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i];
      if (c === 10 && this.cr) {
        this.cr = false;
        continue;
      }
      this.cr = c === 13;
      if (c === 10 || c === 13) {
        if (this.lineLen === 0) {
          if (this.hasData) this.events++;
          this.hasData = false;
        } else if (this.prefix.startsWith('data') && (this.lineLen === 4 || this.prefix[4] === ':')) this.hasData = true;
        this.lineLen = 0;
        this.prefix = '';
        continue;
      }
      if (this.lineLen++ < 5) this.prefix += String.fromCharCode(c);
    }
  }
}

/**
 * True when a response's header list (undici's `[name, value, …]`, names and values as Buffers or
 * strings) says `content-type: text/event-stream`. Compares characters in place (no string is
 * made from a Buffer) and only for names of that length.
 */
export function isEventStreamList(headers: unknown): boolean {
  if (!Array.isArray(headers)) return false;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as string | Uint8Array | null;
    if (name == null || name.length !== 12 || !sameLower(name, 'content-type')) continue;
    const v = headers[i + 1] as string | Uint8Array | null;
    if (v == null) return false;
    let k = 0;
    while (k < v.length && (typeof v === 'string' ? v.charCodeAt(k) : v[k]) === 32) k++;
    return v.length - k >= 17 && sameLower(v, 'text/event-stream', k);
  }
  return false;
}
