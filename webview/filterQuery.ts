/**
 * The filter box's language, as in Chrome DevTools' Network panel: free words match the method,
 * URL, status and host; `key:value` terms match one property; a leading `-` negates a term; all
 * terms must hold. DOM-free (runs under `node --test`) and compiled once per edit, so matching a
 * row does no parsing.
 *
 * Keys: `domain:` (host, `*` globs, `*.example.com` also matches `example.com`), `host:` (host or
 * host:port), `method:`, `status-code:`, `larger-than:` (bytes, `k`/`M` suffixes), `has-response-header:`,
 * `is:` (`failed`, `slow`, `reused`, `redirect`, `pending`, `websocket`, `paused`), `client:`, `pid:`,
 * `initiator:` (file name or `file:line`), `mark:` (a rule's tag), `caused-by:` (the incoming
 * request a server was handling when it made the request: its id `in-3`, its route as the Summary
 * view groups served requests, named by the framework or inferred, with or without its host
 * (`/users/:id`, `gw:8080/users/:id`), its path or a path prefix `/checkout`, or any of these after
 * the method (`"POST /checkout"`); `caused-by:none` for requests made outside any); `is:incoming` keeps the calls made while handling an incoming request; `route:`
 * (the route template the Summary view groups by, `/users/:id`, with or without its host).
 */

import type { IncomingRequest } from '../src/trace/contract/incoming';
import type { HttpRequest } from '../src/trace/contract/types';
import { splitUrl } from './format';
import { routeKeyOf } from '../src/trace/derive/routes';

/** What a filter term needs to know of a row (the list's Row satisfies it). */
export interface FilterRowView {
  req: HttpRequest;
  /** Lower-case host of the URL. */
  host: string;
  /** The Initiator column's "file.ts:12" text. */
  initiator: string;
  failed: boolean;
  duration: number | undefined;
  size: number | undefined;
  /** Lower-case text plain words search: method, URL, status, host. */
  haystack: string;
}

/** The property keys the filter understands, in the order autocompletion offers them. */
export const FILTER_KEYS = [
  'domain',
  'host',
  'method',
  'status-code',
  'larger-than',
  'has-response-header',
  'is',
  'client',
  'pid',
  'initiator',
  'mark',
  'caused-by',
  'route',
] as const;

/** One property key. */
export type FilterKey = (typeof FILTER_KEYS)[number];

/** The values `is:` accepts. */
export const IS_VALUES = ['failed', 'slow', 'reused', 'redirect', 'pending', 'websocket', 'incoming', 'paused'] as const;

/** Settings the filter depends on. */
export interface FilterContext {
  /** A successful request longer than this is `is:slow`. */
  slowMs: number;
  /** The trace's incoming requests by traceID (`caused-by:` reads their routes and paths). */
  incoming?: ReadonlyMap<string, IncomingRequest>;
}

type Test = (row: FilterRowView, ctx: FilterContext) => boolean;

/** One parsed term of the filter text. */
export interface FilterTerm {
  /** The key, or undefined for a free word. */
  key?: FilterKey;
  value: string;
  negate: boolean;
  /** Set when the term is not understood (shown to the user; the term then matches nothing). */
  error?: string;
  test: Test;
}

/** The compiled filter text. */
export interface FilterQuery {
  terms: FilterTerm[];
  /** Messages for terms that were not understood ("larger-than: expects a size such as 10k"). */
  errors: string[];
}

const KEY_SET = new Set<string>(FILTER_KEYS);

/** Splits filter text into terms; double quotes keep spaces inside a value (`has-response-header:"x a"`). */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let inToken = false;
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
      inToken = true;
    } else if (!quoted && /\s/.test(ch)) {
      if (inToken) out.push(cur);
      cur = '';
      inToken = false;
    } else {
      cur += ch;
      inToken = true;
    }
  }
  if (inToken) out.push(cur);
  return out;
}

/** A case-insensitive glob (`*` any run of characters) compiled to a RegExp. */
function glob(pattern: string): RegExp {
  const body = pattern
    .toLowerCase()
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}$`);
}

/** Parses "10k", "1.5M", "300" into bytes; NaN when it is not a size. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmM]?)[bB]?$/.exec(s.trim());
  if (!m) return Number.NaN;
  const mult = m[2] === '' ? 1 : m[2].toLowerCase() === 'k' ? 1024 : 1024 * 1024;
  return Number(m[1]) * mult;
}

function hasHeader(headers: HttpRequest['respHeaders'], name: string): boolean {
  if (!headers) return false;
  for (const h of headers) if (h[0].toLowerCase() === name) return true;
  return false;
}

/** A successful request longer than the threshold, not counting the time a breakpoint held it (`debuggerPaused`). */
function isSlow(row: FilterRowView, ctx: FilterContext): boolean {
  const paused = typeof row.req.debuggerPaused === 'number' ? row.req.debuggerPaused : 0;
  return !row.failed && row.duration !== undefined && row.duration - paused > ctx.slowMs;
}

function isPending(row: FilterRowView): boolean {
  const r = row.req;
  return !r.reqError && r.respStatusCode === undefined && r.respDoneAt === undefined;
}

const NEVER: Test = () => false;

/** The path (no query) of an incoming request's URL, lower-case. */
export function incomingPath(inc: IncomingRequest): string {
  const { path } = splitUrl(inc.reqURL);
  const q = path.indexOf('?');
  return (q >= 0 ? path.slice(0, q) : path).toLowerCase();
}

/** The `caused-by:` test: the incoming request by id, route, path or path prefix (`v` lower-case). */
function causedByTest(v: string): Test {
  if (v === 'none') return (row) => row.req.causedBy === undefined;
  // `"POST /checkout"`: the method, then the route (with or without its host), path or path prefix.
  const withMethod = /^([a-z]+)\s+(\S.*)$/.exec(v);
  if (withMethod) {
    const rest = causedByTest(withMethod[2]!);
    const method = withMethod[1]!;
    return (row, ctx) => {
      const inc = row.req.causedBy !== undefined ? ctx.incoming?.get(row.req.causedBy) : undefined;
      return inc !== undefined && inc.reqMethod.toLowerCase() === method && rest(row, ctx);
    };
  }
  const prefix = v.startsWith('/') ? (v.endsWith('/') ? v : `${v}/`) : undefined;
  return (row, ctx) => {
    const id = row.req.causedBy;
    if (id === undefined) return false;
    if (id.toLowerCase() === v) return true;
    const inc = ctx.incoming?.get(id);
    if (!inc) return false;
    if (inc.route !== undefined && inc.route.toLowerCase() === v) return true;
    // The Summary view's served route (summary.ts's grouping): its template, inferred or named, with or without its host.
    const k = routeKeyOf(inc.reqMethod, inc.reqURL, inc.route);
    const route = k.route.toLowerCase();
    if (route === v || `${k.host}${route}` === v) return true;
    if (prefix === undefined) return false;
    const path = incomingPath(inc);
    return path === v || path.startsWith(prefix);
  };
}

/** Builds the test of one `key:value` term; a string is an error message. */
function propertyTest(key: FilterKey, raw: string): Test | string {
  const v = raw.toLowerCase();
  switch (key) {
    case 'domain': {
      if (!v) return 'domain: expects a host name such as *.example.com';
      const re = glob(v);
      const bare = v.startsWith('*.') ? v.slice(2) : undefined;
      return (row) => re.test(row.host) || row.host === bare;
    }
    case 'host': {
      if (!v) return 'host: expects a host name';
      const re = glob(v);
      return (row) => {
        if (re.test(row.host)) return true;
        try {
          return re.test(new URL(row.req.reqURL).host.toLowerCase());
        } catch {
          return false;
        }
      };
    }
    case 'method': {
      if (!v) return 'method: expects a method such as POST';
      const up = v.toUpperCase();
      return (row) => row.req.reqMethod.toUpperCase() === up;
    }
    case 'status-code': {
      if (/^[1-5]xx$/.test(v)) {
        const cls = Number(v[0]);
        return (row) => row.req.respStatusCode !== undefined && Math.floor(row.req.respStatusCode / 100) === cls;
      }
      if (!/^\d{3}$/.test(v)) return 'status-code: expects a code such as 404 or a class such as 5xx';
      const code = Number(v);
      return (row) => row.req.respStatusCode === code;
    }
    case 'larger-than': {
      const n = parseSize(v);
      if (!Number.isFinite(n)) return 'larger-than: expects a size such as 1000, 10k or 2M';
      return (row) => row.size !== undefined && row.size > n;
    }
    case 'has-response-header': {
      if (!v) return 'has-response-header: expects a header name';
      return (row) => hasHeader(row.req.respHeaders, v);
    }
    case 'is':
      switch (v) {
        case 'failed':
          return (row) => row.failed;
        case 'slow':
          return isSlow;
        case 'reused':
          return (row) => row.req.reusedConn === true;
        case 'redirect': {
          return (row) => {
            const s = row.req.respStatusCode;
            return s !== undefined && s >= 300 && s < 400 && hasHeader(row.req.respHeaders, 'location');
          };
        }
        case 'pending':
          return isPending;
        case 'websocket':
          return (row) => row.req.webSocket !== undefined;
        case 'incoming':
          return (row) => typeof row.req.causedBy === 'string';
        case 'paused':
          // Held by a breakpoint: its time is partly the debugger's (`debuggerPaused`).
          return (row) => typeof row.req.debuggerPaused === 'number' && row.req.debuggerPaused > 0;
        default:
          return `is: expects one of ${IS_VALUES.join(', ')}`;
      }
    case 'client':
      if (!v) return 'client: expects a client such as fetch or http';
      return (row) => row.req.client.toLowerCase() === v;
    case 'pid': {
      if (!/^\d+$/.test(v)) return 'pid: expects a process id';
      const pid = Number(v);
      return (row) => row.req.pid === pid;
    }
    case 'initiator': {
      if (!v) return 'initiator: expects a file name or file:line';
      const withLine = /:\d+$/.test(v);
      return (row) => {
        const init = row.initiator.toLowerCase();
        if (!init) return false;
        if (withLine) return init === v || init.endsWith(`/${v}`);
        return init.slice(0, init.lastIndexOf(':')) === v || init.startsWith(v);
      };
    }
    case 'caused-by':
      if (!v) return 'caused-by: expects an incoming request: its id (in-3), route (/users/:id), path, or none';
      return causedByTest(v);
    case 'route': {
      if (!v) return 'route: expects a route such as /users/:id or api.example.com/users/:id';
      // The summary's own grouping (src/trace/derive/routes.ts): the same template, with or without its host.
      return (row) => {
        const k = routeKeyOf(row.req.reqMethod, row.req.reqURL);
        const route = k.route.toLowerCase();
        return route === v || `${k.host}${route}` === v;
      };
    }
    case 'mark': {
      if (!v) return 'mark: expects a tag';
      return (row) => {
        const tags = (row.req as { marks?: string[] }).marks;
        return Array.isArray(tags) && tags.some((t) => t.toLowerCase() === v);
      };
    }
  }
}

/** Compiles filter text. Unknown `key:` prefixes are searched as plain words (URLs contain colons). */
export function parseFilter(text: string): FilterQuery {
  const terms: FilterTerm[] = [];
  const errors: string[] = [];
  for (const tok of tokenize(text)) {
    let negate = false;
    let body = tok;
    if (body.length > 1 && body.startsWith('-')) {
      negate = true;
      body = body.slice(1);
    }
    const colon = body.indexOf(':');
    const maybeKey = colon > 0 ? body.slice(0, colon).toLowerCase() : '';
    if (KEY_SET.has(maybeKey)) {
      const key = maybeKey as FilterKey;
      const value = body.slice(colon + 1);
      const t = propertyTest(key, value);
      if (typeof t === 'string') {
        errors.push(t);
        terms.push({ key, value, negate, error: t, test: NEVER });
      } else {
        terms.push({ key, value, negate, test: t });
      }
      continue;
    }
    const word = body.toLowerCase();
    terms.push({ value: word, negate, test: (row) => row.haystack.includes(word) });
  }
  return { terms, errors };
}

/** True when a row passes every term of the query. */
export function matchesQuery(row: FilterRowView, q: FilterQuery, ctx: FilterContext): boolean {
  for (const t of q.terms) {
    if (t.test(row, ctx) === t.negate) return false;
  }
  return true;
}

/** One autocompletion offer: the text that replaces the token under the cursor. */
export interface Suggestion {
  /** What the token becomes, e.g. "method:" or "method:POST". */
  text: string;
  /** Start offset of the token it replaces. */
  from: number;
  /** End offset of the token it replaces. */
  to: number;
}

/** Values seen in the rows, per key, for autocompletion (bounded so 10,000 rows stay cheap). */
export function collectValues(
  rows: Iterable<FilterRowView>,
  limit = 50,
  incoming?: ReadonlyMap<string, IncomingRequest>,
): Map<FilterKey, string[]> {
  const sets = new Map<FilterKey, Set<string>>();
  const add = (k: FilterKey, v: string | undefined): void => {
    if (!v) return;
    let s = sets.get(k);
    if (!s) sets.set(k, (s = new Set()));
    if (s.size < limit) s.add(v);
  };
  for (const row of rows) {
    add('domain', row.host);
    add('method', row.req.reqMethod);
    if (row.req.respStatusCode !== undefined) add('status-code', String(row.req.respStatusCode));
    add('client', row.req.client);
    add('pid', String(row.req.pid));
    add('initiator', row.initiator);
    for (const h of row.req.respHeaders ?? []) add('has-response-header', h[0].toLowerCase());
    for (const t of (row.req as { marks?: string[] }).marks ?? []) add('mark', t);
    const cause = row.req.causedBy !== undefined ? incoming?.get(row.req.causedBy) : undefined;
    if (cause) add('caused-by', cause.route ?? incomingPath(cause));
  }
  const out = new Map<FilterKey, string[]>();
  for (const [k, s] of sets) out.set(k, [...s].sort());
  out.set('is', [...IS_VALUES]);
  return out;
}

/** Suggestions for the token under `cursor`: keys while typing a key, values after `key:`. */
export function suggest(text: string, cursor: number, values: Map<FilterKey, string[]>, max = 12): Suggestion[] {
  let from = cursor;
  while (from > 0 && !/\s/.test(text[from - 1])) from--;
  let to = cursor;
  while (to < text.length && !/\s/.test(text[to])) to++;
  const token = text.slice(from, cursor);
  const neg = token.startsWith('-') ? '-' : '';
  const body = token.slice(neg.length).toLowerCase();
  const colon = body.indexOf(':');
  if (colon < 0) {
    return FILTER_KEYS.filter((k) => k.startsWith(body) && body.length > 0)
      .slice(0, max)
      .map((k) => ({ text: `${neg}${k}:`, from, to }));
  }
  const key = body.slice(0, colon);
  if (!KEY_SET.has(key)) return [];
  const prefix = body.slice(colon + 1);
  return (values.get(key as FilterKey) ?? [])
    .filter((v) => v.toLowerCase().startsWith(prefix) && v.toLowerCase() !== prefix)
    .slice(0, max)
    .map((v) => ({ text: `${neg}${key}:${/\s/.test(v) ? `"${v}"` : v}`, from, to }));
}
