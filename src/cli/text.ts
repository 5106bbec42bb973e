// Text for a terminal: made inert, fitted to a column width and coloured, shared by the CLI's renderers.

// CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and other two-byte ESC sequences.
export const ANSI_SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;
// C0 and C1 controls, DEL, and bidirectional overrides that could disguise text.
const CONTROL_CHARS = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** Removes ANSI escape sequences and replaces control characters with "?". */
export function sanitize(text: unknown): string {
  return String(text ?? '')
    .replace(ANSI_SEQUENCE, '')
    .replace(CONTROL_CHARS, '?');
}

/**
 * sanitize() for text of several lines (a message, a command's output): each line made inert, the
 * line breaks kept. Every text the CLI prints that came from a file, a trace or the network goes
 * through this or sanitize().
 */
export function sanitizeLines(text: unknown): string {
  return String(text ?? '')
    .split('\n')
    .map(sanitize)
    .join('\n');
}

/** Cuts text to `width` columns, ending with "…" when cut. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  if (!SURROGATE.test(text)) return text.length <= width ? text + ' '.repeat(width - text.length) : text.slice(0, width - 1) + '…';
  const chars = [...text];
  if (chars.length <= width) return text + ' '.repeat(width - chars.length);
  return chars.slice(0, width - 1).join('') + '…';
}

/** A UTF-16 surrogate: the text has characters outside the BMP, which count as one column each. */
export const SURROGATE = /[\uD800-\uDFFF]/;

/** `text` in the ANSI colour `code` when `color`. */
export function paint(text: string, code: number, color: boolean): string {
  return color ? `\x1b[${code}m${text}\x1b[0m` : text;
}
