/** What the panel shows when the host has no trace at all: how to get one. */

import { h, icon } from './dom';

/** The "No trace yet" message with an Open Trace File button (`open` runs the command). */
export function renderNoTrace(open: () => void): HTMLElement {
  const button = h('button', 'button', { type: 'button' }, 'Open Trace File…');
  button.addEventListener('click', open);
  return h(
    'div',
    'no-trace',
    null,
    icon('pulse'),
    h('div', 'title', null, 'No trace yet'),
    h(
      'div',
      null,
      null,
      'Start debugging with the ',
      h('strong', null, null, 'Net Trace'),
      ' launch configuration, or run ',
      h('strong', null, null, 'Net Trace: Open Trace File'),
      '.',
    ),
    h('div', 'actions', null, button),
  );
}
