/**
 * The request list's columns: ids, labels, default widths and what each sorts by.
 * DOM-free (shared by the list, the saved state and tests).
 */

import type { SortKey } from './model';

/** A column of the request list. */
export interface Column {
  id: 'name' | 'method' | 'status' | 'client' | 'conn' | 'duration' | 'size' | 'initiator' | 'waterfall';
  label: string;
  sort: SortKey;
  /** Default width in px; the name column takes the remaining space instead. */
  width: number;
  align?: 'right';
  /** Tooltip of the header cell. */
  title: string;
}

/** The columns, left to right. */
export const COLUMNS: readonly Column[] = [
  { id: 'name', label: 'URL', sort: 'name', width: 0, title: 'Request URL' },
  { id: 'method', label: 'Method', sort: 'method', width: 68, title: 'HTTP method' },
  { id: 'status', label: 'Status', sort: 'status', width: 124, title: 'HTTP status, or the error code of a failed request' },
  { id: 'client', label: 'Client', sort: 'client', width: 56, title: 'Client API: http, https, fetch, undici, http2' },
  { id: 'conn', label: 'Conn', sort: 'conn', width: 62, title: 'New or reused (keep-alive) connection' },
  { id: 'duration', label: 'Time', sort: 'duration', width: 70, align: 'right', title: 'Total time' },
  { id: 'size', label: 'Size', sort: 'size', width: 66, align: 'right', title: 'Response body size' },
  { id: 'initiator', label: 'Initiator', sort: 'initiator', width: 130, title: 'The code that made the request (click to open)' },
  { id: 'waterfall', label: 'Waterfall', sort: 'start', width: 260, title: 'Phases on a shared time axis, debugger pauses collapsed. Click to sort by start time; drag to list a time range; Ctrl+wheel or +/− to zoom' },
];

/** Minimum width of a resizable column in px. */
export const MIN_COLUMN_WIDTH = 36;

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
