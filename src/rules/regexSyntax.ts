/**
 * The regex syntax the matcher supports (see matcher.ts), parsed into a tree by recursive descent;
 * unsupported constructs are rejected with their index in the pattern.
 */

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

/** A character class: ranges as [lo, hi, lo, hi, …] code units. */
export type CharClass = { neg: boolean; ranges: number[] };
/** The pattern tree of a regex or glob. */
export type Node =
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
export class RegexParser {
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
