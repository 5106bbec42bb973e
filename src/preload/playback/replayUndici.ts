/**
 * A replay on fetch (Node's bundled undici) and userland undici (docs/replay.md): the request is
 * taken from its connection as the what-if answers take it (src/preload/undici/undiciWhatIf.ts
 * takeOver: undici drops it unwritten), its body is read as a server would read it, the collector
 * is asked, and the answer is given through the Request's own steps (onConnect, onHeaders with the
 * recorded status line's reason and raw header pairs, onData, onComplete with the recorded
 * trailers), so fetch and undici.request() build their Response, body and errors with their own
 * code; a recorded failure is the error undici's connection would give (its connector's for a
 * refused connection, a name that did not resolve, a certificate; `read ECONNRESET` for a reset),
 * and a recorded timeout waits for the program's own timeout or undici's headers timeout.
 *
 * The connections undici opens meanwhile never reach the network: each is held at its connect
 * (replaySocket.ts) and completed at once without a system call, idle. A request the recording has
 * no answer for fails as a refused connection, or with `--replay-unmatched pass` is sent for real
 * through an undici Agent of the replay's own (its connections made by a connector of its own, so
 * not held), its answer handed to the program's request the same way. Never throws into the program.
 */

import type { StartDecision } from '../../rules';
import type { RecordedEnd } from '../../trace/contract/recording';
import type { ReplayMark } from '../../trace/contract/replayMark';
import type { HttpClientKind } from '../../trace/contract/types';
import type { Tracer } from '../tracer';
import { subscribe } from '../detach';
import { refusedError, resetError } from '../rules/whatIfSocket';
import { SocketError } from '../undici/undiciErrors';
import { abortOf, call, endWith, hang, namesOf, Pump, takeOver, type Names, type UReq } from '../undici/undiciWhatIf';
import { headerViews, reasonOf } from '../undici/undiciWhatIfHead';
import { headersTimeoutOf } from '../undici/undiciPool';
import { stateOf } from '../undici/undiciState';
import { askReplay, type ReplayAnswer } from './replayLink';
import { dnsError, tlsError } from './replayBytes';
import { answerSteps, bodyParts, runPaced } from './replayTiming';
import { orig } from '../transport/collectorNet';
import { passThrough } from './replayPass';

/** Requests the replay took (a request reaches the hooks' create once; its claim is kept here). */
const replayed = new WeakSet<object>();

/** What-if rules that answer in the server's place: they act instead of the replay, as without one. */
function answersInPlace(d: StartDecision | null | undefined): boolean {
  const rule = d?.whatIf;
  if (rule === null || rule === undefined) return false;
  if (rule.respond !== undefined) return true;
  const f = rule.fail;
  return f !== undefined && !(f.kind === 'reset' && f.at === 'mid-body');
}

/**
 * An undici/fetch request under a replay, at `undici:request:create` (`d`: the rules' decision,
 * undefined when they skipped it before deciding, null when not recorded). Never throws.
 */
export function replayUndici(t: Tracer, req: object, d: StartDecision | null | undefined): void {
  if (replayed.has(req) || answersInPlace(d)) return;
  replayed.add(req);
  try {
    const r = req as UReq & { origin?: unknown; path?: unknown; method?: unknown; headers?: unknown; body?: unknown };
    const n = namesOf(r);
    const origin = String(r.origin ?? '').replace(/\/$/, '');
    const path = String(r.path ?? '/');
    const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(path) ? path : origin + path;
    const method = String(r.method ?? 'GET').toUpperCase();
    const client: HttpClientKind = hasHeader(r.headers, 'sec-fetch-mode') ? 'fetch' : 'undici';
    // Read now, while undici's dispatch is on the stack (undiciPool.ts).
    const headersTimeout = headersTimeoutOf(r);
    const body = r.body;
    takeOver(r, n);
    const startedAt = orig.perfNow();
    readBody(body, (bytes) => {
      try {
        // (Not `aborted`: undici's connection marks a request taken from it so, to skip it.)
        if (r.completed === true) return;
        askReplay(
          t,
          {
            ...(idOf(r) !== undefined ? { id: idOf(r) } : {}),
            client,
            method,
            url,
            headers: matchedHeaders(r.headers, t.config.replay?.matchHeaders ?? []),
            ...(bytes.length > 0 ? { body: bytes } : {}),
          },
          (a) => {
            try {
              mark(t, r, a.mark);
              answer(t, r, n, a, { url, method, headers: r.headers, body: bytes, startedAt, headersTimeout });
            } catch (err) {
              warnOnce(t, err);
            }
          },
        );
      } catch (err) {
        warnOnce(t, err);
      }
    });
  } catch (err) {
    warnOnce(t, err);
  }
}

let warnedWhatIf = false;

/**
 * True when the replay answers `req` and so a what-if rule acting on its response (a delay, a
 * throttle, an override, a reset after N bytes) cannot act on it yet: fetch/undici answers are
 * given through the request's own steps, past the rule's (said once, never silently).
 */
export function replayKeeps(t: Tracer, req: object, d: StartDecision): boolean {
  if (!replayed.has(req)) return false;
  if (!warnedWhatIf) {
    warnedWhatIf = true;
    try {
      t.warn(
        `nettrace: what-if rule "${d.whatIf?.id ?? '?'}" does not act on replayed fetch/undici answers yet (a replay answers them from the recording); it acts on http, https and http2 ones`,
      );
    } catch {
      // The transport never throws.
    }
  }
  return true;
}

/** The request's record id, once the hooks made its state (none when the rules do not record it). */
function idOf(r: object): string | undefined {
  return stateOf.get(r)?.id;
}

function mark(t: Tracer, r: object, m: ReplayMark): void {
  const id = idOf(r);
  if (id === undefined) return;
  try {
    t.record('httpRequests', id, { replay: m });
  } catch {
    // The transport never throws.
  }
}

/** True when undici's headers (a flat list or a block) have `name`. */
function hasHeader(headers: unknown, name: string): boolean {
  return matchedHeaders(headers, [name]).length > 0;
}

/** The `[name, value]` pairs of `names` (lower case) in undici's request headers (a flat list, or a header block). */
function matchedHeaders(headers: unknown, names: readonly string[]): Array<[string, string]> {
  if (names.length === 0) return [];
  const out: Array<[string, string]> = [];
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const k = String(headers[i]);
      if (names.includes(k.toLowerCase())) out.push([k, String(headers[i + 1])]);
    }
  } else if (typeof headers === 'string') {
    for (const line of headers.split('\r\n')) {
      const c = line.indexOf(':');
      if (c > 0 && names.includes(line.slice(0, c).trim().toLowerCase())) out.push([line.slice(0, c).trim(), line.slice(c + 1).trim()]);
    }
  }
  return out;
}

/**
 * Reads a request body as undici would write it: none, a string, bytes, or an iterable of chunks
 * (fetch's async generator, a stream); `done` gets its bytes (what could be read, if reading failed).
 */
function readBody(body: unknown, done: (b: Buffer) => void): void {
  const chunk = (c: unknown): Buffer =>
    typeof c === 'string' ? Buffer.from(c) : c instanceof Uint8Array ? Buffer.from(c.buffer, c.byteOffset, c.byteLength) : Buffer.alloc(0);
  if (body === null || body === undefined) return queueMicrotask(() => done(Buffer.alloc(0)));
  if (typeof body === 'string' || body instanceof Uint8Array) return queueMicrotask(() => done(chunk(body)));
  const iterable = body as { [Symbol.asyncIterator]?: () => AsyncIterator<unknown>; [Symbol.iterator]?: () => Iterator<unknown> };
  if (typeof iterable[Symbol.asyncIterator] !== 'function' && typeof iterable[Symbol.iterator] !== 'function')
    return queueMicrotask(() => done(Buffer.alloc(0)));
  const parts: Buffer[] = [];
  void (async () => {
    try {
      for await (const c of iterable as AsyncIterable<unknown>) parts.push(chunk(c));
    } catch {
      // The program's stream failed: what was read is what the server would have got.
    }
    done(Buffer.concat(parts));
  })();
}

/** What the answer needs of the request. */
interface Asked {
  url: string;
  method: string;
  headers: unknown;
  body: Buffer;
  startedAt: number;
  headersTimeout: number;
}

/** Gives the collector's answer through the Request's own steps. */
function answer(t: Tracer, r: UReq, n: Names, a: ReplayAnswer, q: Asked): void {
  const u = new URL(q.url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port) || (u.protocol === 'https:' ? 443 : 80);
  const refused = (address?: string): Error => refusedError(address ?? host, port);
  if (a.act === 'pass') return passThrough(t, r, n, q);
  if (a.act === 'refuse') return void queueMicrotask(() => endWith(r, n, refused()));
  const end: RecordedEnd = a.end ?? { kind: 'completed' };
  switch (end.kind) {
    case 'refused':
      return void queueMicrotask(() => endWith(r, n, refused(a.address)));
    case 'dns':
      return void queueMicrotask(() => endWith(r, n, dnsError(host, end.code)));
    case 'tls':
      return void queueMicrotask(() => endWith(r, n, tlsError(end.code)));
    case 'timeout':
    case 'aborted':
      return hang(t, r, q.headersTimeout);
    case 'reset':
      return respond(t, r, n, a, q, end.afterBodyBytes);
    case 'closed':
      // The server's orderly close: undici's own error for it ("other side closed"), not a reset's.
      return respond(t, r, n, a, q, end.afterBodyBytes ?? 0, () => new SocketError('other side closed'));
    default:
      return respond(t, r, n, a, q, a.bodyCut ? a.body.length : undefined);
  }
}

/**
 * The recorded response: the head, the body (its first `cutAt` bytes and then a reset, for a reset
 * after N bytes or a body the recording's cap cut), the trailers; at once or as recorded. No head
 * recorded: a reset once the request was written.
 */
function respond(
  t: Tracer,
  r: UReq,
  n: Names,
  a: ReplayAnswer,
  q: Asked,
  cutAt: number | undefined,
  cutError: () => Error = resetError,
): void {
  let stopped = false;
  const pump = new Pump(r, n, undefined);
  const abort = abortOf(r, n, () => {
    stopped = true;
    pump.stop();
  });
  // (Not `aborted`: undici's connection marks a request taken from it so, to skip it.)
  const alive = (): boolean => r.completed !== true && !stopped;
  call(r, n.connect, abort, null);
  // The body went out whole: undici's own step (its `bodySent` channel, for the hooks).
  call(r, 'onRequestSent');
  const head = a.response;
  if (head === undefined) return void orig.setImmediate(() => endWith(r, n, cutError()));
  const body = cutAt !== undefined ? a.body.subarray(0, cutAt) : a.body;
  const steps = answerSteps(
    a.timing,
    bodyParts(body, a.timing),
    () => {
      if (!alive()) return;
      call(r, 'onResponseStarted');
      const pairs = head.headers.filter(([name]) => !name.startsWith(':'));
      call(r, n.headers, head.status, headerViews(pairs), pump.resume, head.statusText ?? reasonOf(head.status));
    },
    (b) => {
      if (alive()) pump.push(b);
    },
    () => {
      if (!alive()) return;
      if (cutAt !== undefined) pump.end(() => orig.setImmediate(() => endWith(r, n, cutError())));
      else pump.end(() => call(r, n.complete, a.trailers?.length ? headerViews(a.trailers) : []));
    },
  );
  try {
    runPaced(q.startedAt, steps, alive);
  } catch (err) {
    warnOnce(t, err);
  }
}

let claimNext = false;
let watching = false;

/**
 * The connections undici opens under a replay are held (never reaching the network) and completed
 * at once, idle (the replayed requests were taken from them): `undici:client:beforeConnect` comes
 * just before undici's connector creates the socket, in the same synchronous run. The replay's own
 * pass-through Agent's connector (replayPass.ts) is left alone.
 */
export function watchUndiciConnects(isOwn: (connector: unknown) => boolean): void {
  if (watching) return;
  watching = true;
  subscribe('undici:client:beforeConnect', (msg) => {
    if (isOwn((msg as { connector?: unknown } | null)?.connector)) return;
    claimNext = true;
    queueMicrotask(() => (claimNext = false));
  });
}

/** True (once) when the socket connecting now is one undici opens under the replay. */
export function takeUndiciClaim(): boolean {
  const claimed = claimNext;
  claimNext = false;
  return claimed;
}

let warned = false;
function warnOnce(t: Tracer, err: unknown): void {
  if (warned) return;
  warned = true;
  try {
    t.warn(`nettrace: the replay could not act on a fetch/undici request: ${String((err as Error)?.message ?? err)}`);
  } catch {
    // The transport never throws.
  }
}
