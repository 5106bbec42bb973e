// covers: src/cli/, src/preload/
// needs: the build (dist/core.cjs, dist/cli.cjs, dist/preload.cjs)
// The nettrace command: usage errors and `run` behaviour (one-line errors, exit codes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../../dist/cli.cjs', import.meta.url));
const hasPreload = existsSync(fileURLToPath(new URL('../../dist/preload.cjs', import.meta.url)));
const dir = mkdtempSync(join(tmpdir(), 'nettrace-cli-'));
const run = (args, opts = {}) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: dir, timeout: 20000, ...opts });

function oneLineError(r, code, pattern) {
  assert.equal(r.status, code, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], pattern);
  assert.ok(!/\n\s+at /.test(r.stderr), 'no stack trace');
}

test('--help prints usage', () => {
  const r = run(['--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /nettrace run \[options\] -- <command>/);
});

test('unknown command and unknown option: one line, exit 2', () => {
  oneLineError(run(['frobnicate']), 2, /^nettrace: unknown command "frobnicate"/);
  oneLineError(run(['run', '--bogus', '--', 'node']), 2, /^nettrace: unknown option --bogus$/);
  oneLineError(run(['run', '--headers', 'all', '--', 'node']), 2, /^nettrace: --headers must be none, names or values/);
  oneLineError(run(['run', '--initiator', 'some', '--', 'node']), 2, /^nettrace: --initiator must be sampled, all or off/);
});

test('run without a command: one line, exit 2', () => {
  oneLineError(run(['run']), 2, /^nettrace: no command given/);
  oneLineError(run(['run', '--out', 'x.json', '--']), 2, /^nettrace: no command given/);
});

test('run with a command that does not exist: one line, exit 2', { skip: !hasPreload }, () => {
  oneLineError(
    run(['run', '--out', join(dir, 'nf.json'), '--', 'definitely-not-a-command-xyz']),
    2,
    /^nettrace: command not found: definitely-not-a-command-xyz$/,
  );
});

test('run with an unwritable output path fails before running the command', () => {
  const marker = join(dir, 'ran');
  const r = run([
    'run',
    '--out',
    join(dir, 'no/such/dir/t.json'),
    '--',
    process.execPath,
    '-e',
    `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`,
  ]);
  oneLineError(r, 2, /^nettrace: cannot write .*t\.json: its directory does not exist$/);
  assert.equal(existsSync(marker), false, 'the command must not run');
});

test('run passes the exit code through and writes a private trace file', { skip: !hasPreload }, () => {
  const out = join(dir, 'exit3.json');
  const r = run(['run', '--quiet', '--out', out, '--', process.execPath, '-e', 'process.exitCode = 3']);
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /0 requests, 0 failed/);
  const trace = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(trace.formatVersion, 2);
  assert.equal(statSync(out).mode & 0o777, 0o600);
});

test('run: a command killed by a signal exits 128 + signo', { skip: !hasPreload || process.platform === 'win32' }, () => {
  const r = run(['run', '--quiet', '--out', join(dir, 'sig.json'), '--', process.execPath, '-e', 'process.kill(process.pid, "SIGTERM")']);
  assert.equal(r.status, 143, r.stderr);
});

test('the run table points at `nettrace show` with a path to paste: relative below the folder, else absolute, quoted when needed', async () => {
  const { showCommandFor } = await import('../../dist/core.cjs');
  assert.equal(showCommandFor('t.json', '/home/u/app'), 'nettrace show t.json');
  assert.equal(showCommandFor('/home/u/app/out/t.json', '/home/u/app'), 'nettrace show out/t.json');
  assert.equal(showCommandFor('/tmp/ut.json', '/work/usertest'), 'nettrace show /tmp/ut.json');
  assert.equal(showCommandFor('../t.json', '/home/u/app'), 'nettrace show /home/u/t.json');
  assert.equal(showCommandFor("/tmp/my trace's.json", '/w'), `nettrace show '/tmp/my trace'\\''s.json'`);
});
