/**
 * The toolbar's "Group by incoming request" toggle, and how a group header row is collapsed and
 * expanded: ← / → on it, or a click on it once selected.
 */

import { h, icon, setSafeAttr } from './dom';
import { toggleGroup, type GroupedRow } from './grouping';
import type { Row, TraceModel } from './model';

/** The toolbar button; `change` gets the new setting. */
export class GroupToggle {
  readonly el = h(
    'button',
    'toggle group-toggle',
    {
      type: 'button',
      title: 'Group by incoming request: the calls a server made under the request it was handling',
      'aria-label': 'Group by incoming request',
      'aria-pressed': 'false',
    },
    icon('list-tree'),
    'Group',
  );

  constructor(change: (on: boolean) => void) {
    this.el.addEventListener('click', () => change(this.el.getAttribute('aria-pressed') !== 'true'));
  }

  /** Shows the current setting. */
  sync(on: boolean): void {
    this.el.classList.toggle('on', on);
    setSafeAttr(this.el, 'aria-pressed', String(on));
  }
}

/** The incoming request of a group header row, or undefined for a request row. */
export function groupOf(row: Row | undefined): string | undefined {
  return (row as GroupedRow | undefined)?.group?.incoming.traceID;
}

/** ←/→ on a group header collapse/expand it; true when the key was used. */
export function groupKey(model: TraceModel, key: string, index: number): boolean {
  const id = groupOf(model.view[index]);
  if (!id || (key !== 'ArrowLeft' && key !== 'ArrowRight')) return false;
  return toggleGroup(model, id, key === 'ArrowLeft');
}

/** A click on the selected group header toggles it; true when it did. */
export function clickGroup(model: TraceModel, index: number, selectedId: string | null | undefined): boolean {
  const id = groupOf(model.view[index]);
  return !!id && id === selectedId && toggleGroup(model, id);
}

/** Marks a list row element as a group header or a call inside a group (for styling). */
export function markGroupRow(el: HTMLElement, row: Row): void {
  const g = row as GroupedRow;
  el.classList.toggle('group-head', !!g.group);
  el.classList.toggle('in-group', !!g.depth);
  // Services nested under the call that reached them indent once more per level.
  if (g.depth) el.style.setProperty('--depth', String(g.depth));
  else el.style.removeProperty('--depth');
}
