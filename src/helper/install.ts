/**
 * Setting up the kernel helper without a repository checkout ("Net Trace: Set Up Kernel Helper"
 * in the extension, `nettrace helper setup` in the CLI; both use this module).
 *
 * The .vsix carries a payload in helper/ (scripts/package.sh): dist/helper.cjs, a prebuilt x64
 * Linux native helper (which also reads the packet capture, native/src/capture.c) and the native
 * sources (native-src/). A checkout is a payload too (dist/, native/build/, native/). Setting up:
 *   1. inspect (as the user): does the binary run here (its shared libraries); build the native
 *      helper from the sources when the binary cannot run and a toolchain is present;
 *   2. plan the privileged steps (shown to the user before anything runs): a root-owned copy in
 *      /usr/local/lib/nettrace (a sudoers rule or file capabilities must name files the user
 *      cannot rewrite: the folder and those above it are checked, see setupFiles.ts and
 *      docs/security.md), made from the payload's regular files whose hashes are taken now,
 *      file capabilities on its native helper (eBPF metrics and conntrack as the user), and,
 *      for packet capture, a sudoers rule allowing exactly `node <prefix>/dist/helper.cjs *` to
 *      this user without a password, its text written by the root step itself;
 *   3. run them: directly when root, else through sudo or pkexec (one invocation, each step
 *      echoed before it runs, a fixed PATH; copies checked against the hashes before they are
 *      moved into place);
 *   4. verify: start the installed helper on a process of the user as a session would, and read
 *      its `ready` line (which features are on, and why not).
 */

import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { HelperAuthority, HelperReadyMessage } from '../protocol/helper';
import { chooseAuthority, nativeHelperBuilt, removeSpool, startHelper, type HelperClient, type HelperOptions } from './launch';
import { ROOT_PATH } from './rootEnv';
import { findOnPath } from './findOnPath';
import { notRootOnly } from './rootOwned';
import {
  copySteps,
  payloadFiles,
  prefixProblem,
  SetupRefusal,
  shellQuote,
  STAGING_NAME,
  sudoersSteps,
  type PayloadFile,
  type SetupStep,
} from './setupFiles';

/** Where the root-owned copy goes by default (native/Makefile's PREFIX too). */
export const DEFAULT_PREFIX = '/usr/local/lib/nettrace';

/**
 * The folder holding the helper a session should use: `root` (or, undefined, this bundle's own
 * checkout) when its native helper is there, else, unless `installed` is false, the setup's
 * install folder when the helper is set up there (installedHelperRoot); not found when neither is.
 */
export function resolveHelperRoot(root: string | undefined, installed = true): { found: boolean; root?: string } {
  if (nativeHelperBuilt(root)) return { found: true, root };
  const prefix = installed ? installedHelperRoot() : undefined;
  if (prefix && nativeHelperBuilt(prefix) && existsSync(join(prefix, 'dist', 'helper.cjs'))) return { found: true, root: prefix };
  return { found: false, root };
}

/** The install folder: NETTRACE_HELPER_PREFIX (tests, packagers) or /usr/local/lib/nettrace. */
export function installPrefix(): string {
  const env = process.env.NETTRACE_HELPER_PREFIX;
  return env && env.startsWith('/') ? env : DEFAULT_PREFIX;
}

/**
 * Where a session looks for an installed helper when its own root has none: installPrefix(), or
 * nowhere when NETTRACE_HELPER_PREFIX is `none` (the test suites set it, so that what is installed
 * on the machine never changes what a test runs; a test that means an installed helper names it).
 */
export function installedHelperRoot(): string | undefined {
  return process.env.NETTRACE_HELPER_PREFIX === 'none' ? undefined : installPrefix();
}

/** The file capabilities of the native helper (native/Makefile install-caps; docs/security.md). */
export const HELPER_FILE_CAPS = 'cap_bpf,cap_perfmon,cap_net_admin,cap_sys_admin,cap_setpcap+ep';

/** The files setting up installs, from the .vsix's helper/ or a checkout. */
export interface HelperPayload {
  /** The payload's folder. */
  dir: string;
  /** dist/helper.cjs (the Node side). */
  helperScript: string;
  /** The prebuilt native helper (may be missing: then only `sources` can give one). */
  nativeHelper: string;
  /** The native sources (a folder with native/'s Makefile, src/, bpf/), when shipped. */
  sources?: string;
}

/** The payload under `base`: the .vsix's helper/ folder, or `base` itself when it is a checkout. */
export function findPayload(base: string): HelperPayload | undefined {
  const vsix = join(base, 'helper');
  if (existsSync(join(vsix, 'dist', 'helper.cjs'))) return payloadIn(vsix, join(vsix, 'native-src'));
  if (existsSync(join(base, 'dist', 'helper.cjs'))) return payloadIn(base, join(base, 'native'));
  return undefined;
}

/** The payload in `dir` (its dist/ and native/build/), with the native sources in `sources` when they have their Makefile. */
function payloadIn(dir: string, sources: string): HelperPayload {
  return {
    dir,
    helperScript: join(dir, 'dist', 'helper.cjs'),
    nativeHelper: join(dir, 'native', 'build', 'nettrace-helper'),
    sources: optional(join(sources, 'Makefile')) && sources,
  };
}

function optional(path: string): string | undefined {
  return existsSync(path) ? path : undefined;
}

/** Debian/Ubuntu packages of the shared libraries the native helper links. */
const LIBRARY_PACKAGES: Record<string, string> = {
  'libnetfilter_conntrack.so.3': 'libnetfilter-conntrack3',
  'libnfnetlink.so.0': 'libnfnetlink0',
  'libmnl.so.0': 'libmnl0',
  'libbpf.so.1': 'libbpf1',
  'libelf.so.1': 'libelf1',
  'libz.so.1': 'zlib1g',
};

/** Shared libraries `ldd` cannot find for `file` (empty when it can load; undefined: no ldd). */
export function missingLibraries(file: string): string[] | undefined {
  const r = spawnSync('ldd', [file], { encoding: 'utf8' });
  if (r.error) return undefined;
  return [...r.stdout.matchAll(/^\s*(\S+) => not found/gm)].map((m) => m[1]);
}

/** What `inspectPayload()` found out, as the user, before anything privileged runs. */
export interface PayloadInspection {
  /** The native helper to install (the prebuilt one, or one built from the sources). */
  nativeHelper?: string;
  /** Why there is no native helper that runs here (undefined when there is one). */
  nativeProblem?: string;
  /** Runtime libraries to install first (Debian/Ubuntu package names) when apt-get is there. */
  packages: string[];
  /** Lines for the user: what was built, what is missing. */
  notes: string[];
}

/**
 * Checks the payload as the user: whether its native helper's libraries are all there (else
 * builds one from the sources when `make`, `clang` and `bpftool` are present, or names the
 * packages to install). The packet capture needs nothing more: the native helper reads it.
 */
export function inspectPayload(payload: HelperPayload, opts: { buildDir?: string; log?: (line: string) => void } = {}): PayloadInspection {
  const out: PayloadInspection = { packages: [], notes: [] };
  const log = opts.log ?? (() => {});
  const missing = existsSync(payload.nativeHelper) ? missingLibraries(payload.nativeHelper) : undefined;
  if (existsSync(payload.nativeHelper) && missing && missing.length === 0) out.nativeHelper = payload.nativeHelper;
  else {
    const why = !existsSync(payload.nativeHelper)
      ? `there is no prebuilt native helper for this machine (${process.arch})`
      : missing === undefined
        ? 'ldd is not installed, so the native helper cannot be checked'
        : `the prebuilt native helper needs ${missing.join(', ')}`;
    const built = payload.sources ? buildNative(payload.sources, opts.buildDir, log) : { error: 'no native sources in the payload' };
    if (built.binary) {
      out.nativeHelper = built.binary;
      out.notes.push(`built the native helper from the shipped sources (${why})`);
    } else if (missing && missing.length > 0 && missing.every((l) => LIBRARY_PACKAGES[l]) && findOnPath('apt-get', SYSTEM_PATH)) {
      out.nativeHelper = payload.nativeHelper;
      out.packages.push(...missing.map((l) => LIBRARY_PACKAGES[l]));
      out.notes.push(`${why}: installing ${out.packages.join(' ')} first`);
    } else {
      out.nativeProblem = `${why}, and building it from the sources failed (${built.error}); install clang, llvm, bpftool, make, gcc, libbpf-dev, libelf-dev, zlib1g-dev, libnetfilter-conntrack-dev, libmnl-dev and run this again`;
    }
  }
  return out;
}

/** Builds the native helper from `sources` (as the user) into a temporary folder. */
export function buildNative(
  sources: string,
  buildDir: string | undefined,
  log: (line: string) => void,
): { binary?: string; error?: string } {
  for (const tool of ['make', 'clang', 'gcc']) if (!findOnPath(tool, SYSTEM_PATH)) return { error: `${tool} is not installed` };
  if (!findOnPath('bpftool', SYSTEM_PATH)) return { error: 'bpftool is not installed' };
  const dir = buildDir ?? mkdtempSync(join(tmpdir(), 'nettrace-build-'));
  const src = join(dir, 'native');
  rmSync(src, { recursive: true, force: true });
  cpSync(sources, src, { recursive: true });
  rmSync(join(src, 'build'), { recursive: true, force: true });
  log(`building the native helper in ${src}: make helper`);
  const r = spawnSync('make', ['-s', '-C', src, 'helper'], { encoding: 'utf8', env: { ...process.env, PATH: SYSTEM_PATH } });
  const binary = join(src, 'build', 'nettrace-helper');
  if (r.status !== 0 || !existsSync(binary))
    return { error: `make failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ')}` };
  return { binary };
}

/** The privileged steps of a setup, and what it will and will not enable. */
export interface SetupPlan {
  prefix: string;
  /** The user the helper is set up for. */
  user: { name: string; uid: number };
  /** The Node binary that runs dist/helper.cjs (named by the sudoers rule). */
  nodePath: string;
  /** File capabilities on the installed native helper (not needed when the user is root). */
  fileCapabilities: boolean;
  /** The sudoers drop-in that allows packet capture without a password (non-root users). */
  sudoers?: { file: string; rule: string };
  /** The files installed, with their hashes taken when the plan was made. */
  files: PayloadFile[];
  steps: SetupStep[];
  /** Runs after the steps, whether they failed or not: removes the staging folder. */
  cleanup: SetupStep;
  /** What the plan leaves off, and why. */
  notes: string[];
}

/** Options of planSetup(). */
export interface PlanOptions {
  payload: HelperPayload;
  inspection: PayloadInspection;
  nodePath: string;
  /** Also allow packet capture (Save PCAP, --pcap) through a sudoers rule (non-root users). */
  capture: boolean;
  prefix?: string;
  user?: { name: string; uid: number };
}

/** PATH with the user's and the system folders, for what runs as the user (make, ldd, sudo). */
const SYSTEM_PATH = [
  ...new Set([
    ...(process.env.PATH ?? '').split(':').filter(Boolean),
    '/usr/local/sbin',
    '/usr/local/bin',
    '/usr/sbin',
    '/usr/bin',
    '/sbin',
    '/bin',
  ]),
].join(':');

/** Characters a path may have to be named in a sudoers rule without escaping. */
const PLAIN_PATH = /^\/[A-Za-z0-9_./+-]*$/;

/**
 * Why a sudoers rule for `node <prefix>/dist/helper.cjs *` would be unsafe for this Node binary
 * (undefined when it is safe): the rule runs the named file as root, so it and every folder above
 * it (through symbolic links too) must be root's and writable by nobody else.
 */
export function nodeUnsafeForSudo(nodePath: string): string | undefined {
  if (!PLAIN_PATH.test(nodePath)) return `the Node path ${nodePath} has characters a sudoers rule cannot name plainly`;
  if (!existsSync(nodePath)) return `${nodePath} does not exist`;
  const problem = notRootOnly(nodePath, { allowSticky: true, what: nodePath });
  return problem && `${problem} (a sudoers rule for ${nodePath} would let them run anything as root)`;
}

/**
 * The privileged steps that install the payload into `prefix` for `user` (nothing runs here).
 * Throws when the install folder is unsafe (SetupRefusal: not root's, or writable by others, up to
 * /) or the payload holds a symbolic link; takes the payload files' hashes.
 */
export function planSetup(opts: PlanOptions): SetupPlan {
  const prefix = opts.prefix ?? installPrefix();
  if (!PLAIN_PATH.test(prefix)) throw new Error(`the install folder ${prefix} must be an absolute path of letters, digits and _ . / + -`);
  const unsafePrefix = prefixProblem(prefix);
  if (unsafePrefix) throw new SetupRefusal(`refusing to install the helper in ${prefix}: ${unsafePrefix}`);
  const native = opts.inspection.nativeHelper;
  if (!native) throw new Error(opts.inspection.nativeProblem ?? 'no native helper to install');
  const info = opts.user ?? { name: userInfo().username, uid: process.getuid?.() ?? 0 };
  const isRoot = info.uid === 0;
  const notes = [...opts.inspection.notes];
  const steps: SetupStep[] = [];
  const installed = join(prefix, 'native', 'build', 'nettrace-helper');
  if (opts.inspection.packages.length > 0) {
    steps.push({
      title: `install the runtime libraries the helper needs (${opts.inspection.packages.join(', ')})`,
      argv: ['apt-get', 'install', '-y', '--no-install-recommends', ...opts.inspection.packages],
    });
  }
  const files = payloadFiles({ helperScript: opts.payload.helperScript, nativeHelper: native });
  steps.push(...copySteps(prefix, files), ...staleCapSteps(prefix));
  let sudoers: SetupPlan['sudoers'];
  if (!isRoot) {
    steps.push({
      title: 'give the native helper the file capabilities it needs to run as you (eBPF TCP metrics and conntrack; no packet capture)',
      argv: ['setcap', HELPER_FILE_CAPS, installed],
    });
    const unsafe = opts.capture ? nodeUnsafeForSudo(opts.nodePath) : undefined;
    if (unsafe) notes.push(`packet capture will be off: ${unsafe}; install Node system-wide (e.g. /usr/bin/node) and set up again`);
    else if (opts.capture) {
      const file = `/etc/sudoers.d/nettrace-${info.uid}`;
      // #uid: exactly this user, whatever characters the name has.
      const rule = `#${info.uid} ALL=(root) NOPASSWD: ${opts.nodePath} ${join(prefix, 'dist', 'helper.cjs')} *`;
      const name = info.name.replace(/[^A-Za-z0-9._-]/g, '?');
      sudoers = { file, rule };
      steps.push(
        ...sudoersSteps(
          file,
          rule,
          `# Net Trace: packet capture for uid ${info.uid} (${name}) through the root-owned helper copy in ${prefix}`,
        ),
      );
    }
  }
  const cleanup = { title: '', argv: ['rm', '-rf', '--', join(prefix, STAGING_NAME)] };
  return { prefix, user: info, nodePath: opts.nodePath, fileCapabilities: !isRoot, sudoers, files, steps, cleanup, notes };
}

/**
 * The steps that remove the `cap` package (libpcap bindings) an earlier setup installed in
 * `prefix`/node_modules: the capture no longer loads it. Only when `prefix` holds an earlier
 * install (dist/helper.cjs) and the package; the folder is root's (checked by planSetup).
 */
function staleCapSteps(prefix: string): SetupStep[] {
  const modules = join(prefix, 'node_modules');
  if (!existsSync(join(prefix, 'dist', 'helper.cjs')) || !existsSync(join(modules, 'cap'))) return [];
  return [
    {
      title: 'remove the `cap` package an earlier setup installed (the packet capture no longer loads it)',
      argv: ['rm', '-rf', '--', join(modules, 'cap')],
    },
    { title: '', argv: ['rmdir', '--ignore-fail-on-non-empty', '--', modules] },
  ];
}

/** One step as a command line. */
export function stepLine(step: SetupStep): string {
  return step.shell ?? step.argv.map(shellQuote).join(' ');
}

/** The plan as text for the user: each step's purpose and its exact command. */
export function describePlan(plan: SetupPlan): string {
  const lines: string[] = [];
  for (const s of plan.steps) {
    if (s.title) lines.push(`# ${s.title}`);
    lines.push(stepLine(s));
  }
  return lines.join('\n');
}

/**
 * The plan as one POSIX shell script run as root: a fixed PATH of system folders (never the
 * caller's) and umask, each step echoed before it runs; stops at the first failure; the staging
 * folder is removed at exit either way.
 */
export function planScript(plan: SetupPlan): string {
  const out = ['set -e', 'umask 022', `PATH=${ROOT_PATH}; export PATH`, `trap ${shellQuote(stepLine(plan.cleanup))} EXIT`];
  for (const s of plan.steps) {
    if (s.title) out.push(`printf '\\n==> %s\\n' ${shellQuote(s.title)}`);
    out.push(`printf '+ %s\\n' ${shellQuote(stepLine(s))}`, stepLine(s));
  }
  out.push(`printf '\\n==> done\\n'`);
  return out.join('\n');
}

/** How the privileged steps can run here: directly (root), or through sudo or pkexec. */
export function privilegeTool(): 'root' | 'sudo' | 'pkexec' | undefined {
  if (process.getuid?.() === 0) return 'root';
  if (findOnPath('sudo', ROOT_PATH)) return 'sudo';
  if (findOnPath('pkexec', ROOT_PATH)) return 'pkexec';
  return undefined;
}

/**
 * The command that runs the plan as root through `tool` (the user is asked for a password there):
 * sudo or pkexec from the system folders, the script under `env -i` (none of the caller's
 * variables reach the root steps).
 */
export function privilegedCommand(plan: SetupPlan, tool: 'root' | 'sudo' | 'pkexec'): { command: string; args: string[] } {
  const script = ['/usr/bin/env', '-i', `PATH=${ROOT_PATH}`, 'DEBIAN_FRONTEND=noninteractive', '/bin/sh', '-c', planScript(plan)];
  if (tool === 'root') return { command: script[0], args: script.slice(1) };
  return { command: findOnPath(tool, ROOT_PATH) ?? tool, args: tool === 'sudo' ? ['--', ...script] : script };
}

/**
 * Runs the plan's steps one by one as this process (which must be root), each logged before it
 * runs with its output after, with a fixed environment (PATH of system folders, umask 022);
 * stops at the first failure; removes the staging folder either way.
 */
export function runPlanAsRoot(plan: SetupPlan, log: (line: string) => void): { ok: boolean; failed?: SetupStep; message?: string } {
  if (process.getuid?.() !== 0) return { ok: false, message: 'not root' };
  const env = { PATH: ROOT_PATH, DEBIAN_FRONTEND: 'noninteractive', LANG: 'C' };
  const run = (step: SetupStep) => spawnSync(step.argv[0], step.argv.slice(1), { encoding: 'utf8', env });
  const umask = process.umask(0o022);
  try {
    for (const step of plan.steps) {
      if (step.title) log(`==> ${step.title}`);
      log(`+ ${stepLine(step)}`);
      const r = run(step);
      const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
      if (output) for (const line of output.split('\n').slice(-20)) log(`  ${line}`);
      if (r.status !== 0) {
        const message = r.error ? r.error.message : `exit ${r.status ?? r.signal}${output ? `: ${output.split('\n').slice(-1)[0]}` : ''}`;
        return { ok: false, failed: step, message };
      }
    }
    return { ok: true };
  } finally {
    run(plan.cleanup);
    process.umask(umask);
  }
}

/** What the installed helper said when started as a session starts it. */
export interface HelperCheck {
  /** Asked for packet capture. */
  pcap: boolean;
  authority?: HelperAuthority;
  mode?: HelperReadyMessage['mode'];
  unavailable?: HelperReadyMessage['unavailable'];
  /** Why it did not start. */
  error?: string;
}

/** The result of verifyHelper(). */
export interface VerifyResult {
  /** eBPF metrics on, and capture on when it was asked for. */
  ok: boolean;
  metrics: HelperCheck;
  capture?: HelperCheck;
  /** One line per feature, for the user. */
  lines: string[];
}

/** Options of verifyHelper(). */
export interface VerifyOptions {
  /** The installed copy (the prefix). */
  root: string;
  nodePath: string;
  /** Also check packet capture. */
  capture: boolean;
  timeoutMs?: number;
  /** Starts the helper (tests replace it). */
  start?: (options: HelperOptions) => Promise<HelperClient>;
}

/**
 * Starts the installed helper on a process of this user (a `sleep`), as a session would without a
 * password prompt: once without capture (file capabilities, or root), once with it (sudo, or
 * root) when asked; reads each `ready` line and stops it.
 */
export async function verifyHelper(opts: VerifyOptions): Promise<VerifyResult> {
  const target = spawn('sleep', ['120'], { stdio: 'ignore' });
  try {
    await new Promise<void>((resolve, reject) => {
      target.once('spawn', resolve);
      target.once('error', reject);
    });
    const once = async (pcap: boolean): Promise<HelperCheck> => {
      const options: HelperOptions = { pid: target.pid!, pcap, root: opts.root, nodePath: opts.nodePath };
      const authority = chooseAuthority(options);
      if (authority === 'pkexec' || authority === 'unprivileged') {
        return {
          pcap,
          authority,
          error: pcap ? 'no way to start it as root without a password (sudo -n)' : 'the native helper has no file capabilities',
        };
      }
      const starting = (opts.start ?? startHelper)({ ...options, authority });
      let timer: NodeJS.Timeout | undefined;
      try {
        const client = await Promise.race([
          starting,
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`not ready within ${(opts.timeoutMs ?? 20_000) / 1000} s`)),
              opts.timeoutMs ?? 20_000,
            );
          }),
        ]);
        const ready = client.ready!;
        await Promise.race([client.stop(), new Promise((r) => setTimeout(r, 3000))]);
        if (client.child.exitCode === null) client.child.kill('SIGKILL');
        // A check saves no capture: its spool goes with it.
        removeSpool(client.spool);
        return { pcap, authority: client.authority, mode: ready.mode, unavailable: ready.unavailable };
      } catch (err) {
        starting.then(
          (c) => void c.stop().then(() => removeSpool(c.spool)),
          () => {},
        );
        return { pcap, authority, error: (err as Error).message };
      } finally {
        clearTimeout(timer);
      }
    };
    const metrics = await once(false);
    const capture = opts.capture ? await once(true) : undefined;
    const lines: string[] = [];
    if (metrics.error) lines.push(`kernel TCP metrics: off — the helper did not start (${metrics.authority}): ${metrics.error}`);
    else {
      lines.push(
        metrics.mode === 'bpf'
          ? `kernel TCP metrics (eBPF): on (${metrics.authority})`
          : `kernel TCP metrics (eBPF): off — ${metrics.unavailable?.bpf ?? `mode ${metrics.mode}`}`,
      );
      lines.push(metrics.unavailable?.conntrack ? `conntrack (NAT): off — ${metrics.unavailable.conntrack}` : 'conntrack (NAT): on');
    }
    if (capture) {
      const why = capture.error ?? capture.unavailable?.capture;
      lines.push(why ? `packet capture (Save PCAP): off — ${why}` : `packet capture (Save PCAP): on (${capture.authority})`);
    }
    const ok = !metrics.error && metrics.mode === 'bpf' && (!capture || (!capture.error && !capture.unavailable?.capture));
    return { ok, metrics, capture, lines };
  } finally {
    target.kill('SIGKILL');
  }
}
