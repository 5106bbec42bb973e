/**
 * A URL as the matcher compares it: scheme (`ws` read as `http`, `wss` as `https`), host in lower
 * case, port (the scheme's default when absent), path with its percent-escapes in one form, and the
 * query as decoded name/value pairs (compared as a multiset: any order). Parsed by hand, not with
 * WHATWG URL, so a recorded `?key=<redacted>` keeps its value as written and the query is read as
 * the server reads it (`+` a space).
 */

/** The parts of an absolute URL the matcher compares. */
export interface UrlParts {
  /** `http` or `https` (a WebSocket URL's `ws`/`wss` read as those), or another scheme as written, in lower case. */
  scheme: string;
  /** The host in lower case (an IPv6 address in brackets). */
  host: string;
  /** The port as digits: the given one, or 80/443 by scheme. */
  port: string;
  /** The path, `/` when empty, each percent-escape of an unreserved character decoded and the others in upper case. */
  path: string;
  /** The query's parameters in their order, names and values decoded. */
  query: Array<[string, string]>;
}

const ABSOLUTE = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#\\]*)([^?#]*)(?:\?([^#]*))?/;
const SCHEMES: Record<string, string> = { ws: 'http', wss: 'https' };
const DEFAULT_PORTS: Record<string, string> = { http: '80', https: '443' };

/** The parts of an absolute URL, or undefined when it is not one. */
export function urlParts(url: string): UrlParts | undefined {
  const m = ABSOLUTE.exec(url);
  if (!m) return undefined;
  const scheme = SCHEMES[m[1].toLowerCase()] ?? m[1].toLowerCase();
  const authority = m[2].slice(m[2].lastIndexOf('@') + 1);
  let host = authority;
  let port = '';
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) return undefined;
    host = authority.slice(0, close + 1);
    if (authority[close + 1] === ':') port = authority.slice(close + 2);
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0) {
      host = authority.slice(0, colon);
      port = authority.slice(colon + 1);
    }
  }
  if (!host || !/^\d*$/.test(port)) return undefined;
  port = port ? String(Number(port)) : (DEFAULT_PORTS[scheme] ?? '');
  return { scheme, host: host.toLowerCase(), port, path: normalizePath(m[3]), query: m[4] ? queryPairs(m[4]) : [] };
}

const HEX = '0123456789ABCDEF';
/** Characters kept as they are in a path: unreserved, sub-delims, `:`, `@`, `/` (RFC 3986). */
const PATH_CHAR = /[A-Za-z0-9\-._~!$&'()*+,;=:@/]/;
const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** A path with nothing to normalize: path characters only, no escapes. */
const PLAIN_PATH = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
const encoder = new TextEncoder();

/** A path in one form: a `%xx` of an unreserved character decoded, other escapes in upper case, other characters escaped as UTF-8. */
export function normalizePath(path: string): string {
  if (!path) return '/';
  if (PLAIN_PATH.test(path)) return path;
  let out = '';
  for (let i = 0; i < path.length; i++) {
    const c = path[i];
    if (c === '%' && /^[0-9a-fA-F]{2}$/.test(path.slice(i + 1, i + 3))) {
      const ch = String.fromCharCode(parseInt(path.slice(i + 1, i + 3), 16));
      out += UNRESERVED.test(ch) ? ch : '%' + path.slice(i + 1, i + 3).toUpperCase();
      i += 2;
    } else if (PATH_CHAR.test(c)) {
      out += c;
    } else {
      const cp = path.codePointAt(i) as number;
      if (cp > 0xffff) i++;
      for (const b of encoder.encode(String.fromCodePoint(cp))) out += '%' + HEX[b >> 4] + HEX[b & 15];
    }
  }
  return out;
}

/** Decodes a query or form component: `+` is a space, percent-escapes decoded (a malformed one left as written). */
export function decodeComponent(s: string): string {
  const spaced = s.includes('+') ? s.replace(/\+/g, ' ') : s;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/** `a=1&b=2&b=3` as decoded pairs, in order; a part without `=` is a name with the value ''. */
export function queryPairs(query: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    out.push(eq < 0 ? [decodeComponent(part), ''] : [decodeComponent(part.slice(0, eq)), decodeComponent(part.slice(eq + 1))]);
  }
  return out;
}

/** `host:port` as a key shows it. */
export function origin(u: UrlParts): string {
  return `${u.scheme}://${u.host}${u.port && u.port !== DEFAULT_PORTS[u.scheme] ? `:${u.port}` : ''}`;
}
