/**
 * The `handler` field of incoming requests (docs/trace-format.md): where the program defined the
 * function that handled each one (the route's handler, or the server's request listener), as a
 * one-frame `stack` message the record names by id, mapped through the runtime's source maps
 * like an initiator's frames.
 *
 * A function's position is looked up once (functionSites.ts), and not on the request's path: a
 * function seen for the first time is queued, looked up on a timer right after (with every other
 * queued one), and its requests get the field in an update of their own; from then on it is
 * written with the request's record (and at the program's exit, what is still queued).
 * `NETTRACE_HANDLER_LINES=0` in the traced program's
 * environment turns it off (no inspector session is opened).
 */

import type { RecordWriter } from '../../protocol/recordWriter';
import { F } from '../../protocol/recordWriter';
import { onDetach } from '../detach';
import { FunctionSites } from './functionSites';
import type { Hook, Tracer } from '../tracer';

/** Whether handler positions are recorded. */
export const HANDLER_LINES_ON = process.env.NETTRACE_HANDLER_LINES !== '0';

/** Requests waiting for their handler's position, at most (later ones go without). */
const MAX_PENDING = 1000;

/** Looks up and writes incoming requests' handler positions for one thread. */
export class HandlerLines {
  /** Stack id of each function looked up; null: it has no position in the program. */
  private readonly ids = new WeakMap<Function, string | null>();
  /** [function, incoming request's local id] waiting for the lookup. */
  private pending: Array<[Function, string]> = [];
  private timer: NodeJS.Timeout | undefined;
  private sites: FunctionSites | undefined;

  constructor(
    private readonly t: Tracer,
    private readonly hook: Hook,
  ) {
    // Detached (the attach session ended): no more lookups, the inspector session closed.
    onDetach(() => {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.pending = [];
      this.sites?.close();
      this.sites = undefined;
    });
  }

  /**
   * Writes `fn`'s position as the `handler` of incoming request `id` (its record being written to
   * `w`) when it is known; otherwise queues the lookup. A later call for the same request replaces
   * an earlier one still queued (the route's handler over the server's listener).
   */
  write(w: RecordWriter, id: string, fn: Function): void {
    const known = this.ids.get(fn);
    if (known !== undefined) {
      if (known !== null) w.intern(F.handler, known);
      return;
    }
    if (this.pending.length > 0) this.pending = this.pending.filter((p) => p[1] !== id);
    if (this.pending.length >= MAX_PENDING) return;
    this.pending.push([fn, id]);
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.t.run(this.hook, flushPending, this, undefined), 0);
      this.timer.unref();
    }
  }

  /** Looks up the queued functions and sends their requests' `handler` (also at exit: the timer may not have run). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const list = this.pending;
    this.pending = [];
    for (const [fn, id] of list) {
      let sid = this.ids.get(fn);
      if (sid === undefined) {
        const site = (this.sites ??= new FunctionSites(this.t.ownFile)).site(fn);
        sid = site ? (this.t.frameStackId(site, (m) => this.t.transport.send(m)) ?? null) : null;
        this.ids.set(fn, sid);
      }
      if (sid === null) continue;
      const w = this.t.transport.open('incomingRequests', id);
      w.intern(F.handler, sid);
      this.t.transport.close(w, false);
    }
  }
}

/** The timer's function, run through Tracer.run (a failure disables the hook and warns). */
function flushPending(_t: Tracer, _hook: Hook, lines: HandlerLines): void {
  lines.flush();
}
