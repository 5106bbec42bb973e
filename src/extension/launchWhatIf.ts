/**
 * What-if rules from a launch configuration (docs/security.md, "What-if rules"). A cloned
 * repository's `.vscode/launch.json` is read as it is (VS Code hands the configuration over when
 * the user starts it), so a what-if rule in it would make the program's requests fail, wait or get
 * another answer on the first F5 — the user may never have read it. So before any such rule acts,
 * the user is shown it: a prompt names each one with its whole effect (src/rules/whatIfConsent.ts:
 * its id, condition, status, headers, body or file, delay, limit), its first line calling out a
 * redirect to another host and a file read from disk, with
 * **Allow** (remembered in this workspace for exactly that rule: a changed rule asks again),
 * **Show** (opens launch.json; the rules stay off for this session) and **Not now** (off for this
 * session). The user's own rules — the workspace's rules added from the panel, the user settings'
 * `nettrace.rules` — and rules already allowed pass unasked; the workspace settings' rules are the
 * settings guard's (settingsGuard.ts).
 */

import * as vscode from 'vscode';
import { whatIfConsentLine, whatIfRuleWords } from '../rules/whatIfConsent';
import { guardedSetting, isWhatIfRule } from './settingsGuard';

/** The workspaceState key of the launch configurations' what-if rules the user allowed (their JSON). */
export const ALLOWED_LAUNCH_WHAT_IF_KEY = 'nettrace.allowedLaunchWhatIf';

/** The prompt's buttons. */
export const LAUNCH_WHAT_IF_BUTTONS = { allow: 'Allow', show: 'Show', notNow: 'Not now' } as const;

/**
 * The rules a session starts with: the launch configuration's what-if rules that the user has not
 * allowed are left out unless they allow them now. `own` tells the user's own rules (the
 * workspace's, the user settings'), which pass unasked.
 */
export async function confirmLaunchWhatIf<T>(
  rules: T[],
  own: (rule: T) => boolean,
  memento: vscode.Memento | undefined,
  log: (line: string) => void,
): Promise<T[]> {
  const allowed = new Set(memento?.get<string[]>(ALLOWED_LAUNCH_WHAT_IF_KEY) ?? []);
  const asking = rules.filter(
    (r) => isWhatIfRule(r) && (r as { enabled?: unknown }).enabled === true && !own(r) && !allowed.has(JSON.stringify(r)),
  );
  if (asking.length === 0) return rules;
  const list = asking.map(whatIfRuleWords);
  const answer = await vscode.window.showWarningMessage(
    `Net Trace: ${whatIfConsentLine('this launch configuration has', asking)}`,
    {
      modal: true,
      detail: `${list.join('\n')}\n\nAllow: ${asking.length === 1 ? 'it acts' : 'they act'} from this session on (asked again if changed). Show: open launch.json; ${asking.length === 1 ? 'it stays' : 'they stay'} off this session. Not now: off this session.`,
    },
    LAUNCH_WHAT_IF_BUTTONS.allow,
    LAUNCH_WHAT_IF_BUTTONS.show,
    LAUNCH_WHAT_IF_BUTTONS.notNow,
  );
  if (answer === LAUNCH_WHAT_IF_BUTTONS.allow) {
    await memento?.update(ALLOWED_LAUNCH_WHAT_IF_KEY, [...allowed, ...asking.map((r) => JSON.stringify(r))]);
    log(`what-if rules of the launch configuration allowed in this workspace: ${list.join('; ')}`);
    return rules;
  }
  if (answer === LAUNCH_WHAT_IF_BUTTONS.show) void showLaunchJson();
  log(`what-if rules of the launch configuration left out of this session (not allowed): ${list.join('; ')}`);
  return rules.filter((r) => !asking.includes(r));
}

/** Opens the first workspace folder's .vscode/launch.json (where VS Code reads launch configurations). */
async function showLaunchJson(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) return;
  try {
    await vscode.window.showTextDocument(vscode.Uri.joinPath(folder.uri, '.vscode', 'launch.json'));
  } catch {
    await vscode.commands.executeCommand('workbench.action.debug.configure');
  }
}

/**
 * The rules of a session's list that need no prompt: the workspace's (ids in `workspaceIds`, added
 * from the panel) and those of the `nettrace.rules` setting as the settings guard lets it apply
 * (the user's own, and a workspace's only once the user allowed it there).
 */
export function ownRule(workspaceIds: readonly string[]): (rule: unknown) => boolean {
  const ws = new Set(workspaceIds);
  const user = guardedSetting<unknown[]>('rules');
  const mine = new Set((Array.isArray(user) ? user : []).map((r) => JSON.stringify(r)));
  return (rule) => ws.has(String((rule as { id?: unknown })?.id)) || mine.has(JSON.stringify(rule));
}
