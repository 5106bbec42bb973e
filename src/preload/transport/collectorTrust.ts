/**
 * How the preload knows the collector it talks to is its own (docs/security.md, "How a traced
 * process knows its collector"). A process may outlive its trace (a daemon, a restarted process, a
 * detached child) and first use the network after the collector removed its folder, whose name
 * another user could then create again. So, on a unix system, before it connects or reads the
 * rules file the preload checks the collector's folder as its own (src/protocol/privateFolder.ts)
 * and, once connected or the file opened, that it is still that folder; the rules file is opened
 * without following links or waiting (a FIFO), and checked on its descriptor as a file of its own.
 * A collector that fails the check is treated as gone: the process stays quietly untraced.
 * Windows' named pipes have no folder: there the collector proves the session's key instead
 * (collectorProof.ts).
 */

import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { type FolderIdentity, privateFolderProblem, sameFolder } from '../../protocol/privateFolder';

/** fs functions bound when the preload loads, before the program can replace them. */
const fsFns = {
  lstat: lstatSync,
  open: openSync,
  fstat: fstatSync,
  read: readSync,
  close: closeSync,
};
const { O_RDONLY, O_NOFOLLOW = 0, O_NONBLOCK = 0 } = constants;

/** The user ids this process acts as (real and effective): the folder must be one of theirs. */
function ownUids(): number[] {
  const ids: number[] = [];
  if (typeof process.getuid === 'function') ids.push(process.getuid());
  if (typeof process.geteuid === 'function') ids.push(process.geteuid());
  return ids;
}

/** The folder a unix socket path or file lies in (the collector writes real, absolute paths). */
function folderOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/** Uses folders and files (not Windows' pipes, whose trust is collectorProof.ts's). */
export const CHECKS_FOLDERS = process.platform !== 'win32';

/**
 * The folder of `path` (the collector's socket) when it is this process's own and private, else
 * why not. Always trusted where folders are not checked (Windows).
 */
export function checkCollectorFolder(path: string): FolderIdentity | { problem: string } | undefined {
  if (!CHECKS_FOLDERS) return undefined;
  return privateFolderProblem(folderOf(path), ownUids(), fsFns.lstat);
}

/** Whether the folder checked before a connect or open is still the same one, still private. */
export function stillOwnFolder(id: FolderIdentity | undefined): boolean {
  return id === undefined || sameFolder(id, ownUids(), fsFns.lstat);
}

/**
 * Reads the collector's file `path` (its rules file) when it lies in a folder of this process's
 * own and is a regular file of its user that no one else can read or write, of at most `maxBytes`:
 * opened without following a link and without waiting (a FIFO or device never blocks the program),
 * checked on the open descriptor, read through it. Throws an Error saying why not.
 */
export function readOwnFile(path: string, maxBytes: number): string {
  const folder = checkCollectorFolder(path);
  if (folder !== undefined && 'problem' in folder) throw new Error(`the collector's folder is not trusted: ${folder.problem}`);
  const fd = fsFns.open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  try {
    const st = fsFns.fstat(fd);
    if (!st.isFile()) throw new Error(`${path} is not a regular file`);
    if (CHECKS_FOLDERS) {
      if (!ownUids().includes(st.uid)) throw new Error(`${path} belongs to uid ${st.uid}, not to this process's user`);
      if ((st.mode & 0o077) !== 0) throw new Error(`${path} is open to other users`);
    }
    if (st.size > maxBytes) throw new Error(`${path} is over ${maxBytes} bytes`);
    const buf = Buffer.alloc(st.size);
    let got = 0;
    while (got < st.size) {
      const n = fsFns.read(fd, buf, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    if (!stillOwnFolder(folder)) throw new Error(`the collector's folder changed while ${path} was read`);
    return buf.toString('utf8', 0, got);
  } finally {
    fsFns.close(fd);
  }
}
