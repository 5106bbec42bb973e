/**
 * Header capture with redaction. Headers arrive in several shapes (the raw header block Node's
 * http client sends, `rawHeaders` arrays, undici's string or Buffer arrays); all become
 * `[name, value]` pairs per the capture mode, with secrets replaced by "<redacted>".
 */

import { REDACTED } from '../protocol/preload';
import type { HeaderCaptureMode, HeaderPair } from '../trace/types';

/** Caps that keep one hostile response from growing the debuggee's memory. */
const MAX_HEADERS = 200;
const MAX_VALUE = 4096;

/** Turns header data into pairs according to the capture mode and redaction set. */
export class HeaderCapture {
  constructor(
    readonly mode: HeaderCaptureMode,
    private readonly redacted: ReadonlySet<string>,
  ) {}

  private pair(name: string, value: string, out: HeaderPair[]): void {
    if (out.length >= MAX_HEADERS) return;
    if (this.mode === 'names') {
      out.push([name]);
      return;
    }
    const lower = name.toLowerCase();
    if (this.redacted.has(lower)) out.push([name, REDACTED]);
    else out.push([name, value.length > MAX_VALUE ? value.slice(0, MAX_VALUE) + '…' : value]);
  }

  /** From the header block Node's http client wrote ("GET / HTTP/1.1\r\nHost: x\r\n\r\n"). */
  fromHeaderBlock(block: string): HeaderPair[] | undefined {
    if (this.mode === 'none') return undefined;
    const out: HeaderPair[] = [];
    // Skip the request line; then one "Name: value" per CRLF-terminated line.
    let start = block.indexOf('\r\n');
    while (start >= 0) {
      start += 2;
      const end = block.indexOf('\r\n', start);
      const stop = end < 0 ? block.length : end;
      const colon = block.indexOf(':', start);
      if (colon > start && colon < stop) this.pair(block.slice(start, colon), block.slice(colon + 1, stop).trim(), out);
      start = end;
    }
    return out;
  }

  /** From a flat [name, value, name, value, ...] array of strings or Buffers. */
  fromFlat(flat: ReadonlyArray<string | Buffer | string[]>): HeaderPair[] | undefined {
    if (this.mode === 'none') return undefined;
    const out: HeaderPair[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const value = flat[i + 1];
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) this.pair(String(flat[i]), String(v), out);
    }
    return out;
  }

  /** From undici's request headers: a "name: value\r\n" string (undici 6) or a flat array. */
  fromUndici(headers: unknown): HeaderPair[] | undefined {
    if (this.mode === 'none') return undefined;
    if (typeof headers === 'string') return this.fromHeaderBlock('\r\n' + headers);
    if (Array.isArray(headers)) return this.fromFlat(headers);
    return [];
  }
}

/** Finds one header's value in captured-or-not flat raw headers, case-insensitively. */
export function findHeader(flat: ReadonlyArray<string | Buffer>, name: string): string | undefined {
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (String(flat[i]).toLowerCase() === name) return String(flat[i + 1]);
  }
  return undefined;
}
