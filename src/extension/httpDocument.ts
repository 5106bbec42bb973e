/**
 * The editable HTTP documents of the what-if commands (docs/rules.md, "From the panel"), plain
 * text in the shape of an HTTP/1.1 message, so that what the user edits reads like what went over
 * the wire:
 *
 *   # comment lines (only before the first line) say what saving does
 *   HTTP/1.1 503 Service Unavailable          ← an answer: status line
 *   GET https://api.example.com/v1/x          ← a request to send again: method and URL
 *   name: value                               ← one header a line, in order, repeated names kept
 *                                             ← a blank line
 *   the body, as text, to the end of the file
 *
 * Pure (no `vscode`), so test/unit/httpDocument.test.mjs reads it. The framing headers
 * (content-length, transfer-encoding, connection, keep-alive) are left out of an answer: its body is
 * what the document says, and the preload frames it.
 */
import type { HeaderPair } from '../trace/contract/types';
import { REDACTED } from '../trace/contract/wire';

/** Headers the body's framing decides: never taken from, or put into, a document. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/** A document that cannot be read, with its 1-based line. */
export class HttpDocumentError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}

/** The answer a `respond` rule gives (src/rules/whatIfActions.ts RespondSpec's shape). */
export interface AnswerSpec {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A request to send again, as edited. */
export interface RequestEdit {
  method: string;
  url: string;
  headers: Array<[string, string]>;
  /** Undefined: no body line at all (the recorded body, if any, is sent as it was). */
  body?: string;
}

function comments(lines: readonly string[]): string {
  return lines.map((l) => `# ${l}\n`).join('');
}

function headerLines(headers: readonly HeaderPair[] | undefined, skipFraming: boolean): string {
  let out = '';
  for (const [name, value] of headers ?? []) {
    if (skipFraming && FRAMING.has(name.toLowerCase())) continue;
    out += `${name}: ${value ?? ''}\n`;
  }
  return out;
}

/** The answer document for a recorded response (status, headers, body as recorded; redacted values as `<redacted>`). */
export function answerDocument(
  req: { respStatusCode?: number; respStatusText?: string; respHeaders?: HeaderPair[]; respBody?: { text?: string } },
  ruleName: string,
): string {
  const status = req.respStatusCode ?? 200;
  const text = req.respStatusText ?? '';
  return (
    comments([
      `Net Trace: the answer of the what-if rule "${ruleName}".`,
      'Edit the status line, the headers and the body (after the blank line), then save (Ctrl+S / Cmd+S):',
      'saving makes or updates the rule, and the next requests like this one get this answer without',
      'reaching the server. Lines starting with # before the status line are ignored.',
    ]) +
    `HTTP/1.1 ${status}${text ? ` ${text}` : ''}\n` +
    headerLines(req.respHeaders, true) +
    '\n' +
    (req.respBody?.text ?? '')
  );
}

/** Splits a document into its first line, headers and body; comments before the first line are skipped. */
function split(text: string): { first: string; firstLine: number; headers: Array<[string, string]>; body?: string } {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length && (lines[i]!.startsWith('#') || lines[i]!.trim() === '')) i++;
  if (i >= lines.length) throw new HttpDocumentError(1, 'the document is empty');
  const first = lines[i]!.trim();
  const firstLine = i + 1;
  const headers: Array<[string, string]> = [];
  for (i++; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') {
      return { first, firstLine, headers, body: lines.slice(i + 1).join('\n') };
    }
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      throw new HttpDocumentError(i + 1, `"${line.slice(0, 60)}" is not a header ("name: value")`);
    headers.push([name, line.slice(colon + 1).trim()]);
  }
  return { first, firstLine, headers };
}

/** Reads an answer document: throws HttpDocumentError with the line at fault. */
export function parseAnswerDocument(text: string): AnswerSpec {
  const { first, firstLine, headers, body } = split(text);
  const m = /^(?:HTTP\/\d(?:\.\d)?\s+)?(\d{3})(?:\s.*)?$/.exec(first);
  if (!m)
    throw new HttpDocumentError(
      firstLine,
      `the first line must be a status line ("HTTP/1.1 503 Service Unavailable"), not "${first.slice(0, 60)}"`,
    );
  const status = Number(m[1]);
  if (status < 100 || status > 599) throw new HttpDocumentError(firstLine, `the status must be between 100 and 599, not ${status}`);
  const out: Record<string, string> = {};
  for (const [name, value] of headers) {
    if (FRAMING.has(name.toLowerCase())) continue;
    const key = Object.keys(out).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
    out[key] = out[key] !== undefined ? `${out[key]}, ${value}` : value;
  }
  return { status, headers: out, body: body ?? '' };
}

/** The origin (scheme, host, port) of a URL, as the document names it; the URL itself when it cannot be read. */
export function originOf(url: string): string {
  try {
    const o = new URL(url).origin;
    return o === 'null' ? url : o;
  } catch {
    return url;
  }
}

/** The request document of Send Again: method and URL, the headers as recorded (redacted values read `<redacted>`), the body. */
export function requestDocument(req: {
  reqMethod: string;
  reqURL: string;
  reqHeaders?: HeaderPair[];
  reqBody?: { text?: string };
}): string {
  return (
    comments([
      'Net Trace: Send Again, from inside the program that made this request.',
      'Edit the method and URL, the headers and the body (after the blank line), then save (Ctrl+S / Cmd+S) to send it.',
      `A header that reads ${REDACTED} is sent as the program sent it to ${originOf(req.reqURL)} only (the same scheme, host and port):`,
      "to another origin it is left out, so the program's credentials stay at theirs; type a value to send one there.",
      'Type a new value to change a header, delete the line to leave it out. Lines starting with # before the first line are ignored.',
    ]) +
    `${req.reqMethod} ${req.reqURL}\n` +
    headerLines(req.reqHeaders, false) +
    (req.reqBody?.text !== undefined ? `\n${req.reqBody.text}` : '')
  );
}

/** Reads a request document: throws HttpDocumentError with the line at fault. */
export function parseRequestDocument(text: string): RequestEdit {
  const { first, firstLine, headers, body } = split(text);
  const m = /^([A-Za-z][A-Za-z0-9_-]*)\s+(\S+)(?:\s+HTTP\/\d(?:\.\d)?)?$/.exec(first);
  if (!m)
    throw new HttpDocumentError(
      firstLine,
      `the first line must be "METHOD URL" ("GET https://api.example.com/v1/users"), not "${first.slice(0, 60)}"`,
    );
  if (!/^https?:\/\//i.test(m[2]!))
    throw new HttpDocumentError(firstLine, `the URL must start with http:// or https://, not "${m[2]!.slice(0, 60)}"`);
  const out: RequestEdit = { method: m[1]!.toUpperCase(), url: m[2]!, headers };
  if (body !== undefined && body !== '') out.body = body;
  return out;
}
