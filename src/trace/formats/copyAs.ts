/**
 * A traced request as a command the user can run again: `curl` (bash) or a Node `fetch` call, and
 * the other copy formats' text. Built from what the trace holds, so what was redacted stays
 * redacted (the value is "<redacted>", or absent in `names` header mode) and a body appears only
 * when it was captured whole; each command says what it lacks in `missing` so the panel can tell
 * the user.
 *
 * A trace holds text from the network and from trace files anyone can write: no copied command
 * carries a control character raw. A terminal acts on them when the text is pasted (ESC `[201~`
 * ends bracketed paste, then `^C` and a CR run what follows), so the curl line writes every value
 * holding one in bash's `$'…'` with escapes, and the JSON formats escape them as `\u00XX`.
 */

import type { HeaderPair, HttpRequest } from '../contract/types';

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

/**
 * A character a terminal or line editor acts on: the C0 controls (NUL to US: ESC, ^C, CR, LF,
 * tab…), DEL and the C1 controls (U+0080–U+009F; U+009B is CSI on terminals that read them).
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g;

/** Whether `s` holds a control character (see CONTROL). */
export function hasControl(s: string): boolean {
  return CONTROL.test(s);
}

/** Readable escapes of bash's `$'…'` for the common controls; the others are written `\xHH`. */
const ANSI_C_NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\x1b': '\\e' };

/**
 * Quotes a string for bash (and zsh, ksh, POSIX.1-2024 sh): a plain word as is, text without
 * control characters in single quotes (`'` written as `'\''`), and text with any control character
 * in ANSI-C quotes `$'…'` where each control, `'` and `\` is an escape, so the quoted text holds
 * none of them raw: pasted into a terminal it is only text, and the shell makes the exact bytes.
 * Controls are written as their UTF-8 bytes (`\xc2\x9b`, not `\u009b`, which bash converts with
 * the locale's charset). NUL cannot be in a shell argument; the callers leave such values out.
 */
export function shellQuote(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  if (!CONTROL.test(s)) return `'${s.replace(/'/g, `'\\''`)}'`;
  let out = "$'";
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    // \x27 rather than \': bash's history expansion reads `\'` as the end of the quotes.
    else if (ch === "'") out += '\\x27';
    else if (CONTROL.test(ch)) out += ANSI_C_NAMED[ch] ?? hexBytes(ch);
    else out += ch;
  }
  return out + "'";
}

/** `\xHH` for each UTF-8 byte of `ch`. */
function hexBytes(ch: string): string {
  let out = '';
  for (const b of new TextEncoder().encode(ch)) out += '\\x' + b.toString(16).padStart(2, '0');
  return out;
}

/**
 * JSON text (a JavaScript literal too) with no control character raw: JSON.stringify escapes
 * the C0 controls but writes DEL, the C1 controls and U+2028/U+2029 as they are; here they are
 * `\u00XX` escapes too. Those characters can only be inside strings, so the value is the same.
 */
export function safeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
  );
}

/**
 * A URL to copy: as the trace holds it, with each control character percent-encoded (its UTF-8
 * bytes), as a browser sends it. Only a trace file someone wrote holds a URL with one.
 */
export function copyUrl(req: HttpRequest): CopiedRequest {
  const text = req.reqURL.replace(CONTROLS, (c) => encodeURIComponent(c));
  return { text, missing: text === req.reqURL ? [] : ['the URL holds control characters: they are percent-encoded'] };
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
    if (`${name}${value}`.includes('\0')) {
      missing.push(`${name}: its value holds a NUL character, which a command cannot carry`);
      continue;
    }
    if (value === REDACTED_VALUE) missing.push(`${name} is redacted`);
    headers.push([name, value]);
  }
  let body: string | undefined;
  const b = req.reqBody;
  if (b && b.text !== undefined && !b.truncated && b.text.includes('\0'))
    missing.push('the body holds a NUL character, which a shell argument cannot carry');
  else if (b && b.text !== undefined && !b.truncated) body = b.text;
  else if (b) missing.push(b.truncated ? `the body was truncated at capture (${b.size} bytes sent)` : 'the body is binary');
  else if ((req.reqContentLen ?? 0) > 0) missing.push(`the body (${req.reqContentLen} bytes) was not captured`);
  return { headers, body, missing };
}

/**
 * `curl` command line for the request, one option per line: `--globoff` (a `[1-9]` or `{a,b}` in
 * the URL is sent as is, not expanded into many requests), the URL after `--url` (a URL beginning
 * with `-` is not an option).
 */
export function toCurl(req: HttpRequest): CopiedRequest {
  const { headers, body, missing } = replayParts(req);
  let url = req.reqURL;
  if (url.includes('\0')) {
    url = url.replace(/\0/g, '%00');
    missing.push('the URL holds a NUL character: it is written %00');
  }
  const parts = ['curl --globoff', `--url ${shellQuote(url)}`];
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
  const init: string[] = [`  method: ${safeJson(req.reqMethod.toUpperCase())},`];
  if (headers.length > 0) {
    init.push('  headers: {');
    for (const [n, v] of headers) init.push(`    ${safeJson(n)}: ${safeJson(v)},`);
    init.push('  },');
  }
  if (body !== undefined) init.push(`  body: ${safeJson(body)},`);
  const text = `const res = await fetch(${safeJson(req.reqURL)}, {\n${init.join('\n')}\n});`;
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
