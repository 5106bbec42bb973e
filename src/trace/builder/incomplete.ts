/**
 * Requests that can never finish in this trace (`incomplete`, docs/trace-format.md): the outgoing
 * (`httpRequests`) and incoming (`incomingRequests`) requests of a process or thread whose sockets
 * all closed while they were open, marked with the reason (IncompleteReason). TraceBuilder
 * (builder.ts) marks them; a late update that finishes one takes the mark back (unmarkFinished).
 */

import type { RecordKind } from '../contract/types';
import type { IncompleteReason } from '../contract/incoming';
import type { RecordLookup } from './recordTable';
import { isFinished, KIND_INDEX, type AnyRecord, type ConnectionState } from './upsert';

/** The kinds of record that can be incomplete. */
const KINDS = ['httpRequests', 'incomingRequests'] as const satisfies readonly RecordKind[];

/**
 * Marks the unfinished requests of `state` (outgoing and incoming) with `reason`; `changed` is told
 * each one marked. Returns how many outgoing requests were marked that were not before (they are
 * what `stats.incompleteRequests` counts).
 */
export function markIncomplete(
  state: ConnectionState,
  byId: readonly RecordLookup[],
  reason: IncompleteReason,
  changed: (kind: (typeof KINDS)[number], traceID: string) => void,
): number {
  let added = 0;
  for (const kind of KINDS) {
    const k = KIND_INDEX.get(kind)!;
    for (const traceID of state.ids[k].values()) {
      const record = byId[k].get(traceID);
      if (!record || isFinished(record)) continue;
      if (record.incomplete === undefined && kind === 'httpRequests') added++;
      record.incomplete = reason;
      changed(kind, traceID);
    }
  }
  return added;
}

/** Takes the mark off a record that an update finished; true when it had one. */
export function unmarkFinished(record: AnyRecord): boolean {
  if (record.incomplete === undefined || !isFinished(record)) return false;
  delete record.incomplete;
  return true;
}
