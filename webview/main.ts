/**
 * Entry of the Net Trace panel (bundled to dist/webview.js). Wires the host messages
 * (src/protocol/webview.ts) to the model, and the model to the list and detail views.
 *
 * Rendering is batched: message handlers and UI events only mutate state and call `schedule()`;
 * one requestAnimationFrame callback then renders what changed. A streaming burst of messages
 * therefore costs one render per frame, which is what keeps a 1,000 requests/s trace responsive.
 */

import './styles/base.css';
import './styles/toolbar.css';
import './styles/list.css';
import './styles/detail.css';
import './styles/rules.css';
import type { FromWebview, PanelCommand, ToWebview, TraceListItem } from '../src/protocol/webview';
import { isToWebview } from '../src/protocol/webview';
import { DetailView } from './detail';
import { h, icon, setSafeAttr, setText } from './dom';
import { initiatorFrame, STATUS_CHIPS, type StatusClass } from './format';
import { ReplayControls } from './replayControls';
import { RequestList } from './list';
import { readSnapshot } from './snapshot';
import { PanelLayout } from './layout';
import { RulesLine } from './rulesLine';
import { StatusBar } from './statusBar';
import { HostSelect } from './hostSelect';
import { TraceModel, type SortKey } from './model';
import { FilterBox } from './filterBox';
import { isMenuKey, RowMenu } from './rowMenu';
import { TimeRangeChip } from './waterfallView';
import type { TimeRange } from './waterfall';
import { loadState, WorkspaceState, type PanelState } from './state';
import { attachToolbarOverflow } from './toolbarOverflow';
import { renderNoTrace } from './noTrace';
import './whatIfBanner';
import { hostApi } from './vscodeApi';
import { RulesView } from './rulesView';
import { SummaryView } from './summaryView';
import { traceSelectOptions } from './traceSelect';
import { clickGroup, groupKey, GroupToggle } from './groupToggle';
import { navTarget } from './listKeys';
import { setGroupByIncoming } from './grouping';

/** Detail of the `nettrace-render` event the panel dispatches on window after each frame. */
export interface RenderEventDetail {
  /** Requests in the trace. */
  requests: number;
  /** Rows passing the filter. */
  shown: number;
  selectedId: string | null;
  detailOpen: boolean;
  /** Monotonic frame counter. */
  frame: number;
}

/** Minimum time between renders caused by streamed `append`/`update` messages, in ms. */
const DATA_RENDER_INTERVAL = 100;

class App {
  private readonly api = hostApi<PanelState>();
  private readonly state: PanelState = loadState(this.api.getState(), document);
  private readonly workspaceState = new WorkspaceState(this.state, (state) => this.post({ type: 'saveState', state }));
  private readonly model = new TraceModel();
  private readonly list: RequestList;
  private readonly detail: DetailView;
  private traces: TraceListItem[] = [];
  private currentKey: string | undefined;
  private readonly replayControls = new ReplayControls(
    (msg) => this.post(msg),
    () => this.currentKey,
  );
  private hasData = false;
  private pendingSelect: { traceID: string; open: boolean } | null = null;
  private lastPostedSelection: string | null | undefined;
  private frame = 0;
  private scheduled = false;
  private dataTimer: ReturnType<typeof setTimeout> | undefined;
  private lastFlush = 0;
  private stateDirty = false;
  private followTail = false;
  private revealInPage = false;

  private readonly root: HTMLElement;
  private readonly traceSelect = h('select', 'dropdown trace-select', { title: 'Trace to show', 'aria-label': 'Trace' });
  private readonly liveBadge = h('span', 'live-badge', { title: 'Recording' }, icon('circle-filled'), h('span', 'live-word', null, 'Live'));
  private readonly filterBox = new FilterBox({
    change: (text) => this.updateFilter({ text }),
    leave: () => {
      this.list.body.focus();
      if (!this.state.selectedId || this.model.indexOf(this.state.selectedId) < 0) this.selectIndex(0, false);
    },
    rows: () => this.model.rows,
    incoming: () => this.model.incoming,
  });
  private readonly rowMenu: RowMenu;
  private readonly groupToggle = new GroupToggle((on) => {
    this.state.groupByIncoming = on;
    setGroupByIncoming(this.model, on);
    this.groupToggle.sync(on);
    this.dirty();
  });
  private readonly failedToggle = h(
    'button',
    'toggle',
    { type: 'button', title: 'Show failed requests only (errors and HTTP 4xx/5xx)', 'aria-pressed': 'false' },
    icon('error'),
    'Failed',
  );
  private readonly rulesView = new RulesView(
    (msg) => this.post(msg),
    (open) => {
      this.state.rulesOpen = open;
      if (open) this.rulesLine.hide(false);
      this.dirty();
    },
    (id, msg) => {
      // A rule just made: the Rules view only where it leaves the list and the detail their room.
      if (this.layout?.roomFor(this.rulesView.heightIfOpen())) return false;
      this.rulesLine.show(id, msg);
      return true;
    },
  );
  private readonly rulesLine = new RulesLine({
    showRules: () => this.rulesView.setOpen(true),
    turnOff: (id) => this.rulesView.turnOff(id),
  });
  private readonly summary = new SummaryView(this.model, (text) => this.updateFilter({ text }));
  private readonly chips = new Map<StatusClass, HTMLButtonElement>();
  private readonly hostSelect = new HostSelect(
    this.model,
    () => this.state.filter.host,
    (host) => this.updateFilter({ host }),
  );
  private readonly rangeChip = new TimeRangeChip(() => this.setTimeRange(null));
  private readonly statusBar = new StatusBar(this.rangeChip.el);
  private readonly waiting = h('div', 'waiting', { role: 'status' });
  private readonly spinner = [icon('loading', 'codicon-modifier-spin'), 'Waiting for trace data…'] as const;
  /** Shown instead of the spinner when the host has no trace at all. */
  private readonly noTrace = renderNoTrace(() => this.post({ type: 'command', command: 'openTrace' }));
  // Not a live region: the announcer says the filter's count once typing stops, this would speak at each key.
  private readonly emptyMsg = h('div', 'empty');
  private readonly main: HTMLDivElement;
  /** Lays the list and the detail out (webview/layout.ts). */
  private layout: PanelLayout | undefined;
  private readonly splitter = h('div', 'splitter', {
    role: 'separator',
    title: 'Drag to resize (or the arrow keys while focused)',
    'aria-label': 'Resize the request details',
    'aria-controls': 'nt-detail',
  });

  constructor(root: HTMLElement) {
    this.root = root;
    this.list = new RequestList(this.model, this.state.widths, this.state.columns, {
      select: (i, open) => (clickGroup(this.model, i, this.state.selectedId) ? this.dirty() : this.selectIndex(i, open)),
      openInitiator: (row) => {
        const f = initiatorFrame(row.req);
        if (f) this.post({ type: 'openInitiator', file: f.file, line: f.line, column: f.column });
      },
      sort: (key) => this.toggleSort(key),
      columns: (widths, columns) => {
        this.state.widths = widths;
        this.state.columns = columns;
        this.dirty();
      },
      key: (e) => this.onListKey(e),
      timeRange: (range) => this.setTimeRange(range),
    });
    this.rowMenu = new RowMenu(this.list, {
      selected: () => (this.state.selectedId ? this.model.indexOf(this.state.selectedId) : -1),
      select: (i) => this.selectIndex(i, false),
      flush: () => this.flush(),
      count: () => this.model.view.length,
    });
    let twoLine = false;
    this.list.onScroll = () => {
      // Follow the tail of a live trace while the user keeps the list scrolled to the bottom.
      this.followTail = this.model.live && this.list.atBottom();
      // Its rows' height changed with its width (the detail opened beside it): the selection kept in sight.
      const two = this.list.columnLayout?.collapsed.includes('initiator') === true;
      if (two !== twoLine) {
        twoLine = two;
        if (this.state.selectedId) this.list.reveal(this.model.indexOf(this.state.selectedId));
      }
      this.schedule();
    };
    this.detail = new DetailView(this.model, this.state.detailTab, {
      openInitiator: (f) => this.post({ type: 'openInitiator', file: f.file, line: f.line, column: f.column }),
      selectRequest: (id) => this.selectId(id, true),
      tabChanged: (tab) => {
        this.state.detailTab = tab;
        this.dirty();
      },
      close: () => this.setDetailOpen(false),
    });
    this.detail.el.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault();
        this.setDetailOpen(false);
      }
    });
    this.main = h('div', 'main', null, this.summary.el, this.list.el, this.emptyMsg, this.splitter, this.detail.el);
    root.replaceChildren(this.renderToolbar(), this.rulesLine.el, this.rulesView.el, this.main, this.statusBar.el, this.waiting);
    if (this.state.rulesOpen) this.rulesView.setOpen(true, false);
    root.classList.add('is-waiting');
    this.waiting.replaceChildren(...this.spinner);
    this.model.setFilter(this.state.filter);
    this.filterBox.sync(this.state.filter.text, this.model.filterErrors);
    this.model.setSort(this.state.sort);
    setGroupByIncoming(this.model, this.state.groupByIncoming);
    this.groupToggle.sync(this.state.groupByIncoming);
    this.list.renderSort(this.state.sort);
    this.layout = new PanelLayout(
      {
        app: root,
        main: this.main,
        splitter: this.splitter,
        summary: this.summary.el,
        detail: this.detail.el,
        detailFixed: [...this.detail.el.children].filter((c): c is HTMLElement => !c.classList.contains('detail-content')),
        rowHeightAt: (width) => this.list.rowHeightAt(width),
      },
      this.state,
      (final) => (final ? this.dirty() : this.schedule()),
    );
    this.applyDetailLayout();

    window.addEventListener('message', (e: MessageEvent) => {
      if (isToWebview(e.data)) this.onMessage(e.data);
    });
    // VS Code gives the keyboard focus to the panel's page as a whole (its window, when the tab is
    // activated or a context menu closes), which leaves it on <body>, where none of the list's keys
    // work until a click: the list takes it then.
    window.addEventListener('focus', () => {
      if (!document.activeElement || document.activeElement === document.body) this.list.body.focus({ preventScroll: true });
    });
    window.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'f') {
        e.preventDefault();
        this.filterBox.focus();
      }
    });
    root.removeAttribute('aria-busy');
    this.post({ type: 'ready', traceKey: this.state.traceKey });
  }

  // ---- host messages ---------------------------------------------------------------------------

  private onMessage(msg: ToWebview): void {
    switch (msg.type) {
      case 'traces':
        this.traces = Array.isArray(msg.traces) ? msg.traces : [];
        this.replayControls.recordNext = msg.recordNext === true;
        if (msg.activeTraceKey !== undefined) this.currentKey = msg.activeTraceKey;
        this.noTrace.setNotTraced(typeof msg.notTraced === 'string' ? msg.notTraced : undefined);
        this.showNoTrace(this.traces.length === 0);
        this.renderTraceSelect();
        break;
      case 'reset': {
        const snapshot = readSnapshot(msg);
        if (!snapshot) return;
        const sameTrace = msg.traceKey === this.state.traceKey;
        this.currentKey = msg.traceKey;
        this.state.traceKey = msg.traceKey;
        this.model.reset(snapshot, msg.live);
        this.statusBar.announcer.reset();
        setSafeAttr(this.list.el, 'data-vscode-context', JSON.stringify({ traceKey: msg.traceKey }));
        this.hasData = true;
        this.root.classList.remove('is-waiting', 'no-trace');
        if (!sameTrace) this.state.selectedId = null;
        if (this.state.selectedId && !this.model.row(this.state.selectedId)) this.state.selectedId = null;
        this.renderTraceSelect();
        this.followTail = msg.live && this.model.sort.key === 'start' && this.model.sort.dir === 1 && !this.state.selectedId;
        this.list.body.scrollTop = 0;
        if (this.state.selectedId) this.list.reveal(this.model.indexOf(this.state.selectedId));
        this.takePendingSelect();
        this.dirty();
        break;
      }
      case 'append':
      case 'update': {
        if (msg.traceKey !== this.currentKey || !this.hasData) return;
        if (msg.type === 'update') {
          if (msg.live !== undefined) this.model.live = msg.live;
          if (msg.live === false) this.renderTraceSelect();
          // Requests a trace rule dropped at their end (docs/rules.md, "what is kept") leave the list.
          if (Array.isArray(msg.removed) && this.model.remove(msg.removed) && !this.model.row(this.state.selectedId ?? ''))
            this.state.selectedId = null;
        }
        this.model.apply(msg, msg.traceEndAt);
        this.takePendingSelect();
        this.scheduleData();
        return;
      }
      case 'select':
        this.pendingSelect = { traceID: msg.traceID, open: msg.openDetail !== false };
        if (msg.traceKey === undefined || msg.traceKey === this.currentKey) this.takePendingSelect();
        break;
      case 'rules':
      case 'ruleResult':
        this.rulesView.onMessage(msg);
        if (msg.type === 'rules') this.rulesLine.update(msg);
        break;
      case 'theme':
        document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast', 'vscode-high-contrast-light');
        document.body.classList.add(`vscode-${msg.kind}`);
        if (msg.kind === 'high-contrast-light') document.body.classList.add('vscode-high-contrast');
        break;
    }
    this.schedule();
  }

  /**
   * With no trace at all (no session yet, nothing opened, or the last one removed) the panel says
   * how to get one instead of waiting for data that will not come.
   */
  private showNoTrace(none: boolean): void {
    if (none) {
      if (this.hasData) {
        this.hasData = false;
        this.model.reset({ description: '', traceBeginAt: '', httpRequests: [], dials: [], tcpConns: [], tlsTunnels: [] }, false);
        this.state.selectedId = null;
        this.currentKey = undefined;
        this.detail.render(undefined);
        this.dirty();
      }
      this.root.classList.add('is-waiting', 'no-trace');
      this.waiting.replaceChildren(this.noTrace.el);
    } else if (this.root.classList.contains('no-trace')) {
      this.root.classList.remove('no-trace');
      this.waiting.replaceChildren(...this.spinner);
    }
  }

  private takePendingSelect(): void {
    const p = this.pendingSelect;
    if (!p || !this.model.row(p.traceID)) return;
    this.pendingSelect = null;
    this.selectId(p.traceID, p.open);
  }

  private post(msg: FromWebview): void {
    this.api.postMessage(msg);
  }

  // ---- selection and keyboard ------------------------------------------------------------------

  /** Selects a request by id; clears the filter if it hides the request. */
  private selectId(traceID: string, open: boolean): void {
    if (!this.model.row(traceID)) return;
    let i = this.model.indexOf(traceID);
    if (i < 0) {
      this.state.filter = { text: '', failedOnly: false, classes: [], host: '' };
      this.model.setFilter(this.state.filter);
      this.syncFilterControls();
      i = this.model.indexOf(traceID);
    }
    this.selectIndex(i, open);
  }

  private selectIndex(index: number, open: boolean): void {
    const row = this.model.view[index];
    if (!row) return;
    this.state.selectedId = row.req.traceID;
    this.followTail = false;
    this.list.reveal(index);
    this.revealInPage = true;
    if (open && !this.state.detailOpen) this.setDetailOpen(true);
    this.dirty();
  }

  private onListKey(e: KeyboardEvent): void {
    if (isMenuKey(e)) return void (e.preventDefault(), this.rowMenu.open());
    const view = this.model.view;
    if (!view.length) return;
    const cur = this.state.selectedId ? this.model.indexOf(this.state.selectedId) : -1;
    if (groupKey(this.model, e.key, cur)) return void (e.preventDefault(), this.dirty());
    const next = navTarget(e.key, cur, view.length, this.list.pageSize());
    if (next !== undefined) return void (e.preventDefault(), this.selectIndex(next, false));
    if (e.key === 'Enter') {
      e.preventDefault();
      if (cur < 0) this.selectIndex(0, true);
      else this.setDetailOpen(true);
      this.flush();
      this.detail.focus();
    } else if (e.key === 'Escape') {
      if (this.state.detailOpen) {
        e.preventDefault();
        this.setDetailOpen(false);
      } else if (this.state.filter.timeRange) {
        e.preventDefault();
        this.setTimeRange(null);
      }
    }
  }

  private setDetailOpen(open: boolean): void {
    if (this.state.detailOpen === open) return;
    this.state.detailOpen = open;
    this.applyDetailLayout();
    if (!open) this.list.body.focus({ preventScroll: true });
    // The list shrinks under the detail: keep the selected row in sight.
    else if (this.state.selectedId) this.list.reveal(this.model.indexOf(this.state.selectedId));
    this.dirty();
  }

  private applyDetailLayout(): void {
    this.layout?.layout(this.state.detailOpen);
  }

  // ---- toolbar ---------------------------------------------------------------------------------

  private renderToolbar(): HTMLElement {
    this.traceSelect.addEventListener('change', () => {
      const key = this.traceSelect.value;
      if (key && key !== this.currentKey) this.post({ type: 'selectTrace', traceKey: key });
    });
    this.failedToggle.addEventListener('click', () => this.updateFilter({ failedOnly: !this.state.filter.failedOnly }));
    const chipBox = h('div', 'chips', { role: 'group', 'aria-label': 'Status filter' });
    for (const [cls, label, title] of STATUS_CHIPS) {
      const b = h('button', `chip st-${cls}`, { type: 'button', title, 'aria-pressed': 'false' }, label);
      b.addEventListener('click', () => {
        const set = new Set(this.state.filter.classes);
        if (set.has(cls)) set.delete(cls);
        else set.add(cls);
        this.updateFilter({ classes: STATUS_CHIPS.map(([c]) => c).filter((c) => set.has(c)) });
      });
      this.chips.set(cls, b);
      chipBox.append(b);
    }
    const cmd = (command: PanelCommand, codicon: string, title: string): HTMLButtonElement => {
      const b = h('button', 'icon-button', { type: 'button', title, 'aria-label': title }, icon(codicon));
      b.addEventListener('click', () => this.post({ type: 'command', command, traceKey: this.currentKey }));
      return b;
    };
    this.syncFilterControls();
    const toolbar = h(
      'div',
      'toolbar',
      { role: 'toolbar', 'aria-label': 'Net Trace' },
      h('div', 'group trace-group', null, this.traceSelect, this.liveBadge),
      this.filterBox.el,
      // data-collapse: the order in which groups move into the overflow menu when space runs out.
      h('div', 'group', { 'data-collapse': '4' }, this.failedToggle),
      h('div', 'group', { 'data-collapse': '0' }, this.groupToggle.el),
      h('div', 'group', { 'data-collapse': '5' }, this.rulesView.toggle, this.summary.toggle),
      h('div', 'group', { 'data-collapse': '1' }, chipBox),
      h('div', 'group', { 'data-collapse': '2' }, this.hostSelect.el),
      h('div', 'group', { 'data-collapse': '3.5' }, this.replayControls.el),
      h(
        'div',
        'group actions',
        { 'data-collapse': '3' },
        cmd('openTrace', 'folder-opened', 'Open trace file…'),
        cmd('save', 'save', 'Save trace…'),
        cmd('exportHar', 'export', 'Export HAR…'),
        cmd('savePcap', 'file-binary', 'Save PCAP… (packets of the session or of the selected request)'),
        cmd('clear', 'clear-all', 'Clear'),
      ),
    );
    attachToolbarOverflow(toolbar);
    return toolbar;
  }

  private updateFilter(patch: Partial<PanelState['filter']>): void {
    this.state.filter = { ...this.state.filter, ...patch };
    this.model.setFilter(this.state.filter);
    this.syncFilterControls();
    this.list.body.scrollTop = 0;
    if (this.state.selectedId) this.list.reveal(this.model.indexOf(this.state.selectedId));
    this.dirty();
  }

  /** Filters the list to a time range of the waterfall (null: all times) and zooms to it. */
  private setTimeRange(range: TimeRange | null): void {
    this.updateFilter({ timeRange: range });
    this.list.waterfall.zoomTo(range);
  }

  private toggleSort(key: SortKey): void {
    const s = this.state.sort;
    this.state.sort = s.key === key ? { key, dir: s.dir === 1 ? -1 : 1 } : { key, dir: 1 };
    this.model.setSort(this.state.sort);
    this.list.renderSort(this.state.sort);
    if (this.state.selectedId) this.list.reveal(this.model.indexOf(this.state.selectedId));
    this.dirty();
  }

  private syncFilterControls(): void {
    const f = this.state.filter;
    this.filterBox.sync(f.text, this.model.filterErrors);
    this.failedToggle.classList.toggle('on', f.failedOnly);
    setSafeAttr(this.failedToggle, 'aria-pressed', String(f.failedOnly));
    for (const [cls, b] of this.chips) {
      const on = f.classes.includes(cls);
      b.classList.toggle('on', on);
      setSafeAttr(b, 'aria-pressed', String(on));
    }
    this.hostSelect.render(true);
  }

  private renderTraceSelect(): void {
    const empty = this.hasData ? this.model.description || 'Trace' : 'No traces';
    this.traceSelect.replaceChildren(...traceSelectOptions(this.traces, empty));
    if (this.currentKey !== undefined) this.traceSelect.value = this.currentKey;
    this.replayControls.sync(this.traces, this.currentKey);
  }

  // ---- rendering -------------------------------------------------------------------------------

  private dirty(): void {
    this.stateDirty = true;
    this.schedule();
  }

  /** Requests a render on the next animation frame. */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => this.flush());
  }

  /**
   * Requests a render for streamed data: at most one per DATA_RENDER_INTERVAL ms, so a live trace
   * costs ~10 renders/s however fast records arrive (DevTools' network log throttles likewise).
   * User input still renders on the next frame through `schedule()`.
   */
  private scheduleData(): void {
    if (this.scheduled || this.dataTimer !== undefined) return;
    const wait = this.lastFlush + DATA_RENDER_INTERVAL - performance.now();
    if (wait <= 0) this.schedule();
    else this.dataTimer = setTimeout(() => ((this.dataTimer = undefined), this.schedule()), wait);
  }

  /** Renders now (also called by the rAF callback). */
  flush(): void {
    this.scheduled = false;
    this.lastFlush = performance.now();
    if (this.dataTimer !== undefined) {
      clearTimeout(this.dataTimer);
      this.dataTimer = undefined;
    }
    if (this.hasData) {
      if (this.followTail) this.list.scrollToEnd();
      this.list.render(this.state.selectedId ?? null);
      // A panel that scrolls as a whole (webview/layout.ts): the selected row in its sight too.
      if (this.revealInPage && this.root.scrollHeight > this.root.clientHeight)
        this.list.el.querySelector('.list-rows .row.selected')?.scrollIntoView({ block: 'nearest' });
      this.revealInPage = false;
      const id = this.state.selectedId;
      const row = id ? (this.model.row(id) ?? this.model.view[this.model.indexOf(id)]) : undefined;
      if (this.state.detailOpen) this.detail.render(row);
      this.statusBar.render(this.model, JSON.stringify(this.state.filter));
      this.rangeChip.render(this.state.filter.timeRange);
      this.hostSelect.render(false);
      this.summary.render();
      this.liveBadge.classList.toggle('on', this.model.live);
      const empty = this.model.view.length === 0;
      this.main.classList.toggle('is-empty', empty);
      if (empty)
        setText(
          this.emptyMsg,
          this.model.rows.length
            ? 'No requests match the filter.'
            : this.model.live
              ? 'No requests yet. Requests appear here as the program makes them.'
              : 'This trace has no HTTP requests.',
        );
    }
    const sel = this.state.selectedId ?? null;
    if (this.hasData && sel !== this.lastPostedSelection && this.currentKey !== undefined) {
      this.lastPostedSelection = sel;
      this.post({ type: 'selected', traceKey: this.currentKey, traceID: sel });
    }
    if (this.stateDirty) {
      this.stateDirty = false;
      this.api.setState(this.state);
      this.workspaceState.save(this.state);
    }
    const detail: RenderEventDetail = {
      requests: this.model.rows.length,
      shown: this.model.flatView.length,
      selectedId: this.state.selectedId ?? null,
      detailOpen: this.state.detailOpen,
      frame: ++this.frame,
    };
    window.dispatchEvent(new CustomEvent('nettrace-render', { detail }));
  }
}

/** Exposed for harnesses: the running app (undefined until loaded). */
declare global {
  interface Window {
    __nettraceApp?: unknown;
  }
}

const mount = document.getElementById('app') ?? document.body.appendChild(document.createElement('div'));
mount.classList.add('app');
window.__nettraceApp = new App(mount);
