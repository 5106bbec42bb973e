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
 * Pure (no `vscode`), so test/unit/whatIfPanel.test.mjs reads it. The framing headers
 * (content-length, transfer-encoding, connection, keep-alive) are left out of an answer: its body is
 * what the document says, and the preload frames it. Comments are wrapped at COMMENT_COLUMNS.
 */
import type { CapturedBody, HeaderPair } from '../trace/contract/types';
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

/** Comment lines are wrapped to this many columns ("# " included), so they fit an editor beside the panel. */
export const COMMENT_COLUMNS = 100;

/** Each paragraph as `# ` comment lines of at most COMMENT_COLUMNS columns (a longer word stays whole on its line). */
function comments(paragraphs: readonly string[]): string {
  let out = '';
  for (const p of paragraphs) {
    let line = '';
    for (const word of p.split(/\s+/).filter(Boolean)) {
      if (line !== '' && 2 + line.length + 1 + word.length > COMMENT_COLUMNS) {
        out += `# ${line}\n`;
        line = word;
      } else line = line === '' ? word : `${line} ${word}`;
    }
    out += `# ${line}\n`;
  }
  return out;
}

function headerLines(headers: readonly HeaderPair[] | undefined, leave: ReadonlySet<string> = new Set()): string {
  let out = '';
  for (const [name, value] of headers ?? []) {
    if (leave.has(name.toLowerCase())) continue;
    out += `${name}: ${value ?? ''}\n`;
  }
  return out;
}

/** The recorded response's body as the answer can hold it (text), and what the document must say of it. */
function answerBody(req: { respContentLen?: number; respBody?: CapturedBody }): { text: string; note?: string } {
  const b = req.respBody;
  const len = req.respContentLen;
  if (b === undefined) {
    if (len === 0) return { text: '' };
    return {
      text: '',
      note:
        "The trace did not record this response's body (bodies are recorded with the nettrace.bodies setting, " +
        `"bodies": true in the launch configuration, or a details rule${len !== undefined ? `; it had ${len} bytes` : ''}), ` +
        "so the body below is empty: type the answer's body after the blank line.",
    };
  }
  if (b.text === undefined)
    return {
      text: '',
      note: `The recorded body is not text (${b.contentEncoding ? `${b.contentEncoding}-encoded` : (b.contentType ?? 'binary')}, ${b.size} bytes), so the body below is empty: type the answer's body after the blank line.`,
    };
  if (b.truncated)
    return {
      text: b.text,
      note: `The trace recorded only the start of this response's body (${b.size} bytes in all): the body below is cut where the recording stopped.`,
    };
  return { text: b.text };
}

/** Recorded headers an answer leaves out besides the framing: a fixed `Date` would go stale; the body below is never encoded. */
const ANSWER_LEAVES = new Set([...FRAMING, 'date', 'content-encoding']);

/**
 * The answer document for a recorded response (status, headers, body as recorded; redacted values
 * as `<redacted>`). The framing headers, `Date` (a recorded date would be a fixed, stale value:
 * the answer has none unless one is typed) and `Content-Encoding` (the body below is text) are
 * left out, and the comments say so, and say when the body was not recorded or was cut.
 */
export function answerDocument(
  req: { respStatusCode?: number; respStatusText?: string; respHeaders?: HeaderPair[]; respContentLen?: number; respBody?: CapturedBody },
  ruleName: string,
): string {
  const status = req.respStatusCode ?? 200;
  const text = req.respStatusText ?? '';
  const body = answerBody(req);
  const left = (req.respHeaders ?? []).map(([n]) => n.toLowerCase()).filter((n) => n === 'date' || n === 'content-encoding');
  const notes: string[] = [];
  if (body.note) notes.push(body.note);
  if (left.length)
    notes.push(
      [
        left.includes('date') ? 'The recorded Date header is left out: a fixed date would go stale (type a Date line to send one).' : '',
        left.includes('content-encoding') ? 'Its Content-Encoding is left out: the body below is sent as it reads.' : '',
      ]
        .filter(Boolean)
        .join(' '),
    );
  return (
    comments([
      `Net Trace: the answer of the what-if rule "${ruleName}".`,
      'Edit the status line, the headers and the body (after the blank line), then save (Ctrl+S / Cmd+S): saving makes ' +
        'or updates the rule, and the next requests like this one get this answer without reaching the server. ' +
        'Net Trace frames the body. Lines starting with # before the status line are ignored.',
      ...notes,
    ]) +
    `HTTP/1.1 ${status}${text ? ` ${text}` : ''}\n` +
    headerLines(req.respHeaders, ANSWER_LEAVES) +
    '\n' +
    body.text
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
      `A header that reads ${REDACTED} is sent as the program sent it to ${originOf(req.reqURL)} only (the same scheme, host and port): ` +
        "to another origin it is left out, so the program's credentials stay at theirs; type a value to send one there.",
      `Host follows the URL: to another origin the Host line is not sent, and the new request's Host is the URL's host ` +
        `(as Node and undici set it); to ${originOf(req.reqURL)} it is sent as written.`,
      'Type a new value to change a header, delete the line to leave it out. Lines starting with # before the first line are ignored.',
    ]) +
    `${req.reqMethod} ${req.reqURL}\n` +
    headerLines(req.reqHeaders) +
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
