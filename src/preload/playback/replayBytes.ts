/**
 * A recorded answer as the bytes an HTTP/1.1 server sends, for the http/https path of a replay
 * (replaySocket.ts pushes them into the socket's readable side, so Node's own parser reads them):
 * the interim heads, the final head as recorded (its reason phrase, its header pairs in order,
 * `Transfer-Encoding: chunked` or `Content-Length` as the recorded head said), the body still
 * content-encoded, chunked when the head said so, and its trailers. Also the errors Node gives for
 * a recorded failure, and the request bytes the program wrote read back into its body.
 */

import type { RecordedHead } from '../../trace/contract/recording';
import { errnoOf } from '../rules/whatIfSocket';

/** How the body of an answer is framed on the wire (RFC 9112 §6.3, as Node's parser reads it). */
export type Framing = 'none' | 'length' | 'chunked' | 'close';

/** The framing of a recorded head's body for a request of `method`. */
export function framingOf(head: RecordedHead, method: string): Framing {
  const s = head.status;
  if (method.toUpperCase() === 'HEAD' || s === 204 || s === 304 || (s >= 100 && s < 200)) return 'none';
  let chunked = false;
  let length = false;
  for (const [name, value] of head.headers) {
    const n = name.toLowerCase();
    if (n === 'transfer-encoding') chunked = /(?:^|,)\s*chunked\s*$/i.test(value);
    else if (n === 'content-length' && /^\s*\d+\s*$/.test(value)) length = true;
  }
  return chunked ? 'chunked' : length ? 'length' : 'close';
}

/** True when the head says the server closes the connection after it (`Connection: close`). */
export function closesAfter(head: RecordedHead, version: string | undefined): boolean {
  let close = version === 'HTTP/1.0';
  for (const [name, value] of head.headers) {
    if (name.toLowerCase() !== 'connection') continue;
    if (/\bclose\b/i.test(value)) close = true;
    else if (/\bkeep-alive\b/i.test(value)) close = false;
  }
  return close;
}

/**
 * The bytes of a head: the status line (HTTP/1.0 when recorded so, else 1.1, with the recorded
 * reason phrase or Node's for the status) and the header pairs in order; HTTP/2 pseudo-headers
 * (`:status`) and the connection-specific ones an HTTP/2 recording cannot have carried are left out.
 */
export function headBytes(head: RecordedHead, version: string | undefined): Buffer {
  const { STATUS_CODES } = require('node:http') as typeof import('node:http');
  const v = version === 'HTTP/1.0' ? 'HTTP/1.0' : 'HTTP/1.1';
  const reason = head.statusText ?? STATUS_CODES[head.status] ?? '';
  const lines = [`${v} ${head.status} ${reason}`];
  for (const [name, value] of head.headers) {
    if (name.startsWith(':')) continue;
    // A value holding a line break would end the head early (a hostile recording): cut there.
    lines.push(`${name}: ${value.replace(/[\r\n].*$/s, '')}`);
  }
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
}

/** One chunk of a chunked body (none for no bytes: a zero chunk would end the body). */
export function chunkBytes(data: Buffer): Buffer {
  if (data.length === 0) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`, 'latin1'), data, Buffer.from('\r\n', 'latin1')]);
}

/** The end of a chunked body: the last chunk, the trailers, the blank line. */
export function lastChunk(trailers: ReadonlyArray<[string, string]> | undefined): Buffer {
  const lines = (trailers ?? []).map(([n, v]) => `${n}: ${v.replace(/[\r\n].*$/s, '')}\r\n`).join('');
  return Buffer.from(`0\r\n${lines}\r\n`, 'latin1');
}

/**
 * The body of a request from what it handed its socket (`raw`) and its head (`head`: the request's
 * `_header`): Node writes the head before the first body bytes of a string, but by itself for a
 * Buffer (so `raw` may or may not start with it); a chunked body is read back to its data.
 */
export function writtenBody(head: string, raw: Buffer): Buffer {
  const h = Buffer.from(head, 'latin1');
  const rest = raw.length >= h.length && raw.subarray(0, h.length).equals(h) ? raw.subarray(h.length) : raw;
  return /\r\ntransfer-encoding:[^\r\n]*chunked/i.test(head) ? dechunk(rest) : rest;
}

/** The data of a chunked body (its size lines, extensions and trailers left out). */
export function dechunk(b: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  while (at < b.length) {
    const line = b.indexOf('\r\n', at);
    if (line < 0) break;
    const size = parseInt(b.subarray(at, line).toString('latin1').split(';')[0].trim(), 16);
    if (!Number.isFinite(size) || size <= 0) break;
    parts.push(b.subarray(line + 2, line + 2 + size));
    at = line + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** The header values a request head sent for the names asked for (lower case), in order. */
export function headValues(head: string, names: readonly string[]): Array<[string, string]> {
  if (names.length === 0) return [];
  const out: Array<[string, string]> = [];
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    if (names.includes(name.toLowerCase())) out.push([name, line.slice(colon + 1).trim()]);
  }
  return out;
}

/** The error `dns.lookup` gives for a name that did not resolve with `code` (ENOTFOUND, EAI_AGAIN, …). */
export function dnsError(hostname: string, code: string): NodeJS.ErrnoException {
  const ex = new Error(`getaddrinfo ${code} ${hostname}`) as NodeJS.ErrnoException & { hostname?: string };
  // Node names getaddrinfo's EAI_NONAME ENOTFOUND; the errno stays libuv's.
  ex.errno = errnoOf(code === 'ENOTFOUND' ? 'EAI_NONAME' : code);
  ex.code = code;
  ex.syscall = 'getaddrinfo';
  ex.hostname = hostname;
  return ex;
}

/** OpenSSL's words for a certificate verification error, as Node gives them (X509_verify_cert_error_string). */
const TLS_MESSAGES: Readonly<Record<string, string>> = {
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  CERT_REVOKED: 'certificate revoked',
  CERT_REJECTED: 'certificate rejected',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  ERR_TLS_CERT_ALTNAME_INVALID: "Hostname/IP does not match certificate's altnames",
};

/** The error of a TLS handshake that failed with `code` (a certificate's, or `EPROTO` and the like). */
export function tlsError(code: string): NodeJS.ErrnoException {
  const message = TLS_MESSAGES[code];
  const ex = new Error(message ?? code) as NodeJS.ErrnoException;
  ex.code = code;
  if (message === undefined) {
    const errno = errnoOf(code);
    if (errno !== undefined) ex.errno = errno;
  }
  return ex;
}
