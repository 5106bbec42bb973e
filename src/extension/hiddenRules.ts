/**
 * Requests hidden by rules the user did not set (docs/security.md, "Skip rules a repository
 * ships"). A `skip` rule or `"defaultAction": "skip"` in a launch configuration or a workspace's
 * settings records less and changes nothing the program does or sends, so it acts without a
 * prompt (the settings guard lets a workspace narrow); but a cloned repository could use one to
 * hide its program's calls to a host, so it is never silent:
 *   - as a session starts, a notification names each such rule (its id and condition) and the
 *     default, with **Show Rules** and **Don't Show Again** (remembered in this workspace for
 *     exactly that set: a changed rule is named again); the output channel logs it every time;
 *   - while it records, the status bar counts the requests those rules hid ("3 hidden"), and says
 *     when the default hides the requests no rule traces (those are not counted).
 * The user's own rules — those added from the panel (the workspace's rules) and the user
 * settings' `nettrace.rules` and `nettrace.defaultAction` — are not named.
 */

import * as vscode from 'vscode';
import { plainText } from '../rules/whatIfConsent';

/** What hides requests in a session without the user having set it. */
export interface Hiding {
  /** The enabled `skip` rules not the user's own (id and condition). */
  rules: Array<{ id: string; condition: string }>;
  /** `defaultAction` is "skip" and not the user's own setting: requests no rule traces are not recorded. */
  defaultSkip: boolean;
}

/** The workspaceState key of the hiding sets the user chose not to be told of again (their JSON). */
export const HIDING_ACK_KEY = 'nettrace.acknowledgedHidingRules';

/** The notification's buttons. */
export const HIDING_BUTTONS = { show: 'Show Rules', never: "Don't Show Again" } as const;

type RuleLike = { id?: unknown; action?: unknown; condition?: unknown; enabled?: unknown };

/** The user's own setting (user settings only, never a workspace's) of `nettrace.<name>`. */
function userSetting(name: string): unknown {
  return vscode.workspace.getConfiguration('nettrace').inspect(name)?.globalValue;
}

/** Whether `rule` is one of the user's own: added from the panel (`workspaceIds`), or the same skip rule in the user settings. */
function ownSkip(rule: RuleLike, workspaceIds: ReadonlySet<string>, userRules: unknown): boolean {
  if (workspaceIds.has(String(rule.id))) return true;
  return (
    Array.isArray(userRules) &&
    userRules.some((u: RuleLike | null) => u?.id === rule.id && u?.action === 'skip' && u?.condition === rule.condition)
  );
}

/**
 * The enabled skip rules of a session's `rules` (raw or validated) that are not the user's own, and
 * whether its `defaultAction` "skip" is not the user's own setting.
 */
export function hidingRules(rules: readonly unknown[], workspaceIds: Iterable<string>, defaultAction: unknown): Hiding {
  const ws = new Set(workspaceIds);
  const userRules = userSetting('rules');
  const out: Hiding = { rules: [], defaultSkip: defaultAction === 'skip' && userSetting('defaultAction') !== 'skip' };
  for (const r of rules as RuleLike[]) {
    if (r === null || typeof r !== 'object' || r.action !== 'skip' || r.enabled !== true || ownSkip(r, ws, userRules)) continue;
    out.rules.push({ id: String(r.id), condition: String(r.condition) });
  }
  return out;
}

/** The rules in words: `skip rule "telemetry" (host == "t.example.com")`, and the default. */
function hidingWords(h: Hiding): string {
  const parts = h.rules.map((r) => `skip rule "${plainText(r.id, 80)}" (${plainText(r.condition)})`);
  if (h.defaultSkip) parts.push('"defaultAction": "skip" (requests no rule traces are not recorded)');
  return parts.join('; ');
}

/** The notification's sentence, or undefined when nothing hides requests. */
export function hidingNotice(h: Hiding): string | undefined {
  if (h.rules.length === 0 && !h.defaultSkip) return undefined;
  return (
    `Net Trace: this session does not record some of the program's requests, by rules of the launch configuration or the workspace settings (not yours): ${hidingWords(h)}. ` +
    'The status bar counts what they hide; the Rules view shows them.'
  );
}

/**
 * Says what hides requests as a session starts: a log line every time; a notification unless the
 * user chose not to be told of exactly this set again (`memento`). `showRules` opens the Rules view.
 */
export function noticeHiding(h: Hiding, memento: vscode.Memento | undefined, log: (line: string) => void, showRules: () => void): void {
  const text = hidingNotice(h);
  if (text === undefined) return;
  log(text.replace(/^Net Trace: /, ''));
  const key = JSON.stringify(h);
  const acked = memento?.get<string[]>(HIDING_ACK_KEY) ?? [];
  if (acked.includes(key)) return;
  void Promise.resolve(vscode.window.showInformationMessage(text, HIDING_BUTTONS.show, HIDING_BUTTONS.never)).then((answer) => {
    if (answer === HIDING_BUTTONS.show) showRules();
    if (answer === HIDING_BUTTONS.never) return memento?.update(HIDING_ACK_KEY, [...acked, key]);
    return undefined;
  });
}

/** A rule row of a live session, as the Rules view gets it (RuleService.view). */
interface RowLike extends RuleLike {
  origin?: unknown;
  acted?: unknown;
}

/**
 * For the status bar: how many requests the session's skip rules that are not the user's own hid
 * (their `acted` counters), and a sentence for the tooltip; undefined when nothing hides requests.
 */
export function hiddenInSession(
  rows: readonly RowLike[],
  defaultAction: unknown,
): { count: number; text: string; tooltip: string } | undefined {
  const launchRows = rows.filter((r) => r.origin !== 'workspace');
  const h = hidingRules(launchRows, [], defaultAction);
  if (h.rules.length === 0 && !h.defaultSkip) return undefined;
  const ids = new Set(h.rules.map((r) => r.id));
  let count = 0;
  for (const r of launchRows) if (ids.has(String(r.id)) && typeof r.acted === 'number') count += r.acted;
  return {
    count,
    // "3+ hidden": the default's are not counted.
    text: h.defaultSkip ? (count > 0 ? `${count}+ hidden` : 'some hidden') : `${count} hidden`,
    tooltip: `Requests not recorded by rules of the launch configuration or the workspace settings: ${hidingWords(h)}${count > 0 ? ` — ${count} hidden by the skip rules so far` : ''}.`,
  };
}
