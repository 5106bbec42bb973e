// covers: scripts/e2e.sh
// scripts/e2e.sh on a fresh clone, before `npm ci` (issue 62, finding 7): one line saying what to
// run, exit 1, and nothing installed or created — not Node's stack trace from the build
// ("Cannot find package 'esbuild'"). The script is run from a copy of the repository's scripts/
// with no node_modules/ beside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

test('scripts/e2e.sh without node_modules: one line naming `npm ci`, exit 1, nothing installed', () => {
  const clone = mkdtempSync(join(tmpdir(), 'nettrace-fresh-clone-'));
  try {
    mkdirSync(join(clone, 'scripts'));
    for (const f of ['e2e.sh', 'package.sh', 'build.mjs']) copyFileSync(join(root, 'scripts', f), join(clone, 'scripts', f));
    const cache = join(clone, 'cache');
    const r = spawnSync('bash', [join(clone, 'scripts', 'e2e.sh')], {
      cwd: clone,
      env: { PATH: process.env.PATH, HOME: clone, NETTRACE_CACHE: cache },
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `one line: ${r.stderr}`);
    assert.match(
      lines[0],
      /^e2e: the project's dependencies are not installed \(esbuild @vscode\/vsce playwright-core axe-core\): run `npm ci` in .* first$/,
    );
    assert.doesNotMatch(r.stderr, /Cannot find package|at .*\.m?js:\d+/);
    assert.equal(existsSync(cache), false, 'nothing installed');
    assert.deepEqual(readdirSync(clone).sort(), ['scripts'], 'nothing created');
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
});
