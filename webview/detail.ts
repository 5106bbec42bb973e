/**
 * The detail view of the selected request: a header (method, URL, status), the diagnosis of a
 * failed/slow request, and tabs Timing / Headers / Body / Connection / DNS / TLS / Initiator, one
 * module each under detail/. Rebuilt from scratch on selection (a few hundred nodes at most, long
 * lists capped); all data goes in as Text nodes.
 */

import type { HttpRequest } from '../src/trace/contract/types';
import { renderBody } from './detail/body';
import { renderCause } from './detail/cause';
import { dialOf, tlsTunnelOf, type DetailContext, type DetailEvents, type DetailTab } from './detail/common';
import { renderConnection } from './detail/connection';
import { renderDns } from './detail/dns';
import { renderHeaders } from './detail/headers';
import { renderInitiator } from './detail/initiator';
import { renderTiming } from './detail/timing';
import { renderTls } from './detail/tls';
import { formatStatusLine } from './format';
import { h, icon, type Child } from './dom';
import type { Row, TraceModel } from './model';
import type { GroupedRow } from './grouping';
import { renderIncoming } from './detail/incoming';
import { processLabel } from './restarts';
import { whatIfDiagnosis, whatIfLine } from './detail/whatIf';
import { diagnosisAfterReplay, replayLine } from './detail/replay';

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

/** Each tab's renderer. */
const TAB_RENDERERS: Record<DetailTab, (ctx: DetailContext, row: Row) => Child[]> = {
  timing: (ctx, row) => renderTiming(row, row.req.tcpConn ? ctx.model.tcpConns.get(row.req.tcpConn) : undefined),
  headers: renderHeaders,
  body: renderBody,
  connection: renderConnection,
  dns: renderDns,
  tls: renderTls,
  initiator: renderInitiator,
};

/** The detail view component. */
export class DetailView implements DetailContext {
  readonly el: HTMLDivElement;
  private readonly head: HTMLDivElement;
  private readonly tabsEl: HTMLDivElement;
  private readonly content: HTMLDivElement;
  private readonly tabButtons = new Map<DetailTab, HTMLButtonElement>();
  private shown: { row: Row; req: HttpRequest; tab: DetailTab } | null = null;

  constructor(
    readonly model: TraceModel,
    public tab: DetailTab,
    readonly events: DetailEvents,
  ) {
    this.head = h('div', 'detail-head');
    this.tabsEl = h('div', 'tabs', { role: 'tablist', 'aria-label': 'Request details' });
    for (const [id, label] of DETAIL_TABS) {
      const b = h(
        'button',
        'tab',
        {
          role: 'tab',
          type: 'button',
          id: `nt-tab-${id}`,
          'aria-controls': 'nt-tabpanel',
          'aria-selected': 'false',
          tabindex: '-1',
          'data-tab': id,
        },
        label,
      );
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
    this.content = h('div', 'detail-content', { role: 'tabpanel', id: 'nt-tabpanel', tabindex: '0' });
    this.el = h(
      'div',
      'detail',
      { id: 'nt-detail' },
      this.head,
      h('div', 'tabbar', null, this.tabsEl, h('div', 'spacer'), close),
      this.content,
    );
  }

  /** Moves keyboard focus to the selected tab. */
  focus(): void {
    const b = this.tabButtons.get(this.tab);
    if (!b) return;
    b.focus({ preventScroll: true });
    // focus() leaves a partly hidden tab where it is (Chromium scrolls only a wholly hidden one):
    // the tab list scrolls sideways to show all of it (narrow panel, zoom).
    b.scrollIntoView({ block: 'nearest', inline: 'nearest' });
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
    // The same request in the same tab again (a live update): what did not change stays in place.
    const again = this.shown?.req.traceID === row.req.traceID && this.shown.tab === this.tab;
    this.shown = { row, req: row.req, tab: this.tab };
    const inc = (row as GroupedRow).group?.incoming;
    // An incoming request has no tabs of its own (the `hidden` attribute loses to the tab bar's CSS).
    this.tabsEl.style.display = inc ? 'none' : '';
    if (inc) return this.show(renderIncoming(this, row, inc));
    for (const [id, b] of this.tabButtons) {
      const on = id === this.tab;
      b.classList.toggle('active', on);
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
    }
    this.content.setAttribute('aria-labelledby', `nt-tab-${this.tab}`);
    const req = row.req;
    const tls = tlsTunnelOf(this.model, req);
    this.tabButtons.get('tls')!.classList.toggle('dim', !tls);
    this.tabButtons.get('body')!.classList.toggle('dim', !req.reqBody && !req.respBody);
    const dial = dialOf(this.model, req);
    this.tabButtons
      .get('dns')!
      .classList.toggle('dim', !dial || (!dial.dnsLookups?.length && !this.model.dnsQueriesOf(dial.traceID).length));
    replaceChildren(this.head, this.renderHead(row), again);
    const body = TAB_RENDERERS[this.tab](this, row);
    const scroll = this.content.scrollTop;
    if (replaceChildren(this.content, body, again)) this.content.scrollTop = scroll;
  }

  /** Shows a head and a body that are not a tab's (an incoming request's detail). */
  private show(v: { head: Child[]; body: Child[] }): void {
    const nodes = (l: Child[]): Array<Node | string> => l.filter((c): c is Node | string => typeof c === 'string' || c instanceof Node);
    this.head.replaceChildren(...nodes(v.head));
    this.content.removeAttribute('aria-labelledby');
    this.content.replaceChildren(...nodes(v.body));
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

  private renderHead(row: Row): HTMLElement[] {
    const req = row.req;
    const title = h(
      'div',
      'detail-title',
      null,
      h('span', 'method', null, req.reqMethod),
      h('span', 'url selectable', { title: req.reqURL }, req.reqURL),
      h('span', `status-pill st-${row.cls}`, null, formatStatusLine(req)),
    );
    const out: HTMLElement[] = [title];
    // Which process made it; a restarted program's requests say which restart (restarts.ts).
    if (req.restart !== undefined) out.push(h('div', 'detail-process muted', null, `Made by ${processLabel(req)}`));
    // A replay's line first (detail/replay.ts): where the answer came from, or what differed.
    const replayed = replayLine(req);
    if (replayed) out.push(replayed);
    const flag = whatIfLine(req, (id) => this.events.selectRequest(id));
    if (flag) out.push(flag);
    const err = req.reqError;
    // A what-if rule's sentence is the diagnosis (with what the program saw): told once, in the
    // what-if line above.
    const text =
      whatIfDiagnosis(req) !== undefined
        ? undefined
        : (diagnosisAfterReplay(req) ??
          (err
            ? `${err.phase} error: ${err.message}${err.cause ? ` (${err.cause.code ?? ''}${err.cause.code ? ': ' : ''}${err.cause.message})` : ''}`
            : undefined));
    if (text) {
      const severity = row.failed ? 'error' : 'warning';
      out.push(h('div', `diagnosis ${severity}`, null, icon(severity), h('span', 'selectable', null, text)));
    }
    const cause = renderCause(this, req);
    if (cause) out.push(cause);
    return out;
  }
}

/**
 * Puts `children` in `parent`; when `keepEqual`, not if what it shows now is equal, node for node.
 * True when replaced.
 * Workaround: a live update of the shown request (a kernel event, a late timing) re-renders the
 * detail, and a click whose press and release straddle the swap is lost (seen in code-server: a
 * link to the program's line pressed while the helper's events arrived did nothing).
 */
function replaceChildren(parent: HTMLElement, children: readonly Child[], keepEqual: boolean): boolean {
  const next = children
    .filter((c): c is Node | string => typeof c === 'string' || c instanceof Node)
    .map((c) => (typeof c === 'string' ? document.createTextNode(c) : c));
  const now = parent.childNodes;
  if (keepEqual && now.length === next.length && next.every((n, i) => n.isEqualNode(now[i]!))) return false;
  parent.replaceChildren(...next);
  return true;
}
