/**
 * The preload's connection to its collector, as the transport (transport.ts) opens and closes it:
 * only to a collector in a folder of this process's own (collectorTrust.ts), through `net`'s socket
 * (the collector's data read as it comes), or, where `net` is not loaded at exit, Node's pipe
 * handle (rawPipe). With a session key the challenge is the first thing written
 * (collectorProof.ts); the transport reads the proof.
 *
 * The connection may be opened early (openEarly), before anything is queued, so that the
 * collector's proof is back by the time the transport needs it; open() then takes it over.
 */

import type * as net from 'node:net';
import { bindNet, collectorMayRead, fdOf, netLoaded, orig, rawPipe, type RawPipe } from './collectorNet';
import { checkCollectorFolder, stillOwnFolder } from './collectorTrust';
import { awaitProofSync, CollectorProof } from './collectorProof';
import { EXIT_STALL_MS } from './batching';
import { Part, PipeWriter } from './pipeWriter';

/** What the link tells the transport: the collector went away, or sent bytes. */
export interface LinkEvents {
  gone(): void;
  data(chunk: Buffer): void;
}

/** A connection open() made: its pipe, and with a session key the proof to wait for (its challenge written). */
export interface OpenedLink {
  pipe: PipeWriter;
  proof: CollectorProof | undefined;
  /** Opened early (openEarly): the proof may be in the socket already. */
  early: boolean;
}

/** The collector connection of one transport. Never throws. */
export class CollectorLink {
  private socket: net.Socket | undefined;
  /** The connection as Node's pipe handle, when nothing else owns it (see rawPipe). */
  private raw: RawPipe | undefined;
  /** The connection openEarly() made, its challenge written; open() takes it. */
  private early: { raw: RawPipe; proof: CollectorProof } | undefined;

  constructor(
    private readonly ipcPath: string,
    /** The session's key (PreloadConfig.collectorKey): the collector must prove it first. */
    private readonly key: string | undefined,
    private readonly on: LinkEvents,
  ) {}

  /**
   * Opens the connection and writes its challenge now, before anything is queued, with Node's pipe
   * handle (rawPipe: no `net` loaded, the handle unref'd): the collector answers while the program
   * starts, and open() finds the proof waiting. Without it the challenge went with the first
   * record, and a test runner's worker, which hands a result to its parent right after its first
   * request, waited there for the answer of a collector running below the program's priority
   * (Transport.flushCompletions; issue 65: 25–115 ms in 5 of the vitest suite's 13 workers, each
   * run). Only with a session key; anything in the way (no folder of this process's own, no
   * collector, no pipe handle) leaves the connection to open(), which reports it.
   */
  openEarly(): void {
    if (this.key === undefined || this.early !== undefined || this.socket !== undefined || this.raw !== undefined) return;
    try {
      const folder = checkCollectorFolder(this.ipcPath);
      if (folder !== undefined && 'problem' in folder) return;
      const raw = rawPipe(this.ipcPath, true);
      if (!raw) return;
      if (!stillOwnFolder(folder)) return raw.close();
      const proof = new CollectorProof(this.key);
      // A new connection's buffer takes the challenge's few bytes whole.
      if (orig.writeSync(raw.fd, proof.challenge) !== proof.challenge.length) return raw.close();
      this.early = { raw, proof };
    } catch {
      // open() tries again when the first message comes.
    }
  }

  /**
   * Connects, or takes the early connection over; undefined when the collector cannot be reached
   * or is not in a folder of this process's own (a process that outlived its trace must not talk
   * to whoever made the folder's name again). A unix socket connects within the call (libuv calls
   * connect(2) at once and reports it on the next loop turn), so the fd takes writes at once.
   * `exiting`: the loop will not turn again, nothing is read but the proof (synchronously).
   */
  open(exiting: boolean): OpenedLink | undefined {
    const early = this.early;
    this.early = undefined;
    try {
      if (early) return this.takeOver(early, exiting);
      const folder = checkCollectorFolder(this.ipcPath);
      if (folder !== undefined && 'problem' in folder) return undefined;
      // At exit, where net is not loaded: Node's pipe handle (rawPipe; null: unreachable).
      const raw = exiting && !netLoaded() ? rawPipe(this.ipcPath) : undefined;
      if (raw === null) return undefined;
      let pipe: PipeWriter;
      if (raw) {
        this.raw = raw;
        pipe = new PipeWriter(raw.fd, undefined);
      } else {
        const n = bindNet();
        const socket = new n.CollectorSocket();
        this.listen(n, socket);
        orig.apply(n.connect, socket, [{ path: this.ipcPath }]);
        orig.apply(n.unref, socket, []);
        this.socket = socket;
        pipe = new PipeWriter(fdOf(socket), socket);
      }
      // Connected within the call, nothing written or read yet: the folder must still be the one
      // checked, or the path led somewhere else meanwhile.
      if (!stillOwnFolder(folder)) return this.close();
      if (this.key === undefined) return { pipe, proof: undefined, early: false };
      // The challenge alone, and nothing else until the collector proved the key (collectorProof.ts).
      const proof = new CollectorProof(this.key);
      if (!pipe.write([proof.challenge], [Part.Stats], [0])) return this.close();
      return { pipe, proof, early: false };
    } catch {
      early?.raw.close();
      return this.close();
    }
  }

  /**
   * The early connection (its folder checked when it was opened): at exit its handle as it is,
   * else a collector socket that takes the handle over (`new Socket({ handle })`, as a server does
   * with an accepted one) and reads what the collector sends.
   */
  private takeOver(early: { raw: RawPipe; proof: CollectorProof }, exiting: boolean): OpenedLink {
    if (exiting) {
      this.raw = early.raw;
      return { pipe: new PipeWriter(early.raw.fd, undefined), proof: early.proof, early: true };
    }
    const n = bindNet();
    const socket = new n.CollectorSocket({ handle: early.raw.handle } as net.SocketConstructorOpts);
    this.socket = socket;
    this.listen(n, socket);
    orig.apply(n.unref, socket, []);
    return { pipe: new PipeWriter(early.raw.fd, socket), proof: early.proof, early: true };
  }

  /** The socket's listeners: its end or error is the collector gone; what it sends goes to the transport. */
  private listen(n: ReturnType<typeof bindNet>, socket: net.Socket): void {
    const on = (event: string, fn: (...args: unknown[]) => void) => orig.apply(n.on, socket, [event, fn]);
    on('error', () => this.on.gone());
    on('close', () => this.on.gone());
    // The collector sends the proof, then the session's trace rules; reading everything also
    // keeps the pipe from filling up in that direction.
    on('data', (chunk) => this.on.data(chunk as Buffer));
  }

  /** Closes the connection, if any (returns undefined, for open()'s failures). */
  close(): undefined {
    const socket = this.socket;
    this.socket = undefined;
    try {
      this.early?.raw.close();
      this.early = undefined;
      this.raw?.close();
      this.raw = undefined;
      if (socket) orig.apply(bindNet().destroy, socket, []);
    } catch {
      // Closed already.
    }
    return undefined;
  }
}

/**
 * Writes `text` (a hello naming the connection it continues, the final stats, the exit) through a
 * second connection to the collector at `path`, when the first one's pipe is full at exit: a new
 * connection has empty buffers, and the kernel queues it even while the collector is stopped. Made
 * as the first one is (CollectorLink.open, at exit: only to a collector in a folder of this
 * process's own), and written to only once the collector proved the session's `key` (a stopped
 * one cannot, and gets nothing). Never throws.
 */
export function writeTail(path: string, text: string, key?: string, collectorPid?: number): void {
  const link = new CollectorLink(path, key, { gone: () => {}, data: () => {} });
  try {
    const opened = link.open(true);
    if (!opened || opened.pipe.fd < 0) return void link.close();
    if (opened.proof) {
      const r = awaitProofSync(opened.pipe.fd, opened.proof, 4 * EXIT_STALL_MS, EXIT_STALL_MS, () => collectorMayRead(collectorPid));
      if (!Buffer.isBuffer(r)) return void link.close();
    }
    orig.writeSync(opened.pipe.fd, orig.bufferFrom(text, 'utf8'));
  } catch {
    // Nothing more can be done: the collector is gone or its backlog is full.
  }
}
