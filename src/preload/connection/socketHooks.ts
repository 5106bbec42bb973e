/**
 * Connection-level tracing: DNS lookups, each TCP connect attempt, the 4-tuple, TLS handshakes,
 * bytes per connection.
 *
 * Workaround: Node 20 publishes `net.client.socket` only for plain `net.connect()`, not for TLS
 * sockets, and there is no DNS or TLS diagnostics channel on any version (docs/platform.md). Every
 * client connection (http Agent, tls.connect, undici's connector, http2) goes through
 * `net.Socket.prototype.connect`, so that one method is wrapped; everything else is learned from
 * events the socket emits anyway ('lookup', 'connectionAttempt*', 'connect', 'secure',
 * 'secureConnect', 'close'), seen before its listeners without being one (emitTaps.ts): the
 * program's `listenerCount()` and `eventNames()` are unchanged, and so is the socket Node hands
 * over in a request's 'connect' or 'upgrade'.
 */

import type * as net from 'node:net';
import type * as tls from 'node:tls';
import type { SocketOp } from '../../trace/contract/types';
import type { ConnState, Hook, Keyed, Tracer } from '../tracer';
import { isTlsCode, newHook, overrideMethod, replaceFunction, Slot } from '../tracer';
import { now } from '../clock/epoch';
import { CLOSE, observeEvents, tapEmit } from '../emitTaps';
import { HANDSHAKE_EVENTS, handshakeWatch, watchHandshake } from './tlsHandshake';
import { DETAIL_BIT } from '../../rules/details';
import { dnsLookupFor } from '../dns/perRequest';
import { beginProgramLookup, endProgramLookup, enterConnect, programLookupIn } from '../dns/programLookup';
import { gatedConns, opsWanted } from './opsGate';
import { addOp, sampleTunnel, tunnelSampler, type OpSampler } from './opSampler';

/** Connection state per socket. */
export const connOf = new Slot<ConnState>('nettrace.connection', (key) => (obj) => (obj as Keyed<ConnState>)[key]);

/**
 * The `details` kinds the trace rules ask for now (DETAIL_BIT; 0 for none). A registration, not an
 * import (index.ts gives the rules' reader): the rules' side of the preload sits above this file.
 */
let ruleDetailKinds: () => number = () => 0;

/** Registers the reader of the rules' `details` kinds (index.ts: `preloadRules.detailKinds`). */
export function ruleDetailKindsFrom(read: () => number): void {
  ruleDetailKinds = read;
}

type AnySocket = net.Socket & { errored?: Error | null; _tlsOptions?: { servername?: string } };

/** The connect hook (its `enabled` flag gates the per-request socket-op trace's wrappers too). */
let netHook: Hook | undefined;

/** Node's `net`, once the program loaded it (see builtins.ts). */
let netMod: typeof import('node:net');

/** Installs the connect wrapper (once `net` is loaded: builtins.ts). */
export function installSocketHooks(t: Tracer): void {
  const hook = newHook('net');
  netHook = hook;
  netMod = require('node:net') as typeof import('node:net');
  const proto = netMod.Socket.prototype as unknown as { connect: (...args: unknown[]) => unknown };
  const original = proto.connect;
  const wrapped = function connect(this: AnySocket, ...args: unknown[]): unknown {
    let callArgs = args;
    if (hook.enabled && !connOf.has(this)) callArgs = t.guard(hook, () => onConnect(t, hook, this, args)) ?? args;
    // A replay holds the sockets of the requests it answers (src/preload/playback/replaySocket.ts).
    const held = t.replayDial !== undefined ? t.replayDial(this, callArgs) : undefined;
    if (held !== undefined) callArgs = held.args;
    // Net calls the lookup function inside: a `dns.lookup` it makes is this dial's (dns/programLookup.ts).
    const outer = enterConnect(connOf.get(this));
    try {
      return original.apply(this, callArgs);
    } finally {
      enterConnect(outer);
      held?.after();
    }
  };
  replaceFunction(proto, 'connect', wrapped, original);
  // The socket's events are observed without listeners (emitTaps.ts); TLSSocket inherits this.
  tapEmit(proto);
}

/** Installs the TLS hooks (once `tls` is loaded, which loads `net` first: after installSocketHooks). */
export function installTlsHooks(t: Tracer): void {
  if (netHook) installTlsTunnelHook(t, netHook);
}

/**
 * TLS over an existing socket — `tls.connect({ socket })`, as undici's ProxyAgent,
 * https-proxy-agent and hand-written CONNECT code do after a proxy's CONNECT — makes no connect
 * call, so `tls.connect` itself is wrapped to see it. The new TLS session is recorded as a
 * tlsTunnel over the traced connection underneath; when that connection is TLS as well (an
 * HTTPS proxy), its own session is marked `forProxy`.
 */
function installTlsTunnelHook(t: Tracer, hook: Hook): void {
  const tlsModule = require('node:tls') as Record<string, Function>;
  const original = tlsModule.connect;
  const wrapped = function (this: unknown, ...args: unknown[]): unknown {
    const inner = original.apply(this, args) as tls.TLSSocket;
    if (hook.enabled) {
      t.guard(hook, () => {
        const opts = args.find((a) => a !== null && typeof a === 'object') as
          { socket?: object; servername?: string; host?: string } | undefined;
        const outer = opts?.socket ? connOf.get(opts.socket) : undefined;
        if (outer && !connOf.has(inner)) onTunnel(t, hook, inner, outer, opts?.servername ?? opts?.host, opts?.socket);
      });
    }
    return inner;
  };
  replaceFunction(tlsModule, 'connect', wrapped, original);
}

/** `raw`: the socket the TLS session takes over (the connection `outer` was traced on). */
function onTunnel(t: Tracer, hook: Hook, socket: tls.TLSSocket, outer: ConnState, servername: string | undefined, raw?: object): void {
  const base = outer.tunnelOf ?? outer;
  const begin = now();
  const conn: ConnState = {
    tcpId: base.tcpId,
    dialId: base.dialId,
    tlsId: t.id('t'),
    host: servername ?? base.host,
    port: base.port,
    dialBeginAt: begin,
    lookups: [],
    attempts: [],
    connected: true,
    connectedAt: begin,
    tuple: base.tuple,
    tls: true,
    secure: false,
    servername,
    requestCount: 0,
    closed: false,
    tunnelOf: base,
  };
  // A request over the tunnel counts on the connection that carries it, whichever hook counts it.
  let own = 0;
  Object.defineProperty(conn, 'requestCount', {
    enumerable: true,
    get: () => own,
    set: (n: number) => {
      base.requestCount += n - own;
      own = n;
    },
  });
  connOf.set(socket, conn);
  // TLS takes the connection over: its reads and writes go on in the connection's op list, marked
  // with their layer; what it moves on the socket underneath, in C++, is sampled (tunnelSampler).
  if (base.socketTrace) traceSocketOps(t, hook, socket as unknown as AnySocket, conn, base.socketTrace, false, tunnelSampler(t, base, raw));
  if (outer.tls && outer.tlsId) t.record('tlsTunnels', outer.tlsId, { forProxy: true });
  t.record('tlsTunnels', conn.tlsId!, {
    tcpConn: base.tcpId,
    forProxy: false,
    handshakeBeginAt: begin,
    handshakeErr: null,
    serverName: servername,
  });
  // Seen before tls.connect's own 'secure' listener (emitTaps.ts), which may refuse the certificate.
  watchHandshake(t, hook, socket, conn);
  observeEvents(socket, CLOSE, (event) => {
    if (event !== 'close' || conn.closed) return;
    t.guard(hook, () => {
      conn.closed = true;
      if (conn.secure) return;
      const err = (socket as AnySocket).errored ?? undefined;
      const code = err ? (err as NodeJS.ErrnoException).code : undefined;
      t.record('tlsTunnels', conn.tlsId!, {
        handshakeEndAt: now(),
        handshakeErr: err ? err.message : 'connection closed during the TLS handshake',
        handshakeErrCode: code,
      });
    });
  });
}

/** Connect arguments with `lookup` set in a copy of the options (every accepted shape). */
function withLookup(args: unknown[], lookup: Function): unknown[] | undefined {
  const first = args[0];
  if (Array.isArray(first)) {
    // net.connect() passes pre-normalized [options, cb] tagged with an internal symbol: keep it.
    const copy = first.slice() as unknown[] & Record<symbol, unknown>;
    for (const sym of Object.getOwnPropertySymbols(first)) copy[sym] = (first as unknown as Record<symbol, unknown>)[sym];
    if (first[0] && typeof first[0] === 'object' && (first[0] as { lookup?: unknown }).lookup == null)
      copy[0] = { ...(first[0] as object), lookup };
    else return undefined;
    return [copy, ...args.slice(1)];
  }
  if (first && typeof first === 'object') {
    if ((first as { lookup?: unknown }).lookup != null) return undefined;
    return [{ ...(first as object), lookup }, ...args.slice(1)];
  }
  if (typeof first === 'number' || typeof first === 'string') {
    const host = typeof args[1] === 'string' ? args[1] : undefined;
    const cb = args.find((a) => typeof a === 'function');
    return cb ? [{ port: first, host, lookup }, cb] : [{ port: first, host, lookup }];
  }
  return undefined;
}

/** Reads host/port from the many shapes `socket.connect()` accepts; undefined for pipes. */
function targetOf(args: unknown[]): { host: string; port: number } | undefined {
  let opts = args[0];
  if (Array.isArray(opts)) opts = opts[0];
  if (opts && typeof opts === 'object') {
    const o = opts as { path?: unknown; port?: unknown; host?: unknown };
    if (o.path != null) return undefined;
    const port = Number(o.port);
    return { host: typeof o.host === 'string' && o.host ? o.host : 'localhost', port };
  }
  if (typeof opts === 'number' || (typeof opts === 'string' && /^\d+$/.test(opts))) {
    return { host: typeof args[1] === 'string' ? args[1] : 'localhost', port: Number(opts) };
  }
  return undefined;
}

/**
 * Records a new connection and returns the arguments to connect with: the same, or — with the
 * DNS trace on, for a host name and no lookup of the program's own — a copy whose options carry
 * the in-process resolver's lookup for this dial (the program's objects are never modified).
 */
function onConnect(t: Tracer, hook: Hook, socket: AnySocket, args: unknown[]): unknown[] | undefined {
  const target = targetOf(args);
  if (!target) return undefined;
  if (t.resolver?.isOwn(socket)) return undefined;
  t.beforeConnect?.();
  const begin = now();
  const host = target.host.startsWith('[') ? target.host.slice(1, -1) : target.host;
  const conn: ConnState = {
    tcpId: t.id('c'),
    dialId: t.id('d'),
    host,
    port: target.port,
    dialBeginAt: begin,
    lookups: [],
    attempts: [],
    connected: false,
    // A TLSSocket says so from its constructor on (reading it needs no `tls` module).
    tls: (socket as { encrypted?: unknown }).encrypted === true,
    secure: false,
    requestCount: 0,
    closed: false,
    dialFor: t.constructingRequest,
  };
  connOf.set(socket, conn);
  t.lastConn = conn;
  t.lastSocket = socket;
  const key = `${host}:${conn.port}`;
  const dialingTo = t.dialingTo;
  dialingTo.set(key, conn);
  const notDialing = () => {
    if (dialingTo.get(key) === conn) dialingTo.delete(key);
  };
  if (conn.tls) {
    conn.tlsId = t.id('t');
    const opts = socket._tlsOptions;
    conn.servername = opts?.servername || (netMod.isIP(host) ? undefined : host);
  }
  if (t.config.sockTrace) traceSocketOps(t, hook, socket, conn);
  // A `details` rule may turn the socket-op trace on for some requests: the wrappers go on now
  // (before the first write), recording only while such a request is on the connection.
  else if ((ruleDetailKinds() & DETAIL_BIT.sockTrace) !== 0) traceSocketOps(t, hook, socket, conn, undefined, true);
  // The program's own lookup function, if it gave one, is not a DNS lookup (dns/programLookup.ts).
  const own = netMod.isIP(host) === 0 ? programLookupIn(Array.isArray(args[0]) ? args[0][0] : args[0]) : undefined;
  if (own) beginProgramLookup(conn, own, begin);
  else if (netMod.isIP(host) === 0) conn.lookups.push({ host, beginAt: begin, addresses: [], error: null });
  /**
   * For TLS, the socket's own bytesRead/bytesWritten count plaintext; the TCP handle underneath
   * (TLSWrap's `_parent`, Node 18–24) counts what crossed the wire. Kept to read at close.
   */
  let wire: { bytesRead?: number; bytesWritten?: number } | undefined;
  const entry = { conn, bytes: () => byteCounts(socket, wire) };
  t.openConns.add(entry);

  let callArgs: unknown[] | undefined;
  if (netMod.isIP(host) === 0) {
    if (t.config.dnsTrace) callArgs = t.resolver ? withLookup(args, t.resolver.lookup(conn.dialId)) : undefined;
    // A `details` rule may turn the DNS trace on for some requests (src/preload/dns/perRequest.ts).
    else if ((ruleDetailKinds() & DETAIL_BIT.dnsTrace) !== 0) {
      const lookup = dnsLookupFor(t, conn);
      if (lookup) callArgs = withLookup(args, lookup);
    }
  }
  // Seen before the socket's listeners run, without being one (emitTaps.ts). A TLS socket's
  // 'secure' is seen before tls.connect's own listener, which destroys the socket when the
  // certificate is refused: the one moment a rejected server's chain is readable.
  const handshake = conn.tls ? handshakeWatch(t, hook, socket as unknown as tls.TLSSocket, conn, notDialing) : undefined;
  let closeSeen = false;
  observeEvents(socket, conn.tls ? CONN_TLS_EVENTS : CONN_EVENTS, (event, a, b, c, d) => {
    switch (event) {
      case 'lookup':
        return t.guard(hook, () => {
          const err = a as Error | null;
          const address = b as string | undefined;
          if (conn.programLookup) return endProgramLookup(conn, err, address);
          const lookup = conn.lookups[conn.lookups.length - 1];
          if (!lookup) return;
          if (lookup.endAt === undefined) lookup.endAt = now();
          if (err) lookup.error = (err as NodeJS.ErrnoException).code ?? err.message;
          else if (address && !lookup.addresses.includes(address)) lookup.addresses.push(address);
        });
      case 'connectionAttempt':
        return t.guard(hook, () => {
          conn.attempts.push({ address: a as string, port: b as number, family: c as number, beginAt: now(), error: null });
        });
      case 'connectionAttemptFailed':
      case 'connectionAttemptTimeout':
        return t.guard(hook, () => {
          const attempt = findAttempt(conn, a as string, b as number);
          if (!attempt) return;
          attempt.endAt = now();
          const error = event === 'connectionAttemptFailed' ? (d as Error | undefined) : undefined;
          attempt.error = error ? ((error as NodeJS.ErrnoException).code ?? error.message) : 'ETIMEDOUT';
        });
      case 'connect':
        if (conn.connected) return;
        return t.guard(hook, () => {
          // A stand-in a what-if rule answered on (http/httpWhatIf.ts): no connect happened.
          if (conn.whatIf) return notDialing();
          // A TLS connection is still being dialed (for undici's connect timeout) until its handshake ends.
          if (!conn.tls) notDialing();
          if (conn.tls) wire = (socket as unknown as { _handle?: { _parent?: typeof wire } })._handle?._parent;
          connected(t, socket, conn);
        });
      case 'close':
        if (closeSeen) return;
        closeSeen = true;
        return t.guard(hook, () => {
          t.openConns.delete(entry);
          // Kept for the same tick's readers only: a closed socket (and the request it last
          // carried, its `_httpMessage`) must not stay reachable from here.
          if (t.lastSocket === socket) t.lastSocket = undefined;
          notDialing();
          closed(t, socket, conn, wire);
        });
      default:
        if (!conn.whatIf) handshake?.(event);
    }
  });
  return callArgs;
}

/** The events a connection's observer is for (a TLS connection's: its handshake's too). */
const CONN_EVENTS: readonly string[] = [
  'lookup',
  'connectionAttempt',
  'connectionAttemptFailed',
  'connectionAttemptTimeout',
  'connect',
  'close',
];
const CONN_TLS_EVENTS: readonly string[] = [...CONN_EVENTS, ...HANDSHAKE_EVENTS];

/** The socket connected: the winning attempt, the 4-tuple, the connection's record (and its TLS tunnel's). */
function connected(t: Tracer, socket: AnySocket, conn: ConnState): void {
  const at = now();
  conn.connected = true;
  conn.connectedAt = at;
  if (!conn.tls) conn.readyAt = at;
  // The winner is the attempt still pending (happy eyeballs runs one attempt at a time). Its
  // address saves a getpeername() syscall; only the local end needs getsockname().
  let a = pendingAttempt(conn);
  if (!a) {
    // Connecting straight to an IP emits no 'connectionAttempt' event on some Node versions.
    const remote = netMod.isIP(conn.host) ? conn.host : (socket.remoteAddress ?? '');
    a = {
      address: remote,
      port: conn.port,
      family: netMod.isIPv6(remote) ? 6 : 4,
      beginAt: conn.lookups[0]?.endAt ?? conn.dialBeginAt,
      error: null,
    };
    conn.attempts.push(a);
  }
  const remote = a.address;
  a.endAt = at;
  // Keep the successful attempt last, as the dial's record promises.
  conn.attempts.splice(conn.attempts.indexOf(a), 1);
  conn.attempts.push(a);
  conn.tuple = {
    srcIP: socket.localAddress ?? '',
    srcPort: socket.localPort ?? 0,
    dstIP: remote,
    dstPort: a.port,
  };
  t.sendConn(conn);
  if (conn.tls)
    t.record('tlsTunnels', conn.tlsId!, {
      tcpConn: conn.tcpId,
      forProxy: false,
      handshakeBeginAt: at,
      handshakeErr: null,
      serverName: conn.servername,
    });
}

/** The socket closed: the dial's end when it never connected, the byte counts, a failed TLS handshake. */
function closed(t: Tracer, socket: AnySocket, conn: ConnState, wire: { bytesRead?: number; bytesWritten?: number } | undefined): void {
  conn.closed = true;
  const at = now();
  const err = socket.errored ?? undefined;
  const code = err ? ((err as NodeJS.ErrnoException).code ?? err.message) : undefined;
  if (!conn.connected) {
    const own = conn.programLookup;
    if (own && own.endAt === undefined) endProgramLookup(conn, conn.attempts.length === 0 ? code : undefined, undefined, at);
    const lookup = conn.lookups[conn.lookups.length - 1];
    if (lookup && lookup.endAt === undefined) {
      lookup.endAt = at;
      if (code && conn.attempts.length === 0) lookup.error = code;
    }
    const last = conn.attempts[conn.attempts.length - 1];
    if (last && last.endAt === undefined) {
      last.endAt = at;
      last.error = code ?? 'closed';
    }
  }
  sampleTunnel(conn);
  const bytes = byteCounts(socket, wire);
  if (conn.connected) t.sendClose(conn, { closeAt: at, sent: bytes.sent, recv: bytes.recv });
  else t.sendConn(conn, { closeAt: at, sent: 0, recv: bytes.recv, error: code ?? 'closed before connecting' });
  if (conn.tls && conn.connected && !conn.secure) {
    t.record('tlsTunnels', conn.tlsId!, {
      handshakeEndAt: at,
      handshakeErr: err ? err.message : 'connection closed during the TLS handshake',
      handshakeErrCode: err && isTlsCode((err as NodeJS.ErrnoException).code) ? (err as NodeJS.ErrnoException).code : code,
    });
  }
}

type WriteGeneric = (writev: boolean, data: unknown, encoding: BufferEncoding, cb: (err?: Error | null) => void) => unknown;

/**
 * The socket-op trace: every read (each chunk the socket pushes, as it arrives) and every write
 * (each chunk handed to the handle, returning when libuv completed it). Wraps the socket's own
 * `push` and `_writeGeneric` on the instance: no listener, so flow mode and chunking are
 * unchanged. Under TLS these are the TLS socket's plaintext reads and writes. `into`: the list
 * of the connection underneath, for a TLS session over a CONNECT tunnel (its ops are marked
 * with their layer); `wire` then samples that connection's own socket before each op (the
 * ciphertext TLS moved to get it, or before it is written).
 */
function traceSocketOps(
  t: Tracer,
  hook: Hook,
  socket: AnySocket,
  conn: ConnState,
  into?: NonNullable<ConnState['socketTrace']>,
  gated = false,
  wire?: OpSampler,
): void {
  const layer = conn.tls ? ('tls' as const) : ('tcp' as const);
  // Gated: the list is made at the first operation kept, so a connection that never carried a
  // request asking for it has no socketTrace at all.
  if (gated) gatedConns.add(conn);
  else if (!into) {
    conn.socketTrace = { socketOps: [] as SocketOp[], droppedOps: 0, layer };
    tracedSockets.set(conn, socket as net.Socket);
  }
  // Ops of a session over a tunnel are marked even when the list is TLS too (an HTTPS proxy).
  const mark = into ? layer : undefined;
  const keep = (op: SocketOp): boolean => {
    if (mark) op.layer = mark;
    return addOp(t, into ?? (conn.socketTrace ??= { socketOps: [] as SocketOp[], droppedOps: 0, layer }), op);
  };
  const s = socket as unknown as {
    push: (chunk: unknown, enc?: BufferEncoding) => boolean;
    _writeGeneric: WriteGeneric;
    connecting: boolean;
  };
  const push = s.push;
  overrideMethod(s, 'push', function (this: unknown, chunk: unknown, enc?: BufferEncoding): boolean {
    if (hook.enabled && chunk != null && (!gated || opsWanted(socket, conn))) {
      wire?.sample();
      const at = now();
      keep({ type: 'read', callAt: at, returnAt: at, dataLen: byteLength(chunk, enc), returnErr: null });
    }
    return push.call(this, chunk, enc);
  });
  const writeGeneric = s._writeGeneric;
  overrideMethod(s, '_writeGeneric', function (this: typeof s, writev, data, encoding, cb) {
    // While connecting, net re-calls _writeGeneric after 'connect': record it then.
    if (!hook.enabled || this.connecting || (gated && !opsWanted(socket, conn))) return writeGeneric.call(this, writev, data, encoding, cb);
    wire?.sample();
    const op: SocketOp = {
      type: 'write',
      callAt: now(),
      dataLen: writev ? writevLength(data) : byteLength(data, encoding),
      returnErr: null,
    };
    if (!keep(op)) return writeGeneric.call(this, writev, data, encoding, cb);
    return writeGeneric.call(this, writev, data, encoding, (err) => {
      wire?.sample();
      op.returnAt = now();
      if (err) op.returnErr = (err as NodeJS.ErrnoException).code ?? err.message;
      cb(err);
    });
  });
}

/**
 * The op wrappers on a connection for the per-request socket-op trace (opsGate.ts), gated; put
 * on when a connection opened before a sockTrace rule was enabled first carries a request that
 * asks. The connection, or undefined when the sockTrace option traces it anyway or it is not traced.
 */
export function gatedOps(t: Tracer, socket: object): ConnState | undefined {
  const conn = connOf.get(socket);
  if (!conn || !netHook || t.config.sockTrace) return undefined;
  if (!conn.socketTrace && !gatedConns.has(conn)) traceSocketOps(t, netHook, socket as AnySocket, conn, undefined, true);
  return gatedConns.has(conn) ? conn : undefined;
}

/** The socket of each connection whose operations are traced (see tracedSocket). */
const tracedSockets = new WeakMap<ConnState, net.Socket>();

/**
 * The socket of a connection whose operations are traced (the socket-op trace is on), for
 * hooks that see its traffic elsewhere (an HTTP/2 session reads and writes it in C++).
 */
export function tracedSocket(conn: ConnState): net.Socket | undefined {
  // Gated (per-request) traces follow HTTP/1.1 requests only: an HTTP/2 session's traffic is
  // not attributed to one stream.
  return gatedConns.has(conn) ? undefined : tracedSockets.get(conn);
}

function byteLength(chunk: unknown, encoding?: BufferEncoding): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, encoding && encoding !== ('buffer' as BufferEncoding) ? encoding : 'utf8');
  return chunk instanceof Uint8Array ? chunk.byteLength : 0;
}

function writevLength(data: unknown): number {
  let n = 0;
  for (const entry of data as Array<{ chunk?: unknown; encoding?: BufferEncoding } | Uint8Array>) {
    if (entry instanceof Uint8Array) n += entry.byteLength;
    else n += byteLength(entry.chunk, entry.encoding);
  }
  return n;
}

/** Bytes sent and received on the wire: the TCP handle's counts under TLS, else the socket's. */
export function byteCounts(socket: net.Socket, wire?: { bytesRead?: number; bytesWritten?: number }): { sent: number; recv: number } {
  if (wire && typeof wire.bytesRead === 'number' && typeof wire.bytesWritten === 'number')
    return { sent: wire.bytesWritten, recv: wire.bytesRead };
  return { sent: socket.bytesWritten, recv: socket.bytesRead };
}

function pendingAttempt(conn: ConnState) {
  for (let i = conn.attempts.length - 1; i >= 0; i--) {
    const a = conn.attempts[i];
    if (a.endAt === undefined && a.error === null) return a;
  }
  return undefined;
}

function findAttempt(conn: ConnState, ip: string, port: number) {
  for (let i = conn.attempts.length - 1; i >= 0; i--) {
    const a = conn.attempts[i];
    if (a.address === ip && a.port === port) return a;
  }
  return undefined;
}
