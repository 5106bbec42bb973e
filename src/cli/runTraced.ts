/**
 * Runs one command with the preload injected, collects its trace and saves it: the core of
 * `nettrace run`, reused by `nettrace demo`.
 */

import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, unlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { startCollector } from '../collector/server';
import { buildPreloadEnv, preloadPath } from '../collector/launchEnv';
import type { PreloadConfig } from '../protocol/preload';
import type { Trace } from '../trace/types';

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
  /** Description written into the trace (default: the command line). */
  description?: string;
  /** How long to wait for the preloads' last messages after the command exits (default 2000). */
  idleTimeoutMs?: number;
}

/** What a traced run produced. */
export interface RunResult {
  trace: Trace;
  /** The command's exit code; 128 + signal number when killed by a signal. */
  exitCode: number;
  /** False when some process's messages may be missing (waited for them in vain). */
  complete: boolean;
}

/**
 * Fails early when `path` cannot be written, before anything is run. A file created by the check
 * is removed again.
 */
export function checkWritable(path: string): void {
  const existed = existsSync(path);
  try {
    closeSync(openSync(path, 'a', 0o600));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason =
      e.code === 'ENOENT'
        ? 'its directory does not exist'
        : e.code === 'EACCES' || e.code === 'EPERM'
          ? 'permission denied'
          : e.code === 'EISDIR'
            ? 'it is a directory'
            : e.message;
    throw new CliError(`cannot write ${path}: ${reason}`);
  }
  if (!existed) {
    try {
      unlinkSync(path);
    } catch {
      // Harmless: the file is written later anyway.
    }
  }
}

/** Runs the command traced; saves JSON (and HAR); resolves when the trace is written. */
export async function runTraced(options: RunOptions): Promise<RunResult> {
  checkWritable(options.out);
  if (options.har) checkWritable(options.har);
  const preload = preloadPath();
  if (!existsSync(preload)) {
    throw new CliError(`the preload is missing (${preload}); run \`npm run build\``);
  }
  const description = options.description ?? [options.command, ...options.args].join(' ');
  const collector = await startCollector({ description, slowThresholdMs: options.slowThresholdMs });
  try {
    const env = buildPreloadEnv(
      { ...process.env, ...options.env },
      { preloadPath: preload, config: { ...options.config, ipcPath: collector.ipcPath } },
    );
    const child = spawn(options.command, options.args, { stdio: 'inherit', env });
    const forward = (signal: NodeJS.Signals) => () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    };
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    let exitCode: number;
    try {
      exitCode = await new Promise<number>((resolve, reject) => {
        child.once('error', (err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') reject(new CliError(`command not found: ${options.command}`));
          else if (err.code === 'EACCES') reject(new CliError(`cannot run ${options.command}: permission denied`));
          else reject(new CliError(`cannot run ${options.command}: ${err.message}`));
        });
        child.once('exit', (code, signal) => {
          if (code !== null) resolve(code);
          else resolve(128 + (signal ? (constants.signals[signal] ?? 0) : 0));
        });
      });
    } finally {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    }
    const complete = await collector.waitForIdle({ timeoutMs: options.idleTimeoutMs ?? 2000 });
    if (!complete) collector.session.warn('some traced processes did not finish sending their events');
    const trace = collector.session.snapshot();
    await collector.session.saveJson(options.out);
    if (options.har) await collector.session.saveHar(options.har);
    return { trace, exitCode, complete };
  } finally {
    await collector.close();
  }
}

/** Default trace file name: nettrace-<local timestamp>.json. */
export function defaultOutName(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
  return `nettrace-${stamp}.json`;
}
