/**
 * A request made ready for matching, the same way for a recorded call and for a request the
 * replayed program makes: its URL in parts, its query without the ignored parameters, the values
 * of the headers matched on, and its body read (./body.ts). The matching context holds the options
 * and what the recording says is a wildcard: a query parameter or header whose recorded value reads
 * `<redacted>` (credentials are never stored) matches any value.
 */

import { REDACTED, MAX_VALUE } from '../trace/contract/wire';
import type { HeaderPair } from '../trace/contract/types';
import { ignoredFields, readBody, type Body, type IgnoredFields } from './body';
import { utf8 } from './bytes';
import type { RecordedBodyState, ReplayCall } from './types';
import { urlParts, type UrlParts } from './url';

/** How the replayed program's request is given to the matcher. */
export interface ReplayRequest {
  method: string;
  /** The absolute URL (`http://host:port/path?query`). */
  url: string;
  /** `[name, value]` pairs, a flat `rawHeaders` list, or an object of values (Node's `getHeaders()`). */
  headers?: HeadersLike;
  /** The body as sent (a string is taken as UTF-8), or its start when `bodySize` is more. */
  body?: Uint8Array | string;
  /**
   * The body's length in all, when `body` holds only its start (a body over the recording's cap,
   * REPLAY_ASK_BODY_MAX): it matches a recorded body cut to the same length, by its start.
   */
  bodySize?: number;
}

export type HeadersLike =
  | ReadonlyArray<readonly [string, string] | readonly [string]>
  | readonly string[]
  | Readonly<Record<string, string | number | readonly string[] | undefined>>;

/** The matcher's options (docs/replay.md, "Matching"; the flags of `nettrace run`). */
export interface MatchOptions {
  /** Query parameters left out of the comparison (`--replay-ignore-query NAME`). */
  ignoreQuery?: readonly string[];
  /** Body fields left out of the comparison (`--replay-ignore-field PATH`: `meta.sentAt`, `items[*].nonce`). */
  ignoreFields?: readonly string[];
  /** Request headers compared too (`--replay-match-header NAME`); none by default. */
  matchHeaders?: readonly string[];
  /** Compare the path on any host and port (`--replay-ignore-host`); off by default. */
  ignoreHost?: boolean;
  /**
   * A request made more often than recorded: `unmatched` (the default, as mitmproxy's server
   * replay and Polly.js do: each answer is given once) or `repeat` (the last answer again, counted
   * as repeated).
   */
  afterLast?: 'unmatched' | 'repeat';
}

/** The options and wildcards every comparison of one matcher uses. */
export interface MatchContext {
  ignoreQuery: Set<string>;
  fields: IgnoredFields;
  /** Header names in lower case, sorted. */
  headers: string[];
  ignoreHost: boolean;
  afterLast: 'unmatched' | 'repeat';
  /** Query parameters a recorded URL has as `<redacted>`: their values are left out of keys and compared after. */
  wildQuery: Set<string>;
  /** Headers (of `headers`) some recorded call has no whole value for: likewise. */
  wildHeaders: Set<string>;
}

/** A request ready for matching. `headers[i]`: the values of context.headers[i]; undefined when unknown (matches any). */
export interface Prepared {
  method: string;
  url: UrlParts | undefined;
  query: Array<[string, string]>;
  headers: Array<string[] | undefined>;
  bodyState: RecordedBodyState;
  /** The body's bytes (a cut body's start). */
  bodyBytes?: Uint8Array;
  bodySize: number;
  /** The body read (`none` for a cut or unknown one). */
  body: Body;
}

/** The matching context of `calls` with `options` (throws ReplayInputError for a malformed field path). */
export function matchContext(calls: readonly ReplayCall[], options: MatchOptions): MatchContext {
  const headers = [...new Set((options.matchHeaders ?? []).map((h) => h.toLowerCase()))].sort();
  const ctx: MatchContext = {
    ignoreQuery: new Set(options.ignoreQuery ?? []),
    fields: ignoredFields(options.ignoreFields ?? []),
    headers,
    ignoreHost: options.ignoreHost === true,
    afterLast: options.afterLast === 'repeat' ? 'repeat' : 'unmatched',
    wildQuery: new Set(),
    wildHeaders: new Set(),
  };
  for (const call of calls) {
    if (call.url.includes(REDACTED)) {
      for (const [name, value] of urlParts(call.url)?.query ?? []) if (value === REDACTED) ctx.wildQuery.add(name);
    }
    for (const name of headers) {
      const values = recordedHeader(call.reqHeaders, name);
      if (values === undefined || values.some(isPartial)) ctx.wildHeaders.add(name);
    }
  }
  return ctx;
}

/** A recorded header value that stands for any value: redacted, or cut at the trace's cap. */
export function isPartial(value: string): boolean {
  return value === REDACTED || (value.length === MAX_VALUE + 1 && value.endsWith('…'));
}

/** A recorded call's values of header `name`; undefined when the recording does not know them (names only, no headers kept). */
export function recordedHeader(pairs: readonly HeaderPair[], name: string): string[] | undefined {
  if (pairs.length === 0) return undefined;
  const out: string[] = [];
  for (const p of pairs) {
    if (p[0].toLowerCase() !== name) continue;
    if (p.length < 2) return undefined;
    out.push(p[1] as string);
  }
  return out;
}

/** The values of header `name` (lower case) in a request's headers. */
function liveHeader(headers: HeadersLike | undefined, name: string): string[] {
  if (!headers) return [];
  const out: string[] = [];
  if (Array.isArray(headers)) {
    if (typeof headers[0] === 'string') {
      const flat = headers as readonly string[];
      for (let i = 0; i + 1 < flat.length; i += 2) if (flat[i].toLowerCase() === name) out.push(flat[i + 1]);
    } else {
      for (const p of headers as ReadonlyArray<readonly string[]>) if (p[0]?.toLowerCase() === name && p.length > 1) out.push(String(p[1]));
    }
    return out;
  }
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() !== name || value === undefined) continue;
    if (Array.isArray(value)) out.push(...value.map(String));
    else out.push(String(value));
  }
  return out;
}

/** The query a comparison sees: the ignored parameters left out. */
export function keptQuery(url: UrlParts | undefined, ctx: MatchContext): Array<[string, string]> {
  const q = url?.query ?? [];
  return ctx.ignoreQuery.size === 0 ? q : q.filter(([name]) => !ctx.ignoreQuery.has(name));
}

/** A recorded call made ready. */
export function prepareCall(call: ReplayCall, ctx: MatchContext): Prepared {
  const url = urlParts(call.url);
  const whole = call.reqBodyState === 'whole' || call.reqBodyState === 'none';
  return {
    method: call.method.toUpperCase(),
    url,
    query: keptQuery(url, ctx),
    headers: ctx.headers.map((name) => recordedHeader(call.reqHeaders, name)),
    bodyState: call.reqBodyState,
    ...(call.reqBody ? { bodyBytes: call.reqBody } : {}),
    bodySize: call.reqBodySize,
    body: whole ? readBody(call.reqBody, ctx.fields) : { kind: 'none', size: 0 },
  };
}

/** The replayed program's request made ready. */
export function prepareRequest(req: ReplayRequest, ctx: MatchContext): Prepared {
  const url = urlParts(req.url);
  const bytes = typeof req.body === 'string' ? utf8(req.body) : req.body;
  const held = bytes?.length ?? 0;
  // A body only partly given (over the cap): matched by its start and length, as a recorded cut body is.
  const cut = typeof req.bodySize === 'number' && req.bodySize > held;
  return {
    method: String(req.method).toUpperCase(),
    url,
    query: keptQuery(url, ctx),
    headers: ctx.headers.map((name) => liveHeader(req.headers, name)),
    bodyState: cut ? 'cut' : held > 0 ? 'whole' : 'none',
    ...(bytes ? { bodyBytes: bytes } : {}),
    bodySize: cut ? (req.bodySize as number) : held,
    body: cut ? { kind: 'none', size: 0 } : readBody(bytes, ctx.fields),
  };
}
