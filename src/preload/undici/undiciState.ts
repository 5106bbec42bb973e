/** The state the undici hooks keep per request (undiciHooks.ts, undiciWire.ts). */

import type { StartDecision } from '../../rules';
import type { SseCounter } from '../message/progress';
import type { BodyCapture } from '../message/bodies';
import type { ExchangeRecorder } from '../message/recorder';
import type { StackHolder } from '../initiator/stackCapture';
import type { ConnState, Keyed } from '../tracer';
import { Slot } from '../tracer';

/** undici's internal Request object, as far as the hooks read it. */
export interface UndiciRequest {
  origin?: string | URL;
  method?: string;
  path?: string;
  headers?: unknown;
  onData?: (chunk: Uint8Array) => unknown;
}

/** One undici request's state, from `undici:request:create` to its end. */
export interface UState {
  id: string;
  /** The incoming request being handled when the program made it (causality.ts). */
  causedBy: string | undefined;
  url: string;
  origin?: string;
  stack?: StackHolder;
  conn?: ConnState;
  sent: boolean;
  gotResponse: boolean;
  done: boolean;
  sentAt?: number;
  bodyBytes: number;
  /** Server-sent events so far (a `text/event-stream` response). */
  sse?: SseCounter;
  respBody?: BodyCapture;
  /** The captured request body, once it has been sent (streamed bodies only). */
  reqBody?: () => unknown;
  respType?: string;
  respEncoding?: string;
  /** The HTTP/1.1 socket whose writes are watched while the request is sent (watchWrites). */
  socket?: object;
  /** The protocol the request asks to upgrade to ("websocket"), from undici's Request. */
  upgrade?: string;
  /** In `streaming`, waiting for its progress update. */
  progressDue?: boolean;
  /** The trace rules' start decision (undefined while no rule is enabled: mode 'all'). */
  rules: StartDecision | undefined;
  /** When the request was created (for the rules' `duration`). */
  startAt: number;
  /** The response's status, once its head arrived. */
  status: number | undefined;
  /** Length of undici's `headers` (string or list) when they were recorded (see traceContextAdded). */
  headerLen: number;
  /** Waiting in its Client's queue behind the requests on its connection (clientQueueWait) until sent. */
  queuedInClient: boolean;
  /** Removes the abort listener of a fetch waiting in a queue (onFetchAbort), once it is sent. */
  unwatchAbort: (() => void) | undefined;
  /** Its recorder for replay (the `record` option: undiciRecord.ts). */
  rec?: ExchangeRecorder;
}

/** Each undici Request's state. */
export const stateOf = new Slot<UState>('nettrace.request', (key) => (obj) => (obj as Keyed<UState>)[key]);
