/**
 * Net Trace's own W3C `traceparent` header on the program's outgoing requests: the
 * `addTraceparent` option (docs/trace-format.md), off by default because it changes what the
 * servers receive. With it, a request that another traced process served is linked to the
 * incoming request it became (src/trace/derive/incomingLinks.ts) where the connection's 4-tuple cannot
 * be matched: through a proxy, from another machine, a container, a NAT.
 *
 * A request that already carries a `traceparent` (the program's own, an OpenTelemetry SDK's)
 * keeps it. Otherwise it gets `00-<trace-id>-<parent-id>-01`: the trace-id of the incoming
 * request it was made for (the one that request carried, or a random one made up for it at its
 * first call, the same for all its calls), a new random trace-id outside any incoming request, and
 * a random parent-id per request. Nothing in an id counts requests or is shared by the process.
 *
 * Where it is added: http/https requests (`ClientRequest.prototype._storeHeader` gets an own
 * wrapper, installed only with the option, that sets the header while the head is being built; a
 * request whose headers were given as a raw array gets none) and undici/fetch requests
 * (`request.addHeader` at `undici:request:create`). Not HTTP/2 streams.
 */

import { causeOf, incomingStore } from '../causality';
import { replaceFunction, type Hook } from '../tracer';

const VALID = /^00-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const ZERO_TRACE = '0'.repeat(32);

/** The trace-id of a valid W3C `traceparent` value, or undefined. */
export function traceIdOf(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const m = VALID.exec(value.trim());
  return m && m[1] !== ZERO_TRACE ? m[1] : undefined;
}

/** Bytes of random data drawn from the system at a time (`randomFillSync` on one buffer, used up 8 and 16 bytes at a time). */
const POOL = 4096;
let pool: Buffer | undefined;
let poolAt = POOL;

/**
 * `n` random bytes as hex, from a pooled buffer refilled by `crypto.randomFillSync` (the CSPRNG;
 * `node:crypto` loaded at the first use: only with the option). W3C Trace Context asks for random
 * trace-ids: one id tells nothing of another, nor how many requests the program served.
 */
function randomHex(n: number): string {
  if (poolAt + n > POOL) {
    pool ??= Buffer.allocUnsafe(POOL);
    (require('node:crypto') as typeof import('node:crypto')).randomFillSync(pool);
    poolAt = 0;
  }
  const hex = pool!.toString('hex', poolAt, poolAt + n);
  poolAt += n;
  return hex;
}

/** A random id of `n` bytes as hex, never all zeros (W3C makes an all-zero trace-id or parent-id invalid). */
function randomId(n: number): string {
  const id = randomHex(n);
  return /^0+$/.test(id) ? randomId(n) : id;
}

/** Incoming requests open now that carried a trace or were given one (local id → trace-id), for a call made from a queue later (causeOf). */
const carried = new Map<string, string>();
/** Entries kept at most (an incoming request that never ends is forgotten first). */
const MAX_CARRIED = 10_000;

/** Notes the trace of an incoming request: the one it carried (serverHooks.ts, when its traceparent is valid), or one made up for its calls. */
export function noteCarried(id: string, traceId: string): void {
  if (carried.size >= MAX_CARRIED) carried.delete(carried.keys().next().value as string);
  carried.set(id, traceId);
}

/** Forgets an incoming request's trace (at its end). */
export function forgetCarried(id: string): void {
  if (carried.size !== 0) carried.delete(id);
}

/** A new `traceparent` for a request starting now (its cause from the async context, see causality.ts). */
export function newTraceparent(): string {
  const parentId = randomId(8);
  const cause = causeOf();
  let traceId: string | undefined;
  if (cause !== undefined) {
    const ctx = incomingStore.getStore() as { id: string; traceId?: string } | undefined;
    const own = ctx?.id === cause ? ctx : undefined;
    traceId = own?.traceId ?? carried.get(cause);
    if (traceId === undefined) {
      // One trace-id per incoming request, the same for all its calls: a random one, made at its
      // first call and kept by the request's id (for a call made from a queue later, in another
      // context) until it ends (forgetCarried).
      traceId = randomId(16);
      noteCarried(cause, traceId);
    }
    if (own !== undefined) own.traceId = traceId;
  }
  return `00-${traceId ?? randomId(16)}-${parentId}-01`;
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
