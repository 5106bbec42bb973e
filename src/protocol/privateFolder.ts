/**
 * When a traced process may trust its collector (docs/security.md, "How a traced process knows its
 * collector"): on a unix system, the collector's socket and rules file live in a folder only the
 * collector's user can write, so that folder being the process's own, with nothing above it that
 * another user could rename or replace, makes whatever is inside it the collector's. The same rule
 * is read by both ends: the preload before it connects or reads the rules file
 * (src/preload/transport/collectorTrust.ts), and the collector when it makes its folder, so a
 * folder the preload would refuse is said at the start instead of leaving programs untraced.
 * Pure: the caller passes its own lstat (bound before the program runs, in the preload).
 */

/** What privateFolderProblem reads of a path, as fs.lstatSync gives it (no link followed). */
export interface PathStat {
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
  uid: number;
  mode: number;
  dev: number;
  ino: number;
}

/** The parts of a trusted folder that must not change while it is used (see sameFolder). */
export interface FolderIdentity {
  dir: string;
  dev: number;
  ino: number;
}

/** Writable by group or others. */
const OTHERS_WRITE = 0o022;
/** Any access for group or others. */
const OTHERS_ANY = 0o077;
/** The sticky bit: in such a folder only an entry's owner (or the folder's) may rename or remove it. */
const STICKY = 0o1000;

/**
 * Why the folder `dir` (an absolute POSIX path) cannot be trusted as a collector's by a process
 * whose user ids are `uids`, or its identity when it can: every folder from `/` down to it is a
 * real folder (no symbolic link: the collector writes its folder's real path), owned by root or
 * by one of `uids`, and writable by others only when sticky (as /tmp); `dir` itself is owned by
 * one of `uids` with no access for group or others (as mkdtemp makes it). Another user can then
 * neither create, replace nor rename anything the path goes through.
 */
export function privateFolderProblem(
  dir: string,
  uids: readonly number[],
  lstat: (path: string) => PathStat,
): { problem: string } | FolderIdentity {
  if (!dir.startsWith('/')) return { problem: `${dir} is not an absolute path` };
  const parts = dir.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) return { problem: `${dir} is not a plain path` };
  let path = '';
  for (let i = -1; i < parts.length; i++) {
    path = i < 0 ? '/' : `${path === '/' ? '' : path}/${parts[i]}`;
    let st: PathStat;
    try {
      st = lstat(path);
    } catch (err) {
      return { problem: `${path} cannot be read (${(err as { code?: string }).code ?? 'error'})` };
    }
    if (st.isSymbolicLink()) return { problem: `${path} is a symbolic link` };
    if (!st.isDirectory()) return { problem: `${path} is not a folder` };
    const last = i === parts.length - 1;
    if (last) {
      if (!uids.includes(st.uid)) return { problem: `${path} belongs to uid ${st.uid}, not to this process's user` };
      if ((st.mode & OTHERS_ANY) !== 0) return { problem: `${path} is open to other users (mode ${(st.mode & 0o7777).toString(8)})` };
      return { dir: path, dev: st.dev, ino: st.ino };
    }
    if (st.uid !== 0 && !uids.includes(st.uid))
      return { problem: `${path} belongs to uid ${st.uid}, neither root nor this process's user` };
    if ((st.mode & OTHERS_WRITE) !== 0 && (st.mode & STICKY) === 0)
      return { problem: `${path} can be changed by other users (mode ${(st.mode & 0o7777).toString(8)}, not sticky)` };
  }
  return { problem: `${dir} is not a folder` };
}

/** Whether `dir` is still the folder privateFolderProblem found: the same one, still private to `uids`. */
export function sameFolder(id: FolderIdentity, uids: readonly number[], lstat: (path: string) => PathStat): boolean {
  try {
    const st = lstat(id.dir);
    return (
      !st.isSymbolicLink() &&
      st.isDirectory() &&
      st.dev === id.dev &&
      st.ino === id.ino &&
      uids.includes(st.uid) &&
      (st.mode & OTHERS_ANY) === 0
    );
  } catch {
    return false;
  }
}
