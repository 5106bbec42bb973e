/**
 * The request list's columns: ids, labels, default widths, what each sorts by, and how they are
 * laid out at a given width (which ones show, how wide). DOM-free (shared by the list, the saved
 * state and tests).
 */

import type { SortKey } from './model';

/** Column ids, left to right. */
export type ColumnId = 'name' | 'method' | 'status' | 'client' | 'conn' | 'duration' | 'size' | 'initiator' | 'waterfall';

/** A column of the request list. */
export interface Column {
  id: ColumnId;
  label: string;
  sort: SortKey;
  /** Default width in px; the name column takes the remaining space instead. */
  width: number;
  /**
   * Width used at narrow panel widths while the user has not resized the column (the essentials:
   * method, status and time shrink so the row still fits 400 px with the waterfall).
   */
  narrowWidth?: number;
  /** Kept at narrow widths (method, path, status, time, waterfall); the others collapse first. */
  essential?: boolean;
  align?: 'right';
  /** Tooltip of the header cell. */
  title: string;
}

/** The columns, left to right. */
export const COLUMNS: readonly Column[] = [
  { id: 'name', label: 'URL', sort: 'name', width: 0, essential: true, title: 'Request URL' },
  { id: 'method', label: 'Method', sort: 'method', width: 68, narrowWidth: 60, essential: true, title: 'HTTP method' },
  {
    id: 'status',
    label: 'Status',
    sort: 'status',
    width: 124,
    narrowWidth: 80,
    essential: true,
    title: 'HTTP status, or the error code of a failed request',
  },
  { id: 'client', label: 'Client', sort: 'client', width: 56, title: 'Client API: http, https, fetch, undici, http2' },
  { id: 'conn', label: 'Conn', sort: 'conn', width: 62, title: 'New or reused (keep-alive) connection' },
  { id: 'duration', label: 'Time', sort: 'duration', width: 70, narrowWidth: 64, essential: true, align: 'right', title: 'Total time' },
  { id: 'size', label: 'Size', sort: 'size', width: 66, align: 'right', title: 'Response body size' },
  { id: 'initiator', label: 'Initiator', sort: 'initiator', width: 130, title: 'The code that made the request (click to open)' },
  {
    id: 'waterfall',
    label: 'Waterfall',
    sort: 'start',
    width: 260,
    essential: true,
    title:
      'Phases on a shared time axis, debugger pauses collapsed. Click to sort by start time; drag to list a time range; Ctrl+wheel or +/− to zoom',
  },
];

/** Minimum width of a resizable column in px. */
export const MIN_COLUMN_WIDTH = 36;
/** The URL column never gets narrower than this (it flexes above it). */
export const NAME_MIN_WIDTH = 140;
/** A waterfall this wide shows two axis labels or more; narrow layouts collapse columns for it. */
export const WATERFALL_READABLE_WIDTH = 200;
/** Beside a readable waterfall the URL column may shrink to this. */
export const NAME_BESIDE_WATERFALL = 120;
/** Narrow layouts collapse optional columns until the URL column gets about this much. */
export const NAME_COMFORT_WIDTH = 200;
/** …except at narrow widths, where it gives way to the waterfall down to this. */
export const NAME_MIN_NARROW = 96;
/** The waterfall's smallest automatic width: below it, other columns collapse first. */
export const WATERFALL_MIN_WIDTH = 72;
/** The widest an automatic waterfall gets on wide panels. */
export const WATERFALL_MAX_AUTO = 900;
/** Order in which columns the user has not shown explicitly collapse when the row does not fit. */
export const COLLAPSE_ORDER: readonly ColumnId[] = ['client', 'conn', 'size', 'initiator'];
/**
 * Essentials that collapse last, when even the narrow row does not fit (the list beside the
 * detail in a short panel, 200% zoom): the waterfall, then the method. Path, status and time stay,
 * as in a browser's network list beside its request's detail.
 */
export const SQUEEZE_ORDER: readonly ColumnId[] = ['waterfall', 'method'];

/** Column widths by id, with defaults filled in and saved values clamped. */
export function columnWidths(saved: Record<string, number> | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of COLUMNS) {
    if (c.id === 'name') continue;
    const v = saved?.[c.id];
    out[c.id] = typeof v === 'number' && Number.isFinite(v) ? Math.max(MIN_COLUMN_WIDTH, Math.min(2000, v)) : c.width;
  }
  return out;
}

/**
 * Columns the user showed (true) or hid (false) through the header menu; a column absent here
 * shows when it fits. The URL column cannot be hidden. Junk is dropped.
 */
export function columnVisibility(saved: unknown): Partial<Record<ColumnId, boolean>> {
  const out: Partial<Record<ColumnId, boolean>> = {};
  if (typeof saved !== 'object' || saved === null) return out;
  for (const c of COLUMNS) {
    const v = (saved as Record<string, unknown>)[c.id];
    if (c.id !== 'name' && typeof v === 'boolean') out[c.id] = v;
  }
  return out;
}

/** The columns as laid out at one width. */
export interface ColumnLayout {
  /** Shown columns, left to right (always starts with the URL column). */
  shown: ColumnId[];
  /** Columns hidden only because the row did not fit (the menu can show them). */
  collapsed: ColumnId[];
  /** Width in px of every shown column except the URL column. */
  widths: Partial<Record<ColumnId, number>>;
  /** Smallest width of the row; wider than `available` when the list must scroll sideways. */
  rowWidth: number;
  /** True when the narrow layout applies (essentials at their narrow widths). */
  narrow: boolean;
}

/**
 * Lays the columns out in `available` px (the list's inner width). Columns the user hid are left
 * out. When the row does not fit at the default widths it goes narrow: method, status and time
 * take their narrow widths (unless resized), a waterfall at its default width shrinks towards
 * WATERFALL_MIN_WIDTH, and the columns of COLLAPSE_ORDER the user has not explicitly shown
 * collapse one by one until the URL column keeps NAME_MIN_WIDTH beside the waterfall; then the
 * URL column gives way down to NAME_MIN_NARROW; last, the columns of SQUEEZE_ORDER the user has
 * not explicitly shown collapse, when that makes the row fit. What still does not fit (columns the
 * user insists on) scrolls horizontally: `rowWidth` is then wider than `available`.
 */
export function layoutColumns(
  available: number,
  widths: Record<string, number>,
  visibility: Partial<Record<ColumnId, boolean>>,
): ColumnLayout {
  const shown = COLUMNS.filter((c) => c.id === 'name' || visibility[c.id] !== false).map((c) => c.id);
  const byId = new Map(COLUMNS.map((c) => [c.id, c]));
  const width = (id: ColumnId, narrow: boolean): number => {
    const c = byId.get(id)!;
    const w = widths[id] ?? c.width;
    return narrow && w === c.width && c.narrowWidth ? c.narrowWidth : w;
  };
  const wfDefault = byId.get('waterfall')!.width;
  const wfAuto = (widths.waterfall ?? wfDefault) === wfDefault;
  /** Sum of the fixed widths (the URL column and an automatic waterfall excluded). */
  const fixed = (ids: ColumnId[], narrow: boolean): number =>
    ids.reduce((s, id) => s + (id === 'name' || (narrow && id === 'waterfall' && wfAuto) ? 0 : width(id, narrow)), 0);

  const finish = (ids: ColumnId[], collapsed: ColumnId[], narrow: boolean): ColumnLayout => {
    const out: Partial<Record<ColumnId, number>> = {};
    for (const id of ids) if (id !== 'name') out[id] = width(id, narrow);
    let nameMin = NAME_MIN_WIDTH;
    if (!narrow && wfAuto && ids.includes('waterfall')) {
      // Wide panels give the waterfall a quarter of the width (its default is the minimum).
      const quarter = Math.min(WATERFALL_MAX_AUTO, Math.floor(available / 4));
      const room = available - (fixed(ids, false) - wfDefault) - NAME_MIN_WIDTH;
      out.waterfall = Math.max(wfDefault, Math.min(quarter, room));
    }
    if (narrow) {
      const room = available - fixed(ids, true);
      const hasWf = ids.includes('waterfall') && wfAuto;
      // An automatic waterfall gets what the URL column leaves above NAME_COMFORT_WIDTH, at least
      // WATERFALL_READABLE_WIDTH (its axis spaces tick labels ~72 px apart: two or more) while the
      // URL column keeps NAME_BESIDE_WATERFALL, else whatever is left.
      let wf = 0;
      if (hasWf) {
        wf = Math.min(wfDefault, Math.max(WATERFALL_READABLE_WIDTH, room - NAME_COMFORT_WIDTH));
        if (room - wf < NAME_BESIDE_WATERFALL) wf = Math.max(WATERFALL_MIN_WIDTH, room - NAME_BESIDE_WATERFALL);
      }
      if (hasWf) out.waterfall = wf;
      nameMin = Math.max(NAME_MIN_NARROW, Math.min(NAME_MIN_WIDTH, room - wf));
    }
    const rowWidth = nameMin + Object.values(out).reduce((s, w) => s + (w ?? 0), 0);
    return { shown: ids, collapsed, widths: out, rowWidth, narrow };
  };

  if (available <= 0 || fixed(shown, false) + NAME_MIN_WIDTH <= available) return finish(shown, [], false);
  const need = (ids: ColumnId[]): number => NAME_COMFORT_WIDTH + (ids.includes('waterfall') && wfAuto ? WATERFALL_READABLE_WIDTH : 0);
  let ids = shown;
  const collapsed: ColumnId[] = [];
  for (const id of COLLAPSE_ORDER) {
    if (available - fixed(ids, true) >= need(ids)) break;
    if (!ids.includes(id) || visibility[id] === true) continue;
    ids = ids.filter((x) => x !== id);
    collapsed.push(id);
  }
  // The narrowest row: the URL at NAME_MIN_NARROW and an automatic waterfall at its least width.
  const least = (list: ColumnId[]): number =>
    NAME_MIN_NARROW + fixed(list, true) + (list.includes('waterfall') && wfAuto ? WATERFALL_MIN_WIDTH : 0);
  // Only when that makes the row fit: columns the user insists on scroll sideways beside the essentials.
  let squeezed = ids;
  const gone: ColumnId[] = [];
  for (const id of SQUEEZE_ORDER) {
    if (least(squeezed) <= available) break;
    if (!squeezed.includes(id) || visibility[id] === true) continue;
    squeezed = squeezed.filter((x) => x !== id);
    gone.push(id);
  }
  if (gone.length && least(squeezed) <= available) return finish(squeezed, [...collapsed, ...gone], true);
  return finish(ids, collapsed, true);
}
