/**
 * When the preload's transport (transport.ts) writes to the collector: how long a batch may wait,
 * how many messages or events make it leave at once, how completions written at once are rationed,
 * and how long the exit flush may wait for a slow collector. Each figure with the measurement behind it.
 */

/** How long a batch may wait before it is sent (ms). */
export const FLUSH_INTERVAL_MS = 25;
/**
 * A batch the timer finds smaller than this (bytes, JSON messages reckoned at 256 each) waits up
 * to FLUSH_HOLD_MS more, unless a completion or a full batch sends it first. Each write becomes
 * a buffer of its own in the kernel, charged at its allocation's size: a collector that does not
 * read (a busy or paused extension host, a stopped `nettrace`) holds 93 writes of 1.4 KB (130 KB)
 * but 44 of 4 KB (180 KB) and 13 of 16 KB (213 KB) before the pipe is full and, at exit, the rest
 * is counted as dropped (measured on Linux 6.18, 212,992-byte send buffer). A slow program's
 * timer batches were that small: 100 short requests (test/integration/collector-eof.test.mjs's
 * program, under strace beside 3 busy loops) went in 98–125 writes of 0.7–1.0 KB, and events
 * were dropped in 3–4 of 5 runs (three sets); with the hold, 66–85 writes, none dropped in 10.
 * A completion is not held (see SYNC_BURST): it leaves within FLUSH_INTERVAL_MS, as before.
 */
export const HOLD_BELOW_BYTES = 4096;
/** How much longer a small batch may wait, past FLUSH_INTERVAL_MS (ms; at most 100 in all). */
export const FLUSH_HOLD_MS = 75;
/**
 * Completions written at once are rationed like a token bucket: up to SYNC_BURST in a row, then
 * one per SYNC_REFILL_MS; past that, a completion waits for the batch timer (FLUSH_INTERVAL_MS).
 * A write to the pipe costs the program 3 µs of CPU when the collector is busy reading, but up to
 * 85 µs when it wakes the sleeping collector (measured on a loaded 2-core box: a write per
 * completion, at most one a millisecond, added 75 µs per sequential keep-alive request). This
 * way a busy program pays for at most 20 more writes a second than with the timer alone, while a
 * program making a few requests a second has each written the moment it completes.
 */
export const SYNC_BURST = 4;
export const SYNC_REFILL_MS = 50;
/**
 * Flush right away once this many messages are queued. At 50 concurrent keep-alive requests, 512
 * cost about 1.45× untraced and 128 about 1.30× (records held longer survive more scavenges); at
 * 32 the work per batch cost more than it saved.
 */
export const FLUSH_BATCH = 128;
/**
 * The same for record events, which wait as bytes in one buffer, not as objects: 1,024 (at most
 * half the queue's limit). A batch costs a flush (frame header, stats, writev, a collector
 * wake-up) whatever its size, so the 25 ms timer mostly sends first.
 */
export const FLUSH_EVENTS = 1024;
/** How long the exit flush may spin on a full pipe, in all (ms). */
export const EXIT_FLUSH_BUDGET_MS = 1000;
/**
 * The exit flush gives up once the pipe took nothing for this long (ms) and the collector is stopped
 * (SIGSTOP), gone or unknown (collectorMayRead); one that runs but reads slowly (a busy machine,
 * where it runs below the program's priority) is waited for within EXIT_FLUSH_BUDGET_MS. */
export const EXIT_STALL_MS = 50;

/** True for a record update that completes a request (its end or its failure). */
export function completes(kind: string, f: Record<string, unknown>): boolean {
  if (kind !== 'httpRequests') return false;
  return f.respDoneAt !== undefined || f.reqEndAt !== undefined || f.reqError !== undefined;
}
