/**
 * What-if rules for fetch (Node's bundled undici) and userland undici (issue 51, docs/rules.md
 * "What-if actions"): the undici request is driven as its connection would drive it, so fetch and
 * undici.request() build what the program receives with their own code.
 *
 * Never throws into the program: every entry point catches, warns once and lets the request go.
 */
import type { Rule, StartDecision } from '../../rules';
import { rateOf, type OverrideSpec } from '../../rules/whatIfActions';
import type { Tracer } from '../tracer';
import { actsOnResponse, delayMsOf, holdMark, markActed, notActed, warnOnce } from '../rules/whatIfMarks';
import { failTls, holdConnect, isIp, notFoundError, refusedError, resetError } from '../rules/whatIfSocket';
import { respondBody } from '../rules/bodyFile';
import { overridden, rawHeaders, reasonOf } from './undiciWhatIfHead';
import { subscribe } from '../detach';
import { connOf } from '../connection/socketHooks';
import { headersTimeoutOf } from './undiciPool';
import { HeadersTimeoutError } from './undiciErrors';

/**
 * The names of undici's Request methods the connection calls: undici 8 (Node 26's fetch) renamed
 * them (onConnect → onRequestStart, onHeaders → onResponseStart, …); the arguments are the same.
 */
export interface Names {
  connect: string;
  headers: string;
  data: string;
  complete: string;
  error: string;
}
const V7: Names = { connect: 'onConnect', headers: 'onHeaders', data: 'onData', complete: 'onComplete', error: 'onError' };
const V8: Names = {
  connect: 'onRequestStart',
  headers: 'onResponseStart',
  data: 'onResponseData',
  complete: 'onResponseEnd',
  error: 'onResponseError',
};

type Fn = (...args: unknown[]) => unknown;

/** Requests a what-if rule answers or fails in the connection's place (takeOver). */
const taken = new WeakSet<object>();
export type UReq = Record<string, unknown> & { aborted?: boolean; completed?: boolean };

export function namesOf(r: UReq): Names {
  return typeof r.onHeaders === 'function' ? V7 : V8;
}

/**
 * Calls the Request's own method (its prototype's: the one the connection would reach, with the
 * channels it publishes and the hooks' counting), as the connection would. `aborted` is undici's
 * mark for a request the connection must skip: on a request a what-if rule took over it is set
 * for the connection (see takeOver), and cleared around these calls.
 */
export function call(r: UReq, name: string, ...args: unknown[]): unknown {
  const fn = (Object.getPrototypeOf(r) as Record<string, Fn>)[name];
  if (typeof fn !== 'function') return undefined;
  const skipped = taken.has(r) && r.aborted === true;
  if (skipped) r.aborted = false;
  try {
    return fn.apply(r, args);
  } finally {
    if (skipped) r.aborted = true;
  }
}

/**
 * Hands body bytes to the request as the connection would (onData), honouring the handler's
 * backpressure (onData returns false until it calls the resume it was given) and, with a rate, no
 * faster than that many bytes a second: slice k is handed over at start + (bytes before it) / rate.
 * `finish` runs once every queued byte was handed over after end() (or at once with none queued).
 */
export class Pump {
  private queue: Buffer[] = [];
  private paused = false;
  private timer: NodeJS.Timeout | undefined;
  private startAt = 0;
  private sent = 0;
  private ended: (() => void) | undefined;
  private dead = false;
  constructor(
    private readonly r: UReq,
    private readonly n: Names,
    private readonly rate: number | undefined,
    /** Told when the queue is empty again (the connection's parser may go on). */
    private readonly drained: () => void = () => {},
  ) {}
  /** The resume given to the handler. */
  readonly resume = (): void => {
    if (!this.paused) return;
    this.paused = false;
    this.flush();
  };
  push(chunk: Buffer): boolean {
    if (this.dead) return false;
    if (chunk.length > 0) this.queue.push(chunk);
    this.flush();
    return this.queue.length === 0;
  }
  end(fin: () => void): void {
    this.ended = fin;
    this.flush();
  }
  stop(): void {
    this.dead = true;
    this.queue = [];
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
  private slice(): number {
    return this.rate === undefined ? Infinity : Math.max(1, Math.min(16384, Math.floor(this.rate / 50)));
  }
  private flush(): void {
    while (!this.dead && !this.paused && this.timer === undefined && this.queue.length > 0) {
      if (this.rate !== undefined) {
        if (this.sent === 0 && this.startAt === 0) this.startAt = performance.now();
        const due = this.startAt + (this.sent / this.rate) * 1000;
        const wait = due - performance.now();
        if (wait > 1) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.flush();
          }, wait);
          return;
        }
      }
      let chunk = this.queue[0];
      const max = this.slice();
      if (chunk.length > max) {
        this.queue[0] = chunk.subarray(max);
        chunk = chunk.subarray(0, max);
      } else this.queue.shift();
      this.sent += chunk.length;
      if (call(this.r, this.n.data, chunk) === false) this.paused = true;
      if (this.queue.length === 0) this.drained();
    }
    if (!this.dead && this.queue.length === 0 && this.timer === undefined && this.ended !== undefined) {
      const fin = this.ended;
      this.ended = undefined;
      this.dead = true;
      fin();
    }
  }
}

/**
 * Takes a request away from its connection: the connection's calls reach no-ops, and the first
 * one (its onConnect, as it is about to write it) marks it `aborted`, so undici drops it from its
 * queue unwritten. A connection undici's pool opens meanwhile is real (traced as a connection,
 * not as this request's); its errors do not reach the request.
 */
export function takeOver(r: UReq, n: Names): void {
  taken.add(r);
  r[n.connect] = () => {
    r.aborted = true;
  };
  for (const m of [n.headers, n.data, n.complete, 'onUpgrade', 'onRequestUpgrade', 'onResponseStarted']) r[m] = () => false;
  // undici's errorRequest asserts the request is aborted after its onError.
  r[n.error] = () => {
    r.aborted = true;
  };
}

/** Requests a what-if rule ended (errored or aborted) in the connection's place. */
const ended = new WeakSet<object>();

/** Errors the request as its connection would (errorRequest), once. */
export function endWith(r: UReq, n: Names, err: Error): void {
  if (r.completed === true || ended.has(r)) return;
  ended.add(r);
  call(r, n.error, err);
}

/** The abort the connection would give the request: the program's abort or timeout errors it with its reason. */
export function abortOf(r: UReq, n: Names, onAbort: () => void = () => {}): (err?: Error) => void {
  return (err) => {
    onAbort();
    endWith(r, n, err ?? Object.assign(new Error('Request aborted'), { name: 'AbortError', code: 'UND_ERR_ABORTED' }));
  };
}

/**
 * Answers the request in the server's place (respond, fail status): the connection's steps
 * (onConnect, onHeaders with the status line's reason and raw header pairs, onData, onComplete)
 * driven on undici's own Request, so fetch and undici.request() build their own Response and
 * body. `afterBytes`: a reset after that many body bytes instead of the end.
 */
function answer(t: Tracer, r: UReq, status: number, headers: Record<string, string>, withBody: (done: (b: Buffer) => void) => void): void {
  const n = namesOf(r);
  takeOver(r, n);
  const pump = new Pump(r, n, undefined);
  const abort = abortOf(r, n, () => pump.stop());
  queueMicrotask(() => {
    try {
      if (r.completed === true) return;
      call(r, n.connect, abort, null);
      withBody((body) => {
        try {
          if (ended.has(r) || r.completed === true) return;
          call(r, 'onResponseStarted');
          call(r, n.headers, status, rawHeaders(headers, body.length), pump.resume, reasonOf(status));
          pump.push(body);
          pump.end(() => call(r, n.complete, []));
        } catch (err) {
          warnOnce(t, err);
        }
      });
    } catch (err) {
      warnOnce(t, err);
    }
  });
}

/** Fails the request before its response with `err` (refused, not found, TLS, reset): what the connection would do. */
function failBefore(t: Tracer, r: UReq, err: () => Error, connected: boolean): void {
  const n = namesOf(r);
  takeOver(r, n);
  const abort = abortOf(r, n);
  queueMicrotask(() => {
    try {
      if (r.completed === true) return;
      // A reset comes after the request was written: onConnect first, as on its connection.
      if (connected) call(r, n.connect, abort, null);
      endWith(r, n, err());
    } catch (e) {
      warnOnce(t, e);
    }
  });
}

/**
 * The server never answers: the request waits, unwritten, until the program's abort or timeout
 * fires, or the connection's own `headersTimeout` (headersTimeoutOf: from the connect on) errors
 * it with undici's HeadersTimeoutError. Its connection would keep the process alive meanwhile
 * (AbortSignal.timeout's timer does not): a timer does, until the request ends.
 */
export function hang(t: Tracer, r: UReq, headersTimeout: number): void {
  const n = namesOf(r);
  takeOver(r, n);
  const alive = setInterval(() => {}, 1 << 30);
  let timer: NodeJS.Timeout | undefined;
  const stop = (): void => {
    clearInterval(alive);
    if (timer !== undefined) clearTimeout(timer);
  };
  queueMicrotask(() => {
    try {
      if (r.completed === true) return stop();
      call(r, n.connect, abortOf(r, n, stop), null);
      if (headersTimeout > 0 && !ended.has(r))
        timer = setTimeout(() => {
          stop();
          endWith(r, n, new HeadersTimeoutError());
        }, headersTimeout);
    } catch (e) {
      stop();
      warnOnce(t, e);
    }
  });
}

/**
 * Acts on the real response as the connection hands it over: a first-byte delay, a throttled body,
 * an override of its status, headers or body, or a reset after N bytes of its body. The
 * connection's calls go through wrappers on this request alone (its own properties), which call
 * the Request's own methods. A head delayed past the connection's own `headersTimeout` (counted
 * from the request's start on its connection) never comes: undici's HeadersTimeoutError ends the
 * request then, and the connection, as a server that slow would.
 */
function tapResponse(t: Tracer, r: UReq, d: StartDecision, rule: Rule): void {
  const n = namesOf(r);
  const delayMs = rule.delay?.phase === 'first-byte' ? delayMsOf(d, rule.delay) : undefined;
  const headersTimeout = delayMs !== undefined ? headersTimeoutOf(r) : 0;
  let startedAt = 0;
  const override: OverrideSpec | undefined = rule.override;
  const rate = rule.throttle !== undefined ? rateOf(rule.throttle) : undefined;
  const fail = rule.fail;
  const afterBytes = fail?.kind === 'reset' ? (fail.afterBytes ?? 0) : undefined;
  let parserResume: (() => void) | undefined;
  let parserPaused = false;
  const pump = new Pump(r, n, rate, () => {
    if (parserPaused && parserResume !== undefined) {
      parserPaused = false;
      parserResume();
    }
  });
  let abort: ((e?: Error) => void) | undefined;
  let seen = 0;
  let cut = false;
  const newBody = override?.body !== undefined ? Buffer.from(override.body) : undefined;
  r[n.connect] = (a: unknown, ctx: unknown) => {
    abort = a as (e?: Error) => void;
    startedAt = performance.now();
    return call(r, n.connect, a, ctx);
  };
  r[n.headers] = (status: unknown, raw: unknown, resume: unknown, text: unknown) => {
    try {
      parserResume = resume as () => void;
      let st = status as number;
      let hs = raw as Buffer[];
      let reason = text;
      if (override !== undefined) {
        ({ st, hs, reason } = overridden(override, st, hs, reason as string, newBody));
      }
      const left = headersTimeout > 0 ? headersTimeout - (performance.now() - startedAt) : Infinity;
      if (delayMs !== undefined && left < delayMs) {
        setTimeout(
          () => {
            if (r.aborted !== true && r.completed !== true) abort?.(new HeadersTimeoutError());
          },
          Math.max(0, left),
        );
        return false;
      }
      if (delayMs !== undefined) {
        setTimeout(() => {
          try {
            if (r.aborted === true || r.completed === true) return;
            if (call(r, n.headers, st, hs, pump.resume, reason) !== false) pump.resume();
            parserResume?.();
          } catch (e) {
            warnOnce(t, e);
          }
        }, delayMs);
        return false;
      }
      return call(r, n.headers, st, hs, pump.resume, reason);
    } catch (e) {
      warnOnce(t, e);
      return call(r, n.headers, status, raw, resume, text);
    }
  };
  /** The response's body ended at N bytes so far: the next byte (or, a tick later, no end) makes the reset act. */
  let atLimit = false;
  /** The peer resets the connection: the connection's own abort errors the request and destroys the socket. */
  const resetNow = (): void => {
    cut = true;
    markActed(d);
    // (From the socket's side, after the parser's call returns, as a reset arrives.)
    pump.end(() => setImmediate(() => abort?.(resetError())));
  };
  r[n.data] = (chunk: unknown) => {
    if (cut) return false;
    const c = chunk as Buffer;
    if (newBody !== undefined) return true;
    if (afterBytes !== undefined && (atLimit || seen + c.length > afterBytes)) {
      // Bytes past N: the reset acts, and they never arrive.
      if (!atLimit) pump.push(c.subarray(0, afterBytes - seen));
      seen = afterBytes;
      resetNow();
      return false;
    }
    seen += c.length;
    if (afterBytes !== undefined && seen === afterBytes) {
      // Exactly N bytes: a response that ends here (its end in the same read) went through whole.
      // The parser goes on (what follows is its end, or bytes past N that are dropped).
      atLimit = true;
      pump.push(c);
      setImmediate(() => {
        if (atLimit && !cut && r.completed !== true && !ended.has(r)) resetNow();
      });
      return true;
    }
    if (pump.push(c)) return true;
    parserPaused = true;
    return false;
  };
  r[n.complete] = (trailers: unknown) => {
    if (cut) return undefined;
    // The response ended within N bytes: the reset did not act, and it went through as sent.
    atLimit = false;
    notActed(d);
    if (newBody !== undefined) pump.push(newBody);
    pump.end(() => call(r, n.complete, trailers));
    return undefined;
  };
  r[n.error] = (err: unknown) => {
    pump.stop();
    atLimit = false;
    if (!cut) notActed(d);
    return call(r, n.error, err);
  };
}

/** A request waiting for a connection of its own, and what to do to that connection's socket. */
interface Waiting {
  r: UReq;
  act: (socket: object) => void;
}
/** By origin (`https://host:port`), in the order the requests were created. */
const waiting = new Map<string, Waiting[]>();
let watchingConnects = false;

/**
 * `undici:client:beforeConnect`: a Client is about to connect to an origin; the first request
 * waiting for it gets this connection. undici calls its connector right after (in the same
 * synchronous run), which creates the socket and calls its connect; Node makes the connect's
 * system call no earlier than the next tick (after its lookup for a host name). So on the next
 * tick the socket net's connect hook saw last (`t.lastSocket`), if new, is that connection's,
 * still connecting: the rule acts on it there, before anything of it reached the network.
 */
function beforeConnect(t: Tracer, msg: unknown): void {
  const p = (msg as { connectParams?: { protocol?: string; host?: string; hostname?: string; port?: unknown } } | null)?.connectParams;
  const key = `${p?.protocol ?? ''}//${p?.host ?? ''}`;
  const list = waiting.get(key);
  if (list === undefined) return;
  let w: Waiting | undefined;
  while ((w = list.shift()) !== undefined && (w.r.completed === true || w.r.aborted === true));
  if (list.length === 0) waiting.delete(key);
  if (w === undefined) return;
  const act = w.act;
  const before = t.lastSocket;
  const host = String(p?.hostname ?? '').replace(/^\[|\]$/g, '');
  const port = Number(p?.port) || (p?.protocol === 'https:' ? 443 : 80);
  process.nextTick(() => {
    try {
      const socket = t.lastSocket;
      // Not another connection made meanwhile (a proxy's, which a proxying connector dials first).
      const conn = socket !== undefined ? connOf.get(socket) : undefined;
      if (socket !== undefined && socket !== before && (conn === undefined || (conn.host === host && conn.port === port))) act(socket);
    } catch (err) {
      warnOnce(t, err);
    }
  });
}

/**
 * A rule that acts on the connection undici makes for the request (`fail tls`, `delay connect`):
 * `act` gets its socket, still connecting (see beforeConnect). A request undici puts on a
 * connection it already holds (its onConnect is called first) has none: nothing is done, as
 * neither a handshake nor a connect happens for it.
 */
function onOwnConnection(t: Tracer, r: UReq, origin: string, act: (socket: object) => void): void {
  if (!watchingConnects) {
    watchingConnects = true;
    subscribe('undici:client:beforeConnect', (msg) => beforeConnect(t, msg));
  }
  const key = withoutPath(origin);
  const w: Waiting = { r, act };
  // Requests that ended without a connection of their own (aborted, or put on one) go.
  const list = (waiting.get(key) ?? []).filter((x) => x.r.completed !== true && x.r.aborted !== true);
  list.push(w);
  waiting.set(key, list);
  const n = namesOf(r);
  // On a connection: it waits no more.
  r[n.connect] = (...args: unknown[]) => {
    delete r[n.connect];
    const now = waiting.get(key);
    const i = now?.indexOf(w) ?? -1;
    if (i >= 0) now!.splice(i, 1);
    return call(r, n.connect, ...args);
  };
}

/** An origin as undici's connect names it: `protocol//host` (the port only when not the scheme's). */
function withoutPath(origin: string): string {
  const u = new URL(origin);
  return `${u.protocol}//${u.host}`;
}

/**
 * An undici/fetch request a what-if rule acts on (the decision `d` names it), at
 * `undici:request:create`, before undici writes anything of it. Never throws.
 */
export function whatIfUndiciRequest(t: Tracer, req: object, d: StartDecision, origin: string): void {
  const rule = d.whatIf;
  if (rule === null) return;
  try {
    const r = req as UReq;
    const f = rule.fail;
    if (actsOnResponse(rule)) holdMark(t, d);
    if (f !== undefined) {
      if (f.kind === 'refused' || f.kind === 'dns-notfound') failUndiciRequest(t, req, rule, origin);
      else if (f.kind === 'timeout') hang(t, r, headersTimeoutOf(r));
      else if (f.kind === 'status') answer(t, r, f.status, f.headers ?? {}, (done) => done(Buffer.from(f.body ?? '')));
      else if (f.kind === 'reset' && f.at === 'mid-body') tapResponse(t, r, d, rule);
      else if (f.kind === 'reset') failBefore(t, r, resetError, true);
      else if (f.kind === 'tls' && origin.startsWith('https:')) {
        const host = new URL(origin).hostname.replace(/^\[|\]$/g, '');
        onOwnConnection(t, r, origin, (socket) => failTls(socket, f, host, (err) => warnOnce(t, err)));
      }
      return;
    }
    const delay = rule.delay;
    if (delay?.phase === 'connect') {
      const ms = delayMsOf(d, delay);
      onOwnConnection(t, r, origin, (socket) => holdConnect(socket, ms));
      return;
    }
    const a = rule.respond;
    if (a !== undefined) {
      // A bodyFile was read when the rule set was applied (bodyFile.ts).
      answer(t, r, a.status, a.headers ?? {}, (done) => done(respondBody(a)));
    } else tapResponse(t, r, d, rule);
  } catch (err) {
    notActed(d);
    warnOnce(t, err);
  }
}

interface UndiciRequestLike {
  aborted?: boolean;
  onConnect?: unknown;
  completed?: boolean;
  onError?: (err: Error) => unknown;
  onResponseError?: (err: Error) => unknown;
  onRequestStart?: unknown;
}

/**
 * An undici/fetch request a `fail` rule acts on, at `undici:request:create`: errored in the next
 * microtask (the request is then queued; undici writes no errored request) with the error its
 * connector would give, after a lookup of the name for `refused` (the real error names the address).
 * Never throws.
 */
export function failUndiciRequest(t: Tracer, req: object, rule: Rule, origin: string): void {
  const spec = rule.fail;
  if (spec === undefined) return;
  try {
    const u = new URL(origin);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
    const r = req as UndiciRequestLike;
    const deliver = (err: Error) => {
      try {
        if (r.aborted === true || r.completed === true) return;
        // undici 8 (Node 26's fetch) renamed the request's onError to onResponseError.
        if (typeof r.onError === 'function') r.onError(err);
        else if (typeof r.onResponseError === 'function') r.onResponseError(err);
      } catch (e) {
        warnOnce(t, e);
      }
    };
    let found: Error | undefined;
    if (spec.kind === 'dns-notfound') queueMicrotask(() => deliver((found = notFoundError(host))));
    else if (isIp(host)) queueMicrotask(() => deliver((found = refusedError(host, port))));
    else {
      // The real error names the address the name resolved to: looked up as the connector would.
      const dns = require('node:dns') as typeof import('node:dns');
      dns.lookup(host, (err, address) => deliver((found = err ? err : refusedError(address, port))));
    }
    // Should undici write the request first — on a connection it keeps alive and finds free, it
    // writes it inside the program's call, before the microtask above; or its own connect wins the
    // lookup — the request is failed as it would be written: an error thrown by onConnect errors
    // the request, and undici writes nothing of it. (undici 8 renamed onConnect to onRequestStart.)
    const failAtConnect = () => {
      throw found ?? (spec.kind === 'dns-notfound' ? notFoundError(host) : refusedError(host, port));
    };
    if (typeof r.onConnect === 'function') r.onConnect = failAtConnect;
    else if (typeof r.onRequestStart === 'function') r.onRequestStart = failAtConnect;
  } catch (err) {
    warnOnce(t, err);
  }
}
