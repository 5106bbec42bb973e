/**
 * A session's trace rules (issue 16, docs/rules.md): the one place they are created, edited,
 * enabled, disabled, reordered and deleted while the program runs. Every change is validated
 * (src/rules validateRule, so a user sees the error before anything is sent), bumps the set's
 * version and sends the whole set to every connected preload of the session, one JSON line each,
 * without ever waiting on a preload; a preload that connects later gets the current set right
 * after its `hello`. The preloads' counters come back with their `stats` and are added up here per
 * rule, over every process and thread, for the panel and for `traceRules` in a saved trace. For a
 * rule whose limit counts per session (`limitPer`), each instance's acts go back out with the set
 * (RulesMessage.sessionActed) whenever they change, and each instance acts on at most the limit
 * less the others' acts: the session's total stays within the limit but for what instances act on
 * at the same moment, before the set carrying the other's acts reaches them (docs/rules.md).
 */

import { EventEmitter } from 'node:events';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { MAX_ENV_RULES_CHARS } from '../protocol/preload';
import { MAX_SESSION_ACTED } from '../protocol/preload';
import type {
  HelloMessage,
  PreloadConfig,
  RuleCountersReport,
  RuleDefaultAction,
  RulesMessage,
  SessionActed,
  StatsMessage,
  WireRule,
} from '../protocol/preload';
import {
  checkRuleBudget,
  copyWhatIf,
  restarts,
  RuleValidationError,
  sameMeaning,
  validateRule,
  validateRules,
  WHAT_IF_KEYS,
  type Rule,
  type RuleInput,
  type WhatIfParams,
} from '../rules';
import type { TraceRule, TraceRules } from '../trace/contract/ruleTypes';

/** The side of a preload connection the collector writes to (a net.Socket). */
export interface RulesPeer {
  /** Queues the text; false when the socket's buffer is full (wait for 'drain'). */
  write(text: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
  readonly destroyed: boolean;
}

/** Options of a RulesController. */
export interface RulesControllerOptions {
  /** The first set (RuleInput objects, validated here: throws RuleValidationError / RuleSyntaxError). */
  rules?: readonly unknown[];
  defaultAction?: RuleDefaultAction;
  /** Threshold of the `slow` field in ms (the session's). */
  slowThresholdMs?: number;
}

/** A rule with its counters added up over the session's processes and threads. */
export interface RuleWithCounters extends Rule {
  matched: number;
  acted: number;
  /** Reached its limit in at least one process or thread. */
  limitReached: boolean;
}

/** Events of a RulesController. */
export interface RulesControllerEvents {
  /** The set changed (it was sent to the preloads with this version). */
  change: [version: number];
  /** A preload reported counters. */
  counters: [];
}

/** What the controller knows of one preload connection. */
interface PeerState {
  peer: RulesPeer;
  /** It said hello: it is a preload, and gets every set from now on. */
  ready: boolean;
  /** Waiting for 'drain' after a write the socket could not take at once. */
  blocked: boolean;
  /** A newer set than the last written one is due once the socket drains. */
  stale: boolean;
  /** HelloMessage.conn: the preload instance, also named by the connection that continues it. */
  instance: string;
  connection: number;
}

/** The last counters report of one preload instance. */
interface InstanceReport {
  version: number;
  seq: number;
  counters: Map<string, { matched: number; acted: number; limitReached: boolean }>;
}

/** Sets and counters of one session's rules. Emits 'change' and 'counters'. Never throws from the wire side. */
export class RulesController extends EventEmitter<RulesControllerEvents> {
  private list: Rule[];
  private defAction: RuleDefaultAction;
  private readonly slowThresholdMs: number | undefined;
  /** The set's version: 0 for the first set, +1 per change. */
  private ver = 0;
  /** Per rule id: the version from which its counters count (its meaning last changed then). */
  private since = new Map<string, number>();
  private peers = new Map<number, PeerState>();
  private reports = new Map<string, InstanceReport>();
  /** Text of the current set's message, made once per version. */
  private line: string | undefined;
  /** Where a set too large for the environment is written (setRulesFile), or undefined. */
  private file: string | undefined;
  /** The version of the set the file holds (-1: none yet); once written, it is kept current. */
  private fileVersion = -1;
  /** The acts of the rules whose limit counts per session, as last sent (sessionActedNow), or undefined. */
  private sessionActed: SessionActed | undefined;

  constructor(options: RulesControllerOptions = {}) {
    super();
    this.list = validateRules(options.rules ?? []);
    this.defAction = checkDefault(options.defaultAction ?? 'trace');
    this.slowThresholdMs = options.slowThresholdMs;
    for (const r of this.list) this.since.set(r.id, 0);
  }

  /** The set's version (0 until the first change). */
  get version(): number {
    return this.ver;
  }

  /** What happens to a request no trace/skip rule decides. */
  get defaultAction(): RuleDefaultAction {
    return this.defAction;
  }

  /** The rules in order (copies). */
  rules(): Rule[] {
    return this.list.map((r) => ({ ...r }));
  }

  /** The name of rule `id` (its title; its id when it was given none), or undefined when there is no such rule. */
  nameOf(id: string): string | undefined {
    for (const r of this.list) if (r.id === id) return r.name;
    return undefined;
  }

  /** One rule (a copy), or undefined. */
  get(id: string): Rule | undefined {
    const r = this.list.find((x) => x.id === id);
    return r && { ...r };
  }

  /**
   * Adds a rule (at `index`, default the end). It is disabled unless the input says
   * `enabled: true`. Throws RuleValidationError (bad property, id taken, RuleBudgetError: the set
   * would go over its budget) or RuleSyntaxError.
   */
  create(input: RuleInput | Record<string, unknown>, index = this.list.length): Rule {
    const rule = validateRule(input);
    if (this.list.some((r) => r.id === rule.id)) throw new RuleValidationError('a rule with this id exists already', 'id', rule.id);
    const next = this.list.slice();
    next.splice(clampIndex(index, next.length), 0, rule);
    this.commit(next, [rule.id]);
    return { ...rule };
  }

  /**
   * Changes some properties of a rule (not its id). Editing its condition, action, tag or details
   * starts its counters from zero; its name, limit or enabled flag keep them, except that a rule
   * whose limit counts per session, turned on again, counts anew (limits.ts restarts). Throws as create().
   */
  update(id: string, changes: Partial<Omit<RuleInput, 'id'>>): Rule {
    const at = this.indexOf(id);
    const old = this.list[at];
    if ('id' in changes && (changes as { id?: unknown }).id !== id)
      throw new RuleValidationError('the id of a rule cannot change', 'id', id);
    // Defaults filled by validateRule (name, tag) follow an edit of what they default to.
    const base: Record<string, unknown> = { ...old };
    if (old.name === old.id && changes.name === undefined) delete base.name;
    if (old.action === 'mark' && old.tag === old.name && changes.tag === undefined) delete base.tag;
    if (changes.action !== undefined && changes.action !== old.action) {
      delete base.tag;
      delete base.details;
      for (const k of WHAT_IF_KEYS) delete base[k];
    }
    const rule = validateRule({ ...base, ...changes, id });
    const next = this.list.slice();
    next[at] = rule;
    this.commit(next, sameMeaning(old, rule) && !restarts(old, rule) ? [] : [id]);
    return { ...rule };
  }

  /** Enables or disables a rule (its counters stay). */
  setEnabled(id: string, enabled: boolean): Rule {
    return this.update(id, { enabled });
  }

  enable(id: string): Rule {
    return this.setEnabled(id, true);
  }

  disable(id: string): Rule {
    return this.setEnabled(id, false);
  }

  /** Removes a rule; false when there was none with this id. */
  delete(id: string): boolean {
    const at = this.list.findIndex((r) => r.id === id);
    if (at < 0) return false;
    const next = this.list.slice();
    next.splice(at, 1);
    this.since.delete(id);
    this.commit(next, []);
    return true;
  }

  /** Moves a rule to position `index` (order decides: first trace/skip match wins). */
  move(id: string, index: number): void {
    const at = this.indexOf(id);
    const next = this.list.slice();
    const [rule] = next.splice(at, 1);
    next.splice(clampIndex(index, next.length), 0, rule);
    this.commit(next, []);
  }

  /**
   * Replaces the whole set (a rules file, the settings, launch.json), all or nothing: a rule that
   * kept its id and meaning keeps its counters. Throws as validateRules().
   */
  replace(inputs: readonly unknown[], defaultAction: RuleDefaultAction = this.defAction): Rule[] {
    const next = validateRules(inputs);
    const action = checkDefault(defaultAction);
    const old = new Map(this.list.map((r) => [r.id, r]));
    const fresh = next.filter((r) => !old.has(r.id) || !sameMeaning(old.get(r.id)!, r) || restarts(old.get(r.id)!, r)).map((r) => r.id);
    for (const id of old.keys()) if (!next.some((r) => r.id === id)) this.since.delete(id);
    this.defAction = action;
    this.commit(next, fresh);
    return this.rules();
  }

  /** Changes what happens to requests no trace/skip rule decides. */
  setDefaultAction(action: RuleDefaultAction): void {
    this.defAction = checkDefault(action);
    this.commit(this.list, []);
  }

  /** The message that carries the current set. */
  message(): RulesMessage {
    const m: RulesMessage = { type: 'rules', version: this.ver, defaultAction: this.defAction, rules: this.list.map(toWire) };
    if (this.slowThresholdMs !== undefined) m.slowThresholdMs = this.slowThresholdMs;
    if (this.sessionActed !== undefined) m.sessionActed = this.sessionActed;
    return m;
  }

  /**
   * Sets the file (in the collector's private directory) where a set too large for the
   * environment is written for processes about to start (PreloadConfig.rulesFile).
   */
  setRulesFile(path: string): void {
    this.file = path;
  }

  /**
   * The part of NETTRACE_CONFIG that carries the current set to a process about to start (so it
   * applies the rules from its first request): empty when there are no rules and the default
   * traces. A set over MAX_ENV_RULES_CHARS as JSON is written to the rules file (mode 0600) and
   * named by `rulesFile` instead (when the controller has one: setRulesFile); the file's path is
   * given with every set, so a preload can pass a large set it receives later on to its children.
   */
  preloadConfig(): Pick<PreloadConfig, 'rules' | 'defaultAction' | 'rulesVersion' | 'slowThresholdMs' | 'rulesFile' | 'sessionActed'> {
    if (this.list.length === 0 && this.defAction === 'trace') return {};
    const rules = this.list.map(toWire);
    const out: Pick<PreloadConfig, 'rules' | 'defaultAction' | 'rulesVersion' | 'slowThresholdMs' | 'rulesFile' | 'sessionActed'> = {};
    if (this.file !== undefined) out.rulesFile = this.file;
    if (!this.viaFile(rules)) out.rules = rules;
    else if (this.fileVersion !== this.ver) this.writeFile();
    // The file could not be written: inline after all (a spawn may then fail with E2BIG, and says so).
    if (out.rules === undefined && this.fileVersion !== this.ver) out.rules = rules;
    if (this.defAction !== 'trace') out.defaultAction = this.defAction;
    if (this.ver !== 0) out.rulesVersion = this.ver;
    if (this.slowThresholdMs !== undefined) out.slowThresholdMs = this.slowThresholdMs;
    if (this.sessionActed !== undefined) out.sessionActed = this.sessionActed;
    return out;
  }

  /** The rules with their counters added up over every process and thread that reported. */
  withCounters(): RuleWithCounters[] {
    return this.list.map((r) => {
      const since = this.since.get(r.id) ?? 0;
      let matched = 0;
      let acted = 0;
      let limitReached = false;
      for (const rep of this.reports.values()) {
        if (rep.version < since) continue; // counted under an older meaning of the rule
        const c = rep.counters.get(r.id);
        if (!c) continue;
        matched += c.matched;
        acted += c.acted;
        if (r.limit !== null && c.acted >= r.limit) limitReached = true;
      }
      // A limit per session is reached by the processes together.
      if (r.limitPer === 'session') limitReached = r.limit !== null && acted >= r.limit;
      return { ...r, matched, acted, limitReached };
    });
  }

  /** `traceRules` for a trace, or undefined when the session never had a rule. */
  traceRules(): TraceRules | undefined {
    if (this.list.length === 0 && this.ver === 0 && this.defAction === 'trace') return undefined;
    return {
      version: this.ver,
      defaultAction: this.defAction,
      rules: this.withCounters().map(traceRuleOf),
    };
  }

  /** Preload instances whose last report is of an older set than the current one (or that never reported). */
  behind(): number {
    let n = 0;
    for (const p of this.peers.values()) {
      if (!p.ready) continue;
      const rep = this.reports.get(p.instance);
      if (!rep || rep.version < this.ver) n++;
    }
    return n;
  }

  // ---- the wire side (src/collector/server.ts, session.ts) ----------------------------------

  /** A preload connection opened; it gets sets once it said hello. */
  attach(connection: number, peer: RulesPeer): void {
    this.peers.set(connection, { peer, ready: false, blocked: false, stale: false, instance: `#${connection}`, connection });
  }

  /** The socket of a connection that said hello and is still open (Send Again writes to it), or undefined. */
  peerOf(connection: number): RulesPeer | undefined {
    const p = this.peers.get(connection);
    return p && p.ready && !p.peer.destroyed ? p.peer : undefined;
  }

  /** The connection closed (its counters stay: the process's requests still count). */
  detach(connection: number): void {
    this.peers.delete(connection);
  }

  /** A connection's hello: from now on it gets every set, starting with the current one. */
  hello(connection: number, msg: HelloMessage): void {
    const p = this.peers.get(connection);
    if (!p) return;
    if (typeof msg.conn === 'string') {
      p.instance = msg.conn;
      // The preload's first batch may put its stats before its hello (the transport writes a due
      // stats message first): that report was kept under the connection's number; it is this
      // instance's, so it moves here, else the instance would count twice.
      const early = this.reports.get(`#${connection}`);
      if (early !== undefined) {
        this.reports.delete(`#${connection}`);
        const known = this.reports.get(msg.conn);
        if (known === undefined || known.seq < early.seq) this.reports.set(msg.conn, early);
      }
    }
    // The connection that carries the end of another (its final stats at exit) reads nothing.
    if (msg.continues === true) return;
    p.ready = true;
    // Nothing to say while the session has never had rules: the preload starts in "trace
    // everything" and reads nothing (rules cost nothing when there are none). The first change sends.
    if (this.ver === 0 && this.list.length === 0 && this.defAction === 'trace') return;
    this.sendTo(p);
  }

  /** A connection's stats: keeps its rules counters (the latest report of each preload instance wins). */
  stats(connection: number, msg: StatsMessage): void {
    const rep = msg.rules as RuleCountersReport | undefined;
    if (!rep || typeof rep !== 'object' || !Array.isArray(rep.counters)) return;
    const version = count(rep.version);
    const seq = count(rep.seq);
    const instance = this.peers.get(connection)?.instance ?? `#${connection}`;
    const prev = this.reports.get(instance);
    if (prev && seq < prev.seq) return;
    const counters = new Map<string, { matched: number; acted: number; limitReached: boolean }>();
    for (const c of rep.counters.slice(0, 10_000)) {
      if (!c || typeof c !== 'object' || typeof c.id !== 'string') continue;
      counters.set(c.id, { matched: count(c.matched), acted: count(c.acted), limitReached: c.limitReached === true });
    }
    this.reports.set(instance, { version, seq, counters });
    // New acts of a rule whose limit counts per session: every instance hears of them (the set again).
    if (this.list.some((r) => r.limitPer === 'session') && !sameActs(this.sessionActedNow(), this.sessionActed)) this.commit(this.list, []);
    this.emit('counters');
  }

  /**
   * Each instance's acts of every enabled rule whose limit counts per session, counted under its
   * current meaning (as withCounters), only instances that acted; undefined when there are none.
   */
  private sessionActedNow(): SessionActed | undefined {
    let out: SessionActed | undefined;
    for (const r of this.list) {
      if (r.limitPer !== 'session' || !r.enabled) continue;
      const since = this.since.get(r.id) ?? 0;
      const acts: Record<string, number> = {};
      let listed = 0;
      for (const [instance, rep] of this.reports) {
        const n = rep.version >= since ? (rep.counters.get(r.id)?.acted ?? 0) : 0;
        if (n === 0) continue;
        // Past MAX_SESSION_ACTED instances, counted together: an "other" to every instance.
        const key = listed < MAX_SESSION_ACTED ? instance : '*';
        if (key !== '*') listed++;
        acts[key] = (acts[key] ?? 0) + n;
      }
      if (listed > 0) (out ??= {})[r.id] = acts;
    }
    return out;
  }

  private indexOf(id: string): number {
    const at = this.list.findIndex((r) => r.id === id);
    if (at < 0) throw new RuleValidationError('there is no rule with this id', 'id', id);
    return at;
  }

  /** Installs a new set: bumps the version, restarts the counters of `fresh` ids, sends it. */
  private commit(next: Rule[], fresh: readonly string[]): void {
    // The whole set's budget (src/rules/budget.ts): a create, edit or enable can go over it.
    checkRuleBudget(next);
    this.list = next;
    this.ver++;
    for (const id of fresh) this.since.set(id, this.ver);
    this.sessionActed = this.sessionActedNow();
    this.line = undefined;
    // Before the preloads hear of it: a child a preload starts then reads this version or a later one.
    if (this.file !== undefined && (this.fileVersion >= 0 || this.viaFile(this.list.map(toWire)))) this.writeFile();
    for (const p of this.peers.values()) if (p.ready) this.sendTo(p);
    this.emit('change', this.ver);
  }

  /**
   * Whether a process about to start gets the set through the rules file rather than inline: one
   * too large for the environment, and one with a limit per session — a process reads the file as
   * it starts, so it begins with the acts the collector knows of now (sessionActed), not with
   * those of the set its parent inherited (a parent that made no request never connects, so never
   * hears of them).
   */
  private viaFile(rules: WireRule[]): boolean {
    return this.file !== undefined && (sessionLimited(rules) || JSON.stringify(rules).length > MAX_ENV_RULES_CHARS);
  }

  /**
   * Writes the current set's message to the rules file: a new file (0600, never one already
   * there) renamed over the old, so a process starting meanwhile reads one set or the other,
   * whole. On failure the file is left as it was and preloadConfig() carries the set inline.
   */
  private writeFile(): void {
    const path = this.file as string;
    const tmp = `${path}.${process.pid}.${this.ver}.tmp`;
    try {
      this.line ??= JSON.stringify(this.message()) + '\n';
      writeFileSync(tmp, this.line, { mode: 0o600, flag: 'wx' });
      renameSync(tmp, path);
      this.fileVersion = this.ver;
    } catch {
      try {
        rmSync(tmp, { force: true });
      } catch {
        // Nothing more to do: the directory is removed with the collector.
      }
    }
  }

  /**
   * Writes the current set to one preload without waiting: while the socket has not drained a
   * previous write, only a flag is kept, and the then-current set goes once it drains. So a
   * preload that does not read (stopped in the debugger) holds at most one set in the collector.
   */
  private sendTo(p: PeerState): void {
    if (p.peer.destroyed) return;
    if (p.blocked) {
      p.stale = true;
      return;
    }
    p.stale = false;
    this.line ??= JSON.stringify(this.message()) + '\n';
    try {
      if (p.peer.write(this.line)) return;
    } catch {
      return; // the socket is going away; its 'close' detaches it
    }
    p.blocked = true;
    p.peer.once('drain', () => {
      p.blocked = false;
      if (p.stale && this.peers.get(p.connection) === p) this.sendTo(p);
    });
  }
}

/** The wire form of a rule: exactly its properties (Rule is already that shape). */
function toWire(r: Rule): WireRule {
  const w: WireRule = { id: r.id, name: r.name, condition: r.condition, action: r.action, limit: r.limit, enabled: r.enabled };
  if (r.limitPer !== undefined) w.limitPer = r.limitPer;
  if (r.tag !== undefined) w.tag = r.tag;
  if (r.details !== undefined) w.details = r.details.slice();
  copyWhatIf(r, w as WhatIfParams);
  return w;
}

function checkDefault(action: unknown): RuleDefaultAction {
  if (action === 'trace' || action === 'skip') return action;
  throw new RuleValidationError(`"defaultAction" must be "trace" or "skip", not ${JSON.stringify(action)}`, 'defaultAction');
}

function clampIndex(i: number, len: number): number {
  return Number.isInteger(i) ? Math.max(0, Math.min(len, i)) : len;
}

/** Some enabled rule's limit counts per session (its acts travel with the set: SessionActed). */
export function sessionLimited(rules: readonly { enabled?: unknown; limitPer?: unknown; limit?: unknown }[]): boolean {
  return rules.some((r) => r.enabled === true && r.limitPer === 'session' && typeof r.limit === 'number');
}

/** Two SessionActed alike (the same rules, instances and counts). */
function sameActs(a: SessionActed | undefined, b: SessionActed | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const id of ka) {
    const x = a[id];
    const y = b[id];
    if (y === undefined || Object.keys(x).length !== Object.keys(y).length) return false;
    for (const [who, n] of Object.entries(x)) if (y[who] !== n) return false;
  }
  return true;
}

/** A count from the wire: a whole number ≥ 0, else 0. */
function count(v: unknown): number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : 0;
}

/** A rule with its counters as the trace's `traceRules` holds it (and the Rules view shows it). */
export function traceRuleOf(r: Rule & { matched: number; acted: number; limitReached: boolean }): TraceRule {
  const out: TraceRule = {
    id: r.id,
    name: r.name,
    condition: r.condition,
    action: r.action,
    limit: r.limit,
    enabled: r.enabled,
    matched: r.matched,
    acted: r.acted,
    limitReached: r.limitReached,
  };
  if (r.limitPer !== undefined) out.limitPer = r.limitPer;
  if (r.tag !== undefined) out.tag = r.tag;
  if (r.details !== undefined) out.details = r.details.slice();
  copyWhatIf(r, out as WhatIfParams);
  return out;
}
