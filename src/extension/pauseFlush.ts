/**
 * Live at a breakpoint. While the debuggee is paused its JavaScript does not run, so the
 * preload's flush timer cannot fire and the records of requests that completed just before the
 * pause would wait in its queue until the user resumes. When a debug session of a Net Trace
 * launch stops (breakpoint, step, exception, pause: any DAP `stopped` event), this asks the
 * paused thread to send them now: a DAP `evaluate` of the preload's flush entry point on the top
 * frame. The function is non-enumerable, returns nothing and writes only to the collector's pipe,
 * so the evaluation changes no program state; it goes through `customRequest`, so nothing appears
 * in the Debug Console.
 *
 * js-debug (which runs every Net Trace launch, see launchConfig.ts) starts one child session per
 * process and worker thread (configuration `{ __pendingTargetId, ... }`, without our fields): the
 * session that stops is such a child, traced when one of its ancestors is a Net Trace launch.
 *
 * The same tracker records the pause itself (the trace's `debuggerPauses`, drawn by the panel as a
 * gap in the waterfall's time axis): it begins at `stopped` and ends when the program runs again.
 * DAP sends no `continued` event for a resume the client asked for ("a debug adapter is not
 * expected to send this event in response to a request that implies that execution continues"),
 * so the client's continue/step requests end it too, as do the adapter's `continued`, `exited`
 * and `terminated` events and the adapter's exit.
 */

import * as vscode from 'vscode';

/** The preload's global flush function (src/preload/index.ts). Absent: nothing happens. */
export const FLUSH_EXPRESSION = "void globalThis[Symbol.for('nettrace.flushNow')]?.()";

/** The debug types whose sessions may run a Net Trace launch (js-debug's Node types). */
const SESSION_TYPES = ['pwa-node', 'node'];

/** DAP requests after which the program runs again (a step runs it until the next `stopped`). */
const RESUMING_REQUESTS = new Set([
  'continue',
  'next',
  'stepIn',
  'stepOut',
  'stepBack',
  'reverseContinue',
  'goto',
  'restartFrame',
  'restart',
]);

/** DAP events after which the program runs again, or no longer runs at all. */
const RESUMING_EVENTS = new Set(['continued', 'exited', 'terminated']);

/** Where a traced session's pauses go (the collector's Session). */
export interface PauseSink {
  debuggerStopped(reason?: string): void;
  debuggerContinued(): void;
}

/**
 * Registers the tracker. `traceOf` gives the pause sink of a session's configuration when it is a
 * Net Trace launch (carries the marker `injectTracing` adds) that is still recording, else
 * undefined; `log` writes to the Output channel.
 */
export function registerPauseFlush(
  traceOf: (configuration: vscode.DebugConfiguration) => PauseSink | undefined,
  log: (line: string) => void,
): vscode.Disposable {
  let warned = false;
  const flush = async (session: vscode.DebugSession, threadId: unknown): Promise<void> => {
    try {
      let frameId: number | undefined;
      if (typeof threadId === 'number') {
        const trace = (await session.customRequest('stackTrace', { threadId, startFrame: 0, levels: 1 })) as
          { stackFrames?: Array<{ id?: unknown }> } | undefined;
        const id = trace?.stackFrames?.[0]?.id;
        if (typeof id === 'number') frameId = id;
      }
      // 'watch': evaluated as given (no REPL rewriting), its result comes back to us only.
      await session.customRequest('evaluate', { expression: FLUSH_EXPRESSION, frameId, context: 'watch' });
    } catch (err) {
      // The session may have resumed or ended meanwhile; the timer flush takes over then.
      if (!warned) {
        warned = true;
        log(`flushing the paused program of ${session.name} failed: ${(err as Error)?.message ?? err}`);
      }
    }
  };
  const factory: vscode.DebugAdapterTrackerFactory = {
    createDebugAdapterTracker(session) {
      const sink = sinkOf(session, traceOf);
      if (!sink) return undefined;
      // Recording must never break the debug session: the sink's errors stay here.
      const record = (f: () => void): void => {
        try {
          f();
        } catch (err) {
          log(`recording a debugger pause of ${session.name} failed: ${(err as Error)?.message ?? err}`);
        }
      };
      return {
        onDidSendMessage(message: unknown) {
          const m = message as { type?: unknown; event?: unknown; body?: { threadId?: unknown; reason?: unknown } } | undefined;
          if (m?.type !== 'event' || typeof m.event !== 'string') return;
          if (m.event === 'stopped') {
            const reason = m.body?.reason;
            record(() => sink.debuggerStopped(typeof reason === 'string' ? reason : undefined));
            void flush(session, m.body?.threadId);
          } else if (RESUMING_EVENTS.has(m.event)) record(() => sink.debuggerContinued());
        },
        onWillReceiveMessage(message: unknown) {
          const m = message as { type?: unknown; command?: unknown } | undefined;
          if (m?.type === 'request' && typeof m.command === 'string' && RESUMING_REQUESTS.has(m.command)) {
            record(() => sink.debuggerContinued());
          }
        },
        onExit() {
          record(() => sink.debuggerContinued());
        },
      };
    },
  };
  return vscode.Disposable.from(...SESSION_TYPES.map((type) => vscode.debug.registerDebugAdapterTrackerFactory(type, factory)));
}

/** The pause sink of the session's Net Trace launch (the session's or an ancestor's), if any. */
function sinkOf(
  session: vscode.DebugSession,
  traceOf: (configuration: vscode.DebugConfiguration) => PauseSink | undefined,
): PauseSink | undefined {
  for (let s: vscode.DebugSession | undefined = session, depth = 0; s && depth < 16; s = s.parentSession, depth++) {
    const sink = traceOf(s.configuration);
    if (sink) return sink;
  }
  return undefined;
}
