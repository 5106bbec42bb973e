/**
 * The "Incoming requests" section of `nettrace show`: each request the traced programs served
 * (with its handler's line when known), the calls it caused (`causedBy`) indented under it by their
 * numbers in the request table, and for a slow or incomplete one where its time went (diagnoseIncoming).
 */

import { LOOP_BLOCKED_MIN_MS, LOOP_BLOCKED_MIN_SHARE } from '../trace/diagnosis/loopDiagnosis';
import { diagnoseIncoming, incomingBreakdown } from '../trace/diagnosis/incomingDiagnosis';
import type { IncomingRequest } from '../trace/contract/incoming';
import type { HttpRequest, TcpConn } from '../trace/contract/types';
import { linkServed } from '../trace/derive/incomingLinks';
import { cutMiddle, fit, paint } from './text';

/** Incoming requests listed; the rest are counted. */
export const MAX_INCOMING_ROWS = 1000;
/** Calls listed under one incoming request; the rest are counted. */
const MAX_CALLS = 50;

/** Options of renderIncoming. */
export interface IncomingRenderOptions {
  width: number;
  color: boolean;
  /** An incoming request at least this slow (ms) gets its diagnosis sentence. */
  slowThresholdMs: number;
  /** Makes text from the trace safe for a terminal (render.ts `sanitize`). */
  sanitize: (text: unknown) => string;
  /** Incoming requests listed at most (default MAX_INCOMING_ROWS): the failed, aborted, unfinished and slow first, then the earliest. */
  maxRows?: number;
}

/** At most `cap` of `items` in their order: those `first` holds for, then the earliest others. */
function pickFirst<T>(items: readonly T[], first: (item: T) => boolean, cap: number): T[] {
  const keep = new Set<number>();
  for (let i = 0; i < items.length && keep.size < cap; i++) if (first(items[i])) keep.add(i);
  for (let i = 0; i < items.length && keep.size < cap; i++) keep.add(i);
  return [...keep].sort((a, b) => a - b).map((i) => items[i]);
}

/**
 * A line of `before`, a URL and `after` in at most `width` columns: the URL cut in its middle
 * (cutMiddle) so that what follows it, the status and the time, stays on the line; the whole
 * line cut at its end only when `before` and `after` alone do not fit.
 */
function lineWithUrl(before: string, url: string, after: string, width: number): string {
  const room = width - [...before].length - [...after].length;
  const line = before + cutMiddle(url, Math.max(room, Math.min(16, [...url].length))) + after;
  return [...line].length > width ? fit(line, width) : line;
}

const msText = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(1)} ms`);

/** What an incoming request's status says: its code, or why it has none. */
function incomingStatus(inc: IncomingRequest): string {
  if (inc.incomplete) return `INCOMPLETE (${inc.incomplete})`;
  if (inc.aborted) return inc.respStatusCode !== undefined ? `${inc.respStatusCode} aborted` : 'aborted';
  if (inc.respStatusCode !== undefined) return String(inc.respStatusCode);
  return inc.reqEndAt === undefined ? 'open' : 'no response';
}

/** Whether a served request failed on the server's side: the client went away, or its request, response or socket failed. */
export function servedFailed(inc: IncomingRequest): boolean {
  return !!inc.aborted || !!inc.error;
}

/** Incoming requests nested under the calls they came from, at most this deep. */
const MAX_DEPTH = 8;

/**
 * The section's lines (empty when no program served a request). `rows`: the request table's
 * requests in its order (a call is named by its row number there). An incoming request another
 * traced process's call became (linkServed) is listed under that call, with its own calls.
 */
export function renderIncoming(
  trace: { incomingRequests?: readonly IncomingRequest[]; tcpConns: readonly TcpConn[] },
  rows: readonly HttpRequest[],
  o: IncomingRenderOptions,
): string[] {
  const incoming = trace.incomingRequests;
  if (!incoming || incoming.length === 0) return [];
  const numberOf = new Map<HttpRequest, number>();
  const byCause = new Map<string, HttpRequest[]>();
  let outside = 0;
  rows.forEach((r, i) => {
    numberOf.set(r, i + 1);
    if (r.causedBy === undefined) {
      outside++;
      return;
    }
    const list = byCause.get(r.causedBy);
    if (list) list.push(r);
    else byCause.set(r.causedBy, [r]);
  });
  const served = linkServed(rows, trace.tcpConns, incoming);
  const byId = new Map(incoming.map((i) => [i.traceID, i]));
  // Listed under its call when that call is listed (under its own incoming request); else a root.
  const nested = new Set<string>();
  for (const r of rows) {
    const inc = served.get(r.traceID);
    if (inc !== undefined && r.causedBy !== undefined && byCause.has(r.causedBy)) nested.add(inc);
  }
  const sanitize = o.sanitize;
  const lines = ['', paint('Incoming requests', 1, o.color)];
  const one = (inc: IncomingRequest, depth: number): void => {
    const pad = ' '.repeat(2 + depth * 4);
    const calls = byCause.get(inc.traceID) ?? [];
    const b = incomingBreakdown(inc, calls);
    const route = inc.route !== undefined ? `  (${sanitize(inc.route)})` : '';
    const via = depth > 0 ? `↳ served by pid ${sanitize(inc.pid)}: ` : '';
    // An incomplete request's time is unknown: it was still open when its program ended.
    const took = inc.incomplete ? '-' : msText(b?.totalMs);
    // The handler's line, as the request table names an initiator: `routes.ts:12`.
    const at = inc.handler ? `  @ ${sanitize(inc.handler.file.split(/[\\/]/).pop())}:${sanitize(inc.handler.line)}` : '';
    const head = lineWithUrl(
      `${via}${sanitize(inc.traceID)} ${sanitize(inc.reqMethod)} `,
      sanitize(inc.reqURL),
      `${route}  ${sanitize(incomingStatus(inc))}  ${took}${at}`,
      Math.max(20, o.width - pad.length),
    );
    const red = servedFailed(inc) ? 31 : inc.incomplete ? 33 : 0;
    lines.push(`${pad}${paint(head, red, o.color)}`);
    for (const call of calls.slice(0, MAX_CALLS)) {
      const status = call.reqError ? 'failed' : call.respStatusCode !== undefined ? sanitize(call.respStatusCode) : '-';
      const total = call.timings ? Object.values(call.timings).reduce((s, v) => s + (v > 0 ? v : 0), 0) : undefined;
      const text = lineWithUrl(
        `#${numberOf.get(call)} ${sanitize(call.reqMethod)} `,
        sanitize(call.reqURL),
        `  ${status}  ${msText(total)}`,
        Math.max(20, o.width - pad.length - 4),
      );
      lines.push(`${pad}    ${text}`);
      const next = served.get(call.traceID);
      const inner = next !== undefined ? byId.get(next) : undefined;
      if (inner && depth + 1 < MAX_DEPTH) one(inner, depth + 1);
    }
    if (calls.length > MAX_CALLS) lines.push(`${pad}    … ${calls.length - MAX_CALLS} more calls`);
    if (inc.incomplete || (b && b.totalMs >= o.slowThresholdMs) || loopHeld(inc, b)) {
      const sentence = diagnoseIncoming(inc, calls);
      if (sentence) lines.push(`${pad}    ${paint(sanitize(sentence), 33, o.color)}`);
    }
  };
  const roots = [...incoming].filter((i) => !nested.has(i.traceID)).sort((a, b) => (a.reqRecvAt ?? Infinity) - (b.reqRecvAt ?? Infinity));
  const cap = Math.min(MAX_INCOMING_ROWS, o.maxRows ?? Infinity);
  const notable = (inc: IncomingRequest): boolean => {
    if (servedFailed(inc) || inc.incomplete) return true;
    const b = incomingBreakdown(inc, byCause.get(inc.traceID) ?? []);
    return (b !== undefined && b.totalMs >= o.slowThresholdMs) || loopHeld(inc, b);
  };
  const listed = roots.length <= cap ? roots : pickFirst(roots, notable, cap);
  for (const inc of listed) one(inc, 0);
  if (roots.length > listed.length) {
    const which = listed.length === cap && roots.length > cap ? ' (listed: the failed, unfinished and slow first, then the earliest)' : '';
    lines.push(`  … ${roots.length - listed.length} more incoming requests in the trace file${which}`);
  }
  if (outside > 0) lines.push(`  ${outside} request${outside === 1 ? '' : 's'} made outside any incoming request`);
  return lines;
}

/**
 * Whether a served request's thread held its event loop for a large share of it (`loopBlocked`: at
 * least LOOP_BLOCKED_MIN_MS and LOOP_BLOCKED_MIN_SHARE of it, as for a request's), whatever the slow
 * threshold: its sentence is shown.
 */
function loopHeld(inc: IncomingRequest, b: { totalMs: number } | undefined): boolean {
  const ms = inc.loopBlocked?.total;
  return b !== undefined && typeof ms === 'number' && ms >= LOOP_BLOCKED_MIN_MS && ms >= LOOP_BLOCKED_MIN_SHARE * b.totalMs;
}
