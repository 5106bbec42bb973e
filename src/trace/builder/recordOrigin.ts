/**
 * Where a record came from: its IPC connection and the preload's local id for it, and back. Send
 * Again (src/collector/sendAgain.ts) asks the preload that made a request by its local id, and
 * links the request it makes to the trace's id of the one it repeats.
 */
import type { RecordKind } from '../contract/types';
import type { TraceBuilder } from './builder';
import { KIND_INDEX } from './upsert';

/** The connection and local id of a record (a linear search, for rare commands), or undefined. */
export function localIdOf(b: TraceBuilder, kind: RecordKind, traceID: string): { connection: number; localId: string } | undefined {
  const k = KIND_INDEX.get(kind)!;
  for (const [connection, state] of b.connections) {
    const localId = state.ids[k]!.localIdOf(traceID);
    if (localId !== undefined) return { connection, localId };
  }
  return undefined;
}

/** The traceID of a connection's local id (allocated on first sight, as an upsert does), or undefined for an unknown connection. */
export function traceIdOf(b: TraceBuilder, connection: number, kind: RecordKind, localId: string): string | undefined {
  const state = b.connections.get(connection);
  return state ? b.fields.globalId(state, KIND_INDEX.get(kind)!, localId) : undefined;
}
