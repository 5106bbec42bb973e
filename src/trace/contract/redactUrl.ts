/**
 * Redaction of secrets in URLs: the values of query (and fragment) parameters whose names mean a
 * credential (./redact.ts: by name and by pattern) are replaced by REDACTED, as the preload does
 * for credential headers. Applied once, where the collector builds a request record
 * (TraceBuilder), so the saved JSON, the HAR (its `url` and `queryString`), the panel and the CLI
 * all see the same redacted URL.
 */

import { REDACTED } from './wire';

/** What redactUrl asks of its names: SecretNames (./redact.ts), or a set of lower-case names. */
export interface NameSet {
  has(lowerName: string): boolean;
  /** Whether the user keeps the name (`!name`) although a default would redact it. */
  keeps?(lowerName: string): boolean;
}

function paramName(raw: string): string {
  const name = raw.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(name).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}

/**
 * Redacts `name=value` pairs of one `&`-separated part of a URL; returns it unchanged if none
 * match. `oauth`: the URL is an OAuth callback, whose `code` is a credential (see OAUTH_CODE).
 */
function redactParams(part: string, names: NameSet, oauth: boolean): string {
  if (!part.includes('=')) return part;
  oauth ||= OAUTH_PARAMS.test(part);
  let changed = false;
  const out = part.split('&').map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0) return p;
    const name = paramName(p.slice(0, eq));
    if (!names.has(name) && !(oauth && name === OAUTH_CODE && !names.keeps?.(name))) return p;
    if (p.slice(eq + 1) === REDACTED) return p;
    changed = true;
    return p.slice(0, eq + 1) + REDACTED;
  });
  return changed ? out.join('&') : part;
}

/**
 * OAuth's authorization code (`?code=…&state=…` on the redirect back to the client) is a
 * credential, but `code` is also an ordinary name (`/status?code=500`, `?code=US`): it is redacted
 * in an OAuth callback only, a URL whose path names one (OAUTH_PATH) or whose parameters carry
 * the callback's other parameters (OAUTH_PARAMS). Adding `code` to `redactQuery` redacts it
 * everywhere; `!code` nowhere.
 */
export const OAUTH_CODE = 'code';
/** A path that names an OAuth callback or login redirect. */
export const OAUTH_PATH = /callback|oauth|authoriz|redirect|sign-?in|login/i;
/** The parameters an OAuth callback carries beside `code` (RFC 6749 `state`, RFC 9207 `iss`, OIDC `session_state`). */
export const OAUTH_PARAMS = /(?:^|&)(?:state|session_state|iss)=/i;

/**
 * Returns `url` with the values of its query and fragment parameters named in `names` (and an
 * OAuth callback's `code`) replaced by REDACTED (`?api_key=<redacted>&page=2`). Everything else
 * is kept byte for byte; a URL without `?` or `#` is returned as it is.
 */
export function redactUrl(url: string, names: NameSet): string {
  const q = url.indexOf('?');
  const h = url.indexOf('#');
  if (q < 0 && h < 0) return url;
  const queryStart = q >= 0 && (h < 0 || q < h) ? q : -1;
  const base = url.slice(0, queryStart >= 0 ? queryStart : h);
  const query = queryStart >= 0 ? url.slice(queryStart + 1, h > queryStart ? h : undefined) : undefined;
  const fragment = h >= 0 ? url.slice(h + 1) : undefined;
  let out = base;
  const oauth = OAUTH_PATH.test(base.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, ''));
  if (query !== undefined) out += '?' + redactParams(query, names, oauth);
  if (fragment !== undefined) out += '#' + redactParams(fragment, names, oauth);
  return out;
}

/**
 * `url` without the userinfo of its authority (`http://user:pass@host/` → `http://host/`), every
 * other byte kept, as outgoing URLs are recorded. The authority ends at the first `/`, `\` (which
 * WHATWG URLs of special schemes read as `/`), `?` or `#`; the userinfo is up to its last `@`.
 */
export function withoutUserinfo(url: string): string {
  const s = url.indexOf('://');
  if (s <= 0) return url;
  const from = s + 3;
  let end = from;
  for (; end < url.length; end++) {
    const c = url.charCodeAt(end);
    if (c === 47 || c === 92 || c === 63 || c === 35) break;
  }
  const at = url.lastIndexOf('@', end - 1);
  return at < from ? url : url.slice(0, from) + url.slice(at + 1);
}

/** A request target in absolute form (RFC 9112 §3.2.2): a scheme and `://`. */
const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Whether a request target (request line, `:path`, a client's `path`) is in absolute form, as a
 * forward proxy receives it or a client may send it to any server: the one test the client hooks
 * and the served requests share (an origin-form target starts with "/": most, one compare).
 */
export function isAbsoluteForm(target: string | undefined): boolean {
  return target !== undefined && target.charCodeAt(0) !== 47 && ABSOLUTE_FORM.test(target);
}

/**
 * The URL of a request whose target (request line, `:path`) is `target`, received on or sent to
 * `origin` (`scheme://host[:port]`): a target in absolute form (a request to a proxy, or a client
 * sending one to a server) is the URL itself, which RFC 9112 says wins over the Host header; any
 * other (`/path?q`, `*`) is appended to the origin. Userinfo is dropped either way.
 */
export function absoluteOrOrigin(origin: string, target: string): string {
  const url = isAbsoluteForm(target) ? target : origin + target;
  return url.indexOf('@') === -1 ? url : withoutUserinfo(url);
}
