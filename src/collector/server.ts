/**
 * The collector's IPC server: a unix socket in a fresh private directory (a random named pipe on
 * Windows) that any number of traced processes and threads connect to, each sending
 * newline-delimited JSON (src/protocol/preload.ts). Lines are split robustly across chunks,
 * oversized lines are dropped, bad lines become warnings; messages go to a Session.
 */

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Session, type SessionOptions } from './session';

/** Options of startCollector(). */
export interface CollectorOptions extends SessionOptions {
  /** Longest accepted message line in bytes (default 8 MiB); longer lines are dropped. */
  maxLineBytes?: number;
}

/** A running collector. */
export interface Collector {
  /** Path to put in PreloadConfig.ipcPath. */
  readonly ipcPath: string;
  /** The session the messages go to. */
  readonly session: Session;
  /**
   * Resolves true once every connection has sent `exit` or closed (and none new arrived for a
   * short settle time), or false after `timeoutMs` (default 2000).
   */
  waitForIdle(options?: { timeoutMs?: number }): Promise<boolean>;
  /** Stops listening, closes connections and removes the socket directory. */
  close(): Promise<void>;
}

/**
 * Splits a byte stream into lines (without the "\n"). Lines longer than `maxLineBytes` are
 * dropped whole; `onOversize` is called once per dropped line.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private discarding = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onOversize: () => void = () => {},
  ) {}

  /** Feeds a chunk; returns the complete lines it finished. */
  push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      if (this.discarding) {
        this.discarding = false;
      } else if (this.pendingBytes + piece.length > this.maxLineBytes) {
        this.onOversize();
      } else if (this.pending.length > 0) {
        this.pending.push(piece);
        lines.push(Buffer.concat(this.pending));
      } else {
        lines.push(piece);
      }
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
    }
    if (start < chunk.length && !this.discarding) {
      const rest = chunk.subarray(start);
      if (this.pendingBytes + rest.length > this.maxLineBytes) {
        this.onOversize();
        this.discarding = true;
        this.pending = [];
        this.pendingBytes = 0;
      } else {
        // Copy: the socket may reuse the chunk's memory.
        this.pending.push(Buffer.from(rest));
        this.pendingBytes += rest.length;
      }
    }
    return lines;
  }

  /** Bytes of an unfinished last line (dropped if the stream ends). */
  get pendingLength(): number {
    return this.pendingBytes;
  }
}

/** Starts a collector listening on a fresh private socket. */
export async function startCollector(options: CollectorOptions): Promise<Collector> {
  const session = new Session(options);
  const maxLineBytes = options.maxLineBytes ?? 8 * 1024 * 1024;
  let dir: string | undefined;
  let ipcPath: string;
  if (process.platform === 'win32') {
    ipcPath = `\\\\.\\pipe\\nettrace-${randomBytes(12).toString('hex')}`;
  } else {
    // mkdtemp creates the directory with mode 0700: only this user can reach the socket.
    dir = await mkdtemp(join(tmpdir(), 'nettrace-'));
    ipcPath = join(dir, 'ipc.sock');
  }
  const sockets = new Set<Socket>();
  let lastActivity = Date.now();

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    lastActivity = Date.now();
    const connection = session.openConnection();
    const splitter = new LineSplitter(maxLineBytes, () => session.warn(`a preload message over ${maxLineBytes} bytes was dropped`));
    socket.on('data', (chunk: Buffer) => {
      lastActivity = Date.now();
      for (const line of splitter.push(chunk)) handleLine(connection, line);
    });
    const done = () => {
      if (!sockets.delete(socket)) return;
      lastActivity = Date.now();
      if (splitter.pendingLength > 0) session.warn('a preload connection ended in the middle of a message');
      session.closeConnection(connection);
    };
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', () => done());
  });

  function handleLine(connection: number, line: Buffer): void {
    const text = line.toString('utf8').trim();
    if (text === '') return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      session.warn('a preload message was not valid JSON');
      return;
    }
    session.apply(connection, message);
  }

  server.on('error', (err) => session.warn(`collector socket error: ${err.message}`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ipcPath, () => {
      server.off('error', reject);
      resolve();
    });
  });

  let closed = false;
  return {
    ipcPath,
    session,
    async waitForIdle({ timeoutMs = 2000 } = {}) {
      const settleMs = 50;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const now = Date.now();
        // Idle: every connection said `exit` or closed (a socket may linger after `exit`), and
        // nothing arrived for a moment, so a just-exited process's pending connect is seen.
        if (session.idle && now - lastActivity >= settleMs) return true;
        if (now >= deadline) return false;
        await new Promise((r) => setTimeout(r, Math.min(20, Math.max(1, deadline - now))));
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      session.flushChanges();
      session.dispose();
      if (dir) await rm(dir, { recursive: true, force: true }).catch(() => {});
    },
  };
}
