/**
 * The debug side of the extension: the `nettrace` configuration provider (phase 1, see
 * launchConfig.ts), the `pwa-node`/`node`/`node-terminal` provider that starts a collector per
 * session and injects the preload (phase 2: Net Trace launches, and every Node launch while
 * `nettrace.traceNodeSessions` is "all", see nodeSessions.ts), and the session lifecycle (start,
 * pause, end).
 */

import { replayIfTrusted, whatIfRulesIfTrusted } from './settingsGuard';
import { confirmLaunchWhatIf, ownRule } from './launchWhatIf';
import { hidingRules, noticeHiding } from './hiddenRules';
import { noticeWhatIfFromBefore } from './whatIfStatus';
import { isAbsolute, relative, sep } from 'node:path';
import * as vscode from 'vscode';
import {
  DEBUG_TYPE,
  defaultLaunchConfig,
  describeLaunch,
  EnvFileError,
  injectTracing,
  isEmptyConfig,
  needsTracing,
  toNodeLaunchConfig,
  preloadConfigOf,
  type LaunchTracing,
  type NettraceLaunchConfig,
  type NodeLaunchConfig,
} from './launchConfig';
import { midRunNote, NODE_SESSION_TYPES, parseAttachLoaded, planNodeSession, preloadLoadExpression, STILL_STARTING } from './nodeSessions';
import { attachLoads, detachAttached, foundProcessTraces } from './attachDetach';
import type { PreloadConfig } from '../protocol/preload';
import { redactCommandLine, redactedArgNames } from '../trace/contract/redact';
import { registerPauseFlush } from './pauseFlush';
import { launchStart, noteLaunch } from './replayCommands';
import type { ReplaySetup } from '../collector/replay';
import { preloadPathOf, reportOptionError, tracingDefaults, type Services } from './services';

/** Registers the configuration providers and the session listeners; `onSessions` runs when sessions start or end. */
export function registerDebugProviders(s: Services, onSessions: () => void): void {
  const { context, traces, panel, log } = s;
  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, {
      provideDebugConfigurations: (folder) => [defaultLaunchConfig(guessProgram(folder))],
      resolveDebugConfiguration: (_folder, config) => resolveNettrace(config as NettraceLaunchConfig, log),
    }),
    vscode.debug.registerDebugConfigurationProvider(
      DEBUG_TYPE,
      { provideDebugConfigurations: () => [{ ...defaultLaunchConfig('${file}'), name: 'Net Trace: Current File' }] },
      vscode.DebugConfigurationProviderTriggerKind.Dynamic,
    ),
  );
  const inject = injectProvider(s);
  context.subscriptions.push(
    ...NODE_SESSION_TYPES.map((type) => vscode.debug.registerDebugConfigurationProvider(type, inject)),
    registerAttachLoading(s),
  );

  context.subscriptions.push(
    vscode.debug.onDidStartDebugSession((session) => {
      const marker: unknown = session.configuration.__nettraceSession;
      // js-debug's child sessions (one per process) carry their launch's marker: not a launch of their own.
      for (let p = session.parentSession, depth = 0; p && depth < 16; p = p.parentSession, depth++)
        if (p.configuration.__nettraceSession === marker) return;
      const entry = traces.attach(marker, session.id);
      if (!entry) return;
      if (entry.openPanel !== false) panel.show({ preserveFocus: true });
      panel.showTrace(entry.key);
      onSessions();
    }),
    vscode.debug.onDidTerminateDebugSession((session) => {
      // The trace ends with the last of the launches recording into it (a compound's services).
      const entry = traces.release(session.id);
      if (!entry || entry.origin !== 'current') return;
      // A session that ends stopped at a breakpoint ends its pause.
      entry.session?.debuggerContinued();
      // An attach's processes get their hooks taken out; the helper's last readings go into the trace first.
      void detachAttached(s, entry.key)
        .then(() => s.helpers.finish(entry.key, 2000))
        .then(() => traces.end(entry.key))
        .then(() => s.helpers.prune());
    }),
  );

  // Paused at a breakpoint, the program's flush timer cannot fire: ask it to flush through the
  // debugger, so the panel lists what completed before the pause.
  // The same tracker records the pauses (the trace's `debuggerPauses`, a gap in the waterfall),
  // also for sessions of a JavaScript Debug Terminal or auto attach, found by their process id.
  context.subscriptions.push(
    registerPauseFlush(
      (c) => {
        const entry = traces.bySessionMarker(c.__nettraceSession);
        return entry?.origin === 'current' ? entry.session : undefined;
      },
      log,
      { sinkOfPid: (pid) => traces.byLivePid(pid)?.session },
    ),
  );
}

/**
 * Phase 1 (before variables are substituted): the type becomes js-debug's, which VS Code resolves
 * next; F5 without a launch.json runs the active JS/TS file. Invalid tracing options are reported
 * and replaced by their settings or defaults.
 */
function resolveNettrace(config: NettraceLaunchConfig, log: (line: string) => void): vscode.DebugConfiguration | undefined {
  let c = config;
  if (isEmptyConfig(c)) {
    const doc = vscode.window.activeTextEditor?.document;
    if (!doc || !/^(javascript|typescript)(react)?$/.test(doc.languageId)) {
      void vscode.window.showErrorMessage(
        'Net Trace: open the JavaScript or TypeScript file to run, or add a "Net Trace" launch configuration.',
      );
      return undefined;
    }
    c = defaultLaunchConfig('${file}');
  }
  return toNodeLaunchConfig(c, tracingDefaults(), (err) => reportOptionError(err, log)) as unknown as vscode.DebugConfiguration;
}

/**
 * Phase 2, after js-debug's own resolution and variable substitution, for `pwa-node`, `node` and
 * `node-terminal` configurations: one that came from a Net Trace launch (it carries `__nettrace`)
 * is traced with its own options; any other is traced when `nettrace.traceNodeSessions` is "all"
 * (nodeSessions.ts decides, and says why a session is not traced).
 */
function injectProvider(s: Services): vscode.DebugConfigurationProvider {
  return {
    async resolveDebugConfigurationWithSubstitutedVariables(folder, config) {
      if (config.__nettraceSession) return config;
      if (needsTracing(config)) return startTracedLaunch(s, folder, config);
      const plan = planNodeSession(config, s.nodeSessions.mode(), tracingDefaults(), (err) => reportOptionError(err, s.log));
      if (plan.action === 'notTraced') {
        s.nodeSessions.noteNotTraced(plan.reason);
        s.log(`not traced: ${plan.reason}`);
      }
      if (plan.action === 'attach') return startTracedAttach(s, config, plan.tracing);
      if (plan.action !== 'trace') return config;
      s.nodeSessions.noteNotTraced(undefined);
      const traced = await startTracedLaunch(s, folder, plan.config);
      if (traced) return traced;
      // A replay that could not start is not run against the network instead (replayCommands.ts said why).
      if (plan.config.__nettrace.replay) return undefined;
      // Never break the user's own session for tracing: it starts as it would without Net Trace.
      const reason = `"${config.name}" was started without tracing: the trace rules or its envFile could not be used (the error message says which).`;
      s.nodeSessions.noteNotTraced(reason);
      s.log(`not traced: ${reason}`);
      return config;
    },
  };
}

/** A trace prepared for a session: its key, the collector's IPC path, the first rules for NETTRACE_CONFIG. */
export interface PreparedTrace {
  key: string;
  ipcPath: string;
  rulesConfig: Partial<PreloadConfig>;
}

/**
 * Starts the collector of a new trace with the session's tracing options and the workspace's rules
 * (added in the panel or the palette) before the launch's and the setting's. Undefined, after an
 * error message, when the rules are not valid (src/rules: RuleValidationError / RuleSyntaxError,
 * with the position): nothing is traced then. The first step of every traced session: launch,
 * attach and JavaScript Debug Terminal alike.
 */
export async function prepareTrace(
  s: Services,
  description: string,
  tracing: LaunchTracing,
  join?: string,
  replay?: ReplaySetup,
): Promise<(PreparedTrace & { joined?: boolean }) | undefined> {
  // A replay changes what the program receives: off in an untrusted workspace (settingsGuard.ts);
  // its recording was read by launchStart (replayCommands.ts).
  tracing = replayIfTrusted(tracing);
  if (!tracing.replay) replay = undefined;
  const launchRules = s.rules.rulesForLaunch(tracing.rules);
  // Off in an untrusted workspace (settingsGuard.ts): they change what the program receives.
  launchRules.rules = whatIfRulesIfTrusted(launchRules.rules);
  // A launch configuration's what-if rules are shown to the user before they act (launchWhatIf.ts).
  launchRules.rules = await confirmLaunchWhatIf(launchRules.rules, ownRule(launchRules.workspaceIds), s.context.workspaceState, s.log);
  let prepared: PreparedTrace & { joined?: boolean };
  try {
    prepared = await s.traces.prepare(description, {
      ...(join !== undefined ? { join } : {}),
      openPanel: tracing.openPanel,
      slowThresholdMs: tracing.slowThresholdMs,
      redact: tracing.redact,
      redactQuery: tracing.redactQuery,
      rules: launchRules.rules,
      defaultAction: tracing.defaultAction,
      otlp: tracing.otlp,
      ...(tracing.record.enabled ? { record: tracing.record } : {}),
      ...(replay ? { replay } : {}),
    });
  } catch (err) {
    void vscode.window.showErrorMessage(`Net Trace: the trace rules are not valid — ${(err as Error).message}`);
    return undefined;
  }
  s.rules.noteSession(prepared.key, launchRules.workspaceIds);
  // Skip rules and a skip default the user did not set hide requests: said, never silently (hiddenRules.ts).
  if (!prepared.joined) {
    noticeHiding(hidingRules(launchRules.rules, launchRules.workspaceIds, tracing.defaultAction), s.context.workspaceState, s.log, () =>
      s.panel.revealRules(),
    );
    // What-if rules made before this session (the workspace's) act in it from its first request: said, with Turn Off (whatIfStatus.ts).
    // Those the session really has: not those an untrusted workspace left out.
    const kept = new Set(launchRules.rules.map((r) => (r as { id?: unknown }).id));
    noticeWhatIfFromBefore(
      s.rules,
      launchRules.workspaceIds.filter((id) => kept.has(id)),
      s.log,
      () => s.panel.revealRules(),
    );
  }
  return prepared;
}

/** Starts the session's helper, or says it is off; the name of its first launch (SessionHelpers.startFor) when on. */
export function startHelper(s: Services, key: string, tracing: LaunchTracing): string | undefined {
  if (tracing.helper !== 'off') return s.helpers.startFor(key, tracing.pcap);
  s.helpers.off(key, 'turned off ("helper": "off" in the launch configuration, or the nettrace.helper setting)');
  return undefined;
}

/**
 * Starts the trace of a Node launch whose tracing options are under `__nettrace`: its collector,
 * the preload in its environment (injectTracing), its helper. The one way every traced launch
 * starts: a `nettrace` configuration and a Node configuration traced by
 * `nettrace.traceNodeSessions` alike. Undefined (nothing starts) when the rules or the envFile are
 * not valid, after saying so. A launch started while another of this window records with the same
 * tracing options joins its trace (the services of a compound launch: one waterfall across them),
 * its process with a helper of its own (SessionHelpers.join).
 */
export async function startTracedLaunch(
  s: Services,
  folder: vscode.WorkspaceFolder | undefined,
  config: NodeLaunchConfig,
): Promise<vscode.DebugConfiguration | undefined> {
  // The toolbar's "Record the next run for replay", the replay's recording read (replayCommands.ts).
  const starts = await launchStart(s, folder, config);
  if (!starts) return undefined;
  const { tracing, replay } = starts;
  const launched = config;
  config = { ...config, __nettrace: tracing };
  const description = `${describeLaunch(config)}${replay ? ` (replay of ${replay.file})` : ''}`;
  const prepared = await prepareTrace(s, description, tracing, JSON.stringify(tracing), replay);
  if (!prepared) return undefined;
  const { key, ipcPath, rulesConfig, joined } = prepared;
  noteLaunch(key, folder, launched, replay);
  try {
    // The trace's helper starts with its first launch; a joining launch's process (a process tree
    // of its own, which that helper does not follow) gets a helper of its own. Each launch is
    // named in its environment, so that its helper goes to its own first process.
    const launch = joined ? s.helpers.join(key) : startHelper(s, key, tracing);
    const resolved = injectTracing(config, {
      preloadPath: preloadPathOf(s),
      ipcPath,
      sessionId: key,
      workspaceFolder: folder?.uri.fsPath,
      rulesConfig,
      ...(launch !== undefined ? { launch } : {}),
    });
    // A node-terminal launch's `command` is a command line: its secret options redacted in the log.
    const what = redactCommandLine(
      String(resolved.program ?? resolved.command ?? resolved.runtimeExecutable ?? ''),
      redactedArgNames(tracing.redact, tracing.redactQuery),
    );
    s.log(`${key}: launching ${JSON.stringify(what)} (${resolved.type}) with NODE_OPTIONS=${resolved.env?.NODE_OPTIONS ?? ''}`);
    return resolved as unknown as vscode.DebugConfiguration;
  } catch (err) {
    if (joined) s.traces.unprepare(key);
    else void s.traces.end(key);
    if (err instanceof EnvFileError) {
      void vscode.window.showErrorMessage(`Net Trace: ${err.message}`);
      return undefined;
    }
    throw err;
  }
}

/**
 * An attach configuration (the switch on): its trace starts now; the configuration is handed back
 * unchanged but for the session marker. The preload is loaded into the process once the debugger
 * is attached (registerAttachLoading), so only what the program does from then on is traced.
 */
async function startTracedAttach(
  s: Services,
  config: vscode.DebugConfiguration,
  tracing: LaunchTracing,
): Promise<vscode.DebugConfiguration> {
  // The label says it: only what happens after the attach is in this trace.
  const prepared = await prepareTrace(s, `${describeLaunch(config)} (from the attach on)`, tracing);
  if (!prepared) return config;
  const { key, ipcPath, rulesConfig } = prepared;
  const expression = preloadLoadExpression(preloadPathOf(s), { ...preloadConfigOf(tracing, ipcPath), ...rulesConfig });
  attachLoads.set(key, { expression, name: config.name || 'the attach session', loaded: new Map() });
  startHelper(s, key, tracing);
  s.log(`${key}: attaching (${config.name}); the preload is loaded through the debugger once attached`);
  return { ...config, __nettraceSession: key, __nettraceAttach: true };
}

/**
 * Loads the preload into the attached process: in each session of an attach (js-debug runs the
 * process in a child session of the attach configuration's) and of a found process traced from
 * the attach on (autoAttach.ts: its own session and its children's), evaluated through the
 * debugger (loadThroughDebugger).
 */
function registerAttachLoading(s: Services): vscode.Disposable {
  const forget = (entry: { key: string }): void => {
    attachLoads.delete(entry.key);
    for (const [id, key] of foundProcessTraces) if (key === entry.key) foundProcessTraces.delete(id);
  };
  s.traces.on('ended', forget);
  const started = vscode.debug.onDidStartDebugSession((session) => {
    let root: vscode.DebugSession | undefined = session;
    let key: unknown;
    for (let depth = 0; root && depth < 16; depth++, root = root.parentSession) {
      key = root.configuration.__nettraceAttach ? root.configuration.__nettraceSession : foundProcessTraces.get(root.id);
      if (key !== undefined) break;
    }
    // A found process's own session is loaded by autoAttach.ts once it knows the process is untraced.
    if (typeof key !== 'string' || !root || (root === session && foundProcessTraces.has(session.id))) return;
    void loadThroughDebugger(s, session, key, session !== root);
  });
  return {
    dispose: () => {
      started.dispose();
      s.traces.off('ended', forget);
    },
  };
}

/**
 * Evaluates the attach's preload load (attachLoads[key]) in the process of `session`, retried
 * while the target is not ready. The trace says that tracing started mid-run, when and why
 * (midRunNote), unless the process had not started its program yet (held by js-debug's
 * bootloader, as an auto-attached process is: see preloadLoadExpression); a
 * process that cannot load it is said in the not-traced line (`sayFailure`: the session runs a
 * process; an attach configuration's own session has none when js-debug runs the target in a
 * child session). Never rejects.
 */
export async function loadThroughDebugger(s: Services, session: vscode.DebugSession, key: string, sayFailure: boolean): Promise<void> {
  const load = attachLoads.get(key);
  if (!load) return;
  let last = '';
  for (let attempt = 0; attempt < 20; attempt++) {
    const entry = s.traces.get(key);
    if (!entry?.session || entry.origin !== 'current') return;
    try {
      const r = (await session.customRequest('evaluate', { expression: load.expression, context: 'repl' })) as { result?: string };
      const text = String(r?.result ?? '');
      const loaded = parseAttachLoaded(text);
      if (loaded) {
        const { pid } = loaded;
        if (load.loaded.has(pid)) return;
        load.loaded.set(pid, loaded.inspector);
        // No note for a process held before its program (js-debug's bootloader): nothing came before.
        const note = midRunNote(loaded, load.name, new Date());
        if (note) entry.session.warn(note);
        s.nodeSessions.noteNotTraced(undefined);
        s.log(`${key}: preload loaded into pid ${pid} through the debugger${loaded.beforeProgram ? ', before its program started' : ''}`);
        return;
      }
      last = text;
      // The process answered why not: no retry, unless it is still starting (asked again).
      if (/nettrace: /.test(text) && !text.includes(STILL_STARTING)) break;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  // An attach configuration's own session runs no process when its child session does (loaded there).
  if (!last || (load.loaded.size > 0 && !sayFailure)) return;
  s.log(`${key}: the preload could not be loaded through "${session.name}": ${last}`);
  if (sayFailure && !/already loaded/.test(last))
    s.nodeSessions.noteNotTraced(
      `"${load.name}": the preload could not be loaded into the attached process (${last}); start the program from a launch configuration or a JavaScript Debug Terminal instead.`,
    );
}

/** The program of the initial configuration: the active JS/TS file of the folder, else index.js. */
function guessProgram(folder: vscode.WorkspaceFolder | undefined): string {
  const doc = vscode.window.activeTextEditor?.document;
  if (folder && doc && doc.uri.scheme === 'file' && /^(javascript|typescript)/.test(doc.languageId)) {
    const rel = relative(folder.uri.fsPath, doc.uri.fsPath);
    if (rel && !rel.startsWith('..') && !isAbsolute(rel)) return `\${workspaceFolder}/${rel.split(sep).join('/')}`;
  }
  return '${workspaceFolder}/index.js';
}
