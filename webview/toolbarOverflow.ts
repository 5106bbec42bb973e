/**
 * Keeps the toolbar on one line: when its groups do not fit, the ones marked `data-collapse`
 * (lowest number first) are hidden and reachable through an overflow ("More") button instead.
 * The overflow menu is derived from the hidden controls themselves: a toggle button becomes a
 * checkbox item, an icon button an item, a <select> an item opening a menu of its options; each
 * item acts by clicking the real control (or setting the select and firing `change`), so the
 * toolbar's handlers and state stay the only ones.
 */

import { h, icon } from './dom';
import { showMenu, type MenuItem } from './menu';

/** Attaches the overflow behaviour to `toolbar`; returns the "More" button (already appended). */
export function attachToolbarOverflow(toolbar: HTMLElement): HTMLButtonElement {
  const more = h(
    'button',
    'icon-button toolbar-more',
    { type: 'button', title: 'More actions and filters', 'aria-label': 'More actions and filters', 'aria-haspopup': 'menu' },
    icon('ellipsis'),
  );
  toolbar.append(more);
  const groups = (): HTMLElement[] =>
    [...toolbar.querySelectorAll<HTMLElement>('[data-collapse]')].sort((a, b) => Number(a.dataset.collapse) - Number(b.dataset.collapse));
  let lastWidth = -1;
  // Items never wrap or shrink below their minimum, so "does not fit" is "the last shown item ends
  // past the toolbar's content box" (scrollWidth is no help: the toolbar clips its overflow).
  const overflows = (): boolean => {
    const box = toolbar.getBoundingClientRect();
    const end = box.right - parseFloat(getComputedStyle(toolbar).paddingRight || '0');
    let right = 0;
    for (const c of toolbar.children) if (!c.classList.contains('collapsed')) right = Math.max(right, c.getBoundingClientRect().right);
    return right > end + 0.5;
  };
  const fit = (): void => {
    const width = toolbar.clientWidth;
    if (width === lastWidth || width === 0) return;
    lastWidth = width;
    const all = groups();
    toolbar.classList.remove('tight');
    for (const g of all) g.classList.remove('collapsed');
    more.classList.add('collapsed');
    if (!overflows()) return;
    more.classList.remove('collapsed');
    for (const g of all) {
      g.classList.add('collapsed');
      if (!overflows()) return;
    }
    // Every group folded away and still too wide (a panel narrower than the minimums of the
    // picker, the filter and More): the picker and the filter give theirs up, so More stays in view.
    toolbar.classList.add('tight');
  };
  new ResizeObserver(fit).observe(toolbar);
  // A group's own width changes too (a count in a toggle's label, chips appearing with the data)
  // while the toolbar keeps its width: measured again then. Converges: fit() ends in the same
  // sizes for the same contents, and a ResizeObserver reports only a size that differs.
  const refit = new ResizeObserver(() => {
    lastWidth = -1;
    fit();
  });
  for (const c of toolbar.children) if (c !== more) refit.observe(c);
  // Fonts (codicons) change widths after the first layout.
  void document.fonts?.ready.then(() => {
    lastWidth = -1;
    fit();
  });
  more.addEventListener('click', () => {
    const items: MenuItem[] = [];
    for (const g of groups()) {
      if (!g.classList.contains('collapsed')) continue;
      if (items.length) items.push({ kind: 'separator' });
      items.push(...groupItems(g, more));
    }
    showMenu(items, more, 'More actions and filters');
  });
  return more;
}

/** Menu items standing for the controls of a hidden toolbar group. */
function groupItems(group: HTMLElement, anchor: HTMLElement): MenuItem[] {
  const out: MenuItem[] = [];
  for (const el of group.querySelectorAll<HTMLElement>('button, select')) {
    // A control its group hides for now (Replay This Run on a live trace) has no item either.
    if (el.hidden) continue;
    if (el instanceof HTMLSelectElement) {
      const label = el.getAttribute('aria-label') ?? el.title;
      const current = el.selectedOptions[0]?.textContent ?? '';
      out.push({
        kind: 'item',
        label: `${label}: ${current}`,
        hint: '…',
        run: () => {
          el.dispatchEvent(new Event('focus'));
          const opts: MenuItem[] = [...el.options].map((o) => ({
            kind: 'check',
            label: o.textContent ?? o.value,
            checked: o.selected,
            run: () => {
              el.value = o.value;
              el.dispatchEvent(new Event('change'));
            },
          }));
          showMenu(opts, anchor, label);
        },
      });
      continue;
    }
    const label = el.getAttribute('aria-label') ?? (el.textContent?.trim() || el.title);
    const pressed = el.getAttribute('aria-pressed');
    if (pressed !== null) out.push({ kind: 'check', label, checked: pressed === 'true', run: () => el.click() });
    else out.push({ kind: 'item', label, run: () => el.click() });
  }
  return out;
}
