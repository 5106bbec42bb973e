/**
 * The status bar's what-if item (docs/rules.md, "Honest and visible"): "2 what-if rules on" while
 * any what-if rule is enabled — in the workspace's rules (they apply to every next session) or in
 * a running session's — so a program that fails because the user made it fail never surprises
 * them. A click opens the panel's Rules view.
 */

import * as vscode from 'vscode';
import { isWhatIf } from '../rules';
import type { RuleService } from './ruleService';
import type { TraceStore } from './traceStore';

/** The ids and names of the enabled what-if rules: the workspace's and every live session's. */
export function enabledWhatIfRules(traces: TraceStore, rules: RuleService): Map<string, string> {
  const on = new Map<string, string>();
  for (const r of rules.workspaceRules()) if (r.enabled && isWhatIf(r.action)) on.set(r.id, r.name);
  for (const e of traces.live()) for (const r of e.session?.rules.rules() ?? []) if (r.enabled && isWhatIf(r.action)) on.set(r.id, r.name);
  return on;
}

/** The item's text and tooltip for `on` (undefined: hidden). */
export function whatIfStatusText(on: ReadonlyMap<string, string>): { text: string; tooltip: string } | undefined {
  if (on.size === 0) return undefined;
  const names = [...on.values()].map((n) => `"${n}"`);
  return {
    text: `$(beaker) ${on.size} what-if rule${on.size === 1 ? '' : 's'} on`,
    tooltip: `Net Trace: what-if rules change what the program receives (failures, delays, answers): ${names.join(', ')}. Click to see them in the Rules view and turn them off.`,
  };
}

/** Registers the item; it follows the rules' and the sessions' changes. */
export function registerWhatIfStatus(
  context: vscode.ExtensionContext,
  traces: TraceStore,
  rules: RuleService,
  showRulesCommand: string,
): void {
  const item = vscode.window.createStatusBarItem('nettrace.whatIf', vscode.StatusBarAlignment.Left, 9);
  item.name = 'Net Trace what-if rules';
  item.command = showRulesCommand;
  item.backgroundColor = new vscode.ThemeColor('statusBarItem.warningBackground');
  const update = (): void => {
    const view = whatIfStatusText(enabledWhatIfRules(traces, rules));
    if (!view) return item.hide();
    item.text = view.text;
    item.tooltip = view.tooltip;
    item.accessibilityInformation = { label: view.text.replace(/^\$\([a-z-]+\) /, '') };
    item.show();
  };
  rules.on('change', update);
  traces.on('list', update);
  context.subscriptions.push(item, { dispose: () => (rules.off('change', update), traces.off('list', update)) });
  update();
}
