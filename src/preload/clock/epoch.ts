/**
 * The thread's epoch time base: every time the preload records is `epochOrigin + monotonicMs()`
 * (epoch milliseconds, sub-millisecond resolution), so times of different processes and threads
 * compare on one clock (the collector lines them up; linkServed matches a call to the request
 * another process received by them).
 *
 * The origin is worked out against `Date.now()` (whole milliseconds, so the true origin lies in
 * `[Date.now() − monotonicMs(), Date.now() − monotonicMs() + 1)` for every sample): the middle of
 * the narrowest such interval a few samples give, within half a millisecond of the truth. Not
 * `performance.timeOrigin`: Node reads the wall clock and the monotonic clock for it one after the
 * other at start-up, and a thread preempted between the two reads (a busy machine, a CI runner)
 * carries the gap in every time it reports — 10 ms and more measured on a loaded 2-core machine,
 * enough to put a service's received request before the call that sent it.
 */

/** Samples of `Date.now() − monotonicMs()`: a few, each tens of nanoseconds. */
const SAMPLES = 4;

/**
 * The origin checked against the wall clock (see the file comment): `timeOrigin` moved into the
 * interval the samples leave when it is outside, kept when inside; without one, the interval's
 * middle. A wall clock stepped while sampling leaves no interval: `timeOrigin`, or one sample.
 */
export function checkedOrigin(timeOrigin: number | undefined, dateNow: () => number, perfNow: () => number, samples = SAMPLES): number {
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
  if (!(low <= high)) return timeOrigin ?? dateNow() - perfNow(); // a wall clock stepped while sampling
  if (timeOrigin === undefined) return (low + high) / 2;
  return timeOrigin < low ? low : timeOrigin > high ? high : timeOrigin;
}

/** Bound when the preload loads: a program's fake clock (fake timers replacing `process.hrtime`) neither sees nor changes it. */
const hrtime = process.hrtime;
const uptime = process.uptime;

/**
 * The preload's clock: monotonic milliseconds with sub-millisecond resolution, on an arbitrary
 * origin (durations, and with epochOrigin, times). The same clock as `performance.now()` (libuv's
 * monotonic time) and as cheap a read, but not through the global `performance`: its first read
 * loads perf_hooks and its modules (15.0 M instructions on Node 20, 14.1 M on Node 26), which a
 * process whose program never loads them would pay at the preload's start (issue 65).
 */
export function monotonicMs(): number {
  const t = hrtime();
  return t[0] * 1e3 + t[1] / 1e6;
}

/** This thread's time origin in epoch ms (monotonicMs()'s zero), worked out when the preload loads. */
export const epochOrigin: number = checkedOrigin(undefined, Date.now, monotonicMs);

/** Epoch milliseconds with sub-millisecond resolution, on the thread's checked origin. */
export function now(): number {
  return epochOrigin + monotonicMs();
}

/** When this process started, in epoch ms: Node's start, `process.uptime()` ago (libuv's monotonic clock too). */
export function processStartAt(): number {
  return now() - uptime() * 1e3;
}
