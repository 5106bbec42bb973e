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
import { fieldFor, headerField, queryField, type FieldDef } from './fields';
import { DURATION_UNITS, SIZE_UNITS, tokenize, type Token } from './lexer';
import { compileGlob } from './glob';
import { compileRegex, type Matcher } from './matcher';
import { PatternError } from './regexSyntax';

/** Longest condition text accepted. */
export const MAX_CONDITION_LENGTH = 4096;
/** Deepest nesting of parentheses and `not`. */
export const MAX_DEPTH = 32;
/** Most values in one `in [...]` list. */
export const MAX_LIST = 256;

// ---- the tree ----

/** A value test compiled for one field: is the field's value (possibly undefined) accepted? */
export type Pred = (v: unknown) => boolean;

/** A parsed, type-checked condition. */
export type Expr =
  | { k: 'and' | 'or'; l: Expr; r: Expr }
  | { k: 'not'; e: Expr }
  | { k: 'const'; v: boolean }
  | {
      k: 'test';
      field: FieldDef;
      pred: Pred;
      pos: number;
      eq?: unknown[];
      cost: number;
      size?: number;
      matcher?: Matcher;
      /** The operator of a string test (`startsWith`, `~`, `=~`, …) and its text, for what a rule can reach (reach.ts). */
      op?: string;
      lit?: string;
    };

/**
 * What one test costs a decision at most, in budget steps (src/rules/budget.ts): a step is about
 * 0.1 µs on the reference machine with a 4,096-character value (bench/RESULTS.md, "Rules budget").
 */
export const TEST_STEPS = {
  /** ==, !=, in, numbers, true/false, presence: a comparison or a lookup. */
  plain: 2,
  /** startsWith, endsWith: a comparison as long as the text given. */
  ends: 5,
  /** contains: V8's substring search, up to ~20 µs on a 4,096-character value built against it. */
  contains: 300,
  /** A glob or regex, per unit of its Matcher.cost (a DFA: ~10–13 µs on 4,096 characters). */
  pattern: 100,
} as const;

/** The cost of the pattern predicates (their Matcher.cost), for the budget. */
const patternCost = new WeakMap<Pred, Matcher>();

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
    if (op === undefined) return { k: 'test', field, pred: presence(field), pos: tok.pos, cost: TEST_STEPS.plain };
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
      return {
        k: 'test',
        field,
        pred: inList(field, values),
        pos: tok.pos,
        eq: field.type === 'tags' ? undefined : values,
        cost: TEST_STEPS.plain,
      };
    }
    const misfit = opMisfit(field, op);
    if (misfit !== undefined) this.fail(misfit, opTok.pos);
    const valTok = this.peek();
    const value = this.value(field, op, valTok);
    const pred = predicate(field, op, value, opTok.pos, this.src, valTok);
    const pattern = patternCost.get(pred);
    const steps = pattern?.cost;
    return {
      size: pattern?.size,
      // The pattern's matcher (one per distinct pattern: matcher.ts remember), for its compile work.
      matcher: pattern,
      k: 'test',
      field,
      pred,
      pos: tok.pos,
      eq: op === '==' && field.type !== 'tags' ? [value] : undefined,
      ...(field.type === 'string' ? { op, lit: typeof value === 'string' ? value : (value as Token).text } : {}),
      cost:
        steps !== undefined
          ? steps * TEST_STEPS.pattern
          : field.type !== 'string'
            ? TEST_STEPS.plain
            : op === 'contains'
              ? TEST_STEPS.contains
              : op === 'startsWith' || op === 'endsWith'
                ? TEST_STEPS.ends
                : TEST_STEPS.plain,
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
      const pred: Pred = (v) => typeof v === 'string' && m.test(v);
      patternCost.set(pred, m);
      return pred;
    }
  }
  return fail(`"${op}" does not apply to the string ${field.name} (use ==, !=, ~, =~, contains, startsWith, endsWith, in)`);
}

/**
 * Conditions parsed so far: a set is parsed where it is validated, where its budget is counted
 * (budget.ts) and where it is compiled, and 3,000 rules took ~100 ms a pass. A tree is never
 * changed once made (compiling folds into new nodes), so one serves every reader. Cleared when full.
 */
const parsed = new Map<string, Expr>();
const PARSED_MAX = 10_000;
/** Pattern table cells the remembered trees hold (Matcher.size); cleared past PARSED_MAX_CELLS. */
let parsedCells = 0;
const PARSED_MAX_CELLS = 2_000_000;

function cellsOf(e: Expr): number {
  return e.k === 'test' ? (e.size ?? 0) : e.k === 'not' ? cellsOf(e.e) : e.k === 'const' ? 0 : cellsOf(e.l) + cellsOf(e.r);
}

/** Parses and type-checks a condition; throws RuleSyntaxError with the position of the first problem. */
export function parseCondition(src: string): Expr {
  if (typeof src !== 'string') throw new RuleSyntaxError('a condition must be a string', '', 0);
  if (src.length > MAX_CONDITION_LENGTH)
    throw new RuleSyntaxError(`condition longer than ${MAX_CONDITION_LENGTH} characters`, src, MAX_CONDITION_LENGTH);
  let e = parsed.get(src);
  if (e === undefined) {
    e = new Parser(src, tokenize(src)).parse();
    const cells = cellsOf(e);
    if (parsed.size >= PARSED_MAX || parsedCells + cells > PARSED_MAX_CELLS) {
      parsed.clear();
      parsedCells = 0;
    }
    parsed.set(src, e);
    parsedCells += cells;
  }
  return e;
}
