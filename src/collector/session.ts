/**
 * Session: one trace being collected (one `nettrace run`, one debug session). Owns the
 * TraceBuilder, hands out snapshots with timings, diagnoses and source-mapped initiators, tells
 * views what changed (throttled), and saves JSON/HAR files readable only by their owner.
 */

import { EventEmitter } from 'node:events';
import { TraceBuilder } from '../trace/builder/builder';
import { DEFAULT_MAX_PENDING_BLOB_BYTES } from '../trace/builder/builderOptions';
import type { RecordCaps } from '../trace/builder/recordings';
import { DEFAULT_SLOW_THRESHOLD_MS } from '../trace/derive/timings';
import {
  enrichIncomingFrom,
  enrichIncomingIn,
  enrichRequest,
  enrichRequestInPlace,
  indexRecords,
  type KernelTimingsFor,
  type RecordIndex,
} from '../trace/enrich';
import { pauseIntervals, splitByPauses, threadKey } from '../trace/derive/loopBlocked';
import { writeHarFile, writeTraceFile } from '../trace/formats/traceFile';
import type { WriteJsonOptions } from '../trace/formats/jsonStream';
import type { DebuggerPause, HttpRequest, Initiator, RecordKind, Trace } from '../trace/contract/types';
import type { IncomingRequest } from '../trace/contract/incoming';
import type { TraceRules } from '../trace/contract/ruleTypes';
import { SourceMapResolver } from './sourceMaps';
import { RulesController } from './rules';
import { SendAgainLink } from './sendAgain';
import type { HelloMessage, RuleDefaultAction, SentAgainMessage, StatsMessage } from '../protocol/preload';
import type { WhatIf } from '../trace/contract/ruleTypes';
import { ReplayServer, type ReplaySetup } from './replay';
import { unheldCount } from '../trace/diagnosis/replayText';
import type { ReplayAnswerMessage, ReplayAskMessage } from '../protocol/replayWire';
import type { DecodedEvent } from '../protocol/events';
import { recordMessageOf } from './eventDecoder';
import { FIELD_NAMES } from '../protocol/recordWriter';

/** Updates after which a session nobody listens to forgets what changed (Session.scheduleChange). */
const UNHEARD_FORGET = 4096;

/** Debugger pauses kept per trace; later ones are not recorded (a stepping marathon). */
const MAX_DEBUGGER_PAUSES = 10_000;

/** Options of a Session. */
export interface SessionOptions {
  /** What is being traced (e.g. the command line). */
  description: string;
  /** The OTLP endpoint the session's spans go to when it ends (the `otlp` option; docs/opentelemetry.md). */
  otlp?: string;
  /** Successful requests slower than this get a "slow" diagnosis (default 1000 ms). */
  slowThresholdMs?: number;
  /** Minimum time between 'change' events in ms (default 100). */
  changeIntervalMs?: number;
  /** When the trace began (default: now). */
  beginAt?: Date;
  /** Resolver for initiator frames; `false` leaves frames as the preload sent them. */
  sourceMaps?: SourceMapResolver | false;
  /** Query parameter names redacted in URLs besides the defaults (see src/trace/contract/redactUrl.ts). */
  redactQuery?: readonly string[];
  /** Records kept per kind (see TraceBuilderOptions.maxRecords). */
  maxRecords?: number;
  /** The first trace rules (RuleInput objects; see RulesController: throws on an invalid one). */
  rules?: readonly unknown[];
  /** What happens to requests no trace/skip rule decides (default "trace"). */
  defaultAction?: RuleDefaultAction;
  /** Record for replay with these caps (the `record` option; the trace's `exchanges` and `recording`). */
  record?: RecordCaps;
  /** A replay: the programs' requests are answered from this recording (docs/replay.md; ./replay.ts). */
  replay?: ReplaySetup;
}

/** Events of a Session. */
export interface SessionEvents {
  /**
   * Something changed: the traceIDs of requests that changed (maybe none), and other records
   * whose change concerns only themselves (a connection's close, byte counts, kernel metrics).
   */
  change: [requestIDs: string[], records: Array<[RecordKind, string]>];
  /** A traced process or thread introduced itself (its preload's `hello`). */
  process: [pid: number, ppid: number | undefined];
}

/** One trace being collected. Emits 'change' (see SessionEvents). */
export class Session extends EventEmitter<SessionEvents> {
  /** The builder holding the raw records (times relative, ids mapped; no derived fields). */
  builder: TraceBuilder;
  private readonly options: SessionOptions;
  /** Successful requests slower than this (ms) get a "slow" diagnosis. */
  readonly slowThresholdMs: number;
  /** The OTLP endpoint of the session's spans (SessionOptions.otlp). */
  readonly otlp: string | undefined;
  private readonly changeIntervalMs: number;
  private readonly sourceMaps: SourceMapResolver | undefined;
  private readonly mappedInitiators = new WeakMap<Initiator, Initiator>();
  private changeTimer: NodeJS.Timeout | undefined;
  /** The session's trace rules: edit them here; every connected preload gets each change. */
  readonly rules: RulesController;
  /** Send Again: a recorded request sent again from inside the process that made it (sendAgain.ts). */
  readonly sendAgain: SendAgainLink;
  /** The replay the programs' requests are answered from, when the run is one (./replay.ts). */
  readonly replay: ReplayServer | undefined;

  constructor(options: SessionOptions) {
    super();
    this.options = options;
    this.builder = new TraceBuilder({
      description: options.description,
      beginAt: options.beginAt,
      redactQuery: options.redactQuery,
      maxRecords: options.maxRecords,
      record: options.record,
      eventFieldNames: FIELD_NAMES,
      // A recorded exchange's bytes travel in one blob: up to three bodies at the per-body cap.
      ...(options.record ? { maxPendingBlobBytes: Math.max(DEFAULT_MAX_PENDING_BLOB_BYTES, 4 * options.record.maxBodyBytes) } : {}),
    });
    this.slowThresholdMs = options.slowThresholdMs ?? DEFAULT_SLOW_THRESHOLD_MS;
    this.otlp = options.otlp || undefined;
    this.changeIntervalMs = options.changeIntervalMs ?? 100;
    this.sourceMaps = options.sourceMaps === false ? undefined : (options.sourceMaps ?? new SourceMapResolver());
    this.rules = new RulesController({ rules: options.rules, defaultAction: options.defaultAction, slowThresholdMs: this.slowThresholdMs });
    // What changed is kept for the views only while one listens (ChangeLog.listening): a
    // listener hears what changes from when it is added.
    this.builder.changes.listening = false;
    // (Node's own events, outside SessionEvents.)
    (this as unknown as EventEmitter).on('newListener', (event: string | symbol) => {
      if (event !== 'change') return;
      this.builder.changes.listening = true;
      queueMicrotask(() => this.scheduleChange());
    });
    (this as unknown as EventEmitter).on('removeListener', (event: string | symbol) => {
      if (event === 'change' && this.listenerCount('change') === 0) this.builder.changes.listening = false;
    });
    this.rules.on('change', () => this.noteOther());
    this.rules.on('counters', () => this.noteOther());
    this.sendAgain = new SendAgainLink(this.builder, this.rules);
    this.replay = options.replay
      ? new ReplayServer(options.replay, {
          peer: (connection) => this.rules.peerOf(connection),
          warn: (message) => this.warn(message),
        })
      : undefined;
  }

  /** The rules or their counters changed: views hear of it with the next change. */
  private noteOther(): void {
    this.builder.touch();
    this.scheduleChange();
  }

  /** Registers an IPC connection (one traced process or thread); returns its handle. */
  openConnection(): number {
    return this.builder.openConnection();
  }

  /**
   * Marks a connection closed; `stopped` when the collector closed it itself (the trace stopped
   * while the process ran on). See TraceBuilder.closeConnection.
   */
  closeConnection(connection: number, stopped = false): void {
    this.builder.closeConnection(connection, stopped);
    this.rules.detach(connection);
    this.sendAgain.closed(connection);
    this.scheduleChange();
  }

  /** Applies one parsed preload message from a connection. Never throws. */
  apply(connection: number, message: unknown): void {
    const type = (message as { type?: unknown } | null)?.type;
    if (type === 'sentAgain') return this.sendAgain.answer(connection, message as SentAgainMessage);
    if (type === 'replayAsk') return this.replayAsk(connection, message as ReplayAskMessage);
    if (type === 'record') this.nameWhatIf((message as { fields?: unknown }).fields);
    this.builder.apply(connection, message);
    this.scheduleChange();
    const m = message as { type?: unknown; pid?: unknown; ppid?: unknown } | null;
    if (m && m.type === 'hello' && typeof m.pid === 'number') {
      this.rules.hello(connection, m as HelloMessage);
      this.emit('process', m.pid, typeof m.ppid === 'number' ? m.ppid : undefined);
    } else if (m && m.type === 'stats') this.rules.stats(connection, m as StatsMessage);
  }

  /**
   * Applies a record event decoded from a preload's frame (src/collector/eventDecoder.ts) as
   * apply() applies its `record` message: most from their fields by code
   * (TraceBuilder.applyEvent), the rest as that message.
   */
  applyEvent(connection: number, ev: DecodedEvent): void {
    if (!this.builder.applyEvent(connection, ev)) return this.apply(connection, recordMessageOf(ev));
    this.scheduleChange();
  }

  /**
   * A replayed program's question (src/collector/replay.ts). A session without a recording (a
   * process that inherited a replay's environment into another run) answers that the network is
   * off, so the request fails rather than waits for ever.
   */
  private replayAsk(connection: number, m: ReplayAskMessage): void {
    if (this.replay) return this.replay.ask(connection, m);
    const summary = 'this trace replays no recording, so the request was not answered (the network is off during a replay)';
    const answer: ReplayAnswerMessage = {
      type: 'replayAnswer',
      ask: m.ask,
      act: 'refuse',
      mark: { outcome: 'unmatched', reason: 'nothing-near', differences: [], summary },
    };
    this.rules.peerOf(connection)?.write(JSON.stringify(answer) + '\n');
  }

  /**
   * A what-if rule acted (an update's `whatIf`, which names the rule by its id): adds the rule's
   * name, the title the Rules view shows, from the session's rules (`whatIf.name`), when it has one
   * of its own.
   */
  private nameWhatIf(fields: unknown): void {
    const w = (fields as { whatIf?: unknown } | null | undefined)?.whatIf as Partial<WhatIf> | null | undefined;
    if (!w || typeof w !== 'object' || typeof w.rule !== 'string' || w.name !== undefined) return;
    const name = this.rules.nameOf(w.rule);
    if (name !== undefined && name !== w.rule) w.name = name;
  }

  /** Something changed outside the preload's messages (the helper's lines): views hear of it. */
  noteChange(): void {
    this.scheduleChange();
  }

  /** The run was interrupted: `signal` was forwarded to the program (see TraceBuilder.interrupted). */
  interrupted(signal: string): void {
    this.builder.interrupted(signal);
    this.scheduleChange();
  }

  /** Adds a warning to the trace's stats (deduplicated). */
  warn(message: string): void {
    this.builder.warn(message);
    this.scheduleChange();
  }

  /** Counts OpenTelemetry spans an export could not deliver (`stats.undeliveredSpans`), with its warning. */
  countUndeliveredSpans(count: number, warning: string): void {
    const stats = this.builder.trace.stats;
    stats.undeliveredSpans = (stats.undeliveredSpans ?? 0) + count;
    this.warn(warning);
  }

  /**
   * The program stopped in the debugger (a DAP `stopped` event) at `epochMs`: opens a pause in
   * `debuggerPauses`, of process `pid` when the editor knows which one stopped. While one is open
   * for the same process, or for the session as a whole (another thread stopped first), nothing is
   * added.
   */
  debuggerStopped(reason?: string, epochMs: number = Date.now(), pid?: number): void {
    const list = (this.builder.trace.debuggerPauses ??= []);
    if (list.length >= MAX_DEBUGGER_PAUSES) return;
    for (let i = list.length - 1; i >= 0; i--) {
      const p = list[i];
      if (p.endAt === undefined && (p.pid === undefined || pid === undefined || p.pid === pid)) return;
    }
    const pause: DebuggerPause = { beginAt: this.builder.relative(epochMs) };
    if (reason) pause.reason = reason.slice(0, 100);
    if (pid !== undefined) pause.pid = pid;
    list.push(pause);
    this.pausesVersion++;
    this.builder.touch();
    this.scheduleChange();
  }

  /**
   * The program runs again (DAP `continued`, a continue/step request, the session's end): closes
   * the open pause of process `pid`, or every open pause when the process is not known.
   */
  debuggerContinued(epochMs: number = Date.now(), pid?: number): void {
    const list = this.builder.trace.debuggerPauses ?? [];
    const at = this.builder.relative(epochMs);
    let closed = false;
    for (const p of list) {
      if (p.endAt !== undefined || (pid !== undefined && p.pid !== pid)) continue;
      p.endAt = Math.max(p.beginAt, at);
      closed = true;
    }
    if (!closed) return;
    this.pausesVersion++;
    this.builder.touch();
    this.scheduleChange();
  }

  /** Bumped whenever `debuggerPauses` changes (the panel sends the list again). */
  pausesVersion = 0;

  /** True when every connection has said `exit` or closed. */
  get idle(): boolean {
    return this.builder.idle;
  }

  /** Updates applied since what changed was last forgotten, while nobody listens (scheduleChange). */
  private unheard = 0;

  private scheduleChange(): void {
    if (this.changeTimer) return;
    if (this.listenerCount('change') === 0) {
      // Nobody to tell (`nettrace run` without a live export): no timer armed and cleared for
      // each batch, and no list kept (ChangeLog.listening); the kernel's marks and the flag for
      // other changes are let go now and then (takeChanges), and a listener added later hears
      // what changes from then on (the 'newListener' handler).
      if (++this.unheard >= UNHEARD_FORGET) {
        this.unheard = 0;
        this.builder.takeChanges(false);
      }
      return;
    }
    this.changeTimer = setTimeout(() => {
      this.changeTimer = undefined;
      this.flushChanges();
    }, this.changeIntervalMs);
    this.changeTimer.unref();
  }

  /** Emits pending changes now instead of waiting for the throttle interval. */
  flushChanges(): void {
    if (this.changeTimer) {
      clearTimeout(this.changeTimer);
      this.changeTimer = undefined;
    }
    // Nobody to tell (`nettrace run` without a live export): what changed is only forgotten.
    const told = this.listenerCount('change') > 0;
    const { requests, records, other } = this.builder.takeChanges(told);
    if (!told || (requests.length === 0 && records.length === 0 && !other)) return;
    // The listeners of one change (the panel's batch, the editor's annotations) each ask for the
    // same requests: enriched once, while nothing can change them (the emit is synchronous).
    this.enrichedNow = new Map();
    try {
      this.emit('change', requests, records);
    } finally {
      this.enrichedNow = undefined;
    }
  }

  /** Requests enriched during the 'change' being emitted (see flushChanges). */
  private enrichedNow: Map<string, HttpRequest | undefined> | undefined;

  /**
   * The request's initiator with its frames source-mapped (memoized per stack), or undefined when
   * no frame moved (a program without source maps: its records are saved as they are, no copy).
   */
  private mappedInitiator(req: HttpRequest): Initiator | undefined {
    const initiator = req.initiator;
    if (!this.sourceMaps || !initiator || !Array.isArray(initiator.frames)) return undefined;
    let mapped = this.mappedInitiators.get(initiator);
    if (!mapped) {
      const frames = this.sourceMaps.mapFrames(initiator.frames);
      mapped = frames.some((f, i) => f !== initiator.frames[i]) ? { ...initiator, frames } : initiator;
      this.mappedInitiators.set(initiator, mapped);
    }
    return mapped === initiator ? undefined : mapped;
  }

  /** A request as a trace file holds it: the record, its initiator source-mapped (a copy only when a frame moved). */
  private recorded(req: HttpRequest): HttpRequest {
    const mapped = this.mappedInitiator(req);
    return mapped ? { ...req, initiator: mapped } : req;
  }

  /**
   * A request with timings, diagnosis and mapped initiator: one copy of the record (enrichRequest's);
   * the mapped initiator replaces the raw one in that copy (diagnosis does not read initiators).
   */
  private enrichWith(req: HttpRequest, index: RecordIndex): HttpRequest {
    const out = enrichRequest(req, index, { slowThresholdMs: this.slowThresholdMs });
    const mapped = this.mappedInitiator(req);
    if (mapped) out.initiator = mapped;
    return out;
  }

  /**
   * An incoming request as views read it: its thread's blocked event loop while it was open
   * (`loopBlocked`, derived) from `blocks`, that thread's stretches, and its handler's frame
   * mapped (recordedIncoming).
   */
  private mapHandler(inc: IncomingRequest, index: Pick<RecordIndex, 'loopBlocks' | 'pausedBlocks'>): IncomingRequest {
    return enrichIncomingFrom(this.recordedIncoming(inc), index);
  }

  /** An incoming request as a trace file holds it: its handler's frame mapped through a source map on disk (the preload maps those held in memory). */
  private recordedIncoming(inc: IncomingRequest): IncomingRequest {
    if (!this.sourceMaps || !inc.handler || inc.handler.generated) return inc;
    const handler = this.sourceMaps.mapFrame(inc.handler);
    return handler === inc.handler ? inc : { ...inc, handler };
  }

  /** One incoming request by traceID, as views read it (mapHandler). */
  incoming(traceID: string): IncomingRequest | undefined {
    const inc = this.builder.get('incomingRequests', traceID);
    return inc && this.mapHandler(inc, this.threadIndex(inc.pid, inc.threadId));
  }

  /**
   * A consistent copy of the trace as a trace file holds it (format version 2): what was
   * recorded, initiators and handlers source-mapped, no derived field (snapshot() works them
   * out). Records are the builder's own objects unless mapping changed them: write it before
   * more events arrive, or take snapshot().
   */
  facts(): Trace {
    const raw = this.builder.trace;
    return {
      ...raw,
      traceEndAt: raw.traceEndAt ?? this.builder.relative(Date.now()),
      processes: raw.processes.map((p) => (p.loopBlocks ? { ...p, loopBlocks: p.loopBlocks.slice() } : { ...p })),
      httpRequests: raw.httpRequests.map((r) => this.recorded(r)),
      dials: raw.dials.slice(),
      // A connection's kernel events grow in place (collector/kernelEvents.ts): the copy keeps those it had.
      tcpConns: raw.tcpConns.map((c) => (c.kernelEvents ? { ...c, kernelEvents: c.kernelEvents.slice() } : c)),
      udpConns: raw.udpConns.slice(),
      dnsQueries: raw.dnsQueries.slice(),
      tlsTunnels: raw.tlsTunnels.slice(),
      ...(raw.incomingRequests ? { incomingRequests: raw.incomingRequests.map((i) => this.recordedIncoming(i)) } : {}),
      ...(raw.debuggerPauses ? { debuggerPauses: raw.debuggerPauses.map((p) => ({ ...p })) } : {}),
      ...this.traceRulesPart(),
      ...(raw.exchanges ? { exchanges: raw.exchanges.slice(), recording: { ...raw.recording! } } : {}),
      ...(this.replay ? { replay: this.replay.run(unheldCount(raw.httpRequests)) } : {}),
      stats: { ...raw.stats, warnings: raw.stats.warnings.slice(), ...(raw.stats.helper ? { helper: { ...raw.stats.helper } } : {}) },
    };
  }

  /**
   * A consistent copy of the trace with its derived fields (timings, diagnoses…) worked out, and
   * source-mapped initiators: `facts` (default: facts() now) enriched. It shares `facts`' `stats`.
   */
  snapshot(facts: Trace = this.facts()): Trace {
    const index = indexRecords(facts);
    const options = { slowThresholdMs: this.slowThresholdMs };
    const out: Trace = { ...facts, httpRequests: facts.httpRequests.map((r) => enrichRequest(r, index, options)) };
    enrichIncomingIn(out, index);
    return out;
  }

  /**
   * The trace derived as snapshot() derives it, without a copy of any request: `facts` (taken by
   * facts(), its file already written) gets its derived fields in its requests themselves — the
   * builder's own records, unless mapping copied them. For a run's last look (`nettrace run`'s
   * table and HAR once its file is saved): after it the session's records are no longer the
   * facts alone (facts() hands them on with their derived fields, which writeTraceFile leaves out
   * and enrichRequest works out again). It shares `facts`' `stats`. `kernelFor` `diagnosed` gives
   * `kernelTimings` only to the requests whose diagnosis tells them (KernelTimingsFor).
   */
  deriveInPlace(facts: Trace, kernelFor: KernelTimingsFor = 'every'): Trace {
    const index = indexRecords(facts);
    const options = { slowThresholdMs: this.slowThresholdMs };
    for (const r of facts.httpRequests) enrichRequestInPlace(r, index, options, kernelFor);
    enrichIncomingIn(facts, index);
    return facts;
  }

  /** `{ traceRules }` when the session has rules, else nothing. */
  private traceRulesPart(): { traceRules?: TraceRules } {
    const traceRules = this.rules.traceRules();
    return traceRules ? { traceRules } : {};
  }

  /** One request with timings, diagnosis and mapped initiator, by traceID (O(1)). */
  request(traceID: string): HttpRequest | undefined {
    const memo = this.enrichedNow;
    if (memo?.has(traceID)) return memo.get(traceID);
    const out = this.enrich(traceID);
    memo?.set(traceID, out);
    return out;
  }

  private enrich(traceID: string): HttpRequest | undefined {
    const req = this.builder.get('httpRequests', traceID);
    if (!req) return undefined;
    const b = this.builder;
    const index: RecordIndex = {
      dials: new Map(req.dial ? [[req.dial, b.get('dials', req.dial)!]] : []),
      tcpConns: new Map(req.tcpConn ? [[req.tcpConn, b.get('tcpConns', req.tcpConn)!]] : []),
      tlsTunnels: new Map(req.tlsTunnel ? [[req.tlsTunnel, b.get('tlsTunnels', req.tlsTunnel)!]] : []),
    };
    for (const m of [index.dials, index.tcpConns, index.tlsTunnels] as Map<string, unknown>[]) for (const [k, v] of m) if (!v) m.delete(k);
    return this.enrichWith(req, Object.assign(index, this.threadIndex(req.pid, req.threadId)));
  }

  /**
   * One thread's stretches as a RecordIndex holds them (its own, and the debugger's paused parts:
   * splitByPauses), kept per thread until its stretches or the pauses change: live reads ask for
   * each request.
   */
  private threadIndex(pid: number, threadId: number | undefined): Pick<RecordIndex, 'loopBlocks' | 'pausedBlocks'> {
    const blocks = this.builder.trace.processes.find((p) => p.pid === pid && p.threadId === (threadId ?? 0))?.loopBlocks;
    if (!blocks || blocks.length === 0) return {};
    const key = threadKey(pid, threadId);
    const kept = this.threadSplits.get(key);
    if (kept && kept.blocks === blocks.length && kept.pauses === this.pausesVersion) return kept.index;
    const split = splitByPauses(blocks, pauseIntervals(this.builder.trace.debuggerPauses, pid));
    const index = { loopBlocks: new Map([[key, split.own]]), ...(split.paused ? { pausedBlocks: new Map([[key, split.paused]]) } : {}) };
    this.threadSplits.set(key, { blocks: blocks.length, pauses: this.pausesVersion, index });
    return index;
  }

  /** threadIndex's results by thread, with the stretch count and pauses version they were made for. */
  private readonly threadSplits = new Map<
    string,
    { blocks: number; pauses: number; index: Pick<RecordIndex, 'loopBlocks' | 'pausedBlocks'> }
  >();

  /**
   * Writes the trace file (mode 0600, format version 2: what was recorded, compact), record by
   * record: a trace of any size. `trace` is facts() (the default) or snapshot() already taken
   * (the writer leaves out its derived fields); `sync` as writeTraceFile's.
   */
  async saveJson(path: string, trace: Trace = this.facts(), options: Pick<WriteJsonOptions, 'sync'> = {}): Promise<void> {
    await writeTraceFile(path, trace, options);
  }

  /** Writes the trace as HAR 1.2 (mode 0600); `trace` as for saveJson (toHar derives what it shows). */
  async saveHar(path: string, trace: Trace = this.snapshot()): Promise<void> {
    // The HAR code is loaded by a session that writes one (issue 52).
    const { toHar } = require('../trace/formats/har') as typeof import('../trace/formats/har');
    const har = toHar(trace, { slowThresholdMs: this.slowThresholdMs });
    await writeHarFile(path, har);
  }

  /** Forgets finished requests and closed connections (see TraceBuilder.clear). */
  clear(): void {
    this.builder.clear();
    this.flushChanges();
  }

  /** Stops the change timer. */
  dispose(): void {
    if (this.changeTimer) clearTimeout(this.changeTimer);
    this.changeTimer = undefined;
  }

  /** The session's description. */
  get description(): string {
    return this.options.description;
  }
}
