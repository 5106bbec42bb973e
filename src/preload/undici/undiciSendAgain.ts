/**
 * Send Again for fetch and undici requests (docs/rules.md, "Send Again"; sendAgainStore.ts keeps
 * the requests and answers the collector): what is kept of an undici Request as it is created — its
 * headers as undici got them (what fetch or the program gave, in order), its body — and the request
 * made again through the program's undici dispatcher, the global one (the dispatcher `fetch()` and
 * `undici.request()` use unless given another), so the hooks record it like any other.
 */
import { isPlainAsyncIterable } from './undiciHeaders';
import type { Tracer } from '../tracer';
import { editedOrKept, headersToSend, keepRequest, MAX_BODY, sameOrigin } from '../rules/sendAgainStore';
import type { IsSecret, Made, RequestLike, SendAgainEdits } from '../rules/sendAgainStore';

/** The undici Request fields read here. */
export interface UndiciRequestFields {
  method?: unknown;
  headers?: unknown;
  body?: unknown;
}

/** The headers of an undici Request: a flat name/value array (undici 7+), or a `name: value\r\n` block (undici 6). */
export function undiciHeaderList(raw: unknown): Array<[string, string]> | undefined {
  const out: Array<[string, string]> = [];
  if (typeof raw === 'string') {
    for (const line of raw.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) out.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
    }
    return out;
  }
  if (!Array.isArray(raw)) return raw === undefined || raw === null ? out : undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const value = raw[i + 1] as unknown;
    for (const v of Array.isArray(value) ? value : [value]) out.push([String(raw[i]), String(v)]);
  }
  return out;
}

/**
 * The body of an undici Request as bytes: now when undici holds it whole (none, a string, bytes),
 * else — fetch hands undici an async generator — `later` gets it once undici has read it all
 * (through a copy of the generator put in its place), when at most `max` bytes; `undefined` when
 * it cannot be kept (a stream, or too long).
 */
export function undiciBody(req: UndiciRequestFields, max: number, later: (body: Buffer) => void): Buffer | undefined {
  const body = req.body;
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.byteLength(body) <= max ? Buffer.from(body) : undefined;
  if (body instanceof Uint8Array) return body.length <= max ? Buffer.from(body) : undefined;
  if (!isPlainAsyncIterable(body)) return undefined;
  req.body = (async function* () {
    const parts: Buffer[] = [];
    let n = 0;
    for await (const chunk of body) {
      if (n <= max) {
        const b = typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array);
        n += b.length;
        parts.push(b);
      }
      yield chunk;
    }
    if (n <= max) later(Buffer.concat(parts));
  })();
  return undefined;
}

type Dispatcher = { dispatch(opts: object, handler: object): unknown };

/** The global dispatcher undici (Node's and a userland copy alike) keeps for fetch() and request(). */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

/**
 * Sends a request again through the program's global undici dispatcher; the response is read
 * and dropped. `done` runs once when it ends (answered or failed). Throws when the program holds
 * no dispatcher (never loaded undici).
 */
export function dispatchAgain(url: string, method: string, headers: Array<[string, string]>, body: Buffer, done: () => void): void {
  const d = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER] as Dispatcher | undefined;
  if (d === undefined || d === null || typeof d.dispatch !== 'function')
    throw new Error('the process holds no undici dispatcher to send it with');
  const u = new URL(url);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    done();
  };
  // Both handler interfaces: undici up to 7 calls onConnect…onError, undici 7+ onRequestStart…onResponseError.
  const handler = {
    onConnect: () => {},
    onHeaders: () => true,
    onData: () => true,
    onComplete: end,
    onError: end,
    onUpgrade: end,
    onRequestStart: () => {},
    onResponseStart: () => {},
    onResponseData: () => {},
    onResponseEnd: end,
    onResponseError: end,
    onRequestUpgrade: end,
  };
  d.dispatch(
    { origin: u.origin, path: u.pathname + u.search, method, headers: headers.flat(), body: body.length > 0 ? body : null },
    handler,
  );
}

/**
 * Keeps what Send Again needs of a fetch or undici request as undici creates it
 * (`undici:request:create`): its headers as fetch or the program gave them (undici adds `host`
 * and the framing as it writes) and its body (fetch's once undici has read it: kept again then,
 * with its size). Never throws.
 */
export function keepUndiciForSendAgain(t: Tracer, id: string, req: UndiciRequestFields, url: string): void {
  try {
    const list = undiciHeaderList(req.headers);
    const method = req.method;
    if (list === undefined || typeof method !== 'string') return;
    let bytes = url.length;
    for (const [n, v] of list) bytes += n.length + v.length + 4;
    const keep = (body: Buffer | undefined) =>
      keepRequest(t, id, { bytes: bytes + (body?.length ?? 0), send: (e, secret) => sendUndici({ method, url, list, body }, e, secret) });
    const body = undiciBody(req, MAX_BODY, keep);
    keep(body);
  } catch {
    // Send Again is not offered for this request.
  }
}

/**
 * A fetch/undici request made again, with the user's edits: dispatched at once (undici creates
 * the request, and the hooks give it its id, within dispatch()); what sendAgain() listens to is
 * its end ("close") — told at once to a listener that comes after it.
 */
function sendUndici(
  k: { method: string; url: string; list: Array<[string, string]>; body: Buffer | undefined },
  e: SendAgainEdits,
  secret: IsSecret,
): Made {
  const { url, body } = editedOrKept(e, k.url, k.body, 'too long, a stream, or not read yet');
  const method = typeof e.method === 'string' && e.method !== '' ? e.method : k.method;
  const closers: Array<() => void> = [];
  let ended = false;
  const { headers, leftOut } = headersToSend(k.list, e.headers, url === k.url || sameOrigin(url, k.url), secret);
  dispatchAgain(url, method, headers, body, () => {
    ended = true;
    for (const c of closers.splice(0)) c();
  });
  const req: RequestLike = {
    on(event, listener) {
      if (event !== 'close') return req;
      if (ended) listener();
      else closers.push(() => listener());
      return req;
    },
    end() {
      // Sent within dispatch() already, its body with it.
    },
  };
  return { req, body: Buffer.alloc(0), leftOut };
}
