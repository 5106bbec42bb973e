/**
 * What the kernel saw, in words (the privileged helper's records: docs/trace-format.md): its
 * events during a request or a connection (retransmits, zero windows, drops, ICMP errors), the
 * SYNs a connect retransmitted, the connect's own time beside a blocked loop, and the response's
 * arrival before the program read it. Read by the diagnosis sentences (diagnosis.ts), the CLI and
 * the panel's Connection and Timing tabs.
 */

import type { HttpRequest, TcpConn } from '../contract/types';
import type { IcmpMessage, KernelEvent, KernelTimings, TcpMetrics } from '../contract/kernelRecords';
import { formatUs } from './sentence';

/**
 * What unanswered SYNs cost a connect: "the first SYN went unanswered; retransmitted after 1.00 s"
 * (2 or more: "3 SYNs went unanswered; the last retransmitted after 7.00 s"); undefined without any.
 */
export function synStory(tm: TcpMetrics): string | undefined {
  const n = tm.synRetransmits ?? 0;
  if (n < 1) return undefined;
  const after = tm.synRetransmitAfterUs !== undefined ? ` after ${formatUs(tm.synRetransmitAfterUs)}` : '';
  return n === 1 ? `the first SYN went unanswered; retransmitted${after}` : `${n} SYNs went unanswered; the last retransmitted${after}`;
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
        ? `the server's receive window was zero for ${formatUs(ms * 1000)}${times} (it was not reading)`
        : `the program's receive window was zero for ${formatUs(ms * 1000)}${times} (it was not reading what arrived)`,
    );
  }
  const drops = events.filter((e): e is Extract<KernelEvent, { kind: 'drop' }> => e.kind === 'drop');
  if (drops.length) parts.push(...dropStory(drops, !context.omitBenign));
  for (const e of events) if (e.kind === 'socketError' && e.icmp) parts.push(icmpText(e.icmp));
  if (context.dropped) parts.push(`${context.dropped} more kernel events not listed`);
  return parts.length ? parts.join('; ') : undefined;
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
  return `the connection was established ${formatUs(us)} after its SYN`;
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
  return `the response's first byte reached the machine ${formatUs(waited * 1000)} before the program read it`;
}
