/**
 * Tracing of Node's `http`/`https` clients.
 *
 * The request lifecycle comes from diagnostics_channel (`http.client.request.start`,
 * `http.client.response.finish`, `http.client.request.error`). Workaround: on Node 20–24
 * `request.start` is published from `ClientRequest#_finish`, i.e. only once the request has a
 * socket, a tick or more after the program called `http.request()`; by then the program's stack
 * is gone. So the exported `request`/`get` functions of `http` and `https` are also wrapped, only
 * to note the start time and capture the initiator stack; a request built any other way is still
 * traced from the channel, with the channel's own stack.
 */

import * as dc from 'node:diagnostics_channel';
// `import =` keeps the real module objects: esbuild's `import * as` namespace copies are
// read-only getters, and the exports must be replaced on the modules the program sees.
import http = require('node:http');
import https = require('node:https');
import type { IncomingMessage, ClientRequest } from 'node:http';
import { BodyCapture } from './bodies';
import { captureStack, formatInitiator, type StackHolder } from './initiator';
import { connOf, constructing } from './socketHooks';
import type { Hook, Tracer } from './tracer';
import { connFields, now, overrideMethod, toRequestError } from './tracer';

interface ReqState {
  id: string;
  startAt: number;
  stack?: StackHolder;
  started: boolean;
  sent: boolean;
  gotResponse: boolean;
  done: boolean;
  sentAt?: number;
  bodyBytes: number;
  reqBody?: BodyCapture;
  respBody?: BodyCapture;
  respType?: string;
  respEncoding?: string;
}

const stateOf = new WeakMap<object, ReqState>();

type TracedRequest = ClientRequest & { _header?: string | null; reusedSocket?: boolean; agent?: { protocol?: string }; res?: IncomingMessage | null };

/** Installs the http/https wrappers and channel subscribers. */
export function installHttpHooks(t: Tracer): void {
  const hook: Hook = { name: 'http', enabled: true };
  for (const [mod, names] of [
    [http, ['request', 'get']],
    [https, ['request', 'get']],
  ] as const) {
    for (const name of names) wrapExport(t, hook, mod as unknown as Record<string, Function>, name);
  }
  installBodyCounter(hook);
  dc.subscribe('http.client.request.start', (msg) => {
    t.guard(hook, () => onStart(t, hook, (msg as { request: TracedRequest }).request));
  });
  dc.subscribe('http.client.response.finish', (msg) => {
    const m = msg as { request: TracedRequest; response: IncomingMessage };
    t.guard(hook, () => onResponse(t, m.request, m.response));
  });
  dc.subscribe('http.client.request.error', (msg) => {
    const m = msg as { request: TracedRequest; error: unknown };
    t.guard(hook, () => finishWithError(t, hook, m.request, m.error));
  });
}

function wrapExport(t: Tracer, hook: Hook, mod: Record<string, Function>, name: string): void {
  const original = mod[name];
  if (typeof original !== 'function') return;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    let state: ReqState | undefined;
    if (!hook.enabled) t.untracedRequests++;
    else {
      state = t.guard(hook, () => ({
        id: t.id('r'),
        startAt: now(),
        stack: captureStack(wrapped),
        started: false,
        sent: false,
        gotResponse: false,
        done: false,
        bodyBytes: 0,
      }));
    }
    const outer = constructing.requestId;
    constructing.requestId = state?.id;
    let req: unknown;
    try {
      req = original.apply(this, args);
    } finally {
      constructing.requestId = outer;
    }
    if (state && req && typeof req === 'object') {
      const s = state;
      t.guard(hook, () => {
        stateOf.set(req as object, s);
        if (t.config.bodies) captureRequestBody(t, hook, req as TracedRequest, s);
      });
    }
    return req;
  };
  Object.defineProperty(wrapped, 'name', { value: original.name });
  Object.defineProperty(wrapped, 'length', { value: original.length });
  mod[name] = wrapped;
}

function urlOf(req: TracedRequest): string {
  const path = req.path ?? '/';
  if (/^https?:\/\//i.test(path)) return path;
  const protocol = req.protocol ?? (req.agent?.protocol || 'http:');
  // CONNECT's path is authority-form ("host:port"): show the tunnel's target.
  if (req.method === 'CONNECT' && !path.startsWith('/')) return `${protocol}//${path}`;
  const hostHeader = req.getHeader('host');
  let host = typeof hostHeader === 'string' ? hostHeader : req.host;
  if (!hostHeader && req.host) {
    const port = (req.socket as { remotePort?: number } | null)?.remotePort;
    host = req.host.includes(':') && !req.host.startsWith('[') ? `[${req.host}]` : req.host;
    if (port && !((protocol === 'http:' && port === 80) || (protocol === 'https:' && port === 443))) host += `:${port}`;
  }
  return `${protocol}//${host}${path}`;
}

function onStart(t: Tracer, hook: Hook, req: TracedRequest): void {
  let state = stateOf.get(req);
  if (!state) {
    state = { id: t.id('r'), startAt: now(), stack: captureStack(onStart), started: false, sent: false, gotResponse: false, done: false, bodyBytes: 0 };
    stateOf.set(req, state);
  }
  if (state.started) return;
  state.started = true;
  const s = state;
  const conn = req.socket ? connOf.get(req.socket) : undefined;
  const reused = req.reusedSocket === true || (conn !== undefined && conn.requestCount > 0);
  if (conn) conn.requestCount++;
  const protocol = req.protocol ?? req.agent?.protocol;
  const fields: Record<string, unknown> = {
    pid: t.pid,
    threadId: t.threadId,
    client: protocol === 'https:' ? 'https' : 'http',
    reqMethod: req.method,
    reqURL: urlOf(req),
    protoMajor: 1,
    protoMinor: 1,
    reqStartAt: s.startAt,
    reusedConn: reused,
  };
  if (typeof req._header === 'string') {
    const headers = t.headers.fromHeaderBlock(req._header);
    if (headers) fields.reqHeaders = headers;
    // Node adds Content-Length itself for `end(data)`, so read what was actually sent.
    const len = /\r\ncontent-length:[ \t]*(\d+)/i.exec(req._header);
    if (len) fields.reqContentLen = Number(len[1]);
  }
  if (conn) {
    Object.assign(fields, connFields(conn, fields.reqURL as string, reused, /^https?:\/\//i.test(req.path ?? '')));
    if (conn.dialFor !== undefined && conn.dialFor !== s.id) delete fields.dial;
  }
  if (s.stack) {
    const initiator = formatInitiator(s.stack, t.stackDepth, t.ownFile);
    s.stack = undefined;
    if (initiator) fields.initiator = initiator;
  }
  t.record('httpRequests', s.id, fields);
  req.once('finish', () => {
    t.guard(hook, () => {
      s.sent = true;
      s.sentAt = now();
      if (s.reqBody) {
        const reqBody = s.reqBody.result(headerText(req.getHeader('content-type')), headerText(req.getHeader('content-encoding')));
        t.record('httpRequests', s.id, { reqBody, reqContentLen: reqBody.size });
      }
    });
  });
  // One 'close' listener settles the request: Node emits it after the response's 'end' (or
  // after an error or a destroy), so no listener is needed on the response itself.
  req.once('close', () => {
    t.guard(hook, () => {
      if (s.done) return;
      const res = req.res as (IncomingMessage & { errored?: Error | null }) | null;
      if (!res) {
        // Closed without a response or an error: destroyed by the program.
        finish(t, req, s, Object.assign(new Error('request closed before a response'), { code: 'ERR_REQUEST_CLOSED' }));
      } else if (res.complete) {
        finish(t, req, s, undefined);
      } else {
        const err = res.errored ?? (req.socket as { errored?: Error | null } | null)?.errored;
        finish(t, req, s, err ?? Object.assign(new Error('response closed before it was complete'), { code: 'ECONNRESET' }));
      }
    });
  });
}

/**
 * Response bodies are counted where the parser pushes them: one wrapper of `push` on
 * IncomingMessage.prototype (looking the response up in a WeakMap), rather than a wrapper or a
 * 'data' listener on each response — a listener would switch the stream to flowing mode, and a
 * property per instance would change the hidden class of every traced response.
 */
const counting = new WeakMap<object, ReqState>();

function installBodyCounter(hook: Hook): void {
  const proto = http.IncomingMessage.prototype as unknown as { push: (chunk: unknown, enc?: BufferEncoding) => boolean };
  const push = proto.push;
  Object.defineProperty(proto, 'push', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function push_(this: object, chunk: unknown, encoding?: BufferEncoding): boolean {
      const s = counting.get(this);
      if (s !== undefined && chunk && hook.enabled) {
        s.bodyBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : (chunk as Uint8Array).length;
        s.respBody?.add(chunk, encoding);
      }
      return push.call(this, chunk, encoding);
    },
  });
}

function onResponse(t: Tracer, req: TracedRequest, res: IncomingMessage): void {
  const s = stateOf.get(req);
  if (!s || s.gotResponse) return;
  s.gotResponse = true;
  const at = now();
  if (!s.sent) {
    s.sent = true;
    s.sentAt = at;
  }
  const fields: Record<string, unknown> = {
    reqSentAt: s.sentAt,
    respRecvAt: at,
    respStatusCode: res.statusCode,
    respStatusText: res.statusMessage,
    protoMajor: res.httpVersionMajor,
    protoMinor: res.httpVersionMinor,
  };
  const headers = t.headers.fromFlat(res.rawHeaders);
  if (headers) fields.respHeaders = headers;
  t.record('httpRequests', s.id, fields);
  if (t.config.bodies) {
    s.respBody = new BodyCapture(bodyCap(t));
    s.respType = headerText(res.headers['content-type']);
    s.respEncoding = headerText(res.headers['content-encoding']);
  }
  counting.set(res, s);
}

function finish(t: Tracer, req: TracedRequest, s: ReqState, err: unknown): void {
  if (s.done) return;
  s.done = true;
  const at = now();
  const fields: Record<string, unknown> = {};
  if (s.gotResponse) {
    fields.respContentLen = s.bodyBytes;
    if (!err) fields.respDoneAt = at;
    if (s.respBody) fields.respBody = s.respBody.result(s.respType, s.respEncoding);
  }
  if (s.sentAt !== undefined) fields.reqSentAt = s.sentAt;
  if (err !== undefined) {
    const conn = req.socket ? connOf.get(req.socket) : undefined;
    fields.reqError = toRequestError(err, { conn, sent: s.sent, gotResponse: s.gotResponse });
    fields.reqEndAt = at;
  }
  t.record('httpRequests', s.id, fields);
}

function finishWithError(t: Tracer, hook: Hook, req: TracedRequest, err: unknown): void {
  const s = stateOf.get(req);
  if (!s) return;
  // An error before `request.start` (e.g. a socket error before the request was flushed).
  if (!s.started) onStart(t, hook, req);
  finish(t, req, s, err);
}

/** Bytes kept per body. */
export function bodyCap(t: Tracer): number {
  return Math.max(0, t.config.bodyMaxBytes ?? 65536);
}

function headerText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/**
 * Copies what the program writes into the request body. Wraps `write`/`end` on this request
 * only; OutgoingMessage#end writes through an internal function, so nothing is counted twice.
 */
function captureRequestBody(t: Tracer, hook: Hook, req: TracedRequest, s: ReqState): void {
  const cap = (s.reqBody = new BodyCapture(bodyCap(t)));
  const r = req as unknown as { write: (...a: unknown[]) => unknown; end: (...a: unknown[]) => unknown };
  const write = r.write;
  overrideMethod(r, 'write', function (this: unknown, ...args: unknown[]) {
    if (hook.enabled) cap.add(args[0], typeof args[1] === 'string' ? (args[1] as BufferEncoding) : undefined);
    return write.apply(this, args);
  });
  const end = r.end;
  overrideMethod(r, 'end', function (this: unknown, ...args: unknown[]) {
    if (hook.enabled && typeof args[0] !== 'function') cap.add(args[0], typeof args[1] === 'string' ? (args[1] as BufferEncoding) : undefined);
    return end.apply(this, args);
  });
}
