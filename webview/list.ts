/**
 * The virtualised request list: a header with sortable, resizable columns and a shared-axis
 * waterfall, and a body that keeps only the visible rows (plus a few) in the DOM. Row elements are
 * pooled and re-bound on scroll; a rebind writes only the cells whose text changed.
 */

import { COLUMNS, MIN_COLUMN_WIDTH, type Column } from './columns';
import { isStreaming } from '../src/trace/timings';
import { NO_PROGRAM_FRAME } from '../src/trace/initiator';
import { CONNECTION_WORDS, connectionState } from '../src/trace/labels';
import { formatBytes, formatMs, initiatorFrame } from './format';
import { h, icon, setSafeAttr, setText } from './dom';
import type { Row, SortKey, SortSpec, TraceModel } from './model';
import { requestSegments, type Phase, type Scale, type TimeRange } from './waterfall';
import { WaterfallAxis } from './waterfallView';

/** Height of one row in px (matches VS Code's lists). */
export const ROW_HEIGHT = 22;
/** Rows rendered above/below the viewport. */
const OVERSCAN = 6;
/** Drawn phases, in DOM order of each row's bar segments. */
const BAR_PHASES: readonly Phase[] = ['blocked', 'dns', 'connect', 'ssl', 'send', 'wait', 'receive', 'pending'];

/** What the list asks its owner to do. */
export interface ListEvents {
  /** A row was clicked (index into the model's view). */
  select(index: number, open: boolean): void;
  /** The initiator cell of a row was clicked. */
  openInitiator(row: Row): void;
  /** A header was clicked. */
  sort(key: SortKey): void;
  /** A column was resized (all widths by column id). */
  resized(widths: Record<string, number>): void;
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
  nameIcon: HTMLSpanElement;
  segs: HTMLDivElement[];
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
  private axisVersion = 0;
  private scale: Scale | undefined;

  constructor(
    private readonly model: TraceModel,
    private widths: Record<string, number>,
    private readonly events: ListEvents,
  ) {
    this.header = h('div', 'list-header', { role: 'row' });
    for (const c of COLUMNS) {
      const cell = h(
        'div',
        `hcell c-${c.id}${c.align === 'right' ? ' right' : ''}`,
        { role: 'columnheader', title: c.title, tabindex: '-1' },
        h('span', 'hlabel', null, c.label),
        icon('arrow-small-up', 'sort-icon'),
      );
      if (c.id !== 'name') {
        const grip = h('div', 'resizer', { title: 'Drag to resize' });
        grip.addEventListener('pointerdown', (e) => this.startResize(e, c, grip));
        grip.addEventListener('click', (e) => e.stopPropagation());
        cell.append(grip);
      }
      cell.addEventListener('click', () => this.events.sort(c.sort));
      this.headerCells.set(c.id, cell);
      this.header.append(cell);
    }
    this.spacer = h('div', 'list-spacer');
    this.rowsEl = h('div', 'list-rows');
    this.body = h('div', 'list-body', { tabindex: '0', role: 'listbox', 'aria-label': 'Requests' }, this.spacer, this.rowsEl);
    this.el = h('div', 'list', { role: 'grid' }, this.header, this.body);
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
      this.viewportHeight = this.body.clientHeight;
      // The header stands over the body's scrollbar: pad it by the scrollbar's real width so the
      // header's columns (the waterfall's axis above all) line up with the rows'.
      const bar = this.body.offsetWidth - this.body.clientWidth;
      this.header.style.paddingRight = `${Math.max(0, bar)}px`;
      this.onScroll?.();
    }).observe(this.body);
  }

  /** Called on scroll/resize; the owner schedules a render. */
  onScroll: (() => void) | undefined;

  /** Number of rows that fit in the viewport. */
  pageSize(): number {
    return Math.max(1, Math.floor((this.viewportHeight || this.body.clientHeight) / ROW_HEIGHT) - 1);
  }

  /** True when scrolled to (within a row of) the bottom. */
  atBottom(): boolean {
    const b = this.body;
    return b.scrollTop + b.clientHeight >= b.scrollHeight - ROW_HEIGHT;
  }

  /** Scrolls so that the row at `index` is visible. */
  reveal(index: number): void {
    if (index < 0) return;
    const b = this.body;
    const top = index * ROW_HEIGHT;
    const vh = this.viewportHeight || b.clientHeight;
    if (top < b.scrollTop) b.scrollTop = top;
    else if (top + ROW_HEIGHT > b.scrollTop + vh) b.scrollTop = top + ROW_HEIGHT - vh;
  }

  /** Scrolls to the end (live "follow" mode). */
  scrollToEnd(): void {
    this.body.scrollTop = this.model.view.length * ROW_HEIGHT;
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
    this.spacer.style.height = `${view.length * ROW_HEIGHT}px`;
    if (!this.viewportHeight) this.viewportHeight = this.body.clientHeight;
    const scrollTop = this.body.scrollTop;
    const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
    const needed = Math.ceil(this.viewportHeight / ROW_HEIGHT) + 2 * OVERSCAN + 1;
    while (this.pool.length < needed) this.pool.push(this.makeRow(this.pool.length));
    if (first !== this.first || !this.rowsEl.style.transform) {
      this.first = first;
      this.rowsEl.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    }
    const now = this.model.now();
    for (let i = 0; i < this.pool.length; i++) {
      const rv = this.pool[i]!;
      const row = i < needed ? view[first + i] : undefined;
      if (!row) {
        if (rv.row) {
          rv.el.style.display = 'none';
          rv.row = null;
        }
        continue;
      }
      if (!rv.row) rv.el.style.display = '';
      this.bind(rv, row, now, row.req.traceID === selectedId);
    }
  }

  /** The row of the view under a pool slot (for click handling). */
  private rowAtSlot(slot: number): number {
    return this.first + slot;
  }

  private makeRow(slot: number): RowView {
    const cells = {} as Record<Column['id'], HTMLElement>;
    const el = h('div', 'row', { role: 'option', 'data-slot': String(slot), 'aria-selected': 'false' });
    const nameIcon = icon('blank', 'row-icon');
    const nameText = h('span', 'url-path');
    const hostText = h('span', 'url-host');
    for (const c of COLUMNS) {
      const cell = h('div', `cell c-${c.id}${c.align === 'right' ? ' right' : ''}`);
      cells[c.id] = cell;
      el.append(cell);
    }
    // The path first, the host after it in a quieter colour: at the default width the part that
    // tells requests apart stays visible (the full URL is the cell's tooltip).
    // The space keeps the two apart in the row's text (copy, screen readers, innerText).
    cells.name.append(nameIcon, h('span', 'url ellipsis', null, nameText, ' ', hostText));
    const segs: HTMLDivElement[] = [];
    const bar = h('div', 'wf-bar');
    for (const p of BAR_PHASES) {
      const s = h('div', `seg ph-${p}`);
      s.style.display = 'none';
      segs.push(s);
      bar.append(s);
    }
    cells.waterfall.append(bar);
    el.style.display = 'none';
    this.rowsEl.append(el);
    return { el, cells, nameText, hostText, nameIcon, segs, row: null, req: null, axisVersion: -1, selected: false };
  }

  private bind(rv: RowView, row: Row, now: number | undefined, selected: boolean): void {
    const req = row.req;
    if (rv.selected !== selected) {
      rv.selected = selected;
      rv.el.classList.toggle('selected', selected);
      rv.el.setAttribute('aria-selected', String(selected));
    }
    const sameData = rv.row === row && rv.req === req;
    if (sameData && rv.axisVersion === this.axisVersion && now === undefined) return;
    if (!sameData) {
      rv.row = row;
      rv.req = req;
      const c = rv.cells;
      setText(rv.nameText, row.host ? row.path : req.reqURL);
      setText(rv.hostText, row.host);
      setSafeAttr(c.name, 'title', req.reqURL);
      const cls = `row-icon codicon codicon-${row.cls === 'error' ? 'error' : row.failed ? 'warning' : row.cls === 'pending' ? 'clock' : 'globe'}`;
      if (rv.nameIcon.className !== cls) rv.nameIcon.className = cls;
      setText(c.method, req.reqMethod);
      setText(c.status, row.status);
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
      if (row.initiator) {
        let link = c.initiator.firstChild as HTMLElement | null;
        if (!link || !link.classList.contains('link')) {
          c.initiator.replaceChildren();
          link = h('span', 'link');
          c.initiator.append(link);
        }
        setText(link, row.initiator);
        const f = initiatorFrame(req);
        const how = req.initiator?.async ? 'started asynchronously from ' : '';
        if (f) setSafeAttr(c.initiator, 'title', `${how}${f.function ?? '(anonymous)'} — ${f.file}:${f.line}:${f.column}`);
      } else if (req.initiator?.frames.length) {
        // Only library frames: say so, never point at a library line (the Initiator tab has them).
        c.initiator.replaceChildren(h('span', 'muted', null, 'library'));
        setSafeAttr(c.initiator, 'title', `Made by ${NO_PROGRAM_FRAME}: see the Initiator tab`);
      } else {
        c.initiator.replaceChildren();
        c.initiator.removeAttribute('title');
      }
      // What VS Code's webview context menu (package.json "webview/context") and its commands get.
      setSafeAttr(rv.el, 'data-vscode-context', requestContext(req));
      rv.el.classList.toggle('failed', row.failed);
      rv.el.classList.toggle('pending', row.cls === 'pending');
    }
    rv.axisVersion = this.axisVersion;
    const scale = this.scale;
    const boxes = scale ? scale.bar(requestSegments(row, now)) : [];
    let bi = 0;
    for (let i = 0; i < BAR_PHASES.length; i++) {
      const s = rv.segs[i]!;
      const b = boxes[bi];
      if (b && b.phase === BAR_PHASES[i]) {
        bi++;
        s.style.display = '';
        s.style.left = `${b.x.toFixed(2)}px`;
        s.style.width = `${b.width.toFixed(2)}px`;
      } else if (s.style.display !== 'none') {
        s.style.display = 'none';
      }
    }
  }

  private onClick(e: MouseEvent): void {
    const target = e.target as HTMLElement;
    const rowEl = target.closest('.row') as HTMLElement | null;
    if (!rowEl) return;
    const index = this.rowAtSlot(Number(rowEl.dataset.slot));
    const row = this.model.view[index];
    if (!row) return;
    if (target.closest('.c-initiator .link')) {
      this.events.openInitiator(row);
      return;
    }
    this.body.focus({ preventScroll: true });
    this.events.select(index, true);
  }

  private applyWidths(): void {
    for (const c of COLUMNS) if (c.id !== 'name') this.el.style.setProperty(`--w-${c.id}`, `${this.widths[c.id]}px`);
  }

  private startResize(e: PointerEvent, c: Column, grip: HTMLElement): void {
    e.preventDefault();
    e.stopPropagation();
    const startX = e.clientX;
    const startW = this.widths[c.id] ?? c.width;
    grip.setPointerCapture(e.pointerId);
    grip.classList.add('active');
    const move = (ev: PointerEvent): void => {
      this.widths = { ...this.widths, [c.id]: Math.max(MIN_COLUMN_WIDTH, Math.round(startW + (startX - ev.clientX))) };
      this.applyWidths();
      this.axisVersion++;
      if (c.id === 'waterfall') this.onScroll?.();
    };
    const up = (): void => {
      grip.removeEventListener('pointermove', move);
      grip.removeEventListener('pointerup', up);
      grip.classList.remove('active');
      this.events.resized(this.widths);
    };
    grip.addEventListener('pointermove', move);
    grip.addEventListener('pointerup', up);
  }
}

/**
 * A row's `data-vscode-context`: VS Code merges it with its ancestors' (the list carries the
 * `traceKey`) into the context of the "webview/context" menu's `when` clauses and the argument of
 * the command run (src/extension/copyCommands.ts). The menu replaces the default Cut/Copy/Paste.
 */
export function requestContext(req: Row['req']): string {
  return JSON.stringify({
    webviewSection: 'request',
    traceID: req.traceID,
    requestHasBody: req.respBody?.text !== undefined,
    preventDefaultContextMenuItems: true,
  });
}
