/**
 * A replay on http2 (`http2.connect` + `session.request()`; docs/replay.md). A session of a
 * replayed program runs over an in-memory pair of streams, never a network connection, to a server
 * session of the replay's own (`http2.performServerHandshake` on the other end): the program's
 * client session is Node's own, speaking HTTP/2 (settings, HEADERS, DATA, trailers, RST_STREAM,
 * flow control) to a server that answers each stream from the recording. For each stream the
 * server reads the request as a server would (its headers and body), asks the collector
 * (replayLink.ts) and answers: the recorded status and headers, the body (at once or as recorded),
 * the trailers; a recorded stream reset as an RST_STREAM with its code; a connection reset or a
 * refused connection, a name that did not resolve, a certificate, by ending the session's
 * connection with that error. An https origin's session says it is encrypted (`h2`), as it was.
 *
 * What differs from the network: the session's socket is no TCP or TLS socket (no addresses, no
 * certificate), and a connection that failed is failed once the session is up (its streams get the
 * connection's error, not Node's "pending stream canceled"). A request the recording has no answer
 * for is refused as a stream (RST_STREAM REFUSED_STREAM); `--replay-unmatched pass` does not send
 * http2 streams to the network yet (they are refused, and said). Never throws into the program.
 */

import type * as http2Types from 'node:http2';
import type { Duplex } from 'node:stream';
import type { ReplayMark } from '../../trace/contract/replayMark';
import type { Tracer } from '../tracer';
import { observeOnce } from '../emitTaps';
import { resetError } from '../rules/whatIfSocket';
import { refusedError } from '../rules/whatIfSocket';
import { askReplay, type ReplayAnswer } from './replayLink';
import { dnsError, tlsError } from './replayBytes';
import { answerSteps, bodyParts, runPaced } from './replayTiming';
import { orig } from '../transport/collectorNet';
import { keepAlive } from './replaySocket';

type Connect = (...args: unknown[]) => http2Types.ClientHttp2Session;
type JssClass = new (stream: Duplex) => Duplex & { encrypted?: boolean; alpnProtocol?: string };

/** The server sessions the replay runs (the server hooks leave their streams alone). */
export const replayServerSessions = new WeakSet<object>();
/** Each replayed client stream's record id, by its session and stream id. */
const recordIds = new WeakMap<object, Map<number, string>>();

let jss: JssClass | null | undefined;

/**
 * Node's JSStreamSocket (a socket over a JavaScript stream, which Http2Session wraps a plain
 * duplex in), found once from a session made over a dummy stream and destroyed at once: the
 * replay makes its own so that it can say an https origin's session is encrypted.
 */
function jssClass(connect: Connect): JssClass | null {
  if (jss !== undefined) return jss;
  jss = null;
  try {
    const { Duplex } = require('node:stream') as typeof import('node:stream');
    const dummy = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
    const probe = connect('http://replay.invalid', { createConnection: () => dummy });
    probe.on('error', () => {});
    const key = Object.getOwnPropertySymbols(probe).find((s) => s.description === 'socket');
    const socket = key !== undefined ? (probe as unknown as Record<symbol, unknown>)[key] : undefined;
    jss = socket && typeof (socket as object).constructor === 'function' ? ((socket as object).constructor as JssClass) : null;
    probe.destroy();
  } catch {
    jss = null;
  }
  return jss;
}

/** Two JavaScript streams, each writing into the other's readable side (`stream.duplexPair`, which Node 20 lacks). */
function duplexPair(): [Duplex, Duplex] {
  const { Duplex } = require('node:stream') as typeof import('node:stream');
  const ends: Duplex[] = [];
  const end = (i: number): Duplex =>
    new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        ends[1 - i].push(chunk);
        cb();
      },
      final(cb) {
        ends[1 - i].push(null);
        cb();
      },
      destroy(err, cb) {
        const other = ends[1 - i];
        if (!other.destroyed) other.push(null);
        cb(err);
      },
    });
  ends.push(end(0), end(1));
  return [ends[0], ends[1]];
}

/**
 * `http2.connect` under a replay (`connect`: Node's own; the program's arguments): the session,
 * over an in-memory pair to the replay's server session. Undefined when it cannot be made (then
 * the caller connects as usual).
 */
export function replayConnect(t: Tracer, connect: Connect, self: unknown, args: unknown[]): http2Types.ClientHttp2Session | undefined {
  const Jss = jssClass((...a) => connect.apply(self, a));
  const http2 = require('node:http2') as typeof http2Types;
  if (Jss === null || typeof (http2 as { performServerHandshake?: unknown }).performServerHandshake !== 'function') return undefined;
  const [authority, second, third] = args;
  const options = (second && typeof second === 'object' ? second : {}) as Record<string, unknown>;
  const listener = typeof second === 'function' ? second : third;
  const origin = new URL(
    typeof authority === 'string' || authority instanceof URL ? authority : String((authority as { href?: string })?.href),
  ).origin;
  const [clientEnd, serverEnd] = duplexPair();
  const socket = new Jss(clientEnd);
  if (origin.startsWith('https:')) {
    socket.encrypted = true;
    socket.alpnProtocol = 'h2';
  }
  keepAlive(socket);
  // The program's own createConnection would open a connection of its own: not under a replay.
  const session = connect.apply(self, [
    authority,
    { ...options, createConnection: () => socket },
    ...(typeof listener === 'function' ? [listener] : []),
  ]);
  const server = (http2 as unknown as { performServerHandshake(s: Duplex): http2Types.ServerHttp2Session }).performServerHandshake(
    serverEnd,
  );
  replayServerSessions.add(server);
  server.on('error', () => {});
  server.on('stream', (stream, headers) => {
    try {
      serve(t, session, socket, stream, headers, origin);
    } catch (err) {
      warnOnce(t, err);
    }
  });
  return session;
}

/** Notes a replayed client stream's record id (the http2 hooks call it), for its `replay` mark. */
export function noteReplayedStream(session: object, stream: { id?: number }, id: string): void {
  const put = (): void => {
    if (typeof stream.id !== 'number') return;
    let m = recordIds.get(session);
    if (!m) recordIds.set(session, (m = new Map()));
    m.set(stream.id, id);
  };
  if (typeof stream.id === 'number') put();
  else observeOnce(stream, 'ready', put);
}

function mark(t: Tracer, session: object, streamId: number, m: ReplayMark): void {
  const id = recordIds.get(session)?.get(streamId);
  if (id === undefined) return;
  try {
    t.record('httpRequests', id, { replay: m });
  } catch {
    // The transport never throws.
  }
}

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2): an answer recorded over HTTP/1.1 has them. */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** A recorded head as the headers of an HTTP/2 response: `:status`, the names in lower case, repeated ones as lists. */
function h2Headers(status: number, pairs: ReadonlyArray<[string, string]>): Record<string, string | string[] | number> {
  const out: Record<string, string | string[] | number> = { ':status': status };
  for (const [name, value] of pairs) {
    const k = name.toLowerCase();
    if (k.startsWith(':') || CONNECTION_HEADERS.has(k)) continue;
    const had = out[k];
    out[k] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [String(had), value];
  }
  return out;
}

/** Answers one stream of the replay's server session from the recording. */
function serve(
  t: Tracer,
  session: http2Types.ClientHttp2Session,
  socket: Duplex,
  stream: http2Types.ServerHttp2Stream,
  headers: http2Types.IncomingHttpHeaders,
  origin: string,
): void {
  const startedAt = orig.perfNow();
  stream.on('error', () => {});
  const method = String(headers[':method'] ?? 'GET').toUpperCase();
  const url = `${origin.slice(0, origin.indexOf('://'))}://${String(headers[':authority'] ?? new URL(origin).host)}${String(headers[':path'] ?? '/')}`;
  const names = t.config.replay?.matchHeaders ?? [];
  const matched: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(headers))
    if (names.includes(k)) for (const one of Array.isArray(v) ? v : [v]) matched.push([k, String(one)]);
  const parts: Buffer[] = [];
  stream.on('data', (d: Buffer) => parts.push(d));
  stream.once('end', () => {
    const body = Buffer.concat(parts);
    askReplay(t, { client: 'http2', method, url, headers: matched, ...(body.length > 0 ? { body } : {}) }, (a) => {
      try {
        mark(t, session, stream.id ?? -1, a.mark);
        answer(session, stream, socket, a, url, startedAt);
      } catch (err) {
        warnOnce(t, err);
      }
    });
  });
}

/** Gives the collector's answer on the server stream (or the connection, for a connection's failure). */
function answer(
  session: object,
  stream: http2Types.ServerHttp2Stream,
  socket: Duplex,
  a: ReplayAnswer,
  url: string,
  startedAt: number,
): void {
  const http2 = require('node:http2') as typeof http2Types;
  const { NGHTTP2_REFUSED_STREAM } = http2.constants;
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
  // The connection's end: what the session's socket would report; its streams end as a session's
  // pending streams do when its connection fails (Node's ERR_HTTP2_STREAM_CANCEL, caused by it).
  const failConnection = (err: Error): void => {
    for (const s of openStreams(session)) s.destroy(cancelError(err));
    socket.destroy(err);
  };
  if (a.act !== 'answer') return void stream.close(NGHTTP2_REFUSED_STREAM);
  const end = a.end ?? { kind: 'completed' };
  switch (end.kind) {
    case 'refused':
      return failConnection(refusedError(a.address ?? host, port));
    case 'dns':
      return failConnection(dnsError(host, end.code));
    case 'tls':
      return failConnection(tlsError(end.code));
    case 'timeout':
    case 'aborted':
      return;
    default:
      break;
  }
  // A connection closed before the answer was whole fails an HTTP/2 stream as a reset does (no close in order mid-stream).
  const reset =
    end.kind === 'reset' ? end : end.kind === 'closed' ? { kind: 'reset' as const, afterBodyBytes: end.afterBodyBytes } : undefined;
  const cut = reset ? reset.afterBodyBytes : a.bodyCut ? a.body.length : undefined;
  const stop = (): void => {
    if (reset?.http2Code !== undefined) resetStream(stream, reset.http2Code);
    else failConnection(resetError());
  };
  const head = a.response;
  if (head === undefined) return stop();
  const body = cut !== undefined ? a.body.subarray(0, cut) : a.body;
  const trailers = !reset && a.trailers?.length ? a.trailers : undefined;
  const alive = (): boolean => !stream.destroyed && !stream.closed;
  // Body writes not yet taken by the session (their callbacks): a reset waits for them, or its
  // RST_STREAM, sent before queued DATA, would drop the body bytes the program read before it.
  let writing = 0;
  let stopWhenWritten = false;
  const written = (): void => {
    if (--writing === 0 && stopWhenWritten) orig.setImmediate(stop);
  };
  const steps = answerSteps(
    a.timing,
    bodyParts(body, a.timing),
    () => {
      if (!alive()) return;
      // Only the recorded headers: no Date of Node's own.
      stream.respond(h2Headers(head.status, head.headers), {
        waitForTrailers: trailers !== undefined,
        // (Node reads it; @types/node does not list it.)
        sendDate: false,
      } as http2Types.ServerStreamResponseOptions);
      if (trailers) stream.once('wantTrailers', () => stream.sendTrailers(trailersOf(trailers)));
    },
    (b) => {
      if (!alive()) return;
      writing++;
      stream.write(b, written);
    },
    () => {
      if (!alive()) return;
      if (cut === undefined) stream.end();
      else if (writing === 0) orig.setImmediate(stop);
      else stopWhenWritten = true;
    },
  );
  runPaced(startedAt, steps, alive);
}

/**
 * Resets a server stream with `code` (RST_STREAM) after what it sent. Workaround: Node's
 * `stream.close(code)` ends a stream whose writable side is open first (END_STREAM), so the peer
 * would read a complete body before the reset and take it for one; the writable side is marked
 * ending (the replay's own stream, written no more) so that only the RST_STREAM goes.
 */
export function resetStream(stream: http2Types.ServerHttp2Stream, code: number): void {
  const state = (stream as unknown as { _writableState?: { ending?: boolean } })._writableState;
  if (state && state.ending === false) state.ending = true;
  stream.close(code);
}

/** The open streams of a client session (its state's `streams`), or none. */
function openStreams(session: object): Array<{ destroy(err?: Error): void }> {
  const key = Object.getOwnPropertySymbols(session).find((sym) => sym.description === 'state');
  const state =
    key !== undefined ? (session as Record<symbol, { streams?: Map<unknown, { destroy(err?: Error): void }> }>)[key] : undefined;
  // Node's own SafeMap, which is no `instanceof Map`.
  return typeof state?.streams?.values === 'function' ? [...state.streams.values()] : [];
}

/** Node's error for a stream whose session's connection failed before it was sent (ERR_HTTP2_STREAM_CANCEL). */
function cancelError(cause: Error): Error {
  const err = new Error(`The pending stream has been canceled (caused by: ${cause.message})`) as Error & { code?: string; cause?: unknown };
  err.code = 'ERR_HTTP2_STREAM_CANCEL';
  err.cause = cause;
  return err;
}

/** Trailer pairs as HTTP/2 trailers (lower-case names, repeated ones as lists, no pseudo-headers). */
function trailersOf(pairs: ReadonlyArray<[string, string]>): Record<string, string | string[]> {
  const out = h2Headers(0, pairs);
  delete out[':status'];
  return out as Record<string, string | string[]>;
}

let warned = false;
function warnOnce(t: Tracer, err: unknown): void {
  if (warned) return;
  warned = true;
  try {
    t.warn(`nettrace: the replay could not answer an http2 stream: ${String((err as Error)?.message ?? err)}`);
  } catch {
    // The transport never throws.
  }
}
