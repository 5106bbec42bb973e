/**
 * What-if rules for http2 (`http2.connect` + `session.request()`; issue 51, docs/rules.md
 * "What-if actions"). Each acts through Node's own code where the real event would arrive:
 *
 * - fail refused / dns-notfound: the session's socket, still connecting, is failed as the http
 *   path fails a socket (failSocket): Node's session cancels its pending streams with its own
 *   ERR_HTTP2_STREAM_CANCEL whose cause is the connect or lookup error.
 * - fail reset: the request goes out; as its headers are sent, the session's socket is destroyed
 *   with the error a reset gives (`read ECONNRESET`), as the socket's read would.
 * - fail status, respond: the stream is opened as on a session still connecting (Node queues its
 *   HEADERS until `connect`) and taken out of that queue, so nothing is sent; then it gets the
 *   events a session gives a stream: `ready`, `finish`, `response` (headers, flags, raw headers),
 *   its body, `end`, `close` with rstCode 0.
 * - delay connect: the stream's HEADERS go out that much later; delay first-byte: the response's
 *   `response` event and body reach the stream that much later.
 * - fail tls: the real handshake happens and its verification fails where Node checks it (the
 *   http path's failTls): the session emits the certificate's error and cancels its streams.
 * - fail reset mid-body, throttle: the stream's `push` (what the session calls with each DATA
 *   frame's payload) passes N bytes and then the socket is destroyed as for a reset (a body that
 *   ends within them goes through: the rule did not act); or paces the body at the rate.
 *
 * Never throws into the program: every step catches, warns once and lets the request go.
 */
import type * as http2 from 'node:http2';
import type { Rule, StartDecision } from '../../rules';
import { rateOf, type FailSpec, type OverrideSpec } from '../../rules/whatIfActions';
import type { Tracer } from '../tracer';
import { respondBody } from '../rules/bodyFile';
import { actsOnResponse, delayMsOf, didNotAct, holdMark, markActed, notActed, warnOnce } from '../rules/whatIfMarks';
import { failSocket, failTls, pacer, resetError, type Pacer, type SocketLike } from '../rules/whatIfSocket';

type Session = http2.ClientHttp2Session & Record<symbol, unknown>;
type Stream = http2.ClientHttp2Stream & {
  push(chunk: unknown): boolean;
  _final: (cb: (err?: Error | null) => void) => void;
  _write: (chunk: unknown, enc: BufferEncoding, cb: (err?: Error | null) => void) => void;
  _writev?: (chunks: unknown[], cb: (err?: Error | null) => void) => void;
};

/** One of Node's private symbols on a session, by its description. */
function symbolOf(o: object, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(o).find((s) => s.description === description);
}

/** The real socket under a session (`session.socket` is a proxy that refuses destroy()). */
function socketOf(session: Session): (import('node:net').Socket & { _handle?: unknown; encrypted?: boolean }) | undefined {
  const k = symbolOf(session, 'socket');
  return k === undefined ? undefined : (session[k] as import('node:net').Socket);
}

/** The rules that answer in the server's place: the stream is not sent. */
export function answersInPlace(rule: Rule): boolean {
  return rule.respond !== undefined || rule.fail?.kind === 'status' || rule.fail?.kind === 'timeout';
}

/**
 * Opens the stream (`open`: the program's request() call) with its HEADERS held back: as on a
 * session still connecting, Node queues the stream's send (kPendingRequestCalls) for `connect`;
 * that queued call is taken and returned, to run later or never. undefined: Node's request()
 * differs from what this expects (then the stream was opened as usual).
 */
function openHeld(t: Tracer, session: Session, open: () => Stream): { stream: Stream; send: (() => void) | undefined } {
  const k = symbolOf(session, 'kPendingRequestCalls');
  if (k === undefined) return { stream: open(), send: undefined };
  const wasConnecting = session.connecting;
  const before = session[k];
  const connectListeners = session.listenerCount('connect');
  if (!wasConnecting) Object.defineProperty(session, 'connecting', { value: true, configurable: true });
  let stream: Stream;
  try {
    stream = open();
  } finally {
    if (!wasConnecting) delete (session as { connecting?: boolean }).connecting;
  }
  try {
    const calls = session[k];
    const send = Array.isArray(calls) && calls.length > 0 ? (calls.pop() as () => void) : undefined;
    if (!wasConnecting && before === null) {
      // The queue and its `connect` listener were made for this call alone: the session is connected.
      session[k] = null;
      if (session.listenerCount('connect') > connectListeners) {
        const l = session.rawListeners('connect');
        session.removeListener('connect', l[l.length - 1] as () => void);
      }
    }
    return { stream, send };
  } catch (err) {
    warnOnce(t, err);
    return { stream, send: undefined };
  }
}

/** Runs `fn` once the session is connected (at once when it is). */
function whenConnected(session: Session, fn: () => void): void {
  if (session.connecting) session.once('connect', fn);
  else setImmediate(fn);
}

/** A stream's answer in the server's place: status, headers and body; none for a server that never answers. */
interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Answers a stream that was never sent, as its session would: `finish` (its HEADERS and end went
 * out), then, a round trip later, `response`, the body and `end`, then `close` (rstCode 0). With
 * no answer (a server that never answers) the stream waits until the program's timeout or abort
 * destroys it.
 */
function answer(t: Tracer, session: Session, stream: Stream, a: Answer | undefined): void {
  let finalCb: ((err?: Error | null) => void) | undefined;
  let sent = false;
  // Writes go nowhere (no server reads them), and complete as nghttp2 would take them.
  stream._write = (_chunk, _enc, cb) => cb();
  stream._writev = (_chunks, cb) => cb();
  stream._final = (cb) => {
    if (sent) cb();
    else finalCb = cb;
  };
  whenConnected(session, () => {
    try {
      if (stream.destroyed) return;
      sent = true;
      // The stream's end, held by Node until the stream is ready (_final's once('ready') closure,
      // now reaching the _final above); Node's other 'ready' listeners need the stream's handle
      // (streamOnResume, rstStreamFn, priorityFn), which a stream never sent has not.
      for (const l of stream.rawListeners('ready') as Array<Function & { listener?: Function }>) {
        if ((l.listener ?? l).name !== '') continue;
        stream.removeListener('ready', l as () => void);
        (l.listener ?? l).call(stream);
      }
      finalCb?.();
      // A round trip later (after 'finish', which Node emits in a tick): the answer.
      if (a !== undefined) setImmediate(() => respondNow(t, stream, a.status, a.headers, a.body));
    } catch (err) {
      warnOnce(t, err);
    }
  });
}

/** The `response` event (headers, flags, raw headers), the body and `end`, then `close`. */
function respondNow(t: Tracer, stream: Stream, status: number, headers: Record<string, string>, body: Buffer): void {
  {
    try {
      if (stream.destroyed) return;
      const hs: Record<string, string | number> = Object.assign(Object.create(null) as object, { ':status': status });
      const raw: string[] = [':status', String(status)];
      for (const [k, v] of Object.entries(headers)) {
        hs[k.toLowerCase()] = v;
        raw.push(k.toLowerCase(), v);
      }
      // NGHTTP2_FLAG_END_HEADERS (4): a HEADERS frame that is not the stream's end.
      stream.emit('response', hs, 4, raw);
      if (body.length > 0) stream.push(body);
      stream.push(null);
      stream.once('end', () => setImmediate(() => stream.destroy()));
    } catch (err) {
      warnOnce(t, err);
    }
  }
}

/**
 * Changes the real response as the session hands it to the stream: the `response` event's status
 * and headers (and its raw headers), and with a `body`, the real body's pushes give way to that
 * body at the end (its `content-length` follows it).
 */
function overrideResponse(t: Tracer, stream: Stream, o: OverrideSpec): void {
  const body = o.body !== undefined ? Buffer.from(o.body) : undefined;
  const protoEmit = (): Stream['emit'] => (Object.getPrototypeOf(stream) as Stream).emit;
  stream.emit = function (this: Stream, ev: string | symbol, ...args: unknown[]): boolean {
    if (ev === 'response') {
      try {
        const [headers, flags] = args as [Record<string, unknown>, number];
        const change = new Map<string, string | null>();
        for (const [k, v] of Object.entries(o.headers ?? {})) change.set(k.toLowerCase(), v);
        if (o.status !== undefined) change.set(':status', String(o.status));
        if (body !== undefined) change.set('content-length', String(body.length));
        const hs: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
        const raw: string[] = [];
        const put = (k: string, v: unknown) => {
          hs[k] = k === ':status' ? Number(v) : v;
          for (const one of Array.isArray(v) ? v : [v]) raw.push(k, String(one));
        };
        for (const [k, v] of Object.entries(headers)) {
          if (!change.has(k)) put(k, v);
          else {
            const nv = change.get(k);
            if (nv !== null && nv !== undefined) put(k, nv);
            change.delete(k);
          }
        }
        for (const [k, v] of change) if (v !== null) put(k, v);
        return protoEmit().call(this, ev, hs, flags, raw);
      } catch (err) {
        warnOnce(t, err);
      }
    }
    return protoEmit().call(this, ev, ...args);
  } as Stream['emit'];
  if (body === undefined) return;
  // Over the hooks' own push (installed as the request() call returns): they count what the
  // program gets.
  queueMicrotask(() => {
    const push = stream.push;
    stream.push = function (this: Stream, chunk: unknown): boolean {
      if (chunk !== null) return true;
      if (body.length > 0) push.call(this, body);
      return push.call(this, null);
    };
  });
}

/**
 * Stands between the session and the stream's readable side: Node's session calls the stream's
 * `push` with each DATA frame's payload (null at the end); `fn` gets each and the push below.
 * Installed over the hooks' own push (put on the stream as the request() call returns), so the
 * trace counts what the program gets.
 */
function onStreamPush(t: Tracer, stream: Stream, fn: (chunk: Buffer | null, push: (c: Buffer | null) => void) => void): void {
  queueMicrotask(() => {
    try {
      const push = stream.push;
      const below = (c: Buffer | null) => void push.call(stream, c);
      stream.push = function (this: Stream, chunk: unknown): boolean {
        fn(chunk === null || Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array), below);
        return true;
      };
    } catch (err) {
      warnOnce(t, err);
    }
  });
}

/**
 * Resets the connection after `n` bytes of the response body: they reach the stream, the rest does
 * not, and the session's socket is destroyed with the error a peer's RST gives (`read ECONNRESET`),
 * as its next read would: the session emits it and destroys the stream with it (rstCode 2), as with
 * a real server whose connection is reset mid-body. A response whose body ends within the `n`
 * bytes (its end in the same read as its n-th byte, or before) goes through as sent: the rule did
 * not act (no mark, not counted).
 */
function resetMidBody(t: Tracer, s: Session, stream: Stream, d: StartDecision, n: number): void {
  let seen = 0;
  /** 0 reading, 1 passed (did not act), 2 cut, 3 at n bytes (the end may follow in the same read). */
  let state = 0;
  const cut = (): void => {
    state = 2;
    markActed(d);
    // Once the session is out of the read that brought these bytes (nghttp2 is still parsing it).
    setImmediate(() => {
      const socket = socketOf(s);
      if (socket !== undefined && !socket.destroyed) socket.destroy(resetError());
    });
  };
  stream.once('close', () => notActed(d));
  onStreamPush(t, stream, (chunk, push) => {
    if (state === 1) return push(chunk);
    if (state === 2) return;
    if (chunk === null) {
      state = 1;
      notActed(d);
      return push(null);
    }
    if (state === 3 || seen + chunk.length > n) {
      if (state !== 3 && n > seen) push(chunk.subarray(0, n - seen));
      return cut();
    }
    seen += chunk.length;
    push(chunk);
    if (seen < n) return;
    state = 3;
    setImmediate(() => {
      if (state === 3) cut();
    });
  });
}

/**
 * Delivers the response body at `rate` bytes a second (the http throttle's pacer), the end in its
 * place; a destroyed stream stops it at its next slice.
 */
function throttleBody(t: Tracer, stream: Stream, rate: number): void {
  let p: Pacer | undefined;
  onStreamPush(t, stream, (chunk, push) => {
    p ??= pacer(rate, push, () => !stream.destroyed);
    p.add(chunk);
  });
}

/**
 * The response's `response` event and body reach the stream `ms` later. Both go on through the
 * stream's own methods, looked up as each call is made (the hooks tap the prototype's emit).
 */
function delayFirstByte(t: Tracer, stream: Stream, ms: number): void {
  const push = stream.push;
  const held: Array<() => void> = [];
  let timer: NodeJS.Timeout | undefined;
  let released = false;
  const protoEmit = (): Stream['emit'] => (Object.getPrototypeOf(stream) as Stream).emit;
  const release = () => {
    released = true;
    try {
      for (const f of held.splice(0)) f();
    } catch (err) {
      warnOnce(t, err);
    }
  };
  stream.emit = function (this: Stream, ev: string | symbol, ...args: unknown[]): boolean {
    if (!released && ev === 'response') {
      held.push(() => protoEmit().call(this, ev, ...args));
      timer ??= setTimeout(release, ms);
      return true;
    }
    if (!released && timer !== undefined && ev !== 'close' && ev !== 'error') {
      held.push(() => protoEmit().call(this, ev, ...args));
      return true;
    }
    if (!released && timer !== undefined) {
      clearTimeout(timer);
      release();
    }
    return protoEmit().call(this, ev, ...args);
  } as Stream['emit'];
  stream.push = function (this: Stream, chunk: unknown): boolean {
    if (!released && timer !== undefined) {
      held.push(() => push.call(this, chunk));
      return true;
    }
    return push.call(this, chunk);
  };
}

/**
 * An http2 request a what-if rule acts on (the decision `d` names it): `open` is the program's
 * `session.request()` call (its errors are the program's own, thrown as they are); returns its
 * stream. Never throws otherwise.
 */
export function whatIfHttp2Request(
  t: Tracer,
  session: http2.ClientHttp2Session,
  d: StartDecision,
  origin: string,
  open: () => unknown,
): unknown {
  const s = session as Session;
  const rule = d.whatIf;
  if (rule === null) return open();
  if (actsOnResponse(rule)) holdMark(t, d);
  if (!answersInPlace(rule) && rule.delay?.phase !== 'connect') return actOnSent(t, s, d, rule, origin, open() as Stream);
  const { stream, send } = openHeld(t, s, open as () => Stream);
  if (send === undefined) return stream;
  try {
    if (rule.delay !== undefined) {
      const ms = delayMsOf(d, rule.delay);
      whenConnected(s, () => setTimeout(send, ms));
    } else if (rule.respond !== undefined) {
      const r = rule.respond;
      // A bodyFile was read when the rule set was applied (bodyFile.ts).
      answer(t, s, stream, { status: r.status, headers: r.headers ?? {}, body: respondBody(r) });
    } else if (rule.fail?.kind === 'status') {
      const f = rule.fail;
      answer(t, s, stream, { status: f.status, headers: f.headers ?? {}, body: Buffer.from(f.body ?? '') });
    } else answer(t, s, stream, undefined);
  } catch (err) {
    warnOnce(t, err);
    send();
  }
  return stream;
}

/**
 * The rules that act on a stream sent as usual: refused, not found and tls (on a session still
 * connecting), reset, a first-byte delay, override, throttle.
 */
function actOnSent(t: Tracer, s: Session, d: StartDecision, rule: Rule, origin: string, stream: Stream): Stream {
  try {
    const kind = rule.action === 'fail' ? rule.fail?.kind : undefined;
    if (kind === 'refused' || kind === 'dns-notfound') {
      const socket = socketOf(s);
      if (socket === undefined || !s.connecting) {
        t.warn(`nettrace: what-if rule "${rule.id}" (fail ${kind}) cannot act on an http2 session already connected; the request goes on`);
        didNotAct(t, d);
        return stream;
      }
      const u = new URL(origin);
      const host = u.hostname.replace(/^\[|\]$/g, '');
      failSocket(
        socket as Parameters<typeof failSocket>[0],
        rule.fail as FailSpec,
        host,
        Number(u.port) || (u.protocol === 'https:' ? 443 : 80),
      );
    } else if (rule.fail?.kind === 'tls') {
      // The handshake's verification, as it ends (the session is still connecting).
      const socket = socketOf(s) as SocketLike | undefined;
      if (socket === undefined || !s.connecting || socket.encrypted !== true) {
        t.warn(`nettrace: what-if rule "${rule.id}" (fail tls) acts only on an https session still connecting; the request goes on`);
        didNotAct(t, d);
        return stream;
      }
      failTls(socket, rule.fail, new URL(origin).hostname.replace(/^\[|\]$/g, ''), (err) => warnOnce(t, err));
    } else if (kind === 'reset' && rule.fail?.kind === 'reset' && rule.fail.at === 'mid-body') {
      resetMidBody(t, s, stream, d, rule.fail.afterBytes ?? 0);
    } else if (kind === 'reset') {
      // Once the request's HEADERS (and its end) reached the server: a reset arrives before any
      // answer. Node's session sends its frames from an immediate of its own, after which a
      // socket destroyed at once could drop them unsent (the server then saw no request, unlike a
      // real reset's): a PING goes after them, and its ACK says the server read them.
      const destroy = () => {
        const socket = socketOf(s);
        if (socket !== undefined && !socket.destroyed) socket.destroy(resetError());
      };
      const reset = () => {
        let sent = false;
        try {
          sent = s.ping(() => destroy());
        } catch {
          // No room for another PING (the session's outstanding limit): at the next turn, as before.
        }
        if (!sent) setImmediate(destroy);
      };
      stream.once('ready', () => {
        if (stream.writableEnded && !stream.writableFinished) stream.once('finish', reset);
        else reset();
      });
    } else if (rule.delay !== undefined) {
      delayFirstByte(t, stream, delayMsOf(d, rule.delay));
    } else if (rule.override !== undefined) {
      overrideResponse(t, stream, rule.override);
    } else if (rule.throttle !== undefined) {
      throttleBody(t, stream, rateOf(rule.throttle));
    }
  } catch (err) {
    notActed(d);
    warnOnce(t, err);
  }
  return stream;
}
