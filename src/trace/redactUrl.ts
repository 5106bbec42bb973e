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
}

function paramName(raw: string): string {
  const name = raw.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(name).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}

/** Redacts `name=value` pairs of one `&`-separated part of a URL; returns it unchanged if none match. */
function redactParams(part: string, names: NameSet): string {
  if (!part.includes('=')) return part;
  let changed = false;
  const out = part.split('&').map((p) => {
    const eq = p.indexOf('=');
    if (eq <= 0 || !names.has(paramName(p.slice(0, eq)))) return p;
    if (p.slice(eq + 1) === REDACTED) return p;
    changed = true;
    return p.slice(0, eq + 1) + REDACTED;
  });
  return changed ? out.join('&') : part;
}

/**
 * Returns `url` with the values of its query and fragment parameters named in `names` replaced by
 * REDACTED (`?api_key=<redacted>&page=2`). Everything else is kept byte for byte; a URL without
 * `?` or `#` is returned as it is.
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
  if (query !== undefined) out += '?' + redactParams(query, names);
  if (fragment !== undefined) out += '#' + redactParams(fragment, names);
  return out;
}
