/**
 * What the privileged helper learned about a TCP connection (`tcpConns[].tcpMetrics` and
 * `tcpConns[].conntrack`, see docs/trace-format.md), as short display texts shared by the CLI
 * (src/cli/render.ts) and the panel's Connection tab. Pure; the records are typed (a trace file's
 * were normalized where it was read, normalize.ts) and the results are plain text.
 */

import type { AddrTuple, Conntrack, TcpConn, TcpMetrics } from './types';

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
}

/** The kernel's facts about a connection, or undefined when the helper recorded none. */
export function kernelFacts(conn: Pick<TcpConn, 'tcpMetrics' | 'conntrack'>): KernelFacts | undefined {
  const tm = conn.tcpMetrics;
  const ct = conn.conntrack;
  if (!tm && !ct) return undefined;
  return { ...(tm ? metricsFacts(tm) : {}), ...(ct ? conntrackFacts(ct) : {}) };
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

/** One line of the kernel facts for a terminal: "rtt 0.42 ms ± 0.80 ms, retransmits 0, cwnd 10, ...". */
export function kernelLine(f: KernelFacts): string {
  const parts: string[] = [];
  if (f.rtt) parts.push(`rtt ${f.rtt}`);
  if (f.retransmits !== undefined) parts.push(`retransmits ${f.retransmits}`);
  if (f.cwnd !== undefined) parts.push(`cwnd ${f.cwnd}`);
  if (f.segments) parts.push(`segments ${f.segments}`);
  if (f.resets) parts.push(`resets ${f.resets}`);
  if (f.packets) parts.push(`packets ${f.packets}`);
  if (f.conntrack) parts.push(`conntrack ${f.conntrack}`);
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
