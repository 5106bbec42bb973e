/**
 * Pattern matching for conditions without backtracking: regular expressions (`=~`) and globs
 * (`~`) are compiled to a small NFA program and run by simulating every state at once (the
 * Thompson/Pike construction), so a match costs at most (subject length × program size) steps
 * whatever the pattern. JavaScript's own RegExp backtracks: `/.*.*x/` on 2,048 `a`s took 8 s
 * on Node 20 (V8 irregexp), and a condition runs inside the user's program. Every program that
 * allows it (up to MAX_DFA_STATES) is also turned into a DFA when compiled, which reads one table
 * cell per character whatever the pattern: a pattern of 400 states took 15.7 ms on 4,096
 * characters as an NFA, 0.01 ms as a DFA (issue 34; bench/rules-budget.mjs).
 *
 * Supported regex syntax: literals, `.`, `[...]` / `[^...]` with ranges, `\d \w \s \D \W \S`,
 * escapes (`\. \/ \n \t \xhh \uhhhh` …), `^ $`, `( )` and `(?: )`, `|`, and the quantifiers
 * `* + ? {m} {m,} {m,n}` (a trailing lazy `?` is accepted; it changes nothing for a yes/no
 * match); flag `i` (case folding, one character at a time). Rejected with a position: backreferences, lookaround,
 * named groups, `\b`, and patterns whose program would exceed MAX_PROGRAM.
 */
import { PatternError, RegexParser, type CharClass, type Node } from './regexSyntax';

/** Longest pattern text accepted (characters). */
export const MAX_PATTERN = 256;
/** Largest compiled program (instructions); `{m,n}` copies its operand, so this bounds them. */
export const MAX_PROGRAM = 512;
/** Regexes and globs look at no more than this many characters of a subject. */
export const MAX_SUBJECT = 4096;

/**
 * Most DFA states built for one pattern (see Program's DFA): a pattern whose automaton needs more
 * keeps the NFA simulation, whose cost per character grows with its size.
 */
export const MAX_DFA_STATES = 256;
/** Most DFA table cells (states × character classes) for one pattern. */
const MAX_DFA_CELLS = 16_384;
/** Most closure steps building one pattern's DFA (a bound on its compile time: a few ms). */
const MAX_DFA_WORK = 200_000;

/** A compiled pattern: `test(s)` says whether it matches (a regex anywhere in s, a glob all of s). */
export interface Matcher {
  test(subject: string): boolean;
  /**
   * What one character of a subject costs this matcher at most, in steps (the rule set's budget,
   * src/rules/budget.ts): 1 for a DFA or a string comparison; 4 × the number of states for a
   * pattern simulated as an NFA; the number of items for a glob matched by the wildcard algorithm.
   */
  readonly cost: number;
  /** Memory it holds, in table cells (DFA cells, NFA states; 1 for a comparison), for the budget. */
  readonly size: number;
  /**
   * What compiling it cost, in steps (Program: the DFA's construction, tried or built; absent:
   * nothing worth counting), for the budget: every traced process compiles the set as it starts.
   */
  readonly work?: number;
}

const CHAR = 0;
const ANY = 1; // any code unit but \n
const CLASS = 2;
const SPLIT = 3;
const JMP = 4;
const BOL = 5;
const EOL = 6;
const MATCH = 7;
const ANYNL = 8; // any code unit

/**
 * A DFA over a Program's NFA (subset construction, built whole when the program is compiled):
 * one table read per character whatever the pattern, where the NFA simulation reads every live
 * state. Characters are grouped in classes the program cannot tell apart (code units 0–255 by
 * table; higher ones by their class, found once and remembered).
 */
interface Dfa {
  /** Class of each code unit 0–255. */
  classOf: Uint16Array;
  classes: number;
  /** Per state × class: the next state's offset (its id × classes), or MATCHED. */
  next: Int32Array;
  /** Per state offset: a match when the subject ends here (a "$" is satisfied). */
  atEnd: Uint8Array;
  /** The offset of the state where no match can follow (an anchored pattern with no live NFA state), or -2. */
  dead: number;
  start: number;
  /** Per class: the signature that names it (which NFA states accept its characters). */
  sigs: Map<string, number>;
  /** Classes of code units above 255 seen so far (-1: no class: the NFA decides that subject). */
  high: Map<number, number>;
}

/** A DFA transition into a match: test() answers true. */
const MATCHED = -1;
/** Most code units above 255 whose class a DFA remembers. */
const HIGH_CACHE = 4096;

/** A compiled pattern program (an NFA, and its DFA when it has one); used by glob.ts too. */
export class Program implements Matcher {
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
    this.stack = new Int32Array(n * 3 + 4);
    this.dfa = this.buildDfa();
    this.work = this.work + this.tableWork;
    // The NFA visits up to every state per character, each ~4× a DFA's table read (bench/rules-budget.mjs).
    this.cost = this.dfa !== null ? 1 : n * 4;
    this.size = n + (this.dfa !== null ? this.dfa.next.length + 256 : 0);
  }

  /** See Matcher.size. */
  readonly size: number;
  /** The DFA construction's steps besides closures: character classes, transitions, state keys. */
  private tableWork = 0;

  /** See Matcher.cost: 1 with a DFA, else 4 × the program's size. */
  readonly cost: number;
  private readonly dfa: Dfa | null;

  /** Whether the consuming state pc accepts code unit c (c already folded when icase). */
  private accepts(pc: number, c: number): boolean {
    const op = this.ops[pc];
    return op === CHAR ? this.a[pc] === c : op === ANY ? c !== 10 : op === ANYNL ? true : this.inClass(this.classes[this.a[pc]], c);
  }

  /**
   * The states reachable from `seeds` without input (consuming ones, and "$" states not at the
   * end), sorted, into `out`; true when MATCH is reachable. `atStart`: a "^" holds (position 0).
   * Uses the simulation's mark and stack buffers (the DFA is built before any test()).
   */
  private closure(seeds: readonly number[], atStart: boolean, out: number[]): boolean {
    const { ops, a, b, mark, stack } = this;
    const gen = ++this.gen;
    let sp = 0;
    for (let k = seeds.length - 1; k >= 0; k--) stack[sp++] = seeds[k];
    let matched = false;
    out.length = 0;
    while (sp > 0) {
      const pc = stack[--sp];
      if (mark[pc] === gen) continue;
      mark[pc] = gen;
      this.work++;
      switch (ops[pc]) {
        case JMP:
          stack[sp++] = a[pc];
          break;
        case SPLIT:
          stack[sp++] = b[pc];
          stack[sp++] = a[pc];
          break;
        case BOL:
          if (atStart) stack[sp++] = pc + 1;
          break;
        case MATCH:
          matched = true;
          break;
        default:
          out.push(pc); // a consuming state, or EOL (decided at the end)
      }
    }
    out.sort((x, y) => x - y);
    return matched;
  }

  /**
   * Steps the DFA's construction took (closure states visited, bounded by MAX_DFA_WORK while
   * building); once built, also its other steps (tableWork): Matcher.work.
   */
  work = 0;

  /** Builds the DFA, or null when it would exceed MAX_DFA_STATES, MAX_DFA_CELLS or MAX_DFA_WORK. */
  private buildDfa(): Dfa | null {
    const n = this.ops.length;
    const consuming: number[] = [];
    for (let pc = 0; pc < n; pc++) {
      const op = this.ops[pc];
      if (op === CHAR || op === ANY || op === ANYNL || op === CLASS) consuming.push(pc);
    }
    const sigs = new Map<string, number>();
    const reps: number[] = [];
    const classOf = new Uint16Array(256);
    for (let u = 0; u < 256; u++) {
      const c = this.icase ? foldCase(u) : u;
      let sig = '';
      for (const pc of consuming) sig += this.accepts(pc, c) ? '1' : '0';
      let k = sigs.get(sig);
      if (k === undefined) {
        k = reps.length;
        sigs.set(sig, k);
        reps.push(c);
      }
      classOf[u] = k;
    }
    this.tableWork += 256 * consuming.length;
    const K = reps.length;
    const states: number[][] = [];
    const ids = new Map<string, number>();
    const next: number[] = [];
    const atEnd: number[] = [];
    let dead = -2;
    const first: number[] = [];
    // A match before any character (an empty match): the NFA answers at once; no DFA needed.
    if (this.closure([0], true, first)) return null;
    states.push(first);
    ids.set(first.join(','), 0);
    const seeds: number[] = [];
    const to: number[] = [];
    for (let s = 0; s < states.length; s++) {
      const set = states[s];
      let eol = false;
      for (const pc of set) if (this.ops[pc] === EOL) eol = true;
      atEnd[s * K] = eol && this.endMatches(set) ? 1 : 0;
      if (set.length === 0 && this.anchored) dead = s * K;
      for (let k = 0; k < K; k++) {
        const c = reps[k];
        seeds.length = 0;
        for (const pc of set) if (this.ops[pc] !== EOL && this.accepts(pc, c)) seeds.push(pc + 1);
        // Unanchored: a match may also start at the next position.
        if (!this.anchored) seeds.push(0);
        const matched = this.closure(seeds, false, to);
        this.tableWork += set.length + to.length;
        if (matched) {
          next.push(MATCHED);
          continue;
        }
        const key = to.join(',');
        let id = ids.get(key);
        if (id === undefined) {
          id = states.length;
          ids.set(key, id);
          states.push(to.slice());
        }
        next.push(id * K);
      }
      if (states.length > MAX_DFA_STATES || states.length * K > MAX_DFA_CELLS || this.work > MAX_DFA_WORK) return null;
    }
    return {
      classOf,
      classes: K,
      next: Int32Array.from(next),
      atEnd: Uint8Array.from(atEnd, (x) => x ?? 0),
      dead,
      start: 0,
      sigs,
      high: new Map(),
    };
  }

  /** True when, at the end of the subject, one of the "$" states of `set` leads to MATCH. */
  private endMatches(set: readonly number[]): boolean {
    const { ops, a, b, mark, stack } = this;
    const gen = ++this.gen;
    let sp = 0;
    for (const pc of set) if (ops[pc] === EOL) stack[sp++] = pc + 1;
    while (sp > 0) {
      const pc = stack[--sp];
      if (mark[pc] === gen) continue;
      mark[pc] = gen;
      const op = ops[pc];
      if (op === MATCH) return true;
      if (op === JMP) stack[sp++] = a[pc];
      else if (op === SPLIT) {
        stack[sp++] = b[pc];
        stack[sp++] = a[pc];
      } else if (op === EOL) stack[sp++] = pc + 1;
    }
    return false;
  }

  /** The DFA class of a code unit above 255, or -1 when the DFA has none (the NFA decides). */
  private highClass(d: Dfa, u: number): number {
    let k = d.high.get(u);
    if (k === undefined) {
      const c = this.icase ? foldCase(u) : u;
      let sig = '';
      for (let pc = 0; pc < this.ops.length; pc++) {
        const op = this.ops[pc];
        if (op === CHAR || op === ANY || op === ANYNL || op === CLASS) sig += this.accepts(pc, c) ? '1' : '0';
      }
      k = d.sigs.get(sig) ?? -1;
      if (d.high.size >= HIGH_CACHE) d.high.clear();
      d.high.set(u, k);
    }
    return k;
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
    const d = this.dfa;
    if (d === null || s.length === 0) return this.nfaTest(s);
    const { classOf, next, dead } = d;
    let st = d.start;
    for (let i = 0; i < s.length; i++) {
      if (st === dead) return false;
      const u = s.charCodeAt(i);
      const k = u < 256 ? classOf[u] : this.highClass(d, u);
      if (k < 0) return this.nfaTest(s);
      st = next[st + k];
      if (st === MATCHED) return true;
    }
    return d.atEnd[st] === 1;
  }

  /** The NFA simulation (every live state at once), on a subject already cut to MAX_SUBJECT. */
  private nfaTest(s: string): boolean {
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

/** The code unit in lower case (one code unit), as `i` matching compares. */
export function foldCase(c: number): number {
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

/**
 * Matchers made so far, by kind, flags and pattern: a set is parsed where it is validated, where
 * its budget is counted and where it is compiled, and a DFA can take milliseconds to build. A
 * matcher holds no state between tests (its buffers are reset by each), so one serves every
 * condition of the thread that uses it. Cleared when full.
 */
const made = new Map<string, Matcher>();
const MADE_MAX = 1024;

/** The matcher made for `key` before, or a new one from `make` (remembered). */
export function remember(key: string, make: () => Matcher): Matcher {
  let m = made.get(key);
  if (m === undefined) {
    m = make();
    if (made.size >= MADE_MAX) made.clear();
    made.set(key, m);
  }
  return m;
}

/** Compiles a regular expression (see the file comment for the syntax); flags: "" or "i". */
export function compileRegex(pattern: string, flags = ''): Matcher {
  return remember(`r${flags}/${pattern}`, () => makeRegex(pattern, flags));
}

function makeRegex(pattern: string, flags: string): Matcher {
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
  return { test: (s) => s.startsWith(prefix) && program.test(s), cost: program.cost, size: program.size, work: program.work };
}
