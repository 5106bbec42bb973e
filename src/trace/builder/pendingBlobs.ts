/**
 * Blob frames waiting for the record that claims them (BlobMessage: a captured body's text, a
 * recorded exchange's bytes), for TraceBuilder (builder.ts): kept per connection
 * (ConnectionState.blobs), their bytes over all connections held to a cap; what is dropped is
 * counted in `stats.droppedBlobs`, with a warning.
 */

import { MAX_PENDING_BLOBS } from '../contract/wire';
import type { TraceStats } from './traceStats';
import type { ConnectionState } from './upsert';

/** The blobs of every connection not yet claimed. */
export class PendingBlobs {
  /** Their bytes, over all connections. */
  private bytes = 0;

  constructor(
    private readonly max: number,
    private readonly stats: TraceStats,
    private readonly warn: (message: string) => void,
  ) {}

  /** A blob frame arrived on a connection. */
  add(state: ConnectionState, id: unknown, data: unknown): void {
    if (typeof id !== 'string' || !(data instanceof Uint8Array)) {
      this.warn('malformed blob message');
      return;
    }
    if (this.bytes + data.byteLength > this.max) {
      this.stats.droppedBlobs++;
      this.warn(
        `captured bodies waiting for their records passed ${Math.round(this.max / 1048576)} MiB: the rest are dropped (stats.droppedBlobs)`,
      );
      this.stats.sync();
      return;
    }
    if (state.blobs.size >= MAX_PENDING_BLOBS) {
      const oldest = state.blobs.keys().next().value;
      if (oldest !== undefined) this.take(state, oldest);
      this.stats.droppedBlobs++;
      this.warn(`more than ${MAX_PENDING_BLOBS} captured bodies arrived without their records: the oldest were dropped`);
      this.stats.sync();
    }
    const old = state.blobs.get(id);
    if (old) this.bytes -= old.byteLength;
    state.blobs.set(id, data);
    this.bytes += data.byteLength;
  }

  /** Removes a pending blob and returns it (its bytes no longer count as pending). */
  take(state: ConnectionState, id: string): Uint8Array | undefined {
    const data = state.blobs.get(id);
    if (data === undefined) return undefined;
    state.blobs.delete(id);
    this.bytes -= data.byteLength;
    return data;
  }

  /** The connection closed: its blobs can no longer be claimed, and are counted as dropped. True when there were any. */
  dropAll(state: ConnectionState): boolean {
    if (state.blobs.size === 0) return false;
    this.stats.droppedBlobs += state.blobs.size;
    for (const b of state.blobs.values()) this.bytes -= b.byteLength;
    state.blobs.clear();
    this.stats.sync();
    return true;
  }
}
