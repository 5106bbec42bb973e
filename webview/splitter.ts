/**
 * The splitter between the request list and the detail view: dragging it resizes the detail, and
 * so do the keys while it has the focus (a WAI-ARIA window splitter: `role="separator"`, focusable,
 * its value the detail's share of the height in percent; ↑/↓ by 5, Page Up/Down by 20, Home/End
 * to the smallest and largest).
 */

/** What a drag reports: the detail's new share of the height while moving, and the end. */
export interface SplitterEvents {
  /** The detail's share of `container`'s height (0–1, unclamped) under the pointer. */
  move(fraction: number): void;
  done(): void;
}

/** Makes `splitter` draggable within `container` (pointer capture, so a fast drag is not lost). */
export function dragSplitter(splitter: HTMLElement, container: HTMLElement, events: SplitterEvents): void {
  splitter.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    splitter.setPointerCapture(e.pointerId);
    splitter.classList.add('active');
    const rect = container.getBoundingClientRect();
    const move = (ev: PointerEvent): void => events.move(1 - (ev.clientY - rect.top) / rect.height);
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
 * The detail's least share of a main area `height` px tall: 15%, but at least 200 px while the
 * list keeps 80 px (a short panel, 200% zoom: the head and the tab bar must leave room for the
 * content).
 */
export function detailMinShare(height: number): number {
  if (height <= 0) return DETAIL_MIN / 100;
  return Math.min(DETAIL_MAX / 100, Math.max(DETAIL_MIN / 100, Math.min(200, height - 80) / height));
}

/** The splitter's value attributes: the detail's share `fraction` (0–1) of the height, its least share `min`. */
export function showSplitterValue(splitter: HTMLElement, fraction: number, min: number): void {
  const now = String(Math.round(fraction * 100));
  splitter.setAttribute('aria-valuemin', String(Math.round(min * 100)));
  if (splitter.getAttribute('aria-valuenow') === now) return;
  splitter.setAttribute('aria-valuenow', now);
  splitter.setAttribute('aria-valuetext', `Details ${now}% of the height`);
}

/**
 * Moves the splitter from the keyboard: calls `set` with the detail's new share (clamped to the
 * splitter's aria-valuemin and aria-valuemax) for the keys above; other keys pass.
 */
export function keySplitter(splitter: HTMLElement, set: (fraction: number) => void): void {
  splitter.setAttribute('tabindex', '0');
  splitter.setAttribute('aria-valuemax', String(DETAIL_MAX));
  splitter.addEventListener('keydown', (e) => {
    const now = Number(splitter.getAttribute('aria-valuenow') ?? 45);
    const min = Number(splitter.getAttribute('aria-valuemin') ?? DETAIL_MIN);
    const step: Record<string, number> = { ArrowUp: 5, ArrowDown: -5, PageUp: 20, PageDown: -20 };
    let next: number | undefined;
    if (e.key in step) next = now + step[e.key]!;
    else if (e.key === 'Home') next = min;
    else if (e.key === 'End') next = DETAIL_MAX;
    if (next === undefined) return;
    e.preventDefault();
    e.stopPropagation();
    set(Math.min(DETAIL_MAX, Math.max(min, next)) / 100);
  });
}

/**
 * Wires the splitter between the list and the detail in `main`: drag, keys, and the detail's
 * least share kept as the panel's height changes. `size` reads and writes the saved share;
 * `changed(final)` runs after each move (final: the end of a drag, a key). Returns the function
 * that lays the detail out, open or closed.
 */
export function attachSplitter(
  splitter: HTMLElement,
  main: HTMLElement,
  size: { get(): number; set(fraction: number): void },
  changed: (final: boolean) => void,
): (open: boolean) => void {
  let isOpen = false;
  const layout = (open: boolean): void => {
    isOpen = open;
    main.classList.toggle('detail-open', open);
    const min = detailMinShare(main.clientHeight);
    const share = Math.max(min, size.get());
    main.style.setProperty('--detail-size', `${(share * 100).toFixed(2)}%`);
    showSplitterValue(splitter, share, min);
  };
  dragSplitter(splitter, main, {
    move: (frac) => {
      size.set(Math.min(DETAIL_MAX / 100, Math.max(detailMinShare(main.clientHeight), frac)));
      layout(isOpen);
      changed(false);
    },
    done: () => changed(true),
  });
  keySplitter(splitter, (frac) => {
    size.set(frac);
    layout(isOpen);
    changed(true);
  });
  new ResizeObserver(() => layout(isOpen)).observe(main);
  return layout;
}
