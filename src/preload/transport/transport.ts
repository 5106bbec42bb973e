/**
 * The preload's side of the IPC pipe: a bounded queue of messages, sent as newline-delimited JSON
 * to the collector; with the events switch on (EVENTS_ON), record updates go as binary events
 * (src/protocol/events.ts) in frames between the lines, in the order produced (see EventQueue).
 *
 * The debuggee never blocks on it. Writes go straight to the pipe's non-blocking file descriptor
 * (PipeWriter): it either takes the bytes at once or fails with EAGAIN, in which case the rest
 * waits for the next flush (the batch timer's, once the pipe took nothing). Keeping libuv's write
 * queue out of the path means a synchronous flush (at exit, or from a paused debuggee through the
 * debugger) never interleaves with a half-written asynchronous write.
 *
 * When messages leave: a request's completion (its end or failure) is written at once, with
 * everything queued before it, as long as completions come no faster than SYNC_REFILL_MS apart
 * (after a burst of SYNC_BURST), else it goes with the next batch: under light load a record leaves the program when it
 * completes, so a worker `terminate()`d or a process killed right after a response loses nothing
 * that completed; under load the messages are batched. Other milestones wait at most
 * FLUSH_INTERVAL_MS, or FLUSH_HOLD_MS more while they are a small batch (HOLD_BELOW_BYTES: fewer,
 * larger writes, so a collector that does not read for a while holds more of them). At exit (and
 * through `flushNow`) everything queued is written synchronously.
 *
 * Everything the transport calls is bound when the preload loads, before the program runs, and
 * `net`'s functions the moment `net` is loaded, before the program's code can touch it (bindNet,
 * called by builtins.ts): a program that patches `net.Socket.prototype.connect`, `fs.writeSync`,
 * the timers or `JSON.stringify` neither sees nor disturbs the collector connection.
 */

import type { PreloadMessage, RecordMessage, StatsMessage } from '../../protocol/preload';
import { type EventEncoder, framePrefix } from '../../protocol/events';
import { DISCARD, FieldsWriter, type RecordWriter } from '../../protocol/recordWriter';
import { EventQueue, EVENTS_ON, type EventSeg } from './eventQueue';
import { resolveLazy, setBlobSink } from './wireValues';
import { collectorMayRead, orig } from './collectorNet';
import { CollectorLink, writeTail } from './collectorLink';
import { Part, PipeWriter } from './pipeWriter';
import { awaitProofSync, type CollectorProof, type ProofResult } from './collectorProof';
import {
  completes,
  EXIT_FLUSH_BUDGET_MS,
  EXIT_STALL_MS,
  FLUSH_BATCH,
  FLUSH_EVENTS,
  FLUSH_HOLD_MS,
  FLUSH_INTERVAL_MS,
  HOLD_BELOW_BYTES,
  SYNC_BURST,
  SYNC_REFILL_MS,
} from './batching';

const stringify = orig.stringify;

/** 'proving': connected, the challenge written, waiting for the collector's proof (collectorProof.ts). */
type State = 'idle' | 'proving' | 'open' | 'gone';

/** Queue + connection to the collector. Never throws to its callers. */
export class Transport {
  private state: State = 'idle';
  private queue: Array<PreloadMessage | EventSeg> = [];
  /** Record events not yet sent (see record()); undefined: every record goes as a JSON line. */
  private readonly ev: EventQueue | undefined;
  /** Its encoder, which open() hands to the hooks (undefined with events off). */
  private readonly enc: EventEncoder | undefined;
  /** A JSON record was queued since the last event: later updates must not merge into it past an event. */
  private mergeOpen = false;
  /** The record messages in `queue`, by kind and id, so later updates merge into them. */
  private queuedRecords = new Map<string, Map<string, RecordMessage>>();
  /** The pipe (once connected) and what it did not take yet. */
  private pipe: PipeWriter | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate = false;
  /** Writes at once a completion may still cause (see SYNC_BURST), and when they were counted. */
  private syncTokens = SYNC_BURST;
  private syncCountedAt = 0;
  /** Queued messages and queued events that make a batch leave at once (FLUSH_BATCH, FLUSH_EVENTS). */
  private readonly flushBatch: number;
  private readonly flushEvents: number;
  /** Identifies this connection to the collector (see HelloMessage.conn); the rules' name for this instance too (SessionActed). */
  readonly connToken = `${process.pid}.${Math.random().toString(36).slice(2, 10)}`;
  /** The collector's process id (PreloadConfig.collectorPid): the exit flush waits for it while it runs. */
  collectorPid: number | undefined;
  /** Messages dropped because the queue was full, the collector was gone or stalled at exit. */
  dropped = 0;
  /** Messages produced (queued or dropped). */
  produced = 0;
  /** Blob frames sent so far (their ids are "b1", "b2", ...). */
  private blobCount = 0;
  /** Told the local id of each request update that completes it (its end or failure; loopLag.ts). */
  onComplete: ((id: string) => void) | undefined;
  /** Told once, on the next turn, that the collector went away, could not be reached or proved nothing (goneWith). */
  onGone: (() => void) | undefined;
  /** Told each chunk the collector sends: its trace rules (index.ts registers the rules' reader). */
  onCollectorData: ((chunk: Buffer) => void) | undefined;
  /** The collector connection (made on first use, or early: prove). */
  private readonly link: CollectorLink;
  /** The process is exiting (index.ts): a connection made now needs no `net` (rawPipe; nothing is read from it). */
  exiting = false;
  /** The id of the update open() began last (for onComplete at close). */
  private openId = '';
  /** A stats message is due with the next batch (a counter changed). */
  private statsDue = false;
  /** The hello is in the queue (a connection just opened): the next batch's stats go after it. */
  private helloDue = false;
  /** The connection's check of the collector while its proof has not come (state 'proving'). */
  private proof: CollectorProof | undefined;

  constructor(
    private readonly ipcPath: string,
    private readonly maxQueued: number,
    private readonly hello: () => PreloadMessage,
    private readonly stats: () => StatsMessage,
    /** The session's key (PreloadConfig.collectorKey): each connection's collector must prove it first. */
    private readonly key?: string,
    events = EVENTS_ON,
  ) {
    this.link = new CollectorLink(ipcPath, key, {
      gone: () => this.goneWith(),
      data: (chunk) => (this.proof ? this.proved(this.proof.feed(chunk)) : this.onCollectorData?.(chunk)),
    });
    this.ev = events ? new EventQueue(this.sendSide) : undefined;
    this.enc = this.ev?.enc;
    // At most half the queue's limit, so a batch leaves before the limit drops anything.
    this.flushBatch = Math.min(FLUSH_BATCH, maxQueued >> 1);
    this.flushEvents = Math.min(FLUSH_EVENTS, maxQueued >> 1);
  }

  /**
   * Sends one record upsert: as an event appended to the event buffer (no merging, no JSON on
   * the program's side), or as a JSON line when events are off or the update carries a captured
   * body (its WireBlob bytes go as blob frames, see flush).
   */
  record(kind: RecordMessage['kind'], id: string, fields: Record<string, unknown>): void {
    const ev = this.ev;
    // With an update open (a hook between open() and close() that records another): as a JSON
    // line, queued ahead of it, rather than beginning an event that would drop the open one.
    if (ev === undefined || fields.reqBody !== undefined || fields.respBody !== undefined || ev.writing) {
      this.send({ type: 'record', kind, id, fields });
      return;
    }
    if (!this.eventRoom()) return;
    if (!ev.add(kind, id, fields)) {
      // Too large for the buffer or not encodable: as a JSON line, in order after what came before.
      this.send({ type: 'record', kind, id, fields });
      return;
    }
    const done = completes(kind, fields);
    if (done && this.onComplete !== undefined) this.onComplete(id);
    this.eventAdded(done);
  }

  /**
   * Opens one record update to be written field by field (see RecordWriter); close() sends it.
   * The writer is the event encoder, or a FieldsWriter for a JSON line: with `json` (the update
   * carries a body, or rules read its fields at the request's end), with events off; or DISCARD,
   * the update counted as dropped here, when the queue is full or the collector gone.
   */
  open(kind: RecordMessage['kind'], id: string, json = false): RecordWriter {
    this.openId = id;
    const enc = this.enc;
    if (enc === undefined || json) return new FieldsWriter(kind, id);
    if (!this.eventRoom()) return DISCARD;
    return enc.begin(kind, id) ? enc : new FieldsWriter(kind, id);
  }

  /** Sends the update open() gave `w` for (`completes`: it ends a request, see urgent); one the buffer cannot hold counts as dropped. */
  close(w: RecordWriter, completes: boolean): void {
    if (completes && this.onComplete !== undefined) this.onComplete(w instanceof FieldsWriter ? w.id : this.openId);
    if (w === this.enc) {
      if (this.enc.end()) this.eventAdded(completes);
      else this.drop();
      return;
    }
    if (w instanceof FieldsWriter) this.send({ type: 'record', kind: w.kind, id: w.id, fields: w.fields });
  }

  /**
   * Whether an event may be queued (else it is counted as dropped). JSON records queued before
   * it take no later update from then on (it would jump over the event).
   */
  private eventRoom(): boolean {
    if (this.state === 'gone' || this.queue.length + this.eventsQueued >= this.maxQueued) {
      this.drop();
      return false;
    }
    if (this.mergeOpen) {
      this.mergeOpen = false;
      for (const m of this.queuedRecords.values()) m.clear();
    }
    return true;
  }

  /** Counts one update as produced and dropped. */
  private drop(): void {
    this.produced++;
    this.dropped++;
    if (this.state !== 'gone') this.statsDue = true;
  }

  /** An event was queued: connects, or schedules its flush. */
  private eventAdded(completes: boolean): void {
    this.produced++;
    if (this.state === 'idle') this.connect();
    if (this.state !== 'open') return;
    if (completes) this.urgent();
    else this.schedule();
  }

  /** Sends what a lazy field computed while its event was written (it goes ahead of the event). */
  private readonly sendSide = (msg: PreloadMessage): void => this.send(msg);

  /** Messages and events queued (segments count their events). */
  private queuedCount(): number {
    let n = this.ev?.openEvents ?? 0;
    for (const m of this.queue) n += m.type === '__events' ? m.n : 1;
    return n;
  }

  private get eventsQueued(): number {
    return this.ev?.queued ?? 0;
  }

  /** Cuts the events not yet in a segment into one at the end of the queue. */
  private cutEvents(): void {
    const seg = this.ev?.cut();
    if (seg) this.queue.push(seg);
  }

  /** Asks for a stats message to go out with the next batch, ahead of queued records. */
  markStats(): void {
    if (this.statsDue) return;
    this.statsDue = true;
    if (this.state === 'open') this.schedule();
  }

  /**
   * Queues one message; connects on first use. `always` skips the queue limit (for the one
   * `exit` message, so the collector learns the process ended even after drops).
   */
  send(msg: PreloadMessage, always = false): void {
    let urgent = false;
    if (msg.type === 'exit') this.lastExit = msg;
    if (msg.type === 'record') {
      urgent = completes(msg.kind, msg.fields);
      if (urgent && this.onComplete !== undefined) this.onComplete(msg.id);
      // An update to a record that is still queued merges into it: one message per record per
      // batch, whatever the number of milestones it passed in between.
      let byId = this.queuedRecords.get(msg.kind);
      if (!byId) this.queuedRecords.set(msg.kind, (byId = new Map()));
      const queued = byId.get(msg.id);
      if (queued) {
        Object.assign(queued.fields, msg.fields);
        if (urgent) this.urgent();
        return;
      }
      if (this.state !== 'gone' && (this.queue.length < this.maxQueued || always)) {
        byId.set(msg.id, msg);
        this.mergeOpen = true;
      }
    }
    this.produced++;
    if (this.state === 'gone') {
      this.dropped++;
      return;
    }
    if (this.queue.length >= this.maxQueued && !always) {
      this.dropped++;
      this.statsDue = true;
      return;
    }
    this.cutEvents();
    this.queue.push(msg);
    if (this.state === 'idle') this.connect();
    if (this.state !== 'open') return;
    if (urgent) this.urgent();
    else this.schedule();
  }

  /**
   * Writes everything queued now, synchronously, as far as the pipe takes it without waiting.
   * Safe to call at any time (a paused debuggee calls it through the debugger, see index.ts);
   * never throws. Returns how many messages were written whole.
   */
  flushNow(): number {
    try {
      // A proof already in the pipe is read now (the loop may not turn: a paused debuggee).
      if (!this.proveNow(0)) return 0;
      const before = this.unsentInPending();
      this.batchMessages = 0;
      this.flush();
      return Math.max(0, before + this.batchMessages - this.unsentInPending());
    } catch {
      return 0;
    }
  }

  private batchMessages = 0; // messages put into the last batch (see flushNow)

  /** Sends what can be sent at exit, synchronously, within `budgetMs` and EXIT_STALL_MS; the rest is counted as dropped, the final stats and `exit` go through a second connection (sendTail). */
  flushSync(budgetMs = EXIT_FLUSH_BUDGET_MS): void {
    const start = orig.perfNow();
    // No proof in time (the collector stopped, slow or not its own): nothing goes, all is counted.
    if (this.state === 'proving' && !this.proveNow(budgetMs)) return this.goneWith();
    if (this.state !== 'open') return;
    let progressAt = start;
    let left = Infinity;
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    for (;;) {
      if (!this.flush()) return;
      if (this.queue.length === 0 && this.eventsQueued === 0 && !this.pipe?.hasPending && !this.statsDue) return;
      const t = orig.perfNow();
      const bytes = this.pipe?.bytes() ?? 0;
      if (bytes < left) {
        left = bytes;
        progressAt = t;
      }
      if (t - start > budgetMs) break;
      if (t - progressAt > EXIT_STALL_MS) {
        if (!collectorMayRead(this.collectorPid)) break;
        progressAt = t;
      }
      orig.wait(sleeper, 0, 0, 1);
    }
    // The collector is not reading: count what will never reach it, and tell it so. The exit
    // message, the last one queued, goes again through the second connection.
    const unsent = this.queuedCount() + this.unsentInPending();
    this.dropped += unsent - (this.lastExit && unsent > 0 ? 1 : 0);
    this.queue = [];
    this.ev?.clear();
    for (const m of this.queuedRecords.values()) m.clear();
    this.sendTail(unsent > 0 ? this.lastExit : undefined);
  }

  /** The hello (continuing this connection), the final stats and `exit` through a second connection (writeTail). */
  private sendTail(exit: PreloadMessage | undefined): void {
    const hello = { ...this.hello(), conn: this.connToken, continues: true };
    const text = `${stringify(hello)}\n${stringify(this.stats())}\n${exit ? stringify(exit) + '\n' : ''}`;
    writeTail(this.ipcPath, text, this.key, this.collectorPid);
  }

  /** The `exit` message once queued (sent again through the tail connection when needed). */
  private lastExit: PreloadMessage | undefined;

  /**
   * Opens the connection now, before anything is queued, its challenge written (CollectorLink.openEarly),
   * so the collector's proof is back before the first hand-off or the exit waits for it.
   */
  prove(): void {
    if (this.state === 'idle') this.link.openEarly();
  }

  /** Connects (CollectorLink.open): the hello first in the queue, and the proof to wait for with a session key. */
  private connect(): void {
    // Open from the start: the fd takes writes before the connection is reported (no fd: the stream buffers them).
    this.state = 'open';
    try {
      const opened = this.link.open(this.exiting);
      if (!opened) return this.goneWith();
      this.pipe = opened.pipe;
      this.queue.unshift({ ...this.hello(), conn: this.connToken } as PreloadMessage);
      this.helloDue = true;
      if (opened.proof === undefined) return this.schedule();
      this.state = 'proving';
      this.proof = opened.proof;
      // Opened early, the answer is likely in the socket already: read now, and the queue goes.
      if (opened.early) this.proveNow(0);
    } catch {
      this.closeConnection();
      this.goneWith();
    }
  }

  /** The collector's answer: proved, the queue goes (what followed is its first data); else it is gone. */
  private proved(r: ProofResult): void {
    if (r === 'wait' || this.state !== 'proving') return;
    this.proof = undefined;
    if (r === 'bad') return (this.closeConnection(), this.goneWith());
    this.state = 'open';
    if (r.length > 0) this.onCollectorData?.(r);
    this.flush();
  }

  /** Reads the proof synchronously (the loop will not turn: exit, a paused debuggee) within `budgetMs`; true once proved. */
  private proveNow(budgetMs: number): boolean {
    if (this.state === 'proving' && this.proof && this.pipe)
      this.proved(awaitProofSync(this.pipe.fd, this.proof, budgetMs, EXIT_STALL_MS, () => collectorMayRead(this.collectorPid)));
    return this.state === 'open';
  }

  /** The collector is unreachable or went away: from now on every message is only counted. */
  private goneWith(): void {
    if (this.state === 'gone') return;
    this.state = 'gone';
    this.proof = undefined;
    this.dropped += this.queuedCount() + this.unsentInPending();
    this.queue = [];
    this.ev?.clear();
    for (const m of this.queuedRecords.values()) m.clear();
    this.pipe?.clear();
    if (this.timer) orig.clearTimeout(this.timer);
    this.timer = undefined;
    const gone = this.onGone;
    this.onGone = undefined;
    // Not from inside the hook whose write failed: on the next turn of the loop.
    if (gone) orig.setImmediate(gone).unref();
  }

  /** Detached (detach.ts): what is queued is written now, as far as the pipe takes it, then the connection closes. Never throws. */
  detach(): void {
    this.onGone = undefined;
    this.flushNow();
    this.goneWith();
    this.closeConnection();
  }

  /** Closes the collector connection, if any. */
  private closeConnection(): void {
    this.link.close();
  }

  /** Completions queued since the pipe last took everything (see flushCompletions). */
  private unsentCompletions = 0;

  /** Writes what is queued when a completion is among it (handOff.ts: a parent may kill the program); a proof not read yet is waited for, as at exit. */
  flushCompletions(): void {
    if (this.state === 'proving') this.proveNow(EXIT_FLUSH_BUDGET_MS);
    else if (this.unsentCompletions > 0) this.flushNow();
  }

  /** A completion was queued: write now under light load, else with the next batch. */
  private urgent(): void {
    this.unsentCompletions++;
    if (this.pipe?.hasPending) {
      // The pipe is full: the flush already scheduled retries; trying on every completion would
      // only add failed writes.
      this.schedule();
      return;
    }
    const t = orig.perfNow();
    this.syncTokens = Math.min(SYNC_BURST, this.syncTokens + (t - this.syncCountedAt) / SYNC_REFILL_MS);
    this.syncCountedAt = t;
    if (this.syncTokens >= 1) {
      this.syncTokens--;
      this.flush();
      return;
    }
    this.schedule();
  }

  private schedule(): void {
    // A stats message alone waits for the batch timer like any message: counters change on most
    // requests (the stack sampler's skips, the trace rules' counts), and a flush of its own for
    // each (one setImmediate and one write per request, ~12% of a sequential http client's CPU)
    // would bypass the rationing of completions above. A full pipe is retried by the timer only
    // (see PipeWriter.full).
    if ((this.queue.length >= this.flushBatch || this.eventsQueued >= this.flushEvents) && !this.pipe?.full) {
      if (!this.immediate) {
        this.immediate = true;
        orig
          .setImmediate(() => {
            this.immediate = false;
            this.flush();
          })
          .unref();
      }
      return;
    }
    // A timer already set is due within FLUSH_INTERVAL_MS (or FLUSH_HOLD_MS, holding): nothing to do,
    // not even reading the clock (this runs for every milestone of every request).
    if (this.timer) return;
    this.timer = orig.setTimeout(this.onTimer, FLUSH_INTERVAL_MS);
    this.timer.unref();
  }

  /** The batch timer's callback, made once: a small batch is held once (HOLD_BELOW_BYTES), then sent. */
  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (!this.holding && this.state === 'open' && this.unsentCompletions === 0 && !this.pipe?.hasPending && this.smallBatch()) {
      this.holding = true;
      this.timer = orig.setTimeout(this.onTimer, FLUSH_HOLD_MS);
      this.timer.unref();
      return;
    }
    this.holding = false;
    this.flush();
  };

  /** The batch timer was set again for a small batch (onTimer): its next call sends whatever is queued. */
  private holding = false;

  /** What is queued is less than HOLD_BELOW_BYTES (events' bytes, JSON messages reckoned at 256 bytes each). */
  private smallBatch(): boolean {
    return (this.ev?.enc.eventStart ?? 0) + this.queue.length * 256 < HOLD_BELOW_BYTES;
  }

  /** Messages the pipe has not taken whole. */
  private unsentInPending(): number {
    return this.pipe?.unsent() ?? 0;
  }

  /** Writes pending bytes and then the queue. Returns false when the collector is gone. */
  private flush(): boolean {
    if (this.state !== 'open') return this.state !== 'gone';
    try {
      const pipe = this.pipe!;
      if (!pipe.retry()) return true;
      if (this.queue.length === 0 && this.eventsQueued === 0 && !this.statsDue) return true;
      this.cutEvents();
      const batch = this.queue;
      this.queue = [];
      for (const m of this.queuedRecords.values()) m.clear();
      this.mergeOpen = false;
      // Blob frames (captured bodies) go as raw bytes between the lines, ahead of their record;
      // event frames likewise, where their events came between the messages.
      const parts: Buffer[] = [];
      const kinds: Part[] = [];
      const counts: number[] = [];
      const evBuf = this.ev?.bytes;
      let text = '';
      // A lazy field may have to send a message of its own first (an initiator stack seen for
      // the first time): it goes into the same text, ahead of the record that refers to it.
      const side = (msg: PreloadMessage): void => {
        this.produced++;
        this.batchMessages++;
        text += stringify(msg) + '\n';
      };
      const sink = { blobs: [] as Array<{ id: string; data: Buffer }>, next: () => `b${++this.blobCount}` };
      for (const m of batch) {
        if (m.type === '__events') {
          text += framePrefix(m.end - m.start, m.n);
          this.batchMessages += m.n;
          parts.push(orig.bufferFrom(text, 'utf8'), evBuf!.subarray(m.start, m.end));
          kinds.push(Part.BeforeBlob, Part.Events);
          counts.push(0, m.n);
          text = '';
          continue;
        }
        if (m.type !== 'record') {
          text += stringify(m) + '\n';
          this.batchMessages++;
          continue;
        }
        resolveLazy(m.fields, side);
        setBlobSink(sink);
        let line: string;
        try {
          line = stringify(m);
        } finally {
          setBlobSink(undefined);
        }
        for (const { id, data } of sink.blobs) {
          this.produced++;
          this.batchMessages++;
          text += stringify({ type: 'blob', id, len: data.length }) + '\n';
          parts.push(orig.bufferFrom(text, 'utf8'), data);
          kinds.push(Part.BeforeBlob, Part.Blob);
          counts.push(0, 0);
          text = '';
        }
        sink.blobs.length = 0;
        text += line + '\n';
        this.batchMessages++;
      }
      if (text !== '') {
        parts.push(orig.bufferFrom(text, 'utf8'));
        kinds.push(Part.Lines);
        counts.push(0);
      }
      // The stats go first, counted after the batch was built: its side messages (initiator
      // stacks, blobs) are produced while it is serialized, and the totals must include them.
      if (this.statsDue) {
        this.statsDue = false;
        const stats = orig.bufferFrom(stringify(this.stats()) + '\n', 'utf8');
        // Never ahead of the connection's hello: the collector keys rule counters by the hello's
        // instance (`conn`), and a report read before it would stay under the bare connection.
        const at = this.helloDue ? parts.length : 0;
        parts.splice(at, 0, stats);
        kinds.splice(at, 0, Part.Stats);
        counts.splice(at, 0, 0);
      }
      this.helloDue = false;
      // The blobs go as they are, not copied into one buffer with the lines around them.
      pipe.write(parts, kinds, counts);
      if (!pipe.hasPending) this.unsentCompletions = 0;
      // The event buffer is written over from the start; bytes the pipe did not take keep the old one.
      this.ev?.sent(pipe.hasPending);
    } catch {
      // EPIPE/ECONNRESET: the collector went away.
      this.goneWith();
      return false;
    } finally {
      if (this.state === 'open' && (this.queue.length > 0 || this.pipe?.hasPending || this.statsDue)) this.schedule();
    }
    return true;
  }
}
