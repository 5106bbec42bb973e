/**
 * The Net Trace VS Code extension: the only code that imports `vscode` (see
 * shared/docs/architecture.md). Thin glue over the core:
 *   - the `nettrace` debug configuration provider (launchConfig.ts) and a `pwa-node`/`node`
 *     provider that starts a collector per session and injects the preload (phase 2);
 *   - session tracking (onDidStart/TerminateDebugSession) into the TraceStore;
 *   - the panel (panel.ts), editor annotations (codeLens.ts), commands, status bar, Output channel.
 */

import { isAbsolute, join, relative, sep } from 'node:path';
import * as vscode from 'vscode';
import { pcapUnavailableReason } from '../collector/helperLink';
import { startCollector } from '../collector/server';
import { PcapUnavailableError, SessionHelper } from '../collector/helperSession';
import type { PanelCommand } from '../protocol/webview';
import type { InitiatorMode } from '../protocol/preload';
import { toHar } from '../trace/har';
import { readTraceFileAsync, TraceFileError, writeHarFile, writeTraceFile } from '../trace/traceFile';
import type { HeaderCaptureMode } from '../trace/types';
import { framePath } from './annotations';
import { SELECT_REQUEST_COMMAND, TraceAnnotations, type SelectRequestArgs } from './codeLens';
import {
  DEBUG_TYPE,
  defaultLaunchConfig,
  describeLaunch,
  EnvFileError,
  injectTracing,
  isEmptyConfig,
  needsTracing,
  toNodeLaunchConfig,
  type NettraceLaunchConfig,
  type TracingDefaults,
} from './launchConfig';
import { PANEL_VIEW_TYPE, PanelHost } from './panel';
import { registerPauseFlush } from './pauseFlush';
import { TraceStore, type TraceEntry } from './traceStore';

/** The extension's commands (package.json `contributes.commands`). */
export const COMMANDS = {
  showPanel: 'nettrace.showPanel',
  saveTrace: 'nettrace.saveTrace',
  exportHar: 'nettrace.exportHar',
  openTrace: 'nettrace.openTrace',
  clear: 'nettrace.clear',
  savePcap: 'nettrace.savePcap',
  selectRequest: SELECT_REQUEST_COMMAND,
} as const;

/** Ended sessions whose packet capture (the helper's spool) is kept for Save PCAP. */
const KEPT_CAPTURES = 5;

let store: TraceStore | undefined;
/** The privileged helper of each session (by trace key), kept after the session for Save PCAP. */
const helpers = new Map<string, SessionHelper>();

/** Called by VS Code on the first activation event. */
export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Net Trace');
  const log = (line: string) => output.appendLine(`[${new Date().toISOString().slice(11, 23)}] ${line}`);
  const settings = () => vscode.workspace.getConfiguration('nettrace');
  const preload = join(context.extensionPath, 'dist', 'preload.cjs');

  // Ended sessions are kept in the workspace's extension storage, so "earlier sessions" (and the
  // panel restored after a window reload) survive the extension host.
  const persistDir = context.storageUri?.scheme === 'file' ? join(context.storageUri.fsPath, 'sessions') : undefined;
  store = new TraceStore({ startCollector, log, persistDir });
  const traces = store;
  const restored = traces.restore();
  if (restored > 0) log(`restored ${restored} earlier sessions from ${persistDir}`);
  const annotations = new TraceAnnotations(traces, () => settings().get<boolean>('codeLens', true));
  const panel = new PanelHost(context.extensionUri, traces, {
    openInitiator: (file, line, column, panelColumn) => void openInitiator(file, line, column, panelColumn),
    command: (command, traceKey) => void runPanelCommand(command, traceKey),
    log,
  });
  context.subscriptions.push(output, panel, annotations, { dispose: () => void traces.dispose() });
  context.subscriptions.push(panel.onDidChangeTrace((key) => annotations.setActive(key)));

  // ---- debug configuration ----------------------------------------------------------------------

  const tracingDefaults = (): TracingDefaults => {
    const s = settings();
    const headers = s.get<HeaderCaptureMode>('headers', 'values');
    return {
      headers: headers === 'none' || headers === 'names' ? headers : 'values',
      redact: (s.get<unknown[]>('redact', []) ?? []).filter((v): v is string => typeof v === 'string'),
      redactQuery: (s.get<unknown[]>('redactQuery', []) ?? []).filter((v): v is string => typeof v === 'string'),
      openPanelOnStart: s.get<boolean>('openPanelOnStart', true),
      // Validated by toNodeLaunchConfig like the launch attributes of the same names.
      dnsTrace: s.get<boolean>('dnsTrace', false),
      dnsServers: (s.get<unknown[]>('dnsServers', []) ?? []).filter((v): v is string => typeof v === 'string'),
      sockTrace: s.get<boolean | number>('sockTrace', false),
      bodies: s.get<boolean | number>('bodies', false),
      slowThresholdMs: s.get<number>('slowThresholdMs', 1000),
      initiator: s.get<InitiatorMode>('initiator', 'sampled'),
      helper: s.get<string>('helper', 'auto') === 'off' ? 'off' : 'auto',
      pcap: s.get<boolean>('pcap', false),
    };
  };

  // ---- privileged helper ------------------------------------------------------------------------

  /**
   * Starts the helper on the program's first process once it reports in (js-debug starts the
   * program, so it cannot wait at a gate as under `nettrace run`): connections made in the
   * moment before the helper is attached get no kernel metrics.
   */
  const startHelperFor = (key: string, pcap: boolean): void => {
    const entry = traces.get(key);
    const session = entry?.session;
    if (!session) return;
    session.once('process', (pid) => {
      if (!entry.collector) return;
      void SessionHelper.start(session, {
        pid,
        pcap,
        root: helperRoot(),
        allowPrompt: false,
        warnIfNotBuilt: false,
      }).then((h) => {
        helpers.set(key, h);
        if (h.running) log(`${key}: helper attached to pid ${pid} (${h.authority}, ${h.link.ready?.mode})`);
        else log(`${key}: no helper: ${h.notRunning}`);
        // The session may have ended while the helper started.
        if (!entry.collector) void h.stop();
        pruneCaptures();
      });
    });
  };

  /** An installed copy of the helper (nettrace.helperRoot, machine scope), else this extension's. */
  const helperRoot = (): string => {
    const configured = settings().get<string>('helperRoot', '');
    return typeof configured === 'string' && isAbsolute(configured) ? configured : context.extensionPath;
  };

  /** Keeps the captures of the newest ended sessions only. */
  const pruneCaptures = (): void => {
    const ended = [...helpers.entries()].filter(([k]) => traces.get(k)?.origin !== 'current');
    for (const [k, h] of ended.slice(0, Math.max(0, ended.length - KEPT_CAPTURES))) {
      h.removeSpool();
      helpers.delete(k);
    }
  };
  context.subscriptions.push({
    dispose: () => {
      for (const h of helpers.values()) {
        void h.stop();
        h.removeSpool();
      }
      helpers.clear();
    },
  });

  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider(DEBUG_TYPE, {
      provideDebugConfigurations: (folder) => [defaultLaunchConfig(guessProgram(folder))],
      resolveDebugConfiguration(_folder, config) {
        let c = config as NettraceLaunchConfig;
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
        // The type becomes js-debug's; VS Code hands the result to js-debug's resolver next.
        return toNodeLaunchConfig(c, tracingDefaults()) as unknown as vscode.DebugConfiguration;
      },
    }),
    vscode.debug.registerDebugConfigurationProvider(
      DEBUG_TYPE,
      { provideDebugConfigurations: () => [{ ...defaultLaunchConfig('${file}'), name: 'Net Trace: Current File' }] },
      vscode.DebugConfigurationProviderTriggerKind.Dynamic,
    ),
  );

  // Phase 2, after js-debug's own resolution and variable substitution: only for configurations
  // that came from a Net Trace launch (they carry `__nettrace`).
  const inject: vscode.DebugConfigurationProvider = {
    async resolveDebugConfigurationWithSubstitutedVariables(folder, config) {
      if (!needsTracing(config) || config.__nettraceSession) return config;
      const { key, ipcPath } = await traces.prepare(describeLaunch(config), {
        openPanel: config.__nettrace.openPanel,
        slowThresholdMs: config.__nettrace.slowThresholdMs,
        redactQuery: config.__nettrace.redactQuery,
      });
      try {
        const resolved = injectTracing(config, { preloadPath: preload, ipcPath, sessionId: key, workspaceFolder: folder?.uri.fsPath });
        const session = traces.get(key)?.session;
        if (config.__nettrace.helper === 'off') {
          if (session)
            helpers.set(
              key,
              SessionHelper.off(session, 'turned off ("helper": "off" in the launch configuration, or the nettrace.helper setting)'),
            );
        } else startHelperFor(key, config.__nettrace.pcap !== false);
        log(
          `${key}: launching ${JSON.stringify(resolved.program ?? resolved.runtimeExecutable ?? '')} with NODE_OPTIONS=${resolved.env?.NODE_OPTIONS ?? ''}`,
        );
        return resolved as unknown as vscode.DebugConfiguration;
      } catch (err) {
        void traces.end(key);
        if (err instanceof EnvFileError) {
          void vscode.window.showErrorMessage(`Net Trace: ${err.message}`);
          return undefined;
        }
        throw err;
      }
    },
  };
  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider('pwa-node', inject),
    vscode.debug.registerDebugConfigurationProvider('node', inject),
  );

  // ---- sessions ---------------------------------------------------------------------------------

  context.subscriptions.push(
    vscode.debug.onDidStartDebugSession((s) => {
      const entry = traces.attach(s.configuration.__nettraceSession, s.id);
      if (!entry) return;
      if (entry.openPanel !== false) panel.show({ preserveFocus: true });
      panel.showTrace(entry.key);
      updateStatus();
    }),
    vscode.debug.onDidTerminateDebugSession((s) => {
      const entry = traces.byDebugSession(s.id);
      if (!entry || entry.origin !== 'current') return;
      // The helper's last readings (it lingers briefly after the program) go into the trace first.
      const helper = helpers.get(entry.key);
      void Promise.resolve(helper?.finish(2000))
        .catch(() => {})
        .then(() => traces.end(entry.key))
        .then(pruneCaptures);
    }),
  );

  // Paused at a breakpoint, the program's flush timer cannot fire: ask it to flush through the
  // debugger, so the panel lists what completed before the pause.
  context.subscriptions.push(registerPauseFlush((c) => traces.bySessionMarker(c.__nettraceSession)?.origin === 'current', log));

  // ---- status bar -------------------------------------------------------------------------------

  const status = vscode.window.createStatusBarItem('nettrace.status', vscode.StatusBarAlignment.Left, 10);
  status.name = 'Net Trace';
  status.command = COMMANDS.showPanel;
  context.subscriptions.push(status);
  const updateStatus = () => {
    const live = traces.live();
    if (live.length === 0) {
      status.hide();
      return;
    }
    const shown = live.find((e) => e.key === panel.traceKey) ?? live.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
    const { requests, failed } = traces.counts(shown);
    status.text = `$(pulse) Net Trace: ${requests} ${requests === 1 ? 'request' : 'requests'}${failed > 0 ? `, ${failed} failed` : ''}`;
    status.tooltip = `${shown.label}${live.length > 1 ? ` (${live.length} sessions recording)` : ''} — click to show the Net Trace panel`;
    status.show();
  };
  // On the same (throttled) change events as the panel: a timer of its own here made the count
  // trail the panel's list.
  traces.on('change', updateStatus);
  traces.on('list', updateStatus);
  traces.on('cleared', updateStatus);

  // ---- panel serializer -------------------------------------------------------------------------

  context.subscriptions.push(
    vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
      async deserializeWebviewPanel(webviewPanel) {
        panel.adopt(webviewPanel);
      },
    }),
  );

  // ---- commands ---------------------------------------------------------------------------------

  const target = (traceKey?: unknown): TraceEntry | undefined =>
    traces.get(typeof traceKey === 'string' ? traceKey : undefined) ?? traces.get(panel.traceKey);

  const defaultUri = (name: string): vscode.Uri | undefined => {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    return folder ? vscode.Uri.joinPath(folder, name) : undefined;
  };

  const timestamp = () => new Date().toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');

  async function save(kind: 'json' | 'har', traceKey?: unknown, uri?: unknown): Promise<void> {
    const entry = target(traceKey);
    if (!entry) {
      void vscode.window.showInformationMessage(
        'Net Trace: there is no trace to save yet. Start debugging with the "Net Trace" launch configuration.',
      );
      return;
    }
    const ext = kind === 'json' ? 'json' : 'har';
    let dest = uri instanceof vscode.Uri ? uri : undefined;
    dest ??= await vscode.window.showSaveDialog({
      title: kind === 'json' ? 'Save Net Trace' : 'Export HAR',
      defaultUri: defaultUri(`nettrace-${timestamp()}.${ext}`),
      filters: kind === 'json' ? { 'Net Trace JSON': ['json'] } : { 'HTTP Archive': ['har'] },
      saveLabel: kind === 'json' ? 'Save Trace' : 'Export HAR',
    });
    if (!dest) return;
    if (dest.scheme !== 'file') {
      void vscode.window.showErrorMessage(`Net Trace: can only save to local files (got ${dest.scheme}:).`);
      return;
    }
    const path = dest.fsPath;
    try {
      if (entry.session) {
        if (kind === 'json') await entry.session.saveJson(path);
        else await entry.session.saveHar(path);
      } else {
        const trace = traces.fullTrace(entry);
        if (kind === 'json') await writeTraceFile(path, trace);
        else await writeHarFile(path, toHar(trace));
      }
      log(`saved ${entry.key} as ${kind.toUpperCase()} to ${path}`);
      void vscode.window.showInformationMessage(`Net Trace: saved ${traces.requestCount(entry)} requests to ${path}`);
    } catch (err) {
      log(`saving ${entry.key} to ${path} failed: ${(err as Error).message}`);
      void vscode.window.showErrorMessage(`Net Trace: could not save ${path}: ${(err as Error).message}`);
    }
  }

  async function openTrace(uri?: unknown): Promise<void> {
    let file = uri instanceof vscode.Uri ? uri : undefined;
    if (!file) {
      const picked = await vscode.window.showOpenDialog({
        title: 'Open Net Trace File',
        canSelectMany: false,
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
        filters: { 'Net Trace JSON': ['json'], 'All files': ['*'] },
        openLabel: 'Open Trace',
      });
      file = picked?.[0];
    }
    if (!file) return;
    try {
      const trace = await readTraceFileAsync(file.fsPath);
      const entry = traces.addFile(file.fsPath, trace);
      log(`opened ${file.fsPath}: ${trace.httpRequests.length} requests`);
      panel.show({ preserveFocus: false });
      panel.showTrace(entry.key);
    } catch (err) {
      const message = err instanceof TraceFileError ? err.message : `cannot open ${file.fsPath}: ${(err as Error).message}`;
      log(`open trace failed: ${message}`);
      void vscode.window.showErrorMessage(`Net Trace: ${message}`);
    }
  }

  function clear(traceKey?: unknown): void {
    const entry = target(traceKey);
    if (!entry) return;
    traces.clear(entry.key);
    log(`cleared ${entry.key}`);
  }

  /**
   * Save PCAP: the packets of the session, or of one request (the `requestTraceID` argument, or
   * the request selected in the panel, offered as a choice), as pcapng with the trace IDs in each
   * packet's comment. Says plainly why when there is no capture, and how to get one.
   */
  async function savePcap(traceKey?: unknown, requestTraceID?: unknown, uri?: unknown): Promise<void> {
    const entry = target(traceKey);
    if (!entry) {
      void vscode.window.showInformationMessage(
        'Net Trace: there is no trace to save packets from yet. Start debugging with the "Net Trace" launch configuration.',
      );
      return;
    }
    const helper = helpers.get(entry.key);
    const why = helper ? helper.pcapUnavailable() : pcapUnavailableFor(entry);
    if (why || !helper) {
      void vscode.window.showWarningMessage(`Net Trace: no packet capture to save for ${entry.label}: ${why}`);
      return;
    }
    let request = typeof requestTraceID === 'string' ? requestTraceID : undefined;
    const selected = panel.selectedRequest(entry.key);
    if (request === undefined && selected && entry.session) {
      const req = entry.session.builder.get('httpRequests', selected);
      const pick = await vscode.window.showQuickPick(
        [
          { label: 'Whole session', description: `${traces.requestCount(entry)} requests`, id: undefined },
          { label: 'Selected request only', description: req ? `${req.reqMethod} ${req.reqURL}` : selected, id: selected },
        ],
        { title: 'Save PCAP', placeHolder: 'Which packets?' },
      );
      if (!pick) return;
      request = pick.id;
    }
    let dest = uri instanceof vscode.Uri ? uri : undefined;
    dest ??= await vscode.window.showSaveDialog({
      title: 'Save PCAP (not redacted: what was sent in clear is in it as sent)',
      defaultUri: defaultUri(`nettrace-${timestamp()}${request ? `-${request}` : ''}.pcapng`),
      filters: { 'pcapng (Wireshark)': ['pcapng'] },
      saveLabel: 'Save PCAP',
    });
    if (!dest) return;
    if (dest.scheme !== 'file') {
      void vscode.window.showErrorMessage(`Net Trace: can only save to local files (got ${dest.scheme}:).`);
      return;
    }
    try {
      const saved = helper.savePcap(dest.fsPath, request);
      log(`saved the packets of ${entry.key}${request ? ` (${request})` : ''} to ${saved.file}: ${saved.packets} packets`);
      void vscode.window.showInformationMessage(
        `Net Trace: saved ${saved.packets} packets${request ? ` of ${request}` : ''} to ${saved.file}${saved.truncated ? ' (the capture hit its size cap)' : ''}. ` +
          'It is not redacted: plain-HTTP credentials, cookies, query tokens and bodies are in it as sent (readable only by you, 0600).',
      );
    } catch (err) {
      const message = err instanceof PcapUnavailableError ? err.message : `could not save ${dest.fsPath}: ${(err as Error).message}`;
      log(`Save PCAP of ${entry.key} failed: ${message}`);
      void vscode.window.showErrorMessage(`Net Trace: ${message}`);
    }
  }

  /** Why a trace without a helper of this window has no capture to save. */
  function pcapUnavailableFor(entry: TraceEntry): string {
    const trace = entry.session ? entry.session.builder.trace : traces.fullTrace(entry);
    const saved = trace.packetCapture?.file ? ` (its capture was saved to ${trace.packetCapture.file})` : '';
    if (entry.origin === 'file') return `Save PCAP works for sessions recorded in this window; this trace was opened from a file${saved}.`;
    if (!entry.session) return `Save PCAP works for sessions recorded in this window; this one is from an earlier window${saved}.`;
    return pcapUnavailableReason(trace.stats.helper);
  }

  async function runPanelCommand(command: PanelCommand, traceKey: string | undefined): Promise<void> {
    switch (command) {
      case 'save':
        return save('json', traceKey);
      case 'exportHar':
        return save('har', traceKey);
      case 'openTrace':
        return openTrace();
      case 'clear':
        return clear(traceKey);
      case 'savePcap':
        return savePcap(traceKey);
    }
  }

  async function openInitiator(file: string, line: number, column: number, panelColumn: vscode.ViewColumn | undefined): Promise<void> {
    const path = framePath(file);
    if (!path) {
      void vscode.window.showInformationMessage(`Net Trace: ${file} is not a file in this workspace.`);
      return;
    }
    // The editor group left of the panel; the panel's own group would hide the panel.
    const viewColumn = panelColumn !== undefined && panelColumn > 1 ? panelColumn - 1 : vscode.ViewColumn.Beside;
    const pos = new vscode.Position(Math.max(0, line - 1), Math.max(0, column - 1));
    try {
      const editor = await vscode.window.showTextDocument(vscode.Uri.file(path), {
        viewColumn,
        preserveFocus: false,
        selection: new vscode.Range(pos, pos),
      });
      editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    } catch (err) {
      void vscode.window.showErrorMessage(`Net Trace: cannot open ${path}: ${(err as Error).message}`);
    }
  }

  context.subscriptions.push(
    vscode.commands.registerCommand(COMMANDS.showPanel, () => panel.show({ preserveFocus: false })),
    vscode.commands.registerCommand(COMMANDS.saveTrace, (uri?: unknown) => save('json', undefined, uri)),
    vscode.commands.registerCommand(COMMANDS.exportHar, (uri?: unknown) => save('har', undefined, uri)),
    vscode.commands.registerCommand(COMMANDS.openTrace, (uri?: unknown) => openTrace(uri)),
    vscode.commands.registerCommand(COMMANDS.clear, () => clear()),
    vscode.commands.registerCommand(COMMANDS.savePcap, (traceKey?: unknown, requestTraceID?: unknown, uri?: unknown) =>
      savePcap(traceKey, requestTraceID, uri),
    ),
    vscode.commands.registerCommand(COMMANDS.selectRequest, (args?: SelectRequestArgs) => {
      if (args && typeof args.traceKey === 'string' && typeof args.traceID === 'string') panel.select(args.traceKey, args.traceID);
    }),
    vscode.languages.registerCodeLensProvider({ scheme: 'file' }, annotations),
    vscode.languages.registerHoverProvider({ scheme: 'file' }, annotations),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('nettrace.codeLens')) annotations.refreshNow();
    }),
  );
  log(`Net Trace activated (preload ${preload})`);
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

/** Called by VS Code on shutdown: closes running collectors. */
export async function deactivate(): Promise<void> {
  await store?.dispose();
  store = undefined;
}
