/**
 * The trace's warnings and the counters behind `trace.stats`, for TraceBuilder (builder.ts):
 * warnings deduplicated and capped (the rest counted), the per-connection totals summed (as they change), and the
 * builder's own counts (records and bodies dropped at their caps, requests marked incomplete).
 */

import type { Trace } from '../contract/types';
import type { ConnectionState } from './upsert';

/** Keeps `trace.stats` in step with what the builder counts. */
export class TraceStats {
  /** Requests currently marked `incomplete`. */
  incomplete = 0;
  /** Records dropped past TraceBuilderOptions.maxRecords. */
  droppedRecords = 0;
  /** Captured bodies dropped (over the pending cap, or never claimed). */
  droppedBlobs = 0;
  private readonly warningSet = new Set<string>();
  private readonly warnings: string[] = [];
  private omittedWarnings = 0;
  /** The sums of the connections' totals (kept as they change: summing them at each stats message cost a walk of every connection). */
  private droppedEvents = 0;
  private untracedRequests = 0;
  private skippedInitiators = 0;

  constructor(
    private readonly trace: Trace,
    private readonly maxWarnings: number,
  ) {}

  /**
   * A connection's totals from its latest stats message: set on its state, and the trace's sums
   * moved by the difference (a continued connection's state is one object under two handles:
   * counted once).
   */
  setConnectionTotals(state: ConnectionState, dropped: number, untraced: number, skipped: number): void {
    this.droppedEvents += dropped - state.droppedEvents;
    this.untracedRequests += untraced - state.untracedRequests;
    this.skippedInitiators += skipped - state.skippedInitiators;
    state.droppedEvents = dropped;
    state.untracedRequests = untraced;
    state.skippedInitiators = skipped;
  }

  /** Records a warning (deduplicated, capped; the rest are counted); false when it was there already. */
  warn(message: string): boolean {
    const text = message.length > 500 ? `${message.slice(0, 500)}…` : message;
    if (this.warningSet.has(text)) return false;
    // Distinct warnings past the cap are only counted; remember (a bounded number of) them so a
    // repeated one is not counted twice.
    if (this.warningSet.size < this.maxWarnings * 100) this.warningSet.add(text);
    if (this.warnings.length >= this.maxWarnings) this.omittedWarnings++;
    else this.warnings.push(text);
    this.sync();
    return true;
  }

  /** Takes back a warning given earlier (it turned out wrong). */
  unwarn(text: string): void {
    const i = this.warnings.indexOf(text);
    if (i >= 0) this.warnings.splice(i, 1);
    this.warningSet.delete(text);
  }

  /** Recomputes `trace.stats` from the per-connection totals, the counts and the warning list. */
  sync(): void {
    const dropped = this.droppedEvents;
    const untraced = this.untracedRequests;
    const skipped = this.skippedInitiators;
    const warnings = this.warnings.slice();
    if (this.omittedWarnings > 0) warnings.push(`${this.omittedWarnings} more warnings not shown`);
    const stats = (this.trace.stats = { ...this.trace.stats, droppedEvents: dropped, untracedRequests: untraced, warnings });
    if (skipped > 0) stats.skippedInitiators = skipped;
    if (this.droppedRecords > 0) stats.droppedRecords = this.droppedRecords;
    if (this.droppedBlobs > 0) stats.droppedBlobs = this.droppedBlobs;
    if (this.incomplete > 0) stats.incompleteRequests = this.incomplete;
    else delete stats.incompleteRequests;
  }
}
