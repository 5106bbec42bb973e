/**
 * Requests that can never finish in this trace (`incomplete`, docs/trace-format.md): the outgoing
 * (`httpRequests`) and incoming (`incomingRequests`) requests of a process or thread whose sockets
 * all closed while they were open, marked with the reason (IncompleteReason). TraceBuilder
 * (builder.ts) marks them; a late update that finishes one takes the mark back (unmarkFinished).
 */

import type { RecordKind } from '../contract/types';
import type { IncompleteReason } from '../contract/incoming';
import type { RecordLookup } from './recordTable';
import { isFinished, KIND_INDEX, type AnyRecord, type ConnectionState } from './upsert';
import type { TraceStats } from './traceStats';

/** The kinds of record that can be incomplete. */
const KINDS = ['httpRequests', 'incomingRequests'] as const satisfies readonly RecordKind[];

/**
 * Marks the unfinished requests of `state` (outgoing and incoming) with `reason`; `changed` is told
 * each one marked. Returns how many outgoing requests were marked that were not before (they are
 * what `stats.incompleteRequests` counts).
 */
export function markIncomplete(
  state: ConnectionState,
  byId: readonly RecordLookup[],
  reason: IncompleteReason,
  changed: (kind: (typeof KINDS)[number], traceID: string) => void,
): number {
  let added = 0;
  for (const kind of KINDS) {
    const k = KIND_INDEX.get(kind)!;
    for (const traceID of state.ids[k].values()) {
      const record = byId[k].get(traceID);
      if (!record || isFinished(record)) continue;
      if (record.incomplete === undefined && kind === 'httpRequests') added++;
      record.incomplete = reason;
      changed(kind, traceID);
    }
  }
  return added;
}

/** Takes the mark off a record that an update finished; true when it had one. */
export function unmarkFinished(record: AnyRecord): boolean {
  if (record.incomplete === undefined || !isFinished(record)) return false;
  delete record.incomplete;
  return true;
}

/** Pids a warning names; the rest are counted. */
const NAMED_PIDS = 8;

/**
 * The warning for the processes whose connection closed without an `exit` message (`pids`, in the
 * order they closed; one warning for all, as a test runner's pool that kills its workers ends
 * each of them so): killed, or — when the run was interrupted (`signal`: the CLI forwarded the
 * user's Ctrl+C or a SIGTERM, which ends a Node program without running its exit handlers) —
 * stopped on purpose, which is no fault. `count`: how many processes in all, when `pids` holds
 * only the first of them.
 */
export function endWarning(pids: readonly number[], signal?: string, count = pids.length): string {
  const how = signal === 'SIGINT' ? 'Ctrl+C (SIGINT)' : signal;
  if (count === 1) {
    if (signal === undefined)
      return `pid ${pids[0]} closed its connection without an exit message: it was killed or could not flush, so its last events may be missing`;
    return `pid ${pids[0]} was stopped by ${how} when the run was interrupted: requests it still had in flight are marked incomplete`;
  }
  const named = pids.slice(0, NAMED_PIDS).join(', ');
  const list = count > NAMED_PIDS ? `${named} and ${count - NAMED_PIDS} more` : named;
  if (signal === undefined)
    return `${count} processes closed their connection without an exit message (pids ${list}): they were killed (as a test runner ends its workers) or could not flush, so their last events may be missing`;
  return `${count} processes were stopped by ${how} when the run was interrupted (pids ${list}): requests they still had in flight are marked incomplete`;
}

/**
 * The processes whose connection closed without an `exit` message, in the order they closed, and
 * the one warning that names them (endWarning): given again in place of the last one when a
 * process is added, when one turns out to have exited after all (its `exit` read late, from a
 * second socket), and when the run is interrupted.
 */
export class UnexitedProcesses {
  private readonly states: ConnectionState[] = [];
  private warning: string | undefined;
  /** The signal that interrupted the run, once one did. */
  private signal: string | undefined;

  constructor(
    private readonly stats: Pick<TraceStats, 'unwarn' | 'sync'>,
    /** Records a warning (TraceBuilder.warn). */
    private readonly warn: (text: string) => void,
  ) {}

  /** A process (`state.process` set) closed its last socket without an `exit` message. */
  closed(state: ConnectionState): void {
    this.states.push(state);
    this.update();
  }

  /** The `exit` of a process counted here arrived after all: it was not killed. */
  exited(state: ConnectionState): void {
    const at = this.states.indexOf(state);
    if (at < 0) return;
    this.states.splice(at, 1);
    this.update();
  }

  /** The run was interrupted by `signal`: the processes that end, or ended, so were stopped by it. */
  interrupted(signal: string): void {
    if (this.signal !== undefined) return;
    this.signal = signal;
    this.update();
  }

  private update(): void {
    const text =
      this.states.length > 0
        ? endWarning(
            // Only the pids it names: a run that ends thousands of processes so does not walk them all at each.
            this.states.slice(0, NAMED_PIDS).map((s) => s.process!.pid),
            this.signal,
            this.states.length,
          )
        : undefined;
    if (text === this.warning) return;
    if (this.warning !== undefined) this.stats.unwarn(this.warning);
    this.warning = text;
    if (text !== undefined) this.warn(text);
    else this.stats.sync();
  }
}
