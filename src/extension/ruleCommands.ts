/**
 * The trace rule commands (docs/rules.md, "In VS Code"):
 *   - a request row's menu (package.json `menus` "webview/context", fed by the row's
 *     `data-vscode-context`): "Break on Requests Like This", "Skip Requests to This Host",
 *     "Capture Bodies of These": a rule made from the request (src/rules/fromRequest.ts), enabled,
 *     added to the live sessions and the workspace, and shown in the panel's Rules view;
 *   - the Command Palette: "Add Trace Rule…" (one line, `[ID:] ACTION [limit=N] … CONDITION`,
 *     checked as it is typed) and "Manage Trace Rules" (enable, disable, edit, delete).
 * The rules themselves are kept by RuleService (ruleService.ts).
 */

import * as vscode from 'vscode';
import { RULE_ACTIONS, matchedNoun, parseRuleShortForm, validateRule, type Rule } from '../rules';
import { uniqueId, type FromRequestKind } from '../rules/fromRequest';
import type { RuleRow } from '../protocol/webview';
import { requestTarget, type CopyContext } from './copyCommands';
import { ruleProblem, type RuleService } from './ruleService';
import type { Services } from './services';

/** The rule commands (package.json `contributes.commands` and `menus`). */
export const RULE_COMMANDS = {
  breakLikeThis: 'nettrace.breakOnRequestsLikeThis',
  skipHost: 'nettrace.skipRequestsToHost',
  captureBodies: 'nettrace.captureBodiesOfThese',
  add: 'nettrace.addTraceRule',
  manage: 'nettrace.manageTraceRules',
  show: 'nettrace.showTraceRules',
} as const;

const FROM_REQUEST: ReadonlyArray<[string, FromRequestKind]> = [
  [RULE_COMMANDS.breakLikeThis, 'break'],
  [RULE_COMMANDS.skipHost, 'skipHost'],
  [RULE_COMMANDS.captureBodies, 'bodies'],
];

/** Registers the rule commands. */
export function registerRuleCommands(s: Services, rules: RuleService): void {
  const sub = s.context.subscriptions;
  for (const [id, kind] of FROM_REQUEST) {
    sub.push(vscode.commands.registerCommand(id, (arg?: CopyContext) => addFromRequest(s, rules, kind, arg)));
  }
  sub.push(
    vscode.commands.registerCommand(RULE_COMMANDS.add, () => addRule(s, rules)),
    vscode.commands.registerCommand(RULE_COMMANDS.manage, () => manageRules(s, rules)),
    vscode.commands.registerCommand(RULE_COMMANDS.show, () => s.panel.revealRules()),
  );
}

/** Row menu: a rule from the request of the row (or the panel's selection). */
export async function addFromRequest(s: Services, rules: RuleService, kind: FromRequestKind, arg?: CopyContext): Promise<Rule | undefined> {
  const t = requestTarget(s, arg);
  if (!t) {
    void vscode.window.showInformationMessage('Net Trace: select a request in the Net Trace panel first.');
    return undefined;
  }
  let made: ReturnType<RuleService['addFromRequest']>;
  try {
    made = rules.addFromRequest(kind, t.req, t.entry.key);
  } catch (err) {
    void vscode.window.showErrorMessage(`Net Trace: the rule could not be added: ${(err as Error).message}`);
    return undefined;
  }
  if (!made) {
    void vscode.window.showInformationMessage(`Net Trace: no rule can be made from this request's URL (${t.req.reqURL}).`);
    return undefined;
  }
  s.panel.revealRules(made.rule.id);
  const live = s.traces.live().length > 0;
  // When it applies comes first: VS Code cuts a notification after a line or two.
  void vscode.window.showInformationMessage(
    `Net Trace: ${live ? 'applies now to the running session and to the next sessions of this workspace' : 'applies from the next session of this workspace'} — ` +
      `${made.existed ? 'the rule is there already' : 'added the rule'} "${made.rule.name}" (enabled; see the Rules view of the panel).`,
  );
  return made.rule;
}

/** What an input box says about a one-line rule: undefined when it is valid. */
export function checkShortForm(text: string, taken: ReadonlySet<string>, keepId?: string): string | undefined {
  if (text.trim() === '') return 'Type a rule, e.g. skip host == "telemetry.example.com"';
  try {
    const input = parseRuleShortForm(text, keepId ?? uniqueId('rule', taken));
    if (keepId !== undefined && input.id !== keepId) return `The id of a rule cannot change: write "${keepId}:" or no id.`;
    if (keepId === undefined && taken.has(input.id)) return `A rule with the id "${input.id}" exists already.`;
    validateRule(input);
    return undefined;
  } catch (err) {
    const p = ruleProblem(err);
    // An input box shows one line: the problem and its column (the text box is the excerpt).
    return p.column !== undefined ? `${p.reason} (at column ${p.column} of the condition)` : p.message;
  }
}

/** The one-line form of a rule (what "Edit" shows and parses back). */
export function toShortForm(r: Pick<Rule, 'id' | 'action' | 'limit' | 'limitPer' | 'condition' | 'tag' | 'details' | 'name'>): string {
  const parts = [`${/^[A-Za-z0-9_.-]{1,200}$/.test(r.id) ? `${r.id}: ` : ''}${r.action}`];
  if (r.limit !== null) parts.push(`limit=${r.limit}${r.limitPer === 'session' ? '/session' : ''}`);
  if (r.action === 'mark' && r.tag !== undefined && r.tag !== r.name && /^[^\s~=]\S*$/.test(r.tag)) parts.push(`tag=${r.tag}`);
  if (r.action === 'details' && r.details && r.details.join(',') !== 'bodies') parts.push(`details=${r.details.join(',')}`);
  parts.push(r.condition);
  return parts.join(' ');
}

/** "Net Trace: Add Trace Rule…": one line, checked as it is typed; enabled (as `--rule`). */
async function addRule(s: Services, rules: RuleService): Promise<void> {
  const taken = rules.takenIds();
  const text = await vscode.window.showInputBox({
    title: 'Net Trace: Add Trace Rule',
    prompt: `[ID:] ACTION [limit=N[/session]] [tag=TAG] [details=KIND,...] CONDITION — ACTION is ${RULE_ACTIONS.join(', ')}. The rule is enabled, kept in this workspace and applies to running sessions at once.`,
    placeHolder: 'skip host == "telemetry.example.com"',
    ignoreFocusOut: true,
    validateInput: (v) => checkShortForm(v, taken),
  });
  if (text === undefined) return;
  try {
    const input = parseRuleShortForm(text, uniqueId('rule', rules.takenIds()));
    const rule = rules.apply({ op: 'create', rule: input }, s.panel.traceKey)!;
    s.panel.revealRules(rule.id, false);
    void vscode.window.showInformationMessage(`Net Trace: added the trace rule "${rule.name}" (enabled).`);
  } catch (err) {
    void vscode.window.showErrorMessage(`Net Trace: the rule was not added: ${(err as Error).message}`);
  }
}

interface RulePick extends vscode.QuickPickItem {
  rule?: RuleRow;
  add?: true;
}

interface ActionPick extends vscode.QuickPickItem {
  run: () => Promise<void> | void;
}

/** "Net Trace: Manage Trace Rules": pick a rule, then enable/disable, edit or delete it. */
async function manageRules(s: Services, rules: RuleService): Promise<void> {
  const key = s.panel.traceKey;
  const { scope, rules: list } = rules.rulesOf(key);
  const where = scope === 'session' ? 'the running session (and the workspace, for its rules)' : 'this workspace (from the next session)';
  const items: RulePick[] = [
    ...list.map((r): RulePick => ({
      label: `${r.enabled ? '$(pass-filled)' : '$(circle-large-outline)'} ${r.name}`,
      description: `${r.action}${r.limit !== null ? ` · limit ${r.limit} ${r.limitPer === 'session' ? 'in all' : 'per process'}` : ''} · ${r.condition}`,
      detail: `${r.enabled ? 'enabled' : 'disabled'} · ${r.origin === 'launch' ? 'from launch.json or the nettrace.rules setting (edits last for this session)' : 'workspace rule'}${
        scope === 'session'
          ? ` · matched ${r.matched}${matchedNoun(r) === 'request' ? '' : ` ${matchedNoun(r)}${r.matched === 1 ? '' : 's'}`}, acted ${r.acted}${r.limitReached ? ' · limit reached' : ''}`
          : ''
      }`,
      rule: r,
    })),
    { label: '$(add) Add Trace Rule…', add: true, alwaysShow: true },
  ];
  const picked = await vscode.window.showQuickPick(items, {
    title: `Net Trace: Trace Rules of ${where}`,
    placeHolder: list.length ? 'Pick a rule to enable, disable, edit or delete it' : 'No trace rules yet',
    matchOnDescription: true,
  });
  if (!picked) return;
  if (picked.add) return addRule(s, rules);
  const r = picked.rule!;
  const change = (fn: () => unknown, done: string) => {
    try {
      fn();
      s.panel.revealRules(r.id, false);
      void vscode.window.showInformationMessage(`Net Trace: ${done}`);
    } catch (err) {
      void vscode.window.showErrorMessage(`Net Trace: ${(err as Error).message}`);
    }
  };
  const actions: ActionPick[] = [
    {
      label: r.enabled ? '$(circle-slash) Disable' : '$(pass) Enable',
      run: () =>
        change(
          () => rules.apply({ op: 'setEnabled', id: r.id, enabled: !r.enabled }, key, scope),
          `"${r.name}" ${r.enabled ? 'disabled' : 'enabled'}.`,
        ),
    },
    {
      label: '$(edit) Edit…',
      description: 'as one line: [ID:] ACTION [limit=N] … CONDITION',
      run: async () => {
        const taken = rules.takenIds();
        const text = await vscode.window.showInputBox({
          title: `Net Trace: Edit Trace Rule "${r.name}"`,
          value: toShortForm(r),
          ignoreFocusOut: true,
          validateInput: (v) => checkShortForm(v, taken, r.id),
        });
        if (text === undefined) return;
        change(() => {
          const input = parseRuleShortForm(text, r.id);
          const changes: Record<string, unknown> = {
            condition: input.condition,
            action: input.action,
            limit: input.limit ?? null,
            limitPer: input.limitPer ?? 'process',
          };
          if (input.tag !== undefined) changes.tag = input.tag;
          if (input.details !== undefined) changes.details = input.details;
          rules.apply({ op: 'update', id: r.id, changes }, key, scope);
        }, `"${r.name}" changed.`);
      },
    },
    {
      label: '$(trash) Delete',
      run: async () => {
        const yes = await vscode.window.showWarningMessage(`Delete the trace rule "${r.name}"?`, { modal: true }, 'Delete');
        if (yes === 'Delete') change(() => rules.apply({ op: 'delete', id: r.id }, key, scope), `"${r.name}" deleted.`);
      },
    },
    { label: '$(list-flat) Show in the Rules View', run: () => s.panel.revealRules(r.id, true, 'open') },
  ];
  const action = await vscode.window.showQuickPick(actions, { title: `Net Trace: ${r.name}`, placeHolder: `${r.action} ${r.condition}` });
  await action?.run();
}
