/**
 * The numbers a route group of the summary keeps per request (summary.ts): one row of values per
 * request, a value per measure (NaN where it was not measured), in one growable Float64Array, so
 * a group of one request costs a few hundred bytes, not a dozen arrays. Past a cap the rows are a
 * uniform random sample of the group's requests (reservoir sampling, Vitter's algorithm R, on a
 * seeded generator: the same file gives the same sample), while each measure's count and maximum
 * stay exact. The summary lowers the cap of every group as groups are added, so that all of them
 * together hold at most ROW_BUDGET rows whatever the trace's size (SampleBudget). Pure: the panel
 * bundles it.
 */

/** Rows a group keeps before it samples (a route's p99 then rests on about 40 values above it). */
export const MAX_ROWS_PER_GROUP = 4096;

/**
 * Rows every group of one summary holds at most together: 2^20 (12 measures of 8 bytes: 96 MiB).
 * Up to 256 groups keep MAX_ROWS_PER_GROUP each; past that the cap halves each time the groups
 * double (64 each for 8,193 to 16,384 groups).
 */
export const ROW_BUDGET = 1 << 20;

/** A seeded xorshift32 generator: numbers in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed = 0x9e3779b9): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/** The rows of one group: see the module comment. */
export class SampleRows {
  private buf: Float64Array | undefined;
  /** Rows held (at most the cap). */
  rows = 0;
  /** Rows added: the group's requests that had a value. */
  seen = 0;
  /** Once sampling: each measure's exact count (first `width` entries) and maximum (the next `width`). */
  private exact: Float64Array | undefined;

  constructor(readonly width: number) {}

  /** True once the rows are a sample of the requests added (more were added than the cap allowed). */
  get sampled(): boolean {
    return this.exact !== undefined;
  }

  /** Adds a request's row (`width` values, NaN where not measured) under a cap of `cap` rows. */
  add(row: ArrayLike<number>, cap: number, random: () => number): void {
    this.seen++;
    if (this.rows >= cap) this.startSampling();
    if (this.exact) {
      const w = this.width;
      for (let m = 0; m < w; m++) {
        const v = row[m];
        if (Number.isNaN(v)) continue;
        this.exact[m]++;
        if (v > this.exact[w + m]) this.exact[w + m] = v;
      }
    }
    if (this.rows < cap) {
      this.grow(cap);
      this.buf!.set(row, this.rows * this.width);
      this.rows++;
      return;
    }
    // Algorithm R: the n-th row replaces a random one of the `cap` with probability cap / n.
    const j = Math.floor(random() * this.seen);
    if (j < this.rows) this.buf!.set(row, j * this.width);
  }

  /** Keeps a uniform random `cap` of the rows (a random subset of a uniform sample is one); frees the rest. */
  thin(cap: number, random: () => number): void {
    if (this.rows <= cap) return;
    this.startSampling();
    const w = this.width;
    const buf = this.buf!;
    const tmp = new Float64Array(w);
    for (let i = 0; i < cap; i++) {
      // A partial Fisher–Yates shuffle: row i becomes a random one of rows i…n−1.
      const j = i + Math.floor(random() * (this.rows - i));
      if (j === i) continue;
      tmp.set(buf.subarray(i * w, i * w + w));
      buf.copyWithin(i * w, j * w, j * w + w);
      buf.set(tmp, j * w);
    }
    this.buf = buf.slice(0, cap * w);
    this.rows = cap;
  }

  /** Measure `m`'s values in the rows, sorted ascending (the NaNs left out). */
  sorted(m: number): Float64Array {
    const out = new Float64Array(this.rows);
    let n = 0;
    const w = this.width;
    for (let i = 0; i < this.rows; i++) {
      const v = this.buf![i * w + m];
      if (!Number.isNaN(v)) out[n++] = v;
    }
    return out.slice(0, n).sort();
  }

  /** Measure `m`'s exact count and maximum over every request added, once sampling (else undefined: the rows are all of them). */
  exactOf(m: number): { n: number; max: number } | undefined {
    return this.exact && { n: this.exact[m], max: this.exact[this.width + m] };
  }

  /** Counts and maxima from the rows held, which until now are every row added. */
  private startSampling(): void {
    if (this.exact) return;
    const w = this.width;
    const exact = new Float64Array(2 * w);
    exact.fill(-Infinity, w);
    for (let i = 0; i < this.rows; i++) {
      for (let m = 0; m < w; m++) {
        const v = this.buf![i * w + m];
        if (Number.isNaN(v)) continue;
        exact[m]++;
        if (v > exact[w + m]) exact[w + m] = v;
      }
    }
    this.exact = exact;
  }

  /** Room for one more row: doubling, never past `cap` rows. */
  private grow(cap: number): void {
    const have = this.buf ? this.buf.length / this.width : 0;
    if (this.rows < have) return;
    const next = Math.min(cap, Math.max(1, have * 2));
    const buf = new Float64Array(next * this.width);
    if (this.buf) buf.set(this.buf);
    this.buf = buf;
  }
}

/**
 * The row cap of a summary's groups (see ROW_BUDGET): MAX_ROWS_PER_GROUP, halved each time the
 * groups outgrow the budget at the current cap; `lowered` tells the summary to thin every group.
 */
export class SampleBudget {
  cap = MAX_ROWS_PER_GROUP;
  readonly random = seededRandom();

  /** The cap for `groups` groups; true when it was lowered (every group must then be thinned to it). */
  lowerFor(groups: number): boolean {
    let lowered = false;
    while (this.cap > 1 && groups * this.cap > ROW_BUDGET) {
      this.cap >>= 1;
      lowered = true;
    }
    return lowered;
  }
}
