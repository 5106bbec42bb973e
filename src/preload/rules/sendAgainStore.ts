/**
 * Send Again (docs/rules.md, "Send Again"): a recorded request sent again from inside the process
 * that made it, so the headers the trace redacted (Authorization, cookies) go as the program sent
 * them. The preload keeps, in this process's memory only, the method, URL, headers and body of its
 * last KEEP_COUNT http/https, fetch, undici and http2 requests (at most KEEP_BYTES in all; how
 * each client's are kept and made again: http/httpSendAgain.ts, undici/undiciSendAgain.ts,
 * http2/http2SendAgain.ts): never written, never sent to the collector. The collector asks by the
 * request's local id (SendAgainMessage); the request is made again through the module that made
 * it (the program loaded it; fetch's and undici's through the program's undici dispatcher), so
 * the hooks record it like any other, and its record gets `repeatOf` once it ends. Never throws into the program: the new
 * request's errors are the preload's own (a listener on a request it made) and go to the answer.
 *
 * Credentials stay at their origin (docs/security.md, "Send Again"): decided here, where the
 * secrets are, whatever the editor's document says. A header the edits leave at REDACTED gets the
 * value the program sent only when the URL has the same scheme, host and port as the request's;
 * to another origin it is left out — as is, when the edits name no headers, every header the trace
 * redacts — and the answer names what was left out, for the user to see.
 */
import type { SendAgainMessage, SentAgainMessage } from '../../protocol/preload';
import { redactedHeaderNames } from '../../trace/contract/redact';
import { REDACTED } from '../../trace/contract/wire';
import type { Tracer } from '../tracer';
import { onSendAgain } from './preloadRules';

/** How many requests are kept, and how many bytes of head and body in all. */
export const KEEP_COUNT = 32;
export const KEEP_BYTES = 1 << 20;
/** A body longer than this is not kept (its request cannot be sent again unless a body is typed). */
export const MAX_BODY = 256 * 1024;

/** The user's changes to a request sent again (SendAgainMessage.edits). */
export type SendAgainEdits = NonNullable<SendAgainMessage['edits']>;

/** A request made again (an http ClientRequest, an http2 stream): the preload's own listeners go on it. */
export type RequestLike = {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  end(body?: Buffer | string): void;
};

/** A request made again: the new request (not yet ended), the body to end it with, and the headers left out (headersToSend). */
export interface Made {
  req: RequestLike;
  body: Buffer;
  leftOut: string[];
}

/** Whether a header name (any case) is one the trace redacts: the program's credentials. */
export type IsSecret = (name: string) => boolean;

/**
 * What Send Again keeps of a request: its size (head and body), and how it is made again, with
 * the user's edits, through the module the program loaded (`secret` tells the headers that stay
 * at their origin); it throws when it cannot (the reason goes to the user).
 */
export interface Kept {
  bytes: number;
  send(e: SendAgainEdits, secret: IsSecret): Made;
}

/**
 * The URL and body a kept request goes again with: the user's edits, else what was kept. Throws
 * (the reason goes to the user) when there is no body: `unkept` says why none was kept.
 */
export function editedOrKept(e: SendAgainEdits, url: string, body: Buffer | undefined, unkept: string): { url: string; body: Buffer } {
  const edited = typeof e.body === 'string' ? Buffer.from(e.body) : body;
  if (edited === undefined) throw new Error(`its body was not kept (${unkept}): type the body in Send Again with Changes…`);
  return { url: typeof e.url === 'string' && e.url !== '' ? e.url : url, body: edited };
}

/** Insertion order is age: the first key is the oldest. */
const kept = new Map<string, Kept>();
let keptBytes = 0;
let tracer: Tracer | undefined;

/** The tracer Send Again answers through (the http, undici and http2 hooks give it when they install). */
export function sendAgainTracer(t: Tracer): void {
  tracer = t;
  onSendAgain(sendAgain);
}

/** Keeps a request for Send Again under its local id. Bounded: the oldest go first. */
export function keepRequest(t: Tracer, id: string, k: Kept): void {
  if (k.bytes > KEEP_BYTES) return;
  if (tracer !== t) sendAgainTracer(t);
  const had = kept.get(id);
  if (had !== undefined) {
    kept.delete(id);
    keptBytes -= had.bytes;
  }
  kept.set(id, k);
  keptBytes += k.bytes;
  for (const [old, o] of kept) {
    if (kept.size <= KEEP_COUNT && keptBytes <= KEEP_BYTES) break;
    kept.delete(old);
    keptBytes -= o.bytes;
  }
}

/** Headers Node writes from the body and the agent: never copied over. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection']);

/**
 * Whether two URLs have the same origin: scheme, host and port (a default port written or not);
 * false when either cannot be read. The one test of where the program's credentials may go.
 */
export function sameOrigin(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.origin !== 'null' && x.origin === y.origin;
  } catch {
    return false;
  }
}

/**
 * The headers to send, and the names of those left out. The edits' (else the original's) headers,
 * framing left to Node; a value REDACTED in the edits is the one the program sent for that name, in
 * order — to the same origin only (`same`). To another origin the program's `Host` is dropped, a
 * REDACTED value is left out, and so is, when the edits give no headers, every original header
 * `secret` names; a value the user typed goes as typed. `leftOut`: each name once, as written.
 */
export function headersToSend(
  original: Array<[string, string]>,
  edited: Array<[string, string]> | undefined,
  same: boolean,
  secret: IsSecret,
): { headers: Array<[string, string]>; leftOut: string[] } {
  const list = edited ?? original;
  const seen = new Map<string, number>();
  const out: Array<[string, string]> = [];
  const leftOut: string[] = [];
  const leave = (name: string) => {
    if (!leftOut.some((n) => n.toLowerCase() === name.toLowerCase())) leftOut.push(name);
  };
  for (const [name, value] of list) {
    const lower = name.toLowerCase();
    if (FRAMING.has(lower) || (!same && lower === 'host')) continue;
    const nth = seen.get(lower) ?? 0;
    seen.set(lower, nth + 1);
    if (value !== REDACTED) {
      if (!same && edited === undefined && secret(name)) leave(name);
      else out.push([name, value]);
      continue;
    }
    if (!same) {
      leave(name);
      continue;
    }
    const sent = original.filter(([n]) => n.toLowerCase() === lower);
    const was = sent[nth] ?? sent[sent.length - 1];
    if (was !== undefined) out.push([name, was[1]]);
  }
  return { headers: out, leftOut };
}

function reply(t: Tracer, m: SentAgainMessage): void {
  try {
    t.transport.send(m);
  } catch {
    // The transport never throws; nothing more to do.
  }
}

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
          ? `the process no longer holds this request (it keeps its last ${KEEP_COUNT} http/https, fetch, undici and http2 requests, in memory only)`
          : 'the process keeps no requests to send again (it was started without the sendAgain option, e.g. by nettrace run)',
    });
    return;
  }
  try {
    let newId: string | undefined;
    const prev = t.onRequestId;
    t.onRequestId = (id) => {
      newId ??= id;
      prev?.(id);
    };
    let made: Made;
    try {
      let names: ReturnType<typeof redactedHeaderNames> | undefined;
      // The trace's own redaction names (the defaults, the `redact` option): built only when asked.
      made = k.send(m.edits ?? {}, (name) => (names ??= redactedHeaderNames(t.config.redact)).has(name));
    } finally {
      t.onRequestId = prev;
    }
    const { req, body, leftOut } = made;
    const of = m.id;
    // The preload's own listeners on a request it made: an error must not reach the program.
    req.on('error', () => {});
    req.on('close', () => {
      if (newId !== undefined) t.transport.send({ type: 'record', kind: 'httpRequests', id: newId, fields: { repeatOf: of } });
    });
    req.end(body.length > 0 ? body : undefined);
    reply(t, {
      type: 'sentAgain',
      ask: m.ask,
      ...(newId !== undefined ? { id: newId } : {}),
      ...(leftOut.length > 0 ? { leftOut } : {}),
    });
  } catch (err) {
    reply(t, { type: 'sentAgain', ask: m.ask, error: String((err as Error)?.message ?? err).slice(0, 300) });
  }
}
