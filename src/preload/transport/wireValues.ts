/**
 * Record field values the transport serializes in its own way: `lazy` values, computed when their
 * batch is sent (or their event written), and WireBlob bytes, sent as blob frames.
 */

import type { PreloadMessage } from '../../protocol/preload';

/** Sends a message ahead of the record being serialized, in the same batch (see `lazy`). */
export type SideChannel = (msg: PreloadMessage) => void;

/** The only fields that may hold a `lazy` value (resolveLazy looks at these, not at every field). */
const LAZY_FIELDS = ['initiator', 'reqHeaders', 'respHeaders'] as const;

/**
 * A field whose value is a function is computed here, when its batch is sent, rather than on the
 * request's path (stack formatting, header parsing): the program's request goes on at once, and
 * the work lands in a flush, often while the program is waiting on the network anyway. The
 * function may send a message the value refers to through `side`. A value that fails to compute
 * is dropped. Only the LAZY_FIELDS may be lazy.
 */
export function lazy<T>(compute: (side: SideChannel) => T | undefined): T {
  return compute as unknown as T;
}

export function resolveLazy(fields: Record<string, unknown>, side: SideChannel): void {
  for (const key of LAZY_FIELDS) {
    const value = fields[key];
    // Header bytes as undici holds them (HeaderCapture.flatField) go as text in JSON.
    if (Array.isArray(value) && value.some((v) => v instanceof Uint8Array)) fields[key] = value.map(headerText);
    if (typeof value !== 'function') continue;
    try {
      const v = (value as (side: SideChannel) => unknown)(side);
      if (v === undefined) delete fields[key];
      else fields[key] = v;
    } catch {
      delete fields[key];
    }
  }
}

/**
 * A header name or value as text, decoded as Node's http parser and undici decode header bytes
 * (Latin-1, one character per byte: fetch's "isomorphic decode"), so the trace shows what the
 * program read; a string is kept as it is.
 */
export function headerText(v: unknown): string {
  return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1') : String(v);
}

/** Where WireBlob.toJSON puts its bytes while a record is being serialized. */
type BlobSink = { blobs: Array<{ id: string; data: Buffer }>; next: () => string };
let blobSink: BlobSink | undefined;

/** Set by the transport around the serialization of a record. */
export function setBlobSink(sink: BlobSink | undefined): void {
  blobSink = sink;
}
/**
 * Bytes to send as a blob frame (see BlobMessage) instead of a JSON string: a captured body's
 * text is neither decoded to a JS string nor JSON-escaped here, only copied into the batch.
 * Serializes (as the blob's id) only inside the transport's flush; anywhere else it is left out.
 */
export class WireBlob {
  constructor(readonly data: Buffer) {}

  toJSON(): string | undefined {
    if (blobSink === undefined) return undefined;
    const id = blobSink.next();
    blobSink.blobs.push({ id, data: this.data });
    return id;
  }
}

/** Newlines in a text buffer (the transport counts the messages of a batch by them). */
export function countNewlines(buf: Buffer): number {
  let n = 0;
  let at = buf.indexOf(0x0a);
  while (at >= 0) {
    n++;
    at = buf.indexOf(0x0a, at + 1);
  }
  return n;
}
