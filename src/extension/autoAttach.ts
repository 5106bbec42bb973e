/**
 * Auto attach: js-debug attaches on its own to Node processes started in ordinary terminals
 * (`debug.javascript.autoAttachFilter` "always", "smart" or "onlyWithFlag"), each in a
 * `node-terminal` attach session with a `delegateId` and no launch of ours before it; a
 * JavaScript Debug Terminal's processes come the same way. While `nettrace.traceNodeSessions` is
 * "all", such a process that has no preload (FOUND_PROCESS_PROBE, through the debugger) gets a
 * trace of its own, named by its script, and the preload loaded through the debugger as in an
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
  type FoundProcess,
} from './nodeSessions';
import { preloadPathOf, reportOptionError, tracingDefaults, type Services } from './services';

/** How many times (250 ms apart) the probe is tried while js-debug's target is not ready. */
const PROBE_ATTEMPTS = 20;

/** Registers the tracing of found processes; `onSessions` runs when one's trace starts. */
export function registerFoundProcessTracing(s: Services, onSessions: () => void): vscode.Disposable {
  return vscode.debug.onDidStartDebugSession((session) => {
    if (session.parentSession || !isFoundProcessSession(session.configuration)) return;
    if (s.nodeSessions.mode() !== 'all') return;
    void traceFoundProcess(s, session, onSessions).catch((err: Error) => s.log(`auto attach: ${err.message}`));
  });
}

/** Asks the process behind a found session whether it is traced; the answer, or undefined when it never came. */
async function probe(s: Services, session: vscode.DebugSession): Promise<FoundProcess | undefined> {
  let last = '';
  for (let attempt = 0; attempt < PROBE_ATTEMPTS; attempt++) {
    try {
      const r = (await session.customRequest('evaluate', { expression: FOUND_PROCESS_PROBE, context: 'repl' })) as { result?: string };
      last = String(r?.result ?? '');
      const found = parseFoundProcess(last);
      if (found) return found;
      if (/nettrace: /.test(last)) break;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  s.log(`auto attach: "${session.name}" did not say whether it is traced (${last})`);
  return undefined;
}

/** Traces the process of a found session from now on, unless it is traced already. */
async function traceFoundProcess(s: Services, session: vscode.DebugSession, onSessions: () => void): Promise<void> {
  const found = await probe(s, session);
  if (!found) return;
  if (found.traced) {
    s.log(`auto attach: pid ${found.pid} is traced already (started with the preload)`);
    return;
  }
  if (s.nodeSessions.mode() !== 'all') return;
  const tracing = launchTracing({}, tracingDefaults(), (err) => reportOptionError(err, s.log));
  const label = foundProcessLabel(found, session.workspaceFolder?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
  const prepared = await prepareTrace(s, label, tracing);
  if (!prepared) return;
  const { key, ipcPath, rulesConfig } = prepared;
  const expression = preloadLoadExpression(preloadPathOf(s), { ...preloadConfigOf(tracing, ipcPath), ...rulesConfig });
  attachLoads.set(key, { expression, name: `${session.name} (auto attach)`, loaded: new Map() });
  foundProcessTraces.set(session.id, key);
  // The trace lives as long as the session (debugProviders.ts ends it and detaches the preload).
  const entry = s.traces.attach(key, session.id);
  startHelper(s, key, tracing);
  if (entry && entry.openPanel !== false) s.panel.show({ preserveFocus: true });
  s.panel.showTrace(key);
  onSessions();
  s.log(`${key}: auto attach to pid ${found.pid} (${session.name}); the preload is loaded through the debugger`);
  await loadThroughDebugger(s, session, key, true);
}
