/**
 * Header pairs and short strings shared between records. A program's requests repeat the same headers
 * (`accept: *\/*`, `connection: keep-alive`, the same `content-type`), and a `[name, value]` pair
 * held once per distinct name and value instead of once per request is ≈ 100 bytes less per
 * header in the collector's heap; the same goes for short field values (`GET`, `OK`, `fetch`, a
 * URL polled again and again), each otherwise a string of its own per request. A shared pair is
 * never changed in place: code that edits a header replaces the pair (or the record's whole list).
 */

import type { HeaderPair } from './types';

/** Distinct pairs kept; past it, new pairs are not shared (a long run's changing values cannot grow the table). */
export const MAX_SHARED_PAIRS = 8192;
/** Distinct field values kept (see MAX_SHARED_PAIRS). */
export const MAX_SHARED_STRINGS = 8192;
/** Longer values are not shared (tokens, cookies, dates: rarely repeated). */
const MAX_SHARED_VALUE = 64;

/** A string with its own characters: a slice of a header block would keep the whole block alive. */
function ownCopy(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

/** Shares equal header pairs between the records of a trace (one table per builder). */
export class SharedPairs {
  /** Name → its own copy and the shared pairs by value. */
  private readonly byName = new Map<string, { name: string; values: Map<string, HeaderPair> }>();
  private size = 0;
  private readonly strings = new Map<string, string>();

  /** The shared copy of a short string field value (`value` itself when long or the table is full). */
  string(value: string): string {
    if (value.length > MAX_SHARED_VALUE) return value;
    const known = this.strings.get(value);
    if (known !== undefined) return known;
    if (this.strings.size >= MAX_SHARED_STRINGS) return value;
    const own = ownCopy(value);
    this.strings.set(own, own);
    return own;
  }

  /** Replaces each pair of `pairs` (in place) by the shared pair with the same name and value, adding new ones while there is room. */
  share(pairs: HeaderPair[]): void {
    for (let i = 0; i < pairs.length; i++) {
      const p = pairs[i];
      if (p.length !== 2) continue;
      const value = p[1];
      if (value.length > MAX_SHARED_VALUE) continue;
      let named = this.byName.get(p[0]);
      const known = named?.values.get(value);
      if (known) {
        pairs[i] = known;
        continue;
      }
      if (this.size >= MAX_SHARED_PAIRS) continue;
      if (!named) {
        const name = ownCopy(p[0]);
        this.byName.set(name, (named = { name, values: new Map() }));
      }
      const pair: HeaderPair = [named.name, ownCopy(value)];
      named.values.set(pair[1], pair);
      this.size++;
      pairs[i] = pair;
    }
  }
}
