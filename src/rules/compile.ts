/**
 * Compiling a parsed condition for one process: process fields folded to constants, then a tree
 * of closures, two-valued for the end of a request and three-valued (Kleene) for its start, when
 * end fields are not known yet. Also what the engine needs to know about it: start-decidable or
 * not, and the hosts it requires (for the host index).
 */
import { parseCondition, type Expr } from './condition';
import type { ProcessFacts, RequestFacts } from './fields';

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
export function requiredHosts(e: Expr): string[] | null {
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
