/**
 * Header capture with redaction. Headers arrive in several shapes (the raw header block Node's
 * http client sends, `rawHeaders` arrays, undici's string or Buffer arrays). What the preload
 * sends is one of the WireHeaders forms: when capturing values and nothing needs redacting or
 * capping, the block or array the program already holds, as is (the collector parses it);
 * otherwise `[name, value]` pairs, with secrets replaced by "<redacted>".
 */

import { headerBlockPairs, MAX_HEADERS, MAX_VALUE, REDACTED, type WireHeaders } from '../trace/contract/wire';
import { sameLower, type SecretNames } from '../trace/contract/redact';
import type { HeaderCaptureMode, HeaderPair } from '../trace/contract/types';
import { lazy } from './transport/wireValues';
import { headerText } from './transport/wireValues';

/** A header block longer than this is parsed here (and capped) rather than sent whole. */
const MAX_RAW_BLOCK = 16384;

/**
 * A byte block up to this long is read as text for the quick check (HeaderCapture.secretIn): one
 * argument per byte to String.fromCharCode, well within the stack.
 */
const MAX_QUICK_BLOCK = 2048;

/**
 * The first calls of HeaderCapture.stringBlock build the block even when the list repeats. V8
 * allocates a function's feedback only after its first 8 calls (lazy feedback allocation): a path
 * that ran only before then has none, and the optimized code deoptimizes the first time it is
 * taken again (an http response's Date header changes once a second: one deopt, and one more
 * TurboFan compile of the hook that inlined it, per process). Building for the first calls gives
 * the build path its feedback.
 */
export const UNCACHED_CALLS = 16;

/** Turns header data into WireHeaders according to the capture mode and redaction set. */
export class HeaderCapture {
  /** Finds a line of a header block whose name may be redacted (the quick check). */
  private readonly redactedLine: RegExp;
  /** The items stringBlock answered last (a copy: the caller's array may change), and its answer. */
  private lastItems: readonly unknown[] = [];
  private lastBlock: string | undefined;
  /** Calls left before stringBlock answers a repeated list from its cache (see UNCACHED_CALLS). */
  private uncachedCalls = UNCACHED_CALLS;

  constructor(
    readonly mode: HeaderCaptureMode,
    /** The secret names, by name and by pattern (src/trace/contract/redact.ts). */
    private readonly redacted: SecretNames,
  ) {
    this.redactedLine = redacted.headerLine();
  }

  /**
   * Whether a name (text, or the bytes undici holds) is redacted, compared case-insensitively in
   * place: no string is made. (The hot block checks call SecretNames.hasText / hasBytes, one type each.)
   */
  private isRedacted(name: string | Uint8Array): boolean {
    return this.redacted.has(name);
  }

  private pair(name: string, value: string, out: HeaderPair[]): void {
    if (out.length >= MAX_HEADERS) return;
    if (this.mode === 'names') {
      out.push([name]);
      return;
    }
    if (this.isRedacted(name)) out.push([name, REDACTED]);
    else out.push([name, value.length > MAX_VALUE ? value.slice(0, MAX_VALUE) + '…' : value]);
  }

  /**
   * A record's headers field for a header block (Node's http client: "GET / HTTP/1.1\r\nHost:
   * x\r\n\r\n"): the block itself when it can go as is (a quick check), otherwise a `lazy` value
   * that parses it (with redaction) when its batch is sent.
   */
  blockField(block: string): WireHeaders | undefined {
    if (this.mode === 'none') return undefined;
    if (this.mode === 'values' && block.length <= MAX_RAW_BLOCK && !this.redactedLine.test(block)) return block;
    return lazy(() => this.blockPairs(block));
  }

  /**
   * Like blockField, for a flat array (which must not change until its batch is sent). A flat
   * array of Buffers (undici's response headers) goes as is too: the event encoder copies the
   * bytes without making strings of them, the JSON path decodes them (see resolveLazy).
   */
  flatField(flat: ReadonlyArray<string | Buffer | string[]>): WireHeaders | undefined {
    if (this.mode === 'none') return undefined;
    if (this.mode === 'values' && this.sendableAsIs(flat)) return flat as string[];
    return lazy(() => this.flatPairs(flat));
  }

  /**
   * undici's response headers (a flat array of Buffers) as the bytes they were parsed from, when
   * they can go as one block (RecordWriter.headerBytes): one copy instead of one per name and
   * value. On Node 20–24 undici's parser hands each name and value as a view of the socket's
   * chunk, so a head that arrived in one chunk lies between the first name and the last value,
   * "Name: value" lines joined by CRLF. Undefined — send it as a list (flatField) — when it does
   * not: a view of another chunk or a copy (a head split across reads, a folded line), a gap that
   * is not one CRLF, a value beginning or ending with a byte the block form trims (undici keeps a
   * trailing space or tab, and a no-break space anywhere), a redacted name, or past the caps.
   */
  byteBlock(flat: readonly unknown[]): Uint8Array | undefined {
    const n = flat.length;
    if (this.mode !== 'values' || n === 0 || n > 2 * MAX_HEADERS || n % 2 !== 0) return undefined;
    const first = flat[0];
    if (!(first instanceof Uint8Array)) return undefined;
    const ab = first.buffer;
    const start = first.byteOffset;
    let end = start;
    for (let i = 0; i < n; i += 2) {
      const name = flat[i];
      const value = flat[i + 1];
      if (!(name instanceof Uint8Array) || !(value instanceof Uint8Array) || name.buffer !== ab || value.buffer !== ab) return undefined;
      const at = name.byteOffset;
      const len = value.length;
      if ((i !== 0 && at !== end + 2) || value.byteOffset <= at + name.length || len > MAX_VALUE) return undefined;
      if (len !== 0 && (trimmed(value[0]!) || trimmed(value[len - 1]!))) return undefined;
      end = value.byteOffset + len;
    }
    if (end - start > MAX_RAW_BLOCK) return undefined;
    const block = new Uint8Array(ab, start, end - start);
    return this.secretIn(block, flat) ? undefined : block;
  }

  /**
   * Whether a name of a byte block (byteBlock's, its names at the even places of `flat`) is
   * redacted. A block of up to MAX_QUICK_BLOCK bytes is first read as Latin-1 text (the bytes'
   * characters, as the names are compared) by the quick check blockField uses, which finds every
   * line whose name may be secret (and a few more): most blocks have none, and then no name is
   * compared here (no loop of ours over each name's bytes for V8 to optimize).
   */
  private secretIn(block: Uint8Array, flat: readonly unknown[]): boolean {
    if (block.length <= MAX_QUICK_BLOCK && !this.redactedLine.test('\n' + String.fromCharCode.apply(null, block as unknown as number[]))) {
      return false;
    }
    for (let i = 0; i < flat.length; i += 2) if (this.redacted.hasBytes(flat[i] as Uint8Array)) return true;
    return false;
  }

  /**
   * A flat [name, value, …] list of strings (Node's `rawHeaders`, undici's request headers) as
   * one header block, "\r\nName: value" lines (the block form the collector parses): one string,
   * copied into the event in one call, instead of an interned name and a string per header (the
   * names Node's parser makes are new strings every response: interning them hashes each).
   * Undefined — send it as a list (flatField) — when the block would not read back the same: not
   * all strings, a value that begins or ends with a character the block form trims, a redacted
   * name, or past the caps. The caller vouches that no value holds a CR or LF (a strict parser's,
   * or undici's validated request headers).
   */
  stringBlock(flat: readonly unknown[]): string | undefined {
    const n = flat.length;
    if (this.mode !== 'values' || n === 0 || n > 2 * MAX_HEADERS || n % 2 !== 0) return undefined;
    // A program's requests mostly repeat their headers (undici's defaults are the same strings
    // every time): the same items give the same answer, without building the block again.
    const last = this.lastItems;
    if (this.uncachedCalls !== 0) this.uncachedCalls--;
    else if (n === last.length) {
      let i = 0;
      while (i < n && flat[i] === last[i]) i++;
      if (i === n) return this.lastBlock;
    }
    const block = this.buildBlock(flat);
    this.lastItems = flat.slice();
    this.lastBlock = block;
    return block;
  }

  /** stringBlock's block, built. */
  private buildBlock(flat: readonly unknown[]): string | undefined {
    let block = '';
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i];
      const value = flat[i + 1];
      if (typeof name !== 'string' || typeof value !== 'string') return undefined;
      const len = value.length;
      if (
        len > MAX_VALUE ||
        (len !== 0 && (trimmed(value.charCodeAt(0)) || trimmed(value.charCodeAt(len - 1)))) ||
        this.redacted.hasText(name)
      ) {
        return undefined;
      }
      block += '\r\n' + name + ': ' + value;
    }
    return block.length > MAX_RAW_BLOCK ? undefined : block;
  }

  /** From a flat [name, value, name, value, ...] array of strings or Buffers, at once. */
  fromFlat(flat: ReadonlyArray<string | Buffer | string[]>): WireHeaders | undefined {
    if (this.mode === 'none') return undefined;
    if (this.mode === 'values' && this.sendableAsIs(flat, false)) return flat as string[];
    return this.flatPairs(flat);
  }

  /** `[name, value]` pairs (redacted, capped) of a flat [name, value, ...] array; undefined in `none` mode. */
  pairsOf(flat: ReadonlyArray<string | Buffer | string[]>): HeaderPair[] | undefined {
    return this.mode === 'none' ? undefined : this.flatPairs(flat);
  }

  private blockPairs(block: string): HeaderPair[] {
    const out: HeaderPair[] = [];
    headerBlockPairs(block, (name, value) => this.pair(name, value, out));
    return out;
  }

  private flatPairs(flat: ReadonlyArray<string | Buffer | string[]>): HeaderPair[] {
    const out: HeaderPair[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const value = flat[i + 1];
      const values = Array.isArray(value) ? value : [value];
      for (const v of values) this.pair(headerText(flat[i]), headerText(v), out);
    }
    return out;
  }

  /**
   * True when a flat array is all strings (or, with `bytes`, all strings or Buffers), within the
   * caps, with no redacted name.
   */
  private sendableAsIs(flat: ReadonlyArray<unknown>, bytes = true): boolean {
    if (flat.length > 2 * MAX_HEADERS || flat.length % 2 !== 0) return false;
    for (let i = 0; i < flat.length; i += 2) {
      const name = flat[i];
      const value = flat[i + 1];
      if (!isText(name, bytes) || !isText(value, bytes) || value.length > MAX_VALUE || this.isRedacted(name)) return false;
    }
    return true;
  }
}

/**
 * Whether a header name (text or bytes) is `lower` (a lower-case name), ignoring ASCII case, in
 * place: no string is made, and a name of another length is ruled out at once.
 */
export function isHeaderName(name: string | Uint8Array, lower: string): boolean {
  return name.length === lower.length && sameLower(name, lower);
}

/**
 * A character (or Latin-1 byte) that String#trim removes, as the block form's reader does at both
 * ends of a value: the ASCII whitespace and controls up to space, and U+00A0.
 */
function trimmed(c: number): boolean {
  return c <= 0x20 || c === 0xa0;
}

/** A string, or (with `bytes`) a Buffer. */
function isText(v: unknown, bytes: boolean): v is string | Uint8Array {
  return typeof v === 'string' || (bytes && v instanceof Uint8Array);
}

/** What asksUpgrade reads of a ClientRequest. */
interface UpgradeAsker {
  _header?: string | null;
  getHeader(name: string): unknown;
}

/** Node's symbol for a request's header table (`kOutHeaders`), found on the first request. */
let outHeaders: symbol | null | undefined;

/**
 * True when the request has an Upgrade header. Reads Node's header table (name → [name, value],
 * lower-case keys) directly: `getHeader()` lower-cases its argument on every call, and this runs
 * for every request.
 */
export function asksUpgrade(req: UpgradeAsker): boolean {
  if (outHeaders === undefined) outHeaders = Object.getOwnPropertySymbols(req).find((k) => k.description === 'kOutHeaders') ?? null;
  if (outHeaders === null) return req.getHeader('upgrade') !== undefined;
  const table = (req as unknown as Record<symbol, Record<string, unknown> | null | undefined>)[outHeaders];
  // Headers given as an array are written straight into the header block, with no table.
  if (table == null) return typeof req._header === 'string' && /\r\nupgrade:/i.test(req._header);
  return table.upgrade !== undefined;
}
