/**
 * What the last probes of this machine found (launch.ts chooseAuthorityAsync), kept so that
 * `nettrace run --helper auto` and a debug session do not run getcap and sudo again before every
 * program (issue 52: ≈ 16 ms of a run's start, the program held at its gate meanwhile).
 *
 * The answers are used again only while nothing they rest on has changed, as far as an
 * unprivileged user can see it: the user's ids and groups, whether the session is interactive,
 * which getcap, sudo and pkexec PATH finds, those files, the helper's native binary and its
 * Node side (`setcap` changes the binary's ctime), `/etc/sudoers`, `/etc/sudoers.d` (a rule added
 * or removed) and `/etc/sudo.conf` — and for an hour at most, for what cannot be seen (a rule
 * edited in place inside `/etc/sudoers.d`, sudo rules from a directory service). The sudo probes
 * ignore a password typed earlier (`sudo -k`), so no answer rests on a ticket that expires. A
 * helper that fails to start with remembered answers forgets them (forgetProbes).
 *
 * One small JSON file, `helper-probes.json` in the user's cache folder (0600, folder 0700,
 * written whole by a rename; the newest eight keys); any failure to read or write it is the same
 * as no file.
 */

import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOnPath } from './findOnPath';
import { nettraceCacheDir } from '../protocol/preload';

/** What the probes found: each a way to get privileges that works here. */
export interface ProbeFacts {
  /** The native helper carries file capabilities with cap_bpf. */
  caps: boolean;
  /** `sudo -n` runs the helper's Node side without a password. */
  sudo: boolean;
  /** pkexec is installed and the session is interactive. */
  pkexec: boolean;
}

/** How long remembered answers are used at most, ms. */
export const PROBES_MAX_AGE_MS = 60 * 60 * 1000;

const FILE = 'helper-probes.json';

function cacheFile(): string | undefined {
  const dir = nettraceCacheDir(process.env);
  return dir === undefined ? undefined : join(dir, FILE);
}

/** `file`'s identity and times, or '-' when it is not there. */
function stamp(file: string | undefined): string {
  if (file === undefined) return '-';
  try {
    const s = statSync(file);
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}:${s.mode}:${s.uid}`;
  } catch {
    return '-';
  }
}

/**
 * The key of the probes' answers for these files (the helper's native binary and its Node side,
 * the Node that would run it) in this session: see the module comment.
 */
export function probeKey(files: string[], interactive: boolean): string {
  const tools = ['getcap', 'sudo', 'pkexec'].map((name) => {
    const file = findOnPath(name);
    return `${name}=${file ?? '-'}@${stamp(file)}`;
  });
  return [
    `uid=${process.getuid?.()}`,
    `gid=${process.getgid?.()}`,
    `groups=${(process.getgroups?.() ?? []).join(',')}`,
    `interactive=${interactive}`,
    ...files.map((f) => `${f}@${stamp(f)}`),
    ...tools,
    ...['/etc/sudoers', '/etc/sudoers.d', '/etc/sudo.conf'].map((f) => `${f}@${stamp(f)}`),
  ].join('\n');
}

/** How many keys are kept (a user with several checkouts or Node versions). */
const MAX_KEYS = 8;

type Kept = Record<string, { at: number; facts: ProbeFacts }>;

function readKept(file: string): Kept {
  try {
    const kept = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return kept && typeof kept === 'object' && !Array.isArray(kept) ? (kept as Kept) : {};
  } catch {
    return {};
  }
}

/** The answers remembered under `key`, or undefined (none, or older than an hour). */
export function recallProbes(key: string, now = Date.now()): ProbeFacts | undefined {
  const file = cacheFile();
  if (file === undefined) return undefined;
  const entry = readKept(file)[key] as Partial<{ at: unknown; facts: Partial<ProbeFacts> }> | undefined;
  const at = typeof entry?.at === 'number' ? entry.at : NaN;
  if (!entry?.facts || !(now - at < PROBES_MAX_AGE_MS && now >= at)) return undefined;
  const { caps, sudo, pkexec } = entry.facts;
  if (typeof caps !== 'boolean' || typeof sudo !== 'boolean' || typeof pkexec !== 'boolean') return undefined;
  return { caps, sudo, pkexec };
}

/** Keeps `facts` under `key`, with the newest other keys (never throws). */
export function rememberProbes(key: string, facts: ProbeFacts, now = Date.now()): void {
  const file = cacheFile();
  if (file === undefined) return;
  try {
    const others = Object.entries(readKept(file))
      .filter(([k, v]) => k !== key && typeof v?.at === 'number' && now - v.at < PROBES_MAX_AGE_MS)
      .sort((a, b) => b[1].at - a[1].at)
      .slice(0, MAX_KEYS - 1);
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries([[key, { at: now, facts }], ...others])), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // No cache: the next run probes again.
  }
}

/** Forgets the remembered answers (never throws). */
export function forgetProbes(): void {
  const file = cacheFile();
  try {
    if (file !== undefined) rmSync(file, { force: true });
  } catch {
    // Not ours to remove: it will be older than an hour soon.
  }
}
