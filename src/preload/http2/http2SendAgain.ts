/**
 * Send Again for http2 (docs/rules.md, "Send Again"; the store and the answer: sendAgainStore.ts).
 * What the preload keeps of an http2 stream, in the program's memory only: the headers as the
 * session sent them (pseudo-headers and the values the trace redacts), the body the program wrote
 * (up to MAX_BODY), the session it rode (weakly) and how the program connected it. Sent again on
 * that session while it is open, else on a new session connected as the program connected it (its
 * `http2.connect` arguments; to another origin when the user changed the URL's), which is closed
 * once the stream ends. Both go through the program's `http2` module, so the hooks record the new
 * stream like any other.
 */
import type * as http2 from 'node:http2';
import type { Tracer } from '../tracer';
import { editedOrKept, headersToSend, keepRequest, MAX_BODY, sameOrigin } from '../rules/sendAgainStore';
import type { IsSecret, Made, RequestLike, SendAgainEdits } from '../rules/sendAgainStore';

/** What the hooks tell the keeper of a stream's body: each chunk the program wrote, and its end. */
export interface Http2BodyKeeper {
  add(chunk: unknown, enc?: BufferEncoding): void;
  done(): void;
}

interface Http2Kept {
  method: string;
  url: string;
  origin: string;
  /** The headers as sent, pseudo-headers first ([name, value], one pair per value). */
  headers: Array<[string, string]>;
  /** undefined until the program ended it, or when it was over MAX_BODY. */
  body: Buffer | undefined;
  session: WeakRef<http2.ClientHttp2Session>;
  /** The program's `http2.connect` arguments (authority, options), without its listener. */
  connectArgs: unknown[];
}

/**
 * Keeps an http2 stream for Send Again as it is opened (its local id `id`); the hooks feed the
 * returned keeper the body's chunks. Never throws (undefined: not kept).
 */
export function keepHttp2ForSendAgain(
  t: Tracer,
  id: string,
  session: http2.ClientHttp2Session,
  origin: string,
  connectArgs: unknown[],
  headers: Array<[string, string]>,
): Http2BodyKeeper | undefined {
  try {
    const get = (name: string) => headers.find(([n]) => n === name)?.[1];
    const k: Http2Kept = {
      method: get(':method') ?? 'GET',
      url: origin + (get(':path') ?? '/'),
      origin,
      headers,
      body: undefined,
      session: new WeakRef(session),
      connectArgs,
    };
    let bytes = k.url.length + headers.reduce((n, [a, b]) => n + a.length + b.length + 4, 0);
    keepRequest(t, id, { bytes, send: (e, secret) => sendHttp2(k, e, secret) });
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    return {
      add(chunk, enc) {
        if (over) return;
        const b = typeof chunk === 'string' ? Buffer.from(chunk, enc && Buffer.isEncoding(enc) ? enc : 'utf8') : chunk;
        if (!(b instanceof Uint8Array) || size + b.length > MAX_BODY) {
          over = true;
          chunks.length = 0;
          return;
        }
        chunks.push(Buffer.from(b));
        size += b.length;
      },
      done() {
        if (over || k.body !== undefined) return;
        k.body = Buffer.concat(chunks);
        bytes += size;
        // Counted again with its body (the store's bound is on head and body together).
        if (size > 0) keepRequest(t, id, { bytes, send: (e, secret) => sendHttp2(k, e, secret) });
      },
    };
  } catch {
    return undefined;
  }
}

type Headers = Record<string, string | string[]>;

/** Sends a kept http2 request again, with the user's edits (sendAgainStore.ts's Kept.send). */
function sendHttp2(k: Http2Kept, e: SendAgainEdits, secret: IsSecret): Made {
  const { url, body } = editedOrKept(e, k.url, k.body, 'over 256 KiB, or not all written yet');
  const u = new URL(url);
  const same = sameOrigin(u.href, k.origin);
  const pseudo = (name: string) => k.headers.find(([n]) => n === name)?.[1];
  const headers: Headers = Object.create(null) as Headers;
  headers[':method'] = typeof e.method === 'string' && e.method !== '' ? e.method : k.method;
  headers[':path'] = u.pathname + u.search;
  headers[':scheme'] = (same && pseudo(':scheme')) || u.protocol.replace(/:$/, '');
  headers[':authority'] = (same && pseudo(':authority')) || u.host;
  const plain = (list: Array<[string, string]>) => list.filter(([n]) => !n.startsWith(':'));
  const { headers: list, leftOut } = headersToSend(plain(k.headers), e.headers && plain(e.headers), same, secret);
  for (const [name, value] of list) {
    const key = name.toLowerCase();
    const had = headers[key];
    headers[key] = had === undefined ? value : [...(Array.isArray(had) ? had : [had]), value];
  }
  // headersToSend leaves framing out; a content-length the program sent follows the body.
  if (k.headers.some(([n]) => n === 'content-length')) headers['content-length'] = String(body.length);
  let session = same ? k.session.deref() : undefined;
  let own = false;
  if (session === undefined || session.closed || session.destroyed) {
    // The program loaded http2 (it made the request): require only returns it, connect is the hooked one.
    const mod = require('node:http2') as typeof http2;
    const args = same ? k.connectArgs : [u.origin];
    session = (mod.connect as (...a: unknown[]) => http2.ClientHttp2Session)(...args);
    own = true;
    // The preload's own session: its errors reach the stream's listener, not the program.
    session.on('error', () => {});
  }
  const stream = session.request(headers);
  stream.resume();
  const s = session;
  if (own) stream.on('close', () => s.close());
  const req: RequestLike = {
    on: (event, listener) => stream.on(event, listener),
    // A HEAD stream is ended as it opens.
    end: (b) => void (stream.writableEnded ? undefined : stream.end(b)),
  };
  return { req, body, leftOut };
}
