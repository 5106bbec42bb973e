/**
 * The kernel section of the CLI's table (render.ts): the privileged helper's view of each
 * connection and the saved packet capture.
 */

import { kernelFacts, kernelLine, tupleText } from '../trace/kernel';
import type { HttpRequest, Trace } from '../trace/types';

/** What the section borrows from render.ts: colours on or off, and its text helpers. */
export interface KernelText {
  color: boolean;
  /** Makes text from the trace safe for a terminal. */
  sanitize: (text: unknown) => string;
  /** Cuts text to a width. */
  fit: (text: string, width: number) => string;
  /** Wraps text in an ANSI colour when `color`. */
  paint: (text: string, code: number, color: boolean) => string;
}

/** Connections shown in the kernel section; the rest are counted. */
const MAX_KERNEL_CONNS = 20;

/**
 * The privileged helper's view of each connection (RTT ± variance, retransmits, cwnd, segments,
 * conntrack state, NAT mapping, packet counts), with the table numbers of the requests that used
 * it, and the saved packet capture. Empty when the trace has neither.
 */
export function renderKernel(trace: Trace, rows: ReadonlyArray<{ req: HttpRequest }>, width: number, text: KernelText): string[] {
  const { color, sanitize, fit, paint } = text;
  const lines: string[] = [];
  const numbers = new Map<string, number[]>();
  rows.forEach((row, i) => {
    for (const id of new Set([row.req.tcpConn, row.req.proxy?.tunnel])) {
      if (!id) continue;
      const list = numbers.get(id);
      if (list) list.push(i + 1);
      else numbers.set(id, [i + 1]);
    }
  });
  const conns = trace.tcpConns.map((c) => ({ c, f: kernelFacts(c) })).filter((x) => x.f !== undefined);
  if (conns.length > 0) {
    lines.push('');
    lines.push(paint('Connections (kernel)', 1, color));
    for (const { c, f } of conns.slice(0, MAX_KERNEL_CONNS)) {
      const a = c.addrTuple;
      const where = a && typeof a.srcIP === 'string' ? tupleText(a) : 'address unknown';
      const used = numbers.get(c.traceID);
      const head = `${sanitize(c.traceID)}  ${sanitize(where)}${used ? `  ${used.map((n) => `#${n}`).join(' ')}` : ''}${f!.source ? `  (${sanitize(f!.source)})` : ''}`;
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
