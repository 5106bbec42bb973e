/**
 * A small popup menu (ARIA `menu` with `menuitem` / `menuitemcheckbox` items) for the column
 * header menu and the toolbar's overflow. Keyboard: Up/Down/Home/End move, Enter/Space activate,
 * Escape or Tab close and return focus to where it came from. The popup is placed inside the
 * viewport (fixed position, clamped), so opening it never scrolls or widens the document.
 */

import { h, icon, setSafeAttr } from './dom';

/** One entry of a menu. */
export type MenuItem =
  | { kind: 'item'; label: string; run(): void; disabled?: boolean; hint?: string }
  | { kind: 'check'; label: string; checked: boolean; run(): void; disabled?: boolean; hint?: string }
  | { kind: 'separator' }
  /** Arbitrary controls (e.g. a <select>) shown as a group inside the popup. */
  | { kind: 'element'; el: HTMLElement };

let open: { el: HTMLElement; close(restore: boolean): void } | null = null;

/** Closes the open menu, if any. */
export function closeMenu(restoreFocus = false): void {
  open?.close(restoreFocus);
}

/** True while a menu is open. */
export function menuOpen(): boolean {
  return open !== null;
}

/**
 * Opens a menu at (x, y) in viewport px (or below `anchor`). Returns the popup element.
 * `label` names the menu for screen readers.
 */
export function showMenu(items: readonly MenuItem[], at: { x: number; y: number } | HTMLElement, label: string): HTMLElement {
  closeMenu();
  const returnTo = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const el = h('div', 'menu', { role: 'menu', 'aria-label': label, tabindex: '-1' });
  const buttons: HTMLElement[] = [];
  for (const it of items) {
    if (it.kind === 'separator') {
      el.append(h('div', 'menu-separator', { role: 'separator' }));
      continue;
    }
    if (it.kind === 'element') {
      el.append(it.el);
      continue;
    }
    const b = h(
      'div',
      `menu-item${it.disabled ? ' disabled' : ''}`,
      { role: it.kind === 'check' ? 'menuitemcheckbox' : 'menuitem', tabindex: '-1' },
      icon(it.kind === 'check' && it.checked ? 'check' : 'blank', 'menu-check'),
      h('span', 'menu-label', null, it.label),
      it.hint ? h('span', 'menu-hint', null, it.hint) : null,
    );
    if (it.kind === 'check') setSafeAttr(b, 'aria-checked', String(it.checked));
    if (it.disabled) setSafeAttr(b, 'aria-disabled', 'true');
    const run = (): void => {
      if (it.disabled) return;
      close(true);
      it.run();
    };
    b.addEventListener('click', run);
    b.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        run();
      }
    });
    b.addEventListener('pointermove', () => b.focus({ preventScroll: true }));
    buttons.push(b);
    el.append(b);
  }
  el.addEventListener('keydown', (e) => {
    const i = buttons.indexOf(document.activeElement as HTMLElement);
    let next = -1;
    if (e.key === 'ArrowDown') next = (i + 1) % buttons.length;
    else if (e.key === 'ArrowUp') next = (i - 1 + buttons.length) % buttons.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = buttons.length - 1;
    else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close(true);
      return;
    } else if (e.key === 'Tab' && !el.contains(e.target as Node)) close(false);
    if (next >= 0 && buttons.length) {
      e.preventDefault();
      buttons[next]!.focus({ preventScroll: true });
    }
  });
  document.body.append(el);
  // Place inside the viewport.
  const vw = document.documentElement.clientWidth;
  const vh = document.documentElement.clientHeight;
  const r = el.getBoundingClientRect();
  let x: number;
  let y: number;
  if (at instanceof HTMLElement) {
    const a = at.getBoundingClientRect();
    x = a.right - r.width;
    y = a.bottom + 2;
    if (x < 0) x = a.left;
  } else {
    x = at.x;
    y = at.y;
  }
  x = Math.max(0, Math.min(x, vw - r.width));
  y = Math.max(0, Math.min(y, vh - r.height));
  el.style.left = `${Math.round(x)}px`;
  el.style.top = `${Math.round(y)}px`;
  const onDown = (e: PointerEvent): void => {
    if (!el.contains(e.target as Node)) close(false);
  };
  const onBlur = (): void => close(false);
  const close = (restore: boolean): void => {
    if (open?.el !== el) return;
    open = null;
    document.removeEventListener('pointerdown', onDown, true);
    window.removeEventListener('blur', onBlur);
    el.remove();
    if (restore && returnTo?.isConnected) returnTo.focus({ preventScroll: true });
  };
  document.addEventListener('pointerdown', onDown, true);
  window.addEventListener('blur', onBlur);
  open = { el, close };
  (buttons[0] ?? el).focus({ preventScroll: true });
  return el;
}
