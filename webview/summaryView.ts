/**
 * The panel's Summary view (issue 53): the trace's requests grouped by host, method and route
 * (src/trace/derive/summary.ts, the CLI's `nettrace show --summary`), as a grid above the list:
 * count, failed, p50/p95/p99/max of the total, connections reused. Every column sorts (a click or
 * Enter on its header); the rows are one tab stop (↑/↓, Home/End move), and a click or Enter on a
 * row filters the list to its group (`method:GET route:host/users/:id`, webview/filterQuery.ts).
 * The summary is recomputed only while the view is open and the requests changed, at most twice a
 * second for a live trace.
 */

import type { CompareMessage } from '../src/protocol/webview';
import { summarize, type RouteSummary } from '../src/trace/derive/summary';
import { h, icon, setSafeAttr, setText } from './dom';
import { hostApi } from './vscodeApi';
import { formatCount } from './format';
import type { TraceModel } from './model';

/** A sortable column: its header, the value it sorts by, the text of a cell. */
interface Column {
  key: string;
  label: string;
  value: (r: RouteSummary) => number | string;
  text: (r: RouteSummary) => string;
  numeric?: boolean;
}

const ms = (v: number | undefined) => (v === undefined ? '–' : v < 10 ? v.toFixed(1) : String(Math.round(v)));
const reusedShare = (r: RouteSummary) => {
  const n = r.connections.opened + r.connections.reused;
  return n ? r.connections.reused / n : -1;
};

const COLUMNS: readonly Column[] = [
  { key: 'route', label: 'Route', value: (r) => r.label, text: (r) => r.label + (r.inferred ? ' *' : '') },
  { key: 'count', label: 'Count', value: (r) => r.count, text: (r) => formatCount(r.count), numeric: true },
  { key: 'failed', label: 'Failed', value: (r) => r.failed, text: (r) => formatCount(r.failed), numeric: true },
  { key: 'p50', label: 'p50 ms', value: (r) => r.times.total?.p50 ?? -1, text: (r) => ms(r.times.total?.p50), numeric: true },
  { key: 'p95', label: 'p95 ms', value: (r) => r.times.total?.p95 ?? -1, text: (r) => ms(r.times.total?.p95), numeric: true },
  { key: 'p99', label: 'p99 ms', value: (r) => r.times.total?.p99 ?? -1, text: (r) => ms(r.times.total?.p99), numeric: true },
  { key: 'max', label: 'Max ms', value: (r) => r.times.total?.max ?? -1, text: (r) => ms(r.times.total?.max), numeric: true },
  {
    key: 'reused',
    label: 'Reused',
    value: reusedShare,
    text: (r) => (reusedShare(r) < 0 ? '–' : `${Math.round(reusedShare(r) * 100)}%`),
    numeric: true,
  },
];

/** The filter text that keeps a route group's requests. */
export function routeFilter(r: Pick<RouteSummary, 'method' | 'host' | 'route'>): string {
  return `method:${r.method} route:${r.host}${r.route}`;
}

/** The Summary view; the app places `toggle` in its toolbar and `el` above the list. */
export class SummaryView {
  readonly toggle: HTMLButtonElement;
  readonly el: HTMLElement;
  private readonly body = h('tbody');
  private readonly head = h('tr', null, { role: 'row' });
  private readonly caption = h('p', 'summary-note');
  /** The comparison with a baseline ("Compare With…"), once the host sent one. */
  private readonly compare = h('section', 'summary-compare', { 'aria-label': 'Comparison', role: 'region' });
  private open = false;
  private routes: RouteSummary[] = [];
  private sort = { key: 'p95', dir: -1 };
  private focusIndex = 0;
  private computedFor = '';
  private lastAt = 0;

  constructor(
    private readonly model: TraceModel,
    /** Filters the list (the filter box's text). */
    private readonly filter: (text: string) => void,
  ) {
    this.toggle = h(
      'button',
      'toggle summary-toggle',
      { type: 'button', title: 'Summary by route: count, failures, percentiles', 'aria-pressed': 'false' },
      icon('graph'),
      'Summary',
    );
    this.toggle.addEventListener('click', () => this.setOpen(!this.open));
    const table = h(
      'table',
      'summary-grid',
      { role: 'grid', 'aria-label': 'Requests by route' },
      h('thead', null, null, this.head),
      this.body,
    );
    const compareButton = h(
      'button',
      'summary-compare-button',
      { type: 'button', title: 'Compare this trace with another session or a file' },
      'Compare With…',
    );
    compareButton.addEventListener('click', () => hostApi().postMessage({ type: 'command', command: 'compareWith' }));
    this.compare.hidden = true;
    this.el = h(
      'section',
      'summary-view',
      { role: 'region', 'aria-label': 'Summary by route' },
      h('div', 'summary-head', null, h('h2', 'summary-title', null, 'Summary by route'), compareButton),
      this.caption,
      this.compare,
      table,
    );
    this.el.hidden = true;
    this.body.addEventListener('keydown', (e) => this.onKey(e));
    this.body.addEventListener('click', (e) => {
      const tr = (e.target as Element).closest('tr');
      if (tr && tr.parentElement === this.body) this.pick([...this.body.children].indexOf(tr));
    });
    this.el.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !e.defaultPrevented) {
        e.preventDefault();
        this.setOpen(false);
      }
    });
    this.renderHead();
    // The host's answer to "Compare With…" (main.ts leaves it to this view).
    window.addEventListener('message', (e: MessageEvent) => {
      const msg = e.data as CompareMessage | undefined;
      if (msg?.type === 'compare' && Array.isArray(msg.routes)) this.showCompare(msg);
    });
  }

  /** Shows a comparison: the notable changes first, one sentence each, then routes new and gone, then the rest. */
  private showCompare(msg: CompareMessage): void {
    const items: HTMLElement[] = [];
    for (const r of msg.routes) {
      if (r.sentence) items.push(h('li', 'compare-notable', null, r.sentence));
    }
    for (const r of msg.added) items.push(h('li', 'compare-added', null, `New: ${r.label} (${formatCount(r.count)})`));
    for (const r of msg.gone) items.push(h('li', 'compare-gone', null, `Gone: ${r.label} (${formatCount(r.count)})`));
    const quiet = msg.routes.filter((r) => !r.sentence);
    if (quiet.length) {
      const few = quiet.filter((r) => r.tooFew).length;
      items.push(
        h(
          'li',
          'compare-quiet',
          null,
          `${formatCount(quiet.length)} other routes within the noise${few ? ` (${formatCount(few)} with too few requests to tell)` : ''}`,
        ),
      );
    }
    this.compare.replaceChildren(
      h('h3', 'summary-title', null, `Compared with ${msg.baseline}`),
      items.length ? h('ol', 'compare-list', null, ...items) : h('p', null, null, 'No route in both traces.'),
    );
    this.compare.hidden = false;
    this.setOpen(true);
    this.compare.querySelector<HTMLElement>('h3')?.setAttribute('tabindex', '-1');
    this.compare.querySelector<HTMLElement>('h3')?.focus();
  }

  /** Opens or closes the view; opening focuses its first row. */
  setOpen(open: boolean): void {
    if (this.open === open) return;
    this.open = open;
    this.el.hidden = !open;
    setSafeAttr(this.toggle, 'aria-pressed', String(open));
    this.toggle.classList.toggle('on', open);
    if (open) {
      this.render(true);
      (this.body.children[this.focusIndex] as HTMLElement | undefined)?.focus({ preventScroll: true });
    } else if (!document.activeElement || document.activeElement === document.body) this.toggle.focus();
  }

  /** Recomputes and redraws when open and the requests changed (a live trace: at most every 500 ms). */
  render(force = false): void {
    if (!this.open) return;
    const rows = this.model.rows;
    // Another trace of the same size is other requests: the model's resets are part of the key.
    const sig = `${this.model.resets}|${rows.length}|${this.model.failedCount}|${rows[rows.length - 1]?.duration}`;
    const now = performance.now();
    if (!force && (sig === this.computedFor || (this.model.live && now - this.lastAt < 500))) return;
    this.computedFor = sig;
    this.lastAt = now;
    this.routes = summarize(rows.map((r) => r.req)).routes;
    const inferred = this.routes.some((r) => r.inferred);
    setText(
      this.caption,
      `${formatCount(rows.length)} requests in ${formatCount(this.routes.length)} routes${inferred ? ' · * route inferred from the paths' : ''}. Enter or a click on a route filters the list to it.`,
    );
    this.renderBody();
  }

  private renderHead(): void {
    this.head.replaceChildren(
      ...COLUMNS.map((c) => {
        const on = this.sort.key === c.key;
        const b = h('button', 'summary-sort', { type: 'button' }, c.label);
        b.addEventListener('click', () => this.setSort(c.key));
        return h(
          'th',
          c.numeric ? 'num' : null,
          { role: 'columnheader', 'aria-sort': on ? (this.sort.dir === 1 ? 'ascending' : 'descending') : 'none' },
          b,
        );
      }),
    );
  }

  private setSort(key: string): void {
    this.sort = this.sort.key === key ? { key, dir: -this.sort.dir } : { key, dir: key === 'route' ? 1 : -1 };
    this.renderHead();
    this.renderBody();
  }

  private renderBody(): void {
    const col = COLUMNS.find((c) => c.key === this.sort.key) ?? COLUMNS[0];
    const dir = this.sort.dir;
    this.routes.sort((a, b) => {
      const x = col.value(a);
      const y = col.value(b);
      return (x < y ? -1 : x > y ? 1 : 0) * dir || (a.label < b.label ? -1 : 1);
    });
    this.focusIndex = Math.min(this.focusIndex, Math.max(0, this.routes.length - 1));
    this.body.replaceChildren(
      ...this.routes.map((r, i) =>
        h(
          'tr',
          r.failed ? 'has-failed' : null,
          {
            role: 'row',
            tabindex: i === this.focusIndex ? '0' : '-1',
            'aria-rowindex': String(i + 2),
            title: `Filter the list to ${r.label}`,
          },
          ...COLUMNS.map((c) => h('td', c.numeric ? 'num' : 'route', { role: 'gridcell' }, c.text(r))),
        ),
      ),
    );
  }

  private onKey(e: KeyboardEvent): void {
    const n = this.routes.length;
    if (!n) return;
    let i = this.focusIndex;
    if (e.key === 'ArrowDown') i = Math.min(n - 1, i + 1);
    else if (e.key === 'ArrowUp') i = Math.max(0, i - 1);
    else if (e.key === 'Home') i = 0;
    else if (e.key === 'End') i = n - 1;
    else if (e.key === 'Enter' || e.key === ' ') return void (e.preventDefault(), this.pick(this.focusIndex));
    else return;
    e.preventDefault();
    this.moveFocus(i);
  }

  private moveFocus(i: number): void {
    const rows = this.body.children;
    (rows[this.focusIndex] as HTMLElement | undefined)?.setAttribute('tabindex', '-1');
    this.focusIndex = i;
    const row = rows[i] as HTMLElement | undefined;
    row?.setAttribute('tabindex', '0');
    row?.focus();
  }

  private pick(i: number): void {
    const r = this.routes[i];
    if (!r) return;
    this.moveFocus(i);
    this.filter(routeFilter(r));
  }
}
