/**
 * JSON documents too large for one string: V8 cannot hold a string over ~512 MiB (2^29 - 24
 * characters), which a trace reaches at about 600,000 requests. Writing produces exactly the
 * text of `JSON.stringify(value)` (a trace file) or `JSON.stringify(value, null, 1)` (a HAR, the
 * output of `nettrace show --json`) piece by piece; reading scans a top-level object byte by byte
 * and parses each element of its large arrays on its own.
 */

import { closeSync, writeSync } from 'node:fs';
import { openPrivate, openPrivateSync } from './privateFile';

/** Whether `v` is an object JSON.stringify would write member by member. */
function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as { toJSON?: unknown }).toJSON !== 'function';
}

function skipped(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

/**
 * A piece of JSON text that is part of a longer string: `text` without its first `from` and its
 * last `cutEnd` characters, all of them ASCII (brackets, newlines, spaces), so that the same counts
 * cut its UTF-8 bytes. Writing encodes `text` whole and cuts the bytes: slicing the string would
 * first flatten JSON.stringify's result into one more copy.
 */
interface Cut {
  text: string;
  from: number;
  cutEnd: number;
}

/** The string of a piece. */
function pieceText(p: string | Cut): string {
  return typeof p === 'string' ? p : p.text.slice(p.from, p.text.length - p.cutEnd);
}

/**
 * Yields the text of `JSON.stringify(value, null, 1)` in pieces: arrays and objects down to
 * `streamDepth` are written member by member, deeper values with one JSON.stringify each.
 */
export function* jsonPieces(value: unknown, streamDepth: number, depth = 0): Generator<string> {
  for (const p of jsonParts(value, { streamDepth, indent: true }, depth)) yield pieceText(p);
}

/** How jsonParts writes a document. */
interface PartsOptions {
  /** Arrays and objects down to this depth are written member by member. */
  streamDepth: number;
  /** Indented by one space per level (`JSON.stringify(value, null, 1)`), else compact (`JSON.stringify(value)`). */
  indent: boolean;
  /** What an element of the array under the top-level member `key` is written as (default itself). */
  element?: (key: string, value: unknown) => unknown;
}

/** jsonPieces, with the pieces that are part of a longer string as Cuts; `key` is the top-level member being written. */
function* jsonParts(value: unknown, o: PartsOptions, depth: number, key = ''): Generator<string | Cut> {
  const { streamDepth, indent } = o;
  if (depth < streamDepth && Array.isArray(value)) {
    if (value.length === 0) {
      yield '[]';
      return;
    }
    if (depth + 1 === streamDepth) {
      yield* batchedElements(value, depth, o, key);
      return;
    }
    yield '[';
    for (let i = 0; i < value.length; i++) {
      if (indent) yield pad(depth + 1);
      const v: unknown = value[i];
      if (skipped(v)) yield 'null';
      else yield* jsonParts(v, o, depth + 1, key);
      if (i < value.length - 1) yield ',';
    }
    yield indent ? pad(depth) + ']' : ']';
    return;
  }
  if (depth < streamDepth && isPlainObject(value)) {
    const keys = Object.keys(value).filter((k) => !skipped(value[k]));
    if (keys.length === 0) {
      yield '{}';
      return;
    }
    yield '{';
    for (let i = 0; i < keys.length; i++) {
      yield indent ? pad(depth + 1) + JSON.stringify(keys[i]) + ': ' : JSON.stringify(keys[i]) + ':';
      yield* jsonParts(value[keys[i]], o, depth + 1, depth === 0 ? keys[i] : key);
      if (i < keys.length - 1) yield ',';
    }
    yield indent ? pad(depth) + '}' : '}';
    return;
  }
  if (!indent || depth === 0 || typeof value !== 'object' || value === null) {
    yield JSON.stringify(value, null, indent ? 1 : undefined) ?? 'null';
    return;
  }
  // A value at `depth` is indented as JSON.stringify indents it at that depth: stringified inside
  // `depth` one-element arrays, whose brackets are then cut off — one pass in V8's serializer
  // instead of a second pass over the text replacing every newline.
  let wrapped: unknown = value;
  for (let d = 0; d < depth; d++) wrapped = [wrapped];
  // Each wrapper writes "[\n" + d spaces before its element and "\n" + (d - 1) spaces + "]" after.
  const cut = wrapperOf(depth);
  yield { text: JSON.stringify(wrapped, null, 1), from: cut, cutEnd: cut - depth };
}

/**
 * Elements of a streamed array stringified per call: bounds the string one call makes (a batch of
 * requests stays under V8's large-object size, so it dies young).
 */
const BATCH = 32;

/**
 * The text of `value` (a non-empty array at `depth` whose elements are written whole) as
 * jsonParts would write it element by element, but with one JSON.stringify per BATCH elements:
 * each batch is stringified as an array at `depth` (wrapped as above when indented) and its
 * brackets cut off. Each element is first passed through `o.element`, when given.
 */
function* batchedElements(value: readonly unknown[], depth: number, o: PartsOptions, key: string): Generator<string | Cut> {
  const cut = o.indent ? wrapperOf(depth) : 0;
  const map = o.element;
  yield '[';
  for (let i = 0; i < value.length; i += BATCH) {
    let batch: readonly unknown[] = value.length <= BATCH && !map ? value : value.slice(i, i + BATCH);
    if (map) batch = batch.map((v) => (v === undefined ? v : map(key, v)));
    if (i > 0) yield ',';
    if (!o.indent) {
      yield { text: JSON.stringify(batch), from: 1, cutEnd: 1 };
      continue;
    }
    let wrapped: unknown = batch;
    for (let d = 0; d < depth; d++) wrapped = [wrapped];
    // The batch's "[" and its closing "\n" + depth spaces + "]" go with the wrappers' text.
    yield { text: JSON.stringify(wrapped, null, 1), from: cut + 1, cutEnd: cut + 2 };
  }
  yield o.indent ? pad(depth) + ']' : ']';
}

/** A newline and `d` spaces of indentation. */
function pad(d: number): string {
  return '\n' + ' '.repeat(d);
}

/** Length of the text `depth` one-element arrays put before their element. */
const wrapperLengths: number[] = [0];
function wrapperOf(depth: number): number {
  // "[\n " + "[\n  " + … : the opening bracket, a newline and the element's indentation.
  for (let d = wrapperLengths.length; d <= depth; d++) wrapperLengths[d] = wrapperLengths[d - 1] + 2 + d;
  return wrapperLengths[depth];
}

/** Bytes gathered before a write (writeJsonFile): one buffer, reused for the whole file. */
const WRITE_BUFFER = 1 << 20;

/** How writeJsonFile writes a document (see PartsOptions). */
export interface WriteJsonOptions {
  /** Indented by one space per level (default), else compact. */
  indent?: boolean;
  /** What an element of the array under the top-level member `key` is written as (default itself). */
  element?: (key: string, value: unknown) => unknown;
  /**
   * Written with synchronous calls at any size (a command's last step: `nettrace run` once the
   * program ended), not streamed through fs/promises to leave the loop free (the extension host).
   */
  sync?: boolean;
}

/**
 * Writes `value` as `JSON.stringify(value, null, 1) + "\n"` (compact with `indent: false`) to
 * `path`, streaming (see jsonPieces), readable only by its owner and never through a symlink
 * (openPrivate). Each stringified part is encoded to UTF-8 once, straight from V8's result (see
 * Cut), into one buffer written when full and then reused: a new Buffer per part was external
 * memory the garbage collector had to account for, about 1.5 KB per request.
 */
export async function writeJsonFile(path: string, value: unknown, streamDepth: number, options: WriteJsonOptions = {}): Promise<void> {
  const buf = Buffer.allocUnsafe(WRITE_BUFFER);
  let used = 0;
  /** Adds a part (a Cut less its first `from` and last `cutEnd` characters, ASCII: as many bytes); false when it does not fit. */
  const put = (part: string | Cut): boolean => {
    const text = typeof part === 'string' ? part : part.text;
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (used + text.length * 3 > WRITE_BUFFER) return false;
    const n = buf.write(text, used);
    const from = typeof part === 'string' ? 0 : part.from;
    const cutEnd = typeof part === 'string' ? 0 : part.cutEnd;
    if (from > 0) buf.copyWithin(used, used + from, used + n - cutEnd);
    used += n - from - cutEnd;
    return true;
  };
  const parts = jsonParts(value, { streamDepth, indent: options.indent !== false, element: options.element }, 0)[Symbol.iterator]();
  // The first buffer is filled before the file is opened: a document that fits in it (a short
  // run's trace) is written at once, in three system calls and no thread pool round trips (the
  // exit of `nettrace run`, issue 52); a larger one is streamed.
  let next = parts.next();
  while (!next.done && put(next.value)) next = parts.next();
  const whole = next.done && put('\n');
  /** The byte ranges left to write, in order; the buffer is reused, so each is written before the next is asked for. */
  function* ranges(): Generator<[Buffer, number, number]> {
    if (!whole) {
      const rest = function* () {
        for (; !next.done; next = parts.next()) yield next.value;
        yield '\n';
      };
      for (const part of rest()) {
        if (put(part)) continue;
        yield [buf, 0, used];
        used = 0;
        if (put(part)) continue;
        // A part larger than the buffer is written on its own.
        const cut = typeof part === 'string' ? { text: part, from: 0, cutEnd: 0 } : part;
        const b = Buffer.from(cut.text);
        yield [b, cut.from, b.length - cut.from - cut.cutEnd];
      }
    }
    yield [buf, 0, used];
  }
  if (whole || options.sync) {
    const fd = openPrivateSync(path);
    try {
      for (const [b, offset, length] of ranges()) for (let done = 0; done < length;) done += writeSync(fd, b, offset + done, length - done);
    } finally {
      closeSync(fd);
    }
    return;
  }
  const fh = await openPrivate(path);
  try {
    for (const [b, offset, length] of ranges())
      for (let done = 0; done < length;) done += (await fh.write(b, offset + done, length - done)).bytesWritten;
  } finally {
    await fh.close();
  }
}

/** A JSON syntax problem found by JsonObjectScanner; `truncated` when the input just ended. */
export class JsonScanError extends Error {
  override readonly name = 'JsonScanError';
  constructor(
    message: string,
    readonly offset: number,
    readonly truncated = false,
  ) {
    super(message);
  }
}

/**
 * How deep a member's value may nest (arrays and objects in one another). A trace's records nest a
 * few levels; a file nested 200,000 levels deep is valid JSON that JSON.stringify and every
 * recursive reader would end with "Maximum call stack size exceeded": it is refused when read.
 */
export const MAX_JSON_DEPTH = 256;

/** A value nests deeper than MAX_JSON_DEPTH. */
export class JsonTooDeepError extends JsonScanError {
  constructor(offset: number) {
    super(`a value is nested more than ${MAX_JSON_DEPTH} levels deep`, offset);
  }
}

/**
 * The offset of the first `[` or `{` of `text` nested deeper than `max` (the outermost value is
 * level 1), or -1: a scan of the text without parsing it (strings skipped).
 */
export function tooDeepAt(text: string, max = MAX_JSON_DEPTH + 1): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // To the closing quote: a backslash escapes the next character.
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return i;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return -1;
}

/** What JsonObjectScanner reports. */
export interface JsonScanHandler {
  /** The first key of the object, before its value is read (throw to stop early). */
  firstKey?(key: string): void;
  /** A member whose value is not streamed: parsed whole. */
  field(key: string, value: unknown): void;
  /** One element of a streamed array member. */
  element(key: string, value: unknown): void;
  /** A streamed array member starts. */
  arrayStart?(key: string): void;
  /** Whether to parse an element (its raw bytes); a skipped one is not reported. Default: all. */
  keep?(key: string, raw: readonly Buffer[]): boolean;
}

const enum S {
  Begin,
  KeyOrEnd,
  Key,
  Colon,
  ValueStart,
  Value,
  AfterField,
  ElemOrEnd,
  Elem,
  AfterElem,
  Done,
}

function isWs(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * A push parser for one top-level JSON object: feed it bytes with `push()`, then `end()`. Members
 * named in `streamKeys` whose value is an array have each element parsed on its own; other members
 * are parsed whole. No value may exceed `maxValueBytes` (each is held once as bytes and once as
 * a string while parsed).
 */
export class JsonObjectScanner {
  private state = S.Begin;
  private offset = 0;
  private key = '';
  private keys = 0;
  private needSep = false;
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** Value scanner state. */
  private depth = 0;
  private inStr = false;
  private esc = false;
  private primitive = false;
  private inArray = false;

  constructor(
    private readonly handler: JsonScanHandler,
    private readonly streamKeys: ReadonlySet<string>,
    private readonly maxValueBytes = 256 * 1024 * 1024,
  ) {}

  /** Bytes consumed so far. */
  get bytes(): number {
    return this.offset;
  }

  private fail(message: string, at: number): never {
    throw new JsonScanError(message, at);
  }

  private keep(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.partBytes += to - from;
    if (this.partBytes > this.maxValueBytes) {
      const what = this.inArray ? `an element of "${this.key}"` : `the value of "${this.key}"`;
      this.fail(`${what} is larger than ${Math.round(this.maxValueBytes / 1048576)} MiB`, this.offset + from);
    }
    this.parts.push(Buffer.from(chunk.subarray(from, to)));
  }

  private take(): string {
    const b = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
    this.parts = [];
    this.partBytes = 0;
    return b.toString('utf8');
  }

  private startValue(): void {
    this.depth = 0;
    this.inStr = false;
    this.esc = false;
    this.primitive = false;
    this.parts = [];
    this.partBytes = 0;
  }

  /**
   * The index of the quote that ends the string being scanned, from `from` on, or -1 when the
   * chunk ends first (then `esc` says whether its last byte left an escape open).
   */
  private closingQuote(chunk: Buffer, from: number): number {
    let j = from;
    for (;;) {
      const q = chunk.indexOf(0x22, j);
      const stop = q < 0 ? chunk.length : q;
      // Backslashes right before the quote (or the chunk's end) decide whether it is escaped.
      let k = stop - 1;
      let bs = 0;
      while (k >= j && chunk[k] === 0x5c) {
        bs++;
        k--;
      }
      if (k < j && this.esc) bs++;
      this.esc = false;
      if (q < 0) {
        this.esc = bs % 2 === 1;
        return -1;
      }
      if (bs % 2 === 0) return q;
      j = q + 1;
    }
  }

  private finishValue(at: number): void {
    if (this.state === S.Elem && this.handler.keep && !this.handler.keep(this.key, this.parts)) {
      this.parts = [];
      this.partBytes = 0;
      this.state = S.AfterElem;
      return;
    }
    const text = this.take();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      this.fail((e as Error).message.split('\n')[0], at);
    }
    if (this.state === S.Elem) {
      this.handler.element(this.key, value);
      this.state = S.AfterElem;
    } else {
      this.handler.field(this.key, value);
      this.state = S.AfterField;
    }
  }

  /** Reads a key up to its closing quote (possibly across chunks); returns where to go on. */
  private scanKey(chunk: Buffer, i: number): number {
    const n = chunk.length;
    let j = i;
    for (; j < n; j++) {
      const c = chunk[j];
      if (this.esc) this.esc = false;
      else if (c === 0x5c) this.esc = true;
      else if (c === 0x22) break;
    }
    if (j === n) {
      this.keep(chunk, i, n);
      return n;
    }
    this.keep(chunk, i, j + 1);
    try {
      this.key = JSON.parse(this.take()) as string;
    } catch {
      this.fail('a key is not a valid string', this.offset + j);
    }
    if (this.keys++ === 0) this.handler.firstKey?.(this.key);
    this.state = S.Colon;
    return j + 1;
  }

  /** Reads a value (or an array element) to its end, possibly across chunks; returns where to go on. */
  private scanValue(chunk: Buffer, i: number): number {
    const n = chunk.length;
    const start = i;
    let j = i;
    let done = false;
    for (; j < n; j++) {
      if (this.inStr) {
        const q = this.closingQuote(chunk, j);
        if (q < 0) {
          j = n;
          break;
        }
        j = q;
        this.inStr = false;
        if (this.depth === 0 && !this.primitive) {
          j++;
          done = true;
          break;
        }
        continue;
      }
      const c = chunk[j];
      if (this.primitive) {
        if (c === 0x2c || c === 0x7d || c === 0x5d || isWs(c)) {
          done = true;
          break;
        }
        continue;
      }
      if (c === 0x22) this.inStr = true;
      else if (c === 0x7b || c === 0x5b) {
        if (++this.depth > MAX_JSON_DEPTH) throw new JsonTooDeepError(this.offset + j);
      } else if (c === 0x7d || c === 0x5d) {
        if (this.depth === 0) this.fail(`Unexpected token ${String.fromCharCode(c)}`, this.offset + j);
        this.depth--;
        if (this.depth === 0) {
          j++;
          done = true;
          break;
        }
      } else if (this.depth === 0 && !isWs(c)) this.primitive = true;
    }
    this.keep(chunk, start, j);
    if (!done) return n;
    this.finishValue(this.offset + j);
    return j;
  }

  /** Feeds the next bytes. Throws JsonScanError on a syntax error. */
  push(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    while (i < n) {
      const b = chunk[i];
      switch (this.state) {
        case S.Begin:
          if (isWs(b)) break;
          if (this.offset + i === 0 && b === 0xef && chunk[i + 1] === 0xbb && chunk[i + 2] === 0xbf) {
            i += 2;
            break;
          }
          if (b !== 0x7b) this.fail('not an object', this.offset + i);
          this.state = S.KeyOrEnd;
          this.needSep = false;
          break;
        case S.KeyOrEnd:
        case S.AfterField:
          if (isWs(b)) break;
          if (b === 0x7d) {
            if (this.state === S.KeyOrEnd && this.needSep) this.fail('Unexpected token }', this.offset + i);
            this.state = S.Done;
            break;
          }
          if (this.state === S.AfterField) {
            if (b !== 0x2c) this.fail(`Unexpected token ${String.fromCharCode(b)} after a value`, this.offset + i);
            this.state = S.KeyOrEnd;
            this.needSep = true;
            break;
          }
          if (b !== 0x22) this.fail(`Unexpected token ${String.fromCharCode(b)} where a key was expected`, this.offset + i);
          this.state = S.Key;
          this.startValue();
          this.inStr = true;
          this.keep(chunk, i, i + 1);
          break;
        case S.Key:
          i = this.scanKey(chunk, i);
          continue;
        case S.Colon:
          if (isWs(b)) break;
          if (b !== 0x3a) this.fail(`Unexpected token ${String.fromCharCode(b)} where ":" was expected`, this.offset + i);
          this.state = S.ValueStart;
          break;
        case S.ValueStart:
          if (isWs(b)) break;
          if (b === 0x5b && this.streamKeys.has(this.key)) {
            this.handler.arrayStart?.(this.key);
            this.inArray = true;
            this.state = S.ElemOrEnd;
            this.needSep = false;
            break;
          }
          this.inArray = false;
          this.state = S.Value;
          this.startValue();
          continue; // the value scanner reads this byte
        case S.ElemOrEnd:
        case S.AfterElem:
          if (isWs(b)) break;
          if (b === 0x5d) {
            if (this.needSep && this.state === S.ElemOrEnd) this.fail('Unexpected token ]', this.offset + i);
            this.inArray = false;
            this.state = S.AfterField;
            break;
          }
          if (this.state === S.AfterElem) {
            if (b !== 0x2c) this.fail(`Unexpected token ${String.fromCharCode(b)} in "${this.key}"`, this.offset + i);
            this.state = S.ElemOrEnd;
            this.needSep = true;
            break;
          }
          this.state = S.Elem;
          this.startValue();
          continue;
        case S.Value:
        case S.Elem:
          i = this.scanValue(chunk, i);
          continue;
        case S.Done:
          if (!isWs(b)) this.fail(`Unexpected non-whitespace character after JSON`, this.offset + i);
          break;
      }
      i++;
    }
    this.offset += n;
  }

  /** The input ended: throws JsonScanError (truncated) unless the object was complete. */
  end(): void {
    if ((this.state === S.Value || this.state === S.Elem) && this.primitive && !this.inStr) {
      this.finishValue(this.offset);
    }
    if (this.state !== S.Done) throw new JsonScanError('Unexpected end of JSON input', this.offset, true);
  }

  /** True once nothing but whitespace has been read. */
  get empty(): boolean {
    return this.state === S.Begin;
  }
}
