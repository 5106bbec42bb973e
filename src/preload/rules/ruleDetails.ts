/**
 * A `details` rule's socket-op trace and DNS trace for the requests it matches (docs/rules.md,
 * "details"): the hooks' calls. Bodies are handled where bodies are captured (ruleHooks.ts
 * wantsBodies). Both act only for a decision made when the request starts (`definiteDetails`):
 * socket operations and DNS messages belong to the connection's and the dial's records, which
 * cannot be dropped when a rule decided at the end does not match.
 *
 * - http/https: the connection's operations while it carries the request (socketHooks.ts
 *   traceOpsOfRequest); the lookup of a connection the request's `http.request()` dialed
 *   (dns/perRequest.ts).
 * - undici/fetch: the connection's operations from the request's headers to its end; the lookup
 *   of a connection dialed to the request's origin while it waits for one.
 * - http2: neither (a session's traffic is shared by its streams, and it is dialed before a
 *   stream exists): bodies only.
 */
import type { StartDecision } from '../../rules';
import { DETAIL_BIT } from '../../rules/details';
import { beginDial, endDial, waitForConnection, type DialDns } from '../dns/perRequest';
import { gatedOps } from '../connection/socketHooks';
import { opsArmed, opsRequests } from '../connection/opsGate';
import type { Tracer } from '../tracer';

function wants(d: StartDecision | null | undefined, bit: number): boolean {
  return d != null && (d.definiteDetails & bit) !== 0;
}

/**
 * Traces the operations of an http/https request's connection while it carries the request.
 * `socket`: the request's socket when it already has one (a connection opened before the rule
 * was enabled gets its wrappers then: its earlier writes for this request are not seen).
 */
function traceOpsOfRequest(t: Tracer, req: object, socket: object | null | undefined): void {
  if (t.config.sockTrace) return;
  opsRequests.add(req);
  if (socket) gatedOps(t, socket);
}

/**
 * Traces the operations of `socket`'s connection until the returned function is called;
 * undefined when there is nothing to do (the sockTrace option traces every connection anyway, or
 * the socket is not traced).
 */
function armOps(t: Tracer, socket: object): (() => void) | undefined {
  const conn = gatedOps(t, socket);
  if (!conn) return undefined;
  opsArmed.set(conn, (opsArmed.get(conn) ?? 0) + 1);
  let armed = true;
  return () => {
    if (!armed) return;
    armed = false;
    opsArmed.set(conn, (opsArmed.get(conn) ?? 1) - 1);
  };
}

/** A dial holder around `http.request()` when a dnsTrace rule is enabled (see dns/perRequest.ts). */
export function httpDialBegin(detailKinds: number): ReturnType<typeof beginDial> | undefined {
  return (detailKinds & DETAIL_BIT.dnsTrace) !== 0 ? beginDial() : undefined;
}

/** Ends httpDialBegin's holder (in a `finally`). */
export function httpDialEnd(dial: { outer: DialDns | undefined } | undefined): void {
  if (dial) endDial(dial);
}

/**
 * An http/https request decided (`d`; null: not recorded): its dial's lookup is traced or not,
 * and its connection's operations while it carries it. `socket`: the request's socket when it
 * has one already. Call again at `request.start` (the socket is known by then).
 */
export function httpDetails(
  t: Tracer,
  req: object,
  d: StartDecision | null | undefined,
  dial?: { holder: DialDns },
  socket?: object | null,
): void {
  if (dial) dial.holder.dns = wants(d, DETAIL_BIT.dnsTrace);
  if (wants(d, DETAIL_BIT.sockTrace)) traceOpsOfRequest(t, req, socket);
}

/** What an undici request has switched on, undone at its end. */
const undiciOn = new WeakMap<object, { ops: boolean; releases: Array<() => void> }>();

/** An undici/fetch request decided at `undici:request:create` to get socket-op or DNS trace. */
export function undiciCreated(req: object, d: StartDecision | null | undefined, origin: string): void {
  const ops = wants(d, DETAIL_BIT.sockTrace);
  const dnsOn = wants(d, DETAIL_BIT.dnsTrace);
  if (!ops && !dnsOn) return;
  const on = { ops, releases: [] as Array<() => void> };
  if (dnsOn) {
    try {
      const u = new URL(origin);
      const port = Number(u.port) || (u.protocol === 'https:' || u.protocol === 'wss:' ? 443 : 80);
      on.releases.push(waitForConnection(u.hostname.replace(/^\[|\]$/g, ''), port));
    } catch {
      // No origin to dial: nothing to trace.
    }
  }
  undiciOn.set(req, on);
}

/** `undici:client:sendHeaders`: the request is on a connection (it waits no more; its ops are traced). */
export function undiciOnConnection(t: Tracer, req: object, socket: object | undefined): void {
  const on = undiciOn.get(req);
  if (!on) return;
  for (const release of on.releases.splice(0)) release();
  if (on.ops && socket) {
    const release = armOps(t, socket);
    if (release) on.releases.push(release);
  }
}

/** The undici request ended (its response, or an error): what it switched on goes off. */
export function undiciEnded(req: object): void {
  const on = undiciOn.get(req);
  if (!on) return;
  undiciOn.delete(req);
  for (const release of on.releases.splice(0)) release();
}
