/**
 * `--replay-unmatched pass` for fetch/undici (docs/replay.md): a request the recording has no
 * answer for was taken from its connection (replayUndici.ts) and is sent for real through an undici
 * Agent of the replay's own — the class of the program's global dispatcher, so fetch's own undici —
 * whose connections its own connector makes (so the replay does not hold them) with plain
 * `net`/`tls` connects. The answer is handed to the program's request through its own steps, as a
 * replayed one is. Its TLS options are the defaults (a server whose certificate only the program's
 * own `connect` options trust fails as it would without them). Never throws into the program.
 */

import type { Tracer } from '../tracer';
import { abortOf, call, endWith, Pump, type Names, type UReq } from '../undici/undiciWhatIf';
import { headerViews } from '../undici/undiciWhatIfHead';

type Connector = (opts: Record<string, unknown>, cb: (err: Error | null, socket?: unknown) => void) => unknown;
type Dispatcher = { dispatch(opts: Record<string, unknown>, handler: object): boolean };

let agent: Dispatcher | null | undefined;
/** The Agent is undici 8's (Node 26's fetch): its handlers take a controller and header objects. */
let agent8 = false;
let connector: Connector | undefined;
/** Inside the replay's own dispatch: the request undici creates now is the pass-through's (the hooks leave it alone). */
let dispatching = 0;

/** True while the replay's Agent dispatches (its request is not the program's: neither recorded nor replayed). */
export function passingThrough(): boolean {
  return dispatching > 0;
}

/** Inside the replay's own connector: the socket connecting now is its own (not held). */
let dialing = 0;

/** True for the replay's own connector (its connections are not held). */
export function isOwnConnector(c: unknown): boolean {
  return c !== undefined && c === connector;
}

/** True while the replay's own connector connects (undici may hand its connector on wrapped). */
export function ownDialing(): boolean {
  return dialing > 0;
}

/** The connector of the replay's Agent: a plain connect (TLS for https), with undici's callback. */
function connect(opts: Record<string, unknown>, cb: (err: Error | null, socket?: unknown) => void): unknown {
  const net = require('node:net') as typeof import('node:net');
  const tls = require('node:tls') as typeof import('node:tls');
  const https = opts.protocol === 'https:';
  const host = String(opts.hostname ?? opts.host ?? 'localhost').replace(/^\[|\]$/g, '');
  const port = Number(opts.port) || (https ? 443 : 80);
  const servername = typeof opts.servername === 'string' && opts.servername !== '' ? opts.servername : net.isIP(host) ? undefined : host;
  let socket: import('node:net').Socket;
  dialing++;
  try {
    socket = https
      ? tls.connect({ host, port, ...(servername ? { servername } : {}), ALPNProtocols: ['http/1.1'] })
      : net.connect({ host, port });
  } finally {
    dialing--;
  }
  socket.setNoDelay(true);
  const fail = (err: Error): void => cb(err);
  socket.once('error', fail);
  socket.once(https ? 'secureConnect' : 'connect', () => {
    socket.off('error', fail);
    cb(null, socket);
  });
  return socket;
}

/**
 * The replay's Agent, made once from the global dispatcher's class (undici 8's when Node has one:
 * `undici.globalDispatcher.2`, beside the version-1 one it keeps for older undici); null when there
 * is none to make one from (then it is tried again at the next request).
 */
function passAgent(): Dispatcher | null {
  if (agent) return agent;
  const g = globalThis as Record<symbol, unknown>;
  for (const [key, v8] of [
    ['undici.globalDispatcher.2', true],
    ['undici.globalDispatcher.1', false],
  ] as const) {
    const Agent = (g[Symbol.for(key)] as { constructor?: unknown } | undefined)?.constructor;
    if (typeof Agent !== 'function') continue;
    try {
      connector = connect;
      agent = new (Agent as new (o: object) => Dispatcher)({ connect: connector });
      agent8 = v8;
      return agent;
    } catch {
      // Not an Agent's class (a program's own dispatcher): the next one.
    }
  }
  return null;
}

/** Header pairs from undici's handler arguments: a flat list of Buffers (legacy), or an object of values. */
function pairsOf(h: unknown): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (Array.isArray(h)) for (let i = 0; i + 1 < h.length; i += 2) out.push([String(h[i]), String(h[i + 1])]);
  else if (h && typeof h === 'object')
    for (const [k, v] of Object.entries(h as Record<string, unknown>))
      for (const one of Array.isArray(v) ? v : [v]) out.push([k, String(one)]);
  return out;
}

/** Sends the program's request `r` for real through the replay's Agent, its answer handed to `r`. */
export function passThrough(t: Tracer, r: UReq, n: Names, q: { url: string; method: string; headers: unknown; body: Buffer }): void {
  const dispatcher = passAgent();
  if (dispatcher === null) {
    t.warn(
      'nettrace: a fetch/undici request the recording has no answer for could not be sent to the network (no undici Agent to send it with)',
    );
    return void queueMicrotask(() =>
      endWith(r, n, Object.assign(new Error('the replay could not send it to the network'), { code: 'ECONNREFUSED' })),
    );
  }
  const u = new URL(q.url);
  const pump = new Pump(r, n, undefined, () => resumeReal?.());
  let abortReal: ((e?: Error) => void) | undefined;
  let resumeReal: (() => void) | undefined;
  const abort = abortOf(r, n, () => {
    pump.stop();
    abortReal?.();
  });
  let connected = false;
  const onConnect = (): void => {
    if (connected) return;
    connected = true;
    call(r, n.connect, abort, null);
    call(r, 'onRequestSent');
  };
  const head = (status: number, headers: unknown, text: unknown): void => {
    onConnect();
    call(r, 'onResponseStarted');
    call(r, n.headers, status, headerViews(pairsOf(headers)), pump.resume, typeof text === 'string' ? text : '');
  };
  const data = (chunk: unknown): boolean => pump.push(Buffer.from(chunk as Uint8Array));
  const done = (trailers: unknown): void => {
    const pairs = pairsOf(trailers);
    pump.end(() => call(r, n.complete, pairs.length ? headerViews(pairs) : []));
  };
  const failed = (err: Error): void => {
    pump.stop();
    endWith(r, n, err);
  };
  const handler = {
    // undici 6 and 7 (raw header lists).
    onConnect: (a: (e?: Error) => void) => void (abortReal = a),
    onHeaders: (status: number, raw: unknown, resume: () => void, text: unknown) => {
      resumeReal = resume;
      head(status, raw, text);
      return true;
    },
    onData: (chunk: unknown) => data(chunk),
    onComplete: (trailers: unknown) => done(trailers),
    onError: (err: Error) => failed(err),
    onUpgrade: () => failed(new Error('the replay does not pass upgrades to the network')),
  };
  const handler8 = {
    // undici 8 (Node 26): a controller and header objects.
    onRequestStart: (c: { abort(e?: Error): void }) => void (abortReal = (e) => c.abort(e)),
    onResponseStart: (c: { resume(): void }, status: number, headers: unknown, text: unknown) => {
      resumeReal = () => c.resume();
      head(status, headers, text);
    },
    onResponseData: (c: { pause(): void }, chunk: unknown) => {
      if (!data(chunk)) c.pause();
    },
    onResponseEnd: (_c: unknown, trailers: unknown) => done(trailers),
    onResponseError: (_c: unknown, err: Error) => failed(err),
  };
  const headers = pairsOf(q.headers).filter(([k]) => !/^(host|content-length|transfer-encoding|connection)$/i.test(k));
  dispatching++;
  try {
    dispatcher.dispatch(
      {
        origin: u.origin,
        path: u.pathname + u.search,
        method: q.method,
        headers: headers.flat(),
        ...(q.body.length > 0 ? { body: q.body } : {}),
      },
      agent8 ? handler8 : handler,
    );
  } catch (err) {
    failed(err as Error);
  } finally {
    dispatching--;
  }
}
