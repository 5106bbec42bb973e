/**
 * The status bar item: the request and failure counts of the trace the panel shows (else the
 * running session), and the requests rules the user did not set hid (hiddenRules.ts);
 * statusView.ts decides what it says and when it is redrawn.
 */

import * as vscode from 'vscode';
import type { Services } from './services';
import { hiddenInSession } from './hiddenRules';
import { statusView, watchStatus, type HiddenOf } from './statusView';
import { liveReplay } from './replayCommands';

/** Registers the status bar item; returns the function that refreshes it. */
export function registerStatusBar(s: Services, showPanelCommand: string): () => void {
  const { traces, panel } = s;
  const status = vscode.window.createStatusBarItem('nettrace.status', vscode.StatusBarAlignment.Left, 10);
  status.name = 'Net Trace';
  status.command = showPanelCommand;
  s.context.subscriptions.push(status);
  let counted: string | undefined;
  // A live session's rules, with the counters its processes reported.
  const hidden: HiddenOf = (e) => {
    if (!e.session || !e.collector) return undefined;
    return hiddenInSession(s.rules.view(e.key).rules, e.session.rules.defaultAction);
  };
  const update = (): void => {
    const view = statusView(traces, panel, hidden, liveReplay);
    counted = view?.traceKey;
    if (!view) {
      status.hide();
      return;
    }
    status.text = view.text;
    status.tooltip = view.tooltip;
    status.show();
  };
  const stop = watchStatus(
    traces,
    (l) => panel.onDidChangeTrace(l),
    update,
    () => counted,
  );
  s.context.subscriptions.push({ dispose: stop });
  update();
  return update;
}
