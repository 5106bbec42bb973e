/**
 * Globs for `~` (docs/rules.md): `*` any run of characters except `/`, `**` any run including `/`,
 * `?` one character except `/`. Compiled to matcher.ts's Program (with its DFA), or matched by
 * the two-pointer wildcard algorithm when the program has no DFA; common shapes skip both.
 */
import { MAX_PATTERN, MAX_SUBJECT, Program, foldCase, remember, type Matcher } from './matcher';
import { PatternError } from './regexSyntax';
import type { Node } from './regexSyntax';

/**
 * Compiles a glob that must match the whole subject (see makeGlob).
 */
export function compileGlob(pattern: string, icase = false): Matcher {
  return remember(`g${icase ? 'i' : ''}/${pattern}`, () => makeGlob(pattern, icase));
}

/**
 * Compiles a glob that must match the whole subject: `*` any run of characters except `/`,
 * `**` any run including `/`, `?` one character except `/`, `\` escapes the next character.
 * Common shapes (no wildcard, a literal then `**`, `**` then a literal) skip the NFA.
 */
function makeGlob(pattern: string, icase: boolean): Matcher {
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
    return { test: (s) => fold(s) === want, cost: 1, size: 1 };
  }
  if (/^\*+$/.test(pattern))
    return pattern === '*' ? { test: (s) => s.indexOf('/') === -1, cost: 1, size: 1 } : { test: () => true, cost: 1, size: 1 };
  const simple = /^((?:[^*?\\]|\\.)*)(\*\*)$|^(\*\*)((?:[^*?\\]|\\.)*)$/.exec(pattern);
  if (simple) {
    const lit = fold((simple[1] ?? simple[4]).replace(/\\(.)/g, '$1'));
    return simple[2]
      ? { test: (s) => fold(s).startsWith(lit), cost: 1, size: 1 }
      : { test: (s) => fold(s).endsWith(lit), cost: 1, size: 1 };
  }
  const hasSingle = items.some((n) => n.t === 'rep' && n.node.t === 'class');
  const hasDouble = items.some((n) => n.t === 'rep' && n.node.t === 'any');
  // The DFA when the glob has one (one table read per character); else the wildcard algorithm for
  // one kind of star (pattern × subject at worst), else the NFA.
  let program: Program | undefined;
  try {
    program = new Program({ t: 'cat', items: [{ t: 'bol' }, ...items, { t: 'eol' }] }, icase, true, pattern.length);
  } catch (e) {
    if (!(e instanceof PatternError) || hasSingle === hasDouble) throw e;
  }
  const chosen: Matcher =
    program !== undefined && (program.cost === 1 || (hasSingle && hasDouble)) ? program : wildcard(items, hasSingle, icase);
  // The DFA's construction was paid for whichever is kept.
  const full: Matcher =
    chosen === program ? chosen : { test: (s) => chosen.test(s), cost: chosen.cost, size: chosen.size, work: program?.work };
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
  return {
    test: (s) => s.length >= need && s.startsWith(head) && s.endsWith(tail) && full.test(s),
    cost: full.cost,
    size: full.size,
    work: full.work,
  };
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
    cost: plen,
    size: plen,
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
