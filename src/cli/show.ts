/** `nettrace show FILE [--json]`: prints a saved trace as a table, or as enriched JSON. */

import { enrichTrace } from '../trace/enrich';
import { renderTrace, shouldUseColor } from '../trace/render';
import { readTraceFile } from '../trace/traceFile';

/** Options of showTrace(). */
export interface ShowOptions {
  json?: boolean;
  slowThresholdMs?: number;
}

/** Prints a trace file; throws TraceFileError for bad files. */
export function showTrace(path: string, options: ShowOptions = {}): void {
  const trace = enrichTrace(readTraceFile(path), { slowThresholdMs: options.slowThresholdMs });
  if (options.json) {
    process.stdout.write(JSON.stringify(trace, null, 1) + '\n');
    return;
  }
  const stream = process.stdout;
  stream.write(renderTrace(trace, { width: stream.columns ?? 120, color: shouldUseColor(stream) }));
}
