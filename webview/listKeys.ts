/** The list's keyboard navigation, DOM-free. */

/** The row index a navigation key moves the selection to (`cur` -1: none selected), or undefined for other keys. */
export function navTarget(key: string, cur: number, length: number, page: number): number | undefined {
  switch (key) {
    case 'ArrowDown':
      return cur < 0 ? 0 : Math.min(length - 1, cur + 1);
    case 'ArrowUp':
      return cur < 0 ? 0 : Math.max(0, cur - 1);
    case 'Home':
      return 0;
    case 'End':
      return length - 1;
    case 'PageDown':
      return Math.min(length - 1, Math.max(cur, 0) + page);
    case 'PageUp':
      return Math.max(0, cur - page);
    default:
      return undefined;
  }
}
