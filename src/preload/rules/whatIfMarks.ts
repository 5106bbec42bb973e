/**
 * What-if rules in the preload (issue 51, docs/rules.md "What-if actions"): a `fail` rule makes a
 * request fail the way the network would, with the error Node itself makes for that failure,
 * delivered through the path a real one takes, so the program cannot tell them apart.
 *
 * - http/https: the socket the agent gave the request is destroyed with the error `net` makes
 *   (connect ECONNREFUSED / getaddrinfo ENOTFOUND); the ClientRequest's own socket listener
 *   re-emits it: `socket`, `error`, `close`, as for a closed port.
 * - fetch/undici: whatIfUndici.ts; http2: whatIfHttp2.ts (the error factories here are shared).
 *
 * Never throws into the program: every entry point catches, warns once and lets the request go.
 */
import type * as netTypes from 'node:net';
import type { Rule, StartDecision } from '../../rules';
import { rateOf, type DelaySpec, type FailSpec } from '../../rules/whatIf';
import type { Tracer } from '../tracer';
import type { WhatIf } from '../../trace/contract/ruleTypes';
import { connOf } from '../connection/socketHooks';
import { releaseWhatIf } from './preloadRules';

/** What the trace records of a what-if rule that acted: the record's `whatIf` (one definition, the trace's). */
export type WhatIfMark = WhatIf;

const drawn = new WeakMap<object, number>();

/** The milliseconds a `delay` rule holds this request back: `ms`, or drawn once between `ms` and `maxMs`. */
export function delayMsOf(d: StartDecision, spec: DelaySpec): number {
  let ms = drawn.get(d);
  if (ms === undefined) {
    ms = spec.maxMs === undefined ? spec.ms : Math.round(spec.ms + Math.random() * (spec.maxMs - spec.ms));
    drawn.set(d, ms);
  }
  return ms;
}

/** The `whatIf` field for a request a what-if rule acted on, or undefined. */
export function whatIfMark(d: StartDecision | undefined | null): WhatIfMark | undefined {
  const r = d?.whatIf;
  if (d === null || d === undefined || r === null || r === undefined) return undefined;
  const m: WhatIfMark = { rule: r.id, action: r.action };
  if (r.fail !== undefined) {
    m.kind = r.fail.kind;
    if (r.fail.kind === 'status') m.status = r.fail.status;
    if (r.fail.kind === 'reset' && r.fail.at === 'mid-body') m.afterBytes = r.fail.afterBytes ?? 0;
  } else if (r.delay !== undefined) {
    m.kind = r.delay.phase;
    m.ms = delayMsOf(d, r.delay);
  } else if (r.throttle !== undefined) m.rate = rateOf(r.throttle);
  else if (r.respond !== undefined) m.status = r.respond.status;
  else if (r.override?.status !== undefined) m.status = r.override.status;
  return m;
}

/**
 * A what-if rule that acts only if the response lets it (`reset` after N body bytes: a response
 * that ends within them goes through as sent): until it is known, the request's record gets no
 * `whatIf` (ruleStartFields asks startMark) and the rule's `acted` count waits to be kept
 * (markActed) or taken back (notActed). Holds the tracer and the record's id, never the program's objects.
 */
interface HeldMark {
  state: 'waiting' | 'acted' | 'not';
  t: Tracer;
  id: string | undefined;
}
const held = new WeakMap<StartDecision, HeldMark>();

/** True for a rule whose acting is known only from the response (`fail reset` mid-body). */
export function actsOnResponse(rule: Rule | null): boolean {
  return rule?.fail?.kind === 'reset' && rule.fail.at === 'mid-body';
}

/** The decision's what-if rule may not act (actsOnResponse): its mark waits for markActed or notActed. */
export function holdMark(t: Tracer, d: StartDecision): void {
  if (!held.has(d)) held.set(d, { state: 'waiting', t, id: undefined });
}

/** The held rule acted: its mark goes into the request's record (now, or with its first update). */
export function markActed(d: StartDecision): void {
  const h = held.get(d);
  if (h === undefined || h.state !== 'waiting') return;
  h.state = 'acted';
  try {
    if (h.id !== undefined) h.t.record('httpRequests', h.id, { whatIf: whatIfMark(d) });
  } catch {
    // The transport never throws.
  }
}

/** The held rule did not act (the response ended first, or never came): no mark, and its `acted` count is taken back. */
export function notActed(d: StartDecision): void {
  const h = held.get(d);
  if (h === undefined || h.state !== 'waiting') return;
  h.state = 'not';
  releaseWhatIf(d);
}

/** The decision's what-if rule turned out not to act before the request's record began: no mark, not counted. */
export function didNotAct(t: Tracer, d: StartDecision): void {
  holdMark(t, d);
  notActed(d);
}

/**
 * The `whatIf` of a request's first record update (`id`: the record's id), or undefined while its
 * rule may still not act (held: markActed writes it then) or after it did not.
 */
export function startMark(d: StartDecision, id: string | undefined): WhatIfMark | undefined {
  const h = held.get(d);
  if (h === undefined || h.state === 'acted') return whatIfMark(d);
  if (h.state === 'waiting') h.id = id;
  return undefined;
}

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

/** True for an IP address literal (no lookup). */
export function isIp(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

let warned = false;
/** Warns once per process that a what-if rule could not act (the request goes on unchanged). */
export function warnOnce(t: Tracer, err: unknown): void {
  if (warned) return;
  warned = true;
  try {
    t.warn(`nettrace: a what-if rule could not act; the request goes on unchanged: ${String((err as Error)?.message ?? err)}`);
  } catch {
    // The transport never throws.
  }
}

type SocketLike = netTypes.Socket & { _handle?: HandleLike | null };
type ConnectReq = { oncomplete?: (status: number, handle: HandleLike, req: ConnectReq, r: boolean, w: boolean) => void };
type HandleLike = { connect?: unknown; connect6?: unknown };

/**
 * Fails an http/https socket as the rule says. A socket still connecting (one the agent opened for
 * this request) keeps its real TCP handle, whose `connect` is replaced on that handle alone: Node's
 * `internalConnect` calls it (after its own lookup for a host name, one tick later for an IP
 * address), the connect is reported refused through the handle's completion callback, and Node's
 * `afterConnect` builds the error (exceptionWithHostPort) and destroys the socket as for a real
 * refusal; no system call is made. For `dns-notfound` the connect never starts and the socket is
 * destroyed, once the request has written to it, with the error `dns.lookup` makes. Either way the
 * trace's dial records no connect attempt (the connection is marked a stand-in). A socket that
 * is already connected (a kept-alive one) is destroyed with the error at once.
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
  handle.connect = handle.connect6 = (req: ConnectReq) => {
    setImmediate(() => {
      if (!socket.destroyed && typeof req.oncomplete === 'function') req.oncomplete(status, handle, req, false, false);
    });
    return 0;
  };
}

/**
 * An http/https request a `fail` rule acts on, right after http.request() built it. `dialed`: the
 * socket created inside that call (a new connection, connecting), when known; otherwise the
 * socket the request gets (a kept-alive one, or later when the agent had none free) is failed as
 * it is handed over, before the request writes anything to it. Never throws.
 */
export function failHttpRequest(t: Tracer, req: object, rule: Rule, host: string, port: number, dialed: object | undefined): void {
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
