/**
 * How the list and the selected request's detail share the panel (issue 66), as VS Code's own
 * split views do: each keeps a least size — the list its header and MIN_ROWS rows, the detail its
 * head, its tabs and DETAIL_CONTENT_MIN px of their content — and the detail sits under the list
 * while the panel is tall enough for both, beside it when the panel is short and wide enough (as
 * F5 leaves a laptop's window: Run and Debug and the Debug Console open). Where neither gives both
 * their least size (200% zoom in a short panel) the panel scrolls as a whole (`.app`) rather than
 * squeezing either to nothing. `planSplit` decides (DOM-free); `PanelLayout` measures and applies.
 */

import { DETAIL_MAX, DETAIL_MIN, detailMinShare, dragSplitter, keySplitter, showSplitterValue } from './splitter';

/** Rows of the list kept in sight beside the detail. */
export const MIN_ROWS = 8;
/** The list's header row (with its border). */
export const LIST_HEAD_HEIGHT = 24;
/** The least height of the detail's tab content (its box: `.detail-content`'s min-height). */
export const DETAIL_CONTENT_MIN = 120;
/** The least height the choice counts on for the detail (head, tabs, content) before it is measured. */
export const DETAIL_MIN_HEIGHT = 250;
/**
 * The most it counts on: a detail whose head is taller (a long diagnosis, a request's cause)
 * scrolls as a whole, its tab bar staying at its top, rather than taking the list's rows.
 */
export const DETAIL_MAX_NEED = 320;
/** Beside the detail the list keeps this width (path, status and time: columns.ts SQUEEZE_ORDER). */
export const SIDE_LIST_MIN = 250;
/** …and the detail this one (its tabs wrap; its tables stack: detail.css). */
export const SIDE_DETAIL_MIN = 260;
/** The detail's share of the width beside the list, unless the user moved the splitter. */
export const SIDE_DEFAULT = 0.55;

/** What the choice needs to know of the panel. */
export interface SplitInput {
  /** Width and height (px) the list and the detail share (the Summary view's part left out). */
  width: number;
  height: number;
  detailOpen: boolean;
  /** A row's height with the list as wide as the panel, and beside the detail (two lines once the Initiator column collapses). */
  rowHeight: number;
  sideRowHeight: number;
  /** The detail's head and tabs as laid out, plus DETAIL_CONTENT_MIN (0: not measured yet). */
  detailNeed: number;
}

/** The choice: the detail beside the list or under it, the least height of the two, and whether the panel has it. */
export interface SplitPlan {
  side: boolean;
  /** The list's least height (stacked: its part of the least height). */
  listNeed: number;
  /** The detail's least height. */
  detailNeed: number;
  minHeight: number;
  fits: boolean;
}

/**
 * Chooses how the list and the detail share `i.width` × `i.height`. The choice counts on
 * DETAIL_MIN_HEIGHT for the detail, not on the selected request's head, so that the layout does
 * not change from one request to the next (a taller head scrolls within the detail); the measured
 * need sets the detail's least share, and the least height of a page that scrolls.
 */
export function planSplit(i: SplitInput): SplitPlan {
  const listNeed = LIST_HEAD_HEIGHT + MIN_ROWS * i.rowHeight;
  const detailNeed = Math.min(DETAIL_MAX_NEED, Math.max(DETAIL_MIN_HEIGHT, i.detailNeed));
  if (!i.detailOpen) return { side: false, listNeed, detailNeed: 0, minHeight: listNeed, fits: i.height >= listNeed };
  const stacked = listNeed + DETAIL_MIN_HEIGHT;
  if (i.height >= stacked) return { side: false, listNeed, detailNeed, minHeight: stacked, fits: true };
  if (i.width >= SIDE_LIST_MIN + SIDE_DETAIL_MIN) {
    const sideList = LIST_HEAD_HEIGHT + MIN_ROWS * i.sideRowHeight;
    const least = Math.max(sideList, DETAIL_MIN_HEIGHT);
    const fits = i.height >= least;
    return { side: true, listNeed: sideList, detailNeed, minHeight: fits ? least : Math.max(sideList, detailNeed), fits };
  }
  return { side: false, listNeed, detailNeed, minHeight: listNeed + detailNeed, fits: false };
}

/** The detail's least and largest share of the width `width` beside the list. */
export function sideShares(width: number): { min: number; max: number } {
  if (width <= 0) return { min: 0.5, max: 0.5 };
  const min = Math.min(0.8, SIDE_DETAIL_MIN / width);
  return { min, max: Math.max(min, Math.min(0.8, 1 - SIDE_LIST_MIN / width)) };
}

/**
 * The detail's least and largest share of the height `height` under the list: its measured need
 * (at least detailMinShare's); while the panel has room for both, at most what leaves the list
 * its MIN_ROWS rows (a least size, as VS Code's views keep: the list wins over a tall head, which
 * scrolls within the detail), else up to DETAIL_MAX.
 */
export function stackedShares(height: number, plan: SplitPlan): { min: number; max: number } {
  const need = detailMinShare(height, plan.detailNeed || 200);
  if (!plan.fits) return { min: need, max: Math.max(need, DETAIL_MAX / 100) };
  const max = Math.max(DETAIL_MIN / 100, Math.min(DETAIL_MAX / 100, 1 - plan.listNeed / height));
  return { min: Math.min(need, max), max };
}

/** The parts of the panel the layout reads and lays out. */
export interface LayoutParts {
  /** The scrolling page (`.app`), the area of the list and the detail (`.main`), the splitter between them. */
  app: HTMLElement;
  main: HTMLElement;
  splitter: HTMLElement;
  /** The Summary view (in `.main`, above both). */
  summary: HTMLElement;
  /** The detail (`.detail`) and the parts of it whose height is its need (`.detail-head`, `.tabbar`). */
  detail: HTMLElement;
  detailFixed: HTMLElement[];
  /** A row's height were the list `width` px wide. */
  rowHeightAt(width: number): number;
}

/** The detail's saved shares: of the height under the list, of the width beside it. */
export interface DetailShares {
  detailSize: number;
  detailWidth: number;
}

/** Lays the list and the detail out as planSplit says, again whenever a size changes; wires the splitter. */
export class PanelLayout {
  private open = false;
  private plan: SplitPlan | undefined;

  constructor(
    private readonly parts: LayoutParts,
    private readonly shares: DetailShares,
    /** Told after the user moved the splitter (`final`: at the end of a drag, after a key). */
    changed: (final: boolean) => void,
  ) {
    const { splitter, main } = parts;
    dragSplitter(splitter, main, () => this.plan?.side === true, {
      move: (frac) => {
        const { min, max } = this.range();
        this.setShare(Math.min(max, Math.max(min, frac)));
        changed(false);
      },
      done: () => changed(true),
    });
    keySplitter(splitter, (frac) => {
      this.setShare(frac);
      changed(true);
    });
    // Anything on the page growing or shrinking changes the room (the Rules view or line opening,
    // a banner, the detail's head on another request); a part added later is observed too.
    const ro = new ResizeObserver(() => this.layout(this.open));
    for (const el of [parts.app, parts.summary, ...parts.detailFixed, ...parts.app.children]) ro.observe(el);
    new MutationObserver((changes) => {
      for (const c of changes) for (const n of c.addedNodes) if (n instanceof HTMLElement) ro.observe(n);
    }).observe(parts.app, { childList: true });
  }

  /** True when the detail is beside the list. */
  get side(): boolean {
    return this.plan?.side === true;
  }

  /**
   * True when the list (with the detail open) keeps its least size with `less` px less height
   * (a Rules view of that height opened above it).
   */
  roomFor(less: number): boolean {
    const input = this.input(true);
    return planSplit({ ...input, height: input.height - less }).fits;
  }

  /** Lays the list and the detail out, the detail open or closed. */
  layout(open: boolean): void {
    this.open = open;
    const { main, splitter } = this.parts;
    main.classList.toggle('detail-open', open);
    const input = this.input(open);
    const plan = planSplit(input);
    this.plan = plan;
    main.classList.toggle('side', open && plan.side);
    const summary = this.parts.summary.hidden ? 0 : this.parts.summary.offsetHeight;
    // Written only when changed: a layout read after a write would lay the page out again.
    const set = (name: string, value: string): void => {
      if (main.style.getPropertyValue(name) !== value) main.style.setProperty(name, value);
    };
    set('min-height', `${plan.minHeight + summary}px`);
    if (!open) return;
    const { min, max } = this.range();
    if (plan.side) {
      const share = Math.min(max, Math.max(min, this.shares.detailWidth));
      set('--detail-width', `${Math.round(share * input.width)}px`);
      showSplitterValue(splitter, share, min, max, true);
    } else {
      const height = Math.max(input.height, plan.minHeight);
      const share = Math.min(max, Math.max(min, this.shares.detailSize));
      set('--detail-size', `${Math.round(share * height)}px`);
      showSplitterValue(splitter, share, min, max, false);
    }
  }

  /** The splitter's range now: of the width beside the list, of the height under it. */
  private range(): { min: number; max: number } {
    const input = this.input(this.open);
    const plan = this.plan ?? planSplit(input);
    return plan.side ? sideShares(input.width) : stackedShares(Math.max(input.height, plan.minHeight), plan);
  }

  private setShare(fraction: number): void {
    if (this.plan?.side) this.shares.detailWidth = fraction;
    else this.shares.detailSize = fraction;
    this.layout(this.open);
  }

  /**
   * The panel as the plan needs it: the width of `.main`, and the height it has (the page's less
   * everything else on it, also while it scrolls) less the Summary view's.
   */
  private input(open: boolean): SplitInput {
    const { app, main, summary, detail, detailFixed } = this.parts;
    const width = main.clientWidth;
    const others = app.scrollHeight - main.offsetHeight;
    const height = app.clientHeight - others - (summary.hidden ? 0 : summary.offsetHeight);
    const shown = open && detail.offsetHeight > 0;
    const need = shown ? detailFixed.reduce((n, el) => n + el.offsetHeight, 0) + DETAIL_CONTENT_MIN + 1 : 0;
    const sideList = width - Math.round(width * Math.min(sideShares(width).max, Math.max(sideShares(width).min, this.shares.detailWidth)));
    return {
      width,
      height,
      detailOpen: open,
      rowHeight: this.parts.rowHeightAt(width),
      sideRowHeight: this.parts.rowHeightAt(sideList),
      detailNeed: need,
    };
  }
}
