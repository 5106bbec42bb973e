/**
 * A replay on http/https ClientRequest (and so axios, got, node-fetch over them; docs/replay.md).
 * The request's socket is held (replaySocket.ts) from the moment net is asked to connect it, so
 * nothing reaches the network; what the request hands its socket is copied (OutgoingMessage's
 * `_writeRaw`, through which every byte of it goes, head and body); once it was handed over whole
 * (its `prefinish`), the collector is asked (replayLink.ts) and its answer given on the socket:
 * the recorded heads, body (still content-encoded: Node's client and the program decode it as they
 * would the server's) and trailers, framed as the recorded head says, pushed into the socket's
 * readable side so Node's own parser reads them; or the recorded failure, through the path a real
 * one takes. A request the recording has no answer for fails as a refused connection, or (with
 * `--replay-unmatched pass`) is let through to the network. The request's record gets `replay`.
 *
 * A what-if rule that answers in the server's place (a `fail`, `respond`) acts instead of the
 * replay, as without one; one that acts on the response (delay, throttle, override, a reset after
 * N bytes) acts on the replayed one. Never throws into the program.
 */

import type { StartDecision } from '../../rules';
import type { ReplayMark } from '../../trace/contract/replayMark';
import type { Tracer } from '../tracer';
import { observeOnce } from '../emitTaps';
import { refusedError } from '../rules/whatIfSocket';
import { resetError } from '../rules/whatIfSocket';
import { askReplay, type ReplayAnswer } from './replayLink';
import { answerOn, failLookupOn, holdOf, passOn, refuseOn, type Hold } from './replaySocket';
import { chunkBytes, closesAfter, dnsError, framingOf, headBytes, headValues, lastChunk, tlsError, writtenBody } from './replayBytes';
import { answerSteps, bodyParts, runPaced } from './replayTiming';
import { orig } from '../transport/collectorNet';
import { claimAgentSockets, claimDials } from './replay';
import { deliverUpgrade } from './replayWebSocket';
import { replaceFunction } from '../tracer';

/** The ClientRequest as the replay reads it. */
interface Req {
  method?: string;
  path?: string;
  host?: string;
  protocol?: string;
  agent?: { protocol?: string } | null;
  destroyed?: boolean;
  /** The request's head as Node wrote it (set once the head was built). */
  _header?: string | null;
  getHeader(name: string): unknown;
}

/** What-if rules that answer in the server's place (the replay steps aside for them). */
function answersInPlace(d: StartDecision | null): boolean {
  const rule = d?.whatIf;
  if (rule === null || rule === undefined) return false;
  if (rule.respond !== undefined) return true;
  const f = rule.fail;
  return f !== undefined && !(f.kind === 'reset' && f.at === 'mid-body');
}

let warnedUnheld = false;

/** What each replayed request handed its socket so far (its head and body, as written). */
const written = new WeakMap<object, Buffer[]>();
let rawWrapped = false;

/**
 * Copies every byte a replayed request hands its socket: OutgoingMessage's `_writeRaw` (the head
 * and each body chunk, chunked framing included, whether the socket is there yet or not), wrapped
 * once on the prototype; other requests pass straight through.
 */
function copyWrites(): void {
  if (rawWrapped) return;
  rawWrapped = true;
  const http = require('node:http') as typeof import('node:http');
  const proto = (http as unknown as { OutgoingMessage: { prototype: Record<string, Function> } }).OutgoingMessage.prototype;
  const writeRaw = proto._writeRaw;
  if (typeof writeRaw !== 'function') return;
  replaceFunction(
    proto,
    '_writeRaw',
    function (this: object, data: unknown, encoding: unknown, ...rest: unknown[]): unknown {
      const parts = written.get(this);
      if (parts !== undefined) {
        if (typeof data === 'string')
          parts.push(Buffer.from(data, typeof encoding === 'string' && Buffer.isEncoding(encoding) ? encoding : 'utf8'));
        else if (data instanceof Uint8Array) parts.push(Buffer.from(data));
      }
      return writeRaw.call(this, data, encoding, ...rest);
    },
    writeRaw,
  );
}

/** Runs http.request() (`fn`) with the sockets it opens held for the replay. */
export function replayDials<T>(fn: () => T): T {
  claimAgentSockets();
  copyWrites();
  return claimDials(fn);
}

/**
 * A new http/https request under a replay, right after http.request() built it: `stateOf` gives
 * its state once the hooks made it (its `id`, the record's local id; none or '' when the rules do
 * not record it), `dialed` the socket opened inside that call, `d` the rules' decision (null: not
 * recorded). Never throws.
 */
export function replayHttp(
  t: Tracer,
  req: object,
  stateOf: () => { id: string } | undefined,
  dialed: object | undefined,
  d: StartDecision | null,
): void {
  try {
    const r = req as Req;
    const id = {
      get value(): string | undefined {
        return stateOf()?.id || undefined;
      },
    };
    if (answersInPlace(d)) {
      // The what-if rule answers it, as it would without a replay: its socket goes as it is.
      const hold = holdOf(dialed);
      if (hold) passOn(hold);
      return;
    }
    const startedAt = orig.perfNow();
    written.set(req, []);
    const claim = (socket: object): void => {
      const hold = holdOf(socket);
      if (hold === undefined) {
        if (!warnedUnheld) {
          warnedUnheld = true;
          t.warn(
            'nettrace: a replayed http request got a connection the replay did not make (an agent that connects by itself): it went to the network',
          );
        }
        mark(t, id.value, {
          outcome: 'passed',
          reason: 'unheld',
          differences: [],
          summary: 'its connection was made outside the replay (by an agent that connects by itself)',
        });
        return;
      }
      // Handed to its socket whole: OutgoingMessage emits `prefinish` then (its `finish` waits for the connect).
      observeOnce(req, 'prefinish', () => ask(t, r, id.value, hold, startedAt));
    };
    if (holdOf(dialed)) claim(dialed as object);
    else observeOnce(req, 'socket', (s) => claim(s as object));
  } catch (err) {
    warnOnce(t, err);
  }
}

/** The request's URL as the trace writes it (`reqURL`). */
function urlOf(r: Req, hold: Hold): string {
  const path = r.path ?? '/';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return path;
  const protocol = r.protocol ?? (r.agent?.protocol || 'http:');
  const hostHeader = r.getHeader('host');
  if (typeof hostHeader === 'string' && hostHeader !== '') return `${protocol}//${hostHeader}${path}`;
  const host = hold.host.includes(':') ? `[${hold.host}]` : hold.host;
  const port =
    hold.port && !((protocol === 'http:' && hold.port === 80) || (protocol === 'https:' && hold.port === 443)) ? `:${hold.port}` : '';
  return `${protocol}//${host}${port}${path}`;
}

/** The request was written whole: the collector is asked. */
function ask(t: Tracer, r: Req, id: string | undefined, hold: Hold, startedAt: number): void {
  try {
    if (hold.state !== 'held' || hold.socket.destroyed) return;
    const parts = written.get(r) ?? [];
    written.delete(r);
    const head = typeof r._header === 'string' ? r._header : '';
    const body = writtenBody(head, parts.length === 1 ? parts[0] : Buffer.concat(parts));
    const names = t.config.replay?.matchHeaders ?? [];
    const method = String(r.method ?? 'GET').toUpperCase();
    askReplay(
      t,
      {
        ...(id !== undefined ? { id } : {}),
        client: (r.protocol ?? r.agent?.protocol) === 'https:' ? 'https' : 'http',
        method,
        url: urlOf(r, hold),
        headers: headValues(head, names),
        ...(body.length > 0 ? { body } : {}),
      },
      (a) => {
        try {
          answer(t, id, hold, method, a, startedAt, headValues(head, ['sec-websocket-key'])[0]?.[1]);
        } catch (err) {
          warnOnce(t, err);
        }
      },
    );
  } catch (err) {
    warnOnce(t, err);
  }
}

/** Writes the request's `replay` mark. */
function mark(t: Tracer, id: string | undefined, m: ReplayMark): void {
  if (id === undefined) return;
  try {
    t.record('httpRequests', id, { replay: m });
  } catch {
    // The transport never throws.
  }
}

/** Gives the collector's answer on the held socket (`wsKey`: the request's `Sec-WebSocket-Key`, for an upgrade). */
function answer(
  t: Tracer,
  id: string | undefined,
  hold: Hold,
  method: string,
  a: ReplayAnswer,
  startedAt: number,
  wsKey: string | undefined,
): void {
  mark(t, id, a.mark);
  if (a.act === 'pass') return passOn(hold);
  const refused = (): Error => refusedError(hold.host, hold.port);
  if (a.act === 'refuse') return refuseOn(hold, undefined, refused);
  const end = a.end ?? { kind: 'completed' };
  const s = hold.socket;
  switch (end.kind) {
    case 'refused':
      return refuseOn(hold, a.address, refused);
    case 'dns':
      return failLookupOn(hold, dnsError(hold.host, end.code));
    case 'tls':
      return answerOn(hold, a.address, () => {}, tlsError(end.code));
    case 'timeout':
    case 'aborted':
      // Nothing comes: the program's own timeout or abort ends it, as it did.
      return answerOn(hold, a.address, () => {});
    case 'reset':
      if (end.afterBodyBytes === undefined || a.response === undefined) return answerOn(hold, a.address, () => s.destroy(resetError()));
      return answerOn(hold, a.address, (push) => deliver(push, a, method, startedAt, hold, end.afterBodyBytes));
    case 'closed':
      // The server's orderly close: the bytes before it, then the end of the stream (no error of the socket's).
      if (end.afterBodyBytes === undefined || a.response === undefined) return answerOn(hold, a.address, (push) => push(null));
      return answerOn(hold, a.address, (push) => deliver(push, a, method, startedAt, hold, end.afterBodyBytes, 'close'));
    default:
      if (a.response === undefined) return answerOn(hold, a.address, () => s.destroy(resetError()));
      if (a.response.status === 101) return answerOn(hold, a.address, (push) => deliverUpgrade(push, a, wsKey, hold, startedAt));
      return answerOn(hold, a.address, (push) => deliver(push, a, method, startedAt, hold, a.bodyCut ? a.body.length : undefined));
  }
}

/**
 * The recorded answer's bytes: interim heads, the head, the body (its first `cutAt` bytes, then a
 * reset, for a reset after N bytes or a body the recording's cap cut, or the server's close when
 * `cutEnd` is 'close'), trailers, and the server's
 * close when the head said so or the body ends at the connection's end; at once, or as recorded.
 */
function deliver(
  push: (c: Buffer | null) => void,
  a: ReplayAnswer,
  method: string,
  startedAt: number,
  hold: Hold,
  cutAt: number | undefined,
  cutEnd: 'reset' | 'close' = 'reset',
): void {
  const head = a.response!;
  const framing = framingOf(head, method);
  const body = framing === 'none' ? Buffer.alloc(0) : cutAt !== undefined ? a.body.subarray(0, cutAt) : a.body;
  const encode = (b: Buffer): Buffer => (framing === 'chunked' ? chunkBytes(b) : b);
  const headPart = Buffer.concat([...(a.interim ?? []).map((h) => headBytes(h, a.httpVersion)), headBytes(head, a.httpVersion)]);
  const finish = (): Buffer | null | 'reset' => {
    if (cutAt !== undefined) return cutEnd === 'close' ? null : 'reset';
    if (framing === 'chunked') return lastChunk(a.trailers);
    return framing === 'close' || closesAfter(head, a.httpVersion) ? null : Buffer.alloc(0);
  };
  const s = hold.socket;
  const close = (end: Buffer | null | 'reset'): void => {
    if (end === 'reset') return resetLater(s);
    if (end !== null && end.length > 0) push(end);
    if (end === null || closesAfter(head, a.httpVersion)) push(null);
  };
  if (a.timing === undefined) {
    // At once: the whole answer in one read, as a small answer arrives.
    const end = finish();
    push(Buffer.concat([headPart, encode(body), end !== null && end !== 'reset' ? end : Buffer.alloc(0)]));
    if (end === 'reset') resetLater(s);
    else if (end === null || closesAfter(head, a.httpVersion)) push(null);
    return;
  }
  const steps = answerSteps(
    a.timing,
    bodyParts(body, a.timing),
    () => push(headPart),
    (b) => push(encode(b)),
    () => close(finish()),
  );
  runPaced(startedAt, steps, () => !s.destroyed);
}

/**
 * The connection reset after the body's bytes: on a later turn of the loop, as a reset arrives in
 * a read of its own, after the program has read the bytes before it.
 */
function resetLater(s: { destroyed: boolean; destroy(err: Error): unknown }): void {
  orig.setImmediate(() => {
    if (!s.destroyed) s.destroy(resetError());
  });
}

let warned = false;
function warnOnce(t: Tracer, err: unknown): void {
  if (warned) return;
  warned = true;
  try {
    t.warn(`nettrace: the replay could not act on a request: ${String((err as Error)?.message ?? err)}`);
  } catch {
    // The transport never throws.
  }
}
