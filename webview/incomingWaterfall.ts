/**
 * An incoming request's own waterfall, for its detail: the calls it made as bars on its time span,
 * the time in the program versus waiting on calls, and the diagnosis sentence
 * (src/trace/diagnosis/incomingDiagnosis.ts). DOM-free (runs under `node --test`).
 */

import type { IncomingRequest } from '../src/trace/contract/incoming';
import { callLabel, diagnoseIncoming, incomingBreakdown } from '../src/trace/diagnosis/incomingDiagnosis';
import type { HttpRequest } from '../src/trace/contract/types';

/** One call's bar: where it sits in the incoming request's span, as fractions of it. */
export interface CallBar {
  traceID: string;
  /** `POST payments.internal/charge`. */
  label: string;
  /** Start, as a fraction of the span (0..1). */
  left: number;
  /** Length, as a fraction of the span. */
  width: number;
  /** The call's time inside the incoming request's, ms. */
  ms: number;
}

/** The incoming request's time, split and laid out. */
export interface IncomingWaterfall {
  totalMs: number;
  /** Time no call was in flight: the program's own. */
  programMs: number;
  /** Time at least one call was in flight. */
  waitingMs: number;
  /** Its calls, in the order they started. */
  bars: CallBar[];
  /** Where the time went, in one sentence. */
  diagnosis: string | undefined;
}

/** The waterfall of `inc` from its calls (requests whose `causedBy` is it); undefined without a time span. */
export function incomingWaterfall(inc: IncomingRequest, calls: readonly HttpRequest[]): IncomingWaterfall | undefined {
  const b = incomingBreakdown(inc, calls);
  if (!b || inc.reqRecvAt === undefined) return undefined;
  const begin = inc.reqRecvAt;
  const span = Math.max(b.totalMs, 1e-6);
  const bars = b.calls
    .map(({ call, ms }) => {
      const from = Math.max(begin, call.reqStartAt ?? begin);
      return { traceID: call.traceID, label: callLabel(call), left: (from - begin) / span, width: ms / span, ms };
    })
    .sort((x, y) => x.left - y.left || x.traceID.localeCompare(y.traceID));
  return { totalMs: b.totalMs, programMs: b.programMs, waitingMs: b.waitingMs, bars, diagnosis: diagnoseIncoming(inc, calls) };
}
