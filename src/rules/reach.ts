/**
 * What a rule's condition can reach: whether it can hold for a request over TLS at all. A `fail
 * tls` rule acts only on requests over TLS (`https`, `wss`: a plain request has no handshake to
 * fail; the engine does not read it for the others), so one whose condition holds only for plain
 * requests — it pins `scheme == "http"`, or a URL that starts `http://` or `ws://` — could never
 * act, and validateRule refuses it (docs/rules.md, "What-if actions"). A condition that does not
 * say (`true`, a host, a path, `port == 80`: https on port 80 is a real URL) is accepted: its
 * counters count only the requests over TLS it matched.
 *
 * The reading is Kleene's three-valued logic over "some request over TLS": each test is false
 * (no such request passes it), true (every one does) or unknown, and only a condition that comes
 * out false is refused. Unknown wherever this cannot tell, so nothing a TLS request could match
 * is ever refused.
 */
import type { Expr } from './condition';

type Truth = 0 | 1 | 2;
const F: Truth = 0;
const T: Truth = 1;
const U: Truth = 2;

/** The schemes of requests over TLS, as the `scheme` field holds them (lower case). */
const TLS_SCHEMES = ['https', 'wss'] as const;
/** How their URLs start (the `url` field: the scheme in lower case). */
const TLS_URL_HEADS = TLS_SCHEMES.map((s) => `${s}://`);

/** True when `head` (a URL's first characters, lower-cased) can start the URL of a request over TLS. */
function tlsHead(head: string): boolean {
  return TLS_URL_HEADS.some((h) => h.startsWith(head) || head.startsWith(h));
}

/** The literal text a glob starts with: up to its first `*` or `?` (`\*`, `\?` are literal). */
function globHead(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '\\' && i + 1 < glob.length) out += glob[++i];
    else if (c === '*' || c === '?') break;
    else out += c;
  }
  return out;
}

/**
 * The literal text an anchored regex's every match starts with (`^http://` → `http://`; `^https?`
 * → `http`), or '' when it is not anchored, has an alternation (`|`) or starts otherwise.
 */
function regexHead(src: string): string {
  if (!src.startsWith('^') || src.includes('|')) return '';
  let out = '';
  for (let i = 1; i < src.length; i++) {
    let c = src[i];
    let next = i + 1;
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined || /[A-Za-z0-9]/.test(e)) break; // \d, \w, \x41…: a class or a code, not one literal
      c = e;
      next = i + 2;
    } else if (!/[A-Za-z0-9:/_~-]/.test(c)) break;
    // A quantifier after it makes the character optional or repeated: the head ends before it.
    if (/[?*{]/.test(src[next] ?? '')) break;
    out += c;
    i = next - 1;
  }
  return out;
}

/** A string test on `url`: F when no URL over TLS passes it, else U. */
function urlTest(e: Extract<Expr, { k: 'test' }>): Truth {
  // `url != "http://…"` holds for every URL over TLS: unknown, as any other operator this cannot read.
  if (e.eq !== undefined) return e.eq.every((v) => typeof v === 'string' && !tlsHead(v.toLowerCase())) ? F : U;
  const lit = e.lit;
  if (lit === undefined) return U;
  let head = '';
  if (e.op === 'startsWith') head = lit;
  else if (e.op === '~') head = globHead(lit);
  else if (e.op === '=~') head = regexHead(lit);
  // Case-insensitive on purpose: a case-sensitive test is then called reachable more often, never less.
  return head !== '' && !tlsHead(head.toLowerCase()) ? F : U;
}

function truth(e: Expr): Truth {
  switch (e.k) {
    case 'const':
      return e.v ? T : F;
    case 'not': {
      const v = truth(e.e);
      return v === U ? U : v === T ? F : T;
    }
    case 'and': {
      const l = truth(e.l);
      if (l === F) return F;
      const r = truth(e.r);
      return r === F ? F : l === T && r === T ? T : U;
    }
    case 'or': {
      const l = truth(e.l);
      if (l === T) return T;
      const r = truth(e.r);
      return r === T ? T : l === F && r === F ? F : U;
    }
    case 'test': {
      const name = e.field.name;
      if (name === 'scheme') {
        const hits = TLS_SCHEMES.filter((s) => e.pred(s)).length;
        return hits === 0 ? F : hits === TLS_SCHEMES.length ? T : U;
      }
      if (name === 'url') return urlTest(e);
      return U;
    }
  }
}

/**
 * True when the condition holds for no request over TLS (`scheme == "http"`, `url ~ "http://**"`,
 * `scheme in ["http", "ws"] and …`): a `fail tls` rule with it could never act.
 */
export function neverOverTls(e: Expr): boolean {
  return truth(e) === F;
}
