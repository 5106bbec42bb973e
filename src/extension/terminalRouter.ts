/**
 * One trace per command typed into a JavaScript Debug Terminal. The terminal's environment is
 * fixed when it is created, so every Node process started in it gets the same NETTRACE_CONFIG:
 * its `ipcPath` is this router's socket, not a collector's. The router reads the first line of
 * each preload connection (the `hello`, with the process id), finds the command the process
 * belongs to — on Linux the ancestor that is a direct child of the terminal's shell, read from
 * /proc — and relays the connection, both ways and byte for byte, to that command's collector,
 * started on the command's first connection and labelled with its command line. Where there is no
 * /proc (macOS, Windows) or the ancestry is lost (a daemon reparented to init), the processes go to
 * one trace for the terminal. Like a collector, the router has a key of its own in the terminal's
 * NETTRACE_CONFIG and proves it to each process first; it asks each command's collector to prove
 * that collector's key before it relays a byte (src/protocol/collectorProof.ts). Pure Node (no
 * `vscode`): test/unit/terminalRouter.test.mjs.
 */

import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { basename, join } from 'node:path';
import { privateDir, untrustedDirProblem } from '../collector/server';
import { answerChallenge, newChallenge, newCollectorKey, provesKey } from '../collector/collectorProof';
import { MAX_PROOF_LINE } from '../protocol/collectorProof';
import { redactArgv, redactedArgNames, type SecretNames } from '../trace/contract/redact';

/** A command's trace, as the router's owner opened it. */
export interface RoutedTrace {
  /** The trace key. */
  key: string;
  /** The collector's IPC path. */
  ipcPath: string;
  /** The collector's key (Collector.collectorKey): it must prove it before the router relays to it. */
  collectorKey?: string;
}

/** What a TerminalRouter needs from its owner. */
export interface TerminalRouterOptions {
  /** The shell's process id, once known (undefined: one trace for the terminal). */
  shellPid: () => number | undefined;
  /** Opens the trace of a command (`label`: its command line, or undefined for the terminal's). */
  open: (label: string | undefined) => Promise<RoutedTrace | undefined>;
  /** A command's processes have all closed their connections for `idleMs`: its trace may end. */
  idle: (key: string) => void;
  /** How long a command's trace stays open with no connection (default 3000 ms). */
  idleMs?: number;
  /** Reads a /proc file (default fs.readFileSync; tests pass their own). */
  readProc?: (path: string) => string;
  /** The secret option names redacted from command lines (default: redactedArgNames()). */
  argNames?: SecretNames;
  log?: (line: string) => void;
}

/** Parents remembered from hellos (the oldest forgotten first). */
const MAX_KNOWN_PARENTS = 10_000;

/** The most bytes read before a connection is routed (a hello is far shorter). */
const MAX_HELLO_BYTES = 64 * 1024;

/** The process id's parent, from /proc/<pid>/stat (the field after the parenthesized command name); undefined when unreadable. */
export function parentPid(pid: number, readProc: (path: string) => string): number | undefined {
  try {
    const stat = readProc(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The ancestor of `pid` (or `pid` itself) whose parent is `shellPid`; undefined when the chain does
 * not reach the shell. `known`: parents the processes' own hellos gave (`process.ppid` at their
 * start), read before /proc — a process whose parent has exited is reparented (to init or a
 * subreaper) and one that has exited is gone from /proc, both likely by the time its connection
 * is routed on a busy machine.
 */
export function commandRoot(
  pid: number,
  shellPid: number,
  readProc: (path: string) => string,
  known?: ReadonlyMap<number, number>,
): number | undefined {
  let cur = pid;
  for (let depth = 0; depth < 64; depth++) {
    if (cur === shellPid) return undefined;
    const parent = known?.get(cur) ?? parentPid(cur, readProc);
    if (parent === undefined || parent <= 1) return undefined;
    if (parent === shellPid) return cur;
    cur = parent;
  }
  return undefined;
}

/**
 * A command line as the user typed it, from /proc/<pid>/cmdline: the program and script paths by
 * their base names (`node shop.js`), npm's and npx's CLI scripts by their command (`npm run start`),
 * the values of secret options redacted as in the trace's `processes[].argv` (redactArgv with
 * `names`: `--db-password=<redacted>`, `--token <redacted>`). It becomes the trace's label and
 * description, which are kept and shown (panel, saved sessions, Output channel, HAR comment).
 */
export function commandLabel(argv: readonly string[], names: SecretNames = redactedArgNames()): string {
  if (argv.length === 0) return '';
  const [exe, ...rest] = redactArgv(argv, names);
  const script = rest[0] ?? '';
  const cli = /(?:^|[\\/])(npm|npx|pnpm|yarn)(?:-cli)?\.(?:c?js)$/.exec(script);
  const words = cli
    ? [cli[1], ...rest.slice(1)]
    : [basename(exe), ...rest.map((a) => (/^[\\/]/.test(a) && !a.startsWith('-') ? basename(a) : a))];
  return words.join(' ').slice(0, 200);
}

/**
 * The pid of the `hello` among the first complete lines of a preload connection (a due `stats`
 * line may come first); 'more' while no hello and no other kind of frame came yet; undefined when
 * the connection starts otherwise (a binary frame, an unreadable line).
 */
export function helloPid(data: Buffer): number | undefined | 'more' {
  const hello = helloOf(data);
  return typeof hello === 'object' ? hello.pid : hello;
}

/** helloPid(), with the parent the hello names (`ppid`) when it names one. */
export function helloOf(data: Buffer): { pid: number; ppid?: number; argv?: string[] } | undefined | 'more' {
  let start = 0;
  for (let lines = 0; lines < 8; lines++) {
    const nl = data.indexOf(10, start);
    if (nl < 0) return 'more';
    let msg: { type?: unknown; pid?: unknown } | undefined;
    try {
      msg = JSON.parse(data.subarray(start, nl).toString('utf8')) as typeof msg;
    } catch {
      return undefined;
    }
    if (msg?.type === 'hello') {
      if (typeof msg.pid !== 'number') return undefined;
      const { ppid, argv } = msg as { ppid?: unknown; argv?: unknown };
      const hello: { pid: number; ppid?: number; argv?: string[] } = { pid: msg.pid };
      if (typeof ppid === 'number' && Number.isInteger(ppid) && ppid > 1) hello.ppid = ppid;
      if (Array.isArray(argv) && argv.every((a) => typeof a === 'string')) hello.argv = argv as string[];
      return hello;
    }
    if (msg?.type !== 'stats') return undefined;
    start = nl + 1;
  }
  return undefined;
}

/** A command's routed trace and its open connections. */
interface Group {
  trace: Promise<RoutedTrace | undefined>;
  conns: number;
  timer?: NodeJS.Timeout;
}

/** The relay of one JavaScript Debug Terminal's preload connections to one trace per command. */
export class TerminalRouter {
  private server: Server | undefined;
  private dir: string | undefined;
  private readonly groups = new Map<string, Group>();
  private readonly sockets = new Set<Socket>();
  /** Each traced process's parent, from its hello (bounded: a terminal's processes). */
  private readonly parents = new Map<number, number>();
  /** The router's socket, for NETTRACE_CONFIG's `ipcPath` (set by `listen`). */
  ipcPath = '';
  /** The router's key, for NETTRACE_CONFIG's `collectorKey`: proved to each process that asks. */
  readonly collectorKey = newCollectorKey();

  constructor(private readonly options: TerminalRouterOptions) {}

  /** Listens on a new socket in a private (0700) directory; returns its path. */
  async listen(): Promise<string> {
    // The preload trusts only a private folder of its user reached without links (privateDir).
    this.dir = privateDir('nettrace-term-');
    const problem = untrustedDirProblem(this.dir);
    if (problem) throw new Error(problem);
    this.ipcPath = process.platform === 'win32' ? `\\\\.\\pipe\\${basename(this.dir)}` : join(this.dir, 'ipc.sock');
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(this.ipcPath, () => resolve()));
    server.on('error', (err) => this.options.log?.(`terminal router: ${err.message}`));
    return this.ipcPath;
  }

  /** The keys of the traces opened so far, oldest first. */
  async keys(): Promise<string[]> {
    const traces = await Promise.all([...this.groups.values()].map((g) => g.trace));
    return traces.filter((t): t is RoutedTrace => t !== undefined).map((t) => t.key);
  }

  /** Stops listening and drops every relayed connection (the terminal closed). */
  async close(): Promise<void> {
    for (const g of this.groups.values()) clearTimeout(g.timer);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const chunks: Buffer[] = [];
    let size = 0;
    let answered = false;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      let all = chunks.length === 1 ? chunk : Buffer.concat(chunks);
      if (!answered) {
        // The process's challenge, its first line: answered with the router's proof, not relayed.
        const nl = all.indexOf(10);
        if (nl < 0 && size < MAX_HELLO_BYTES) return;
        answered = true;
        const proof = nl < 0 ? undefined : answerChallenge(all.toString('latin1', 0, nl), this.collectorKey);
        if (proof !== undefined) {
          socket.write(proof);
          all = all.subarray(nl + 1);
          chunks.length = 0;
          chunks.push(all);
          size = all.length;
        }
      }
      const found = helloOf(all);
      if (found === 'more' && size < MAX_HELLO_BYTES) return;
      socket.off('data', onData);
      socket.pause();
      const hello = typeof found === 'object' ? found : undefined;
      if (hello?.ppid !== undefined) {
        if (this.parents.size >= MAX_KNOWN_PARENTS) this.parents.delete(this.parents.keys().next().value!);
        this.parents.set(hello.pid, hello.ppid);
      }
      void this.route(socket, all, hello?.pid, hello?.argv);
    };
    socket.on('data', onData);
  }

  /**
   * Which command the process `pid` belongs to: [group key, label]. The label is the command's
   * /proc cmdline, or, when the process is the command itself and has exited already (a short
   * program, its stream read late on a busy machine), the argv its hello gave (`helloArgv`).
   */
  private groupOf(pid: number | undefined, helloArgv: string[] | undefined): [string, string | undefined] {
    const shell = this.options.shellPid();
    if (pid === undefined || shell === undefined || process.platform !== 'linux') return ['terminal', undefined];
    const read = this.options.readProc ?? ((p: string) => readFileSync(p, 'utf8'));
    const root = commandRoot(pid, shell, read, this.parents);
    if (root === undefined) return ['terminal', undefined];
    let argv: string[] = [];
    try {
      argv = read(`/proc/${root}/cmdline`).split('\0').filter(Boolean);
    } catch {
      // gone already: its hello's argv below when it is the command, else labelled by its pid
    }
    if (argv.length === 0 && root === pid && helloArgv !== undefined) argv = helloArgv;
    return [`pid ${root}`, commandLabel(argv, this.options.argNames) || `pid ${root}`];
  }

  private async route(socket: Socket, buffered: Buffer, pid: number | undefined, argv: string[] | undefined): Promise<void> {
    const [id, label] = this.groupOf(pid, argv);
    let group = this.groups.get(id);
    if (!group) {
      group = { trace: this.options.open(label), conns: 0 };
      this.groups.set(id, group);
    }
    clearTimeout(group.timer);
    group.conns++;
    const g = group;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      if (--g.conns > 0) return;
      g.timer = setTimeout(() => {
        if (g.conns > 0 || this.groups.get(id) !== g) return;
        this.groups.delete(id);
        void g.trace.then((t) => t && this.options.idle(t.key));
      }, this.options.idleMs ?? 3000);
    };
    socket.on('close', release);
    const trace = await g.trace;
    if (!trace) {
      socket.destroy();
      release();
      return;
    }
    const up = createConnection(trace.ipcPath);
    this.sockets.add(up);
    up.on('close', () => (this.sockets.delete(up), socket.destroy()));
    up.on('error', () => up.destroy());
    if (trace.collectorKey !== undefined && !(await proven(up, trace.collectorKey))) {
      up.destroy();
      socket.destroy();
      return;
    }
    up.write(buffered);
    // A short program's whole stream can come with its hello, and its connection end while the
    // command's trace opens (a collector started on a busy machine): what was read goes on all the same.
    if (socket.destroyed || socket.readableEnded) {
      up.end();
      return;
    }
    socket.on('close', () => up.end());
    socket.pipe(up);
    up.pipe(socket);
    socket.resume();
  }
}

/**
 * Whether the collector at the other end of `up` proves `key` (its first line, read here and not
 * relayed); what followed the proof is put back, the socket paused, for the relay.
 */
function proven(up: Socket, key: string): Promise<boolean> {
  const { line, expect } = newChallenge(key);
  up.write(line);
  return new Promise((resolve) => {
    let got = Buffer.alloc(0);
    const done = (ok: boolean, rest?: Buffer): void => {
      up.off('data', onData);
      up.off('close', onClose);
      up.pause();
      if (ok && rest !== undefined && rest.length > 0) up.unshift(rest);
      resolve(ok);
    };
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      const nl = got.indexOf(10);
      if (nl >= 0) done(provesKey(got.subarray(0, nl + 1), expect), got.subarray(nl + 1));
      else if (got.length >= MAX_PROOF_LINE) done(false);
    };
    const onClose = (): void => done(false);
    up.on('data', onData);
    up.on('close', onClose);
  });
}
