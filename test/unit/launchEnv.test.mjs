// covers: src/collector/launchEnv.ts
// needs: the build (dist/core.cjs, dist/preload.cjs)
// buildPreloadEnv: NODE_OPTIONS quoting checked by really starting node with it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { buildPreloadEnv, quoteNodeOption, preloadPath, CONFIG_ENV } = createRequire(import.meta.url)('../../dist/core.cjs');

test('quoteNodeOption escapes backslashes and double quotes', () => {
  assert.equal(quoteNodeOption('/a b/c.cjs'), '"/a b/c.cjs"');
  assert.equal(quoteNodeOption('C:\\x "y"\\p.cjs'), '"C:\\\\x \\"y\\"\\\\p.cjs"');
});

test('preload is first, the user NODE_OPTIONS kept, config as JSON, base env untouched', () => {
  const base = { NODE_OPTIONS: '--max-old-space-size=200', PATH: '/bin' };
  const env = buildPreloadEnv(base, { preloadPath: '/x y/preload.cjs', config: { ipcPath: '/tmp/s', headers: 'names' } });
  assert.equal(env.NODE_OPTIONS, '--require "/x y/preload.cjs" --max-old-space-size=200');
  // The collector is this process's unless the configuration names another.
  assert.deepEqual(JSON.parse(env[CONFIG_ENV]), { ipcPath: '/tmp/s', headers: 'names', collectorPid: process.pid });
  assert.equal(
    JSON.parse(buildPreloadEnv({}, { preloadPath: '/p', config: { ipcPath: 's', collectorPid: 7 } })[CONFIG_ENV]).collectorPid,
    7,
  );
  assert.equal(env.PATH, '/bin');
  assert.equal(base.NODE_OPTIONS, '--max-old-space-size=200');
  assert.equal(buildPreloadEnv({}, { preloadPath: '/p.cjs', config: { ipcPath: 's' } }).NODE_OPTIONS, '--require "/p.cjs"');
});

test('preloadPath is dist/preload.cjs next to the bundle', () => {
  assert.match(preloadPath(), /[\\/]dist[\\/]preload\.cjs$/);
});

test('node really loads a preload from a path with spaces, quotes and backslashes', { skip: process.platform === 'win32' }, () => {
  const root = mkdtempSync(join(tmpdir(), 'nettrace-env-'));
  const dir = join(root, 'my "odd" dir\\with spaces');
  mkdirSync(dir, { recursive: true });
  const preload = join(dir, 'pre load.cjs');
  writeFileSync(preload, `process.stdout.write('preloaded:' + JSON.parse(process.env.${CONFIG_ENV}).ipcPath + '\\n');\n`);
  const userPreload = join(root, 'user preload.cjs');
  writeFileSync(userPreload, `process.stdout.write('user preload\\n');\n`);
  const base = { ...process.env, NODE_OPTIONS: `--require ${quoteNodeOption(userPreload)}` };
  const env = buildPreloadEnv(base, { preloadPath: preload, config: { ipcPath: '/tmp/x y.sock' } });
  const r = spawnSync(process.execPath, ['-e', 'console.log("main")'], { env, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'preloaded:/tmp/x y.sock\nuser preload\nmain\n');
});
