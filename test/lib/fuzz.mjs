// Fuzz inputs for the line protocols (collector socket, helper stdin): random lines and mutations
// of real protocol lines, from a seeded generator so a failure can be replayed (FUZZ_SEED).
import { readFileSync } from 'node:fs';

/** A small seeded PRNG (mulberry32). */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (list) => list[int(list.length)];
  return { next, int, pick };
}

const NASTY_VALUES = [
  null,
  true,
  -1,
  0,
  1e308,
  -1e308,
  Number.MAX_SAFE_INTEGER + 2,
  '',
  '\u0000',
  '\u009b31m',
  '\u202egnp.exe',
  '\x1b]0;title\x07',
  'x'.repeat(5000),
  [],
  {},
  { __proto__: null, polluted: true },
  [[['deep']]],
  '__proto__',
  'constructor',
  'req-1',
  'tcp-1',
  'dial-1',
];
const NASTY_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'traceID',
  'kind',
  'id',
  'type',
  'fields',
  'len',
  'data',
  'pid',
  'threadId',
  'toString',
  'hasOwnProperty',
];

function mutateValue(r, v, depth = 0) {
  if (depth > 3 || r.next() < 0.3) return r.pick(NASTY_VALUES);
  if (Array.isArray(v)) {
    const out = v.map((x) => (r.next() < 0.2 ? mutateValue(r, x, depth + 1) : x));
    if (r.next() < 0.2) out.push(r.pick(NASTY_VALUES));
    return out;
  }
  if (v && typeof v === 'object') {
    const out = { ...v };
    for (const k of Object.keys(out)) {
      const roll = r.next();
      if (roll < 0.15) delete out[k];
      else if (roll < 0.4) out[k] = mutateValue(r, out[k], depth + 1);
    }
    if (r.next() < 0.3) out[r.pick(NASTY_KEYS)] = r.pick(NASTY_VALUES);
    return out;
  }
  return r.pick(NASTY_VALUES);
}

/** Byte-level damage to a line: flips, cuts, duplications, inserted quotes/braces/newline-free junk. */
function mutateBytes(r, line) {
  let s = line;
  const n = 1 + r.int(4);
  for (let i = 0; i < n; i++) {
    const at = r.int(s.length + 1);
    const roll = r.next();
    if (roll < 0.25) s = s.slice(0, at);
    else if (roll < 0.5) s = s.slice(0, at) + String.fromCharCode(r.int(256)) + s.slice(at + 1);
    else if (roll < 0.7) s = s.slice(0, at) + r.pick(['"', '{', '}', '[', ']', ',', ':', '\\', '\\u', 'null', '1e999']) + s.slice(at);
    else if (roll < 0.85) s = s + s.slice(at);
    else s = s.slice(0, at) + s.slice(at + 1 + r.int(10));
  }
  return s.replace(/\n/g, ' ');
}

/** Random bytes as a line (no newline inside). */
function randomLine(r) {
  const len = r.pick([0, 1, 2, 10, 100, 1000, 20000]);
  let s = '';
  for (let i = 0; i < len; i++) {
    const c = r.int(256);
    s += c === 10 ? ' ' : String.fromCharCode(c);
  }
  return s;
}

/**
 * `count` fuzz lines (without their newlines) from a corpus of real lines: a third random, the
 * rest real lines mutated structurally (values, keys) or byte by byte. `accept(line)` may refuse
 * a line (e.g. one that would legitimately stop the target); a refused line is regenerated.
 */
export function fuzzLines(corpus, count, { seed = 1, accept = () => true } = {}) {
  const r = prng(seed);
  const lines = [];
  while (lines.length < count) {
    const roll = r.next();
    let line;
    if (roll < 0.33) line = randomLine(r);
    else {
      const base = r.pick(corpus);
      if (roll < 0.66) {
        let parsed;
        try {
          parsed = JSON.parse(base);
        } catch {
          parsed = base;
        }
        line = JSON.stringify(mutateValue(r, parsed)) ?? 'null';
      } else line = mutateBytes(r, base);
    }
    if (accept(line)) lines.push(line);
  }
  return lines;
}

/**
 * Splits recorded preload → collector bytes into its messages, each as it was on the wire:
 * `{ line }` for a JSON line (without its newline), `{ line, body }` for a framed message (a blob or
 * an events frame: the header line, then its `len` raw bytes).
 */
export function splitWire(buf) {
  const out = [];
  let at = 0;
  while (at < buf.length) {
    const nl = buf.indexOf(10, at);
    if (nl < 0) break;
    const line = buf.subarray(at, nl).toString('utf8');
    at = nl + 1;
    let len;
    try {
      const m = JSON.parse(line);
      if ((m.type === 'events' || m.type === 'blob') && typeof m.len === 'number') len = m.len;
    } catch {
      // Not JSON: kept as a line.
    }
    if (len === undefined) out.push({ line });
    else {
      out.push({ line, body: buf.subarray(at, at + len) });
      at += len;
    }
  }
  return out;
}

/**
 * `count` fuzzed events frames (src/protocol/events.ts), each as the bytes a hostile peer writes,
 * from real frames: bytes of the body flipped, cut or repeated with the header's `len` kept or
 * fixed up, the header's `len` or `n` lied about (too small, too large, negative, not a number),
 * a body of random bytes, or a real body whose events name ids, kinds and fields at random.
 */
export function fuzzFrames(frames, count, { seed = 1 } = {}) {
  const r = prng(seed);
  const out = [];
  const header = (len, n) => `{"type":"events","len":${len},"n":${n}}\n`;
  while (out.length < count) {
    const base = r.pick(frames);
    const body = Buffer.from(base.body);
    const n = JSON.parse(base.line).n;
    const roll = r.next();
    let bytes;
    if (roll < 0.3) {
      // Flipped bytes, length kept: the decoder meets bad tags, lengths and codes mid-frame.
      for (let i = 1 + r.int(8); i > 0; i--) body[r.int(body.length)] = r.int(256);
      bytes = Buffer.concat([Buffer.from(header(body.length, n)), body]);
    } else if (roll < 0.45) {
      // Cut or repeated, the header fixed up to the new length.
      const cut = r.next() < 0.5 ? body.subarray(0, r.int(body.length)) : Buffer.concat([body, body.subarray(r.int(body.length))]);
      bytes = Buffer.concat([Buffer.from(header(cut.length, n)), cut]);
    } else if (roll < 0.6) {
      // The header lies about n.
      bytes = Buffer.concat([Buffer.from(header(body.length, r.pick([0, -1, n + 1, 2 ** 31, 1e9, 'null', '"x"']))), body]);
    } else if (roll < 0.7) {
      // The header lies about len: shorter (the rest is read as lines) or absurd.
      const len = r.pick([0, 1, r.int(body.length), -5, 2 ** 40, 'null', '"1"']);
      bytes = Buffer.concat([Buffer.from(header(len, n)), body, Buffer.from('\n')]);
    } else if (roll < 0.85) {
      // Random bytes under a valid header.
      const junk = Buffer.alloc(r.pick([1, 10, 100, 1000, 10000]));
      for (let i = 0; i < junk.length; i++) junk[i] = r.int(256);
      bytes = Buffer.concat([Buffer.from(header(junk.length, r.int(50))), junk]);
    } else {
      // Whole real frames, replayed: ids and intern indexes that mean something else here.
      bytes = Buffer.concat([Buffer.from(base.line + '\n'), body]);
    }
    out.push(bytes);
  }
  return out;
}

/** Peak resident memory of a process (VmHWM, KiB), or undefined when it is gone. */
export function peakRssKiB(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmHWM:\s*(\d+)/m.exec(text)?.[1]);
  } catch {
    return undefined;
  }
}
