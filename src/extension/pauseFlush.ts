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
 * A session started outside a Net Trace launch carries no marker: a command typed into a
 * JavaScript Debug Terminal, an auto-attached process. Its `stopped` evaluates the same flush and
 * returns the process id when the preload is loaded (FLUSH_PID_EXPRESSION); the live trace that
 * has that process gets the pause. A terminal command's trace opens when its first process's
 * events reach the editor: with that very flush, or (a process stopped before its preload had
 * connected, which takes the event loop) only once it runs again. So the trace is looked for again
 * while the process is stopped and for a while after it resumes.
 * DAP sends no `continued` event for a resume the client asked for ("a debug adapter is not
 * expected to send this event in response to a request that implies that execution continues"),
 * so the client's continue/step requests end it too, as do the adapter's `continued`, `exited`
 * and `terminated` events and the adapter's exit.
 */

import * as vscode from 'vscode';

/** The preload's global flush function (src/preload/index.ts). Absent: nothing happens. */
export const FLUSH_EXPRESSION = "void globalThis[Symbol.for('nettrace.flushNow')]?.()";

/**
 * The flush, and the process id when the preload is loaded in the paused thread (else 0).
 * `globalThis.process`: the paused frame may have a variable of its own named `process`.
 */
export const FLUSH_PID_EXPRESSION =
  "(() => { const f = globalThis[Symbol.for('nettrace.flushNow')]; if (typeof f !== 'function') return 0; f(); return globalThis.process.pid; })()";

/**
 * js-debug's Node types: the sessions that may run a Net Trace launch, and those of a JavaScript
 * Debug Terminal (its child sessions, one per process, are `node-terminal` too).
 */
const SESSION_TYPES = ['pwa-node', 'node', 'node-terminal'];

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

/**
 * Where a traced session's pauses go (the collector's Session); `epochMs`: when it happened
 * (default now); `pid`: the process that stopped or runs again, when known.
 */
export interface PauseSink {
  debuggerStopped(reason?: string, epochMs?: number, pid?: number): void;
  debuggerContinued(epochMs?: number, pid?: number): void;
}

/** What the tracker needs to find the trace of a session that carries no Net Trace marker. */
export interface UnmarkedSessions {
  /** The pause sink of the live trace that has this process, if any. */
  sinkOfPid(pid: number): PauseSink | undefined;
}

/** How long after a resume a traced process's trace is still looked for (it may open only then), and how often. */
const FIND_TRACE_AFTER_RESUME_MS = 5000;
const FIND_TRACE_EVERY_MS = 100;
/** The longest a trace is looked for after a stop, stopped or not. */
const FIND_TRACE_MAX_MS = 10 * 60_000;

/**
 * Registers the tracker. `traceOf` gives the pause sink of a session's configuration when it is a
 * Net Trace launch (carries the marker `injectTracing` adds) that is still recording, else
 * undefined; `log` writes to the Output channel.
 */
export function registerPauseFlush(
  traceOf: (configuration: vscode.DebugConfiguration) => PauseSink | undefined,
  log: (line: string) => void,
  unmarked?: UnmarkedSessions,
): vscode.Disposable {
  let warned = false;
  /** Evaluates `expression` on the paused thread's top frame; its result, or undefined when it failed. */
  const flush = async (session: vscode.DebugSession, threadId: unknown, expression = FLUSH_EXPRESSION): Promise<string | undefined> => {
    try {
      let frameId: number | undefined;
      if (typeof threadId === 'number') {
        const trace = (await session.customRequest('stackTrace', { threadId, startFrame: 0, levels: 1 })) as
          { stackFrames?: Array<{ id?: unknown }> } | undefined;
        const id = trace?.stackFrames?.[0]?.id;
        if (typeof id === 'number') frameId = id;
      }
      // 'watch': evaluated as given (no REPL rewriting), its result comes back to us only.
      const r = (await session.customRequest('evaluate', { expression, frameId, context: 'watch' })) as { result?: unknown } | undefined;
      return String(r?.result ?? '');
    } catch (err) {
      // The session may have resumed or ended meanwhile; the timer flush takes over then.
      if (!warned) {
        warned = true;
        log(`flushing the paused program of ${session.name} failed: ${(err as Error)?.message ?? err}`);
      }
      return undefined;
    }
  };
  /** Runs a call into the sink: recording must never break the debug session, its errors stay here. */
  const recorder =
    (session: vscode.DebugSession) =>
    (f: () => void): void => {
      try {
        f();
      } catch (err) {
        log(`recording a debugger pause of ${session.name} failed: ${(err as Error)?.message ?? err}`);
      }
    };
  /**
   * The tracker of a session without a marker: its process is found at its first `stopped`
   * (FLUSH_PID_EXPRESSION), then the live trace that has it, at each stop (a trace ends; the
   * process may be in a later one). A resume that comes before the answer is recorded once the
   * sink is known, with its own time.
   */
  const unmarkedTracker = (session: vscode.DebugSession, sessions: UnmarkedSessions): vscode.DebugAdapterTracker => {
    let sink: PauseSink | undefined;
    /** The process of this session, once it said. */
    let pid: number | undefined;
    let asked = false;
    let resumedAt: number | undefined;
    const record = recorder(session);
    const resumed = (): void => {
      if (sink) record(() => sink!.debuggerContinued(undefined, pid));
      else resumedAt ??= Date.now();
    };
    return {
      onDidSendMessage(message: unknown) {
        const m = message as { type?: unknown; event?: unknown; body?: { threadId?: unknown; reason?: unknown } } | undefined;
        if (m?.type !== 'event' || typeof m.event !== 'string') return;
        if (m.event === 'stopped') {
          const reason = typeof m.body?.reason === 'string' ? m.body.reason : undefined;
          const known = pid !== undefined ? sessions.sinkOfPid(pid) : undefined;
          if (known) {
            sink = known;
            record(() => known.debuggerStopped(reason, undefined, pid));
            void flush(session, m.body?.threadId);
            return;
          }
          sink = undefined;
          if (asked) return;
          asked = true;
          const at = Date.now();
          resumedAt = undefined;
          void flush(session, m.body?.threadId, FLUSH_PID_EXPRESSION).then(async (result) => {
            const answered = Number(result);
            let found: PauseSink | undefined;
            const looking = (): boolean =>
              Date.now() - at < FIND_TRACE_MAX_MS && (resumedAt === undefined || Date.now() - resumedAt < FIND_TRACE_AFTER_RESUME_MS);
            // No preload in the process (0): nothing to look for; the next stop asks again.
            if (Number.isInteger(answered) && answered > 0)
              while (!(found = sessions.sinkOfPid(answered)) && looking()) await new Promise((r) => setTimeout(r, FIND_TRACE_EVERY_MS));
            if (!found) return void (asked = false);
            sink = found;
            pid = answered;
            record(() => found.debuggerStopped(reason, at, answered));
            if (resumedAt !== undefined) record(() => found.debuggerContinued(resumedAt, answered));
          });
        } else if (RESUMING_EVENTS.has(m.event)) resumed();
      },
      onWillReceiveMessage(message: unknown) {
        const m = message as { type?: unknown; command?: unknown } | undefined;
        if (m?.type === 'request' && typeof m.command === 'string' && RESUMING_REQUESTS.has(m.command)) resumed();
      },
      onExit() {
        resumed();
      },
    };
  };
  const factory: vscode.DebugAdapterTrackerFactory = {
    createDebugAdapterTracker(session) {
      const sink = sinkOf(session, traceOf);
      if (!sink) return unmarked ? unmarkedTracker(session, unmarked) : undefined;
      const record = recorder(session);
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
