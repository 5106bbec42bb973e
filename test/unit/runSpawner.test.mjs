// covers: src/cli/runTraced.ts
// How `nettrace run` starts the program (src/cli/runTraced.ts spawnerFor): Node's spawn() on
// Linux and macOS; on Windows cross-spawn, which looks `npm`/`tsx` up through PATHEXT and runs
// `.cmd` files through cmd.exe with their arguments quoted. Windows itself is not here: this
// checks the choice, and that the Windows spawner is a drop-in spawn() (same options, a
// ChildProcess whose exit code and inherited stdio the run relies on).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { bundleTs } from '../lib/bundleTs.mjs';

const { spawnerFor } = bundleTs(["export { spawnerFor } from './src/cli/runTraced';"]);

test('spawnerFor: spawn() on Linux and macOS, another on Windows', () => {
  assert.equal(spawnerFor('linux'), spawn);
  assert.equal(spawnerFor('darwin'), spawn);
  assert.notEqual(spawnerFor('win32'), spawn);
});

test('the Windows spawner is a drop-in spawn(): arguments with spaces and quotes, env, exit code', async () => {
  const child = spawnerFor('win32')(
    process.execPath,
    ['-e', 'process.stdout.write(JSON.stringify([process.argv.slice(1), process.env.NT_X])); process.exit(3)', 'a b', 'c"d'],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NT_X: 'y' } },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.on('close', r));
  assert.equal(code, 3);
  assert.deepEqual(JSON.parse(out), [['a b', 'c"d'], 'y']);
});
