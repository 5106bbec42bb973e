/**
 * Reading records from outside (a trace or HAR file a user names) without trusting their shape:
 * small checks that say what a value is, so the readers (./fromTrace.ts, ./fromHar.ts) turn a
 * malformed file into a counted warning or a plain ReplayInputError, never a TypeError.
 */

import type { RecordedHead } from '../trace/contract/recording';
import { fromBase64 } from './bytes';

/** A plain object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A finite number, or undefined. */
export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A string, or undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `[name, value]` pairs from a trace's header list; entries of another shape are skipped and counted in `bad`. */
export function tracePairs(value: unknown, bad: { count: number }): Array<[string, string]> {
  if (!Array.isArray(value)) {
    if (value !== undefined) bad.count++;
    return [];
  }
  const out: Array<[string, string]> = [];
  for (const p of value) {
    if (Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'string') out.push([p[0], p[1]]);
    else bad.count++;
  }
  return out;
}

/** A recorded response head, or undefined (counted in `bad`) when it is not one. */
export function headOf(value: unknown, bad: { count: number }): RecordedHead | undefined {
  if (!isRecord(value)) return undefined;
  const status = num(value.status);
  if (status === undefined || !Number.isInteger(status) || status < 100 || status > 999) {
    bad.count++;
    return undefined;
  }
  const head: RecordedHead = { status, headers: tracePairs(value.headers, bad) };
  const text = str(value.statusText);
  if (text !== undefined) head.statusText = text;
  return head;
}

/** Decoded RecordedBytes: the bytes, their full size and whether they were cut; undefined when malformed. */
export function recordedBytes(value: unknown): { bytes: Uint8Array; size: number; cut: boolean } | undefined {
  if (!isRecord(value) || typeof value.base64 !== 'string') return undefined;
  const bytes = fromBase64(value.base64);
  if (!bytes) return undefined;
  const size = num(value.size);
  const cut = value.truncated === true || (size !== undefined && size > bytes.length);
  return { bytes, size: size !== undefined && size >= bytes.length ? size : bytes.length, cut };
}
