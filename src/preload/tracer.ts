/**
 * State shared by the preload's hooks: local ids, connection state per socket, clocks, the
 * transport, and the rule that a failing hook disables itself and leaves a warning.
 */

import { executionAsyncResource } from 'node:async_hooks';
import type { ResolvedPreloadConfig } from '../protocol/options';
import { F, FieldsWriter, type RecordWriter } from '../protocol/recordWriter';
import { MAX_STACKS } from '../trace/contract/wire';
import { redactedHeaderNames } from '../trace/contract/redact';
import type {
  AddrTuple,
  ConnectAttempt,
  DnsLookup,
  ErrorPhase,
  ProgramLookup,
  Initiator,
  RecordKind,
  RequestError,
  SocketOp,
} from '../trace/contract/types';
import type { StackFrame } from '../trace/contract/incoming';
import { HeaderCapture } from './headerCapture';
import { captureStack, callSites, formatSites, rawStackKey, StackBudget, stackKey, type StackHolder } from './initiator/stackCapture';
import { RuntimeSourceMaps } from './initiator/runtimeMaps';
import type { Transport } from './transport/transport';
import { lazy, type SideChannel } from './transport/wireValues';
import { defineRestorable, onDetach } from './detach';
import { replaceWith } from './mirror';
import { now } from './clock/epoch';
import { startRecording } from './message/recorder';

/** An object read by a symbol key (see Slot). */
export type Keyed<T> = Record<symbol, T | undefined>;

/**
 * Per-object state kept in a non-enumerable symbol-keyed property: invisible to Object.keys,
 * JSON and util.inspect, and cheap. A WeakMap would be the textbook choice, but V8 processes
 * WeakMap entries as ephemerons in every GC, and with two or three short-lived entries per
 * request that cost showed up as a large share of the tracer's overhead.
 */
export class Slot<T> {
  private readonly key: symbol;
  /** The slot's value on `obj`. */
  readonly get: (obj: object) => T | undefined;

  /**
   * `reader`: for a slot read on every request, a reader of its own, written where the slot is
   * declared (`(key) => (obj) => (obj as Keyed<T>)[key]`). V8 keeps property-access feedback per
   * function: one `get` reading every slot on every kind of object (requests, sockets, responses)
   * goes megamorphic, a stub-cache probe per read (≈ 2k instructions per http request,
   * callgrind); a reader per slot sees only its own objects.
   */
  constructor(name: string, reader?: (key: symbol) => (obj: object) => T | undefined) {
    const key = Symbol(name);
    this.key = key;
    this.get = reader ? reader(key) : (obj) => (obj as Keyed<T>)[key];
  }

  has(obj: object): boolean {
    return this.get(obj) !== undefined;
  }

  set(obj: object, value: T): void {
    Object.defineProperty(obj, this.key, { value, writable: true, configurable: true, enumerable: false });
  }

  /**
   * set() for an object the program never sees (undici's internal Request): a plain store, so an
   * enumerable symbol property, through an inline cache like any other store, where
   * `Object.defineProperty` is a runtime call per object (≈ 3 µs per fetch request, profiled).
   * `undefined` unties the value from the object (the property stays: the object keeps its shape).
   */
  setInternal(obj: object, value: T | undefined): void {
    (obj as Record<symbol, T | undefined>)[this.key] = value;
  }

  /** set() with a descriptor made once by the caller (`{ value, writable, configurable: true, enumerable: false }`). */
  setWith(obj: object, descriptor: PropertyDescriptor): void {
    Object.defineProperty(obj, this.key, descriptor);
  }
}

/**
 * Replaces a method on one object (not its prototype) with a wrapper, as a non-enumerable own
 * property, so `Object.keys`, spreading and inspection of the program's objects are unchanged.
 */
export function overrideMethod<T extends object, K extends keyof T>(obj: T, name: K, fn: T[K]): void {
  Object.defineProperty(obj, name, { value: fn, writable: true, configurable: true, enumerable: false });
}

/**
 * Replaces the function at `obj[key]` by `wrapper` (mirrored on the original, see mirror()),
 * keeping the property's own descriptor (writable, enumerable, configurable) where it is an own
 * property; a method inherited from a prototype becomes a non-enumerable own one. Put back at
 * detach (detach.ts).
 */
export function replaceFunction(obj: object, key: PropertyKey, wrapper: Function, original: Function): void {
  replaceWith(obj, key, wrapper, original, defineRestorable);
}

/**
 * A request's initiator whose program frames come from the program's call into the library that
 * made it later (`origin`): those frames, marked `async`, then the request's own library frames.
 */
function withOrigin(own: Initiator | undefined, origin: Initiator | undefined, depth: number): Initiator | undefined {
  const program = origin?.frames.filter((f) => !f.library) ?? [];
  if (program.length === 0) return own;
  return { frames: program.concat(own?.frames ?? []).slice(0, depth), async: true };
}

/**
 * Node's Performance object, read once: the global `performance` is a lazy accessor (Node 20–24
 * define it with a getter that loads its module), a getter call per read.
 */
const perf = performance;

/** What the preload knows about one outgoing TCP connection (and its dial and TLS session). */
export interface ConnState {
  tcpId: string;
  dialId: string;
  tlsId?: string;
  host: string;
  port: number;
  dialBeginAt: number;
  lookups: DnsLookup[];
  /** The program's own lookup function, when net called one for this dial (dns/programLookup.ts). */
  programLookup?: ProgramLookup;
  attempts: ConnectAttempt[];
  connected: boolean;
  connectedAt?: number;
  /** When requests can go: TCP connected, or for TLS the handshake done. */
  readyAt?: number;
  tuple?: AddrTuple;
  tls: boolean;
  secure: boolean;
  servername?: string;
  /** The protocol ALPN negotiated ("h2", "http/1.1"). */
  alpn?: string;
  requestCount: number;
  closed: boolean;
  /** A socket a what-if rule answered on in the server's place: never on the network. */
  whatIf?: boolean;
  /** The request whose creation opened this connection (set while constructing it). */
  dialFor?: string;
  /** A TLS session over another traced connection (a proxy's CONNECT tunnel): that one (tcpId/dialId are its). */
  tunnelOf?: ConnState;
  /** Socket operations, when the socket-op trace is on. */
  socketTrace?: { socketOps: SocketOp[]; droppedOps: number; layer: 'tcp' | 'tls'; coalesced?: boolean };
}

/** One hook group (e.g. "http", "undici", "net"): can be disabled on its first failure. */
export interface Hook {
  name: string;
  enabled: boolean;
}

/** A new hook group, enabled until it fails or the preload is detached (detach.ts). */
export function newHook(name: string): Hook {
  const hook: Hook = { name, enabled: true };
  onDetach(() => (hook.enabled = false));
  return hook;
}

/** guard()'s function, called through run(). */
function callThunk(_t: Tracer, _hook: Hook, fn: () => unknown): unknown {
  return fn();
}

/** The preload's shared context. */
export class Tracer {
  readonly pid = process.pid;
  readonly threadId: number;
  readonly headers: HeaderCapture;
  readonly stackDepth: number;
  private counters: Record<string, number> = {};
  /** Requests we know were made but could not trace (a hook was disabled). */
  untracedRequests = 0;
  /** The in-process resolver (DNS trace on), giving each dial its own lookup function. */
  resolver?: { lookup(dialId: string | undefined): Function; flush(): void; isOwn(socket: object): boolean };
  /** Open connections, so their byte counts can be sent at exit. */
  readonly openConns = new Set<{ conn: ConnState; bytes: () => { sent: number; recv: number } }>();
  /**
   * The latest connection to each `host:port` that has not connected yet (kept by socketHooks.ts).
   * undici reports a failed connect without its socket (`undici:client:connectError` has only the
   * target), so this is how a failed fetch finds its dial.
   */
  readonly dialingTo = new Map<string, ConnState>();
  /** The connection most recently created (http2.connect reads it right after opening one). */
  lastConn: ConnState | undefined;
  /** The socket of lastConn (a what-if rule fails the one an http.request() call opened: src/preload/http/httpWhatIf.ts). */
  lastSocket: object | undefined;
  /** While a request is being constructed (http hooks), its local id, so a dial can name its request. */
  constructingRequest: string | undefined;
  /** Run before each traced connect (the http2 hook uses it to notice an ESM import of http2). */
  beforeConnect: (() => void) | undefined;
  /** Under a replay (src/preload/playback/): at each connect, the arguments and after-step of a socket it holds. */
  replayDial: ((socket: object, args: unknown[]) => { args: unknown[]; after: () => void } | undefined) | undefined;
  /** Stacks already sent (stackKey → stack id), see initiatorField. */
  private readonly stacks = new Map<string, string>();
  /** Captured stacks already formatted (rawStackKey → stack id, or null: no frame to show). */
  private readonly rawStacks = new Map<string, string | null>();
  /** Origins formatted by captureOrigin (rawStackKey → initiator, null: no frame to show). */
  private readonly origins = new Map<string, Initiator | null>();
  /** Which requests get their initiator stack captured (option `initiator`). */
  readonly stackBudget: StackBudget;
  /** Source maps the runtime holds in memory (tsx and other in-memory transpilers). */
  private readonly sourceMaps = new RuntimeSourceMaps();
  /** Stack captures asked for (allowed or not): tells a wrapper whether a request was created inside its call. */
  captures = 0;
  /**
   * The program's call that a library is now, later, acting on (set synchronously around the
   * library's deferred request-making call, see asyncStarts.ts): a request whose stack has none
   * of the program's frames takes its program frames from here.
   */
  asyncOrigin: StackHolder | undefined;
  /**
   * Finders of the program's call for a request made with none on its stack, given what the
   * request hook passed and the stack (asyncStarts.ts, sdkCalls.ts).
   */
  readonly originFinders: Array<(subject: unknown, stack: StackHolder) => StackHolder | undefined> = [];

  constructor(
    readonly config: ResolvedPreloadConfig,
    readonly transport: Transport,
    threadId: number,
    readonly ownFile: string,
  ) {
    this.threadId = threadId;
    this.headers = new HeaderCapture(config.headers, redactedHeaderNames(config.redact));
    this.stackDepth = config.stackDepth;
    this.stackBudget = new StackBudget(config.initiator, now());
    startRecording(this);
  }

  /**
   * Captures the initiator stack of a request starting at `at`, if the stack budget allows
   * (see StackBudget); frames above `above` (our wrapper) are skipped.
   */
  captureInitiator(above: Function | undefined, at: number, frames?: number, subject?: unknown): StackHolder | undefined {
    this.captures++;
    const budget = this.stackBudget;
    if (!budget.allow(at)) {
      this.transport.markStats();
      return undefined;
    }
    const t0 = perf.now();
    const stack = captureStack(above ?? this.captureInitiator, frames, this.ownFile);
    if (stack.noProgram) stack.origin = this.findOrigin(subject, stack);
    budget.charge(perf.now() - t0);
    if (budget.lastFree) stack.free = true;
    return stack;
  }

  /**
   * The program's stack at its call into an SDK that makes its requests later (sdkCalls.ts),
   * formatted at once (a context may keep it long); undefined when it has none of the program's
   * frames or the stack budget leaves it out. Not a request's: no capture is counted.
   */
  captureOrigin(above: Function): StackHolder | undefined {
    const budget = this.stackBudget;
    if (!budget.allowOther(now())) return undefined;
    const t0 = perf.now();
    try {
      const stack = captureStack(above, undefined, this.ownFile);
      const sites = stack.noProgram ? undefined : callSites(stack);
      if (!sites) return undefined;
      const raw = rawStackKey(sites, this.stackDepth, this.ownFile);
      let initiator = this.origins.get(raw);
      if (initiator === undefined) {
        initiator = formatSites(sites, this.stackDepth, this.ownFile, this.sourceMaps) ?? null;
        if (this.origins.size >= MAX_STACKS) this.origins.clear();
        this.origins.set(raw, initiator);
      }
      return initiator ? { initiator } : undefined;
    } finally {
      budget.charge(perf.now() - t0);
    }
  }

  /** The program's call behind a request made from library code only (see asyncOrigin). */
  private findOrigin(subject: unknown, stack: StackHolder): StackHolder | undefined {
    if (this.asyncOrigin) return this.asyncOrigin;
    for (const find of this.originFinders) {
      const origin = find(subject, stack);
      if (origin) return origin;
    }
    return undefined;
  }

  /** Told each new request's local id (the event-loop monitor, loopLag.ts, samples while any is in flight). */
  onRequestId: ((id: string) => void) | undefined;

  /** A new connection-local id with a kind prefix ("r12"). */
  id(prefix: string): string {
    const n = (this.counters[prefix] = (this.counters[prefix] ?? 0) + 1);
    const id = prefix + n;
    if (prefix === 'r' && this.onRequestId !== undefined) this.onRequestId(id);
    return id;
  }

  /**
   * A request's `initiator` field: the captured stack, formatted when its batch is sent. Each
   * distinct stack goes to the collector once, as a `stack` message; requests refer to it by id
   * (most programs make their requests from a handful of places).
   */
  initiatorField(stack: StackHolder): Initiator | string {
    return lazy((side) => {
      // Reading the frames costs as much as capturing them: it counts against the same budget.
      const t0 = perf.now();
      try {
        return this.stackId(stack, side);
      } finally {
        if (!stack.free) this.stackBudget.chargeLater(perf.now() - t0);
      }
    });
  }

  /** The id of a captured stack's `stack` message (sent the first time), or the Initiator itself. */
  private stackId(stack: StackHolder, side: SideChannel): Initiator | string | undefined {
    const sites = callSites(stack);
    if (!sites) return undefined;
    const origin = stack.origin;
    const originSites = origin && !origin.initiator ? callSites(origin) : undefined;
    const originKey = origin?.initiator
      ? stackKey(origin.initiator)
      : originSites
        ? rawStackKey(originSites, this.stackDepth, this.ownFile)
        : undefined;
    const raw =
      originKey !== undefined
        ? `${rawStackKey(sites, this.stackDepth, this.ownFile)}<-\n${originKey}`
        : rawStackKey(sites, this.stackDepth, this.ownFile);
    const known = this.rawStacks.get(raw);
    if (known !== undefined) return known ?? undefined;
    let initiator = formatSites(sites, this.stackDepth, this.ownFile, this.sourceMaps);
    if (originKey !== undefined)
      initiator = withOrigin(
        initiator,
        origin?.initiator ?? (originSites && formatSites(originSites, this.stackDepth, this.ownFile, this.sourceMaps)),
        this.stackDepth,
      );
    let id: string | null = null;
    if (initiator) {
      const key = stackKey(initiator);
      id = this.stacks.get(key) ?? null;
      if (id === null) {
        if (this.stacks.size >= MAX_STACKS) return initiator;
        id = this.id('s');
        this.stacks.set(key, id);
        side({ type: 'stack', id, initiator });
      }
    }
    if (this.rawStacks.size < MAX_STACKS) this.rawStacks.set(raw, id);
    return id ?? undefined;
  }

  /** The id of a one-frame stack at `frame` (mapped through the runtime's source maps), sent through `side` the first time. */
  frameStackId(frame: StackFrame, side: SideChannel): string | undefined {
    const initiator: Initiator = { frames: [this.sourceMaps.map(frame)] };
    const key = stackKey(initiator);
    let id = this.stacks.get(key);
    if (id === undefined) {
      if (this.stacks.size >= MAX_STACKS) return undefined;
      id = this.id('s');
      this.stacks.set(key, id);
      side({ type: 'stack', id, initiator });
    }
    return id;
  }

  /** Sends one record upsert. */
  record(kind: RecordKind, id: string, fields: Record<string, unknown>): void {
    this.transport.record(kind, id, fields);
  }

  /** Sends a warning. */
  warn(message: string): void {
    this.transport.send({ type: 'warning', message });
  }

  /** Runs a hook body; on an exception, disables the hook and warns, never rethrows. */
  guard<T>(hook: Hook, fn: () => T): T | undefined {
    return this.run(hook, callThunk, fn, undefined) as T | undefined;
  }

  /**
   * guard() for a plain function of the tracer, the hook and two arguments: no closure is made
   * per call (a guard() call allocates one, with a context for what it captures). The hooks that
   * run for every request use it.
   */
  run<A, B, R>(hook: Hook, fn: (t: Tracer, hook: Hook, a: A, b: B) => R, a: A, b: B): R | undefined {
    if (!hook.enabled) return undefined;
    try {
      if (this.config.testFailHook === hook.name) throw new Error('injected failure (testFailHook)');
      return fn(this, hook, a, b);
    } catch (err) {
      this.hookFailed(hook, err);
      return undefined;
    }
  }

  /** What guard() does when its hook threw: disables the hook and reports why. Never throws. */
  hookFailed(hook: Hook, err: unknown): void {
    try {
      hook.enabled = false;
      this.untracedRequests++;
      this.transport.markStats();
      const where = err instanceof Error ? (err.stack ?? err.message).split('\n').slice(0, 3).join(' | ') : String(err);
      this.warn(`nettrace: the ${hook.name} hook failed and was disabled in pid ${this.pid}: ${where}`);
    } catch {
      // Reporting failed too; the hook is off either way.
    }
  }

  /**
   * What a connected connection learns at its close (or at exit): only the fields no request
   * reads, so the collector updates the connection record alone (a kept-alive connection may
   * have carried thousands of requests).
   */
  sendClose(conn: ConnState, bytes: { closeAt?: number; sent: number; recv: number }): void {
    const tcp: Record<string, unknown> = { totalSentBytes: bytes.sent, totalRecvBytes: bytes.recv, requestCount: conn.requestCount };
    if (bytes.closeAt !== undefined) tcp.connCloseAt = bytes.closeAt;
    if (conn.socketTrace) tcp.socketTrace = conn.socketTrace;
    this.record('tcpConns', conn.tcpId, tcp);
  }

  /** Sends the dial and tcpConn records of a connection as they stand. */
  sendConn(conn: ConnState, extra?: { closeAt?: number; sent?: number; recv?: number; error?: string }): void {
    const dialEnd = conn.connectedAt ?? extra?.closeAt;
    this.record('dials', conn.dialId, {
      dstAddress: `${conn.host}:${conn.port}`,
      dialBeginAt: conn.dialBeginAt,
      dialEndAt: dialEnd,
      sourceIP: conn.tuple?.srcIP,
      dnsLookups: conn.lookups,
      programLookup: conn.programLookup,
      connectAttempts: conn.whatIf ? [] : conn.attempts, // a stand-in's connect was never made
      establishedConn: conn.connected ? conn.tcpId : undefined,
      dialErr: conn.connected || conn.whatIf ? null : (extra?.error ?? null),
      whatIf: conn.whatIf || undefined,
    });
    const success = conn.connected ? conn.attempts[conn.attempts.length - 1] : undefined;
    const tcp: Record<string, unknown> = {
      fromDial: conn.dialId,
      handshakeBeginAt: success?.beginAt,
      handshakeEndAt: conn.connectedAt,
      connected: conn.connected,
      addrTuple: conn.tuple,
      requestCount: conn.requestCount,
      whatIf: conn.whatIf || undefined,
    };
    if (extra?.closeAt !== undefined) tcp.connCloseAt = extra.closeAt;
    if (extra?.sent !== undefined) tcp.totalSentBytes = extra.sent;
    if (extra?.recv !== undefined) tcp.totalRecvBytes = extra.recv;
    if (conn.socketTrace && extra?.recv !== undefined) tcp.socketTrace = conn.socketTrace;
    this.record('tcpConns', conn.tcpId, tcp);
  }
}

/**
 * The request-side links for a request sent over `conn`: its TCP connection, TLS session, the dial
 * unless `reused` (true when this request did not open the connection), and the proxy, when
 * there is one: the connection is a
 * CONNECT tunnel, or `viaProxy` says so (http: an absolute-form request line), or — with
 * `viaProxy` undefined (undici, http2, whose origin is the target) — the connection goes to
 * another host than the URL's. For http the URL's host comes from the Host header, which a
 * program may set to anything, so there the host comparison would mislead.
 */
export function connFields(conn: ConnState, reqURL: string, reused: boolean, viaProxy?: boolean): Record<string, unknown> {
  const w = new FieldsWriter('httpRequests', '');
  writeConn(w, conn, reqURL, reused, viaProxy);
  return w.fields;
}

/** connFields written to a record update. */
export function writeConn(w: RecordWriter, conn: ConnState, reqURL: string, reused: boolean, viaProxy?: boolean): void {
  const base = conn.tunnelOf ?? conn;
  w.text(F.tcpConn, base.tcpId);
  w.text(F.tlsTunnel, conn.tlsId);
  if (!reused) w.text(F.dial, base.dialId);
  let proxied = conn.tunnelOf !== undefined || viaProxy === true;
  if (!proxied && viaProxy === undefined) {
    try {
      const url = new URL(reqURL);
      const host = url.hostname.replace(/^\[|\]$/g, '');
      const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
      proxied = host !== base.host || port !== base.port;
    } catch {
      proxied = false;
    }
  }
  if (proxied) {
    const h = base.host.includes(':') ? `[${base.host}]` : base.host;
    w.any(F.proxy, { url: `${base.tls ? 'https' : 'http'}://${h}:${base.port}`, tunnel: base.tcpId });
  }
}

/** TLS error codes (OpenSSL verification results and Node's TLS errors). */
const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|ERR_OSSL_|EPROTO$)/;

/** True when an error code comes from TLS (handshake, verification). */
export function isTlsCode(code: unknown): boolean {
  return typeof code === 'string' && TLS_CODES.test(code);
}

/** What a request knew about its progress when it failed. */
export interface Progress {
  conn?: ConnState;
  sent: boolean;
  gotResponse: boolean;
}

/**
 * True while a timer's callback runs: setTimeout/setInterval, a socket's idle timeout
 * (`req.setTimeout`), AbortSignal.timeout. Node runs each with its Timeout object as the
 * execution resource (async_hooks.executionAsyncResource, no hook needed). A request destroyed or
 * aborted from there is the program's own timeout (axios, got, ky, openai, needle all time out
 * this way), not an abort.
 */
export function inTimerCallback(): boolean {
  const r = executionAsyncResource() as { _onTimeout?: unknown; _idleTimeout?: unknown } | null | undefined;
  return r != null && typeof r._onTimeout === 'function' && typeof r._idleTimeout === 'number';
}

/**
 * Turns an error into a structured RequestError and decides the phase it belongs to, from the
 * error itself (getaddrinfo, TLS codes) and from how far the request and its connection got.
 */
export function toRequestError(err: unknown, progress: Progress): RequestError {
  const e = (err ?? {}) as Record<string, unknown> & { cause?: Record<string, unknown> };
  const cause = e.cause && typeof e.cause === 'object' ? e.cause : undefined;
  // fetch wraps the network error in "TypeError: fetch failed" with the real one as `cause`.
  const root = cause && (cause.code || cause.syscall) && !e.code ? cause : e;
  // Only string codes: DOMException (AbortSignal.timeout in fetch) has a numeric legacy `code`.
  const code = codeOf(root.code) ?? codeOf(e.code);
  const out: RequestError = {
    phase: 'request',
    message: strOf(e.message) ?? String(err),
  };
  const name = strOf(e.name);
  if (name) out.name = name;
  if (code) out.code = code;
  for (const key of ['syscall', 'address', 'hostname'] as const) {
    const v = strOf(root[key]);
    if (v) out[key] = v;
  }
  if (typeof root.port === 'number') out.port = root.port;
  if (cause) {
    const c: { code?: string; message: string } = { message: strOf(cause.message) ?? String(cause) };
    const cc = codeOf(cause.code) ?? strOf(cause.name);
    if (cc) c.code = cc;
    out.cause = c;
  }
  const timeout =
    name === 'TimeoutError' ||
    strOf(cause?.name) === 'TimeoutError' ||
    code === 'ETIMEDOUT' ||
    (typeof code === 'string' && /^UND_ERR_.*TIMEOUT$/.test(code));
  // A timeout is not an abort: it carries `timedOut` alone.
  const aborted = !timeout && (name === 'AbortError' || code === 'ABORT_ERR' || code === 'ECONNABORTED' || code === 'UND_ERR_ABORTED');
  if (aborted) out.aborted = true;
  if (timeout) out.timedOut = true;
  out.phase = phaseOf(code, strOf(root.syscall), progress);
  return out;
}

function phaseOf(code: string | undefined, syscall: string | undefined, p: Progress): ErrorPhase {
  if (syscall === 'getaddrinfo' || syscall === 'queryA' || syscall === 'queryAaaa' || code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return 'dns';
  if (isTlsCode(code)) return 'tls';
  const conn = p.conn;
  if (p.gotResponse) return 'response';
  if (conn) {
    if (!conn.connected) {
      const own = conn.programLookup;
      if (conn.lookups.some((l) => l.error) || own?.error || (own && own.endAt === undefined)) return 'dns';
      return conn.lookups.length > 0 && conn.attempts.length === 0 && conn.lookups.some((l) => l.endAt === undefined) ? 'dns' : 'connect';
    }
    if (conn.tls && !conn.secure) return 'tls';
  } else if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return 'connect';
  }
  return p.sent ? 'response' : 'request';
}

function codeOf(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

function strOf(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
}
