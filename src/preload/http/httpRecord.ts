/**
 * Recording for replay of an http/https request (the `record` option; src/preload/message/recorder.ts):
 * its recorder, the body the program writes into it (this request's own `write`/`end`, wrapped on
 * the instance as the `bodies` option's copy is), and how it ended, trailers included. The response's
 * heads and body chunks are fed by httpHooks.ts and httpBeforeEnd.ts where they already look.
 */

import type { RequestError } from '../../trace/contract/types';
import { newRecorder, recordedEnd } from '../message/recorder';
import { overrideMethod } from '../tracer';
import type { ReqState, TracedRequest } from './httpState';

/** Gives a request its recorder (recording is on) and copies the body the program writes from now on. */
export function recordHttp(req: TracedRequest, s: ReqState): void {
  const rec = newRecorder(s.startAt);
  if (rec === undefined) return;
  s.rec = rec;
  const r = req as unknown as { write: (...a: unknown[]) => unknown; end: (...a: unknown[]) => unknown };
  const write = r.write;
  overrideMethod(r, 'write', function (this: unknown, ...args: unknown[]) {
    if (args[0] !== undefined && args[0] !== null && typeof args[0] !== 'function') rec.requestBody(args[0], encodingOf(args[1]));
    return write.apply(this, args);
  });
  const end = r.end;
  overrideMethod(r, 'end', function (this: unknown, ...args: unknown[]) {
    if (args[0] !== undefined && args[0] !== null && typeof args[0] !== 'function') rec.requestBody(args[0], encodingOf(args[1]));
    return end.apply(this, args);
  });
}

function encodingOf(v: unknown): BufferEncoding | undefined {
  return typeof v === 'string' ? (v as BufferEncoding) : undefined;
}

/**
 * A recorded request ended: with `err` (as the trace records it), or its response complete, or
 * (`closedEarly`) closed by the program before its end. Its trailers are the response's
 * `rawTrailers` (Node's parser sets them before it ends the body).
 */
export function recordHttpEnd(s: ReqState, req: TracedRequest, err: RequestError | undefined, closedEarly: boolean): void {
  const rec = s.rec;
  if (rec === undefined) return;
  const trailers = (req.res as { rawTrailers?: string[] } | null | undefined)?.rawTrailers;
  if (trailers !== undefined && trailers.length > 0) rec.trailerList(trailers);
  const end =
    closedEarly && err === undefined ? ({ kind: 'aborted' } as const) : recordedEnd(err, s.gotResponse ? rec.bodyBytes : undefined);
  rec.end(s.id, end);
}
