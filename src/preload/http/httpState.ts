/**
 * The state the http hooks keep per ClientRequest (httpHooks.ts), and where they keep it: a
 * private field of the request object (see RequestState).
 */

import type { ClientRequest, IncomingMessage } from 'node:http';
import type { StartDecision } from '../../rules';
import type { InterimResponse, PoolWait } from '../../trace/contract/types';
import type { BodyCapture } from '../message/bodies';
import type { StackHolder } from '../initiator/stackCapture';
import type { SseCounter } from '../message/progress';
import type { ExchangeRecorder } from '../message/recorder';

/** A ClientRequest with the internals the hooks read. */
export type TracedRequest = ClientRequest & {
  _header?: string | null;
  reusedSocket?: boolean;
  agent?: { protocol?: string };
  res?: IncomingMessage | null;
};

/** What the hooks know of one traced ClientRequest. */
export interface ReqState {
  id: string;
  startAt: number;
  /** The incoming request being handled when the program made it (causality.ts). */
  causedBy: string | undefined;
  stack?: StackHolder;
  started: boolean;
  sent: boolean;
  gotResponse: boolean;
  done: boolean;
  sentAt?: number;
  /** When Node handed the whole request to the socket (`request.start` fires from `_finish`). */
  flushedAt?: number;
  /** The program called `req.destroy()`. */
  destroyedByProgram?: boolean;
  /** The program destroyed the request or response from a timer's callback: its own timeout. */
  timedOut?: boolean;
  /** The error the program destroyed the request with, once its response had arrived. */
  destroyError?: unknown;
  /** Body chunks pushed so far (a response of more than one is reported while it streams). */
  chunks: number;
  respRecvAt?: number;
  /** Waiting in the shared progress set (progress.ts) for its next update. */
  progressDue?: boolean;
  /** Server-sent events counted so far (text/event-stream responses only). */
  sse?: SseCounter;
  req?: TracedRequest;
  bodyBytes: number;
  reqBody?: BodyCapture;
  /** Body bytes the program wrote before the request started (httpBeforeEnd.ts): what a response before its end saw sent. */
  bodyWritten: number;
  /** The response came before the program ended the request (its record started with it). */
  early?: boolean;
  /** The state began at that response (a request made without the wrappers, Node 20): the bytes written before it are not known. */
  writesUnseen?: boolean;
  /** Interim (1xx) responses so far. */
  interim?: InterimResponse[];
  /** When the last `100 Continue` was emitted (`continue`), until its `information` records it. */
  continueAt?: number;
  respBody?: BodyCapture;
  respType?: string;
  respEncoding?: string;
  /** The trace rules' start decision (undefined while no rule is enabled: mode 'all'). */
  rules: StartDecision | undefined;
  /** The agent queued the request (every socket it allows busy): its limit and queue then. */
  pool?: PoolWait;
  /** When the queued request was given its socket (ClientRequest#onSocket). */
  connAt?: number;
  /** Its recorder for replay (the `record` option: httpRecord.ts). */
  rec?: ExchangeRecorder;
}

/**
 * The state of every request the trace rules said not to record: started and done from the
 * start, so no hook records anything for it (onStart, onResponse, finish and the lifecycle
 * wrappers all return on it).
 */
export const SKIPPED: ReqState = {
  id: '',
  startAt: 0,
  causedBy: undefined,
  started: true,
  sent: false,
  gotResponse: false,
  done: true,
  chunks: 0,
  bodyBytes: 0,
  bodyWritten: 0,
  rules: undefined,
};

/** A class whose constructor returns its argument: a subclass's field is then defined on that object. */
export class Stamp {
  constructor(obj: object) {
    return obj as Stamp;
  }
}

/**
 * Each ClientRequest's state, in a private field stamped onto the program's request object (the
 * "return override" of class fields): invisible to the program — no property key, so nothing in
 * `Object.keys`, `Reflect.ownKeys`, `util.inspect` (even with showHidden) or JSON — and defined by
 * an inline-cached store, where the non-enumerable symbol property it replaces took an
 * `Object.defineProperty` runtime call per request (about 1.5k instructions, callgrind; 4–5×
 * slower in a micro-benchmark). Works on Node 20–24 whatever the object (frozen, a proxy). One
 * class per kind of object: the loads below then see only requests (monomorphic).
 */
class RequestState extends Stamp {
  #netTrace: ReqState | undefined;

  static get(req: object): ReqState | undefined {
    return #netTrace in req ? (req as RequestState).#netTrace : undefined;
  }

  static set(req: object, s: ReqState): void {
    if (!(#netTrace in req)) new RequestState(req);
    (req as RequestState).#netTrace = s;
  }
}

/** Each ClientRequest's state (SKIPPED for a request the trace rules did not record). */
export const stateOf: { get(req: object): ReqState | undefined; set(req: object, s: ReqState): void } = {
  get: RequestState.get,
  set: RequestState.set,
};
