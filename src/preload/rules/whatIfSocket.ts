/**
 * What-if rules on a socket, shared by the http/https, fetch/undici and http2 what-ifs (issue 51,
 * docs/rules.md "What-if actions"; each client's own acts are in its folder: httpWhatIf.ts,
 * undiciWhatIf.ts, http2WhatIf.ts): the errors Node itself makes for a refused connect, a name that
 * does not resolve and a reset connection; a socket's connect failed or held back on its TCP
 * handle; a TLS handshake's verification failed as Node fails it; a body paced at a rate.
 *
 * Never throws into the program: the callers catch, warn once and let the request go.
 */
import type * as netTypes from 'node:net';
import type { FailSpec } from '../../rules/whatIfActions';
import { connOf } from '../connection/socketHooks';

/** A socket's stream push: what Node's stream code calls with each read (null at the end). */
export type Push = (chunk: Buffer | null, encoding?: BufferEncoding) => boolean;
/** A socket as the what-if code reaches into it (its handle, its stream methods, its TLS state). */
export type SocketLike = netTypes.Socket & {
  _handle?: HandleLike | null;
  push: Push;
  _write: (data: unknown, enc: string, cb: (err?: Error | null) => void) => void;
  _writev?: (chunks: unknown, cb: (err?: Error | null) => void) => void;
  _final: (cb: (err?: Error | null) => void) => void;
  _read: (n: number) => void;
  encrypted?: boolean;
  authorized?: boolean;
  _secureEstablished?: boolean;
  secureConnecting?: boolean;
};
/** What Node hands a TCP handle's connect: the request whose completion callback reports it. */
export type ConnectReq = { oncomplete?: (status: number, handle: HandleLike, req: ConnectReq, r: boolean, w: boolean) => void };
/** A socket's TCP (or TLS) handle, as the what-if code replaces its calls. */
export type HandleLike = {
  connect?: (...args: unknown[]) => number;
  connect6?: (...args: unknown[]) => number;
  start?: () => void;
  verifyError?: () => Error | null;
};

/** Reports a failure of the what-if code (whatIfMarks.ts's warnOnce); the request goes on. */
export type Warn = (err: unknown) => void;

let errnos: Map<string, number> | undefined;

/** libuv's errno for a code name (`ECONNREFUSED` → -111 on Linux), from Node's own table. */
export function errnoOf(name: string): number | undefined {
  if (errnos === undefined) {
    errnos = new Map();
    // util is loaded by Node's bootstrap (console, errors) before any program code runs.
    const util = require('node:util') as { getSystemErrorMap?: () => Map<number, [string, string]> };
    for (const [n, [code]] of util.getSystemErrorMap?.() ?? []) errnos.set(code, n);
  }
  return errnos.get(name);
}

/** The error `net` makes when a connect is refused (lib/internal/errors.js exceptionWithHostPort). */
export function refusedError(address: string, port: number): NodeJS.ErrnoException {
  const ex = new Error(`connect ECONNREFUSED ${address}:${port}`) as NodeJS.ErrnoException & { address?: string; port?: number };
  ex.errno = errnoOf('ECONNREFUSED');
  ex.code = 'ECONNREFUSED';
  ex.syscall = 'connect';
  ex.address = address;
  if (port) ex.port = port;
  return ex;
}

/** The error `dns.lookup` makes for a name that does not resolve (lib/internal/errors.js dnsException). */
export function notFoundError(hostname: string): NodeJS.ErrnoException {
  const ex = new Error(`getaddrinfo ENOTFOUND ${hostname}`) as NodeJS.ErrnoException & { hostname?: string };
  ex.errno = errnoOf('EAI_NONAME');
  ex.code = 'ENOTFOUND';
  ex.syscall = 'getaddrinfo';
  ex.hostname = hostname;
  return ex;
}

/** The error `net` makes for a connection the peer reset (stream_base_commons onStreamRead: errnoException). */
export function resetError(): NodeJS.ErrnoException {
  const ex = new Error('read ECONNRESET') as NodeJS.ErrnoException;
  ex.errno = errnoOf('ECONNRESET');
  ex.code = 'ECONNRESET';
  ex.syscall = 'read';
  return ex;
}

/** True for an IP address literal (no lookup). */
export function isIp(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

/**
 * Fails a socket (an http/https request's, an http2 session's) as the rule says. A socket still
 * connecting (one the agent opened for this request) keeps its real TCP handle, whose `connect` is
 * replaced on that handle alone: Node's `internalConnect` calls it (after its own lookup for a host
 * name, one tick later for an IP address), the connect is reported refused through the handle's
 * completion callback, and Node's `afterConnect` builds the error (exceptionWithHostPort) and
 * destroys the socket as for a real refusal; no system call is made. For `dns-notfound` the connect
 * never starts and the socket is destroyed, once the request has written to it, with the error
 * `dns.lookup` makes. Either way the trace's dial records no connect attempt (the connection is
 * marked a stand-in). A socket that is already connected (a kept-alive one) is destroyed with the
 * error at once.
 */
export function failSocket(socket: SocketLike, spec: FailSpec, host: string, port: number): void {
  if (socket.destroyed) return;
  const handle = socket._handle;
  if (!socket.connecting || handle === null || handle === undefined || typeof handle.connect !== 'function') {
    socket.destroy(spec.kind === 'dns-notfound' ? notFoundError(host) : refusedError(host, port));
    return;
  }
  // No connect is made: the trace must not record an attempt or a dial error the network never gave
  // (docs/trace-format.md, `whatIf` on dials and tcpConns).
  const conn = connOf.get(socket);
  if (conn !== undefined) conn.whatIf = true;
  if (spec.kind === 'dns-notfound') {
    handle.connect = handle.connect6 = () => 0;
    // After the request's first write (onSocketNT, _flush: the nextTicks queued inside http.request()).
    setImmediate(() => {
      if (!socket.destroyed) socket.destroy(notFoundError(host));
    });
    return;
  }
  const status = errnoOf('ECONNREFUSED') ?? -111;
  handle.connect = handle.connect6 = ((req: ConnectReq) => {
    setImmediate(() => {
      if (!socket.destroyed && typeof req.oncomplete === 'function') req.oncomplete(status, handle, req, false, false);
    });
    return 0;
  }) as HandleLike['connect'];
}

/** A connecting socket's handle, when its connect is still to be called (a new connection). */
export function pendingHandle(s: SocketLike): HandleLike | undefined {
  const h = s._handle;
  return s.connecting && h !== null && h !== undefined && typeof h.connect === 'function' ? h : undefined;
}

/**
 * Holds back a connecting socket's connect by `ms`: the call of its handle's connect (after Node's
 * own lookup for a host name). A socket already connected (kept-alive) has none: nothing is held.
 */
export function holdConnect(socket: object, ms: number): void {
  const s = socket as SocketLike;
  const h = pendingHandle(s);
  if (h === undefined) return;
  for (const name of ['connect', 'connect6'] as const) {
    const real = h[name];
    if (typeof real !== 'function') continue;
    h[name] = (...args: unknown[]) => {
      setTimeout(() => {
        if (s.destroyed) return;
        const err = real.apply(h, args);
        const cr = args[0] as ConnectReq;
        if (err !== 0 && typeof cr.oncomplete === 'function') cr.oncomplete(err, h, cr, false, false);
      }, ms);
      return 0;
    };
  }
}

let kConnectOptions: symbol | undefined;

/** What OpenSSL's X509_V_ERR_CERT_HAS_EXPIRED becomes in Node (crypto's verifyError). */
function expiredError(): Error {
  return Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' });
}

/**
 * Node's own error for a certificate of another name (tls.checkServerIdentity's), about the
 * socket's certificate's names (a resumed session shows no certificate: then the other name's).
 */
function wrongHostError(s: SocketLike, host: string): Error | undefined {
  const tls = require('node:tls') as typeof import('node:tls');
  kConnectOptions ??= Object.getOwnPropertySymbols(s).find((x) => x.description === 'connect-options');
  const options =
    kConnectOptions !== undefined
      ? (s as unknown as Record<symbol, { servername?: string; host?: string } | undefined>)[kConnectOptions]
      : undefined;
  const hostname = options?.servername || options?.host || host;
  const cert = (s as unknown as import('node:tls').TLSSocket).getPeerCertificate(true);
  const other = 'nettrace-what-if.invalid';
  const err = tls.checkServerIdentity(hostname, {
    ...cert,
    subjectaltname: `DNS:${other}`,
    subject: { ...cert.subject, CN: other },
  }) as (Error & { reason?: string; cert?: unknown }) | undefined;
  if (err === undefined) return undefined;
  const names = cert.subjectaltname || `DNS:${other}`;
  err.message = err.message.split(`DNS:${other}`).join(names);
  if (err.reason !== undefined) err.reason = err.reason.split(`DNS:${other}`).join(names);
  err.cert = cert;
  return err;
}

/**
 * Fails the real TLS handshake's verification as Node would for that certificate problem, on a TLS
 * socket whose handshake has not ended (the http, undici and http2 paths; any other socket is left
 * as it is), with the error given as the handshake's verify error: Node checks the server's identity only after a
 * full handshake (onConnectSecure skips it when the session was resumed, as the agent's cached one
 * is on a later connection to the host), but reads the verify error after every one.
 */
export function failTls(socket: object, spec: Extract<FailSpec, { kind: 'tls' }>, host: string, warn: Warn): void {
  const s = socket as SocketLike;
  if (s.encrypted !== true) return;
  const h = s._handle;
  if (h === null || h === undefined) return;
  if (spec.tls === 'expired') {
    h.verifyError = expiredError;
    return;
  }
  const verify = h.verifyError;
  h.verifyError = () => {
    const real = typeof verify === 'function' ? verify.call(h) : null;
    if (real !== null && real !== undefined) return real;
    try {
      return wrongHostError(s, host) ?? null;
    } catch (err) {
      warn(err);
      return null;
    }
  };
}

/**
 * A request given a kept-alive TLS connection has no handshake to fail (a certificate problem
 * cannot happen on it for real): as for `refused` on one, the socket is destroyed with the error at
 * once, so the rule does what it says and the trace's `whatIf` is true.
 */
export function failKeptTls(s: SocketLike, spec: Extract<FailSpec, { kind: 'tls' }>, host: string): void {
  if (s.destroyed) return;
  const err = spec.tls === 'expired' ? expiredError() : wrongHostError(s, host);
  if (err !== undefined) s.destroy(err);
}

/**
 * What a throttled link holds for the program while its timers are late (a busy loop, a loaded
 * machine): the bytes that arrived meanwhile, up to a kernel receive buffer's worth, are read at
 * once after the stall, as from a real slow link; idle time with nothing to deliver earns nothing.
 */
const THROTTLE_BUFFER = 256 * 1024;

/** A body paced at a rate: `add` queues a chunk (null: the end), `stop` drops what is left. */
export interface Pacer {
  add(chunk: Buffer | null): void;
  stop(): void;
}

/**
 * Delivers chunks to `deliver` at `rate` bytes a second, in slices every 10 ms, the end (null) in
 * its place; `alive` false stops it (the connection went). Shared by the http and http2 throttles.
 */
export function pacer(rate: number, deliver: (c: Buffer | null) => void, alive: () => boolean): Pacer {
  const queue: (Buffer | null)[] = [];
  let timer: NodeJS.Timeout | undefined;
  let last = 0;
  let allowance = 0;
  const drain = () => {
    const now = performance.now();
    allowance = Math.min(allowance + ((now - last) / 1000) * rate, Math.max(rate / 10, THROTTLE_BUFFER));
    last = now;
    while (queue.length > 0 && alive()) {
      const c = queue[0];
      if (c === null) {
        queue.shift();
        deliver(null);
        continue;
      }
      const n = Math.floor(Math.min(allowance, c.length));
      if (n <= 0) break;
      allowance -= n;
      if (n === c.length) queue.shift();
      else queue[0] = c.subarray(n);
      deliver(c.subarray(0, n));
    }
    timer = queue.length > 0 && alive() ? setTimeout(drain, 10) : undefined;
  };
  return {
    add(chunk) {
      queue.push(chunk);
      if (timer === undefined) {
        // Nothing was waiting: the time since the last delivery was idle, not owed.
        last = performance.now();
        timer = setTimeout(drain, 0);
      }
    },
    stop() {
      clearTimeout(timer);
      queue.length = 0;
    },
  };
}
