/**
 * HAR 1.2 export (http://www.softwareishard.com/blog/har-12-spec/), the format browser devtools
 * open. Failed requests are kept (status 0) with Net Trace's extras in `_`-prefixed fields:
 * `_error`, `_diagnosis`, `_initiator`, `_client`, `_traceID`, `_reusedConn`, `_redirectedFrom`.
 */

import { whatIfSentence } from '../diagnosis/whatIfText';
import { replaySentence } from '../diagnosis/replayText';
import { contextOf, enrichRequest, enrichTrace, indexRecords, type RecordIndex } from '../enrich';
import { timeBudget } from '../derive/timeBudget';
import type { HeaderPair, HttpRequest, Timings, Trace } from '../contract/types';

/** A HAR name/value pair (headers, query string). */
export interface HarNameValue {
  name: string;
  value: string;
}

/** One HAR entry. */
export interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    headers: HarNameValue[];
    queryString: HarNameValue[];
    cookies: never[];
    headersSize: number;
    bodySize: number;
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    headers: HarNameValue[];
    cookies: never[];
    content: { size: number; compression?: number; mimeType: string; comment?: string };
    redirectURL: string;
    headersSize: number;
    bodySize: number;
  };
  cache: Record<string, never>;
  timings: Timings;
  serverIPAddress?: string;
  connection?: string;
  comment?: string;
  [extra: `_${string}`]: unknown;
}

/** A HAR document. */
export interface Har {
  log: {
    version: '1.2';
    creator: { name: string; version: string };
    comment?: string;
    entries: HarEntry[];
  };
}

/** Options of toHar(). */
export interface HarOptions {
  /** Version written to `log.creator.version`. */
  creatorVersion?: string;
  /** Threshold for "slow" diagnoses (default 1000 ms). */
  slowThresholdMs?: number;
}

function headers(pairs: HeaderPair[] | undefined): HarNameValue[] {
  return (pairs ?? []).map((h) => ({ name: String(h[0]), value: h.length > 1 ? String(h[1]) : '' }));
}

function header(pairs: HeaderPair[] | undefined, name: string): string | undefined {
  const h = pairs?.find((p) => String(p[0]).toLowerCase() === name);
  return h && h.length > 1 ? String(h[1]) : undefined;
}

function queryString(url: string): HarNameValue[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

function httpVersion(req: HttpRequest): string {
  if (req.protoMajor === undefined) return req.respStatusCode ? 'HTTP/1.1' : '';
  if (req.protoMajor >= 2) return `HTTP/${req.protoMajor}`;
  return `HTTP/${req.protoMajor}.${req.protoMinor ?? 1}`;
}

/**
 * An ISO date for `ms` (epoch milliseconds); the trace's begin when `ms` is no time a Date holds (a
 * damaged file's start time: HAR requires the field, and toISOString throws on it).
 */
function harDate(ms: number, begin: number): string {
  const d = new Date(Math.round(ms));
  if (!Number.isNaN(d.getTime())) return d.toISOString();
  const b = new Date(Math.round(begin));
  return (Number.isNaN(b.getTime()) ? new Date(0) : b).toISOString();
}

/** HAR requires send, wait and receive to be non-negative; the other phases may be -1. */
function harTimings(t: Timings): Timings {
  return { ...t, send: Math.max(0, t.send), wait: Math.max(0, t.wait), receive: Math.max(0, t.receive) };
}

/**
 * The response's `content`. HAR 1.2: `size` is the decoded length, `bodySize` what was received,
 * `compression` the bytes saved. The trace has the received bytes (`respContentLen`, still encoded
 * when the response was content-encoded), and the decoded length (`respDecodedLen`) where the
 * client decoded the body for the program (`fetch`); a program using `http` decodes the body
 * itself, after the trace saw it. So `size` is the received length when the response was not
 * encoded, the decoded one when it is known; otherwise -1 (not available, as HAR marks the other
 * sizes it does not know), `compression` (bytes saved) is left out, and `comment` says why.
 */
function harContent(
  req: Pick<HttpRequest, 'respContentLen' | 'respDecodedLen' | 'respHeaders'>,
  mimeType: string,
): HarEntry['response']['content'] {
  const received = req.respContentLen;
  const encoding = contentEncoding(req.respHeaders);
  if (!encoding) return { size: received ?? 0, mimeType };
  const decoded = req.respDecodedLen;
  if (decoded !== undefined)
    return received !== undefined ? { size: decoded, compression: decoded - received, mimeType } : { size: decoded, mimeType };
  const got = received !== undefined ? `; ${received} bytes were received (bodySize)` : '';
  return { size: -1, mimeType, comment: `Content-Encoding: ${encoding}: the decoded length was not recorded${got}` };
}

/** The response's content codings other than `identity` ("gzip", "gzip, br"), or undefined. */
function contentEncoding(h: HttpRequest['respHeaders']): string | undefined {
  const value = header(h, 'content-encoding');
  if (!value) return undefined;
  const codings = value
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c && c.toLowerCase() !== 'identity');
  return codings.length ? codings.join(', ') : undefined;
}

/** One request as a HAR entry (`begin`: the trace's start, ms since the epoch), with its start. */
function harEntry(req: HttpRequest, index: RecordIndex, begin: number): { start: number | undefined; entry: HarEntry } {
  const ctx = contextOf(req, index);
  const budget = timeBudget(ctx);
  const start = budget.start;
  const timings = harTimings(budget.timings);
  const version = httpVersion(req);
  const mime = header(req.respHeaders, 'content-type') ?? 'x-unknown';
  const entry: HarEntry = {
    startedDateTime: harDate(begin + (start ?? 0), begin),
    time: budget.total,
    request: {
      method: req.reqMethod,
      url: req.reqURL,
      httpVersion: version,
      headers: headers(req.reqHeaders),
      queryString: queryString(req.reqURL),
      cookies: [],
      headersSize: -1,
      bodySize: req.reqContentLen ?? -1,
    },
    response: {
      status: req.respStatusCode ?? 0,
      statusText: req.respStatusText ?? '',
      httpVersion: req.respStatusCode ? version : '',
      headers: headers(req.respHeaders),
      cookies: [],
      content: harContent(req, mime),
      redirectURL: header(req.respHeaders, 'location') ?? '',
      headersSize: -1,
      bodySize: req.respContentLen ?? -1,
    },
    cache: {},
    timings,
    _traceID: req.traceID,
    _client: req.client,
  };
  const ip = ctx.tcpConn?.addrTuple?.dstIP;
  if (ip) entry.serverIPAddress = ip;
  if (req.tcpConn) entry.connection = req.tcpConn;
  if (req.reusedConn !== undefined) entry._reusedConn = req.reusedConn;
  if (req.redirectedFrom) entry._redirectedFrom = req.redirectedFrom;
  if (req.reqError) entry._error = req.reqError;
  if (req.diagnosis) entry._diagnosis = req.diagnosis;
  if (req.initiator) entry._initiator = req.initiator;
  if (req.whatIf) {
    entry.comment = whatIfSentence(req.whatIf, ctx.tcpConn, req.reusedConn);
    entry._whatIf = req.whatIf;
  }
  // A replayed request (docs/replay.md): where its answer came from, said first.
  if (req.replay) {
    entry.comment = [replaySentence(req.replay, req), entry.comment].filter(Boolean).join(' ');
    entry._replay = req.replay;
  }
  return { start, entry };
}

/** Converts a trace to a HAR 1.2 document, entries in start order. */
export function toHar(trace: Trace, options: HarOptions = {}): Har {
  const enriched = enrichTrace(trace, { slowThresholdMs: options.slowThresholdMs });
  const index = indexRecords(enriched);
  const begin = Date.parse(trace.traceBeginAt);
  const rows = enriched.httpRequests.map((req) => harEntry(req, index, begin));
  // Requests that never started (no times) go last.
  rows.sort((a, b) => (a.start ?? Infinity) - (b.start ?? Infinity));
  return {
    log: {
      version: '1.2',
      creator: { name: 'nettrace', version: options.creatorVersion ?? '0.1.0' },
      comment: trace.description,
      entries: rows.map((r) => r.entry),
    },
  };
}

/**
 * One request of a trace as a HAR entry, the same as its entry in `toHar(trace)` ("Copy as HAR
 * entry"); undefined when the trace has no request with this traceID. Enriches only that request.
 */
export function toHarEntry(trace: Trace, traceID: string, options: HarOptions = {}): HarEntry | undefined {
  const req = trace.httpRequests.find((r) => r.traceID === traceID);
  if (!req) return undefined;
  const index = indexRecords(trace);
  return harEntry(enrichRequest(req, index, { slowThresholdMs: options.slowThresholdMs }), index, Date.parse(trace.traceBeginAt)).entry;
}
