/**
 * Which Node debug sessions Net Trace traces when `nettrace.traceNodeSessions` is "all", and why
 * the others are not (said in the status bar tooltip and the panel). Pure (no `vscode`), so
 * test/unit/nodeSessions.test.mjs runs it in plain Node; traceAllNode.ts is the VS Code side.
 *
 * A session is traced the way a `nettrace` configuration is: the preload goes first in the
 * launched process's NODE_OPTIONS (launchConfig.ts injectTracing), so the program's children and
 * workers inherit it. js-debug starts one child debug session per process it attaches to (their
 * configurations carry `__pendingTargetId`); those processes already have the preload from their
 * parent's environment, so a child session is never injected again.
 */

import { DETACH_SYMBOL, PRELOAD_GUARD } from '../protocol/preload';
import { pathOf, pathSystem, type PathSystem } from '../trace/formats/filePath';
import { recordReplayAttributes } from './replayLaunch';
import { launchTracing, type LaunchTracing, type NodeLaunchConfig, type OptionErrorHandler, type TracingDefaults } from './launchConfig';

/** The values of `nettrace.traceNodeSessions`. */
export type TraceNodeSessions = 'netTraceOnly' | 'all';

/** The setting's name, without the `nettrace.` prefix. */
export const TRACE_NODE_SESSIONS_SETTING = 'traceNodeSessions';

/** The debugger types of js-debug's Node sessions that "all" traces. */
export const NODE_SESSION_TYPES: readonly string[] = ['node', 'pwa-node', 'node-terminal'];

/** The setting's value, `netTraceOnly` for anything else. */
export function traceNodeSessionsMode(value: unknown): TraceNodeSessions {
  return value === 'all' ? 'all' : 'netTraceOnly';
}

/** What to do with one Node debug configuration. */
export type NodeSessionPlan =
  /** Inject the preload: the configuration with its tracing options under `__nettrace`. */
  | { action: 'trace'; config: NodeLaunchConfig }
  /** Attach, then load the preload through the debugger (preloadLoadExpression) with these options. */
  | { action: 'attach'; tracing: LaunchTracing }
  /** Leave it alone, saying nothing (not ours to trace, or traced another way). */
  | { action: 'ignore' }
  /** Launch it unchanged and say why it is not traced (one line: what it is, what would make it traced). */
  | { action: 'notTraced'; reason: string };

/** A debug configuration as VS Code hands it to a provider. */
export type DebugConfig = { type?: string; request?: string; name?: string; [key: string]: unknown };

/**
 * Decides what `nettrace.traceNodeSessions` does with a Node debug configuration after js-debug
 * resolved it (variables substituted). A `nettrace` launch (it carries `__nettrace`) is not
 * decided here: it is traced whatever the setting says, with its own options.
 */
export function planNodeSession(
  config: DebugConfig,
  mode: TraceNodeSessions,
  defaults: TracingDefaults,
  onError?: OptionErrorHandler,
): NodeSessionPlan {
  if (mode !== 'all') return { action: 'ignore' };
  if (!NODE_SESSION_TYPES.includes(String(config.type))) return { action: 'ignore' };
  if (config.__nettrace !== undefined || config.__nettraceSession !== undefined) return { action: 'ignore' };
  // js-debug's session for a process it found: a child or worker of a debugged process
  // (`__pendingTargetId`), or a process started in a JavaScript Debug Terminal (`delegateId`, type
  // node-terminal, request attach). It inherited the preload from its parent's or the terminal's
  // environment, if it has it.
  if (config.__pendingTargetId !== undefined || config.delegateId !== undefined) return { action: 'ignore' };
  const name = config.name ? `"${config.name}"` : 'This session';
  if (config.request === 'attach') {
    const remote = remoteTarget(config);
    if (remote) {
      return {
        action: 'notTraced',
        reason: `${name} attaches to ${remote}, where the Net Trace preload on this machine cannot be loaded: open the workspace there (Remote - SSH, WSL, Dev Containers) so the extension runs beside the program.`,
      };
    }
    return { action: 'attach', tracing: launchTracing({}, defaults, onError) };
  }
  if (config.request !== 'launch') return { action: 'ignore' };
  const runtime = runtimeName(config.runtimeExecutable);
  const foreign = runtime && FOREIGN_RUNTIMES.find((r) => r.match.test(runtime));
  if (foreign) {
    return {
      action: 'notTraced',
      reason: `${name} runs ${foreign.label}, ${foreign.why}: run the program with Node.js to trace it.`,
    };
  }
  if (typeof config.remoteRoot === 'string' && config.remoteRoot !== '') {
    return {
      action: 'notTraced',
      reason: `${name} runs on a remote target (remoteRoot), where the Net Trace preload on this machine cannot be loaded: open the workspace there (Remote - SSH, WSL, Dev Containers) so the extension runs beside it.`,
    };
  }
  // The user's own configuration may record or replay as a `nettrace` one does (replayLaunch.ts).
  const tracing = launchTracing(recordReplayAttributes(config), defaults, onError);
  return {
    action: 'trace',
    config: { ...(config as NodeLaunchConfig), type: String(config.type), request: 'launch', __nettrace: tracing },
  };
}

/** The remote side of an attach configuration ("host x", "a remote file system"), undefined when local. */
function remoteTarget(config: DebugConfig): string | undefined {
  const address = typeof config.address === 'string' ? config.address.trim().toLowerCase() : '';
  if (address && !['localhost', '127.0.0.1', '::1', '[::1]'].includes(address)) return `a process on ${config.address as string}`;
  if (typeof config.remoteRoot === 'string' && config.remoteRoot !== '') return 'a process on a remote file system (remoteRoot)';
  return undefined;
}

/** Runtimes that are not Node.js and ignore, or reject, `--require` in NODE_OPTIONS. */
const FOREIGN_RUNTIMES: ReadonlyArray<{ match: RegExp; label: string; why: string }> = [
  { match: /^deno$/i, label: 'Deno', why: 'which does not load Node preloads from NODE_OPTIONS' },
  { match: /^bun$/i, label: 'Bun', why: 'which does not load Node preloads from NODE_OPTIONS' },
  {
    match: /^electron$/i,
    label: 'an Electron main process',
    why: 'which rejects --require in NODE_OPTIONS (Electron allows only a few Node options there)',
  },
];

/** The base name of a runtimeExecutable without extension ("node", "npm", "deno"), lower case; undefined when none. */
export function runtimeName(runtimeExecutable: unknown): string | undefined {
  if (typeof runtimeExecutable !== 'string' || runtimeExecutable.trim() === '') return undefined;
  const base = runtimeExecutable.trim().split(/[\\/]/).pop() ?? '';
  return base.replace(/\.(exe|cmd|bat|sh)$/i, '').toLowerCase();
}

/**
 * js-debug's session for a process it attached to on its own, outside any launch: auto attach
 * (`debug.javascript.autoAttachFilter`) in an ordinary terminal, or a JavaScript Debug Terminal's
 * process (both are `node-terminal` attach sessions with a `delegateId`). Whether the process has
 * the preload is known only by asking it (FOUND_PROCESS_PROBE).
 */
export function isFoundProcessSession(config: DebugConfig): boolean {
  return config.type === 'node-terminal' && config.request === 'attach' && config.delegateId !== undefined;
}

/**
 * FOUND_PROCESS_PROBE's answer while Node is still starting (`process.argv` not set yet): ask
 * again. Node's inspector answers an evaluate from the start of a process run with `--inspect`,
 * before its bootstrap set `process.argv` up.
 */
export const PROCESS_STARTING = 'nettrace: the process is still starting';

/**
 * The JavaScript evaluated through the debugger in a found process (isFoundProcessSession): its
 * pid, whether it is traced already (the preload loaded, or a NETTRACE_CONFIG in its environment:
 * a traced debug terminal's or launch's process, or one under `nettrace run`), its script. Read by
 * parseFoundProcess; never throws into the program.
 */
export const FOUND_PROCESS_PROBE = `(() => {
  try {
    const p = globalThis.process;
    if (!Array.isArray(p.argv)) return ${JSON.stringify(PROCESS_STARTING)};
    const traced = globalThis[Symbol.for(${JSON.stringify(PRELOAD_GUARD)})] || typeof p.env.NETTRACE_CONFIG === 'string';
    return 'nettrace: found pid ' + p.pid + (traced ? ' traced ' : ' untraced ') + encodeURIComponent(p.argv[1] || '');
  } catch (err) {
    return 'nettrace: ' + (err && err.message || err);
  }
})()`;

/** A found process as FOUND_PROCESS_PROBE answered: pid, whether traced already, its script (may be empty). */
export interface FoundProcess {
  pid: string;
  traced: boolean;
  script: string;
}

/** FOUND_PROCESS_PROBE's answer (the REPL may quote it); undefined for any other text. */
export function parseFoundProcess(text: string): FoundProcess | undefined {
  const m = /nettrace: found pid (\d+) (traced|untraced) ([^\s'"]*)/.exec(text);
  if (!m) return undefined;
  let script = m[3]!;
  try {
    script = decodeURIComponent(script);
  } catch {
    // a malformed escape: kept as it came
  }
  return { pid: m[1]!, traced: m[2] === 'traced', script };
}

/**
 * The label of a found process's trace: `node <script>` (relative to the workspace folder when
 * inside it; the command line's other arguments are left out, they may hold secrets) and how it
 * was attached, e.g. `node app.js (auto attach, from the attach on)`.
 */
export function foundProcessLabel(found: FoundProcess, workspaceFolder?: string, system: PathSystem = pathSystem()): string {
  let script = found.script;
  if (workspaceFolder && script) {
    const path = pathOf(system);
    const rel = path.relative(workspaceFolder, script);
    if (rel && !rel.startsWith('..') && !path.isAbsolute(rel)) script = rel.split(path.sep).join('/');
  }
  const command = script ? `node ${script}` : `node (pid ${found.pid})`;
  return `${command} (auto attach, from the attach on)`;
}

/** What the attach expression returns once the preload loaded: this prefix and the process id (then the inspector's URL). */
export const ATTACH_LOADED = 'nettrace: tracing from now in pid ';

/**
 * What preloadLoadExpression returns while its load waits for the event loop: nothing loaded yet,
 * ask again (the next answer is the load's). Workaround for how Node's inspector runs an evaluate:
 * as an interrupt of whatever JavaScript the process is running, which may be Node's own start (a
 * process started with `--inspect`, such as a child js-debug attaches to at once, answers before
 * its start is over) or a built-in module halfway through loading (the program's first
 * `http.get`). A `require()` of the preload there killed the process (ERR_INTERNAL_ASSERTION in
 * Node's setupUserModules), failed ("testEnabled is not a function", "setDispatchBufferFull is not
 * a function"), or loaded against a half-made `net` ("Class extends value undefined": tracing off,
 * the process untraced). From `setImmediate` the load runs between two turns of the loop.
 */
export const STILL_STARTING = 'nettrace: the preload loads at the next turn of the event loop';

/** The global (by Symbol.for) holding the answer of preloadLoadExpression's load, '' while it waits; taken away on detach. */
const LOAD_ANSWER = 'nettrace.attachLoadAnswer';

/** What preloadLoadExpression's loaded answer ends with when the process had not started its program yet (heldBeforeProgram). */
export const BEFORE_PROGRAM = ' before the program started';

/** A loaded answer of preloadLoadExpression (see parseAttachLoaded). */
export interface AttachLoaded {
  pid: string;
  /** The process's inspector WebSocket URL. */
  inspector?: string;
  /** The preload loaded before the program's code ran (held by js-debug's bootloader): the trace misses nothing. */
  beforeProgram?: boolean;
}

/** A loaded answer of preloadLoadExpression; undefined for any other answer. */
export function parseAttachLoaded(text: string): AttachLoaded | undefined {
  // Unanchored: js-debug's REPL answers with the string quoted.
  const m = new RegExp(`${ATTACH_LOADED}(\\d+)(?: \\(inspector (ws://[^\\s)]+)\\))?(${BEFORE_PROGRAM})?`).exec(text);
  if (!m) return undefined;
  const loaded: AttachLoaded = { pid: m[1]!, inspector: m[2] };
  if (m[3]) loaded.beforeProgram = true;
  return loaded;
}

/**
 * The trace warning for a preload loaded through the debugger into `loaded.pid` when `name`
 * attached, at `at`: tracing started mid-run, so what came before is missing. None when the
 * process had not started its program yet (`beforeProgram`): nothing came before.
 */
export function midRunNote(loaded: AttachLoaded, name: string, at: Date): string | undefined {
  if (loaded.beforeProgram) return undefined;
  return `tracing started mid-run at ${at.toISOString()} in pid ${loaded.pid}: loaded through the debugger when "${name}" attached; requests made before are not in the trace, and connections opened before have no dial record`;
}

/**
 * The JavaScript that loads the preload into a running process through the debugger (an attach
 * session's `evaluate`): NETTRACE_CONFIG is set for the preload's first read (with `attached`:
 * the trace's end detaches it), then restored, so the program's environment (and its later
 * children's) is as it was. `require` comes from
 * `process.getBuiltinModule('node:module').createRequire` (Node 20.16+, 22.3+; CommonJS and ESM
 * programs alike), else the main module's, else the inspector console's; a preload detached
 * earlier is evaluated afresh. It returns `ATTACH_LOADED` + pid + ` (inspector <url>)` (see
 * parseAttachLoaded), or a line saying why nothing was loaded; the load itself runs from
 * `setImmediate` (STILL_STARTING is answered until then: ask again), except in a process held
 * before its program (heldBeforeProgram, below): loaded at once there, and the answer ends with
 * BEFORE_PROGRAM. It never throws into the program (the preload itself loads at most once per
 * thread).
 */
export function preloadLoadExpression(preloadPath: string, config: object): string {
  const path = JSON.stringify(preloadPath);
  const json = JSON.stringify(JSON.stringify({ ...config, attached: true }));
  return `(() => {
  const p = globalThis.process;
  const ANSWER = Symbol.for(${JSON.stringify(LOAD_ANSWER)});
  try {
    const guard = globalThis[Symbol.for(${JSON.stringify(PRELOAD_GUARD)})];
    const answer = Object.getOwnPropertyDescriptor(globalThis, ANSWER);
    if (answer && !answer.value) return ${JSON.stringify(STILL_STARTING)};
    // The load's answer is told once (a later ask hears "already loaded"); a loaded answer whose preload detached since is stale.
    if (answer) delete globalThis[ANSWER];
    if (answer && (guard || !answer.value.startsWith(${JSON.stringify(ATTACH_LOADED)}))) return answer.value;
    if (guard) return 'nettrace: this process already loaded the preload (started with it)';
    if (heldBeforeProgram()) {
      const loaded = load();
      return loaded.startsWith(${JSON.stringify(ATTACH_LOADED)}) ? loaded + ${JSON.stringify(BEFORE_PROGRAM)} : loaded;
    }
    Object.defineProperty(globalThis, ANSWER, { value: '', configurable: true, enumerable: false });
    setImmediate(() => Object.defineProperty(globalThis, ANSWER, { value: load(), configurable: true, enumerable: false }));
    return ${JSON.stringify(STILL_STARTING)};
  } catch (err) {
    return 'nettrace: ' + (err && err.message || err);
  }
  // Whether js-debug's bootloader holds this process before its program: the bootloader (a
  // --require preload of every process js-debug starts or auto-attaches to) calls
  // inspector.waitForDebugger(), which runs the debugger's messages, this evaluate among them,
  // until the debugger releases it. This function's stack then runs down through that call (the
  // waitForDebugger frame of node:inspector) into Node's loading of the preload modules
  // (loadPreloadModules): the program's main module has not started, nothing was requested, and
  // the preload loads at once, as the preload module after the bootloader (as a launch loads it),
  // so the program's first requests are traced too. Both frames are asked for: a program may call
  // waitForDebugger itself. The event loop not started yet (performance.nodeTiming.loopStart, -1
  // until then) is asked for too, after the frames: the global \`performance\` loads perf_hooks at
  // its first read, and this runs as an interrupt, maybe while Node is loading one of its modules
  // (the program's \`require('node:http')\` loads internal/perf/observe): read then, it failed
  // ("setDispatchBufferFull is not a function") and nothing was loaded. Any doubt (other frame
  // names in another Node) is "no": loaded at the next turn of the loop, with the mid-run note.
  function heldBeforeProgram() {
    const limit = Error.stackTraceLimit;
    const prepare = Error.prepareStackTrace;
    let held = false;
    try {
      Error.stackTraceLimit = 200;
      Error.prepareStackTrace = undefined;
      const stack = String(new Error().stack);
      held = /waitForDebugger[^\\n]*\\(node:inspector[:)]/.test(stack) && /\\b(loadPreloadModules|_preloadModules)\\b/.test(stack);
    } catch {
      return false;
    } finally {
      Error.stackTraceLimit = limit;
      Error.prepareStackTrace = prepare;
    }
    if (!held) return false;
    const timing = globalThis.performance && globalThis.performance.nodeTiming;
    return !!timing && timing.loopStart === -1;
  }
  function load() {
  try {
    const m = p.getBuiltinModule && p.getBuiltinModule('node:module');
    const req = m ? m.createRequire(${path}) : p.mainModule ? p.mainModule.require.bind(p.mainModule) : typeof require === 'function' ? require : undefined;
    if (!req) return 'nettrace: no require() in this process';
    if (req.cache) delete req.cache[req.resolve(${path})];
    const had = Object.prototype.hasOwnProperty.call(p.env, 'NETTRACE_CONFIG');
    const old = p.env.NETTRACE_CONFIG;
    p.env.NETTRACE_CONFIG = ${json};
    try { req(${path}); } finally { if (had) p.env.NETTRACE_CONFIG = old; else delete p.env.NETTRACE_CONFIG; }
    let url;
    try { url = req('node:inspector').url(); } catch {}
    return ${JSON.stringify(ATTACH_LOADED)} + p.pid + (url ? ' (inspector ' + url + ')' : '');
  } catch (err) {
    return 'nettrace: ' + (err && err.message || err);
  }
  }
})()`;
}

/** What preloadDetachExpression returns once the preload was detached: this prefix and the process id. */
export const DETACHED = 'nettrace: detached from pid ';

/**
 * The JavaScript that takes the preload out of a process it was loaded into (the preload's
 * DETACH_SYMBOL function, src/preload/detach.ts): evaluated through the process's inspector when
 * the attach session ends. Returns `DETACHED` + pid + the report as JSON, or a line saying there
 * was nothing to detach; never throws into the program.
 */
export function preloadDetachExpression(reason: string): string {
  return `(() => {
  try {
    const detach = globalThis[Symbol.for(${JSON.stringify(DETACH_SYMBOL)})];
    delete globalThis[Symbol.for(${JSON.stringify(LOAD_ANSWER)})];
    if (typeof detach !== 'function') return 'nettrace: no preload to detach in pid ' + process.pid;
    return ${JSON.stringify(DETACHED)} + process.pid + ' ' + JSON.stringify(detach(${JSON.stringify(reason)}));
  } catch (err) {
    return 'nettrace: ' + (err && err.message || err);
  }
})()`;
}
