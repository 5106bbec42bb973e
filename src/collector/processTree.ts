/**
 * Process ancestry, for the helpers of a trace: a helper follows the forks of the pid it was
 * attached to, so a process that reports in is covered when it descends from one of those pids;
 * one that does not (another launch's process joining the trace) needs a helper of its own.
 */

import { readFileSync } from 'node:fs';

/**
 * The environment variable naming the launch a process belongs to (set per launch by the
 * extension, inherited by the launch's children): launches that joined one trace each get a
 * helper on the first process of their own.
 */
export const LAUNCH_ENV = 'NETTRACE_LAUNCH';

/** The LAUNCH_ENV value `pid` was started with, from /proc (Linux); undefined when none or unreadable. */
export function procLaunch(pid: number): string | undefined {
  try {
    const prefix = `${LAUNCH_ENV}=`;
    const found = readFileSync(`/proc/${pid}/environ`, 'latin1')
      .split('\0')
      .find((v) => v.startsWith(prefix));
    return found?.slice(prefix.length);
  } catch {
    return undefined;
  }
}

/** The parent pid of `pid` from /proc (Linux), or undefined when it cannot be read (gone, other OS). */
export function procParent(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so read after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is one of `roots` or descends from one: its parent `ppid` (as the process said,
 * else `parentOf(pid)`), then the parents' parents by `parentOf`, up to `maxDepth` generations or
 * pid 1. A chain that breaks (a parent gone) counts as not descending.
 */
export function descendsFrom(
  pid: number,
  ppid: number | undefined,
  roots: ReadonlySet<number>,
  parentOf: (pid: number) => number | undefined = procParent,
  maxDepth = 64,
): boolean {
  if (roots.has(pid)) return true;
  let p = ppid ?? parentOf(pid);
  for (let depth = 0; p !== undefined && p > 1 && depth < maxDepth; depth++) {
    if (roots.has(p)) return true;
    p = parentOf(p);
  }
  return false;
}
