/**
 * Auto attach: js-debug attaches on its own to Node processes started in ordinary terminals
 * (`debug.javascript.autoAttachFilter` "always", "smart" or "onlyWithFlag"), each in a
 * `node-terminal` attach session with a `delegateId` and no launch of ours before it; a
 * JavaScript Debug Terminal's processes come the same way. While `nettrace.traceNodeSessions` is
 * "all", such a process that has no preload (FOUND_PROCESS_PROBE, through the debugger, in the
 * found session or in the child session js-debug runs the process in) gets a trace of its own,
 * named by its script and tied to the found session, and the preload loaded through the debugger as in an
 * attach (debugProviders.ts loadThroughDebugger: the trace says tracing started mid-run); its child
 * processes' sessions load it into the same trace. A debug terminal's process traced by its
 * environment is left to the terminal's trace. Ending the session detaches the preload
 * (attachDetach.ts), as in an attach.
 */

import * as vscode from 'vscode';
import { attachLoads, foundProcessTraces } from './attachDetach';
import { loadThroughDebugger, prepareTrace, startHelper } from './debugProviders';
import { launchTracing, preloadConfigOf } from './launchConfig';
import {
  FOUND_PROCESS_PROBE,
  foundProcessLabel,
  isFoundProcessSession,
  parseFoundProcess,
  preloadLoadExpression,
  PROCESS_STARTING,
  type FoundProcess,
} from './nodeSessions';
import { preloadPathOf, reportOptionError, tracingDefaults, type Services } from './services';

/** How many times (250 ms apart) the probe is tried while js-debug's target is not ready. */
const PROBE_ATTEMPTS = 40;

/** Registers the tracing of found processes; `onSessions` runs when one's trace starts. */
export function registerFoundProcessTracing(s: Services, onSessions: () => void): vscode.Disposable {
  /** The trace being made for a found session (by its id), so that its sessions make one. */
  const making = new Map<string, Promise<void>>();
  return vscode.debug.onDidStartDebugSession((session) => {
    let root = session;
    for (let depth = 0; root.parentSession && depth < 16; depth++) root = root.parentSession;
    if (!isFoundProcessSession(root.configuration) || s.nodeSessions.mode() !== 'all') return;
    // Once the found session has its trace, its later sessions (child processes) load into it (debugProviders.ts).
    if (foundProcessTraces.has(root.id)) return;
    void traceFoundProcess(s, root, session, making, onSessions).catch((err: Error) => s.log(`auto attach: ${err.message}`));
  });
}

/** Asks the process behind `session` whether it is traced: its answer (none when it never came) and the last reply. */
async function probe(session: vscode.DebugSession): Promise<{ found?: FoundProcess; last: string }> {
  let last = '';
  for (let attempt = 0; attempt < PROBE_ATTEMPTS; attempt++) {
    try {
      const r = (await session.customRequest('evaluate', { expression: FOUND_PROCESS_PROBE, context: 'repl' })) as { result?: string };
      last = String(r?.result ?? '');
      const found = parseFoundProcess(last);
      if (found) return { found, last };
      if (/nettrace: /.test(last) && !last.includes(PROCESS_STARTING)) break;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { last };
}

/**
 * Traces the process of `session` (the found session `root` itself, or js-debug's child session
 * under it that runs the process) from now on, unless it is traced already: the trace belongs to
 * `root` and ends with it.
 */
async function traceFoundProcess(
  s: Services,
  root: vscode.DebugSession,
  session: vscode.DebugSession,
  making: Map<string, Promise<void>>,
  onSessions: () => void,
): Promise<void> {
  const { found, last } = await probe(session);
  if (!found) {
    // js-debug may run the process in a child session: the found session itself then answers nothing.
    s.log(`auto attach: "${session.name}" did not say whether it is traced (${last})`);
    return;
  }
  if (found.traced) {
    s.log(`auto attach: pid ${found.pid} is traced already (started with the preload)`);
    return;
  }
  if (s.nodeSessions.mode() !== 'all') return;
  const before = making.get(root.id);
  if (before) {
    // Another session of the same found session is making the trace: load into it once made.
    await before;
    const key = foundProcessTraces.get(root.id);
    if (key) await loadThroughDebugger(s, session, key, true);
    return;
  }
  const made = makeTrace(s, root, session, found, onSessions);
  making.set(root.id, made);
  try {
    await made;
  } finally {
    making.delete(root.id);
  }
  const key = foundProcessTraces.get(root.id);
  if (key) await loadThroughDebugger(s, session, key, true);
}

/** The trace of a found process: prepared, tied to the found session `root`, shown; the preload's load expression registered. */
async function makeTrace(
  s: Services,
  root: vscode.DebugSession,
  session: vscode.DebugSession,
  found: FoundProcess,
  onSessions: () => void,
): Promise<void> {
  const tracing = launchTracing({}, tracingDefaults(), (err) => reportOptionError(err, s.log));
  const label = foundProcessLabel(found, root.workspaceFolder?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
  const prepared = await prepareTrace(s, label, tracing);
  if (!prepared) return;
  const { key, ipcPath, rulesConfig } = prepared;
  const expression = preloadLoadExpression(preloadPathOf(s), { ...preloadConfigOf(tracing, ipcPath), ...rulesConfig });
  attachLoads.set(key, { expression, name: `${session.name} (auto attach)`, loaded: new Map() });
  foundProcessTraces.set(root.id, key);
  // The trace lives as long as the found session (debugProviders.ts ends it and detaches the preload).
  const entry = s.traces.attach(key, root.id);
  startHelper(s, key, tracing);
  if (entry && entry.openPanel !== false) s.panel.show({ preserveFocus: true });
  s.panel.showTrace(key);
  onSessions();
  s.log(`${key}: auto attach to pid ${found.pid} (${session.name}); the preload is loaded through the debugger`);
}
