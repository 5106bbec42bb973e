/**
 * Messages between the collector and the privileged helper (`dist/helper.cjs`, which runs
 * `native/build/nettrace-helper`).
 *
 * Wire format: one JSON value per line over the helper's stdio — helper → collector on stdout,
 * collector → helper on stdin: an object with a `type` (HelperMessage, HelperCommand), or for the
 * helper's arrivals an array (HelperArrivalLine). The helper talks to no one else. Every `...At` /
 * `at` number is an absolute wall-clock time in epoch milliseconds, as in the preload protocol;
 * the collector makes them relative to the trace.
 *
 * Authority: the collector names one target pid when it starts the helper (command-line
 * argument), and the helper checks that the pid belongs to the invoking user. Nothing the
 * collector sends later can widen what is traced or captured: the commands below carry no tuples,
 * addresses or filter expressions. Tuples in helper messages were verified by the helper itself
 * (seen in the kernel on a socket of the traced process tree).
 */

import type { AddrTuple, Conntrack, TcpConn } from '../trace/contract/types';
import type { IcmpMessage, TcpMetrics } from '../trace/contract/kernelRecords';

/** How the helper got (or did not get) its privileges. */
export type HelperAuthority = 'root' | 'sudo' | 'pkexec' | 'capabilities' | 'unprivileged';

/** Where tcpMetrics come from: eBPF tracepoints (privileged) or tcp_info via inet_diag (no root). */
export type HelperMode = 'bpf' | 'inet_diag';

/** Names of the features that can be unavailable, each with the reason in `unavailable`. */
export type HelperFeature = 'bpf' | 'conntrack' | 'capture';

/** First line once the helper is attached: from now on the target's connections are seen. */
export interface HelperReadyMessage {
  type: 'ready';
  mode: HelperMode;
  features: { tcpMetrics: HelperMode; conntrack: boolean; captureFilter: boolean };
  /** Feature name → why it is off and how to turn it on. */
  unavailable: Partial<Record<HelperFeature, string>>;
  /** Added by dist/helper.cjs: how it was started. */
  authority?: HelperAuthority;
}

/**
 * A traced connection completed its handshake (SYN_SENT → ESTABLISHED). Omitted (bpf mode) when
 * the connection also closed before the helper's next read of the ring buffer (~50 ms): its final
 * tcpMetrics line then carries connectLatencyUs and synRetransmits.
 */
export interface HelperTcpConnectMessage {
  type: 'tcpConnect';
  pid: number;
  comm?: string;
  addrTuple: AddrTuple;
  /** When the socket entered SYN_SENT. */
  beginAt: number;
  /** When it became ESTABLISHED. */
  at: number;
  connectLatencyUs: number;
  synRetransmits: number;
  /** From the first SYN to the last retransmitted one (absent: no SYN was retransmitted). */
  synRetransmitAfterUs?: number;
}

/**
 * TCP metrics of one connection, matched to `tcpConns[]` by `addrTuple` (the socket's own
 * 4-tuple, as the preload reports it). Sent at connect, periodically while it lives (bpf, at most
 * every `--update-ms`), at milestones (inet_diag), and once with `final: true` when the socket is
 * destroyed; a later message replaces an earlier one.
 */
export interface HelperTcpMetricsMessage {
  type: 'tcpMetrics';
  pid: number;
  comm?: string;
  addrTuple: AddrTuple;
  final: boolean;
  at: number;
  /** bpf, `final`: when the connection's last data arrived (its `dataEnd` kernel event). */
  lastDataAt?: number;
  /** inet_diag only: the socket's TCP state at this reading. */
  tcpState?: string;
  /** The fields as the trace stores them (`tcpConns[].tcpMetrics`); the helper always says where they came from. */
  tcpMetrics: TcpMetrics & { source: HelperMode };
}

/**
 * The conntrack entry of a traced connection as the helper sends it (the trace's `Conntrack`,
 * see docs/trace-format.md `tcpConns[].conntrack`): the reading's time, status flags, mark and both
 * tuples are always there.
 */
export type ConntrackEntry = Conntrack & Required<Pick<Conntrack, 'capturedAt' | 'status' | 'mark' | 'addrOrig' | 'addrReply'>>;

/**
 * A conntrack reading, matched to `tcpConns[]` by `addrTuple`. `via: "lookup"` readings come at
 * connect, about every second while the connection lives and at close (`final: true`); a
 * `via: "destroy"` reading is the entry's last (it may come long after close, e.g. after TIME_WAIT).
 * `missing` (and no `conntrack`) when the namespace has no entry for it.
 */
export interface HelperConntrackMessage {
  type: 'conntrack';
  pid: number;
  addrTuple: AddrTuple;
  final: boolean;
  via: 'lookup' | 'destroy';
  conntrack?: ConntrackEntry;
  missing?: string;
}

/**
 * A kernel event of a traced connection (`tcpConns[].kernelEvents`), matched by `addrTuple` (a
 * failed connect, which the preload reports without a tuple, by `pid` and destination), or by
 * `key`. Times are epoch ms. An arrival (`dataIn`) comes as a HelperArrivalLine from a current
 * helper; a helper built before it sends this object, with `key` or `addrTuple`.
 */
export interface HelperKernelEventMessage {
  type: 'kernelEvent';
  pid: number;
  /** The connection's tuple: every kind but `dataIn` (a helper built before `key` sends it on `dataIn` too). */
  addrTuple?: AddrTuple;
  /** `dataIn` from a helper built before HelperArrivalLine: the connection's tupleKey instead of its tuple. */
  key?: string;
  kind: 'retransmit' | 'zeroWindow' | 'socketError' | 'dataIn' | 'drop';
  at: number;
  /** retransmit: the connection's retransmitted segments so far. */
  total?: number;
  rto?: boolean;
  beginAt?: number;
  side?: 'peer' | 'local';
  /** dataIn: when the data before it last arrived. */
  prevLastAt?: number;
  /** dataIn: when the peer last acknowledged all the program had sent (a request's last byte). */
  ackedAt?: number;
  /** drop: the reason's name (from the kernel's BTF) and number, and which way the packet went. */
  reason?: string;
  reasonCode?: number;
  direction?: 'in' | 'out';
  errno?: number;
  icmp?: IcmpMessage;
}

/** A traced process started a child, which is now traced too (kernel side, sched_process_fork). */
export interface HelperProcessAddedMessage {
  type: 'processAdded';
  pid: number;
  ppid: number;
  at: number;
}

/**
 * The first packet of a traced socket left: `wire` is its tuple on the wire (after NAT). Used by
 * the capture; `proto: "udp"` for the DNS packets of the traced processes (then `addrTuple` is
 * the wire tuple too).
 */
export interface HelperWireTupleMessage {
  type: 'wireTuple';
  pid: number;
  addrTuple: AddrTuple;
  wire: AddrTuple;
  proto: 'tcp' | 'udp';
  at: number;
}

/**
 * A traced connection's socket is gone: after `graceMs` its wire tuple no longer passes the
 * capture filter (another process may reuse the tuple). Used by the capture.
 */
export interface HelperWireClosedMessage {
  type: 'wireClosed';
  pid: number;
  wire: AddrTuple;
  proto: 'tcp';
  graceMs: number;
  at: number;
}

/** Counters (totals). `lostEvents`: eBPF ring buffer full; captureKernelDrops: packet socket. */
export interface HelperStatsMessage {
  type: 'stats';
  lostEvents?: number;
  untracedConnsMapFull?: number;
  /** Connection events read from the kernel's ring buffer (connect, update, close, kernel events). */
  events?: number;
  /** Kernel program runs the kernel skipped (bpf_prog_info.recursion_misses, all programs). */
  missedRuns?: number;
  capturePackets?: number;
  captureKernelDrops?: number;
}

/**
 * The packet capture's state: the spool file (pcapng, owned by the invoking user) holds the
 * packets of traced connections only; `savePcap()` in src/helper/pcapng.ts turns it into the file
 * the user saves, with trace IDs in the per-packet comments. Sent when capture starts, when the
 * count changes (at most once a second) and at exit; docs/trace-format.md `packetCapture` takes
 * `file` (the saved file), `interfaces`, `packets`, `truncated`.
 */
export interface HelperCaptureMessage {
  type: 'capture';
  spool: string;
  interfaces: string[];
  packets: number;
  bytes: number;
  truncated: boolean;
  /** Packets the kernel filter passed that could not be tied to a verified tuple in time. */
  unattributed: number;
}

/** Something the helper wants the user to know, without stopping. */
export interface HelperWarningMessage {
  type: 'warning';
  message: string;
}

/** The helper could not do what was asked (e.g. `EPERM`: target pid owned by another user). */
export interface HelperErrorMessage {
  type: 'error';
  code: string;
  message: string;
}

/** Last line: the helper is exiting. */
export interface HelperExitMessage {
  type: 'exit';
  reason: string;
  /** inet_diag mode: the polls it made, and the walks of the kernel's TCP table among them (the rest looked its connections up one by one, or needed nothing). */
  polls?: number;
  dumps?: number;
}

/**
 * An arrival (a `dataIn` kernel event: data reached the socket after the program had sent more;
 * on HTTP/1.x a response's first byte) as the helper writes it: a JSON array, not an object,
 * `["dataIn", pid, key, at, prevLastAt, ackedAt]` — the connection by its tupleKey, `prevLastAt`
 * and `ackedAt` null when not known (see HelperKernelEventMessage for what they mean). The line of
 * most (one per response on a kept-alive connection): without field names the collector parses
 * it in two thirds of the time, and makes no message object for it.
 */
export type HelperArrivalLine = [kind: 'dataIn', pid: number, key: string, at: number, prevLastAt: number | null, ackedAt: number | null];

/** What one line of the helper's stdout is: a message, or an arrival. */
export type HelperLine = HelperMessage | HelperArrivalLine;

/** Whether a helper line is an arrival (HelperArrivalLine). */
export function isArrivalLine(line: HelperLine): line is HelperArrivalLine {
  return Array.isArray(line);
}

/** Every object line the helper writes (an arrival is a HelperArrivalLine). */
export type HelperMessage =
  | HelperReadyMessage
  | HelperTcpConnectMessage
  | HelperTcpMetricsMessage
  | HelperConntrackMessage
  | HelperKernelEventMessage
  | HelperProcessAddedMessage
  | HelperWireTupleMessage
  | HelperWireClosedMessage
  | HelperStatsMessage
  | HelperCaptureMessage
  | HelperWarningMessage
  | HelperErrorMessage
  | HelperExitMessage;

/**
 * Commands to the helper, one JSON object per line on its stdin. `stop` ends it cleanly; `stats`
 * asks for a stats line now; `snapshot` asks the inet_diag mode for a reading now (the collector
 * sends it at connection milestones: connected, request sent, response done, closing).
 */
export type HelperCommand = { type: 'stop' } | { type: 'stats' } | { type: 'snapshot' };

/**
 * The key the collector and helper use to match a connection: "srcIP:srcPort>dstIP:dstPort",
 * IPv6 addresses in brackets ("[::1]:40000>[::1]:80").
 */
export function tupleKey(t: AddrTuple): string {
  return `${bracketed(t.srcIP)}:${t.srcPort}>${bracketed(t.dstIP)}:${t.dstPort}`;
}

/** An IPv6 address in brackets (before a port), any other as it is. */
function bracketed(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}

/**
 * What one helper line changes in the trace: the tcpConns record with `addrTuple` key `key`
 * (see tupleKey) gets `fields` merged (shallow, later lines replace earlier ones). `toRelative`
 * turns an epoch-ms time into ms since traceBeginAt. Lines that change no record give undefined.
 */
export function tcpConnFieldsFromHelper(
  m: HelperMessage,
  toRelative: (epochMs: number) => number,
): { key: string; fields: Pick<TcpConn, 'tcpMetrics' | 'conntrack'> } | undefined {
  if (m.type === 'tcpMetrics') return { key: tupleKey(m.addrTuple), fields: { tcpMetrics: m.tcpMetrics } };
  if (m.type === 'conntrack' && m.conntrack) {
    return { key: tupleKey(m.addrTuple), fields: { conntrack: { ...m.conntrack, capturedAt: toRelative(m.conntrack.capturedAt) } } };
  }
  return undefined;
}
