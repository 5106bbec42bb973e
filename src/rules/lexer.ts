/**
 * The condition language's tokenizer: identifiers (field names and keywords, with `.` and `-`
 * inside, as in `header.x-request-id`), strings, numbers with units, status classes (`5xx`),
 * `/regex/flags` literals (only right after `=~`), operators and punctuation.
 */
import { RuleSyntaxError } from './errors';

/** Token kinds. */
export type TokKind = 'ident' | 'string' | 'number' | 'class' | 'regex' | 'op' | '(' | ')' | '[' | ']' | ',' | 'eof';
/** One token, with its 0-based offset in the condition. */
export interface Token {
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

/** Duration units, in ms. */
export const DURATION_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };
/** Size units, in bytes. */
export const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** Splits a condition into tokens; throws RuleSyntaxError at the first character that cannot start one. */
export function tokenize(src: string): Token[] {
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
