/**
 * The condition language: tokenizer, recursive-descent parser and compiler to a tree of
 * closures (no eval, no `new Function`). Grammar (keywords and field names case-insensitive):
 *
 *   expr  := or
 *   or    := and (('or' | '||') and)*
 *   and   := not (('and' | '&&') not)*
 *   not   := ('not' | '!') not | '(' expr ')' | 'true' | 'false' | test
 *   test  := field
 *          | field op value
 *          | field 'in' '[' value (',' value)* ']'
 *   op    := '==' | '!=' | '<' | '<=' | '>' | '>=' | '~' (glob) | '=~' (regex)
 *          | 'contains' | 'startsWith' | 'endsWith'
 *   field := name | 'query.'key | 'header.'name | ('query' | 'header') '[' string ']'
 *   value := string ("…" or '…') | number [unit] | 1xx…5xx | true | false | /regex/flags (after =~)
 *
 * See docs/rules.md for the fields and what each operator does on each kind of field.
 */
import { RuleSyntaxError } from './errors';
import { fieldFor, headerField, queryField, type FieldDef, type ProcessFacts, type RequestFacts } from './fields';
import { compileGlob, compileRegex, PatternError, type Matcher } from './matcher';

/** Longest condition text accepted. */
export const MAX_CONDITION_LENGTH = 4096;
/** Deepest nesting of parentheses and `not`. */
export const MAX_DEPTH = 32;
/** Most values in one `in [...]` list. */
export const MAX_LIST = 256;

// ---- tokens ----

type TokKind = 'ident' | 'string' | 'number' | 'class' | 'regex' | 'op' | '(' | ')' | '[' | ']' | ',' | 'eof';
interface Token {
  kind: TokKind;
  /** ident: its text; string: the decoded value; op: the operator; class: e.g. "5xx". */
  text: string;
  /** number: the value in base units (ms, bytes). */
  num?: number;
  /** number: its unit as written, lower-cased ("" when none). */
  unit?: string;
  /** regex: its flags. */
  flags?: string;
  pos: number;
}

const DURATION_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };
const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const fail = (msg: string, at: number): never => {
    throw new RuleSyntaxError(msg, src, at);
  };
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const pos = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_.-]/.test(src[i])) i++;
      out.push({ kind: 'ident', text: src.slice(pos, i), pos });
    } else if (/[0-9]/.test(c)) {
      const m = /^(\d+(?:\.\d+)?)([A-Za-z]*)/.exec(src.slice(i, i + 64)) as RegExpExecArray;
      i += m[0].length;
      if (/^[1-5]xx$/i.test(m[0])) {
        out.push({ kind: 'class', text: m[0].toLowerCase(), pos });
        continue;
      }
      if (/^\d+xx$/i.test(m[0])) fail('status classes are 1xx, 2xx, 3xx, 4xx and 5xx', pos);
      const unit = m[2].toLowerCase();
      if (unit !== '' && DURATION_UNITS[unit] === undefined && SIZE_UNITS[unit] === undefined) {
        fail(`unknown unit "${m[2]}" (durations: us, ms, s, m, h; sizes: b, kb, kib, mb, mib, gb, gib)`, pos + m[1].length);
      }
      out.push({ kind: 'number', text: m[0], num: Number(m[1]), unit, pos });
    } else if (c === '"' || c === "'") {
      i++;
      let value = '';
      for (;;) {
        if (i >= src.length) fail('unterminated string', pos);
        const ch = src[i];
        if (ch === c) {
          i++;
          break;
        }
        if (ch === '\\') {
          const e = src[i + 1];
          const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", '0': '\0', '/': '/' };
          if (e === undefined) fail('unterminated string', pos);
          if (simple[e] !== undefined) {
            value += simple[e];
            i += 2;
          } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
            value += String.fromCharCode(parseInt(src.slice(i + 2, i + 6), 16));
            i += 6;
          } else if (e === '*' || e === '?') {
            value += '\\' + e; // kept for globs: \* is a literal star
            i += 2;
          } else fail(`unknown escape "\\${e}" in string (use \\\\ for a backslash)`, i);
        } else {
          value += ch;
          i++;
        }
      }
      out.push({ kind: 'string', text: value, pos });
    } else if (c === '/' && out.length > 0 && out[out.length - 1].kind === 'op' && out[out.length - 1].text === '=~') {
      i++;
      let inClass = false;
      let body = '';
      for (;;) {
        if (i >= src.length) fail('unterminated regex (it ends with an unescaped "/")', pos);
        const ch = src[i];
        if (ch === '\\' && i + 1 < src.length) {
          body += ch + src[i + 1];
          i += 2;
          continue;
        }
        if (ch === '[') inClass = true;
        else if (ch === ']') inClass = false;
        else if (ch === '/' && !inClass) break;
        body += ch;
        i++;
      }
      i++;
      const f0 = i;
      while (i < src.length && /[A-Za-z]/.test(src[i])) i++;
      out.push({ kind: 'regex', text: body, flags: src.slice(f0, i), pos });
    } else {
      const two = src.slice(i, i + 2);
      if (two === '==' || two === '!=' || two === '<=' || two === '>=' || two === '=~' || two === '&&' || two === '||') {
        out.push({ kind: 'op', text: two, pos });
        i += 2;
      } else if (c === '<' || c === '>' || c === '~' || c === '!') {
        out.push({ kind: 'op', text: c, pos });
        i++;
      } else if (c === '(' || c === ')' || c === '[' || c === ']' || c === ',') {
        out.push({ kind: c, text: c, pos });
        i++;
      } else if (c === '=') {
        fail('"=" is not an operator; use "==" to compare', pos);
      } else fail(`unexpected character ${JSON.stringify(c)}`, pos);
    }
  }
  out.push({ kind: 'eof', text: '', pos: src.length });
  return out;
}

// ---- the tree ----

/** A value test compiled for one field: is the field's value (possibly undefined) accepted? */
type Pred = (v: unknown) => boolean;

/** A parsed, type-checked condition. */
export type Expr =
  | { k: 'and' | 'or'; l: Expr; r: Expr }
  | { k: 'not'; e: Expr }
  | { k: 'const'; v: boolean }
  | { k: 'test'; field: FieldDef; pred: Pred; pos: number; eq?: unknown[] };

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'true', 'false', 'contains', 'startswith', 'endswith']);
const WORD_OPS: Record<string, string> = { contains: 'contains', startswith: 'startsWith', endswith: 'endsWith', in: 'in' };

class Parser {
  private t = 0;
  private depth = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Token[],
  ) {}

  private fail(msg: string, at: number): never {
    throw new RuleSyntaxError(msg, this.src, at);
  }
  private peek(): Token {
    return this.toks[this.t];
  }
  private word(tok: Token): string | undefined {
    return tok.kind === 'ident' ? tok.text.toLowerCase() : undefined;
  }
  private describe(tok: Token): string {
    return tok.kind === 'eof'
      ? 'the end of the condition'
      : tok.kind === 'string'
        ? `the string ${JSON.stringify(tok.text)}`
        : `"${this.src.slice(tok.pos, this.toks[this.t + 1]?.pos ?? tok.pos + tok.text.length).trim()}"`;
  }

  parse(): Expr {
    if (this.peek().kind === 'eof') this.fail('empty condition (write "true" to match every request)', 0);
    const e = this.or();
    const tok = this.peek();
    if (tok.kind !== 'eof') {
      const hint = tok.kind === ')' ? 'unmatched ")"' : `expected "and", "or" or the end of the condition, found ${this.describe(tok)}`;
      this.fail(hint, tok.pos);
    }
    return e;
  }

  private or(): Expr {
    let l = this.and();
    for (;;) {
      const tok = this.peek();
      if (this.word(tok) !== 'or' && !(tok.kind === 'op' && tok.text === '||')) return l;
      this.t++;
      l = { k: 'or', l, r: this.and() };
    }
  }

  private and(): Expr {
    let l = this.not();
    for (;;) {
      const tok = this.peek();
      if (this.word(tok) !== 'and' && !(tok.kind === 'op' && tok.text === '&&')) return l;
      this.t++;
      l = { k: 'and', l, r: this.not() };
    }
  }

  private not(): Expr {
    const tok = this.peek();
    const w = this.word(tok);
    if (w === 'not' || (tok.kind === 'op' && tok.text === '!')) {
      this.t++;
      this.enter(tok);
      const e = this.not();
      this.depth--;
      return { k: 'not', e };
    }
    if (tok.kind === '(') {
      this.t++;
      this.enter(tok);
      const e = this.or();
      this.depth--;
      if (this.peek().kind !== ')')
        this.fail(`expected ")" to close the "(" at column ${tok.pos + 1}, found ${this.describe(this.peek())}`, this.peek().pos);
      this.t++;
      return e;
    }
    if (w === 'true' || w === 'false') {
      this.t++;
      return { k: 'const', v: w === 'true' };
    }
    return this.test();
  }

  private enter(tok: Token): void {
    if (++this.depth > MAX_DEPTH) this.fail(`nested too deeply (more than ${MAX_DEPTH} levels of "(" and "not")`, tok.pos);
  }

  private test(): Expr {
    const tok = this.peek();
    if (tok.kind !== 'ident' || KEYWORDS.has(tok.text.toLowerCase()))
      this.fail(`expected a field name (method, host, path, status, …), found ${this.describe(tok)}`, tok.pos);
    this.t++;
    let field: FieldDef | undefined;
    const lower = tok.text.toLowerCase();
    if ((lower === 'query' || lower === 'header') && this.peek().kind === '[') {
      this.t++;
      const key = this.peek();
      if (key.kind !== 'string') this.fail(`expected a quoted ${lower === 'query' ? 'parameter' : 'header'} name`, key.pos);
      this.t++;
      if (this.peek().kind !== ']') this.fail('expected "]"', this.peek().pos);
      this.t++;
      field = lower === 'query' ? queryField(key.text) : headerField(key.text);
    } else field = fieldFor(tok.text);
    if (field === undefined) this.fail(`unknown field "${tok.text}"`, tok.pos);

    const opTok = this.peek();
    const opWord = this.word(opTok);
    let op: string | undefined;
    if (opTok.kind === 'op' && opTok.text !== '&&' && opTok.text !== '||' && opTok.text !== '!') op = opTok.text;
    else if (opWord !== undefined && WORD_OPS[opWord] !== undefined) op = WORD_OPS[opWord];
    if (op === undefined) return { k: 'test', field, pred: presence(field), pos: tok.pos };
    this.t++;
    if (op === 'in') {
      if (this.peek().kind !== '[') this.fail('expected "[" after "in"', this.peek().pos);
      this.t++;
      const values: unknown[] = [];
      for (;;) {
        const v = this.peek();
        if (v.kind === ']' && values.length === 0) this.fail('empty list', v.pos);
        values.push(this.value(field, '==', v));
        if (values.length > MAX_LIST) this.fail(`more than ${MAX_LIST} values in one list`, v.pos);
        const sep = this.peek();
        if (sep.kind === ',') {
          this.t++;
          continue;
        }
        if (sep.kind === ']') {
          this.t++;
          break;
        }
        this.fail(`expected "," or "]", found ${this.describe(sep)}`, sep.pos);
      }
      return { k: 'test', field, pred: inList(field, values), pos: tok.pos, eq: field.type === 'tags' ? undefined : values };
    }
    const misfit = opMisfit(field, op);
    if (misfit !== undefined) this.fail(misfit, opTok.pos);
    const valTok = this.peek();
    const value = this.value(field, op, valTok);
    return {
      k: 'test',
      field,
      pred: predicate(field, op, value, opTok.pos, this.src, valTok),
      pos: tok.pos,
      eq: op === '==' && field.type !== 'tags' ? [value] : undefined,
    };
  }

  /** Reads one value token and checks it against the field's type and the operator; returns it normalized. */
  private value(field: FieldDef, op: string, tok: Token): unknown {
    this.t++;
    const bad = (what: string): never =>
      this.fail(
        `${field.name} ${field.type === 'number' ? 'is a number' : field.type === 'bool' ? 'is true or false' : field.type === 'statusClass' ? 'is 1xx … 5xx' : field.type === 'tags' ? 'holds tags (strings)' : 'is a string'}: ${what}`,
        tok.pos,
      );
    if (tok.kind === 'eof') this.fail(`expected a value after "${op}"`, tok.pos);
    if (tok.kind === 'regex') {
      if (op !== '=~') this.fail('a /regex/ goes only after "=~"', tok.pos);
      return tok;
    }
    const w = this.word(tok);
    switch (field.type) {
      case 'number': {
        if (tok.kind !== 'number') bad(`expected a number, found ${this.describe(tok)}`);
        const unit = tok.unit as string;
        if (unit === '') return tok.num;
        const table = field.unit === 'duration' ? DURATION_UNITS : field.unit === 'size' ? SIZE_UNITS : undefined;
        if (table === undefined) this.fail(`${field.name} takes a plain number, not one with a unit`, tok.pos);
        const scale = table[unit];
        if (scale === undefined) this.fail(`"${unit}" is not a ${field.unit} unit (${Object.keys(table).join(', ')})`, tok.pos);
        return (tok.num as number) * scale;
      }
      case 'bool':
        if (w !== 'true' && w !== 'false') bad(`compare with true or false, found ${this.describe(tok)}`);
        return w === 'true';
      case 'statusClass':
        if (tok.kind === 'class') return tok.text;
        if (tok.kind === 'string' && /^[1-5]xx$/i.test(tok.text)) return tok.text.toLowerCase();
        return bad(`expected 1xx, 2xx, 3xx, 4xx or 5xx, found ${this.describe(tok)}`);
      default:
        if (tok.kind !== 'string')
          bad(`expected a quoted string, found ${this.describe(tok)}${tok.kind === 'ident' ? ` (write "${tok.text}" in quotes)` : ''}`);
        return field.fold === 'lower' ? tok.text.toLowerCase() : field.fold === 'upper' ? tok.text.toUpperCase() : tok.text;
    }
  }
}

/** The bare-field test: true for a true bool, a present non-empty value, a non-empty tag set. */
function presence(field: FieldDef): Pred {
  if (field.type === 'bool') return (v) => v === true;
  if (field.type === 'tags') return (v) => Array.isArray(v) && v.length > 0;
  return (v) => v !== undefined && v !== '';
}

function inList(field: FieldDef, values: unknown[]): Pred {
  if (field.type === 'tags') return (v) => Array.isArray(v) && v.some((t) => values.includes(t));
  if (values.length <= 8) return (v) => v !== undefined && values.includes(v);
  const set = new Set(values);
  return (v) => v !== undefined && set.has(v);
}

/** Why an operator does not apply to a field's type, or undefined when it does. */
function opMisfit(field: FieldDef, op: string): string | undefined {
  if (op === '==' || op === '!=') return undefined;
  switch (field.type) {
    case 'tags':
      return op === 'contains' ? undefined : `"${op}" does not apply to tag (use ==, !=, in)`;
    case 'number':
      return ['<', '<=', '>', '>='].includes(op)
        ? undefined
        : `"${op}" does not apply to the number ${field.name} (use ==, !=, <, <=, >, >=, in)`;
    case 'bool':
      return `"${op}" does not apply to ${field.name} (use ==, !=, or the field alone)`;
    case 'statusClass':
      return `"${op}" does not apply to ${field.name} (use ==, !=, in)`;
    default:
      return ['<', '<=', '>', '>='].includes(op)
        ? `"${op}" does not apply to the string ${field.name} (use ==, !=, ~, =~, contains, startsWith, endsWith, in)`
        : undefined;
  }
}

function predicate(field: FieldDef, op: string, value: unknown, opPos: number, src: string, valTok: Token): Pred {
  const fail = (msg: string, at = opPos): never => {
    throw new RuleSyntaxError(msg, src, at);
  };
  const type = field.type;
  if (op === '!=') {
    const eq = predicate(field, '==', value, opPos, src, valTok);
    return (v) => !eq(v);
  }
  if (type === 'tags') {
    if (op === '==' || op === 'contains') return (v) => Array.isArray(v) && v.includes(value as string);
    return fail(`"${op}" does not apply to tag (use ==, !=, in)`);
  }
  if (op === '==') return (v) => v === value;
  if (type === 'number') {
    const n = value as number;
    switch (op) {
      case '<':
        return (v) => (v as number) < n;
      case '<=':
        return (v) => (v as number) <= n;
      case '>':
        return (v) => (v as number) > n;
      case '>=':
        return (v) => (v as number) >= n;
    }
    return fail(`"${op}" does not apply to the number ${field.name} (use ==, !=, <, <=, >, >=, in)`);
  }
  if (type !== 'string')
    return fail(`"${op}" does not apply to ${field.name} (use ==, !=${type === 'bool' ? ', or the field alone' : ', in'})`);
  const s = value as string;
  switch (op) {
    case 'contains':
      return (v) => typeof v === 'string' && v.includes(s);
    case 'startsWith':
      return (v) => typeof v === 'string' && v.startsWith(s);
    case 'endsWith':
      return (v) => typeof v === 'string' && v.endsWith(s);
    case '~':
    case '=~': {
      let m: Matcher;
      try {
        // Case-folded fields (host, method, …) hold folded values and `s` was folded the same way.
        if (op === '~') m = compileGlob(s);
        else if (typeof value === 'object') m = compileRegex((value as Token).text, (value as Token).flags);
        else m = compileRegex(s);
      } catch (e) {
        if (!(e instanceof PatternError)) throw e;
        // A /regex/ literal's pattern starts one character after its token; a string's too (the quote).
        return fail(`bad ${op === '~' ? 'glob' : 'regex'}: ${e.message}`, valTok.pos + 1 + e.index);
      }
      return (v) => typeof v === 'string' && m.test(v);
    }
  }
  return fail(`"${op}" does not apply to the string ${field.name} (use ==, !=, ~, =~, contains, startsWith, endsWith, in)`);
}

/** Parses and type-checks a condition; throws RuleSyntaxError with the position of the first problem. */
export function parseCondition(src: string): Expr {
  if (typeof src !== 'string') throw new RuleSyntaxError('a condition must be a string', '', 0);
  if (src.length > MAX_CONDITION_LENGTH)
    throw new RuleSyntaxError(`condition longer than ${MAX_CONDITION_LENGTH} characters`, src, MAX_CONDITION_LENGTH);
  return new Parser(src, tokenize(src)).parse();
}

// ---- compiling ----

/** Tri-state results of evaluating at the start: a condition that reads end fields may be undecided. */
export const NO = 0;
export const YES = 1;
export const UNKNOWN = 2;
/** NO, YES or UNKNOWN. */
export type Tri = 0 | 1 | 2;

/** A condition ready to run: the closures, and when it can be decided. */
export interface CompiledCondition {
  /** True when the condition reads no field of the request's end: decided when the request starts. */
  startDecidable: boolean;
  /** Set when the condition is the same for every request of this process (it reads only pid, threadId, command, or nothing). */
  constant: boolean | undefined;
  /** Evaluates on the facts known so far (end fields read as unknown when `f.end` is null). */
  atStart: (f: RequestFacts) => Tri;
  /** Evaluates with every fact (the request ended: `f.end` set). */
  atEnd: (f: RequestFacts) => boolean;
  /** The names of the fields the condition reads, lower-case. */
  fields: string[];
  /** The (lower-case) hosts the request must have for the condition to hold, or null: any host. */
  hosts: string[] | null;
}

/** Replaces process-field tests by their value for this process and folds constants. */
function fold(e: Expr, p: ProcessFacts): Expr {
  switch (e.k) {
    case 'const':
      return e;
    case 'test':
      return e.field.phase === 'process' ? { k: 'const', v: e.pred(e.field.get(null as unknown as RequestFacts, p, 0)) } : e;
    case 'not': {
      const x = fold(e.e, p);
      return x.k === 'const' ? { k: 'const', v: !x.v } : { k: 'not', e: x };
    }
    default: {
      const l = fold(e.l, p);
      const r = fold(e.r, p);
      const and = e.k === 'and';
      for (const [a, b] of [
        [l, r],
        [r, l],
      ]) {
        if (a.k === 'const') return a.v === and ? b : a;
      }
      return { k: e.k, l, r };
    }
  }
}

function readsEnd(e: Expr): boolean {
  switch (e.k) {
    case 'const':
      return false;
    case 'test':
      return e.field.phase === 'end';
    case 'not':
      return readsEnd(e.e);
    default:
      return readsEnd(e.l) || readsEnd(e.r);
  }
}

function fieldNames(e: Expr, out: Set<string>): Set<string> {
  if (e.k === 'test') out.add(e.field.name.toLowerCase());
  else if (e.k === 'not') fieldNames(e.e, out);
  else if (e.k === 'and' || e.k === 'or') {
    fieldNames(e.l, out);
    fieldNames(e.r, out);
  }
  return out;
}

/**
 * The hosts a request must have for the condition to hold, when its top-level "and" chain has
 * `host == "…"` or `host in [...]` (an "or" of such chains gives their union); null otherwise.
 * The engine indexes rules by it so a request skips rules for other hosts without reading them.
 */
function requiredHosts(e: Expr): string[] | null {
  switch (e.k) {
    case 'test':
      return e.field.name === 'host' && e.eq !== undefined ? (e.eq as string[]) : null;
    case 'and': {
      const l = requiredHosts(e.l);
      const r = requiredHosts(e.r);
      return l === null ? r : r === null ? l : l.filter((h) => r.includes(h));
    }
    case 'or': {
      const l = requiredHosts(e.l);
      const r = requiredHosts(e.r);
      return l === null || r === null ? null : [...new Set([...l, ...r])];
    }
    case 'const':
      return e.v ? null : [];
    default:
      return null;
  }
}

function boolFn(e: Expr, p: ProcessFacts, slowMs: number): (f: RequestFacts) => boolean {
  switch (e.k) {
    case 'const': {
      const v = e.v;
      return () => v;
    }
    case 'test': {
      const { pred, field } = e;
      // The commonest tests read a request property directly: one closure call instead of three.
      if (e.eq !== undefined && e.eq.length === 1) {
        const v = e.eq[0];
        switch (field.name) {
          case 'host':
            return (f) => f.host === v;
          case 'method':
            return (f) => f.method === v;
          case 'path':
            return (f) => f.path === v;
          case 'port':
            return (f) => f.start.port === v;
        }
      }
      switch (field.name) {
        case 'host':
          return (f) => pred(f.host);
        case 'path':
          return (f) => pred(f.path);
        case 'method':
          return (f) => pred(f.method);
        case 'url':
          return (f) => pred(f.url);
      }
      const get = field.get;
      return (f) => pred(get(f, p, slowMs));
    }
    case 'not': {
      const x = boolFn(e.e, p, slowMs);
      return (f) => !x(f);
    }
    case 'and': {
      const l = boolFn(e.l, p, slowMs);
      const r = boolFn(e.r, p, slowMs);
      return (f) => l(f) && r(f);
    }
    case 'or': {
      const l = boolFn(e.l, p, slowMs);
      const r = boolFn(e.r, p, slowMs);
      return (f) => l(f) || r(f);
    }
  }
}

/** Kleene three-valued evaluation: end-field tests are UNKNOWN until the request has ended. */
function triFn(e: Expr, p: ProcessFacts, slowMs: number): (f: RequestFacts) => Tri {
  if (!readsEnd(e)) {
    const b = boolFn(e, p, slowMs);
    return (f) => (b(f) ? YES : NO);
  }
  switch (e.k) {
    case 'test': {
      const { pred, field } = e;
      const get = field.get;
      return (f) => (f.end === null ? UNKNOWN : pred(get(f, p, slowMs)) ? YES : NO);
    }
    case 'not': {
      const x = triFn(e.e, p, slowMs);
      return (f) => {
        const v = x(f);
        return v === UNKNOWN ? UNKNOWN : v === YES ? NO : YES;
      };
    }
    case 'and': {
      const l = triFn(e.l, p, slowMs);
      const r = triFn(e.r, p, slowMs);
      return (f) => {
        const a = l(f);
        if (a === NO) return NO;
        const b = r(f);
        return b === NO ? NO : a === YES && b === YES ? YES : UNKNOWN;
      };
    }
    case 'or': {
      const l = triFn(e.l, p, slowMs);
      const r = triFn(e.r, p, slowMs);
      return (f) => {
        const a = l(f);
        if (a === YES) return YES;
        const b = r(f);
        return b === YES ? YES : a === NO && b === NO ? NO : UNKNOWN;
      };
    }
    default:
      throw new Error('unreachable');
  }
}

/** Options that fix a condition's meaning in one process. */
export interface CompileOptions {
  process: ProcessFacts;
  /** The `slow` field's threshold in ms (default 1000, as slowThresholdMs). */
  slowThresholdMs?: number;
}

/** Parses, type-checks and compiles a condition for one process. Throws RuleSyntaxError. */
export function compileCondition(src: string, opts: CompileOptions): CompiledCondition {
  const slowMs = opts.slowThresholdMs ?? 1000;
  const parsed = parseCondition(src);
  const e = fold(parsed, opts.process);
  const startDecidable = !readsEnd(e);
  return {
    startDecidable,
    constant: e.k === 'const' ? e.v : undefined,
    atStart: triFn(e, opts.process, slowMs),
    atEnd: boolFn(e, opts.process, slowMs),
    fields: [...fieldNames(parsed, new Set())],
    hosts: requiredHosts(e),
  };
}
