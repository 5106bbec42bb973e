/**
 * A replay's fields of a trace read from a file (untrusted, as every record: normalize.ts): a
 * request's `replay` mark and the trace's `replay` (src/trace/contract/replayMark.ts), kept when
 * they have their shape, their texts bounded; anything else is dropped, never trusted.
 */

import type { ReplayMark, ReplayRun } from '../contract/replayMark';
import { RECORDED_END_KINDS } from '../contract/recording';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string';
const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const REASONS = new Set(['spent', 'differs', 'nothing-near', 'bad-url', 'not-replayable', 'unheld']);
const NEARNESS = new Set(['same method and path', 'same path', 'same host']);
/** Longest text kept of a difference or a summary (a file's, shown in a terminal and the panel). */
const MAX_TEXT = 2000;

const cut = (s: string): string => (s.length > MAX_TEXT ? s.slice(0, MAX_TEXT - 1) + '…' : s);

/** A request's `replay` of a file, made well-formed; false when it cannot be (then it is dropped). */
export function fixReplayMark(m: Obj): boolean {
  if (m.outcome === 'replayed') {
    if (!isText(m.call) || !isCount(m.nth) || !isCount(m.of) || !isText(m.end) || !RECORDED_END_KINDS.has(m.end)) return false;
    if (m.repeated !== true) delete m.repeated;
    if (m.cut !== true) delete m.cut;
    if (m.timing !== 'recorded') delete m.timing;
    return true;
  }
  if (m.outcome !== 'unmatched' && m.outcome !== 'passed') return false;
  if (!isText(m.reason) || !REASONS.has(m.reason) || !isText(m.summary)) return false;
  m.summary = cut(m.summary);
  m.differences = Array.isArray(m.differences) ? m.differences.filter(isText).slice(0, 8).map(cut) : [];
  if (!isCount(m.more)) delete m.more;
  const n = m.nearest;
  if (n !== undefined) {
    if (!isObj(n) || !isText(n.call) || !isText(n.method) || !isText(n.url)) delete m.nearest;
    else if (n.nearness !== undefined && !(isText(n.nearness) && NEARNESS.has(n.nearness))) delete n.nearness;
  }
  return true;
}

/** A file's `replay` mark of a request, or undefined. */
export function replayMarkOf(v: unknown): ReplayMark | undefined {
  return isObj(v) && fixReplayMark(v) ? (v as unknown as ReplayMark) : undefined;
}

/** The trace's `replay` of a file, made well-formed, or undefined when it has not its shape. */
export function normalizeReplayRun(v: unknown): ReplayRun | undefined {
  if (!isObj(v) || !isText(v.file) || (v.source !== 'trace' && v.source !== 'har')) return undefined;
  const counts = isObj(v.counts) ? v.counts : {};
  const o = isObj(v.options) ? v.options : {};
  const list = (x: unknown): string[] | undefined => (Array.isArray(x) && x.some(isText) ? x.filter(isText) : undefined);
  const options: ReplayRun['options'] = {
    unmatched: o.unmatched === 'pass' ? 'pass' : 'fail',
    timing: o.timing === 'recorded' ? 'recorded' : 'now',
    dates: o.dates === 'keep' ? 'keep' : 'shift',
  };
  const ignoreQuery = list(o.ignoreQuery);
  if (ignoreQuery) options.ignoreQuery = ignoreQuery;
  const ignoreFields = list(o.ignoreFields);
  if (ignoreFields) options.ignoreFields = ignoreFields;
  const matchHeaders = list(o.matchHeaders);
  if (matchHeaders) options.matchHeaders = matchHeaders;
  if (o.ignoreHost === true) options.ignoreHost = true;
  const run: ReplayRun = {
    file: cut(v.file),
    source: v.source,
    calls: isCount(v.calls) ? v.calls : 0,
    unused: isCount(v.unused) ? v.unused : 0,
    counts: {
      replayed: isCount(counts.replayed) ? counts.replayed : 0,
      unmatched: isCount(counts.unmatched) ? counts.unmatched : 0,
      passed: isCount(counts.passed) ? counts.passed : 0,
    },
    options,
  };
  if (isText(v.recordedAt) && !Number.isNaN(Date.parse(v.recordedAt))) run.recordedAt = v.recordedAt;
  if (Array.isArray(v.warnings)) {
    const warnings = v.warnings
      .filter((w): w is Obj => isObj(w) && isText(w.code) && isCount(w.count) && isText(w.message))
      .slice(0, 100)
      .map((w) => ({
        code: cut(w.code as string),
        count: w.count as number,
        message: cut(w.message as string),
        ...(isText(w.example) ? { example: cut(w.example) } : {}),
      }));
    if (warnings.length) run.warnings = warnings;
  }
  return run;
}
