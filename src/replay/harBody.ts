/**
 * A HAR response's body and head made consistent for a replay. HAR 1.2 keeps `content.text`
 * decoded ("HTTP decoded (decompressed & unchunked)"): Chromium's DevTools export and Playwright's
 * `recordHar` give the decompressed text while the head still says `Content-Encoding: gzip` and the
 * compressed `Content-Length`. Served as it is, a client would try to gunzip plain JSON. So when
 * the body is not in the encoding its head names, the `Content-Encoding` header is taken out and
 * `Content-Length` set to the body's length: the program gets what the browser's page got, the
 * decoded body (docs/replay.md, "HAR files"). A body still in its wire encoding (Polly.js's node
 * adapter keeps a compressed body as a JSON list of its chunks) is served with its head unchanged.
 */

import { fromBase64, fromHex, utf8 } from './bytes';
import { isRecord, num } from './shape';

/** A HAR response body read: its bytes, whether they are what came off the wire, and how long the whole body was. */
export interface HarBody {
  bytes: Uint8Array;
  /** The bytes are the wire's (still content-encoded), not the decoded text HAR 1.2 asks for. */
  wire: boolean;
  /** The body's length in all as the HAR says (`content.size`), when more than `bytes`. */
  size: number;
  /** The HAR holds no text for a body it says was there (saved without content, or a writer's cap). */
  missing: boolean;
  /** The text was not valid in its encoding (bad base64, hex or chunk list). */
  bad: boolean;
}

/**
 * Reads `response.content`. `polly`: the file was written by Polly.js, whose node adapter keeps a
 * content-encoded body as a JSON list of its chunks (base64 since Polly 6, hex before, when the
 * `encoding` field is absent), and marked binary bodies `_isBinary` (hex) before Polly 6.
 */
export function harBody(content: unknown, headers: Array<[string, string]>, polly: boolean): HarBody {
  const none: HarBody = { bytes: new Uint8Array(0), wire: false, size: 0, missing: false, bad: false };
  if (!isRecord(content)) return none;
  const size = num(content.size) ?? -1;
  const text = content.text;
  // No text: no body when the size says 0, else one the HAR does not hold (-1: its writer did not know the size).
  if (typeof text !== 'string') return { ...none, size: Math.max(size, 0), missing: size !== 0 };
  const encoding = typeof content.encoding === 'string' ? content.encoding.toLowerCase() : undefined;
  const codings = contentCodings(headers);
  if (polly && codings.length > 0 && text.startsWith('[')) {
    // A decoded body that is a JSON list of strings (Polly's fetch adapter keeps bodies decoded)
    // is told apart where the coding has a mark: chunks that do not start with it are not the wire's.
    const chunks = pollyChunks(text, encoding);
    const outer = codings[codings.length - 1];
    if (chunks && (looksEncoded(outer, chunks) || !MARKED.has(outer))) return { ...none, bytes: chunks, wire: true, size: chunks.length };
  }
  let bytes: Uint8Array | undefined;
  if (encoding === 'base64') bytes = fromBase64(text);
  else if (polly && content._isBinary === true) bytes = fromHex(text);
  else bytes = utf8(text);
  if (!bytes) return { ...none, size: Math.max(size, 0), missing: size > 0, bad: true };
  return { ...none, bytes, size: Math.max(size, bytes.length) };
}

/** Polly's chunk list (`["H4sIA…", …]`) joined, or undefined when the text is not one. */
function pollyChunks(text: string, encoding: string | undefined): Uint8Array | undefined {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(list) || !list.every((c) => typeof c === 'string')) return undefined;
  const parts: Uint8Array[] = [];
  for (const chunk of list as string[]) {
    const b = encoding === 'base64' ? fromBase64(chunk) : fromHex(chunk);
    if (!b) return undefined;
    parts.push(b);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The content codings a head names, in the order applied (`gzip`, `br`), `identity` left out. */
export function contentCodings(headers: ReadonlyArray<readonly [string, string]>): string[] {
  const out: string[] = [];
  for (const [name, value] of headers) {
    if (name.toLowerCase() !== 'content-encoding') continue;
    for (const c of value.split(',')) {
      const coding = c.trim().toLowerCase();
      if (coding && coding !== 'identity') out.push(coding);
    }
  }
  return out;
}

/** Content codings whose bodies start with a mark (looksEncoded). */
const MARKED = new Set(['gzip', 'x-gzip', 'deflate', 'zstd']);

/**
 * Whether bytes start as the coding `coding` writes them: gzip's magic number, a zlib header for
 * deflate, zstd's frame magic. Brotli has no magic number: a body said to be `br` is taken as
 * decoded, as HAR 1.2 says `text` is (Polly's chunk list, the one raw form, is known apart).
 */
export function looksEncoded(coding: string, bytes: Uint8Array): boolean {
  if (bytes.length < 2) return false;
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return bytes[0] === 0x1f && bytes[1] === 0x8b;
    case 'deflate':
      return (bytes[0] & 0x0f) === 8 && ((bytes[0] << 8) | bytes[1]) % 31 === 0;
    case 'zstd':
      return bytes.length >= 4 && bytes[0] === 0x28 && bytes[1] === 0xb5 && bytes[2] === 0x2f && bytes[3] === 0xfd;
    default:
      return false;
  }
}

/** What making a head consistent with its body changed. */
export interface HeadFix {
  headers: Array<[string, string]>;
  /** The content codings taken out (`gzip`), when the body was decoded. */
  decodedFrom?: string;
  /** `Content-Length` was set to the body's length. */
  lengthFixed: boolean;
}

/**
 * The head's headers consistent with a whole body `bytes` (see the file comment): without
 * `Content-Encoding` when the body is not in that encoding, and with a `Content-Length` (when it
 * has one) equal to the body's length. `bodiless`: a HEAD request or a 204/304 answer, whose
 * `Content-Length` describes a body that is not sent: left alone; nor is it when the body is not
 * `whole` (the exchange was reset or aborted after it).
 */
export function consistentHead(headers: Array<[string, string]>, body: HarBody, bodiless: boolean, whole = true): HeadFix {
  if (bodiless || body.missing || body.bad || body.bytes.length === 0) return { headers, lengthFixed: false };
  let out = headers;
  let decodedFrom: string | undefined;
  const codings = contentCodings(headers);
  if (codings.length > 0 && !body.wire && !looksEncoded(codings[codings.length - 1], body.bytes)) {
    decodedFrom = codings.join(', ');
    out = out.filter(([name]) => name.toLowerCase() !== 'content-encoding');
  }
  let lengthFixed = false;
  if (whole && body.size <= body.bytes.length) {
    const length = String(body.bytes.length);
    out = out.map((pair): [string, string] => {
      if (pair[0].toLowerCase() !== 'content-length' || pair[1].trim() === length) return pair;
      lengthFixed = true;
      return [pair[0], length];
    });
  }
  return { headers: out, lengthFixed, ...(decodedFrom ? { decodedFrom } : {}) };
}
