/**
 * The privileged helper's lines (src/protocol/helper.ts) merged into a session's trace:
 *   - `tcpMetrics` / `conntrack` (and the connect figures of `tcpConnect`) go into the
 *     `tcpConns` record whose address tuple they name (shallow merge, the later line wins). A line
 *     may come before the preload reported the connection: it waits, by tuple, in a bounded buffer;
 *   - `ready` and its `unavailable` reasons, `stats`, `capture` and `exit` go into
 *     `stats.helper`; every reason a feature is off, and the helper's warnings and errors, become
 *     trace warnings, so the user sees why and how to turn it on;
 *   - in inet_diag mode (no root) the helper is asked for a reading (`snapshot`) at connection
 *     milestones: connected and closed.
 * Nothing here starts processes or touches files: the CLI and the extension start the helper
 * (src/helper) and feed its lines to `apply`.
 */

import {
  isArrivalLine,
  tcpConnFieldsFromHelper,
  tupleKey,
  type HelperArrivalLine,
  type HelperCaptureMessage,
  type HelperCommand,
  type HelperKernelEventMessage,
  type HelperLine,
  type HelperMessage,
  type HelperReadyMessage,
} from '../protocol/helper';
import { SETUP_HINT } from '../helper/setupHint';
import { addKernelEvent, arrivalEvent, earliestAt, failedConnectOf, kernelEventOf } from './kernelEvents';
import type { AddrTuple, HelperStats, RecordKind, TcpConn, Trace } from '../trace/contract/types';
import type { KernelEvent, TcpMetrics } from '../trace/contract/kernelRecords';
import type { Session } from './session';

/** Options of a HelperLink. */
export interface HelperLinkOptions {
  /** Sends a command to the helper (its stdin): `snapshot` at milestones in inet_diag mode. */
  send?: (command: HelperCommand) => void;
  /** Tuples whose lines are kept while their connection is not in the trace yet (default 4096). */
  maxPending?: number;
  /** Whether a packet capture was asked for; if not, its "not requested" reason is no warning. */
  pcapRequested?: boolean;
}

/** Trace IDs of one connection, for the comments of a saved pcapng (see savePcap in src/helper). */
export interface PcapLabel {
  conn: string;
  requests: string[];
}

/** How far outside a connect attempt its socket error may fall while the run goes on (clock skew). */
const LATE_ERROR_SLACK_MS = 5;
/** The same at the end of the run, when every connection has arrived. */
const LATE_ERROR_SLACK_FINAL_MS = 1000;

const FEATURE_LABELS: Record<string, string> = {
  bpf: 'eBPF TCP metrics are off',
  conntrack: 'conntrack (NAT) readings are off',
  capture: 'packet capture is off',
};

/** The counters of `stats.helper` that are summed over the helpers of one session. */
type SummedStats = Pick<HelperStats, 'lostEvents' | 'missedRuns' | 'captureKernelDrops' | 'unmatchedConns'>;

/** The links feeding each session: several when launches joined one trace (each process tree has its own helper). */
const linksOf = new WeakMap<Session, Set<HelperLink>>();

/**
 * Feeds one helper's lines into one session. Several links may feed one session (a helper per
 * process tree): each merges its own helper's readings; the counters of `stats.helper` are their
 * sums, and `stats.helper.helpers` says how many got ready.
 */
export class HelperLink {
  /** The helper's `ready` line, once it came. */
  ready?: HelperReadyMessage;
  /** The latest `capture` line (the spool the saved pcapng is made from). */
  capture?: HelperCaptureMessage;
  /** True once the helper said `exit` (or its process ended: see `ended`). */
  exited = false;
  private readonly byKey = new Map<string, string>();
  private readonly pending = new Map<string, Record<string, unknown>>();
  private evicted = 0;
  private readonly maxPending: number;
  private readonly snapped = new WeakMap<object, number>();
  private snapshotTimer: NodeJS.Timeout | undefined;
  private lostWarned = false;
  private missedWarned = false;
  private truncatedWarned = false;
  /** Socket errors of failed connects whose connection the preload had not reported yet. */
  private lateErrors: Array<{ m: HelperKernelEventMessage; ev: KernelEvent }> = [];
  /** This helper's own counters (the session's are their sums over its links). */
  private readonly own: SummedStats = {};

  constructor(
    readonly session: Session,
    private readonly options: HelperLinkOptions = {},
  ) {
    this.maxPending = options.maxPending ?? 4096;
    const builder = session.builder;
    const previous = builder.onRecord;
    builder.onRecord = (kind, record) => {
      previous?.(kind, record);
      this.onRecord(kind, record);
    };
    // The helper may attach after the first connections were reported (the extension).
    for (const c of builder.trace.tcpConns) this.onRecord('tcpConns', c as unknown as Record<string, unknown> & { traceID: string });
    const links = linksOf.get(session) ?? new Set<HelperLink>();
    linksOf.set(session, links);
    links.add(this);
    this.stats({});
  }

  /** How many helpers of this session got ready. */
  private readyLinks(): number {
    return [...(linksOf.get(this.session) ?? [])].filter((l) => l.ready).length;
  }

  /** The sum of `field` over the session's links; undefined when none has it. */
  private summed(field: keyof SummedStats): number | undefined {
    let sum: number | undefined;
    for (const link of linksOf.get(this.session) ?? [this]) {
      const n = link.own[field];
      if (n !== undefined) sum = (sum ?? 0) + n;
    }
    return sum;
  }

  /** Applies one helper line. Never throws: a bad line becomes a warning. */
  apply(message: HelperLine): void {
    try {
      // The lines of most (an arrival per response on a kept-alive connection, then the other
      // kernel events) in small functions of their own: the switch of every other kind stays cold.
      if (isArrivalLine(message)) this.arrival(message);
      else if (typeof message === 'object' && message !== null && message.type === 'kernelEvent') this.kernelEvent(message);
      else this.applyChecked(message);
    } catch (err) {
      this.session.warn(`could not apply a helper message: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Epoch ms as trace-relative ms (made once: a closure per line was garbage on every kernel event). */
  private readonly rel = (epochMs: number): number => this.session.builder.relative(epochMs);

  /** A `kernelEvent` line: its event added to its connection. */
  private kernelEvent(m: HelperKernelEventMessage): void {
    const ev = kernelEventOf(m, this.rel);
    if (ev) this.addEvent(m, ev);
  }

  /** An arrival line (HelperArrivalLine): its event added to the connection its key names. */
  private arrival(a: HelperArrivalLine): void {
    // By index: destructuring runs the array's iterator, which is slow before V8 optimizes this.
    const key = a[2];
    const at = a[3];
    if (typeof key !== 'string' || typeof at !== 'number') return;
    const prev = a[4];
    const acked = a[5];
    const rel = this.rel;
    this.addByKey(
      key,
      arrivalEvent(rel(at), typeof prev === 'number' ? rel(prev) : undefined, typeof acked === 'number' ? rel(acked) : undefined),
    );
  }

  private applyChecked(m: HelperMessage): void {
    if (!m || typeof m !== 'object' || typeof m.type !== 'string') return;
    const rel = this.rel;
    switch (m.type) {
      case 'ready': {
        this.ready = m;
        const unavailable: Record<string, string> = {};
        for (const [feature, reason] of Object.entries(m.unavailable ?? {})) {
          if (typeof reason !== 'string') continue;
          if (feature === 'capture' && !this.options.pcapRequested) continue;
          unavailable[feature] = reason;
          this.session.warn(`${FEATURE_LABELS[feature] ?? `helper feature ${feature} is off`}: ${reason}`);
        }
        // Another helper of the session may have said why a feature is off already.
        this.stats({
          mode: m.mode,
          authority: m.authority,
          unavailable: { ...this.helperStats().unavailable, ...unavailable },
          notRunning: undefined,
          helpers: this.readyLinks() > 1 ? this.readyLinks() : undefined,
        });
        // The program may have connected before this helper was ready (`nettrace run` lets it go
        // at once for an unprivileged one): those connections are read now, not at its first tick.
        if (m.mode === 'inet_diag') this.snapshotSoon();
        return;
      }
      case 'tcpMetrics':
      case 'conntrack': {
        if (m.type === 'conntrack' && !m.conntrack) {
          if (typeof m.missing === 'string') this.session.warn(`conntrack: ${m.missing}`);
          return;
        }
        const change = tcpConnFieldsFromHelper(m, rel);
        if (change) this.merge(change.key, change.fields, false);
        // The last reading says when the connection's last data arrived (a request's last response byte).
        if (m.type === 'tcpMetrics' && m.final && typeof m.lastDataAt === 'number') {
          this.addEvent(
            { type: 'kernelEvent', pid: m.pid, addrTuple: m.addrTuple, kind: 'dataIn', at: m.lastDataAt },
            {
              kind: 'dataEnd',
              at: rel(m.lastDataAt),
            },
          );
        }
        return;
      }
      case 'kernelEvent':
        return this.kernelEvent(m);
      case 'tcpConnect': {
        // The connect figures, until the connection's first tcpMetrics line replaces them.
        const extra = m as typeof m & { rttUs?: unknown };
        const tcpMetrics: TcpMetrics = {
          source: this.ready?.mode ?? 'bpf',
          connectLatencyUs: m.connectLatencyUs,
          synRetransmits: m.synRetransmits,
        };
        if (typeof m.synRetransmitAfterUs === 'number') tcpMetrics.synRetransmitAfterUs = m.synRetransmitAfterUs;
        if (typeof extra.rttUs === 'number') tcpMetrics.rttUs = extra.rttUs;
        this.merge(tupleKey(m.addrTuple), { tcpMetrics }, true);
        return;
      }
      case 'stats': {
        if (typeof m.lostEvents === 'number') this.own.lostEvents = m.lostEvents;
        if (typeof m.captureKernelDrops === 'number') this.own.captureKernelDrops = m.captureKernelDrops;
        if (typeof m.missedRuns === 'number' && m.missedRuns > 0) this.own.missedRuns = m.missedRuns;
        const patch: Partial<HelperStats> = {};
        for (const field of ['lostEvents', 'captureKernelDrops', 'missedRuns'] as const) {
          const sum = this.summed(field);
          if (sum !== undefined) patch[field] = sum;
        }
        this.stats(patch);
        if ((m.missedRuns ?? 0) > 0 && !this.missedWarned) {
          this.missedWarned = true;
          this.session.warn(
            "the kernel skipped some runs of the helper's programs (a program nested on one CPU is not run again): some connections may lack their connect time or retransmit counts (stats.helper.missedRuns)",
          );
        }
        if ((m.lostEvents ?? 0) > 0 && !this.lostWarned) {
          this.lostWarned = true;
          this.session.warn('the helper lost eBPF events (its ring buffer was full): some connections may lack kernel metrics');
        }
        return;
      }
      case 'capture': {
        this.capture = m;
        this.stats({
          capture: { interfaces: m.interfaces, packets: m.packets, bytes: m.bytes, truncated: m.truncated, unattributed: m.unattributed },
        });
        if (m.truncated && !this.truncatedWarned) {
          this.truncatedWarned = true;
          this.session.warn('the packet capture reached its size cap (--pcap-max-bytes): later packets were not kept');
        }
        return;
      }
      case 'warning':
        this.session.warn(`helper: ${String(m.message)}`);
        return;
      case 'error':
        this.session.warn(`helper error${m.code ? ` (${String(m.code)})` : ''}: ${String(m.message)}`);
        return;
      case 'exit':
        this.exited = true;
        this.stats({ exit: String(m.reason) });
        this.finish();
        return;
      default:
        return;
    }
  }

  /** The helper's process ended (with or without an `exit` line). */
  ended(code: number | null): void {
    if (!this.exited && !this.helperStats().exit) this.stats({ exit: `the helper process ended (${code ?? 'signal'})` });
    this.exited = true;
    this.finish();
  }

  /**
   * Adds a kernel event to its connection (`kernelEvents`): by tuple, or waiting for it; a failed
   * connect's socket error by process and destination (placeLateErrors), the preload having no
   * tuple for it.
   */
  private addEvent(m: HelperKernelEventMessage, ev: KernelEvent): void {
    const key = typeof m.key === 'string' ? m.key : m.addrTuple && tupleKey(m.addrTuple);
    if (key === undefined) return;
    if (ev.kind === 'socketError' && this.connOf(key) === undefined) {
      this.lateErrors.push({ m, ev });
      if (this.lateErrors.length > 256) this.lateErrors.shift();
      this.placeLateErrors();
      return;
    }
    this.addByKey(key, ev);
  }

  /** The connection with tuple key `key`, once the preload reported it. */
  private connOf(key: string): TcpConn | undefined {
    const id = this.byKey.get(key);
    return id ? this.session.builder.get('tcpConns', id) : undefined;
  }

  /** Adds a kernel event to the connection with tuple key `key`, or keeps it for it until the preload reports it. */
  private addByKey(key: string, ev: KernelEvent): void {
    const rec = this.connOf(key);
    if (rec) {
      this.appendTo(rec, ev);
      return;
    }
    const list = (this.pending.get(key)?.kernelEvents as KernelEvent[] | undefined) ?? [];
    if (addKernelEvent(list, ev)) this.merge(key, { kernelEvents: list }, false);
  }

  /** Adds the event to the connection's list (in place: see addKernelEvent); its requests in the event's time change. */
  private appendTo(conn: TcpConn, ev: KernelEvent): void {
    const list = conn.kernelEvents ?? [];
    if (!addKernelEvent(list, ev)) return;
    this.session.builder.kernelEventsAdded(conn, list, earliestAt(ev));
    this.session.noteChange();
  }

  /**
   * Places the failed connects' socket errors whose connection (and dial) are known by now: an
   * error within a few ms of an attempt while the run goes on (its own connection may not have
   * arrived yet), the nearest attempt within a second at the end.
   */
  private placeLateErrors(final = false): void {
    if (this.lateErrors.length === 0) return;
    const builder = this.session.builder;
    const slackMs = final ? LATE_ERROR_SLACK_FINAL_MS : LATE_ERROR_SLACK_MS;
    this.lateErrors = this.lateErrors.filter(({ m, ev }) => {
      const conn = failedConnectOf(m, ev.at, builder.trace.tcpConns, (d) => builder.get('dials', d), slackMs);
      if (conn) this.appendTo(conn, ev);
      return !conn;
    });
  }

  /** Stops the milestone timer and records how many helper connections never matched. */
  finish(): void {
    this.placeLateErrors(true);
    if (this.snapshotTimer) clearTimeout(this.snapshotTimer);
    this.snapshotTimer = undefined;
    this.own.unmatchedConns = this.pending.size + this.evicted;
    const unmatched = this.summed('unmatchedConns') ?? 0;
    if (unmatched > 0 || this.helperStats().unmatchedConns !== undefined) this.stats({ unmatchedConns: unmatched });
  }

  /** Lines waiting for their connection (for tests and diagnostics). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Why Save PCAP cannot work for this session, or undefined when it can. */
  pcapUnavailable(): string | undefined {
    if (this.capture) return undefined;
    return pcapUnavailableReason(this.session.builder.trace.stats.helper, this.options.pcapRequested);
  }

  private merge(key: string, fields: Record<string, unknown>, ifAbsent: boolean): void {
    const id = this.byKey.get(key);
    if (id) {
      const rec = this.session.builder.get('tcpConns', id) as Record<string, unknown> | undefined;
      if (rec) {
        if (ifAbsent) fields = absentOnly(rec, fields);
        if (Object.keys(fields).length) this.session.builder.mergeFields('tcpConns', id, fields);
        this.session.noteChange();
        return;
      }
      this.byKey.delete(key);
    }
    const waiting = this.pending.get(key);
    if (waiting) {
      Object.assign(waiting, ifAbsent ? absentOnly(waiting, fields) : fields);
      // Most recent last: eviction takes the tuple that has waited longest without news.
      this.pending.delete(key);
      this.pending.set(key, waiting);
      return;
    }
    this.pending.set(key, { ...fields });
    if (this.pending.size > this.maxPending) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
      this.evicted++;
    }
  }

  private onRecord(kind: RecordKind, record: Readonly<Record<string, unknown>> & { traceID: string }): void {
    if (kind !== 'tcpConns') return;
    this.placeLateErrors();
    const tuple = record.addrTuple as AddrTuple | undefined;
    if (isTuple(tuple)) {
      const key = tupleKey(tuple);
      if (this.byKey.get(key) !== record.traceID) {
        // A newer connection on a reused tuple takes the key over.
        this.byKey.set(key, record.traceID);
        if (this.byKey.size > 4 * this.maxPending) {
          const oldest = this.byKey.keys().next().value;
          if (oldest !== undefined) this.byKey.delete(oldest);
        }
      }
      const waiting = this.pending.get(key);
      if (waiting) {
        this.pending.delete(key);
        this.session.builder.mergeFields('tcpConns', record.traceID, waiting);
      }
    }
    this.milestone(record);
  }

  /** inet_diag mode: a reading when a connection is established and when it closes. */
  private milestone(record: object & { connected?: unknown; connCloseAt?: unknown }): void {
    if (this.ready?.mode !== 'inet_diag' || !this.options.send || this.exited) return;
    const stage = record.connCloseAt !== undefined ? 2 : record.connected === true ? 1 : 0;
    if (stage <= (this.snapped.get(record) ?? 0)) return;
    this.snapped.set(record, stage);
    this.snapshotSoon();
  }

  /** Asks an inet_diag helper for a reading of every connection, once for all the asks of this moment. */
  private snapshotSoon(): void {
    if (!this.options.send) return;
    this.snapshotTimer ??= setTimeout(() => {
      this.snapshotTimer = undefined;
      if (!this.exited) this.options.send?.({ type: 'snapshot' });
    }, 5);
    this.snapshotTimer.unref?.();
  }

  private helperStats(): HelperStats {
    return this.session.builder.trace.stats.helper ?? {};
  }

  private stats(patch: Partial<HelperStats>): void {
    const next: HelperStats = { ...this.helperStats(), ...patch };
    for (const k of Object.keys(next) as (keyof HelperStats)[]) if (next[k] === undefined) delete next[k];
    setHelperStats(this.session, next);
  }
}

/** Replaces `stats.helper` of a session's trace (kept across the builder's stats updates). */
export function setHelperStats(session: Session, helper: HelperStats): void {
  const trace = session.builder.trace;
  trace.stats = { ...trace.stats, helper };
  session.builder.touch();
  session.noteChange();
}

/**
 * Why no pcap can be saved from a session with these helper stats ("" never: a reason, or a
 * generic one). `pcapRequested`: whether capture was asked for at all.
 */
export function pcapUnavailableReason(helper: HelperStats | undefined, pcapRequested = true): string {
  if (!helper) return `the Net Trace kernel helper did not run for this trace (packet capture needs it): ${SETUP_HINT}`;
  if (helper.notRunning) return `the Net Trace helper did not run: ${helper.notRunning}`;
  if (helper.unavailable?.capture) return helper.unavailable.capture;
  if (!pcapRequested) return 'packet capture was not turned on for this session';
  return 'the helper has not reported a packet capture for this session';
}

/**
 * Labels for a saved pcapng: each connection's socket tuple key (tupleKey of `addrTuple`) → its
 * traceID and the requests that used it (through it directly, or as their proxy's tunnel); a UDP
 * connection (DNS) is labelled with the requests of the dial it resolved for.
 */
export function pcapLabels(trace: Pick<Trace, 'tcpConns' | 'udpConns' | 'httpRequests'>): Map<string, PcapLabel> {
  const labels = new Map<string, PcapLabel>();
  const byConn = new Map<string, PcapLabel>();
  const byDial = new Map<string, string[]>();
  for (const c of trace.tcpConns) {
    if (!isTuple(c.addrTuple)) continue;
    const label = { conn: c.traceID, requests: [] };
    labels.set(tupleKey(c.addrTuple), label);
    byConn.set(c.traceID, label);
  }
  for (const r of trace.httpRequests) {
    for (const id of new Set([r.tcpConn, r.proxy?.tunnel])) {
      const label = id ? byConn.get(id) : undefined;
      if (label && !label.requests.includes(r.traceID)) label.requests.push(r.traceID);
    }
    if (r.dial) {
      const list = byDial.get(r.dial);
      if (list) list.push(r.traceID);
      else byDial.set(r.dial, [r.traceID]);
    }
  }
  for (const u of trace.udpConns) {
    if (!isTuple(u.addrTuple)) continue;
    labels.set(tupleKey(u.addrTuple), { conn: u.traceID, requests: u.fromDial ? [...(byDial.get(u.fromDial) ?? [])] : [] });
  }
  return labels;
}

function isTuple(t: unknown): t is AddrTuple {
  if (!t || typeof t !== 'object') return false;
  const a = t as Record<string, unknown>;
  return (
    typeof a.srcIP === 'string' &&
    typeof a.dstIP === 'string' &&
    typeof a.srcPort === 'number' &&
    typeof a.dstPort === 'number' &&
    a.srcPort > 0
  );
}

/** The fields of `fields` the record does not have yet. */
function absentOnly(record: Record<string, unknown>, fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) if (record[k] === undefined) out[k] = v;
  return out;
}
