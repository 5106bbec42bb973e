/**
 * Recording for replay of an undici or fetch request (the `record` option; src/preload/message/recorder.ts):
 * its recorder, and the body undici is handed to send — a string or bytes as they are, fetch's
 * body (an async iterable) passed through a copy as the `bodies` option's is. The response's head,
 * body reads (undici's Request handler gets them before fetch decodes them), trailers and end are
 * fed by undiciHooks.ts, a WebSocket's frames by undiciWire.ts.
 */

import { newRecorder } from '../message/recorder';
import type { Hook } from '../tracer';
import { isPlainAsyncIterable } from './undiciHeaders';
import type { UState } from './undiciState';

/** Gives a new request its recorder (recording is on), and copies the body it will send. */
export function recordUndici(hook: Hook, req: { body?: unknown }, s: UState): void {
  const rec = newRecorder(s.startAt);
  if (rec === undefined) return;
  s.rec = rec;
  const body = req.body;
  if (typeof body === 'string' || body instanceof Uint8Array) rec.requestBody(body);
  else if (body != null && isPlainAsyncIterable(body)) {
    req.body = (async function* () {
      for await (const chunk of body) {
        if (hook.enabled) rec.requestBody(chunk);
        yield chunk;
      }
    })();
  }
}
