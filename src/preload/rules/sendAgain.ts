/**
 * Send Again (docs/rules.md, "Send Again"): a recorded request sent again from inside the process
 * that made it, so the headers the trace redacted (Authorization, cookies) go as the program sent
 * them. The preload keeps, in this process's memory only, the method, URL, headers and body of its
 * last KEEP_COUNT http/https, fetch and undici requests (at most KEEP_BYTES in all): never written,
 * never sent to the collector. The collector asks by the request's local id (SendAgainMessage); the
 * request is made again through the module that made it (the program loaded it; for fetch and
 * undici its undici dispatcher: sendAgainUndici.ts), so the hooks record it like any other, and its
 * record gets `repeatOf` once it ends. Never throws into the program: the new
 * request's errors are the preload's own (a listener on a request it made) and go to the answer.
 */
import type { SendAgainMessage, SentAgainMessage } from '../../protocol/preload';
import { REDACTED } from '../../trace/contract/wire';
import type { Tracer } from '../tracer';
import { onSendAgain } from './rules';
import { dispatchAgain, undiciBody, undiciHeaderList, type UndiciRequestFields } from './sendAgainUndici';

/** How many requests are kept, and how many bytes of head and body in all. */
export const KEEP_COUNT = 32;
export const KEEP_BYTES = 1 << 20;
/** A body longer than this is not kept (its request cannot be sent again unless a body is typed). */
const MAX_BODY = 256 * 1024;

interface Kept {
  client: 'http' | 'https' | 'fetch' | 'undici';
  method: string;
  url: string;
  /** http/https: the header block as Node wrote it (request line and headers); fetch/undici: none. */
  head: string;
  /** fetch/undici: the headers as undici got them, in order. */
  list?: Array<[string, string]>;
  /** The body; undefined when the request had one that was not kept. */
  body: Buffer | undefined;
  bytes: number;
}

/** Insertion order is age: the first key is the oldest. */
const kept = new Map<string, Kept>();
let keptBytes = 0;
let tracer: Tracer | undefined;

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

/** The tracer Send Again answers through (the http hooks give it when they install). */
export function sendAgainTracer(t: Tracer): void {
  tracer = t;
  onSendAgain(sendAgain);
}

/**
 * Keeps what Send Again needs of an http/https request as it starts (its head is final, its body
 * written: `http.client.request.start`). Bounded: the oldest go first. Never throws.
 */
export function keepForSendAgain(t: Tracer, id: string, req: OutgoingLike, url: string, https: boolean): void {
  try {
    const head = req._header;
    if (typeof head !== 'string' || typeof req.method !== 'string') return;
    tracer = t;
    const body = bodyOf(req, head);
    const bytes = head.length + url.length + (body?.length ?? 0);
    keep(id, { client: https ? 'https' : 'http', method: req.method, url, head, body, bytes });
  } catch {
    // Send Again is not offered for this request.
  }
}

/** Keeps a request, the oldest going first past KEEP_COUNT requests or KEEP_BYTES. */
function keep(id: string, k: Kept): void {
  if (k.bytes > KEEP_BYTES) return;
  kept.set(id, k);
  keptBytes += k.bytes;
  for (const [old, o] of kept) {
    if (kept.size <= KEEP_COUNT && keptBytes <= KEEP_BYTES) break;
    kept.delete(old);
    keptBytes -= o.bytes;
  }
}

/**
 * Keeps what Send Again needs of a fetch or undici request as undici creates it
 * (`undici:request:create`): its headers as fetch or the program gave them (undici adds `host`
 * and the framing as it writes) and its body (fetch's, once undici has read it). Never throws.
 */
export function keepUndiciForSendAgain(t: Tracer, id: string, req: UndiciRequestFields, url: string, client: 'fetch' | 'undici'): void {
  try {
    const list = undiciHeaderList(req.headers);
    if (list === undefined || typeof req.method !== 'string') return;
    tracer = t;
    const k: Kept = { client, method: req.method, url, head: '', list, body: undefined, bytes: url.length };
    for (const [n, v] of list) k.bytes += n.length + v.length + 4;
    k.body = undiciBody(req, MAX_BODY, (body) => {
      if (kept.get(id) !== k) return;
      k.body = body;
      k.bytes += body.length;
      keptBytes += body.length;
    });
    k.bytes += k.body?.length ?? 0;
    keep(id, k);
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

/** Headers Node writes from the body and the agent: never copied over. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection']);

/** The headers to send: the edits (REDACTED: the value the program sent for that name, in order) or the original ones. */
export function headersToSend(
  original: Array<[string, string]>,
  edited: Array<[string, string]> | undefined,
  dropHost: boolean,
): Array<[string, string]> {
  const list = edited ?? original;
  const seen = new Map<string, number>();
  const out: Array<[string, string]> = [];
  for (const [name, value] of list) {
    const lower = name.toLowerCase();
    if (FRAMING.has(lower) || (dropHost && lower === 'host')) continue;
    const nth = seen.get(lower) ?? 0;
    seen.set(lower, nth + 1);
    if (value !== REDACTED) {
      out.push([name, value]);
      continue;
    }
    const same = original.filter(([n]) => n.toLowerCase() === lower);
    const sent = same[nth] ?? same[same.length - 1];
    if (sent !== undefined) out.push([name, sent[1]]);
  }
  return out;
}

function reply(t: Tracer, m: SentAgainMessage): void {
  try {
    t.transport.send(m);
  } catch {
    // The transport never throws; nothing more to do.
  }
}

type HttpModule = { request(url: string, options: object): RequestLike };
type RequestLike = {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  end(body?: Buffer | string): void;
};

/** The collector's SendAgainMessage: sends the kept request again and answers. Never throws. */
export function sendAgain(m: SendAgainMessage): void {
  const t = tracer;
  if (t === undefined) return;
  const k = kept.get(m.id);
  if (k === undefined) {
    reply(t, {
      type: 'sentAgain',
      ask: m.ask,
      error:
        t.config.sendAgain === true
          ? `the process no longer holds this request (it keeps its last ${KEEP_COUNT} http/https, fetch and undici requests, in memory only)`
          : 'the process keeps no requests to send again (it was started without the sendAgain option, e.g. by nettrace run)',
    });
    return;
  }
  try {
    const e = m.edits ?? {};
    const url = typeof e.url === 'string' && e.url !== '' ? e.url : k.url;
    const body = typeof e.body === 'string' ? Buffer.from(e.body) : k.body;
    if (body === undefined)
      throw new Error(
        'its body was not kept (too long, chunked, a stream, or already on the socket): type the body in Send Again with Changes…',
      );
    const method = typeof e.method === 'string' && e.method !== '' ? e.method : k.method;
    if (k.list !== undefined) {
      sendUndiciAgain(t, m, k, url, method, body);
      return;
    }
    const https = url.toLowerCase().startsWith('https:');
    // The program loaded the module that made the request: require only returns it.
    const mod = require(https ? 'node:https' : 'node:http') as HttpModule;
    // In the options, so the trace rules read them where they decide (right after request()).
    const headers: Record<string, string | string[]> = {};
    const names = new Map<string, string>();
    for (const [name, value] of headersToSend(headersOf(k.head), e.headers, url !== k.url)) {
      const key = names.get(name.toLowerCase()) ?? name;
      names.set(name.toLowerCase(), key);
      const had = headers[key];
      headers[key] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
    }
    let newId: string | undefined;
    const prev = t.onRequestId;
    t.onRequestId = (id) => {
      newId ??= id;
      prev?.(id);
    };
    let req: RequestLike;
    try {
      req = mod.request(url, { method, headers });
    } finally {
      t.onRequestId = prev;
    }
    const of = m.id;
    // The preload's own listeners on a request it made: an error must not reach the program.
    req.on('error', () => {});
    req.on('response', (res) => (res as { resume(): void }).resume());
    req.on('close', () => {
      if (newId !== undefined) t.transport.send({ type: 'record', kind: 'httpRequests', id: newId, fields: { repeatOf: of } });
    });
    req.end(body.length > 0 ? body : undefined);
    reply(t, { type: 'sentAgain', ask: m.ask, ...(newId !== undefined ? { id: newId } : {}) });
  } catch (err) {
    reply(t, { type: 'sentAgain', ask: m.ask, error: String((err as Error)?.message ?? err).slice(0, 300) });
  }
}

/** Sends a kept fetch/undici request again (sendAgainUndici.ts) and answers with its new id. */
function sendUndiciAgain(t: Tracer, m: SendAgainMessage, k: Kept, url: string, method: string, body: Buffer): void {
  let newId: string | undefined;
  const prev = t.onRequestId;
  t.onRequestId = (id) => {
    newId ??= id;
    prev?.(id);
  };
  const of = m.id;
  let ended = false;
  try {
    // undici creates the request within dispatch(): its id is known when it returns.
    dispatchAgain(url, method, headersToSend(k.list ?? [], m.edits?.headers, url !== k.url), body, () => {
      ended = true;
      if (newId !== undefined) t.transport.send({ type: 'record', kind: 'httpRequests', id: newId, fields: { repeatOf: of } });
    });
  } finally {
    t.onRequestId = prev;
  }
  // Failed within dispatch() (an invalid header): its record, if any, still gets repeatOf above.
  if (ended && newId === undefined) throw new Error('undici refused to send it');
  reply(t, { type: 'sentAgain', ask: m.ask, ...(newId !== undefined ? { id: newId } : {}) });
}
