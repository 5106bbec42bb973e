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
 */

import * as vscode from 'vscode';

/** The preload's global flush function (src/preload/index.ts). Absent: nothing happens. */
export const FLUSH_EXPRESSION = "void globalThis[Symbol.for('nettrace.flushNow')]?.()";

/** The debug types whose sessions may run a Net Trace launch (js-debug's Node types). */
const SESSION_TYPES = ['pwa-node', 'node'];

/**
 * Registers the tracker. `traced` tells whether a session's configuration is a Net Trace launch
 * (carries the marker `injectTracing` adds); `log` writes to the Output channel.
 */
export function registerPauseFlush(
  traced: (configuration: vscode.DebugConfiguration) => boolean,
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
      if (!isTraced(session, traced)) return undefined;
      return {
        onDidSendMessage(message: unknown) {
          const m = message as { type?: unknown; event?: unknown; body?: { threadId?: unknown } } | undefined;
          if (m?.type === 'event' && m.event === 'stopped') void flush(session, m.body?.threadId);
        },
      };
    },
  };
  return vscode.Disposable.from(...SESSION_TYPES.map((type) => vscode.debug.registerDebugAdapterTrackerFactory(type, factory)));
}

/** True when the session or one of its ancestors is a Net Trace launch. */
function isTraced(session: vscode.DebugSession, traced: (configuration: vscode.DebugConfiguration) => boolean): boolean {
  for (let s: vscode.DebugSession | undefined = session, depth = 0; s && depth < 16; s = s.parentSession, depth++) {
    if (traced(s.configuration)) return true;
  }
  return false;
}
