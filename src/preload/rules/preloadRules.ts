/**
 * The preload's trace rules (docs/rules.md): the rule engine of this preload instance (one per
 * process, one per worker thread: each loads its own copy of the preload), fed by the first set in
 * NETTRACE_CONFIG and then by the collector's `rules` messages (src/protocol/preload.ts
 * RulesMessage), read from the collector socket as newline-delimited JSON. The hooks ask it:
 *
 *   - `preloadRules.mode` (or rulesMode()): 'all' (no enabled rule, default trace: today's code,
 *     untouched), 'none' (record nothing: pass through as the bare hooks do), 'rules' (ask below);
 *   - `decideStart(view)` as a request starts, `decideEnd(decision, view)` as it ends when the
 *     start decision is `pending`.
 *
 * Counters go back to the collector with the `stats` message (`report()`). Nothing here throws into
 * the program: a bad message or set is dropped with a warning, and the previous set stays.
 */

import type {
  EndDecision,
  ProcessFacts,
  RequestEndView,
  RequestStartView,
  Rule,
  RuleEngine,
  SessionActs,
  StartDecision,
} from '../../rules';
import { StringDecoder } from 'node:string_decoder';
import { DETAIL_BIT } from '../../rules/details';
import { readOwnFile } from '../transport/collectorTrust';
import { loadBodyFiles } from './bodyFile';
import {
  CONFIG_ENV,
  MAX_ENV_RULES_CHARS,
  type PreloadConfig,
  type RuleCountersReport,
  type RuleDefaultAction,
  type SendAgainMessage,
  type WireRuleCounters,
} from '../../protocol/preload';
import type { ReplayAnswerMessage, ReplayBodyMessage } from '../../protocol/replayWire';

/** The rule engine's module (src/rules), loaded by engineModule(). */
type RulesModule = typeof import('../../rules');
let rulesModule: RulesModule | undefined;

/**
 * The rule engine (src/rules: the condition language, its compiler and the engine, about 60 KB),
 * loaded the first time a session has rules (a set in NETTRACE_CONFIG, or one from the
 * collector), not at startup: a program traced without rules neither parses nor runs it. The
 * build (scripts/build.mjs, `rulesApart`) turns this require into one of dist/rules.cjs beside
 * dist/preload.cjs. Throws when that file is missing; the callers report it and keep the set in
 * force (none: trace everything).
 */
function engineModule(): RulesModule {
  return (rulesModule ??= require('../../rules') as RulesModule);
}

/**
 * Who answers the collector's Send Again messages (sendAgainStore.ts, registered when the http,
 * undici or http2 hooks install it; undefined until then: the message is ignored, as
 * sendAgainStore.ts would without a tracer). A registration, not an import, so this file does not
 * import sendAgainStore.ts (which reads the tracer, whose transport reads this file).
 */
let sendAgainHandler: ((m: SendAgainMessage) => void) | undefined;

/** Registers the Send Again handler (sendAgainStore.ts). */
export function onSendAgain(fn: (m: SendAgainMessage) => void): void {
  sendAgainHandler = fn;
}

/** Who reads a replay's answers (src/preload/playback/replayLink.ts, registered when a replay is on). */
let replayHandler: ((m: ReplayAnswerMessage | ReplayBodyMessage) => void) | undefined;

/** Registers the replay's reader of the collector's answers (replayLink.ts). */
export function onReplayMessage(fn: (m: ReplayAnswerMessage | ReplayBodyMessage) => void): void {
  replayHandler = fn;
}

/**
 * The engine's releaseBreak (src/rules/engine.ts) for a decision that named a break rule. Such a
 * decision came from the engine, so it is loaded already; going through engineModule() keeps the
 * break action from pulling the engine into the preload bundle.
 */
export function releaseBreak(d: StartDecision): void {
  if (d.breakRule !== null) engineModule().releaseBreak(d);
}

/**
 * The engine's releaseWhatIf (src/rules/engine.ts): a decision's what-if rule did not act after
 * all, so its `acted` count is taken back (and reported). Never throws.
 */
export function releaseWhatIf(d: StartDecision): void {
  try {
    if (d.whatIf !== null) engineModule().releaseWhatIf(d);
    preloadRules.countersChanged();
  } catch {
    // The counters stay as they were.
  }
}

/** Bound before the program runs: a program that patches JSON.parse never sees the collector's messages. */
const parse = JSON.parse;
const stringify = JSON.stringify;

/** The longest line read from the collector (a set of 100 rules is about 10 KB); longer ones are dropped. */
const MAX_LINE = 4 * 1024 * 1024;

/** What the rules need from the rest of the preload. */
export interface PreloadRulesHost {
  /** Counters changed: ask for a stats message (Transport.markStats). */
  changed(): void;
  /** Report a problem to the collector (Tracer.warn). */
  warn(message: string): void;
  /** This preload instance's name (HelloMessage.conn): a limit counted per session leaves out its own acts. */
  instance?: string;
}

/** The rules of this preload instance. */
export class PreloadRules {
  /**
   * 'all': trace everything, do not call decideStart; 'none': record nothing; 'rules': call
   * decideStart for each request. The hooks' hot path reads this one field.
   */
  mode: 'all' | 'none' | 'rules' = 'all';
  /**
   * A replay is on (PreloadConfig.replay): every request takes the hooks' rules path, where the
   * replay acts (src/preload/playback/), so mode is never 'all'; without one nothing changes.
   */
  replaying = false;
  /** The version of the set in force (RulesMessage.version); -1 before any set. */
  version = -1;
  /**
   * DETAIL_BIT mask of what the enabled `details` rules can turn on: the socket and DNS hooks
   * prepare per-request socket-op and DNS traces (src/preload/rules/ruleDetails.ts) only when set.
   */
  detailKinds = 0;
  private engine: RuleEngine | undefined;
  private facts: ProcessFacts | undefined;
  private slowThresholdMs: number | undefined;
  private host: PreloadRulesHost | undefined;
  /** Counters changed since the last report. */
  private dirty = false;
  private seq = 0;
  private last: WireRuleCounters[] = [];
  /** The collector's unfinished line (text before its "\n"). */
  private partial = '';
  /** Keeps a UTF-8 character cut between two chunks whole. */
  private readonly decoder = new StringDecoder('utf8');
  private partialBytes = 0;
  private discarding = false;

  /** Sets up this instance from NETTRACE_CONFIG. Never throws. */
  init(config: PreloadConfig, process: ProcessFacts, host: PreloadRulesHost): void {
    this.facts = process;
    this.host = host;
    if (config.replay !== undefined && config.replay !== null && typeof config.replay === 'object') {
      this.replaying = true;
      this.mode = 'rules';
    }
    try {
      if (config.rules === undefined && typeof config.rulesFile === 'string') {
        this.applyFile(config.rulesFile);
        return;
      }
      if (config.rules === undefined && config.defaultAction === undefined) return;
      this.apply(
        config.rules ?? [],
        config.defaultAction,
        typeof config.rulesVersion === 'number' ? config.rulesVersion : 0,
        config.slowThresholdMs,
        config.sessionActed,
      );
    } catch (err) {
      this.warn(
        `the trace rules in ${config.rules === undefined && typeof config.rulesFile === 'string' ? `the collector's rules file` : 'NETTRACE_CONFIG'} were not applied: ${messageOf(err)}`,
      );
    }
  }

  /**
   * Applies the set in the collector's rules file (PreloadConfig.rulesFile: a set too large for
   * the environment), read at start, before the program runs, so its first request is decided by
   * it. Throws (init warns, and the preload records everything until the collector's set comes)
   * when the file cannot be read or holds no valid set.
   */
  private applyFile(path: string): void {
    // Only a file of this process's own, in the collector's own folder (collectorTrust.ts).
    const text = readOwnFile(path, MAX_LINE);
    const m = parse(text) as {
      type?: unknown;
      version?: unknown;
      defaultAction?: unknown;
      rules?: unknown;
      slowThresholdMs?: unknown;
      sessionActed?: unknown;
    } | null;
    if (typeof m !== 'object' || m === null || m.type !== 'rules' || typeof m.version !== 'number')
      throw new Error(`the rules file ${path} does not hold a rule set`);
    this.apply(m.rules, m.defaultAction, m.version, typeof m.slowThresholdMs === 'number' ? m.slowThresholdMs : undefined, m.sessionActed);
  }

  /**
   * Decides what to do with a request that is starting (see RuleEngine.start; `breakDecided`:
   * decideBreak already did the break rules). Never throws.
   */
  decideStart(view: RequestStartView, breakDecided = false): StartDecision {
    const e = this.engine ?? this.fallback();
    const d = e.start(view, breakDecided);
    if (this.mode === 'rules') this.touch();
    return d;
  }

  /** What decideStart counts can be taken back (RuleEngine.countsUndoable). */
  get countsUndoable(): boolean {
    return this.engine?.countsUndoable === true;
  }

  /** Counters changed outside decideStart (releaseWhatIf): a stats message is due. */
  countersChanged(): void {
    this.touch();
  }

  /** Takes back what decideStart counted for a request that was never made (RuleEngine.uncountStart). Never throws. */
  uncountStart(d: StartDecision): void {
    try {
      this.engine?.uncountStart(d);
      this.touch();
    } catch {
      // The counters stay as they were.
    }
  }

  /** Some enabled rule is a `break` rule. */
  get hasBreak(): boolean {
    return this.engine?.hasBreak === true;
  }

  /** Some enabled rule reads a request header (RuleEngine.readsHeaders). */
  get readsHeaders(): boolean {
    return this.engine?.readsHeaders === true;
  }

  /**
   * The break rules' decision for a request, made before the observation point that decides the
   * rest (RuleEngine.startBreak): a decision naming the break rule, or null. Never throws.
   */
  decideBreak(view: RequestStartView): StartDecision | null {
    const e = this.engine;
    if (e === undefined) return null;
    const d = e.startBreak(view);
    if (d !== null) this.touch();
    return d;
  }

  /**
   * Whether the rules would record (or may record) a request with this view, without counting it
   * (RuleEngine.mayRecord): for an observation point before the one that decides. Never throws.
   */
  mayRecord(view: RequestStartView): boolean {
    try {
      return this.engine === undefined ? this.mode !== 'none' : this.engine.mayRecord(view);
    } catch {
      return true;
    }
  }

  /** Decides what to keep of an ended request whose start decision was `pending` (see RuleEngine.end). */
  decideEnd(decision: StartDecision, view: RequestEndView): EndDecision {
    const e = this.engine ?? this.fallback();
    const d = e.end(decision, view);
    if (decision.pending) this.touch();
    return d;
  }

  /** The counters for the next `stats` message; undefined while there is no set. */
  report(): RuleCountersReport | undefined {
    const e = this.engine;
    if (e === undefined) return undefined;
    if (this.dirty) {
      this.dirty = false;
      this.last = e.counters().map((c) => ({ id: c.id, matched: c.matched, acted: c.acted, limitReached: c.limitReached }));
    }
    return { version: this.version, seq: ++this.seq, counters: this.last };
  }

  /** Bytes the collector sent on the preload's socket. Never throws. */
  onData(chunk: Buffer | string): void {
    try {
      const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        const piece = text.slice(start, nl);
        start = nl + 1;
        if (this.discarding) {
          this.discarding = false;
        } else {
          const line = this.partial + piece;
          this.partial = '';
          this.partialBytes = 0;
          if (line.trim() !== '') this.onLine(line);
        }
      }
      if (start < text.length && !this.discarding) {
        const rest = text.slice(start);
        if (this.partialBytes + rest.length > MAX_LINE) {
          this.partial = '';
          this.partialBytes = 0;
          this.discarding = true;
          this.warn(`a message from the collector was over ${MAX_LINE} bytes and was dropped`);
        } else {
          this.partial += rest;
          this.partialBytes += rest.length;
        }
      }
    } catch (err) {
      this.warn(`could not read a message from the collector: ${messageOf(err)}`);
    }
  }

  private onLine(line: string): void {
    let msg: unknown;
    try {
      msg = parse(line);
    } catch {
      this.warn('a message from the collector was not valid JSON');
      return;
    }
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as {
      type?: unknown;
      version?: unknown;
      defaultAction?: unknown;
      rules?: unknown;
      slowThresholdMs?: unknown;
      sessionActed?: unknown;
    };
    if (m.type === 'sendAgain') return sendAgainHandler?.(msg as SendAgainMessage);
    if (m.type === 'replayAnswer' || m.type === 'replayBody') return replayHandler?.(msg as ReplayAnswerMessage);
    // Other types are for later versions of the collector: ignored.
    if (m.type !== 'rules') return;
    const version = typeof m.version === 'number' && Number.isSafeInteger(m.version) && m.version >= 0 ? m.version : undefined;
    if (version === undefined) {
      this.warn('a rule set from the collector had no version and was not applied');
      return;
    }
    // One socket delivers in order, but the inherited NETTRACE_CONFIG set may be newer than a
    // message of a collector that did not know it (never expected; harmless either way).
    if (version < this.version) return;
    try {
      this.apply(m.rules, m.defaultAction, version, typeof m.slowThresholdMs === 'number' ? m.slowThresholdMs : undefined, m.sessionActed);
    } catch (err) {
      this.warn(`rule set ${version} from the collector was not applied: ${messageOf(err)}`);
      return;
    }
    passOn(m.rules, m.defaultAction, version, m.slowThresholdMs, m.sessionActed);
  }

  /** Validates and compiles a set; throws (the set in force stays) when it is not valid. */
  private apply(
    input: unknown,
    defaultAction: unknown,
    version: number,
    slowThresholdMs: number | undefined,
    sessionActed?: unknown,
  ): void {
    const { RuleEngine, validateRules } = engineModule();
    // A respond rule's body file is read now, before any request is decided (bodyFile.ts).
    const rules: Rule[] = loadBodyFiles(validateRules(input), (m) => this.warn(m));
    const def: RuleDefaultAction = defaultAction === 'skip' ? 'skip' : 'trace';
    if (defaultAction !== undefined && defaultAction !== 'trace' && defaultAction !== 'skip')
      throw new Error(`"defaultAction" must be "trace" or "skip", not ${String(defaultAction)}`);
    const slow = slowThresholdMs !== undefined && slowThresholdMs > 0 ? slowThresholdMs : undefined;
    if (this.engine === undefined || slow !== this.slowThresholdMs) {
      // The `slow` threshold is compiled into the conditions: a new one needs a new engine (its
      // counters start from zero; the session's threshold does not change while it runs).
      this.engine = new RuleEngine([], {
        process: this.facts ?? processFacts(),
        slowThresholdMs: slow,
        defaultAction: def,
        onWhatIfGap: (r, client) => this.whatIfGap(r, client),
        ...(this.host?.instance !== undefined ? { instance: this.host.instance } : {}),
      });
      this.slowThresholdMs = slow;
    }
    this.engine.setRules(rules, def, actsOf(sessionActed));
    this.version = version;
    // Under a replay a request the rules do not record is still answered: the hooks ask them (null: not recorded).
    this.mode = this.replaying ? 'rules' : this.engine.mode;
    let kinds = 0;
    for (const r of rules) if (r.enabled && r.action === 'details') for (const k of r.details ?? []) kinds |= DETAIL_BIT[k];
    this.detailKinds = kinds;
    this.touch();
  }

  private gapsWarned = new Set<string>();

  /** A what-if rule matched a request its client cannot act on yet: said once per rule and client (never silently ignored). */
  private whatIfGap(r: Rule, client: string): void {
    const key = `${r.id}\0${client}`;
    if (this.gapsWarned.has(key) || this.gapsWarned.size > 1000) return;
    this.gapsWarned.add(key);
    const { whatIfGaps, isWhatIf } = engineModule();
    const why = isWhatIf(r.action) ? whatIfGaps(r.action, r) : undefined;
    this.warn(
      `what-if rule ${JSON.stringify(r.id)} matched a ${client} request and did not act on it: ${why ?? 'not implemented for this client'}`,
    );
  }

  /** An engine with no rules (trace everything), for a hook that asks before any set. */
  private fallback(): RuleEngine {
    const { RuleEngine } = engineModule();
    this.engine = new RuleEngine([], { process: this.facts ?? processFacts() });
    return this.engine;
  }

  private touch(): void {
    this.dirty = true;
    try {
      this.host?.changed();
    } catch {
      // The transport never throws; nothing to do if it did.
    }
  }

  private warn(message: string): void {
    try {
      this.host?.warn(`nettrace: ${message}`);
    } catch {
      // As above.
    }
  }
}

/**
 * Writes a set applied from the collector into this thread's NETTRACE_CONFIG, so a child process
 * or worker thread started from now on begins with it: they inherit the environment, and a
 * preload only connects (and so gets the current set) on its first message, after its first
 * request was decided. Never throws; the environment is left alone when it has no usable config.
 */
function passOn(rules: unknown, defaultAction: unknown, version: number, slowThresholdMs: unknown, sessionActed: unknown): void {
  try {
    const raw = process.env[CONFIG_ENV];
    if (raw === undefined) return;
    const config = parse(raw) as Record<string, unknown> | null;
    if (typeof config !== 'object' || config === null || Array.isArray(config)) return;
    // A set too large for the environment (a child's spawn would fail with E2BIG): children read
    // the collector's rules file instead, which holds this set or a later one (the collector writes
    // it before it sends the set). Without a file, they start with the earlier set (as below).
    // A set with a limit counted per session: children read the file too, which holds the acts the
    // collector knows of when they start (this set's may be stale by then).
    if (stringify(rules).length > MAX_ENV_RULES_CHARS || (sessionLimited(rules) && typeof config.rulesFile === 'string')) {
      if (typeof config.rulesFile !== 'string') return;
      delete config.rules;
    } else config.rules = rules;
    config.defaultAction = defaultAction === 'skip' ? 'skip' : 'trace';
    config.rulesVersion = version;
    if (typeof slowThresholdMs === 'number') config.slowThresholdMs = slowThresholdMs;
    if (actsOf(sessionActed) !== undefined) config.sessionActed = sessionActed;
    else delete config.sessionActed;
    process.env[CONFIG_ENV] = stringify(config);
  } catch {
    // Later children start with the earlier set and get this one when they connect.
  }
}

/** Some enabled rule of a set from the collector counts its limit per session (the collector's sessionLimited). */
function sessionLimited(rules: unknown): boolean {
  return (
    Array.isArray(rules) &&
    rules.some((r: { enabled?: unknown; limitPer?: unknown } | null) => r?.enabled === true && r.limitPer === 'session')
  );
}

/**
 * The collector's SessionActed (rule id → instance → acts), or undefined when `v` is not one: an
 * object of objects; an entry that is not a count is ignored where it is read (the engine's limitOf).
 */
function actsOf(v: unknown): SessionActs | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  for (const acts of Object.values(v)) if (typeof acts !== 'object' || acts === null || Array.isArray(acts)) return undefined;
  return v as SessionActs;
}

/** This thread's process facts for rule conditions (`pid`, `threadId`, `command`). */
export function processFacts(): ProcessFacts {
  let threadId = 0;
  try {
    threadId = (require('node:worker_threads') as typeof import('node:worker_threads')).threadId;
  } catch {
    // No worker_threads: the main thread.
  }
  return { pid: process.pid, threadId, command: [process.argv0, ...process.argv.slice(1)].join(' ').slice(0, 4096) };
}

/** The first line of an error's message, naming the rule at fault when it is a rule's condition. */
function messageOf(err: unknown): string {
  const ruleId = (err as { ruleId?: unknown } | null)?.ruleId;
  const text = String((err as Error)?.message ?? err).split('\n')[0];
  return typeof ruleId === 'string' && !text.startsWith('rule ') ? `rule ${JSON.stringify(ruleId)}: ${text}` : text;
}

/** The rules of this preload instance (a module per thread: each worker loads its own preload). */
export const preloadRules = new PreloadRules();

/** The hooks' question: 'all', 'none' or 'rules' (a plain field read). */
export function rulesMode(): 'all' | 'none' | 'rules' {
  return preloadRules.mode;
}
