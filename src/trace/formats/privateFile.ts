/**
 * The one way Net Trace opens a file it saves (trace JSON, HAR, pcapng, the extension's trace
 * index): readable only by its owner, and never through a symbolic link or into another user's
 * file. Saved files often go to shared folders (`/tmp`), where another user can plant a symlink
 * named like the file (`open(path, "w")` then wrote through it into whatever it pointed at: the
 * victim's own file) or leave a file of their own there for us to fill.
 *
 * So the file is opened with O_NOFOLLOW (a symlink as the last component is refused: ELOOP) and
 * without O_TRUNC; then, on the descriptor, it must be a regular file of ours with one link (a
 * hard link planted to one of our files would be overwritten), it is made 0600 with fchmod (the
 * mode of open() applies only to a new file; a chmod by path could reach another file) and only
 * then truncated. Nothing is written before these checks.
 */

import { closeSync, constants, fchmodSync, fstatSync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/** A saved file that cannot be opened safely; the message names the file and the reason. */
export class PrivateFileError extends Error {
  override readonly name = 'PrivateFileError';
}

const WINDOWS = process.platform === 'win32';
/**
 * Open flags: write, create 0600, never follow a symlink, no truncation before the checks, and
 * O_NONBLOCK so a FIFO planted under the name fails (ENXIO) instead of blocking the open (it has
 * no effect on a regular file).
 */
const FLAGS = constants.O_WRONLY | constants.O_CREAT | (WINDOWS ? 0 : constants.O_NOFOLLOW | constants.O_NONBLOCK);

/** Why `path` could not be opened, in words (an errno code otherwise). */
function reason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ELOOP':
      return 'it is a symbolic link (saved files are never written through one: choose another name)';
    case 'ENOENT':
      return 'its directory does not exist';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENXIO':
      return 'it is not a regular file';
    default:
      return err.message;
  }
}

/** Checks the opened file (see the module comment), makes it 0600 and empties it (`truncate`). */
function secure(fd: number, path: string, truncate: boolean): void {
  try {
    // What is already so is not done again: each change is a metadata write to the disk.
    let empty = false;
    if (!WINDOWS) {
      const st = fstatSync(fd);
      empty = st.size === 0;
      const uid = process.geteuid?.();
      if (!st.isFile()) throw new PrivateFileError(`cannot write ${path}: it is not a regular file`);
      if (uid !== undefined && st.uid !== uid)
        throw new PrivateFileError(`cannot write ${path}: it belongs to another user (uid ${st.uid})`);
      if (st.nlink > 1) throw new PrivateFileError(`cannot write ${path}: it has other hard links (${st.nlink}): choose another name`);
      if ((st.mode & 0o777) !== 0o600) fchmodSync(fd, 0o600);
    }
    if (truncate && !empty) ftruncateSync(fd, 0);
  } catch (err) {
    if (err instanceof PrivateFileError) throw err;
    throw new PrivateFileError(`cannot write ${path}: ${reason(err as NodeJS.ErrnoException)}`);
  }
}

/**
 * Opens `path` for writing as the module comment says and returns its descriptor; with
 * `truncate: false` an existing file keeps its content (a check before writing). Throws
 * PrivateFileError naming the file and what is wrong.
 */
export function openPrivateSync(path: string, { truncate = true } = {}): number {
  let fd: number;
  try {
    fd = openSync(path, FLAGS, 0o600);
  } catch (err) {
    throw new PrivateFileError(`cannot write ${path}: ${reason(err as NodeJS.ErrnoException)}`);
  }
  try {
    secure(fd, path, truncate);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/** openPrivateSync, as a FileHandle. */
export async function openPrivate(path: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    // Required here: `nettrace run`'s start does not load fs/promises (≈ 2 ms; issue 52).
    fh = await (require('node:fs/promises') as typeof import('node:fs/promises')).open(path, FLAGS, 0o600);
  } catch (err) {
    throw new PrivateFileError(`cannot write ${path}: ${reason(err as NodeJS.ErrnoException)}`);
  }
  try {
    secure(fh.fd, path, true);
  } catch (err) {
    await fh.close();
    throw err;
  }
  return fh;
}

/** Writes `data` to `path` through openPrivate (0600, no symlink, ours). */
export async function writePrivate(path: string, data: string | Uint8Array): Promise<void> {
  const fh = await openPrivate(path);
  try {
    await fh.writeFile(data);
  } finally {
    await fh.close();
  }
}

/**
 * Fails early when `path` could not be saved to (before a program is traced for minutes): opens
 * it as openPrivateSync does without emptying it, and removes it again if it did not exist.
 */
export function checkPrivateWritable(path: string): void {
  let created = false;
  try {
    const fd = openSync(path, FLAGS | constants.O_EXCL, 0o600);
    closeSync(fd);
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new PrivateFileError(`cannot write ${path}: ${reason(err as NodeJS.ErrnoException)}`);
  }
  if (created) {
    try {
      unlinkSync(path);
    } catch {
      // Harmless: the file is opened again when it is written.
    }
    return;
  }
  closeSync(openPrivateSync(path, { truncate: false }));
}
