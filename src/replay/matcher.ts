/**
 * The matcher: which recorded call answers a request the replayed program makes. Calls are kept in
 * a hash map by key (./compare.ts: method, URL, body, and the headers asked for), each bucket in
 * recorded order, so a lookup costs one key and, almost always, one comparison, whatever the size
 * of the recording. The Nth request with a key gets the Nth recorded answer of that key; after the
 * last, the request is unmatched (as mitmproxy's server replay and Polly.js do by default) unless
 * `afterLast: 'repeat'` gives the last one again. An unmatched request comes with its divergence:
 * the nearest recorded call and what differed (./divergence.ts).
 */

import { baseKey, liveBodyKeys, recordedBodyKey, verifies } from './compare';
import { divergenceOf, type Divergence, type NearIndex } from './divergence';
import {
  matchContext,
  prepareCall,
  prepareRequest,
  type MatchContext,
  type MatchOptions,
  type Prepared,
  type ReplayRequest,
} from './prepared';
import type { ReplayCall, ReplayTable } from './types';
import { origin } from './url';

/** What the matcher answers for one request. */
export type ReplayMatch =
  | {
      matched: true;
      call: ReplayCall;
      /** This is the `nth` request with its key (from 1) … */
      nth: number;
      /** … of `of` recorded with it. */
      of: number;
      /** The last recorded answer given again (`afterLast: 'repeat'`). */
      repeated: boolean;
    }
  | { matched: false; divergence: Divergence };

/** The calls of one key, in recorded order. `next`: the first not yet given; `last`: the last given (-1: none). */
interface Bucket {
  calls: number[];
  next: number;
  last: number;
}

/** Counts of a replay so far, for the summary. */
export interface MatchCounts {
  matched: number;
  /** Of `matched`, answers given again after the last (`afterLast: 'repeat'`). */
  repeated: number;
  unmatched: number;
}

/** Matches the requests of a replayed program to a recording (see the file comment). */
export class ReplayMatcher {
  readonly calls: readonly ReplayCall[];
  readonly counts: MatchCounts = { matched: 0, repeated: 0, unmatched: 0 };
  /** Recorded calls compared with a request so far: about one per lookup (the test of the O(1) promise). */
  comparisons = 0;
  private readonly ctx: MatchContext;
  private readonly buckets = new Map<string, Bucket>();
  private readonly used: Uint8Array;
  private readonly near: NearIndex = { byMethodPath: new Map(), byPath: new Map(), byOrigin: new Map() };
  /** Recorded calls whose URL is not absolute: never matched (counted). */
  readonly unindexed: number;

  /** Throws ReplayInputError when an option is malformed (a body field path). */
  constructor(table: ReplayTable | readonly ReplayCall[], options: MatchOptions = {}) {
    this.calls = Array.isArray(table) ? (table as readonly ReplayCall[]) : (table as ReplayTable).calls;
    this.ctx = matchContext(this.calls, options);
    this.used = new Uint8Array(this.calls.length);
    let unindexed = 0;
    this.calls.forEach((call, i) => {
      const p = prepareCall(call, this.ctx);
      if (!p.url) {
        unindexed++;
        return;
      }
      const key = baseKey(p, this.ctx) + '\n' + recordedBodyKey(p);
      const bucket = this.buckets.get(key);
      if (bucket) bucket.calls.push(i);
      else this.buckets.set(key, { calls: [i], next: 0, last: -1 });
      push(this.near.byMethodPath, `${p.method} ${p.url.path}`, i);
      push(this.near.byPath, p.url.path, i);
      push(this.near.byOrigin, origin(p.url), i);
    });
    this.unindexed = unindexed;
  }

  /** The recorded answer for `request`, or its divergence. Each answer is given once (see afterLast). */
  match(request: ReplayRequest): ReplayMatch {
    const live = prepareRequest(request, this.ctx);
    const base = live.url ? baseKey(live, this.ctx) : undefined;
    let best: { bucket: Bucket; at: number } | undefined;
    const seen: Bucket[] = [];
    if (base !== undefined) {
      for (const bodyKey of liveBodyKeys(live)) {
        const bucket = this.buckets.get(base + '\n' + bodyKey);
        if (!bucket) continue;
        seen.push(bucket);
        const at = this.firstUnused(bucket, live);
        if (at >= 0 && (!best || bucket.calls[at] < best.bucket.calls[best.at])) best = { bucket, at };
      }
    }
    if (best) return this.give(best.bucket, best.at, false);
    const spent = this.lastGiven(seen, live);
    if (spent && this.ctx.afterLast === 'repeat') return this.give(spent.bucket, spent.at, true);
    this.counts.unmatched++;
    const divergence = divergenceOf(request, live, {
      calls: this.calls,
      near: this.near,
      used: this.used,
      ctx: this.ctx,
      ...(spent ? { spent: { call: this.calls[spent.bucket.calls[spent.at]], answers: this.countVerifying(spent.bucket, live) } } : {}),
    });
    return { matched: false, divergence };
  }

  /** The recorded calls no request was answered with, in order (for the summary: the program made fewer requests). */
  unused(): ReplayCall[] {
    return this.calls.filter((_, i) => !this.used[i]);
  }

  /** Forgets what was given: the next request of each key gets its first answer again. */
  reset(): void {
    this.used.fill(0);
    for (const b of this.buckets.values()) {
      b.next = 0;
      b.last = -1;
    }
    Object.assign(this.counts, { matched: 0, repeated: 0, unmatched: 0 });
  }

  /** How many recorded calls of `bucket` a request matches (its recorded answers; the first 1000 looked at). */
  private countVerifying(bucket: Bucket, live: Prepared): number {
    let n = 0;
    for (const i of bucket.calls.slice(0, 1000)) if (verifies(live, this.calls[i], this.ctx)) n++;
    return n;
  }

  private give(bucket: Bucket, at: number, repeated: boolean): ReplayMatch {
    const i = bucket.calls[at];
    this.used[i] = 1;
    bucket.last = at;
    this.counts.matched++;
    if (repeated) this.counts.repeated++;
    return { matched: true, call: this.calls[i], nth: at + 1, of: bucket.calls.length, repeated };
  }

  /** The place in `bucket` of its first call not yet given that `live` matches, or -1. */
  private firstUnused(bucket: Bucket, live: Prepared): number {
    const { calls } = bucket;
    while (bucket.next < calls.length && this.used[calls[bucket.next]]) bucket.next++;
    for (let at = bucket.next; at < calls.length; at++) {
      if (this.used[calls[at]]) continue;
      this.comparisons++;
      if (verifies(live, this.calls[calls[at]], this.ctx)) return at;
    }
    return -1;
  }

  /** Among buckets `live` fell in, the last answer given that it matches (for a request made more often than recorded). */
  private lastGiven(buckets: Bucket[], live: Prepared): { bucket: Bucket; at: number } | undefined {
    let found: { bucket: Bucket; at: number } | undefined;
    for (const bucket of buckets) {
      if (bucket.last < 0) continue;
      let at = bucket.last;
      if (!verifies(live, this.calls[bucket.calls[at]], this.ctx)) {
        at = -1;
        for (let j = bucket.calls.length - 1; j >= Math.max(0, bucket.calls.length - 64); j--) {
          if (this.used[bucket.calls[j]] && verifies(live, this.calls[bucket.calls[j]], this.ctx)) {
            at = j;
            break;
          }
        }
      }
      if (at >= 0 && (!found || bucket.calls[at] > found.bucket.calls[found.at])) found = { bucket, at };
    }
    return found;
  }
}

function push(map: Map<string, number[]>, key: string, i: number): void {
  const list = map.get(key);
  if (list) list.push(i);
  else map.set(key, [i]);
}
