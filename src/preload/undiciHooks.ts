/**
 * Tracing of undici: Node's global `fetch` (bundled undici) and userland `undici` (`request`,
 * `fetch`, `Client`/`Pool`/`Agent`). Both publish on the same named diagnostics channels, so one
 * set of subscribers covers them. A request made by undici's `fetch` is told apart from the
 * dispatcher API by the `sec-fetch-mode` header that fetch always sends.
 *
 * Body bytes: undici publishes no per-chunk channel on Node 20's bundled version, so the
 * request's own `onData` is wrapped on the instance (it is undici's internal Request object,
 * never seen by the program).
 */

import * as dc from 'node:diagnostics_channel';
import { captureStack, formatInitiator, type StackHolder } from './initiator';
import { connOf, dialingTo } from './socketHooks';
import type { ConnState, Hook, Tracer } from './tracer';
import { now, toRequestError } from './tracer';

interface UndiciRequest {
  origin?: string | URL;
  method?: string;
  path?: string;
  headers?: unknown;
  onData?: (chunk: Uint8Array) => unknown;
}

interface UState {
  id: string;
  stack?: StackHolder;
  conn?: ConnState;
  sent: boolean;
  gotResponse: boolean;
  done: boolean;
  sentAt?: number;
  bodyBytes: number;
}

const stateOf = new WeakMap<object, UState>();
/** The connection a failed connect was for, keyed by the error object undici passes on. */
const failedConnect = new WeakMap<object, ConnState>();

/** Subscribes to undici's channels. */
export function installUndiciHooks(t: Tracer): void {
  const hook: Hook = { name: 'undici', enabled: true };
  const on = (name: string, fn: (msg: Record<string, unknown>) => void) =>
    dc.subscribe(name, (msg) => {
      t.guard(hook, () => fn(msg as Record<string, unknown>));
    });

  dc.subscribe('undici:request:create', () => {
    if (!hook.enabled) t.untracedRequests++;
  });
  on('undici:request:create', (m) => {
    const req = m.request as UndiciRequest;
    const s: UState = { id: t.id('r'), stack: captureStack(), sent: false, gotResponse: false, done: false, bodyBytes: 0 };
    stateOf.set(req, s);
    const headers = t.headers.fromUndici(req.headers);
    const isFetch = hasHeader(req.headers, 'sec-fetch-mode');
    const origin = String(req.origin ?? '').replace(/\/$/, '');
    const fields: Record<string, unknown> = {
      pid: t.pid,
      threadId: t.threadId,
      client: isFetch ? 'fetch' : 'undici',
      reqMethod: req.method,
      reqURL: origin + (req.path ?? '/'),
      reqStartAt: now(),
    };
    if (headers) fields.reqHeaders = headers;
    const body = (req as { body?: unknown }).body;
    if (typeof body === 'string') fields.reqContentLen = Buffer.byteLength(body);
    else if (body instanceof Uint8Array) fields.reqContentLen = body.length;
    else if (body == null) fields.reqContentLen = 0;
    const initiator = formatInitiator(s.stack!, t.stackDepth, t.ownFile);
    s.stack = undefined;
    if (initiator) fields.initiator = initiator;
    t.record('httpRequests', s.id, fields);
    const onData = req.onData;
    if (typeof onData === 'function') {
      req.onData = function (chunk: Uint8Array) {
        if (hook.enabled && chunk) s.bodyBytes += chunk.length;
        return onData.call(this, chunk);
      };
    }
  });

  on('undici:client:sendHeaders', (m) => {
    const s = stateOf.get(m.request as object);
    if (!s) return;
    const conn = m.socket ? connOf.get(m.socket as object) : undefined;
    const fields: Record<string, unknown> = {};
    if (conn) {
      s.conn = conn;
      const reused = conn.requestCount > 0;
      conn.requestCount++;
      fields.tcpConn = conn.tcpId;
      fields.reusedConn = reused;
      if (conn.tlsId) fields.tlsTunnel = conn.tlsId;
      if (!reused) fields.dial = conn.dialId;
    }
    t.record('httpRequests', s.id, fields);
  });

  on('undici:request:bodySent', (m) => {
    const s = stateOf.get(m.request as object);
    if (!s) return;
    s.sent = true;
    s.sentAt = now();
  });

  on('undici:request:headers', (m) => {
    const s = stateOf.get(m.request as object);
    if (!s) return;
    const at = now();
    s.gotResponse = true;
    if (!s.sent) {
      s.sent = true;
      s.sentAt = at;
    }
    const res = m.response as { statusCode?: number; statusText?: string; headers?: Array<Buffer | string> };
    const fields: Record<string, unknown> = {
      reqSentAt: s.sentAt,
      respRecvAt: at,
      respStatusCode: res.statusCode,
      respStatusText: res.statusText,
      protoMajor: 1,
      protoMinor: 1,
    };
    const headers = res.headers ? t.headers.fromFlat(res.headers) : undefined;
    if (headers) fields.respHeaders = headers;
    t.record('httpRequests', s.id, fields);
  });

  on('undici:request:trailers', (m) => {
    const s = stateOf.get(m.request as object);
    if (!s || s.done) return;
    s.done = true;
    t.record('httpRequests', s.id, { respDoneAt: now(), respContentLen: s.bodyBytes });
  });

  on('undici:client:connectError', (m) => {
    const params = m.connectParams as { hostname?: string; host?: string; port?: string | number; protocol?: string } | undefined;
    let conn = m.socket ? connOf.get(m.socket as object) : undefined;
    if (!conn && params) {
      const host = String(params.hostname ?? '').replace(/^\[|\]$/g, '');
      const port = Number(params.port) || (params.protocol === 'https:' ? 443 : 80);
      conn = dialingTo.get(`${host}:${port}`);
    }
    if (conn && m.error && typeof m.error === 'object') failedConnect.set(m.error, conn);
  });

  on('undici:request:error', (m) => {
    const s = stateOf.get(m.request as object);
    if (!s || s.done) return;
    s.done = true;
    const err = m.error;
    const fields: Record<string, unknown> = { reqEndAt: now() };
    let conn = s.conn;
    if (!conn && err && typeof err === 'object') {
      conn = failedConnect.get(err);
      if (conn) {
        fields.tcpConn = conn.tcpId;
        fields.dial = conn.dialId;
        if (conn.tlsId) fields.tlsTunnel = conn.tlsId;
      }
    }
    fields.reqError = toRequestError(err, { conn, sent: s.sent, gotResponse: s.gotResponse });
    if (s.gotResponse) fields.respContentLen = s.bodyBytes;
    if (s.sentAt !== undefined) fields.reqSentAt = s.sentAt;
    t.record('httpRequests', s.id, fields);
  });
}

function hasHeader(headers: unknown, name: string): boolean {
  if (typeof headers === 'string') return headers.toLowerCase().includes(`\r\n${name}:`) || headers.toLowerCase().startsWith(`${name}:`);
  if (Array.isArray(headers)) {
    for (let i = 0; i < headers.length; i += 2) if (String(headers[i]).toLowerCase() === name) return true;
  }
  return false;
}
