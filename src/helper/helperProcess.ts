/**
 * dist/helper.cjs — the privileged helper's Node side. Started by the collector (see launch.ts)
 * as root, through `sudo -n`, or through pkexec; talks only to its parent over stdio
 * (src/protocol/helper.ts).
 *
 *   node dist/helper.cjs --pid PID [--pcap] [--pcap-max-bytes N] [--pcap-buffer-mib N]
 *                        [--no-conntrack] [--update-ms N]
 *
 * It checks that PID belongs to the invoking user, opens the packet capture (if asked), then runs
 * native/build/nettrace-helper, which attaches the eBPF programs, the capture's kernel filter and
 * conntrack and drops the privileges it no longer needs; this process relays its lines, writes
 * the packets of verified connections to a pcapng spool owned by the invoking user, and exits
 * when the native helper, its parent (stdin closed) or the target ends.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { HelperAuthority, HelperMessage } from '../protocol/helper';
import { checkTarget, invokingUser } from './authority';
import { environmentRefusal, resetEnvironment, systemProgram } from './rootEnv';
import { SETUP_HINT } from './setupHint';
import { chownDirectory, DEFAULT_CAPTURE_BUFFER_MIB, TracedCapture } from './pcap';

function send(m: HelperMessage): void {
  process.stdout.write(JSON.stringify(m) + '\n');
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/**
 * native/build/nettrace-helper next to this bundle's repository (dist/.. /native/build). Never
 * taken from the environment or arguments: this process may run as root on a user's behalf.
 */
export function nativeHelperPath(): string {
  return join(dirname(__dirname), 'native', 'build', 'nettrace-helper');
}

function authorityOf(): HelperAuthority {
  if (process.getuid?.() !== 0) return 'unprivileged';
  if (process.env.SUDO_UID) return 'sudo';
  if (process.env.PKEXEC_UID) return 'pkexec';
  return 'root';
}

/**
 * Once the native helper is attached and the capture sockets carry its filter, this process needs
 * no privilege: it reads packets from sockets it holds, writes a spool file it holds open, and
 * talks over pipes. It becomes `nobody` (not the invoking user, who could then ptrace it and
 * re-filter the capture sockets; the uid change also makes it non-dumpable).
 */
function dropRoot(): void {
  if (process.getuid?.() !== 0 && process.geteuid?.() !== 0) return;
  try {
    process.setgroups?.([]);
    process.setgid?.(65534);
    // setuid() from 0 to a non-zero uid (real, effective and saved) clears the permitted,
    // effective and ambient capability sets (capabilities(7), "Effect of user ID changes").
    process.setuid?.(65534);
  } catch (e) {
    send({ type: 'warning', message: `could not drop root after setup: ${(e as Error).message}` });
  }
}

/** Longest command line accepted on stdin (commands are a few dozen bytes). */
export const MAX_COMMAND_LINE_BYTES = 4096;

/**
 * Reads newline-delimited commands from `input` with a bounded buffer: a line longer than
 * `maxBytes` is skipped up to its newline (never held in memory) and reported once through
 * `onOverlong`. Calls `onClose` when the input ends.
 */
export function readBoundedLines(
  input: NodeJS.ReadableStream,
  maxBytes: number,
  onLine: (line: string) => void,
  onOverlong: (bytesSoFar: number) => void,
  onClose: () => void,
): void {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let discarding = false;
  input.on('data', (chunk: Buffer | string) => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(0x0a, start);
      const end = nl < 0 ? buf.length : nl;
      if (!discarding) {
        if (pendingBytes + (end - start) > maxBytes) {
          onOverlong(pendingBytes + (end - start));
          discarding = true;
          pending = [];
          pendingBytes = 0;
        } else if (end > start) {
          pending.push(Buffer.from(buf.subarray(start, end)));
          pendingBytes += end - start;
        }
      }
      if (nl < 0) break;
      if (!discarding) onLine(Buffer.concat(pending).toString('utf8'));
      discarding = false;
      pending = [];
      pendingBytes = 0;
      start = nl + 1;
    }
  });
  input.on('end', onClose);
  input.on('close', onClose);
  input.on('error', onClose);
}

/** `--pcap-buffer-mib N` (1 to 1024), else the default; a bad value is said and not used. */
function captureBufferMiB(): number {
  const raw = arg('--pcap-buffer-mib');
  if (raw === undefined) return DEFAULT_CAPTURE_BUFFER_MIB;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1 && n <= 1024) return n;
  send({ type: 'warning', message: `--pcap-buffer-mib takes 1 to 1024, not "${raw.slice(0, 20)}": using ${DEFAULT_CAPTURE_BUFFER_MIB}` });
  return DEFAULT_CAPTURE_BUFFER_MIB;
}

/**
 * The capture must see the debuggee's interfaces: when the target is in another network namespace,
 * a copy of this helper runs inside it and does the work; this process only waits for it (and
 * needs no privilege for that). True when that copy was started.
 */
function reexecInTargetNetns(pid: number): boolean {
  const mine = readlinkSync('/proc/self/ns/net');
  const theirs = readlinkSync(`/proc/${pid}/ns/net`);
  if (mine === theirs) return false;
  // By an absolute path checked to be root's: this runs as root, and a PATH lookup would take
  // the caller's PATH when sudo passes it (no secure_path).
  const nsenter = systemProgram('nsenter');
  if (!nsenter.path) {
    send({ type: 'error', code: 'ENOENT', message: `could not enter the target's network namespace: ${nsenter.problem}` });
    send({ type: 'exit', reason: 'nsenter failed' });
    process.exit(1);
  }
  const inner = spawn(nsenter.path, [`--net=/proc/${pid}/ns/net`, '--', process.execPath, ...process.argv.slice(1), '--in-target-netns'], {
    stdio: 'inherit',
  });
  dropRoot();
  inner.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 15 : 1)));
  inner.on('error', (e) => {
    send({ type: 'error', code: 'ENOENT', message: `could not enter the target's network namespace: ${e.message}` });
    send({ type: 'exit', reason: 'nsenter failed' });
    process.exit(1);
  });
  return true;
}

/** The packet capture of the traced connections, or why there is none; its spool is the user's. */
function startCapture(
  root: boolean,
  user: { uid: number; gid: number },
  maxBytes: number,
): { capture?: TracedCapture; captureWhy?: string; spool?: string } {
  if (!root)
    return { captureWhy: `packet capture needs root: start the helper as root or through \`sudo -n\`; ${SETUP_HINT} with packet capture` };
  try {
    const dir = mkdtempSync(join(tmpdir(), 'nettrace-pcap-'));
    const spool = join(dir, 'spool.pcapng');
    const capture = new TracedCapture({ spool, maxBytes });
    // The native helper's reader thread waits on this process when the packet stream's pipe is
    // full, and the rings overflow meanwhile (kernel drops): do not wait behind the traced
    // program and its peers. Root may raise priority.
    try {
      setPriority(-10);
    } catch {
      /* not allowed: keep the default */
    }
    // By descriptor, the file before its directory: once the directory is the user's, they
    // can swap the names in it, and a chown by name would follow their symlink.
    capture.chown(user.uid, user.gid);
    chownDirectory(dir, user.uid, user.gid);
    return { capture, spool };
  } catch (e) {
    return { captureWhy: `packet capture could not start: ${(e as Error).message}` };
  }
}

/**
 * As root, the environment becomes the fixed one of rootEnv.ts before anything reads it; false
 * (after the error and exit lines) when it must not run at all (rootEnv.ts environmentRefusal).
 */
function settleEnvironment(): boolean {
  const euid = process.geteuid?.() ?? -1;
  const refusal = environmentRefusal(process.env, euid);
  if (refusal) {
    send({ type: 'error', code: refusal.code, message: refusal.message });
    send({ type: 'exit', reason: 'refused' });
    process.exitCode = 3;
    return false;
  }
  if (euid === 0) resetEnvironment();
  return true;
}

function main(): void {
  const pid = Number(arg('--pid'));
  const wantPcap = process.argv.includes('--pcap');
  const maxBytes = Number(arg('--pcap-max-bytes') ?? 100 * 1024 * 1024);
  const user = invokingUser();
  const refusal = checkTarget(pid, user.uid);
  if (refusal) {
    send({ type: 'error', code: refusal.code, message: refusal.message });
    send({ type: 'exit', reason: 'refused' });
    process.exitCode = 3;
    return;
  }
  const authority = authorityOf();
  const root = authority !== 'unprivileged';

  if (root && wantPcap && !process.argv.includes('--in-target-netns') && reexecInTargetNetns(pid)) return;

  const started = wantPcap ? startCapture(root, user, maxBytes) : {};
  let capture = started.capture;
  const { captureWhy, spool } = started;

  const native = nativeHelperPath();
  if (!existsSync(native)) {
    send({ type: 'error', code: 'ENOENT', message: `${native} is missing: ${SETUP_HINT}` });
    send({ type: 'exit', reason: 'native helper missing' });
    process.exitCode = 1;
    return;
  }
  const nargs = ['--pid', String(pid)];
  if (process.argv.includes('--no-conntrack')) nargs.push('--no-conntrack');
  const upd = arg('--update-ms');
  if (upd) nargs.push('--update-ms', upd);
  // The capture: the native helper opens and reads the packet sockets, and streams the packets
  // of the kernel filter's tuples to us on fd 3.
  if (capture) nargs.push('--capture-pipe', '3', '--capture-ring-mib', String(captureBufferMiB()));
  nargs.push('--authority', authority);
  // Without a capture nothing here needs the native helper's lines: they go straight to our
  // parent (no relay cost per connection). With one, this process watches for wireTuple lines.
  const relay = Boolean(capture);
  const child = spawn(native, nargs, { stdio: ['pipe', relay ? 'pipe' : 'inherit', 'inherit', ...(capture ? ['pipe' as const] : [])] });
  const packets = child.stdio[3];
  if (capture && packets && 'on' in packets) capture.attach(packets as Readable);
  // Without a capture this process only passes commands on: the native helper (already started
  // with what it needs) drops its own privileges; this one drops root now, for the whole session.
  if (!relay) dropRoot();

  let lastCaptureSent = '';
  const sendCapture = (force: boolean) => {
    if (!capture || !spool) return;
    const m: HelperMessage = {
      type: 'capture',
      spool,
      interfaces: capture.devices.map((d) => d.name),
      packets: capture.packets,
      bytes: capture.bytes,
      truncated: capture.truncated,
      unattributed: capture.unattributed,
    };
    const s = JSON.stringify(m);
    if (force || s !== lastCaptureSent) send(m);
    lastCaptureSent = s;
  };

  // Most lines (metrics, conntrack) pass through as they are, a chunk at a time: parsing them here
  // would only cost CPU next to the traced program. Only the ones this process acts on are parsed.
  let rest = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    let out = '';
    for (const line of lines) {
      if (/^\{"type":"(ready|wireTuple|wireClosed|exit)"/.test(line)) {
        if (out) process.stdout.write(out);
        out = '';
        onLine(line);
      } else if (line) out += line + '\n';
    }
    if (out) process.stdout.write(out);
  });
  function onLine(line: string): void {
    let m: HelperMessage;
    try {
      m = JSON.parse(line) as HelperMessage;
    } catch {
      send({ type: 'warning', message: `native helper wrote a non-JSON line: ${line.slice(0, 200)}` });
      return;
    }
    if (m.type === 'wireTuple') capture?.addVerified(m.pid, m.addrTuple, m.wire, m.proto);
    if (m.type === 'wireClosed') capture?.closeVerified(m.wire, m.graceMs);
    if (m.type === 'ready') {
      m.authority = authority;
      if (wantPcap && (!capture || !m.features.captureFilter)) {
        m.unavailable.capture = captureWhy ?? m.unavailable.capture ?? 'the capture filter could not be attached';
        if (capture && !m.features.captureFilter) {
          void capture.close();
          capture = undefined;
        }
      } else if (!wantPcap) {
        m.unavailable.capture = 'not requested (--pcap)';
      }
      send(m);
      // Its interfaces come first on the packet stream (already written when ready was).
      if (capture) void capture.started.then(() => sendCapture(true));
      if (root) dropRoot();
      return;
    }
    if (m.type === 'exit') {
      // The capture's last counts come before the exit line, once the spool is complete.
      exitLine = m;
      void finish();
      return;
    }
    send(m);
  }

  let exitLine: HelperMessage | undefined;
  let finishing: Promise<void> | undefined;
  const finish = (): Promise<void> =>
    (finishing ??= (async () => {
      if (capture) {
        await capture.close();
        sendCapture(true);
      }
      if (exitLine) send(exitLine);
    })());
  const tick = setInterval(() => {
    capture?.flush();
    sendCapture(false);
  }, 1000);
  tick.unref();

  relayCommands(child);
  child.on('exit', (code) => {
    void finish().then(() => process.exit(code ?? 1));
  });
}

/**
 * Our parent's commands go to the native helper; when the parent goes (stdin ends, a signal, or
 * our stdout's reader is gone), the native helper is told to stop, and so do we once it exits.
 */
function relayCommands(child: ChildProcess): void {
  // The line length is bounded: this process may run as root, and a parent (or anyone writing to
  // its stdin) must not grow it without limit.
  readBoundedLines(
    process.stdin,
    MAX_COMMAND_LINE_BYTES,
    (line) => {
      try {
        const c = JSON.parse(line) as { type?: string } | null;
        if (c && (c.type === 'stop' || c.type === 'stats' || c.type === 'snapshot')) child.stdin?.write(c.type + '\n');
      } catch {
        /* not a command */
      }
    },
    (n) => send({ type: 'warning', message: `a command line over ${MAX_COMMAND_LINE_BYTES} bytes was ignored (${n}+ bytes)` }),
    () => child.stdin?.end(),
  );
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => child.stdin?.end());
  // The reader went away (EPIPE: the collector exited or closed the pipe): nobody is left to
  // tell, so stop the native helper as on a signal rather than die of an unhandled 'error'.
  process.stdout.on('error', () => child.stdin?.end());
}

if (settleEnvironment()) main();
