/**
 * What differs between two request bodies or parameter lists, in words (./divergence.ts): JSON
 * field by field with its path (`items[1].qty`), form fields and query parameters by name, the
 * parts of a multipart body by name. Bounded: a walk stops after WALK_LIMIT differences, and each
 * value shown is cut to MAX_VALUE_CHARS.
 */

import { REDACTED } from '../trace/contract/wire';
import { follow, type Body, type MultipartPart } from './body';
import { cut } from './types';

/** Characters of a value shown in a difference. */
export const MAX_VALUE_CHARS = 60;
/** Differences a body walk collects before it stops. */
const WALK_LIMIT = 200;

/** Sentences of differences, and how many there were in all. */
export interface Differences {
  list: string[];
  count: number;
}

/** A value as a difference shows it: control characters escaped, cut to MAX_VALUE_CHARS. */
export function shown(text: string): string {
  return cut(
    text.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1)),
    MAX_VALUE_CHARS,
  );
}

/** A body in words: `none`, `120 bytes of JSON`, `118 bytes of text`, `4096 bytes of binary data`. */
export function describeBody(b: Body): string {
  switch (b.kind) {
    case 'none':
      return 'none';
    case 'json':
      return `${b.size} bytes of JSON`;
    case 'form':
      return `${b.size} bytes of form data`;
    case 'multipart':
      return `${b.size} bytes of multipart form data`;
    default:
      return `${b.size} bytes of ${b.text ? 'text' : 'binary data'}`;
  }
}

/** Name → values, in the order the names first appear. */
function grouped(pairs: ReadonlyArray<readonly [string, string]>): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [n, v] of pairs) {
    const list = out.get(n);
    if (list) list.push(v);
    else out.set(n, [v]);
  }
  return out;
}

/** Whether values equal recorded ones as a multiset, a recorded `<redacted>` matching any. */
function sameValues(live: string[], rec: string[]): boolean {
  if (live.length !== rec.length) return false;
  const left = [...live];
  for (const r of rec) {
    if (r === REDACTED) continue;
    const at = left.indexOf(r);
    if (at < 0) return false;
    left.splice(at, 1);
  }
  return true;
}

/** Differences of two parameter lists by name (`query parameter \`page\`: 3, recorded 2`). */
export function formDifferences(
  live: ReadonlyArray<readonly [string, string]>,
  rec: ReadonlyArray<readonly [string, string]>,
  noun: string,
): string[] {
  const a = grouped(live);
  const b = grouped(rec);
  const out: string[] = [];
  const names = [...new Set([...a.keys(), ...b.keys()])];
  for (const name of names) {
    const lv = a.get(name) ?? [];
    const rv = b.get(name) ?? [];
    if (sameValues(lv, rv)) continue;
    const text = (vs: string[]) => vs.map(shown).join(', ');
    if (lv.length === 0) out.push(`${noun} \`${shown(name)}\`: not sent, recorded ${text(rv)}`);
    else if (rv.length === 0) out.push(`${noun} \`${shown(name)}\`: ${text(lv)}, not recorded`);
    else out.push(`${noun} \`${shown(name)}\`: ${text(lv)}, recorded ${text(rv)}`);
    if (out.length >= WALK_LIMIT) break;
  }
  return out;
}

/** A JSON value as a difference shows it. */
function jsonText(v: unknown): string {
  return shown(JSON.stringify(v) ?? 'null');
}

/** `items[1].qty`: a path below `parent` (a name that is not an identifier is written `["a b"]`). */
function fieldPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Differences of two JSON values field by field (`body field \`items[1].qty\`: 5, recorded 4`), ignored paths left out. */
export function jsonDifferences(live: unknown, rec: unknown, ignore: string[][]): string[] {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string, paths: string[][], depth: number) => {
    if (out.length >= WALK_LIMIT) return;
    const child = (key: string | number, x: unknown, y: unknown, hasX: boolean, hasY: boolean) => {
      const sub = follow(paths, depth, String(key));
      if (sub === null || out.length >= WALK_LIMIT) return;
      const p = fieldPath(path, key);
      if (!hasX) out.push(`body field \`${p}\`: not sent, recorded ${jsonText(y)}`);
      else if (!hasY) out.push(`body field \`${p}\`: ${jsonText(x)}, not recorded`);
      else walk(x, y, p, sub, depth + 1);
    };
    if (Array.isArray(a) && Array.isArray(b)) {
      for (let i = 0; i < Math.max(a.length, b.length); i++) child(i, a[i], b[i], i < a.length, i < b.length);
    } else if (isObject(a) && isObject(b)) {
      const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])];
      for (const k of keys) child(k, a[k], b[k], Object.hasOwn(a, k), Object.hasOwn(b, k));
    } else if (!sameJson(a, b)) {
      out.push(path ? `body field \`${path}\`: ${jsonText(a)}, recorded ${jsonText(b)}` : `body: ${jsonText(a)}, recorded ${jsonText(b)}`);
    }
  };
  walk(live, rec, '', ignore, 0);
  return out;
}

/** Whether two JSON scalars (or a scalar and a structure) are the same value. */
function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/** A multipart part in words: its short text, or its size and file name. */
function partText(p: MultipartPart): string {
  if (p.value !== undefined && p.filename === undefined) return shown(p.value);
  return `${p.size} bytes${p.filename !== undefined ? ` (${shown(p.filename)})` : ''}${p.type ? ` of ${shown(p.type)}` : ''}`;
}

/** Differences of two multipart bodies part by part, by name (`form part \`file\`: 1200 bytes (a.png), recorded 1180 bytes (a.png)`). */
export function partDifferences(live: MultipartPart[], rec: MultipartPart[], ignored: Set<string>): string[] {
  const byName = (parts: MultipartPart[]) => {
    const m = new Map<string, MultipartPart[]>();
    for (const p of parts) if (!ignored.has(p.name)) m.set(p.name, [...(m.get(p.name) ?? []), p]);
    return m;
  };
  const a = byName(live);
  const b = byName(rec);
  const out: string[] = [];
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const la = a.get(name) ?? [];
    const lb = b.get(name) ?? [];
    for (let i = 0; i < Math.max(la.length, lb.length) && out.length < WALK_LIMIT; i++) {
      const x = la[i];
      const y = lb[i];
      const label = `form part \`${shown(name)}\``;
      if (!x) out.push(`${label}: not sent, recorded ${partText(y)}`);
      else if (!y) out.push(`${label}: ${partText(x)}, not recorded`);
      else if (x.fp !== y.fp || x.size !== y.size || x.filename !== y.filename || x.type !== y.type)
        out.push(`${label}: ${partText(x)}, recorded ${partText(y)}`);
    }
  }
  if (out.length === 0)
    out.push(
      live.length !== rec.length ? `body: ${live.length} form parts, recorded ${rec.length}` : 'body: the same form parts in another order',
    );
  return out;
}
