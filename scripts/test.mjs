// `npm test`: the static checks (scripts/check.mjs: types, lint, format, size), unit tests, then
// the integration suite against real local servers with debuggees on Node 20 (this Node), 22, 24
// and 26 (otherNodeMajors in scripts/nodes.mjs). The other Node versions come from the npm registry's `node` package (see
// docs/platform.md) and are cached in ~/.cache/nettrace/nodes.
// Privileged tests run when root and are skipped loudly otherwise; end-to-end tests are run by
// .ci/run (they need code-server and Chromium).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode, otherNodeMajors } from './nodes.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const integrationOnly = args.includes('--integration-only');

// The checks run first; the suites run even when they fail, so one run shows every problem.
let checksFailed = false;
if (!integrationOnly) {
  const c = spawnSync(process.execPath, [join(root, 'scripts', 'check.mjs')], { cwd: root, stdio: 'inherit' });
  checksFailed = c.status !== 0;
}

if (process.env.NETTRACE_SKIP_NODE_MATRIX !== '1') {
  for (const major of otherNodeMajors) {
    if (!ensureNode(major, 'test')) {
      console.error(
        `test: could not install node@${major}; the integration suite needs it (set NETTRACE_SKIP_NODE_MATRIX=1 to run on this Node only)`,
      );
      process.exit(1);
    }
  }
} else {
  console.error('test: NETTRACE_SKIP_NODE_MATRIX=1 — the integration suite runs on this Node only');
}

const files = (dir) =>
  existsSync(join(root, dir))
    ? readdirSync(join(root, dir))
        .filter((f) => /\.test\.(mjs|cjs|js)$/.test(f))
        .map((f) => join(dir, f))
    : [];
const suites = [...(integrationOnly ? [] : files('test/unit')), ...files('test/integration'), ...files('test/privileged')];
if (process.getuid && process.getuid() !== 0 && files('test/privileged').length > 0) {
  console.error('test: NOT ROOT — the privileged tests will report themselves skipped');
}
// No installed helper is looked for (NETTRACE_HELPER_PREFIX=none, src/helper/install.ts): a
// machine where `nettrace helper setup` ran tests as a fresh one; a test that means an installed
// copy sets its own prefix.
const env = { ...process.env, NETTRACE_HELPER_PREFIX: 'none' };
// TAP on stdout as before, and the failures alone to a file printed after the summary: a log
// kept only in part (CI keeps its tail) still names each failed test.
const failDir = mkdtempSync(join(tmpdir(), 'nettrace-test-'));
const failFile = join(failDir, 'failures.txt');
const timesFile = join(failDir, 'times.tsv');
// No file may hold the run up: --test-timeout bounds each file (node:test times a file as a test of
// its own) and each test that sets no timeout of its own. A file whose process stays alive after
// its tests (a server a failed test left listening) fails at that bound instead of keeping the run
// waiting until CI's limit. (Not --test-force-exit: on Node 20 it ends the runner before the
// reporters' files are written.)
const FILE_TIMEOUT_MS = 20 * 60_000;
const r = spawnSync(
  process.execPath,
  [
    '--test',
    '--test-concurrency=2',
    `--test-timeout=${FILE_TIMEOUT_MS}`,
    '--test-reporter=tap',
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(root, 'scripts', 'failures-reporter.mjs')}`,
    `--test-reporter-destination=${failFile}`,
    `--test-reporter=${join(root, 'scripts', 'times-reporter.mjs')}`,
    `--test-reporter-destination=${timesFile}`,
    ...suites,
  ],
  { cwd: root, stdio: 'inherit', env },
);
const failed = existsSync(failFile) ? readFileSync(failFile, 'utf8') : '';
const perFile = new Map();
for (const line of (existsSync(timesFile) ? readFileSync(timesFile, 'utf8') : '').split('\n')) {
  const [ms, file] = line.split('\t');
  if (file === undefined) continue;
  const f = perFile.get(file) ?? { ms: 0, n: 0 };
  f.ms += Number(ms) || 0;
  f.n += 1;
  perFile.set(file, f);
}
const slowest = [...perFile].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12);
rmSync(failDir, { recursive: true, force: true });
if (slowest.length > 0) {
  console.error("\ntest: the slowest files (their top-level tests' time, summed):");
  for (const [file, { ms, n }] of slowest)
    console.error(`  ${(ms / 1000).toFixed(1).padStart(7)} s  ${String(n).padStart(4)} tests  ${file.replace(`${root}/`, '')}`);
}
if (failed.trim() !== '') console.error(`\ntest: the failed tests:\n${failed}`);
if (checksFailed) {
  console.error('test: FAILED: the static checks failed (see "check:" above; run `npm run check`)');
  process.exit(1);
}
process.exit(r.status ?? 1);
