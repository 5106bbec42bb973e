/** The options of a TraceBuilder (builder.ts) and their defaults. */

import type { RecordCaps } from './recordings';

/** Options of a TraceBuilder. */
export interface TraceBuilderOptions {
  /** The trace's description (usually the command line). */
  description: string;
  /** When the trace began (default: now). */
  beginAt?: Date;
  /** Distinct warnings kept in `stats.warnings` before they are only counted (default 100). */
  maxWarnings?: number;
  /** Redirect targets remembered per trace for linking `redirectedFrom` (default 1000). */
  maxPendingRedirects?: number;
  /** Clock used for times the preload did not send (tests pass a fixed one). Epoch ms. */
  now?: () => number;
  /** Query parameter names to redact in URLs besides DEFAULT_REDACTED_QUERY (see redactUrl). */
  redactQuery?: readonly string[];
  /** Records kept per kind; more are dropped and counted in `stats.droppedRecords` (default 2,000,000). */
  maxRecords?: number;
  /** Bytes of blobs waiting for their records, over all connections (default 64 MiB); more are dropped and counted. */
  maxPendingBlobBytes?: number;
  /**
   * The names of the preload's field codes (src/protocol/recordWriter.ts FIELD_NAMES), for
   * applyEvent to read request updates by code; without them every event goes as its message.
   */
  eventFieldNames?: readonly string[];
  /** Record for replay with these caps (the `record` option): the trace gets `exchanges` and `recording` from the start (recordings.ts). */
  record?: Partial<RecordCaps>;
}

/** Default of TraceBuilderOptions.maxRecords. */
export const DEFAULT_MAX_RECORDS = 2_000_000;
/** Default of TraceBuilderOptions.maxPendingBlobBytes. */
export const DEFAULT_MAX_PENDING_BLOB_BYTES = 64 * 1024 * 1024;
