/**
 * The detail view of the selected request: a header (method, URL, status), the diagnosis of a
 * failed/slow request, and tabs Timing / Headers / Connection / TLS / Initiator. Rebuilt from
 * scratch on selection (a few hundred nodes at most); all data goes in as Text nodes.
 */

import type { HeaderPair, HttpRequest, PeerCert, StackFrame } from '../src/trace/types';
import { h, icon, type Child } from './dom';
import { basename, formatBytes, formatDate, formatHostPort, formatMs, formatProtocol, REDACTED_VALUE } from './format';
import type { Row, TraceModel } from './model';
import { PHASES, PHASE_LABELS, requestSegments, totalTime } from './waterfall';

/** The detail tabs. */
export type DetailTab = 'timing' | 'headers' | 'connection' | 'tls' | 'initiator';

/** Tabs in display order with their labels. */
export const DETAIL_TABS: ReadonlyArray<[DetailTab, string]> = [
  ['timing', 'Timing'],
  ['headers', 'Headers'],
  ['connection', 'Connection'],
  ['tls', 'TLS'],
  ['initiator', 'Initiator'],
];

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
    const tls = this.tlsTunnelOf(row.req);
    this.tabButtons.get('tls')!.classList.toggle('dim', !tls);
    this.head.replaceChildren(...this.renderHead(row));
    let body: Child[];
    switch (this.tab) {
      case 'timing':
        body = this.renderTiming(row);
        break;
      case 'headers':
        body = this.renderHeaders(row);
        break;
      case 'connection':
        body = this.renderConnection(row);
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

  private tlsTunnelOf(req: HttpRequest) {
    return req.tlsTunnel ? this.model.tlsTunnels.get(req.tlsTunnel) : undefined;
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
    const segs = requestSegments(req);
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
    out.push(
      h('h3', null, null, 'Times'),
      kv([
        ['Total', formatMs(total)],
        ['Started', Number.isFinite(start) ? `+${formatMs(start)}` : '—'],
        ['Request sent', req.reqSentAt !== undefined ? `+${formatMs(req.reqSentAt)}` : '—'],
        ['First byte', req.respRecvAt !== undefined ? `+${formatMs(req.respRecvAt)}` : '—'],
        ['Done', req.respDoneAt !== undefined ? `+${formatMs(req.respDoneAt)}` : row.cls === 'pending' ? 'pending' : '—'],
        ['Connection', req.reusedConn ? 'reused (no DNS/connect/TLS)' : req.tcpConn ? 'new' : '—'],
      ]),
    );
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
      ['Response body', formatBytes(req.respContentLen)],
    ];
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
      const tm = conn.tcpMetrics;
      if (tm) {
        out.push(
          h('h3', null, null, `TCP metrics (${tm.source})`),
          kv([
            ['RTT', tm.rttUs !== undefined ? formatMs(tm.rttUs / 1000) : '—'],
            ['RTT variance', tm.rttVarUs !== undefined ? formatMs(tm.rttVarUs / 1000) : '—'],
            ['Retransmits', tm.retransmits !== undefined ? String(tm.retransmits) : '—'],
            ['Congestion window', tm.sndCwnd !== undefined ? String(tm.sndCwnd) : '—'],
            ['Segments out / in', `${tm.segsOut ?? '—'} / ${tm.segsIn ?? '—'}`],
          ]),
        );
      }
    }
    if (req.proxy)
      out.push(
        h('h3', null, null, 'Proxy'),
        kv([
          ['URL', req.proxy.url],
          ['Tunnel', req.proxy.tunnel ?? '—'],
        ]),
      );
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
        dial.dnsLookups.length
          ? table(
              ['Host', 'Time', 'Addresses', 'Error'],
              dial.dnsLookups.map((l) => [
                l.host,
                formatMs(l.endAt !== undefined ? l.endAt - l.beginAt : undefined),
                l.addresses.length ? l.addresses.join(', ') : '—',
                l.error ? h('span', 'error-text', null, l.error) : '',
              ]),
            )
          : h('div', 'muted', null, 'No lookup (IP address, or resolved elsewhere).'),
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

  // ---- TLS -------------------------------------------------------------------------------------

  private renderTls(row: Row): Child[] {
    const req = row.req;
    const tls = this.tlsTunnelOf(req);
    if (!tls) {
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
    const hs =
      tls.handshakeBeginAt !== undefined && tls.handshakeEndAt !== undefined ? tls.handshakeEndAt - tls.handshakeBeginAt : undefined;
    const out: Child[] = [
      h('h3', null, null, 'TLS session'),
      kv([
        ['Version', tls.tlsVersion ?? '—'],
        ['Cipher suite', tls.cipherSuite ?? '—'],
        ['ALPN', tls.negotiatedProto || '—'],
        ['Server name (SNI)', tls.serverName ?? '—'],
        ['Resumed', tls.didResume === undefined ? '—' : tls.didResume ? badge('resumed', 'info') : 'no (full handshake)'],
        ['Handshake', formatMs(hs)],
        ['For proxy', tls.forProxy ? 'yes (TLS to the proxy)' : 'no'],
        [
          'Error',
          tls.handshakeErr
            ? h('span', 'error-text', null, tls.handshakeErrCode ? `${tls.handshakeErrCode}: ` : '', tls.handshakeErr)
            : 'none',
        ],
      ]),
    ];
    const certs = tls.peerCerts ?? [];
    out.push(h('h3', null, null, `Certificate chain (${certs.length})`));
    if (!certs.length) out.push(h('div', 'muted', null, 'No peer certificates recorded.'));
    const at = Date.parse(this.model.traceBeginAt) + (tls.handshakeBeginAt ?? 0);
    certs.forEach((c, i) => out.push(certCard(c, i, Number.isFinite(at) ? at : Date.now())));
    return out;
  }

  // ---- Initiator -------------------------------------------------------------------------------

  private renderInitiator(row: Row): Child[] {
    const frames = row.req.initiator?.frames ?? [];
    if (!frames.length) return [h('div', 'placeholder', null, 'No initiator stack recorded for this request.')];
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
    return [h('h3', null, null, 'Call stack'), list];
  }
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
