/**
 * The "Incoming requests" section of `nettrace show`: each request the traced programs served,
 * with the calls it caused (`causedBy`) indented under it by their numbers in the request table,
 * and for a slow one where its time went (diagnoseIncoming).
 */

import { diagnoseIncoming, incomingBreakdown } from '../trace/incomingDiagnosis';
import type { IncomingRequest } from '../trace/incoming';
import type { HttpRequest } from '../trace/types';
import { sanitize } from './render';

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
}

function paint(text: string, code: number, color: boolean): string {
  return color ? `\x1b[${code}m${text}\x1b[0m` : text;
}

function cut(text: string, width: number): string {
  return text.length > width ? text.slice(0, Math.max(1, width - 1)) + '…' : text;
}

const msText = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(1)} ms`);

/** What an incoming request's status says: its code, or why it has none. */
function incomingStatus(inc: IncomingRequest): string {
  if (inc.aborted) return inc.respStatusCode !== undefined ? `${inc.respStatusCode} aborted` : 'aborted';
  if (inc.respStatusCode !== undefined) return String(inc.respStatusCode);
  return inc.reqEndAt === undefined ? 'open' : 'no response';
}

/**
 * The section's lines (empty when no program served a request). `rows`: the request table's
 * requests in its order (a call is named by its row number there).
 */
export function renderIncoming(
  incoming: readonly IncomingRequest[] | undefined,
  rows: readonly HttpRequest[],
  o: IncomingRenderOptions,
): string[] {
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
  const lines = ['', paint('Incoming requests', 1, o.color)];
  const ordered = [...incoming].sort((a, b) => (a.reqRecvAt ?? Infinity) - (b.reqRecvAt ?? Infinity));
  for (const inc of ordered.slice(0, MAX_INCOMING_ROWS)) {
    const calls = byCause.get(inc.traceID) ?? [];
    const b = incomingBreakdown(inc, calls);
    const route = inc.route !== undefined ? `  (${sanitize(inc.route)})` : '';
    const head = `${sanitize(inc.traceID)} ${sanitize(inc.reqMethod)} ${sanitize(inc.reqURL)}${route}  ${incomingStatus(inc)}  ${msText(b?.totalMs)}`;
    lines.push(`  ${paint(cut(head, Math.max(20, o.width - 2)), inc.aborted || inc.error ? 31 : 0, o.color)}`);
    for (const call of calls.slice(0, MAX_CALLS)) {
      const status = call.reqError ? 'failed' : call.respStatusCode !== undefined ? String(call.respStatusCode) : '-';
      const total = call.timings ? Object.values(call.timings).reduce((s, v) => s + (v > 0 ? v : 0), 0) : undefined;
      const text = `#${numberOf.get(call)} ${sanitize(call.reqMethod)} ${sanitize(call.reqURL)}  ${status}  ${msText(total)}`;
      lines.push(`      ${cut(text, Math.max(20, o.width - 6))}`);
    }
    if (calls.length > MAX_CALLS) lines.push(`      … ${calls.length - MAX_CALLS} more calls`);
    if (b && b.totalMs >= o.slowThresholdMs) {
      const sentence = diagnoseIncoming(inc, calls);
      if (sentence) lines.push(`      ${paint(sanitize(sentence), 33, o.color)}`);
    }
  }
  if (incoming.length > MAX_INCOMING_ROWS)
    lines.push(`  … ${incoming.length - MAX_INCOMING_ROWS} more incoming requests in the trace file`);
  if (outside > 0) lines.push(`  ${outside} request${outside === 1 ? '' : 's'} made outside any incoming request`);
  return lines;
}
