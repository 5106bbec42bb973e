/**
 * Net Trace's own W3C `traceparent` header on the program's outgoing requests: the
 * `addTraceparent` option (docs/trace-format.md), off by default because it changes what the
 * servers receive. With it, a request that another traced process served is linked to the
 * incoming request it became (src/trace/incomingLinks.ts) where the connection's 4-tuple cannot
 * be matched: through a proxy, from another machine, a container, a NAT.
 *
 * A request that already carries a `traceparent` (the program's own, an OpenTelemetry SDK's)
 * keeps it. Otherwise it gets `00-<trace-id>-<parent-id>-01`: the trace-id of the incoming
 * request it was made for (the one that request carried, or one made up for it, the same for all
 * its calls), a new trace-id outside any incoming request, and a random parent-id per request.
 *
 * Where it is added: http/https requests (`ClientRequest.prototype._storeHeader` gets an own
 * wrapper, installed only with the option, that sets the header while the head is being built; a
 * request whose headers were given as a raw array gets none) and undici/fetch requests
 * (`request.addHeader` at `undici:request:create`). Not HTTP/2 streams.
 */

import { causeOf, incomingStore } from './causality';
import { replaceFunction, type Hook } from './tracer';

const VALID = /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const ZERO_TRACE = '0'.repeat(32);

/** The trace-id of a valid W3C `traceparent` value, or undefined. */
export function traceIdOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = VALID.exec(value.trim());
  return m && m[1] !== ZERO_TRACE ? m[1] : undefined;
}

/** Random bytes as hex (`node:crypto` loaded at the first use: only with the option). */
function randomHex(n: number): string {
  return (require('node:crypto') as typeof import('node:crypto')).randomBytes(n).toString('hex');
}

/** Incoming requests open now that carried a trace (local id → trace-id), for a call made from a queue later (causeOf). */
const carried = new Map<string, string>();
/** Entries kept at most (an incoming request that never ends is forgotten first). */
const MAX_CARRIED = 10_000;

/** Notes the trace an incoming request carried (serverHooks.ts, when its traceparent is valid). */
export function noteCarried(id: string, traceId: string): void {
  if (carried.size >= MAX_CARRIED) carried.delete(carried.keys().next().value as string);
  carried.set(id, traceId);
}

/** Forgets an incoming request's trace (at its end). */
export function forgetCarried(id: string): void {
  if (carried.size !== 0) carried.delete(id);
}

/** This process's random prefix of the trace-ids made up for incoming requests (with the request's number after it). */
let salt: string | undefined;

/** A new `traceparent` for a request starting now (its cause from the async context, see causality.ts). */
export function newTraceparent(): string {
  const bytes = randomHex(24);
  const parentId = bytes.slice(32, 48);
  const cause = causeOf();
  let traceId: string | undefined;
  if (cause !== undefined) {
    const ctx = incomingStore.getStore() as { id: string; traceId?: string } | undefined;
    traceId = ctx?.id === cause ? ctx.traceId : carried.get(cause);
    if (traceId === undefined) {
      // One trace-id per incoming request, the same for all its calls: the process's salt and its number.
      salt ??= randomHex(8);
      traceId = salt + Number(cause.replace(/\D/g, '')).toString(16).padStart(16, '0').slice(-16);
    }
  }
  traceId ??= bytes.slice(0, 32);
  return `00-${traceId}-${parentId === '0'.repeat(16) ? '0'.repeat(15) + '1' : parentId}-01`;
}

/** What `_storeHeader` is given and reads of the request. */
interface OutgoingLike {
  hasHeader(name: string): boolean;
  setHeader(name: string, value: string): unknown;
}

/**
 * Gives `ClientRequest.prototype` an own `_storeHeader` that sets a `traceparent` on a request
 * without one just before its head is built.
 */
export function addToHttpRequests(proto: object, hook: Hook): void {
  const p = proto as { _storeHeader?: Function };
  const original = p._storeHeader;
  if (typeof original !== 'function') return;
  const _storeHeader = function _storeHeader(this: OutgoingLike, firstLine: string, headers: unknown): unknown {
    let h = headers;
    if (hook.enabled && !Array.isArray(h)) {
      try {
        if (!this.hasHeader('traceparent')) {
          const value = newTraceparent();
          this.setHeader('traceparent', value);
          // A request without any header until now: Node passes null, not the object setHeader made
          // (its headers are kept as lower-case name → [name, value]).
          if (h === null || h === undefined) h = { traceparent: ['traceparent', value] };
        }
      } catch {
        // Left as the program made it.
      }
    }
    // eslint-disable-next-line prefer-rest-params
    return h === headers ? original.apply(this, arguments) : original.call(this, firstLine, h);
  };
  replaceFunction(proto, '_storeHeader', _storeHeader, original);
}

/** Adds a `traceparent` to an undici request (`undici:request:create`) that carries none. */
export function addToUndiciRequest(req: { addHeader?: (name: string, value: string) => unknown }, has: boolean): void {
  if (has || typeof req.addHeader !== 'function') return;
  req.addHeader('traceparent', newTraceparent());
}
