/**
 * Who the helper works for and what it may trace. The invoking user is the real uid, or, when
 * started as root through sudo or pkexec, the uid those tools record (SUDO_UID / PKEXEC_UID:
 * set by them, not by the caller). A target pid must be a process (not a thread) of that user,
 * all of its real, effective, saved and filesystem uids; root may trace anything.
 */

import { readFileSync, statSync } from 'node:fs';

/** The user on whose behalf the helper runs. */
export function invokingUser(): { uid: number; gid: number } {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  if (uid !== 0) return { uid, gid };
  if (process.env.SUDO_UID) return { uid: Number(process.env.SUDO_UID), gid: Number(process.env.SUDO_GID ?? process.env.SUDO_UID) };
  if (process.env.PKEXEC_UID) {
    const u = Number(process.env.PKEXEC_UID);
    return { uid: u, gid: primaryGid(u) ?? u };
  }
  return { uid: 0, gid: 0 };
}

function primaryGid(uid: number): number | undefined {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (Number(f[2]) === uid) return Number(f[3]);
    }
  } catch {
    /* no passwd */
  }
  return undefined;
}

/** `/proc/<pid>/status` facts the check needs: thread-group id and real, effective, saved, fs uid. */
export function processStatus(pid: number): { tgid: number; uids: number[] } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const u = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(status);
    const t = /^Tgid:\s+(\d+)/m.exec(status);
    return u && t ? { tgid: Number(t[1]), uids: u.slice(1, 5).map(Number) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The initial pid namespace's inode (include/linux/proc_ns.h PROC_PID_INIT_INO): the kernel
 * programs see tgids of that namespace, so pids from any other one cannot be traced.
 */
export const INIT_PID_NS_INO = 0xeffffffc;

/**
 * Undefined if `uid` may trace `pid`; otherwise why not (the same wording as the native helper,
 * which checks again and holds the process by a pidfd). `pid` must be a process (a thread-group
 * leader: a thread's number is freed when the thread ends while the process lives on, and can
 * then be another user's process), of the invoking user in all four uids, seen from the initial
 * pid namespace.
 */
export function checkTarget(pid: number, uid: number): { code: string; message: string } | undefined {
  if (!Number.isInteger(pid) || pid <= 1) return { code: 'EPERM', message: `refusing to trace pid ${pid}` };
  let ns: number | undefined;
  try {
    ns = statSync('/proc/self/ns/pid').ino;
  } catch {
    /* no /proc: the status read below says so */
  }
  if (ns !== undefined && ns !== INIT_PID_NS_INO) {
    return {
      code: 'EPIDNS',
      message: `the helper runs in a pid namespace (pid:[${ns}]) other than the host's: pid ${pid} cannot be matched to the kernel's process ids, refusing to trace it (run the helper in the host's pid namespace)`,
    };
  }
  const st = processStatus(pid);
  if (!st) return { code: 'ESRCH', message: `target pid ${pid} does not exist` };
  if (st.tgid !== pid) {
    return { code: 'EPERM', message: `target pid ${pid} is a thread of process ${st.tgid}, not a process: refusing to trace it` };
  }
  if (uid === 0) return undefined;
  const other = st.uids.find((u) => u !== uid);
  if (other !== undefined) {
    return {
      code: 'EPERM',
      message: `target pid ${pid} belongs to uid ${other}, not to the invoking user (uid ${uid}): refusing to trace it`,
    };
  }
  return undefined;
}
