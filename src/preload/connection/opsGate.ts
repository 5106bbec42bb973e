/**
 * The socket-op trace per request (a `details` rule with `sockTrace`, docs/rules.md): a socket
 * whose op wrappers are gated (socketHooks.ts traceSocketOps) records an operation only while a
 * request that asked for it is on the connection — an http ClientRequest in `opsRequests` is the
 * socket's `_httpMessage` (Node sets it when it hands the socket to the request, before the
 * request's first write, and clears it when the socket goes back to the agent), or an undici
 * request armed the connection (`opsArmed`, from `undici:client:sendHeaders` to its end).
 */
import type { ConnState } from '../tracer';

/** http/https requests whose connection's operations are traced while it carries them. */
export const opsRequests = new WeakSet<object>();
/** Per connection, the undici requests on it that asked for its operations. */
export const opsArmed = new WeakMap<ConnState, number>();
/** Connections whose op wrappers are gated (put on for the rules, not by the sockTrace option). */
export const gatedConns = new WeakSet<ConnState>();

/** Whether a gated socket's operation now is recorded (see above). */
export function opsWanted(socket: object, conn: ConnState): boolean {
  const req = (socket as { _httpMessage?: object | null })._httpMessage;
  return (req != null && opsRequests.has(req)) || (opsArmed.get(conn) ?? 0) > 0;
}
