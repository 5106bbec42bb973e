/**
 * Requests fetch refuses without any network use: those to one of the Fetch standard's "bad
 * ports", which undici checks before it makes a request, so none of its channels hears of them.
 * The fetch() wrappers record such a call (the global one's, undiciFetch.ts; userland undici's,
 * undiciPool.ts, through blockedUserlandFetch), and a Proxy over the `WebSocket` constructor (the
 * global one, userland undici's export) such a socket: a WebSocket's connection is a fetch (the
 * WebSocket standard opens it with one). Each is recorded as the failed request the program saw
 * fail, with its line, and no headers, connection or phases (none were made).
 */

import { NO_STACK, type StackHolder } from '../initiator/stackCapture';
import type { Hook, Tracer } from '../tracer';
import { now } from '../clock/epoch';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { defineRestorable, isDetached, onDetach } from '../detach';
import { preloadRules } from '../rules/preloadRules';
import { ruleEnd, ruleStart, viewFromUrl } from '../rules/ruleHooks';
import { causeOf } from '../causality';
import type { RequestStartView, StartDecision } from '../../rules';
import type { HttpClientKind, RequestError } from '../../trace/contract/types';
import { FetchCallView, fetchUrl } from './fetchCallView';

/**
 * The ports fetch() refuses without any network use: the Fetch standard's "bad ports", which
 * undici checks before it makes a request (Node 20 to 26 block the same 82; a test compares
 * them with what the running Node does). A fetch() to one rejects with `TypeError: fetch failed`,
 * its cause `Error: bad port`; a WebSocket fires `error` (an empty TypeError) and `close` 1006.
 */
const BAD_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110, 111, 113, 115, 117,
  119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636,
  989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** The port of an http(s) URL that fetch() blocks (BAD_PORTS), else undefined. */
export function badPortOf(url: string): number | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.port === '') return undefined;
  const port = Number(u.port);
  return BAD_PORTS.has(port) ? port : undefined;
}

/** The error of a bad-port fetch() as the program got it (docs/trace-format.md). */
export const FETCH_BAD_PORT: RequestError = {
  phase: 'connect',
  name: 'TypeError',
  message: 'fetch failed',
  cause: { message: 'bad port' },
};

/**
 * The error of a bad-port WebSocket: the network error undici's fetch made of it, which the
 * program's `error` event does not carry (its TypeError has no message), as a refused socket's
 * record carries the connect error.
 */
const WEBSOCKET_BAD_PORT: RequestError = { phase: 'connect', name: 'Error', message: 'bad port' };

/** Which fetch refused it: the global one (and Node's global WebSocket), or userland undici's. */
type FetchClient = 'fetch' | 'undici';

/**
 * Records a request fetch refused at a bad port, decided `d` (undefined: no trace rules apply),
 * its stack `stack`: method, URL, `error`, no headers, no connection, all its time (none) blocked.
 */
export function recordBlocked(
  t: Tracer,
  client: FetchClient,
  method: string,
  url: string,
  error: RequestError,
  d: StartDecision | undefined,
  stack: StackHolder,
): void {
  const at = now();
  const fields: Record<string, unknown> = {
    client,
    reqMethod: method,
    reqURL: url,
    reqStartAt: at,
    reqError: error.cause === undefined ? { ...error } : { ...error, cause: { ...error.cause } },
    reqEndAt: at,
  };
  const causedBy = causeOf();
  if (causedBy !== undefined) fields.causedBy = causedBy;
  if (d !== undefined) {
    if (d.tags !== null && d.tags.length > 0) fields.marks = d.tags.slice();
    ruleEnd(t, d, { error: { phase: 'connect' }, durationMs: 0, reqSize: 0 }, fields);
    if (fields.ruleDropped === true) return;
  }
  if (stack !== NO_STACK) fields.initiator = t.initiatorField(stack);
  t.record('httpRequests', t.id('r'), fields);
}

/**
 * The http(s) URL undici's fetch is given for a WebSocket's `url` (ws: → http:, wss: → https:;
 * http(s) kept), when it is a string or a URL that parses; undefined otherwise.
 */
function webSocketFetchUrl(url: unknown): string | undefined {
  // A string or a URL: another object's toString is the program's, not to be called a second time.
  const text = typeof url === 'string' ? url : url instanceof URL ? url.href : undefined;
  if (text === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return undefined;
  }
  if (u.protocol === 'ws:') u.protocol = 'http:';
  else if (u.protocol === 'wss:') u.protocol = 'https:';
  return u.href;
}

/** Node's entry in `process.moduleLoadList` once its undici (fetch, WebSocket) is loaded. */
const UNDICI_MODULE = 'NativeModule internal/deps/undici/undici';

/**
 * Replaces the global `WebSocket` (Node 22+) with a Proxy that records a socket opened to a bad
 * port (nothing else of it: undici's channels tell the rest) — once Node has loaded its undici:
 * `WebSocket` is a lazy property, and reading it loads undici (≈ 236 M instructions and 20 MB on
 * Node 26), which a program that never touches it must not pay. Until then the Proxy waits for
 * the first undici request (`undici:request:create`). Instances, the prototype, `instanceof` and
 * the constants are the original's; `socket.constructor === WebSocket` is the one comparison that
 * tells them apart. Taken out at detach.
 */
export function installWebSocketBadPort(t: Tracer, hook: Hook): void {
  if (((process as { moduleLoadList?: string[] }).moduleLoadList ?? []).includes(UNDICI_MODULE))
    return proxyWebSocket(t, hook, globalThis, 'fetch');
  const onFirst = (): void => {
    unsubscribe('undici:request:create', onFirst);
    if (!isDetached()) t.guard(hook, () => proxyWebSocket(t, hook, globalThis, 'fetch'));
  };
  subscribe('undici:request:create', onFirst);
  onDetach(() => unsubscribe('undici:request:create', onFirst));
}

/**
 * The Proxy over the `WebSocket` of `holder` (the global object once Node loaded its undici, or
 * userland undici's exports as the program loads them), recording for `client`.
 */
export function proxyWebSocket(t: Tracer, hook: Hook, holder: object, client: FetchClient): void {
  const g = holder as { WebSocket?: unknown };
  const desc = Object.getOwnPropertyDescriptor(g, 'WebSocket');
  const original = desc?.value as (new (...args: unknown[]) => object) | undefined;
  if (typeof original !== 'function' || desc?.writable !== true || proxies.has(original)) return;
  const handler: ProxyHandler<typeof original> = {
    construct(target, args, newTarget) {
      const socket = Reflect.construct(target, args, newTarget === proxy ? target : newTarget);
      // After the constructor: it throws for a URL it does not take, and then nothing is recorded.
      if (hook.enabled && preloadRules.mode !== 'none') t.guard(hook, () => blockedWebSocket(t, client, args[0], handler.construct!));
      return socket;
    },
  };
  const proxy = new Proxy(original, handler);
  proxies.add(proxy);
  defineRestorable(g, 'WebSocket', { ...desc, value: proxy });
}

/** The Proxies made (a module's exports seen again are not wrapped twice). */
const proxies = new WeakSet<object>();

/** A WebSocket just made for `url`: recorded when fetch will refuse its port; `above`: the Proxy's trap. */
function blockedWebSocket(t: Tracer, client: FetchClient, url: unknown, above: Function): void {
  const fetched = webSocketFetchUrl(url);
  if (fetched === undefined || badPortOf(fetched) === undefined) return;
  recordAtCall(t, client, 'GET', fetched, viewFromUrl('GET', fetched, client, undefined), WEBSOCKET_BAD_PORT, above);
}

/**
 * A bad-port request made within the program's call now: decided by the trace rules on `view`
 * (break rules pause here, the program's call one frame down), its stack captured from the caller
 * of `above`, recorded (recordBlocked).
 */
function recordAtCall(
  t: Tracer,
  client: FetchClient,
  method: string,
  url: string,
  view: RequestStartView | undefined,
  error: RequestError,
  above: Function,
): void {
  let d: StartDecision | undefined;
  if (preloadRules.mode === 'rules') {
    const decided = ruleStart(t, view);
    if (decided === null) return;
    d = decided;
  }
  recordBlocked(t, client, method, url, error, d, t.captureInitiator(above, now()) ?? NO_STACK);
}

/** userland undici's fetch() call, as the rules see it: its client is `undici`. */
class UserlandFetchCallView extends FetchCallView {
  override get client(): HttpClientKind {
    return 'undici';
  }
}

/**
 * A call of userland undici's fetch() (`args`) that made no request within it: recorded when
 * fetch refused its URL's port (the global fetch's own wrapper does the same, undiciFetch.ts);
 * `above`: the wrapper, whose caller is the program's line.
 */
export function blockedUserlandFetch(t: Tracer, args: unknown[], above: Function): void {
  if (preloadRules.mode === 'none') return;
  const url = fetchUrl(args[0]);
  if (url === undefined || badPortOf(url) === undefined) return;
  const view = new UserlandFetchCallView(args[0], args[1], url);
  recordAtCall(t, 'undici', view.method, url, view, FETCH_BAD_PORT, above);
}
