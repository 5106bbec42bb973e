/**
 * The project's one reader of trace files: a file of any format version read and checked
 * (traceFile.ts), then the fields a file does not hold worked out from the recorded ones
 * (src/trace/enrich.ts: `timings`, `kernelTimings`, `loopBlocked`, `debuggerPaused`, `diagnosis`),
 * so every consumer — `nettrace show`, `--summary`, `diff`, `export`, the panel's Open Trace File
 * and restored sessions, the HAR export — sees the same records whichever version wrote the file
 * (a version 1 file's own derived fields are worked out again, not trusted). Whole files are read
 * here (readTrace, readTraceAsync); large ones streamed, their head first (readTraceHead) and then
 * their requests one at a time (forEachDerivedRequest).
 */

import type { HttpRequest, Trace } from '../contract/types';
import type { DiagnosisOptions } from '../diagnosis/diagnosis';
import { enrichIncomingIn, enrichRequest, indexRecords, type RecordIndex } from '../enrich';
import { forEachRequest, readTraceFile, readTraceFileAsync, type ReadTraceOptions } from './traceFile';

/** Requests a trace held whole derives between two turns of the event loop. */
export const YIELD_EVERY = 2000;

/** One turn of the event loop (its timers and I/O run). */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A trace's derived fields worked out in place, requests and served requests (enrichTrace, without the copy). */
export function enrichTraceInPlace(trace: Trace, options: DiagnosisOptions = {}): void {
  const index = indexRecords(trace);
  const reqs = trace.httpRequests;
  for (let i = 0; i < reqs.length; i++) reqs[i] = enrichRequest(reqs[i], index, options);
  enrichIncomingIn(trace, index);
}

/**
 * A trace's derived fields worked out in place (no copy of the array: a million-request trace is
 * not held twice), YIELD_EVERY requests per turn of the event loop: "Open Trace File" of a
 * 100,000-request trace in the extension host.
 */
export async function enrichInPlace(trace: Trace, options: DiagnosisOptions = {}): Promise<void> {
  const index = indexRecords(trace);
  const reqs = trace.httpRequests;
  for (let i = 0; i < reqs.length; i++) {
    reqs[i] = enrichRequest(reqs[i], index, options);
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await nextTurn();
  }
  enrichIncomingIn(trace, index);
}

/** Reads a trace file whole, every derived field worked out; throws TraceFileError. */
export function readTrace(path: string, options: DiagnosisOptions & ReadTraceOptions = {}): Trace {
  const trace = readTraceFile(path, options);
  enrichTraceInPlace(trace, options);
  return trace;
}

/** readTrace() giving the event loop back while the file is read and its records derived (the extension host). */
export async function readTraceAsync(path: string, options: DiagnosisOptions & ReadTraceOptions = {}): Promise<Trace> {
  const trace = await readTraceFileAsync(path, options);
  await enrichInPlace(trace, options);
  return trace;
}

/** A proxy CONNECT request: the only requests another request's derivation may need. */
const CONNECT = Buffer.from('"CONNECT"');

/** A trace file's head: what its requests are derived from, read before them. */
export interface TraceHead {
  /** The file's records other than requests, its served requests derived; of its requests only the proxy CONNECTs. */
  trace: Trace;
  /** How many requests the file has. */
  requests: number;
  /** The lookups a request's derivation reads (enrichRequest). */
  index: RecordIndex;
}

/**
 * How a trace file's head is read (readTraceFile or readTraceFileAsync with these options): its
 * records other than requests, and of its requests only those a proxy CONNECT made (others'
 * timings need them), and a recording's exchanges without their bytes unless `bytes`; `requests()`
 * counts them all once read.
 */
export function traceHeadReading(bytes = false): { options: ReadTraceOptions; requests: () => number } {
  let requests = 0;
  const keepRequest = (raw: Buffer): boolean => {
    requests++;
    return raw.includes(CONNECT);
  };
  return { options: { keepRequest, slimExchanges: !bytes }, requests: () => requests };
}

/** The head of a trace read with traceHeadReading's options, its served requests derived. */
function headOf(trace: Trace, requests: number): TraceHead {
  const index = indexRecords(trace);
  enrichIncomingIn(trace, index);
  return { trace, requests, index };
}

/** A trace file's head (see TraceHead), read at once; `bytes`: a recording's exchanges with their bytes (`show --json`). Throws TraceFileError. */
export function readTraceHead(path: string, bytes = false): TraceHead {
  const head = traceHeadReading(bytes);
  return headOf(readTraceFile(path, head.options), head.requests());
}

/** A trace file's head, read streaming: the event loop turns between chunks. */
export async function readTraceHeadAsync(path: string): Promise<TraceHead> {
  const head = traceHeadReading();
  return headOf(await readTraceFileAsync(path, head.options), head.requests());
}

/**
 * Calls `fn` with each request of a trace file whose head was read (readTraceHead), derived, in
 * file order, parsing one at a time; awaits `fn`. Throws TraceFileError.
 */
export function forEachDerivedRequest(
  path: string,
  head: TraceHead,
  fn: (request: HttpRequest) => void | Promise<void>,
  options: DiagnosisOptions = {},
): Promise<void> {
  return forEachRequest(path, (r) => fn(enrichRequest(r, head.index, options)));
}
