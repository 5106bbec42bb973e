/**
 * The collector's IPC server: a unix socket in a fresh private directory (a random named pipe on
 * Windows) that any number of traced processes and threads connect to, each sending
 * newline-delimited JSON (src/protocol/preload.ts). Lines are split robustly across chunks,
 * oversized lines are dropped, bad lines become warnings; messages go to a Session.
 */

import { lstatSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathOf, pathSystem, type PathSystem } from '../trace/formats/filePath';
import { Session, type SessionOptions } from './session';
import { EventDecoder } from './eventDecoder';
import { preloadPeer } from './preloadPeer';
import { EVENTS_PREFIX, type DecodedEvent } from '../protocol/events';
import { privateFolderProblem } from '../protocol/privateFolder';
import { answerChallenge, newCollectorKey } from './collectorProof';

/** Options of startCollector(). */
export interface CollectorOptions extends SessionOptions {
  /** Longest accepted message line in bytes (default 8 MiB); longer lines are dropped. */
  maxLineBytes?: number;
  /** Connections open at once (default 1024); more are refused with a warning. */
  maxConnections?: number;
  /**
   * Bytes of unfinished lines and blobs held over all connections (default 256 MiB): a connection
   * that would pass it is closed with a warning. Bounds what peers on the socket can make the
   * collector hold, besides the records themselves (see TraceBuilderOptions.maxRecords).
   */
  maxPendingBytes?: number;
}

/** A running collector. */
export interface Collector {
  /** Path to put in PreloadConfig.ipcPath. */
  readonly ipcPath: string;
  /**
   * The session's key, to put in PreloadConfig.collectorKey: the collector proves it first on
   * every connection that asks (src/protocol/collectorProof.ts). Never logged or shown.
   */
  readonly collectorKey: string;
  /** The session the messages go to. */
  readonly session: Session;
  /**
   * Resolves true once every connection has sent `exit` or closed (and none new arrived for
   * `settleMs`, default 50), or false after `timeoutMs` (default 2000). Every connect made before
   * the call is accepted first (one turn of the event loop), so a caller that saw the traced
   * program exit (`nettrace run`) passes `settleMs: 0` and waits for nothing but the bytes.
   */
  waitForIdle(options?: { timeoutMs?: number; settleMs?: number }): Promise<boolean>;
  /** Stops listening, closes connections and removes the socket directory. */
  close(): Promise<void>;
}

/** A blob frame: its header line and the raw bytes that followed it (see BlobMessage). */
export interface BlobFrame {
  header: Buffer;
  data: Buffer;
}

/** How a blob header line starts (the preload writes exactly this prefix). */
const BLOB_PREFIX = Buffer.from('{"type":"blob"');
/** How an events frame's header line starts (src/protocol/events.ts): read like a blob's. */
const EVENTS_HEADER = Buffer.from(EVENTS_PREFIX);

/**
 * Splits a byte stream into lines (without the "\n") and blob frames: a line that is a blob
 * header (`{"type":"blob",…,"len":N}`) is followed by N raw bytes, returned with it. Lines and
 * blobs longer than `maxLineBytes` are dropped whole; `onOversize` is called once per dropped one.
 */
export class LineSplitter {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private discarding = false;
  /**
   * The blob being read: its header, the bytes so far (kept only when `keep`: an oversized one is
   * skipped as it arrives), their count, and how many are still to come.
   */
  private blob: { header: Buffer; parts: Buffer[]; got: number; left: number; keep: boolean } | undefined;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onOversize: () => void = () => {},
  ) {}

  /** Feeds a chunk; returns the complete lines and blob frames it finished, in order. */
  push(chunk: Buffer): Array<Buffer | BlobFrame> {
    const out: Array<Buffer | BlobFrame> = [];
    let start = 0;
    for (;;) {
      if (this.blob) {
        const b = this.blob;
        const take = Math.min(b.left, chunk.length - start);
        // Copy: the socket may reuse the chunk's memory.
        if (b.keep && take > 0) {
          b.parts.push(Buffer.from(chunk.subarray(start, start + take)));
          b.got += take;
        }
        b.left -= take;
        start += take;
        if (b.left > 0) break;
        this.blob = undefined;
        if (b.keep) out.push({ header: b.header, data: b.parts.length === 1 ? b.parts[0] : Buffer.concat(b.parts) });
        continue;
      }
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      let line: Buffer | undefined;
      if (this.discarding) {
        this.discarding = false;
      } else if (this.pendingBytes + piece.length > this.maxLineBytes) {
        this.onOversize();
      } else if (this.pending.length > 0) {
        this.pending.push(piece);
        line = Buffer.concat(this.pending);
      } else {
        line = piece;
      }
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
      if (line === undefined) continue;
      const len = blobLength(line);
      if (len === undefined) out.push(line);
      else {
        const keep = len <= this.maxLineBytes;
        if (!keep) this.onOversize();
        // The header may sit in memory the socket reuses too.
        this.blob = { header: Buffer.from(line), parts: [], got: 0, left: len, keep };
      }
    }
    if (start < chunk.length && !this.discarding && !this.blob) {
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
    return out;
  }

  /**
   * Bytes held in memory for the unfinished message: the line so far, or the kept blob's bytes so
   * far. Not what a header announces: a peer that announces 2^40 bytes and sends few holds few
   * (and an oversized blob is skipped as it arrives, holding nothing).
   */
  get heldBytes(): number {
    return this.pendingBytes + (this.blob ? this.blob.got + this.blob.header.length : 0);
  }

  /** Whether the stream stopped inside a message (a line without its newline, or a blob's bytes). */
  get midMessage(): boolean {
    return this.pendingBytes > 0 || this.blob !== undefined;
  }
}

/** The byte count a blob header line announces, or undefined when the line is not one. */
function blobLength(line: Buffer): number | undefined {
  if (!startsWith(line, BLOB_PREFIX) && !startsWith(line, EVENTS_HEADER)) return undefined;
  try {
    const len = (JSON.parse(line.toString('utf8')) as { len?: unknown }).len;
    return typeof len === 'number' && Number.isSafeInteger(len) && len >= 0 ? len : undefined;
  } catch {
    return undefined;
  }
}

function startsWith(line: Buffer, prefix: Buffer): boolean {
  return line.length >= prefix.length && line.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

/**
 * Where the collector listens, given its fresh private directory `dir`: on Windows a named pipe
 * with a random name (`\\.\pipe\nettrace-<24 hex digits>`: pipes live in their own namespace,
 * not in a directory), elsewhere the unix socket `<dir>/ipc.sock`. `random` gives the pipe's
 * random part (tests pass their own).
 */
export function ipcPathFor(
  dir: string,
  system: PathSystem = pathSystem(),
  random = () => (require('node:crypto') as typeof import('node:crypto')).randomBytes(12).toString('hex'),
): string {
  return system === 'win32' ? `\\\\.\\pipe\\nettrace-${random()}` : pathOf(system).join(dir, 'ipc.sock');
}

/**
 * Longest unix socket path in bytes, per system: `sockaddr_un.sun_path` holds 108 bytes on Linux
 * and 104 on macOS and the BSDs, the terminating NUL included.
 */
export function maxSocketPathBytes(platform: NodeJS.Platform = process.platform): number {
  return platform === 'linux' || platform === 'android' ? 107 : 103;
}

/**
 * Why the collector cannot listen on `ipcPath`, or undefined when it can. A unix socket path over
 * maxSocketPathBytes() is cut short by libuv (seen with Node 20 on Linux): the socket would be
 * created outside the private directory (at the cut-off name, in the shared parent), so it is
 * refused instead. Named pipes (Windows) have no such limit here.
 */
export function socketPathProblem(ipcPath: string, platform: NodeJS.Platform = process.platform): string | undefined {
  if (pathSystem(platform) === 'win32') return undefined;
  const bytes = Buffer.byteLength(ipcPath);
  const max = maxSocketPathBytes(platform);
  if (bytes <= max) return undefined;
  return `the collector's socket path ${ipcPath} is ${bytes} bytes, over the ${max} this system allows: set TMPDIR to a shorter directory (e.g. /tmp)`;
}

/** When a collector's connections were last active, and who waits for that (waitForIdle). */
class Activity {
  last = Date.now();
  private readonly waiters = new Set<() => void>();

  /** A connect, bytes or an end: noted, and every waiter woken. */
  note(): void {
    this.last = Date.now();
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** Resolves at the next activity, or after `ms`. */
  next(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(1, ms));
      this.waiters.add(wake);
    });
  }
}

/** Collector.waitForIdle(). */
async function waitForIdle(session: Session, activity: Activity, { timeoutMs = 2000, settleMs = 50 } = {}): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  // A connect that completed before now waits in the listening socket's queue: the loop's next
  // poll (it does not block while an immediate is pending) accepts it.
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  for (;;) {
    const now = Date.now();
    // Idle: every connection said `exit` or closed (a socket may linger after `exit`), and
    // nothing arrived for `settleMs`, so a pending connect of a process that just exited is seen.
    if (session.idle && now - activity.last >= settleMs) return true;
    if (now >= deadline) return false;
    // Woken by the next activity, or when the settle time or the deadline is reached.
    await activity.next(Math.min(deadline - now, session.idle ? settleMs - (now - activity.last) : deadline - now));
  }
}

/**
 * A fresh private folder in the temporary directory (mkdtemp: mode 0700), named by its real path:
 * the preload checks every folder on the way to it and trusts no symbolic link
 * (src/protocol/privateFolder.ts), so a temporary directory reached through a link (macOS's /var)
 * is written as the folder it leads to.
 */
export function privateDir(prefix: string): string {
  return realpathSync.native(mkdtempSync(join(tmpdir(), prefix)));
}

/**
 * Why a traced process would not trust the collector's folder `dir`, as the preload decides it
 * (src/protocol/privateFolder.ts), or undefined: said when the collector starts rather than
 * leaving the programs untraced without a word. Windows' pipes are not in a folder.
 */
export function untrustedDirProblem(dir: string, platform: NodeJS.Platform = process.platform): string | undefined {
  if (platform === 'win32') return undefined;
  const uids = [process.getuid?.(), process.geteuid?.()].filter((u): u is number => typeof u === 'number');
  const found = privateFolderProblem(dir, uids, lstatSync);
  return 'problem' in found
    ? `traced programs would not trust the collector's folder ${dir}: ${found.problem}; set TMPDIR to a folder only you can change (e.g. /tmp)`
    : undefined;
}

/** Removes the collector's private directory (its socket, a rules file); a failure is harmless. */
function removeDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // Left in the temporary folder: nothing in it outlives the run.
  }
}

/**
 * One preload connection's input: its bytes split into lines and frames (LineSplitter), each
 * parsed or decoded (EventDecoder) and applied to the session in order. The first line goes to
 * `challenge` first, which answers it and returns true when it was the preload's challenge.
 */
export class PreloadInput {
  private readonly splitter: LineSplitter;
  private readonly decoder = new EventDecoder();
  /** Applies each event of a frame as it is decoded (Session.applyEvent). */
  private readonly onEvent = (ev: DecodedEvent): void => this.session.applyEvent(this.connection, ev);
  private first = true;

  constructor(
    private readonly session: Session,
    private readonly connection: number,
    maxLineBytes: number,
    private readonly challenge: (line: Buffer) => boolean,
  ) {
    this.splitter = new LineSplitter(maxLineBytes, () => session.warn(`a preload message over ${maxLineBytes} bytes was dropped`));
  }

  /** Feeds a chunk of the connection's bytes: every message it completes is applied. */
  push(chunk: Buffer): void {
    for (const item of this.splitter.push(chunk)) {
      if (this.first) {
        this.first = false;
        if (Buffer.isBuffer(item) && this.challenge(item)) continue;
      }
      if (Buffer.isBuffer(item)) this.line(item);
      else this.blob(item);
    }
  }

  /** Bytes held for the unfinished message (LineSplitter.heldBytes). */
  get heldBytes(): number {
    return this.splitter.heldBytes;
  }

  /** Whether the bytes so far stop inside a message. */
  get midMessage(): boolean {
    return this.splitter.midMessage;
  }

  private line(line: Buffer): void {
    const text = line.toString('utf8').trim();
    if (text === '') return;
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.session.warn('a preload message was not valid JSON');
      return;
    }
    this.session.apply(this.connection, message);
  }

  private blob(frame: BlobFrame): void {
    let header: unknown;
    try {
      header = JSON.parse(frame.header.toString('utf8'));
    } catch {
      this.session.warn('a preload blob header was not valid JSON');
      return;
    }
    const h = header as { type?: unknown; n?: unknown };
    if (h.type === 'events') {
      const announced = typeof h.n === 'number' && Number.isSafeInteger(h.n) && h.n >= 0 ? h.n : 0;
      const out = this.decoder.each(frame.data, announced, this.onEvent);
      if (out.error !== undefined)
        this.session.warn(
          `a preload events frame was damaged (${out.error}): ${this.decoder.dropped} events dropped on this connection so far`,
        );
      return;
    }
    this.session.apply(this.connection, { ...(header as object), data: frame.data });
  }
}

/** Starts a collector listening on a fresh private socket. */
export async function startCollector(options: CollectorOptions): Promise<Collector> {
  // A recorded exchange's blob holds up to three bodies at the per-body cap (WireExchange).
  const maxLineBytes = options.maxLineBytes ?? Math.max(8 * 1024 * 1024, options.record ? 3 * options.record.maxBodyBytes + 65536 : 0);
  // mkdtemp creates the directory with mode 0700 (on Windows, in the user's own %TEMP%): only this
  // user can reach the socket and the rules file.
  // Sync: one system call each, here and in close(); no thread pool round trip before the program
  // starts (issue 52).
  const dir = privateDir('nettrace-');
  const ipcPath = ipcPathFor(dir);
  const problem = socketPathProblem(ipcPath) ?? untrustedDirProblem(dir);
  if (problem) {
    removeDir(dir);
    throw new Error(problem);
  }
  const session = new Session(options);
  const collectorKey = newCollectorKey();
  // A rule set too large for the environment goes to the programs in a file here (PreloadConfig.rulesFile).
  session.rules.setRulesFile(join(dir, 'rules.json'));
  const sockets = new Set<Socket>();
  const activity = new Activity();
  const maxConnections = options.maxConnections ?? 1024;
  const maxPendingBytes = options.maxPendingBytes ?? 256 * 1024 * 1024;
  let pendingBytes = 0;
  /** Set by close(): the connections it ends were not ended by their processes. */
  let closed = false;

  const server: Server = createServer((socket) => {
    if (sockets.size >= maxConnections) {
      session.warn(`more than ${maxConnections} preload connections at once: the others were refused`);
      socket.destroy();
      return;
    }
    sockets.add(socket);
    activity.note();
    const connection = session.openConnection();
    // Collector → preload: the session's rule sets (src/collector/rules.ts), after the hello;
    // a write that fails never closes the socket before it was read to its end (preloadPeer.ts).
    const peer = preloadPeer(socket);
    session.rules.attach(connection, peer);
    // The first line may be the preload's challenge: answered first, before anything else is written.
    const input = new PreloadInput(session, connection, maxLineBytes, (line) => {
      const proof = answerChallenge(line.toString('latin1'), collectorKey);
      if (proof !== undefined) peer.write(proof);
      return proof !== undefined;
    });
    let held = 0;
    socket.on('data', (chunk: Buffer) => {
      input.push(chunk);
      pendingBytes += input.heldBytes - held;
      held = input.heldBytes;
      if (pendingBytes > maxPendingBytes) {
        session.warn(
          `a preload connection was closed: the collector held more than ${Math.round(maxPendingBytes / 1048576)} MiB of unfinished messages`,
        );
        // Released now, not at its 'close' (a later tick): other connections' data read before
        // then must not find the total still over and be closed for this one.
        pendingBytes -= held;
        held = 0;
        socket.destroy();
      }
      activity.note();
    });
    const done = () => {
      pendingBytes -= held;
      held = 0;
      if (!sockets.delete(socket)) return;
      if (input.midMessage) session.warn('a preload connection ended in the middle of a message');
      session.closeConnection(connection, closed);
      activity.note();
    };
    socket.on('end', done);
    socket.on('close', done);
    socket.on('error', () => done());
  });

  server.on('error', (err) => session.warn(`collector socket error: ${err.message}`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(ipcPath, () => {
      server.off('error', reject);
      resolve();
    });
  });

  return {
    ipcPath,
    collectorKey,
    session,
    waitForIdle: (options) => waitForIdle(session, activity, options),
    async close() {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      session.flushChanges();
      session.dispose();
      removeDir(dir);
    },
  };
}
