/**
 * "Group by incoming request": the list's view with each server request the traced program
 * handled (`incomingRequests`) as a header row, followed by the outgoing calls it caused
 * (`causedBy`) when expanded. DOM-free (runs under `node --test`).
 *
 * A group sits where its first shown call sorts, so the list's sort and filter still apply to the
 * calls; calls made outside any incoming request (or caused by one the trace does not hold) keep
 * their place, ungrouped.
 */

import type { IncomingRequest } from '../src/trace/incoming';
import type { HttpRequest } from '../src/trace/types';
import { makeRow, type Row, type TraceModel } from './model';

/** What a group header row knows of its group. */
export interface GroupInfo {
  incoming: IncomingRequest;
  /** Outgoing calls of the group in the filtered view. */
  calls: number;
  collapsed: boolean;
}

/** A row of the grouped view: a group header, or a call (depth 1 when inside a group). */
export type GroupedRow = Row & { group?: GroupInfo; depth?: number };

/** The incoming request's own time, laid out as a request so the list's cells and bar show it. */
export function incomingAsRequest(inc: IncomingRequest): HttpRequest {
  const req: HttpRequest = {
    traceID: inc.traceID,
    pid: inc.pid,
    client: inc.server,
    reqMethod: inc.reqMethod,
    reqURL: inc.reqURL,
  };
  if (inc.reqRecvAt !== undefined) req.reqStartAt = inc.reqRecvAt;
  if (inc.reqBodyDoneAt !== undefined) req.reqSentAt = inc.reqBodyDoneAt;
  if (inc.respHeadAt !== undefined) req.respRecvAt = inc.respHeadAt;
  // The list's duration runs to `respDoneAt`: an exchange that ended (with a status) without one ran to its end.
  const done = inc.respDoneAt ?? (inc.respStatusCode !== undefined && !inc.aborted && !inc.error ? inc.reqEndAt : undefined);
  if (done !== undefined) req.respDoneAt = done;
  if (inc.reqEndAt !== undefined) req.reqEndAt = inc.reqEndAt;
  if (inc.respStatusCode !== undefined) req.respStatusCode = inc.respStatusCode;
  if (inc.respContentLen !== undefined) req.respContentLen = inc.respContentLen;
  if (inc.reqContentLen !== undefined) req.reqContentLen = inc.reqContentLen;
  if (inc.incomplete) req.incomplete = inc.incomplete;
  if (inc.aborted || inc.error) {
    req.reqError = {
      phase: 'response',
      message: inc.error?.message ?? 'the client closed the connection before the response finished',
      ...(inc.error?.code ? { code: inc.error.code } : {}),
      ...(inc.aborted ? { aborted: true } : {}),
    };
  }
  return req;
}

/** The header row of a group: method, route (or path), status and duration of the incoming request, its calls. */
export function headerRow(inc: IncomingRequest, calls: number, collapsed: boolean, seq: number): GroupedRow {
  const row: GroupedRow = makeRow(incomingAsRequest(inc), seq);
  const label = inc.route ?? row.path;
  row.path = `${collapsed ? '▸' : '▾'} ${label}`;
  row.host = `${calls} ${calls === 1 ? 'call' : 'calls'}`;
  row.initiator = '';
  if (inc.incomplete) row.status = 'incomplete';
  row.group = { incoming: inc, calls, collapsed };
  return row;
}

/**
 * The grouped view of `flat` (the filtered, sorted rows): each group's header where its first call
 * sorts, then its calls (unless collapsed), in `flat`'s order.
 */
export function groupRows(
  flat: readonly Row[],
  incoming: ReadonlyMap<string, IncomingRequest>,
  collapsed: ReadonlySet<string>,
): GroupedRow[] {
  const members = new Map<string, Row[]>();
  for (const r of flat) {
    const id = r.req.causedBy;
    if (typeof id !== 'string' || !incoming.has(id)) continue;
    let list = members.get(id);
    if (!list) members.set(id, (list = []));
    list.push(r);
  }
  const out: GroupedRow[] = [];
  const placed = new Set<string>();
  for (const r of flat) {
    const id = r.req.causedBy;
    const calls = typeof id === 'string' ? members.get(id) : undefined;
    if (!calls) {
      out.push(r);
      continue;
    }
    if (placed.has(id!)) continue;
    placed.add(id!);
    const shut = collapsed.has(id!);
    out.push(headerRow(incoming.get(id!)!, calls.length, shut, -1));
    if (!shut) for (const c of calls) out.push({ ...c, depth: 1 });
  }
  return out;
}

/** The collapsed groups of a model's trace (cleared when another trace is shown). */
class Grouping {
  private readonly collapsed = new Set<string>();
  private trace = '';

  constructor(private readonly model: TraceModel) {}

  readonly shape = (flat: Row[]): Row[] => {
    this.sameTrace();
    return groupRows(flat, this.model.incoming, this.collapsed);
  };

  toggle(id: string, collapse?: boolean): boolean {
    this.sameTrace();
    if (!this.model.incoming.has(id)) return false;
    if (collapse ?? !this.collapsed.has(id)) this.collapsed.add(id);
    else this.collapsed.delete(id);
    this.model.reshape();
    return true;
  }

  private sameTrace(): void {
    const key = `${this.model.traceBeginAt}|${this.model.description}`;
    if (key !== this.trace) this.collapsed.clear();
    this.trace = key;
  }
}

const groupings = new WeakMap<TraceModel, Grouping>();

function groupingOf(model: TraceModel): Grouping {
  let g = groupings.get(model);
  if (!g) groupings.set(model, (g = new Grouping(model)));
  return g;
}

/** Turns "Group by incoming request" on or off for the model's shown view. */
export function setGroupByIncoming(model: TraceModel, on: boolean): void {
  model.setViewShape(on ? groupingOf(model).shape : undefined);
}

/** Collapses or expands an incoming request's group (`collapse` absent: toggles); false if not a group. */
export function toggleGroup(model: TraceModel, incomingID: string, collapse?: boolean): boolean {
  return groupingOf(model).toggle(incomingID, collapse);
}
