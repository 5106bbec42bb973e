/**
 * The route template of a path: each segment that looks like a value rather than a name — a
 * number, a UUID, a hex hash, a date, a long token of letters and digits — replaced by `:id`.
 * Literal segments are never replaced, so two real routes that differ in a literal segment
 * (`/users/me` and `/users/:id`, `/v1/items` and `/v2/items`) never merge. Query strings and
 * fragments are ignored. The one definition of a route's shape: the summary by route and the
 * comparison of two traces (src/trace/derive/routes.ts) and the rules made from a request
 * ("… Requests Like This", src/rules/fromRequest.ts, a segment that is a value becomes `*`)
 * read it. Pure and free of Node APIs: the panel, the rules and the preload may bundle it.
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
