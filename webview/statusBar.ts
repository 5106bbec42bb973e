/**
 * The panel's status bar: the trace's counts (requests, shown, failed, bytes received), the time
 * range the list is filtered to (its chip), and the trace's description; the announcer (its live
 * region) says the changes a screen-reader user would otherwise have to look for.
 */

import { Announcer } from './announcer';
import { h, setText } from './dom';
import { formatBytes, formatCount } from './format';
import type { TraceModel } from './model';

/** The status bar; `render` after each frame. */
export class StatusBar {
  readonly el: HTMLElement;
  readonly announcer = new Announcer();
  private readonly left = h('span', 'status-left');
  private readonly right = h('span', 'status-right');

  /** `rangeChip`: the time range's chip, after the counts. */
  constructor(rangeChip: HTMLElement) {
    this.el = h('div', 'statusbar', null, this.left, rangeChip, this.right, this.announcer.el);
  }

  /** Shows the model's counts; `filterKey` names the filter (a change of it announces the count). */
  render(m: TraceModel, filterKey: string): void {
    let bytes = 0;
    for (const r of m.rows) bytes += r.size ?? 0;
    const parts = [`${formatCount(m.rows.length)} requests`];
    if (m.flatView.length !== m.rows.length) parts.push(`${formatCount(m.flatView.length)} shown`);
    parts.push(`${formatCount(m.failedCount)} failed`, `${formatBytes(bytes)} received`);
    setText(this.left, parts.join(' · '));
    this.announcer.update({ failed: m.failedCount, total: m.rows.length, shown: m.flatView.length, filterKey });
    setText(this.right, m.description);
  }
}
