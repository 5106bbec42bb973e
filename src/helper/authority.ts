/**
 * Who the helper works for and what it may trace. The invoking user is the real uid, or, when
 * started as root through sudo or pkexec, the uid those tools record (SUDO_UID / PKEXEC_UID:
 * set by them, not by the caller). A target pid must belong to that user, all of its real,
 * effective and saved uids; root may trace anything.
 */

import { readFileSync } from 'node:fs';

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

/** The real, effective and saved uid of a process, or undefined if it does not exist. */
export function processUids(pid: number): number[] | undefined {
  try {
    const m = /^Uid:\s+(\d+)\s+(\d+)\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
  } catch {
    return undefined;
  }
}

/** Undefined if `uid` may trace `pid`; otherwise why not (the same wording as the native helper). */
export function checkTarget(pid: number, uid: number): { code: string; message: string } | undefined {
  if (!Number.isInteger(pid) || pid <= 1) return { code: 'EPERM', message: `refusing to trace pid ${pid}` };
  const uids = processUids(pid);
  if (!uids) return { code: 'ESRCH', message: `target pid ${pid} does not exist` };
  if (uid === 0) return undefined;
  const other = uids.find((u) => u !== uid);
  if (other !== undefined) {
    return {
      code: 'EPERM',
      message: `target pid ${pid} belongs to uid ${other}, not to the invoking user (uid ${uid}): refusing to trace it`,
    };
  }
  return undefined;
}
