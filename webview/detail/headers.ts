/** The Headers tab: general facts, the WebSocket connection a 101 opened, response and request headers. */

import type { HeaderPair, HttpRequest } from '../../src/trace/contract/types';
import type { WebSocketSession } from '../../src/trace/contract/webSocket';
import { isStreaming } from '../../src/trace/derive/timings';
import { locationLabel } from '../../src/trace/derive/labels';
import { h, type Child } from '../dom';
import { formatBytes, formatCount, formatHostPort, formatMs, formatProtocol, REDACTED_VALUE } from '../format';
import type { Row } from '../model';
import { badge, kv, kvRow, MAX_SOCKET_OPS_SHOWN, table, type DetailContext } from './common';

/** The Headers tab: general facts, the WebSocket it opened, response and request headers. */
export function renderHeaders(ctx: DetailContext, row: Row): Child[] {
  const req = row.req;
  const conn = req.tcpConn ? ctx.model.tcpConns.get(req.tcpConn) : undefined;
  const location = req.respHeaders?.find(([n]) => n.toLowerCase() === 'location')?.[1];
  const from = req.redirectedFrom ? ctx.model.row(req.redirectedFrom) : undefined;
  const general: Array<[string, Child]> = [
    ['Request URL', h('span', 'selectable', null, req.reqURL)],
    ['Method', req.reqMethod],
    ['Status', `${row.status}${req.respStatusText ? ` ${req.respStatusText}` : ''}`],
    ['Protocol', formatProtocol(req) || '—'],
    ['Client', req.client],
    ['Remote address', conn?.addrTuple ? formatHostPort(conn.addrTuple.dstIP, conn.addrTuple.dstPort) : '—'],
    ['Request body', requestBodyText(req)],
    ['Response body', responseBodyText(req)],
  ];
  if (req.respInterim?.length)
    general.push(['Interim responses', req.respInterim.map((r) => `${r.statusCode}${r.statusText ? ` ${r.statusText}` : ''}`).join(', ')]);
  if (req.respEvents !== undefined)
    general.push(['Events', `${formatCount(req.respEvents)}${isStreaming(req) ? ' so far (streaming)' : ''}`]);
  if (req.proxy) general.push(['Proxy', req.proxy.url]);
  if (req.redirectedFrom) {
    const link = h('span', 'link', { role: 'link', tabindex: '0' }, from ? from.req.reqURL : req.redirectedFrom);
    const go = (): void => ctx.events.selectRequest(req.redirectedFrom!);
    link.addEventListener('click', go);
    link.addEventListener('keydown', (e) => e.key === 'Enter' && go());
    general.push(['Redirected from', link]);
  }
  if (req.repeatOf) {
    const first = ctx.model.row(req.repeatOf);
    const link = h('span', 'link', { role: 'link', tabindex: '0' }, first ? first.req.reqURL : req.repeatOf);
    const go = (): void => ctx.events.selectRequest(req.repeatOf!);
    link.addEventListener('click', go);
    link.addEventListener('keydown', (e) => e.key === 'Enter' && go());
    general.push(['Sent again from', link]);
  }
  if (location !== undefined) general.push([locationLabel(req.respStatusCode), h('span', 'selectable', null, location)]);
  return [
    h('h3', null, null, 'General'),
    kv(general),
    ...(req.webSocket ? webSocketSection(req.webSocket) : []),
    h('h3', null, null, `Response headers (${req.respHeaders?.length ?? 0})`),
    headerTable(req.respHeaders, row.cls === 'pending' ? 'No response yet.' : 'No response headers recorded.'),
    h('h3', null, null, `Request headers (${req.reqHeaders?.length ?? 0})`),
    headerTable(req.reqHeaders, 'No request headers recorded.'),
  ];
}

/** "12 kB", or for a request answered before its end "0 B — the server answered before the program had sent it". */
function requestBodyText(req: HttpRequest): string {
  const size = formatBytes(req.reqContentLen);
  return req.respEarly ? `${size} — the server answered before the program had sent the whole body` : size;
}

/** "12 kB", "12 kB so far (streaming)", or "0 B — not read: the program closed the response (not an error)". */
function responseBodyText(req: HttpRequest): string {
  const size = formatBytes(req.respContentLen) + (req.respDecodedLen !== undefined ? ` (${formatBytes(req.respDecodedLen)} decoded)` : '');
  if (req.respClosedEarly) return `${size} — not read to its end: the program closed the response (not an error)`;
  if (isStreaming(req)) return `${size} so far (streaming)`;
  return size;
}

/** The WebSocket connection a 101 opened: lifetime, close, traffic each way, messages if recorded. */
function webSocketSection(ws: WebSocketSession): Child[] {
  const close =
    ws.closedBy !== undefined
      ? `${ws.closeCode ?? 'no code'}${ws.closeReason ? ` "${ws.closeReason}"` : ''}, by the ${ws.closedBy}`
      : ws.closeAt !== undefined
        ? 'no close frame (connection dropped)'
        : '—';
  const out: Child[] = [
    h('h3', null, null, 'WebSocket'),
    kv([
      ['Opened', `+${formatMs(ws.openAt)}`],
      ['Closed', ws.closeAt !== undefined ? `+${formatMs(ws.closeAt)} (after ${formatMs(ws.closeAt - ws.openAt)})` : 'open'],
      ['Close', close],
      ['Sent', `${formatCount(ws.sentMessages)} messages, ${formatBytes(ws.sentBytes)}`],
      ['Received', `${formatCount(ws.recvMessages)} messages, ${formatBytes(ws.recvBytes)}`],
    ]),
  ];
  const msgs = ws.messages;
  if (msgs && msgs.length) {
    const shown = msgs.slice(0, MAX_SOCKET_OPS_SHOWN);
    out.push(
      table(
        ['Time', 'Direction', 'Type', 'Payload'],
        shown.map((m) => [`+${formatMs(m.endAt)}`, m.dir === 'sent' ? '↑ sent' : '↓ received', m.type, formatBytes(m.len)]),
      ),
    );
    const more = msgs.length - shown.length + (ws.droppedMessages ?? 0);
    if (more > 0) out.push(h('div', 'note', null, `${formatCount(more)} more messages not shown.`));
  }
  return out;
}

/** A headers table; "<redacted>" values show as a badge, name-only pairs as "not captured". */
function headerTable(headers: HeaderPair[] | undefined, empty: string): HTMLElement {
  if (!headers || !headers.length) return h('div', 'muted', null, empty);
  const el = h('div', 'kv headers', { role: 'table' });
  for (const pair of headers) {
    const [name, value] = pair;
    const v =
      pair.length < 2 || value === undefined
        ? h('span', 'muted', null, '(value not captured)')
        : value === REDACTED_VALUE
          ? badge('redacted', 'neutral', 'lock')
          : h('span', 'selectable', null, value);
    el.append(kvRow(h('div', 'k selectable', null, name), h('div', 'v', null, v)));
  }
  return el;
}
