/**
 * Where the program defined a function: the route handler of an incoming request
 * (`incomingRequests[].handler`, docs/trace-format.md). V8 knows each function's position
 * (`[[FunctionLocation]]`), but only its inspector tells it, so the first time a function is asked
 * about, an in-process inspector session (`node:inspector`, connected once per thread) reads it
 * with `Runtime.getProperties`. The position names its script by id; the scripts' URLs come from
 * the `Debugger.scriptParsed` notifications that `Debugger.enable` replays for every script,
 * the domain disabled again at once, in the same synchronous call (no breakpoint is set, nothing
 * can pause, and a debugger the user attached has its own session, untouched). V8's best-effort
 * coverage, which lists scripts without enabling anything, leaves out a script none of whose
 * functions has run hot enough yet, so it cannot stand in.
 *
 * Cost, paid where handlerLines.ts calls it (a timer after the response, not the request's path),
 * once per function: ≈ 0.2 ms, plus for a function in a script not seen yet one enable/disable
 * (≈ 10–70 ms in a program with a framework loaded: V8 collects the source positions of every
 * function the first time a debugger is enabled; less when one is attached already). At most
 * MAX_FUNCTIONS functions and MAX_SCRIPT_READS reads per thread. A function whose position cannot
 * be read (bound to nothing readable, native, in a script without a URL, no inspector in this
 * Node) or that is not the program's (a library's, Node's) has none: nothing is guessed.
 */

import { fileURLToPath } from 'node:url';
import type { StackFrame } from '../../trace/contract/incoming';
import { isProgramFile } from '../initiator/stackCapture';

/** Distinct functions looked up per thread; later ones get no position. */
const MAX_FUNCTIONS = 1000;
/** Reads of the scripts' URLs per thread. */
const MAX_SCRIPT_READS = 10;

/** What `inspector.Session` offers that is used here. */
interface InspectorSession {
  connect(): void;
  disconnect(): void;
  on(event: string, listener: (msg: { params?: { scriptId?: unknown; url?: unknown } }) => void): void;
  off(event: string, listener: (msg: { params?: { scriptId?: unknown; url?: unknown } }) => void): void;
  post(method: string, params: object | undefined, callback: (err: Error | null, result?: unknown) => void): void;
}

interface RemoteObject {
  objectId?: string;
  value?: unknown;
}
interface PropertyDescriptor {
  name: string;
  value?: RemoteObject;
}

/** Positions of functions in the program's files, read through an in-process inspector session. */
export class FunctionSites {
  /** undefined: not connected yet; null: no inspector here (or it failed). */
  private session: InspectorSession | null | undefined;
  /** The object through which a function is handed to the inspector (its `fn`), and its remote id. */
  private readonly holder: { fn?: Function } = {};
  private holderId: string | undefined;
  private readonly sites = new WeakMap<Function, StackFrame | null>();
  private looked = 0;
  private readonly urls = new Map<string, string>();
  private scriptReads = 0;

  constructor(private readonly ownFile: string) {}

  /**
   * The position of `fn` as a stack frame of the program (1-based line and column of its
   * definition, generated position: before any source map), or null when it is not the program's
   * (a library's, Node's) or cannot be read.
   */
  site(fn: Function): StackFrame | null {
    const known = this.sites.get(fn);
    if (known !== undefined) return known;
    let site: StackFrame | null = null;
    if (this.looked < MAX_FUNCTIONS) {
      this.looked++;
      try {
        site = this.read(fn);
      } catch {
        site = null;
      }
    }
    this.sites.set(fn, site);
    return site;
  }

  private read(fn: Function): StackFrame | null {
    const s = this.connect();
    if (!s || this.holderId === undefined) return null;
    this.holder.fn = fn;
    // Every remote object a call hands out (the function, its prototype, its scopes) stays in the
    // holder's object group until released: each is released once read.
    const made: string[] = [];
    let fnId: string | undefined;
    try {
      const own = post<{ result: PropertyDescriptor[] }>(s, 'Runtime.getProperties', { objectId: this.holderId, ownProperties: true });
      remoteIds(own.result, made);
      fnId = own.result.find((p) => p.name === 'fn')?.value?.objectId;
    } finally {
      this.holder.fn = undefined;
    }
    if (fnId === undefined) return release(s, made);
    let where: { scriptId?: unknown; lineNumber?: unknown; columnNumber?: unknown } | undefined;
    try {
      let internal = internalOf(s, fnId, made);
      // A bound function (Fastify binds route handlers to their instance): the function it calls.
      const target = internal?.find((p) => p.name === '[[TargetFunction]]')?.value?.objectId;
      if (target !== undefined) internal = internalOf(s, target, made);
      where = internal?.find((p) => p.name === '[[FunctionLocation]]')?.value?.value as typeof where;
    } finally {
      release(s, made);
    }
    if (!where || typeof where.scriptId !== 'string' || typeof where.lineNumber !== 'number') return null;
    const url = this.scriptUrl(s, where.scriptId);
    if (url === undefined) return null;
    const file = url.startsWith('file:') ? fileURLToPath(url) : url;
    if (!isProgramFile(file, this.ownFile)) return null;
    const frame: StackFrame = {
      file,
      line: where.lineNumber + 1,
      column: (typeof where.columnNumber === 'number' ? where.columnNumber : 0) + 1,
    };
    const name = Object.getOwnPropertyDescriptor(fn, 'name')?.value as unknown;
    const plain = typeof name === 'string' ? name.replace(/^(?:bound )+/, '') : '';
    if (plain !== '') frame.function = plain;
    return frame;
  }

  /** Closes the inspector session (the preload detached); later lookups find nothing. */
  close(): void {
    const s = this.session;
    this.session = null;
    try {
      s?.disconnect();
    } catch {
      // Already gone.
    }
  }

  /** The URL of a script by its id (the scripts read again when it is not known yet). */
  private scriptUrl(s: InspectorSession, scriptId: string): string | undefined {
    const known = this.urls.get(scriptId);
    if (known !== undefined || this.scriptReads >= MAX_SCRIPT_READS) return known;
    this.scriptReads++;
    const urls = this.urls;
    const parsed = (msg: { params?: { scriptId?: unknown; url?: unknown } }): void => {
      const p = msg.params;
      if (typeof p?.scriptId === 'string' && typeof p.url === 'string' && p.url !== '') urls.set(p.scriptId, p.url);
    };
    s.on('Debugger.scriptParsed', parsed);
    try {
      post(s, 'Debugger.enable', {});
    } finally {
      try {
        post(s, 'Debugger.disable', {});
      } finally {
        s.off('Debugger.scriptParsed', parsed);
      }
    }
    return urls.get(scriptId);
  }

  /** The session, connected at the first use, with the holder's remote id. */
  private connect(): InspectorSession | null {
    if (this.session !== undefined) return this.session;
    this.session = null;
    const { Session } = require('node:inspector') as { Session: new () => InspectorSession };
    const s = new Session();
    s.connect();
    // The holder is reachable from the inspector's side only through a global name, for the one
    // evaluation that gets its remote id (kept in an object group: nothing is left on globalThis).
    const key = `__nettraceHolder${process.pid}_${Math.random().toString(36).slice(2)}`;
    Object.defineProperty(globalThis, key, { value: this.holder, configurable: true, enumerable: false, writable: false });
    try {
      const r = post<{ result: RemoteObject }>(s, 'Runtime.evaluate', {
        expression: `globalThis[${JSON.stringify(key)}]`,
        objectGroup: 'nettrace',
        silent: true,
      });
      this.holderId = r.result.objectId;
    } finally {
      delete (globalThis as Record<string, unknown>)[key];
    }
    this.session = s;
    return s;
  }
}

/** The internal properties of a remote object (`[[FunctionLocation]]`, `[[TargetFunction]]`); the ids handed out go to `made`. */
function internalOf(s: InspectorSession, objectId: string, made: string[]): PropertyDescriptor[] | undefined {
  const r = post<{ result?: PropertyDescriptor[]; internalProperties?: PropertyDescriptor[] }>(s, 'Runtime.getProperties', {
    objectId,
    ownProperties: true,
  });
  remoteIds(r.result, made);
  remoteIds(r.internalProperties, made);
  return r.internalProperties;
}

/** Adds the remote object ids of a property list to `ids`. */
function remoteIds(list: PropertyDescriptor[] | undefined, ids: string[]): void {
  if (list) for (const p of list) if (p.value?.objectId !== undefined) ids.push(p.value.objectId);
}

/** Releases remote objects (they would keep the program's objects alive); null, for a lookup that found nothing. */
function release(s: InspectorSession, ids: string[]): null {
  for (const objectId of ids) post(s, 'Runtime.releaseObject', { objectId });
  ids.length = 0;
  return null;
}

/** A synchronous inspector call (an in-process session answers before `post` returns). */
function post<T>(s: InspectorSession, method: string, params: object | undefined): T {
  let out: unknown;
  let error: Error | null = null;
  let answered = false;
  s.post(method, params, (err, result) => {
    answered = true;
    error = err;
    out = result;
  });
  if (error) throw error;
  if (!answered) throw new Error(`${method}: no synchronous answer`);
  return out as T;
}
