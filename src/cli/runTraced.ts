/**
 * Runs one command with the preload injected, collects its trace and saves it: the core of
 * `nettrace run`, reused by `nettrace demo`.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, readdirSync, statSync } from 'node:fs';
import { constants, getPriority, hostname, setPriority } from 'node:os';
import { startCollector, type Collector } from '../collector/server';
import { buildPreloadEnv, preloadPath } from '../collector/launchEnv';
import { spawnGated } from '../helper/launch';
import type { PreloadConfig, RuleDefaultAction } from '../protocol/preload';
import { DEFAULTS } from '../protocol/optionBase';
import type { PacketCapture, Trace } from '../trace/contract/types';
import { checkPrivateWritable } from '../trace/formats/privateFile';
import { redactArgv, redactedArgNames } from '../trace/contract/redact';
import { PcapUnavailableError, SessionHelper, type HelperSetting } from '../collector/helperSession';
import { findOnPath } from '../helper/findOnPath';
import type { OtlpConfig } from '../otlp/config';
import type { LiveExport } from '../otlp/exportTrace';
import type { Session } from '../collector/session';
import type { ReplaySetup } from '../collector/replay';

/** An error meant for the user: one line, and the exit code to use. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** Options of runTraced(). */
export interface RunOptions {
  command: string;
  args: string[];
  /** Where to write the JSON trace. */
  out: string;
  /** Where to write the HAR export (optional). */
  har?: string;
  /** Preload configuration besides the ipcPath. */
  config?: Omit<PreloadConfig, 'ipcPath'>;
  /** Extra environment variables for the command. */
  env?: NodeJS.ProcessEnv;
  /** Threshold for "slow" diagnoses. */
  slowThresholdMs?: number;
  /** URL query parameter names to redact besides the defaults (src/trace/contract/redactUrl.ts). */
  redactQuery?: string[];
  /** Description written into the trace (default: the command line). */
  description?: string;
  /** How long to wait for the preloads' last messages after the command exits (default 2000). */
  idleTimeoutMs?: number;
  /**
   * The privileged helper (kernel TCP metrics, conntrack, packet capture): `auto` uses it when it
   * can start and says why not otherwise, `required` fails without it (default `off`).
   */
  helper?: HelperSetting;
  /** Save the traced connections' packets to this pcapng file (needs the helper, as root). */
  pcap?: string;
  /** Size cap of the packet capture in bytes (the helper's default is 100 MiB). */
  pcapMaxBytes?: number;
  /** Kernel capture buffer per device, MiB (the helper's default is 16). */
  pcapBufferMiB?: number;
  /** Where dist/helper.cjs and native/build are (default: this bundle's ../). */
  helperRoot?: string;
  /** Trace rules of the session (validated by the session: RuleValidationError / RuleSyntaxError). */
  rules?: readonly unknown[];
  /** What happens to requests no trace/skip rule decides (default "trace"). */
  defaultAction?: RuleDefaultAction;
  /** Send the trace's spans to this OTLP backend: each request as it finishes, the rest at the end (docs/opentelemetry.md). */
  otlp?: OtlpConfig;
  /** Write the trace's spans as OTLP/JSON to this file. */
  otlpFile?: string;
  /** Answer the program's requests from this recording (docs/replay.md; ./replay.ts loadReplay). */
  replay?: ReplaySetup;
}

/** What a traced run produced. */
export interface RunResult {
  /** The run's trace, derived; `kernelTimings` only on the requests with a diagnosis, unless spans were sent (saveRun). */
  trace: Trace;
  /** The command's exit code; 128 + signal number when killed by a signal. */
  exitCode: number;
  /** False when some process's messages may be missing (waited for them in vain). */
  complete: boolean;
  /** The saved packet capture (with `pcap`), when there was one to save. */
  packetCapture?: PacketCapture;
  /** Why no packet capture was saved although `pcap` asked for one. */
  pcapError?: string;
}

/**
 * Fails early when `path` cannot be written (or only through a symlink, or is another user's
 * file: src/trace/formats/privateFile.ts), before anything is run. A file created by the check is removed again.
 */
export function checkWritable(path: string): void {
  try {
    checkPrivateWritable(path);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

/**
 * How `nettrace run` starts the program on `platform`. Workaround: on Windows, spawn() without a
 * shell neither looks a command up through PATHEXT (`npm`, `npx`, `tsx` are `.cmd` files) nor runs
 * a `.cmd`/`.bat` at all (EINVAL since Node's fix for CVE-2024-27980), and running one through
 * `cmd.exe` needs its own quoting of every argument: cross-spawn does both. Elsewhere, spawn().
 */
export function spawnerFor(platform: NodeJS.Platform): typeof spawn {
  // Loaded only there (issue 52: not `nettrace run`'s start elsewhere).
  return platform === 'win32' ? (require('cross-spawn') as typeof spawn) : spawn;
}

/**
 * Fails early, like spawn() would, when `command` cannot be run: the gated start (a shell that
 * execs the command once the helper is attached) would otherwise only report it as exit code 127.
 */
export function checkCommand(command: string, env: NodeJS.ProcessEnv): void {
  if (!command.includes('/')) {
    if (findOnPath(command, env.PATH ?? '')) return;
    throw new CliError(`command not found: ${command}`);
  }
  if (!existsSync(command)) throw new CliError(`command not found: ${command}`);
  try {
    accessSync(command, fsConstants.X_OK);
    if (statSync(command).isDirectory()) throw new Error('a directory');
  } catch {
    throw new CliError(`cannot run ${command}: permission denied`);
  }
}

/** Runs the command traced; saves JSON (and HAR); resolves when the trace is written. */
export async function runTraced(options: RunOptions): Promise<RunResult> {
  checkWritable(options.out);
  if (options.har) checkWritable(options.har);
  if (options.pcap) checkWritable(options.pcap);
  if (options.otlpFile) checkWritable(options.otlpFile);
  const helperSetting = options.helper ?? 'off';
  if (options.pcap && helperSetting === 'off') {
    throw new CliError('--pcap needs the privileged helper (it captures the packets); drop --helper off');
  }
  const preload = preloadPath();
  if (!existsSync(preload)) {
    throw new CliError(`the preload is missing (${preload}); run \`npm run build\``);
  }
  // The command line as the trace's description, with its secret options redacted like argv.
  const description =
    options.description ??
    redactArgv([options.command, ...options.args], redactedArgNames(options.config?.redact, options.redactQuery)).join(' ');
  const where = {
    pcap: !!options.pcap,
    pcapMaxBytes: options.pcapMaxBytes,
    pcapBufferMiB: options.pcapBufferMiB,
    root: options.helperRoot,
    // A folder the user named is the helper meant: none there is not set up, whatever is installed.
    orInstalled: options.helperRoot === undefined,
  };
  // How the helper will start, when known without probing: as root (or with file capabilities) it loads its
  // eBPF programs now, while the collector and the program's gate start; it attaches at the pid (issue 65).
  if (helperSetting !== 'off') checkCommand(options.command, { ...process.env, ...options.env }); // before the helper starts
  const remembered = helperSetting === 'off' ? undefined : SessionHelper.remembered(where);
  let early = remembered && SessionHelper.prestart(where, remembered);
  const collector = await startCollector({
    description,
    slowThresholdMs: options.slowThresholdMs,
    redactQuery: options.redactQuery,
    rules: options.rules,
    defaultAction: options.defaultAction,
    ...(options.config?.record ? { record: recordCaps(options.config) } : {}),
    ...(options.replay ? { replay: options.replay } : {}),
  }).catch((err: Error) => {
    early?.cancel();
    // Where it cannot listen (a socket path too long, a folder the programs would not trust): said plainly.
    throw new CliError(err.message);
  });
  let helper: SessionHelper | undefined;
  // --otlp: each request's spans go out as it finishes; the rest at the end (exportSpans).
  const live = options.otlp ? liveExport(collector.session, options) : undefined;
  try {
    const env = buildPreloadEnv(
      { ...process.env, ...options.env },
      // The rules go in the configuration too, so the program applies them from its first request.
      { preloadPath: preload, config: collectorConfig(collector, options.config) },
    );
    let child: ChildProcess;
    let exited: Promise<number>;
    if (helperSetting === 'off') {
      child = spawnerFor(process.platform)(options.command, options.args, { stdio: 'inherit', env });
      exited = exitCodeOf(child, options.command);
      // After the start (issue 52: the program first); nothing of it is read before this.
      if (options.helper === 'off') SessionHelper.off(collector.session, 'turned off (--helper off)');
    } else {
      // The program waits at a gate until the helper is attached to its pid, so the helper sees
      // its first connection (and, capturing, its first SYN) — unless the helper can only start
      // unprivileged, which samples tcp_info and sees no connection's start: then the program
      // goes at once (issue 52), without a gate when remembered probes say so before it starts.
      // Not with `required`, which refuses that helper.
      const ungated = helperSetting === 'auto' && remembered === 'unprivileged';
      checkCommand(options.command, env);
      const gated = ungated
        ? { child: spawnerFor(process.platform)(options.command, options.args, { stdio: 'inherit', env }), release: () => {} }
        : spawnGated(options.command, options.args, { stdio: 'inherit', env });
      child = gated.child;
      exited = exitCodeOf(child, options.command);
      const started = early;
      early = undefined;
      helper = await SessionHelper.start(collector.session, {
        ...where,
        pid: child.pid!,
        early: started,
        authority: ungated ? remembered : undefined,
        onAuthority: (authority) => {
          if (authority === 'unprivileged' && helperSetting === 'auto') gated.release();
        },
      });
      const missing = !helper.running
        ? helper.notRunning
        : helper.authority === 'unprivileged'
          ? "it could only start unprivileged (inet_diag metrics of the program's own sockets; no eBPF metrics, conntrack or capture): run `nettrace helper setup`, or use --helper auto"
          : options.pcap
            ? helper.link.ready?.unavailable.capture && `packet capture is unavailable: ${helper.link.ready.unavailable.capture}`
            : undefined;
      if (helperSetting === 'required' && missing) {
        child.kill('SIGKILL');
        throw new CliError(
          `--helper required: ${missing.replace(/^the Net Trace helper could not start: /, 'the helper could not start: ')}`,
        );
      }
      gated.release();
    }
    // A replayed program waits for the collector's answer to each request: it keeps its priority then.
    if (!options.replay) yieldToProgram();
    const forward = (signal: NodeJS.Signals) => () => {
      // The user stopped the run (Ctrl+C reaches the program's process group too): the processes
      // that end without an exit message were stopped on purpose, not lost.
      collector.session.interrupted(signal);
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    let exitCode: number;
    try {
      exitCode = await exited;
    } finally {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    }
    // The program ended of the signal a Ctrl+C sends its process group, which may reach this
    // process's listener only after the program's exit was seen (and the listener removed).
    if (child.signalCode === 'SIGINT' || child.signalCode === 'SIGTERM') collector.session.interrupted(child.signalCode);
    // The program has exited: every connect it made is in the socket's queue, so nothing is waited
    // for but the connections' last bytes (no settle time). The helper lingers briefly after the
    // program for its last connections' final readings.
    const [complete] = await Promise.all([
      collector.waitForIdle({ timeoutMs: options.idleTimeoutMs ?? 2000, settleMs: 0 }),
      helper?.finish(),
    ]);
    if (!complete) collector.session.warn('some traced processes did not finish sending their events');
    let packetCapture: PacketCapture | undefined;
    let pcapError: string | undefined;
    if (options.pcap && helper) {
      try {
        packetCapture = helper.savePcap(options.pcap);
      } catch (err) {
        pcapError = err instanceof PcapUnavailableError ? err.message : `could not write ${options.pcap}: ${(err as Error).message}`;
        collector.session.warn(`no packet capture was saved to ${options.pcap}: ${pcapError}`);
      }
    }
    const trace = await saveRun(collector.session, options, live);
    return { trace, exitCode, complete, packetCapture, pcapError };
  } finally {
    early?.cancel();
    if (helper) {
      await helper.stop();
      helper.removeSpool();
    }
    await collector.close();
  }
}

/**
 * Saves a finished run's files and sends its spans; returns the trace derived. The file holds what
 * was recorded (facts); the table, the spans and the HAR read it derived (snapshot), which shares
 * the facts' stats: what exportSpans counts there is saved too. Without spans to send, the file
 * is written first and the records themselves are then derived (Session.deriveInPlace): no copy
 * of a request is made (issue 65).
 */
async function saveRun(session: Session, options: RunOptions, live: LiveExport | undefined): Promise<Trace> {
  const facts = session.facts();
  if (!live && !options.otlpFile) {
    // The program has ended and nothing else waits on this loop: written with synchronous calls.
    await session.saveJson(options.out, facts, { sync: true });
    // The table and the HAR read no healthy request's kernel split (a diagnosis tells it).
    const derived = session.deriveInPlace(facts, 'diagnosed');
    if (options.har) await session.saveHar(options.har, derived);
    return derived;
  }
  const trace = session.snapshot(facts);
  await exportSpans(trace, options, live);
  await session.saveJson(options.out, facts, { sync: true });
  if (options.har) await session.saveHar(options.har, trace);
  return trace;
}

/** The caps a run records for replay with (`--record`: the preload's configuration, defaults filled in). */
/** The preload's configuration for `collector`: its rules, its socket and its key, which it proves first on each connection (src/protocol/collectorProof.ts). */
function collectorConfig(collector: Collector, config: RunOptions['config']): PreloadConfig {
  return { ...config, ...collector.session.rules.preloadConfig(), ipcPath: collector.ipcPath, collectorKey: collector.collectorKey };
}

function recordCaps(config: Omit<PreloadConfig, 'ipcPath'>): { maxBodyBytes: number; maxRunBytes: number } {
  return {
    maxBodyBytes: config.recordMaxBodyBytes ?? DEFAULTS.recordMaxBodyBytes,
    maxRunBytes: config.recordMaxRunBytes ?? DEFAULTS.recordMaxRunBytes,
  };
}

/**
 * Sends the spans of a finished run (--otlp, --otlp-file), before the trace is saved so that what
 * was not delivered is counted in its stats (`undeliveredSpans`) with one warning. The program
 * has ended: a slow or dead backend delays only this (a dead one by three export timeouts at most:
 * src/otlp/sink.ts).
 */
async function exportSpans(trace: Trace, options: RunOptions, live: LiveExport | undefined): Promise<void> {
  const common = { redactQuery: options.redactQuery, hostName: hostname() };
  if (live) {
    const result = await live.finish(trace, options.otlp?.timeoutMillis);
    if (result.warning) {
      trace.stats.undeliveredSpans = (trace.stats.undeliveredSpans ?? 0) + result.undelivered;
      trace.stats.warnings.push(result.warning);
    }
  }
  if (options.otlpFile) {
    const { exportTrace } = require('../otlp/exportTrace') as typeof import('../otlp/exportTrace');
    const { OtlpFileSink } = require('../otlp/sink') as typeof import('../otlp/sink');
    const { resourceFromEnv } = require('../otlp/config') as typeof import('../otlp/config');
    const result = await exportTrace(trace, new OtlpFileSink(options.otlpFile), {
      ...common,
      ...(options.otlp ?? resourceFromEnv(process.env)),
    });
    if (result.firstError) trace.stats.warnings.push(result.firstError);
  }
}

/** The live OTLP export of a run's session (the session's changes feed it). */
function liveExport(session: Session, options: RunOptions): LiveExport {
  // OpenTelemetry's code is loaded only by a run that exports (issue 52).
  const { LiveExport } = require('../otlp/exportTrace') as typeof import('../otlp/exportTrace');
  const { OtlpSink } = require('../otlp/sink') as typeof import('../otlp/sink');
  const { serviceName, resourceAttributes } = options.otlp!;
  const source = {
    trace: session.builder.trace,
    get: session.builder.get.bind(session.builder),
    request: (id: string) => session.request(id),
  };
  const live = new LiveExport(source, new OtlpSink(options.otlp!), {
    serviceName,
    resourceAttributes,
    redactQuery: options.redactQuery,
    hostName: hostname(),
  });
  session.on('change', (ids) => live.changed(ids));
  return live;
}

/** The command's exit code (128 + signal number when killed); listens from the moment of spawning. */
function exitCodeOf(child: ChildProcess, command: string): Promise<number> {
  const p = new Promise<number>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') reject(new CliError(`command not found: ${command}`));
      else if (err.code === 'EACCES') reject(new CliError(`cannot run ${command}: permission denied`));
      else reject(new CliError(`cannot run ${command}: ${err.message}`));
    });
    child.once('exit', (code, signal) => {
      if (code !== null) resolve(code);
      else resolve(128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
  p.catch(() => {}); // awaited later; not an unhandled rejection meanwhile
  return p;
}

/** The nice value `nettrace run` takes once the program runs (yieldToProgram). */
export const COLLECTOR_NICE = 10;

/**
 * Lowers the collector's scheduling priority to `nice`, every thread of this process (on Linux a
 * nice value is a thread's), once the program is started with the priority it had: where the two
 * compete for a core the program comes first, and the collector takes the CPU it leaves, its events
 * waiting in the socket meanwhile (the preload's queue is bounded and counts what it drops). Never
 * raises a priority; a system refusing it changes nothing.
 */
export function yieldToProgram(nice = COLLECTOR_NICE): void {
  let threads = [0];
  try {
    if (process.platform === 'linux') threads = readdirSync('/proc/self/task').map(Number);
  } catch {
    // no /proc: this thread only
  }
  for (const tid of threads) {
    try {
      if (getPriority(tid) < nice) setPriority(tid, nice);
    } catch {
      // a thread that ended, or a system that refuses: left as it is
    }
  }
}

/** Default trace file name: nettrace-<local timestamp>.json. */
export function defaultOutName(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `nettrace-${stamp}.json`;
}
