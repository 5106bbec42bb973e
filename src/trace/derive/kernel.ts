/**
 * What the privileged helper learned about a TCP connection (`tcpConns[].tcpMetrics` and
 * `tcpConns[].conntrack`, see docs/trace-format.md), as short display texts shared by the CLI
 * (src/cli/render.ts) and the panel's Connection tab, and the kernel's clock in a request's time
 * (kernelTimingsOf, kernelParts). The sentences about the kernel are
 * src/trace/diagnosis/kernelStory.ts's. Pure; the records are typed (a trace file's were normalized
 * where it was read, normalize.ts) and the results are plain text.
 */

import type { AddrTuple, Conntrack, HttpRequest, TcpConn } from '../contract/types';
import type { KernelEvent, KernelTimings, TcpMetrics } from '../contract/kernelRecords';
import { formatBytes, formatUs } from '../diagnosis/sentence';
import { kernelStory, synStory } from '../diagnosis/kernelStory';

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
  if (rtt !== undefined && rtt > 0) out.rtt = rttVar !== undefined ? `${formatUs(rtt)} ± ${formatUs(rttVar)}` : formatUs(rtt);
  if (retrans !== undefined) out.retransmits = syn ? `${retrans} (${syn} SYN)` : String(retrans);
  else if (syn) out.retransmits = `${syn} SYN`;
  if (tm.sndCwnd !== undefined) out.cwnd = String(tm.sndCwnd);
  if (tm.segsOut !== undefined || tm.segsIn !== undefined) out.segments = `${tm.segsOut ?? '?'} out / ${tm.segsIn ?? '?'} in`;
  if (tm.connectLatencyUs !== undefined) {
    const syn = synStory(tm);
    out.connect = `${formatUs(tm.connectLatencyUs)}${syn ? ` (${syn})` : ''}`;
  }
  const rs = tm.resetsSent ?? 0;
  const rr = tm.resetsReceived ?? 0;
  if (rs > 0 || rr > 0) out.resets = `${rs} sent / ${rr} received`;
  return out;
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
    const bytes =
      bs !== undefined || br !== undefined
        ? ` (${bs === undefined ? '?' : formatBytes(bs)} / ${br === undefined ? '?' : formatBytes(br)})`
        : '';
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
  const firstAt = Math.min(first.at, read);
  let next: KernelEvent | undefined;
  for (let j = i + 1; j < events.length && !next; j++) {
    const e = events[j];
    if (e.kind === 'dataEnd' || (e.kind === 'dataIn' && e.prevLastAt !== undefined)) next = e;
  }
  const last = next?.kind === 'dataEnd' ? next.at : next?.kind === 'dataIn' ? next.prevLastAt : undefined;
  const done = req.respDoneAt;
  const lastAt =
    last !== undefined && last >= first.at && (done === undefined || last <= done + KERNEL_CLOCK_SLACK_MS)
      ? done !== undefined
        ? Math.min(last, done)
        : last
      : undefined;
  // An acknowledgement from before the request was sent acknowledged something else.
  const ackedAt =
    first.ackedAt !== undefined && first.ackedAt >= sent - KERNEL_CLOCK_SLACK_MS
      ? Math.min(Math.max(first.ackedAt, sent), firstAt)
      : undefined;
  const wait = waitParts(req.reqSentAt, read, firstAt, ackedAt, conn?.tcpMetrics);
  let receive: KernelTimings['receive'];
  if (done !== undefined && lastAt !== undefined) {
    const lastIn = clamp(lastAt, read, done);
    receive = { wire: ms3(lastIn - read), queued: ms3(done - lastIn) };
  }
  // Made at once, with the fields it has in the format's order: this runs for every request a
  // helper saw, and an object grown field by field kept a property array beside it for the run.
  if (lastAt !== undefined && ackedAt !== undefined && wait && receive) {
    return { respFirstByteAt: firstAt, respLastByteAt: lastAt, reqAckedAt: ackedAt, wait, receive };
  }
  const out: KernelTimings = { respFirstByteAt: firstAt };
  if (lastAt !== undefined) out.respLastByteAt = lastAt;
  if (ackedAt !== undefined) out.reqAckedAt = ackedAt;
  if (wait) out.wait = wait;
  if (receive) out.receive = receive;
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
  firstAt: number,
  ackedAt: number | undefined,
  tm: TcpMetrics | undefined,
): KernelTimings['wait'] | undefined {
  if (sent === undefined || read < sent) return undefined;
  // The shorter of the two round trips known (a variable, not a list: this runs for every request).
  let trip = ackedAt !== undefined ? ackedAt - sent : undefined;
  if (tm?.connectLatencyUs !== undefined) {
    const handshake = (tm.connectLatencyUs - (tm.synRetransmitAfterUs ?? 0)) / 1000;
    trip = trip === undefined ? handshake : Math.min(trip, handshake);
  }
  if (trip === undefined) return undefined;
  const arrived = clamp(firstAt, sent, read);
  const network = clamp(trip, 0, arrived - sent);
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
