/**
 * The virtualised request list: a header with sortable, resizable, hideable columns and a
 * shared-axis waterfall, and a body that keeps only the visible rows (plus a few) in the DOM. Row
 * elements are pooled and re-bound on scroll; a rebind writes only the cells whose text changed.
 *
 * One element scrolls both ways (`.list-body`, an ARIA grid): the header row sits in it, sticky at
 * the top, so it moves sideways with the rows and nothing has to be kept in sync. Columns are laid
 * out for the list's width by `layoutColumns` (columns.ts): at narrow widths the row collapses to
 * the essentials and the waterfall stays visible; what the user insists on scrolls sideways.
 */

import { COLUMNS, MIN_COLUMN_WIDTH, layoutColumns, type Column, type ColumnId, type ColumnLayout } from './columns';
import { showMenu, type MenuItem } from './menu';
import { isStreaming } from '../src/trace/derive/timings';
import { connectionState } from '../src/trace/derive/labels';
import { CONNECTION_WORDS } from '../src/trace/derive/words';
import { formatBytes, formatMs } from './format';
import { requestContext, showInitiator, showRowFlags } from './rowCells';
import { h, icon, setSafeAttr, setText } from './dom';
import type { Row, SortKey, SortSpec, TraceModel } from './model';
import type { GroupedRow } from './grouping';
import { requestSegments, type Scale, type TimeRange } from './waterfall';
import { barText, createRowBar, drawRowBar, type RowBar } from './rowBar';
import { WaterfallAxis } from './waterfallView';
import { markGroupRow } from './groupToggle';
import { restartLabel, restartTitle } from './restarts';

/** Height of one row in px (matches VS Code's lists). */
export const ROW_HEIGHT = 22;
/**
 * Height of a row when the Initiator column has collapsed for lack of width: the program's line
 * then shows under the URL, on a second line of the URL cell.
 */
export const TWO_LINE_ROW_HEIGHT = 36;
/** Rows rendered above/below the viewport. */
const OVERSCAN = 6;
/** The icon drawn before a status, by status class (none for 2xx). */
const STATUS_ICONS: Partial<Record<Row['cls'], string>> = {
  error: 'error',
  '5xx': 'error',
  '4xx': 'warning',
  '3xx': 'arrow-right',
  pending: 'clock',
};

/** What the list asks its owner to do. */
export interface ListEvents {
  /** A row was clicked (index into the model's view). */
  select(index: number, open: boolean): void;
  /** The initiator cell of a row was clicked. */
  openInitiator(row: Row): void;
  /** A header was clicked. */
  sort(key: SortKey): void;
  /** Columns were resized, hidden or shown (all widths by id, and the explicit visibility). */
  columns(widths: Record<string, number>, visibility: Partial<Record<ColumnId, boolean>>): void;
  /** A key was pressed in the list body. */
  key(e: KeyboardEvent): void;
  /** A time range was drag-selected on the waterfall's axis (null: cleared). */
  timeRange(range: TimeRange | null): void;
}

interface RowView {
  el: HTMLDivElement;
  cells: Record<Column['id'], HTMLElement>;
  /** Path and query of the URL (prominent). */
  nameText: HTMLSpanElement;
  /** Host (secondary, after the path). */
  hostText: HTMLSpanElement;
  /** The program's line under the URL (shown while the Initiator column is collapsed). */
  initLine: HTMLSpanElement;
  /** On a restarted process's first request (in time order): "restarted · pid N · HH:MM:SS" (restarts.ts). */
  restartBadge: HTMLSpanElement;
  /** The restart label shown in restartBadge ('' when none). */
  restartText: string;
  /** "what if" / "sent again" before the URL (rowCells.ts showRowFlags). */
  flagBadge: HTMLSpanElement;
  nameIcon: HTMLSpanElement;
  statusIcon: HTMLSpanElement;
  statusText: HTMLSpanElement;
  /** The waterfall bar: phases, the event loop's blocked parts, the kernel's ticks. */
  bar: RowBar;
  row: Row | null;
  req: unknown;
  axisVersion: number;
  selected: boolean;
}

/** The request list component. */
export class RequestList {
  readonly el: HTMLDivElement;
  readonly body: HTMLDivElement;
  private readonly header: HTMLDivElement;
  private readonly spacer: HTMLDivElement;
  private readonly rowsEl: HTMLDivElement;
  /** The waterfall's axis: ticks, gaps, zoom, drag-select, hover (waterfallView.ts). */
  readonly waterfall: WaterfallAxis;
  private readonly headerCells = new Map<Column['id'], HTMLDivElement>();
  private readonly pool: RowView[] = [];
  private first = 0;
  private viewportHeight = 0;
  private viewportWidth = 0;
  private axisVersion = 0;
  private scale: Scale | undefined;
  private layout: ColumnLayout | undefined;
  /** The header cell that takes Tab (roving tabindex). */
  private focusCol: ColumnId = 'name';
  /** Height of a row: TWO_LINE_ROW_HEIGHT while the initiator shows under the URL. */
  private rowHeight = ROW_HEIGHT;

  constructor(
    private readonly model: TraceModel,
    private widths: Record<string, number>,
    private visibility: Partial<Record<ColumnId, boolean>>,
    private readonly events: ListEvents,
  ) {
    this.header = h('div', 'list-header', { role: 'row', 'aria-rowindex': '1' });
    COLUMNS.forEach((c, i) => {
      const cell = h(
        'div',
        `hcell c-${c.id}${c.align === 'right' ? ' right' : ''}`,
        {
          role: 'columnheader',
          title: c.title,
          'aria-label': c.label,
          tabindex: c.id === 'name' ? '0' : '-1',
          'aria-colindex': String(i + 1),
        },
        h('span', 'hlabel', null, c.label),
        icon('arrow-small-up', 'sort-icon'),
      );
      if (c.id === 'name') {
        const more = h(
          'button',
          'icon-button col-menu-button',
          {
            type: 'button',
            title: 'Columns… (show, hide, reset widths)',
            'aria-label': 'Columns',
            'aria-haspopup': 'menu',
            tabindex: '-1',
          },
          icon('list-selection'),
        );
        more.addEventListener('click', (e) => {
          e.stopPropagation();
          this.openColumnMenu(more);
        });
        cell.append(more);
      } else {
        const grip = h('div', 'resizer', { title: 'Drag to resize (Shift+Left/Right on the header)', 'aria-hidden': 'true' });
        grip.addEventListener('pointerdown', (e) => this.startResize(e, c, grip));
        grip.addEventListener('click', (e) => e.stopPropagation());
        cell.append(grip);
      }
      cell.addEventListener('click', () => this.events.sort(c.sort));
      cell.addEventListener('contextmenu', (e) => {
        e.preventDefault();
        this.openColumnMenu({ x: e.clientX, y: e.clientY });
      });
      cell.addEventListener('keydown', (e) => this.onHeaderKey(e, c));
      cell.addEventListener('focus', () => (this.focusCol = c.id));
      this.headerCells.set(c.id, cell);
      this.header.append(cell);
    });
    this.rowsEl = h('div', 'list-rows', { role: 'rowgroup' });
    this.spacer = h('div', 'list-spacer', null, this.rowsEl);
    this.body = h(
      'div',
      'list-body',
      { tabindex: '0', role: 'grid', 'aria-label': 'Requests', 'aria-colcount': String(COLUMNS.length), 'aria-rowcount': '1' },
      h('div', 'list-head', { role: 'rowgroup' }, this.header),
      this.spacer,
    );
    this.el = h('div', 'list', null, this.body);
    this.waterfall = new WaterfallAxis(model, this.el, this.headerCells.get('waterfall')!, this.rowsEl, {
      changed: () => this.onScroll?.(),
      timeRange: (r) => this.events.timeRange(r),
      rowAt: (el) => {
        const rowEl = el.closest('.row') as HTMLElement | null;
        return rowEl ? this.model.view[this.rowAtSlot(Number(rowEl.dataset.slot))] : undefined;
      },
    });
    this.applyWidths();

    this.body.addEventListener('scroll', () => this.onScroll?.(), { passive: true });
    this.body.addEventListener('keydown', (e) => {
      if (e.target !== this.body) return;
      // The menu keys here open the selected request's menu (main.ts, rowMenu.ts); on a header cell, the column menu.
      if (!this.waterfall.onKey(e)) this.events.key(e);
    });
    this.rowsEl.addEventListener('click', (e) => this.onClick(e));
    // A right-click selects the row it opens the menu of (the menu itself is VS Code's).
    this.rowsEl.addEventListener('contextmenu', (e) => {
      const rowEl = (e.target as HTMLElement).closest('.row') as HTMLElement | null;
      if (!rowEl) return;
      const index = this.rowAtSlot(Number(rowEl.dataset.slot));
      if (this.model.view[index]) this.events.select(index, false);
    });
    new ResizeObserver(() => {
      this.viewportHeight = this.rowViewport();
      if (this.body.clientWidth !== this.viewportWidth) {
        this.viewportWidth = this.body.clientWidth;
        this.applyWidths();
      }
      this.onScroll?.();
    }).observe(this.body);
  }

  /** Height in px available to rows (the body minus its sticky header). */
  private rowViewport(): number {
    return Math.max(0, this.body.clientHeight - this.header.offsetHeight);
  }

  /** A row's height were the list `width` px wide (two lines once the Initiator column collapses). */
  rowHeightAt(width: number): number {
    const bar = this.body.offsetWidth - this.body.clientWidth;
    return layoutColumns(width - bar, this.widths, this.visibility).collapsed.includes('initiator') ? TWO_LINE_ROW_HEIGHT : ROW_HEIGHT;
  }

  /** The current column layout (for tests and the owner). */
  get columnLayout(): ColumnLayout | undefined {
    return this.layout;
  }

  /** Called on scroll/resize; the owner schedules a render. */
  onScroll: (() => void) | undefined;

  /** Number of rows that fit in the viewport. */
  pageSize(): number {
    return Math.max(1, Math.floor((this.viewportHeight || this.rowViewport()) / this.rowHeight) - 1);
  }

  /** True when scrolled to (within a row of) the bottom. */
  atBottom(): boolean {
    const b = this.body;
    return b.scrollTop + b.clientHeight >= b.scrollHeight - this.rowHeight;
  }

  /** Scrolls so that the row at `index` is visible. */
  reveal(index: number): void {
    if (index < 0) return;
    const b = this.body;
    const top = index * this.rowHeight;
    // Measured now: the list may just have shrunk (the detail opened) before its observer ran.
    const vh = this.rowViewport();
    if (top < b.scrollTop) b.scrollTop = top;
    else if (top + this.rowHeight > b.scrollTop + vh) b.scrollTop = top + this.rowHeight - vh;
  }

  /** Scrolls to the end (live "follow" mode). */
  scrollToEnd(): void {
    this.body.scrollTop = this.model.view.length * this.rowHeight;
  }

  /** The DOM row showing the view's row `index`, when it is rendered. */
  rowElement(index: number): HTMLElement | undefined {
    const rv = this.pool[index - this.first];
    return rv && rv.row && rv.row === this.model.view[index] ? rv.el : undefined;
  }

  /** Shows the sort indicator on the sorted column. */
  renderSort(sort: SortSpec): void {
    for (const c of COLUMNS) {
      const cell = this.headerCells.get(c.id)!;
      const active = c.sort === sort.key;
      cell.classList.toggle('sorted', active);
      cell.classList.toggle('desc', active && sort.dir === -1);
      setSafeAttr(cell, 'aria-sort', active ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none');
    }
  }

  /** Renders the visible rows for the current model view, scroll position and selection. */
  render(selectedId: string | null): void {
    const view = this.model.view;
    const scale = this.waterfall.render();
    if (scale !== this.scale) {
      this.scale = scale;
      this.axisVersion++;
    }
    this.spacer.style.height = `${view.length * this.rowHeight}px`;
    setSafeAttr(this.body, 'aria-rowcount', String(view.length + 1));
    if (!this.viewportHeight) this.viewportHeight = this.rowViewport();
    const scrollTop = this.body.scrollTop;
    const first = Math.max(0, Math.floor(scrollTop / this.rowHeight) - OVERSCAN);
    const needed = Math.ceil(this.viewportHeight / this.rowHeight) + 2 * OVERSCAN + 1;
    while (this.pool.length < needed) this.pool.push(this.makeRow(this.pool.length));
    if (first !== this.first || !this.rowsEl.style.transform) {
      this.first = first;
      this.rowsEl.style.transform = `translateY(${first * this.rowHeight}px)`;
    }
    const now = this.model.now();
    let active = '';
    for (let i = 0; i < this.pool.length; i++) {
      const rv = this.pool[i]!;
      const row = i < needed ? view[first + i] : undefined;
      if (!row) {
        if (rv.row) {
          rv.el.style.display = 'none';
          rv.el.removeAttribute('id');
          rv.row = null;
        }
        continue;
      }
      if (!rv.row) rv.el.style.display = '';
      this.bind(rv, row, now, row.req.traceID === selectedId);
      const rowIndex = String(first + i + 2);
      if (rv.el.getAttribute('aria-rowindex') !== rowIndex) rv.el.setAttribute('aria-rowindex', rowIndex);
      if (rv.selected) active = rv.el.id;
    }
    if (this.body.getAttribute('aria-activedescendant') !== active) {
      if (active) this.body.setAttribute('aria-activedescendant', active);
      else this.body.removeAttribute('aria-activedescendant');
    }
  }

  /** The row of the view under a pool slot (for click handling). */
  private rowAtSlot(slot: number): number {
    return this.first + slot;
  }

  private makeRow(slot: number): RowView {
    const cells = {} as Record<Column['id'], HTMLElement>;
    // The id names the request the slot shows (set in bind), not the slot: aria-activedescendant
    // must change as ↓ moves to the next request even when the pool hands it the same element.
    const el = h('div', 'row', { role: 'row', 'data-slot': String(slot), 'aria-selected': 'false' });
    const nameIcon = icon('blank', 'row-icon');
    const nameText = h('span', 'url-path');
    const hostText = h('span', 'url-host');
    COLUMNS.forEach((c, i) => {
      const cell = h('div', `cell c-${c.id}${c.align === 'right' ? ' right' : ''}`, { role: 'gridcell', 'aria-colindex': String(i + 1) });
      cells[c.id] = cell;
      el.append(cell);
    });
    // The status is an icon and text, never colour alone.
    const statusIcon = icon('blank', 'status-icon');
    const statusText = h('span', 'status-text');
    cells.status.append(statusIcon, statusText);
    // The path first, the host after it in a quieter colour: at the default width the part that
    // tells requests apart stays visible (the full URL is the cell's tooltip).
    // The space keeps the two apart in the row's text (copy, screen readers, innerText).
    cells.name.append(nameIcon, h('span', 'url ellipsis', null, nameText, ' ', hostText));
    // Under the URL while the Initiator column is collapsed (list.css hides it otherwise).
    const initLine = h('span', 'init-line ellipsis');
    // Before the URL on one line, after the program's line on two (list.css).
    const restartBadge = h('span', 'restart-badge ellipsis');
    const flagBadge = h('span', 'flag-badge');
    cells.name.append(initLine, restartBadge, flagBadge);
    const bar = createRowBar();
    cells.waterfall.append(bar.el);
    el.style.display = 'none';
    this.rowsEl.append(el);
    return {
      el,
      cells,
      nameText,
      hostText,
      initLine,
      restartBadge,
      restartText: '',
      flagBadge,
      nameIcon,
      statusIcon,
      statusText,
      bar,
      row: null,
      req: null,
      axisVersion: -1,
      selected: false,
    };
  }

  private bind(rv: RowView, row: Row, now: number | undefined, selected: boolean): void {
    const req = row.req;
    if (rv.selected !== selected) {
      rv.selected = selected;
      rv.el.classList.toggle('selected', selected);
      rv.el.setAttribute('aria-selected', String(selected));
    }
    this.bindRestart(rv, row);
    const sameData = rv.row === row && rv.req === req;
    if (sameData && rv.axisVersion === this.axisVersion && now === undefined) return;
    if (!sameData) {
      rv.row = row;
      rv.req = req;
      const id = rowDomId(row);
      if (rv.el.id !== id) rv.el.id = id;
      const c = rv.cells;
      setText(rv.nameText, row.host ? row.path : req.reqURL);
      setText(rv.hostText, row.host);
      setSafeAttr(c.name, 'title', req.reqURL);
      const cls = `row-icon codicon codicon-${row.cls === 'error' ? 'error' : row.failed ? 'warning' : row.cls === 'pending' ? 'clock' : 'globe'}`;
      if (rv.nameIcon.className !== cls) rv.nameIcon.className = cls;
      setText(c.method, req.reqMethod);
      setText(rv.statusText, row.status);
      const sIcon = `codicon codicon-${STATUS_ICONS[row.cls] ?? 'blank'} status-icon`;
      if (rv.statusIcon.className !== sIcon) rv.statusIcon.className = sIcon;
      const statusCls = `cell c-status st-${row.cls}`;
      if (c.status.className !== statusCls) c.status.className = statusCls;
      if (row.req.reqError) setSafeAttr(c.status, 'title', `${req.reqError!.phase}: ${req.reqError!.message}`);
      else if (c.status.hasAttribute('title')) c.status.removeAttribute('title');
      setText(c.client, req.client);
      const connState = connectionState(req, req.tcpConn ? this.model.tcpConns.get(req.tcpConn) : undefined);
      setText(c.conn, connState ? CONNECTION_WORDS[connState] : '—');
      c.conn.classList.toggle('error-text', connState === 'failed');
      c.conn.classList.toggle('muted', !!req.reusedConn);
      setText(c.duration, row.duration === undefined ? (row.cls === 'pending' || isStreaming(req) ? '…' : '—') : formatMs(row.duration));
      setText(c.size, formatBytes(row.size));
      showInitiator(c.initiator, row);
      showInitiator(rv.initLine, row);
      const flags = showRowFlags(rv.flagBadge, req);
      setSafeAttr(
        rv.el,
        'aria-label',
        `${req.reqMethod} ${req.reqURL}, ${row.status}${row.failed ? ' (failed)' : ''}, ${c.duration.textContent}${flags ? `, ${flags}` : ''}`,
      );
      // What VS Code's webview context menu (package.json "webview/context") and its commands get.
      setSafeAttr(rv.el, 'data-vscode-context', requestContext(req));
      rv.el.classList.toggle('failed', row.failed);
      rv.el.classList.toggle('pending', row.cls === 'pending');
      markGroupRow(rv.el, row);
    }
    rv.axisVersion = this.axisVersion;
    const scale = this.scale;
    const segments = requestSegments(row, now);
    drawRowBar(rv.bar, req, segments, scale, req.tcpConn ? this.model.tcpConns.get(req.tcpConn) : undefined);
    setText(rv.bar.text, barText(row, now));
  }

  /** The separator on a restarted process's first request, while the list is in time order. */
  private bindRestart(rv: RowView, row: Row): void {
    const mark = this.model.sort.key === 'start' ? this.model.restartMarkOf(row) : undefined;
    const text = mark ? restartLabel(mark, this.model.traceBeginAt) : '';
    if (text === rv.restartText) return;
    rv.restartText = text;
    setText(rv.restartBadge, text);
    if (mark) setSafeAttr(rv.restartBadge, 'title', restartTitle(mark));
    else rv.restartBadge.removeAttribute('title');
    rv.el.classList.toggle('restart-start', !!mark);
  }

  private onClick(e: MouseEvent): void {
    const target = e.target as HTMLElement;
    const rowEl = target.closest('.row') as HTMLElement | null;
    if (!rowEl) return;
    const index = this.rowAtSlot(Number(rowEl.dataset.slot));
    const row = this.model.view[index];
    if (!row) return;
    if (target.closest('.c-initiator .link, .init-line .link')) {
      this.events.openInitiator(row);
      return;
    }
    this.body.focus({ preventScroll: true });
    this.events.select(index, true);
  }

  /** Lays the columns out for the current width (hidden columns, widths, the row's width). */
  private applyWidths(): void {
    const avail = this.body.clientWidth || this.el.clientWidth;
    const layout = layoutColumns(avail, this.widths, this.visibility);
    this.layout = layout;
    const shown = new Set(layout.shown);
    for (const c of COLUMNS) {
      this.el.classList.toggle(`hide-${c.id}`, !shown.has(c.id));
      if (c.id !== 'name' && shown.has(c.id)) this.el.style.setProperty(`--w-${c.id}`, `${layout.widths[c.id]}px`);
    }
    this.el.style.setProperty('--row-w', `${layout.rowWidth}px`);
    this.el.style.setProperty('--name-min', `${layout.rowWidth - Object.values(layout.widths).reduce((s, w) => s + (w ?? 0), 0)}px`);
    this.el.classList.toggle('narrow', layout.narrow);
    // "Which line made this request" is the point of the list: when its column collapses, the
    // line moves under the URL (taller rows) rather than out of sight.
    const twoLine = layout.collapsed.includes('initiator');
    this.el.classList.toggle('two-line', twoLine);
    const rowHeight = twoLine ? TWO_LINE_ROW_HEIGHT : ROW_HEIGHT;
    if (rowHeight !== this.rowHeight) {
      const top = Math.floor(this.body.scrollTop / this.rowHeight);
      this.rowHeight = rowHeight;
      this.el.style.setProperty('--list-row-height', `${rowHeight}px`);
      this.rowsEl.style.transform = '';
      this.body.scrollTop = top * rowHeight;
    }
    if (!shown.has(this.focusCol)) this.setFocusCol('name', false);
    this.axisVersion++;
  }

  private setFocusCol(id: ColumnId, focus: boolean): void {
    for (const [cid, cell] of this.headerCells) cell.tabIndex = cid === id ? 0 : -1;
    this.focusCol = id;
    if (focus) this.headerCells.get(id)!.focus();
  }

  /** Header keys: Left/Right move, Enter/Space sort, Shift+Left/Right resize, menu keys open the column menu. */
  private onHeaderKey(e: KeyboardEvent, c: Column): void {
    if (e.target !== e.currentTarget) return; // keys of controls inside a header (the waterfall's zoom buttons)
    const shown = this.layout?.shown ?? COLUMNS.map((x) => x.id);
    const i = shown.indexOf(c.id);
    if (e.shiftKey && (e.key === 'ArrowLeft' || e.key === 'ArrowRight') && c.id !== 'name') {
      e.preventDefault();
      // Columns right of the URL grow leftwards, as when dragging their left edge.
      const cur = this.layout?.widths[c.id] ?? this.widths[c.id] ?? c.width;
      this.setWidth(c.id, cur + (e.key === 'ArrowLeft' ? 8 : -8));
      this.emitColumns();
    } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight' || e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      const next =
        e.key === 'Home'
          ? 0
          : e.key === 'End'
            ? shown.length - 1
            : Math.max(0, Math.min(shown.length - 1, i + (e.key === 'ArrowLeft' ? -1 : 1)));
      this.setFocusCol(shown[next]!, true);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      this.events.sort(c.sort);
    } else if (e.key === 'ContextMenu' || (e.shiftKey && e.key === 'F10') || (e.altKey && e.key === 'ArrowDown')) {
      e.preventDefault();
      this.openColumnMenu(this.headerCells.get(c.id)!);
    } else if (e.key === 'ArrowDown') {
      e.preventDefault();
      this.body.focus({ preventScroll: true });
    }
  }

  /** The column menu: show or hide each column, reset widths and visibility. */
  openColumnMenu(at: HTMLElement | { x: number; y: number }): void {
    const layout = this.layout;
    const items: MenuItem[] = [];
    for (const c of COLUMNS) {
      if (c.id === 'name') continue;
      const shown = layout ? layout.shown.includes(c.id) : this.visibility[c.id] !== false;
      const collapsed = layout?.collapsed.includes(c.id) ?? false;
      items.push({
        kind: 'check',
        label: c.label,
        checked: shown,
        hint: collapsed ? 'hidden at this width' : undefined,
        run: () => {
          this.visibility = { ...this.visibility, [c.id]: !shown };
          this.applyWidths();
          this.emitColumns();
          this.onScroll?.();
        },
      });
    }
    items.push(
      { kind: 'separator' },
      {
        kind: 'item',
        label: 'Reset Columns',
        run: () => {
          this.visibility = {};
          this.widths = Object.fromEntries(COLUMNS.filter((c) => c.id !== 'name').map((c) => [c.id, c.width]));
          this.applyWidths();
          this.emitColumns();
          this.onScroll?.();
        },
      },
    );
    showMenu(items, at, 'Columns');
  }

  private emitColumns(): void {
    this.events.columns({ ...this.widths }, { ...this.visibility });
  }

  private setWidth(id: ColumnId, px: number): void {
    this.widths = { ...this.widths, [id]: Math.max(MIN_COLUMN_WIDTH, Math.min(2000, Math.round(px))) };
    this.applyWidths();
  }

  private startResize(e: PointerEvent, c: Column, grip: HTMLElement): void {
    e.preventDefault();
    e.stopPropagation();
    const startX = e.clientX;
    const startW = this.layout?.widths[c.id] ?? this.widths[c.id] ?? c.width;
    grip.setPointerCapture(e.pointerId);
    grip.classList.add('active');
    const move = (ev: PointerEvent): void => this.setWidth(c.id, startW + (startX - ev.clientX));
    const up = (): void => {
      grip.removeEventListener('pointermove', move);
      grip.removeEventListener('pointerup', up);
      grip.classList.remove('active');
      this.emitColumns();
      this.onScroll?.();
    };
    grip.addEventListener('pointermove', move);
    grip.addEventListener('pointerup', up);
  }
}

/**
 * The DOM id of the row showing `row`: derived from its request (an incoming group's header apart
 * from the calls), so each request keeps one id however the pooled rows are reused. Characters
 * other than letters, digits and `-` become `_` and their code (one-to-one, valid in an id).
 */
export function rowDomId(row: Row): string {
  const id = row.req.traceID.replace(/[^A-Za-z0-9-]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `nt-row-${(row as GroupedRow).group ? 'group-' : ''}${id}`;
}
