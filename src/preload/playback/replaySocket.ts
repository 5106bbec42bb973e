/**
 * A replayed request's socket, held before it reaches the network (docs/replay.md). The what-if
 * actions' way (src/preload/http/httpWhatIf.ts): the socket's TCP handle and its lookup are
 * Node's own, only the calls that would reach the network wait here until the collector's answer
 * says what to do with them:
 *
 *   - held: net's name lookup (the `lookup` in the connect options) and the handle's `connect` are
 *     taken and wait; what the request writes waits in the socket, as on any socket still
 *     connecting; a ref'd timer keeps the process alive meanwhile;
 *   - answered: the lookup completes, the connect completes on the handle without a system call
 *     (for TLS, the handshake is done at once, as the what-if stand-ins do), what was and is written
 *     is accepted and dropped, reads never start, and the recorded bytes are pushed into the
 *     socket's readable side, so Node's own parser reads them; the connection is never pooled and
 *     never marked as one that reached the network;
 *   - refused, DNS failure, TLS failure, reset: the error Node makes for that failure, through the
 *     path a real one takes (the handle's completion with ECONNREFUSED; the lookup's error; the
 *     socket destroyed with the certificate's error or `read ECONNRESET`); the writes waiting in
 *     the socket fail as Node fails them (`ERR_SOCKET_CLOSED_BEFORE_CONNECTION`, which some
 *     clients report on Node 24 and later);
 *   - passed: the lookup and the connect are made for real, and what waits in the socket is written.
 *
 * Never throws into the program.
 */

import type * as netTypes from 'node:net';
import { connOf } from '../connection/socketHooks';
import { now } from '../clock/epoch';
import { errnoOf } from '../rules/whatIfSocket';
import { orig } from '../transport/collectorNet';
import { observeOnce } from '../emitTaps';

type Fn = (...args: unknown[]) => unknown;
type Handle = { connect?: Fn; connect6?: Fn; start?: () => void };
type ConnectReq = { oncomplete?: (status: number, handle: Handle, req: ConnectReq, r: boolean, w: boolean) => void };
type WriteCb = (err?: Error | null) => void;
/** A socket as the replay reaches into it (its handle and its stream methods). */
export type Sock = netTypes.Socket & {
  _handle?: Handle | null;
  _write: (data: unknown, enc: string, cb: WriteCb) => void;
  _writev?: (chunks: Array<{ chunk: unknown; encoding: string }>, cb: WriteCb) => void;
  _final: (cb: WriteCb) => void;
  _read: (n: number) => void;
  encrypted?: boolean;
  authorized?: boolean;
  _secureEstablished?: boolean;
  secureConnecting?: boolean;
};
type LookupCb = (err: Error | null, address?: unknown, family?: number) => void;

/** Where a held socket stands. */
export type HoldState = 'held' | 'answered' | 'refused' | 'passed';

/** What is held of a socket. */
export interface Hold {
  socket: Sock;
  host: string;
  port: number;
  state: HoldState;
  /** net's lookup, waiting (a host name). */
  lookup?: { host: string; opts: { all?: boolean; family?: number }; cb: LookupCb };
  /** The program's own lookup function from the connect options (used for real when passed). */
  programLookup?: Fn;
  /** The handle and its connect as net called it, waiting. */
  handle?: Handle;
  realConnect?: Fn;
  realConnect6?: Fn;
  connectCall?: { name: 'connect' | 'connect6'; args: unknown[] };
  /** The address an answer gives the lookup (the recorded server's). */
  address?: string;
  alive?: NodeJS.Timeout;
}

const holds = new WeakMap<object, Hold>();

/** The hold of a socket, if the replay holds it. */
export function holdOf(socket: object | undefined): Hold | undefined {
  return socket === undefined ? undefined : holds.get(socket);
}

/** The target of connect arguments (every shape `socket.connect()` accepts), or undefined for a pipe. */
function optionsOf(args: unknown[]): { options: Record<string, unknown>; rebuild: (o: Record<string, unknown>) => unknown[] } | undefined {
  const first = args[0];
  if (Array.isArray(first)) {
    // net.connect() passes pre-normalized [options, cb] tagged with an internal symbol: kept.
    if (!first[0] || typeof first[0] !== 'object') return undefined;
    return {
      options: first[0] as Record<string, unknown>,
      rebuild: (o) => {
        const copy = first.slice() as unknown[] & Record<symbol, unknown>;
        for (const sym of Object.getOwnPropertySymbols(first)) copy[sym] = (first as unknown as Record<symbol, unknown>)[sym];
        copy[0] = o;
        return [copy, ...args.slice(1)];
      },
    };
  }
  if (first && typeof first === 'object') return { options: first as Record<string, unknown>, rebuild: (o) => [o, ...args.slice(1)] };
  if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    const host = typeof args[1] === 'string' ? args[1] : undefined;
    const cb = args.find((a) => typeof a === 'function');
    return { options: { port: first, host }, rebuild: (o) => (cb ? [o, cb] : [o]) };
  }
  return undefined;
}

/**
 * A socket about to connect for a replayed request (the net connect hook asks, socketHooks.ts):
 * the connect arguments with the held lookup in place of net's, and `after`, to call once the
 * socket's connect returned (its handle then exists: its connect is held). Undefined for a pipe.
 */
export function holdDial(socket: object, args: unknown[]): { args: unknown[]; after: () => void } | undefined {
  const found = optionsOf(args);
  if (found === undefined || found.options.path != null || holds.has(socket)) return undefined;
  const s = socket as Sock;
  const host = String(found.options.host ?? 'localhost').replace(/^\[|\]$/g, '');
  const hold: Hold = { socket: s, host, port: Number(found.options.port) || 0, state: 'held' };
  if (typeof found.options.lookup === 'function') hold.programLookup = found.options.lookup as Fn;
  const lookup = function lookup(name: string, opts: unknown, cb?: unknown): void {
    const callback = (typeof opts === 'function' ? opts : cb) as LookupCb;
    const o = (typeof opts === 'object' && opts !== null ? opts : {}) as { all?: boolean; family?: number };
    hold.lookup = { host: name, opts: o, cb: callback };
    settleLookup(hold);
  };
  holds.set(socket, hold);
  // Nothing of a held socket keeps the process alive (no lookup in flight, no handle active).
  hold.alive = keepAlive(s);
  return {
    args: found.rebuild({ ...found.options, lookup }),
    after: () => holdHandle(hold),
  };
}

/**
 * A connected socket keeps the process alive until it closes or is unref'd; one the replay answers
 * never has an active handle: a ref'd timer stands in for it, following the socket's ref() and
 * unref() (undici unrefs an idle keep-alive socket, an http2 session's `unref()` its socket, so a
 * program exits as soon as against a server). Returns the timer (cleared on close).
 */
export function keepAlive(socket: object): NodeJS.Timeout {
  const alive = orig.setTimeout(() => {}, 1 << 30);
  const s = socket as { ref?: () => unknown; unref?: () => unknown };
  const { ref, unref } = s;
  s.ref = function (this: unknown) {
    alive.ref();
    return ref?.call(this);
  };
  s.unref = function (this: unknown) {
    alive.unref();
    return unref?.call(this);
  };
  observeOnce(socket, 'close', () => orig.clearTimeout(alive));
  return alive;
}

/** Holds the handle's connect (net calls it after the lookup, or on the next tick for an address). */
function holdHandle(hold: Hold): void {
  const h = hold.socket._handle;
  if (h === null || h === undefined || typeof h.connect !== 'function' || hold.handle !== undefined) return;
  hold.handle = h;
  hold.realConnect = h.connect;
  hold.realConnect6 = h.connect6;
  const holder = (name: 'connect' | 'connect6'): Fn =>
    function (...args: unknown[]): number {
      hold.connectCall = { name, args };
      settleConnect(hold);
      return 0;
    };
  h.connect = holder('connect');
  h.connect6 = holder('connect6');
}

/** What is written to a socket that never reaches a server: accepted and dropped, as a kernel's buffer takes it. */
function dropWrites(s: Sock): void {
  s._write = (_data, _enc, cb) => process.nextTick(cb);
  s._writev = (_chunks, cb) => process.nextTick(cb);
  s._final = (cb) => process.nextTick(cb);
  // A write made while connecting waits in net's _writeGeneric, which calls itself again on `connect`.
  (s as Sock & { _writeGeneric: (w: boolean, d: unknown, e: string, cb: WriteCb) => void })._writeGeneric = (_w, _d, _e, cb) =>
    process.nextTick(cb);
}

/** The lookup's answer, once the hold is decided. */
function settleLookup(hold: Hold): void {
  const l = hold.lookup;
  if (l === undefined || hold.state === 'held') return;
  hold.lookup = undefined;
  if (hold.state === 'passed') {
    const dns = require('node:dns') as typeof import('node:dns');
    (hold.programLookup ?? (dns.lookup as unknown as Fn))(l.host, l.opts, l.cb);
    return;
  }
  const net = require('node:net') as typeof import('node:net');
  const address = hold.address !== undefined && net.isIP(hold.address) !== 0 ? hold.address : '0.0.0.0';
  const family = net.isIP(address);
  if (l.opts.all) l.cb(null, [{ address, family }]);
  else l.cb(null, address, family);
}

/** The handle's connect, once the hold is decided and net called it. */
function settleConnect(hold: Hold): void {
  const call = hold.connectCall;
  const h = hold.handle;
  if (call === undefined || h === undefined || hold.state === 'held') return;
  hold.connectCall = undefined;
  const s = hold.socket;
  const req = call.args[0] as ConnectReq;
  if (hold.state === 'passed') {
    const real = call.name === 'connect' ? hold.realConnect : hold.realConnect6;
    const err = typeof real === 'function' ? (real.apply(h, call.args) as number) : -1;
    if (err !== 0 && typeof req.oncomplete === 'function') req.oncomplete(err, h, req, false, false);
    return;
  }
  const status = hold.state === 'answered' ? 0 : (errnoOf('ECONNREFUSED') ?? -111);
  orig.setImmediate(() => {
    if (!s.destroyed && typeof req.oncomplete === 'function') req.oncomplete(status, h, req, status === 0, status === 0);
  });
}

/**
 * The trace's connection of a socket that never reached the network (docs/trace-format.md
 * `whatIf` on dials). `ready`: the replay took the request now, as a server would once it had it:
 * what comes after is the answer's `wait` (with `--replay-timing recorded`, its recorded one), what
 * came before is `blocked` (the request being handed over, the collector's round trip).
 */
function standIn(s: Sock, ready = false): void {
  const conn = connOf.get(s);
  if (conn === undefined) return;
  conn.whatIf = true;
  // No lookup happened either: the one net made was the replay's.
  conn.lookups.length = 0;
  if (ready) conn.readyAt = now();
}

/**
 * Answers on the socket in the server's place: the lookup gives `address`, the connect completes,
 * a TLS handshake is done at once, reads never start; `ready` runs once the socket is connected
 * (TLS: secure), with the push to its readable side. The socket never goes back to a pool.
 */
export function answerOn(
  hold: Hold,
  address: string | undefined,
  ready: (push: (c: Buffer | null) => void) => void,
  tlsFailure?: Error,
): void {
  if (hold.state !== 'held') return;
  const s = hold.socket;
  standIn(s, true);
  hold.state = 'answered';
  hold.address = address;
  dropWrites(s);
  s._read = () => {};
  const h = hold.handle ?? s._handle ?? undefined;
  if (s.encrypted === true && h && typeof h.start === 'function' && tlsFailure !== undefined) {
    // The handshake fails as the certificate's check does: the socket ends with its error.
    h.start = () => {
      orig.setImmediate(() => {
        if (!s.destroyed) s.destroy(tlsFailure);
      });
    };
  } else if (s.encrypted === true && h && typeof h.start === 'function') {
    // TLSSocket._start calls the TLS handle's start() on connect: no handshake; secure at once.
    h.start = () => {
      s.secureConnecting = false;
      s._secureEstablished = true;
      s.authorized = true;
      orig.setImmediate(() => {
        if (!s.destroyed) s.emit('secureConnect');
      });
    };
  }
  observeOnce(s, s.encrypted === true && tlsFailure === undefined ? 'secureConnect' : 'connect', () =>
    // After the socket's own listeners (the agent's, the request's) ran.
    orig.setImmediate(() => {
      if (s.destroyed) return;
      // Not TLS (a recording's inconsistency): the failure comes once connected.
      if (tlsFailure !== undefined && s.encrypted !== true) s.destroy(tlsFailure);
      else if (tlsFailure === undefined) ready((c) => void s.push(c));
    }),
  );
  // Never pooled: an agent keeping it would send its next request to no server.
  s.prependListener('free', () => s.destroy());
  settleLookup(hold);
  settleConnect(hold);
}

/**
 * Refuses the connection as a closed port does: with the recorded server's `address`, the lookup
 * gives it and the connect completes with ECONNREFUSED (Node builds `connect ECONNREFUSED
 * address:port`); without one (a host name never resolved), the socket is destroyed with that
 * error naming the host.
 */
export function refuseOn(hold: Hold, address: string | undefined, refused: () => Error): void {
  if (hold.state !== 'held') return;
  const s = hold.socket;
  standIn(s);
  hold.state = 'refused';
  const net = require('node:net') as typeof import('node:net');
  const known = address !== undefined && net.isIP(address) !== 0 ? address : net.isIP(hold.host) !== 0 ? hold.host : undefined;
  if (known === undefined) {
    orig.setImmediate(() => {
      if (!s.destroyed) s.destroy(refused());
    });
    return;
  }
  hold.address = known;
  settleLookup(hold);
  settleConnect(hold);
}

/** Fails the name lookup with `err` (net destroys the socket with it, as after a real lookup). */
export function failLookupOn(hold: Hold, err: Error): void {
  if (hold.state !== 'held') return;
  const s = hold.socket;
  standIn(s);
  hold.state = 'refused';
  const l = hold.lookup;
  if (l !== undefined) {
    hold.lookup = undefined;
    l.cb(err);
    return;
  }
  // An address (no lookup to fail), or the lookup not called yet: the socket ends with the error.
  orig.setImmediate(() => {
    if (!s.destroyed) s.destroy(err);
  });
}

/** Lets the socket reach the network: the lookup and connect are made for real; what waits in it is written then. */
export function passOn(hold: Hold): void {
  if (hold.state !== 'held') return;
  const s = hold.socket;
  hold.state = 'passed';
  if (hold.alive !== undefined) orig.clearTimeout(hold.alive);
  if (hold.handle !== undefined) {
    hold.handle.connect = hold.realConnect;
    hold.handle.connect6 = hold.realConnect6;
  }
  // Never pooled either: the next request to this origin must get a socket the replay holds.
  s.prependListener('free', () => s.destroy());
  settleLookup(hold);
  settleConnect(hold);
}
