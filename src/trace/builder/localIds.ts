/**
 * One IPC connection's local ids of one record kind → their traceIDs, for UpsertDecoder
 * (upsert.ts). The preload names a kind's records by a letter and a counter (`r1`, `r2`, …), so
 * the traceID is held in an array at the counter: ≈ 12 bytes an id, where a Map's entry and its
 * key string take ≈ 80. Any other id (another prefix, leading zeros, a number far past the others)
 * is held in a Map, so every string reads as it would in one.
 */

/**
 * Puts `value` at index `n` of `slots` (RecordTable, LocalIds), the slots before it filled first: an
 * array written far past its end would turn into a slow dictionary.
 */
export function putAt<T>(slots: Array<T | undefined>, n: number, value: T): void {
  while (slots.length < n) slots.push(undefined);
  slots[n] = value;
}

/** Longest counter an id held in the array may have. */
const MAX_DIGITS = 9;
/** How far past the array's end an id may land before it goes to the Map (a hostile `r999999999`). */
const MAX_GAP = 4096;

/**
 * The number written in `id` from `from` to its end (`tcp-12` from 4 → 12), read by char codes;
 * -1 when that is not 1 to MAX_DIGITS digits without a leading zero. The one reading of an id's
 * number for RecordUsers and a connection's end (LocalIds.values: a slice and Number() for each id
 * a connection made were most of what its end cost the collector).
 */
export function numberAt(id: string, from: number): number {
  const digits = id.length - from;
  if (digits < 1 || digits > MAX_DIGITS || (digits > 1 && id.charCodeAt(from) === 48)) return -1;
  let n = 0;
  for (let i = from; i < id.length; i++) {
    const d = id.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** The number at the end of a traceID (`req-12` → 12). */
const idNumber = (traceID: string): number => numberAt(traceID, traceID.lastIndexOf('-') + 1);

/**
 * An empty array whose elements are already of the kind the filled ones have (any value, no
 * holes): V8 starts `[]` as small integers, and a new connection's first lookup (get before set)
 * then met a map TurboFan's code of applyRecord had not seen, and threw that code away.
 */
function emptySlots(): Array<string | undefined> {
  const slots: Array<string | undefined> = [undefined];
  slots.length = 0;
  return slots;
}

/** Local ids → traceIDs of one connection and kind. */
export class LocalIds {
  /** The letters before the counter of the ids held in `byNumber` (those of the first id seen). */
  private prefix: string | undefined;
  /** traceID at the counter of its local id (ids never seen are undefined). */
  private readonly byNumber: Array<string | undefined> = emptySlots();
  /** Ids not held in `byNumber` (made at the first: most connections have none). */
  private others: Map<string, string> | undefined;

  /** The counter of `localId` when it is held in `byNumber` (its prefix, a number without leading zeros), else -1. */
  private slot(localId: string): number {
    const prefix = this.prefix;
    let p = prefix ?? '';
    if (prefix === undefined) {
      // The first id: its letters are the prefix (if it ends in a number).
      let end = localId.length;
      while (end > 0 && localId.charCodeAt(end - 1) >= 48 && localId.charCodeAt(end - 1) <= 57) end--;
      if (end === localId.length) return -1;
      p = this.prefix = localId.slice(0, end);
    } else if (!localId.startsWith(prefix)) return -1;
    const n = numberAt(localId, p.length);
    return n > this.byNumber.length + MAX_GAP ? -1 : n;
  }

  /** The traceID of `localId`. */
  get(localId: string): string | undefined {
    const n = this.slot(localId);
    // (One held in the Map while the array was shorter may be in range now.)
    const id = n < 0 ? undefined : this.byNumber[n];
    return id === undefined && this.others !== undefined ? this.others.get(localId) : id;
  }

  /** Holds the traceID of a local id not seen before. */
  set(localId: string, traceID: string): void {
    const n = this.slot(localId);
    if (n >= 0) putAt(this.byNumber, n, traceID);
    else (this.others ??= new Map()).set(localId, traceID);
  }

  /** The local id of `traceID` (a linear search: for a rare command such as Send Again), or undefined. */
  localIdOf(traceID: string): string | undefined {
    const n = this.byNumber.lastIndexOf(traceID);
    if (n >= 0) return `${this.prefix ?? ''}${n}`;
    if (this.others) for (const [local, id] of this.others) if (id === traceID) return local;
    return undefined;
  }

  /**
   * Every traceID, in the order their ids were first seen: the order the builder numbered them in
   * (each traceID is allocated when its local id is first seen).
   */
  values(): string[] {
    const out: string[] = [];
    for (const id of this.byNumber) if (id !== undefined) out.push(id);
    if (this.others) for (const id of this.others.values()) out.push(id);
    let sorted = true;
    for (let i = 1, before = out.length > 0 ? idNumber(out[0]) : 0; i < out.length && sorted; i++) {
      const n = idNumber(out[i]);
      sorted = before < n;
      before = n;
    }
    if (sorted) return out;
    const numbers = out.map(idNumber);
    const order = out.map((_, i) => i).sort((a, b) => numbers[a] - numbers[b]);
    return order.map((i) => out[i]);
  }
}
