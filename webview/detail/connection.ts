/**
 * The Connection tab: the TCP connection, what the kernel saw of it (privileged helper), the
 * proxy, HTTP/2 stream facts, the socket operations (socket-op trace) and the dial.
 */

import type { HttpRequest, SocketOp, SocketTrace, TcpConn } from '../../src/trace/contract/types';
import { kernelFacts, requestKernelEvents } from '../../src/trace/derive/kernel';
import { kernelStory } from '../../src/trace/diagnosis/kernelStory';
import { connectionState, connectionText } from '../../src/trace/derive/labels';
import { h, icon, type Child } from '../dom';
import { formatAt, formatBytes, formatCount, formatHostPort, formatHttp2Error, formatMs } from '../format';
import type { Row } from '../model';
import { badge, dialOf, kv, lookupTable, MAX_SOCKET_OPS_SHOWN, table, type DetailContext } from './common';

/** "reused", "new", or "never connected (ECONNREFUSED)" in red: a connect that failed opened nothing. */
function connectionBadge(req: HttpRequest, conn: TcpConn): Child {
  const state = connectionState(req, conn);
  if (state === 'reused') return badge('reused', 'info');
  if (state === 'failed') return badge(connectionText(req, conn) ?? 'never connected', 'error');
  return badge(state === 'connecting' ? 'connecting' : 'new', 'neutral');
}

/** The Connection tab: TCP connection, kernel view, proxy, HTTP/2, socket operations, dial. */
export function renderConnection(ctx: DetailContext, row: Row): Child[] {
  const req = row.req;
  const m = ctx.model;
  const conn = req.tcpConn ? m.tcpConns.get(req.tcpConn) : undefined;
  const dial = dialOf(m, req);
  const out: Child[] = [];
  if (!conn && !dial)
    return [
      h(
        'div',
        'placeholder',
        null,
        req.reusedConn ? 'Reused connection (not recorded in this trace).' : 'No connection information for this request.',
      ),
    ];
  if (conn) {
    const a = conn.addrTuple;
    const hs =
      conn.handshakeBeginAt !== undefined && conn.handshakeEndAt !== undefined ? conn.handshakeEndAt - conn.handshakeBeginAt : undefined;
    // Counts the preload reports at the close: while the connection is open, what is known so far.
    const open = conn.connected && conn.connCloseAt === undefined;
    out.push(
      h('h3', null, null, 'TCP connection'),
      kv([
        ['Connection', connectionBadge(req, conn)],
        ['Local', a ? formatHostPort(a.srcIP, a.srcPort) : '—'],
        ['Remote', a ? formatHostPort(a.dstIP, a.dstPort) : '—'],
        ['Connected', conn.connected ? 'yes' : badge('no', 'error')],
        ['Handshake', formatMs(hs)],
        ['Bytes sent', atClose(conn.totalSentBytes, open)],
        ['Bytes received', atClose(conn.totalRecvBytes, open)],
        ['Requests on connection', conn.requestCount === undefined ? '—' : `${conn.requestCount}${open ? ' so far' : ''}`],
        ['Closed', conn.connCloseAt !== undefined ? `+${formatMs(conn.connCloseAt)}` : 'open'],
        ['Process', String(conn.pid)],
        ['Record', conn.traceID],
      ]),
    );
    const k = kernelFacts(conn);
    if (k) {
      // What the privileged helper saw in the kernel (text only, like everything here).
      const rows: Array<[string, Child]> = [
        ['RTT ± variance', k.rtt ?? '—'],
        ['Retransmits', k.retransmits ?? '—'],
        ['Congestion window', k.cwnd ?? '—'],
        ['Segments', k.segments ?? '—'],
      ];
      if (k.connect) rows.push(['Connect (kernel)', k.connect]);
      if (k.resets) rows.push(['Resets', k.resets]);
      if (k.conntrack) rows.push(['Conntrack', k.conntrack]);
      if (k.nat) rows.push(['NAT', k.nat]);
      if (k.packets) rows.push(['Packets', k.packets]);
      if (k.events) rows.push(['Kernel events', k.events]);
      // What happened on the connection while this request had it (its own time window).
      const mine = kernelStory(requestKernelEvents(req, conn), { all: conn.kernelEvents, synRetransmits: conn.tcpMetrics?.synRetransmits });
      if (mine) rows.push(['During this request', mine]);
      const kt = req.kernelTimings;
      if (kt) {
        const late = req.respRecvAt !== undefined ? req.respRecvAt - kt.respFirstByteAt : undefined;
        const last = kt.respLastByteAt !== undefined ? `, last byte +${formatMs(kt.respLastByteAt)}` : '';
        const read = late !== undefined && late >= 1 ? ` — the program read it ${formatMs(late)} later` : '';
        rows.push(['Response arrived', `first byte +${formatMs(kt.respFirstByteAt)}${last}${read}`]);
      }
      out.push(h('h3', null, null, `Kernel${k.source ? ` (${k.source})` : ''}`), kv(rows));
    }
  }
  if (req.proxy) {
    const tunnel = req.proxy.tunnel ? m.tcpConns.get(req.proxy.tunnel) : undefined;
    const ta = tunnel?.addrTuple;
    const proxyTls = m.tlsTunnelsOn(req.proxy.tunnel ?? req.tcpConn).find((t) => t.forProxy);
    out.push(
      h('h3', null, null, 'Proxy'),
      kv([
        ['URL', h('span', 'selectable', null, req.proxy.url)],
        [
          'Tunnel',
          req.proxy.tunnel
            ? `${req.proxy.tunnel}${ta ? ` (${formatHostPort(ta.srcIP, ta.srcPort)} → ${formatHostPort(ta.dstIP, ta.dstPort)})` : ''}`
            : 'none (requests forwarded by the proxy)',
        ],
        ['TLS to the proxy', proxyTls ? `yes (${proxyTls.tlsVersion ?? 'TLS'}) — see the TLS tab` : 'no'],
      ]),
    );
  }
  if (req.http2StreamId !== undefined || req.http2RstCode !== undefined || req.http2Goaway) {
    const g = req.http2Goaway;
    out.push(
      h('h3', null, null, 'HTTP/2'),
      kv([
        ['Stream', req.http2StreamId !== undefined ? `#${req.http2StreamId}` : '—'],
        [
          'RST_STREAM',
          req.http2RstCode !== undefined ? h('span', 'error-text', null, formatHttp2Error(req.http2RstCode)) : 'none (closed normally)',
        ],
        [
          'GOAWAY',
          g
            ? h(
                'span',
                g.errorCode ? 'error-text' : null,
                null,
                `${formatHttp2Error(g.errorCode)}, last stream #${g.lastStreamID}`,
                req.http2StreamId !== undefined && req.http2StreamId > g.lastStreamID ? ' (this stream was not processed)' : '',
              )
            : 'none',
        ],
      ]),
    );
  }
  if (conn?.socketTrace) out.push(...socketOpsSection(conn.socketTrace, req, conn.requestCount));
  if (dial) {
    const d = dial.dialEndAt !== undefined ? dial.dialEndAt - dial.dialBeginAt : undefined;
    out.push(
      h('h3', null, null, 'Dial'),
      kv([
        ['Destination', dial.dstAddress],
        ['Source IP', dial.sourceIP ?? '—'],
        ['Duration', formatMs(d)],
        ['Result', dial.dialErr ? h('span', 'error-text', null, dial.dialErr) : dial.establishedConn ? 'connected' : '—'],
      ]),
      h('h3', null, null, `DNS lookups (${dial.dnsLookups.length})`),
      lookupTable(dial.dnsLookups),
      h('h3', null, null, `Connect attempts (${dial.connectAttempts.length})`),
      dial.connectAttempts.length
        ? table(
            ['Address', 'Family', 'Time', 'Result'],
            dial.connectAttempts.map((c) => [
              formatHostPort(c.address, c.port),
              c.family ? `IPv${c.family}` : c.address.includes(':') ? 'IPv6' : 'IPv4',
              formatMs(c.endAt !== undefined ? c.endAt - c.beginAt : undefined),
              c.error
                ? h('span', 'error-text', null, icon('error'), ' ', c.error)
                : c.endAt !== undefined
                  ? h('span', 'ok-text', null, icon('pass'), ' connected')
                  : 'pending',
            ]),
          )
        : h('div', 'muted', null, 'No connect attempts recorded.'),
    );
  }
  return out;
}

/** The socket operations of a connection (socket-op trace): a capped table, ops during the request marked. */
function socketOpsSection(trace: SocketTrace, req: HttpRequest, requestCount?: number): Child[] {
  const ops = trace.socketOps;
  let reads = 0;
  let writes = 0;
  let readBytes = 0;
  let writeBytes = 0;
  for (const op of ops) {
    if (op.type === 'read') {
      reads++;
      readBytes += op.dataLen;
    } else {
      writes++;
      writeBytes += op.dataLen;
    }
  }
  const from = req.reqStartAt ?? req.reqSentAt;
  const to = req.respDoneAt ?? req.reqEndAt ?? req.reqErrorAt;
  const during = (op: SocketOp): boolean => from !== undefined && op.callAt >= from && (to === undefined || op.callAt <= to);
  const out: Child[] = [
    h('h3', null, null, `Socket operations (${formatCount(ops.length + trace.droppedOps)})`),
    h(
      'div',
      'note',
      null,
      `${formatCount(writes)} writes (${formatBytes(writeBytes)}), ${formatCount(reads)} reads (${formatBytes(readBytes)})`,
      trace.layer === 'tls' ? ' — plaintext above TLS' : trace.layer === 'tcp' ? ' — on the TCP socket' : '',
      requestCount && requestCount > 1 ? `; the connection carried ${requestCount} requests, those during this one are marked` : '',
      '.',
    ),
  ];
  if (!ops.length) {
    out.push(h('div', 'muted', null, 'No socket operations recorded.'));
  } else {
    const shown = ops.slice(0, MAX_SOCKET_OPS_SHOWN);
    const t = h('table', 'data sockops');
    t.append(
      h('thead', null, null, h('tr', null, null, ...['#', 'Op', 'Called', 'Took', 'Bytes', 'Result'].map((c) => h('th', null, null, c)))),
    );
    const tb = h('tbody');
    shown.forEach((op, i) => {
      const took = op.returnAt !== undefined ? op.returnAt - op.callAt : undefined;
      tb.append(
        h(
          'tr',
          during(op) ? 'in-request' : null,
          null,
          h('td', 'num', null, String(i + 1)),
          h(
            'td',
            null,
            null,
            icon(op.type === 'read' ? 'arrow-left' : 'arrow-right'),
            ` ${op.type === 'read' ? 'read' : 'write'}`,
            // A TLS session that took the connection over after a proxy's CONNECT: plaintext.
            op.layer === 'tls' ? ' (TLS)' : '',
          ),
          h('td', 'num', null, formatAt(op.callAt)),
          h('td', 'num', null, formatMs(took)),
          h('td', 'num', null, formatCount(op.dataLen)),
          h('td', null, null, op.returnErr ? h('span', 'error-text', null, op.returnErr) : op.returnAt === undefined ? 'pending' : 'ok'),
        ),
      );
    });
    t.append(tb);
    out.push(t);
    const notShown = ops.length - shown.length + trace.droppedOps;
    if (notShown > 0)
      out.push(
        h(
          'div',
          'note',
          null,
          `${formatCount(notShown)} more not shown`,
          trace.droppedOps ? ` (${formatCount(trace.droppedOps)} dropped by the recorder's per-connection limit)` : '',
          '.',
        ),
      );
  }
  return out;
}

/** Bytes the preload counts when the connection closes: "—", and why, while it is open. */
function atClose(bytes: number | undefined, open: boolean): string {
  if (bytes !== undefined) return formatBytes(bytes);
  return open ? '— (counted at close)' : '—';
}
