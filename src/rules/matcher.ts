/**
 * Pattern matching for conditions without backtracking: regular expressions (`=~`) and globs
 * (`~`) are compiled to a small NFA program and run by simulating every state at once (the
 * Thompson/Pike construction), so a match costs at most (subject length × program size) steps
 * whatever the pattern. JavaScript's own RegExp backtracks: `/.*.*x/` on 2,048 `a`s took 8 s
 * on Node 20 (V8 irregexp), and a condition runs inside the user's program.
 *
 * Supported regex syntax: literals, `.`, `[...]` / `[^...]` with ranges, `\d \w \s \D \W \S`,
 * escapes (`\. \/ \n \t \xhh \uhhhh` …), `^ $`, `( )` and `(?: )`, `|`, and the quantifiers
 * `* + ? {m} {m,} {m,n}` (a trailing lazy `?` is accepted; it changes nothing for a yes/no
 * match); flag `i` (ASCII case folding). Rejected with a position: backreferences, lookaround,
 * named groups, `\b`, and patterns whose program would exceed MAX_PROGRAM.
 */

/** Longest pattern text accepted (characters). */
export const MAX_PATTERN = 256;
/** Largest compiled program (instructions); `{m,n}` copies its operand, so this bounds them. */
export const MAX_PROGRAM = 512;
/** Regexes and globs look at no more than this many characters of a subject. */
export const MAX_SUBJECT = 4096;

/** A compiled pattern: `test(s)` says whether it matches (a regex anywhere in s, a glob all of s). */
export interface Matcher {
  test(subject: string): boolean;
}

/** A pattern error: `index` is 0-based into the pattern text. */
export class PatternError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
    this.name = 'PatternError';
  }
}

// ---- the pattern tree ----

type CharClass = { neg: boolean; ranges: number[] };
type Node =
  | { t: 'char'; c: number }
  | { t: 'any'; nl: boolean }
  | { t: 'class'; cls: CharClass }
  | { t: 'cat'; items: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'rep'; node: Node; min: number; max: number }
  | { t: 'bol' }
  | { t: 'eol' };

const DIGIT = [48, 57];
const WORD = [48, 57, 65, 90, 95, 95, 97, 122];
const SPACE = [
  9, 13, 32, 32, 160, 160, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f, 0x205f, 0x205f, 0x3000, 0x3000, 0xfeff, 0xfeff,
];

/** Parses regex source into a tree (recursive descent; nesting depth bounded by the length cap). */
class RegexParser {
  private i = 0;
  private depth = 0;
  constructor(private readonly p: string) {}

  parse(): Node {
    const n = this.alt();
    if (this.i < this.p.length) throw new PatternError('unmatched ")"', this.i);
    return n;
  }

  private alt(): Node {
    const alts = [this.cat()];
    while (this.p[this.i] === '|') {
      this.i++;
      alts.push(this.cat());
    }
    return alts.length === 1 ? alts[0] : { t: 'alt', alts };
  }

  private cat(): Node {
    const items: Node[] = [];
    while (this.i < this.p.length && this.p[this.i] !== '|' && this.p[this.i] !== ')') items.push(this.repeat());
    return items.length === 1 ? items[0] : { t: 'cat', items };
  }

  private repeat(): Node {
    const at = this.i;
    let node = this.atom();
    for (;;) {
      const ch = this.p[this.i];
      let min: number;
      let max: number;
      if (ch === '*') [min, max] = [0, -1];
      else if (ch === '+') [min, max] = [1, -1];
      else if (ch === '?') [min, max] = [0, 1];
      else if (ch === '{') {
        const m = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(this.p.slice(this.i));
        if (!m) throw new PatternError('"{" must start a quantifier {m}, {m,} or {m,n} (write \\{ for the character)', this.i);
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
        if (max !== -1 && max < min) throw new PatternError('quantifier {m,n} with n < m', this.i);
        this.i += m[0].length - 1;
      } else return node;
      if (node.t === 'bol' || node.t === 'eol') throw new PatternError('nothing to repeat', at);
      if (node.t === 'rep') throw new PatternError('a quantifier cannot follow another quantifier', this.i);
      this.i++;
      if (this.p[this.i] === '?') this.i++; // lazy: same yes/no answer
      node = { t: 'rep', node, min, max };
    }
  }

  private atom(): Node {
    const at = this.i;
    const ch = this.p[this.i++];
    switch (ch) {
      case '(': {
        if (this.p[this.i] === '?') {
          if (this.p[this.i + 1] !== ':') throw new PatternError('lookaround and named groups are not supported', at);
          this.i += 2;
        }
        if (++this.depth > 32) throw new PatternError('groups nested too deeply', at);
        const inner = this.alt();
        this.depth--;
        if (this.p[this.i] !== ')') throw new PatternError('unclosed "("', at);
        this.i++;
        return { t: 'cat', items: [inner] }; // a group: a quantifier may follow it
      }
      case '[':
        return { t: 'class', cls: this.charClass(at) };
      case '.':
        return { t: 'any', nl: false };
      case '^':
        return { t: 'bol' };
      case '$':
        return { t: 'eol' };
      case '\\':
        return this.escape(at, false) as Node;
      case '*':
      case '+':
      case '?':
        throw new PatternError('nothing to repeat', at);
      case '{':
        throw new PatternError('"{" must follow something to repeat (write \\{ for the character)', at);
      case ']':
      case '}':
        return { t: 'char', c: ch.charCodeAt(0) };
      default:
        return { t: 'char', c: ch.charCodeAt(0) };
    }
  }

  /** After a backslash at `at`: a char node, or a class node for \d \w \s (their negations too). */
  private escape(at: number, inClass: boolean): Node {
    const ch = this.p[this.i++];
    if (ch === undefined) throw new PatternError('pattern ends with "\\"', at);
    switch (ch) {
      case 'd':
      case 'D':
        return { t: 'class', cls: { neg: ch === 'D', ranges: DIGIT } };
      case 'w':
      case 'W':
        return { t: 'class', cls: { neg: ch === 'W', ranges: WORD } };
      case 's':
      case 'S':
        return { t: 'class', cls: { neg: ch === 'S', ranges: SPACE } };
      case 'n':
        return { t: 'char', c: 10 };
      case 'r':
        return { t: 'char', c: 13 };
      case 't':
        return { t: 'char', c: 9 };
      case 'f':
        return { t: 'char', c: 12 };
      case 'v':
        return { t: 'char', c: 11 };
      case '0':
        return { t: 'char', c: 0 };
      case 'x':
      case 'u': {
        const len = ch === 'x' ? 2 : 4;
        const hex = this.p.slice(this.i, this.i + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) throw new PatternError(`\\${ch} needs ${len} hex digits`, at);
        this.i += len;
        return { t: 'char', c: parseInt(hex, 16) };
      }
      case 'b':
      case 'B':
        if (!inClass) throw new PatternError('word boundaries (\\b, \\B) are not supported', at);
        return { t: 'char', c: 8 };
      case 'k':
        throw new PatternError('named backreferences are not supported', at);
      default:
        if (ch >= '1' && ch <= '9') throw new PatternError('backreferences are not supported', at);
        if (/[A-Za-z]/.test(ch)) throw new PatternError(`unknown escape "\\${ch}"`, at);
        return { t: 'char', c: ch.charCodeAt(0) };
    }
  }

  private charClass(at: number): CharClass {
    const neg = this.p[this.i] === '^';
    if (neg) this.i++;
    const ranges: number[] = [];
    let negatedParts: CharClass[] | undefined;
    while (this.p[this.i] !== ']') {
      if (this.i >= this.p.length) throw new PatternError('unclosed "["', at);
      const lo = this.classAtom();
      if (typeof lo !== 'number') {
        if (lo.neg) (negatedParts ??= []).push(lo);
        else ranges.push(...lo.ranges);
        continue;
      }
      if (this.p[this.i] === '-' && this.p[this.i + 1] !== ']' && this.i + 1 < this.p.length) {
        const dash = this.i++;
        const hi = this.classAtom();
        if (typeof hi !== 'number') throw new PatternError('a range cannot end with a class escape', dash);
        if (hi < lo) throw new PatternError('range out of order', dash);
        ranges.push(lo, hi);
      } else ranges.push(lo, lo);
    }
    this.i++;
    // [\D] and the like: fold a negated escape into ranges by complementing it.
    if (negatedParts) for (const part of negatedParts) ranges.push(...complement(part.ranges));
    return { neg, ranges };
  }

  private classAtom(): number | CharClass {
    const at = this.i;
    const ch = this.p[this.i++];
    if (ch !== '\\') return ch.charCodeAt(0);
    const n = this.escape(at, true);
    return n.t === 'char' ? n.c : (n as { cls: CharClass }).cls;
  }
}

function complement(ranges: number[]): number[] {
  const pairs: Array<[number, number]> = [];
  for (let k = 0; k < ranges.length; k += 2) pairs.push([ranges[k], ranges[k + 1]]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  let next = 0;
  for (const [lo, hi] of pairs) {
    if (lo > next) out.push(next, lo - 1);
    next = Math.max(next, hi + 1);
  }
  if (next <= 0xffff) out.push(next, 0xffff);
  return out;
}

// ---- the program ----

const CHAR = 0;
const ANY = 1; // any code unit but \n
const CLASS = 2;
const SPLIT = 3;
const JMP = 4;
const BOL = 5;
const EOL = 6;
const MATCH = 7;
const ANYNL = 8; // any code unit

class Program implements Matcher {
  private readonly ops: number[] = [];
  private readonly a: number[] = [];
  private readonly b: number[] = [];
  private readonly classes: CharClass[] = [];
  // Work buffers, reused by every test() (matching never re-enters itself).
  private cur!: Int32Array;
  private next!: Int32Array;
  private mark!: Int32Array;
  private stack!: Int32Array;
  private gen = 0;
  /** Number of states added by the last add() calls into the list being built. */
  private count = 0;

  constructor(
    node: Node,
    private readonly icase: boolean,
    private readonly anchored: boolean,
    private readonly patternLength: number,
  ) {
    this.emit(node);
    this.push(MATCH, 0, 0);
    const n = this.ops.length;
    this.cur = new Int32Array(n);
    this.next = new Int32Array(n);
    this.mark = new Int32Array(n);
    this.stack = new Int32Array(n * 2 + 2);
  }

  private push(op: number, a: number, b: number): number {
    if (this.ops.length >= MAX_PROGRAM)
      throw new PatternError(`pattern too large (over ${MAX_PROGRAM} states; use fewer or smaller {m,n} repeats)`, this.patternLength);
    this.ops.push(op);
    this.a.push(a);
    this.b.push(b);
    return this.ops.length - 1;
  }

  private emit(n: Node): void {
    switch (n.t) {
      case 'char':
        this.push(CHAR, this.icase ? foldCase(n.c) : n.c, 0);
        return;
      case 'any':
        this.push(n.nl ? ANYNL : ANY, 0, 0);
        return;
      case 'class':
        this.classes.push(n.cls);
        this.push(CLASS, this.classes.length - 1, 0);
        return;
      case 'bol':
        this.push(BOL, 0, 0);
        return;
      case 'eol':
        this.push(EOL, 0, 0);
        return;
      case 'cat':
        for (const item of n.items) this.emit(item);
        return;
      case 'alt': {
        const jumps: number[] = [];
        for (let k = 0; k < n.alts.length; k++) {
          if (k < n.alts.length - 1) {
            const split = this.push(SPLIT, 0, 0);
            this.a[split] = split + 1;
            this.emit(n.alts[k]);
            jumps.push(this.push(JMP, 0, 0));
            this.b[split] = this.ops.length;
          } else this.emit(n.alts[k]);
        }
        for (const j of jumps) this.a[j] = this.ops.length;
        return;
      }
      case 'rep': {
        for (let k = 0; k < n.min; k++) this.emit(n.node);
        if (n.max === -1) {
          const split = this.push(SPLIT, 0, 0);
          this.a[split] = split + 1;
          this.emit(n.node);
          this.push(JMP, split, 0);
          this.b[split] = this.ops.length;
        } else {
          const splits: number[] = [];
          for (let k = n.min; k < n.max; k++) {
            const split = this.push(SPLIT, 0, 0);
            this.a[split] = split + 1;
            splits.push(split);
            this.emit(n.node);
          }
          for (const s of splits) this.b[s] = this.ops.length;
        }
        return;
      }
    }
  }

  /** Adds state pc and the states reachable from it without input; true when MATCH is reached. */
  private add(list: Int32Array, pc0: number, pos: number, len: number): boolean {
    const { ops, a, b, mark, stack, gen } = this;
    let sp = 0;
    stack[sp++] = pc0;
    while (sp > 0) {
      const pc = stack[--sp];
      if (mark[pc] === gen) continue;
      mark[pc] = gen;
      switch (ops[pc]) {
        case JMP:
          stack[sp++] = a[pc];
          break;
        case SPLIT:
          stack[sp++] = b[pc];
          stack[sp++] = a[pc];
          break;
        case BOL:
          if (pos === 0) stack[sp++] = pc + 1;
          break;
        case EOL:
          if (pos === len) stack[sp++] = pc + 1;
          break;
        case MATCH:
          return true;
        default:
          list[this.count++] = pc;
      }
    }
    return false;
  }

  test(subject: string): boolean {
    const s = subject.length > MAX_SUBJECT ? subject.slice(0, MAX_SUBJECT) : subject;
    const len = s.length;
    const { ops, a, anchored, icase } = this;
    let cur = this.cur;
    let next = this.next;
    this.gen++;
    this.count = 0;
    if (this.add(cur, 0, 0, len)) return true;
    let cn = this.count;
    for (let i = 0; i < len; i++) {
      if (cn === 0 && anchored) return false;
      let c = s.charCodeAt(i);
      if (icase) c = foldCase(c);
      this.gen++;
      this.count = 0;
      for (let k = 0; k < cn; k++) {
        const pc = cur[k];
        const op = ops[pc];
        const ok = op === CHAR ? a[pc] === c : op === ANY ? c !== 10 : op === ANYNL ? true : this.inClass(this.classes[a[pc]], c);
        if (ok && this.add(next, pc + 1, i + 1, len)) return true;
      }
      if (!anchored && this.add(next, 0, i + 1, len)) return true;
      const t = cur;
      cur = next;
      next = t;
      cn = this.count;
    }
    return false;
  }

  private inClass(cls: CharClass, c: number): boolean {
    let hit = inRanges(cls.ranges, c);
    if (!hit && this.icase) {
      const up = upperCase(c);
      if (up !== c) hit = inRanges(cls.ranges, up);
    }
    return hit !== cls.neg;
  }
}

function inRanges(r: number[], c: number): boolean {
  for (let k = 0; k < r.length; k += 2) if (c >= r[k] && c <= r[k + 1]) return true;
  return false;
}

function foldCase(c: number): number {
  if (c >= 65 && c <= 90) return c + 32;
  if (c < 128) return c;
  const l = String.fromCharCode(c).toLowerCase();
  return l.length === 1 ? l.charCodeAt(0) : c;
}

function upperCase(c: number): number {
  if (c >= 97 && c <= 122) return c - 32;
  if (c < 128) return c;
  const u = String.fromCharCode(c).toUpperCase();
  return u.length === 1 ? u.charCodeAt(0) : c;
}

/** True when every match must start at position 0 (the pattern begins with "^" on every branch). */
function startsAnchored(n: Node): boolean {
  switch (n.t) {
    case 'bol':
      return true;
    case 'cat':
      return n.items.length > 0 && startsAnchored(n.items[0]);
    case 'alt':
      return n.alts.every(startsAnchored);
    default:
      return false;
  }
}

/** Compiles a regular expression (see the file comment for the syntax); flags: "" or "i". */
export function compileRegex(pattern: string, flags = ''): Matcher {
  if (pattern.length > MAX_PATTERN) throw new PatternError(`pattern longer than ${MAX_PATTERN} characters`, MAX_PATTERN);
  for (let k = 0; k < flags.length; k++) {
    if (flags[k] !== 'i') throw new PatternError(`unknown regex flag "${flags[k]}" (only "i" is supported)`, pattern.length + 1 + k);
  }
  const node = new RegexParser(pattern).parse();
  const icase = flags.includes('i');
  const program = new Program(node, icase, startsAnchored(node), pattern.length);
  // "^/literal…": most subjects fail on the literal; check it with startsWith before the NFA.
  const items = node.t === 'cat' ? node.items : [];
  let prefix = '';
  if (!icase && items[0]?.t === 'bol') {
    for (let k = 1; k < items.length; k++) {
      const n = items[k];
      if (n.t !== 'char') break;
      prefix += String.fromCharCode(n.c);
    }
  }
  if (prefix === '') return program;
  return { test: (s) => s.startsWith(prefix) && program.test(s) };
}

/**
 * Compiles a glob that must match the whole subject: `*` any run of characters except `/`,
 * `**` any run including `/`, `?` one character except `/`, `\` escapes the next character.
 * Common shapes (no wildcard, a literal then `**`, `**` then a literal) skip the NFA.
 */
export function compileGlob(pattern: string, icase = false): Matcher {
  if (pattern.length > MAX_PATTERN) throw new PatternError(`pattern longer than ${MAX_PATTERN} characters`, MAX_PATTERN);
  const items: Node[] = [];
  let literal = '';
  let literalOnly = true;
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i];
    if (ch === '*') {
      literalOnly = false;
      const double = pattern[i + 1] === '*';
      i += double ? 2 : 1;
      while (pattern[i] === '*') i++; // *** is **
      items.push({
        t: 'rep',
        node: double ? { t: 'any', nl: true } : { t: 'class', cls: { neg: true, ranges: [47, 47] } },
        min: 0,
        max: -1,
      });
    } else if (ch === '?') {
      literalOnly = false;
      i++;
      items.push({ t: 'class', cls: { neg: true, ranges: [47, 47] } });
    } else {
      let c = ch;
      if (ch === '\\') {
        if (i + 1 >= pattern.length) throw new PatternError('glob ends with "\\"', i);
        c = pattern[++i];
      }
      i++;
      items.push({ t: 'char', c: c.charCodeAt(0) });
      if (literalOnly) literal += c;
    }
  }
  const fold = (s: string) => (icase ? s.toLowerCase() : s);
  if (literalOnly) {
    const want = fold(literal);
    return { test: (s) => fold(s) === want };
  }
  if (/^\*+$/.test(pattern)) return pattern === '*' ? { test: (s) => s.indexOf('/') === -1 } : { test: () => true };
  const simple = /^((?:[^*?\\]|\\.)*)(\*\*)$|^(\*\*)((?:[^*?\\]|\\.)*)$/.exec(pattern);
  if (simple) {
    const lit = fold((simple[1] ?? simple[4]).replace(/\\(.)/g, '$1'));
    return simple[2] ? { test: (s) => fold(s).startsWith(lit) } : { test: (s) => fold(s).endsWith(lit) };
  }
  const hasSingle = items.some((n) => n.t === 'rep' && n.node.t === 'class');
  const hasDouble = items.some((n) => n.t === 'rep' && n.node.t === 'any');
  const full: Matcher = !(hasSingle && hasDouble)
    ? wildcard(items, hasSingle, icase)
    : new Program({ t: 'cat', items: [{ t: 'bol' }, ...items, { t: 'eol' }] }, icase, true, pattern.length);
  if (icase) return full;
  // The literal head and tail (before the first and after the last wildcard) reject most subjects at once.
  let head = '';
  for (const n of items) {
    if (n.t !== 'char') break;
    head += String.fromCharCode(n.c);
  }
  let tail = '';
  for (let k = items.length - 1; k >= 0; k--) {
    const n = items[k];
    if (n.t !== 'char') break;
    tail = String.fromCharCode(n.c) + tail;
  }
  const need = head.length + tail.length;
  return { test: (s) => s.length >= need && s.startsWith(head) && s.endsWith(tail) && full.test(s) };
}

const W_CHAR = 0;
const W_ONE = 1; // ? : one character but "/"
const W_STAR = 2;

/**
 * A glob with one kind of star (all `*` or all `**`), matched by the two-pointer wildcard
 * algorithm: on a mismatch, only the last star takes one more character. That is enough for
 * stars that match anything; for `*` (no "/"), a star never takes a "/" and the one before a "/"
 * can never help after it, so a star stopped by "/" ends the match. O(pattern × subject) at worst,
 * no allocation per test.
 */
function wildcard(items: Node[], noSlash: boolean, icase: boolean): Matcher {
  const kind: number[] = [];
  const code: number[] = [];
  for (const n of items) {
    if (n.t === 'char') {
      kind.push(W_CHAR);
      code.push(icase ? foldCase(n.c) : n.c);
    } else {
      kind.push(n.t === 'rep' ? W_STAR : W_ONE);
      code.push(0);
    }
  }
  const plen = kind.length;
  return {
    test(subject: string): boolean {
      const s = subject.length > MAX_SUBJECT ? subject.slice(0, MAX_SUBJECT) : subject;
      const len = s.length;
      let p = 0;
      let i = 0;
      let starP = -1;
      let starI = 0;
      while (i < len) {
        let c = s.charCodeAt(i);
        if (icase) c = foldCase(c);
        if (p < plen && kind[p] === W_STAR) {
          starP = p++;
          starI = i;
          continue;
        }
        if (p < plen && (kind[p] === W_CHAR ? code[p] === c : c !== 47)) {
          p++;
          i++;
          continue;
        }
        if (starP === -1) return false;
        // Give the last star one more character.
        if (noSlash && s.charCodeAt(starI) === 47) return false;
        p = starP + 1;
        i = ++starI;
      }
      while (p < plen && kind[p] === W_STAR) p++;
      return p === plen;
    },
  };
}
