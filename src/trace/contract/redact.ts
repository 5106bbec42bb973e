/**
 * Which names mean a secret: the one definition of what the trace redacts, by name and by
 * pattern, for header names (the preload), URL query and fragment parameter names (redactUrl.ts)
 * and the options of the process's command line (`--db-password=…`, `--token x`). The lists are
 * documented in docs/trace-format.md#redaction; the `redact` and `redactQuery` options add names
 * and patterns, or take a name out with `!name`.
 */

import { REDACTED } from './wire';

/** Header names whose values are always redacted (compared case-insensitively). */
export const DEFAULT_REDACTED_HEADERS: readonly string[] = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
  'private-token',
  'x-amz-security-token',
  'x-goog-api-key',
  'x-csrf-token',
];

/**
 * Query parameter names redacted by default (compared case-insensitively, after percent-decoding):
 * API keys, bearer/OAuth tokens, signatures of pre-signed URLs, passwords, client secrets,
 * session ids. (OAuth's `code`, redacted in callbacks only: redactUrl.ts OAUTH_CODE.)
 */
export const DEFAULT_REDACTED_QUERY: readonly string[] = [
  'access_token',
  'access-token',
  'accesstoken',
  'api_key',
  'api-key',
  'apikey',
  'auth',
  'auth_token',
  'client_secret',
  'client-secret',
  'id_token',
  'jwt',
  'key',
  'passwd',
  'password',
  'private_token',
  'pwd',
  'refresh_token',
  'secret',
  'session_token',
  'sessionid',
  'sig',
  'signature',
  'token',
  'x-amz-credential',
  'x-amz-security-token',
  'x-amz-signature',
  'x-goog-credential',
  'x-goog-signature',
];

/**
 * The patterns `*part*`: a header, query parameter or command-line option whose name contains one
 * of these (case-insensitively) is redacted too (`X-Vendor-Token`, `db_password`, `sessionId`).
 */
export const SECRET_NAME_PARTS: readonly string[] = [
  'token',
  'secret',
  'password',
  'passwd',
  'api-key',
  'api_key',
  'apikey',
  'session',
  'auth',
  'csrf',
  'jwt',
];

/**
 * Names a pattern matches that are not secrets, kept: the authentication challenges a server sends
 * to anyone (`WWW-Authenticate`, `Proxy-Authenticate`) and `author`/`authority`. HTTP/2
 * pseudo-headers (`:authority`) are never matched by a pattern.
 */
export const NOT_SECRET_NAMES: readonly string[] = ['www-authenticate', 'proxy-authenticate', 'author', 'authority'];

/** Names whose SecretNames.hasText answer is kept (see SecretNames.verdicts). */
const MAX_VERDICTS = 512;
/** The longest name kept there. */
const MAX_VERDICT_NAME = 64;

/** Lower-case strings grouped by length (an array indexed by length: most names are ruled out at once). */
type ByLength = Array<string[] | undefined>;

function byLength(names: Iterable<string>): ByLength {
  const out: ByLength = [];
  for (const n of names) (out[n.length] ??= []).push(n);
  return out;
}

/** `s` from `at` equals the lower-case ASCII `lower`, whatever the case (string or bytes). */
export function sameLower(s: string | Uint8Array, lower: string, at = 0): boolean {
  return typeof s === 'string' ? sameLowerText(s, lower, at) : sameLowerBytes(s, lower, at);
}

/**
 * sameLower for text. The text and byte forms are separate functions, each seeing one type: V8's
 * optimizing compiler builds (and inlines into every hot caller) only the path it is given.
 */
export function sameLowerText(s: string, lower: string, at = 0): boolean {
  for (let k = 0; k < lower.length; k++) {
    const c = s.charCodeAt(at + k);
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== lower.charCodeAt(k)) return false;
  }
  return true;
}

/** sameLower for bytes (undici's header Buffers). */
export function sameLowerBytes(s: Uint8Array, lower: string, at = 0): boolean {
  for (let k = 0; k < lower.length; k++) {
    const c = s[at + k]!;
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== lower.charCodeAt(k)) return false;
  }
  return true;
}

/** A lower-case character code and its upper case, if it has one. */
function caseOf(c: number): number[] {
  return c >= 97 && c <= 122 ? [c, c - 32] : [c];
}

/** ASCII lower case of a character code. */
function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function inList(list: ByLength, name: string | Uint8Array): boolean {
  return typeof name === 'string' ? inListText(list, name) : inListBytes(list, name);
}

function inListText(list: ByLength, name: string): boolean {
  const candidates = list[name.length];
  if (candidates === undefined) return false;
  for (let i = 0; i < candidates.length; i++) if (sameLowerText(name, candidates[i]!)) return true;
  return false;
}

function inListBytes(list: ByLength, name: Uint8Array): boolean {
  const candidates = list[name.length];
  if (candidates === undefined) return false;
  for (let i = 0; i < candidates.length; i++) if (sameLowerBytes(name, candidates[i]!)) return true;
  return false;
}

/**
 * A set of secret names: exact names, `*part*` patterns and names kept although a pattern
 * matches. `has()` compares in place, on text or on the bytes undici holds, making no string.
 */
export class SecretNames {
  private readonly exact: ByLength;
  private readonly kept: ByLength;
  /** The parts by their first character's code (ASCII). */
  private readonly partsByFirst: Array<string[] | undefined> = [];
  /**
   * The first two characters of every part, in every case (ASCII, `first << 7 | second`): a name
   * is scanned once, and only where one of these pairs begins are the parts compared.
   */
  private readonly pairs = new Uint8Array(128 * 128);
  /** The user's parts the pairs cannot find (one character, or not ASCII): compared plainly. */
  private readonly otherParts: string[] = [];
  /** The exact names and the parts, lower-case (for SecretNames.headerLine). */
  readonly names: readonly string[];
  readonly parts: readonly string[];
  /**
   * hasText's answers by name as given (a program's header names repeat on every response, as new
   * strings Node's parser makes): one hash lookup instead of the scans, and the scans never hot
   * enough for V8 to optimize them on their own. At most MAX_VERDICTS names of MAX_VERDICT_NAME.
   */
  private readonly verdicts = new Map<string, boolean>();

  /**
   * `defaults`: the exact names; `extra`: the user's entries (`name`, `*part*`, `!name`). The
   * patterns are SECRET_NAME_PARTS plus the extra ones; `!name` removes an exact name and keeps
   * the name from the patterns.
   */
  constructor(defaults: readonly string[], extra: readonly string[] = []) {
    const names = new Set(defaults);
    const parts = new Set(SECRET_NAME_PARTS);
    const kept = new Set(NOT_SECRET_NAMES);
    for (const raw of extra) {
      const entry = String(raw).trim().toLowerCase();
      if (entry.startsWith('!')) {
        const name = entry.slice(1).trim();
        names.delete(name);
        kept.add(name);
      } else if (entry.includes('*')) {
        const part = entry.replace(/\*/g, '');
        if (part) parts.add(part);
      } else if (entry) names.add(entry);
    }
    this.names = [...names];
    this.parts = [...parts];
    this.exact = byLength(names);
    this.kept = byLength(kept);
    for (const p of parts) {
      if (p.length < 2 || /[^\x00-\x7f]/.test(p.slice(0, 2))) this.otherParts.push(p);
      else {
        (this.partsByFirst[p.charCodeAt(0)] ??= []).push(p);
        // Every case of the pair, so that the scan compares characters as they are.
        for (const a of caseOf(p.charCodeAt(0))) for (const b of caseOf(p.charCodeAt(1))) this.pairs[(a << 7) | b] = 1;
      }
    }
  }

  /** Whether the user's `!name` (or NOT_SECRET_NAMES) keeps `name`. */
  keeps(name: string | Uint8Array): boolean {
    return inList(this.kept, name);
  }

  /** Whether `name` is secret: an exact name, or it contains a part and is not kept. */
  has(name: string | Uint8Array): boolean {
    return typeof name === 'string' ? this.hasText(name) : this.hasBytes(name);
  }

  /** has() for text (a hot caller that knows its type calls this one: see sameLowerText). */
  hasText(name: string): boolean {
    const known = this.verdicts.get(name);
    if (known !== undefined) return known;
    const secret = this.scanText(name);
    if (name.length <= MAX_VERDICT_NAME && this.verdicts.size < MAX_VERDICTS) this.verdicts.set(name, secret);
    return secret;
  }

  /** hasText, worked out. */
  private scanText(name: string): boolean {
    if (name.length === 0) return false;
    if (inListText(this.exact, name)) return true;
    const hit = this.partInText(name) || (this.otherParts.length > 0 && this.otherPart(name));
    return hit && !inListText(this.kept, name);
  }

  /** has() for bytes (undici's header Buffers), compared in place. */
  hasBytes(name: Uint8Array): boolean {
    if (name.length === 0) return false;
    if (inListBytes(this.exact, name)) return true;
    const hit = this.partInBytes(name) || (this.otherParts.length > 0 && this.otherPart(String.fromCharCode(...name)));
    return hit && !inListBytes(this.kept, name);
  }

  /** Whether the name (not a pseudo-header) contains one of the user's parts the pair scan cannot find. */
  private otherPart(name: string): boolean {
    const text = name.toLowerCase();
    return text.charCodeAt(0) !== 58 && this.otherParts.some((p) => text.includes(p));
  }

  /** Whether the text (not a pseudo-header) contains a part, case-insensitively. */
  private partInText(name: string): boolean {
    const n = name.length;
    if (name.charCodeAt(0) === 58 /* ':' pseudo-header */) return false;
    const pairs = this.pairs;
    let prev = name.charCodeAt(0);
    for (let i = 1; i < n; i++) {
      const c = name.charCodeAt(i);
      if ((prev | c) < 128 && pairs[(prev << 7) | c] === 1) {
        const parts = this.partsByFirst[lower(prev)]!;
        for (let j = 0; j < parts.length; j++) if (i - 1 + parts[j]!.length <= n && sameLowerText(name, parts[j]!, i - 1)) return true;
      }
      prev = c;
    }
    return false;
  }

  /** partInText for the bytes undici holds. */
  private partInBytes(name: Uint8Array): boolean {
    const n = name.length;
    if (name[0] === 58) return false;
    const pairs = this.pairs;
    let prev = name[0]!;
    for (let i = 1; i < n; i++) {
      const c = name[i]!;
      if ((prev | c) < 128 && pairs[(prev << 7) | c] === 1) {
        const parts = this.partsByFirst[lower(prev)]!;
        for (let j = 0; j < parts.length; j++) if (i - 1 + parts[j]!.length <= n && sameLowerBytes(name, parts[j]!, i - 1)) return true;
      }
      prev = c;
    }
    return false;
  }

  /**
   * A regex that finds, in a header block, every line whose name has() may call secret (and a
   * few more: a kept name): the quick check before a block is parsed and redacted.
   */
  headerLine(): RegExp {
    const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const names = this.names.map(esc);
    const parts = this.parts.map(esc);
    const alternatives: string[] = [];
    if (names.length > 0) alternatives.push(`(?:${names.join('|')})[ \\t]*:`);
    if (parts.length > 0) alternatives.push(`[^:\\r\\n]*?(?:${parts.join('|')})`);
    return alternatives.length > 0 ? new RegExp(`\\n(?:${alternatives.join('|')})`, 'i') : /(?!)/;
  }
}

/** The secret header names: the defaults plus `extra` (the `redact` option's entries). */
export function redactedHeaderNames(extra: readonly string[] = []): SecretNames {
  return new SecretNames(DEFAULT_REDACTED_HEADERS, extra);
}

/** The secret query parameter names: the defaults plus `extra` (the `redactQuery` option's entries). */
export function redactedQueryNames(extra: readonly string[] = []): SecretNames {
  return new SecretNames(DEFAULT_REDACTED_QUERY, extra);
}

/**
 * The secret names of command-line options: those of headers and of query parameters, with both
 * options' entries (`--api-key=…`, `--cookie x`, `--db-password=…`).
 */
export function redactedArgNames(redact: readonly string[] = [], redactQuery: readonly string[] = []): SecretNames {
  return new SecretNames([...DEFAULT_REDACTED_HEADERS, ...DEFAULT_REDACTED_QUERY], [...redact, ...redactQuery]);
}

/**
 * A process's arguments with the values of secret options replaced by REDACTED:
 * `--db-password=x` and `name=x` (the value after `=`), `--token x` and `-token x` (the next
 * argument, unless it is an option itself). Other arguments are kept as they are.
 */
export function redactArgv(argv: readonly string[], names: SecretNames): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = String(argv[i]);
    const eq = /^(-{0,2})([A-Za-z_][\w.-]*)=/.exec(arg);
    if (eq) {
      out.push(names.has(eq[2]!) ? eq[0] + REDACTED : arg);
      continue;
    }
    out.push(arg);
    const flag = /^--?([A-Za-z_][\w.-]*)$/.exec(arg);
    if (flag && names.has(flag[1]!) && i + 1 < argv.length && !String(argv[i + 1]).startsWith('-')) {
      out.push(REDACTED);
      i++;
    }
  }
  return out;
}

/**
 * A command line kept as text (a trace's description or label, a launch's shell `command`) with
 * the values of its secret options replaced by REDACTED: its words — runs of non-blank characters
 * and quoted strings — through redactArgv, the blanks between them kept. For text only: where the
 * argv is at hand, redactArgv it (an argument with a blank in it is one word there, two here).
 */
export function redactCommandLine(text: string, names: SecretNames): string {
  const words: string[] = [];
  const at: number[] = [];
  for (const m of String(text).matchAll(/(?:[^\s"']+|"[^"]*"?|'[^']*'?)+/g)) {
    words.push(m[0]);
    at.push(m.index);
  }
  const redacted = redactArgv(words, names);
  let out = '';
  let last = 0;
  for (let i = 0; i < words.length; i++) {
    out += text.slice(last, at[i]) + redacted[i];
    last = at[i]! + words[i]!.length;
  }
  return out + text.slice(last);
}
