/**
 * The check of a recording for replay read from outside this process (src/trace/contract/recording.ts):
 * a trace file's `exchanges` and `recording` (traceFile.ts), and each exchange a preload sends
 * (src/trace/builder/recordings.ts). As normalize.ts does for the records: a part of the wrong
 * shape is left out (a head without a status, bytes that are not base64, a timing entry that is
 * not two counts), a list keeps its good entries, so the replay and the views read what remains
 * as typed. An exchange without a string `traceID` or a valid `end` cannot be replayed: undefined.
 */

import {
  RECORDED_CHUNKS_MAX,
  type RecordedBytes,
  type RecordedEnd,
  type RecordedExchange,
  type RecordedHead,
  type RecordingInfo,
} from '../contract/recording';

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function isCode(v: unknown): v is string {
  return typeof v === 'string' && v !== '' && v.length <= 100;
}

/** Standard base64 (what Buffer writes), padding included. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Recorded bytes, or undefined when they are not (`base64` not base64, a size smaller than them). */
export function recordedBytes(v: unknown): RecordedBytes | undefined {
  if (!isObject(v) || typeof v.base64 !== 'string' || !isCount(v.size) || v.base64.length % 4 !== 0 || !BASE64.test(v.base64))
    return undefined;
  const kept = (v.base64.length / 4) * 3 - (v.base64.endsWith('==') ? 2 : v.base64.endsWith('=') ? 1 : 0);
  if (v.size < kept) return undefined;
  const out: RecordedBytes = { base64: v.base64, size: v.size };
  if (v.truncated === true || v.size > kept) out.truncated = true;
  return out;
}

/** Header pairs whose names and values are strings (the rest left out). */
export function recordedPairs(v: unknown): Array<[string, string]> {
  if (!Array.isArray(v)) return [];
  return v.filter((p): p is [string, string] => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string');
}

/** A response head, or undefined without a status. */
export function recordedHead(v: unknown): RecordedHead | undefined {
  if (!isObject(v) || typeof v.status !== 'number' || !Number.isInteger(v.status) || v.status < 100 || v.status > 999) return undefined;
  const h: RecordedHead = { status: v.status, headers: recordedPairs(v.headers) };
  if (typeof v.statusText === 'string') h.statusText = v.statusText;
  return h;
}

/** How an exchange ended, or undefined when it is not one of RecordedEnd's kinds. */
export function recordedEnd(v: unknown): RecordedEnd | undefined {
  if (!isObject(v)) return undefined;
  switch (v.kind) {
    case 'completed':
    case 'timeout':
    case 'aborted':
      return { kind: v.kind };
    case 'refused':
    case 'dns':
    case 'tls':
      return isCode(v.code) ? { kind: v.kind, code: v.code } : undefined;
    case 'reset': {
      const end: RecordedEnd = { kind: 'reset' };
      if (isCount(v.afterBodyBytes) && Number.isInteger(v.afterBodyBytes)) end.afterBodyBytes = v.afterBodyBytes;
      if (isCount(v.http2Code) && Number.isInteger(v.http2Code)) end.http2Code = v.http2Code;
      return end;
    }
    case 'closed': {
      const end: RecordedEnd = { kind: 'closed' };
      if (isCount(v.afterBodyBytes) && Number.isInteger(v.afterBodyBytes)) end.afterBodyBytes = v.afterBodyBytes;
      return end;
    }
    default:
      return undefined;
  }
}

/** The timing of an exchange, or undefined without a first byte. */
function recordedTiming(v: unknown): RecordedExchange['timing'] {
  if (!isObject(v) || !isCount(v.firstByteMs)) return undefined;
  const t: NonNullable<RecordedExchange['timing']> = { firstByteMs: v.firstByteMs };
  if (Array.isArray(v.chunks)) {
    const chunks = v.chunks
      .filter((c): c is [number, number] => Array.isArray(c) && c.length === 2 && isCount(c[0]) && isCount(c[1]))
      .slice(0, RECORDED_CHUNKS_MAX);
    if (chunks.length > 0) t.chunks = chunks;
  }
  return t;
}

const OPCODES = new Set([1, 2, 8, 9, 10]);

/**
 * One exchange checked (a new object: the one read is left as it was), or undefined when it
 * cannot be replayed (no string `traceID`, no valid `end`).
 */
export function normalizeExchange(v: unknown): RecordedExchange | undefined {
  if (!isObject(v) || typeof v.traceID !== 'string' || v.traceID === '') return undefined;
  const end = recordedEnd(v.end);
  if (end === undefined) return undefined;
  const ex: RecordedExchange = { traceID: v.traceID, end };
  const reqBody = recordedBytes(v.reqBody);
  if (reqBody) ex.reqBody = reqBody;
  if (Array.isArray(v.interim)) {
    const interim = v.interim.map(recordedHead).filter((h): h is RecordedHead => h !== undefined);
    if (interim.length > 0) ex.interim = interim;
  }
  const response = recordedHead(v.response);
  if (response) ex.response = response;
  const body = recordedBytes(v.body);
  if (body) ex.body = body;
  if (v.trailers !== undefined) {
    const trailers = recordedPairs(v.trailers);
    if (trailers.length > 0) ex.trailers = trailers;
  }
  if (Array.isArray(v.messages)) {
    const messages: NonNullable<RecordedExchange['messages']> = [];
    for (const m of v.messages) {
      if (!isObject(m) || (m.dir !== 'in' && m.dir !== 'out') || !isCount(m.atMs) || !OPCODES.has(m.opcode as number)) continue;
      const data = recordedBytes(m.data);
      if (data) messages.push({ dir: m.dir, atMs: m.atMs, opcode: m.opcode as number, data });
    }
    ex.messages = messages;
  }
  const timing = recordedTiming(v.timing);
  if (timing) ex.timing = timing;
  if (v.over === 'body' || v.over === 'run') ex.over = v.over;
  return ex;
}

/** A trace file's `recording`, or undefined when it is not one (no `recordedAt`). */
export function normalizeRecordingInfo(v: unknown): RecordingInfo | undefined {
  if (!isObject(v) || !isCount(v.recordedAt)) return undefined;
  const n = (x: unknown) => (isCount(x) ? x : 0);
  return {
    recordedAt: v.recordedAt,
    maxBodyBytes: n(v.maxBodyBytes),
    maxRunBytes: n(v.maxRunBytes),
    cutExchanges: n(v.cutExchanges),
    cutBytes: n(v.cutBytes),
  };
}
