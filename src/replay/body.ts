/**
 * A request body as the matcher compares it, told by its bytes alone (a recorded request's headers
 * may be kept as names only): JSON (an object or array that parses) as a JSON value, key order
 * ignored; a form (`a=1&b=2`, nothing else) as its parameters in any order; a multipart body as its
 * parts in order, its random boundary ignored; anything else as bytes. Ignored fields
 * (`--replay-ignore-field`) are taken out first, on both sides, so a body that differs only in
 * them compares equal.
 */

import { fingerprint, fromUtf8, looksLikeText, sameBytes } from './bytes';
import { ReplayInputError } from './types';
import { decodeComponent } from './url';

/** One part of a multipart body. */
export interface MultipartPart {
  name: string;
  filename?: string;
  type?: string;
  size: number;
  /** The content's fingerprint (./bytes.ts). */
  fp: string;
  /** The content as text, when it is short text (for the divergence's words). */
  value?: string;
}

/** A request body read for matching. `size`: its length in bytes. */
export type Body =
  | { kind: 'none'; size: 0 }
  | { kind: 'json'; value: unknown; canonical: string; size: number }
  | { kind: 'form'; pairs: Array<[string, string]>; canonical: string; size: number }
  | { kind: 'multipart'; parts: MultipartPart[]; canonical: string; size: number }
  | { kind: 'bytes'; bytes: Uint8Array; text: boolean; size: number };

/** Body fields to ignore: JSON paths as segments (`*` any key or index), and the names as written for form fields and parts. */
export interface IgnoredFields {
  paths: string[][];
  names: Set<string>;
}

export const NO_FIELDS: IgnoredFields = { paths: [], names: new Set() };

/**
 * Reads `--replay-ignore-field` paths: `requestId`, `meta.sentAt`, `items[0].nonce`, `items[*].id`
 * (`items.*.id` is the same), from the body's root. Throws ReplayInputError for a malformed one.
 */
export function ignoredFields(paths: readonly string[]): IgnoredFields {
  const out: IgnoredFields = { paths: [], names: new Set() };
  for (const text of paths) {
    const segments: string[] = [];
    const re = /([^.[\]]+)|\[(\d+|\*)\]|(\.)/gy;
    let m: RegExpExecArray | null;
    let expectName = true;
    while (re.lastIndex < text.length && (m = re.exec(text))) {
      if (m[3]) {
        if (expectName) break;
        expectName = true;
      } else {
        if (m[1] !== undefined && !expectName) break;
        segments.push(m[1] ?? m[2]);
        expectName = false;
      }
    }
    if (!text || re.lastIndex !== text.length || expectName) {
      throw new ReplayInputError(
        `The body field path "${text}" is not one: write names joined by dots, with [n] or [*] for array items (items[*].id).`,
      );
    }
    out.paths.push(segments);
    out.names.add(text);
  }
  return out;
}

/** The paths of `ignore` that continue below `key` at `depth`, or null when one of them ends there (the field is ignored). */
export function follow(paths: string[][], depth: number, key: string): string[][] | null {
  if (paths.length === 0) return paths;
  const next: string[][] = [];
  for (const p of paths) {
    if (p[depth] !== key && p[depth] !== '*') continue;
    if (p.length === depth + 1) return null;
    next.push(p);
  }
  return next;
}

/** A JSON value in one form: object keys sorted, ignored fields left out (an ignored array item kept as a placeholder so indexes stay). */
function canonicalJson(v: unknown, paths: string[][], depth: number): string {
  if (Array.isArray(v)) {
    const items = v.map((x, i) => {
      const sub = follow(paths, depth, String(i));
      return sub === null ? '"\u0000"' : canonicalJson(x, sub, depth + 1);
    });
    return '[' + items.join(',') + ']';
  }
  if (typeof v === 'object' && v !== null) {
    const parts: string[] = [];
    for (const k of Object.keys(v).sort()) {
      const sub = follow(paths, depth, k);
      if (sub !== null) parts.push(JSON.stringify(k) + ':' + canonicalJson((v as Record<string, unknown>)[k], sub, depth + 1));
    }
    return '{' + parts.join(',') + '}';
  }
  return JSON.stringify(v) ?? 'null';
}

/** Forms longer than this are compared as bytes (the test below is a regular expression). */
const FORM_MAX = 1 << 20;
const FORM = /^[^=&\s]+=[^&\s]*(?:&[^=&\s]+=[^&\s]*)*$/;

/** Reads a body (see the file comment). */
export function readBody(bytes: Uint8Array | undefined, ignore: IgnoredFields = NO_FIELDS): Body {
  if (!bytes || bytes.length === 0) return { kind: 'none', size: 0 };
  const size = bytes.length;
  let first = 0;
  while (first < size && (bytes[first] === 0x20 || bytes[first] === 0x0a || bytes[first] === 0x0d || bytes[first] === 0x09)) first++;
  if (bytes[first] === 0x7b || bytes[first] === 0x5b) {
    const text = fromUtf8(bytes);
    if (text !== undefined) {
      try {
        const value: unknown = JSON.parse(text);
        return { kind: 'json', value, canonical: canonicalJson(value, ignore.paths, 0), size };
      } catch {
        // not JSON: read on
      }
    }
  }
  if (bytes[0] === 0x2d && bytes[1] === 0x2d) {
    const parts = multipartParts(bytes);
    if (parts) {
      const kept = parts.filter((p) => !ignore.names.has(p.name));
      return {
        kind: 'multipart',
        parts,
        canonical: kept.map((p) => [p.name, p.filename ?? '', p.type ?? '', p.size, p.fp].join('\u0001')).join('\u0002'),
        size,
      };
    }
  }
  if (size <= FORM_MAX && bytes.every((b) => b > 0x20 && b < 0x7f)) {
    const text = fromUtf8(bytes) as string;
    if (FORM.test(text)) {
      const pairs = text.split('&').map((p): [string, string] => {
        const eq = p.indexOf('=');
        return [decodeComponent(p.slice(0, eq)), decodeComponent(p.slice(eq + 1))];
      });
      const kept = pairs.filter(([name]) => !ignore.names.has(name));
      const canonical = kept
        .map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`)
        .sort()
        .join('&');
      return { kind: 'form', pairs, canonical, size };
    }
  }
  return { kind: 'bytes', bytes, text: looksLikeText(bytes), size };
}

/** The part of the matcher's key a body gives (its fingerprint: the bodies themselves are compared after, see sameBody). */
export function bodyKey(body: Body): string {
  switch (body.kind) {
    case 'none':
      return 'n';
    case 'bytes':
      return `b${body.size}:${fingerprint(body.bytes)}`;
    default:
      return body.kind[0] + fingerprint(body.canonical);
  }
}

/** Whether two bodies are the same for the matcher. */
export function sameBody(a: Body, b: Body): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'none') return true;
  if (a.kind === 'bytes') return sameBytes(a.bytes, (b as typeof a).bytes);
  return a.canonical === (b as typeof a).canonical;
}

/** A multipart body's parts, or undefined when the bytes are not a well-formed multipart body. */
function multipartParts(bytes: Uint8Array): MultipartPart[] | undefined {
  let eol = 2;
  while (eol < Math.min(bytes.length, 80) && bytes[eol] !== 0x0d) eol++;
  if (eol === 2 || eol >= bytes.length - 1 || bytes[eol + 1] !== 0x0a) return undefined;
  const delimiter = new Uint8Array([0x0d, 0x0a, ...bytes.subarray(0, eol)]);
  const parts: MultipartPart[] = [];
  let start = eol + 2;
  for (;;) {
    const at = indexOf(bytes, delimiter, start);
    if (at < 0) return undefined;
    const part = partOf(bytes.subarray(start, at));
    if (!part) return undefined;
    parts.push(part);
    const after = at + delimiter.length;
    if (bytes[after] === 0x2d && bytes[after + 1] === 0x2d) return parts;
    if (bytes[after] !== 0x0d || bytes[after + 1] !== 0x0a) return undefined;
    start = after + 2;
  }
}

function partOf(bytes: Uint8Array): MultipartPart | undefined {
  const end = indexOf(bytes, new Uint8Array([0x0d, 0x0a, 0x0d, 0x0a]), 0);
  const head = end < 0 ? undefined : fromUtf8(bytes.subarray(0, end));
  if (head === undefined) return undefined;
  const content = bytes.subarray(end + 4);
  const disposition = /^content-disposition:(.*)$/im.exec(head)?.[1] ?? '';
  const name = /\bname="([^"]*)"/i.exec(disposition)?.[1] ?? /\bname=([^;\s]+)/i.exec(disposition)?.[1] ?? '';
  const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
  const type = /^content-type:\s*(.*?)\s*$/im.exec(head)?.[1];
  const part: MultipartPart = { name, size: content.length, fp: fingerprint(content) };
  if (filename !== undefined) part.filename = filename;
  if (type) part.type = type;
  if (content.length <= 200 && looksLikeText(content)) part.value = fromUtf8(content);
  return part;
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  const last = hay.length - needle.length;
  outer: for (let i = hay.indexOf(first, from); i >= 0 && i <= last; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
