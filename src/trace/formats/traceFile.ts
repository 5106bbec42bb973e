/**
 * Reading and writing saved trace files, with one-line, plain error messages for everything that
 * can be wrong with one (missing, empty, cut short, not JSON, not a trace, another format
 * version, too large). Files are written as format version 2 (compact, the recorded fields only)
 * and read in versions 1 and 2, as they are: readTrace.ts is the reader that also works out the
 * derived fields, which every consumer uses. Files are read and written streaming
 * (src/trace/formats/jsonStream.ts): a trace of a million requests is larger than the longest
 * string V8 can hold.
 */

import { normalizeReplayRun } from './replayNormalize';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Har } from './har';
import {
  JsonObjectScanner,
  JsonScanError,
  JsonTooDeepError,
  MAX_JSON_DEPTH,
  tooDeepAt,
  writeJsonFile,
  type WriteJsonOptions,
} from './jsonStream';
import {
  normalizeDebuggerPauses,
  normalizeDials,
  normalizeDnsQueries,
  normalizeIncoming,
  normalizeRequest,
  normalizeTcpConns,
  normalizeUdpConns,
} from './normalize';
import { normalizeExchange, normalizeRecordingInfo } from './normalizeRecording';
import { redactCommandLine, redactedArgNames } from '../contract/redact';
import { RECORD_KINDS } from '../contract/wire';
import { FORMAT_VERSION, OLDEST_FORMAT_VERSION, type HttpRequest, type Trace, type TraceStats, type HelperStats } from '../contract/types';
import type { TraceRule, TraceRules } from '../contract/ruleTypes';
import type { IncomingRequest } from '../contract/incoming';

/** Returns an empty trace that began now. */
export function emptyTrace(description: string, beginAt: Date = new Date()): Trace {
  return {
    formatVersion: FORMAT_VERSION,
    description,
    traceBeginAt: beginAt.toISOString(),
    processes: [],
    httpRequests: [],
    dials: [],
    tcpConns: [],
    udpConns: [],
    dnsQueries: [],
    tlsTunnels: [],
    stats: { droppedEvents: 0, untracedRequests: 0, warnings: [] },
  };
}

/** A trace file could not be read; `message` is one plain line meant for the user. */
export class TraceFileError extends Error {
  override readonly name = 'TraceFileError';
}

/** The error of a file whose values nest deeper than MAX_JSON_DEPTH (src/trace/formats/jsonStream.ts). */
function tooDeep(name: string, offset: number): TraceFileError {
  return new TraceFileError(
    `${name} is not a nettrace trace: a value is nested more than ${MAX_JSON_DEPTH} levels deep (at byte ${offset})`,
  );
}

function jsonErrorPosition(message: string): number | undefined {
  const m = /at position (\d+)/.exec(message);
  return m ? Number(m[1]) : undefined;
}

/**
 * Parses and validates the text of a trace file. `name` is how the file is called in messages.
 * Missing record arrays are filled in as empty. Throws TraceFileError.
 */
export function parseTraceFile(text: string, name = 'the trace'): Trace {
  const body = text.replace(/^\uFEFF/, '');
  const trimmed = body.trim();
  if (trimmed === '') throw new TraceFileError(`${name} is empty`);
  let data: unknown;
  try {
    data = JSON.parse(body);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const first = trimmed[0];
    if (first !== '{' && first !== '[') {
      const start = trimmed.slice(0, 20).replace(/[^\x20-\x7e]/g, '?');
      throw new TraceFileError(`${name} is not JSON (it starts with "${start}")`);
    }
    const pos = jsonErrorPosition(message);
    const trimmedEnd = body.trimEnd().length;
    const truncated = /end of JSON input|Unterminated string/i.test(message) || (pos !== undefined && pos >= trimmedEnd);
    if (truncated) {
      const bytes = Buffer.byteLength(body);
      throw new TraceFileError(`${name} is not complete JSON (truncated at byte ${bytes}?)`);
    }
    throw new TraceFileError(`${name} is not valid JSON: ${message.split('\n')[0]}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new TraceFileError(`${name} is not a nettrace trace (expected a JSON object)`);
  }
  const deep = tooDeepAt(body);
  if (deep >= 0) throw tooDeep(name, Buffer.byteLength(body.slice(0, deep)));
  return validateTrace(data as Record<string, unknown>, name);
}

/** The versions this code reads, in words ("1 and 2"). */
function readVersions(): string {
  const all: number[] = [];
  for (let v = OLDEST_FORMAT_VERSION; v <= FORMAT_VERSION; v++) all.push(v);
  return all.length === 1 ? `version ${all[0]}` : `versions ${all.slice(0, -1).join(', ')} and ${all[all.length - 1]}`;
}

/** Refuses a file of a version this code does not read (every one from OLDEST_FORMAT_VERSION to FORMAT_VERSION opens). */
function checkVersion(version: unknown, name: string): void {
  if (typeof version === 'number' && Number.isInteger(version) && version >= OLDEST_FORMAT_VERSION && version <= FORMAT_VERSION) return;
  const v = typeof version === 'number' ? String(version) : JSON.stringify(version);
  const advice = typeof version === 'number' && version > FORMAT_VERSION ? ' — upgrade nettrace' : '';
  throw new TraceFileError(`${name} is trace format version ${v}; this nettrace reads ${readVersions()}${advice}`);
}

/**
 * The error for a JSON object that is not a trace. A HAR (its root member is `log`) is named as
 * one: nettrace writes a HAR beside a trace for browser devtools, and a user may pick it to open.
 */
function notATrace(name: string, har: boolean): TraceFileError {
  return new TraceFileError(
    har
      ? `${name} is a HAR file, not a nettrace trace: open the trace's JSON file instead (the HAR is an export for browser devtools, Network > Import HAR)`
      : `${name} is not a nettrace trace (no formatVersion or httpRequests)`,
  );
}

/** Checks a parsed trace object and fills in defaults (see parseTraceFile). */
function validateTrace(obj: Record<string, unknown>, name: string): Trace {
  if (!('formatVersion' in obj) || !Array.isArray(obj.httpRequests)) throw notATrace(name, 'log' in obj);
  checkVersion(obj.formatVersion, name);
  for (const kind of RECORD_KINDS) {
    if (obj[kind] === undefined) obj[kind] = [];
    else if (!Array.isArray(obj[kind])) throw new TraceFileError(`${name} is damaged: "${kind}" is not a list`);
  }
  // The records read below their top level (DNS messages, kernel data, socket operations).
  obj.dials = normalizeDials(obj.dials);
  obj.tcpConns = normalizeTcpConns(obj.tcpConns);
  obj.udpConns = normalizeUdpConns(obj.udpConns);
  obj.dnsQueries = normalizeDnsQueries(obj.dnsQueries);
  if (obj.incomingRequests !== undefined) obj.incomingRequests = normalizeIncoming(obj.incomingRequests);
  if (!Array.isArray(obj.processes)) obj.processes = [];
  // A description an older version wrote kept a command line's secret options in clear.
  obj.description = typeof obj.description === 'string' ? redactCommandLine(obj.description, redactedArgNames()) : '';
  if (typeof obj.traceBeginAt !== 'string' || Number.isNaN(Date.parse(obj.traceBeginAt))) {
    throw new TraceFileError(`${name} is damaged: traceBeginAt is not a date`);
  }
  const stats = (obj.stats ?? {}) as Record<string, unknown>;
  obj.stats = {
    droppedEvents: typeof stats.droppedEvents === 'number' ? stats.droppedEvents : 0,
    untracedRequests: typeof stats.untracedRequests === 'number' ? stats.untracedRequests : 0,
    warnings: Array.isArray(stats.warnings) ? stats.warnings.map(String) : [],
  };
  if (typeof stats.skippedInitiators === 'number' && stats.skippedInitiators > 0)
    (obj.stats as TraceStats).skippedInitiators = stats.skippedInitiators;
  for (const k of ['droppedRecords', 'droppedBlobs', 'incompleteRequests', 'undeliveredSpans'] as const) {
    const v = stats[k];
    if (typeof v === 'number' && v > 0) (obj.stats as TraceStats)[k] = v;
  }
  // The helper's report is kept as written: the views read its fields defensively.
  if (typeof stats.helper === 'object' && stats.helper !== null && !Array.isArray(stats.helper)) {
    (obj.stats as TraceStats).helper = stats.helper as HelperStats;
  }
  if (obj.debuggerPauses !== undefined) {
    const pauses = normalizeDebuggerPauses(obj.debuggerPauses);
    if (pauses.length) obj.debuggerPauses = pauses;
    else delete obj.debuggerPauses;
  }
  if (obj.traceRules !== undefined) {
    const rules = normalizeTraceRules(obj.traceRules);
    if (rules) obj.traceRules = rules;
    else delete obj.traceRules;
  }
  if (obj.replay !== undefined) {
    const replay = normalizeReplayRun(obj.replay);
    if (replay) obj.replay = replay;
    else delete obj.replay;
  }
  for (const r of obj.httpRequests as unknown[]) checkedRequest(r, name);
  checkRecording(obj, name);
  return obj as unknown as Trace;
}

/**
 * A recording for replay's `exchanges` and `recording` checked (normalizeRecording.ts): an entry
 * that cannot be replayed (no traceID, no valid end) is an error, as a request without a traceID
 * is; a malformed part of one is left out.
 */
function checkRecording(obj: Record<string, unknown>, name: string): void {
  if (obj.recording !== undefined) {
    const info = normalizeRecordingInfo(obj.recording);
    if (info) obj.recording = info;
    else delete obj.recording;
  }
  if (obj.exchanges === undefined) return;
  if (!Array.isArray(obj.exchanges)) throw new TraceFileError(`${name} is damaged: "exchanges" is not a list`);
  obj.exchanges = obj.exchanges.map((e: unknown) => {
    const ex = normalizeExchange(e);
    if (!ex) throw new TraceFileError(`${name} is damaged: an exchanges entry has no traceID or no valid end`);
    return ex;
  });
}

/** An `httpRequests` entry of a file normalized (normalize.ts); TraceFileError when it has no traceID. */
function checkedRequest(r: unknown, name: string): HttpRequest {
  if (!normalizeRequest(r)) throw new TraceFileError(`${name} is damaged: an httpRequests entry has no traceID`);
  return r;
}

const RULE_ACTIONS = new Set(['trace', 'skip', 'details', 'break', 'mark', 'fail', 'delay', 'throttle', 'respond', 'override']);
const DETAIL_KINDS = new Set(['bodies', 'sockTrace', 'dnsTrace']);
const FAIL_KINDS = new Set(['refused', 'reset', 'dns-notfound', 'tls', 'timeout', 'status']);

/**
 * The `traceRules` of a saved trace (untrusted): the well-formed rules, each with its counters
 * (a count that is not a whole number ≥ 0 reads as 0); undefined when it is not an object with a
 * `rules` list. The conditions are kept as text: nothing is compiled or run when a trace is read.
 */
export function normalizeTraceRules(value: unknown): TraceRules | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const o = value as Record<string, unknown>;
  if (!Array.isArray(o.rules)) return undefined;
  const count = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0);
  const rules: TraceRule[] = [];
  for (const r of o.rules) {
    if (typeof r !== 'object' || r === null) continue;
    const x = r as Record<string, unknown>;
    if (typeof x.id !== 'string' || typeof x.condition !== 'string' || typeof x.action !== 'string' || !RULE_ACTIONS.has(x.action))
      continue;
    const rule: TraceRule = {
      id: x.id,
      name: typeof x.name === 'string' ? x.name : x.id,
      condition: x.condition,
      action: x.action as TraceRule['action'],
      limit: typeof x.limit === 'number' && Number.isSafeInteger(x.limit) && x.limit >= 1 ? x.limit : null,
      enabled: x.enabled === true,
      matched: count(x.matched),
      acted: count(x.acted),
      limitReached: x.limitReached === true,
    };
    if (x.limitPer === 'session' && rule.limit !== null) rule.limitPer = 'session';
    if (typeof x.tag === 'string') rule.tag = x.tag;
    const fail = x.fail as { kind?: unknown } | undefined;
    if (fail !== null && typeof fail === 'object' && typeof fail.kind === 'string' && FAIL_KINDS.has(fail.kind))
      // Its other parameters as written (shown, never acted on: a saved trace's rules are text).
      rule.fail = { ...(fail as object), kind: fail.kind } as TraceRule['fail'];
    for (const key of ['delay', 'throttle', 'respond', 'override'] as const)
      if (x.action === key && x[key] !== null && typeof x[key] === 'object' && !Array.isArray(x[key]))
        (rule as unknown as Record<string, unknown>)[key] = { ...(x[key] as object) };
    if (Array.isArray(x.details))
      rule.details = x.details.filter((d): d is 'bodies' | 'sockTrace' | 'dnsTrace' => DETAIL_KINDS.has(d as string));
    rules.push(rule);
  }
  return { version: count(o.version), defaultAction: o.defaultAction === 'skip' ? 'skip' : 'trace', rules };
}

/** The top-level members a trace file may have; a file starting with another is not a trace. */
const TRACE_KEYS = new Set<string>([
  'formatVersion',
  'description',
  'traceBeginAt',
  'traceEndAt',
  'processes',
  'packetCapture',
  'debuggerPauses',
  'traceRules',
  'replay',
  'stats',
  'recording',
  'exchanges',
  ...RECORD_KINDS,
]);
/** Members read element by element. */
const STREAMED = new Set<string>([...RECORD_KINDS, 'processes', 'exchanges']);

/** The largest trace file read by default (8 GiB); NETTRACE_MAX_TRACE_BYTES overrides it. */
export const DEFAULT_MAX_TRACE_BYTES = 8 * 1024 ** 3;

/** Options of readTraceFile() and readTraceFileAsync(). */
export interface ReadTraceOptions {
  /** Files larger than this are refused before reading (default DEFAULT_MAX_TRACE_BYTES). */
  maxBytes?: number;
  /** Largest single record or member in bytes (default 256 MiB). */
  maxRecordBytes?: number;
  /**
   * Which `httpRequests` entries to parse and keep, judged by their raw bytes (default all): a
   * reader that handles requests one at a time (forEachRequest) keeps only what it needs first.
   */
  keepRequest?: (raw: Buffer) => boolean;
  /**
   * Keep the recording's exchanges without their bytes (each `base64` read as "", the body then
   * marked cut; its `size` and the exchange's `over` stay): a reader that only counts them
   * (`nettrace show`) does not hold a run's bodies.
   */
  slimExchanges?: boolean;
}

function maxBytesOf(options: ReadTraceOptions): number {
  if (options.maxBytes !== undefined) return options.maxBytes;
  const env = Number(process.env.NETTRACE_MAX_TRACE_BYTES);
  return Number.isSafeInteger(env) && env > 0 ? env : DEFAULT_MAX_TRACE_BYTES;
}

function openError(err: unknown, path: string): TraceFileError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new TraceFileError(`no such file: ${path}`);
  if (code === 'EISDIR') return new TraceFileError(`${path} is a directory, not a trace file`);
  if (code === 'EACCES' || code === 'EPERM') return new TraceFileError(`cannot read ${path}: permission denied`);
  return new TraceFileError(`cannot read ${path}: ${(err as Error).message}`);
}

function formatSize(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GiB` : `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

/** Refuses what is not a regular file or is larger than the limit, before reading any of it. */
function checkSize(stat: { size: number; isFile(): boolean; isDirectory(): boolean }, path: string, options: ReadTraceOptions): void {
  if (stat.isDirectory()) throw new TraceFileError(`${path} is a directory, not a trace file`);
  if (!stat.isFile()) throw new TraceFileError(`${path} is not a regular file`);
  const max = maxBytesOf(options);
  if (stat.size > max) {
    throw new TraceFileError(
      `${path} is ${formatSize(stat.size)}, larger than the ${formatSize(max)} nettrace reads (set NETTRACE_MAX_TRACE_BYTES to allow more)`,
    );
  }
}

/**
 * A streaming trace reader: bytes in, a validated Trace out. The first bytes decide whether the
 * file is a trace at all (a JSON object whose first member is a trace's), so a large file of
 * something else is refused after one chunk.
 */
class TraceReader {
  private readonly obj: Record<string, unknown> = {};
  private readonly scanner: JsonObjectScanner;
  private first = true;

  constructor(
    private readonly name: string,
    options: ReadTraceOptions,
  ) {
    const obj = this.obj;
    this.scanner = new JsonObjectScanner(
      {
        firstKey: (key) => {
          if (!TRACE_KEYS.has(key)) throw notATrace(name, key === 'log');
        },
        arrayStart: (key) => {
          obj[key] = [];
        },
        keep: options.keepRequest
          ? (key, raw) => key !== 'httpRequests' || options.keepRequest!(raw.length === 1 ? raw[0] : Buffer.concat(raw))
          : undefined,
        element: (key, value) => {
          (obj[key] as unknown[]).push(key === 'exchanges' && options.slimExchanges ? slimExchange(value) : value);
        },
        field: (key, value) => {
          if (key === 'formatVersion') checkVersion(value, name);
          obj[key] = value;
        },
      },
      STREAMED,
      options.maxRecordBytes,
    );
  }

  push(chunk: Buffer): void {
    if (this.first) {
      const text = chunk.toString('utf8').replace(/^\uFEFF/, '');
      const trimmed = text.trimStart();
      if (trimmed === '') return this.feed(chunk);
      this.first = false;
      if (trimmed[0] === '[') throw new TraceFileError(`${this.name} is not a nettrace trace (expected a JSON object)`);
      if (trimmed[0] !== '{') {
        const start = trimmed.slice(0, 20).replace(/[^\x20-\x7e]/g, '?');
        throw new TraceFileError(`${this.name} is not JSON (it starts with "${start}")`);
      }
    }
    this.feed(chunk);
  }

  private feed(chunk: Buffer): void {
    try {
      this.scanner.push(chunk);
    } catch (err) {
      throw this.translate(err);
    }
  }

  private translate(err: unknown): Error {
    if (err instanceof JsonTooDeepError) return tooDeep(this.name, err.offset);
    if (err instanceof JsonScanError) {
      if (err.truncated) return new TraceFileError(`${this.name} is not complete JSON (truncated at byte ${err.offset}?)`);
      return new TraceFileError(`${this.name} is not valid JSON: ${err.message} (at byte ${err.offset})`);
    }
    return err as Error;
  }

  end(): Trace {
    if (this.scanner.empty) throw new TraceFileError(`${this.name} is empty`);
    try {
      this.scanner.end();
    } catch (err) {
      throw this.translate(err);
    }
    return validateTrace(this.obj, this.name);
  }
}

/** An exchange without its bytes (ReadTraceOptions.slimExchanges: its bodies then read as cut; their sizes and `over` stay). */
function slimExchange(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const ex = value as { reqBody?: unknown; body?: unknown; messages?: unknown };
  const slim = (b: unknown) => {
    if (typeof b === 'object' && b !== null && typeof (b as { base64?: unknown }).base64 === 'string')
      (b as { base64: string }).base64 = '';
  };
  slim(ex.reqBody);
  slim(ex.body);
  if (Array.isArray(ex.messages)) for (const m of ex.messages) slim((m as { data?: unknown } | null)?.data);
  return value;
}

const CHUNK_BYTES = 1 << 20;

/** A trace file's reader and its read buffer, once its size is allowed (readTraceFile, readTraceFileAsync). */
function startReading(
  stat: Parameters<typeof checkSize>[0],
  path: string,
  options: ReadTraceOptions,
): { reader: TraceReader; buf: Buffer } {
  checkSize(stat, path, options);
  return { reader: new TraceReader(path, options), buf: Buffer.allocUnsafe(CHUNK_BYTES) };
}

/**
 * Reads and validates a trace file, streaming (no whole-file string); refuses files larger than
 * `options.maxBytes` and files that do not start like a trace before reading them whole. Throws
 * TraceFileError with a one-line message.
 */
export function readTraceFile(path: string, options: ReadTraceOptions = {}): Trace {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw openError(err, path);
  }
  try {
    const { reader, buf } = startReading(fstatSync(fd), path, options);
    const read = (): number => {
      try {
        return readSync(fd, buf, 0, buf.length, null);
      } catch (err) {
        throw openError(err, path);
      }
    };
    for (let n = read(); n > 0; n = read()) reader.push(buf.subarray(0, n));
    return reader.end();
  } finally {
    closeSync(fd);
  }
}

/**
 * Calls `fn` with each `httpRequests` entry of a trace file, in file order, parsing one at a time
 * (nothing else is kept); awaits `fn`. Use after readTraceFile() with `keepRequest` has checked
 * the file and read its other records. Throws TraceFileError.
 */
export async function forEachRequest(
  path: string,
  fn: (request: HttpRequest) => void | Promise<void>,
  options: ReadTraceOptions = {},
): Promise<void> {
  const fh = await openTrace(path);
  try {
    checkSize(await fh.stat(), path, options);
    let batch: unknown[] = [];
    const scanner = new JsonObjectScanner(
      {
        field: () => {},
        element: (key, value) => {
          if (key === 'httpRequests') batch.push(value);
        },
        keep: (key) => key === 'httpRequests',
      },
      STREAMED,
      options.maxRecordBytes,
    );
    const buf = Buffer.allocUnsafe(CHUNK_BYTES);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      try {
        scanner.push(buf.subarray(0, bytesRead));
      } catch (err) {
        if (err instanceof JsonTooDeepError) throw tooDeep(path, err.offset);
        if (err instanceof JsonScanError) throw new TraceFileError(`${path} is not valid JSON: ${err.message} (at byte ${err.offset})`);
        throw err;
      }
      const todo = batch;
      batch = [];
      for (const r of todo) await fn(checkedRequest(r, path));
    }
  } finally {
    await fh.close();
  }
}

/** Opens a trace file for reading (forEachRequest, readTraceFileAsync); TraceFileError when it cannot. */
async function openTrace(path: string): Promise<FileHandle> {
  try {
    // Required here: writing a trace (`nettrace run`) does not load fs/promises (issue 52).
    return await (require('node:fs/promises') as typeof import('node:fs/promises')).open(path, 'r');
  } catch (err) {
    throw openError(err, path);
  }
}

/** readTraceFile() without blocking the event loop for the whole file (for the extension host). */
export async function readTraceFileAsync(path: string, options: ReadTraceOptions = {}): Promise<Trace> {
  const fh = await openTrace(path);
  try {
    const { reader, buf } = startReading(await fh.stat(), path, options);
    const read = (): Promise<number> =>
      fh.read(buf, 0, buf.length, null).then(
        (r) => r.bytesRead,
        (err: unknown) => {
          throw openError(err, path);
        },
      );
    for (let n = await read(); n > 0; n = await read()) reader.push(buf.subarray(0, n));
    return reader.end();
  } finally {
    await fh.close();
  }
}

/**
 * Fields of a request that a trace file does not hold (from format version 2): every reader
 * works them out again from the recorded ones (src/trace/enrich.ts enrichRequest), so they are
 * not written. A version 1 file holds them; readers work them out again all the same.
 */
export const DERIVED_REQUEST_FIELDS = ['timings', 'kernelTimings', 'loopBlocked', 'debuggerPaused', 'diagnosis'] as const;

/** Fields of a served request a trace file does not hold (enrichIncoming), as DERIVED_REQUEST_FIELDS. */
export const DERIVED_INCOMING_FIELDS = ['loopBlocked', 'debuggerPaused'] as const;

/**
 * `record` without `fields`: itself when it has none of them (the collector's records), else a
 * copy with them undefined (JSON.stringify leaves those out; no `delete`, which would turn the
 * copy into a slower dictionary object).
 */
function without<T extends object>(record: T, fields: readonly string[]): T {
  const r = record as Record<string, unknown>;
  let i = 0;
  while (i < fields.length && r[fields[i]] === undefined) i++;
  if (i === fields.length) return record;
  const out: Record<string, unknown> = { ...r };
  for (const f of fields) if (out[f] !== undefined) out[f] = undefined;
  return out as T;
}

/** What a trace file holds of an element of the array `key`: the recorded facts (see DERIVED_REQUEST_FIELDS). */
function recordedPart(key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (key === 'httpRequests') return without(value as HttpRequest, DERIVED_REQUEST_FIELDS);
  if (key === 'incomingRequests') return without(value as IncomingRequest, DERIVED_INCOMING_FIELDS);
  return value;
}

/**
 * Writes a trace file of format version FORMAT_VERSION: exactly `JSON.stringify(trace)` and a
 * newline (no indentation), less the derived fields (DERIVED_REQUEST_FIELDS,
 * DERIVED_INCOMING_FIELDS) — whether `trace` has them (an enriched trace) or not (the
 * collector's records) — record by record, mode 0600: a trace of any size is written, not only
 * one that fits in a string. Fields this code does not know are written as they are. `sync`: see
 * WriteJsonOptions.sync.
 */
export function writeTraceFile(path: string, trace: Trace, { sync = false }: Pick<WriteJsonOptions, 'sync'> = {}): Promise<void> {
  const file = trace.formatVersion === FORMAT_VERSION ? trace : { ...trace, formatVersion: FORMAT_VERSION };
  return writeJsonFile(path, file, 2, { indent: false, element: recordedPart, sync });
}

/** Writes a HAR document like writeTraceFile(): entry by entry, mode 0600. */
export function writeHarFile(path: string, har: Har): Promise<void> {
  return writeJsonFile(path, har, 3);
}
