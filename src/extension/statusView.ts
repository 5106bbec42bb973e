/**
 * What the status bar item says, and when it is redrawn (statusBar.ts draws it). vscode-free, so
 * test/unit/statusBar.test.mjs runs it in plain Node.
 *
 * It is shown while a session records. Its count is the panel's: the trace the panel shows while
 * the panel is open (the session, or an earlier session or a file the user switched to meanwhile),
 * else the running session (the newest when several run). Nothing recording: no item. When rules
 * the user did not set hide requests of that trace, it says so ("3 hidden", hiddenRules.ts); while
 * it replays a recording, "replay on" first (docs/replay.md).
 * It is redrawn synchronously on the store events that feed the panel (`change`, `list`,
 * `cleared`, `ended`) and when the panel switches trace: no timer of its own to trail the list.
 */

import type { EventEmitter } from 'node:events';
import type { TraceEntry, TraceStoreEvents } from './traceStore';
import type { ReplayCounts } from '../trace/contract/replayMark';
import { replayCountsText } from '../trace/diagnosis/replayText';

/** The parts of the TraceStore the status bar reads. */
export interface StatusStore {
  live(): TraceEntry[];
  get(key: string | undefined): TraceEntry | undefined;
  counts(e: TraceEntry): { requests: number; failed: number };
}

/** The parts of the panel the status bar reads. */
export interface StatusPanel {
  readonly isOpen: boolean;
  readonly traceKey: string | undefined;
}

/** The item's text and tooltip; undefined hides it. */
export interface StatusView {
  text: string;
  tooltip: string;
  /** The trace it counts. */
  traceKey: string;
}

/** The trace the status bar counts (see the file comment). */
export function statusEntry(store: StatusStore, panel: StatusPanel): TraceEntry | undefined {
  const live = store.live();
  if (live.length === 0) return undefined;
  const shown = panel.isOpen ? store.get(panel.traceKey) : undefined;
  if (shown) return shown;
  const own = live.find((e) => e.key === panel.traceKey);
  return own ?? [...live].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
}

/** What hides requests of a trace without the user having set it: the words for the item, and for its tooltip. */
export type HiddenOf = (e: TraceEntry) => { text: string; tooltip: string } | undefined;

/** A live replay of a trace: the recording's file name and what its requests came to so far (replayCommands.ts liveReplay). */
export type ReplayOf = (e: TraceEntry) => { file: string; counts: ReplayCounts } | undefined;

/** The item for the current state. While the trace it counts replays a recording, it says so first. */
export function statusView(store: StatusStore, panel: StatusPanel, hidden?: HiddenOf, replayOf?: ReplayOf): StatusView | undefined {
  const entry = statusEntry(store, panel);
  if (!entry) return undefined;
  const { requests, failed } = store.counts(entry);
  const recording = store.live().length;
  const h = hidden?.(entry);
  const r = entry.origin === 'current' ? replayOf?.(entry) : undefined;
  const text = `${r ? '$(debug-restart)' : '$(pulse)'} Net Trace: ${requests} ${requests === 1 ? 'request' : 'requests'}${failed > 0 ? `, ${failed} failed` : ''}${h ? `, ${h.text}` : ''}${r ? ', replay on' : ''}`;
  const said = r
    ? `Replay on: every request is answered from ${r.file}, the network is off (${replayCountsText(r.counts) || 'no request yet'}). `
    : '';
  const what = entry.origin === 'current' ? entry.label : `${entry.label} (${entry.origin === 'file' ? 'file' : 'ended'})`;
  const others =
    recording > (entry.origin === 'current' ? 1 : 0) ? ` (${recording} ${recording === 1 ? 'session' : 'sessions'} recording)` : '';
  return { text, tooltip: `${said}${what}${others} — click to show the Net Trace panel${h ? `. ${h.tooltip}` : ''}`, traceKey: entry.key };
}

/**
 * Calls `update` on every event that may change the item: the store's (at once, in the same
 * turn as the panel's feed) and the panel's trace switch. Returns the unsubscribe function.
 * A `change` of a trace the item does not count is skipped (no recount of a trace not shown).
 */
export function watchStatus(
  store: EventEmitter<TraceStoreEvents>,
  onPanelTrace: (listener: () => void) => { dispose(): void },
  update: () => void,
  counted: () => string | undefined,
): () => void {
  const onChange = (entry: TraceEntry): void => {
    if (entry.key === counted()) update();
  };
  const events = ['list', 'cleared', 'ended', 'started'] as const;
  store.on('change', onChange);
  for (const e of events) store.on(e, update);
  const sub = onPanelTrace(update);
  return () => {
    store.off('change', onChange);
    for (const e of events) store.off(e, update);
    sub.dispose();
  };
}
