/**
 * What-if rules for http/https ClientRequest (and so axios, got, node-fetch over it) (docs/rules.md
 * "What-if actions", "How they act on http/https").
 *
 * A `fail` rule for a refused connect or a name that does not resolve fails the socket the agent
 * gave the request with the error `net` makes (connect ECONNREFUSED / getaddrinfo ENOTFOUND;
 * whatIfSocket.ts failSocket); the ClientRequest's own socket listener re-emits it: `socket`,
 * `error`, `close`, as for a closed port.
 *
 * Answers the server did not give (`fail` status, `respond`, `timeout`, `reset` before the
 * response) are made on the socket the agent gave the request, which never reaches the server:
 * its connect (for a new connection) is completed at once on its TCP handle without a system call,
 * its writes are accepted and dropped, its reads never start, and the bytes of the answer are
 * pushed into its readable side, so Node's own HTTP parser parses them and the IncomingMessage,
 * its headers, rawHeaders and events are Node's own. Such a socket never goes back to the agent's
 * pool (it is destroyed as it would be freed), so no later request reaches it.
 *
 * What acts on the real response (`delay` first-byte, `throttle`, `override`, `reset` mid-body)
 * stands between the socket's handle and its readable side (the socket's own `push`, which Node's
 * stream code calls with every read), so the bytes still go through Node's parser. `delay`
 * connect holds back the handle's connect; `tls` fails the real handshake's verification (on a
 * kept-alive connection, which has none, the socket is destroyed with the same error).
 *
 * Never throws into the program: every entry point catches, warns once and lets the request go.
 */
import type { Rule, StartDecision } from '../../rules';
import { rateOf, type OverrideSpec } from '../../rules/whatIfActions';
import type { Tracer } from '../tracer';
import { actsOnResponse, delayMsOf, holdMark, markActed, notActed, warnOnce } from '../rules/whatIfMarks';
import {
  failKeptTls,
  failSocket,
  failTls,
  holdConnect,
  pacer,
  pendingHandle,
  resetError,
  type ConnectReq,
  type HandleLike,
  type Push,
  type SocketLike,
  type Warn,
} from '../rules/whatIfSocket';
import { resetHttpAfter } from './httpWhatIfReset';
import { connOf } from '../connection/socketHooks';
import { respondBody } from '../rules/bodyFile';

type Req = {
  method?: string;
  getHeader?(name: string): unknown;
  prependOnceListener(ev: string, fn: (...a: never[]) => void): void;
  once(ev: string, fn: () => void): void;
};

/** Calls `fn` with the request's socket: the one opened inside http.request() (`dialed`), else the one it gets. */
function withSocket(req: Req, dialed: object | undefined, warn: Warn, fn: (s: SocketLike, fresh: boolean) => void): void {
  if (dialed !== undefined) {
    fn(dialed as SocketLike, true);
    return;
  }
  req.prependOnceListener('socket', ((s: SocketLike) => {
    try {
      fn(s, false);
    } catch (err) {
      warn(err);
    }
  }) as never);
}

/**
 * Makes a socket that never reaches the server: a pending connect completes at once (Node's
 * afterConnect emits `connect`; for TLS, `secureConnect` follows with no handshake), writes are
 * accepted and dropped, reads never start. `onWrite` runs once, after the request's first write.
 */
function detach(s: SocketLike, onWrite: () => void): void {
  const h = pendingHandle(s);
  if (h !== undefined) {
    // The trace must not call this a connection: it never reached the network (docs/trace-format.md, `whatIf` on dials and tcpConns).
    const conn = connOf.get(s);
    if (conn !== undefined) conn.whatIf = true;
    const complete = (req: ConnectReq) => {
      setImmediate(() => {
        if (!s.destroyed && typeof req.oncomplete === 'function') req.oncomplete(0, h, req, true, true);
      });
      return 0;
    };
    h.connect = h.connect6 = complete as HandleLike['connect'];
    if (s.encrypted === true && typeof h.start === 'function') {
      // TLSSocket._start calls the TLS handle's start() on connect: no handshake; secure at once.
      h.start = () => {
        s.secureConnecting = false;
        s._secureEstablished = true;
        s.authorized = true;
        setImmediate(() => {
          if (!s.destroyed) s.emit('secureConnect');
        });
      };
    }
  }
  let wrote = false;
  const accept = (cb: (err?: Error | null) => void) => {
    if (!wrote) {
      wrote = true;
      setImmediate(onWrite);
    }
    process.nextTick(cb);
  };
  s._write = (_d, _e, cb) => accept(cb);
  s._writev = (_c, cb) => accept(cb);
  s._final = (cb) => process.nextTick(cb);
  s._read = () => {};
  // A connected socket's handle keeps the process alive (its reads are active); this one's is
  // not, so a ref'd timer stands in for it, following the socket's ref()/unref() until it closes.
  const alive = setInterval(() => {}, 1 << 30);
  const ref = s.ref;
  const unref = s.unref;
  s.ref = function (this: SocketLike) {
    alive.ref();
    return ref.call(this);
  };
  s.unref = function (this: SocketLike) {
    alive.unref();
    return unref.call(this);
  };
  s.once('close', () => clearInterval(alive));
  // Never pooled: an agent keeping it would send the next request to no server.
  s.prependListener('free', () => s.destroy());
}

/** The bytes of an HTTP/1.1 answer: status line, the headers in order, Content-Length if none, the body. */
export function answerBytes(status: number, headers: Record<string, string> | undefined, body: Buffer, head: boolean): Buffer {
  const { STATUS_CODES } = require('node:http') as typeof import('node:http');
  const lines = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`];
  let framed = false;
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (/^(content-length|transfer-encoding)$/i.test(name)) framed = true;
    lines.push(`${name}: ${value}`);
  }
  const noBody = head || status === 204 || status === 304 || (status >= 100 && status < 200);
  if (!framed && !noBody) lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1'), noBody ? Buffer.alloc(0) : body]);
}

/** True when the answer's headers close the connection. */
function closes(headers: Record<string, string> | undefined): boolean {
  return Object.entries(headers ?? {}).some(([n, v]) => /^connection$/i.test(n) && /\bclose\b/i.test(v));
}

/** The request waits for `100 Continue` before its body (`Expect: 100-continue`). */
function expectsContinue(req: Req): boolean {
  return /\b100-continue\b/i.test(String(req.getHeader?.('expect') ?? ''));
}

/**
 * Answers in the server's place on a socket that never reaches it. A request that waits for
 * `100 Continue` is answered before its body, as a server that will not read the body answers:
 * with `Connection: close` (unless the rule names a Connection header) and the connection closed
 * after the answer, as Node's own server does (it never keeps such a connection), so the program
 * gets its `close` at once.
 */
function answer(
  s: SocketLike,
  req: Req,
  status: number,
  headers: Record<string, string> | undefined,
  body: (cb: (b: Buffer) => void) => void,
): void {
  const head = String(req.method ?? 'GET').toUpperCase() === 'HEAD';
  const beforeBody = expectsContinue(req);
  const hs = beforeBody && !Object.keys(headers ?? {}).some((n) => /^connection$/i.test(n)) ? { ...headers, Connection: 'close' } : headers;
  detach(s, () =>
    body((b) => {
      if (s.destroyed) return;
      s.push(answerBytes(status, hs, b, head));
      if (beforeBody || closes(hs)) s.push(null);
    }),
  );
}

/**
 * Wraps the socket's `push` (what Node's stream code calls with each read, null at the end):
 * `fn` gets each chunk and the original push.
 */
function onPush(s: SocketLike, fn: (chunk: Buffer | null, push: (c: Buffer | null) => void) => void): Undo {
  const push = s.push;
  const original = (c: Buffer | null) => void push.call(s, c);
  const wrapper: Push = (chunk) => {
    fn(chunk, original);
    return true;
  };
  s.push = wrapper;
  // A kept-alive socket serves later requests as it is: the wrapper goes when this request closes.
  return () => {
    if (s.push === wrapper) s.push = push;
  };
}

/** Undoes a wrapper of the socket's push. */
type Undo = () => void;

/** Holds back the response's first byte by `ms`: every read queued meanwhile, delivered in order. */
function delayFirstByte(s: SocketLike, ms: number): Undo {
  let queue: (Buffer | null)[] | null = null;
  let released = false;
  return onPush(s, (chunk, push) => {
    if (released) return push(chunk);
    if (queue !== null) return void queue.push(chunk);
    queue = [chunk];
    setTimeout(() => {
      released = true;
      for (const c of queue!) if (!s.destroyed) push(c);
    }, ms);
  });
}

/** Delivers the reads at `rate` bytes a second (pacer). */
function throttle(s: SocketLike, rate: number): Undo {
  let pushed: (c: Buffer | null) => void = () => {};
  const p = pacer(
    rate,
    (c) => pushed(c),
    () => !s.destroyed,
  );
  s.once('close', () => p.stop());
  return onPush(s, (chunk, push) => {
    pushed = push;
    p.add(chunk);
  });
}

/** Splits the raw response where its header block ends; calls `head` with it, `rest` with every later byte. */
function onHead(
  s: SocketLike,
  head: (block: Buffer, push: (c: Buffer | null) => void) => void,
  rest: (c: Buffer | null, push: (c: Buffer | null) => void) => void,
): Undo {
  let buf: Buffer | null = Buffer.alloc(0);
  return onPush(s, (chunk, push) => {
    if (buf === null) return rest(chunk, push);
    if (chunk === null) {
      buf = null;
      return push(null);
    }
    buf = Buffer.concat([buf, chunk]);
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const block = buf.subarray(0, end + 4);
    const after = buf.subarray(end + 4);
    buf = null;
    head(block, push);
    if (after.length > 0) rest(after, push);
  });
}

/**
 * Resets the connection after `n` bytes of the response body (as sent: a chunked body's framing
 * counts), when the response goes on past them (httpWhatIfReset.ts); `decided` says whether it did.
 */
function resetMidBody(s: SocketLike, req: Req, n: number, decided: (acted: boolean) => void): Undo {
  let below: (c: Buffer | null) => void = () => {};
  const step = resetHttpAfter(n, String(req.method ?? 'GET').toUpperCase(), {
    push: (c) => below(c),
    cut: () => process.nextTick(() => s.destroy(resetError())),
    decided,
  });
  return onPush(s, (chunk, push) => {
    below = push;
    step(chunk);
  });
}

/** Rewrites the real response's header block (status, headers) and, when asked, its body. */
function override(s: SocketLike, spec: OverrideSpec): Undo {
  const { STATUS_CODES } = require('node:http') as typeof import('node:http');
  const newBody = spec.body !== undefined ? Buffer.from(spec.body) : undefined;
  return onHead(
    s,
    (block, push) => {
      const lines = block.toString('latin1').split('\r\n').slice(0, -2);
      let status = lines[0];
      if (spec.status !== undefined) status = `${status.split(' ')[0]} ${spec.status} ${STATUS_CODES[spec.status] ?? ''}`;
      const set = new Map(Object.entries(spec.headers ?? {}).map(([k, v]) => [k.toLowerCase(), [k, v] as const]));
      const out = [status];
      for (const line of lines.slice(1)) {
        const name = line.slice(0, line.indexOf(':')).trim().toLowerCase();
        if (newBody !== undefined && (name === 'content-length' || name === 'transfer-encoding')) continue;
        const change = set.get(name);
        if (change === undefined) out.push(line);
        else if (change[1] !== null && !change[0].startsWith('\0')) {
          out.push(`${change[0]}: ${change[1]}`);
          set.set(name, ['\0', null]);
        }
      }
      for (const [k, v] of set.values()) if (v !== null && !k.startsWith('\0')) out.push(`${k}: ${v}`);
      if (newBody !== undefined) {
        out.push(`Content-Length: ${newBody.length}`);
        // The real body is dropped: the connection is not reused (where that body ends is not read).
        s.prependListener('free', () => s.destroy());
      }
      push(Buffer.from(out.join('\r\n') + '\r\n\r\n', 'latin1'));
      if (newBody !== undefined && newBody.length > 0) push(newBody);
    },
    (chunk, push) => {
      if (newBody === undefined || chunk === null) push(chunk);
    },
  );
}

/**
 * An http/https request a `fail` rule acts on, right after http.request() built it. `dialed`: the
 * socket created inside that call (a new connection, connecting), when known; otherwise the
 * socket the request gets (a kept-alive one, or later when the agent had none free) is failed as
 * it is handed over, before the request writes anything to it. Never throws.
 */
function failHttpRequest(t: Tracer, req: object, rule: Rule, host: string, port: number, dialed: object | undefined): void {
  const spec = rule.fail;
  if (spec === undefined) return;
  try {
    if (dialed !== undefined) {
      failSocket(dialed as SocketLike, spec, host, port);
      return;
    }
    const r = req as { prependOnceListener(ev: string, fn: (s: SocketLike) => void): void };
    r.prependOnceListener('socket', (s) => {
      try {
        failSocket(s, spec, host, port);
      } catch (err) {
        warnOnce(t, err);
      }
    });
  } catch (err) {
    warnOnce(t, err);
  }
}

/**
 * An http/https request a what-if rule acts on, right after http.request() built it (the decision
 * `d` names the rule); `dialed`: the socket opened inside that call, when known. Never throws.
 */
export function whatIfHttp(
  t: Tracer,
  req: { host?: string; getHeader(name: string): unknown; protocol?: string },
  d: StartDecision,
  dialed: object | undefined,
): void {
  try {
    const rule = d.whatIf;
    if (rule === null) return;
    const host = String(req.host ?? 'localhost').replace(/^\[|\]$/g, '');
    let port = req.protocol === 'https:' ? 443 : 80;
    const hostHeader = req.getHeader('host');
    const m = typeof hostHeader === 'string' ? /:(\d+)$/.exec(hostHeader) : null;
    if (m) port = Number(m[1]);
    const kind = rule.fail?.kind;
    if (actsOnResponse(rule)) holdMark(t, d);
    if (kind === 'refused' || kind === 'dns-notfound') failHttpRequest(t, req, rule, host, port, dialed);
    else actHttp(req, rule, d, host, dialed, (err) => warnOnce(t, err));
  } catch (err) {
    // The request goes on unchanged: a rule held to the response did not act.
    notActed(d);
    warnOnce(t, err);
  }
}

/** The other what-if rules on an http/https request (see the file's comment). Never throws (warn). */
function actHttp(req: object, rule: Rule, d: StartDecision, host: string, dialed: object | undefined, warn: Warn): void {
  const r = req as Req;
  const f = rule.fail;
  // Closed with no response, or none that reached the N bytes (no socket yet, too): it did not act.
  if (actsOnResponse(rule)) r.once('close', () => notActed(d));
  if (f !== undefined) {
    withSocket(r, dialed, warn, (s) => {
      if (f.kind === 'status') answer(s, r, f.status, f.headers, (cb) => cb(Buffer.from(f.body ?? '')));
      else if (f.kind === 'timeout') detach(s, () => {});
      else if (f.kind === 'reset' && f.at === 'before-response') detach(s, () => s.destroy(resetError()));
      else if (f.kind === 'reset')
        r.once(
          'close',
          resetMidBody(s, r, f.afterBytes ?? 0, (acted) => (acted ? markActed(d) : notActed(d))),
        );
      else if (f.kind === 'tls') {
        if (s.encrypted !== true) return;
        if (pendingHandle(s) !== undefined) failTls(s, f, host, warn);
        else failKeptTls(s, f, host);
      }
    });
    return;
  }
  const respond = rule.respond;
  if (respond !== undefined) {
    withSocket(r, dialed, warn, (s) => answer(s, r, respond.status, respond.headers, (cb) => cb(respondBody(respond))));
    return;
  }
  const delay = rule.delay;
  if (delay !== undefined) {
    const ms = delayMsOf(d, delay);
    withSocket(r, dialed, warn, (s) => {
      if (delay.phase === 'first-byte') return r.once('close', delayFirstByte(s, ms));
      holdConnect(s, ms);
    });
    return;
  }
  if (rule.throttle !== undefined) {
    const rate = rateOf(rule.throttle);
    withSocket(r, dialed, warn, (s) => r.once('close', throttle(s, rate)));
    return;
  }
  if (rule.override !== undefined) {
    const spec = rule.override;
    withSocket(r, dialed, warn, (s) => r.once('close', override(s, spec)));
  }
}
