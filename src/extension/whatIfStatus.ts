/**
 * What-if rules that are on, said where a user looks (docs/rules.md, "Honest and visible"):
 *   - the status bar's item: "2 what-if rules on" while any what-if rule is enabled — in the
 *     workspace's rules (they apply to every next session) or in a running session's — its tooltip
 *     naming each with what it does and how many calls it acts on; a click offers to turn them
 *     all off or to show them in the Rules view;
 *   - as a session starts with what-if rules from before (the workspace's, made from the panel in
 *     an earlier session or while none ran), a notification names them, with **Turn Off** (all of
 *     them, at once, in the workspace and the running session) and **Show Rules**.
 * So a program that fails or waits because the user once made it do so never surprises them.
 */

import * as vscode from 'vscode';
import { describeWhatIf, isWhatIf, matchedNoun, type Rule } from '../rules';
import type { RuleService } from './ruleService';
import type { TraceStore } from './traceStore';

/** "Net Trace: Turn Off All What-If Rules" (the status item's menu, the palette). */
export const TURN_OFF_WHAT_IF_COMMAND = 'nettrace.turnOffWhatIfRules';
/** The status item's command: its menu (turn them off, or show them). */
export const WHAT_IF_MENU_COMMAND = 'nettrace.whatIfRulesMenu';
/** The session-start notification's buttons. */
export const WHAT_IF_NOTICE_BUTTONS = { turnOff: 'Turn Off', show: 'Show Rules' } as const;

/** A what-if rule that is on, as the status bar and the notification name it. */
interface OnRule {
  name: string;
  /** What it does and how often: `fail refused; the next 3 calls in all`. */
  words: string;
}

/** What a rule's limit leaves: `every matching call`, `the next 3 calls in all`, `the next 3 calls of each process`; `left` when known. */
export function limitWords(r: Pick<Rule, 'limit' | 'limitPer'>, acted?: number): string {
  if (r.limit === null) return 'every matching call';
  const calls = `the next ${r.limit === 1 ? 'call' : `${r.limit} calls`}`;
  if (r.limitPer !== 'session') return `${calls} of each process`;
  return `${calls} in all${acted !== undefined && acted > 0 ? `, ${Math.max(0, r.limit - acted)} left` : ''}`;
}

/** A what-if rule in words: `fail refused (TLS requests only); the next 3 calls in all`. */
function ruleWords(r: Rule, acted?: number): string {
  const what = isWhatIf(r.action) ? describeWhatIf(r.action, r) : r.action;
  return `${what}${matchedNoun(r) === 'TLS request' ? ' (requests over TLS only)' : ''}; ${limitWords(r, acted)}`;
}

/** The enabled what-if rules: the workspace's and every live session's, by id. */
export function enabledWhatIfRules(traces: TraceStore, rules: RuleService): Map<string, OnRule> {
  const on = new Map<string, OnRule>();
  for (const r of rules.workspaceRules()) if (r.enabled && isWhatIf(r.action)) on.set(r.id, { name: r.name, words: ruleWords(r) });
  for (const e of traces.live())
    for (const r of e.session?.rules.rules() ?? [])
      if (r.enabled && isWhatIf(r.action) && !on.has(r.id)) on.set(r.id, { name: r.name, words: ruleWords(r) });
  return on;
}

/** The item's text and tooltip for `on` (undefined: hidden). */
export function whatIfStatusText(on: ReadonlyMap<string, OnRule>): { text: string; tooltip: string } | undefined {
  if (on.size === 0) return undefined;
  const names = [...on.values()].map((r) => `"${r.name}" (${r.words})`);
  return {
    text: `$(beaker) ${on.size} what-if rule${on.size === 1 ? '' : 's'} on`,
    tooltip: `Net Trace: what-if rules change what the program receives (failures, delays, answers): ${names.join(', ')}. Click to turn them off or see them in the Rules view.`,
  };
}

/**
 * The notification of a session that starts with what-if rules from before (the workspace's),
 * or undefined when there are none: names each, with what it does and how many calls it acts on.
 */
export function whatIfFromBeforeText(rules: readonly Rule[]): string | undefined {
  if (rules.length === 0) return undefined;
  const list = rules.map((r) => `"${r.name}" (${ruleWords(r)})`).join(', ');
  return (
    `Net Trace: this session starts with ${rules.length === 1 ? 'a what-if rule' : `${rules.length} what-if rules`} from before, ` +
    `on and changing what the program receives: ${list}. Turn Off turns ${rules.length === 1 ? 'it' : 'them'} off now.`
  );
}

/** The sets of rules whose notification is still open: the same set is not announced twice at once (a compound launch, a terminal's commands). */
const open = new Set<string>();

/**
 * Says, as a session starts, which what-if rules from before are on (`ids`: the session's
 * workspace rules), with Turn Off (all of them, at once) and Show Rules. Never waits for the answer.
 */
export function noticeWhatIfFromBefore(
  rules: RuleService,
  ids: readonly string[],
  log: (line: string) => void,
  showRules: () => void,
): void {
  const from = rules.whatIfFromBefore(ids);
  const text = whatIfFromBeforeText(from);
  if (text === undefined) return;
  log(text.replace(/^Net Trace: /, ''));
  const key = JSON.stringify(from.map((r) => r.id));
  if (open.has(key)) return;
  open.add(key);
  void Promise.resolve(vscode.window.showWarningMessage(text, WHAT_IF_NOTICE_BUTTONS.turnOff, WHAT_IF_NOTICE_BUTTONS.show))
    .then((answer) => {
      if (answer === WHAT_IF_NOTICE_BUTTONS.show) showRules();
      if (answer !== WHAT_IF_NOTICE_BUTTONS.turnOff) return;
      const off: string[] = [];
      for (const r of from)
        try {
          if (rules.workspaceRules().some((w) => w.id === r.id && w.enabled)) {
            rules.apply({ op: 'setEnabled', id: r.id, enabled: false }, undefined, 'workspace');
            off.push(r.name);
          }
        } catch (err) {
          log(`what-if rule "${r.id}" could not be turned off: ${(err as Error).message}`);
        }
      log(`turned off the what-if rules from before: ${off.map((n) => `"${n}"`).join(', ') || 'none was still on'}`);
    })
    .finally(() => open.delete(key));
}

/** Turns off every what-if rule that is on, and says which. */
function turnOffAll(rules: RuleService, log: (line: string) => void): void {
  try {
    const names = rules.turnOffWhatIf();
    const text = names.length
      ? `Net Trace: turned off ${names.map((n) => `"${n}"`).join(', ')}: the program gets the real behaviour back from its next request.`
      : 'Net Trace: no what-if rule is on.';
    log(text.replace(/^Net Trace: /, ''));
    void vscode.window.showInformationMessage(text);
  } catch (err) {
    void vscode.window.showErrorMessage(`Net Trace: the what-if rules could not all be turned off: ${(err as Error).message}`);
  }
}

/** Registers the item, its menu and "Turn Off All What-If Rules"; the item follows the rules' and the sessions' changes. */
export function registerWhatIfStatus(
  context: vscode.ExtensionContext,
  traces: TraceStore,
  rules: RuleService,
  showRulesCommand: string,
  log: (line: string) => void = () => {},
): void {
  const item = vscode.window.createStatusBarItem('nettrace.whatIf', vscode.StatusBarAlignment.Left, 9);
  item.name = 'Net Trace what-if rules';
  item.command = WHAT_IF_MENU_COMMAND;
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
  context.subscriptions.push(
    item,
    { dispose: () => (rules.off('change', update), traces.off('list', update)) },
    vscode.commands.registerCommand(TURN_OFF_WHAT_IF_COMMAND, () => turnOffAll(rules, log)),
    vscode.commands.registerCommand(WHAT_IF_MENU_COMMAND, async () => {
      const picked = await vscode.window.showQuickPick(
        [
          { label: '$(circle-slash) Turn Off All What-If Rules', run: () => turnOffAll(rules, log) },
          { label: '$(list-flat) Show Them in the Rules View', run: () => void vscode.commands.executeCommand(showRulesCommand) },
        ],
        { title: 'Net Trace: what-if rules', placeHolder: whatIfStatusText(enabledWhatIfRules(traces, rules))?.tooltip },
      );
      picked?.run();
    }),
  );
  update();
}
