/**
 * Send Again for http/https requests (docs/rules.md, "Send Again"; sendAgainStore.ts keeps the
 * requests and answers the collector): what is kept of a ClientRequest as it starts — its method,
 * URL, head block as Node wrote it and the body Node still holds — and the request made again
 * through the module the program loaded (`http` or `https`), so the hooks record it like any other.
 */
import type { Tracer } from '../tracer';
import { editedOrKept, headersToSend, keepRequest, MAX_BODY, sameOrigin } from '../rules/sendAgainStore';
import type { IsSecret, Made, RequestLike, SendAgainEdits } from '../rules/sendAgainStore';

type OutgoingLike = {
  method?: string;
  _header?: string | null;
  outputData?: Array<{ data?: unknown; encoding?: unknown }>;
  socket?: object | null;
};

type Chunk = { data?: unknown; encoding?: unknown };

/** The chunks of a write Node has not made yet: the request's own queue, else a connecting socket's (`_pendingData`, one chunk or writev's list). */
function pendingChunks(req: OutgoingLike): Chunk[] {
  if (Array.isArray(req.outputData) && req.outputData.length > 0) return req.outputData;
  const socket = req.socket as { _pendingData?: unknown; _pendingEncoding?: unknown } | null | undefined;
  const p = socket?._pendingData;
  if (Array.isArray(p)) return p.map((c: { chunk?: unknown; encoding?: unknown }) => ({ data: c?.chunk, encoding: c?.encoding }));
  return p === undefined || p === null ? [] : [{ data: p, encoding: socket?._pendingEncoding }];
}

/** A chunk as bytes (a string in its encoding: the head's latin1, a body's utf8 by default). */
function bytesOf(c: Chunk): Buffer | undefined {
  if (Buffer.isBuffer(c.data)) return c.data;
  if (typeof c.data !== 'string') return undefined;
  const enc = typeof c.encoding === 'string' && Buffer.isEncoding(c.encoding) ? c.encoding : 'utf8';
  return Buffer.from(c.data, enc);
}

/** The body Node still holds for a request that has not reached its socket; undefined when not all of it is there. */
function bodyOf(req: OutgoingLike, head: string): Buffer | undefined {
  const len = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
  const chunked = /\r\ntransfer-encoding:[^\r\n]*chunked/i.test(head);
  if (!chunked && (!len || Number(len[1]) === 0)) return Buffer.alloc(0);
  if (chunked || !len || Number(len[1]) > MAX_BODY) return undefined;
  const parts = pendingChunks(req).map(bytesOf);
  if (parts.some((p) => p === undefined)) return undefined;
  let all = Buffer.concat(parts as Buffer[]);
  const headBytes = Buffer.from(head, 'latin1');
  if (all.subarray(0, headBytes.length).equals(headBytes)) all = all.subarray(headBytes.length);
  return all.length === Number(len[1]) ? all : undefined;
}

/**
 * Keeps what Send Again needs of an http/https request as it starts (its head is final, its body
 * written: `http.client.request.start`). Never throws.
 */
export function keepForSendAgain(t: Tracer, id: string, req: OutgoingLike, url: string, https: boolean): void {
  try {
    const head = req._header;
    const method = req.method;
    if (typeof head !== 'string' || typeof method !== 'string') return;
    const body = bodyOf(req, head);
    const bytes = head.length + url.length + (body?.length ?? 0);
    keepRequest(t, id, { bytes, send: (e, secret) => sendHttp({ https, method, url, head, body }, e, secret) });
  } catch {
    // Send Again is not offered for this request.
  }
}

/** The headers of a head block, as written (name case kept), without the request line. */
function headersOf(head: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) out.push([line.slice(0, colon), line.slice(colon + 1).trim()]);
  }
  return out;
}

type HttpModule = { request(url: string, options: object): RequestLike };

/** An http/https request made again through the module the program loaded (its method, URL, header block and body). */
function sendHttp(
  k: { https: boolean; method: string; url: string; head: string; body: Buffer | undefined },
  e: SendAgainEdits,
  secret: IsSecret,
): Made {
  const { url, body } = editedOrKept(e, k.url, k.body, 'too long, chunked, or already on the socket');
  const https = url.toLowerCase().startsWith('https:');
  // The program loaded the module that made the request: require only returns it.
  const mod = require(https ? 'node:https' : 'node:http') as HttpModule;
  // In the options, so the trace rules read them where they decide (right after request()).
  const headers: Record<string, string | string[]> = {};
  const names = new Map<string, string>();
  const { headers: list, leftOut } = headersToSend(headersOf(k.head), e.headers, url === k.url || sameOrigin(url, k.url), secret);
  for (const [name, value] of list) {
    const key = names.get(name.toLowerCase()) ?? name;
    names.set(name.toLowerCase(), key);
    const had = headers[key];
    headers[key] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
  }
  const req = mod.request(url, { method: typeof e.method === 'string' && e.method !== '' ? e.method : k.method, headers });
  req.on('response', (res) => (res as { resume(): void }).resume());
  return { req, body, leftOut };
}
