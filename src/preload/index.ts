/**
 * The Net Trace preload: loaded into the debuggee (and its child processes and worker threads)
 * with `NODE_OPTIONS=--require "<path>/preload.cjs"`, configured by the JSON in NETTRACE_CONFIG.
 *
 * It must never hurt its host: the whole body is wrapped in try/catch, it loads at most once per
 * thread (a non-enumerable global guard), it does nothing without a valid configuration, it only
 * observes, and it connects to the collector lazily (a process that makes no request opens no
 * pipe). A hook that throws disables itself and reports a warning instead.
 */

import { CONFIG_ENV, type PreloadConfig, type StatsMessage } from '../protocol/preload';
import { installAsyncStarts } from './asyncStarts';
import { installHttp2Hooks } from './http2Hooks';
import { installHttpHooks } from './httpHooks';
import { installSocketHooks } from './socketHooks';
import { Tracer, now } from './tracer';
import { Transport } from './transport';
import { installUndiciHooks } from './undiciHooks';

const GUARD = Symbol.for('nettrace.preload');
/** The global function that flushes the queue now (see `start`). */
const FLUSH_NOW = Symbol.for('nettrace.flushNow');

function readConfig(): PreloadConfig | undefined {
  const raw = process.env[CONFIG_ENV];
  if (!raw) return undefined;
  const parsed = JSON.parse(raw) as PreloadConfig;
  return parsed && typeof parsed.ipcPath === 'string' && parsed.ipcPath ? parsed : undefined;
}

function start(): void {
  const g = globalThis as Record<symbol, unknown>;
  if (g[GUARD]) return;
  Object.defineProperty(globalThis, GUARD, { value: true, enumerable: false });
  const config = readConfig();
  if (!config) return;
  const { threadId, isMainThread } = require('node:worker_threads') as typeof import('node:worker_threads');
  const startAt = isMainThread ? performance.timeOrigin : now();
  const transport: Transport = new Transport(
    config.ipcPath,
    Math.max(100, config.maxQueuedEvents ?? 10000),
    () => ({
      type: 'hello',
      pid: process.pid,
      ppid: process.ppid,
      threadId,
      argv: process.argv.slice(0, 32),
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
    }),
  );
  const t: Tracer = new Tracer(config, transport, threadId, __filename);
  // Sends the queued records now, synchronously. Called by the extension through the debugger
  // when the program stops at a breakpoint: while paused, the flush timer cannot fire.
  Object.defineProperty(globalThis, FLUSH_NOW, {
    value: () => {
      try {
        transport.flushNow();
      } catch {
        // Never throw into the debugger's evaluation.
      }
    },
    enumerable: false,
  });
  if (config.dnsTrace) {
    try {
      installResolver(t, config);
    } catch (err) {
      t.warn(`nettrace: the DNS trace is off in pid ${process.pid}: ${(err as Error)?.message ?? err}`);
    }
  }
  for (const install of [installSocketHooks, installHttpHooks, installUndiciHooks, installHttp2Hooks, installAsyncStarts]) {
    try {
      install(t);
    } catch (err) {
      t.warn(`nettrace: could not install ${install.name} in pid ${process.pid}: ${(err as Error)?.message ?? err}`);
    }
  }
  process.on('exit', (code) => {
    try {
      const at = now();
      for (const { conn, bytes } of t.openConns) {
        if (conn.connected) t.sendClose(conn, bytes());
      }
      t.resolver?.flush();
      transport.send({ type: 'exit', exitAt: at, exitCode: typeof code === 'number' ? code : undefined }, true);
      transport.markStats();
      transport.flushSync();
    } catch {
      // Exiting anyway; nothing useful can be done with a failure here.
    }
  });
}

/** Starts the in-process resolver (loaded only when the DNS trace is on). */
function installResolver(t: Tracer, config: PreloadConfig): void {
  const { createResolver, isResolverSocket } = require('./dnsResolver') as typeof import('./dnsResolver');
  const resolver = createResolver(
    { nameservers: config.dnsServers },
    {
      udpConn: (id, f) => t.record('udpConns', id, { ...f }),
      tcpConn: (id, f) => t.record('tcpConns', id, { ...f }),
      dnsQuery: (id, f) => t.record('dnsQueries', id, { ...f }),
      warning: (m) => t.warn(m),
    },
    (prefix) => t.id(prefix),
  );
  t.resolver = { lookup: (dialId) => resolver.lookup(dialId), flush: () => resolver.flush(), isOwn: isResolverSocket };
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
  try {
    process.emitWarning(`nettrace: tracing is off in this process: ${(err as Error)?.message ?? err}`);
  } catch {
    /* nothing more to do */
  }
}
