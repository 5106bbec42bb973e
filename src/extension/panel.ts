/**
 * Host of the Net Trace panel (webview/): creates or restores the WebviewPanel, answers the
 * panel's `ready` with the trace list and a `reset`, streams `append`/`update` batches of the
 * shown live trace, and routes the panel's intents (open an initiator, switch trace, toolbar
 * commands) back to the extension. Protocol: src/protocol/webview.ts.
 */

import * as vscode from 'vscode';
import type { CompareMessage, FromWebview, PanelCommand, RuleDraft, RuleEditMessage, ToWebview } from '../protocol/webview';
import { uniqueId } from '../rules/fromRequest';
import { ruleProblem, type RuleChange, type RuleService } from './ruleService';
import { createNonce, renderPanelHtml } from './panelHtml';
import type { TraceEntry, TraceStore } from './traceStore';
import { LiveFeed } from './liveFeed';
import type { DebuggerPause, RecordKind } from '../trace/contract/types';

/** The webview panel's view type (also in package.json `onWebviewPanel:`). */
export const PANEL_VIEW_TYPE = 'nettrace.panel';

/** What the panel asks the extension to do. */
export interface PanelHandlers {
  /** Where the panel's UI state is kept per workspace (`context.workspaceState`). */
  memento?: Pick<vscode.Memento, 'get' | 'update'>;
  openInitiator(file: string, line: number, column: number, panelColumn: vscode.ViewColumn | undefined): void;
  command(command: PanelCommand, traceKey: string | undefined): void;
  log(line: string): void;
  /** The trace rules of the Rules view (ruleService.ts); without it the view lists none. */
  rules?: RuleService;
}

/** The workspaceState key of the panel's UI state (filter, toggles, sort, columns). */
export const PANEL_STATE_KEY = 'nettrace.panelState';

/** Requests per message when a large trace is sent to the panel (see sendReset). */
export const RESET_CHUNK = 50_000;

/** The one Net Trace panel of this window. */
export class PanelHost implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private panelDisposables: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private ready = false;
  private currentKey: string | undefined;
  private notTraced: string | undefined;
  private whatIfOff: string | undefined;
  private recordNext = false;
  private feed: LiveFeed | undefined;
  /** The live session's `pausesVersion` the panel has (see streamChanges). */
  private sentPausesVersion = 0;
  private pendingSelect: { traceKey: string; traceID: string } | undefined;
  /** The request selected in the panel, per the panel's last `selected` message. */
  private selected: { traceKey: string; traceID: string } | undefined;
  /** The last `rules` message sent (JSON), so counters that did not move send nothing. */
  private sentRules = '';
  private readonly onDidChangeTraceEmitter = new vscode.EventEmitter<string | undefined>();
  /** Fires when the trace the panel shows (the "active" trace) changes. */
  readonly onDidChangeTrace = this.onDidChangeTraceEmitter.event;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly store: TraceStore,
    private readonly handlers: PanelHandlers,
  ) {
    const onChange = (entry: TraceEntry, ids: string[], records: Array<[RecordKind, string]>) => this.streamChanges(entry, ids, records);
    const onList = () => this.postTraces();
    const onEnded = (entry: TraceEntry) => this.onEnded(entry);
    const onCleared = (entry: TraceEntry) => this.onCleared(entry);
    store.on('change', onChange);
    store.on('list', onList);
    store.on('ended', onEnded);
    store.on('cleared', onCleared);
    const onRules = (key: string | undefined) => {
      if (key === undefined || key === this.traceKey) this.postRules();
    };
    handlers.rules?.on('change', onRules);
    this.disposables.push(
      new vscode.Disposable(() => handlers.rules?.off('change', onRules)),
      new vscode.Disposable(() => {
        store.off('change', onChange);
        store.off('list', onList);
        store.off('ended', onEnded);
        store.off('cleared', onCleared);
      }),
      this.onDidChangeTraceEmitter,
    );
  }

  /** The key of the trace the panel shows (or would show when opened). */
  get traceKey(): string | undefined {
    if (this.currentKey && this.store.get(this.currentKey)) return this.currentKey;
    return this.store.latest()?.key;
  }

  /** The traceID of the request selected in the panel while it shows `traceKey`, if any. */
  selectedRequest(traceKey: string | undefined): string | undefined {
    const s = this.selected;
    return s && traceKey !== undefined && s.traceKey === traceKey && this.panel ? s.traceID : undefined;
  }

  /** True when the panel exists. */
  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  /** The editor group the panel is in, while it is open. */
  get viewColumn(): vscode.ViewColumn | undefined {
    return this.panel?.viewColumn;
  }

  /** Opens (or reveals) the panel beside the editor. */
  show(options: { preserveFocus: boolean }): void {
    if (this.panel) {
      this.panel.reveal(undefined, options.preserveFocus);
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      PANEL_VIEW_TYPE,
      'Net Trace',
      { viewColumn: vscode.ViewColumn.Beside, preserveFocus: options.preserveFocus },
      this.webviewOptions(),
    );
    this.adopt(panel);
  }

  /** Takes over a panel (a new one, or one restored by the WebviewPanelSerializer after a reload). */
  adopt(panel: vscode.WebviewPanel): void {
    this.disposePanel();
    this.panel = panel;
    this.ready = false;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'icon.png');
    panel.webview.options = this.webviewOptions();
    panel.webview.html = this.html(panel.webview);
    this.panelDisposables.push(
      panel.webview.onDidReceiveMessage((msg: FromWebview) => this.onMessage(msg)),
      panel.onDidChangeViewState(() => {
        // retainContextWhenHidden is off: a hidden panel's page is discarded and reloads (and
        // says `ready` again) when shown.
        if (!panel.visible) this.ready = false;
      }),
      panel.onDidDispose(() => {
        if (this.panel === panel) {
          this.panel = undefined;
          void vscode.commands.executeCommand('setContext', 'nettrace.panelHasSelection', false);
          this.ready = false;
          this.feed = undefined;
          this.disposePanel();
        }
      }),
    );
  }

  /** Says in the empty state why the last Node debug session was not traced (undefined: nothing to say). */
  setNotTraced(reason: string | undefined): void {
    if (reason === this.notTraced) return;
    this.notTraced = reason;
    this.postTraces();
  }

  /** Says in the panel's banner why what-if rules are off (undefined: they are not). */
  setWhatIfOff(reason: string | undefined): void {
    if (reason === this.whatIfOff) return;
    this.whatIfOff = reason;
    this.postTraces();
  }

  /** Shows the toolbar's "Record the next run for replay" pressed or not (replayCommands.ts). */
  setRecordNext(on: boolean): void {
    if (on === this.recordNext) return;
    this.recordNext = on;
    this.postTraces();
  }

  /** Switches the panel to a trace (sends `traces` + `reset` when the panel listens). */
  showTrace(key: string): void {
    const changed = key !== this.currentKey;
    this.currentKey = key;
    if (this.ready) this.sendReset();
    if (changed) this.onDidChangeTraceEmitter.fire(key);
  }

  /** Selects a request in the panel (opening the panel and switching trace when needed). */
  select(traceKey: string, traceID: string): void {
    if (!this.store.get(traceKey)) return;
    this.pendingSelect = { traceKey, traceID };
    this.show({ preserveFocus: true });
    if (traceKey !== this.traceKey) this.showTrace(traceKey);
    this.flushSelect();
  }

  /**
   * Opens the panel's Rules view on the shown trace's rules, showing `ruleId` (a rule just added
   * from a row's menu or the palette). `focus` false: only when the panel is open already. `as`:
   * a rule just made is shown as a `line` above the list when the panel is short (RulesMessage
   * `revealAs`); `open` opens the view whatever the room (the default without a rule).
   */
  revealRules(ruleId?: string, focus = true, as: 'open' | 'line' = ruleId ? 'line' : 'open'): void {
    if (!this.panel && !focus) return;
    this.pendingReveal = ruleId ?? '';
    this.pendingRevealAs = as;
    this.show({ preserveFocus: !focus });
    this.postRules();
  }

  /** A Rules view reveal waiting for the panel to be ready ('' = open the view only). */
  private pendingReveal: string | undefined;
  private pendingRevealAs: 'open' | 'line' = 'open';

  /** Sends the shown trace's rules (see RulesMessage) when they changed since the last time. */
  private postRules(force = false): void {
    const rules = this.handlers.rules;
    if (!rules || !this.ready) return;
    const view = rules.view(this.traceKey);
    const text = JSON.stringify(view);
    const reveal = this.pendingReveal;
    if (!force && reveal === undefined && text === this.sentRules) return;
    this.sentRules = text;
    this.pendingReveal = undefined;
    this.post({ type: 'rules', ...view, ...(reveal !== undefined ? { reveal, revealAs: this.pendingRevealAs } : {}) });
  }

  /** The Rules view asked for a change: made (or refused, with the problem), then answered. */
  private onRuleEdit(msg: RuleEditMessage): void {
    const rules = this.handlers.rules;
    const requestId = typeof msg.requestId === 'number' ? msg.requestId : 0;
    if (!rules)
      return this.post({ type: 'ruleResult', requestId, ok: false, problem: { message: 'trace rules are not available', field: '' } });
    try {
      const change = ruleChange(msg, rules.takenIds());
      const rule = rules.apply(
        change,
        typeof msg.traceKey === 'string' ? msg.traceKey : this.traceKey,
        msg.scope === 'workspace' ? 'workspace' : 'session',
      );
      this.post({ type: 'ruleResult', requestId, ok: true, id: rule?.id ?? (change.op === 'create' ? undefined : change.id) });
    } catch (err) {
      this.post({ type: 'ruleResult', requestId, ok: false, problem: ruleProblem(err) });
    }
    this.postRules();
  }

  private flushSelect(): void {
    const p = this.pendingSelect;
    if (!p || !this.ready || p.traceKey !== this.traceKey) return;
    this.pendingSelect = undefined;
    this.post({ type: 'select', traceKey: p.traceKey, traceID: p.traceID, openDetail: true });
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      retainContextWhenHidden: false,
      enableFindWidget: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist')],
    };
  }

  private html(webview: vscode.Webview): string {
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    const uri = (file: string) => webview.asWebviewUri(vscode.Uri.joinPath(dist, file)).toString();
    return renderPanelHtml({
      cspSource: webview.cspSource,
      nonce: createNonce(),
      scriptUri: uri('webview.js'),
      styleUri: uri('webview.css'),
      codiconUri: uri('codicon.css'),
      initialState: this.handlers.memento?.get<unknown>(PANEL_STATE_KEY),
    });
  }

  private onMessage(msg: FromWebview): void {
    if (typeof msg !== 'object' || msg === null) return;
    switch (msg.type) {
      case 'ready': {
        this.ready = true;
        const restored = typeof msg.traceKey === 'string' && this.store.get(msg.traceKey) ? msg.traceKey : undefined;
        if (restored && !this.currentKey) this.currentKey = restored;
        this.sendReset();
        this.onDidChangeTraceEmitter.fire(this.traceKey);
        this.flushSelect();
        break;
      }
      case 'selectTrace':
        if (typeof msg.traceKey === 'string' && this.store.get(msg.traceKey)) this.showTrace(msg.traceKey);
        break;
      case 'openInitiator':
        if (typeof msg.file === 'string' && Number.isFinite(msg.line)) {
          this.handlers.openInitiator(msg.file, msg.line, Number.isFinite(msg.column) ? msg.column : 1, this.panel?.viewColumn);
        }
        break;
      case 'command':
        this.handlers.command(msg.command, typeof msg.traceKey === 'string' ? msg.traceKey : this.traceKey);
        break;
      case 'selected':
        this.selected =
          typeof msg.traceKey === 'string' && typeof msg.traceID === 'string'
            ? { traceKey: msg.traceKey, traceID: msg.traceID }
            : undefined;
        // The Command Palette's "Copy as cURL" & co. act on this selection (copyCommands.ts).
        void vscode.commands.executeCommand('setContext', 'nettrace.panelHasSelection', this.selected !== undefined);
        break;
      case 'ruleEdit':
        this.onRuleEdit(msg);
        break;
      case 'saveState':
        if (typeof msg.state === 'object' && msg.state !== null && !Array.isArray(msg.state)) {
          void Promise.resolve(this.handlers.memento?.update(PANEL_STATE_KEY, msg.state)).catch((err: Error) =>
            this.handlers.log(`panel: could not keep its state: ${err.message}`),
          );
        }
        break;
      default:
        this.handlers.log(`panel: unknown message ${JSON.stringify((msg as { type?: unknown }).type)}`);
    }
  }

  /** Sends the panel a comparison of its trace with another (compareTraces.ts). */
  postCompare(msg: CompareMessage): void {
    this.post(msg);
  }

  private post(msg: ToWebview): void {
    if (!this.panel || !this.ready) return;
    void this.panel.webview
      .postMessage(msg)
      .then(undefined, (err: Error) => this.handlers.log(`panel: postMessage failed: ${err.message}`));
  }

  private postTraces(): void {
    if (!this.ready) return;
    this.post({
      type: 'traces',
      traces: this.store.items(),
      activeTraceKey: this.traceKey,
      notTraced: this.notTraced,
      whatIfOff: this.whatIfOff,
      recordNext: this.recordNext,
    });
  }

  /** `traces` then a full `reset` of the shown trace, then its `rules`; the live feed restarts from it. */
  private sendReset(): void {
    this.sendResetOnly();
    this.postRules(true);
  }

  private sendResetOnly(): void {
    const entry = this.store.get(this.traceKey);
    this.post({
      type: 'traces',
      traces: this.store.items(),
      activeTraceKey: entry?.key,
      notTraced: this.notTraced,
      whatIfOff: this.whatIfOff,
      recordNext: this.recordNext,
    });
    this.feed = undefined;
    if (!entry) return;
    const live = entry.origin === 'current';
    const trace = this.store.snapshot(entry);
    if (entry.session && live) {
      this.feed = new LiveFeed(entry.session);
      this.feed.reset(trace.httpRequests);
      this.sentPausesVersion = entry.session.pausesVersion;
    }
    // A string crosses the host → workbench → webview hops as one flat copy (see ResetMessage).
    // A large trace goes as a reset with its first requests and then `append`s of the rest: one
    // string of a million requests would pass V8's string limit (and be copied at every hop).
    const requests = trace.httpRequests;
    if (requests.length <= RESET_CHUNK) {
      this.post({ type: 'reset', traceKey: entry.key, live, traceJson: JSON.stringify(trace) });
      return;
    }
    this.post({
      type: 'reset',
      traceKey: entry.key,
      live,
      traceJson: JSON.stringify({ ...trace, httpRequests: requests.slice(0, RESET_CHUNK) }),
    });
    for (let i = RESET_CHUNK; i < requests.length; i += RESET_CHUNK) {
      this.post({ type: 'append', traceKey: entry.key, httpRequests: requests.slice(i, i + RESET_CHUNK) });
    }
  }

  private streamChanges(entry: TraceEntry, ids: string[], records: Array<[RecordKind, string]>): void {
    if (!this.ready || !this.feed || entry.key !== this.traceKey) return;
    const { append, update, removed, traceEndAt } = this.feed.batches(ids, records);
    const pauses = this.changedPauses(entry);
    if (append) this.post({ type: 'append', traceKey: entry.key, traceEndAt, ...append });
    if (update || pauses || removed.length > 0)
      this.post({ type: 'update', traceKey: entry.key, traceEndAt, ...update, ...pauses, ...(removed.length > 0 ? { removed } : {}) });
    // The rules' counters come back with the preloads' stats, which also make a change.
    this.postRules();
  }

  /** The session's debugger pauses when they changed since the panel last got them. */
  private changedPauses(entry: TraceEntry): { debuggerPauses: DebuggerPause[] } | undefined {
    const session = entry.session;
    if (!session || session.pausesVersion === this.sentPausesVersion) return undefined;
    this.sentPausesVersion = session.pausesVersion;
    return { debuggerPauses: (session.builder.trace.debuggerPauses ?? []).map((p) => ({ ...p })) };
  }

  private onEnded(entry: TraceEntry): void {
    if (!this.ready || entry.key !== this.traceKey || !this.feed) return;
    // Whatever changed since the last batch goes out as usual (requests and the records that
    // changed alone, such as connections closing); then only the end of live mode, the stats and
    // every connection record — not a second copy of every request, which at tens of thousands
    // of requests stalled the extension host for a quarter of a second.
    entry.session?.flushChanges();
    const trace = entry.session ? entry.session.builder.trace : this.store.snapshot(entry);
    this.post({
      type: 'update',
      traceKey: entry.key,
      traceEndAt: trace.traceEndAt,
      live: false,
      stats: trace.stats,
      ...this.changedPauses(entry),
      ...this.feed.connections(),
    });
    this.feed = undefined;
    this.postTraces();
    this.postRules();
  }

  private onCleared(entry: TraceEntry): void {
    if (entry.key !== this.currentKey && this.store.get(entry.key)) return;
    if (!this.store.get(entry.key)) this.currentKey = undefined;
    if (this.ready) this.sendReset();
    this.onDidChangeTraceEmitter.fire(this.traceKey);
  }

  private disposePanel(): void {
    for (const d of this.panelDisposables) d.dispose();
    this.panelDisposables = [];
  }

  dispose(): void {
    this.disposePanel();
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

/** The RuleService change a Rules view message asks for (a draft becomes rule input; a new rule gets an id). */
function ruleChange(msg: RuleEditMessage, taken: ReadonlySet<string>): RuleChange {
  const id = typeof msg.id === 'string' ? msg.id : '';
  switch (msg.op) {
    case 'create': {
      const d = draftInput(msg.rule);
      const given = typeof msg.rule?.id === 'string' ? msg.rule.id.trim() : '';
      return {
        op: 'create',
        rule: { ...d, id: given || uniqueId(typeof d.name === 'string' && d.name ? d.name : `${String(d.action)}-rule`, taken) },
      };
    }
    case 'update':
      return { op: 'update', id, changes: draftInput(msg.rule) };
    case 'setEnabled':
      return { op: 'setEnabled', id, enabled: msg.enabled === true };
    case 'delete':
      return { op: 'delete', id };
    case 'move':
      return { op: 'move', id, index: typeof msg.index === 'number' ? msg.index : 0 };
    default:
      throw new Error(`unknown rule change ${JSON.stringify((msg as { op?: unknown }).op)}`);
  }
}

/** The properties of a draft that were given (validateRule checks them; an empty name means "the id"). */
function draftInput(d: RuleDraft | undefined): Record<string, unknown> {
  if (!d || typeof d !== 'object') return {};
  const out: Record<string, unknown> = {};
  for (const k of ['name', 'condition', 'action', 'limit', 'enabled', 'tag', 'details'] as const) if (d[k] !== undefined) out[k] = d[k];
  if (out.name === '') delete out.name;
  return out;
}

/**
 * Where to open an editor the panel asked for (the program's line, a what-if document): the editor
 * group left of the panel's (the panel's own would hide it), else the one right of it — a fixed
 * group, not Beside the active one, which makes a new group (and a narrower panel) each time.
 */
export function columnBesidePanel(panelColumn: vscode.ViewColumn | undefined): vscode.ViewColumn {
  if (panelColumn === undefined) return vscode.ViewColumn.Beside;
  return panelColumn > 1 ? ((panelColumn - 1) as vscode.ViewColumn) : ((panelColumn + 1) as vscode.ViewColumn);
}
