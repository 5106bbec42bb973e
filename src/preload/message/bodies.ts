/**
 * Request/response body capture (the `bodies` option, off by default): keeps at most `cap` bytes
 * of a message as text when its content type is textual and not content-encoded, otherwise as a
 * hex preview, with a truncation flag. Copies only what it keeps, so a large download costs
 * nothing past the cap.
 */

import type { CapturedBody } from '../../trace/contract/types';
import type { Tracer } from '../tracer';
import { WireBlob } from '../transport/wireValues';

/** Bytes kept per body. */
export function bodyCap(t: Tracer): number {
  return t.config.bodyMaxBytes;
}

/** A header value as Node's http gives it (`getHeader`, `headers`: a string, a number or a list) as text. */
export function headerValueText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) ? v.join(', ') : String(v);
}

/** A chunk's byte length as Node writes it (a string in its encoding, utf8 by default). */
export function byteLength(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  const n = (chunk as { byteLength?: unknown } | null | undefined)?.byteLength;
  return typeof n === 'number' ? n : 0;
}

/** Bytes of a binary (or encoded) body kept as hex. */
const HEX_PREVIEW = 512;

/** True when a content type is text a person can read in the panel. */
export function isTextual(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const ct = contentType.toLowerCase();
  return (
    ct.startsWith('text/') ||
    /^application\/([\w.+-]*\+)?(json|xml)\b/.test(ct) ||
    ct.startsWith('application/javascript') ||
    ct.startsWith('application/x-www-form-urlencoded') ||
    ct.startsWith('application/graphql') ||
    ct.startsWith('application/x-ndjson')
  );
}

/** Accumulates the first `cap` bytes of a body. */
export class BodyCapture {
  private chunks: Buffer[] = [];
  private kept = 0;
  /** Bytes seen in total (kept or not). */
  size = 0;

  constructor(private readonly cap: number) {}

  /** Adds a chunk (Buffer, Uint8Array or string with its encoding). */
  add(chunk: unknown, encoding?: BufferEncoding): void {
    let buf: Buffer;
    if (typeof chunk === 'string') buf = Buffer.from(chunk, encoding);
    else if (chunk instanceof Uint8Array) buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else return;
    this.size += buf.length;
    const room = this.cap - this.kept;
    if (room <= 0) return;
    const piece = buf.length > room ? buf.subarray(0, room) : buf;
    // Copy: the stream may reuse the chunk's memory after this call.
    this.chunks.push(Buffer.from(piece));
    this.kept += piece.length;
  }

  /** The captured body for the trace, given the message's content type and encoding. */
  result(contentType: string | undefined, contentEncoding: string | undefined): CapturedBody {
    const data = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.kept);
    const truncated = this.size > this.kept;
    const encoded = contentEncoding !== undefined && contentEncoding !== '' && contentEncoding.toLowerCase() !== 'identity';
    const out: CapturedBody = { size: this.size, truncated };
    if (contentType) out.contentType = contentType;
    if (encoded) out.contentEncoding = contentEncoding;
    if (isTextual(contentType) && !encoded) {
      // Sent as raw bytes (a blob frame); the collector decodes them into `text`.
      (out as CapturedBody & { textBlob?: WireBlob }).textBlob = new WireBlob(data);
    } else {
      out.hex = data.subarray(0, HEX_PREVIEW).toString('hex');
      if (data.length > HEX_PREVIEW) out.truncated = true;
    }
    return out;
  }
}
