/**
 * What the privileged helper learned about a TCP connection (`tcpConns[].tcpMetrics` and
 * `tcpConns[].conntrack`, see docs/trace-format.md), as short display texts shared by the CLI
 * (src/cli/render.ts) and the panel's Connection tab. Pure; trace files are untrusted JSON, so
 * every field is checked before use and the results are plain text.
 */

import type { TcpConn } from './types';

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

interface Tuple {
  srcIP: string;
  srcPort: number;
  dstIP: string;
  dstPort: number;
}

/** The kernel's facts about a connection, or undefined when the helper recorded none. */
export function kernelFacts(conn: Pick<TcpConn, 'tcpMetrics' | 'conntrack'>): KernelFacts | undefined {
  const tm = isObject(conn.tcpMetrics) ? conn.tcpMetrics : undefined;
  const ct = isObject(conn.conntrack) ? conn.conntrack : undefined;
  if (!tm && !ct) return undefined;
  const out: KernelFacts = {};
  if (tm) {
    if (typeof tm.source === 'string') out.source = tm.source;
    const rtt = num(tm.rttUs);
    const rttVar = num(tm.rttVarUs);
    if (rtt !== undefined && rtt > 0) out.rtt = rttVar !== undefined ? `${usText(rtt)} ± ${usText(rttVar)}` : usText(rtt);
    const retrans = num(tm.retransmits);
    const syn = num(tm.synRetransmits);
    if (retrans !== undefined) out.retransmits = syn ? `${retrans} (${syn} SYN)` : String(retrans);
    else if (syn) out.retransmits = `${syn} SYN`;
    const cwnd = num(tm.sndCwnd);
    if (cwnd !== undefined) out.cwnd = String(cwnd);
    const so = num(tm.segsOut);
    const si = num(tm.segsIn);
    if (so !== undefined || si !== undefined) out.segments = `${so ?? '?'} out / ${si ?? '?'} in`;
    const connect = num(tm.connectLatencyUs);
    if (connect !== undefined) out.connect = usText(connect);
    const rs = num(tm.resetsSent) ?? 0;
    const rr = num(tm.resetsReceived) ?? 0;
    if (rs > 0 || rr > 0) out.resets = `${rs} sent / ${rr} received`;
  }
  if (ct) {
    const parts: string[] = [];
    if (typeof ct.tcpState === 'string' && ct.tcpState) parts.push(ct.tcpState);
    if (typeof ct.status === 'string' && ct.status) parts.push(ct.status);
    const mark = num(ct.mark);
    if (mark) parts.push(`mark ${mark}`);
    if (parts.length) out.conntrack = parts.join(', ');
    const orig = tuple(ct.addrOrig);
    const reply = tuple(ct.addrReply);
    if (orig && reply && !isReverse(orig, reply)) out.nat = `orig ${tupleText(orig)}, reply ${tupleText(reply)}`;
    const ps = num(ct.packetsSent);
    const pr = num(ct.packetsRecv);
    if (ps !== undefined || pr !== undefined) {
      const bs = num(ct.bytesSent);
      const br = num(ct.bytesRecv);
      const bytes = bs !== undefined || br !== undefined ? ` (${bytesText(bs)} / ${bytesText(br)})` : '';
      out.packets = `${ps ?? '?'} out / ${pr ?? '?'} in${bytes}`;
    }
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
export function tupleText(t: Tuple): string {
  return `${hostPort(t.srcIP, t.srcPort)} → ${hostPort(t.dstIP, t.dstPort)}`;
}

function hostPort(ip: string, port: number): string {
  return `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

/** Without NAT the reply tuple is the original one reversed. */
function isReverse(o: Tuple, r: Tuple): boolean {
  return o.srcIP === r.dstIP && o.srcPort === r.dstPort && o.dstIP === r.srcIP && o.dstPort === r.srcPort;
}

function tuple(v: unknown): Tuple | undefined {
  if (!isObject(v)) return undefined;
  const { srcIP, srcPort, dstIP, dstPort } = v;
  if (typeof srcIP !== 'string' || typeof dstIP !== 'string' || num(srcPort) === undefined || num(dstPort) === undefined) return undefined;
  return { srcIP, srcPort: srcPort as number, dstIP, dstPort: dstPort as number };
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

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
