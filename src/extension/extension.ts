/**
 * The Net Trace VS Code extension: the only code that imports `vscode` (see
 * docs/architecture.md). Thin glue over the core; `activate` builds the shared state and
 * hands it to one `register…` function per concern:
 *   - debugProviders.ts: the `nettrace` debug configuration provider (launchConfig.ts), the
 *     `pwa-node`/`node`/`node-terminal` provider that starts a collector per session and injects
 *     the preload, and the session lifecycle into the TraceStore;
 *   - traceAllNode.ts: "Trace All Node Debugging" (every Node session, JavaScript Debug Terminals);
 *   - commands.ts: the commands; statusBar.ts: the status bar item;
 *   - ruleCommands.ts + ruleService.ts: the trace rules set in VS Code (Rules view, row menu, palette);
 *   - here: the panel (panel.ts) and its serializer, the editor annotations (codeLens.ts).
 */

import { join } from 'node:path';
import * as vscode from 'vscode';
import { startCollector } from '../collector/server';
import { TraceAnnotations } from './codeLens';
import { COMMANDS, registerCommands, type Commands } from './commands';
import { registerCopyCommands } from './copyCommands';
import { registerDebugProviders } from './debugProviders';
import { registerFoundProcessTracing } from './autoAttach';
import { registerHelperSetup } from './helperSetup';
import { registerRuleCommands, RULE_COMMANDS } from './ruleCommands';
import { registerWhatIfCommands } from './whatIfCommands';
import { registerWhatIfStatus } from './whatIfStatus';
import { registerWhatIfTrust, whatIfOffReason } from './whatIfTrust';
import { RuleService } from './ruleService';
import { SessionHelpers } from './helpers';
import { PANEL_VIEW_TYPE, PanelHost, type PanelHandlers } from './panel';
import { helperRoot, settings, type Services } from './services';
import { registerStatusBar } from './statusBar';
import { registerReplay } from './replayCommands';
import { NodeSessionSwitch, registerTraceAllNode } from './traceAllNode';
import { TraceStore } from './traceStore';
import { guardedSetting, initSettingsGuard } from './settingsGuard';
import { redactedArgNames } from '../trace/contract/redact';

let store: TraceStore | undefined;

/** Called by VS Code on the first activation event. */
export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Net Trace');
  const log = (line: string) => output.appendLine(`[${new Date().toISOString().slice(11, 23)}] ${line}`);
  context.subscriptions.push(output);
  // The user's answers about this workspace's settings (settingsGuard.ts) are kept per workspace.
  initSettingsGuard(context.workspaceState);
  const traces = openStore(context, log);
  // The panel's buttons and links run the commands, which need the panel: bound once both exist.
  const late: { commands?: Commands } = {};
  // Trace rules added in VS Code are kept per workspace (workspaceState) and read first by every next session.
  const rules = new RuleService(traces, context.workspaceState, log, whatIfOffReason);
  const panel = registerPanel(context, traces, log, {
    command: (command, traceKey) => void late.commands?.runPanelCommand(command, traceKey),
    openInitiator: (file, line, column, panelColumn) => void late.commands?.openInitiator(file, line, column, panelColumn),
    rules,
  });
  const helpers = new SessionHelpers(traces, () => helperRoot(context.extensionPath), log);
  context.subscriptions.push(helpers);
  const nodeSessions = new NodeSessionSwitch();
  context.subscriptions.push(
    nodeSessions,
    nodeSessions.onDidChange(() => panel.setNotTraced(nodeSessions.lastNotTraced)),
  );
  const services: Services = { context, traces, panel, helpers, rules, nodeSessions, log };

  registerAnnotations(services);
  registerReplay(services);
  const updateStatus = registerStatusBar(services, COMMANDS.showPanel);
  registerDebugProviders(services, updateStatus);
  context.subscriptions.push(registerFoundProcessTracing(services, updateStatus));
  registerTraceAllNode(services, nodeSessions);
  late.commands = registerCommands(services);
  registerCopyCommands(services);
  registerRuleCommands(services, rules);
  registerWhatIfCommands(services, rules);
  registerWhatIfStatus(context, traces, rules, RULE_COMMANDS.show, log);
  registerWhatIfTrust(context, panel);
  registerHelperSetup(context);
  log(`Net Trace activated (preload ${join(context.extensionPath, 'dist', 'preload.cjs')})`);
}

/**
 * The trace store. Ended sessions are kept in the workspace's extension storage, so "earlier
 * sessions" (and the panel restored after a window reload) survive the extension host.
 */
function openStore(context: vscode.ExtensionContext, log: (line: string) => void): TraceStore {
  const persistDir = context.storageUri?.scheme === 'file' ? join(context.storageUri.fsPath, 'sessions') : undefined;
  const argNames = () => redactedArgNames(guardedSetting<string[]>('redact'), guardedSetting<string[]>('redactQuery'));
  store = new TraceStore({ startCollector, log, persistDir, argNames });
  const traces = store;
  const restored = traces.restore();
  if (restored > 0) log(`restored ${restored} earlier sessions from ${persistDir}`);
  context.subscriptions.push({ dispose: () => void traces.dispose() });
  return traces;
}

/** The panel, and its serializer (a panel restored after a window reload is adopted). */
function registerPanel(
  context: vscode.ExtensionContext,
  traces: TraceStore,
  log: (line: string) => void,
  handlers: Omit<PanelHandlers, 'log'>,
): PanelHost {
  const panel = new PanelHost(context.extensionUri, traces, { ...handlers, log, memento: context.workspaceState });
  context.subscriptions.push(
    panel,
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      async deserializeWebviewPanel(webviewPanel) {
        panel.adopt(webviewPanel);
      },
    }),
  );
  return panel;
}

/** CodeLens and hovers over the lines that made the shown trace's requests. */
function registerAnnotations(s: Services): void {
  const annotations = new TraceAnnotations(s.traces, () => settings().get<boolean>('codeLens', true));
  s.context.subscriptions.push(
    annotations,
    s.panel.onDidChangeTrace((key) => annotations.setActive(key)),
    vscode.languages.registerCodeLensProvider({ scheme: 'file' }, annotations),
    vscode.languages.registerHoverProvider({ scheme: 'file' }, annotations),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('nettrace.codeLens')) annotations.refreshNow();
    }),
  );
}

/** Called by VS Code on shutdown: closes running collectors. */
export async function deactivate(): Promise<void> {
  await store?.dispose();
  store = undefined;
}
