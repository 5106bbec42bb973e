/**
 * The program's first use of the network: the moment the loader (loader.ts) runs the preload's
 * body. A process that never makes or serves a request (`node -e 0`, a build script, a test
 * runner's worker that only computes) pays for a `--require`d file, one wrapper of `Module._load`
 * and a few diagnostics channel subscriptions, not for the body (issue 52: ≈ 50 M instructions
 * and 25 ms of CPU per process), and is not in the trace: it made no request.
 *
 * The moment is the first of:
 * - a `require` (Module._load) after which Node has loaded `tls`, `dns`, `http`, `https` or
 *   `http2`, or that asked for `net` (Node loads `net` itself for a pipe or terminal stdout,
 *   which is no use of the network) or for one of the SDKs whose calls the body follows
 *   (sdkPackages.ts: it patches them as they load, and those on `fetch` load no network module);
 * - a message on a channel Node publishes before a request or a connection is made:
 *   `undici:request:create` (the global `fetch`, `WebSocket` and `EventSource`, whose module
 *   Node loads through no `require`), `net.client.socket`, `net.server.socket`,
 *   `http.client.request.created`/`start`, `http.server.request.start` (a module imported
 *   unseen). The body's subscribers, put in place during that message, are handed it: a
 *   subscriber added while a channel publishes is not called for that message (Node 20–26).
 * - a call of the global `fetch` (a trampoline in its place until then, fetchTrampoline: a
 *   `fetch()` to a port fetch blocks publishes nothing).
 *
 * - a `process.getBuiltinModule` of one of those modules (Node 20.16+, 22.3+: no `require`, no channel
 *   before an HTTPS request's `tls.connect`).
 * - in a program that may import ES modules from its start (mayImportAtStart), on Node 24+, an
 *   import of one of those modules or SDKs, seen by a resolve hook (`module.registerHooks`,
 *   watchImports) before Node makes the module's ES module namespace: the body's patches are in
 *   the bindings the program imports.
 *
 * The body runs at once where the program may import ES modules from its start (a worker thread
 * may, always) and Node has no usable `module.registerHooks` (Node 20 and 22: an import goes
 * through nothing seen here, and an HTTPS request made right after reaches `tls.connect` before
 * any of the moments above), when loaded through the debugger (`attached`: the configuration is
 * in the environment only while the loader runs), and when one of those modules was loaded
 * already (a `--require` before ours).
 */

// Not namespace imports: the bundle would copy each module's properties, running their getters
// (`fs.Dir` loads internal/fs/dir on Node 22+), in every process, the body run or not.
const fs = require('node:fs') as typeof import('node:fs');
const path = require('node:path') as typeof import('node:path');
import { moduleLoadObservers } from './moduleLoad';
import { sdkPackageOf } from './initiator/sdkPackages';
import { replaceWith } from './mirror';
import { handOffFlushes } from './handOffWatch';

/** What the body (index.ts) exports to the loader. */
export interface PreloadBody {
  /** Hands `message` of `channel` to the body's subscribers of it. */
  deliver?: (channel: string, message: unknown) => void;
  /** Has `cb` called each time the body is warm (index.ts; the loader's code cache, loader.ts). */
  whenWarm?: (cb: () => void) => void;
}

/** Built-in modules whose load means the program is about to use the network (moduleLoadList entries). */
const NETWORK_IDS = ['tls', 'dns', 'http', 'https', 'http2'];
const NETWORK_MODULES = new Set([...NETWORK_IDS, 'internal/deps/undici/undici'].map((id) => `NativeModule ${id}`));

/** Channels published before a request or connection is made (see above). */
const FIRST_USE_CHANNELS = [
  'undici:request:create',
  'net.client.socket',
  'net.server.socket',
  'http.client.request.created',
  'http.client.request.start',
  'http.server.request.start',
];

/** Where the loader keeps the moment a worker thread's loader ran (`process.hrtime()`), for threadStartedAgo. */
const THREAD_START = Symbol.for('nettrace.threadStart');

/**
 * How long ago (ms) the loader ran in this thread, when it waited for the first use of the
 * network in a worker thread (the body then starts later than the thread: its `startAt` is the
 * thread's start, not the body's); undefined otherwise. `process.hrtime`: Node's monotonic clock,
 * read without loading perf_hooks.
 */
export function threadStartedAgo(): number | undefined {
  const at = (globalThis as Record<symbol, unknown>)[THREAD_START];
  if (!Array.isArray(at)) return undefined;
  const [s, ns] = process.hrtime(at as [number, number]);
  return s * 1e3 + ns / 1e6;
}

/** Node's list of the built-in modules it has loaded ("NativeModule <id>"), by whatever path. */
export function loadList(): string[] {
  return (process as { moduleLoadList?: string[] }).moduleLoadList ?? [];
}

/**
 * Runs `run` (which loads the body) at the program's first use of the network, or at once when it
 * must (`now`, or see above); never throws.
 */
export function runOnFirstUse(run: () => PreloadBody | undefined, now: boolean): void {
  const list = loadList();
  const isMainThread = !list.includes('NativeModule internal/process/worker_thread_only');
  if (now || list.some((m) => NETWORK_MODULES.has(m))) {
    run();
    return;
  }
  const esm = mayImportAtStart(isMainThread);
  if (!isMainThread) Object.defineProperty(globalThis, THREAD_START, { value: process.hrtime(), configurable: true, enumerable: false });
  const dc = require('node:diagnostics_channel') as typeof import('node:diagnostics_channel');
  let done = false;
  const subscribers: Array<[string, (message: unknown) => void]> = [];
  // Set up after `fire`, which may run before the last of them is (the hook finds no registerHooks).
  const watch: { imports?: { stop(): void }; builtin?: { stop(): void }; fetch?: { before(): void; after(): void } } = {};
  const fire = (channel?: string, message?: unknown): void => {
    if (done) return;
    done = true;
    // Unsubscribing while the channel publishes is safe (Node 20–26 call the rest as before).
    try {
      for (const [name, fn] of subscribers) dc.unsubscribe(name, fn);
      watch.imports?.stop();
      watch.builtin?.stop();
      const fetchCall = watch.fetch;
      fetchCall?.before();
      let body: PreloadBody | undefined;
      try {
        body = run();
      } finally {
        fetchCall?.after();
      }
      if (channel !== undefined) body?.deliver?.(channel, message);
    } catch {
      // Nothing is thrown into the program's `require` or publish (the body reports its own failures).
    }
  };
  if (esm) {
    watch.imports = watchImports(() => fire());
    if (watch.imports === undefined) return fire();
  }
  watch.builtin = watchGetBuiltin(() => fire());
  // A child with an IPC channel, a worker: the hand-off's wrappers now, before the program may keep Node's functions (handOffWatch.ts).
  handOffFlushes(isMainThread);
  watch.fetch = fetchTrampoline(() => fire());
  for (const name of FIRST_USE_CHANNELS) {
    const fn = (message: unknown): void => fire(name, message);
    subscribers.push([name, fn]);
    dc.subscribe(name, fn);
  }
  let seen = loadList().length;
  const observers = moduleLoadObservers();
  if (!observers) return fire();
  // Stays in the list once done (a no-op): taken out while the wrapper calls the list, the next
  // observer (the body's first) would be skipped for that load.
  observers.push((request) => {
    if (done) return;
    if (request === 'net' || request === 'node:net' || sdkPackageOf(request) !== undefined) return fire();
    const loaded = loadList();
    for (let i = seen; i < loaded.length; i++) if (NETWORK_MODULES.has(loaded[i]!)) return fire();
    seen = loaded.length;
  });
}

/** The specifiers of NETWORK_MODULES (and `net`, see above) a program imports or gets. */
const NETWORK_SPECIFIERS = new Set([...NETWORK_IDS, 'dns/promises', 'net'].flatMap((id) => [id, `node:${id}`]));

/**
 * Node 24+: a resolve hook (`module.registerHooks`, synchronous and in the thread) that calls
 * `fire` when the program imports (or requires) a network module or an SDK, before Node makes the
 * module's namespace: what the body patches is in the bindings the program imports. `stop` takes
 * the hook out at the next microtask (not while Node runs the chain it is in). Undefined where
 * the hook cannot be used: Node 22's `registerHooks` breaks a program that calls
 * `module.register()` after it (ERR_METHOD_NOT_IMPLEMENTED from `resolveSync`, 22.23, even once
 * deregistered), so Node 20 and 22 run the body at the program's start, as before.
 */
function watchImports(fire: () => void): { stop(): void } | undefined {
  if (Number(process.versions.node.split('.')[0]) < 24) return undefined;
  type Resolve = (specifier: string, context: unknown, next: (specifier: string, context: unknown) => unknown) => unknown;
  const registerHooks = (require('node:module') as { registerHooks?: (hooks: { resolve: Resolve }) => { deregister(): void } })
    .registerHooks;
  if (typeof registerHooks !== 'function') return undefined;
  let seen = false;
  let hooks: { deregister(): void };
  try {
    hooks = registerHooks({
      resolve(specifier, context, next) {
        if (!seen && typeof specifier === 'string' && (NETWORK_SPECIFIERS.has(specifier) || sdkPackageOf(specifier) !== undefined)) {
          seen = true;
          fire();
        }
        return next(specifier, context);
      },
    });
  } catch {
    return undefined;
  }
  return {
    stop() {
      seen = true;
      queueMicrotask(() => {
        try {
          hooks.deregister();
        } catch {
          // Left in place: it only hands every resolution on.
        }
      });
    },
  };
}

/**
 * Wraps `process.getBuiltinModule` (Node 20.16+, 22.3+) until the body runs: getting a network module
 * that way goes through no `require` (and an HTTPS request made with it reaches `tls.connect`
 * before any channel), so after such a call `fire` runs the body, which hooks the module as
 * loaded. The wrapper has the original's own properties; `stop` puts the original back where
 * the program has not replaced it. Undefined where there is no such function.
 */
function watchGetBuiltin(fire: () => void): { stop(): void } | undefined {
  const p = process as { getBuiltinModule?: Function };
  const desc = Object.getOwnPropertyDescriptor(p, 'getBuiltinModule');
  const original = desc?.value as Function | undefined;
  if (desc === undefined || typeof original !== 'function' || desc.writable !== true || desc.configurable !== true) return undefined;
  // A method, as Node's is: no `prototype` of its own.
  const wrapper = {
    getBuiltinModule(this: unknown, id: string): unknown {
      // eslint-disable-next-line prefer-rest-params
      const mod = Reflect.apply(original, this, arguments) as unknown;
      if (typeof id === 'string' && NETWORK_SPECIFIERS.has(id)) fire();
      return mod;
    },
  }.getBuiltinModule;
  replaceWith(p, 'getBuiltinModule', wrapper, original);
  return {
    stop() {
      if (p.getBuiltinModule === wrapper) Object.defineProperty(p, 'getBuiltinModule', desc);
    },
  };
}

/**
 * Puts a trampoline in the global `fetch`'s place until the body runs: a call runs the body
 * (`fire`), then goes on to the fetch the body left there (its wrapper of Node's). A `fetch()` to
 * a port fetch blocks publishes nothing, so as a CommonJS program's first use of the network it
 * would start no body and go unrecorded. The trampoline carries the original's own properties
 * (`name`, `length`); `before` puts Node's fetch back for the body to wrap, `after` points the
 * trampoline (which the program may hold) at what the body left. Undefined when the global fetch
 * is not Node's plain property (Node 20–26 define it writable and configurable, read without
 * loading undici).
 */
function fetchTrampoline(fire: () => void): { before(): void; after(): void } | undefined {
  const g = globalThis as { fetch?: unknown };
  const desc = Object.getOwnPropertyDescriptor(g, 'fetch');
  const original = desc?.value as Function | undefined;
  if (desc === undefined || typeof original !== 'function' || desc.writable !== true || desc.configurable !== true) return undefined;
  let target = original;
  let restored = false;
  // Node's own properties (name `fetch`, length 1, a `prototype`) by its declaration: no copying.
  const trampoline = function fetch(this: unknown, _input: unknown): unknown {
    fire();
    // eslint-disable-next-line prefer-rest-params
    return target.apply(this, arguments as unknown as unknown[]) as unknown;
  };
  Object.defineProperty(g, 'fetch', { ...desc, value: trampoline });
  return {
    before() {
      // Replaced by the program meanwhile (a polyfill, a mock): left as it is.
      if (g.fetch !== trampoline) return;
      Object.defineProperty(g, 'fetch', desc);
      restored = true;
    },
    after() {
      if (restored && typeof g.fetch === 'function') target = g.fetch;
    },
  };
}

/** True when the program may run ES modules from its start (see above): hook eagerly then. */
export function mayImportAtStart(isMainThread: boolean): boolean {
  if (!isMainThread) return true;
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ');
  if (/--(import|loader|experimental-loader|experimental-default-type[= ]module|input-type[= ]module)\b/.test(flags)) return true;
  const entry = process.argv[1];
  if (!entry) {
    // `node -e` / `-p`: Node runs the code as ESM when it has import/export syntax.
    const code = (process as { _eval?: string })._eval;
    return typeof code === 'string' ? hasEsmSyntax(code) : true;
  }
  const file = resolveEntry(entry);
  if (!file) return true;
  const ext = path.extname(file);
  if (ext === '.mjs' || ext === '.mts') return true;
  if (ext === '.cjs' || ext === '.cts') return false;
  const type = packageType(path.dirname(file));
  if (type === 'module') return true;
  if (type === 'commonjs') return false;
  try {
    return hasEsmSyntax(fs.readFileSync(file, 'utf8'));
  } catch {
    return true;
  }
}

/** The entry file as Node would find it (the path, or with `.js`), or undefined. */
function resolveEntry(entry: string): string | undefined {
  const abs = path.resolve(entry);
  for (const candidate of [abs, `${abs}.js`, path.join(abs, 'index.js')]) {
    try {
      if (fs.statSync(candidate).isFile()) return fs.realpathSync(candidate);
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** The `type` of the nearest package.json above `dir`. */
function packageType(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')) as { type?: unknown };
      return typeof pkg.type === 'string' ? pkg.type : undefined;
    } catch {
      /* none here, or unreadable: go up */
    }
    if (path.dirname(d) === d) return undefined;
  }
}

/** import/export statements (or import.meta) at the start of a line: Node would run the file as ESM. */
function hasEsmSyntax(code: string): boolean {
  return /^\s*(import\s*[\w{*'"]|import\.meta|export\s)/m.test(code);
}
