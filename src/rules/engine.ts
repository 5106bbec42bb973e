/**
 * The decision engine: one per process (or worker thread), holding the compiled rules and their
 * counters. `start()` is called as a request starts, `end()` as it ends (only when the start
 * decision says `pending`). Precedence (docs/rules.md): the enabled rules are read top to bottom;
 * `trace` and `skip` are terminal (the first one that matches decides, and the rules below it are
 * not read); `details`, `mark` and `break` above the deciding rule all act. A rule past its limit
 * still counts matches but no longer acts (as if it were absent). Conditions that read
 * end-of-request fields are left undecided at the start (three-valued logic) and decided at the
 * end, where they only change what is kept.
 */
import { compileCondition, NO, UNKNOWN, YES, type CompiledCondition, type Tri } from './compile';
import { RequestFacts, type ProcessFacts, type RequestEndView, type RequestStartView } from './fields';
import { TRACE_ALL } from './details';
import { isTerminal, type Rule } from './rule';
import { DETAIL_BIT } from './details';
import { isWhatIf, WHAT_IF_KEYS, whatIfClients } from './whatIfActions';
import { limitOf, restarts, type SessionActs } from './limits';

/** Engine settings fixed for a process. */
export interface RuleEngineOptions {
  process: ProcessFacts;
  /** Threshold of the `slow` field, in ms (default 1000). */
  slowThresholdMs?: number;
  /** What happens to a request no trace/skip rule decides: "trace" (default, today's behaviour) or "skip". */
  defaultAction?: 'trace' | 'skip';
  /**
   * Called when a what-if rule's condition holds for a request of a client whose family does not
   * implement what it does (src/rules/whatIfActions.ts WHAT_IF_IMPLEMENTED): the rule is not read for it,
   * and the caller says so (the preload warns once per rule). Must not throw.
   */
  onWhatIfGap?: (rule: Rule, client: string) => void;
  /** This instance's name (HelloMessage.conn): its own acts in a SessionActs (setRules) are not the others'. */
  instance?: string;
}

/** A rule's counters in this process. */
export interface RuleCounters {
  id: string;
  /** Requests the rule was read for whose condition held (past the limit too). */
  matched: number;
  /** Requests the rule acted on (at most `limit`). */
  acted: number;
  limit: number | null;
  /** True once `acted` reached `limit`: the rule no longer acts in this process. */
  limitReached: boolean;
}

/** A compiled rule with its counters; kept across setRules() while the rule is unchanged. */
interface LiveRule {
  rule: Rule;
  cond: CompiledCondition;
  terminal: boolean;
  /** For trace/skip: does it record. */
  records: boolean;
  detailMask: number;
  /** A `break` rule. */
  breaks: boolean;
  /** A what-if rule (fail, delay, …: src/rules/whatIfActions.ts). */
  whatIf: boolean;
  /** For a what-if rule: the clients whose requests it acts on (WHAT_IF_IMPLEMENTED). */
  whatIfClients: ReadonlySet<string> | null;
  /** A `fail tls` rule: read only for requests over TLS (a plain one has no handshake to fail). */
  tlsOnly: boolean;
  /** The limit this instance acts up to (limits.ts limitOf: per session, less the others' acts); null: none. */
  limit: number | null;
  /** For a skip rule: the decision it makes alone (nothing else acted), shared by every such request. */
  skipDecision?: StartDecision;
  /** For a trace rule: the decision it makes alone (no rule above it acted), shared likewise. */
  traceDecision?: StartDecision;
  matched: number;
  acted: number;
  /** False once removed, disabled or replaced: a pending end decision ignores it. */
  live: boolean;
}

/** The decision made as a request starts. Treat as read-only; pass it back to end(). */
export interface StartDecision {
  /** Record the request (the hooks do their work). When `pending`, this may be undone at the end. */
  record: boolean;
  /** DETAIL_BIT mask of the extra detail to capture for this request (bodies 1, sockTrace 2, dnsTrace 4). */
  details: number;
  /** The break rule to pause on (the first matching one), or null. */
  breakRule: Rule | null;
  /** The what-if rule (fail, delay, …) that acts on the request (the first matching one), or null. */
  whatIf: Rule | null;
  /** Tags given by mark rules, or null. */
  tags: string[] | null;
  /** The trace/skip rule that decided `record`, or null (the default). */
  rule: Rule | null;
  /** True when some rule is undecided until the end: call end() to know what to keep. */
  pending: boolean;
  /** @internal */
  readonly facts: RequestFacts | null;
  /** @internal the undecided rules, in order */
  readonly undecided: LiveRule[] | null;
  /** @internal the detail bits given by rules decided at the start */
  readonly definiteDetails: number;
}

/** What to keep of a request once it ended. */
export interface EndDecision {
  /** Keep the request in the trace (false: drop what was recorded). */
  keep: boolean;
  /** DETAIL_BIT mask of the captured detail to keep (bodies captured but not in the mask are dropped). */
  details: number;
  tags: string[] | null;
  rule: Rule | null;
}

/** Most hosts whose rule list start() keeps (a program talking to more just rebuilds lists). */
const HOST_CACHE = 512;

/** The shared decision when no rule can act and the default records nothing. */
const SKIP_ALL: StartDecision = Object.freeze({ ...TRACE_ALL, record: false });

/** Rules compiled for one process, with their counters. */
export class RuleEngine {
  /**
   * "all": trace everything and skip the engine (no enabled rule, default trace);
   * "none": record nothing (no enabled rule, default skip); "rules": call start() per request.
   * The preload's hot path reads this one field.
   */
  mode: 'all' | 'none' | 'rules' = 'all';
  private live: LiveRule[] = [];
  /** Enabled rules whose condition can hold in this process, in order. */
  private active: LiveRule[] = [];
  /** True when some active rule names its hosts (CompiledCondition.hosts): start() then reads the per-host list. */
  private indexed = false;
  /** Per host: the active rules that can match it (those naming it, and those for any host), in order. */
  private byHost = new Map<string, LiveRule[]>();
  /** Indexes (into `active`) of the rules for any host, in order. */
  private forAnyHost: number[] = [];
  /** Per host: indexes (into `active`) of the rules that require it, in order. */
  private hostIndex = new Map<string, number[]>();
  private readonly opts: RuleEngineOptions;
  private defaultRecords: boolean;

  constructor(rules: readonly Rule[], opts: RuleEngineOptions) {
    this.opts = opts;
    this.defaultRecords = (opts.defaultAction ?? 'trace') === 'trace';
    this.setRules(rules);
  }

  /**
   * Replaces the rule list (rules already validated). A rule whose id, condition, action, tag and
   * details are unchanged keeps its counters; any other change starts it from zero. Requests in
   * flight finish under the new list: an undecided rule that was removed or disabled no longer acts.
   * Throws RuleSyntaxError if a condition does not compile (the old list then stays).
   * `defaultAction`, when given, replaces the one the engine was made with. `sessionActed`: the acts
   * of each instance of the rules whose limit counts per session (limits.ts).
   */
  setRules(rules: readonly Rule[], defaultAction?: 'trace' | 'skip', sessionActed?: SessionActs): void {
    const old = new Map(this.live.map((l) => [l.rule.id, l]));
    const next: LiveRule[] = rules.map((rule) => {
      const prev = old.get(rule.id);
      if (prev !== undefined && sameMeaning(prev.rule, rule) && !restarts(prev.rule, rule)) {
        // Kept: in-flight decisions hold this object, so its counters stay exact.
        old.delete(rule.id);
        prev.rule = { ...rule };
        prev.skipDecision = undefined;
        prev.traceDecision = undefined;
        return prev;
      }
      return {
        rule: { ...rule },
        cond: compileCondition(rule.condition, { process: this.opts.process, slowThresholdMs: this.opts.slowThresholdMs }),
        terminal: isTerminal(rule.action),
        records: rule.action === 'trace',
        detailMask: (rule.details ?? []).reduce((m, k) => m | DETAIL_BIT[k], 0),
        breaks: rule.action === 'break',
        whatIf: isWhatIf(rule.action),
        whatIfClients: isWhatIf(rule.action) ? whatIfClients(rule.action, rule) : null,
        tlsOnly: rule.action === 'fail' && rule.fail?.kind === 'tls',
        limit: rule.limit,
        skipDecision: undefined,
        traceDecision: undefined,
        matched: 0,
        acted: 0,
        live: true,
      };
    });
    if (defaultAction !== undefined) this.defaultRecords = defaultAction === 'trace';
    for (const gone of old.values()) gone.live = false;
    for (const n of next) [n.live, n.limit] = [n.rule.enabled, limitOf(n.rule, sessionActed?.[n.rule.id], this.opts.instance)];
    this.live = next;
    this.active = next.filter((l) => l.rule.enabled && l.cond.constant !== false && (l.cond.hosts === null || l.cond.hosts.length > 0));
    this.indexed = this.active.some((l) => l.cond.hosts !== null);
    this.byHost = new Map();
    this.forAnyHost = [];
    this.hostIndex = new Map();
    this.active.forEach((l, k) => {
      if (l.cond.hosts === null) this.forAnyHost.push(k);
      else
        for (const h of new Set(l.cond.hosts)) {
          const list = this.hostIndex.get(h);
          if (list === undefined) this.hostIndex.set(h, [k]);
          else list.push(k);
        }
    });
    this.mode = this.active.length > 0 ? 'rules' : this.defaultRecords ? 'all' : 'none';
    this.hasBreak = this.active.some((l) => l.breaks);
    this.hasWhatIf = this.active.some((l) => l.whatIf);
    this.readsHeaders = this.active.some((l) => l.cond.fields.some((f) => f === 'header' || f.startsWith('header.')));
    this.countsUndoable = this.active.every((l) => l.terminal && l.limit === null && l.cond.startDecidable);
  }

  /**
   * What start() counts for a request can be taken back exactly (uncountStart): every enabled rule
   * is a `trace` or `skip` rule without a limit, decided at the start, so start() counts at most the
   * one rule that decides (its matched and acted), and names it in its decision. An observation
   * point that asks before it knows whether a request will be made at all (the global fetch()
   * wrapper, before fetch has parsed the URL) may then ask first and take the count back later.
   */
  countsUndoable = false;

  /**
   * Takes back what start() counted for a request that was never made (only while
   * countsUndoable; `d` is what start() answered). Never throws.
   */
  uncountStart(d: StartDecision): void {
    if (!this.countsUndoable || d.rule === null) return;
    for (const l of this.active) {
      if (l.rule !== d.rule) continue;
      if (l.matched > 0) l.matched--;
      if (l.acted > 0) l.acted--;
      return;
    }
  }

  /** Some enabled rule is a `break` rule (see startBreak). */
  hasBreak = false;
  /** Some enabled rule is a what-if rule (fail, delay, …): the hooks then look at `whatIf` in decisions. */
  hasWhatIf = false;
  /**
   * Some enabled rule reads a request header. An observation point earlier than the client's own
   * (the global fetch() wrapper, before undici adds its headers) may decide with start() only when
   * none does.
   */
  readsHeaders = false;

  /**
   * Decides what to do with a request that is starting. Never throws: a view the conditions cannot
   * read (a hook's bug) gets the default decision, so the program's request goes on regardless.
   * `breakDecided`: startBreak already decided (and counted) the break rules for this request at
   * an earlier observation point; they are passed over here.
   */
  start(view: RequestStartView, breakDecided = false): StartDecision {
    if (this.mode !== 'rules') return this.mode === 'all' ? TRACE_ALL : SKIP_ALL;
    try {
      return this.decide(view, breakDecided);
    } catch {
      return this.defaultRecords ? TRACE_ALL : SKIP_ALL;
    }
  }

  /**
   * Whether start(view) would record the request (or may, at its end), without counting it or
   * using up a limit: for an observation point earlier than the one that decides (the global
   * fetch() wrapper, before undici creates the request), so a request the rules skip costs
   * nothing there. Never throws (true when the view cannot be read).
   */
  mayRecord(view: RequestStartView): boolean {
    if (this.mode !== 'rules') return this.mode === 'all';
    try {
      const facts = new RequestFacts(view);
      const rules = this.indexed ? this.rulesFor(facts.host) : this.active;
      for (let k = 0; k < rules.length; k++) {
        const r = rules[k];
        if (r.limit !== null && r.acted >= r.limit) continue;
        // A what-if rule that acts makes the request recorded (decideFrom).
        if (
          r.whatIfClients !== null &&
          r.whatIfClients.has(facts.start.client) &&
          !(r.tlsOnly && !overTls(facts.start.scheme)) &&
          truthAtStart(r.cond, facts) === YES
        )
          return true;
        if (!r.terminal) continue;
        const t = truthAtStart(r.cond, facts);
        if (t === NO) continue;
        // Decided now (the condition reads nothing of the end): this rule's action; undecided: may record.
        if (r.cond.startDecidable) return r.records;
        if (r.records) return true;
      }
      return this.defaultRecords;
    } catch {
      return true;
    }
  }

  /**
   * The break part of start(), decided at an observation point earlier than the one that decides
   * the rest (the global fetch() wrapper: the program's call is on the stack there, while undici's
   * request is created several awaits later, under ~30 frames of undici). Reads the rules in order
   * as start() does: the first break rule that matches (and has a limit left) is counted and acts,
   * unless a trace/skip rule above it matches first; mark rules above it give their tags (not
   * counted: start() counts them). Returns a decision naming the break rule
   * (pass it to the break machinery, or to releaseBreak), or null. The request's later start()
   * must then be told `breakDecided`. Never throws (null when the view cannot be read).
   */
  startBreak(view: RequestStartView): StartDecision | null {
    if (this.mode !== 'rules' || !this.hasBreak) return null;
    try {
      const facts = new RequestFacts(view);
      const rules = this.indexed ? this.rulesFor(facts.host) : this.active;
      let tags: string[] | null = null;
      let decision: StartDecision | null = null;
      for (let k = 0; k < rules.length; k++) {
        const r = rules[k];
        const mark = r.rule.action === 'mark';
        if (!r.terminal && !r.breaks && !mark) continue;
        if (truthAtStart(r.cond, facts) !== YES) continue;
        // Trace/skip and mark rules are counted by start(); one out of its limit does not act.
        if (!r.breaks && r.limit !== null && r.acted >= r.limit) continue;
        if (r.terminal) break;
        if (mark) {
          // A break condition may read the tags the mark rules above it give (`tag == "…"`).
          if (tags === null) facts.tags = tags = [];
          if (!tags.includes(r.rule.tag as string)) tags.push(r.rule.tag as string);
          continue;
        }
        // Counted as start() counts: every break rule that matches; the first with a limit left acts.
        r.matched++;
        if (decision !== null || (r.limit !== null && r.acted >= r.limit)) continue;
        r.acted++;
        decision = { ...TRACE_ALL, breakRule: r.rule };
        breakSlots.set(decision, r);
      }
      return decision;
    } catch {
      return null;
    }
  }

  /**
   * start()'s common case, in a short function of its own: the rules read before one decides are
   * trace/skip rules decided at the start (a skip-all set, `skip host == …` above the rest). V8
   * optimizes a function once bytecode worth a few ticks of its interrupt budget has run in it, more
   * ticks for a longer one: as one long function of which this case ran the first part, it was
   * optimized only after ~2,200 requests (`--trace-opt`, skip-all). The first other rule (details,
   * mark, break, or one undecided until the end) hands the request to decideFrom().
   */
  private decide(view: RequestStartView, breakDecided: boolean): StartDecision {
    const facts = new RequestFacts(view);
    const rules = this.indexed ? this.rulesFor(facts.host) : this.active;
    for (let k = 0; k < rules.length; k++) {
      const r = rules[k];
      if (!r.terminal) {
        if (breakDecided && r.breaks) continue;
        return this.decideFrom(facts, rules, k, breakDecided);
      }
      const t = truthAtStart(r.cond, facts);
      if (t === NO) continue;
      if (t === UNKNOWN) return this.decideFrom(facts, rules, k, breakDecided);
      r.matched++;
      if (r.limit !== null && r.acted >= r.limit) continue;
      r.acted++;
      // Decided by this rule alone: one shared decision per rule (no object per request).
      if (r.records) return (r.traceDecision ??= Object.freeze({ ...TRACE_ALL, rule: r.rule }));
      return (r.skipDecision ??= Object.freeze({ ...SKIP_ALL, rule: r.rule }));
    }
    return this.defaultRecords ? TRACE_ALL : SKIP_ALL;
  }

  /** Tells the caller a what-if rule matched a request its client's family cannot act on (never throws). */
  private gap(rule: Rule, client: string): void {
    try {
      this.opts.onWhatIfGap?.(rule, client);
    } catch {
      // The caller's report must not change the decision.
    }
  }

  /**
   * decide() from `rules[from]` on, when that is not a trace/skip rule decided at the start; the rules
   * above it were trace/skip rules that did not act.
   */
  private decideFrom(facts: RequestFacts, rules: LiveRule[], from: number, breakDecided: boolean): StartDecision {
    let record = this.defaultRecords;
    let decider: Rule | null = null;
    let deciderLive: LiveRule | null = null;
    let details = 0;
    let pendingDetails = 0;
    let tags: string[] | null = null;
    let breakRule: Rule | null = null;
    let breakLive: LiveRule | null = null;
    let whatIf: Rule | null = null;
    let whatIfLive: LiveRule | null = null;
    let undecided: LiveRule[] | null = null;
    let pendingMayRecord = false;
    for (let k = from; k < rules.length; k++) {
      const r = rules[k];
      if (breakDecided && r.breaks) continue;
      const t = truthAtStart(r.cond, facts);
      if (t === NO) continue;
      // A what-if rule is read only for the clients that implement what it does (WHAT_IF_IMPLEMENTED);
      // for another one it is not counted, and the caller is told (never silently ignored).
      if (r.whatIfClients !== null && !r.whatIfClients.has(facts.start.client)) {
        if (t === YES) this.gap(r.rule, facts.start.client);
        continue;
      }
      // A TLS failure cannot happen to a plain request: not matched, not counted as acted.
      if (r.tlsOnly && !overTls(facts.start.scheme)) continue;
      if (t === UNKNOWN) {
        (undecided ??= []).push(r);
        if (r.limit === null || r.acted < r.limit) {
          if (r.terminal) {
            if (r.records) pendingMayRecord = true;
          } else pendingDetails |= r.detailMask; // captured while in flight, kept if it matches
        }
        continue;
      }
      r.matched++;
      if (r.limit !== null && r.acted >= r.limit) continue;
      r.acted++;
      if (r.terminal) {
        record = r.records;
        decider = r.rule;
        deciderLive = r;
        break;
      }
      const action = r.rule.action;
      if (r.whatIf) {
        // One what-if rule acts on a request: the first that matches (a later one is not counted as acting).
        if (whatIf === null) {
          whatIf = r.rule;
          whatIfLive = r;
        } else r.acted--;
      } else if (action === 'details') details |= r.detailMask;
      else if (action === 'mark') {
        if (tags === null) facts.tags = tags = [];
        if (!tags.includes(r.rule.tag as string)) tags.push(r.rule.tag as string);
      } else if (breakRule === null) {
        breakRule = r.rule;
        breakLive = r;
      } else r.acted--; // a second break rule: the request pauses once, for the first one
    }
    // A request a what-if rule changes is recorded whatever decides it: the trace says what was done to it.
    if (whatIf !== null) record = true;
    const mayRecord = record || pendingMayRecord;
    // Nothing is recorded whatever the end brings: the request needs no end() (and its undecided
    // rules count no match: a request that is not observed has no end to read).
    if (!mayRecord) undecided = null;
    // A skip that nothing else acted on: one shared decision (no object per skipped request).
    if (!mayRecord && deciderLive !== null && tags === null && breakLive === null && details === 0)
      return (deciderLive.skipDecision ??= Object.freeze({ ...SKIP_ALL, rule: deciderLive.rule }));
    const decision: StartDecision = {
      record: mayRecord,
      details: mayRecord ? details | pendingDetails : 0,
      breakRule,
      whatIf,
      tags,
      rule: decider,
      pending: undecided !== null,
      facts,
      undecided,
      definiteDetails: details,
    };
    if (breakLive !== null) breakSlots.set(decision, breakLive);
    if (whatIfLive !== null) whatIfSlots.set(decision, whatIfLive);
    return decision;
  }

  /**
   * Decides what to keep of an ended request. Only needed when `d.pending`; for other decisions it
   * returns what the start decided. Counters of undecided rules are updated here. Never throws (on
   * an unreadable view, the start's decision stands).
   */
  end(d: StartDecision, view: RequestEndView): EndDecision {
    try {
      return this.settle(d, view);
    } catch {
      return { keep: d.record, details: d.details, tags: d.tags, rule: d.rule };
    }
  }

  private settle(d: StartDecision, view: RequestEndView): EndDecision {
    const undecided = d.undecided;
    if (undecided === null || d.facts === null) return { keep: d.record, details: d.details, tags: d.tags, rule: d.rule };
    let keep = d.rule === null ? this.defaultRecords : d.rule.action === 'trace';
    let rule = d.rule;
    // Details captured for undecided rules are kept only if one of them matches.
    let details = d.definiteDetails;
    let tags = d.tags === null ? null : d.tags.slice();
    const facts = d.facts;
    facts.end = view;
    for (const r of undecided) {
      if (!r.live || !r.cond.atEnd(facts)) continue;
      r.matched++;
      if (r.limit !== null && r.acted >= r.limit) continue;
      r.acted++;
      if (r.terminal) {
        keep = r.records;
        rule = r.rule;
        break;
      }
      if (r.rule.action === 'details') details |= r.detailMask;
      else if (r.rule.action === 'mark') {
        tags ??= [];
        if (!tags.includes(r.rule.tag as string)) tags.push(r.rule.tag as string);
      }
    }
    return { keep, details: keep ? details : 0, tags, rule };
  }

  /**
   * The active rules that can match a host, in order; cached (at most HOST_CACHE hosts). Built
   * from the index (the rules for any host merged with this host's), so 3,000 rules for other
   * hosts cost nothing even when a program talks to more hosts than the cache holds.
   */
  private rulesFor(host: string): LiveRule[] {
    let list = this.byHost.get(host);
    if (list === undefined) {
      const any = this.forAnyHost;
      const own = this.hostIndex.get(host) ?? [];
      list = [];
      let i = 0;
      let j = 0;
      while (i < any.length || j < own.length) {
        const k = j >= own.length || (i < any.length && any[i] < own[j]) ? any[i++] : own[j++];
        list.push(this.active[k]);
      }
      if (this.byHost.size >= HOST_CACHE) this.byHost.clear();
      this.byHost.set(host, list);
    }
    return list;
  }

  /** The counters of every rule in the list (enabled or not), in order. */
  counters(): RuleCounters[] {
    return this.live.map((l) => ({
      id: l.rule.id,
      matched: l.matched,
      acted: l.acted,
      limit: l.rule.limit,
      limitReached: l.limit !== null && l.acted >= l.limit,
    }));
  }
}

/**
 * A condition's truth as a request starts: YES or NO, or UNKNOWN when it reads what only the
 * request's end can tell (status, failed, slow…). One reading for start(), mayRecord() and startBreak().
 */
function truthAtStart(c: CompiledCondition, facts: RequestFacts): Tri {
  return c.startDecidable ? (c.atEnd(facts) ? YES : NO) : c.atStart(facts);
}

/** The live break rule each decision with a `breakRule` counted as acting (see releaseBreak). */
const breakSlots = new WeakMap<StartDecision, LiveRule>();

/**
 * Takes back the `acted` count a decision gave its break rule, when the request could not pause
 * (no debugger attached): a break rule acts only on requests it paused, so its limit is spent on
 * pauses. Call at most once per decision, right after start() and before the next request
 * starts; does nothing for a decision without a break rule.
 */
export function releaseBreak(d: StartDecision): void {
  const live = breakSlots.get(d);
  if (live === undefined) return;
  breakSlots.delete(d);
  if (live.acted > 0) live.acted--;
}

/** The live what-if rule each decision with a `whatIf` counted as acting (see releaseWhatIf). */
const whatIfSlots = new WeakMap<StartDecision, LiveRule>();

/**
 * Takes back the `acted` count a decision gave its what-if rule, when the rule turned out not to
 * act on the request (a reset after N body bytes of a response that ended before N bytes: it
 * completed as the server sent it): a rule acts only on requests it changed, so its counter and
 * limit count those. Call at most once per decision; does nothing for a decision without one.
 */
export function releaseWhatIf(d: StartDecision): void {
  const live = whatIfSlots.get(d);
  if (live === undefined) return;
  whatIfSlots.delete(d);
  if (live.acted > 0) live.acted--;
}

/**
 * Whether two versions of a rule mean the same (condition, action and its parameters): the engine
 * keeps a rule's counters across such a change, and the collector's rule service sends only the
 * rules whose meaning changed.
 */
export function sameMeaning(a: Rule, b: Rule): boolean {
  return (
    a.condition === b.condition &&
    a.action === b.action &&
    a.tag === b.tag &&
    String(a.details) === String(b.details) &&
    WHAT_IF_KEYS.every((k) => JSON.stringify(a[k]) === JSON.stringify(b[k]))
  );
}

/** True for a request over TLS (https, wss): the only ones a `fail tls` rule acts on. */
function overTls(scheme: string): boolean {
  return scheme === 'https' || scheme === 'wss';
}
