/**
 * The thread's epoch time base: every time the preload records is `epochOrigin + performance.now()`
 * (epoch milliseconds, sub-millisecond resolution), so times of different processes and threads
 * compare on one clock (the collector lines them up; linkServed matches a call to the request
 * another process received by them).
 *
 * Why not `performance.timeOrigin` alone: Node reads the wall clock and the monotonic clock for it
 * one after the other at start-up, and a thread preempted between the two reads (a busy machine,
 * a CI runner) carries the gap in every time it reports — 10 ms and more measured on a loaded
 * 2-core machine, enough to put a service's received request before the call that sent it. Here
 * the origin is checked against `Date.now()` (whole milliseconds, so the true origin lies in
 * `[Date.now() − now(), Date.now() − now() + 1)` for every sample) and moved into that interval
 * when it is outside: within a millisecond of the truth, instead of as far off as start-up left it.
 */

/** Samples of `Date.now() − performance.now()`: a few, each tens of nanoseconds. */
const SAMPLES = 4;

/** The origin checked against the wall clock (see the file comment); `timeOrigin` when consistent. */
export function checkedOrigin(timeOrigin: number, dateNow: () => number, perfNow: () => number, samples = SAMPLES): number {
  let low = -Infinity;
  let high = Infinity;
  for (let i = 0; i < samples; i++) {
    const p = perfNow();
    const d = dateNow();
    const p2 = perfNow();
    // Date.now() was read between p and p2: the origin is at least d − p2 and below d + 1 − p.
    if (d - p2 > low) low = d - p2;
    if (d + 1 - p < high) high = d + 1 - p;
  }
  if (!(low <= high)) return timeOrigin; // a wall clock stepped while sampling: keep Node's
  return timeOrigin < low ? low : timeOrigin > high ? high : timeOrigin;
}

/**
 * Node's Performance object, read once: the global `performance` is a lazy accessor (Node 20–24
 * define it with a getter that loads its module), a getter call per read.
 */
const perf = performance;

/** This thread's time origin in epoch ms, read when the preload loads (before the program runs). */
export const epochOrigin: number = checkedOrigin(perf.timeOrigin, Date.now, () => perf.now());

/** Epoch milliseconds with sub-millisecond resolution, on the thread's checked origin. */
export function now(): number {
  return epochOrigin + perf.now();
}
