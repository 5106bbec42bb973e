/** The status bar item: the request and failure counts of the running session shown in the panel. */

import * as vscode from 'vscode';
import type { Services } from './services';

/** Registers the status bar item; returns the function that refreshes it. */
export function registerStatusBar(s: Services, showPanelCommand: string): () => void {
  const { traces, panel } = s;
  const status = vscode.window.createStatusBarItem('nettrace.status', vscode.StatusBarAlignment.Left, 10);
  status.name = 'Net Trace';
  status.command = showPanelCommand;
  s.context.subscriptions.push(status);
  const update = () => {
    const live = traces.live();
    if (live.length === 0) {
      status.hide();
      return;
    }
    const shown = live.find((e) => e.key === panel.traceKey) ?? live.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
    const { requests, failed } = traces.counts(shown);
    status.text = `$(pulse) Net Trace: ${requests} ${requests === 1 ? 'request' : 'requests'}${failed > 0 ? `, ${failed} failed` : ''}`;
    status.tooltip = `${shown.label}${live.length > 1 ? ` (${live.length} sessions recording)` : ''} — click to show the Net Trace panel`;
    status.show();
  };
  // On the same (throttled) change events as the panel: a timer of its own here made the count
  // trail the panel's list.
  traces.on('change', update);
  traces.on('list', update);
  traces.on('cleared', update);
  return update;
}
