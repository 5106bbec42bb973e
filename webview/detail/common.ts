/**
 * What the detail tabs share: the context they render in (the model, the owner's callbacks),
 * the records a request refers to, and the small building blocks (key/value table, data table,
 * badge).
 */

import type { Dial, DnsLookup, HttpRequest, TlsTunnel } from '../../src/trace/contract/types';
import type { StackFrame } from '../../src/trace/contract/incoming';
import { h, icon, type Child } from '../dom';
import { formatAt, formatMs } from '../format';
import type { TraceModel } from '../model';

/** The detail tabs. */
export type DetailTab = 'timing' | 'headers' | 'body' | 'connection' | 'dns' | 'tls' | 'initiator';

/** What the detail view asks its owner to do. */
export interface DetailEvents {
  openInitiator(frame: StackFrame): void;
  selectRequest(traceID: string): void;
  tabChanged(tab: DetailTab): void;
  close(): void;
}

/** What a tab renders with. */
export interface DetailContext {
  readonly model: TraceModel;
  readonly events: DetailEvents;
}

/** Socket operations (and WebSocket messages) rendered in a table; the rest are counted. */
export const MAX_SOCKET_OPS_SHOWN = 200;

/** The TLS tunnel of a request. */
export function tlsTunnelOf(model: TraceModel, req: HttpRequest): TlsTunnel | undefined {
  return req.tlsTunnel ? model.tlsTunnels.get(req.tlsTunnel) : undefined;
}

/** The dial of a request: its own, or the one that opened its connection. */
export function dialOf(model: TraceModel, req: HttpRequest): Dial | undefined {
  if (req.dial) return model.dials.get(req.dial);
  const conn = req.tcpConn ? model.tcpConns.get(req.tcpConn) : undefined;
  return conn?.fromDial ? model.dials.get(conn.fromDial) : undefined;
}

/** A two-column key/value table. */
export function kv(rows: Array<[string, Child]>): HTMLElement {
  const el = h('div', 'kv', { role: 'table' });
  for (const [k, v] of rows) el.append(kvRow(h('div', 'k', null, k), h('div', 'v selectable', null, v)));
  return el;
}

/**
 * One row of a key/value table: the name a row header, the value its cell, so a screen reader
 * reads "table, N rows" and pairs each value with its name. The row is `display: contents`
 * (detail.css): the table's grid lays out the two cells.
 */
export function kvRow(k: HTMLElement, v: HTMLElement): HTMLElement {
  k.setAttribute('role', 'rowheader');
  v.setAttribute('role', 'cell');
  return h('div', 'kv-row', { role: 'row' }, k, v);
}

/** A small table with a header row. */
export function table(head: string[], rows: Child[][]): HTMLElement {
  const t = h('table', 'data');
  const thead = h('tr');
  for (const c of head) thead.append(h('th', null, null, c));
  t.append(h('thead', null, null, thead));
  const tb = h('tbody');
  for (const r of rows) {
    const tr = h('tr');
    for (const c of r) tr.append(h('td', 'selectable', null, c));
    tb.append(tr);
  }
  t.append(tb);
  return t;
}

/** An inline badge (`kind` picks the colour). */
export function badge(text: string, kind: 'info' | 'error' | 'warning' | 'neutral', iconName?: string): HTMLElement {
  return h('span', `badge ${kind}`, null, iconName ? icon(iconName) : null, text);
}

/** The DNS lookups of a dial (getaddrinfo or the in-process resolver). */
export function lookupTable(lookups: DnsLookup[]): HTMLElement {
  if (!lookups.length) return h('div', 'muted', null, 'No lookup (IP address, or resolved elsewhere).');
  return table(
    ['Host', 'Started', 'Time', 'Addresses', 'Error'],
    lookups.map((l) => [
      l.host,
      formatAt(l.beginAt),
      formatMs(l.endAt !== undefined ? l.endAt - l.beginAt : undefined),
      l.addresses.length ? l.addresses.join(', ') : '—',
      l.error ? h('span', 'error-text', null, l.error) : '',
    ]),
  );
}
