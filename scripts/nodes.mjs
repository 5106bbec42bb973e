// The other Node versions the tests and benchmarks run debuggees on: the npm registry's `node`
// package (see docs/platform.md), installed once into ~/.cache/nettrace/nodes (NETTRACE_NODES_DIR).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The Node majors besides the one running the tests that debuggees run on in `npm test` (and the
 * benchmarks' peer cells): each is installed once into the cache. This Node (20) is the oldest.
 */
export const otherNodeMajors = ['22', '24', '26'];

/** Where the other Node versions are cached. */
export const nodesDir = process.env.NETTRACE_NODES_DIR ?? join(homedir(), '.cache', 'nettrace', 'nodes');

/** The cached binary of node@<major> (it may not be installed yet: see ensureNode). */
export function nodeBin(major) {
  return join(nodesDir, `node${major}`, 'node_modules', 'node', 'bin', 'node');
}

/**
 * Installs node@<major> from the npm registry into the cache unless it is there already; true
 * when its binary is there. `who` names the caller in the one line it prints while installing.
 */
export function ensureNode(major, who) {
  const dir = join(nodesDir, `node${major}`);
  const bin = nodeBin(major);
  if (existsSync(bin)) return true;
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), '{"private":true}\n');
  console.error(`${who}: installing node@${major} into ${dir} (once)`);
  const r = spawnSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', `node@${major}`], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return r.status === 0 && existsSync(bin);
}
