/**
 * The preload's side of the IPC pipe: a bounded queue of messages, flushed in batches as
 * newline-delimited JSON to the collector.
 *
 * The debuggee never blocks on it. Writes go straight to the pipe's non-blocking file descriptor
 * with `fs.writeSync`: it either takes the bytes at once or fails with EAGAIN, in which case the
 * rest waits for the next flush. Keeping libuv's write queue out of the path means the final
 * flush in `process.on('exit')` (where nothing asynchronous runs any more) can send what is left
 * without interleaving with a half-written asynchronous write. When the fd is not available
 * (Windows named pipes) it falls back to `socket.write` with a backlog check.
 */

import * as fs from 'node:fs';
import * as net from 'node:net';
import type { PreloadMessage, RecordMessage, StatsMessage } from '../protocol/preload';

/** How long a batch may wait before it is sent (ms). */
const FLUSH_INTERVAL_MS = 25;
/**
 * Flush right away once this many messages are queued. Under load, a smaller batch is cheaper for
 * the program: measured at 50 concurrent keep-alive requests (10,000–20,000 in a row), 512 cost
 * about 1.45× untraced and 128 about 1.30×. Records held longer until their flush survive more
 * young-generation collections (with 128, less scavenge time and no full collection in the same
 * run). At 32 the work per batch (a write, a wake-up of the collector) cost more than it saved.
 */
const FLUSH_BATCH = 128;
/** Buffers per writev call (Linux IOV_MAX is 1024). */
const MAX_IOV = 1024;
/** How long the exit flush may spin on a full pipe before giving up (ms). */
const EXIT_FLUSH_BUDGET_MS = 1000;

type State = 'idle' | 'connecting' | 'open' | 'gone';

/** Queue + connection to the collector. Never throws to its callers. */
export class Transport {
  private state: State = 'idle';
  private socket: net.Socket | undefined;
  private fd = -1;
  private queue: PreloadMessage[] = [];
  /** The record messages in `queue`, by kind and id, so later updates merge into them. */
  private queuedRecords = new Map<string, Map<string, RecordMessage>>();
  /** Bytes of a batch the pipe did not take yet (sent before anything else). */
  private pending: Buffer[] | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate = false;
  /** Messages dropped because the queue was full or the collector was gone. */
  dropped = 0;
  /** Messages produced (queued or dropped). */
  produced = 0;
  /** Blob frames sent so far (their ids are "b1", "b2", ...). */
  private blobCount = 0;
  /** A stats message is due with the next batch (a counter changed). */
  private statsDue = false;

  constructor(
    private readonly ipcPath: string,
    private readonly maxQueued: number,
    private readonly hello: () => PreloadMessage,
    private readonly stats: () => StatsMessage,
  ) {}

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
    if (msg.type === 'record') {
      // An update to a record that is still queued merges into it: one message per record per
      // batch, whatever the number of milestones it passed in between.
      let byId = this.queuedRecords.get(msg.kind);
      if (!byId) this.queuedRecords.set(msg.kind, (byId = new Map()));
      const queued = byId.get(msg.id);
      if (queued) {
        Object.assign(queued.fields, msg.fields);
        return;
      }
      if (this.state !== 'gone' && (this.queue.length < this.maxQueued || always)) byId.set(msg.id, msg);
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
    this.queue.push(msg);
    if (this.state === 'idle') this.connect();
    else if (this.state === 'open') this.schedule();
  }

  /**
   * Sends what the pipe takes now, synchronously, without waiting or dropping anything: the rest
   * stays queued for the next flush. Used when the program is paused in the debugger.
   */
  flushNow(): void {
    this.flush();
  }

  /** Sends what can be sent now, synchronously, within a time budget. Used at exit. */
  flushSync(budgetMs = EXIT_FLUSH_BUDGET_MS): void {
    if (this.state !== 'open') return;
    const deadline = Date.now() + budgetMs;
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    while (this.queue.length > 0 || this.pending || this.statsDue) {
      if (!this.flush()) return;
      if (this.queue.length === 0 && !this.pending && !this.statsDue) return;
      if (Date.now() > deadline) {
        this.dropped += this.queue.length;
        this.queue = [];
        for (const m of this.queuedRecords.values()) m.clear();
        return;
      }
      Atomics.wait(sleeper, 0, 0, 2);
    }
  }

  private connect(): void {
    this.state = 'connecting';
    const socket = net.connect({ path: this.ipcPath });
    this.socket = socket;
    socket.unref();
    socket.on('connect', () => {
      this.state = 'open';
      const handle = (socket as unknown as { _handle?: { fd?: number } })._handle;
      this.fd = typeof handle?.fd === 'number' ? handle.fd : -1;
      this.queue.unshift(this.hello());
      this.schedule();
    });
    socket.on('error', () => this.goneWith());
    socket.on('close', () => this.goneWith());
    // The collector may send rules later; for now anything it sends is read and ignored so the
    // pipe never fills up in that direction.
    socket.on('data', () => {});
  }

  /** The collector is unreachable or went away: from now on every message is only counted. */
  private goneWith(): void {
    if (this.state === 'gone') return;
    this.state = 'gone';
    this.dropped += this.queue.length;
    this.queue = [];
    for (const m of this.queuedRecords.values()) m.clear();
    this.pending = undefined;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.queue.length >= FLUSH_BATCH || (this.statsDue && this.queue.length === 0)) {
      if (!this.immediate) {
        this.immediate = true;
        setImmediate(() => {
          this.immediate = false;
          this.flush();
        }).unref();
      }
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, FLUSH_INTERVAL_MS);
      this.timer.unref();
    }
  }

  /** Writes pending bytes and then the queue. Returns false when the collector is gone. */
  private flush(): boolean {
    if (this.state !== 'open') return this.state !== 'gone';
    try {
      if (this.pending && !this.write(this.pending)) return true;
      if (this.queue.length === 0 && !this.statsDue) return true;
      const batch = this.queue;
      this.queue = [];
      for (const m of this.queuedRecords.values()) m.clear();
      let text = '';
      // The stats line leads the batch but is written last: the counts must include the side
      // messages (stacks, blob frames) this very batch produces.
      const withStats = this.statsDue;
      this.statsDue = false;
      // A lazy field may have to send a message of its own first (an initiator stack seen for
      // the first time): it goes into the same text, ahead of the record that refers to it.
      const side = (msg: PreloadMessage): void => {
        this.produced++;
        text += JSON.stringify(msg) + '\n';
      };
      // Blob frames (captured bodies) go as raw bytes between the lines, ahead of their record.
      const parts: Buffer[] = [];
      const sink = { blobs: [] as Array<{ id: string; data: Buffer }>, next: () => `b${++this.blobCount}` };
      for (const m of batch) {
        if (m.type !== 'record') {
          text += JSON.stringify(m) + '\n';
          continue;
        }
        resolveLazy(m.fields, side);
        blobSink = sink;
        let line: string;
        try {
          line = JSON.stringify(m);
        } finally {
          blobSink = undefined;
        }
        for (const { id, data } of sink.blobs) {
          this.produced++;
          text += JSON.stringify({ type: 'blob', id, len: data.length }) + '\n';
          parts.push(Buffer.from(text, 'utf8'), data);
          text = '';
        }
        sink.blobs.length = 0;
        text += line + '\n';
      }
      if (text !== '') parts.push(Buffer.from(text, 'utf8'));
      if (withStats) parts.unshift(Buffer.from(JSON.stringify(this.stats()) + '\n', 'utf8'));
      // The blobs go as they are, not copied into one buffer with the lines around them.
      this.write(parts);
    } catch {
      // EPIPE/ECONNRESET: the collector went away.
      this.goneWith();
      return false;
    } finally {
      if (this.state === 'open' && (this.queue.length > 0 || this.pending || this.statsDue)) this.schedule();
    }
    return true;
  }

  /**
   * Writes buffers in order without blocking (one writev for many); keeps what the pipe did not
   * take. True when all was written. `bufs` is the transport's own and may be changed.
   */
  private write(bufs: Buffer[]): boolean {
    if (this.fd < 0) {
      // No fd (Windows named pipe): fall back to the stream, holding back while it is backed up.
      if (this.socket!.writableLength > 1 << 20) {
        this.pending = bufs;
        return false;
      }
      for (const b of bufs) this.socket!.write(b);
      this.pending = undefined;
      return true;
    }
    let i = 0;
    try {
      for (;;) {
        while (i < bufs.length && bufs[i].length === 0) i++;
        if (i >= bufs.length) break;
        let written = i === bufs.length - 1 ? fs.writeSync(this.fd, bufs[i]) : fs.writevSync(this.fd, bufs.slice(i, i + MAX_IOV));
        while (written > 0) {
          const len = bufs[i].length;
          if (written >= len) {
            written -= len;
            i++;
          } else {
            bufs[i] = bufs[i].subarray(written);
            written = 0;
          }
        }
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
    this.pending = i < bufs.length ? bufs.slice(i) : undefined;
    return this.pending === undefined;
  }
}

/** Where WireBlob.toJSON puts its bytes while a record is being serialized. */
let blobSink: { blobs: Array<{ id: string; data: Buffer }>; next: () => string } | undefined;

/**
 * Bytes to send as a blob frame (see BlobMessage) instead of a JSON string: a captured body's
 * text is neither decoded to a JS string nor JSON-escaped here, only copied into the batch.
 * Serializes (as the blob's id) only inside the transport's flush; anywhere else it is left out.
 */
export class WireBlob {
  constructor(readonly data: Buffer) {}

  toJSON(): string | undefined {
    if (blobSink === undefined) return undefined;
    const id = blobSink.next();
    blobSink.blobs.push({ id, data: this.data });
    return id;
  }
}

/** Sends a message ahead of the record being serialized, in the same batch (see `lazy`). */
export type SideChannel = (msg: PreloadMessage) => void;

/** The only fields that may hold a `lazy` value (resolveLazy looks at these, not at every field). */
const LAZY_FIELDS = ['initiator', 'reqHeaders', 'respHeaders'] as const;

/**
 * A field whose value is a function is computed here, when its batch is sent, rather than on the
 * request's path (stack formatting, header parsing): the program's request goes on at once, and
 * the work lands in a flush, often while the program is waiting on the network anyway. The
 * function may send a message the value refers to through `side`. A value that fails to compute
 * is dropped. Only the LAZY_FIELDS may be lazy.
 */
export function lazy<T>(compute: (side: SideChannel) => T | undefined): T {
  return compute as unknown as T;
}

function resolveLazy(fields: Record<string, unknown>, side: SideChannel): void {
  for (const key of LAZY_FIELDS) {
    const value = fields[key];
    if (typeof value !== 'function') continue;
    try {
      const v = (value as (side: SideChannel) => unknown)(side);
      if (v === undefined) delete fields[key];
      else fields[key] = v;
    } catch {
      delete fields[key];
    }
  }
}
