/**
 * The panel's "Compare With…" (issue 53): the shown trace compared with a baseline the user picks
 * — another trace of the panel (a session, an opened file) or a trace file — route by route as
 * `nettrace diff` does (src/trace/derive/compare.ts), sent to the panel's Summary view. A file is
 * streamed and each trace summarized a slice at a time (src/trace/summaryStream.ts): the extension
 * host's event loop keeps turning through a 100,000-request comparison. A comparison is of the
 * shown trace: it is not posted when the panel has moved on to another meanwhile, and the panel's
 * Summary view drops it when it shows another trace (webview/summaryView.ts).
 */

import { basename } from 'node:path';
import * as vscode from 'vscode';
import { TraceFileError } from '../trace/formats/traceFile';
import { compareWithBaseline, type Baseline } from '../trace/summaryStream';
import type { Services } from './services';
import type { TraceEntry } from './traceStore';

/** Asks for the baseline (another trace of the panel, or a file) and sends the comparison to the panel. */
export async function compareWith(s: Services, shown: TraceEntry | undefined): Promise<void> {
  if (!shown) return;
  const FILE = 'Open a trace file…';
  const others = s.traces.list().filter((e) => e.key !== shown.key);
  const picked = await vscode.window.showQuickPick(
    [...others.map((e) => ({ label: e.label, description: e.origin, key: e.key })), { label: FILE, description: '', key: '' }],
    { title: `Compare ${shown.label} with…`, placeHolder: 'The baseline: what the shown trace is compared with' },
  );
  if (!picked) return;
  let baseline: Baseline;
  let name = picked.label;
  try {
    if (picked.key) baseline = { trace: s.traces.fullTrace(s.traces.get(picked.key)!) };
    else {
      const file = (
        await vscode.window.showOpenDialog({
          title: 'Compare With Trace File',
          canSelectMany: false,
          defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
          filters: { 'Net Trace JSON': ['json'], 'All files': ['*'] },
          openLabel: 'Compare',
        })
      )?.[0];
      if (!file) return;
      // Streamed into its route samples, never held: the host keeps only the shown trace.
      baseline = { path: file.fsPath };
      name = basename(file.fsPath);
    }
    const compared = await compareWithBaseline(shown.key, s.traces.fullTrace(shown), baseline, name);
    // A comparison belongs to the traces it compared: the panel may have moved on to another meanwhile.
    if (s.panel.traceKey !== shown.key) {
      s.log(`compared ${shown.key} with ${name}: not shown, the panel shows another trace now`);
      void vscode.window.showInformationMessage(
        `Net Trace: the comparison of ${shown.label} with ${name} is not shown: the panel shows another trace now. Compare again from its Summary view.`,
      );
      return;
    }
    s.panel.postCompare(compared);
    s.log(`compared ${shown.key} with ${name}`);
  } catch (err) {
    const message = err instanceof TraceFileError ? err.message : (err as Error).message;
    s.log(`compare failed: ${message}`);
    void vscode.window.showErrorMessage(`Net Trace: cannot compare: ${message}`);
  }
}
