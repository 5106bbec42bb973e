/**
 * The splitter between the request list and the detail view: dragging it resizes the detail, and
 * so do the keys while it has the focus (a WAI-ARIA window splitter: `role="separator"`, focusable,
 * its value the detail's share in percent). With the detail under the list it moves up and down
 * (↑/↓); with the detail beside the list (webview/layout.ts: a short panel) it moves sideways
 * (←/→, and ↑/↓ too). Page Up/Down by 20, Home/End to the smallest and largest.
 */

/** What a drag reports: the detail's new share while moving, and the end. */
export interface SplitterEvents {
  /** The detail's share of `container`'s height, or of its width when `side()` (0–1, unclamped), under the pointer. */
  move(fraction: number): void;
  done(): void;
}

/**
 * Makes `splitter` draggable within `container` (pointer capture, so a fast drag is not lost);
 * `side()` tells whether the detail is beside the list (then the drag is sideways).
 */
export function dragSplitter(splitter: HTMLElement, container: HTMLElement, side: () => boolean, events: SplitterEvents): void {
  splitter.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    splitter.setPointerCapture(e.pointerId);
    splitter.classList.add('active');
    const rect = container.getBoundingClientRect();
    const across = side();
    const move = (ev: PointerEvent): void =>
      events.move(across ? 1 - (ev.clientX - rect.left) / rect.width : 1 - (ev.clientY - rect.top) / rect.height);
    const up = (): void => {
      splitter.removeEventListener('pointermove', move);
      splitter.removeEventListener('pointerup', up);
      splitter.classList.remove('active');
      events.done();
    };
    splitter.addEventListener('pointermove', move);
    splitter.addEventListener('pointerup', up);
  });
}

/** Smallest and largest share of the height the detail takes (as the splitter's value, in percent). */
export const DETAIL_MIN = 15;
export const DETAIL_MAX = 85;

/**
 * The detail's least share of a height `height` px shared with the list: 15%, but at least `need`
 * px (its head, its tabs and some content; 200 px unless measured) while the list keeps 80 px.
 */
export function detailMinShare(height: number, need = 200): number {
  if (height <= 0) return DETAIL_MIN / 100;
  return Math.min(DETAIL_MAX / 100, Math.max(DETAIL_MIN / 100, Math.min(need, height - 80) / height));
}

/**
 * The splitter's value attributes: the detail's share `fraction` (0–1) between `min` and `max`,
 * of the width when `side` (the splitter is then vertical), else of the height.
 */
export function showSplitterValue(splitter: HTMLElement, fraction: number, min: number, max: number, side: boolean): void {
  const now = String(Math.round(fraction * 100));
  splitter.setAttribute('aria-valuemin', String(Math.round(min * 100)));
  splitter.setAttribute('aria-valuemax', String(Math.round(max * 100)));
  splitter.setAttribute('aria-orientation', side ? 'vertical' : 'horizontal');
  const text = `Details ${now}% of the ${side ? 'width' : 'height'}`;
  if (splitter.getAttribute('aria-valuenow') === now && splitter.getAttribute('aria-valuetext') === text) return;
  splitter.setAttribute('aria-valuenow', now);
  splitter.setAttribute('aria-valuetext', text);
}

/**
 * Moves the splitter from the keyboard: calls `set` with the detail's new share (clamped to the
 * splitter's aria-valuemin and aria-valuemax) for the keys above; other keys pass. ↑ and ← grow
 * the detail (it is below or right of the list).
 */
export function keySplitter(splitter: HTMLElement, set: (fraction: number) => void): void {
  splitter.setAttribute('tabindex', '0');
  splitter.addEventListener('keydown', (e) => {
    const now = Number(splitter.getAttribute('aria-valuenow') ?? 45);
    const min = Number(splitter.getAttribute('aria-valuemin') ?? DETAIL_MIN);
    const max = Number(splitter.getAttribute('aria-valuemax') ?? DETAIL_MAX);
    const step: Record<string, number> = { ArrowUp: 5, ArrowLeft: 5, ArrowDown: -5, ArrowRight: -5, PageUp: 20, PageDown: -20 };
    let next: number | undefined;
    if (e.key in step) next = now + step[e.key]!;
    else if (e.key === 'Home') next = min;
    else if (e.key === 'End') next = max;
    if (next === undefined) return;
    e.preventDefault();
    e.stopPropagation();
    set(Math.min(max, Math.max(min, next)) / 100);
  });
}
