/**
 * What the privileged helper learned about a TCP connection (`tcpConns[].tcpMetrics` and
 * `tcpConns[].conntrack`, see docs/trace-format.md), as short display texts shared by the CLI
 * (src/cli/render.ts) and the panel's Connection tab. Pure; the records are typed (a trace file's
 * were normalized where it was read, normalize.ts) and the results are plain text.
 */

import type { AddrTuple, Conntrack, HttpRequest, TcpConn } from '../contract/types';
import type { IcmpMessage, KernelEvent, KernelTimings, TcpMetrics } from '../contract/kernelRecords';

/** Display texts of one connection's kernel view; a field is absent when nothing is known. */
export interface KernelFacts {
  /** Where the metrics came from: "bpf" or "inet_diag". */
  source?: string;
  /** "0.42 ms ± 0.80 ms". */
  rtt?: string;
  /** "3 (1 SYN)". */
  retransmits?: string;
  /** Congestion window in segments. */
  cwnd?: string;
  /** "6 out / 4 in" (TCP segments). */
  segments?: string;
  /** Connect latency (SYN to established) as the kernel saw it. */
  connect?: string;
  /** "1 sent / 0 received" when there were resets. */
  resets?: string;
  /** "time-wait, assured|seen-reply, mark 1" (conntrack's TCP state, status flags, mark if set). */
  conntrack?: string;
  /** "orig 10.0.0.1:40000 → 10.0.0.100:80, reply 10.0.0.2:8080 → 10.0.0.3:40000" when NAT changed the reply tuple. */
  nat?: string;
  /** Packets counted by conntrack: "24 out / 17 in (1.9 kB / 13.5 kB)". */
  packets?: string;
  /** The kernel events of the whole connection: "3 retransmits (1 timeout), zero window 1.20 s". */
  events?: string;
}

/** The kernel's facts about a connection, or undefined when the helper recorded none. */
export function kernelFacts(conn: Pick<TcpConn, 'tcpMetrics' | 'conntrack' | 'kernelEvents'>): KernelFacts | undefined {
  const tm = conn.tcpMetrics;
  const ct = conn.conntrack;
  if (!tm && !ct && !conn.kernelEvents?.length) return undefined;
  const out: KernelFacts = { ...(tm ? metricsFacts(tm) : {}), ...(ct ? conntrackFacts(ct) : {}) };
  const events = kernelStory(conn.kernelEvents ?? [], { synRetransmits: tm?.synRetransmits, dropped: tm?.kernelEventsDropped });
  if (events) out.events = events;
  return out;
}

function metricsFacts(tm: TcpMetrics): KernelFacts {
  const out: KernelFacts = {};
  if (tm.source !== undefined) out.source = tm.source;
  const { rttUs: rtt, rttVarUs: rttVar, retransmits: retrans, synRetransmits: syn } = tm;
  if (rtt !== undefined && rtt > 0) out.rtt = rttVar !== undefined ? `${usText(rtt)} ± ${usText(rttVar)}` : usText(rtt);
  if (retrans !== undefined) out.retransmits = syn ? `${retrans} (${syn} SYN)` : String(retrans);
  else if (syn) out.retransmits = `${syn} SYN`;
  if (tm.sndCwnd !== undefined) out.cwnd = String(tm.sndCwnd);
  if (tm.segsOut !== undefined || tm.segsIn !== undefined) out.segments = `${tm.segsOut ?? '?'} out / ${tm.segsIn ?? '?'} in`;
  if (tm.connectLatencyUs !== undefined) {
    const syn = synStory(tm);
    out.connect = `${usText(tm.connectLatencyUs)}${syn ? ` (${syn})` : ''}`;
  }
  const rs = tm.resetsSent ?? 0;
  const rr = tm.resetsReceived ?? 0;
  if (rs > 0 || rr > 0) out.resets = `${rs} sent / ${rr} received`;
  return out;
}

/**
 * What unanswered SYNs cost a connect: "the first SYN went unanswered; retransmitted after 1.00 s"
 * (2 or more: "3 SYNs went unanswered; the last retransmitted after 7.00 s"); undefined without any.
 */
export function synStory(tm: TcpMetrics): string | undefined {
  const n = tm.synRetransmits ?? 0;
  if (n < 1) return undefined;
  const after = tm.synRetransmitAfterUs !== undefined ? ` after ${usText(tm.synRetransmitAfterUs)}` : '';
  return n === 1 ? `the first SYN went unanswered; retransmitted${after}` : `${n} SYNs went unanswered; the last retransmitted${after}`;
}

function conntrackFacts(ct: Conntrack): KernelFacts {
  const out: KernelFacts = {};
  const parts: string[] = [];
  if (ct.tcpState) parts.push(ct.tcpState);
  if (ct.status) parts.push(ct.status);
  if (ct.mark) parts.push(`mark ${ct.mark}`);
  if (parts.length) out.conntrack = parts.join(', ');
  const { addrOrig: orig, addrReply: reply } = ct;
  if (orig && reply && !isReverse(orig, reply)) out.nat = `orig ${tupleText(orig)}, reply ${tupleText(reply)}`;
  const { packetsSent: ps, packetsRecv: pr, bytesSent: bs, bytesRecv: br } = ct;
  if (ps !== undefined || pr !== undefined) {
    const bytes = bs !== undefined || br !== undefined ? ` (${bytesText(bs)} / ${bytesText(br)})` : '';
    out.packets = `${ps ?? '?'} out / ${pr ?? '?'} in${bytes}`;
  }
  return out;
}

/**
 * One line of the kernel facts for a terminal: "connect 0.09 ms, rtt 0.42 ms ± 0.80 ms,
 * retransmits 0, cwnd 10, ...". The connect's round trip comes first: on a kept-alive connection
 * whose peer's ACKs ride on its responses the kernel's rtt includes the server's time (22 ms on
 * loopback for a server taking 20 ms), and the handshake tells what the path itself takes.
 */
export function kernelLine(f: KernelFacts): string {
  const parts: string[] = [];
  if (f.connect) parts.push(`connect ${f.connect}`);
  if (f.rtt) parts.push(`rtt ${f.rtt}`);
  if (f.retransmits !== undefined) parts.push(`retransmits ${f.retransmits}`);
  if (f.cwnd !== undefined) parts.push(`cwnd ${f.cwnd}`);
  if (f.segments) parts.push(`segments ${f.segments}`);
  if (f.resets) parts.push(`resets ${f.resets}`);
  if (f.packets) parts.push(`packets ${f.packets}`);
  if (f.conntrack) parts.push(`conntrack ${f.conntrack}`);
  if (f.events) parts.push(f.events);
  return parts.join(', ');
}

/** "ip:port → ip:port" with IPv6 addresses in brackets. */
export function tupleText(t: AddrTuple): string {
  return `${hostPort(t.srcIP, t.srcPort)} → ${hostPort(t.dstIP, t.dstPort)}`;
}

function hostPort(ip: string, port: number): string {
  return `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

/** Without NAT the reply tuple is the original one reversed. */
function isReverse(o: AddrTuple, r: AddrTuple): boolean {
  return o.srcIP === r.dstIP && o.srcPort === r.dstPort && o.dstIP === r.srcIP && o.dstPort === r.srcPort;
}

/** Microseconds as "0.42 ms", "12.3 ms", "1.25 s". */
function usText(us: number): string {
  const ms = us / 1000;
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

function bytesText(n: number | undefined): string {
  if (n === undefined) return '?';
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} kB`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)} MB`;
  return `${(n / 1e9).toFixed(1)} GB`;
}

// ---- kernel events: what happened during one request ----

/**
 * The kernel events of `conn` that fall in `req`'s own time: from its start (from the connection's
 * beginning for the request that opened it: its connect) to its end; a zero-window period when it
 * overlaps that time.
 */
export function requestKernelEvents(
  req: Pick<HttpRequest, 'reusedConn' | 'reqStartAt' | 'respDoneAt' | 'reqEndAt' | 'reqErrorAt'>,
  conn: Pick<TcpConn, 'kernelEvents'> | undefined,
): KernelEvent[] {
  const events = conn?.kernelEvents;
  if (!events?.length) return [];
  const from = req.reusedConn ? (req.reqStartAt ?? -Infinity) : -Infinity;
  const to = req.respDoneAt ?? req.reqEndAt ?? req.reqErrorAt ?? Infinity;
  return events.filter((e) => (e.kind === 'zeroWindow' ? e.beginAt <= to && e.at >= from : e.at >= from && e.at <= to));
}

const ICMP4: Record<number, string> = {
  0: 'network unreachable',
  1: 'host unreachable',
  2: 'protocol unreachable',
  3: 'port unreachable',
  4: 'fragmentation needed',
  5: 'source route failed',
  6: 'destination network unknown',
  7: 'destination host unknown',
  9: 'network administratively prohibited',
  10: 'host administratively prohibited',
  11: 'network unreachable for the type of service',
  12: 'host unreachable for the type of service',
  13: 'communication administratively prohibited',
};
const ICMP6: Record<number, string> = {
  0: 'no route to destination',
  1: 'communication administratively prohibited',
  2: 'beyond the scope of the source address',
  3: 'address unreachable',
  4: 'port unreachable',
  5: 'source address failed policy',
  6: 'reject route to destination',
};

/** An ICMP message as text: "ICMP host unreachable (type 3, code 1) from 10.0.0.1". */
export function icmpText(m: IcmpMessage): string {
  let name: string | undefined;
  if (m.version === 4) {
    if (m.type === 3) name = ICMP4[m.code];
    else if (m.type === 11) name = 'time exceeded';
    else if (m.type === 12) name = 'parameter problem';
  } else {
    if (m.type === 1) name = ICMP6[m.code];
    else if (m.type === 2) name = 'packet too big';
    else if (m.type === 3) name = 'time exceeded';
    else if (m.type === 4) name = 'parameter problem';
  }
  const v = m.version === 6 ? 'ICMPv6' : 'ICMP';
  return `${v} ${name ?? 'message'} (type ${m.type}, code ${m.code}) from ${m.from}`;
}

/**
 * Drop reasons of packets TCP discards by design: duplicates of data or acknowledgements it already
 * had (a retransmission that crossed the original's ACK, a spurious retransmit), and the zero-window
 * probes a sender makes with an old sequence number while the receiver's window is shut. Not loss:
 * the sentence leaves them out; the connection's list names them for what they are.
 */
const BENIGN_DROPS: ReadonlySet<string> = new Set([
  'TCP_OLD_DATA',
  'TCP_OLD_SEQUENCE',
  'TCP_OLD_ACK',
  'TCP_TOO_OLD_ACK',
  'TCP_OFOMERGE',
  'TCP_RFC7323_PAWS',
  'TCP_RFC7323_PAWS_ACK',
  'TCP_RFC7323_TW_PAWS',
]);

/** Whether a drop reason is one of TCP's discards by design (BENIGN_DROPS), not a loss. */
export function isBenignDrop(reason: string): boolean {
  return BENIGN_DROPS.has(reason);
}

/** What a drop reason means, for the ones a user meets (the rest are named as the kernel names them). */
const DROP_MEANINGS: Record<string, string> = {
  NETFILTER_DROP: 'a firewall rule',
  SOCKET_RCVBUFF: "the socket's receive buffer was full",
  SOCKET_BACKLOG: "the socket's backlog was full",
  TCP_ZEROWINDOW: 'the receive window was zero',
  TCP_CSUM: 'a bad checksum',
  IP_CSUM: 'a bad checksum',
  UDP_CSUM: 'a bad checksum',
  SKB_CSUM: 'a bad checksum',
  NO_SOCKET: 'no socket for it',
  SOCKET_FILTER: 'a socket filter',
  QDISC_DROP: "the interface's queue",
  NEIGH_FAILED: 'the next hop did not answer ARP/ND',
};

/** "NETFILTER_DROP ×3: a firewall rule, TCP_CSUM: a bad checksum". */
function reasonList(drops: ReadonlyArray<{ reason: string }>): string {
  const byReason = new Map<string, number>();
  for (const d of drops) byReason.set(d.reason, (byReason.get(d.reason) ?? 0) + 1);
  return [...byReason].map(([r, n]) => `${r}${n > 1 ? ` ×${n}` : ''}${DROP_MEANINGS[r] ? `: ${DROP_MEANINGS[r]}` : ''}`).join(', ');
}

/** Count of packets: "1 packet", "3 packets". */
function packets(n: number): string {
  return n === 1 ? '1 packet' : `${n} packets`;
}

/**
 * The kernel's drops in words: those that matter by direction ("3 packets dropped by the kernel on
 * their way in (NETFILTER_DROP ×3: a firewall rule)"), then, unless `benign` is false, TCP's
 * discards by design ("2 packets TCP discarded by design as duplicates or window probes
 * (TCP_OLD_DATA, TCP_OLD_SEQUENCE)").
 */
function dropStory(drops: ReadonlyArray<Extract<KernelEvent, { kind: 'drop' }>>, benign: boolean): string[] {
  const parts: string[] = [];
  const lost = drops.filter((d) => !isBenignDrop(d.reason));
  let first = true;
  for (const dir of ['out', 'in'] as const) {
    const these = lost.filter((d) => d.direction === dir);
    if (!these.length) continue;
    const way = `on ${these.length === 1 ? 'its' : 'their'} way ${dir}`;
    parts.push(`${packets(these.length)}${first ? ' dropped by the kernel' : ''} ${way} (${reasonList(these)})`);
    first = false;
  }
  const kept = drops.filter((d) => isBenignDrop(d.reason));
  if (benign && kept.length)
    parts.push(`${packets(kept.length)} TCP discarded by design as duplicates or window probes (${reasonList(kept)})`);
  return parts;
}

/** What kernelStory() needs besides the events it tells. */
export interface StoryContext {
  /** All the connection's events (`events` may be a request's part of them): the counts before. */
  all?: readonly KernelEvent[];
  /** The connection's retransmitted SYNs (`tcpMetrics.synRetransmits`): in the first event's total. */
  synRetransmits?: number;
  /** Events past the per-connection cap (`tcpMetrics.kernelEventsDropped`). */
  dropped?: number;
  /**
   * Leave out TCP's discards by design (isBenignDrop): a diagnosis sentence says what matters; the
   * connection's list (the default) names them.
   */
  omitBenign?: boolean;
}

/**
 * Segments retransmitted in `events`: each retransmit event's `total` less the one before it on
 * the connection (the first: less the SYNs), so one event that resent several segments counts
 * them all; 1 per event where the total was not recorded.
 */
export function retransmittedSegments(events: readonly KernelEvent[], context: StoryContext = {}): number {
  // None of the request's own: nothing to count, and no walk over every event of its connection
  // (a kept-alive connection's arrivals: a walk per request grew with the square of the run).
  if (!events.some((e) => e.kind === 'retransmit')) return 0;
  const mine = new Set(events);
  let prev = context.synRetransmits ?? 0;
  let sum = 0;
  for (const e of context.all ?? events) {
    if (e.kind !== 'retransmit') continue;
    if (mine.has(e)) sum += e.total !== undefined ? Math.max(1, e.total - prev) : 1;
    if (e.total !== undefined) prev = e.total;
  }
  return sum;
}

/**
 * What the kernel saw, in words: "3 segments retransmitted (1 after a retransmission timeout);
 * the server's receive window was zero for 1.20 s (it was not reading); 2 packets dropped by the
 * kernel on their way in (NETFILTER_DROP ×2: a firewall rule)"; undefined when nothing.
 * `dropped`: events past the per-connection cap (counted, said).
 */
export function kernelStory(events: readonly KernelEvent[], context: StoryContext = {}): string | undefined {
  if (events.length === 0 && !context.dropped) return undefined;
  const parts: string[] = [];
  const segments = retransmittedSegments(events, context);
  if (segments > 0) {
    const rto = events.filter((e) => e.kind === 'retransmit' && e.rto).length;
    const n = segments === 1 ? '1 segment retransmitted' : `${segments} segments retransmitted`;
    parts.push(rto ? `${n} (${rto === 1 ? 'once' : `${rto} times`} after a retransmission timeout)` : n);
  }
  for (const side of ['peer', 'local'] as const) {
    const zw = events.filter((e): e is Extract<KernelEvent, { kind: 'zeroWindow' }> => e.kind === 'zeroWindow' && e.side === side);
    if (!zw.length) continue;
    const ms = zw.reduce((sum, e) => sum + Math.max(0, e.at - e.beginAt), 0);
    const times = zw.length > 1 ? ` in ${zw.length} periods` : '';
    parts.push(
      side === 'peer'
        ? `the server's receive window was zero for ${usText(ms * 1000)}${times} (it was not reading)`
        : `the program's receive window was zero for ${usText(ms * 1000)}${times} (it was not reading what arrived)`,
    );
  }
  const drops = events.filter((e): e is Extract<KernelEvent, { kind: 'drop' }> => e.kind === 'drop');
  if (drops.length) parts.push(...dropStory(drops, !context.omitBenign));
  for (const e of events) if (e.kind === 'socketError' && e.icmp) parts.push(icmpText(e.icmp));
  if (context.dropped) parts.push(`${context.dropped} more kernel events not listed`);
  return parts.length ? parts.join('; ') : undefined;
}

/** How far apart (ms) the kernel's and the program's clocks may read the same moment. */
export const KERNEL_CLOCK_SLACK_MS = 2;

/** The index of the first `dataIn` at or after index `i` (events.length when none). */
function nextDataIn(events: readonly KernelEvent[], i: number): number {
  while (i < events.length && events[i].kind !== 'dataIn') i++;
  return i;
}

/** The index of the first of `events` (in time order) at or after `at`; their length when none. */
function firstAtOrAfter(events: readonly KernelEvent[], at: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (events[mid].at < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * When `req`'s response reached the machine (its connection's `dataIn` events, privileged
 * helper): the first data to arrive after the program sent the request, if the program read its
 * first byte after that; its last byte, the arrival before the program's next exchange on the
 * connection (or its close); when the peer acknowledged the request's last byte. With them the
 * `wait` phase split into the network's, the server's and the program's parts, and the `receive`
 * phase into the time the response was still arriving and the time it waited in the socket.
 * HTTP/1.x only: HTTP/2 streams share their connection's arrivals.
 */
export function kernelTimingsOf(
  req: Pick<HttpRequest, 'protoMajor' | 'reqStartAt' | 'reqSentAt' | 'respRecvAt' | 'respDoneAt'>,
  conn: Pick<TcpConn, 'kernelEvents' | 'tcpMetrics'> | undefined,
): KernelTimings | undefined {
  const events = conn?.kernelEvents;
  const sent = req.reqSentAt ?? req.reqStartAt;
  const read = req.respRecvAt;
  if (!events?.length || (req.protoMajor ?? 1) >= 2 || sent === undefined || read === undefined) return undefined;
  // Events are in time order (collector/kernelEvents.ts addKernelEvent): the first arrival between
  // the send and the read; only when there is none, the first within the clocks' slack of them. A
  // program that sends its next request within the slack of the previous response's arrival (a
  // loop over a fast server) would otherwise get that arrival, and a wait all the program's.
  let i = nextDataIn(events, firstAtOrAfter(events, sent));
  if (!(events[i]?.at <= read)) i = nextDataIn(events, firstAtOrAfter(events, sent - KERNEL_CLOCK_SLACK_MS));
  const first = events[i];
  if (first?.kind !== 'dataIn' || first.at > read + KERNEL_CLOCK_SLACK_MS) return undefined;
  const out: KernelTimings = { respFirstByteAt: Math.min(first.at, read) };
  let next: KernelEvent | undefined;
  for (let j = i + 1; j < events.length && !next; j++) {
    const e = events[j];
    if (e.kind === 'dataEnd' || (e.kind === 'dataIn' && e.prevLastAt !== undefined)) next = e;
  }
  const last = next?.kind === 'dataEnd' ? next.at : next?.kind === 'dataIn' ? next.prevLastAt : undefined;
  const done = req.respDoneAt;
  if (last !== undefined && last >= first.at && (done === undefined || last <= done + KERNEL_CLOCK_SLACK_MS)) {
    out.respLastByteAt = done !== undefined ? Math.min(last, done) : last;
  }
  // An acknowledgement from before the request was sent acknowledged something else.
  if (first.ackedAt !== undefined && first.ackedAt >= sent - KERNEL_CLOCK_SLACK_MS) {
    out.reqAckedAt = Math.min(Math.max(first.ackedAt, sent), out.respFirstByteAt);
  }
  const wait = waitParts(req.reqSentAt, read, out, conn?.tcpMetrics);
  if (wait) out.wait = wait;
  if (done !== undefined && out.respLastByteAt !== undefined) {
    const lastIn = clamp(out.respLastByteAt, read, done);
    out.receive = { wire: ms3(lastIn - read), queued: ms3(done - lastIn) };
  }
  return out;
}

/**
 * The wait phase (`sent` → `read`) as network + server + program. The network's part is a round
 * trip: the request's last byte to its acknowledgement, or the connect handshake's round trip
 * (its last SYN to established) when shorter (a peer may hold its ACK up to 40 ms, or send it
 * with the response); undefined when neither is known.
 */
function waitParts(
  sent: number | undefined,
  read: number,
  k: KernelTimings,
  tm: TcpMetrics | undefined,
): KernelTimings['wait'] | undefined {
  if (sent === undefined || read < sent) return undefined;
  const trips: number[] = [];
  if (k.reqAckedAt !== undefined) trips.push(k.reqAckedAt - sent);
  if (tm?.connectLatencyUs !== undefined) trips.push((tm.connectLatencyUs - (tm.synRetransmitAfterUs ?? 0)) / 1000);
  if (!trips.length) return undefined;
  const arrived = clamp(k.respFirstByteAt, sent, read);
  const network = clamp(Math.min(...trips), 0, arrived - sent);
  return { network: ms3(network), server: ms3(arrived - sent - network), program: ms3(read - arrived) };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(Math.max(v, lo), hi);
}

/** ms to the µs (the kernel's times are finer; the trace's are ms with decimals). */
function ms3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** A named part of a phase split by `kernelTimings` (kernelParts()). */
export interface KernelPart {
  phase: 'wait' | 'receive';
  part: 'network' | 'server' | 'program' | 'wire' | 'queued';
  /** ms since traceBeginAt. */
  start: number;
  end: number;
}

/** What each part is called in the panel. */
export const KERNEL_PART_LABELS: Record<KernelPart['part'], string> = {
  network: 'Network round trip',
  server: 'Server',
  program: 'Waiting for the program',
  wire: 'On the wire',
  queued: 'Queued in the socket',
};

/**
 * The parts of `req`'s wait and receive phases in time (`kernelTimings.wait` and `.receive` laid
 * from `reqSentAt` and `respRecvAt`), in time order, empty ones left out.
 */
export function kernelParts(req: Pick<HttpRequest, 'reqSentAt' | 'respRecvAt' | 'kernelTimings'>): KernelPart[] {
  const k = req.kernelTimings;
  const out: KernelPart[] = [];
  const lay = (phase: KernelPart['phase'], from: number, parts: Array<[KernelPart['part'], number]>): void => {
    let at = from;
    for (const [part, ms] of parts) {
      if (ms > 0) out.push({ phase, part, start: at, end: at + ms });
      at += ms;
    }
  };
  if (k?.wait && req.reqSentAt !== undefined) {
    lay('wait', req.reqSentAt, [
      ['network', k.wait.network],
      ['server', k.wait.server],
      ['program', k.wait.program],
    ]);
  }
  if (k?.receive && req.respRecvAt !== undefined) {
    lay('receive', req.respRecvAt, [
      ['wire', k.receive.wire],
      ['queued', k.receive.queued],
    ]);
  }
  return out;
}

/**
 * "the connection was established 0.05 ms after its SYN": the kernel's own connect time beside a
 * connect phase the program's event loop held for at least `minMs` (`loopMs`, the loop's share of
 * the connect in the request's time budget).
 */
export function kernelConnectStory(
  req: Pick<HttpRequest, 'reusedConn'>,
  conn: Pick<TcpConn, 'tcpMetrics'> | undefined,
  loopMs: number,
  minMs: number,
): string | undefined {
  const us = conn?.tcpMetrics?.connectLatencyUs;
  if (req.reusedConn || us === undefined || !(loopMs >= minMs)) return undefined;
  return `the connection was established ${usText(us)} after its SYN`;
}

/**
 * "the response's first byte reached the machine 360 ms before the program read it" when the
 * response (read at `respRecvAt`) waited in the socket at least `minMs` by the kernel's arrivals
 * `k` (the request's `kernelTimings`, in its time budget); undefined otherwise.
 */
export function kernelWaitStory(respRecvAt: number | undefined, k: KernelTimings | undefined, minMs: number): string | undefined {
  if (!k || respRecvAt === undefined) return undefined;
  const waited = respRecvAt - k.respFirstByteAt;
  if (waited < minMs) return undefined;
  return `the response's first byte reached the machine ${usText(waited * 1000)} before the program read it`;
}
