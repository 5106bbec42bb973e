/**
 * Keys and comparisons of prepared requests (./prepared.ts). A key is a string of method, host and
 * port (unless the host is ignored), scheme, path, the query as a sorted multiset, the matched
 * headers' values and the body's fingerprint: requests with the same key land in the same bucket
 * of the matcher's hash map. Values a recording holds only in part (`<redacted>`, a cut header, a
 * body cut by the cap or not held) are wildcards in the key and compared after, exactly.
 */

import { REDACTED } from '../trace/contract/wire';
import { bodyKey, readBody, sameBody } from './body';
import { sameBytes } from './bytes';
import { isPartial, keptQuery, recordedHeader, type MatchContext, type Prepared } from './prepared';
import type { ReplayCall } from './types';
import { urlParts } from './url';

/**
 * A query name or value as a key writes it: as it is when it holds none of `%&=*` and no line
 * break, else percent-encoded (so a kept string, which has no `%`, never equals an encoded one).
 */
function esc(s: string): string {
  return /[%&=*\n]/.test(s) ? encodeURIComponent(s).replace(/\*/g, '%2A') : s;
}

/** The key of a prepared request without its body. */
export function baseKey(p: Prepared, ctx: MatchContext): string {
  const u = p.url;
  if (!u) return '';
  const query = p.query.map(([n, v]) => `${esc(n)}=${ctx.wildQuery.has(n) ? '*' : esc(v)}`).sort();
  const headers = ctx.headers.map((name, i) => (ctx.wildHeaders.has(name) ? '*' : (p.headers[i] ?? []).join('\u0001')));
  return [p.method, ctx.ignoreHost ? '' : `${u.host}:${u.port}`, u.scheme, u.path, query.join('&'), headers.join('\u0002')].join('\n');
}

/** The body's part of a recorded call's key: its fingerprint, `c<size>` for a cut body, `*` for one not held. */
export function recordedBodyKey(p: Prepared): string {
  if (p.bodyState === 'unknown') return '*';
  if (p.bodyState === 'cut') return `c${p.bodySize}`;
  return bodyKey(p.body);
}

/** The body keys a request of the program may find its recorded call under, most exact first. */
export function liveBodyKeys(p: Prepared): string[] {
  return p.bodyState === 'cut' ? [`c${p.bodySize}`, '*'] : [bodyKey(p.body), `c${p.bodySize}`, '*'];
}

/** Whether two query multisets are equal, a recorded `<redacted>` value matching any value of its name. */
export function sameQuery(live: ReadonlyArray<[string, string]>, recorded: ReadonlyArray<[string, string]>): boolean {
  if (live.length !== recorded.length) return false;
  const left = new Map<string, number>();
  for (const [n, v] of live) left.set(`${n}=${v}`, (left.get(`${n}=${v}`) ?? 0) + 1);
  const wild: string[] = [];
  for (const [n, v] of recorded) {
    if (v === REDACTED) {
      wild.push(n);
      continue;
    }
    const k = `${n}=${v}`;
    const c = left.get(k);
    if (!c) return false;
    left.set(k, c - 1);
  }
  for (const n of wild) {
    let found = false;
    for (const [k, c] of left) {
      if (c > 0 && k.startsWith(`${n}=`) && k.indexOf('=') === n.length) {
        left.set(k, c - 1);
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

/** Whether a request's header values match the recorded ones (unknown, redacted or cut recorded values match any). */
export function sameHeader(live: readonly string[] | undefined, recorded: readonly string[] | undefined): boolean {
  if (recorded === undefined || live === undefined) return true;
  if (live.length !== recorded.length) return false;
  return recorded.every((r, i) => (isPartial(r) ? r === REDACTED || live[i].startsWith(r.slice(0, -1)) : r === live[i]));
}

/** Whether a request's body matches a recorded call's (a cut one by its length and start; one not held, any). */
export function sameRequestBody(live: Prepared, recorded: Prepared): boolean {
  switch (recorded.bodyState) {
    case 'unknown':
      return true;
    case 'cut': {
      const held = recorded.bodyBytes ?? new Uint8Array(0);
      return live.bodySize === recorded.bodySize && !!live.bodyBytes && sameBytes(live.bodyBytes.subarray(0, held.length), held);
    }
    default:
      return live.bodyState !== 'cut' && sameBody(live.body, recorded.body);
  }
}

/**
 * Whether a request matches a recorded call whose key it shares: what the key left as wildcards,
 * and the bodies themselves (the key holds their fingerprints). Reads of the recorded call only
 * what it needs, so the usual lookup (no redacted parameter, a body-less request) parses nothing.
 */
export function verifies(live: Prepared, call: ReplayCall, ctx: MatchContext): boolean {
  if (ctx.wildQuery.size > 0 && !sameQuery(live.query, keptQuery(urlParts(call.url), ctx))) return false;
  for (let i = 0; i < ctx.headers.length; i++)
    if (!sameHeader(live.headers[i], recordedHeader(call.reqHeaders, ctx.headers[i]))) return false;
  switch (call.reqBodyState) {
    case 'unknown':
      return true;
    case 'none':
      return live.body.kind === 'none' && live.bodyState !== 'cut';
    case 'cut': {
      const held = call.reqBody ?? new Uint8Array(0);
      return live.bodySize === call.reqBodySize && !!live.bodyBytes && sameBytes(live.bodyBytes.subarray(0, held.length), held);
    }
    default:
      return live.bodyState !== 'cut' && sameBody(live.body, readBody(call.reqBody, ctx.fields));
  }
}
