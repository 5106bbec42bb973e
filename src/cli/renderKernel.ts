// The CLI's "Connections (kernel)" section: what the privileged helper saw of each connection.
import { kernelFacts, kernelLine, tupleText } from '../trace/derive/kernel';
import type { HttpRequest, TcpConn, Trace } from '../trace/contract/types';
import { fit, paint, sanitize } from './text';

/** Connections shown in the kernel section; the rest are counted. */
const MAX_KERNEL_CONNS = 20;

/** Row numbers listed per connection; the rest are counted: a kept-alive connection may carry thousands. */
const MAX_ROW_NUMBERS = 12;

/** The rows using one connection: the first MAX_ROW_NUMBERS numbers (1-based) and how many in all. */
interface RowsUsing {
  first: number[];
  count: number;
}

/** The table rows using each connection: its `tcpConn`, and a proxy's tunnel when another. */
function rowNumbers(rows: readonly { req: HttpRequest }[]): Map<string, RowsUsing> {
  const numbers = new Map<string, RowsUsing>();
  const add = (id: string | undefined, n: number) => {
    if (!id) return;
    const using = numbers.get(id);
    if (!using) numbers.set(id, { first: [n], count: 1 });
    else if (using.count++ < MAX_ROW_NUMBERS) using.first.push(n);
  };
  for (let i = 0; i < rows.length; i++) {
    const { tcpConn, proxy } = rows[i].req;
    add(tcpConn, i + 1);
    if (proxy?.tunnel !== tcpConn) add(proxy?.tunnel, i + 1);
  }
  return numbers;
}

/** "#1 #4 #9", or "#1 #4 … (833 requests)" past MAX_ROW_NUMBERS. */
function rowsText(using: RowsUsing): string {
  const listed = using.first.map((n) => `#${n}`).join(' ');
  return using.count > using.first.length ? `${listed} … (${using.count} requests)` : listed;
}

/**
 * The privileged helper's view of each connection (RTT ± variance, retransmits, cwnd, segments,
 * conntrack state, NAT mapping, packet counts), with the table numbers of the requests that used
 * it, and the saved packet capture. Empty when the trace has neither.
 */
export function renderKernel(trace: Trace, rows: readonly { req: HttpRequest }[], width: number, color: boolean): string[] {
  const lines: string[] = [];
  const all = trace.tcpConns.map((c) => ({ c, f: kernelFacts(c) })).filter((x) => x.f !== undefined);
  // The rows' numbers by connection, made only when a connection is listed (a run without the
  // helper has none: a walk of every row, and a Set each, for nothing).
  const numbers = all.length > 0 ? rowNumbers(rows) : new Map<string, RowsUsing>();
  // A connection that never connected and of which the kernel says nothing more than the failure
  // the request already shows (a program polling a port that refuses makes dozens): counted by
  // destination on one line, not one "address unknown" line each.
  const unconnected = all.filter(({ c, f }) => !c.addrTuple && !c.connected && !kernelLine(f!));
  const conns = all.filter((x) => !unconnected.includes(x));
  if (all.length > 0) {
    lines.push('');
    lines.push(paint('Connections (kernel)', 1, color));
    if (unconnected.length > 0)
      lines.push(
        `  ${fit(
          unconnectedLine(
            trace,
            unconnected.map((x) => x.c),
          ),
          Math.max(20, width - 4),
        ).trimEnd()}`,
      );
    for (const { c, f } of conns.slice(0, MAX_KERNEL_CONNS)) {
      const a = c.addrTuple;
      const where = a && typeof a.srcIP === 'string' ? tupleText(a) : 'address unknown';
      const used = numbers.get(c.traceID);
      const head = `${sanitize(c.traceID)}  ${sanitize(where)}${used ? `  ${rowsText(used)}` : ''}${f!.source ? `  (${sanitize(f!.source)})` : ''}`;
      lines.push(`  ${fit(head, Math.max(20, width - 4)).trimEnd()}`);
      const detail = kernelLine(f!);
      if (detail) lines.push(`     ${sanitize(detail)}`);
      if (f!.nat) lines.push(`     ${paint(`NAT ${sanitize(f!.nat)}`, 36, color)}`);
    }
    if (conns.length > MAX_KERNEL_CONNS) lines.push(`  … ${conns.length - MAX_KERNEL_CONNS} more in the trace file`);
  }
  const pc = trace.packetCapture;
  if (pc && typeof pc.file === 'string') {
    lines.push('');
    const ifaces = Array.isArray(pc.interfaces) && pc.interfaces.length ? ` on ${pc.interfaces.map(sanitize).join(', ')}` : '';
    const scope = typeof pc.requestTraceID === 'string' ? ` of ${sanitize(pc.requestTraceID)}` : '';
    lines.push(
      `${paint('Packet capture', 1, color)}: ${sanitize(pc.file)} (${Number(pc.packets) || 0} packets${scope}${ifaces}${pc.truncated ? ', truncated at the size cap' : ''})`,
    );
  }
  return lines;
}

/** "3 connections never connected: 127.0.0.1:4100 ×2 (ECONNREFUSED), [::1]:80 ×1 (ETIMEDOUT)". */
function unconnectedLine(trace: Trace, conns: readonly TcpConn[]): string {
  const dials = new Map(trace.dials.map((d) => [d.traceID, d]));
  const counts = new Map<string, number>();
  for (const c of conns) {
    const d = c.fromDial ? dials.get(c.fromDial) : undefined;
    const key = `${d?.dstAddress ?? 'address unknown'}${d?.dialErr ? ` (${d.dialErr})` : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const n = conns.length;
  const parts = [...counts].map(([k, v]) => (v > 1 ? `${k} ×${v}` : k));
  return sanitize(`${n} ${n === 1 ? 'connection' : 'connections'} never connected: ${parts.join(', ')}`);
}
