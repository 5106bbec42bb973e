/**
 * The panel's persisted UI state (VS Code `getState/setState`, survives reloads and the panel
 * being hidden), and its validation: saved state is untrusted input from an older version.
 *
 * Everything but the trace and the selection (filter, sort, column widths and visibility, detail
 * layout) is also kept per workspace: the panel posts it to the host (`saveState`), which keeps it
 * in `workspaceState` and hands it back in the HTML shell of the next panel (`data-state` on #app,
 * see src/extension/panelHtml.ts).
 */

import { columnVisibility, columnWidths, type ColumnId } from './columns';
import { DEFAULT_SORT, NO_FILTER, SORT_KEYS, type FilterSpec, type SortSpec } from './model';
import { STATUS_CLASSES, type StatusClass } from './format';
import type { DetailTab } from './detail/common';
import { SIDE_DEFAULT } from './layout';

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
  /** Height of the detail pane as a fraction of the height it shares with the list (under it). */
  detailSize: number;
  /** Width of the detail pane as a fraction of the panel's width (beside the list: webview/layout.ts). */
  detailWidth: number;
  /** The list groups calls under the incoming request that caused them (kept per workspace). */
  groupByIncoming: boolean;
  /** The Rules view is open (kept across the page's reloads, e.g. when a debugger pause hides the panel). */
  rulesOpen: boolean;
}

const TABS: readonly DetailTab[] = ['timing', 'headers', 'body', 'connection', 'dns', 'tls', 'initiator'];

/**
 * The part of the state kept per workspace by the host (SaveStateMessage): everything but the
 * trace, the selection and the open Rules view, which belong to one panel.
 */
export function workspacePart(state: PanelState): Record<string, unknown> {
  const { traceKey: _trace, selectedId: _selected, rulesOpen: _rules, ...rest } = state;
  return rest;
}

/** Sends the workspace part of the state to the host (SaveStateMessage) when it changed. */
export class WorkspaceState {
  private last: string;

  constructor(
    initial: PanelState,
    private readonly send: (state: Record<string, unknown>) => void,
  ) {
    this.last = JSON.stringify(workspacePart(initial));
  }

  /** Called after each state change; posts only a changed workspace part. */
  save(state: PanelState): void {
    const part = workspacePart(state);
    const json = JSON.stringify(part);
    if (json === this.last) return;
    this.last = json;
    this.send(part);
  }
}

/** The workspace's saved state the host put in the HTML shell (`data-state` on #app), if any. */
export function initialState(doc: Document): unknown {
  const raw = doc.getElementById('app')?.dataset.state;
  if (!raw) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/**
 * The state the panel starts with: the webview's own (a reload, or a window reload through the
 * serializer) wins; a new panel starts from what the host kept for this workspace.
 */
export function loadState(own: unknown, doc: Document): PanelState {
  return restoreState(own ?? initialState(doc));
}

/** Validates a saved state, filling in defaults for anything missing or malformed. */
export function restoreState(saved: unknown): PanelState {
  const s = (typeof saved === 'object' && saved !== null ? saved : {}) as Partial<Record<keyof PanelState, unknown>>;
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
    widths: columnWidths(typeof s.widths === 'object' && s.widths !== null ? (s.widths as Record<string, number>) : undefined),
    columns: columnVisibility(s.columns),
    detailOpen: s.detailOpen === true,
    detailTab: TABS.includes(s.detailTab as DetailTab) ? (s.detailTab as DetailTab) : 'timing',
    detailSize: typeof s.detailSize === 'number' && s.detailSize >= 0.15 && s.detailSize <= 0.85 ? s.detailSize : 0.45,
    detailWidth: typeof s.detailWidth === 'number' && s.detailWidth >= 0.2 && s.detailWidth <= 0.8 ? s.detailWidth : SIDE_DEFAULT,
    rulesOpen: s.rulesOpen === true,
    groupByIncoming: s.groupByIncoming === true,
  };
}
