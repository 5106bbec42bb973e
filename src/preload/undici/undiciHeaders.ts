/** Reading undici's request shapes: its header strings and arrays, the URL, the origin. */

import { absoluteOrOrigin, isAbsoluteForm } from '../../trace/contract/redactUrl';
import { isHeaderName } from '../headerCapture';
import { headerText } from '../transport/wireValues';

/**
 * The request's URL. A CONNECT's path is authority-form ("host:port"): it is shown as
 * `<proxy scheme>//host:port`, the tunnel's target, so the URL still parses. A path in absolute
 * form (a forward proxy's request target: undici's ProxyAgent without a tunnel, which Node 26's
 * `NODE_USE_ENV_PROXY` uses for http:// URLs, dispatches to the proxy's origin with the target's
 * whole URL as the path) is the URL itself.
 */
export function urlOf(origin: string, method: string | undefined, path: string | undefined): string {
  if (path !== undefined && path.charCodeAt(0) !== 47) {
    if (method === 'CONNECT' && path) return `${origin.slice(0, origin.indexOf('//'))}//${path}`;
  }
  return absoluteOrOrigin(origin, path ?? '/');
}

/**
 * The origin ("http://host:port") of an absolute-form request target ("http://host:port/path"),
 * or undefined for any other path.
 */
export function absoluteFormOrigin(path: string | undefined): string | undefined {
  if (path === undefined || !isAbsoluteForm(path)) return undefined;
  const from = path.indexOf('//') + 2;
  const end = path.slice(from).search(/[/?#]/);
  return end === 0 ? undefined : end < 0 ? path : path.slice(0, from + end);
}

/** An async iterable that is not a Node stream (undici handles streams on a separate path). */
export function isPlainAsyncIterable(body: unknown): body is AsyncIterable<unknown> {
  const b = body as { [Symbol.asyncIterator]?: unknown; pipe?: unknown };
  return typeof b[Symbol.asyncIterator] === 'function' && typeof b.pipe !== 'function';
}

/** Whether an item of undici's flat header array (a string or a Buffer) is the header `name` (lower case). */
function isTextName(item: unknown, name: string): boolean {
  // undici's own header names are the same lower-case literals as `name` (sec-fetch-mode, a
  // fetch's mark, is looked up on every request): one compare of two internalized strings.
  if (item === name) return true;
  return typeof item === 'string' || item instanceof Uint8Array ? isHeaderName(item, name) : String(item).toLowerCase() === name;
}

/** One compiled pattern per header name looked up in undici's "k: v\r\n" header strings. */
const headerPatterns = new Map<string, RegExp>();

function headerPattern(name: string): RegExp {
  let re = headerPatterns.get(name);
  if (!re) headerPatterns.set(name, (re = new RegExp(`(?:^|\r\n)${name}:[ \t]*([^\r\n]*)`, 'i')));
  return re;
}

/** One header's value from undici's header shapes (a "k: v\r\n" string or a flat array). */
export function flatHeader(headers: unknown, name: string): string | undefined {
  if (typeof headers === 'string') {
    const m = headerPattern(name).exec(headers);
    return m ? m[1] : undefined;
  }
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) if (isTextName(headers[i], name)) return headerText(headers[i + 1]);
  }
  return undefined;
}

/** Whether undici's header shapes (a "k: v\r\n" string or a flat array) hold the header. */
export function hasHeader(headers: unknown, name: string): boolean {
  if (typeof headers === 'string') return headerPattern(name).test(headers);
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) if (isTextName(headers[i], name)) return true;
  }
  return false;
}

/** Origins parsed so far (a program talks to few). */
const origins = new Map<string, { host: string; port: number }>();

/**
 * The origin looked up last, and its answer: a program's requests mostly go to one origin in a
 * row, and a string compare is cheaper than the map's hash of a string undici made anew (Node
 * 24's undici hands each request an origin string of its own: hashed on every look-up).
 */
let lastOrigin: string | undefined;
let lastTarget: { host: string; port: number } | undefined;

/** host and port of an origin, undefined when it does not parse. */
export function originTarget(origin: string): { host: string; port: number } | undefined {
  if (origin === lastOrigin) return lastTarget;
  let o = origins.get(origin);
  if (o) {
    lastOrigin = origin;
    lastTarget = o;
    return o;
  }
  try {
    const u = new URL(origin);
    o = { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) || (u.protocol === 'https:' ? 443 : 80) };
  } catch {
    return undefined;
  }
  if (origins.size > 1000) origins.clear();
  origins.set(origin, o);
  lastOrigin = origin;
  lastTarget = o;
  return o;
}

/** An abort by the program (AbortController, EventSource.close()), not a timeout. */
export function isAbort(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  return !!e && (e.name === 'AbortError' || e.code === 'ABORT_ERR' || e.code === 'UND_ERR_ABORTED');
}
