/**
 * The toolbar's replay controls (docs/replay.md, "In VS Code"): the "Record the next run for
 * replay" toggle (pressed: each run started from the editor keeps what a replay needs) and
 * **Replay This Run** on a finished or opened trace (the host starts the same launch again with the
 * trace's recording; src/extension/replayCommands.ts). A trace that was not recorded keeps the
 * button, marked unavailable and saying why: a press has the host say it plainly, and offer to
 * record the next run. Icon buttons as the toolbar's other actions, each named in words (its
 * accessible name and tooltip); the toggle shows its state as they do (pressed: `.on`).
 */

import type { FromWebview, TraceListItem } from '../src/protocol/webview';
import { h, icon, setSafeAttr } from './dom';

/** What the toggle says it does (its name, with the words on it). */
export const RECORD_NEXT_LABEL = 'Record the next run for replay';
/** Replay This Run's name. */
export const REPLAY_LABEL = 'Replay This Run';
/** The tooltip of a Replay This Run that cannot replay the trace. */
export const NOT_RECORDED_TITLE =
  'This run was not recorded for replay: turn on "Record the next run for replay", run the program again, then replay that run';

/** The replay controls; the app places `el` in its toolbar and calls `sync` when the trace list or the shown trace changes. */
export class ReplayControls {
  // Icon buttons, as the toolbar's other actions: their names and tooltips say what they do.
  readonly record = h(
    'button',
    'icon-button record-next',
    {
      type: 'button',
      title: `${RECORD_NEXT_LABEL}: while on, each run you start keeps what a replay needs (request bodies, and answers as received, which may hold secrets)`,
      'aria-label': RECORD_NEXT_LABEL,
      'aria-pressed': 'false',
    },
    icon('record'),
  );
  readonly replay = h(
    'button',
    'icon-button replay-run',
    {
      type: 'button',
      title: `${REPLAY_LABEL}: run it again with every request answered from its recording (the network off)`,
      'aria-label': REPLAY_LABEL,
    },
    icon('debug-restart'),
  );
  readonly el = h('div', 'group replay-group', { role: 'group', 'aria-label': 'Replay' }, this.record, this.replay);

  /** The toggle's state, as the host last said (the `traces` message's `recordNext`). */
  recordNext = false;

  constructor(post: (msg: FromWebview) => void, traceKey: () => string | undefined) {
    this.record.addEventListener('click', () => post({ type: 'command', command: 'recordNext' }));
    // Not recorded: still posted, so the host says why (and offers to record the next run).
    this.replay.addEventListener('click', () => post({ type: 'command', command: 'replayRun', traceKey: traceKey() }));
  }

  /** Shows the toggle's state, and Replay This Run for the shown trace when it has ended (or is a file). */
  sync(traces: readonly TraceListItem[], traceKey: string | undefined): void {
    this.record.classList.toggle('on', this.recordNext);
    setSafeAttr(this.record, 'aria-pressed', String(this.recordNext));
    const item = traces.find((t) => t.traceKey === traceKey);
    this.replay.hidden = !item || item.live;
    const unavailable = item?.recorded === false;
    this.replay.classList.toggle('unavailable', unavailable);
    setSafeAttr(this.replay, 'aria-disabled', String(unavailable));
    setSafeAttr(
      this.replay,
      'title',
      unavailable ? NOT_RECORDED_TITLE : `${REPLAY_LABEL}: run it again with every request answered from its recording (the network off)`,
    );
  }
}
