/**
 * A traced process's entry (`processes[]`) from its preload's hello, and the restarts among them:
 * a process started again by the same parent with the same command line and working directory
 * after the earlier one ended — `node --watch`, nodemon, a debug session with `restart: true` —
 * continues the same trace, marked as a restart (`restart`, `restartOf`; its requests' `restart`).
 */

import type { HelloMessage } from '../../protocol/preload';
import type { ProcessInfo } from '../contract/types';

/** The entry a hello describes; `startAt` already relative to the trace's start. */
export function processInfoOf(msg: HelloMessage, threadId: number, startAt: number): ProcessInfo {
  const info: ProcessInfo = {
    pid: msg.pid,
    threadId,
    argv: Array.isArray(msg.argv) ? msg.argv.map(String) : [],
    nodeVersion: String(msg.nodeVersion ?? ''),
    cwd: String(msg.cwd ?? ''),
    startAt,
  };
  if (typeof msg.ppid === 'number') info.ppid = msg.ppid;
  return info;
}

/**
 * Marks `info` (a process's main thread, just introduced) as a restart when the trace holds an
 * earlier main thread of another process with the same parent, command line and working
 * directory that has ended (`ended`: its exit message came or its connection closed): the
 * latest such one is the process it replaced. Processes that run side by side (cluster workers,
 * a pool of identical children) are not restarts of each other: the earlier one still runs.
 * A worker thread takes its process's marks.
 */
export function markRestart(processes: readonly ProcessInfo[], info: ProcessInfo, ended: (p: ProcessInfo) => boolean): void {
  if (info.threadId !== 0) {
    const main = processes.find((p) => p.pid === info.pid && p.threadId === 0);
    if (main?.restart !== undefined) Object.assign(info, { restart: main.restart, restartOf: main.restartOf });
    return;
  }
  if (info.ppid === undefined) return;
  let previous: ProcessInfo | undefined;
  for (const p of processes) {
    if (p === info || p.pid === info.pid || p.threadId !== 0 || p.ppid !== info.ppid || p.cwd !== info.cwd) continue;
    if (p.startAt > info.startAt || !sameArgv(p.argv, info.argv) || !ended(p)) continue;
    if (!previous || p.startAt >= previous.startAt) previous = p;
  }
  if (!previous) return;
  info.restart = (previous.restart ?? 0) + 1;
  info.restartOf = previous.pid;
}

function sameArgv(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
