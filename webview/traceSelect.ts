/**
 * The toolbar's trace picker: the session's traces grouped by where they come from (this
 * session, earlier sessions, opened files), live ones marked with a dot.
 */

import type { TraceListItem, TraceOrigin } from '../src/protocol/webview';
import { h } from './dom';

const ORIGIN_LABELS: Record<TraceOrigin, string> = { current: 'Current session', earlier: 'Earlier sessions', file: 'Opened files' };

/** The picker's `<optgroup>`s for `traces`, or one `<option>` reading `emptyLabel` when there are none. */
export function traceSelectOptions(traces: readonly TraceListItem[], emptyLabel: string): HTMLElement[] {
  const groups = new Map<TraceOrigin, HTMLOptGroupElement>();
  for (const t of traces) {
    let g = groups.get(t.origin);
    if (!g) {
      g = document.createElement('optgroup');
      g.label = ORIGIN_LABELS[t.origin];
      groups.set(t.origin, g);
    }
    g.append(h('option', null, { value: t.traceKey, title: t.detail ?? t.label }, t.live ? `● ${t.label}` : t.label));
  }
  const children: HTMLElement[] = [];
  for (const origin of ['current', 'earlier', 'file'] as const) {
    const g = groups.get(origin);
    if (g) children.push(g);
  }
  if (!children.length) children.push(h('option', null, { value: '' }, emptyLabel));
  return children;
}
