/**
 * Reading saved trace files, with one-line, plain error messages for everything that can be wrong
 * with one (missing, empty, cut short, not JSON, not a trace, another format version).
 */

import { readFileSync } from 'node:fs';
import { FORMAT_VERSION, RECORD_KINDS, type Trace, type TraceStats } from './types';

/** A trace file could not be read; `message` is one plain line meant for the user. */
export class TraceFileError extends Error {
  override readonly name = 'TraceFileError';
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
  const obj = data as Record<string, unknown>;
  if (!('formatVersion' in obj) || !Array.isArray(obj.httpRequests)) {
    throw new TraceFileError(`${name} is not a nettrace trace (no formatVersion or httpRequests)`);
  }
  if (obj.formatVersion !== FORMAT_VERSION) {
    const v = typeof obj.formatVersion === 'number' ? String(obj.formatVersion) : JSON.stringify(obj.formatVersion);
    const advice = typeof obj.formatVersion === 'number' && obj.formatVersion > FORMAT_VERSION ? ' — upgrade nettrace' : '';
    throw new TraceFileError(`${name} is trace format version ${v}; this nettrace reads version ${FORMAT_VERSION}${advice}`);
  }
  for (const kind of RECORD_KINDS) {
    if (obj[kind] === undefined) obj[kind] = [];
    else if (!Array.isArray(obj[kind])) throw new TraceFileError(`${name} is damaged: "${kind}" is not a list`);
  }
  if (!Array.isArray(obj.processes)) obj.processes = [];
  if (typeof obj.description !== 'string') obj.description = '';
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
  for (const r of obj.httpRequests as unknown[]) {
    if (typeof r !== 'object' || r === null || typeof (r as { traceID?: unknown }).traceID !== 'string') {
      throw new TraceFileError(`${name} is damaged: an httpRequests entry has no traceID`);
    }
  }
  return obj as unknown as Trace;
}

/** Reads and validates a trace file. Throws TraceFileError with a one-line message. */
export function readTraceFile(path: string): Trace {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TraceFileError(`no such file: ${path}`);
    if (code === 'EISDIR') throw new TraceFileError(`${path} is a directory, not a trace file`);
    if (code === 'EACCES' || code === 'EPERM') throw new TraceFileError(`cannot read ${path}: permission denied`);
    if (code === 'ERR_STRING_TOO_LONG') throw new TraceFileError(`${path} is too large to read`);
    throw new TraceFileError(`cannot read ${path}: ${(err as Error).message}`);
  }
  return parseTraceFile(text, path);
}
