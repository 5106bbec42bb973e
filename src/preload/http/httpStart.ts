/**
 * How a ClientRequest's trace begins: the state the http hooks keep for it (httpState.ts), made
 * by the `http.request`/`get` wrappers as Node builds the request, or — for a request made
 * without them — at `http.client.request.created` (Node 22+, still inside the program's call)
 * or `http.client.request.start` (httpHooks.ts).
 */

import type { Hook, Tracer } from '../tracer';
import { now } from '../clock/epoch';
import type { StartDecision } from '../../rules';
import { preloadRules } from '../rules/preloadRules';
import { httpView, ruleStart } from '../rules/ruleHooks';
import { currentIncoming } from '../causality';
import { SKIPPED, stateOf, type ReqState, type TracedRequest } from './httpState';
import { recording } from '../message/recorder';
import { recordHttp } from './httpRecord';

/** A request's state as it starts; its initiator is captured from the caller of `above`. */
export function newReqState(t: Tracer, above: Function, startAt = now()): ReqState {
  return {
    id: t.id('r'),
    startAt,
    causedBy: currentIncoming(),
    stack: t.captureInitiator(above, startAt),
    started: false,
    sent: false,
    gotResponse: false,
    done: false,
    bodyBytes: 0,
    bodyWritten: 0,
    chunks: 0,
    rules: undefined,
  };
}

/** A request's state, its stack captured above `above` (t.run's form of newReqState). */
export function newStateAbove(t: Tracer, _hook: Hook, above: Function): ReqState {
  return newReqState(t, above);
}

/**
 * The state of a request not made through http.request()/get(), decided by the rules here (SKIPPED
 * when they do not record it); its stack is captured from the caller of `above`.
 */
export function stateOutsideWrappers(t: Tracer, req: TracedRequest, above: Function): ReqState {
  let d: StartDecision | undefined;
  if (preloadRules.mode !== 'all') {
    const decided = preloadRules.mode === 'none' ? null : ruleStart(t, httpView(req));
    if (decided === null) {
      stateOf.set(req, SKIPPED);
      return SKIPPED;
    }
    d = decided;
  }
  const state = newReqState(t, above);
  state.rules = d;
  stateOf.set(req, state);
  if (recording !== undefined) recordHttp(req, state);
  return state;
}

/** `http.client.request.created` of a request made without the wrappers: its start, stack and decision (Node 22+). */
export function onCreated(t: Tracer, _hook: Hook, req: TracedRequest): void {
  stateOutsideWrappers(t, req, onCreated);
}
