/**
 * Rules made from one recorded request (the panel's row menu: "Break on Requests Like This", "Skip
 * Requests to This Host", "Capture Bodies of These"). Plain TypeScript like the rest of src/rules:
 * the extension calls it, the unit tests run it in Node.
 *
 * "Like this" means the same method, host, explicit port and path *shape*: a path segment that the
 * route template takes for a value (src/trace/contract/routeTemplate.ts isValueSegment, as the
 * summary by route does: a number, a UUID, a hex hash, a date, a long token) becomes `*`, so for
 * `GET /v1/users/42/orders/9f86d081884c` the path condition is a glob with a `*` in place of `42`
 * and of `9f86d081884c`; a path with no such segment is compared exactly (`path == "/health"`). The
 * query is left out.
 */
import { isValueSegment } from '../trace/contract/routeTemplate';
import type { RuleAction, RuleInput } from './rule';

/** What a row menu entry makes. */
export type FromRequestKind = 'break' | 'skipHost' | 'bodies';

/** The request fields the rule is made from (an HttpRequest has them). */
export interface RequestLike {
  reqMethod?: string;
  reqURL?: string;
}

/** The parts of a request URL a condition reads (host without brackets, path without the query). */
export interface UrlParts {
  scheme: string;
  host: string;
  /** The explicit port, when the URL names one. */
  port?: number;
  path: string;
}

/** Splits an absolute http(s)/ws(s) URL as written (the path is not normalized); undefined when it is not one. */
export function urlParts(url: string): UrlParts | undefined {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(?:[^@/?#]*@)?(\[[^\]/?#]*\]|[^:/?#]*)(?::(\d{1,5}))?([^?#]*)/i.exec(url);
  if (!m) return undefined;
  const host = m[2]!.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === '') return undefined;
  const parts: UrlParts = { scheme: m[1]!.toLowerCase(), host, path: m[4] || '/' };
  if (m[3] !== undefined) {
    const port = Number(m[3]);
    if (port > 0 && port <= 65535) parts.port = port;
  }
  return parts;
}

/** A string literal of the condition language (only `\\`, `\"` and `\uXXXX` escapes are needed). */
export function quote(value: string): string {
  return `"${value.replace(/[\\"\u0000-\u001f\u007f]/g, (c) => (c === '\\' || c === '"' ? `\\${c}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))}"`;
}

/** Escapes the glob's special characters (`*`, `?`, `\`) in a literal path segment. */
function globLiteral(segment: string): string {
  return segment.replace(/[\\*?]/g, (c) => `\\${c}`);
}

/**
 * The condition on the path: `path == "…"` when no segment looks like an id, else a glob with
 * those segments as `*` (one segment each, never across `/`).
 */
export function pathCondition(path: string): string {
  const segments = path.split('/');
  if (!segments.some(isValueSegment)) return `path == ${quote(path)}`;
  return `path ~ ${quote(segments.map((s) => (isValueSegment(s) ? '*' : globLiteral(s))).join('/'))}`;
}

/** The condition of a row menu rule for this request; undefined when its URL cannot be read. */
export function conditionFromRequest(kind: FromRequestKind, req: RequestLike): string | undefined {
  const parts = urlParts(req.reqURL ?? '');
  if (!parts) return undefined;
  const host = `host == ${quote(parts.host)}`;
  if (kind === 'skipHost') return host;
  const terms: string[] = [];
  const method = (req.reqMethod ?? '').trim().toUpperCase();
  if (/^[A-Z][A-Z0-9_-]*$/.test(method)) terms.push(`method == ${quote(method)}`);
  terms.push(host);
  if (parts.port !== undefined) terms.push(`port == ${parts.port}`);
  terms.push(pathCondition(parts.path));
  return terms.join(' and ');
}

const ACTION: Record<FromRequestKind, RuleAction> = { break: 'break', skipHost: 'skip', bodies: 'details' };
const PREFIX: Record<FromRequestKind, string> = { break: 'break', skipHost: 'skip', bodies: 'bodies' };

/** A short, readable description of the request shape, for the rule's name. */
function shapeOf(kind: FromRequestKind, req: RequestLike, parts: UrlParts): string {
  const hostPort = parts.port !== undefined ? `${parts.host}:${parts.port}` : parts.host;
  if (kind === 'skipHost') return hostPort;
  const path = parts.path
    .split('/')
    .map((s) => (isValueSegment(s) ? '*' : s))
    .join('/');
  const method = (req.reqMethod ?? '').trim().toUpperCase();
  return `${method ? `${method} ` : ''}${hostPort}${path}`;
}

/** An id made of `base` (lower-case letters, digits, `.`, `-`; at most 60 characters) not in `taken`. */
export function uniqueId(base: string, taken: ReadonlySet<string>): string {
  const slug =
    base
      .toLowerCase()
      .replace(/[^a-z0-9.]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60)
      .replace(/-+$/, '') || 'rule';
  if (!taken.has(slug)) return slug;
  for (let n = 2; ; n++) if (!taken.has(`${slug}-${n}`)) return `${slug}-${n}`;
}

/**
 * The rule a row menu entry makes from a request, enabled (the user asked for it on the spot):
 * `break` pauses on requests like this one, `skipHost` leaves out every request to its host,
 * `bodies` is a `details` rule capturing the bodies of requests like this one. Its id is new
 * (not in `taken`). Undefined when the request's URL cannot be read.
 */
export function ruleFromRequest(kind: FromRequestKind, req: RequestLike, taken: ReadonlySet<string> = new Set()): RuleInput | undefined {
  const condition = conditionFromRequest(kind, req);
  const parts = urlParts(req.reqURL ?? '');
  if (condition === undefined || !parts) return undefined;
  const shape = shapeOf(kind, req, parts);
  const name = kind === 'break' ? `Break on ${shape}` : kind === 'skipHost' ? `Skip requests to ${shape}` : `Capture bodies of ${shape}`;
  const rule: RuleInput = {
    id: uniqueId(`${PREFIX[kind]}-${kind === 'skipHost' ? parts.host : shape}`, taken),
    name: name.length > 200 ? `${name.slice(0, 199)}…` : name,
    condition,
    action: ACTION[kind],
    limit: null,
    enabled: true,
  };
  if (kind === 'bodies') rule.details = ['bodies'];
  return rule;
}
