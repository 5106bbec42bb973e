/**
 * The Net Trace preload: loaded into the debuggee (and its child processes and worker threads)
 * with `NODE_OPTIONS=--require "<path>/preload.cjs"`, configured by the JSON in NETTRACE_CONFIG.
 *
 * It must never hurt its host: the whole body is wrapped in try/catch, it loads at most once per
 * thread (a non-enumerable global guard), it does nothing without a valid configuration, it only
 * observes, and it connects to the collector lazily (a process that makes no request opens no
 * pipe). A hook that throws disables itself and reports a warning instead.
 */

import { writeSync as fsWriteSync } from 'node:fs';
import { withPreloadDefaults, type ResolvedPreloadConfig } from '../protocol/options';
import {
  CONFIG_ENV,
  DETACH_SYMBOL,
  PRELOAD_GUARD,
  FLUSH_NOW_SYMBOL,
  type DetachReport,
  type PreloadConfig,
  type StatsMessage,
} from '../protocol/preload';
import { isHex, KEY_BYTES } from '../protocol/collectorProof';
import { installAsyncStarts } from './asyncStarts';
import { installSdkCalls } from './initiator/sdkCalls';
import { installHttp2Hooks } from './http2/http2Hooks';
import { installHttpHooks, installHttpsHooks, subscribeHttpChannels } from './http/httpHooks';
import { installSocketHooks, installTlsHooks, ruleDetailKindsFrom } from './connection/socketHooks';
import { installDnsLookupHook } from './dns/programLookup';
import { threadInfo, whenLoaded } from './builtins';
import { mayImportAtStart, threadStartedAgo } from './firstUse';
import { Tracer } from './tracer';
import { now } from './clock/epoch';
import { Transport } from './transport/transport';
import { bindNet } from './transport/collectorNet';
import { orig } from './transport/collectorNet';
import { installUndiciHooks } from './undici/undiciHooks';
import { flushHandlerLines, installServerHooks } from './server/serverHooks';
import { LOOP_MONITOR_ON, LoopMonitor } from './clock/loopLag';
import { epochOrigin } from './clock/epoch';
import { preloadRules } from './rules/preloadRules';
import { installReplay } from './playback/replay';
import { ensureResolver } from './dns/install';
import { redactArgv, redactedArgNames } from '../trace/contract/redact';
import { replaceFunction } from './tracer';
import { installHandOff } from './handOff';
import { detach, isDetached, onDetach } from './detach';
import { flushOpenRecordings } from './message/recorder';

/** For the loader (loader.ts, firstUse.ts): the message that made it run the body. */
export { deliver } from './detach';

/**
 * The completed requests after which the loader's code cache is made warm (its data made anew
 * each time): the first, for a process that makes a single request; later ones, by when a program
 * has usually taken the paths its first request did not (another client, a connection that
 * closes, a 4xx, a batch of records sent): the functions compiled for them are then in the data
 * later processes read, not compiled again from source in each (issue 65: a vitest worker of
 * fetch, axios and node:http calls, bench/tools/fork-callgrind.mjs).
 */
const WARM_AT = [1, 16, 64];

/** Set by start(): has `cb` called after each of this thread's completed requests counted in WARM_AT. */
let armWarm: ((cb: () => void) => void) | undefined;

/**
 * For the loader (loader.ts, runCached): `cb` is called soon after this thread's first request
 * completed, when the functions of a request's path have been compiled (the code cache made then
 * holds them), and again after the later ones WARM_AT counts, with the paths taken since. Never called in a
 * process that makes no request, or where tracing is off.
 */
export function whenWarm(cb: () => void): void {
  armWarm?.(cb);
}

const GUARD = Symbol.for(PRELOAD_GUARD);

/** Bound before the program runs: a program's patched `fs.writeSync` never sees our messages. */
const writeSync = fsWriteSync;

/**
 * Says why tracing is off on stderr, with the original `fs.writeSync`: not `process.emitWarning`,
 * whose 'warning' event the program may listen to (and, say, exit with a code of its own).
 */
function reportOff(why: string): void {
  try {
    writeSync(2, `nettrace: tracing is off in pid ${process.pid}: ${why}\n`);
  } catch {
    /* nothing more to do */
  }
}

/** NETTRACE_CONFIG with its defaults filled in (src/protocol/options.ts), or undefined when absent or unusable. */
function readConfig(): ResolvedPreloadConfig | undefined {
  const raw = process.env[CONFIG_ENV];
  if (!raw) return undefined;
  let parsed: PreloadConfig;
  try {
    parsed = JSON.parse(raw) as PreloadConfig;
  } catch (err) {
    reportOff(`${CONFIG_ENV} is not valid JSON (${(err as Error)?.message ?? err})`);
    return undefined;
  }
  if (parsed?.collectorKey !== undefined && !isHex(parsed.collectorKey, KEY_BYTES)) {
    // Said without the value: it is a secret.
    reportOff(`${CONFIG_ENV}'s "collectorKey" is not ${KEY_BYTES} bytes in hex`);
    return undefined;
  }
  if (parsed && typeof parsed.ipcPath === 'string' && parsed.ipcPath) return withPreloadDefaults(parsed);
  reportOff(`${CONFIG_ENV} has no "ipcPath"`);
  return undefined;
}

function start(): void {
  const g = globalThis as Record<symbol, unknown>;
  // The loader's FIRST_USE mark (firstUse.ts) is this body's to replace.
  if (g[GUARD] === true) return;
  // Configurable: a detached preload (detach.ts) takes it away, so a later attach can load it again.
  Object.defineProperty(globalThis, GUARD, { value: true, enumerable: false, configurable: true });
  const config = readConfig();
  if (!config) return;
  const { threadId, isMainThread } = threadInfo();
  // A worker's time origin is its process's: its start is now, or when its loader ran if it waited (firstUse.ts).
  const startAt = isMainThread ? epochOrigin : now() - (threadStartedAgo() ?? 0);
  // The command line's secret options (`--db-password=…`, `--token x`) never leave the program.
  const argv = redactArgv(process.argv.slice(0, 32), redactedArgNames(config.redact, config.redactQuery));
  const transport: Transport = new Transport(
    config.ipcPath,
    config.maxQueuedEvents,
    () => ({
      type: 'hello',
      pid: process.pid,
      ppid: process.ppid,
      threadId,
      argv,
      nodeVersion: process.version,
      cwd: safeCwd(),
      startAt,
    }),
    (): StatsMessage => ({
      type: 'stats',
      producedEvents: transport.produced,
      droppedEvents: transport.dropped,
      untracedRequests: t.untracedRequests,
      skippedInitiators: t.stackBudget.skipped || undefined,
      rules: preloadRules.report(),
      droppedLoopBlocks: loop?.dropped || undefined,
    }),
    config.collectorKey,
  );
  transport.collectorPid = typeof config.collectorPid === 'number' ? config.collectorPid : undefined;
  const t: Tracer = new Tracer(config, transport, threadId, __filename);
  // The event loop's blocked stretches while requests are in flight (loopLag.ts).
  const loop = LOOP_MONITOR_ON
    ? new LoopMonitor(
        (m) => transport.send(m),
        () => transport.markStats(),
      )
    : undefined;
  if (loop) t.onRequestId = (id) => loop.started(id);
  const ended = loop ? (id: string) => loop.ended(id) : undefined;
  transport.onComplete = ended;
  armWarm = (cb) => {
    // On a timer of its own (outside the program's call).
    const warmNow = () =>
      orig
        .setTimeout(() => {
          try {
            cb();
          } catch {
            /* the loader's, which never throws */
          }
        }, 0)
        .unref();
    let completed = 0;
    let next = 0;
    transport.onComplete = (id) => {
      ended?.(id);
      if (++completed < WARM_AT[next]!) return;
      // After the last, the loop monitor's alone.
      if (++next === WARM_AT.length) transport.onComplete = ended;
      warmNow();
    };
  };
  startRules(config, threadId, transport, t);
  if (config.dnsTrace) ensureResolver(t);
  if (config.replay !== undefined) installReplay(t); // docs/replay.md: every request answered from the collector's recording
  installHooks(t, config, isMainThread);
  // The collector's proof asked for now, so it is back before the first hand-off or the exit waits for it.
  transport.prove();
  // The flush entry point for a paused debuggee (see FLUSH_NOW_SYMBOL): its timers cannot run.
  Object.defineProperty(globalThis, Symbol.for(FLUSH_NOW_SYMBOL), {
    value: function flushNow(): number {
      return transport.flushNow();
    },
    enumerable: false,
    configurable: true,
    writable: false,
  });
  // Takes Net Trace out of the process (see DETACH_SYMBOL): an attach session's end.
  const detachNow = (reason: unknown): DetachReport => {
    const first = !isDetached();
    if (first)
      t.warn(
        `nettrace: tracing stopped at ${new Date().toISOString()} in pid ${process.pid}: ${String(reason || 'detached')}; the hooks were removed`,
      );
    const report = detach();
    if (first) {
      loop?.stop();
      transport.detach();
      for (const key of [GUARD, Symbol.for(FLUSH_NOW_SYMBOL), Symbol.for(DETACH_SYMBOL)]) delete g[key];
    }
    return report;
  };
  Object.defineProperty(globalThis, Symbol.for(DETACH_SYMBOL), {
    value: function detach(reason?: unknown): DetachReport | undefined {
      try {
        return detachNow(reason);
      } catch {
        return undefined;
      }
    },
    enumerable: false,
    configurable: true,
    writable: false,
  });
  // Loaded through the debugger: the trace's end (its collector gone) detaches it too.
  if (config.attached) transport.onGone = () => detachNow('the trace ended (its collector closed)');
  onExit((code) => {
    try {
      const at = now();
      transport.exiting = true;
      for (const { conn, bytes } of t.openConns) {
        if (conn.connected) t.sendClose(conn, bytes());
      }
      t.resolver?.flush();
      flushHandlerLines(t);
      transport.send({ type: 'exit', exitAt: at, exitCode: typeof code === 'number' ? code : undefined }, true);
      transport.markStats();
      transport.flushSync();
    } catch {
      // Exiting anyway; nothing useful can be done with a failure here.
    }
  });
}

/**
 * Hooks Node's networking modules as the program loads them (builtins.ts): `net` first (tls loads
 * it), with the collector connection's functions bound before any hook or patch; a hook that fails
 * to install is said in a warning and left out.
 */
function installHooks(t: Tracer, config: ResolvedPreloadConfig, isMainThread: boolean): void {
  const installing = (install: (t: Tracer) => void) => () => {
    try {
      install(t);
    } catch (err) {
      t.warn(`nettrace: could not install ${install.name} in pid ${process.pid}: ${(err as Error)?.message ?? err}`);
    }
  };
  const eager = mayImportAtStart(isMainThread);
  whenLoaded(
    'net',
    () => {
      installing(() => bindNet())();
      installing(installSocketHooks)();
    },
    eager,
  );
  whenLoaded('tls', installing(installTlsHooks), eager);
  whenLoaded('dns', installing(installDnsLookupHook), eager);
  whenLoaded('http', installing(installHttpHooks), eager);
  whenLoaded('https', installing(installHttpsHooks), eager);
  installing(subscribeHttpChannels)();
  // Recording or replaying, http2 too is loaded now for ES modules: an `import 'node:http2'` is seen
  // at the next connect (installHttp2Hooks), after a session opening the first connection: unrecorded,
  // or replayed to the network. Not by default: it costs start-up most programs never need.
  if (eager && (config.record === true || config.replay !== undefined)) installing(() => require('node:http2'))();
  for (const install of [installUndiciHooks, installHttp2Hooks, installAsyncStarts, installSdkCalls, installServerHooks, installHandOff])
    installing(install)();
}

/**
 * The trace rules: the first set from the configuration, later ones from the collector (the
 * transport hands them its chunks); the connection hooks read the `details` kinds they ask for.
 */
function startRules(config: ResolvedPreloadConfig, threadId: number, transport: Transport, t: Tracer): void {
  preloadRules.init(
    config,
    { pid: process.pid, threadId, command: [process.argv0, ...process.argv.slice(1)].join(' ').slice(0, 4096) },
    { changed: () => transport.markStats(), warn: (m) => t.warn(m), instance: transport.connToken },
  );
  transport.onCollectorData = (chunk) => preloadRules.onData(chunk);
  ruleDetailKindsFrom(() => preloadRules.detailKinds);
}

/**
 * Runs `fn` as the process exits (process.exit() or the event loop's end), before the program's
 * 'exit' listeners. Workaround: an 'exit' listener of ours would show in the program's
 * `process.listenerCount('exit')`, `eventNames()` and `listeners('exit')` and count toward its
 * MaxListenersExceededWarning; both ways out emit 'exit' through `process.emit` (Node's C++ calls
 * it by name at the loop's end), so `process` gets an `emit` of its own (non-enumerable, with
 * EventEmitter.prototype.emit's name and length) that sees 'exit' and hands every event on to
 * the inherited `emit`. What stays visible: `process` has an own `emit` (docs/architecture.md).
 */
function onExit(fn: (code: unknown) => void): void {
  const proto = Object.getPrototypeOf(process) as { emit: Function };
  // An `emit` of process's own already (a module required before the preload, signal-exit) stays
  // in the chain; else the inherited one, looked up at each call.
  const previous = Object.prototype.hasOwnProperty.call(process, 'emit') ? process.emit : undefined;
  let done = false;
  onDetach(() => (done = true));
  const emit = function emit(this: unknown, event: string | symbol, code?: unknown): boolean {
    if (event === 'exit' && !done && this === process) {
      done = true;
      // The WebSockets still open, recorded for replay (recorder.ts), go with the process's last messages.
      flushOpenRecordings();
      fn(code);
    }
    // eslint-disable-next-line prefer-rest-params
    return (previous ?? proto.emit).apply(this, arguments);
  };
  replaceFunction(process, 'emit', emit, process.emit);
}

function safeCwd(): string {
  try {
    return process.cwd();
  } catch {
    return '';
  }
}

try {
  start();
} catch (err) {
  // Never throw into the program; say why tracing is off.
  reportOff(String((err as Error)?.message ?? err));
}
