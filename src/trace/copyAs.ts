/**
 * A traced request as a command the user can run again: `curl` (POSIX shell) or a Node `fetch`
 * call. Built from what the trace holds, so what was redacted stays redacted (the value is
 * "<redacted>", or absent in `names` header mode) and a body appears only when it was captured
 * whole; each command says what it lacks in `missing` so the panel can tell the user.
 */

import type { HeaderPair, HttpRequest } from './types';

/** A command plus what it could not reproduce. */
export interface CopiedRequest {
  text: string;
  /** Human-readable gaps: "Authorization is redacted", "the body was not captured", … */
  missing: string[];
}

/** The placeholder the preload writes for a redacted header value. */
const REDACTED_VALUE = '<redacted>';

/**
 * Headers a client computes itself (or that are HTTP/2 pseudo-headers): replaying them would be
 * wrong (a stale Content-Length) or invalid (`:method` as a header).
 */
const COMPUTED = new Set(['content-length', 'host', 'connection', 'transfer-encoding', 'keep-alive']);

/** Quotes a string for a POSIX shell: single quotes, with `'` written as `'\''`. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

interface Replay {
  headers: [string, string][];
  body?: string;
  missing: string[];
}

/** The headers and body worth replaying, and what is missing. */
function replayParts(req: HttpRequest): Replay {
  const missing: string[] = [];
  const headers: [string, string][] = [];
  const pairs: HeaderPair[] = req.reqHeaders ?? [];
  if (req.reqHeaders === undefined) missing.push('the request headers were not captured');
  for (const pair of pairs) {
    const name = pair[0];
    const lower = name.toLowerCase();
    if (name.startsWith(':') || COMPUTED.has(lower)) continue;
    if (pair.length < 2) {
      missing.push(`${name}: only the header's name was captured`);
      continue;
    }
    const value = pair[1] as string;
    if (value === REDACTED_VALUE) missing.push(`${name} is redacted`);
    headers.push([name, value]);
  }
  let body: string | undefined;
  const b = req.reqBody;
  if (b && b.text !== undefined && !b.truncated) body = b.text;
  else if (b) missing.push(b.truncated ? `the body was truncated at capture (${b.size} bytes sent)` : 'the body is binary');
  else if ((req.reqContentLen ?? 0) > 0) missing.push(`the body (${req.reqContentLen} bytes) was not captured`);
  return { headers, body, missing };
}

/** `curl` command line for the request, one option per line. */
export function toCurl(req: HttpRequest): CopiedRequest {
  const { headers, body, missing } = replayParts(req);
  const parts = [`curl ${shellQuote(req.reqURL)}`];
  const method = req.reqMethod.toUpperCase();
  const implied = body !== undefined ? 'POST' : 'GET';
  if (method === 'HEAD') parts.push('--head');
  else if (method !== implied) parts.push(`-X ${shellQuote(method)}`);
  for (const [n, v] of headers) parts.push(`-H ${shellQuote(`${n}: ${v}`)}`);
  if (body !== undefined) parts.push(`--data-raw ${shellQuote(body)}`);
  if (req.protoMajor === 2) parts.push('--http2');
  if (/^https?:/i.test(req.reqURL) && hasCompression(headers)) parts.push('--compressed');
  return { text: parts.join(' \\\n  '), missing };
}

function hasCompression(headers: [string, string][]): boolean {
  return headers.some(([n, v]) => n.toLowerCase() === 'accept-encoding' && /gzip|br|deflate/.test(v));
}

/** A Node `fetch(...)` call for the request (an ES module statement with top-level await). */
export function toFetch(req: HttpRequest): CopiedRequest {
  const { headers, body, missing } = replayParts(req);
  const init: string[] = [`  method: ${JSON.stringify(req.reqMethod.toUpperCase())},`];
  if (headers.length > 0) {
    init.push('  headers: {');
    for (const [n, v] of headers) init.push(`    ${JSON.stringify(n)}: ${JSON.stringify(v)},`);
    init.push('  },');
  }
  if (body !== undefined) init.push(`  body: ${JSON.stringify(body)},`);
  const text = `const res = await fetch(${JSON.stringify(req.reqURL)}, {\n${init.join('\n')}\n});`;
  return { text, missing };
}

/**
 * The response body as the trace captured it: its text when it was captured whole as text;
 * otherwise no text (or the captured part of a truncated one) and what is missing.
 */
export function copyResponseBody(req: HttpRequest): { text: string | undefined; missing: string[] } {
  const b = req.respBody;
  if (!b) {
    const size = req.respContentLen;
    return {
      text: undefined,
      missing: [
        size ? `the response body (${size} bytes) was not captured (trace with \`bodies\` on)` : 'the response has no captured body',
      ],
    };
  }
  if (b.text === undefined)
    return { text: undefined, missing: ['the response body is binary or content-encoded (the Body tab shows its hex)'] };
  return { text: b.text, missing: b.truncated ? [`the body was truncated at capture (the first part of ${b.size} bytes)`] : [] };
}

/** The headers of a request and its response whose values the trace holds only as "<redacted>". */
export function redactedHeaders(req: HttpRequest): string[] {
  const out: string[] = [];
  for (const [side, pairs] of [
    ['request', req.reqHeaders],
    ['response', req.respHeaders],
  ] as const) {
    for (const p of pairs ?? []) if (p.length > 1 && p[1] === REDACTED_VALUE) out.push(`${p[0]} (${side}) is redacted`);
  }
  return out;
}
