/**
 * The trace rules a user sets in VS Code (docs/rules.md, "In VS Code"): from the panel's Rules
 * view, a request row's menu and the Command Palette. Pure (no `vscode`): the workspace storage is
 * an injected memento, so test/unit/ruleService.test.mjs runs it with real collectors.
 *
 * Two places hold rules:
 *   - the **workspace's rules** (`workspaceState`, key WORKSPACE_RULES_KEY): every rule added from
 *     the panel, a row's menu or the palette. Every live session gets each change at once, and each
 *     next session starts with them, read **first**, before launch.json's and the setting's (a
 *     launch rule with the same id wins: that workspace rule is left out of that session);
 *   - each **live session's** rules (its collector's RulesController): the workspace's, then the
 *     launch configuration's and the setting's. Editing a launch rule from the panel changes it for
 *     that session only (launch.json is the user's file; it is not rewritten).
 *
 * New rules go to the top (index 0) of both lists: the most recent intent is read first.
 */

import { EventEmitter } from 'node:events';
import { RulesController, traceRuleOf } from '../collector/rules';
import type { RuleProblem, RuleRow, RulesMessage } from '../protocol/webview';
import { checkRuleBudget, isWhatIf, RuleSyntaxError, RuleValidationError, validateRule, type Rule, type RuleInput } from '../rules';
import { ruleFromRequest, type FromRequestKind } from '../rules/fromRequest';
import type { HttpRequest } from '../trace/contract/types';
import type { TraceRule } from '../trace/contract/ruleTypes';
import type { TraceEntry, TraceStore } from './traceStore';

/** The workspaceState key of the workspace's trace rules (a list of rule objects). */
export const WORKSPACE_RULES_KEY = 'nettrace.workspaceRules';

/** The storage the workspace's rules live in (`context.workspaceState`). */
export interface RulesMemento {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

/** Events of a RuleService. */
export interface RuleServiceEvents {
  /** The rules of a trace (or, undefined, the workspace's) changed. */
  change: [traceKey: string | undefined];
}

/** A change to one rule. */
export type RuleChange =
  | { op: 'create'; rule: RuleInput | Record<string, unknown> }
  | { op: 'update'; id: string; changes: Partial<Omit<RuleInput, 'id'>> }
  | { op: 'setEnabled'; id: string; enabled: boolean }
  | { op: 'delete'; id: string }
  | { op: 'move'; id: string; index: number };

/** What each live session got from where: ids of its workspace rules and of its launch rules. */
interface SessionOrigins {
  workspace: Set<string>;
}

/** The workspace's trace rules and the live sessions' rules, changed together. */
export class RuleService extends EventEmitter<RuleServiceEvents> {
  private list: Rule[];
  private readonly origins = new Map<string, SessionOrigins>();

  constructor(
    private readonly store: TraceStore,
    private readonly memento: RulesMemento | undefined,
    private readonly log: (line: string) => void = () => {},
    /** Why what-if rules may not be created or enabled now (an untrusted workspace), or undefined. */
    private readonly whatIfOff: () => string | undefined = () => undefined,
  ) {
    super();
    this.list = this.load();
  }

  /** The workspace's rules (copies), in order. */
  workspaceRules(): Rule[] {
    return this.list.map((r) => ({ ...r }));
  }

  /**
   * The rules a new session starts with: the workspace's first, then `launchRules` (launch.json's
   * and the setting's, not yet validated). A workspace rule whose id a launch rule has is left out.
   */
  rulesForLaunch(launchRules: readonly unknown[] | undefined): { rules: unknown[]; workspaceIds: string[] } {
    const launch = launchRules ?? [];
    const launchIds = new Set(launch.map((r) => (r && typeof r === 'object' ? (r as { id?: unknown }).id : undefined)));
    const ws = this.list.filter((r) => {
      if (!launchIds.has(r.id)) return true;
      this.log(`trace rule "${r.id}" of the workspace is left out: the launch configuration or the setting has a rule with this id`);
      return false;
    });
    return { rules: [...ws.map((r) => ({ ...r })), ...launch], workspaceIds: ws.map((r) => r.id) };
  }

  /** A session was prepared with rulesForLaunch's rules: remembers which came from the workspace. */
  noteSession(traceKey: string, workspaceIds: readonly string[]): void {
    this.origins.set(traceKey, { workspace: new Set(workspaceIds) });
    const e = this.live(traceKey);
    if (e) this.watch(e);
  }

  /** Session controllers whose counters are watched (turnOffUsedUp). */
  private readonly watched = new WeakSet<RulesController>();

  /** Watches a live session's counters for workspace rules whose limit per session is used up. */
  private watch(e: TraceEntry): void {
    const ctrl = e.session!.rules;
    if (this.watched.has(ctrl)) return;
    this.watched.add(ctrl);
    ctrl.on('counters', () => this.turnOffUsedUp(e.key));
  }

  /**
   * A workspace rule whose limit counts per session (the panel's "Only the next one", "The next
   * three") that acted on its last request turns itself off, in the workspace and every session:
   * "the next three" are the next three calls, not three more in each later session.
   */
  private turnOffUsedUp(traceKey: string): void {
    const e = this.live(traceKey);
    if (!e) return;
    const ws = this.originsOf(traceKey).workspace;
    if (!this.list.some((r) => r.enabled && r.limitPer === 'session' && ws.has(r.id))) return;
    for (const r of e.session!.rules.withCounters()) {
      if (!r.limitReached || r.limitPer !== 'session' || !r.enabled || !ws.has(r.id)) continue;
      if (!this.list.some((w) => w.id === r.id && w.enabled)) continue;
      try {
        this.apply({ op: 'setEnabled', id: r.id, enabled: false }, traceKey, 'workspace');
        this.log(`trace rule "${r.id}" acted on the ${r.limit} request${r.limit === 1 ? '' : 's'} of its limit and turned itself off`);
      } catch (err) {
        this.log(`trace rule "${r.id}" reached its limit but could not be turned off: ${(err as Error).message}`);
      }
    }
  }

  /** The enabled what-if rules of the workspace among `ids` (a session's workspaceIds): what a session starts with from before. */
  whatIfFromBefore(ids: Iterable<string>): Rule[] {
    const want = new Set(ids);
    return this.list.filter((r) => r.enabled && isWhatIf(r.action) && want.has(r.id)).map((r) => ({ ...r }));
  }

  /**
   * Turns off every enabled what-if rule: the workspace's (and so every live session's copy) and
   * the live sessions' own (launch.json's, the setting's, for their session). Returns their names.
   */
  turnOffWhatIf(): string[] {
    const names: string[] = [];
    for (const r of this.list)
      if (r.enabled && isWhatIf(r.action)) {
        this.apply({ op: 'setEnabled', id: r.id, enabled: false }, undefined, 'workspace');
        names.push(r.name);
      }
    for (const e of this.liveEntries())
      for (const r of e.session!.rules.rules())
        if (r.enabled && isWhatIf(r.action)) {
          this.apply({ op: 'setEnabled', id: r.id, enabled: false }, e.key, 'session');
          names.push(r.name);
        }
    return names;
  }

  /** The live session of a trace (its collector still runs), if any. */
  private live(traceKey: string | undefined): TraceEntry | undefined {
    const e = this.store.get(traceKey);
    return e && e.origin === 'current' && e.collector && e.session ? e : undefined;
  }

  private liveEntries(): TraceEntry[] {
    return this.store.live().filter((e) => e.collector && e.session);
  }

  private originsOf(key: string): SessionOrigins {
    let o = this.origins.get(key);
    if (!o) this.origins.set(key, (o = { workspace: new Set() }));
    return o;
  }

  /** What the Rules view shows for a trace (see RulesMessage). */
  view(traceKey: string | undefined): Omit<RulesMessage, 'type'> {
    const entry = this.live(traceKey);
    if (entry) {
      const ctrl = entry.session!.rules;
      const ws = this.originsOf(entry.key).workspace;
      return {
        traceKey: entry.key,
        scope: 'session',
        defaultAction: ctrl.defaultAction,
        rules: ctrl.withCounters().map((r) => toRow(r, ws.has(r.id) ? 'workspace' : 'launch')),
      };
    }
    const out: Omit<RulesMessage, 'type'> = {
      traceKey,
      scope: 'workspace',
      defaultAction: 'trace',
      rules: this.list.map((r) => toRow({ ...r, matched: 0, acted: 0, limitReached: false }, 'workspace')),
    };
    const shown = this.store.get(traceKey);
    const saved = shown ? this.savedRules(shown) : undefined;
    // Already in the trace's shape (TraceRule): shown as saved.
    if (saved) out.saved = saved.map((r): RuleRow => ({ ...r, origin: 'saved' }));
    return out;
  }

  /** The rules saved with a trace that is not recording (its `traceRules`), if it has any. */
  private savedRules(entry: TraceEntry): TraceRule[] | undefined {
    if (entry.session) return entry.session.rules.traceRules()?.rules;
    if (!entry.trace && !entry.savedPath) return undefined;
    return this.store.fullTrace(entry).traceRules?.rules;
  }

  /** The rules a command lists: the live session's when `traceKey` is live, else the workspace's. */
  rulesOf(traceKey: string | undefined): { scope: 'session' | 'workspace'; rules: RuleRow[] } {
    const v = this.view(traceKey);
    return { scope: v.scope, rules: v.rules };
  }

  /** Ids used anywhere a new rule would go (the workspace and every live session). */
  takenIds(): Set<string> {
    const ids = new Set(this.list.map((r) => r.id));
    for (const e of this.liveEntries()) for (const r of e.session!.rules.rules()) ids.add(r.id);
    return ids;
  }

  /**
   * Applies a change. `scope` 'session' with a live `traceKey`: a rule of the workspace changes
   * in the workspace and every live session that has it; a launch rule in that session only.
   * 'workspace' (or no live session): the workspace and every live session that has the rule from it.
   * A created rule goes to the workspace and every live session (its id must be new in each; a
   * session whose launch rules have it already is skipped). Throws RuleValidationError or
   * RuleSyntaxError before anything changes. Returns the rule created or changed (undefined for delete).
   */
  apply(change: RuleChange, traceKey?: string, scope: 'session' | 'workspace' = 'session'): Rule | undefined {
    this.checkWhatIf(change);
    const target = scope === 'session' ? this.live(traceKey) : undefined;
    if (change.op === 'create') return this.create(change.rule, target);
    const id = change.id;
    const inWorkspace = this.list.some((r) => r.id === id);
    const targetHas = target?.session!.rules.get(id) !== undefined;
    const targetIsWs = target ? this.originsOf(target.key).workspace.has(id) : false;
    if (target && targetHas && !targetIsWs) {
      // A launch rule: this session only.
      const out = applyTo(target.session!.rules, change);
      this.log(`${target.key}: trace rule "${id}" ${describe(change)} (for this session)`);
      this.emit('change', target.key);
      return out;
    }
    if (!inWorkspace) throw new RuleValidationError('there is no rule with this id', 'id', id);
    // Checked on a copy first: an invalid change leaves everything as it was.
    const scratch = new RulesController({ rules: this.list });
    const out = applyTo(scratch, change);
    const sessions = this.liveEntries().filter((e) => this.originsOf(e.key).workspace.has(id) && e.session!.rules.get(id));
    for (const e of sessions) {
      try {
        if (change.op === 'move') e.session!.rules.move(id, Math.min(change.index, this.originsOf(e.key).workspace.size - 1));
        else applyTo(e.session!.rules, change);
      } catch (err) {
        this.log(`${e.key}: trace rule "${id}" could not be changed: ${(err as Error).message}`);
      }
      if (change.op === 'delete') this.originsOf(e.key).workspace.delete(id);
      this.emit('change', e.key);
    }
    this.list = scratch.rules();
    this.save();
    this.log(`trace rule "${id}" ${describe(change)} (workspace${sessions.length ? ` and ${sessions.length} live session(s)` : ''})`);
    this.emit('change', undefined);
    return out;
  }

  /** Refuses to create, enable or make a what-if rule while they are off (whatIfOff), before anything changes. */
  private checkWhatIf(change: RuleChange): void {
    const off = this.whatIfOff();
    if (off === undefined) return;
    const action = (r: { action?: unknown } | undefined): boolean => isWhatIf(String(r?.action));
    const id = change.op === 'create' ? undefined : change.id;
    const existing =
      id === undefined
        ? undefined
        : (this.list.find((r) => r.id === id) ??
          this.liveEntries()
            .map((e) => e.session!.rules.get(id))
            .find(Boolean));
    const bad =
      (change.op === 'create' && action(change.rule as { action?: unknown })) ||
      (change.op === 'setEnabled' && change.enabled && action(existing)) ||
      (change.op === 'update' && (action(change.changes) || (action(existing) && change.changes.enabled === true)));
    if (bad) throw new RuleValidationError(off, 'action', id);
  }

  private create(input: RuleInput | Record<string, unknown>, target: TraceEntry | undefined): Rule {
    const rule = validateRule(input);
    if (this.list.some((r) => r.id === rule.id)) throw new RuleValidationError('a rule with this id exists already', 'id', rule.id);
    if (target?.session!.rules.get(rule.id))
      throw new RuleValidationError('this session has a rule with this id already (from launch.json or the setting)', 'id', rule.id);
    // The set's budget (src/rules/budget.ts), for the workspace's rules and each live session's,
    // before anything changes: a rule refused by one session must not be left in the others.
    checkRuleBudget([rule, ...this.list]);
    for (const e of this.liveEntries()) if (!e.session!.rules.get(rule.id)) checkRuleBudget([rule, ...e.session!.rules.rules()]);
    let added = 0;
    for (const e of this.liveEntries()) {
      if (e.session!.rules.get(rule.id)) {
        this.log(`${e.key}: trace rule "${rule.id}" not added: the session has a rule with this id`);
        continue;
      }
      e.session!.rules.create(rule, 0);
      this.originsOf(e.key).workspace.add(rule.id);
      this.watch(e);
      added++;
      this.emit('change', e.key);
    }
    this.list = [{ ...rule }, ...this.list];
    this.save();
    this.log(
      `trace rule "${rule.id}" added (${rule.enabled ? 'enabled' : 'disabled'}; workspace${added ? ` and ${added} live session(s)` : ''}): ${rule.action} ${rule.condition}`,
    );
    this.emit('change', undefined);
    return { ...rule };
  }

  /**
   * "Break on Requests Like This" & co. (the row menu): a rule made from the request, enabled,
   * added like `create`. Returns undefined when the request's URL cannot be read. An enabled rule
   * with the same action and condition already there is returned instead of a copy.
   */
  addFromRequest(
    kind: FromRequestKind,
    req: Pick<HttpRequest, 'reqMethod' | 'reqURL'>,
    traceKey?: string,
  ): { rule: Rule; existed: boolean } | undefined {
    const input = ruleFromRequest(kind, req, this.takenIds());
    if (!input) return undefined;
    const same = this.list.find((r) => r.action === input.action && r.condition === input.condition);
    if (same) {
      const rule = same.enabled ? { ...same } : this.apply({ op: 'setEnabled', id: same.id, enabled: true }, traceKey, 'workspace')!;
      return { rule, existed: true };
    }
    return { rule: this.apply({ op: 'create', rule: input }, traceKey)!, existed: false };
  }

  private load(): Rule[] {
    const raw = this.memento?.get<unknown>(WORKSPACE_RULES_KEY);
    if (!Array.isArray(raw)) return [];
    const out: Rule[] = [];
    for (const r of raw) {
      try {
        const rule = validateRule(r);
        if (!out.some((o) => o.id === rule.id)) out.push(rule);
      } catch (err) {
        this.log(`a saved trace rule of this workspace is not valid and was left out: ${(err as Error).message}`);
      }
    }
    return out;
  }

  private save(): void {
    void Promise.resolve(
      this.memento?.update(
        WORKSPACE_RULES_KEY,
        this.list.map((r) => ({ ...r })),
      ),
    ).catch((err: Error) => this.log(`could not keep the workspace's trace rules: ${err.message}`));
  }
}

function applyTo(ctrl: RulesController, change: Exclude<RuleChange, { op: 'create' }>): Rule | undefined {
  switch (change.op) {
    case 'update':
      return ctrl.update(change.id, change.changes);
    case 'setEnabled':
      return ctrl.setEnabled(change.id, change.enabled);
    case 'delete':
      if (!ctrl.delete(change.id)) throw new RuleValidationError('there is no rule with this id', 'id', change.id);
      return undefined;
    case 'move':
      ctrl.move(change.id, change.index);
      return ctrl.get(change.id);
  }
}

function describe(change: Exclude<RuleChange, { op: 'create' }>): string {
  switch (change.op) {
    case 'update':
      return 'changed';
    case 'setEnabled':
      return change.enabled ? 'enabled' : 'disabled';
    case 'delete':
      return 'deleted';
    case 'move':
      return `moved to position ${change.index + 1}`;
  }
}

/** A rule with counters as the Rules view shows it. */
export function toRow(r: Rule & { matched: number; acted: number; limitReached: boolean }, origin: RuleRow['origin']): RuleRow {
  return { ...traceRuleOf(r), origin };
}

/** A rule error as the panel shows it (a condition's with its position and caret excerpt). */
export function ruleProblem(err: unknown): RuleProblem {
  if (err instanceof RuleSyntaxError) {
    return { message: err.message, field: 'condition', reason: err.reason, offset: err.offset, column: err.column, excerpt: err.excerpt };
  }
  if (err instanceof RuleValidationError) return { message: err.message, field: err.field };
  return { message: err instanceof Error ? err.message : String(err), field: '' };
}
