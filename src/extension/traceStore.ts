/**
 * The traces the extension knows about: one per Net Trace debug session (live while it runs,
 * "earlier" after) and one per trace file the user opened. Pure (no `vscode`): the collectors are
 * started through an injected function so tests can use real ones (test/unit/launchConfig.test.mjs).
 *
 * Session lifecycle (several sessions may run at once, each with its own collector and trace):
 *   prepare()  phase 2 of configuration resolution: start a collector, return its id + ipcPath
 *   attach()   the debug session carrying `__nettraceSession: id` started
 *   release()  one of its debug sessions terminated: the last one out ends it
 *   end()      that debug session terminated: wait briefly for the last events, close the
 *              collector, keep the trace (origin "earlier")
 * A prepared session that never starts (a failing preLaunchTask, a cancelled launch) is closed
 * after `pendingTimeoutMs`. A launch prepared with `join` while a live trace of this window was
 * prepared with the same `join` key (the same tracing options) records into that trace: the
 * services of a compound launch, or two sessions started one after the other, are one trace, so
 * a call from one to the other is linked to the request it became (trace/derive/incomingLinks.ts).
 *
 * With `persistDir` (the workspace's extension storage), ended sessions are also saved there
 * (files 0600, the newest `maxPersisted` kept) and `restore()` lists them again after a window
 * reload, so the panel restored by its serializer still has its "earlier sessions"; their
 * records are read only when shown.
 */

import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, readFileSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Collector, CollectorOptions } from '../collector/server';
import type { Session } from '../collector/session';
import { writePrivate } from '../trace/formats/privateFile';
import { isFailed } from '../trace/derive/timings';
import { redactCommandLine, redactedArgNames, type SecretNames } from '../trace/contract/redact';
import type { RecordKind, Trace } from '../trace/contract/types';
import { emptyTrace } from '../trace/formats/traceFile';
import { enrichInPlace, enrichTraceInPlace, readTrace } from '../trace/formats/readTrace';
import type { PreloadConfig } from '../protocol/preload';
import type { TraceListItem, TraceOrigin, TraceSnapshot } from '../protocol/webview';
import { sendSessionSpans } from './otlpExport';
import { isRecorded } from './replayLaunch';

/** One trace the extension can show. */
export interface TraceEntry {
  /** The `traceKey` of the panel protocol. */
  readonly key: string;
  label: string;
  origin: TraceOrigin;
  /** For sessions: the running collector (undefined once ended). */
  collector?: Collector;
  /** For sessions: the session (kept after the collector closed). */
  session?: Session;
  /** For opened files: the trace (enriched). */
  trace?: Trace;
  /** For opened files: the path. */
  filePath?: string;
  /** For persisted sessions: where the trace was saved (read lazily after a reload). */
  savedPath?: string;
  /** Request count of a persisted session not read yet. */
  savedRequests?: number;
  /** Debug session id once the session started (the first one, when launches joined it). */
  debugSessionId?: string;
  /** The debug sessions recording into this trace (more than one when launches joined it). */
  debugSessions?: Set<string>;
  /** Launches prepared into this trace whose debug session has not started yet. */
  pending?: number;
  /** Launches with the same key join this trace while it is live (see `prepare`). */
  joinKey?: string;
  /** The descriptions of the launches recording into this trace. */
  launches?: string[];
  /** The tracing options this session was started with (opaque to the store). */
  openPanel?: boolean;
  /** When the entry was created. */
  readonly createdAt: Date;
}

/** Options of TraceStore.prepare: the session collector's, and how the launch shares a trace. */
export type PrepareOptions = Pick<
  CollectorOptions,
  'slowThresholdMs' | 'redactQuery' | 'rules' | 'defaultAction' | 'otlp' | 'record' | 'replay'
> & {
  /** The `redact` option's entries: with `redactQuery`'s, the secret option names of a command line in the description. */
  redact?: string[];
  openPanel?: boolean;
  /** Join the live trace prepared with this key (the launch's tracing options), else start one that others may join. */
  join?: string;
};

/** What TraceStore.prepare returns: the trace key, the collector's IPC path, the first rules; `joined` when an existing trace was joined. */
export interface Prepared {
  key: string;
  ipcPath: string;
  /** What the collector adds to the preload's configuration: its first rules and its key (collectorKey). */
  rulesConfig: Partial<PreloadConfig>;
  joined?: boolean;
}

/** Events of a TraceStore. */
export interface TraceStoreEvents {
  /** The list of traces (labels, origins, live flags) changed. */
  list: [];
  /** A session trace's records changed; `requestIDs` are the requests that changed. */
  change: [entry: TraceEntry, requestIDs: string[], records: Array<[RecordKind, string]>];
  /** A session started (its debug session attached). */
  started: [entry: TraceEntry];
  /** A session ended (collector closed, trace kept). */
  ended: [entry: TraceEntry];
  /** A trace was cleared or removed. */
  cleared: [entry: TraceEntry];
}

/** Options of a TraceStore. */
export interface TraceStoreOptions {
  /** Starts a collector (src/collector startCollector). */
  startCollector: (options: CollectorOptions) => Promise<Collector>;
  /** Close a prepared session that never started after this long (default 10 min). */
  pendingTimeoutMs?: number;
  /** How long to wait for the last events after a session ended (default 1500 ms). */
  idleTimeoutMs?: number;
  /** Change events of sessions are throttled to this interval (default 250 ms). */
  changeIntervalMs?: number;
  /** Folder where ended sessions are kept for later windows (created 0700); none by default. */
  persistDir?: string;
  /** How many ended sessions to keep in `persistDir` (default 5). */
  maxPersisted?: number;
  /** Formats the time in labels (default HH:MM:SS local). */
  clock?: (d: Date) => string;
  /** Logs a line (the Output channel). */
  log?: (line: string) => void;
  /** The secret option names redacted from labels and descriptions read back from files (an older version may have kept them); default redactedArgNames(). */
  argNames?: () => SecretNames;
}

/** What a collector adds to the preload's configuration: its current rules and its key (proved first on each connection). */
function collectorConfig(collector: Collector): Partial<PreloadConfig> {
  return { ...collector.session.rules.preloadConfig(), collectorKey: collector.collectorKey };
}

function hhmmss(d: Date): string {
  return d.toTimeString().slice(0, 8);
}

/** One line of the persisted sessions index (`sessions.json` in `persistDir`). */
interface PersistedSession {
  file: string;
  label: string;
  createdAt: string;
  requests: number;
}

const INDEX_FILE = 'sessions.json';

/** Every trace of this window: sessions (live and earlier) and opened files. */
export class TraceStore extends EventEmitter<TraceStoreEvents> {
  private readonly entries = new Map<string, TraceEntry>();
  private readonly pendingTimers = new Map<string, NodeJS.Timeout>();
  /** Per join key, the launch being prepared last (the next with that key waits for it). */
  private readonly starting = new Map<string, Promise<Prepared>>();
  private nextSession = 1;
  /** Persistence writes, one after another (two sessions may end at once). */
  private writes: Promise<void> = Promise.resolve();
  private nextFile = 1;

  constructor(private readonly options: TraceStoreOptions) {
    super();
  }

  /** All entries, newest first within each origin (current, earlier, file). */
  list(): TraceEntry[] {
    const order: Record<TraceOrigin, number> = { current: 0, earlier: 1, file: 2 };
    // Newest first; entries created in the same millisecond by insertion order (reversed).
    return [...this.entries.values()]
      .map((e, i) => ({ e, i }))
      .sort((a, b) => order[a.e.origin] - order[b.e.origin] || b.e.createdAt.getTime() - a.e.createdAt.getTime() || b.i - a.i)
      .map(({ e }) => e);
  }

  /** The entry with this key. */
  get(key: string | undefined): TraceEntry | undefined {
    return key === undefined ? undefined : this.entries.get(key);
  }

  /** The entry of a debug session id, or of a `__nettraceSession` marker. */
  bySessionMarker(marker: unknown): TraceEntry | undefined {
    return typeof marker === 'string' ? this.entries.get(marker) : undefined;
  }

  /** The most recent session that is still recording, else the most recent entry of any kind. */
  latest(): TraceEntry | undefined {
    return this.list()[0];
  }

  /** Live (recording) session entries. */
  live(): TraceEntry[] {
    return [...this.entries.values()].filter((e) => e.origin === 'current');
  }

  /**
   * The live entry recording the process `pid` (one still running first, the newest among them):
   * how a debug session that carries no marker (a JavaScript Debug Terminal's, an auto-attached
   * process's) finds its trace.
   */
  byLivePid(pid: number): TraceEntry | undefined {
    let found: TraceEntry | undefined;
    let running = false;
    for (const e of this.entries.values()) {
      if (e.origin !== 'current' || !e.session) continue;
      for (const p of e.session.builder.trace.processes) {
        if (p.pid !== pid) continue;
        const alive = p.exitAt === undefined;
        if (!found || (alive && !running) || (alive === running && e.createdAt >= found.createdAt)) [found, running] = [e, alive];
      }
    }
    return found;
  }

  /** The panel's `traces` list. */
  items(): TraceListItem[] {
    return this.list().map((e) => ({
      traceKey: e.key,
      label: e.label,
      origin: e.origin,
      live: e.origin === 'current',
      detail: e.filePath ?? `${this.requestCount(e)} requests`,
      ...(e.origin !== 'current' && (e.session || e.trace) ? { recorded: isRecorded(e.session?.builder.trace ?? e.trace) } : {}),
    }));
  }

  /** Number of requests in a trace. */
  requestCount(e: TraceEntry): number {
    if (e.session) return e.session.builder.trace.httpRequests.length;
    return e.trace?.httpRequests.length ?? e.savedRequests ?? 0;
  }

  /** Requests and failed requests of a trace (for the status bar). */
  counts(e: TraceEntry): { requests: number; failed: number } {
    const reqs = e.session ? e.session.builder.trace.httpRequests : this.fullTrace(e).httpRequests;
    let failed = 0;
    for (const r of reqs) if (isFailed(r)) failed++;
    return { requests: reqs.length, failed };
  }

  /**
   * Phase 2 of a launch: starts a collector for a new session (with the launch's slow-request
   * threshold, if any). Returns the trace key (the `__nettraceSession` marker) and the IPC path
   * for the preload.
   */
  async prepare(
    description: string,
    /** Options of the session's collector (its first trace rules are validated there: an invalid one rejects). */
    extra: PrepareOptions = {},
  ): Promise<Prepared> {
    const join = extra.join;
    if (join === undefined) return this.prepareOwn(description, extra);
    // A compound starts its launches at once: each waits for the one before it with the same key to have its trace.
    const mine = (this.starting.get(join) ?? Promise.resolve()).catch(() => undefined).then(() => this.prepareOwn(description, extra));
    this.starting.set(join, mine);
    try {
      return await mine;
    } finally {
      if (this.starting.get(join) === mine) this.starting.delete(join);
    }
  }

  private async prepareOwn(raw: string, extra: PrepareOptions): Promise<Prepared> {
    // The description may be a command line (a debug terminal's): it becomes the label, the trace's
    // description (its file, the HAR comment), sessions.json and log lines, so its secret options
    // are redacted here, as in processes[].argv, whoever built it.
    const description = redactCommandLine(raw, redactedArgNames(extra.redact, extra.redactQuery));
    const live = extra.join === undefined ? undefined : this.live().find((e) => e.joinKey === extra.join && e.collector);
    if (live?.collector && live.session) {
      live.pending = (live.pending ?? 0) + 1;
      live.launches = [...(live.launches ?? []), description];
      live.label = `${live.launches.join(' + ')} — ${(this.options.clock ?? hhmmss)(live.createdAt)}`;
      // The trace (its file, the panel's footer) names every launch too.
      live.session.builder.trace.description = live.launches.join(' + ');
      this.armPending(live);
      this.log(`${live.key}: ${description} joins this trace (same window, same tracing options)`);
      this.emit('list');
      return { key: live.key, ipcPath: live.collector.ipcPath, rulesConfig: collectorConfig(live.collector), joined: true };
    }
    const collector = await this.options.startCollector({
      description,
      changeIntervalMs: this.options.changeIntervalMs ?? 250,
      slowThresholdMs: extra.slowThresholdMs,
      ...(extra.redactQuery?.length ? { redactQuery: extra.redactQuery } : {}),
      ...(extra.rules?.length ? { rules: extra.rules } : {}),
      ...(extra.defaultAction ? { defaultAction: extra.defaultAction } : {}),
      ...(extra.otlp ? { otlp: extra.otlp } : {}),
      ...(extra.record ? { record: extra.record } : {}),
      ...(extra.replay ? { replay: extra.replay } : {}),
    });
    const key = `session-${this.nextSession++}`;
    const createdAt = new Date();
    const entry: TraceEntry = {
      key,
      label: `${description} — ${(this.options.clock ?? hhmmss)(createdAt)}`,
      origin: 'current',
      collector,
      session: collector.session,
      openPanel: extra.openPanel,
      createdAt,
      pending: 1,
      debugSessions: new Set(),
      ...(extra.join !== undefined ? { joinKey: extra.join, launches: [description] } : {}),
    };
    collector.session.on('change', (ids, records) => this.emitChange(entry, ids, records));
    this.entries.set(key, entry);
    this.armPending(entry);
    this.log(`${key}: collector listening on ${collector.ipcPath} (${description})`);
    this.emit('list');
    return { key, ipcPath: collector.ipcPath, rulesConfig: collectorConfig(collector) };
  }

  /**
   * A debug session started. Returns the entry when the session is the one a Net Trace launch
   * prepared (its configuration carries the marker) and it was not attached yet; js-debug's child
   * sessions (one per process) may carry the same marker and are ignored.
   */
  attach(marker: unknown, debugSessionId: string): TraceEntry | undefined {
    const entry = this.bySessionMarker(marker);
    if (!entry || !entry.pending || entry.origin !== 'current' || entry.debugSessions?.has(debugSessionId)) return undefined;
    entry.pending--;
    (entry.debugSessions ??= new Set()).add(debugSessionId);
    entry.debugSessionId ??= debugSessionId;
    if (entry.pending === 0) {
      clearTimeout(this.pendingTimers.get(entry.key));
      this.pendingTimers.delete(entry.key);
    }
    this.log(`${entry.key}: debug session ${debugSessionId} started`);
    this.emit('started', entry);
    return entry;
  }

  /** The entry one of whose debug sessions has this id. */
  byDebugSession(debugSessionId: string): TraceEntry | undefined {
    for (const e of this.entries.values()) if (e.debugSessionId === debugSessionId || e.debugSessions?.has(debugSessionId)) return e;
    return undefined;
  }

  /**
   * One of a trace's debug sessions terminated. Returns its entry when that was the last one (no
   * other recording, none prepared still to start): the caller ends it then.
   */
  release(debugSessionId: string): TraceEntry | undefined {
    const entry = this.byDebugSession(debugSessionId);
    if (!entry) return undefined;
    entry.debugSessions?.delete(debugSessionId);
    if (entry.debugSessions?.size || entry.pending) return undefined;
    // Ending: a launch started from now on gets a trace of its own, not this closing one.
    entry.joinKey = undefined;
    return entry;
  }

  /** A launch prepared into a trace will not start (its configuration failed): the trace ends if nothing else records. */
  unprepare(key: string): void {
    const entry = this.entries.get(key);
    if (!entry?.pending) return;
    entry.pending--;
    if (!entry.pending && !entry.debugSessions?.size) void this.end(key);
  }

  /** Ends the trace when launches prepared into it never start within `pendingTimeoutMs` and nothing else records. */
  private armPending(entry: TraceEntry): void {
    clearTimeout(this.pendingTimers.get(entry.key));
    const timer = setTimeout(
      () => {
        this.pendingTimers.delete(entry.key);
        if (!entry.pending) return;
        entry.pending = 0;
        if (entry.debugSessions?.size) return;
        this.log(`${entry.key}: the debug session never started; closing its collector`);
        void this.end(entry.key);
      },
      this.options.pendingTimeoutMs ?? 10 * 60_000,
    );
    timer.unref();
    this.pendingTimers.set(entry.key, timer);
  }

  /** A session ended: waits for its last events (bounded), closes the collector, keeps the trace as an "earlier" session; safe twice. */
  async end(key: string): Promise<void> {
    const entry = this.entries.get(key);
    const collector = entry?.collector;
    if (!entry || !collector) return;
    entry.collector = undefined;
    clearTimeout(this.pendingTimers.get(key));
    this.pendingTimers.delete(key);
    await collector.waitForIdle({ timeoutMs: this.options.idleTimeoutMs ?? 1500 });
    await collector.close();
    if (entry.session?.otlp) await sendSessionSpans(entry.session, entry.session.otlp, (line) => this.log(`${key}: ${line}`));
    entry.origin = 'earlier';
    this.log(`${key}: session ended, ${this.requestCount(entry)} requests recorded`);
    await this.queueWrite(() => this.persist(entry));
    this.emit('ended', entry);
    this.emit('list');
  }

  /** Resolves when every pending write to `persistDir` is done. */
  flush(): Promise<void> {
    return this.writes;
  }

  private queueWrite(fn: () => Promise<void>): Promise<void> {
    this.writes = this.writes.then(fn).catch((err: Error) => this.log(`persisting traces failed: ${err.message}`));
    return this.writes;
  }

  /** Saves an ended session into `persistDir` and rewrites the index (keeping the newest). */
  private async persist(entry: TraceEntry): Promise<void> {
    const dir = this.options.persistDir;
    if (!dir || !entry.session) return;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = entry.savedPath ?? join(dir, `session-${entry.createdAt.getTime()}-${entry.key}.json`);
      await entry.session.saveJson(file);
      entry.savedPath = file;
      await this.writeIndex();
    } catch (err) {
      this.log(`${entry.key}: could not keep the trace for later windows: ${(err as Error).message}`);
    }
  }

  private async writeIndex(): Promise<void> {
    const dir = this.options.persistDir;
    if (!dir) return;
    const saved = [...this.entries.values()]
      .filter((e) => e.origin === 'earlier' && e.savedPath)
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
    const max = this.options.maxPersisted ?? 5;
    for (const old of saved.slice(max)) {
      try {
        unlinkSync(old.savedPath!);
      } catch {
        // already gone
      }
      if (old.session) old.savedPath = undefined;
      else this.entries.delete(old.key);
    }
    const index: PersistedSession[] = saved.slice(0, max).map((e) => ({
      file: basename(e.savedPath!),
      label: e.label,
      createdAt: e.createdAt.toISOString(),
      requests: this.requestCount(e),
    }));
    await writePrivate(join(dir, INDEX_FILE), JSON.stringify(index, null, 1) + '\n');
  }

  /**
   * Lists the sessions an earlier window kept in `persistDir` (as "earlier" traces, read when
   * shown). Returns how many were restored; a missing or damaged index restores none.
   */
  restore(): number {
    const dir = this.options.persistDir;
    if (!dir || !existsSync(join(dir, INDEX_FILE))) return 0;
    let index: unknown;
    try {
      index = JSON.parse(readFileSync(join(dir, INDEX_FILE), 'utf8'));
    } catch (err) {
      this.log(`ignoring ${join(dir, INDEX_FILE)}: ${(err as Error).message}`);
      return 0;
    }
    if (!Array.isArray(index)) return 0;
    let n = 0;
    for (const item of index as PersistedSession[]) {
      if (typeof item?.file !== 'string' || item.file.includes('/') || item.file.includes('\\')) continue;
      const path = join(dir, item.file);
      const createdAt = new Date(item.createdAt);
      if (!existsSync(path) || Number.isNaN(createdAt.getTime())) continue;
      const key = `saved-${++n}`;
      this.entries.set(key, {
        key,
        label: typeof item.label === 'string' ? this.safeText(item.label) : item.file,
        origin: 'earlier',
        savedPath: path,
        savedRequests: typeof item.requests === 'number' ? item.requests : undefined,
        createdAt,
      });
    }
    if (n > 0) this.emit('list');
    return n;
  }

  /**
   * Adds an opened trace file (of any format version, as readTraceFile gives it); returns its
   * entry. Its derived fields are worked out in place, one request at a time
   * (src/trace/formats/readTrace.ts): a copy of a million-request trace would double the
   * extension host's memory while it is made.
   */
  addFile(path: string, trace: Trace): TraceEntry {
    enrichTraceInPlace(trace);
    return this.addEnriched(path, trace);
  }

  /** addFile() giving the event loop back between slices of requests ("Open Trace File": enrichInPlace). */
  async addFileAsync(path: string, trace: Trace): Promise<TraceEntry> {
    await enrichInPlace(trace);
    return this.addEnriched(path, trace);
  }

  private addEnriched(path: string, trace: Trace): TraceEntry {
    const key = `file-${this.nextFile++}`;
    const name = path.split(/[\\/]/).pop() ?? path;
    trace.description = this.safeText(trace.description);
    const entry: TraceEntry = { key, label: name, origin: 'file', trace, filePath: path, createdAt: new Date() };
    this.entries.set(key, entry);
    this.emit('list');
    return entry;
  }

  /**
   * Clears a trace: a session forgets its finished requests (a live one keeps recording); an
   * opened file is removed from the list.
   */
  clear(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    if (entry.session) {
      entry.session.clear();
      if (entry.savedPath && entry.origin === 'earlier') void this.queueWrite(() => this.persist(entry));
    } else {
      this.entries.delete(key);
      if (entry.savedPath) {
        try {
          unlinkSync(entry.savedPath);
        } catch {
          // already gone
        }
        void this.queueWrite(() => this.writeIndex());
      }
    }
    this.emit('cleared', entry);
    this.emit('list');
  }

  /** The full trace of an entry, with timings, diagnoses and mapped initiators. */
  fullTrace(e: TraceEntry): Trace {
    if (e.session) return e.session.snapshot();
    if (!e.trace && e.savedPath) {
      try {
        e.trace = readTrace(e.savedPath);
        e.trace.description = this.safeText(e.trace.description);
      } catch (err) {
        this.log(`${e.key}: cannot read ${e.savedPath}: ${(err as Error).message}`);
        const empty = emptyTrace(e.label, e.createdAt);
        empty.stats.warnings.push(`the saved trace could not be read: ${(err as Error).message}`);
        return empty;
      }
    }
    return e.trace ?? emptyTrace(e.label, e.createdAt);
  }

  /** The snapshot the panel's `reset` carries. */
  snapshot(e: TraceEntry): TraceSnapshot {
    const t = this.fullTrace(e);
    return {
      description: t.description,
      traceBeginAt: t.traceBeginAt,
      traceEndAt: t.traceEndAt,
      httpRequests: t.httpRequests,
      dials: t.dials,
      tcpConns: t.tcpConns,
      tlsTunnels: t.tlsTunnels,
      udpConns: t.udpConns,
      dnsQueries: t.dnsQueries,
      ...(t.incomingRequests?.length ? { incomingRequests: t.incomingRequests } : {}),
      ...(t.debuggerPauses ? { debuggerPauses: t.debuggerPauses } : {}),
      stats: t.stats,
      ...(e.session ? { slowThresholdMs: e.session.slowThresholdMs } : {}),
    };
  }

  /** Closes every running collector (extension deactivation). */
  async dispose(): Promise<void> {
    for (const t of this.pendingTimers.values()) clearTimeout(t);
    this.pendingTimers.clear();
    await Promise.all([...this.entries.values()].map((e) => e.collector?.close()));
    await this.writes;
  }

  /**
   * 'change' to every listener even when one throws: the views (panel, CodeLens, status bar) are
   * independent, and one failing must not leave the others behind.
   */
  private emitChange(entry: TraceEntry, ids: string[], records: Array<[RecordKind, string]>): void {
    for (const listener of this.listeners('change')) {
      try {
        listener(entry, ids, records);
      } catch (err) {
        this.log(`${entry.key}: a view failed on a change: ${(err as Error)?.stack ?? err}`);
      }
    }
  }

  /** A label or description read from a file, its command line's secret options redacted (see `argNames`). */
  private safeText(text: string): string {
    return typeof text === 'string' ? redactCommandLine(text, (this.options.argNames ?? redactedArgNames)()) : text;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }
}
