/**
 * The environment of the helper's Node side when it runs as root. sudo may pass the caller's
 * `PATH` (a sudoers file without `secure_path`, or with `env_keep`), and whatever the caller's
 * environment names would then run or be written as root: a `nsenter` in `~/bin`, a `TMPDIR` of
 * theirs, a module folder. So the helper starts every program by an absolute path it checked,
 * loads no addon (the native helper reads the packet capture), and resets its own environment to
 * a fixed one at start.
 * Variables Node, its OpenSSL or the dynamic loader act on before the first line of the helper
 * runs cannot be undone that late: when the helper runs as root for another user and one is set,
 * it refuses to run and says how to fix the sudoers rule.
 */

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { notRootOnly } from './rootOwned';

/** `PATH` of the root helper and of what it starts: system folders only root can write. */
export const ROOT_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

/** Variables the helper keeps: who it works for, as sudo and pkexec set them. */
export const KEPT_VARIABLES: readonly string[] = ['SUDO_UID', 'SUDO_GID', 'SUDO_USER', 'PKEXEC_UID'];

/**
 * Variables acted on while Node starts, before the helper can reset anything, that let the caller
 * choose code root runs or files root writes or parses: `NODE_OPTIONS` (`--require`), module
 * folders, OpenSSL's configuration, providers and engines, the dynamic loader's (`LD_*`, by
 * prefix), glibc's conversion and locale modules, coverage, warning, trace and compile-cache
 * output. Not refused: variables that only make root read a CA file (`NODE_EXTRA_CA_CERTS`,
 * `SSL_CERT_FILE`, `SSL_CERT_DIR`; set machine-wide on many hosts, and the helper makes no TLS
 * connection); the reset drops them.
 */
export const STARTUP_VARIABLES: readonly string[] = [
  'NODE_OPTIONS',
  'NODE_PATH',
  'NODE_ICU_DATA',
  'NODE_V8_COVERAGE',
  'NODE_REDIRECT_WARNINGS',
  'NODE_COMPILE_CACHE',
  'OPENSSL_CONF',
  'OPENSSL_MODULES',
  'OPENSSL_ENGINES',
  'GCONV_PATH',
  'LOCPATH',
  'NLSPATH',
  'MALLOC_TRACE',
];

/** The names in `env` that Node or the loader acted on at start (sorted). */
export function startupVariables(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(env)
    .filter((k) => env[k] !== undefined && (STARTUP_VARIABLES.includes(k) || k.startsWith('LD_')))
    .sort();
}

/** True when this process is root working for another user (started through sudo or pkexec by them). */
export function rootForAnotherUser(env: NodeJS.ProcessEnv, euid: number): boolean {
  if (euid !== 0) return false;
  const by = env.SUDO_UID ?? env.PKEXEC_UID;
  return by !== undefined && by !== '0';
}

/**
 * Why the helper must not run with `env` (undefined when it may): as root for another user, a
 * variable Node already acted on means the caller chose code or files that root used.
 */
export function environmentRefusal(env: NodeJS.ProcessEnv, euid: number): { code: 'EENV'; message: string } | undefined {
  if (!rootForAnotherUser(env, euid)) return undefined;
  const bad = startupVariables(env);
  if (bad.length === 0) return undefined;
  const via = env.SUDO_UID !== undefined ? 'sudo' : 'pkexec';
  return {
    code: 'EENV',
    message:
      `the helper runs as root for uid ${env.SUDO_UID ?? env.PKEXEC_UID} with ${bad.join(', ')} in its environment, ` +
      `which Node reads as it starts (code or files of the caller's choosing, as root): refusing to run. ` +
      `${via === 'sudo' ? 'sudo passed them: remove SETENV, env_keep of them and !env_reset from the sudoers rule for the helper (the rule `nettrace helper setup` writes keeps none), and do not use sudo -E' : 'pkexec passed them: check the polkit configuration'}.`,
  };
}

/** The environment the helper runs with: `PATH` = ROOT_PATH and KEPT_VARIABLES, nothing else. */
export function safeEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = { PATH: ROOT_PATH };
  for (const k of KEPT_VARIABLES) {
    const v = env[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * Replaces this process's environment by `safeEnvironment()` in place (deleting from
 * `process.env` unsets the variable for the process, so `os.tmpdir()` and child processes see
 * the reset too; assigning a new object would not reach `os.tmpdir()`, which reads the real
 * environment). Run before anything else reads it.
 */
export function resetEnvironment(): void {
  const safe = safeEnvironment(process.env);
  for (const k of Object.keys(process.env)) if (!(k in safe)) delete process.env[k];
  for (const [k, v] of Object.entries(safe)) process.env[k] = v;
}

/**
 * The absolute path of the system program `name` in ROOT_PATH's folders, when it and every folder
 * above it are root's and writable by no one else; otherwise why none is.
 */
export function systemProgram(name: string): { path?: string; problem?: string } {
  const problems: string[] = [];
  for (const dir of ROOT_PATH.split(':')) {
    const candidate = join(dir, name);
    if (!existsSync(candidate)) continue;
    const problem = notRootOnly(candidate, { what: name });
    if (!problem) return { path: candidate };
    problems.push(problem);
  }
  return { problem: problems.length ? problems.join('; ') : `${name} is not installed in ${ROOT_PATH.split(':').join(', ')}` };
}
