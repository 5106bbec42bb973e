/** What the panel shows when the host has no trace at all: how to get one, and why the last Node session was not traced. */

import { h, icon, setText } from './dom';

/** The "No trace yet" view: its element, and the line saying why the last Node debug session was not traced. */
export interface NoTraceView {
  readonly el: HTMLElement;
  /** Shows `reason` under the title (undefined hides the line). */
  setNotTraced(reason: string | undefined): void;
}

/** The "No trace yet" message with an Open Trace File button (`open` runs the command). */
export function renderNoTrace(open: () => void): NoTraceView {
  const button = h('button', 'button', { type: 'button' }, 'Open Trace File…');
  button.addEventListener('click', open);
  const notTraced = h('div', 'not-traced', { role: 'status' });
  notTraced.hidden = true;
  const el = h(
    'div',
    'no-trace',
    null,
    icon('pulse'),
    h('div', 'title', null, 'No trace yet'),
    notTraced,
    h(
      'div',
      null,
      null,
      'Start debugging with the ',
      h('strong', null, null, 'Net Trace'),
      ' launch configuration, turn on ',
      h('strong', null, null, 'Net Trace: Trace All Node Debugging'),
      ' to trace your own Node configurations and JavaScript Debug Terminals, or run ',
      h('strong', null, null, 'Net Trace: Open Trace File'),
      '.',
    ),
    h('div', 'actions', null, button),
  );
  return {
    el,
    setNotTraced(reason) {
      notTraced.hidden = reason === undefined;
      setText(notTraced, reason ? `Not traced: ${reason}` : '');
    },
  };
}
