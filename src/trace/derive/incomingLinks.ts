/**
 * One waterfall across services: an outgoing request of one traced process that another traced
 * process served is linked to that incoming request, without any header: both ends of a TCP
 * connection on this machine see the same 4-tuple (the client's `tcpConns[].addrTuple` is the
 * server's `incomingRequests[].addrTuple`), and on a kept-alive connection the exchange is the one
 * whose head the server received while the client's request was in flight (with HTTP/2 streams
 * in flight together, the one with the same path). A request the 4-tuple does not link (through a
 * proxy, another machine's process) is linked by the W3C `traceparent` header its program sent,
 * when the server recorded the same one. Pure: the CLI and the panel both use it.
 */

import type { IncomingRequest } from '../contract/incoming';
import type { AddrTuple, HttpRequest, TcpConn } from '../contract/types';

/**
 * An IPv4 address as a dual-stack socket reports it (`::ffff:127.0.0.1`: a server listening on
 * `::`, Node's default, sees its IPv4 clients so) in the form the client's end reports it.
 */
export const plainIP = (ip: string): string => (/^::ffff:\d+\.\d+\.\d+\.\d+$/i.test(ip) ? ip.slice(7) : ip);

/** The key both ends of a connection share (client's tcpConns[].addrTuple, server's incomingRequests[].addrTuple). */
export const keyOf = (a: AddrTuple): string => `${plainIP(a.srcIP)}|${a.srcPort}|${plainIP(a.dstIP)}|${a.dstPort}`;

/**
 * How far apart two processes' clocks may read the same instant: each checks its origin against
 * the wall clock's whole milliseconds (src/preload/clock/epoch.ts), so one millisecond at most.
 * On a kept-alive connection a request can reach the server well within that of its start.
 */
export const CROSS_PROCESS_CLOCK_MS = 1;

function pathOf(url: string): string {
  try {
    const u = new URL(url);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}

/**
 * The incoming requests of one 4-tuple in order of arrival, and how many of them at its start no
 * request left to link can have (linkServed: it walks the requests in order of their start, so
 * each list is read once, not once per request: a kept-alive connection between two traced
 * services carries thousands).
 */
interface Candidates {
  list: IncomingRequest[];
  from: number;
}

/**
 * Maps each outgoing request (traceID) that a traced process served to the incoming request
 * (traceID) it became. An incoming request is given to one outgoing request at most.
 */
export function linkServed(
  requests: readonly HttpRequest[],
  tcpConns: readonly TcpConn[],
  incoming: readonly IncomingRequest[] | undefined,
): Map<string, string> {
  const out = new Map<string, string>();
  if (!incoming || incoming.length === 0) return out;
  const byTuple = new Map<string, Candidates>();
  for (const inc of incoming) {
    if (!inc.addrTuple || inc.reqRecvAt === undefined) continue;
    const k = keyOf(inc.addrTuple);
    const c = byTuple.get(k);
    if (c) c.list.push(inc);
    else byTuple.set(k, { list: [inc], from: 0 });
  }
  for (const c of byTuple.values()) c.list.sort((a, b) => a.reqRecvAt! - b.reqRecvAt!);
  const conns = new Map(tcpConns.map((c) => [c.traceID, c]));
  const taken = new Set<string>();
  const ordered = [...requests].sort((a, b) => (a.reqStartAt ?? Infinity) - (b.reqStartAt ?? Infinity));
  for (const req of ordered) {
    const tuple = req.tcpConn ? conns.get(req.tcpConn)?.addrTuple : undefined;
    if (!tuple || req.reqStartAt === undefined) continue;
    const c = byTuple.get(keyOf(tuple));
    if (!c) continue;
    const { list } = c;
    const after = req.reqStartAt - CROSS_PROCESS_CLOCK_MS;
    const until = (req.respRecvAt ?? req.reqEndAt ?? req.respDoneAt ?? Infinity) + CROSS_PROCESS_CLOCK_MS;
    // The requests come in order of their start: one received before this start, or given to an
    // earlier request, is no later one's either, and is passed for good.
    while (c.from < list.length && (taken.has(list[c.from].traceID) || list[c.from].reqRecvAt! < after)) c.from++;
    let path: string | undefined;
    let best: IncomingRequest | undefined;
    let bestSamePath = false;
    for (let i = c.from; i < list.length; i++) {
      const inc = list[i];
      const at = inc.reqRecvAt!;
      // In order of arrival: none after this one came while the request was in flight.
      if (at > until) break;
      if (at < after || taken.has(inc.traceID) || inc.reqMethod !== req.reqMethod) continue;
      path ??= pathOf(req.reqURL);
      const samePath = pathOf(inc.reqURL) === path;
      if (best === undefined || (samePath && !bestSamePath)) {
        best = inc;
        bestSamePath = samePath;
      }
      if (samePath) break;
    }
    if (best) {
      taken.add(best.traceID);
      out.set(req.traceID, best.traceID);
    }
  }
  linkByTraceparent(requests, incoming, taken, out);
  return out;
}

/** The traceparent header a request sent (its recorded headers, `values` mode). */
function sentTraceparent(req: HttpRequest): string | undefined {
  for (const h of req.reqHeaders ?? []) if (h.length > 1 && h[0].toLowerCase() === 'traceparent') return h[1];
  return undefined;
}

/** Links the requests not linked yet whose traceparent an incoming request received (one each). */
function linkByTraceparent(
  requests: readonly HttpRequest[],
  incoming: readonly IncomingRequest[],
  taken: Set<string>,
  out: Map<string, string>,
): void {
  const byParent = new Map<string, IncomingRequest | null>();
  for (const inc of incoming) {
    if (inc.traceparent === undefined || taken.has(inc.traceID)) continue;
    byParent.set(inc.traceparent, byParent.has(inc.traceparent) ? null : inc);
  }
  if (byParent.size === 0) return;
  for (const req of requests) {
    if (out.has(req.traceID)) continue;
    const tp = sentTraceparent(req);
    const inc = tp !== undefined ? byParent.get(tp) : undefined;
    if (!inc || taken.has(inc.traceID) || inc.reqMethod !== req.reqMethod) continue;
    taken.add(inc.traceID);
    out.set(req.traceID, inc.traceID);
  }
}
