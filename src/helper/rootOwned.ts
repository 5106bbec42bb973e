/**
 * Whether a path only root can change: what root runs or installs must not sit where another
 * user can swap it (the file, or any folder above it, through symbolic links too).
 */

import { lstatSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';

/** Options of `notRootOnly()`. */
export interface RootOnlyOptions {
  /**
   * Accept a folder writable by others when it has the sticky bit (like /tmp): there, others
   * cannot rename or remove root's entries. Right for a file that exists; not for a folder to
   * be created (another user could create it first, or fill the folder around it).
   */
  allowSticky?: boolean;
  /** What the path is, for the message ("the install folder", "nsenter"). */
  what?: string;
}

/**
 * Undefined when `path` and every folder above it, on the path as written and on its real path,
 * are owned by root and writable by no one else (group root may write); otherwise why not. A path
 * that does not exist yet is judged by its nearest existing folder (root will create the rest).
 */
export function notRootOnly(path: string, opts: RootOnlyOptions = {}): string | undefined {
  if (!path.startsWith('/')) return `${path} is not an absolute path`;
  const what = opts.what ?? path;
  let existing = path;
  for (;;) {
    try {
      lstatSync(existing);
      break;
    } catch {
      if (existing === '/') return `${path}: no folder above it exists`;
      existing = dirname(existing);
    }
  }
  let real: string;
  try {
    real = realpathSync(existing);
  } catch (e) {
    return `${existing} cannot be resolved (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  for (const start of new Set([existing, real])) {
    for (let p = start; ; p = dirname(p)) {
      const st = lstatSync(p);
      if (st.uid !== 0) return `${p} is owned by uid ${st.uid}, not root: its owner could swap ${what}`;
      if (!st.isSymbolicLink()) {
        const groupWrite = (st.mode & 0o020) !== 0 && st.gid !== 0;
        const otherWrite = (st.mode & 0o002) !== 0;
        const sticky = st.isDirectory() && (st.mode & 0o1000) !== 0;
        if ((groupWrite || otherWrite) && !(opts.allowSticky && sticky)) {
          return `${p} is writable by ${otherWrite ? 'every user' : `group ${st.gid}`}${sticky ? ' (a shared folder like /tmp)' : ''}: they could swap ${what}`;
        }
      }
      if (p === '/') break;
    }
  }
  return undefined;
}
