/**
 * The divergence of a request no recorded call matches: the nearest recorded call (same method and
 * path first, then same path, then same host) and what differed, in words a user reads in the
 * panel and `nettrace show` ("method POST, recorded GET", "query parameter `page`: 3, recorded 2",
 * "body field `items[1].qty`: 5, recorded 4"). The first divergence of a replay is where the
 * program behaved differently from the recorded run. Bounded: at most MAX_DIFFERENCES sentences
 * (the rest counted), each value cut to MAX_VALUE_CHARS.
 */

import { describeBody, formDifferences, jsonDifferences, partDifferences, shown, type Differences } from './bodyDiff';
import { firstDifference } from './bytes';
import { sameHeader, sameQuery, sameRequestBody } from './compare';
import { prepareCall, type MatchContext, type Prepared, type ReplayRequest } from './prepared';
import type { ReplayCall } from './types';
import { origin } from './url';

/** Differences listed per divergence; the rest are counted in `more`. */
export const MAX_DIFFERENCES = 8;
/** Candidates of a tier compared to find the nearest (the first not yet given, in recorded order). */
const CANDIDATES = 32;

/** Why a request matched no recorded call, and how it differs from the nearest one. */
export interface Divergence {
  /** The request in a line (`POST http://api.test/orders`). */
  request: string;
  /**
   * `spent`: recorded calls match it, but each answer was given already; `differs`: the nearest
   * call differs in `differences`; `nothing-near`: nothing recorded on its path or host;
   * `bad-url`: its URL is not absolute.
   */
  reason: 'spent' | 'differs' | 'nothing-near' | 'bad-url';
  nearest?: ReplayCall;
  /** How `nearest` was found. */
  nearness?: 'same method and path' | 'same path' | 'same host';
  /** For `spent`: how many recorded answers it had. */
  answers?: number;
  /** What differed, at most MAX_DIFFERENCES sentences. */
  differences: string[];
  /** Differences not listed. */
  more: number;
  /** One sentence for a log line or a tooltip. */
  summary: string;
}

/** The matcher's indexes of recorded calls by method and path, path, and origin. */
export interface NearIndex {
  byMethodPath: Map<string, number[]>;
  byPath: Map<string, number[]>;
  byOrigin: Map<string, number[]>;
}

/** What the matcher knows when a request is unmatched. */
export interface DivergenceInput {
  calls: readonly ReplayCall[];
  near: NearIndex;
  used: Uint8Array;
  ctx: MatchContext;
  /** Recorded calls matched it but were all given: the last of them and how many there were. */
  spent?: { call: ReplayCall; answers: number };
}

/** The divergence of `request` (prepared as `live`). */
export function divergenceOf(request: ReplayRequest, live: Prepared, input: DivergenceInput): Divergence {
  const label = `${live.method} ${request.url}`;
  if (!live.url)
    return {
      request: label,
      reason: 'bad-url',
      differences: [],
      more: 0,
      summary: `${label}: not an absolute URL, so no recorded call can match it.`,
    };
  if (input.spent) {
    const { answers, call } = input.spent;
    return {
      request: label,
      reason: 'spent',
      nearest: call,
      answers,
      differences: [],
      more: 0,
      summary: `${label} was made more often than recorded: the recording has ${answers} answer${answers === 1 ? '' : 's'} for it, all given (each is given once).`,
    };
  }
  const tiers: Array<[NonNullable<Divergence['nearness']>, number[] | undefined]> = [
    ['same method and path', input.near.byMethodPath.get(`${live.method} ${live.url.path}`)],
    ['same path', input.near.byPath.get(live.url.path)],
    ['same host', input.near.byOrigin.get(origin(live.url))],
  ];
  for (const [nearness, list] of tiers) {
    if (!list || list.length === 0) continue;
    const found = nearestIn(list, live, input);
    const { call, diffs } = found;
    const differences = diffs.list.slice(0, MAX_DIFFERENCES);
    const more = diffs.count - differences.length;
    const what = differences.length > 0 ? `: ${differences[0]}${diffs.count > 1 ? ` (and ${diffs.count - 1} more)` : ''}` : '';
    return {
      request: label,
      reason: 'differs',
      nearest: call,
      nearness,
      differences,
      more,
      summary: `${label} matches no recorded call; the nearest (${nearness}) is recorded call ${call.index + 1}, ${call.method} ${call.url}${what}.`,
    };
  }
  return {
    request: label,
    reason: 'nothing-near',
    differences: [],
    more: 0,
    summary: `${label} matches no recorded call, and nothing was recorded on its path or at ${origin(live.url)}.`,
  };
}

/** The candidate of `list` with the fewest differences (calls not yet given first, in recorded order). */
function nearestIn(list: number[], live: Prepared, input: DivergenceInput): { call: ReplayCall; diffs: Differences } {
  const unused = list.filter((i) => !input.used[i]).slice(0, CANDIDATES);
  const candidates = unused.length > 0 ? unused : list.slice(-CANDIDATES);
  let best: { call: ReplayCall; diffs: Differences } | undefined;
  for (const i of candidates) {
    const diffs = differences(live, prepareCall(input.calls[i], input.ctx), input.ctx);
    if (!best || diffs.count < best.diffs.count) best = { call: input.calls[i], diffs };
    if (diffs.count <= 1) break;
  }
  return best as { call: ReplayCall; diffs: Differences };
}

/** Everything that differs between a request and a recorded call, in the order a user reads them. */
export function differences(live: Prepared, rec: Prepared, ctx: MatchContext): Differences {
  const d: Differences = { list: [], count: 0 };
  const add = (text: string) => {
    d.count++;
    if (d.list.length < MAX_DIFFERENCES) d.list.push(text);
  };
  if (live.method !== rec.method) add(`method ${live.method}, recorded ${rec.method}`);
  const a = live.url;
  const b = rec.url;
  if (a && b) {
    if (a.scheme !== b.scheme) add(`scheme ${a.scheme}, recorded ${b.scheme}`);
    if (!ctx.ignoreHost && (a.host !== b.host || a.port !== b.port)) add(`host ${a.host}:${a.port}, recorded ${b.host}:${b.port}`);
    if (a.path !== b.path) add(`path ${shown(a.path)}, recorded ${shown(b.path)}`);
  }
  if (!sameQuery(live.query, rec.query)) for (const text of formDifferences(live.query, rec.query, 'query parameter')) add(text);
  ctx.headers.forEach((name, i) => {
    if (!sameHeader(live.headers[i], rec.headers[i])) {
      add(`header \`${name}\`: ${valuesText(live.headers[i])}, recorded ${valuesText(rec.headers[i])}`);
    }
  });
  for (const text of bodyDifferences(live, rec, ctx)) add(text);
  return d;
}

function valuesText(values: readonly string[] | undefined): string {
  return !values || values.length === 0 ? 'not sent' : values.map(shown).join(', ');
}

/** What differs between two bodies, in words. */
function bodyDifferences(live: Prepared, rec: Prepared, ctx: MatchContext): string[] {
  if (sameRequestBody(live, rec)) return [];
  if (rec.bodyState === 'cut') {
    const held = rec.bodyBytes ?? new Uint8Array(0);
    if (live.bodySize !== rec.bodySize)
      return [`body: ${live.bodySize} bytes, recorded ${rec.bodySize} (the recording holds its first ${held.length})`];
    const at = live.bodyBytes ? firstDifference(live.bodyBytes.subarray(0, held.length), held) : 0;
    return at < held.length ? [`body: differs at byte ${at}, within the first ${held.length} the recording holds`] : [];
  }
  const x = live.body;
  const y = rec.body;
  if (x.kind === 'json' && y.kind === 'json') return jsonDifferences(x.value, y.value, ctx.fields.paths);
  if (x.kind === 'form' && y.kind === 'form') {
    const drop = (pairs: Array<[string, string]>) => pairs.filter(([n]) => !ctx.fields.names.has(n));
    return formDifferences(drop(x.pairs), drop(y.pairs), 'form field');
  }
  if (x.kind === 'multipart' && y.kind === 'multipart') return partDifferences(x.parts, y.parts, ctx.fields.names);
  if (x.kind === y.kind && x.kind === 'none') return [];
  if (x.kind === 'bytes' && y.kind === 'bytes' && x.size === y.size) {
    const at = firstDifference(x.bytes, y.bytes);
    return at < x.size ? [`body: ${describeBody(x)}, recorded ${y.size}, first difference at byte ${at}`] : [];
  }
  if (x.kind === y.kind) return [`body: ${describeBody(x)}, recorded ${y.size}`];
  return [`body: ${describeBody(x)}, recorded ${describeBody(y)}`];
}
