/**
 * What-if rules and workspace trust (docs/security.md, "What-if rules"): in a workspace VS Code
 * does not trust (`workspace.isTrusted`), what-if rules are off — none reaches a session
 * (settingsGuard.ts whatIfRulesIfTrusted), none can be created or enabled from the panel, a row's
 * menu or the palette (RuleService's `whatIfOff`) — and the panel's banner says why in a plain
 * sentence. Once the user grants trust (`onDidGrantWorkspaceTrust`), the banner goes and they can
 * be turned on (a running session gets them as soon as they are enabled; rules left out at its start
 * come with the next session). Send Again is refused the same way (whatIfCommands.ts): it makes the
 * program send a request again, with its credentials.
 */

import * as vscode from 'vscode';

/** The banner's sentence in an untrusted workspace. */
export const UNTRUSTED_WHAT_IF =
  'What-if rules are off: this workspace is not trusted, so no rule from it can make the program’s requests fail, wait or get another answer. ' +
  'Trust the workspace (Manage Workspace Trust) to use them.';

/** The message of a Send Again refused in an untrusted workspace. */
export const UNTRUSTED_SEND_AGAIN =
  'Net Trace: Send Again is off: this workspace is not trusted, and Send Again makes the program send a request again, with the credentials it sent. ' +
  'Trust the workspace (Manage Workspace Trust) to use it.';

/** Why Send Again is refused now (an untrusted workspace), or undefined. */
export function sendAgainOffReason(): string | undefined {
  return (vscode.workspace as { isTrusted?: boolean }).isTrusted === false ? UNTRUSTED_SEND_AGAIN : undefined;
}

/** Why what-if rules are off now (an untrusted workspace), or undefined. */
export function whatIfOffReason(): string | undefined {
  return (vscode.workspace as { isTrusted?: boolean }).isTrusted === false ? UNTRUSTED_WHAT_IF : undefined;
}

/** Keeps the panel's banner in step with the workspace's trust. */
export function registerWhatIfTrust(context: vscode.ExtensionContext, panel: { setWhatIfOff(reason: string | undefined): void }): void {
  panel.setWhatIfOff(whatIfOffReason());
  const grant = (vscode.workspace as { onDidGrantWorkspaceTrust?: vscode.Event<void> }).onDidGrantWorkspaceTrust;
  if (grant) context.subscriptions.push(grant(() => panel.setWhatIfOff(whatIfOffReason())));
}
