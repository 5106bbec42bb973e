/**
 * The records of one kind by traceID, for TraceBuilder (builder.ts). The builder numbers each
 * kind's traceIDs itself (`req-1`, `req-2`, … see UpsertDecoder.globalId), so a record is held in
 * an array at its id's number: ≈ 12 bytes a record, where a Map's hash table takes ≈ 50. Any
 * other id (none the builder makes) is held in a Map, so every string reads as it would in one.
 */

import type { AnyRecord } from './upsert';

/** Looking records up by traceID (TraceBuilder's tables, read by RecordUsers and markIncomplete). */
export interface RecordLookup {
  get(traceID: string): AnyRecord | undefined;
}

/**
 * Puts `value` at index `n` of `slots` (RecordTable, LocalIds), the slots before it filled first: an
 * array written far past its end would turn into a slow dictionary.
 */
export function putAt<T>(slots: Array<T | undefined>, n: number, value: T): void {
  while (slots.length < n) slots.push(undefined);
  slots[n] = value;
}

/** Longest number part an id held in the array may have (larger ones go to the Map). */
const MAX_DIGITS = 9;

/**
 * The records of one kind by traceID; `prefix` is the kind's traceIDs before their number (`req-`).
 * Records only: one class used for other values too would make every record lookup polymorphic.
 */
export class RecordTable {
  /** Record at the number of its traceID (slot 0 unused; ids never set are undefined). */
  private slots: Array<AnyRecord | undefined> = [];
  /** Records whose id is not `prefix` and a number (none of the builder's), made at the first. */
  private others: Map<string, AnyRecord> | undefined;

  constructor(readonly prefix: string) {}

  /** The number of `traceID` when it is `prefix` and a number without leading zeros, else -1. */
  private slot(traceID: string): number {
    const p = this.prefix.length;
    const digits = traceID.length - p;
    if (digits < 1 || digits > MAX_DIGITS || !traceID.startsWith(this.prefix)) return -1;
    let n = 0;
    for (let i = p; i < traceID.length; i++) {
      const d = traceID.charCodeAt(i) - 48;
      if (d < 0 || d > 9 || (d === 0 && i === p)) return -1;
      n = n * 10 + d;
    }
    return n;
  }

  /** The record with this traceID. */
  get(traceID: string): AnyRecord | undefined {
    const n = this.slot(traceID);
    return n < 0 ? this.others?.get(traceID) : this.slots[n];
  }

  /** Holds `record` under `traceID`. */
  set(traceID: string, record: AnyRecord): void {
    const n = this.slot(traceID);
    if (n >= 0) putAt(this.slots, n, record);
    else (this.others ??= new Map()).set(traceID, record);
  }

  /** Forgets the record with this traceID. */
  delete(traceID: string): void {
    const n = this.slot(traceID);
    if (n < 0) this.others?.delete(traceID);
    else if (n < this.slots.length) this.slots[n] = undefined;
  }
}
