/**
 * Bytes for the replay core without Node's Buffer (src/replay/ runs wherever plain JavaScript
 * does): base64 both ways, UTF-8 through the platform's TextEncoder/TextDecoder, a 64-bit
 * fingerprint of bytes or text for the matcher's keys, and the description of a body in words.
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Each character code's 6-bit value; 64: padding or a space to skip; 255: not base64. */
const VALUES = new Uint8Array(256).fill(255);
for (let i = 0; i < 64; i++) VALUES[ALPHABET.charCodeAt(i)] = i;
// base64url's two letters, read as their base64 equivalents.
VALUES[45] = 62;
VALUES[95] = 63;
for (const c of [61, 32, 9, 10, 13]) VALUES[c] = 64;

/** Decodes base64 (or base64url; padding and white space allowed); undefined when it is not base64. */
export function fromBase64(text: string): Uint8Array | undefined {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let bits = 0;
  let padded = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const v = c < 256 ? VALUES[c] : 255;
    if (v === 255) return undefined;
    if (v === 64) {
      if (c === 61) padded = true;
      continue;
    }
    if (padded) return undefined;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

/** Encodes bytes as base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += ALPHABET[v >> 18] + ALPHABET[(v >> 12) & 63] + ALPHABET[(v >> 6) & 63] + ALPHABET[v & 63];
  }
  if (i < bytes.length) {
    const v = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8);
    out += ALPHABET[v >> 18] + ALPHABET[(v >> 12) & 63] + (i + 1 < bytes.length ? ALPHABET[(v >> 6) & 63] : '=') + '=';
  }
  return out;
}

/** Decodes hexadecimal digits (Polly.js before 6.0 kept binary bodies so); undefined when it is not hex. */
export function fromHex(text: string): Uint8Array | undefined {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) return undefined;
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  return out;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** The UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** The string of UTF-8 bytes; undefined when they are not valid UTF-8. */
export function fromUtf8(bytes: Uint8Array): string | undefined {
  try {
    return strictDecoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Whether two byte arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The first offset at which two byte arrays differ (the shorter one's length when one is the other's start). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/**
 * A 64-bit fingerprint (16 hex digits) of bytes or of a string's UTF-16 units: two 32-bit FNV-1a
 * style hashes with different seeds and multipliers. The matcher keys bodies by it and then
 * compares the bodies themselves, so a collision costs a comparison, never a wrong answer.
 */
export function fingerprint(data: Uint8Array | string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ data.length;
  const n = data.length;
  if (typeof data === 'string') {
    for (let i = 0; i < n; i++) {
      const c = data.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const c = data[i];
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** Whether bytes look like text: valid UTF-8 without control characters other than tab, CR and LF. */
export function looksLikeText(bytes: Uint8Array): boolean {
  const text = fromUtf8(bytes);
  return text !== undefined && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text);
}
