/**
 * The unprivileged side: how the collector starts the helper and reads its lines.
 *
 * Ways to get privileges, tried in this order by `authority: 'auto'` (see native/README.md):
 *   root          the collector already runs as root: the native helper directly (with
 *                 `--pcap`: `node dist/helper.cjs`, which holds the capture's spool)
 *   capabilities  native/build/nettrace-helper carries file capabilities (`setcap`): run it
 *                 directly as the user (eBPF metrics and conntrack; no packet capture)
 *   sudo          `sudo -n node dist/helper.cjs` succeeds without a password prompt
 *   pkexec        an interactive session with a polkit agent: `pkexec node dist/helper.cjs`
 *   unprivileged  the native helper as the user: tcp_info through inet_diag only
 *
 * To not miss the first connection, start the debuggee with `spawnGated()`, start the helper on
 * its pid, wait for `ready`, then `release()` the debuggee.
 */

import { execFile, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { isatty } from 'node:tty';
import { EventEmitter } from 'node:events';
import { accessSync, constants, existsSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isArrivalLine, type HelperAuthority, type HelperCommand, type HelperLine, type HelperReadyMessage } from '../protocol/helper';
import { probeKey, recallProbes, rememberProbes, type ProbeFacts } from './probeCache';
import { KEPT_VARIABLES, ROOT_PATH } from './rootEnv';
import { SETUP_HINT } from './setupHint';

/** Options of `startHelper()`. */
export interface HelperOptions {
  /** The debuggee's pid: the root of the traced process tree. */
  pid: number;
  /** Capture the traced connections' packets (root, sudo and pkexec only). */
  pcap?: boolean;
  pcapMaxBytes?: number;
  /** Kernel capture buffer per device, MiB (the helper's default: 16). */
  pcapBufferMiB?: number;
  conntrack?: boolean;
  /** Metrics update interval while a connection lives (bpf mode), ms. */
  updateMs?: number;
  authority?: HelperAuthority | 'auto';
  /** Repository root holding dist/helper.cjs and native/build (default: this bundle's ../). */
  root?: string;
  /** Node binary for dist/helper.cjs (default: this process's). */
  nodePath?: string;
}

/**
 * The command line that starts the helper with the given authority; `env`, when set, is the whole
 * environment to start it with (the native helper started as root directly: see rootNativeEnv).
 */
export function helperCommand(
  opts: HelperOptions,
  authority: HelperAuthority,
): { command: string; args: string[]; env?: NodeJS.ProcessEnv } {
  const root = opts.root ?? dirname(__dirname);
  const script = join(root, 'dist', 'helper.cjs');
  const native = join(root, 'native', 'build', 'nettrace-helper');
  const node = opts.nodePath ?? process.execPath;
  const common = ['--pid', String(opts.pid)];
  if (opts.conntrack === false) common.push('--no-conntrack');
  if (opts.updateMs) common.push('--update-ms', String(opts.updateMs));
  const nodeArgs = [script, ...common];
  if (opts.pcap) nodeArgs.push('--pcap');
  if (opts.pcapMaxBytes) nodeArgs.push('--pcap-max-bytes', String(opts.pcapMaxBytes));
  if (opts.pcapBufferMiB) nodeArgs.push('--pcap-buffer-mib', String(opts.pcapBufferMiB));
  switch (authority) {
    case 'root':
      // Without a capture the Node side would only relay lines and drop root (issue 65: its start
      // was ≈ 40–60 ms before the program may start): the native helper checks the target, and
      // drops its own privileges, itself.
      if (!opts.pcap) return { command: native, args: [...common, '--authority', rootLabel(process.env)], env: rootNativeEnv(process.env) };
      return { command: node, args: nodeArgs };
    case 'sudo':
      return { command: 'sudo', args: ['-n', '--', node, ...nodeArgs] };
    case 'pkexec':
      return { command: 'pkexec', args: [node, ...nodeArgs] };
    case 'capabilities':
      return { command: native, args: [...common, '--authority', 'capabilities'] };
    case 'unprivileged':
      return { command: native, args: [...common, '--mode', 'inet_diag', '--authority', 'unprivileged'] };
  }
}

/**
 * The environment of the native helper started as root by the collector: nothing but who it
 * works for (`SUDO_*`, `PKEXEC_UID`: a collector started with `sudo` traces for that user, as the
 * Node side would) and a system `PATH` (rootEnv.ts: the same the Node side resets to).
 */
function rootNativeEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { PATH: ROOT_PATH };
  for (const k of KEPT_VARIABLES) if (env[k] !== undefined) out[k] = env[k];
  if (env.NETTRACE_HELPER_DEBUG) out.NETTRACE_HELPER_DEBUG = env.NETTRACE_HELPER_DEBUG;
  return out;
}

/** The `authority` a root process reports: as the Node side's (main.ts authorityOf). */
function rootLabel(env: NodeJS.ProcessEnv): HelperAuthority {
  if (env.SUDO_UID) return 'sudo';
  if (env.PKEXEC_UID) return 'pkexec';
  return 'root';
}

/** What the choice of an authority rests on (chooseAuthority): each a probe of this machine. */
interface AuthorityFacts {
  /** The native helper carries file capabilities with cap_bpf. */
  caps: () => boolean;
  /** `sudo -n` runs the helper's Node side (sudoWithoutPassword). */
  sudo: () => boolean;
  /** An interactive session where pkexec is installed. */
  pkexec: () => boolean;
}

/** The first way that works, in the module comment's order; facts are asked only when needed. */
function pickAuthority(pcap: boolean | undefined, facts: AuthorityFacts): HelperAuthority {
  if (process.getuid?.() === 0) return 'root';
  if (!pcap && facts.caps()) return 'capabilities';
  if (facts.sudo()) return 'sudo';
  if (facts.pkexec()) return 'pkexec';
  if (facts.caps()) return 'capabilities';
  return 'unprivileged';
}

// isatty(0), not `process.stdin.isTTY`: reading process.stdin makes Node build the stdin stream
// (its tty or pipe handle and their modules), ≈ 5 ms before a traced program may start (issue 52).
const interactive = (): boolean => Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY || isatty(0));
const nativeOf = (opts: HelperOptions): string => join(opts.root ?? dirname(__dirname), 'native', 'build', 'nettrace-helper');
const capsIn = (getcap: { status: number | null; stdout: string }): boolean => getcap.status === 0 && /cap_bpf/.test(getcap.stdout);
/** `sudo -n true` succeeds, or the helper's own probe answers (sudoWithoutPassword). */
const sudoIn = (plain: { status: number | null }, probe: { status: number | null; stdout: string }): boolean =>
  plain.status === 0 || (probe.status === 3 && probe.stdout.startsWith('{'));

/**
 * Picks how to start the helper, without prompting anyone. The probes run one after another, each
 * only when needed (`nettrace helper setup`'s check); chooseAuthorityAsync asks them at once.
 */
export function chooseAuthority(opts: HelperOptions): HelperAuthority {
  const native = nativeOf(opts);
  let caps: boolean | undefined;
  return pickAuthority(opts.pcap, {
    caps: () => (caps ??= existsSync(native) && capsIn(spawnSync('getcap', [native], { encoding: 'utf8' }))),
    sudo: () => sudoWithoutPassword(opts),
    pkexec: () => interactive() && spawnSync('pkexec', ['--version'], { stdio: 'ignore' }).status === 0,
  });
}

/**
 * chooseAuthority() with its probes run at once, in other processes (issue 52: `nettrace run
 * --helper auto` waits for the slowest probe, not for their sum (≈ 16 against ≈ 27 ms), before the
 * program may start); the same answer. The answers are remembered while nothing they rest on
 * changes (probeCache.ts), so a later run waits for none.
 */
export async function chooseAuthorityAsync(opts: HelperOptions): Promise<HelperAuthority> {
  if (process.getuid?.() === 0) return 'root';
  const { key, facts } = rememberedFacts(opts);
  if (facts) return pickFrom(opts.pcap, facts);
  const native = nativeOf(opts);
  const sudoHelper = sudoProbeCommand(opts);
  const [getcap, plainSudo, sudoProbe, pkexec] = await Promise.all([
    existsSync(native) ? probe('getcap', [native]) : NO_ANSWER,
    probe('sudo', SUDO_TRUE),
    probe(sudoHelper.command, sudoHelper.args),
    interactive() ? probe('pkexec', ['--version']) : NO_ANSWER,
  ]);
  const found = { caps: capsIn(getcap), sudo: sudoIn(plainSudo, sudoProbe), pkexec: pkexec.status === 0 };
  rememberProbes(key, found);
  return pickFrom(opts.pcap, found);
}

/**
 * What chooseAuthorityAsync() would answer from remembered probes alone, or undefined when it
 * would probe (`nettrace run` starts a program ungated when this is `unprivileged`).
 */
export function rememberedAuthority(opts: HelperOptions): HelperAuthority | undefined {
  if (process.getuid?.() === 0) return 'root';
  const { facts } = rememberedFacts(opts);
  return facts && pickFrom(opts.pcap, facts);
}

/** The key the probes of `opts` are remembered under, and what was remembered (probeCache.ts). */
function rememberedFacts(opts: HelperOptions): { key: string; facts?: ProbeFacts } {
  const sudoHelper = sudoProbeCommand(opts);
  // The files the probes look at: the native helper, and the Node and script sudo would run.
  const key = probeKey([nativeOf(opts), ...sudoHelper.args.slice(sudoHelper.args.indexOf('--') + 1, -2)], interactive());
  return { key, facts: recallProbes(key) };
}

const pickFrom = (pcap: boolean | undefined, f: ProbeFacts): HelperAuthority =>
  pickAuthority(pcap, { caps: () => f.caps, sudo: () => f.sudo, pkexec: () => f.pkexec });

const NO_ANSWER = { status: null, stdout: '' };

/** The helper's sudo command on pid 0 (which it refuses), a password typed earlier not counted (`-k`). */
function sudoProbeCommand(opts: HelperOptions): { command: string; args: string[] } {
  const { command, args } = helperCommand({ ...opts, pid: 0 }, 'sudo');
  return { command, args: ['-k', ...args] };
}
/** `sudo -n -k true`: sudo for everything without a password (a password typed earlier not counted). */
const SUDO_TRUE = ['-n', '-k', 'true'];

/** Runs `command` with an empty stdin (10 s at most); its exit status (null when it could not run) and output. */
function probe(command: string, args: string[]): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(command, args, { timeout: 10_000 }, (err, stdout) => {
      const code = (err as { code?: unknown } | null)?.code;
      resolve({ status: err ? (typeof code === 'number' ? code : null) : 0, stdout: String(stdout) });
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end();
  });
}

/**
 * Whether `sudo -n` runs the helper's Node side: sudo without a password for everything, or the
 * rule native/README.md documents for exactly `node <root>/dist/helper.cjs *` (under which
 * `sudo -n true` fails). The probe runs the helper on pid 0, which it refuses at once (exit 3,
 * with a JSON `error` line sudo itself never prints).
 */
function sudoWithoutPassword(opts: HelperOptions): boolean {
  const plain = spawnSync('sudo', SUDO_TRUE, { stdio: 'ignore' });
  if (plain.status === 0) return true;
  const { command, args } = sudoProbeCommand(opts);
  return sudoIn(plain, spawnSync(command, args, { encoding: 'utf8', input: '', timeout: 10_000 }));
}

/** How long after the helper's exit its output may still be read before it counts as ended (ms). */
const HELPER_OUTPUT_GRACE_MS = 1000;

/** A running helper: emits 'message' (a HelperLine: a message or an arrival) and 'exit' (code). */
export class HelperClient extends EventEmitter {
  ready?: HelperReadyMessage;
  readonly messages: HelperLine[] = [];
  readonly exited: Promise<number | null>;

  constructor(
    readonly child: ChildProcess,
    readonly authority: HelperAuthority,
  ) {
    super();
    const onLine = (line: string): void => {
      let m: HelperLine;
      try {
        m = JSON.parse(line) as HelperLine;
      } catch {
        return;
      }
      if (!isArrivalLine(m) && m.type === 'ready') this.ready = { ...m, authority: m.authority ?? authority };
      this.messages.push(m);
      this.emit('message', m);
    };
    // A helper that has just ended (its target gone) closes its stdin before Node sees its exit:
    // a command written then fails with EPIPE, which is no error of the run's.
    child.stdin?.on('error', () => {});
    // Lines split by hand, not by readline: the helper sends one per kernel event (a response on a
    // kept-alive connection is one), and readline's per-line work was a tenth of the collector's
    // cost of a line.
    let rest = '';
    const out = child.stdout!;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => {
      let from = 0;
      let nl = chunk.indexOf('\n');
      if (nl < 0) {
        rest += chunk;
        return;
      }
      if (rest) {
        onLine(rest + chunk.slice(0, nl));
        rest = '';
        from = nl + 1;
        nl = chunk.indexOf('\n', from);
      }
      for (; nl >= 0; from = nl + 1, nl = chunk.indexOf('\n', from)) onLine(chunk.slice(from, nl));
      rest = chunk.slice(from);
    });
    out.on('end', () => {
      if (rest) onLine(rest);
      rest = '';
    });
    // Ended when its output is read to the end, not at its exit: Node may emit 'exit' before the
    // last lines written just before it were read ('close' follows the pipes' end), and a helper
    // that ends as soon as its target's last socket is read had its final readings cut off.
    // Bounded: a process that inherited the pipe and outlives the helper does not hold it up.
    this.exited = new Promise((res) => {
      let exitCode: number | null = null;
      let timer: NodeJS.Timeout | undefined;
      child.once('close', (code: number | null) => {
        clearTimeout(timer);
        res(code ?? exitCode);
      });
      child.once('exit', (code) => {
        exitCode = code;
        timer = setTimeout(() => res(code), HELPER_OUTPUT_GRACE_MS);
      });
    });
    this.exited.then((code) => this.emit('exit', code));
  }

  /** Sends a command (stop, stats, snapshot). */
  send(cmd: HelperCommand): void {
    if (this.child.stdin?.writable) this.child.stdin.write(JSON.stringify(cmd) + '\n');
  }

  /** The packet capture's spool, from the helper's `capture` lines (undefined: it had none). */
  get spool(): string | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i]!;
      if (!isArrivalLine(m) && m.type === 'capture') return m.spool;
    }
    return undefined;
  }

  /** Asks the helper to stop and waits for it to exit. */
  async stop(): Promise<number | null> {
    this.send({ type: 'stop' });
    this.child.stdin?.end();
    return this.exited;
  }
}

/**
 * Removes a capture's spool: the private temporary directory (`nettrace-pcap-*`, the invoking
 * user's) the helper made for it. Anything else is left alone; failing is not an error (not ours
 * to remove, e.g. root's: the system's temporary files go later).
 */
export function removeSpool(spool: string | undefined): void {
  if (!spool) return;
  const dir = dirname(spool);
  if (!basename(dir).startsWith('nettrace-pcap-')) return;
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // see above
  }
}

/**
 * Starts the helper and resolves once it is attached (its `ready` line), or rejects with the
 * helper's own error (e.g. "target pid 42 belongs to uid 1001, not to the invoking user") if it
 * exits first.
 */
export function startHelper(opts: HelperOptions): Promise<HelperClient> {
  const authority = opts.authority && opts.authority !== 'auto' ? opts.authority : chooseAuthority(opts);
  const { command, args, env } = helperCommand(opts, authority);
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'], env });
  return readyOf(new HelperClient(child, authority), opts.pcap);
}

/** A helper started before its program (prestartHelper). */
export interface EarlyHelper {
  readonly authority: HelperAuthority;
  /** Tells the helper its target; resolves once it is attached, or rejects, as startHelper(). */
  target(pid: number): Promise<HelperClient>;
  /** No program after all: the helper ends (its stdin closed) without attaching. */
  cancel(): void;
}

/**
 * Starts the native helper before its program exists, for the ways that start it directly (root
 * without a capture, file capabilities; the others need the pid on their command line): it loads
 * its eBPF programs, or as root takes the pinned ones, while the caller starts the program, and
 * attaches once `target()` gives it the pid (`--pid-from-stdin`; issue 65). The pid is checked as
 * on the command line, before anything is attached. Undefined for the other ways.
 */
export function prestartHelper(opts: Omit<HelperOptions, 'pid'>, authority: HelperAuthority): EarlyHelper | undefined {
  if (authority !== 'capabilities' && !(authority === 'root' && !opts.pcap)) return undefined;
  const { command, args, env } = helperCommand({ ...opts, pid: 0 }, authority);
  args.splice(args.indexOf('--pid'), 2, '--pid-from-stdin');
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'], env });
  const ready = readyOf(new HelperClient(child, authority), opts.pcap);
  // Said when the pid is given (an error before, e.g. a binary that cannot run, rejects then).
  ready.catch(() => {});
  return {
    authority,
    target: (pid) => {
      if (child.stdin?.writable) child.stdin.write(`pid ${pid}\n`);
      return ready;
    },
    cancel: () => child.stdin?.end(),
  };
}

/** Resolves with the client once the helper is attached (its `ready` line), or rejects with its error if it exits first. */
function readyOf(client: HelperClient, pcap: boolean | undefined): Promise<HelperClient> {
  const { child, authority } = client;
  return new Promise((resolve, reject) => {
    const onMessage = (m: HelperLine) => {
      if (!isArrivalLine(m) && m.type === 'ready') {
        client.off('message', onMessage);
        if (pcap && (authority === 'capabilities' || authority === 'unprivileged') && client.ready) {
          client.ready.unavailable.capture = `packet capture needs root (it opens packet sockets, which needs CAP_NET_RAW: not among the native helper's file capabilities): start the helper as root or through \`sudo -n\`; ${SETUP_HINT} with packet capture`;
        }
        resolve(client);
      }
    };
    client.on('message', onMessage);
    child.on('error', reject);
    client.exited.then((code) => {
      const err = client.messages.find((m) => !isArrivalLine(m) && m.type === 'error');
      reject(new Error(err && !isArrivalLine(err) && err.type === 'error' ? err.message : `helper exited (${code}) before it was ready`));
    });
  });
}

/**
 * Spawns `command` so that it does not run until `release()` (a shell waits on fd 3, then execs
 * the command in place, keeping the pid; a second release does nothing). Lets the helper attach
 * to the pid before the first connect.
 */
export function spawnGated(command: string, args: string[], options: SpawnOptions = {}): { child: ChildProcess; release: () => void } {
  const stdio = (
    Array.isArray(options.stdio) ? options.stdio : [options.stdio ?? 'pipe', options.stdio ?? 'pipe', options.stdio ?? 'pipe']
  ).slice(0, 3);
  const child = spawn('/bin/sh', ['-c', 'read _ <&3; exec 3<&-; exec "$@"', 'nettrace-gate', command, ...args], {
    ...options,
    stdio: [...stdio, 'pipe'],
  });
  const gate = child.stdio[3] as NodeJS.WritableStream;
  let released = false;
  return {
    child,
    // Once: a second end() would be a write after the end.
    release: () => {
      if (released) return;
      released = true;
      gate.end('go\n');
    },
  };
}

/** True if the native helper has been built. */
export function nativeHelperBuilt(root?: string): boolean {
  try {
    accessSync(join(root ?? dirname(__dirname), 'native', 'build', 'nettrace-helper'), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
