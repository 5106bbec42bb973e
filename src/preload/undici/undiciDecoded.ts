/**
 * The decoded length of a content-encoded response that undici's `fetch` decodes for the program
 * (gzip, deflate, br, zstd): `respDecodedLen`, the HAR's `content.size`. The trace counts the
 * body as it came over HTTP (`respContentLen`); the program reads what fetch's decoders made of it.
 *
 * Workaround: undici publishes no channel for the decoded body, and the program's Response stream
 * is its own object. fetch's dispatch handler (the undici Request's `handler` symbol property, a
 * plain object in Node 20–26's bundled undici) pushes the received bytes into a Readable of its
 * own (`handler.body`) that it pipes through its decoders; the last decoder's `push` (an internal
 * zlib stream the program never sees) is wrapped on the instance to count what it makes. Found at
 * the response's first body chunk, when the pipeline is in place; a handler of another shape
 * (userland undici's interceptors) leaves the length out, as before.
 */

import type { Hook, Tracer } from '../tracer';
import { overrideMethod } from '../tracer';
import type { UState } from './undiciState';

/** The `handler` symbol of the last undici Request class seen (bundled and userland have their own). */
let lastProto: object | undefined;
let handlerKey: symbol | undefined;

/** undici's Request's own `handler` symbol property (kHandler). */
function handlerOf(req: object): unknown {
  const proto = Object.getPrototypeOf(req) as object;
  if (proto !== lastProto) {
    lastProto = proto;
    handlerKey = Object.getOwnPropertySymbols(req).find((k) => k.description === 'handler');
  }
  return handlerKey === undefined ? undefined : (req as Record<symbol, unknown>)[handlerKey];
}

/** The streams a Readable is piped into (Node's `_readableState.pipes`). */
function pipesOf(stream: unknown): unknown[] | undefined {
  const pipes = (stream as { _readableState?: { pipes?: unknown } } | null | undefined)?._readableState?.pipes;
  return Array.isArray(pipes) ? pipes : undefined;
}

/** At a response's first body chunk: counts what fetch's decoders make of it, if it decodes it. */
export function watchDecoded(t: Tracer, hook: Hook, s: UState, req: object): void {
  const body = (handlerOf(req) as { body?: unknown } | null | undefined)?.body;
  let pipes = pipesOf(body);
  if (pipes === undefined || pipes.length !== 1) return;
  // Several codings ("br, gzip") are a chain of decoders: the program reads the last one's output.
  let last: unknown = pipes[0];
  for (let i = 0; i < 5 && (pipes = pipesOf(last)) !== undefined && pipes.length === 1; i++) last = pipes[0];
  const decoder = last as { push?: (chunk: unknown, encoding?: unknown) => boolean } | null;
  const push = decoder?.push;
  if (decoder === null || typeof push !== 'function') return;
  let decoded = 0;
  overrideMethod(decoder, 'push', function (this: unknown, chunk: unknown, encoding?: unknown): boolean {
    if (chunk === null) {
      if (hook.enabled) t.guard(hook, () => t.record('httpRequests', s.id, { respDecodedLen: decoded }));
    } else if (chunk !== undefined) {
      decoded += (chunk as { length?: number }).length ?? 0;
    }
    return push.call(this, chunk, encoding);
  });
}
