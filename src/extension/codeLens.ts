/**
 * Editor annotations: a CodeLens above every line that made requests in the active trace
 * (`GET /api/users · 200 · 124 ms · 3 calls`) and a hover listing its recent requests, each a link
 * that selects the request in the panel; and a CodeLens above every route handler that served
 * incoming requests (`served 50 · median 120 ms · POST /checkout/:id`). Two indexes
 * (annotations.ts, handlerAnnotations.ts), refreshed incrementally from the session's change
 * events, with the CodeLens refresh throttled; cleared with the trace.
 */

import * as vscode from 'vscode';
import { AnnotationIndex, hoverMarkdown, lensTitle } from './annotations';
import { HandlerIndex, handlerLensTitle } from './handlerAnnotations';
import type { TraceEntry, TraceStore } from './traceStore';

/** Command the lenses and hover links run: select a request in the panel. */
export const SELECT_REQUEST_COMMAND = 'nettrace.selectRequest';

/** Arguments of nettrace.selectRequest. */
export interface SelectRequestArgs {
  traceKey: string;
  traceID: string;
}

/** CodeLens + hover provider over the active trace. */
export class TraceAnnotations implements vscode.CodeLensProvider, vscode.HoverProvider, vscode.Disposable {
  private readonly index = new AnnotationIndex();
  private readonly handlers = new HandlerIndex();
  private activeKey: string | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly store: TraceStore,
    private readonly enabled: () => boolean,
    private readonly refreshIntervalMs = 500,
  ) {
    const onChange = (entry: TraceEntry, ids: string[], records: Array<[string, string]> = []) => {
      if (entry.key !== this.activeKey || !entry.session) return;
      for (const id of ids) {
        const req = entry.session.request(id);
        if (req) this.index.upsert(req);
      }
      for (const [kind, id] of records) {
        const inc = kind === 'incomingRequests' ? entry.session.incoming(id) : undefined;
        if (inc) this.handlers.upsert(inc);
      }
      this.scheduleRefresh();
    };
    const onCleared = (entry: TraceEntry) => {
      if (entry.key === this.activeKey) this.setActive(this.store.get(entry.key) ? entry.key : undefined);
    };
    store.on('change', onChange);
    store.on('cleared', onCleared);
    this.disposables.push(
      new vscode.Disposable(() => {
        store.off('change', onChange);
        store.off('cleared', onCleared);
      }),
      this.changed,
    );
  }

  /** Annotates from another trace (the one the panel shows); undefined clears. */
  setActive(key: string | undefined): void {
    this.activeKey = key;
    this.index.clear();
    this.handlers.clear();
    const entry = this.store.get(key);
    if (entry) {
      const trace = this.store.fullTrace(entry);
      for (const req of trace.httpRequests) this.index.upsert(req);
      for (const inc of trace.incomingRequests ?? []) this.handlers.upsert(inc);
    }
    this.refreshNow();
  }

  /** Re-renders the lenses (e.g. after the setting changed). */
  refreshNow(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    this.changed.fire();
  }

  private scheduleRefresh(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.changed.fire();
    }, this.refreshIntervalMs);
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!this.enabled() || !this.activeKey || document.uri.scheme !== 'file') return [];
    const traceKey = this.activeKey;
    const served = this.handlers.lines(document.uri.fsPath).flatMap((a) => {
      if (a.line >= document.lineCount) return [];
      // No panel row to select: an incoming request is a group header there, not a request.
      return [
        new vscode.CodeLens(document.lineAt(a.line).range, {
          title: handlerLensTitle(a),
          tooltip: 'Incoming requests this handler served in the trace (Net Trace)',
          command: '',
        }),
      ];
    });
    return served.concat(this.requestLenses(document, traceKey));
  }

  /** The lenses of the lines that made requests. */
  private requestLenses(document: vscode.TextDocument, traceKey: string): vscode.CodeLens[] {
    return this.index.lines(document.uri.fsPath).flatMap((a) => {
      if (a.line >= document.lineCount) return [];
      const last = a.requests[a.requests.length - 1];
      const args: SelectRequestArgs = { traceKey, traceID: last.traceID };
      return [
        new vscode.CodeLens(document.lineAt(a.line).range, {
          title: lensTitle(a),
          tooltip: 'Show this request in the Net Trace panel',
          command: SELECT_REQUEST_COMMAND,
          arguments: [args],
        }),
      ];
    });
  }

  provideHover(document: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    if (!this.activeKey || document.uri.scheme !== 'file') return undefined;
    const a = this.index.lines(document.uri.fsPath).find((l) => l.line === position.line);
    if (!a) return undefined;
    const md = new vscode.MarkdownString(hoverMarkdown(a, this.activeKey, SELECT_REQUEST_COMMAND));
    // Only our own command may run from the links; the text itself is escaped (annotations.ts).
    md.isTrusted = { enabledCommands: [SELECT_REQUEST_COMMAND] };
    md.supportHtml = false;
    return new vscode.Hover(md, document.lineAt(a.line).range);
  }

  dispose(): void {
    if (this.refreshTimer) clearTimeout(this.refreshTimer);
    for (const d of this.disposables) d.dispose();
  }
}
