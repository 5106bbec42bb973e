/**
 * One sortable grid of the panel's Summary view (webview/summaryView.ts): the requests made by
 * route, or the requests served by route. Every column sorts (a click or Enter on its header); the
 * rows are one tab stop (↑/↓, Home/End move), and a click or Enter on a row picks it (the view
 * filters the list to its group).
 */

import { h, setSafeAttr, type Child } from './dom';

/** A sortable column: its header, the value it sorts by, the text of a cell. */
export interface Column<T> {
  key: string;
  label: string;
  value: (r: T) => number | string;
  text: (r: T) => string;
  numeric?: boolean;
  /** The cell's tooltip (its whole text where the cell cuts it). */
  title?: (r: T) => string;
  /** The cell's content when it is more than its text (the same words: a route's method, host and path apart). */
  cell?: (r: T) => Child[];
  /** Left out of a narrow view: 1 below 520 px, 2 below 380 px (summary.css; the whole row is in its tooltip). */
  narrow?: 1 | 2;
}

/** What a grid's row needs: the group's one text, whether some of its requests failed, whether it is the "other routes" group. */
export interface GridRow {
  label: string;
  failed: number;
  /** The group of the requests on routes past the summary's cap (summary.ts OTHER_ROUTES): no one route to filter to. */
  other?: true;
}

/** The tooltip of the "other routes" row. */
export const OTHER_ROUTES_TITLE =
  'Requests on routes past the first 10,000 of the trace, counted together: there is no one route to filter the list to';

/** A grid of route groups; `setRows` fills it, `onPick` hears a row's click or Enter. */
export class SummaryGrid<T extends GridRow> {
  readonly el: HTMLTableElement;
  private readonly body = h('tbody');
  private readonly head = h('tr', null, { role: 'row' });
  private rows: T[] = [];
  private focusIndex = 0;

  constructor(
    className: string,
    label: string,
    private readonly columns: readonly Column<T>[],
    private sort: { key: string; dir: number },
    private readonly onPick: (r: T) => void,
  ) {
    this.el = h('table', `summary-grid ${className}`, { role: 'grid', 'aria-label': label }, h('thead', null, null, this.head), this.body);
    this.body.addEventListener('keydown', (e) => this.onKey(e));
    this.body.addEventListener('click', (e) => {
      const tr = (e.target as Element).closest('tr');
      if (tr && tr.parentElement === this.body) this.pick([...this.body.children].indexOf(tr));
    });
    this.renderHead();
  }

  /** The rows shown, sorted by the grid's column. */
  setRows(rows: T[]): void {
    this.rows = rows;
    this.renderBody();
  }

  /** Focuses the grid's tab stop (its current row); false when it has no row. */
  focus(): boolean {
    const row = this.body.children[this.focusIndex] as HTMLElement | undefined;
    row?.focus({ preventScroll: true });
    return row !== undefined;
  }

  private renderHead(): void {
    this.head.replaceChildren(
      ...this.columns.map((c) => {
        const on = this.sort.key === c.key;
        const b = h('button', 'summary-sort', { type: 'button' }, c.label);
        b.addEventListener('click', () => this.setSort(c.key));
        return h(
          'th',
          [c.numeric ? 'num' : c.key, c.narrow ? `narrow-${c.narrow}` : ''].join(' ').trim(),
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
    const col = this.columns.find((c) => c.key === this.sort.key) ?? this.columns[0];
    const dir = this.sort.dir;
    this.rows.sort((a, b) => {
      const x = col.value(a);
      const y = col.value(b);
      return (x < y ? -1 : x > y ? 1 : 0) * dir || (a.label < b.label ? -1 : 1);
    });
    this.focusIndex = Math.min(this.focusIndex, Math.max(0, this.rows.length - 1));
    this.body.replaceChildren(
      ...this.rows.map((r, i) =>
        h(
          'tr',
          [r.failed ? 'has-failed' : '', r.other ? 'other' : ''].join(' ').trim() || null,
          {
            role: 'row',
            tabindex: i === this.focusIndex ? '0' : '-1',
            'aria-rowindex': String(i + 2),
            title: r.other ? OTHER_ROUTES_TITLE : `Filter the list to ${r.label}`,
          },
          ...this.columns.map((c) => {
            const cls = [c.numeric ? 'num' : c.key, c.narrow ? `narrow-${c.narrow}` : ''].join(' ').trim();
            const td = h('td', cls, { role: 'gridcell' }, ...(c.cell ? c.cell(r) : [c.text(r)]));
            if (c.title) setSafeAttr(td, 'title', c.title(r));
            return td;
          }),
        ),
      ),
    );
  }

  private onKey(e: KeyboardEvent): void {
    const n = this.rows.length;
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
    const r = this.rows[i];
    if (!r) return;
    this.moveFocus(i);
    // The "other routes" group has no route: filtering on its empty one would hide everything.
    if (!r.other) this.onPick(r);
  }
}
