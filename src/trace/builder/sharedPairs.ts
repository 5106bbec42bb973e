/**
 * Header pairs and short strings shared between records. A program's requests repeat the same headers
 * (`accept: *\/*`, `connection: keep-alive`, the same `content-type`), and a `[name, value]` pair
 * held once per distinct name and value instead of once per request is ≈ 100 bytes less per
 * header in the collector's heap; the same goes for short field values (`GET`, `OK`, `fetch`, a
 * URL polled again and again), each otherwise a string of its own per request. A shared pair is
 * never changed in place: code that edits a header replaces the pair (or the record's whole list).
 */

import type { HeaderPair } from '../contract/types';

/** Distinct names and pairs kept; past it, new ones are not shared (a long run's changing values cannot grow the table). */
export const MAX_SHARED_PAIRS = 8192;
/** Distinct field values kept (see MAX_SHARED_PAIRS). */
export const MAX_SHARED_STRINGS = 8192;
/** Longer values are not shared (tokens, cookies, dates: rarely repeated). */
const MAX_SHARED_VALUE = 64;

/** A string with its own characters: a slice of a header block would keep the whole block alive. */
function ownCopy(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

/** Header lists remembered per field, the most recent first (see SharedPairs.list). */
const RECENT_LISTS = 8;
/** Distinct values kept by SharedPairs.json. */
export const MAX_SHARED_JSON = 256;
/** Values whose JSON text is longer are not shared by SharedPairs.json. */
const MAX_SHARED_JSON_TEXT = 32_768;
/** The JSON texts SharedPairs.json keeps as keys, in all (characters). */
const MAX_SHARED_JSON_TEXTS = 1_048_576;
/** Longer lists are not shared by SharedPairs.json (a chain has a handful of certificates). */
const MAX_SHARED_JSON_LIST = 16;

/** True when `v` is made only of plain objects, arrays, strings, booleans, null and finite numbers other than -0 (what JSON text says exactly). */
function plainJson(v: unknown, depth = 0): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
  if (typeof v !== 'object' || depth > 8) return false;
  if (Array.isArray(v)) return Object.getPrototypeOf(v) === Array.prototype && v.every((x) => plainJson(x, depth + 1));
  if (Object.getPrototypeOf(v) !== Object.prototype) return false;
  for (const k of Object.keys(v)) if (k === '__proto__' || !plainJson((v as Record<string, unknown>)[k], depth + 1)) return false;
  return true;
}

/** Shares equal header pairs between the records of a trace (one table per builder). */
export class SharedPairs {
  /** Name → its own copy, the shared pairs by value, and the last pair seen with it (see share). */
  private readonly byName = new Map<string, { name: string; values: Map<string, HeaderPair>; last?: HeaderPair }>();
  private size = 0;
  private readonly strings = new Map<string, string>();
  /** Plain values by their JSON text (see json). */
  private readonly jsons = new Map<string, unknown>();
  private jsonChars = 0;

  /**
   * The shared copy of a plain value equal to `value` (a TLS tunnel's `peerCerts`: every
   * connection to a server gets the same chain, ≈ 1 KB of strings), `value` itself when it is
   * not plain JSON data, too long, or the table is full. Never changed in place.
   */
  json<T>(value: T): T {
    if (typeof value !== 'object' || value === null || (Array.isArray(value) && value.length > MAX_SHARED_JSON_LIST) || !plainJson(value))
      return value;
    const text = JSON.stringify(value);
    if (text.length > MAX_SHARED_JSON_TEXT) return value;
    const known = this.jsons.get(text);
    if (known !== undefined) return known as T;
    if (this.jsons.size < MAX_SHARED_JSON && this.jsonChars + text.length <= MAX_SHARED_JSON_TEXTS) {
      this.jsons.set(text, value);
      this.jsonChars += text.length;
    }
    return value;
  }

  /** The lists returned last per field (reqHeaders, respHeaders), the most recent first (see list). */
  private readonly recentLists = new Map<string, HeaderPair[][]>();

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

  /**
   * `pairs` (changed in place) as the record's `field` keeps them: each pair replaced by the shared
   * one with the same name and value, and the very list returned for `field` one of the last
   * RECENT_LISTS times when it holds the same pairs (a program's requests to its endpoints send
   * and get the same headers, whatever the order the endpoints come in). A
   * value that changes now and then (`date`) is shared with the pair before it when equal, past
   * the table's room too. The list returned is never changed in place.
   */
  list(field: string, pairs: HeaderPair[]): HeaderPair[] {
    for (let i = 0; i < pairs.length; i++) {
      const p = pairs[i];
      if (p.length === 2 && p[1].length <= MAX_SHARED_VALUE) pairs[i] = this.pair(p[0], p[1]);
    }
    let recent = this.recentLists.get(field);
    if (!recent) this.recentLists.set(field, (recent = []));
    for (let r = 0; r < recent.length; r++) {
      const list = recent[r];
      if (list.length !== pairs.length || !list.every((p, i) => p === pairs[i])) continue;
      if (r > 0) {
        recent.splice(r, 1);
        recent.unshift(list);
      }
      return list;
    }
    const list = pairs.slice(); // an exact-size copy: the list grew by push (17 slots for 5 headers)
    recent.unshift(list);
    if (recent.length > RECENT_LISTS) recent.pop();
    return list;
  }

  /** The shared pair for a name and a short value. */
  private pair(name: string, value: string): HeaderPair {
    let named = this.byName.get(name);
    const known = named?.values.get(value) ?? (named?.last?.[1] === value ? named.last : undefined);
    if (known) return known;
    if (!named) {
      if (this.size >= MAX_SHARED_PAIRS) return [name, value];
      const own = ownCopy(name);
      this.byName.set(own, (named = { name: own, values: new Map() }));
      this.size++;
    }
    const pair: HeaderPair = [named.name, ownCopy(value)];
    if (this.size < MAX_SHARED_PAIRS) {
      named.values.set(pair[1], pair);
      this.size++;
    }
    named.last = pair;
    return pair;
  }
}
