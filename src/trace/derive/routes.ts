/**
 * The route a request belongs to, for the summary by route and the comparison of two traces
 * (summary.ts, compare.ts): its host, method and route template. A served request whose
 * framework named its route (`incomingRequests[].route`: Express, Fastify) keeps that template;
 * any other path gets one inferred here, each segment that looks like a value rather than a
 * name — a number, a UUID, a hex hash, a date, a long token of letters and digits — replaced by
 * `:id`. Literal segments are never replaced, so two real routes that differ in a literal segment
 * (`/users/me` and `/users/:id`, `/v1/items` and `/v2/items`) never merge. Query strings and
 * fragments are ignored. Pure and free of Node APIs: the panel bundles it.
 */

/** The placeholder of an inferred parameter segment. */
export const ID_PLACEHOLDER = ':id';

/** A route template and where it came from. */
export interface RouteTemplate {
  /** `/users/:id`. */
  route: string;
  /** True when some segment was inferred from the path (not named by the program's framework). */
  inferred: boolean;
}

const NUMBER = /^[-+]?\d+(?:[.,]\d+)?$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
/** A hex hash or object id: 8 hex digits or more, at least one of them a digit (`deadbeef` may be a word). */
const HEX = /^(?=[^0-9]*[0-9])[0-9a-f]{8,}$/i;
/** Dates and times: 2024-01-31, 2024-01-31T10:00:00Z, 20240131, 2024/01 is two segments anyway. */
const DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
/**
 * A long opaque token (base64url ids, ULIDs, Stripe-like `ch_3Nq…`): 16 characters or more of
 * letters, digits, `_` and `-`, with two digits or more and a letter in it.
 */
const TOKEN = /^(?=(?:[^\d]*\d){2})(?=.*[a-z])[\w-]{16,}$/i;

/** True when a path segment (percent-decoded or not) reads as a value: a number, UUID, hash, date or opaque token. */
export function isValueSegment(segment: string): boolean {
  if (segment === '') return false;
  let s = segment;
  try {
    s = decodeURIComponent(segment);
  } catch {
    // A malformed escape: judged as written.
  }
  return NUMBER.test(s) || UUID.test(s) || HEX.test(s) || DATE.test(s) || TOKEN.test(s);
}

/** The path of a URL or of a request target, without its query and fragment. */
export function pathOf(url: string): string {
  const authority = /^[a-z][\w+.-]*:\/\/[^/?#]*/i.exec(url);
  const rest = authority ? url.slice(authority[0].length) : url;
  const end = rest.search(/[?#]/);
  const path = end < 0 ? rest : rest.slice(0, end);
  return path.startsWith('/') ? path : '/' + path;
}

/** The route template inferred from a path (see the module's comment); the query is ignored. */
export function inferRoute(pathOrUrl: string): RouteTemplate {
  const segments = pathOf(pathOrUrl).split('/');
  let inferred = false;
  for (let i = 1; i < segments.length; i++) {
    if (isValueSegment(segments[i])) {
      segments[i] = ID_PLACEHOLDER;
      inferred = true;
    }
  }
  return { route: segments.join('/'), inferred };
}

/** The host of a URL as a route group names it: `hostname[:port]`, the port left out when it is the scheme's default. */
export function hostOf(url: string): string {
  const m = /^([a-z][\w+.-]*):\/\/(?:[^@/?#]*@)?([^/?#]*)/i.exec(url);
  if (!m) return '';
  const scheme = m[1].toLowerCase();
  const host = m[2].toLowerCase();
  if ((scheme === 'http' || scheme === 'ws') && host.endsWith(':80')) return host.slice(0, -3);
  if ((scheme === 'https' || scheme === 'wss') && host.endsWith(':443')) return host.slice(0, -4);
  return host;
}

/** A request's place in the summary: host, method and route template. */
export interface RouteKey extends RouteTemplate {
  host: string;
  method: string;
}

/**
 * The route of a request: `route` when the framework named it (a served request's `route`),
 * else the one inferred from `url`'s path. A method or URL that is not text (a damaged record the
 * panel holds) reads as empty.
 */
export function routeKeyOf(method: string, url: string, route?: string): RouteKey {
  const u = typeof url === 'string' ? url : '';
  const template = typeof route === 'string' && route !== '' ? { route, inferred: false } : inferRoute(u);
  return { host: hostOf(u), method: typeof method === 'string' ? method.toUpperCase() : '', ...template };
}

/** The one text of a route key: `GET api.example.com/users/:id` (the key summary groups and the diff match by). */
export function routeLabel(key: Pick<RouteKey, 'host' | 'method' | 'route'>): string {
  return `${key.method} ${key.host}${key.route}`;
}
