/**
 * The event loop's blocked stretches, measured inside the traced program while it has requests in
 * flight, so the collector can say how much of a request's wait for its response (or of its body's
 * download) was the program's own thread not getting back to its event loop (issue 39, item 1;
 * `loopBlocks` in docs/trace-format.md).
 *
 * How: while at least one request of this thread is in flight, an unref'd timer fires every
 * SAMPLE_MS. When it fires late (LAG_MS), the loop was busy when it was due; the stretch ends now,
 * and it began `active` ms ago, where `active` is the time the loop spent outside its poll for I/O
 * since the previous tick (`performance.eventLoopUtilization()`, libuv's idle-time metric): time
 * the thread ran JavaScript or native code, not time it slept while the machine was busy
 * elsewhere. The begin is never earlier than the previous tick, so a stretch is at most one
 * sampling interval longer than the block (the loop's own work in that interval). Stretches of at
 * least MIN_BLOCK_MS are sent to the collector as `loopBlock` messages.
 *
 * A busy machine is not the program's block: libuv counts a callback as active for as long as it
 * took on the clock, and a callback the OS preempted (other processes wanting the cores) takes as
 * long as it waited for a core again — on an oversubscribed machine, tens of milliseconds for a
 * callback that ran one. On Linux the thread's scheduler clock (`/proc/thread-self/schedstat`: time
 * on a CPU, time runnable but waiting on a run queue) is read at each tick, and a stretch is sent
 * only when the thread's own share of it still reaches MIN_BLOCK_MS: the larger of its CPU time
 * since the last tick and the stretch less its run-queue wait since the last tick. The first
 * counts a busy loop however often it was preempted; the second a sleep in a synchronous call
 * (`execSync`, `Atomics.wait`, a slow `readFileSync`), which CPU time misses. Either alone falls
 * short: the run-queue wait since the last tick also holds the waits for a core after each wake-up
 * from the I/O poll, which libuv counts as idle, so on a crowded CPU it can eat a long busy loop
 * whole. A stretch that is sent keeps its whole length on the clock, and its own share (`ownMs`)
 * when that is less: the rest the thread waited for a CPU, which the trace does not count as the
 * program's (src/trace/derive/loopBlocked.ts).
 *
 * Why not `perf_hooks.monitorEventLoopDelay()`: its histogram says how much the loop lagged, never
 * when, so it cannot be laid against a request's phases.
 *
 * Cost: nothing while no request is in flight (no timer); otherwise one timer callback per
 * SAMPLE_MS (bench/loop-monitor.mjs). Bounded: at most MAX_LOOP_BLOCKS stretches per thread are
 * sent, the rest counted (`droppedLoopBlocks` in the stats message); the in-flight set holds at
 * most MAX_TRACKED ids, past which the sampler stays on for good instead of tracking more. It
 * never throws into the program: each entry point catches everything and turns itself off.
 *
 * `NETTRACE_LOOP_MONITOR=0` in the environment turns it off (the benchmark's A/B switch).
 */

import { closeSync, openSync, readSync } from 'node:fs';
import type { LoopBlockMessage } from '../../protocol/preload';
import { MAX_LOOP_BLOCKS, MIN_LOOP_BLOCK_MS } from '../../trace/contract/wire';
import { epochOrigin } from './epoch';

/**
 * Sampling interval while requests are in flight (ms). Every block of the loop longer than this
 * holds a tick up and is seen; its begin comes from the loop's active time, not from the interval.
 * Each tick costs a wake-up of an idle program (about 100–130 µs of CPU on the 2-core VM of
 * bench/RESULTS.md, "Event-loop monitor"): 20 ms is 50 a second.
 */
export const SAMPLE_MS = 20;
/** A tick this much later than due (ms) was held up: the loop was busy when it was due. */
const LAG_MS = 2;
/** Shortest stretch sent (ms). */
export const MIN_BLOCK_MS = MIN_LOOP_BLOCK_MS;
/** Requests tracked as in flight; past this the sampler stays on (see started). */
const MAX_TRACKED = 10_000;

/**
 * Reads the calling thread's scheduler clock from `/proc/thread-self/schedstat` (Linux; "time on
 * the CPU, time waiting on a run queue, timeslices", in ns). Opened once and read again from
 * offset 0 (the kernel renders the file afresh on each read from the start); `open` gives
 * undefined where the file is missing or unreadable, and then no stretch is corrected.
 */
export class SchedClock {
  private fd = -1;
  private readonly buf = Buffer.alloc(96);
  /** The thread's time on a CPU so far (ms), as of the last successful `read`. */
  ran = NaN;
  /** The thread's run-queue wait so far (ms), as of the last successful `read`. */
  waited = NaN;

  private constructor() {}

  /** Opens the thread's schedstat file; undefined where it cannot be read. */
  static open(): SchedClock | undefined {
    const clock = new SchedClock();
    try {
      clock.fd = orig.openSync('/proc/thread-self/schedstat', 'r');
      if (clock.read()) return clock;
    } catch {
      /* not Linux, or /proc not mounted */
    }
    clock.close();
    return undefined;
  }

  /** Reads both clocks; false (and both NaN) when the file could not be read or parsed. */
  read(): boolean {
    this.ran = this.waited = NaN;
    try {
      const n = orig.readSync(this.fd, this.buf, 0, this.buf.length, 0);
      const line = this.buf.toString('latin1', 0, n);
      const first = line.indexOf(' ');
      const ran = Number(line.slice(0, first));
      const waited = Number(line.slice(first + 1, line.indexOf(' ', first + 1)));
      if (first <= 0 || !Number.isFinite(ran) || !Number.isFinite(waited)) return false;
      this.ran = ran / 1e6;
      this.waited = waited / 1e6;
      return true;
    } catch {
      return false;
    }
  }

  /** Closes the file. */
  close(): void {
    try {
      if (this.fd >= 0) orig.closeSync(this.fd);
    } catch {
      /* already closed */
    }
    this.fd = -1;
  }
}

/**
 * Bound before the program runs: fake timers or a patched clock neither see nor disturb it. Read
 * when the bundle loads, outside the preload's try/catch: nothing here may throw.
 */
const orig = {
  setTimeout: globalThis.setTimeout,
  clearTimeout: globalThis.clearTimeout,
  perf: performance,
  timeOrigin: epochOrigin,
  openSync,
  readSync,
  closeSync,
  elu:
    typeof performance.eventLoopUtilization === 'function'
      ? performance.eventLoopUtilization.bind(performance)
      : (): { active: number } => ({ active: 0 }),
};

/**
 * Whether the monitor runs in this process: NETTRACE_LOOP_MONITOR=0 turns it off, and so does a
 * runtime without `performance.eventLoopUtilization` (Node has had it since 14.10).
 */
export const LOOP_MONITOR_ON = process.env.NETTRACE_LOOP_MONITOR !== '0' && typeof performance.eventLoopUtilization === 'function';

/** Watches the thread's event loop while requests are in flight; sends its blocked stretches. */
export class LoopMonitor {
  /** Local ids of the requests in flight. */
  private readonly inFlight = new Set<string>();
  /** Too many requests never completed to track them all: the sampler runs from now on. */
  private sticky = false;
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() of the last tick (or of the start). */
  private lastAt = 0;
  /** The loop's active time (ms, eventLoopUtilization) at the last tick. */
  private lastActive = 0;
  /** The thread's CPU time (ms) at the last tick; NaN without a SchedClock. */
  private lastRan = NaN;
  /** The thread's run-queue wait (ms) at the last tick; NaN without a SchedClock. */
  private lastWaited = NaN;
  /** The thread's scheduler clock: opened at the first arm; null where there is none. */
  private sched: SchedClock | null | undefined;
  /** Stretches sent so far. */
  private sent = 0;
  /** Stretches past MAX_LOOP_BLOCKS, counted only. */
  dropped = 0;
  /** Off for good (an unexpected exception). */
  private off = false;

  constructor(
    private readonly send: (msg: LoopBlockMessage) => void,
    /** Called when `dropped` changed (so the stats message goes out). */
    private readonly droppedChanged: () => void,
  ) {}

  /** A request (local id) started: sample while it is in flight. */
  started(id: string): void {
    if (this.off) return;
    try {
      if (this.inFlight.size < MAX_TRACKED) this.inFlight.add(id);
      else this.sticky = true;
      if (this.timer === undefined) this.arm();
    } catch {
      this.stop();
    }
  }

  /** A request (local id) completed (its end or failure); idempotent. */
  ended(id: string): void {
    // The timer notices an empty set at its next tick and stops then.
    this.inFlight.delete(id);
  }

  /** Starts sampling from now. */
  private arm(): void {
    this.lastAt = orig.perf.now();
    this.lastActive = orig.elu().active;
    if (this.sched === undefined) this.sched = SchedClock.open() ?? null;
    this.sched?.read();
    this.lastRan = this.sched?.ran ?? NaN;
    this.lastWaited = this.sched?.waited ?? NaN;
    this.timer = orig.setTimeout(this.tick, SAMPLE_MS);
    this.timer.unref();
  }

  private readonly tick = (): void => {
    try {
      const at = orig.perf.now();
      const active = orig.elu().active;
      this.sched?.read();
      const ran = this.sched?.ran ?? NaN;
      const waited = this.sched?.waited ?? NaN;
      if (at - this.lastAt - SAMPLE_MS >= LAG_MS) {
        // Time the loop spent outside its I/O poll since the last tick: the block, plus the loop's
        // own work before it (at most about one interval). Never before the last tick.
        const begin = Math.max(this.lastAt, at - (active - this.lastActive));
        // The thread's own share (see the file comment): its CPU time since the last tick, or the
        // stretch less the time it waited for a core meanwhile (the whole stretch where unknown).
        const own = Math.max(ran - this.lastRan || 0, at - begin - (waited - this.lastWaited || 0));
        if (own >= MIN_BLOCK_MS) this.record(begin, at, Number.isNaN(ran) ? undefined : Math.min(own, at - begin));
      }
      this.lastAt = at;
      this.lastActive = active;
      this.lastRan = ran;
      this.lastWaited = waited;
      if (this.inFlight.size === 0 && !this.sticky) {
        this.timer = undefined;
        return;
      }
      this.timer!.refresh();
    } catch {
      this.stop();
    }
  };

  private record(begin: number, end: number, ownMs: number | undefined): void {
    if (this.sent >= MAX_LOOP_BLOCKS) {
      this.dropped++;
      this.droppedChanged();
      return;
    }
    this.sent++;
    const msg: LoopBlockMessage = { type: 'loopBlock', beginAt: orig.timeOrigin + begin, endAt: orig.timeOrigin + end };
    // Whole: the stretch was the thread's; said only when part of it was the machine's.
    if (ownMs !== undefined && ownMs < end - begin) msg.ownMs = Math.round(ownMs * 1000) / 1000;
    this.send(msg);
  }

  /** Turns the monitor off for good (also when the preload is detached). */
  stop(): void {
    this.off = true;
    this.sched?.close();
    try {
      if (this.timer) orig.clearTimeout(this.timer);
    } catch {
      /* nothing more to do */
    }
    this.timer = undefined;
  }
}
