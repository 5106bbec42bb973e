/**
 * Tracing of `http2.connect` sessions and their streams; each stream is one request.
 *
 * Workaround: `http2.connect` is wrapped (to learn the session's connection, which it opens
 * synchronously; no channel reports it) and, once the first session exists, `request` on the
 * client session prototype (to capture the initiator). Node 22.16+ publishes each new stream on
 * `http2.client.stream.created` as `request` returns, but taking streams from there cost more per
 * stream on Node 26 than the wrapper (bench/RESULTS.md, "Channels instead of wrappers (issue 35
 * item 2)"), so the wrapper serves every version. Everything else comes from events the stream and session emit anyway
 * ('response', 'finish', 'end', 'close', 'goaway'); the response body is counted by wrapping
 * the stream's own `push`, as for http.
 */

import { noteReplayedStream, replayConnect } from '../playback/replayHttp2';
import type * as http2 from 'node:http2';
import { BodyCapture, bodyCap } from '../message/bodies';
import { noteProgress, type Progressing } from '../message/progress';
import { newRecorder, recordedEnd, recording, type ExchangeRecorder } from '../message/recorder';
import type { StackHolder } from '../initiator/stackCapture';
import { connOf, tracedSocket } from '../connection/socketHooks';
import { OpSampler } from '../connection/opSampler';
import { undiciSocket } from '../undici/undiciHooks';
import type { ConnState, Hook, Tracer } from '../tracer';
import { inTimerCallback, newHook, overrideMethod, replaceFunction, toRequestError, writeConn } from '../tracer';
import { now } from '../clock/epoch';
import { CLOSE, observeEvents, observeOnce, tapEmit } from '../emitTaps';
import { onModuleLoad } from '../moduleLoad';
import { F } from '../../protocol/recordWriter';
import type { RequestStartView, StartDecision } from '../../rules';
import type { RequestError } from '../../trace/contract/types';
import { preloadRules } from '../rules/preloadRules';
import { currentIncoming } from '../causality';
import { objectLookup, wantsBodies, ruleEnd, ruleStart, ruleStartFields, viewFromUrl } from '../rules/ruleHooks';
import { answersInPlace, whatIfHttp2Request } from './http2WhatIf';
import { keepHttp2ForSendAgain } from './http2SendAgain';

interface SessionState {
  conn?: ConnState;
  origin: string;
  goaway?: { errorCode: number; lastStreamID: number };
  /** With the socket-op trace on: samples the socket's byte counters (see OpSampler). */
  ops?: OpSampler;
  /** A session undici opened (allowH2) on its own socket: its streams are undici's requests. */
  undici?: boolean;
  /** The program's `http2.connect` arguments but its listener, kept (in memory) for Send Again to connect again. */
  connectArgs?: unknown[];
}

/** True when the session runs on a socket undici connected (see undiciSocket). */
function isUndiciSession(session: http2.ClientHttp2Session): boolean {
  try {
    const socket = session.socket as object | undefined;
    return socket !== undefined && undiciSocket.has(socket);
  } catch {
    return false;
  }
}

const sessions = new WeakMap<object, SessionState>();
/** NGHTTP2_NO_ERROR: a stream closed normally. */
const NO_ERROR = 0;

type Stream = http2.ClientHttp2Stream & {
  push: (chunk: unknown, enc?: BufferEncoding) => boolean;
  errored?: Error | null;
  _write: (chunk: unknown, enc: BufferEncoding, cb: (err?: Error | null) => void) => void;
  _writev?: (chunks: Array<{ chunk: unknown; encoding: BufferEncoding }>, cb: (err?: Error | null) => void) => void;
};

function byteLen(chunk: unknown, enc?: BufferEncoding): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, enc && enc !== ('buffer' as BufferEncoding) ? enc : 'utf8');
  return chunk instanceof Uint8Array ? chunk.byteLength : 0;
}

/**
 * Installs the http2 wrappers once the program loads `http2`. Loading it costs ~15 ms of start-up,
 * which most programs never need, so it is not loaded eagerly: CommonJS `require('http2')` is seen
 * through `Module._load`; an ESM `import 'node:http2'` (which bypasses `Module._load`: seen on
 * Node 20 to 26) is seen on the next TCP connect via `process.moduleLoadList`, so the session of
 * an ESM program importing `node:http2` directly whose connect is the program's first goes
 * untraced, its streams too; recording or replaying, index.ts loads http2 at start instead.
 */
export function installHttp2Hooks(t: Tracer): void {
  const hook = newHook('http2');
  let installed = false;
  const install = () => {
    if (installed) return;
    installed = true;
    t.guard(hook, () => wrapConnect(t, hook, require('node:http2') as typeof http2));
  };
  const loaded = () => (process as { moduleLoadList?: string[] }).moduleLoadList?.includes('NativeModule http2') === true;
  if (loaded()) return install();
  onModuleLoad((request) => {
    if (!installed && (request === 'http2' || request === 'node:http2')) install();
  });
  t.beforeConnect = () => {
    if (!installed && loaded()) install();
  };
}

function wrapConnect(t: Tracer, hook: Hook, mod_: typeof http2): void {
  const mod = mod_ as unknown as Record<string, Function>;
  const connect = mod.connect;
  let patchedProto = false;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    t.lastConn = undefined;
    // Under a replay the session runs to the replay's own server, never the network (src/preload/playback/).
    const replayed = preloadRules.replaying ? replayConnect(t, connect as never, this, args) : undefined;
    const session = replayed ?? (connect.apply(this, args) as http2.ClientHttp2Session);
    t.guard(hook, () => {
      const authority = args[0];
      const origin =
        typeof authority === 'string'
          ? new URL(authority).origin
          : authority instanceof URL
            ? authority.origin
            : String((authority as { href?: string })?.href ?? '');
      const conn = sessionConn(session) ?? t.lastConn;
      const state: SessionState = { conn, origin };
      if (t.config.sendAgain === true) state.connectArgs = args.slice(0, 2).filter((a) => typeof a !== 'function');
      sessions.set(session, state);
      const socket = conn?.socketTrace ? tracedSocket(conn) : undefined;
      if (conn?.socketTrace && socket) {
        // Node's Http2Session reads and writes the socket in C++ (see OpSampler).
        conn.socketTrace.coalesced = true;
        const ops = (state.ops = new OpSampler(t, conn, socket));
        // Before socketHooks' own 'close' listener, which sends the trace.
        let sampledAtClose = false;
        observeEvents(
          socket,
          CLOSE,
          (event) => {
            if (event !== 'close' || sampledAtClose) return;
            sampledAtClose = true;
            t.guard(hook, () => ops.sample());
          },
          true,
        );
      }
      // The session's and its streams' events are seen without listeners (emitTaps.ts).
      tapEmit(Object.getPrototypeOf(session) as object);
      observeOnce(session, 'goaway', (errorCode, lastStreamID) => {
        t.guard(hook, () => {
          const s = sessions.get(session);
          if (s) s.goaway = { errorCode: errorCode as number, lastStreamID: lastStreamID as number };
        });
      });
      if (!patchedProto) {
        patchedProto = true;
        patchRequest(t, hook, Object.getPrototypeOf(session) as { request: Function });
      }
    });
    return session;
  };
  replaceFunction(mod, 'connect', wrapped, connect);
}

/**
 * The traced connection under a session. `session.socket` is Node's proxy to the socket the
 * session runs on, which need not have been opened inside `http2.connect`: a `createConnection`
 * option may return a socket connected earlier (@grpc/grpc-js does), so `lastConn` alone would
 * miss it. A socket that is not a native stream (a user Duplex) is wrapped by Node in a
 * JSStreamSocket that we never saw: undefined then.
 */
function sessionConn(session: http2.ClientHttp2Session): ConnState | undefined {
  try {
    const socket = session.socket as object | undefined;
    return socket ? connOf.get(socket) : undefined;
  } catch {
    // ERR_HTTP2_SOCKET_UNBOUND: the session was destroyed while connecting.
    return undefined;
  }
}

function patchRequest(t: Tracer, hook: Hook, proto: { request: Function }): void {
  const request = proto.request;
  const wrapped = function (this: http2.ClientHttp2Session, ...args: unknown[]): unknown {
    // undici (allowH2) runs its requests as streams of its own sessions: its hooks record them.
    const state = sessions.get(this);
    // undici publishes `connected` after it opened the session: decided at the first stream.
    if (state && state.undici === undefined) state.undici = isUndiciSession(this);
    if (state?.undici) return request.apply(this, args);
    const startAt = now();
    let rules: StartDecision | undefined;
    if (preloadRules.mode !== 'all' && hook.enabled) {
      // Trace rules: a stream not to be recorded is left alone (no stack, no record, no wrappers).
      const d = preloadRules.mode === 'none' ? null : ruleStart(t, streamView(state?.origin, args[0]));
      if (d === null) return request.apply(this, args);
      rules = d;
    }
    const stack = hook.enabled ? t.captureInitiator(wrapped, startAt, undefined, args[0]) : undefined;
    const whatIf = rules?.whatIf ?? null;
    const stream = (
      rules !== undefined && whatIf !== null
        ? whatIfHttp2Request(t, this, rules, state?.origin ?? '', () => request.apply(this, args))
        : request.apply(this, args)
    ) as Stream;
    // A stream a what-if rule answers in the server's place never rode the session's connection.
    const alone = whatIf !== null && answersInPlace(whatIf);
    if (hook.enabled) t.guard(hook, () => onStream(t, hook, this, stream, sentHeaders(stream, args[0]), startAt, stack, rules, alone));
    else t.untracedRequests++;
    return stream;
  };
  replaceFunction(proto, 'request', wrapped, request);
}

/**
 * The headers a stream was opened with, as Node sends them (its defaults for `:method`,
 * `:authority`, `:scheme`, `:path` included): `sentHeaders`, or for headers given as a raw
 * `[name, value, ...]` list (Node 24+), that list.
 */
function sentHeaders(stream: Stream, given: unknown): http2.OutgoingHttpHeaders | undefined {
  const sent = stream.sentHeaders as unknown;
  if (sent && typeof sent === 'object') return sent as http2.OutgoingHttpHeaders;
  if (!Array.isArray(given)) return given && typeof given === 'object' ? (given as http2.OutgoingHttpHeaders) : undefined;
  const h: Record<string, string | string[]> = {};
  for (let i = 0; i + 1 < given.length; i += 2) {
    const name = String(given[i]).toLowerCase();
    const value = String(given[i + 1]);
    const had = h[name];
    h[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
  }
  return h;
}

/** The trace rules' view of a stream about to be opened on a session of `origin`. */
function streamView(origin: string | undefined, headers: unknown): RequestStartView | undefined {
  const h = (headers && typeof headers === 'object' ? headers : {}) as http2.OutgoingHttpHeaders;
  const path = String(h[':path'] ?? '/');
  return viewFromUrl(
    String(h[':method'] ?? 'GET'),
    (origin ?? '') + path,
    'http2',
    objectLookup((name) => h[name]),
  );
}

/** Records a new stream's request (method, URL, headers, connection, initiator) and returns its id. */
function recordStream(
  t: Tracer,
  state: SessionState | undefined,
  headers: http2.OutgoingHttpHeaders | undefined,
  startAt: number,
  stack: StackHolder | undefined,
  rules: StartDecision | undefined,
): string {
  const conn = state?.conn;
  const id = t.id('r');
  const reused = conn !== undefined && conn.requestCount > 0;
  if (conn) conn.requestCount++;
  const h = headers ?? {};
  const path = String(h[':path'] ?? '/');
  const reqURL = (state?.origin ?? '') + path;
  const w = t.transport.open('httpRequests', id);
  w.intern(F.client, 'http2');
  w.intern(F.reqMethod, String(h[':method'] ?? 'GET'));
  w.text(F.reqURL, reqURL);
  w.num(F.protoMajor, 2);
  w.num(F.protoMinor, 0);
  w.num(F.reqStartAt, startAt);
  w.text(F.causedBy, currentIncoming());
  w.flag(F.reusedConn, reused);
  if (rules !== undefined) ruleStartFields(rules, w, id);
  w.headers(F.reqHeaders, t.headers.fromFlat(flatHeaders(h)));
  if (conn) writeConn(w, conn, reqURL, reused);
  if (stack) w.any(F.initiator, t.initiatorField(stack));
  t.transport.close(w, false);
  return id;
}

/** Headers as a flat [name, value, ...] list, one pair per value of a multi-valued header. */
function flatHeaders(h: http2.OutgoingHttpHeaders | http2.IncomingHttpHeaders): string[] {
  const flat: string[] = [];
  for (const [k, v] of Object.entries(h)) for (const one of Array.isArray(v) ? v : [v]) flat.push(k, String(one));
  return flat;
}

/**
 * Calls `fn` with each chunk of the request body: the stream's own _write/_writev (Writable calls
 * them with each chunk the program wrote), wrapped on this instance; 'finish' says the last one
 * was handed to nghttp2.
 */
function onWrites(stream: Stream, fn: (chunk: unknown, enc: BufferEncoding) => void): void {
  const write = stream._write;
  overrideMethod(stream, '_write', function (this: Stream, chunk: unknown, enc: BufferEncoding, cb: (err?: Error | null) => void) {
    fn(chunk, enc);
    return write.call(this, chunk, enc, cb);
  });
  const writev = stream._writev;
  if (typeof writev !== 'function') return;
  overrideMethod(
    stream,
    '_writev',
    function (this: Stream, chunks: Array<{ chunk: unknown; encoding: BufferEncoding }>, cb: (err?: Error | null) => void) {
      for (const c of chunks) fn(c.chunk, c.encoding);
      return writev.call(this, chunks, cb);
    },
  );
}

/**
 * A response's header list as received without its pseudo-headers (`:status`): the `rawHeaders`
 * Node hands its `response` and `trailers` events, else the headers object flattened (its order,
 * each value of a list apart).
 */
function withoutPseudo(raw: unknown, headers: http2.IncomingHttpHeaders | undefined): string[] {
  const flat = Array.isArray(raw) ? (raw as string[]) : flatHeaders(headers ?? {});
  const out: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) if (!String(flat[i]).startsWith(':')) out.push(flat[i], flat[i + 1]);
  return out;
}

/** A flat [name, value, ...] list as pairs. */
function pairs(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

/** A session's connection that never became ready (refused, TLS failed): no stream rode it, none reused it. */
function neverReady(conn: ConnState | undefined): conn is ConnState {
  return conn !== undefined && !conn.tunnelOf && (!conn.connected || (conn.tls && !conn.secure));
}

/**
 * A stream's trailers, recorded (and given to its recorder). Trailers end a gRPC call with its
 * status (`grpc-status`): a call the server ended so is a 200 whose status the program reads here.
 */
function watchTrailers(t: Tracer, hook: Hook, stream: Stream, id: string, rec: ExchangeRecorder | undefined): void {
  observeOnce(stream, 'trailers', (trailers, _flags, rawTrailers) => {
    rec?.trailerList(withoutPseudo(rawTrailers, trailers as http2.IncomingHttpHeaders));
    t.guard(hook, () => {
      const respTrailers = t.headers.fromFlat(flatHeaders(trailers as http2.IncomingHttpHeaders));
      if (respTrailers) t.record('httpRequests', id, { respTrailers });
    });
  });
}

/** A new stream's record, from its start to its end; with recording on, its recorder too (recorder.ts). */
function onStream(
  t: Tracer,
  hook: Hook,
  session: http2.ClientHttp2Session,
  stream: Stream,
  headers: http2.OutgoingHttpHeaders | undefined,
  startAt: number,
  stack: StackHolder | undefined,
  rules: StartDecision | undefined,
  alone = false,
): void {
  const state = sessions.get(session);
  state?.ops?.sample();
  const conn = alone ? undefined : state?.conn;
  const id = recordStream(t, alone && state !== undefined ? { ...state, conn: undefined } : state, headers, startAt, stack, rules);
  if (preloadRules.replaying) noteReplayedStream(session, stream, id);
  const keeper =
    t.config.sendAgain === true && state !== undefined
      ? keepHttp2ForSendAgain(t, id, session, state.origin, state.connectArgs ?? [state.origin], pairs(flatHeaders(headers ?? {})))
      : undefined;
  let status: number | undefined;

  let sentAt: number | undefined;
  let gotResponse = false;
  let done = false;
  let bodyBytes = 0;
  let progress: Progressing | undefined;
  let body: BodyCapture | undefined;
  let bodyType: string | undefined;
  let bodyEncoding: string | undefined;
  let reqBytes = 0;
  const rec = recording !== undefined ? newRecorder(startAt) : undefined;
  onWrites(stream, (chunk, enc) => {
    reqBytes += byteLen(chunk, enc);
    keeper?.add(chunk, enc);
    rec?.requestBody(chunk, enc);
  });
  tapEmit(Object.getPrototypeOf(stream) as object);
  observeOnce(stream, 'finish', () => {
    sentAt = now();
    keeper?.done();
    t.guard(hook, () => t.record('httpRequests', id, { reqContentLen: reqBytes }));
  });
  observeOnce(stream, 'response', (headers, _flags, rawHeaders) => {
    const resHeaders = headers as http2.IncomingHttpHeaders;
    t.guard(hook, () => {
      state?.ops?.sample();
      gotResponse = true;
      const at = now();
      status = Number(resHeaders[':status']);
      rec?.head(status, undefined, withoutPseudo(rawHeaders, resHeaders), at);
      const out: Record<string, unknown> = { reqSentAt: sentAt ?? at, respRecvAt: at, respStatusCode: status };
      if (typeof stream.id === 'number') out.http2StreamId = stream.id;
      const respHeaders = t.headers.fromFlat(flatHeaders(resHeaders));
      if (respHeaders) out.respHeaders = respHeaders;
      if (wantsBodies(t, rules)) {
        body = new BodyCapture(bodyCap(t));
        bodyType = resHeaders['content-type'];
        bodyEncoding = resHeaders['content-encoding'] as string | undefined;
      }
      t.record('httpRequests', id, out);
    });
  });
  watchTrailers(t, hook, stream, id, rec);
  const push = stream.push;
  overrideMethod(stream, 'push', function (this: Stream, chunk: unknown, enc?: BufferEncoding): boolean {
    if (chunk && hook.enabled) {
      bodyBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk, enc) : (chunk as Uint8Array).length;
      body?.add(chunk, enc);
      rec?.bodyChunk(chunk, enc);
      if (state?.ops) t.guard(hook, () => state.ops!.sample());
      // A long response (a gRPC server stream) shows its bytes so far while it arrives.
      const p = progress ?? (progress = { id, bodyBytes, done: false });
      p.bodyBytes = bodyBytes;
      if (!p.progressDue) t.guard(hook, () => noteProgress(t, hook, p));
    }
    return push.call(this, chunk, enc);
  });
  const finish = (err: unknown) => {
    state?.ops?.sample();
    if (done) return;
    done = true;
    if (progress) progress.done = true;
    const at = now();
    const out: Record<string, unknown> = {};
    if (sentAt !== undefined) out.reqSentAt = sentAt;
    if (gotResponse) {
      out.respContentLen = bodyBytes;
      if (body) out.respBody = body.result(bodyType, bodyEncoding);
      if (!err) out.respDoneAt = at;
    }
    if (err) {
      const e = toRequestError(err, { conn, sent: sentAt !== undefined, gotResponse });
      out.reqError = e;
      out.reqEndAt = at;
    }
    rec?.end(id, recordedEnd(out.reqError as RequestError | undefined, gotResponse ? bodyBytes : undefined, rec.http2Code));
    if (rules !== undefined && rules.pending) {
      const error = (out.reqError as RequestError | undefined) ?? null;
      ruleEnd(t, rules, { status, error, durationMs: at - startAt, reqSize: reqBytes, respSize: gotResponse ? bodyBytes : undefined }, out);
    }
    t.record('httpRequests', id, out);
  };
  observeOnce(stream, 'end', () => t.guard(hook, () => finish(undefined)));
  // The program (or its library) cancelling the stream: from a timer's callback that is its own
  // timeout (a gRPC deadline: grpc-js closes the stream with CANCEL from its deadline timer),
  // otherwise an abort. Recorded when it is called: the 'close' that follows may come after the
  // program has gone on, or never, if it exits.
  const close = stream.close;
  overrideMethod(stream, 'close', function (this: Stream, code?: number, cb?: () => void) {
    if (!done && hook.enabled && code !== undefined && code !== NO_ERROR) {
      t.guard(hook, () => {
        const timer = inTimerCallback();
        const err = Object.assign(new Error(`the program closed the stream (RST_STREAM code ${code})${timer ? ' from a timer' : ''}`), {
          name: timer ? 'TimeoutError' : 'AbortError',
        });
        finish(err);
        t.record('httpRequests', id, { http2RstCode: code });
      });
    }
    return close.call(this, code, cb);
  });
  observeOnce(stream, 'close', () => {
    t.guard(hook, () => {
      state?.ops?.sample();
      if (done) return;
      const goaway = state?.goaway;
      const rst = stream.rstCode;
      let err: unknown = stream.errored ?? undefined;
      if (!err && goaway && (stream.id === undefined || stream.id > goaway.lastStreamID)) {
        err = Object.assign(new Error(`the server sent GOAWAY (error code ${goaway.errorCode}, last stream ${goaway.lastStreamID})`), {
          code: 'ERR_HTTP2_GOAWAY_SESSION',
        });
      }
      // A stream never given an id exchanged no frame: Node's rstCode for a destroyed session is no reset.
      const reset = rst !== undefined && rst !== NO_ERROR && typeof stream.id === 'number';
      if (!err && reset) {
        err = Object.assign(new Error(`stream reset with RST_STREAM code ${rst}`), { code: 'ERR_HTTP2_STREAM_ERROR' });
      }
      if (!err && !gotResponse) err = Object.assign(new Error('stream closed before a response'), { code: 'ERR_HTTP2_STREAM_CANCEL' });
      if (rec !== undefined && reset) rec.http2Code = rst;
      finish(err);
      if (reset) t.record('httpRequests', id, { http2RstCode: rst });
      if (neverReady(conn)) t.record('httpRequests', id, { reusedConn: false, dial: conn.dialId });
      if (goaway) t.record('httpRequests', id, { http2Goaway: goaway });
      if (typeof stream.id === 'number') t.record('httpRequests', id, { http2StreamId: stream.id });
    });
  });
}
