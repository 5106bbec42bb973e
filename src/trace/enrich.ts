/**
 * Fills in the derived fields of a trace's requests: HAR `timings` and the `diagnosis` sentence.
 * Used when a session is snapshotted and when a saved trace is shown.
 */

import { diagnose, type DiagnosisOptions } from './diagnosis';
import { computeTimings, type RequestContext } from './timings';
import type { Dial, HttpRequest, TcpConn, TlsTunnel, Trace } from './types';

/** O(1) lookups of the records requests reference. */
export interface RecordIndex {
  dials: Map<string, Dial>;
  tcpConns: Map<string, TcpConn>;
  tlsTunnels: Map<string, TlsTunnel>;
}

/** Indexes a trace's dials, TCP connections and TLS tunnels by traceID. */
export function indexRecords(trace: Pick<Trace, 'dials' | 'tcpConns' | 'tlsTunnels'>): RecordIndex {
  return {
    dials: new Map(trace.dials.map((d) => [d.traceID, d])),
    tcpConns: new Map(trace.tcpConns.map((c) => [c.traceID, c])),
    tlsTunnels: new Map(trace.tlsTunnels.map((t) => [t.traceID, t])),
  };
}

/** The request with the dial, TCP connection and TLS tunnel it references. */
export function contextOf(request: HttpRequest, index: RecordIndex): RequestContext {
  return {
    request,
    dial: request.dial ? index.dials.get(request.dial) : undefined,
    tcpConn: request.tcpConn ? index.tcpConns.get(request.tcpConn) : undefined,
    tlsTunnel: request.tlsTunnel ? index.tlsTunnels.get(request.tlsTunnel) : undefined,
  };
}

/** Returns a request with `timings` and `diagnosis` (re)computed; the input is not modified. */
export function enrichRequest(request: HttpRequest, index: RecordIndex, options: DiagnosisOptions = {}): HttpRequest {
  const ctx = contextOf(request, index);
  const timings = computeTimings(ctx);
  const out: HttpRequest = { ...request, timings };
  const diagnosis = diagnose({ ...ctx, request: out }, timings, options);
  if (diagnosis) out.diagnosis = diagnosis;
  else delete out.diagnosis;
  return out;
}

/** Returns a shallow copy of the trace whose requests have timings and diagnosis filled in. */
export function enrichTrace(trace: Trace, options: DiagnosisOptions = {}): Trace {
  const index = indexRecords(trace);
  return { ...trace, httpRequests: trace.httpRequests.map((r) => enrichRequest(r, index, options)) };
}
