/**
 * The waterfall's axis in the list (DOM): tick labels and grid lines, the debugger pauses drawn
 * as narrow hatched gaps, zoom (ctrl/⌘+wheel over the waterfall, wheel over its header, +/−/0 in
 * the list, the header's buttons) and pan (shift+wheel or a horizontal wheel), drag-select on the
 * header to filter the list to a time range, and the hover that lists a request's phases. The
 * geometry is waterfall.ts's (Timeline, Scale); this module only maps it to elements and CSS.
 */

import './waterfall.css';
import { h, icon, setSafeAttr, setText } from './dom';
import type { Row, TraceModel } from './model';
import {
  formatAxisTime,
  formatSpan,
  loopBlockedText,
  niceStep,
  phaseSummary,
  PHASE_LABELS,
  type Scale,
  type TimeRange,
  type Timeline,
} from './waterfall';

import { formatAt } from './format';

/** What the axis asks the list and the app to do. */
export interface WaterfallEvents {
  /** The scale changed (zoom, pan, resize): the list re-renders. */
  changed(): void;
  /** A range was drag-selected (null: cleared). */
  timeRange(range: TimeRange | null): void;
  /** The row shown by a row element (for the hover). */
  rowAt(el: Element): Row | undefined;
}

/** Padding of the waterfall cell on each side (style.css: .cell padding, .wf-bar inset). */
const CELL_PAD = 6;
/** Zoom factor of one button press or key. */
const STEP = 1.6;
/** Pointer travel before a press on the header becomes a drag-select, in px. */
const DRAG_PX = 4;

/** The waterfall header's axis and the zoom state of the list's waterfall. */
export class WaterfallAxis {
  /** The zoom window in trace time; null: the whole axis. */
  private window: TimeRange | null = null;
  private width = 0;
  private scale: Scale | undefined;
  private scaleKey = '';
  private timeline: Timeline | undefined;
  private readonly axisEl = h('div', 'wf-axis');
  private readonly selectEl = h('div', 'wf-select');
  private readonly tip = h('div', 'wf-tip', { role: 'tooltip' });
  private readonly zoomLabel = h('span', 'wf-zoom-label');
  private tipRow: Row | undefined;

  constructor(
    private readonly model: TraceModel,
    private readonly listEl: HTMLElement,
    private readonly headerCell: HTMLElement,
    rowsEl: HTMLElement,
    private readonly events: WaterfallEvents,
  ) {
    const button = (codicon: string, title: string, run: () => void): HTMLButtonElement => {
      const b = h('button', 'wf-button', { type: 'button', title, 'aria-label': title }, icon(codicon));
      b.addEventListener('click', (e) => {
        e.stopPropagation();
        run();
      });
      b.addEventListener('pointerdown', (e) => e.stopPropagation());
      return b;
    };
    const controls = h(
      'div',
      'wf-controls',
      { role: 'group', 'aria-label': 'Waterfall zoom' },
      this.zoomLabel,
      button('zoom-out', 'Zoom out (−)', () => this.zoomBy(1 / STEP)),
      button('zoom-in', 'Zoom in (+)', () => this.zoomBy(STEP)),
      button('screen-normal', 'Show the whole time axis (0)', () => this.fit()),
    );
    // The labels are decoration of the rows' bars; screen readers get the hover's text.
    this.axisEl.setAttribute('aria-hidden', 'true');
    headerCell.classList.add('wf-header');
    headerCell.append(this.axisEl, controls);
    this.axisEl.append(this.selectEl);
    listEl.append(this.tip);
    new ResizeObserver(() => {
      const w = Math.max(0, headerCell.clientWidth - 2 * CELL_PAD);
      if (w !== this.width) {
        this.width = w;
        this.events.changed();
      }
    }).observe(headerCell);
    headerCell.addEventListener('pointerdown', (e) => this.startDrag(e));
    listEl.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    rowsEl.addEventListener('mousemove', (e) => this.onHover(e));
    rowsEl.addEventListener('mouseleave', () => this.hideTip());
  }

  /** The zoom window (null: whole axis). */
  get zoomWindow(): TimeRange | null {
    return this.window;
  }

  /** Recomputes the scale when the time line, the zoom or the width changed; renders the header. */
  render(): Scale {
    if (!this.width) this.width = Math.max(0, this.headerCell.clientWidth - 2 * CELL_PAD);
    const timeline = this.model.timeline();
    if (timeline !== this.timeline) {
      this.timeline = timeline;
      // A window the axis no longer reaches (another filter, a reset) falls back to the whole axis.
      const w = this.window;
      if (w && (w.end <= timeline.axis.begin || w.begin >= timeline.axis.end)) this.window = null;
    }
    const width = this.width || 1;
    const key = `${width}|${this.window?.begin}|${this.window?.end}`;
    if (this.scale && this.scale.timeline === timeline && key === this.scaleKey) return this.scale;
    this.scaleKey = key;
    this.scale = timeline.scale(this.window, width);
    this.renderHeader(this.scale);
    return this.scale;
  }

  /** Zooms by `factor` (>1: in) around x px (default: the middle). */
  zoomBy(factor: number, atX?: number): void {
    const scale = this.scale ?? this.render();
    const at = scale.time(atX ?? scale.width / 2);
    this.window = scale.timeline.zoom(this.window, factor, at);
    this.events.changed();
  }

  /** Moves the zoom window by `dx` px (positive: later). */
  panBy(dx: number): void {
    const scale = this.scale ?? this.render();
    if (!this.window) return;
    this.window = scale.timeline.pan(this.window, dx / scale.k);
    this.events.changed();
  }

  /** Shows the whole axis. */
  fit(): void {
    if (!this.window) return;
    this.window = null;
    this.events.changed();
  }

  /** Zooms to a range (after a drag-select), or to the whole axis. */
  zoomTo(range: TimeRange | null): void {
    this.window = range ? { ...range } : null;
    this.events.changed();
  }

  /** Handles the zoom keys of the list; true when the key was one. */
  onKey(e: KeyboardEvent): boolean {
    if (e.ctrlKey || e.metaKey || e.altKey) return false;
    if (e.key === '+' || e.key === '=') this.zoomBy(STEP);
    else if (e.key === '-' || e.key === '_') this.zoomBy(1 / STEP);
    else if (e.key === '0') this.fit();
    else return false;
    e.preventDefault();
    return true;
  }

  private renderHeader(scale: Scale): void {
    const ticks = scale.ticks();
    const gaps = scale.gapBoxes();
    const children: HTMLElement[] = [];
    const images: string[] = [];
    const positions: string[] = [];
    const sizes: string[] = [];
    for (const g of gaps) {
      const el = h('div', 'wf-gap', {
        title: `Paused in the debugger for ${formatSpan(g.end - g.begin)} (${formatAt(g.begin)} to ${formatAt(g.end)}); not drawn to scale`,
      });
      el.style.left = `${g.x.toFixed(2)}px`;
      el.style.width = `${g.width.toFixed(2)}px`;
      children.push(el);
      images.push('var(--wf-gap-hatch)');
      positions.push(`${g.x.toFixed(2)}px 0`);
      sizes.push(`${g.width.toFixed(2)}px 100%`);
    }
    for (const t of ticks) {
      const el = h('div', t.flip ? 'wf-tick flip' : 'wf-tick', null, t.label);
      el.style.left = `${t.x.toFixed(2)}px`;
      children.push(el);
      images.push('var(--wf-grid-line)');
      positions.push(`${t.x.toFixed(2)}px 0`);
      sizes.push('1px 100%');
    }
    this.axisEl.replaceChildren(...children, this.selectEl);
    this.headerCell.classList.toggle('has-ticks', ticks.length > 0);
    this.headerCell.classList.toggle('zoomed', this.window !== null);
    const style = this.listEl.style;
    style.setProperty('--wf-bg-image', images.length ? images.join(', ') : 'none');
    style.setProperty('--wf-bg-pos', positions.join(', ') || '0 0');
    style.setProperty('--wf-bg-size', sizes.join(', ') || 'auto');
    const full = scale.timeline.axis;
    const fullSpan = scale.timeline.active(full.end) - scale.timeline.active(full.begin);
    const span = scale.timeline.active(scale.window.end) - scale.timeline.active(scale.window.begin);
    setText(this.zoomLabel, this.window && span > 0 ? `×${formatZoom(fullSpan / span)}` : '');
  }

  // ---- pointer ---------------------------------------------------------------------------------

  private startDrag(e: PointerEvent): void {
    if (e.button !== 0 || (e.target as HTMLElement).closest('.resizer, .wf-controls')) return;
    const rect = this.axisEl.getBoundingClientRect();
    const x0 = e.clientX;
    let dragging = false;
    const cell = this.headerCell;
    cell.setPointerCapture(e.pointerId);
    const clampX = (x: number): number => Math.max(0, Math.min(rect.width, x - rect.left));
    const move = (ev: PointerEvent): void => {
      if (!dragging && Math.abs(ev.clientX - x0) < DRAG_PX) return;
      dragging = true;
      const a = clampX(x0);
      const b = clampX(ev.clientX);
      this.selectEl.style.left = `${Math.min(a, b)}px`;
      this.selectEl.style.width = `${Math.abs(b - a)}px`;
      this.selectEl.classList.add('on');
    };
    const up = (ev: PointerEvent): void => {
      cell.removeEventListener('pointermove', move);
      cell.removeEventListener('pointerup', up);
      cell.removeEventListener('pointercancel', up);
      this.selectEl.classList.remove('on');
      if (!dragging || ev.type === 'pointercancel' || !this.scale) return;
      // The click that ends a drag is not a sort.
      const swallow = (c: Event): void => {
        c.stopPropagation();
        c.preventDefault();
      };
      window.addEventListener('click', swallow, { capture: true, once: true });
      setTimeout(() => window.removeEventListener('click', swallow, { capture: true }), 0);
      const a = clampX(x0);
      const b = clampX(ev.clientX);
      const range = { begin: this.scale.time(Math.min(a, b)), end: this.scale.time(Math.max(a, b)) };
      if (range.end > range.begin) {
        this.zoomTo(range);
        this.events.timeRange(range);
      }
    };
    cell.addEventListener('pointermove', move);
    cell.addEventListener('pointerup', up);
    cell.addEventListener('pointercancel', up);
  }

  private onWheel(e: WheelEvent): void {
    const target = e.target as HTMLElement;
    const inHeader = !!target.closest('.hcell.c-waterfall');
    if (!inHeader && !target.closest('.row .c-waterfall')) return;
    const x = e.clientX - this.axisEl.getBoundingClientRect().left;
    const dy = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    const dx = e.deltaMode === 1 ? e.deltaX * 16 : e.deltaX;
    if (e.ctrlKey || e.metaKey || (inHeader && Math.abs(dy) > Math.abs(dx))) {
      e.preventDefault();
      this.zoomBy(Math.exp(-dy * 0.002), x);
    } else if (this.window && (e.shiftKey || Math.abs(dx) > Math.abs(dy))) {
      e.preventDefault();
      this.panBy(e.shiftKey && !dx ? dy : dx);
    }
  }

  // ---- hover -----------------------------------------------------------------------------------

  private onHover(e: MouseEvent): void {
    const target = e.target as HTMLElement;
    const cell = target.closest('.c-waterfall');
    const row = cell ? this.events.rowAt(cell) : undefined;
    if (!row) {
      this.hideTip();
      return;
    }
    if (row !== this.tipRow) {
      this.tipRow = row;
      this.fillTip(row);
    }
    const list = this.listEl.getBoundingClientRect();
    const tw = this.tip.offsetWidth;
    const th = this.tip.offsetHeight;
    let x = e.clientX - list.left + 14;
    if (x + tw > list.width - 4) x = Math.max(4, e.clientX - list.left - tw - 10);
    let y = e.clientY - list.top + 16;
    if (y + th > list.height - 4) y = Math.max(4, e.clientY - list.top - th - 8);
    this.tip.style.transform = `translate(${Math.round(x)}px, ${Math.round(y)}px)`;
  }

  private fillTip(row: Row): void {
    const now = this.model.now();
    const lines = phaseSummary(row, now);
    const children: HTMLElement[] = [h('div', 'wf-tip-title', null, `${row.req.reqMethod} ${row.host ? row.path : row.req.reqURL}`)];
    const table = h('div', 'wf-tip-phases');
    for (const l of lines) {
      table.append(h('span', `wf-swatch ph-${l.phase}`), h('span', null, null, l.label), h('span', 'num', null, formatSpan(l.ms)));
    }
    if (lines.length) children.push(table);
    else children.push(h('div', 'muted', null, 'No timing recorded'));
    const foot: string[] = [];
    if (Number.isFinite(row.start)) foot.push(`Started ${formatAt(row.start)}`);
    if (row.duration !== undefined) foot.push(`total ${formatSpan(row.duration)}`);
    children.push(h('div', 'wf-tip-foot', null, foot.join(', ')));
    const end = row.duration !== undefined ? row.start + row.duration : (now ?? this.model.traceEndAt);
    let paused = 0;
    for (const g of this.timeline?.gaps ?? [])
      if (end !== undefined) paused += Math.max(0, Math.min(end, g.end) - Math.max(row.start, g.begin));
    if (paused > 0) children.push(h('div', 'wf-tip-foot', null, `${formatSpan(paused)} of it paused in the debugger`));
    const loop = loopBlockedText(row.req);
    if (loop) children.push(h('div', 'wf-tip-foot', null, loop));
    this.tip.replaceChildren(...children);
    setSafeAttr(this.tip, 'aria-label', lines.map((l) => `${PHASE_LABELS[l.phase]} ${formatSpan(l.ms)}`).join(', '));
    this.tip.classList.add('on');
  }

  private hideTip(): void {
    this.tipRow = undefined;
    this.tip.classList.remove('on');
  }
}

/** The status bar's chip of a drag-selected time range: shows the range; a click clears it. */
export class TimeRangeChip {
  readonly el = h('button', 'time-range-chip', {
    type: 'button',
    title: 'Time range selected on the waterfall: click or press Escape to show all',
  });
  private shown: TimeRange | null | undefined;

  constructor(clear: () => void) {
    this.el.addEventListener('click', clear);
  }

  /** Shows `range`, or hides the chip when null. */
  render(range: TimeRange | null | undefined): void {
    if (range?.begin === this.shown?.begin && range?.end === this.shown?.end) return;
    this.shown = range ? { ...range } : null;
    this.el.classList.toggle('on', !!range);
    if (!range) return;
    const step = niceStep((range.end - range.begin) / 20);
    const from = formatAxisTime(range.begin, step);
    const to = formatAxisTime(range.end, step);
    setText(this.el, `${from} – ${to} ✕`);
    setSafeAttr(this.el, 'aria-label', `Time range ${from} to ${to}: clear`);
  }
}

/** "2", "12.5", "340": a zoom factor for the header. */
function formatZoom(f: number): string {
  return f < 10 ? f.toFixed(1).replace(/\.0$/, '') : String(Math.round(f));
}
