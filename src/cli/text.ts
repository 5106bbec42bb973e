// Text for a terminal: made inert, fitted to a column width and coloured, shared by the CLI's renderers.

// CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and other two-byte ESC sequences: the
// renderer's own colours, skipped when a line's visible width is measured.
export const ANSI_SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;

/**
 * The characters a terminal acts on or that disguise text, beyond the C0 controls: DEL, the C1
 * controls (U+0080–U+009F; U+009B is a one-byte CSI), the Arabic letter mark, the left-to-right
 * and right-to-left marks, Unicode's line and paragraph separators, and the bidirectional
 * embeddings, overrides (U+202A–U+202E) and isolates (U+2066–U+2069).
 */
const UNSAFE_ABOVE_C0 = '\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069';
/** Every character sanitize() shows escaped: the C0 controls and UNSAFE_ABOVE_C0. */
const UNSAFE = new RegExp(`[\\u0000-\\u001f${UNSAFE_ABOVE_C0}]`, 'g');
/** UNSAFE_ABOVE_C0 alone: in JSON text the C0 controls occur only as its own line breaks (JSON.stringify escapes them in strings). */
const UNSAFE_IN_JSON = new RegExp(`[${UNSAFE_ABOVE_C0}]`, 'g');

/** A character as it is shown escaped: `\x1b` up to U+00FF, `\u202e` above. */
function escaped(c: string): string {
  const code = c.charCodeAt(0);
  return code <= 0xff ? '\\x' + code.toString(16).padStart(2, '0') : '\\u' + code.toString(16).padStart(4, '0');
}

/**
 * Any value as one line of inert text for a terminal: every control character (C0, DEL, C1: an
 * escape sequence's ESC, a BEL, a line break), bidirectional override or isolate and line
 * separator shown escaped (`\x1b]52;…\x07`, `\u202e`), the rest as it is. Every value the CLI
 * prints that came from a trace, a file or the network goes through this or sanitizeLines(): a
 * value of another type than expected too (a hostile file's number given as text).
 */
export function sanitize(text: unknown): string {
  return String(text ?? '').replace(UNSAFE, escaped);
}

/**
 * sanitize() for text of several lines (a message, a command's output): each line made inert, the
 * line breaks kept.
 */
export function sanitizeLines(text: unknown): string {
  return String(text ?? '')
    .split('\n')
    .map(sanitize)
    .join('\n');
}

/**
 * JSON text made inert for a terminal: the characters of UNSAFE_ABOVE_C0, which JSON.stringify
 * writes raw, replaced with their `\uXXXX` escapes (in JSON text they occur only inside strings,
 * where the escape stands for the same character).
 */
export function escapeJsonForTerminal(json: string): string {
  return json.replace(UNSAFE_IN_JSON, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Cuts text to `width` columns, ending with "…" when cut. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  if (!SURROGATE.test(text)) return text.length <= width ? text + ' '.repeat(width - text.length) : text.slice(0, width - 1) + '…';
  const chars = [...text];
  if (chars.length <= width) return text + ' '.repeat(width - chars.length);
  return chars.slice(0, width - 1).join('') + '…';
}

/**
 * Cuts text to at most `width` columns by leaving out its middle ("http://host/a/…/z?q=1"): a
 * URL keeps its host and its end. Not padded.
 */
export function cutMiddle(text: string, width: number): string {
  const wide = SURROGATE.test(text);
  const length = wide ? [...text].length : text.length;
  if (length <= width) return text;
  if (width <= 1) return width === 1 ? '…' : '';
  const head = Math.ceil((width - 1) / 2);
  const tail = width - 1 - head;
  if (!wide) return text.slice(0, head) + '…' + text.slice(text.length - tail);
  const chars = [...text];
  return chars.slice(0, head).join('') + '…' + chars.slice(chars.length - tail).join('');
}

/**
 * Appends `more` to `lines` one at a time: `lines.push(...more)` passes every element as an
 * argument on the stack, which overflows it past about 100,000 (a summary of 40,000 routes).
 */
export function append(lines: string[], more: readonly string[]): void {
  for (const line of more) lines.push(line);
}

/** A UTF-16 surrogate: the text has characters outside the BMP, which count as one column each. */
export const SURROGATE = /[\uD800-\uDFFF]/;

/** `text` in the ANSI colour `code` when `color`. */
export function paint(text: string, code: number, color: boolean): string {
  return color ? `\x1b[${code}m${text}\x1b[0m` : text;
}
