// Runs a program under `nettrace run` (the real CLI, collector and preload) and returns the trace.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBin, otherNodeMajors } from '../../scripts/nodes.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cli = join(root, 'dist', 'cli.cjs');
export const apps = join(root, 'test', 'integration', 'apps');

/**
 * The Node binaries to run debuggees with: this one, plus each of otherNodeMajors (22, 24, 26)
 * installed. NETTRACE_TEST_NODES (majors, comma-separated: `26` or `20,26`) keeps only those, to
 * run a file's cases on some versions while working on them; `npm test` runs them all.
 */
export function nodeBinaries() {
  const out = [{ label: `node ${process.version}`, bin: process.execPath, major: process.versions.node.split('.')[0] }];
  for (const major of otherNodeMajors) {
    const bin = nodeBin(major);
    if (existsSync(bin)) out.push({ label: `node ${major}`, bin, major });
  }
  const only = process.env.NETTRACE_TEST_NODES?.split(',').map((m) => m.trim());
  return (only ? out.filter((n) => only.includes(n.major)) : out).map(({ label, bin }) => ({ label, bin }));
}

/** Runs a command and collects its output. */
export function run(cmd, args, { env = {}, cwd = root, timeoutMs = 60000 } = {}) {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout also ends a traced program the CLI started (it would
    // otherwise keep the collector's pipe open and the test waiting).
    // No installed helper (NETTRACE_HELPER_PREFIX=none): what the machine has set up never
    // changes what a test runs; a test that means an installed copy passes its own prefix.
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, NETTRACE_HELPER_PREFIX: 'none', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * A trace file as nettrace's readers read it (src/trace/formats/readTrace.ts): its derived fields
 * (`timings`, `diagnosis`…, not in the file from format version 2) worked out with the run's
 * `--slow` threshold, when `cliArgs` gave one.
 */
export function readTraced(path, cliArgs = []) {
  const core = createRequire(import.meta.url)('../../dist/core.cjs');
  const at = cliArgs.findIndex((a) => a === '--slow' || a.startsWith('--slow='));
  const slow = at < 0 ? undefined : Number(cliArgs[at].startsWith('--slow=') ? cliArgs[at].slice(7) : cliArgs[at + 1]);
  return core.readTrace(path, slow === undefined ? {} : { slowThresholdMs: slow });
}

/** Runs `node <app>` traced; returns the process result and the trace (readTraced). */
export async function runTraced(node, app, { env = {}, args = [], cliArgs = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-it-'));
  const out = join(dir, 'trace.json');
  try {
    const res = await run(process.execPath, [cli, 'run', '--quiet', '--out', out, ...cliArgs, '--', node, join(apps, app), ...args], {
      env,
    });
    const trace = existsSync(out) ? readTraced(out, cliArgs) : undefined;
    return { ...res, trace };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs `node <app>` without tracing. */
export function runPlain(node, app, { env = {} } = {}) {
  return run(node, [join(apps, app)], { env });
}

/** Finds the request whose URL ends with `suffix`. */
export function req(trace, suffix) {
  const found = trace.httpRequests.filter((r) => r.reqURL.endsWith(suffix));
  if (found.length !== 1)
    throw new Error(
      `expected one request ending in ${suffix}, found ${found.length}: ${trace.httpRequests.map((r) => r.reqURL).join(', ')}`,
    );
  return found[0];
}

/** Looks a record up by traceID. */
export function byId(trace, kind, id) {
  return trace[kind].find((r) => r.traceID === id);
}
