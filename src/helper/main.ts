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

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { HelperAuthority, HelperMessage } from '../protocol/helper';
import { checkTarget, invokingUser } from './authority';
import { chownDirectory, loadCap, TracedCapture } from './pcap';

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
  try {
    process.setgroups?.([]);
    process.setgid?.(65534);
    process.setuid?.(65534);
  } catch (e) {
    send({ type: 'warning', message: `could not drop root after setup: ${(e as Error).message}` });
  }
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

  // The capture must see the debuggee's interfaces: run in its network namespace.
  if (root && wantPcap && !process.argv.includes('--in-target-netns')) {
    const mine = readlinkSync('/proc/self/ns/net');
    const theirs = readlinkSync(`/proc/${pid}/ns/net`);
    if (mine !== theirs) {
      const r = spawnSync('nsenter', [`--net=/proc/${pid}/ns/net`, '--', process.execPath, ...process.argv.slice(1), '--in-target-netns'], {
        stdio: 'inherit',
      });
      process.exitCode = r.status ?? 1;
      return;
    }
  }

  let capture: TracedCapture | undefined;
  let captureWhy: string | undefined;
  let spool: string | undefined;
  if (wantPcap && !root) {
    captureWhy = 'packet capture needs root: start the helper as root, through `sudo -n` or pkexec (see native/README.md)';
  } else if (wantPcap) {
    const { cap, why } = loadCap();
    if (!cap) captureWhy = why;
    else {
      try {
        const dir = mkdtempSync(join(tmpdir(), 'nettrace-pcap-'));
        spool = join(dir, 'spool.pcapng');
        capture = new TracedCapture(cap, { spool, maxBytes, bufferMiB: Number(arg('--pcap-buffer-mib') ?? 128) });
        // Draining the capture ring must not wait behind the traced program and its peers: a
        // starved event loop is what overflows the ring (kernel drops). Root may raise priority.
        try {
          setPriority(-10);
        } catch {
          /* not allowed: keep the default */
        }
        // By descriptor, the file before its directory: once the directory is the user's, they
        // can swap the names in it, and a chown by name would follow their symlink.
        capture.writer.chown(user.uid, user.gid);
        chownDirectory(dir, user.uid, user.gid);
      } catch (e) {
        captureWhy = `packet capture could not start: ${(e as Error).message}`;
        capture = undefined;
      }
    }
  }

  const native = nativeHelperPath();
  if (!existsSync(native)) {
    send({ type: 'error', code: 'ENOENT', message: `${native} is missing: run scripts/install-native-deps.sh and npm run build:native` });
    send({ type: 'exit', reason: 'native helper missing' });
    process.exitCode = 1;
    return;
  }
  const nargs = ['--pid', String(pid)];
  if (process.argv.includes('--no-conntrack')) nargs.push('--no-conntrack');
  const upd = arg('--update-ms');
  if (upd) nargs.push('--update-ms', upd);
  const fds = capture?.fds ?? [];
  if (fds.length) nargs.push('--capture-fds', fds.map((_, i) => i + 3).join(','));
  nargs.push('--authority', authority);
  // Without a capture nothing here needs the native helper's lines: they go straight to our
  // parent (no relay cost per connection). With one, this process watches for wireTuple lines.
  const relay = Boolean(capture);
  const child = spawn(native, nargs, { stdio: ['pipe', relay ? 'pipe' : 'inherit', 'inherit', ...fds] });

  let lastCaptureSent = '';
  const sendCapture = (force: boolean) => {
    if (!capture || !spool) return;
    const m: HelperMessage = {
      type: 'capture',
      spool,
      interfaces: capture.devices.map((d) => d.name),
      packets: capture.writer.packets,
      bytes: capture.writer.bytes,
      truncated: capture.writer.truncated,
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
      capture?.setUnfiltered(m.captureUnfiltered ?? [], m.captureMarker);
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
      sendCapture(true);
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
    capture?.writer.flush();
    sendCapture(false);
  }, 1000);
  tick.unref();

  // Our parent's commands go to the native helper; when the parent goes, stdin ends and so do we.
  createInterface({ input: process.stdin })
    .on('line', (line) => {
      try {
        const c = JSON.parse(line) as { type?: string };
        if (c.type === 'stop' || c.type === 'stats' || c.type === 'snapshot') child.stdin?.write(c.type + '\n');
      } catch {
        /* not a command */
      }
    })
    .on('close', () => child.stdin?.end());
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => child.stdin?.end());
  child.on('exit', (code) => {
    void finish().then(() => process.exit(code ?? 1));
  });
}

main();
