/**
 * The detail view of the selected request: a header (method, URL, status), the diagnosis of a
 * failed/slow request, and tabs Timing / Headers / Body / Connection / DNS / TLS / Initiator.
 * Rebuilt from scratch on selection (a few hundred nodes at most, long lists capped); all data
 * goes in as Text nodes.
 */

import { isStreaming } from '../src/trace/types';
import type {
  CapturedBody,
  DnsQuery,
  HeaderPair,
  HttpRequest,
  PeerCert,
  SocketOp,
  StackFrame,
  TlsTunnel,
  WebSocketSession,
} from '../src/trace/types';
import { explainTlsError, TLS_ERROR_LABELS } from '../src/trace/tlsErrors';
import { NO_PROGRAM_FRAME } from '../src/trace/initiator';
import { kernelFacts } from '../src/trace/kernel';
import { bodyView, MAX_SHOWN_TEXT } from './body';
import { h, icon, type Child } from './dom';
import {
  basename,
  formatAt,
  formatBytes,
  formatCount,
  formatDate,
  formatHostPort,
  formatHttp2Error,
  formatMs,
  formatProtocol,
  REDACTED_VALUE,
} from './format';
import type { Row, TraceModel } from './model';
import { PHASES, PHASE_LABELS, requestSegments, totalTime } from './waterfall';

/** The detail tabs. */
export type DetailTab = 'timing' | 'headers' | 'body' | 'connection' | 'dns' | 'tls' | 'initiator';

/** Tabs in display order with their labels. */
export const DETAIL_TABS: ReadonlyArray<[DetailTab, string]> = [
  ['timing', 'Timing'],
  ['headers', 'Headers'],
  ['body', 'Body'],
  ['connection', 'Connection'],
  ['dns', 'DNS'],
  ['tls', 'TLS'],
  ['initiator', 'Initiator'],
];

/** Socket operations rendered in the Connection tab; the rest are counted. */
export const MAX_SOCKET_OPS_SHOWN = 200;
/** DNS answers rendered per reply; the rest are counted. */
const MAX_DNS_ANSWERS_SHOWN = 100;

/** What the detail view asks its owner to do. */
export interface DetailEvents {
  openInitiator(frame: StackFrame): void;
  selectRequest(traceID: string): void;
  tabChanged(tab: DetailTab): void;
  close(): void;
}

/** The detail view component. */
export class DetailView {
  readonly el: HTMLDivElement;
  private readonly head: HTMLDivElement;
  private readonly tabsEl: HTMLDivElement;
  private readonly content: HTMLDivElement;
  private readonly tabButtons = new Map<DetailTab, HTMLButtonElement>();
  private shown: { row: Row; req: HttpRequest; tab: DetailTab } | null = null;

  constructor(
    private readonly model: TraceModel,
    public tab: DetailTab,
    private readonly events: DetailEvents,
  ) {
    this.head = h('div', 'detail-head');
    this.tabsEl = h('div', 'tabs', { role: 'tablist', 'aria-label': 'Request details' });
    for (const [id, label] of DETAIL_TABS) {
      const b = h('button', 'tab', { role: 'tab', type: 'button', 'aria-selected': 'false', tabindex: '-1', 'data-tab': id }, label);
      b.addEventListener('click', () => this.setTab(id, true));
      this.tabButtons.set(id, b);
      this.tabsEl.append(b);
    }
    const close = h(
      'button',
      'icon-button',
      { type: 'button', title: 'Close details (Escape)', 'aria-label': 'Close details' },
      icon('close'),
    );
    close.addEventListener('click', () => this.events.close());
    this.tabsEl.addEventListener('keydown', (e) => this.onTabKey(e));
    this.content = h('div', 'detail-content', { role: 'tabpanel' });
    this.el = h('div', 'detail', null, this.head, h('div', 'tabbar', null, this.tabsEl, h('div', 'spacer'), close), this.content);
  }

  /** Moves keyboard focus to the selected tab. */
  focus(): void {
    this.tabButtons.get(this.tab)?.focus();
  }

  /** Switches tab and re-renders. */
  setTab(tab: DetailTab, focus = false): void {
    if (this.tab !== tab) {
      this.tab = tab;
      this.events.tabChanged(tab);
    }
    if (this.shown) this.render(this.shown.row, true);
    if (focus) this.focus();
  }

  /** Renders a request (skipped when it is already shown unchanged, unless forced). */
  render(row: Row | undefined, force = false): void {
    if (!row) {
      this.shown = null;
      this.head.replaceChildren();
      this.content.replaceChildren(h('div', 'placeholder', null, 'Select a request to see its details.'));
      return;
    }
    if (!force && this.shown && this.shown.row === row && this.shown.req === row.req && this.shown.tab === this.tab) return;
    this.shown = { row, req: row.req, tab: this.tab };
    for (const [id, b] of this.tabButtons) {
      const on = id === this.tab;
      b.classList.toggle('active', on);
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    }
    const req = row.req;
    const tls = this.tlsTunnelOf(req);
    this.tabButtons.get('tls')!.classList.toggle('dim', !tls);
    this.tabButtons.get('body')!.classList.toggle('dim', !req.reqBody && !req.respBody);
    const dial = this.dialOf(req);
    this.tabButtons
      .get('dns')!
      .classList.toggle('dim', !dial || (!dial.dnsLookups?.length && !this.model.dnsQueriesOf(dial.traceID).length));
    this.head.replaceChildren(...this.renderHead(row));
    let body: Child[];
    switch (this.tab) {
      case 'timing':
        body = this.renderTiming(row);
        break;
      case 'headers':
        body = this.renderHeaders(row);
        break;
      case 'body':
        body = this.renderBody(row);
        break;
      case 'connection':
        body = this.renderConnection(row);
        break;
      case 'dns':
        body = this.renderDns(row);
        break;
      case 'tls':
        body = this.renderTls(row);
        break;
      case 'initiator':
        body = this.renderInitiator(row);
        break;
    }
    const scroll = this.content.scrollTop;
    this.content.replaceChildren(...body.filter((c): c is Node | string => typeof c === 'string' || c instanceof Node));
    this.content.scrollTop = scroll;
  }

  private onTabKey(e: KeyboardEvent): void {
    const ids = DETAIL_TABS.map(([id]) => id);
    const i = ids.indexOf(this.tab);
    let next = -1;
    if (e.key === 'ArrowRight') next = (i + 1) % ids.length;
    else if (e.key === 'ArrowLeft') next = (i - 1 + ids.length) % ids.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = ids.length - 1;
    if (next >= 0) {
      e.preventDefault();
      this.setTab(ids[next]!, true);
    }
  }

  private tlsTunnelOf(req: HttpRequest): TlsTunnel | undefined {
    return req.tlsTunnel ? this.model.tlsTunnels.get(req.tlsTunnel) : undefined;
  }

  /** The dial of a request: its own, or the one that opened its connection. */
  private dialOf(req: HttpRequest) {
    const m = this.model;
    if (req.dial) return m.dials.get(req.dial);
    const conn = req.tcpConn ? m.tcpConns.get(req.tcpConn) : undefined;
    return conn?.fromDial ? m.dials.get(conn.fromDial) : undefined;
  }

  private renderHead(row: Row): HTMLElement[] {
    const req = row.req;
    const title = h(
      'div',
      'detail-title',
      null,
      h('span', 'method', null, req.reqMethod),
      h('span', 'url selectable', { title: req.reqURL }, req.reqURL),
      h('span', `status-pill st-${row.cls}`, null, row.status, req.respStatusText ? ` ${req.respStatusText}` : ''),
    );
    const out: HTMLElement[] = [title];
    const err = req.reqError;
    const text =
      req.diagnosis ??
      (err
        ? `${err.phase} error: ${err.message}${err.cause ? ` (${err.cause.code ?? ''}${err.cause.code ? ': ' : ''}${err.cause.message})` : ''}`
        : undefined);
    if (text) {
      const severity = row.failed ? 'error' : 'warning';
      out.push(h('div', `diagnosis ${severity}`, { role: 'status' }, icon(severity), h('span', 'selectable', null, text)));
    }
    return out;
  }

  // ---- Timing ----------------------------------------------------------------------------------

  private renderTiming(row: Row): Child[] {
    const req = row.req;
    const t = req.timings;
    const segs = requestSegments(row);
    const out: Child[] = [];
    const start = row.start;
    if (!segs.length) return [h('div', 'placeholder', null, 'No timing information for this request.')];
    const begin = segs[0]!.start;
    const end = segs[segs.length - 1]!.end;
    const span = Math.max(end - begin, 1e-6);
    const table = h('div', 'timing-table', { role: 'table' });
    const durations: Record<string, number> = {};
    for (const s of segs) durations[s.phase] = (durations[s.phase] ?? 0) + (s.end - s.start);
    for (const p of PHASES) {
      const raw = t ? t[p] : undefined;
      const applies = raw !== undefined ? raw >= 0 : p in durations;
      const bar = h('div', 'timing-track');
      const seg = segs.find((s) => s.phase === p);
      if (seg) {
        const b = h('div', `seg ph-${p}`);
        b.style.left = `${(((seg.start - begin) / span) * 100).toFixed(3)}%`;
        b.style.width = `${(((seg.end - seg.start) / span) * 100).toFixed(3)}%`;
        bar.append(b);
      }
      // The row shows what its bar draws: TCP connect without the TLS handshake inside it.
      const ms = p === 'connect' && t && t.ssl > 0 ? (durations.connect ?? 0) : raw !== undefined ? raw : durations[p];
      table.append(
        h(
          'div',
          `timing-row${applies ? '' : ' muted'}`,
          { role: 'row' },
          h('div', 'timing-label', { role: 'cell' }, h('span', `swatch ph-${p}`), PHASE_LABELS[p]),
          h('div', 'timing-bar', { role: 'cell' }, bar),
          h('div', 'timing-ms', { role: 'cell' }, applies && ms !== undefined ? formatMs(ms) : 'n/a'),
        ),
      );
    }
    out.push(h('h3', null, null, 'Phases'), table);
    if (t && t.ssl > 0) out.push(h('div', 'note', null, `HAR "connect" is ${formatMs(t.connect)}: TCP connect plus the TLS handshake.`));
    const total = t ? totalTime(t) : row.duration;
    const times: Array<[string, Child]> = [
      ['Total', formatMs(total)],
      ['Started', Number.isFinite(start) ? `+${formatMs(start)}` : '—'],
      ['Request sent', req.reqSentAt !== undefined ? `+${formatMs(req.reqSentAt)}` : '—'],
      ['First byte', req.respRecvAt !== undefined ? `+${formatMs(req.respRecvAt)}` : '—'],
      [
        'Done',
        req.respDoneAt !== undefined
          ? `+${formatMs(req.respDoneAt)}`
          : row.cls === 'pending'
            ? 'pending'
            : isStreaming(req)
              ? 'streaming'
              : '—',
      ],
      ['Connection', req.reusedConn ? 'reused (no DNS/connect/TLS)' : req.tcpConn ? 'new' : '—'],
    ];
    // On HTTP/2 the stream shares its session's connection: the phases above are the stream's.
    if (req.http2StreamId !== undefined) times.push(['HTTP/2 stream', `#${req.http2StreamId}`]);
    if (req.http2RstCode !== undefined)
      times.push(['Stream reset', h('span', 'error-text', null, `RST_STREAM ${formatHttp2Error(req.http2RstCode)}`)]);
    if (req.http2Goaway)
      times.push(['Session GOAWAY', `${formatHttp2Error(req.http2Goaway.errorCode)}, last stream #${req.http2Goaway.lastStreamID}`]);
    out.push(h('h3', null, null, 'Times'), kv(times));
    return out;
  }

  // ---- Headers ---------------------------------------------------------------------------------

  private renderHeaders(row: Row): Child[] {
    const req = row.req;
    const conn = req.tcpConn ? this.model.tcpConns.get(req.tcpConn) : undefined;
    const location = req.respHeaders?.find(([n]) => n.toLowerCase() === 'location')?.[1];
    const from = req.redirectedFrom ? this.model.row(req.redirectedFrom) : undefined;
    const general: Array<[string, Child]> = [
      ['Request URL', h('span', 'selectable', null, req.reqURL)],
      ['Method', req.reqMethod],
      ['Status', `${row.status}${req.respStatusText ? ` ${req.respStatusText}` : ''}`],
      ['Protocol', formatProtocol(req) || '—'],
      ['Client', req.client],
      ['Remote address', conn?.addrTuple ? formatHostPort(conn.addrTuple.dstIP, conn.addrTuple.dstPort) : '—'],
      ['Request body', formatBytes(req.reqContentLen)],
      ['Response body', responseBodyText(req)],
    ];
    if (req.respEvents !== undefined)
      general.push(['Events', `${formatCount(req.respEvents)}${isStreaming(req) ? ' so far (streaming)' : ''}`]);
    if (req.proxy) general.push(['Proxy', req.proxy.url]);
    if (req.redirectedFrom) {
      const link = h('span', 'link', { role: 'link', tabindex: '0' }, from ? from.req.reqURL : req.redirectedFrom);
      const go = (): void => this.events.selectRequest(req.redirectedFrom!);
      link.addEventListener('click', go);
      link.addEventListener('keydown', (e) => e.key === 'Enter' && go());
      general.push(['Redirected from', link]);
    }
    if (location !== undefined) general.push(['Redirects to', h('span', 'selectable', null, location)]);
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

  // ---- Connection ------------------------------------------------------------------------------

  private renderConnection(row: Row): Child[] {
    const req = row.req;
    const m = this.model;
    const conn = req.tcpConn ? m.tcpConns.get(req.tcpConn) : undefined;
    const dial = req.dial ? m.dials.get(req.dial) : conn?.fromDial ? m.dials.get(conn.fromDial) : undefined;
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
      out.push(
        h('h3', null, null, 'TCP connection'),
        kv([
          ['Connection', req.reusedConn ? badge('reused', 'info') : badge('new', 'neutral')],
          ['Local', a ? formatHostPort(a.srcIP, a.srcPort) : '—'],
          ['Remote', a ? formatHostPort(a.dstIP, a.dstPort) : '—'],
          ['Connected', conn.connected ? 'yes' : badge('no', 'error')],
          ['Handshake', formatMs(hs)],
          ['Bytes sent', formatBytes(conn.totalSentBytes)],
          ['Bytes received', formatBytes(conn.totalRecvBytes)],
          ['Requests on connection', conn.requestCount !== undefined ? String(conn.requestCount) : '—'],
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

  // ---- Body ------------------------------------------------------------------------------------

  private renderBody(row: Row): Child[] {
    const req = row.req;
    if (!req.reqBody && !req.respBody && !this.model.bodiesRecorded) {
      return [
        h(
          'div',
          'placeholder',
          null,
          'Bodies were not recorded — enable ',
          h('code', null, null, 'bodies'),
          ' in the launch configuration or run with ',
          h('code', null, null, '--bodies'),
          '.',
        ),
      ];
    }
    const respMissing =
      row.cls === 'pending'
        ? 'No response yet.'
        : req.reqError && req.respStatusCode === undefined
          ? 'No response (the request failed).'
          : 'No response body.';
    return [
      ...bodySection('Response body', req.respBody, respMissing),
      ...bodySection('Request body', req.reqBody, req.reqContentLen ? 'Request body not captured.' : 'No request body.'),
    ];
  }

  // ---- DNS -------------------------------------------------------------------------------------

  private renderDns(row: Row): Child[] {
    const req = row.req;
    const dial = this.dialOf(req);
    if (!dial)
      return [
        h(
          'div',
          'placeholder',
          null,
          req.reusedConn ? 'Reused connection: its name was resolved before this trace began.' : 'No DNS information for this request.',
        ),
      ];
    const out: Child[] = [];
    if (!req.dial) out.push(h('div', 'note', null, `Reused connection: the lookups of the dial that opened it (${dial.traceID}).`));
    out.push(h('h3', null, null, `Lookups (${dial.dnsLookups.length})`), lookupTable(dial.dnsLookups));
    const queries = this.model.dnsQueriesOf(dial.traceID);
    if (!queries.length) {
      if (this.model.dnsTraced)
        out.push(h('div', 'note', null, 'No DNS messages for this dial (an IP address, /etc/hosts, or a cached answer).'));
      else
        out.push(
          h(
            'div',
            'note',
            null,
            'DNS messages were not recorded — enable ',
            h('code', null, null, 'dnsTrace'),
            ' in the launch configuration or run with ',
            h('code', null, null, '--dns-trace'),
            '.',
          ),
        );
      return out;
    }
    for (const q of queries) out.push(...this.dnsQuerySection(q));
    return out;
  }

  private dnsQuerySection(q: DnsQuery): Child[] {
    const queries = Array.isArray(q.dnsQueryMsgs) ? q.dnsQueryMsgs : [];
    const replies = Array.isArray(q.dnsReplyMsgs) ? q.dnsReplyMsgs : [];
    const udp = q.connection ? this.model.udpConns.get(q.connection) : undefined;
    const tcp = q.tcpConn ? this.model.tcpConns.get(q.tcpConn) : undefined;
    const a = udp?.addrTuple ?? tcp?.addrTuple;
    const first = minOf(queries.map((m) => num(m.sentAt)));
    const last = maxOf(replies.map((m) => num(m.recvAt)));
    const lastReply = replies[replies.length - 1];
    const rcode = lastReply ? str(lastReply.rCode) : '';
    const errors = queries.map((m) => str(m.error)).filter(Boolean);
    const result: Child = lastReply
      ? rcodeBadge(rcode)
      : errors.length
        ? h('span', 'error-text', null, errors[errors.length - 1])
        : 'no reply';
    const proto = q.proto ? q.proto.toUpperCase() : '—';
    const out: Child[] = [
      h('h3', null, null, 'DNS messages ', h('span', 'h3-detail', null, `— ${str(q.host) || '?'} via ${str(q.server) || '?'} (${proto})`)),
      kv([
        ['Server', str(q.server) || '—'],
        ['Protocol', proto],
        ['Socket', a ? `${formatHostPort(a.srcIP, a.srcPort)} → ${formatHostPort(a.dstIP, a.dstPort)}` : '—'],
        ['Timeout per try', typeof q.timeoutMs === 'number' ? formatMs(q.timeoutMs) : '—'],
        ['Time', first !== undefined && last !== undefined ? `${formatMs(last - first)} (first query to last reply)` : '—'],
        ['Result', result],
      ]),
    ];
    // Queries and replies on one time line.
    const msgs: Array<{ at: number; row: Child[] }> = [];
    for (const m of queries) {
      const at = num(m.sentAt);
      const flags = [m.recursionDesired ? 'RD' : '', m.truncated ? 'TC' : ''].filter(Boolean).join(' ');
      msgs.push({
        at: at ?? Number.POSITIVE_INFINITY,
        row: [
          formatAt(at),
          h('span', null, null, icon('arrow-right'), ' query'),
          idText(m.id),
          questionsText(m.questions),
          m.error ? h('span', 'error-text', null, str(m.error)) : '',
          `${formatBytes(num(m.size))}${flags ? ` · ${flags}` : ''}`,
        ],
      });
    }
    for (const m of replies) {
      const at = num(m.recvAt);
      const flags = [m.authoritative ? 'AA' : '', m.recursionAvailable ? 'RA' : '', m.truncated ? 'TC' : ''].filter(Boolean).join(' ');
      const answers = Array.isArray(m.answers) ? m.answers.length : 0;
      msgs.push({
        at: at ?? Number.POSITIVE_INFINITY,
        row: [
          formatAt(at),
          h('span', null, null, icon('arrow-left'), ' reply'),
          idText(m.id),
          questionsText(m.questions),
          h(
            'span',
            null,
            null,
            rcodeBadge(str(m.rCode)),
            m.malformed ? h('span', 'error-text', null, ` ${str(m.malformed)}`) : '',
            ` ${answers} answer${answers === 1 ? '' : 's'}`,
          ),
          `${formatBytes(num(m.size))}${flags ? ` · ${flags}` : ''}`,
        ],
      });
    }
    msgs.sort((x, y) => x.at - y.at);
    out.push(
      table(
        ['Time', 'Message', 'ID', 'Question', 'Result', 'Size · flags'],
        msgs.map((x) => x.row),
      ),
    );
    for (const m of replies) {
      const answers = Array.isArray(m.answers) ? (m.answers as unknown[]) : [];
      if (!answers.length) continue;
      const shown = answers.slice(0, MAX_DNS_ANSWERS_SHOWN).map((x) => {
        const r = (typeof x === 'object' && x !== null ? x : {}) as Record<string, unknown>;
        return [str(r.name), str(r.type), typeof r.ttl === 'number' ? `${r.ttl} s` : '—', h('span', 'mono', null, str(r.resolvedVal))];
      });
      out.push(
        h('div', 'subhead', null, `Answers of reply ${idText(m.id)} (${answers.length})`),
        table(['Name', 'Type', 'TTL', 'Value'], shown),
      );
      if (answers.length > shown.length)
        out.push(h('div', 'note', null, `${formatCount(answers.length - shown.length)} more answers not shown.`));
    }
    return out;
  }

  // ---- TLS -------------------------------------------------------------------------------------

  private renderTls(row: Row): Child[] {
    const req = row.req;
    const tls = this.tlsTunnelOf(req);
    // A request through an HTTPS proxy has two sessions on one connection: to the proxy
    // (`forProxy`) and, inside the CONNECT tunnel, to the origin.
    const proxyTls = req.proxy ? this.model.tlsTunnelsOn(req.proxy.tunnel ?? req.tcpConn).filter((t) => t.forProxy && t !== tls) : [];
    if (!tls && !proxyTls.length) {
      const https = /^https:/i.test(req.reqURL);
      return [
        h(
          'div',
          'placeholder',
          null,
          https
            ? req.reusedConn
              ? 'TLS session of a reused connection (not recorded in this trace).'
              : 'No TLS information recorded.'
            : 'Not a TLS connection.',
        ),
      ];
    }
    const out: Child[] = [];
    for (const t of proxyTls) out.push(...this.tlsSection(t, 'TLS session to the proxy', req));
    if (tls) out.push(...this.tlsSection(tls, proxyTls.length ? 'TLS session to the origin (inside the tunnel)' : 'TLS session', req));
    return out;
  }

  private tlsSection(tls: TlsTunnel, title: string, req: HttpRequest): Child[] {
    const hs =
      tls.handshakeBeginAt !== undefined && tls.handshakeEndAt !== undefined ? tls.handshakeEndAt - tls.handshakeBeginAt : undefined;
    let error: Child = 'none';
    if (tls.handshakeErr) {
      const conn = tls.tcpConn ? this.model.tcpConns.get(tls.tcpConn) : undefined;
      const info = explainTlsError(
        { code: tls.handshakeErrCode, message: tls.handshakeErr },
        { peerCerts: tls.peerCerts, hostname: tls.serverName, recvBytes: conn?.totalRecvBytes },
      );
      error = h(
        'span',
        null,
        null,
        badge(TLS_ERROR_LABELS[info.kind] ?? 'TLS error', 'error', 'error'),
        ' ',
        h('span', 'error-text', null, info.phrase),
        h('div', 'muted', null, tls.handshakeErrCode ? `${tls.handshakeErrCode}: ` : '', tls.handshakeErr),
      );
    }
    const out: Child[] = [
      h('h3', null, null, title),
      kv([
        ['Version', tls.tlsVersion ?? '—'],
        ['Cipher suite', tls.cipherSuite ?? '—'],
        ['ALPN', tls.negotiatedProto || '—'],
        ['Server name (SNI)', tls.serverName ?? '—'],
        ['Resumed', tls.didResume === undefined ? '—' : tls.didResume ? badge('resumed', 'info') : 'no (full handshake)'],
        ['Handshake', formatMs(hs)],
        ['For proxy', tls.forProxy ? badge('proxy', 'info') : req.proxy ? 'no (to the origin)' : 'no'],
        ['Error', error],
        ['Record', tls.traceID],
      ]),
    ];
    const certs = tls.peerCerts ?? [];
    out.push(h('div', 'subhead', null, `Certificate chain (${certs.length})`));
    if (!certs.length) out.push(h('div', 'muted', null, 'No peer certificates recorded.'));
    const at = Date.parse(this.model.traceBeginAt) + (tls.handshakeBeginAt ?? 0);
    certs.forEach((c, i) => out.push(certCard(c, i, Number.isFinite(at) ? at : Date.now())));
    return out;
  }

  // ---- Initiator -------------------------------------------------------------------------------

  private renderInitiator(row: Row): Child[] {
    const frames = row.req.initiator?.frames ?? [];
    if (!frames.length) {
      return [
        h(
          'div',
          'placeholder',
          null,
          'No initiator stack recorded for this request. Past its first 100 requests, a program gets stacks for as many requests as 1% of its time allows; set "initiator": "all" in the launch configuration (or nettrace.initiator) to record every one.',
        ),
      ];
    }
    // The program's frames first; library frames collapsed under them, greyed (like DevTools'
    // ignore-listed frames), never presented as the line that made the request.
    const own = frames.filter((f) => !f.library);
    const library = frames.filter((f) => f.library);
    const out: Child[] = [];
    const first = own[0];
    if (first && row.req.initiator?.async) {
      out.push(
        h(
          'div',
          'initiator-async muted',
          {
            title:
              "The program's frame was not on the stack that made the request: it was found through the async context (an await chain, or the call into the library that started the request later).",
          },
          `Started asynchronously from ${first.function || '(anonymous)'} (${basename(first.file)}:${first.line})`,
        ),
      );
    }
    if (!first)
      out.push(
        h(
          'div',
          'placeholder',
          null,
          `Made by ${NO_PROGRAM_FRAME}: none of the program's frames was found on this stack or its async context.`,
        ),
      );
    out.push(h('h3', null, null, 'Call stack'));
    if (own.length) out.push(this.frameList(own));
    if (library.length) {
      const details = h('details', 'library-frames');
      // Expanded when they are all there is; collapsed under the program's frames otherwise.
      details.open = !first;
      details.append(
        h('summary', 'muted', null, `${library.length} library frame${library.length === 1 ? '' : 's'}`),
        this.frameList(library),
      );
      out.push(details);
    }
    return out;
  }

  private frameList(frames: StackFrame[]): HTMLElement {
    const list = h('div', 'frames', { role: 'list' });
    for (const f of frames) {
      const loc = `${basename(f.file)}:${f.line}:${f.column}`;
      const open = (): void => this.events.openInitiator(f);
      const link = h('span', 'link', { role: 'link', tabindex: '0', title: `${f.file}:${f.line}:${f.column}` }, loc);
      link.addEventListener('click', open);
      link.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          open();
        }
      });
      list.append(
        h(
          'div',
          `frame${f.library ? ' library' : ''}`,
          { role: 'listitem' },
          h('span', 'fn', null, f.function || '(anonymous)'),
          link,
          h(
            'span',
            'path muted',
            { title: f.file },
            f.file,
            f.generated ? ` (generated ${basename(f.generated.file)}:${f.generated.line}:${f.generated.column})` : null,
          ),
        ),
      );
    }
    return list;
  }
}

/** "12 kB", "12 kB so far (streaming)", or "0 B — not read: the program closed the response (not an error)". */
function responseBodyText(req: HttpRequest): string {
  const size = formatBytes(req.respContentLen);
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

/** A two-column key/value table. */
function kv(rows: Array<[string, Child]>): HTMLElement {
  const el = h('div', 'kv', { role: 'table' });
  for (const [k, v] of rows) el.append(h('div', 'k', { role: 'cell' }, k), h('div', 'v selectable', { role: 'cell' }, v));
  return el;
}

/** A small table with a header row. */
function table(head: string[], rows: Child[][]): HTMLElement {
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
function badge(text: string, kind: 'info' | 'error' | 'warning' | 'neutral', iconName?: string): HTMLElement {
  return h('span', `badge ${kind}`, null, iconName ? icon(iconName) : null, text);
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
    el.append(h('div', 'k selectable', { role: 'cell' }, name), h('div', 'v', { role: 'cell' }, v));
  }
  return el;
}

/** One certificate of the chain, with its validity checked against the handshake time. */
function certCard(c: PeerCert, index: number, at: number): HTMLElement {
  const nb = Date.parse(c.notBefore);
  const na = Date.parse(c.notAfter);
  const expired = Number.isFinite(na) && at > na;
  const notYet = Number.isFinite(nb) && at < nb;
  const validity = h('span', expired || notYet ? 'error-text' : null, null, `${formatDate(c.notBefore)} → ${formatDate(c.notAfter)}`);
  const state = expired
    ? badge('expired', 'error', 'error')
    : notYet
      ? badge('not yet valid', 'error', 'error')
      : badge('valid', 'info', 'pass');
  return h(
    'div',
    `cert${expired || notYet ? ' invalid' : ''}`,
    null,
    h(
      'div',
      'cert-title',
      null,
      icon(c.isCA ? 'shield' : 'key'),
      h('span', 'selectable', null, c.subject || '(no subject)'),
      h('span', 'muted', null, index === 0 ? ' leaf' : c.isCA ? ' CA' : ''),
    ),
    kv([
      ['Issuer', c.issuer],
      ['Validity', h('span', null, null, validity, ' ', state)],
      ['Alt names', c.subjectAltNames.length ? c.subjectAltNames.join(', ') : '—'],
      ['SHA-256', h('span', 'mono', null, c.fingerprint256)],
    ]),
  );
}

/** The DNS lookups of a dial (getaddrinfo or the in-process resolver). */
function lookupTable(
  lookups: Array<{ host: string; beginAt: number; endAt?: number; addresses: string[]; error: string | null }>,
): HTMLElement {
  if (!lookups.length) return h('div', 'muted', null, 'No lookup (IP address, or resolved elsewhere).');
  return table(
    ['Host', 'Started', 'Time', 'Addresses', 'Error'],
    lookups.map((l) => [
      l.host,
      formatAt(l.beginAt),
      formatMs(l.endAt !== undefined ? l.endAt - l.beginAt : undefined),
      Array.isArray(l.addresses) && l.addresses.length ? l.addresses.join(', ') : '—',
      l.error ? h('span', 'error-text', null, l.error) : '',
    ]),
  );
}

/** One body: size, type and encoding, a truncation note, and the content (JSON, text or hex dump). */
function bodySection(title: string, body: CapturedBody | undefined, missing: string): Child[] {
  if (!body) return [h('h3', null, null, title), h('div', 'muted', null, missing)];
  const view = bodyView(body);
  const meta: Array<[string, Child]> = [
    ['Size', `${formatBytes(body.size)}${body.size >= 1000 ? ` (${formatCount(body.size)} bytes)` : ''}`],
    ['Content type', body.contentType ?? '—'],
  ];
  if (body.contentEncoding) meta.push(['Content encoding', `${body.contentEncoding} (shown as the encoded bytes)`]);
  meta.push([
    'Shown as',
    view.kind === 'json' ? 'JSON (re-indented)' : view.kind === 'text' ? 'text' : view.kind === 'hex' ? 'hex dump' : '—',
  ]);
  const out: Child[] = [h('h3', null, null, title), kv(meta)];
  if (body.truncated)
    out.push(
      h(
        'div',
        'note warning-text',
        { role: 'note' },
        icon('warning'),
        ` Truncated at ${formatCount(view.capturedBytes)} bytes: the body is ${formatCount(body.size)} bytes.`,
        ...(view.kind === 'hex'
          ? [' Binary and content-encoded bodies are recorded as a short preview.']
          : [' Raise the limit with ', h('code', null, null, '"bodies": BYTES'), ' or ', h('code', null, null, '--bodies=BYTES'), '.']),
      ),
    );
  if (view.cutForDisplay)
    out.push(
      h(
        'div',
        'note',
        null,
        view.kind === 'hex' ? 'The hex dump is cut for display.' : `Showing the first ${formatCount(MAX_SHOWN_TEXT)} characters.`,
      ),
    );
  if (view.kind === 'empty') out.push(h('div', 'muted', null, body.size === 0 ? 'Empty body.' : 'No content recorded.'));
  else if (view.kind === 'hex') {
    const lines = view.rows!.map((r) => `${r.offset}  ${r.hex}  |${r.ascii}|`).join('\n');
    out.push(h('pre', 'body-content hexdump selectable', null, lines));
  } else out.push(h('pre', `body-content ${view.kind} selectable`, null, view.text ?? ''));
  return out;
}

/** The socket operations of a connection (socket-op trace): a capped table, ops during the request marked. */
function socketOpsSection(
  trace: { socketOps: SocketOp[]; droppedOps: number; layer?: 'tcp' | 'tls' },
  req: HttpRequest,
  requestCount?: number,
): Child[] {
  const ops = Array.isArray(trace.socketOps) ? trace.socketOps : [];
  let reads = 0;
  let writes = 0;
  let readBytes = 0;
  let writeBytes = 0;
  for (const op of ops) {
    if (op.type === 'read') {
      reads++;
      readBytes += op.dataLen || 0;
    } else {
      writes++;
      writeBytes += op.dataLen || 0;
    }
  }
  const from = req.reqStartAt ?? req.reqSentAt;
  const to = req.respDoneAt ?? req.reqEndAt ?? req.reqErrorAt;
  const during = (op: SocketOp): boolean => from !== undefined && op.callAt >= from && (to === undefined || op.callAt <= to);
  const out: Child[] = [
    h('h3', null, null, `Socket operations (${formatCount(ops.length + (trace.droppedOps || 0))})`),
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
          h('td', 'num', null, formatCount(op.dataLen || 0)),
          h('td', null, null, op.returnErr ? h('span', 'error-text', null, op.returnErr) : op.returnAt === undefined ? 'pending' : 'ok'),
        ),
      );
    });
    t.append(tb);
    out.push(t);
    const notShown = ops.length - shown.length + (trace.droppedOps || 0);
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

/** "no-error" as a quiet badge, anything else as an error badge. */
function rcodeBadge(rcode: string): HTMLElement {
  if (!rcode) return h('span', 'muted', null, '—');
  return rcode === 'no-error' ? badge(rcode, 'neutral') : badge(rcode, 'error');
}

/** "example.test. A, example.test. AAAA" from a message's questions. */
function questionsText(questions: unknown): string {
  if (!Array.isArray(questions) || !questions.length) return '—';
  return questions
    .map((q) => {
      const r = (typeof q === 'object' && q !== null ? q : {}) as Record<string, unknown>;
      return `${str(r.name)} ${str(r.type)}`.trim();
    })
    .join(', ');
}

/** "#34311" for a DNS message id. */
function idText(id: unknown): string {
  return typeof id === 'number' ? `#${id}` : '—';
}

/** A recorded value as display text (records from trace files are untrusted JSON). */
function str(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

/** A finite number, else undefined. */
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function minOf(values: Array<number | undefined>): number | undefined {
  let out: number | undefined;
  for (const v of values) if (v !== undefined && (out === undefined || v < out)) out = v;
  return out;
}

function maxOf(values: Array<number | undefined>): number | undefined {
  let out: number | undefined;
  for (const v of values) if (v !== undefined && (out === undefined || v > out)) out = v;
  return out;
}
