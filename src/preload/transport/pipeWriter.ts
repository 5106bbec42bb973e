/**
 * Writes a batch's buffers to the collector's pipe without ever blocking: straight to its
 * non-blocking file descriptor with `fs.writeSync`/`writevSync`, which either take bytes at once or
 * fail with EAGAIN; what the pipe did not take is kept (`pending`) and written first next time.
 * When there is no fd (Windows named pipes) it falls back to `socket.write` with a backlog check.
 */

import { writeSync as fsWriteSync, writevSync as fsWritevSync } from 'node:fs';
import type * as net from 'node:net';
import { countNewlines } from './wireValues';

/** Bound when the preload loads, before the program can replace them. */
const writeSync = fsWriteSync;
const writevSync = fsWritevSync;

/** Buffers per writev call (Linux IOV_MAX is 1024). */
const MAX_IOV = 1024;

/**
 * What a buffer of a batch holds, to count the messages in what the pipe did not take: lines
 * (one message per newline), lines whose last one is a blob header (that message ends with the
 * blob's bytes, the next buffer), a blob's bytes, the stats line (not counted as a message), or
 * an events frame's bytes (its events).
 */
export const enum Part {
  Lines,
  BeforeBlob,
  Blob,
  Stats,
  Events,
}

/** The pipe to the collector and the bytes it has not taken yet. */
export class PipeWriter {
  /** Bytes of a batch the pipe did not take yet (written before anything else). */
  private pending: Buffer[] | undefined;
  /** What each buffer of `pending` holds, so what is never sent can be counted. */
  private pendingParts: Part[] | undefined;
  /** Per buffer of `pending`: the events it holds (event frames only). */
  private pendingCounts: number[] | undefined;
  /**
   * The last write took no byte (EAGAIN): the collector is not reading (stopped, paused in a
   * debugger, busy). The transport then retries on its batch timer instead of the next turn of
   * the event loop: Node's `fs.writevSync` throws each EAGAIN as an Error with a captured stack,
   * and a retry per turn cost the program a failed system call and an exception per request.
   */
  full = false;

  constructor(
    /** The pipe's descriptor (-1: none, a named pipe). */
    readonly fd: number,
    private readonly socket: net.Socket | undefined,
  ) {}

  /** Bytes are waiting for the pipe. */
  get hasPending(): boolean {
    return this.pending !== undefined;
  }

  /** Writes what is pending; true when nothing is left. Throws what the pipe throws but EAGAIN. */
  retry(): boolean {
    return this.pending === undefined || this.write(this.pending, this.pendingParts!, this.pendingCounts!);
  }

  /**
   * Writes a batch (its buffers, what each holds, the events per buffer) after what is pending
   * (call retry() first); keeps what the pipe did not take. True when all of it went.
   */
  write(bufs: Buffer[], kinds: Part[], counts: number[]): boolean {
    if (this.fd < 0 && this.socket !== undefined) {
      if (this.socket.writableLength > 1 << 20) {
        this.keep(bufs, kinds, counts);
        return false;
      }
      // The stream keeps the buffers until written: event bytes are copied (their buffer is reused).
      for (let j = 0; j < bufs.length; j++) this.socket.write(kinds[j] === Part.Events ? Buffer.from(bufs[j]) : bufs[j]);
      this.clear();
      return true;
    }
    let i = 0;
    let took = false;
    try {
      for (;;) {
        while (i < bufs.length && bufs[i].length === 0) i++;
        if (i >= bufs.length) break;
        let written = i === bufs.length - 1 ? writeSync(this.fd, bufs[i]) : writevSync(this.fd, bufs.slice(i, i + MAX_IOV));
        if (written > 0) took = true;
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
    this.full = !took && i < bufs.length;
    if (i < bufs.length) this.keep(bufs.slice(i), kinds.slice(i), counts.slice(i));
    else this.clear();
    return this.pending === undefined;
  }

  /** Messages in what is pending that the pipe has not taken whole. */
  unsent(): number {
    const bufs = this.pending;
    const parts = this.pendingParts;
    if (!bufs || !parts) return 0;
    let n = 0;
    for (let i = 0; i < bufs.length; i++) {
      if (parts[i] === Part.Blob) n++;
      else if (parts[i] === Part.Events) n += this.pendingCounts?.[i] ?? 0;
      else if (parts[i] !== Part.Stats) n += countNewlines(bufs[i]) - (parts[i] === Part.BeforeBlob ? 1 : 0);
    }
    return n;
  }

  /** Bytes the pipe has not taken yet. */
  bytes(): number {
    let n = 0;
    for (const b of this.pending ?? []) n += b.length;
    return n;
  }

  /** Forgets what is pending (sent, or counted as dropped by the caller). */
  clear(): void {
    this.pending = undefined;
    this.pendingParts = undefined;
    this.pendingCounts = undefined;
  }

  private keep(bufs: Buffer[], kinds: Part[], counts: number[]): void {
    this.pending = bufs;
    this.pendingParts = kinds;
    this.pendingCounts = counts;
  }
}
