/** The splitter between the request list and the detail view: dragging it resizes the detail. */

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
