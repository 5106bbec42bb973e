/**
 * The request rows' context menu from the keyboard. The menu is VS Code's own ("webview/context"
 * in package.json, fed by each row's `data-vscode-context`: webview/list.ts); VS Code's webview
 * host opens it on any `contextmenu` event that reaches the page's window. A keyboard one (Shift+F10,
 * the Menu key) fires at the focused list, not at a row, so it is replaced by one dispatched on the
 * selected row's element.
 */

import type { RequestList } from './list';

/** True for the keys that open a context menu: the Menu key and Shift+F10. */
export function isMenuKey(e: KeyboardEvent): boolean {
  return e.key === 'ContextMenu' || (e.key === 'F10' && e.shiftKey && !e.ctrlKey && !e.altKey && !e.metaKey);
}

/** What the row menu needs of the panel. */
export interface RowMenuHost {
  /** The selected row's index in the view, or -1. */
  selected(): number;
  /** Selects the row at `index` (without opening the detail). */
  select(index: number): void;
  /** Renders now, so the row to open the menu on is in the DOM. */
  flush(): void;
  /** Rows in the view. */
  count(): number;
}

/** Opens the selected row's menu on Shift+F10 / the Menu key (see the file comment). */
export class RowMenu {
  /** When the keyboard last opened a menu: a keydown and the contextmenu event it causes open one menu. */
  private lastOpened = -Infinity;

  constructor(
    private readonly list: RequestList,
    private readonly host: RowMenuHost,
  ) {
    list.body.addEventListener('contextmenu', (e) => {
      if (e.target !== list.body) return;
      e.preventDefault();
      e.stopPropagation();
      if (performance.now() - this.lastOpened > 500) this.open();
    });
  }

  /** Opens the menu of the selected row (the first one when none is). */
  open(): void {
    let index = this.host.selected();
    if (index < 0) {
      if (!this.host.count()) return;
      index = 0;
      this.host.select(0);
    } else {
      this.list.reveal(index);
    }
    this.host.flush();
    const el = this.list.rowElement(index);
    if (!el) return;
    const r = el.getBoundingClientRect();
    this.lastOpened = performance.now();
    el.dispatchEvent(new MouseEvent('contextmenu', { bubbles: true, cancelable: true, clientX: r.left + 24, clientY: r.bottom - 2 }));
  }
}
