/**
 * What an http/https request does before the program has ended it, for the requests a server
 * answers first (an `Expect: 100-continue` request refused, an upload rejected after its first
 * chunk): the body bytes the program wrote by then, and the interim (1xx) responses it got. Also
 * the copy of the request body for the `bodies` option.
 *
 * Node publishes `http.client.request.start` from `ClientRequest#_finish`, once the program has
 * ended the request; a response can come before (its head already sent), and then the request's
 * record starts with it (httpHooks.ts). What it sent by then is counted here: `write` and `end`
 * of ClientRequest.prototype (inherited from OutgoingMessage; given as non-enumerable own
 * wrappers), counting only until the request starts (or, answered before its end, until it ends) —
 * a request ended at once pays a property read. Interim responses are Node's `information` events, seen on every request
 * through its prototype's tapped `emit` (emitTaps.ts): no listener.
 */

import type { HeaderPair, InterimResponse } from '../../trace/contract/types';
import { BodyCapture, bodyCap, byteLength } from '../message/bodies';
import type { EveryTap } from '../emitTaps';
import { overrideMethod, replaceFunction, type Hook, type Tracer } from '../tracer';
import { now } from '../clock/epoch';
import { SKIPPED, stateOf, type ReqState, type TracedRequest } from './httpState';

/** Interim responses kept per request (a server may send any number): the first ones. */
export const MAX_INTERIM = 8;

/** An OutgoingMessage as these wrappers read it. */
type Outgoing = TracedRequest & { writableEnded?: boolean; _hasBody?: boolean };

/**
 * Counts the body bytes the program writes into a request not started yet, or answered before its
 * end (ReqState.bodyWritten): what Node accepts (not after the end, on a destroyed request, or an argument it throws on).
 * `end(chunk)` is counted only when the head was built before it: a request ended with its body
 * in one call gets no response before it (Node sends both together), and Node writes that body's
 * length into the head itself.
 */
export function countBodyWrites(hook: Hook, proto: object): void {
  const p = proto as { write?: Function; end?: Function };
  for (const name of ['write', 'end'] as const) {
    const original = p[name];
    if (typeof original !== 'function') continue;
    const isEnd = name === 'end';
    const wrapped = function (this: Outgoing, chunk?: unknown, encoding?: unknown): unknown {
      const s = stateOf.get(this);
      if (
        s === undefined ||
        (s.started && s.early !== true) ||
        !hook.enabled ||
        chunk === undefined ||
        chunk === null ||
        typeof chunk === 'function' ||
        (isEnd && typeof this._header !== 'string')
      )
        // eslint-disable-next-line prefer-rest-params
        return original.apply(this, arguments) as unknown;
      const open = this.writableEnded !== true && this.destroyed !== true;
      // eslint-disable-next-line prefer-rest-params
      const out = original.apply(this, arguments) as unknown;
      if (open && this._hasBody !== false) s.bodyWritten += byteLength(chunk, encoding);
      return out;
    };
    replaceFunction(proto, name, wrapped, original);
  }
}

/** The events interimTap is for. */
export const INTERIM_EVENTS: readonly string[] = ['information', 'continue'];

/**
 * The interim responses of every request, noted on its state: Node emits `continue` for a `100`
 * (timed there: the program may send its body from that event's listener), then `information`
 * for every 1xx but `101` (its status, reason and headers).
 */
export function interimTap(t: Tracer, hook: Hook): EveryTap {
  return (req, event, info) => {
    if ((event !== 'information' && event !== 'continue') || !hook.enabled) return;
    const s = stateOf.get(req);
    if (s === undefined || s === SKIPPED || s.gotResponse || s.done) return;
    t.run(hook, noteInterim, s, event === 'continue' ? undefined : (info as Information));
  };
}

/** What Node's `information` event carries (the parts read). */
interface Information {
  statusCode?: number;
  statusMessage?: string;
  rawHeaders?: string[];
}

/** A `100`'s `continue` (info undefined: noted then, completed by its `information`), or an `information`. */
function noteInterim(t: Tracer, _hook: Hook, s: ReqState, info: Information | undefined): void {
  if (info === undefined) {
    s.continueAt = now();
    return;
  }
  s.rec?.interimHead(info.statusCode, info.statusMessage, info.rawHeaders);
  const list = (s.interim ??= []);
  if (list.length >= MAX_INTERIM) return;
  const at = info.statusCode === 100 && s.continueAt !== undefined ? s.continueAt : now();
  s.continueAt = undefined;
  const entry: InterimResponse = { statusCode: Number(info.statusCode), recvAt: at };
  if (typeof info.statusMessage === 'string' && info.statusMessage !== '') entry.statusText = info.statusMessage;
  const headers: HeaderPair[] | undefined = Array.isArray(info.rawHeaders) ? t.headers.pairsOf(info.rawHeaders) : undefined;
  if (headers !== undefined && headers.length > 0) entry.headers = headers;
  list.push(entry);
  // Before the request's start (the program waits for `100 Continue` to send its body) they go with it.
  if (s.started) t.record('httpRequests', s.id, { respInterim: list.slice() });
}

/**
 * Copies what the program writes into the request body. Wraps `write`/`end` on this request
 * only; OutgoingMessage#end writes through an internal function, so nothing is counted twice.
 */
export function captureRequestBody(t: Tracer, hook: Hook, req: TracedRequest, s: ReqState): void {
  const cap = (s.reqBody = new BodyCapture(bodyCap(t)));
  const r = req as unknown as { write: (...a: unknown[]) => unknown; end: (...a: unknown[]) => unknown };
  const write = r.write;
  overrideMethod(r, 'write', function (this: unknown, ...args: unknown[]) {
    if (hook.enabled) cap.add(args[0], typeof args[1] === 'string' ? (args[1] as BufferEncoding) : undefined);
    return write.apply(this, args);
  });
  const end = r.end;
  overrideMethod(r, 'end', function (this: unknown, ...args: unknown[]) {
    if (hook.enabled && typeof args[0] !== 'function')
      cap.add(args[0], typeof args[1] === 'string' ? (args[1] as BufferEncoding) : undefined);
    return end.apply(this, args);
  });
}
