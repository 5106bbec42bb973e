/**
 * Which `nettrace.*` settings a workspace may set. A cloned repository's `.vscode/settings.json`
 * is read as soon as its folder is opened (and trusted): left alone, it could send the user's
 * traces to its own host (`nettrace.otlp`), turn redaction off (`"!authorization"`), or record
 * more than the user chose (bodies, packets, a recording for replay, every Node session). So every setting is classified
 * (SETTING_CLASSES, one entry per setting of package.json, test/unit/settingsGuard.test.mjs checks
 * it), and a guarded setting's workspace value acts only when it records no more and sends
 * nothing more than the user's own value (user settings, else the default): a workspace may add
 * redaction names, lower a cap, turn a recorder off; anything wider is ignored — the user's value
 * applies — and a notification names the setting and value once per window, with a button that
 * allows that value in this workspace (remembered in workspaceState) and one that stops asking.
 * `otlp`, `pcap` and `helperRoot` are also `"scope": "machine"` in package.json, so VS Code itself
 * ignores them in workspace settings; the check here holds whatever the scope.
 * docs/security.md "Settings a workspace can set" lists the classes.
 */

import * as vscode from 'vscode';
import { DEFAULTS, HEADER_MODES } from '../protocol/optionBase';
import { whatIfConsentLine, whatIfRuleWords } from '../rules/whatIfConsent';

/** Why a setting is guarded, as the warning and the docs say it. */
export type SettingRisk =
  | 'sends data off the machine'
  | 'turns redaction off'
  | 'records more'
  | 'changes what the program does'
  | 'changes what the program receives'
  | 'runs a helper of its choosing';

/** How a guarded setting compares a workspace value with the user's. */
interface GuardedSetting {
  risk: SettingRisk;
  /** The risk of this value, when it depends on it (rules: a what-if rule changes what the program receives). */
  riskOf?: (ws: unknown) => SettingRisk;
  /** Whether `ws` (the workspace's value) records, sends or changes more than `base` (the user's). */
  widens(ws: unknown, base: unknown): boolean;
  /**
   * The value that applies from `ws` and `base`: the workspace's value by default; lists add up
   * (a workspace's list would otherwise drop the user's own redaction names).
   */
  merge?(ws: unknown, base: unknown, allowed: boolean): unknown;
}

/** A setting a workspace may set freely, and why that is safe. */
interface FreeSetting {
  free: string;
}

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map((x) => String(x)) : []);
const unRedacts = (entry: string): boolean => entry.trim().startsWith('!');
/** `true`, a number (a cap) or off, as a number: off 0, true the default cap. */
const amount = (v: unknown, whenTrue: number): number =>
  v === true
    ? whenTrue
    : typeof v === 'number' && Number.isFinite(v) && v > 0
      ? v
      : v === false || v === undefined || v === 0
        ? 0
        : Infinity;
const flag = (v: unknown): boolean => v === true;
/** An enum by rank (an unknown value ranks highest: it is not trusted). */
const rank = (order: readonly string[]) => (v: unknown) => {
  const i = order.indexOf(String(v));
  return i < 0 ? order.length : i;
};

/** A redaction list: a workspace adds names (they always apply); its `!name` entries un-redact and need the user's consent. */
const redactionList: GuardedSetting = {
  risk: 'turns redaction off',
  widens: (ws, base) => list(ws).some((e) => unRedacts(e) && !list(base).includes(e)),
  merge: (ws, base, allowed) => [...new Set([...list(base), ...list(ws).filter((e) => allowed || !unRedacts(e))])],
};

/** A recorder that is off, on, or on with a cap (`bodies`, `sockTrace`): more is wider. */
const capped = (whenTrue: number): GuardedSetting => ({
  risk: 'records more',
  widens: (ws, base) => amount(ws, whenTrue) > amount(base, whenTrue),
});

/** A switch that records or sends more when on. */
const onSwitch = (risk: SettingRisk): GuardedSetting => ({ risk, widens: (ws, base) => flag(ws) && !flag(base) });

/** Trace rule actions that record no more than the default and change nothing the program sees. */
const NARROW_RULE_ACTIONS = new Set(['trace', 'skip', 'mark', 'break']);

/** The what-if actions (src/rules/whatIfActions.ts WHAT_IF_ACTIONS): rules that change what the program receives. */
const WHAT_IF_RULE_ACTIONS = new Set(['fail', 'delay', 'throttle', 'respond', 'override']);

/** True for a rule (as written) whose action changes what the program receives. */
export function isWhatIfRule(rule: unknown): boolean {
  return rule !== null && typeof rule === 'object' && WHAT_IF_RULE_ACTIONS.has(String((rule as { action?: unknown }).action));
}

let warnedUntrusted = false;

/**
 * The rules a session starts with, without the what-if rules when VS Code does not trust the
 * workspace (workspace trust, `workspace.isTrusted`): a what-if rule changes what the program
 * receives, and an untrusted repository's launch.json or settings could use one to make the
 * program take a failure path (a retry with other credentials, a fallback host) the user never
 * asked for. A warning says why, once per window. Rules of a trusted workspace pass unchanged.
 */
export function whatIfRulesIfTrusted<T>(rules: T[]): T[] {
  if ((vscode.workspace as { isTrusted?: boolean }).isTrusted !== false || !rules.some(isWhatIfRule)) return rules;
  const off = rules.filter(isWhatIfRule).map((r) => JSON.stringify(String((r as { id?: unknown }).id)));
  if (!warnedUntrusted) {
    warnedUntrusted = true;
    void vscode.window.showWarningMessage(
      `Net Trace: the what-if rule${off.length === 1 ? '' : 's'} ${off.join(', ')} (which change what the program receives: failures, delays, answers) ${off.length === 1 ? 'is' : 'are'} off: this workspace is not trusted. Trust the workspace (Manage Workspace Trust) to use them.`,
    );
  }
  return rules.filter((r) => !isWhatIfRule(r));
}

let warnedReplay = false;

/**
 * A launch's tracing options without their replay (docs/replay.md) when VS Code does not trust the
 * workspace: a replay answers every request of the program from a recording, a file the cloned
 * repository may ship, so it changes what the program receives as a what-if rule does (the same
 * gate). A warning says why, once per window. The replay options are launch attributes and `nettrace
 * run` flags only, never settings: a workspace's settings cannot turn one on at all.
 */
export function replayIfTrusted<T extends { replay?: unknown }>(tracing: T): T {
  if ((vscode.workspace as { isTrusted?: boolean }).isTrusted !== false || tracing.replay === undefined) return tracing;
  if (!warnedReplay) {
    warnedReplay = true;
    void vscode.window.showWarningMessage(
      'Net Trace: the launch configuration’s replay (which answers every request of the program from a recording) is off: this workspace is not trusted. Trust the workspace (Manage Workspace Trust) to use it.',
    );
  }
  const { replay: _replay, ...rest } = tracing;
  return rest as T;
}

/**
 * Every `nettrace.*` setting (without the prefix), classified. Rules: a workspace's rules act when
 * each one only traces, skips, marks or breaks; a rule that captures more (`details`) or any other
 * action — the what-if rules to come, which change what the program sees — needs the user's
 * consent, as the whole list then.
 */
export const SETTING_CLASSES: Readonly<Record<string, GuardedSetting | FreeSetting>> = {
  otlp: { risk: 'sends data off the machine', widens: (ws, base) => typeof ws === 'string' && ws.trim() !== '' && ws !== base },
  headers: { risk: 'records more', widens: (ws, base) => rank(HEADER_MODES)(ws) > rank(HEADER_MODES)(base) },
  redact: redactionList,
  redactQuery: redactionList,
  slowThresholdMs: { free: 'only how requests are judged slow' },
  initiator: { free: 'stack lines of the program, kept on this machine (no request data)' },
  bodies: capped(DEFAULTS.bodyMaxBytes),
  sockTrace: capped(DEFAULTS.sockTraceMaxOps),
  record: onSwitch('records more'),
  recordMaxBody: { risk: 'records more', widens: (ws, base) => amount(ws, 0) > amount(base ?? DEFAULTS.recordMaxBodyBytes, 0) },
  recordMaxRun: { risk: 'records more', widens: (ws, base) => amount(ws, 0) > amount(base ?? DEFAULTS.recordMaxRunBytes, 0) },
  dnsTrace: onSwitch('records more'),
  dnsServers: {
    risk: 'sends data off the machine',
    widens: (ws, base) => list(ws).some((s) => !list(base).includes(s)),
  },
  addTraceparent: onSwitch('changes what the program does'),
  rules: {
    risk: 'records more',
    riskOf: (ws) => (Array.isArray(ws) && ws.some(isWhatIfRule) ? 'changes what the program receives' : 'records more'),
    // A rule that captures more or acts otherwise, or a user's rule the workspace's list drops.
    widens: (ws, base) => {
      const mine = Array.isArray(ws) ? ws.map((r) => JSON.stringify(r)) : [];
      return (
        (Array.isArray(ws) &&
          ws.some((r) => {
            const rule = r as { action?: unknown; details?: unknown } | null;
            return !NARROW_RULE_ACTIONS.has(String(rule?.action)) || rule?.details !== undefined;
          })) ||
        (Array.isArray(base) && base.some((r) => !mine.includes(JSON.stringify(r))))
      );
    },
  },
  defaultAction: { risk: 'records more', widens: (ws, base) => rank(['skip', 'trace'])(ws) > rank(['skip', 'trace'])(base) },
  helper: { risk: 'records more', widens: (ws, base) => rank(['off', 'auto'])(ws) > rank(['off', 'auto'])(base) },
  pcap: onSwitch('records more'),
  helperRoot: { risk: 'runs a helper of its choosing', widens: (ws, base) => typeof ws === 'string' && ws !== '' && ws !== base },
  openPanelOnStart: { free: 'only whether the panel opens' },
  traceNodeSessions: { risk: 'records more', widens: (ws, base) => ws === 'all' && base !== 'all' },
  codeLens: { free: 'only what the editor shows' },
};

/** Whether a setting is guarded (a workspace value wider than the user's needs consent). */
export function isGuarded(name: string): boolean {
  const c = SETTING_CLASSES[name];
  return c !== undefined && 'risk' in c;
}

/** The workspaceState key of the workspace values the user allowed, by setting: the JSON of each value. */
export const ALLOWED_KEY = 'nettrace.allowedWorkspaceSettings';
/** The workspaceState key of the workspace values the user chose to keep ignoring without being asked again. */
export const IGNORED_KEY = 'nettrace.ignoredWorkspaceSettings';

/** The button that allows a workspace's value, and the one that stops asking. */
export const ALLOW_BUTTON = 'Allow in This Workspace';
export const KEEP_IGNORING_BUTTON = 'Keep Ignoring';

/** Where the allowances are kept (`context.workspaceState`); none: nothing is allowed. */
let memento: vscode.Memento | undefined;
/** The values warned about in this window (`name=JSON`), so that each is named once. */
const warned = new Set<string>();

/** Keeps the user's answers in `state` (the workspace's `workspaceState`). */
export function initSettingsGuard(state: vscode.Memento | undefined): void {
  memento = state;
  warned.clear();
  warnedUntrusted = false;
  warnedReplay = false;
}

function remembered(key: string, name: string): string[] {
  const all = memento?.get<Record<string, string[]>>(key) ?? {};
  return Array.isArray(all[name]) ? all[name] : [];
}

function remember(key: string, name: string, value: string): Thenable<void> | undefined {
  const all = { ...(memento?.get<Record<string, string[]>>(key) ?? {}) };
  all[name] = [...new Set([...(Array.isArray(all[name]) ? all[name] : []), value])];
  return memento?.update(key, all);
}

/** Allows the workspace's value of a setting in this workspace (the user's own choice, e.g. the toggle). */
export async function allowWorkspaceValue(name: string, value: unknown): Promise<void> {
  await remember(ALLOWED_KEY, name, JSON.stringify(value));
}

/**
 * A `nettrace.*` setting's value as it may apply: the user's own value (user settings, else the
 * default) when a workspace value would record, send or change more and the user has not allowed
 * it here (saying so once per window); else the workspace's value, merged with the user's for the
 * lists.
 */
export function guardedSetting<T = unknown>(name: string): T | undefined {
  const config = vscode.workspace.getConfiguration('nettrace');
  const cls = SETTING_CLASSES[name];
  if (!cls || !('risk' in cls)) return config.get<T>(name);
  const inspected = config.inspect<T>(name);
  const base = inspected?.globalValue ?? inspected?.defaultValue;
  const ws = inspected?.workspaceFolderValue ?? inspected?.workspaceValue;
  if (ws === undefined) return base;
  const json = JSON.stringify(ws);
  const allowed = remembered(ALLOWED_KEY, name).includes(json);
  if (!allowed && cls.widens(ws, base)) {
    warn(name, ws, cls.riskOf?.(ws) ?? cls.risk);
    return (cls.merge ? cls.merge(ws, base, false) : base) as T | undefined;
  }
  return (cls.merge ? cls.merge(ws, base, allowed) : ws) as T | undefined;
}

/** Names the ignored workspace value, once per window (never again once the user chose to keep ignoring it). */
function warn(name: string, value: unknown, risk: SettingRisk): void {
  const json = JSON.stringify(value);
  const key = `${name}=${json}`;
  if (warned.has(key) || remembered(IGNORED_KEY, name).includes(json)) return;
  warned.add(key);
  const shown = json.length > 120 ? `${json.slice(0, 117)}…` : json;
  // What-if rules are named one by one, in words (a list's JSON cut at 120 characters could hide them).
  const whatIf = name === 'rules' && Array.isArray(value) ? value.filter(isWhatIfRule) : [];
  const message =
    whatIf.length > 0
      ? `Net Trace: ${whatIfConsentLine("this workspace's settings (nettrace.rules) hold", whatIf)}. ${whatIf.length === 1 ? 'It is' : 'They are'} off: your own setting applies. ${whatIf.length === 1 ? 'The rule' : 'The rules'}: ${whatIf.map(whatIfRuleWords).join('; ')}. Allow only if you trust this repository (asked again if the rules change).`
      : `Net Trace: this workspace's settings set nettrace.${name} to ${shown}, which ${risk}. It is ignored: your own setting applies. Allow it only if you trust this repository.`;
  void Promise.resolve(vscode.window.showWarningMessage(message, ALLOW_BUTTON, KEEP_IGNORING_BUTTON)).then((answer) => {
    if (answer === ALLOW_BUTTON) return remember(ALLOWED_KEY, name, json);
    if (answer === KEEP_IGNORING_BUTTON) return remember(IGNORED_KEY, name, json);
    return undefined;
  });
}
