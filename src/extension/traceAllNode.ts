/**
 * "Net Trace: Trace All Node Debugging": the `nettrace.traceNodeSessions` switch, its palette
 * command and status bar toggle, and the JavaScript Debug Terminal.
 *
 * While the switch is "all":
 *   - every `node`, `pwa-node` and `node-terminal` launch is traced (debugProviders.ts injects the
 *     preload, nodeSessions.ts decides and says why a session is not traced), and a local attach
 *     from the attach on (the preload loaded through the debugger);
 *   - every JavaScript Debug Terminal created from then on gets the preload in its environment,
 *     through js-debug's extension API (`registerDebugTerminalOptionsProvider`, from the
 *     `ms-vscode.js-debug` extension's exports): each command typed into it records into a trace
 *     of its own, live, from every Node process it starts (children and workers inherit the
 *     environment; terminalRouter.ts groups them by command).
 */

import * as vscode from 'vscode';
import { addPreloadEnv } from '../collector/launchEnv';
import { RulesController } from '../collector/rules';
import type { PreloadConfig } from '../protocol/preload';
import { redactedArgNames } from '../trace/contract/redact';
import { prepareTrace, startHelper } from './debugProviders';
import { launchTracing, preloadConfigOf, type LaunchTracing } from './launchConfig';
import { TerminalRouter, type RoutedTrace } from './terminalRouter';
import { allowWorkspaceValue, guardedSetting, whatIfRulesIfTrusted } from './settingsGuard';
import { hidingRules, noticeHiding } from './hiddenRules';
import { TRACE_NODE_SESSIONS_SETTING, traceNodeSessionsMode, type TraceNodeSessions } from './nodeSessions';
import { preloadPathOf, reportOptionError, settings, tracingDefaults, type NodeSessionState, type Services } from './services';

/** The palette command that toggles the switch. */
export const TOGGLE_COMMAND = 'nettrace.toggleTraceAllNode';

/** The switch's state and the last session it could not trace, shared by the provider, status bar and panel. */
export class NodeSessionSwitch implements NodeSessionState, vscode.Disposable {
  private notTraced: string | undefined;
  private readonly emitter = new vscode.EventEmitter<void>();
  /** Fires when the setting or the not-traced reason changed. */
  readonly onDidChange = this.emitter.event;
  private readonly sub = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration(`nettrace.${TRACE_NODE_SESSIONS_SETTING}`)) this.emitter.fire();
  });

  /** The setting's value now. */
  mode(): TraceNodeSessions {
    // "all" from a workspace's settings counts only once the user allowed it (settingsGuard.ts).
    return traceNodeSessionsMode(guardedSetting(TRACE_NODE_SESSIONS_SETTING));
  }

  /** Why the last Node session was not traced (undefined once one was). */
  get lastNotTraced(): string | undefined {
    return this.notTraced;
  }

  /** Records why a session was not traced (undefined: the last one was traced). */
  noteNotTraced(reason: string | undefined): void {
    if (reason === this.notTraced) return;
    this.notTraced = reason;
    this.emitter.fire();
  }

  /** Turns the switch over, where the setting is set (the workspace's value when it has one, else the user's). */
  async toggle(): Promise<TraceNodeSessions> {
    const next: TraceNodeSessions = this.mode() === 'all' ? 'netTraceOnly' : 'all';
    const inspected = settings().inspect(TRACE_NODE_SESSIONS_SETTING);
    const target =
      inspected?.workspaceFolderValue !== undefined
        ? vscode.ConfigurationTarget.WorkspaceFolder
        : inspected?.workspaceValue !== undefined
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.Global;
    // The user's own act: the value written into the workspace's settings is theirs.
    if (target !== vscode.ConfigurationTarget.Global) await allowWorkspaceValue(TRACE_NODE_SESSIONS_SETTING, next);
    await settings().update(TRACE_NODE_SESSIONS_SETTING, next, target);
    // Writing the value already there (an ignored workspace value, now allowed) changes no setting.
    this.emitter.fire();
    return next;
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}

/** Registers the toggle command, the status bar toggle and the JavaScript Debug Terminal hook. */
export function registerTraceAllNode(s: Services, sw: NodeSessionSwitch): void {
  const item = vscode.window.createStatusBarItem('nettrace.traceAllNode', vscode.StatusBarAlignment.Left, 9);
  item.name = 'Net Trace: Trace All Node Debugging';
  item.command = TOGGLE_COMMAND;
  const draw = (): void => {
    const on = sw.mode() === 'all';
    item.text = on ? '$(pulse) All Node' : '$(circle-slash) All Node';
    const state = on
      ? 'Net Trace traces every Node debug session and JavaScript Debug Terminal (an attached process from the attach on).'
      : 'Net Trace traces only "Net Trace" launch configurations.';
    const why = sw.lastNotTraced ? `\n\nNot traced: ${sw.lastNotTraced}` : '';
    item.tooltip = `${state}${why}\n\nClick to turn ${on ? 'off' : 'on'} (Net Trace: Trace All Node Debugging).`;
    item.accessibilityInformation = { label: `Net Trace: Trace All Node Debugging is ${on ? 'on' : 'off'}` };
    item.show();
  };
  draw();
  const hook = debugTerminalHook(s);
  s.context.subscriptions.push(
    item,
    sw.onDidChange(draw),
    vscode.commands.registerCommand(TOGGLE_COMMAND, async () => {
      const next = await sw.toggle();
      if (next === 'all') await hook();
      void vscode.window.setStatusBarMessage(
        next === 'all'
          ? 'Net Trace: tracing every Node debug session (new JavaScript Debug Terminals too)'
          : 'Net Trace: tracing only Net Trace launch configurations',
        4000,
      );
    }),
    sw.onDidChange(() => {
      if (sw.mode() === 'all') void hook();
    }),
  );
  if (sw.mode() === 'all') void hook();
}

/** js-debug's extension API (its `IExports`, from @vscode/js-debug's typings). */
interface JsDebugApi {
  registerDebugTerminalOptionsProvider(provider: {
    provideTerminalOptions(options: vscode.TerminalOptions): vscode.ProviderResult<vscode.TerminalOptions>;
  }): vscode.Disposable;
}

/** The js-debug extensions that export the terminal API, the nightly first (it replaces the built-in one when installed). */
const JS_DEBUG_IDS = ['ms-vscode.js-debug-nightly', 'ms-vscode.js-debug'];

/**
 * The function that registers the debug terminal options provider, once (js-debug is activated for
 * it, which is why this waits until the switch is first on). It resolves false when no js-debug
 * with the API is installed, and tries again on the next call.
 */
function debugTerminalHook(s: Services): () => Promise<boolean> {
  let hooked: Promise<boolean> | undefined;
  const attempt = async (): Promise<boolean> => {
    for (const id of JS_DEBUG_IDS) {
      const ext = vscode.extensions.getExtension<Partial<JsDebugApi>>(id);
      if (!ext) continue;
      let api: Partial<JsDebugApi> | undefined;
      try {
        api = ext.isActive ? ext.exports : await ext.activate();
      } catch (err) {
        s.log(`${id} did not activate: ${(err as Error).message}`);
        continue;
      }
      if (typeof api?.registerDebugTerminalOptionsProvider !== 'function') continue;
      const terminals = new DebugTerminalTraces(s);
      s.context.subscriptions.push(
        terminals,
        api.registerDebugTerminalOptionsProvider({ provideTerminalOptions: (o) => terminals.provide(o) }),
      );
      s.log(`JavaScript Debug Terminals: traced through ${id} while nettrace.traceNodeSessions is "all"`);
      return true;
    }
    s.log('JavaScript Debug Terminals are not traced: no js-debug extension with registerDebugTerminalOptionsProvider');
    return false;
  };
  return () =>
    (hooked ??= attempt().then((ok) => {
      if (!ok) hooked = undefined;
      return ok;
    }));
}

/** A JavaScript Debug Terminal created while the switch was on: its router, and its shell once known. */
interface TracedTerminal {
  router: TerminalRouter;
  shellPid?: number;
}

/**
 * The JavaScript Debug Terminals created while the switch is on: each gets a TerminalRouter whose
 * socket goes into the terminal's NETTRACE_CONFIG, and one trace per command typed into it (named
 * by the command line, live from its first traced process, ended a few seconds after its last
 * process, or when the terminal closes).
 */
class DebugTerminalTraces implements vscode.Disposable {
  /** By the NETTRACE_CONFIG value given to the terminal (it names the router's unique socket). */
  private readonly byConfig = new Map<string, TracedTerminal>();
  private readonly subs: vscode.Disposable[];

  constructor(private readonly s: Services) {
    const configOf = (t: vscode.Terminal): string | undefined => {
      const value = (t.creationOptions as vscode.TerminalOptions).env?.NETTRACE_CONFIG;
      return typeof value === 'string' ? value : undefined;
    };
    this.subs = [
      vscode.window.onDidOpenTerminal((t) => {
        const terminal = this.byConfig.get(configOf(t) ?? '');
        if (terminal) void t.processId.then((pid) => (terminal.shellPid = pid));
      }),
      vscode.window.onDidCloseTerminal((t) => {
        const config = configOf(t);
        const terminal = config === undefined ? undefined : this.byConfig.get(config);
        if (!terminal) return;
        this.byConfig.delete(config!);
        void terminal.router.keys().then((keys) => {
          void terminal.router.close();
          for (const key of keys) this.end(key);
        });
      }),
    ];
  }

  /** js-debug's options for a new debug terminal, with the preload in its environment when the switch is on. */
  async provide(options: vscode.TerminalOptions): Promise<vscode.TerminalOptions> {
    const { s } = this;
    if (s.nodeSessions.mode() !== 'all') return options;
    // js-debug asks for a node-terminal launch's terminal too: its env already has the launch's trace.
    if (typeof options.env?.NETTRACE_CONFIG === 'string') return options;
    const tracing = launchTracing({}, tracingDefaults(), (err) => reportOptionError(err, s.log));
    const name = options.name || 'JavaScript Debug Terminal';
    const terminal: TracedTerminal = {
      router: new TerminalRouter({
        shellPid: () => terminal.shellPid,
        open: (command) => this.open(command ? `${command} (${name})` : name, tracing),
        idle: (key) => this.end(key),
        // The command line names the trace: its secret options redacted as in processes[].argv.
        argNames: redactedArgNames(tracing.redact, tracing.redactQuery),
        log: s.log,
      }),
    };
    // The first set of trace rules, so that each process applies them from its first request, as
    // in a launch (each command's collector sends its own set after the process's hello).
    let rulesConfig: Partial<PreloadConfig>;
    try {
      const launchRules = s.rules.rulesForLaunch(tracing.rules);
      // Off in an untrusted workspace (settingsGuard.ts): they change what the program receives.
      launchRules.rules = whatIfRulesIfTrusted(launchRules.rules);
      rulesConfig = new RulesController({
        rules: launchRules.rules,
        defaultAction: tracing.defaultAction,
        slowThresholdMs: tracing.slowThresholdMs,
      }).preloadConfig();
      // Skip rules and a skip default the user did not set hide requests: said, never silently (hiddenRules.ts).
      noticeHiding(hidingRules(launchRules.rules, launchRules.workspaceIds, tracing.defaultAction), s.context.workspaceState, s.log, () =>
        s.panel.revealRules(),
      );
    } catch (err) {
      void vscode.window.showErrorMessage(`Net Trace: the trace rules are not valid — ${(err as Error).message}`);
      return options;
    }
    const ipcPath = await terminal.router.listen();
    const env: Record<string, string | null | undefined> = { ...(options.env ?? {}) };
    // The router's key: it proves it to each process, and asks each command's collector for its own.
    const config = { ...preloadConfigOf(tracing, ipcPath), ...rulesConfig, collectorKey: terminal.router.collectorKey };
    addPreloadEnv(env, { preloadPath: preloadPathOf(s), config });
    this.byConfig.set(env.NETTRACE_CONFIG as string, terminal);
    s.nodeSessions.noteNotTraced(undefined);
    s.log(`JavaScript Debug Terminal: one trace per command, NODE_OPTIONS=${env.NODE_OPTIONS ?? ''}`);
    return { ...options, env };
  }

  /** A command's first traced process connected: its trace, live until the command's last process is gone. */
  private async open(label: string, tracing: LaunchTracing): Promise<RoutedTrace | undefined> {
    const { s } = this;
    const prepared = await prepareTrace(s, label, tracing);
    if (!prepared) return undefined;
    const { key, ipcPath } = prepared;
    const collectorKey = prepared.rulesConfig.collectorKey;
    // No debug session stands for the command: it is live from now until its processes are gone.
    s.traces.attach(key, `terminal:${key}`);
    startHelper(s, key, tracing);
    if (tracing.openPanel) s.panel.show({ preserveFocus: true });
    s.panel.showTrace(key);
    return { key, ipcPath, collectorKey };
  }

  private end(key: string): void {
    if (this.s.traces.get(key)?.origin !== 'current') return;
    void this.s.helpers
      .finish(key, 2000)
      .then(() => this.s.traces.end(key))
      .then(() => this.s.helpers.prune());
  }

  dispose(): void {
    for (const sub of this.subs) sub.dispose();
    for (const t of this.byConfig.values()) void t.router.close();
    this.byConfig.clear();
  }
}
