/**
 * What the setup's root step copies, and the checks that make the copy safe (issue: a setup that
 * copies as root from folders the user can change).
 *
 * The payload lives in folders the user owns (the extension's folder, a checkout, a build folder),
 * and the root step runs later, after the plan was shown. So:
 *   - the install folder, and every folder above it, must be root's and writable by no one else
 *     (`prefixProblem()`): a sudoers rule or file capabilities name files there;
 *   - only regular files are copied, listed one by one (`payloadFiles()`): a symbolic link in the
 *     payload (to a file of the user's, or to /etc/shadow) is refused when the plan is made;
 *   - each file's SHA-256 is taken when the plan is made; the root step copies into a folder of
 *     root's inside the install folder, checks the hashes there, and only then moves the files
 *     into place: a file swapped after the plan was shown stops the setup.
 */

import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { notRootOnly } from './rootOwned';

/** One privileged step: a command run as root, and what it does. */
export interface SetupStep {
  title: string;
  /** The command (for a `shell` step: /bin/sh -c and the line). */
  argv: string[];
  /** The shell line, for a step that needs a pipe or a redirection (shown and run as it is). */
  shell?: string;
}

/** One file the root step installs. */
export interface PayloadFile {
  /** Where it is now (in the payload, the user's). */
  source: string;
  /** Where it goes, relative to the install folder (e.g. `dist/helper.cjs`). */
  target: string;
  mode: 0o644 | 0o755;
  /** SHA-256 (hex) of its bytes when the plan was made. */
  sha256: string;
}

/** The payload's files as given to `payloadFiles()`. */
export interface PayloadSources {
  helperScript: string;
  nativeHelper: string;
}

/** Largest payload file accepted (the native helper is a few MB). */
export const MAX_PAYLOAD_FILE_BYTES = 256 * 1024 * 1024;

/** A payload or install folder the setup refuses; the message says what and what to do. */
export class SetupRefusal extends Error {}

/**
 * Why `prefix` cannot hold the root-owned install (undefined when it can): it, or a folder above
 * it (through symbolic links too), is not root's or is writable by others, sticky folders like
 * /tmp included (another user could create or fill it first).
 */
export function prefixProblem(prefix: string): string | undefined {
  const problem = notRootOnly(prefix, { what: `the install folder ${prefix}` });
  return problem && `${problem}; choose a folder only root can write (the default is /usr/local/lib/nettrace)`;
}

/** SHA-256 of a regular file, opened without following a symbolic link; throws SetupRefusal otherwise. */
export function hashRegularFile(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new SetupRefusal(symlinkMessage(path));
    throw new SetupRefusal(`cannot read ${path} (${code ?? (e as Error).message})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new SetupRefusal(`${path} is not a regular file: the setup copies regular files only`);
    if (st.size > MAX_PAYLOAD_FILE_BYTES) throw new SetupRefusal(`${path} is larger than ${MAX_PAYLOAD_FILE_BYTES} bytes`);
    // `crypto` loaded here, by the setup only (issue 52: not at `nettrace run`'s start).
    const hash = (require('node:crypto') as typeof import('node:crypto')).createHash('sha256');
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

function symlinkMessage(path: string): string {
  let to = '';
  try {
    to = ` (to ${readlinkSync(path)})`;
  } catch {
    /* gone meanwhile */
  }
  return `${path} is a symbolic link${to}: the setup copies only regular files of the payload (a link could make root install or publish another file); replace it by the file itself`;
}

/**
 * The files the root step installs, each hashed now: dist/helper.cjs and the native helper (which
 * also reads the packet capture: nothing else is installed). Throws SetupRefusal on a symbolic
 * link or a file that is not regular.
 */
export function payloadFiles(src: PayloadSources): PayloadFile[] {
  const files: PayloadFile[] = [];
  const add = (file: string, target: string, mode: 0o644 | 0o755) => {
    const source = resolve(file);
    if (lstatSync(source).isSymbolicLink()) throw new SetupRefusal(symlinkMessage(source));
    files.push({ source, target, mode, sha256: hashRegularFile(source) });
  };
  add(src.helperScript, 'dist/helper.cjs', 0o644);
  add(src.nativeHelper, 'native/build/nettrace-helper', 0o755);
  return files;
}

/** The folders (relative, parents first) the files of `files` go in. */
export function payloadFolders(files: PayloadFile[]): string[] {
  const dirs = new Set<string>();
  for (const f of files) {
    for (let d = posix.dirname(f.target); d !== '.'; d = posix.dirname(d)) dirs.add(d);
  }
  return [...dirs].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1));
}

/** The top-level entries of the install folder the files replace (`dist`, `native`). */
export function payloadTops(files: PayloadFile[]): string[] {
  return [...new Set(files.map((f) => f.target.split('/')[0]))];
}

/** The lines `sha256sum --check` reads for `files` installed under `dir`. */
export function checksumLines(files: PayloadFile[], dir: string): string[] {
  return files.map((f) => `${f.sha256}  ${join(dir, f.target)}`);
}

/** A word for a POSIX shell, quoted when needed. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=+,@%-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The folder inside the install folder where the root step copies and checks the files first. */
export const STAGING_NAME = '.setup-staging';

const rootInstall = (mode: string, ...rest: string[]) => ['install', '-m', mode, '-o', 'root', '-g', 'root', ...rest];

/** The steps that copy `files` into a root-only folder of `prefix`, check their hashes, and move them into place. */
export function copySteps(prefix: string, files: PayloadFile[]): SetupStep[] {
  const staging = join(prefix, STAGING_NAME);
  const steps: SetupStep[] = [
    {
      title: `create ${prefix}, owned by root (the files a sudoers rule or file capabilities name must not be yours to rewrite)`,
      argv: ['install', '-d', '-m', '0755', '-o', 'root', '-g', 'root', prefix],
    },
    { title: `copy the files into ${staging} first (root's, 0700), checking their hashes there`, argv: ['rm', '-rf', '--', staging] },
    { title: '', argv: ['install', '-d', '-m', '0700', '-o', 'root', '-g', 'root', staging] },
    {
      title: '',
      argv: ['install', '-d', '-m', '0755', '-o', 'root', '-g', 'root', ...payloadFolders(files).map((d) => join(staging, d))],
    },
  ];
  for (const f of files)
    steps.push({ title: '', argv: rootInstall(f.mode === 0o755 ? '0755' : '0644', '-T', f.source, join(staging, f.target)) });
  const check = `printf '%s\\n' ${checksumLines(files, staging).map(shellQuote).join(' ')} | sha256sum --check --strict --quiet -`;
  steps.push({
    title: 'check the copies are the files shown (SHA-256 taken when this plan was made)',
    argv: ['/bin/sh', '-c', check],
    shell: check,
  });
  const tops = payloadTops(files);
  steps.push(
    {
      title: `replace the installed ${tops.join(', ')} with the checked copies`,
      argv: ['rm', '-rf', '--', ...tops.map((t) => join(prefix, t))],
    },
    ...tops.map((t) => ({ title: '', argv: ['mv', '-T', '--', join(staging, t), join(prefix, t)] })),
    { title: '', argv: ['rmdir', '--', staging] },
  );
  return steps;
}

/** The steps that write the sudoers drop-in (the text is in the step itself), check it and enable it. */
export function sudoersSteps(file: string, rule: string, comment: string): SetupStep[] {
  // Names with a dot are skipped by sudo's #includedir: the rule is checked before it counts.
  const pending = `${file}.new`;
  const write = `rm -f -- ${shellQuote(pending)} && (umask 0337 && printf '%s\\n' ${shellQuote(comment)} ${shellQuote(rule)} > ${shellQuote(pending)})`;
  return [
    { title: `write the sudoers rule: ${rule}`, argv: ['/bin/sh', '-c', write], shell: write },
    { title: 'check its syntax', argv: ['visudo', '-c', '-q', '-f', pending] },
    { title: `enable it as ${file}`, argv: ['mv', '-f', '--', pending, file] },
  ];
}
