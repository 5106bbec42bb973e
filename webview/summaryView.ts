/**
 * The panel's Summary view (issue 53): the trace's requests grouped by host, method and route
 * (src/trace/derive/summary.ts, the CLI's `nettrace show --summary`), as grids above the list
 * (webview/summaryGrid.ts): the requests the program served, by route (count, failed, status
 * classes, p50/p95, the calls each made), when it served some; then the requests it made (count,
 * failed, p50/p95/p99/max of the total, connections reused). A click or Enter on a row filters the
 * list to its group: a route's requests (`method:GET route:host/users/:id`), or the calls a served
 * route's requests made (`caused-by:"GET host/users/:id"`), webview/filterQuery.ts.
 * The summary is recomputed only while the view is open and the requests changed, at most twice a
 * second for a live trace; a large trace's is made SUMMARY_SLICE requests per task, so that the
 * panel keeps answering while it is.
 */

import type { CompareMessage } from '../src/protocol/webview';
import type { RouteKey } from '../src/trace/derive/routes';
import type { IncomingRequest } from '../src/trace/contract/incoming';
import {
  MAX_ROUTES,
  OTHER_ROUTES,
  SummaryBuilder,
  type RouteSummary,
  type ServedRouteSummary,
  type TraceSummary,
} from '../src/trace/derive/summary';
import './styles/summary.css';
import { h, icon, setSafeAttr, setText, type Child } from './dom';
import { SummaryGrid, type Column } from './summaryGrid';
import { hostApi } from './vscodeApi';
import { formatCount } from './format';
import type { Row, TraceModel } from './model';

/** Requests the view adds to its summary per task (a 100,000-request trace: 20 tasks, the panel answering between them). */
export const SUMMARY_SLICE = 5000;

const ms = (v: number | undefined) => (v === undefined ? '–' : v < 10 ? v.toFixed(1) : String(Math.round(v)));
const reusedShare = (r: RouteSummary) => {
  const n = r.connections.opened + r.connections.reused;
  return n ? r.connections.reused / n : -1;
};
const routeText = (r: RouteKey & { label: string; other?: true }) =>
  r.other ? `${OTHER_ROUTES} (past the first ${formatCount(MAX_ROUTES)})` : r.label + (r.inferred ? ' *' : '');
/**
 * A route's cell: its label's words with the method, host and path apart, so that a narrow view
 * cuts the host before the path (summary.css); the "other routes" group says what it is.
 */
const routeCell = (r: RouteKey & { label: string; other?: true }): Child[] =>
  r.other
    ? [h('span', 'route-other', null, OTHER_ROUTES), h('span', 'muted', null, ` (past the first ${formatCount(MAX_ROUTES)})`)]
    : [
        h('span', 'route-method', null, `${r.method} `),
        h('span', 'route-host', null, r.host),
        h('span', 'route-path', null, r.route),
        r.inferred ? ' *' : '',
      ];
const routeColumn = <T extends RouteKey & { label: string; other?: true }>(label: string): Column<T> => ({
  key: 'route',
  label,
  value: (r) => r.label,
  text: routeText,
  cell: routeCell,
  title: routeText,
});
const countColumns = <T extends { count: number; failed: number }>(): Column<T>[] => [
  { key: 'count', label: 'Count', value: (r) => r.count, text: (r) => formatCount(r.count), numeric: true },
  { key: 'failed', label: 'Failed', value: (r) => r.failed, text: (r) => formatCount(r.failed), numeric: true },
];

const COLUMNS: readonly Column<RouteSummary>[] = [
  routeColumn<RouteSummary>('Called route'),
  ...countColumns<RouteSummary>(),
  { key: 'p50', label: 'p50 ms', value: (r) => r.times.total?.p50 ?? -1, text: (r) => ms(r.times.total?.p50), numeric: true, narrow: 2 },
  { key: 'p95', label: 'p95 ms', value: (r) => r.times.total?.p95 ?? -1, text: (r) => ms(r.times.total?.p95), numeric: true },
  { key: 'p99', label: 'p99 ms', value: (r) => r.times.total?.p99 ?? -1, text: (r) => ms(r.times.total?.p99), numeric: true, narrow: 1 },
  { key: 'max', label: 'Max ms', value: (r) => r.times.total?.max ?? -1, text: (r) => ms(r.times.total?.max), numeric: true, narrow: 1 },
  {
    key: 'reused',
    label: 'Reused',
    value: reusedShare,
    text: (r) => (reusedShare(r) < 0 ? '–' : `${Math.round(reusedShare(r) * 100)}%`),
    numeric: true,
    narrow: 1,
  },
];

/** The calls a served route made, per request served: `GET db.test/users/:id ×2, …` (– for none). */
export function callsText(r: Pick<ServedRouteSummary, 'calls'>): string {
  return r.calls.length ? r.calls.map((c) => `${c.label} ×${c.perRequest}`).join(', ') : '–';
}
const callsPerRequest = (r: ServedRouteSummary) => r.calls.reduce((n, c) => n + c.perRequest, 0);

/** The served routes' columns: the route, count, failed, status classes, p50/p95 of the exchange, its calls. */
const SERVED_COLUMNS: readonly Column<ServedRouteSummary>[] = [
  routeColumn<ServedRouteSummary>('Served route'),
  ...countColumns<ServedRouteSummary>(),
  {
    key: 'status',
    label: 'Status',
    narrow: 1,
    value: (r) => Object.keys(r.status).sort().join(' '),
    text: (r) =>
      Object.entries(r.status)
        .map(([c, n]) => `${c} ${formatCount(n)}`)
        .join(' · '),
  },
  { key: 'p50', label: 'p50 ms', value: (r) => r.duration?.p50 ?? -1, text: (r) => ms(r.duration?.p50), numeric: true, narrow: 1 },
  { key: 'p95', label: 'p95 ms', value: (r) => r.duration?.p95 ?? -1, text: (r) => ms(r.duration?.p95), numeric: true },
  { key: 'calls', label: 'Calls per request', value: callsPerRequest, text: callsText, title: callsText, narrow: 2 },
];

/** The filter text that keeps a route group's requests. */
export function routeFilter(r: Pick<RouteSummary, 'method' | 'host' | 'route'>): string {
  return `method:${r.method} route:${r.host}${r.route}`;
}

/**
 * The filter text that keeps the calls a served route's requests made (`caused-by:` with the
 * served route's method, host and template, as summary.ts groups them).
 */
export function servedRouteFilter(r: Pick<ServedRouteSummary, 'method' | 'host' | 'route'>): string {
  return `caused-by:"${r.method} ${r.host}${r.route}"`;
}

/**
 * What the caption says of requests what-if rules changed (summary.ts sets them apart): ` 12 changed
 * by what-if rule "slow-pay" (held back …) are counted, not timed: their time and failures are the
 * rule's, not the server's.`, or ''.
 */
export function whatIfCaption(summary: TraceSummary): string {
  if (!summary.whatIf) return '';
  const rules = new Map<string, { name: string; words: string; count: number }>();
  for (const r of summary.routes)
    for (const w of r.whatIf?.rules ?? []) {
      const known = rules.get(w.rule);
      if (known) known.count += w.count;
      else rules.set(w.rule, { name: w.name, words: w.words, count: w.count });
    }
  const list = [...rules.values()].sort((a, b) => b.count - a.count);
  const named =
    list.length === 1
      ? `rule ${JSON.stringify(list[0].name)} (${list[0].words})`
      : `rules ${list.map((r) => `${JSON.stringify(r.name)} (${formatCount(r.count)})`).join(', ')}`;
  return ` ${formatCount(summary.whatIf)} changed by what-if ${named} are counted, not timed: their time and failures are the rule's, not the server's.`;
}

/** The Summary view; the app places `toggle` in its toolbar and `el` above the list. */
export class SummaryView {
  readonly toggle: HTMLButtonElement;
  readonly el: HTMLElement;
  private readonly caption = h('p', 'summary-note');
  /** The comparison with a baseline ("Compare With…"), once the host sent one. */
  private readonly compare = h('section', 'summary-compare', { 'aria-label': 'Comparison', role: 'region' });
  /** The requests the traced program served, by route (shown when there are some). */
  private readonly served: SummaryGrid<ServedRouteSummary>;
  /** The requests it made, by route. */
  private readonly made: SummaryGrid<RouteSummary>;
  private open = false;
  private computedFor = '';
  private lastAt = 0;
  /** The summary being made (a newer one drops it). */
  private job = 0;

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
    this.served = new SummaryGrid('summary-served', 'Requests served by route', SERVED_COLUMNS, { key: 'count', dir: -1 }, (r) =>
      this.filter(servedRouteFilter(r)),
    );
    this.made = new SummaryGrid('summary-routes', 'Requests by route', COLUMNS, { key: 'p95', dir: -1 }, (r) =>
      this.filter(routeFilter(r)),
    );
    this.served.el.hidden = true;
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
      this.compare,
      this.served.el,
      this.made.el,
      // Under the routes, as a table's note: the routes in sight as the view opens, in a short panel too.
      this.caption,
    );
    this.el.hidden = true;
    this.el.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !e.defaultPrevented) {
        e.preventDefault();
        this.setOpen(false);
      }
    });
    // The host's answer to "Compare With…" (main.ts leaves it to this view). A comparison belongs to
    // the trace it compared: the panel showing another trace (a `reset` of another key) takes it away.
    window.addEventListener('message', (e: MessageEvent) => {
      const msg = e.data as CompareMessage | { type?: unknown; traceKey?: unknown } | undefined;
      if (msg?.type === 'reset' && msg.traceKey !== this.shownKey) {
        this.shownKey = typeof msg.traceKey === 'string' ? msg.traceKey : undefined;
        this.clearCompare();
      } else if (msg?.type === 'compare' && Array.isArray((msg as CompareMessage).routes)) {
        if (this.shownKey === undefined || (msg as CompareMessage).traceKey === this.shownKey) this.showCompare(msg as CompareMessage);
      }
    });
  }

  /** The trace the panel shows (its last `reset`): the one a comparison must be of. */
  private shownKey: string | undefined;

  /** Takes the comparison away (the panel shows another trace). */
  private clearCompare(): void {
    this.compare.replaceChildren();
    this.compare.hidden = true;
  }

  /**
   * Shows a comparison: the origins paired by their routes, then the notable changes, one sentence
   * each, then routes new and gone, the rest, and the requests past the summary's cap (not compared).
   */
  private showCompare(msg: CompareMessage): void {
    const items: HTMLElement[] = [];
    for (const r of msg.routes) {
      if (!r.sentence) continue;
      const li = h('li', 'compare-notable', null, r.sentence);
      if (r.pairedFrom) setSafeAttr(li, 'title', `${r.pairedFrom} in ${msg.baseline}, paired by its routes`);
      items.push(li);
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
    const other = msg.otherRoutes;
    if (other)
      items.push(
        h(
          'li',
          'compare-other',
          null,
          `${OTHER_ROUTES}: ${formatCount(other.a)} requests in ${msg.baseline} and ${formatCount(other.b)} in this trace on routes past the first ${formatCount(MAX_ROUTES)} of each, counted together, not compared`,
        ),
      );
    // A server on a random port in each run: its origins were taken as one because their routes match.
    const paired = (msg.paired ?? []).map((p) =>
      h('p', 'compare-paired', null, `${p.a} ↔ ${p.b}, paired by their routes (${formatCount(p.common)} in both)`),
    );
    this.compare.replaceChildren(
      h('h3', 'summary-title', null, `Compared with ${msg.baseline}`),
      ...paired,
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
    if (open) this.render(true, true);
    else if (!document.activeElement || document.activeElement === document.body) this.toggle.focus();
  }

  /**
   * Recomputes and redraws when open and the requests changed (a live trace: at most every 500 ms);
   * `focus`: then focuses the first grid's row (opening the view).
   */
  render(force = false, focus = false): void {
    if (!this.open) return;
    const rows = this.model.rows;
    const incoming = this.model.incoming;
    // Another trace of the same size is other requests: the model's resets are part of the key.
    const sig = `${this.model.resets}|${rows.length}|${incoming.size}|${this.model.failedCount}|${rows[rows.length - 1]?.duration}`;
    const now = performance.now();
    if (!force && (sig === this.computedFor || (this.model.live && now - this.lastAt < 500))) return;
    this.computedFor = sig;
    this.lastAt = now;
    void this.compute(++this.job, rows.slice(), [...incoming.values()], focus);
  }

  /**
   * The summary (summary.ts's SummaryBuilder, as summarize()), SUMMARY_SLICE requests per task: a
   * large trace's is made while the panel keeps answering; a newer render() or closing drops it.
   */
  private async compute(job: number, rows: readonly Row[], incoming: IncomingRequest[], focus: boolean): Promise<void> {
    const builder = new SummaryBuilder();
    for (const inc of incoming) builder.addIncoming(inc);
    let sliced = false;
    for (let i = 0; i < rows.length; i++) {
      builder.addRequest(rows[i].req);
      if (i % SUMMARY_SLICE === SUMMARY_SLICE - 1 && i < rows.length - 1) {
        if (!sliced) setText(this.caption, `Summarizing ${formatCount(rows.length)} requests…`);
        sliced = true;
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (job !== this.job || !this.open) return;
      }
    }
    this.show(builder.result(), rows.length);
    // Made in one go: focused as the view opens; else only if the focus has not moved on meanwhile.
    const idle = !document.activeElement || document.activeElement === document.body || document.activeElement === this.toggle;
    if (focus && (!sliced || idle) && (this.served.el.hidden || !this.served.focus())) this.made.focus();
  }

  private show(summary: TraceSummary, requests: number): void {
    this.served.el.hidden = summary.servedRoutes.length === 0;
    this.served.setRows(summary.servedRoutes);
    this.made.setRows(summary.routes);
    const inferred = [...summary.routes, ...summary.servedRoutes].some((r) => r.inferred);
    const served = summary.servedRoutes.length
      ? `${formatCount(summary.served)} requests served in ${formatCount(summary.servedRoutes.length)} routes; `
      : '';
    // The hint is left out of a narrow view (summary.css): each row's tooltip says it too.
    this.caption.replaceChildren(
      `${served}${formatCount(requests)} requests made in ${formatCount(summary.routes.length)} routes${inferred ? ' · * route inferred from the paths' : ''}.${whatIfCaption(summary)}`,
      h('span', 'summary-hint', null, ' Enter or a click on a route filters the list to it.'),
    );
  }
}
