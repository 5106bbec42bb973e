/**
 * Pure formatting helpers for the panel: durations, sizes, URLs, status, initiator locations.
 * DOM-free so they run under `node --test`.
 */

import type { HttpRequest } from '../src/trace/contract/types';
import type { StackFrame } from '../src/trace/contract/incoming';
import { http2ErrorName } from '../src/trace/diagnosis/http2Errors';
import { requestLine } from '../src/trace/derive/initiatorLine';
import { blockedPortOf } from '../src/trace/derive/timings';

/** The value the preload records in place of a secret header value (src/protocol/preload.ts). */
export const REDACTED_VALUE = '<redacted>';

/** "0.42 ms", "12.3 ms", "845 ms", "1.24 s", "2 min 5 s"; "—" for absent/negative values. */
export function formatMs(ms: number | undefined | null): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  const min = Math.floor(ms / 60_000);
  return `${min} min ${Math.round((ms - min * 60_000) / 1000)} s`;
}

/** "0 B", "512 B", "1.5 kB", "12 MB" (decimal units, like DevTools); "—" when absent. */
export function formatBytes(n: number | undefined | null): string {
  if (n === undefined || n === null || !Number.isFinite(n) || n < 0) return '—';
  if (n < 1000) return `${Math.round(n)} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1000;
    i++;
  } while (v >= 1000 && i < units.length - 1);
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** Splits a URL into host (with port) and path+query; falls back to the raw text when unparsable. */
export function splitUrl(url: string): { host: string; path: string } {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)([^#]*)/i.exec(url);
  if (!m) return { host: '', path: url };
  const authority = m[1] ?? '';
  const at = authority.lastIndexOf('@');
  return { host: (at >= 0 ? authority.slice(at + 1) : authority).toLowerCase(), path: m[2] || '/' };
}

/** The host of a request's URL (lower-case, with port if the URL had one). */
export function hostOf(url: string): string {
  return splitUrl(url).host;
}

/** Last path segment of a file path or file:// URL (POSIX or Windows separators). */
export function basename(file: string): string {
  const clean = file.replace(/[?#].*$/, '');
  const i = Math.max(clean.lastIndexOf('/'), clean.lastIndexOf('\\'));
  return i >= 0 ? clean.slice(i + 1) : clean;
}

/** The program's first frame (never a library's: undefined when the stack holds only library frames). */
export function initiatorFrame(req: HttpRequest): StackFrame | undefined {
  return requestLine(req);
}

/** "users.ts:14" for the list column; "" when there is no initiator. */
export function formatInitiator(req: HttpRequest): string {
  const f = initiatorFrame(req);
  return f ? `${basename(f.file)}:${f.line}` : '';
}

/** Status class of a request, used by the status filter and colouring. */
export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'error' | 'pending';

/** The toolbar's status filter chips: class, words, tooltip. */
export const STATUS_CHIPS: ReadonlyArray<[StatusClass, string, string]> = [
  ['2xx', '2xx', 'Successful responses'],
  ['3xx', '3xx', 'Redirects'],
  ['4xx', '4xx', 'Client errors'],
  ['5xx', '5xx', 'Server errors'],
  ['error', 'Errors', 'Requests that failed without a response (DNS, connect, TLS, reset, timeout)'],
];

/** All status classes, in filter-bar order. */
export const STATUS_CLASSES: readonly StatusClass[] = ['2xx', '3xx', '4xx', '5xx', 'error', 'pending', '1xx'];

/** Classifies a request: an error wins over a status code; no status and no error is pending. */
export function statusClass(req: HttpRequest): StatusClass {
  if (req.reqError) return 'error';
  const s = req.respStatusCode;
  if (s === undefined || s === null) return 'pending';
  if (s >= 500) return '5xx';
  if (s >= 400) return '4xx';
  if (s >= 300) return '3xx';
  if (s >= 200) return '2xx';
  return '1xx';
}

/** The status cell text: the code, else the error code (or phase), else "pending". */
export function formatStatus(req: HttpRequest): string {
  const e = req.reqError;
  if (e) {
    const code = e.code ?? e.cause?.code;
    if (e.timedOut) return code ? `${code} (timeout)` : 'timeout';
    if (e.aborted && !code) return 'aborted';
    if (!code && blockedPortOf(req) !== undefined) return 'bad port';
    return code ?? `${e.phase} error`;
  }
  if (req.respStatusCode !== undefined && req.respStatusCode !== null) return String(req.respStatusCode);
  return 'pending';
}

/**
 * The detail's status line: the status with its reason phrase ("200 OK"), or the failure, and for
 * a failure after the response's head the head it came after ("ECONNRESET after 200 OK"): the
 * reason phrase is the server's, never the failure's.
 */
export function formatStatusLine(req: HttpRequest): string {
  const status = formatStatus(req);
  const code = req.respStatusCode;
  if (code === undefined || code === null) return status;
  const head = req.respStatusText ? `${code} ${req.respStatusText}` : String(code);
  return req.reqError ? `${status} after ${head}` : head;
}

/** Formats an ISO date as "2026-01-01" (UTC); returns the input when it does not parse. */
export function formatDate(iso: string): string {
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return new Date(t).toISOString().slice(0, 10);
}

/** "HTTP/1.1", "HTTP/2" or "" when unknown. */
export function formatProtocol(req: HttpRequest): string {
  if (req.protoMajor === undefined) return req.client === 'http2' ? 'HTTP/2' : '';
  if (req.protoMajor >= 2) return `HTTP/${req.protoMajor}`;
  return `HTTP/${req.protoMajor}.${req.protoMinor ?? 1}`;
}

/** "1.2.3.4:443" or "[2a00::1]:443". */
export function formatHostPort(ip: string, port: number | undefined): string {
  const host = ip.includes(':') ? `[${ip}]` : ip;
  return port === undefined ? host : `${host}:${port}`;
}

/** "12,345" (thousands separators without Intl, which is slow to initialise). */
export function formatCount(n: number): string {
  const s = String(Math.trunc(n));
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Compact axis tick label: "250 ms", "1.5 s", "60 s". */
export function formatTick(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/** "REFUSED_STREAM (7)"; unknown codes as "0x1f (31)". */
export function formatHttp2Error(code: number | undefined | null): string {
  if (typeof code !== 'number' || !Number.isFinite(code)) return '—';
  const name = http2ErrorName(code);
  return name ? `${name} (${code})` : `0x${code.toString(16)} (${code})`;
}

/** "+12.4 ms" for a time since the trace began; "—" when absent. */
export function formatAt(at: number | undefined | null): string {
  return typeof at === 'number' && Number.isFinite(at) ? `+${formatMs(at)}` : '—';
}
