/**
 * How the Body tab shows a captured request or response body (CapturedBody of
 * src/trace/contract/types.ts): JSON re-indented, other text as is, anything else as a hex dump.
 * DOM-free so it runs under `node --test`; the detail view puts the results into Text nodes.
 */

import type { CapturedBody } from '../src/trace/contract/types';

/** Characters of body text the panel renders; the rest is cut with a note (bodyMaxBytes may be large). */
export const MAX_SHOWN_TEXT = 256 * 1024;
/** Hex dump rows the panel renders (16 bytes each). */
export const MAX_HEX_ROWS = 4096;
/** Indentation stops growing past this depth, so a hostile `[[[[…` cannot blow up the output. */
const MAX_INDENT_DEPTH = 40;

/** One line of a hex dump. */
export interface HexRow {
  /** "00000010" */
  offset: string;
  /** "7b 22 61 22 3a 31 7d" in two groups of eight, padded to full width. */
  hex: string;
  /** Printable ASCII, "." for anything else. */
  ascii: string;
}

/** What the Body tab renders for one body. */
export interface BodyView {
  kind: 'json' | 'text' | 'hex' | 'empty';
  /** The text to show (json: re-indented; text: as captured, possibly cut to MAX_SHOWN_TEXT). */
  text?: string;
  /** Hex dump rows (hex kind). */
  rows?: HexRow[];
  /** Bytes of the body the record holds (the text's UTF-8 length, or the hex preview's length). */
  capturedBytes: number;
  /** True when the text was cut to MAX_SHOWN_TEXT or the hex dump to MAX_HEX_ROWS for display. */
  cutForDisplay: boolean;
}

/** True when a content type says JSON (application/json, application/problem+json, …). */
export function isJsonType(contentType: string | undefined): boolean {
  return !!contentType && /^\s*application\/([\w.+-]*\+)?json\b/i.test(contentType);
}

/** UTF-8 byte length of a string (without TextEncoder, which Node tests and browsers both have, but this is cheaper). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/**
 * Re-indents JSON text, or returns undefined when it is not valid JSON. The output keeps every
 * token exactly as sent (numbers beyond double precision, escapes, key order and duplicates),
 * which a JSON.parse/JSON.stringify round trip would not.
 */
export function prettyJson(text: string, indent = 2): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  try {
    JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  const out: string[] = [];
  let depth = 0;
  let i = 0;
  const pad = (d: number): string => '\n' + ' '.repeat(Math.min(d, MAX_INDENT_DEPTH) * indent);
  const n = trimmed.length;
  while (i < n) {
    const c = trimmed[i]!;
    if (c === '"') {
      // Copy the string token verbatim (escapes included).
      let j = i + 1;
      while (j < n && trimmed[j] !== '"') j += trimmed[j] === '\\' ? 2 : 1;
      out.push(trimmed.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '{' || c === '[') {
      // An empty container stays on one line.
      let j = i + 1;
      while (j < n && /\s/.test(trimmed[j]!)) j++;
      const close = c === '{' ? '}' : ']';
      if (trimmed[j] === close) {
        out.push(c + close);
        i = j + 1;
        continue;
      }
      depth++;
      out.push(c, pad(depth));
      i++;
      continue;
    }
    if (c === '}' || c === ']') {
      depth--;
      out.push(pad(depth), c);
      i++;
      continue;
    }
    if (c === ',') {
      out.push(',', pad(depth));
      i++;
      continue;
    }
    if (c === ':') {
      out.push(': ');
      i++;
      continue;
    }
    // Numbers, true, false, null: copy up to the next structural character or space.
    let j = i + 1;
    while (j < n && !/[\s,:{}[\]"]/.test(trimmed[j]!)) j++;
    out.push(trimmed.slice(i, j));
    i = j;
  }
  return out.join('');
}

/** A hex dump of a hex string ("7b2261…"): 16 bytes a row, offset | hex | ascii. Junk characters are skipped. */
export function hexDump(hex: string, maxRows = MAX_HEX_ROWS): HexRow[] {
  const clean = hex.replace(/[^0-9a-f]/gi, '');
  const bytes = Math.floor(clean.length / 2);
  const rows: HexRow[] = [];
  for (let off = 0; off < bytes && rows.length < maxRows; off += 16) {
    const cells: string[] = [];
    let ascii = '';
    for (let k = 0; k < 16; k++) {
      const b = off + k;
      if (b < bytes) {
        const pair = clean.slice(b * 2, b * 2 + 2).toLowerCase();
        cells.push(pair);
        const v = parseInt(pair, 16);
        ascii += v >= 0x20 && v < 0x7f ? String.fromCharCode(v) : '.';
      } else cells.push('  ');
    }
    rows.push({
      offset: off.toString(16).padStart(8, '0'),
      hex: `${cells.slice(0, 8).join(' ')}  ${cells.slice(8).join(' ')}`,
      ascii,
    });
  }
  return rows;
}

/** Decides how to show a body: JSON when it parses (by content type or by shape), text, or hex. */
export function bodyView(body: CapturedBody): BodyView {
  if (typeof body.text === 'string') {
    const full = body.text;
    const capturedBytes = utf8Length(full);
    if (full === '') return { kind: 'empty', capturedBytes, cutForDisplay: false };
    const looksJson = isJsonType(body.contentType) || /^\s*[[{]/.test(full);
    if (looksJson && full.length <= MAX_SHOWN_TEXT) {
      const pretty = prettyJson(full);
      if (pretty !== undefined) return { kind: 'json', text: pretty, capturedBytes, cutForDisplay: false };
    }
    const cut = full.length > MAX_SHOWN_TEXT;
    return { kind: 'text', text: cut ? full.slice(0, MAX_SHOWN_TEXT) : full, capturedBytes, cutForDisplay: cut };
  }
  if (typeof body.hex === 'string' && body.hex !== '') {
    const rows = hexDump(body.hex);
    const capturedBytes = Math.floor(body.hex.replace(/[^0-9a-f]/gi, '').length / 2);
    return { kind: 'hex', rows, capturedBytes, cutForDisplay: rows.length * 16 < capturedBytes };
  }
  return { kind: 'empty', capturedBytes: 0, cutForDisplay: false };
}
