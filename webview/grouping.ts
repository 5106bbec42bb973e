/**
 * "Group by incoming request": the list's view with each server request the traced program
 * handled (`incomingRequests`) as a header row, followed by the outgoing calls it caused
 * (`causedBy`) when expanded. DOM-free (runs under `node --test`).
 *
 * A group sits where its first shown call sorts, so the list's sort and filter still apply to the
 * calls; calls made outside any incoming request (or caused by one the trace does not hold) keep
 * their place, ungrouped.
 */

import type { IncomingRequest } from '../src/trace/contract/incoming';
import { linkServed } from '../src/trace/derive/incomingLinks';
import type { HttpRequest } from '../src/trace/contract/types';
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
  // The handler's line stands as the row's initiator: its Initiator cell opens it.
  if (inc.handler) req.initiator = { frames: [inc.handler] };
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
  // Nothing to fold: a served request that made no calls (nested under the call that reached it).
  row.path = calls ? `${collapsed ? '▸' : '▾'} ${label}` : label;
  row.host = calls ? `${calls} ${calls === 1 ? 'call' : 'calls'}` : 'no calls';
  if (inc.incomplete) row.status = 'incomplete';
  row.group = { incoming: inc, calls, collapsed };
  return row;
}

/** Deepest nesting of services shown (a loop in hostile input stops there). */
const MAX_NEST = 8;

/**
 * The grouped view of `flat` (the filtered, sorted rows): each group's header where its first call
 * sorts, then its calls (unless collapsed), in `flat`'s order. A call another traced process (or
 * this one) served (`served`: call traceID → incoming traceID, see linkServed) has that incoming
 * request's group nested under it, one level deeper, so a request through several services reads
 * as one tree.
 */
export function groupRows(
  flat: readonly Row[],
  incoming: ReadonlyMap<string, IncomingRequest>,
  collapsed: ReadonlySet<string>,
  served: ReadonlyMap<string, string> = new Map(),
): GroupedRow[] {
  const members = new Map<string, Row[]>();
  for (const r of flat) {
    const id = r.req.causedBy;
    if (typeof id !== 'string' || !incoming.has(id)) continue;
    let list = members.get(id);
    if (!list) members.set(id, (list = []));
    list.push(r);
  }
  // The incoming requests a shown call became: placed under that call, not at the top.
  const nested = new Set<string>();
  for (const r of flat) {
    const inc = served.get(r.req.traceID);
    if (inc && incoming.has(inc)) nested.add(inc);
  }
  const out: GroupedRow[] = [];
  const placed = new Set<string>();
  const emitGroup = (id: string, depth: number): void => {
    placed.add(id);
    const calls = members.get(id) ?? [];
    const shut = collapsed.has(id);
    const head = headerRow(incoming.get(id)!, calls.length, shut, -1);
    out.push(depth ? { ...head, depth } : head);
    if (!shut) for (const c of calls) emitCall(c, depth + 1);
  };
  const emitCall = (c: Row, depth: number): void => {
    out.push(depth ? { ...c, depth } : c);
    const inc = served.get(c.req.traceID);
    if (inc && incoming.has(inc) && !placed.has(inc) && depth < MAX_NEST) emitGroup(inc, depth + 1);
  };
  for (const r of flat) {
    const id = r.req.causedBy;
    if (typeof id !== 'string' || !members.has(id)) emitCall(r, 0);
    else if (!placed.has(id) && !nested.has(id)) emitGroup(id, 0);
  }
  // Groups whose call was never shown (inside a loop of links): at the top, so no call is lost.
  for (const id of members.keys()) if (!placed.has(id) && !collapsedAncestor(id, served, flat, collapsed)) emitGroup(id, 0);
  return out;
}

/** Whether the call that became `id` is hidden in a collapsed group (then `id` is hidden with it). */
function collapsedAncestor(id: string, served: ReadonlyMap<string, string>, flat: readonly Row[], collapsed: ReadonlySet<string>): boolean {
  const call = flat.find((r) => served.get(r.req.traceID) === id);
  const parent = call?.req.causedBy;
  return typeof parent === 'string' && collapsed.has(parent);
}

/** The collapsed groups of a model's trace (cleared when another trace is shown). */
class Grouping {
  private readonly collapsed = new Set<string>();
  private trace = '';
  /** linkServed's answer for the model's linksVersion. */
  private served: { version: string; map: ReadonlyMap<string, string> } | undefined;

  constructor(private readonly model: TraceModel) {}

  readonly shape = (flat: Row[]): Row[] => {
    this.sameTrace();
    const m = this.model;
    let served: ReadonlyMap<string, string> | undefined;
    if (m.incoming.size) {
      // A reshape that changed no request, connection or incoming request (a collapse, a filter, a sort) links as before.
      if (this.served?.version !== m.linksVersion) {
        const map = linkServed(
          m.rows.map((r) => r.req),
          [...m.tcpConns.values()],
          [...m.incoming.values()],
        );
        this.served = { version: m.linksVersion, map };
      }
      served = this.served.map;
    }
    return groupRows(flat, m.incoming, this.collapsed, served);
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
