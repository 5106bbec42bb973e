/**
 * Messages from the preload (inside the debuggee) to the collector, and its configuration.
 *
 * Wire format: one JSON object per line (newline-delimited), UTF-8, over a unix socket or named
 * pipe whose path is in the preload configuration. The first message on every connection is a
 * `hello` saying which process/thread it is, so the collector can rebuild the process tree.
 *
 * A record's `pid` and `threadId` are the connection's (from its hello) and are not sent.
 * Records are sent as upserts: the preload names a record by a connection-local id and sends the
 * fields it learned; the collector merges them (shallow) into the record with that id, and maps
 * local ids, including the references in REF_FIELDS (src/trace/contract/wire.ts), to trace-wide `traceID`s. Every `...At`
 * number the preload sends is an absolute wall-clock time in epoch milliseconds
 * (`performance.timeOrigin + performance.now()`); the collector makes them relative to the trace.
 */

import type { HeaderCaptureMode, Initiator, RecordKind } from '../trace/contract/types';
import type { WhatIfDelay, WhatIfFail, WhatIfOverride, WhatIfRespond, WhatIfThrottle } from '../trace/contract/ruleTypes';
import type { RecordedEnd, RecordedHead, RecordedTiming } from '../trace/contract/recording';
import type { PreloadReplayConfig, ReplayAnswerMessage, ReplayAskMessage, ReplayBodyMessage } from './replayWire';

/** Name of the environment variable that carries the JSON-encoded PreloadConfig. */
export const CONFIG_ENV = 'NETTRACE_CONFIG';

/**
 * The global symbol (`Symbol.for`) a thread's preload is known by: `true` once its body runs,
 * FIRST_USE while the loader waits for the program's first use of the network to run it
 * (src/preload/firstUse.ts); absent when there is none (or it detached).
 */
export const PRELOAD_GUARD = 'nettrace.preload';
/** PRELOAD_GUARD's value before the body runs. */
export const FIRST_USE = 'on first use';

/**
 * The user's Net Trace cache folder (`$NETTRACE_CACHE`, else `$XDG_CACHE_HOME/nettrace`, else
 * `~/.cache/nettrace`), or undefined when the user has none; what each part keeps goes in a
 * subfolder or file of its own (the preload's code cache in `v8/`, the helper's probes in
 * `helper-probes.json`).
 */
export function nettraceCacheDir(env: Record<string, string | undefined>): string | undefined {
  if (env.NETTRACE_CACHE) return env.NETTRACE_CACHE;
  if (env.XDG_CACHE_HOME) return `${env.XDG_CACHE_HOME}/nettrace`;
  return env.HOME ? `${env.HOME}/.cache/nettrace` : undefined;
}

/** The preload's loader, the file `NODE_OPTIONS=--require` names (src/preload/loader.ts). */
export const PRELOAD_LOADER_FILE = 'preload.cjs';

/** The preload's body, beside dist/preload.cjs (the loader `--require` names, which runs it from V8's code cache). */
export const PRELOAD_BODY_FILE = 'preload-body.cjs';

/**
 * Most characters of a rule set written into NETTRACE_CONFIG (its `rules` as JSON, about 150
 * rules); a larger set goes through PreloadConfig.rulesFile. Well under Linux's 128 KiB per
 * environment string and Windows' 32,767 characters per variable, so the rest of the
 * configuration and the user's own environment still fit.
 */
export const MAX_ENV_RULES_CHARS = 16 * 1024;

/**
 * Which requests get their initiator stack: all; sampled (the first 100 per thread, then as many
 * as 1% of the program's time allows); off. (The list and the default: ./options.ts.)
 */
export type InitiatorMode = 'sampled' | 'all' | 'off';

/** Preload configuration, passed as JSON in NETTRACE_CONFIG. */
export interface PreloadConfig {
  /** Unix socket path (or Windows named pipe) of the session's collector. */
  ipcPath: string;
  /**
   * The collector's process id (set where the environment is made: the collector's process). At
   * the program's exit the preload waits for a collector slow to read while this process runs,
   * not for one stopped or gone (src/preload/transport/transport.ts, EXIT_STALL_MS).
   */
  collectorPid?: number;
  /**
   * The session's key, 32 random bytes in hex, made by the collector (or a debug terminal's
   * router) that wrote this configuration: on every connection the collector must prove it before
   * the preload sends or reads anything (./collectorProof.ts). Inherited with the rest by child
   * processes and worker threads; never sent, logged or recorded. Absent (a configuration written
   * by hand): no proof is asked, the folder checks alone decide (docs/security.md).
   */
  collectorKey?: string;
  /** Header capture mode (default "values"; defaults: DEFAULTS in ./options.ts). */
  headers?: HeaderCaptureMode;
  /**
   * Extra header names (and `*part*` patterns, `!name` exceptions) to redact, besides the default
   * lists of src/trace/contract/redact.ts (case-insensitive); also for the command line's options.
   */
  redact?: string[];
  /** Extra query parameter names (and patterns, exceptions), for the command line's options. */
  redactQuery?: string[];
  /** Maximum events held while the collector is slow or gone (default 10000). */
  maxQueuedEvents?: number;
  /** Maximum stack frames kept per initiator (default 10). */
  stackDepth?: number;
  /**
   * Which requests get their initiator stack (default "sampled"): "all"; "sampled" (the first 100
   * per thread, then as many as 1% of the program's time allows); "off".
   */
  initiator?: InitiatorMode;
  /**
   * Resolve names of traced connections with the in-process resolver, recording every DNS query
   * and reply message (default false). Differs from getaddrinfo: no nsswitch, no mDNS.
   */
  dnsTrace?: boolean;
  /** Nameservers for the DNS trace ("ip", "ip:port", "[v6]:port"), overriding /etc/resolv.conf. */
  dnsServers?: string[];
  /** Record every read and write on traced sockets (default false). */
  sockTrace?: boolean;
  /** Socket operations kept per connection; the rest are counted in droppedOps (default 1000). */
  sockTraceMaxOps?: number;
  /** Capture request and response bodies (default false). */
  bodies?: boolean;
  /** Add Net Trace's own W3C `traceparent` to outgoing requests that carry none (default false; src/preload/message/traceparent.ts). */
  addTraceparent?: boolean;
  /**
   * Keep the last requests in the program's memory for Send Again
   * (src/preload/rules/sendAgainStore.ts; the extension sets it: its panel offers Send Again). Off:
   * nothing is kept, the hooks' default path does not change.
   */
  sendAgain?: boolean;
  /** Bytes kept per body (default 65536). */
  bodyMaxBytes?: number;
  /**
   * Record each exchange for replay (default false; src/preload/message/recorder.ts): the request
   * body, the response as received off the wire, its timing and end, sent as a request update's
   * `exchange` (WireExchange). Off: nothing is kept, the hooks' default path does not change.
   */
  record?: boolean;
  /** Bytes recorded per body (default 4 MiB: RECORD_MAX_BODY_BYTES). */
  recordMaxBodyBytes?: number;
  /** Bytes recorded by this process in all (default 256 MiB: RECORD_MAX_RUN_BYTES; the collector holds the run to it across processes). */
  recordMaxRunBytes?: number;
  /**
   * For tests of the fail-safe path only: the named hook ("http", "undici", "net") throws on its
   * first use, as a real bug would, so it must disable itself and leave a warning.
   */
  testFailHook?: string;
  /**
   * Trace rules in force from the first request (docs/rules.md), already validated by whoever wrote
   * the configuration; the collector's `rules` message replaces them once the preload connects.
   * Inherited by child processes and worker threads with the rest of the configuration.
   */
  rules?: WireRule[];
  /** The acts of rules whose limit counts per session, as the collector knew them (RulesMessage.sessionActed). */
  sessionActed?: SessionActed;
  /** What happens to a request no trace/skip rule decides (default "trace"). */
  defaultAction?: RuleDefaultAction;
  /** The collector's version of `rules` (RulesMessage.version; default 0). */
  rulesVersion?: number;
  /**
   * A file in the collector's private directory (mode 0600) holding the session's current set as
   * a RulesMessage. Read at start, synchronously, when `rules` is absent: a set too large for the
   * environment (over MAX_ENV_RULES_CHARS as JSON) travels this way, since one environment
   * variable over 128 KiB makes the program's `spawn` fail with E2BIG (Linux MAX_ARG_STRLEN).
   */
  rulesFile?: string;
  /** Threshold of the rules' `slow` field in ms (default 1000); written only with rules. */
  slowThresholdMs?: number;
  /**
   * A replay is on (docs/replay.md; ./replayWire.ts): every request is answered by the collector
   * from its recording, never sent to the network unless the answer says so. Inherited by child
   * processes and worker threads: the whole run is replayed.
   */
  replay?: PreloadReplayConfig;
  /**
   * Loaded into a running process through the debugger (an attach session): the preload also
   * detaches itself (DETACH_SYMBOL) once the collector's connection closes or cannot be made,
   * that is when the trace ended. Never inherited: the attach restores NETTRACE_CONFIG at once.
   */
  attached?: boolean;
}

/** What a trace rule does (src/rules/rule.ts RuleAction). */
export type WireRuleAction = 'trace' | 'skip' | 'details' | 'break' | 'mark' | 'fail' | 'delay' | 'throttle' | 'respond' | 'override';

/** What a `details` rule turns on (src/rules/rule.ts DetailKind). */
export type WireDetailKind = 'bodies' | 'sockTrace' | 'dnsTrace';

/** What happens to a request no trace/skip rule decides: recorded ("trace", the default) or not. */
export type RuleDefaultAction = 'trace' | 'skip';

/**
 * A trace rule as it travels (the shape of src/rules' Rule, which the protocol may not import):
 * every property filled in by validateRules; the receiver validates it again and compiles it.
 */
export interface WireRule {
  id: string;
  name: string;
  /** The condition's source text (docs/rules.md). */
  condition: string;
  action: WireRuleAction;
  /** Matching requests acted on per preload instance (per session with `limitPer`); null: no limit. */
  limit: number | null;
  /** `"session"`: `limit` counts over the session's instances together (RulesMessage.sessionActed). */
  limitPer?: 'session';
  enabled: boolean;
  /** `mark`: the tag given. */
  tag?: string;
  /** `details`: what to capture. */
  details?: WireDetailKind[];
  /** The what-if parameters, under the action's name (src/rules/whatIfActions.ts; the receiver validates them). */
  fail?: WhatIfFail;
  delay?: WhatIfDelay;
  throttle?: WhatIfThrottle;
  respond?: WhatIfRespond;
  override?: WhatIfOverride;
}

/** First message on a connection: who is talking. */
export interface HelloMessage {
  type: 'hello';
  pid: number;
  ppid: number;
  threadId: number;
  argv: string[];
  nodeVersion: string;
  cwd: string;
  /** Epoch ms when the process (or worker) started. */
  startAt: number;
  /**
   * Names this connection (unique per preload connection). A second connection that sends a
   * hello with the same `conn` and `continues: true` carries the end of the first one (its final
   * stats and `exit`, when the first one's pipe was full at exit): the collector treats both as one.
   */
  conn?: string;
  /** This connection continues the earlier one with the same `conn` (see `conn`). */
  continues?: boolean;
}

/** Upsert of one record: merge `fields` into the record `kind`/`id`. */
export interface RecordMessage {
  type: 'record';
  kind: RecordKind;
  /** Connection-local id; the collector assigns the trace-wide traceID. */
  id: string;
  fields: Record<string, unknown>;
}

/** Something went wrong inside the preload (a hook disabled itself, a record was cut short). */
export interface WarningMessage {
  type: 'warning';
  message: string;
}

/**
 * Counters the preload keeps about itself; totals, not deltas. Sent out of band (never queued
 * behind records, never dropped by the queue limit) whenever a count changed, and at exit.
 */
export interface StatsMessage {
  type: 'stats';
  /**
   * Messages produced so far, stats excluded: received + dropped = produced. (An update to a record
   * that is still queued is merged into the queued message and is not a message of its own.)
   */
  producedEvents?: number;
  droppedEvents: number;
  untracedRequests: number;
  /** Requests whose initiator stack was not captured (option `initiator`). */
  skippedInitiators?: number;
  /** The trace rules' counters in this preload instance; absent while it has no rule set. */
  rules?: RuleCountersReport;
  /** Event-loop blocked stretches not sent because the thread reached its cap (see LoopBlockMessage). */
  droppedLoopBlocks?: number;
}

/**
 * A stretch during which this thread's event loop was blocked (its JavaScript, or native code it
 * called, held the thread) while it had requests in flight; sent when the stretch ended. Measured
 * by src/preload/clock/loopLag.ts: at least MIN_BLOCK_MS long, at most MAX_LOOP_BLOCKS per thread (the
 * rest counted in StatsMessage.droppedLoopBlocks). Queued like any message (and dropped with the
 * queue's overflow, counted in droppedEvents). The collector keeps them on the thread's
 * `processes[]` entry (`loopBlocks`) and lays them against each request's phases.
 */
export interface LoopBlockMessage {
  type: 'loopBlock';
  /** Epoch ms when the loop stopped getting back to its timers (early by at most one sampling interval). */
  beginAt: number;
  /** Epoch ms when it got back to them. */
  endAt: number;
  /**
   * Of the stretch, the ms that were the thread's own: it ran on a CPU, or slept in a synchronous
   * call; the rest it was runnable but waited for a CPU (the machine was busy, not the program).
   * Absent where the thread's scheduler clock cannot be read (not Linux).
   */
  ownMs?: number;
}

/**
 * A preload instance's (process's or worker thread's) counters of every rule of its set, as
 * totals. Rides on the `stats` message, which the preload sends whenever a count changed.
 */
export interface RuleCountersReport {
  /** The RulesMessage.version (or NETTRACE_CONFIG's rulesVersion) of the set the preload runs. */
  version: number;
  /**
   * Increases with every report of this preload instance: of two reports (one may come late,
   * through the connection that carries the end of the first one), the higher `seq` wins.
   */
  seq: number;
  /** One entry per rule of the set, enabled or not, in order. */
  counters: WireRuleCounters[];
}

/** One rule's counters in one preload instance (src/rules/engine.ts RuleCounters). */
export interface WireRuleCounters {
  id: string;
  /** Requests the rule was read for whose condition held (past its limit too). */
  matched: number;
  /** Requests the rule acted on (at most its limit). */
  acted: number;
  /** `acted` reached the rule's limit: it no longer acts in this instance. */
  limitReached: boolean;
}

/** The process or thread is exiting. */
export interface ExitMessage {
  type: 'exit';
  exitAt: number;
  exitCode?: number;
}

/**
 * An initiator stack, sent once per distinct stack: a request's `initiator` field is then this
 * message's connection-local `id` (a string) instead of the frames. Always sent before the first
 * record that refers to it. (A preload may still send an Initiator object inline, e.g. once its
 * table of distinct stacks is full.)
 */
export interface StackMessage {
  type: 'stack';
  id: string;
  initiator: Initiator;
}

/**
 * A blob frame: this header line, then exactly `len` raw bytes (not JSON, no newline after
 * them). Carries a captured body's bytes so they are neither decoded nor JSON-escaped inside the
 * debuggee: a CapturedBody on the wire may have `textBlob` (this id) in place of `text`, which
 * the collector decodes as UTF-8. Always sent before the record that refers to it; the collector
 * hands it on with the bytes in `data`.
 */
export interface BlobMessage {
  type: 'blob';
  id: string;
  len: number;
  data?: Uint8Array;
}

/**
 * Recorded bytes as they travel in a WireExchange: `kept` bytes at offset `at` of the exchange's
 * blob, of `size` in all; `over` names the cap that cut them (the preload's per-body cap, or its
 * process's share of the run's).
 */
export interface WireBytes {
  at: number;
  kept: number;
  size: number;
  over?: 'body' | 'run';
}

/**
 * One exchange recorded for replay (the `record` option), as the preload sends it: the `exchange`
 * field of an `httpRequests` record update (a JSON line), sent once, when the exchange has ended
 * (a WebSocket's when its socket closed, or at the process's exit). All its bytes (the request's
 * body, the response's, each WebSocket message's payload, unmasked) travel in one blob frame sent
 * just before it, whose id is `data`; each part says where its bytes are in it (WireBytes). Times
 * are milliseconds relative to the request's start (RecordedTiming) or the `101` (messages). The
 * collector (src/trace/builder/recordings.ts) makes it the trace's RecordedExchange, holding the
 * run to its cap across processes.
 */
export interface WireExchange {
  /** The blob frame of the exchange's bytes (absent: none were kept). */
  data?: string;
  reqBody?: WireBytes;
  interim?: RecordedHead[];
  response?: RecordedHead;
  body?: WireBytes;
  trailers?: Array<[string, string]>;
  messages?: Array<{ dir: 'in' | 'out'; atMs: number; opcode: number; data: WireBytes }>;
  timing?: RecordedTiming;
  end: RecordedEnd;
}

/**
 * The global symbol (`Symbol.for(FLUSH_NOW_SYMBOL)`) under which the preload defines a
 * non-enumerable function that writes everything queued to the collector synchronously and
 * returns how many messages it wrote. A debugger evaluates
 * `globalThis[Symbol.for('nettrace.flushNow')]?.()` in a paused debuggee, whose timers cannot run.
 * Safe to call at any time; never throws.
 */
export const FLUSH_NOW_SYMBOL = 'nettrace.flushNow';

/**
 * The global symbol (`Symbol.for(DETACH_SYMBOL)`) under which the preload defines a
 * non-enumerable function that takes Net Trace out of the process (src/preload/detach.ts): its
 * diagnostics_channel subscriptions, the functions it replaced (put back, or passing every call
 * through where the program wrapped them again), its timers and its collector connection (what
 * is queued is written first). Returns a DetachReport. The extension evaluates it through the
 * inspector when an attach session ends. Safe to call at any time, more than once; never throws.
 */
export const DETACH_SYMBOL = 'nettrace.detach';

/** What the DETACH_SYMBOL function returns. */
export interface DetachReport {
  /** The preload was detached by an earlier call (nothing was done this time). */
  already: boolean;
  /** The diagnostics channels the preload had subscribed to (none has its subscriber left). */
  channels: string[];
  /** Replaced functions put back as they were. */
  restored: number;
  /** Replaced functions wrapped again since by someone else: left in place, passing calls through. */
  passThrough: number;
}

/**
 * Collector → preload: the session's whole rule set, replacing the one the preload has. Sent to
 * every connected preload of the session on every change (create, edit, enable, disable, delete,
 * reorder), and to each preload right after its `hello`. One JSON line, like the preload's own
 * messages. Whole sets rather than edits: a message is idempotent, and a preload that missed one
 * is made current by the next. A preload ignores a set whose version is lower than the one it has.
 */
export interface RulesMessage {
  type: 'rules';
  /** Increases with every change of the set in the collector's session. */
  version: number;
  defaultAction: RuleDefaultAction;
  /** Threshold of the `slow` field in ms (the session's slowThresholdMs). */
  slowThresholdMs?: number;
  /** The rules in order (first trace/skip match wins), disabled ones included. */
  rules: WireRule[];
  /** For the rules whose limit counts per session: what each instance acted on, as far as the collector knows (SessionActed). */
  sessionActed?: SessionActed;
}

/**
 * The acts the collector has counted of each rule whose limit is per session (`limitPer`
 * "session"), per preload instance (HelloMessage.conn; "*" for instances past the first
 * MAX_SESSION_ACTED of a rule, counted together): rule id → instance → acted. An instance acts
 * on at most `limit` − (the others' acts) requests, so the session's total stays within the
 * limit, except for what two instances act on before either hears of the other's acts (the
 * stats' batch and the set's trip back: tens of ms). Only instances that acted are listed.
 */
export type SessionActed = Record<string, Record<string, number>>;

/** Instances listed per rule in SessionActed; the acts of more are counted under "*". */
export const MAX_SESSION_ACTED = 1000;

/**
 * Collector → preload: Send Again (docs/rules.md, "Send Again"). The preload sends its request
 * `id` (its local id) again from inside the process, as the program sent it (the method, URL,
 * headers and body it keeps in memory for its last requests), with the user's edits: a header
 * whose value is REDACTED keeps the value the program sent when the URL is of the request's
 * origin, and is left out for another. It answers with a SentAgainMessage.
 */
export interface SendAgainMessage {
  type: 'sendAgain';
  /** Names the answer. */
  ask: number;
  /** The preload's local id of the request to send again. */
  id: string;
  /** What the user changed; absent: sent as it was. */
  edits?: { method?: string; url?: string; headers?: Array<[string, string]>; body?: string };
}

/** Preload → collector: what became of a SendAgainMessage. */
export interface SentAgainMessage {
  type: 'sentAgain';
  ask: number;
  /** The new request's local id (its record carries `repeatOf`). */
  id?: string;
  /** Why nothing was sent (the request is no longer kept, its client is not one Send Again knows). */
  error?: string;
  /**
   * Headers left out because the URL is of another origin (scheme, host, port) than the request's:
   * the program's credentials (a value the edits left at REDACTED, or one the trace redacts) stay
   * at their origin (src/preload/rules/sendAgainStore.ts headersToSend). Each name once, as
   * written.
   */
  leftOut?: string[];
}

/** Every message the collector sends to a preload. */
export type CollectorMessage = RulesMessage | SendAgainMessage | ReplayAnswerMessage | ReplayBodyMessage;

/** Every message the preload sends. */
export type PreloadMessage =
  | HelloMessage
  | RecordMessage
  | WarningMessage
  | StatsMessage
  | ExitMessage
  | StackMessage
  | BlobMessage
  | LoopBlockMessage
  | SentAgainMessage
  | ReplayAskMessage;
