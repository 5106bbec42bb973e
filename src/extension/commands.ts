/**
 * The extension's commands (package.json `contributes.commands`): save the trace as JSON or HAR,
 * open a trace file, clear, Save PCAP, select a request; and the panel's own buttons and
 * initiator links, which end up here too.
 */

import * as vscode from 'vscode';
import { pcapUnavailableReason } from '../collector/helperLink';
import { PcapUnavailableError } from '../collector/helperSession';
import type { PanelCommand } from '../protocol/webview';
import { replayRun, setRecordNext } from './replayCommands';
import { toHar } from '../trace/formats/har';
import { readTraceFileAsync, TraceFileError, writeHarFile, writeTraceFile } from '../trace/formats/traceFile';
import { framePath } from '../trace/formats/filePath';
import { SELECT_REQUEST_COMMAND, type SelectRequestArgs } from './codeLens';
import type { Services } from './services';
import { columnBesidePanel } from './panel';
import type { TraceEntry } from './traceStore';
import { compareWith } from './compareTraces';

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

/** Registers the commands; the returned handlers also serve the panel. */
export function registerCommands(s: Services): Commands {
  const c = new Commands(s);
  s.context.subscriptions.push(
    vscode.commands.registerCommand(COMMANDS.showPanel, () => s.panel.show({ preserveFocus: false })),
    vscode.commands.registerCommand(COMMANDS.saveTrace, (uri?: unknown) => c.save('json', undefined, uri)),
    vscode.commands.registerCommand(COMMANDS.exportHar, (uri?: unknown) => c.save('har', undefined, uri)),
    vscode.commands.registerCommand(COMMANDS.openTrace, (uri?: unknown) => c.openTrace(uri)),
    vscode.commands.registerCommand(COMMANDS.clear, () => c.clear()),
    vscode.commands.registerCommand(COMMANDS.savePcap, (traceKey?: unknown, requestTraceID?: unknown, uri?: unknown) =>
      c.savePcap(traceKey, requestTraceID, uri),
    ),
    vscode.commands.registerCommand(COMMANDS.selectRequest, (args?: SelectRequestArgs) => {
      if (args && typeof args.traceKey === 'string' && typeof args.traceID === 'string') s.panel.select(args.traceKey, args.traceID);
    }),
  );
  return c;
}

/** The command handlers. */
export class Commands {
  constructor(private readonly s: Services) {}

  /** The trace a command acts on: the one named, else the one shown in the this.s.panel. */
  private target(traceKey?: unknown): TraceEntry | undefined {
    return this.s.traces.get(typeof traceKey === 'string' ? traceKey : undefined) ?? this.s.traces.get(this.s.panel.traceKey);
  }

  /** `name` in the first workspace folder, as a save dialog's default. */
  private defaultUri(name: string): vscode.Uri | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    return folder ? vscode.Uri.joinPath(folder, name) : undefined;
  }

  private timestamp(): string {
    return new Date().toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
  }

  async save(kind: 'json' | 'har', traceKey?: unknown, uri?: unknown): Promise<void> {
    const entry = this.target(traceKey);
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
      defaultUri: this.defaultUri(`nettrace-${this.timestamp()}.${ext}`),
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
        const trace = this.s.traces.fullTrace(entry);
        if (kind === 'json') await writeTraceFile(path, trace);
        else await writeHarFile(path, toHar(trace));
      }
      this.s.log(`saved ${entry.key} as ${kind.toUpperCase()} to ${path}`);
      void vscode.window.showInformationMessage(`Net Trace: saved ${this.s.traces.requestCount(entry)} requests to ${path}`);
    } catch (err) {
      this.s.log(`saving ${entry.key} to ${path} failed: ${(err as Error).message}`);
      void vscode.window.showErrorMessage(`Net Trace: could not save ${path}: ${(err as Error).message}`);
    }
  }

  async openTrace(uri?: unknown): Promise<void> {
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
      const entry = await this.s.traces.addFileAsync(file.fsPath, trace);
      this.s.log(`opened ${file.fsPath}: ${trace.httpRequests.length} requests`);
      this.s.panel.show({ preserveFocus: false });
      this.s.panel.showTrace(entry.key);
    } catch (err) {
      const message = err instanceof TraceFileError ? err.message : `cannot open ${file.fsPath}: ${(err as Error).message}`;
      this.s.log(`open trace failed: ${message}`);
      void vscode.window.showErrorMessage(`Net Trace: ${message}`);
    }
  }

  clear(traceKey?: unknown): void {
    const entry = this.target(traceKey);
    if (!entry) return;
    this.s.traces.clear(entry.key);
    this.s.log(`cleared ${entry.key}`);
  }

  /**
   * Save PCAP: the packets of the session, or of one request (the `requestTraceID` argument, or
   * the request selected in the panel, offered as a choice), as pcapng with the trace IDs in each
   * packet's comment. Says plainly why when there is no capture, and how to get one.
   */
  async savePcap(traceKey?: unknown, requestTraceID?: unknown, uri?: unknown): Promise<void> {
    const entry = this.target(traceKey);
    if (!entry) {
      void vscode.window.showInformationMessage(
        'Net Trace: there is no trace to save packets from yet. Start debugging with the "Net Trace" launch configuration.',
      );
      return;
    }
    const helper = this.s.helpers.get(entry.key);
    const why = helper ? helper.pcapUnavailable() : this.pcapUnavailableFor(entry);
    if (why || !helper) {
      void vscode.window.showWarningMessage(`Net Trace: no packet capture to save for ${entry.label}: ${why}`);
      return;
    }
    let request = typeof requestTraceID === 'string' ? requestTraceID : undefined;
    const selected = this.s.panel.selectedRequest(entry.key);
    if (request === undefined && selected && entry.session) {
      const req = entry.session.builder.get('httpRequests', selected);
      const pick = await vscode.window.showQuickPick(
        [
          { label: 'Whole session', description: `${this.s.traces.requestCount(entry)} requests`, id: undefined },
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
      defaultUri: this.defaultUri(`nettrace-${this.timestamp()}${request ? `-${request}` : ''}.pcapng`),
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
      this.s.log(`saved the packets of ${entry.key}${request ? ` (${request})` : ''} to ${saved.file}: ${saved.packets} packets`);
      void vscode.window.showInformationMessage(
        `Net Trace: saved ${saved.packets} packets${request ? ` of ${request}` : ''} to ${saved.file}${saved.truncated ? ' (the capture hit its size cap)' : ''}. ` +
          'It is not redacted: plain-HTTP credentials, cookies, query tokens and bodies are in it as sent (readable only by you, 0600).',
      );
    } catch (err) {
      const message = err instanceof PcapUnavailableError ? err.message : `could not save ${dest.fsPath}: ${(err as Error).message}`;
      this.s.log(`Save PCAP of ${entry.key} failed: ${message}`);
      void vscode.window.showErrorMessage(`Net Trace: ${message}`);
    }
  }

  /** Why a trace without a helper of this window has no capture to save. */
  pcapUnavailableFor(entry: TraceEntry): string {
    const trace = entry.session ? entry.session.builder.trace : this.s.traces.fullTrace(entry);
    const saved = trace.packetCapture?.file ? ` (its capture was saved to ${trace.packetCapture.file})` : '';
    if (entry.origin === 'file') return `Save PCAP works for sessions recorded in this window; this trace was opened from a file${saved}.`;
    if (!entry.session) return `Save PCAP works for sessions recorded in this window; this one is from an earlier window${saved}.`;
    return pcapUnavailableReason(trace.stats.helper);
  }

  async runPanelCommand(command: PanelCommand, traceKey: string | undefined): Promise<void> {
    switch (command) {
      case 'save':
        return this.save('json', traceKey);
      case 'exportHar':
        return this.save('har', traceKey);
      case 'openTrace':
        return this.openTrace();
      case 'clear':
        return this.clear(traceKey);
      case 'savePcap':
        return this.savePcap(traceKey);
      case 'compareWith':
        return compareWith(this.s, this.target(traceKey));
      case 'replayRun':
        return replayRun(this.s, traceKey);
      case 'recordNext':
        return setRecordNext(this.s);
    }
  }

  async openInitiator(file: string, line: number, column: number, panelColumn: vscode.ViewColumn | undefined): Promise<void> {
    const path = framePath(file);
    if (!path) {
      void vscode.window.showInformationMessage(`Net Trace: ${file} is not a file in this workspace.`);
      return;
    }
    const viewColumn = columnBesidePanel(panelColumn);
    const pos = new vscode.Position(Math.max(0, line - 1), Math.max(0, column - 1));
    try {
      const editor = await vscode.window.showTextDocument(vscode.Uri.file(path), {
        viewColumn,
        preserveFocus: false,
        selection: new vscode.Range(pos, pos),
      });
      editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
      keepFocus(editor);
    } catch (err) {
      void vscode.window.showErrorMessage(`Net Trace: cannot open ${path}: ${(err as Error).message}`);
    }
  }
}

/** Ends the focus watch of the last jump to the program's line, while it watches (keepFocus). */
let endKeepFocus: (() => void) | undefined;

/** How long after a jump to the program's line the editor takes the focus back from the panel (ms). */
const REFOCUS_MS = 3000;
/** How many times within REFOCUS_MS the editor takes the focus back (the panel may report its focus more than once). */
const REFOCUS_TIMES = 3;

/**
 * Workaround: the click on a link in the panel focuses the panel's webview, and the workbench
 * learns of that focus from messages of the webview's frame, which can arrive after the editor
 * was shown and focused, and more than once (seen in code-server on a loaded machine: the editor
 * at the right line, the keyboard still in the panel, after one refocus). While the panel takes
 * the focus within a moment of the jump (no text editor active then), the editor is focused
 * again, a few times at most.
 */
function keepFocus(editor: vscode.TextEditor): void {
  // Only the latest jump keeps the focus: an earlier one still watching would take it back from
  // the panel while the user clicks there for the next jump.
  endKeepFocus?.();
  let times = 0;
  let sub: vscode.Disposable | undefined;
  const finish = () => {
    sub?.dispose();
    sub = undefined;
    if (endKeepFocus === finish) endKeepFocus = undefined;
  };
  endKeepFocus = finish;
  sub = vscode.window.onDidChangeActiveTextEditor((active) => {
    if (sub === undefined) return;
    // The jump's own activation of the editor may be told after it resolved: not an end; another
    // text editor made active (by the user) is.
    if (active !== undefined) {
      if (active.document !== editor.document) finish();
      return;
    }
    refocus();
  });
  const refocus = () => {
    if (++times >= REFOCUS_TIMES) finish();
    void vscode.window.showTextDocument(editor.document, { viewColumn: editor.viewColumn, preserveFocus: false });
  };
  // The panel's focus may have been told before the jump resolved (after the editor's own
  // activation): then no change follows, and the editor is focused again now.
  if (vscode.window.activeTextEditor?.document !== editor.document) refocus();
  setTimeout(finish, REFOCUS_MS);
}
