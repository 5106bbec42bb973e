/**
 * The panel's persisted UI state (VS Code `getState/setState`, survives reloads and the panel
 * being hidden), and its validation: saved state is untrusted input from an older version.
 *
 * The column layout (widths, hidden/shown columns) is also remembered per workspace: the panel
 * posts it to the host (`saveLayout`), which keeps it in `workspaceState` and hands it back in the
 * HTML shell of the next panel (`data-layout` on #app, see src/extension/panelHtml.ts).
 */

import { columnVisibility, columnWidths, type ColumnId } from './columns';
import { DEFAULT_SORT, NO_FILTER, SORT_KEYS, type FilterSpec, type SortSpec } from './model';
import { STATUS_CLASSES, type StatusClass } from './format';
import type { DetailTab } from './detail';

/** Everything the panel restores after a reload. */
export interface PanelState {
  traceKey?: string;
  selectedId?: string | null;
  filter: FilterSpec;
  sort: SortSpec;
  widths: Record<string, number>;
  /** Columns the user showed (true) or hid (false); absent: shown when they fit. */
  columns: Partial<Record<ColumnId, boolean>>;
  detailOpen: boolean;
  detailTab: DetailTab;
  /** Height of the detail pane as a fraction of the panel height. */
  detailSize: number;
}

const TABS: readonly DetailTab[] = ['timing', 'headers', 'body', 'connection', 'dns', 'tls', 'initiator'];

/** The part of the state remembered per workspace. */
export interface WorkspaceLayout {
  widths: Record<string, number>;
  columns: Partial<Record<ColumnId, boolean>>;
}

/** The workspace's saved layout from the HTML shell's `data-layout` (JSON), or undefined. */
export function readWorkspaceLayout(json: string | undefined | null): WorkspaceLayout | undefined {
  if (!json) return undefined;
  try {
    const v = JSON.parse(json) as unknown;
    if (typeof v !== 'object' || v === null) return undefined;
    const o = v as Record<string, unknown>;
    return {
      widths: columnWidths(typeof o.widths === 'object' && o.widths !== null ? (o.widths as Record<string, number>) : undefined),
      columns: columnVisibility(o.columns),
    };
  } catch {
    return undefined;
  }
}

/**
 * Validates a saved state, filling in defaults for anything missing or malformed. `workspace` (the
 * layout remembered for the workspace) applies when the webview has no state of its own yet.
 */
export function restoreState(saved: unknown, workspace?: WorkspaceLayout): PanelState {
  const s = (typeof saved === 'object' && saved !== null ? saved : {}) as Partial<Record<keyof PanelState, unknown>>;
  const own = typeof s.widths === 'object' && s.widths !== null;
  const f = (typeof s.filter === 'object' && s.filter !== null ? s.filter : {}) as Partial<Record<keyof FilterSpec, unknown>>;
  const so = (typeof s.sort === 'object' && s.sort !== null ? s.sort : {}) as Partial<Record<keyof SortSpec, unknown>>;
  return {
    traceKey: typeof s.traceKey === 'string' ? s.traceKey : undefined,
    selectedId: typeof s.selectedId === 'string' ? s.selectedId : null,
    filter: {
      text: typeof f.text === 'string' ? f.text : NO_FILTER.text,
      failedOnly: f.failedOnly === true,
      classes: Array.isArray(f.classes) ? (f.classes.filter((c) => STATUS_CLASSES.includes(c as StatusClass)) as StatusClass[]) : [],
      host: typeof f.host === 'string' ? f.host : '',
    },
    sort: {
      key: SORT_KEYS.includes(so.key as SortSpec['key']) ? (so.key as SortSpec['key']) : DEFAULT_SORT.key,
      dir: so.dir === -1 ? -1 : 1,
    },
    widths: own ? columnWidths(s.widths as Record<string, number>) : (workspace?.widths ?? columnWidths(undefined)),
    columns: own || s.columns !== undefined ? columnVisibility(s.columns) : (workspace?.columns ?? {}),
    detailOpen: s.detailOpen === true,
    detailTab: TABS.includes(s.detailTab as DetailTab) ? (s.detailTab as DetailTab) : 'timing',
    detailSize: typeof s.detailSize === 'number' && s.detailSize >= 0.15 && s.detailSize <= 0.85 ? s.detailSize : 0.45,
  };
}
