// covers: src/trace/formats/privateFile.ts, src/cli/
// needs: the build (dist/cli.cjs)
// Saved files and another user's symlink (issue 34, item 6), as two real users: B plants a symlink
// in a shared sticky folder, named like the trace A is about to save, pointing at A's own file;
// A runs `nettrace run --out <shared>/trace.json --har <shared>/trace.har`. Before the fix the
// trace was written through the link (`open(path, "w")`, `chmod` by path): A's file was
// overwritten. Now the save is refused before the program runs and A's files are unchanged. Also:
// a file B leaves under the name (world-writable, B's) is refused, not filled with A's trace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './lib.mjs';

const cli = join(root, 'dist', 'cli.cjs');
const tag = `ntsf${process.pid % 100000}`;
const A = `${tag}a`;
const B = `${tag}b`;

function whyNot() {
  if (process.getuid?.() !== 0) return 'NOT ROOT: this test creates users (CI runs it as root)';
  if (!existsSync(cli)) return 'dist/cli.cjs is missing — run npm run build';
  for (const tool of ['useradd', 'userdel', 'setpriv']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  }
  return undefined;
}
const reason = whyNot();
if (reason) console.error(`# SKIPPED savedFiles.test.mjs: ${reason}`);

let base;
let uidA;
let uidB;
/** A's private folder and the shared sticky one (B's, mode 1777). */
let home;
let shared;

/** Runs `args` as `uid` (real and effective uid and gid, its groups). */
const as = (uid, cmd, args, opts = {}) =>
  spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', cmd, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    ...opts,
  });

const cleanup = () => {
  if (base) rmSync(base, { recursive: true, force: true });
  for (const u of [A, B]) spawnSync('userdel', [u], { stdio: 'ignore' });
};

before(() => {
  if (reason) return;
  cleanup();
  process.on('exit', cleanup);
  execFileSync('useradd', ['-M', '-N', '-s', '/bin/sh', A]);
  execFileSync('useradd', ['-M', '-N', '-s', '/bin/sh', B]);
  uidA = Number(execFileSync('id', ['-u', A], { encoding: 'utf8' }));
  uidB = Number(execFileSync('id', ['-u', B], { encoding: 'utf8' }));
  base = mkdtempSync('/tmp/nettrace-saved-');
  chmodSync(base, 0o755);
  home = join(base, 'a');
  mkdirSync(home, { mode: 0o700 });
  chownSync(home, uidA, uidA);
  // The shared folder is B's, as a folder B made and shared would be: with
  // fs.protected_symlinks=1 the kernel lets A follow a symlink in a sticky world-writable folder
  // only when the link's owner owns the folder, so the attack does not depend on that setting.
  shared = join(base, 'shared');
  mkdirSync(shared);
  chmodSync(shared, 0o1777);
  chownSync(shared, uidB, uidB);
});
after(cleanup);

/** A file of A's, 0600, with `text`. */
function victimFile(name, text) {
  const p = join(home, name);
  writeFileSync(p, text, { mode: 0o600 });
  chownSync(p, uidA, uidA);
  return p;
}

/** A's `nettrace run` of a program that makes no request, saving to `out` (and `har`). */
function traceAsA(out, har) {
  return as(
    uidA,
    process.execPath,
    [cli, 'run', '--quiet', '--helper', 'off', '--out', out, ...(har ? ['--har', har] : []), '--', process.execPath, '-e', '0'],
    {
      cwd: home,
      env: { PATH: process.env.PATH, HOME: home },
    },
  );
}

test("a symlink B planted under the trace and HAR names is not followed: A's files are unchanged", { skip: reason }, () => {
  const precious = victimFile('precious.txt', 'PRECIOUS\n');
  const notes = victimFile('notes.txt', 'NOTES\n');
  const out = join(shared, 'trace.json');
  const har = join(shared, 'trace.har');
  for (const [link, target] of [
    [out, precious],
    [har, notes],
  ]) {
    const r = as(uidB, 'ln', ['-s', target, link]);
    assert.equal(r.status, 0, r.stderr);
  }
  const r = traceAsA(out, har);
  assert.equal(
    readFileSync(precious, 'utf8'),
    'PRECIOUS\n',
    `A's file was overwritten through B's symlink (exit ${r.status}: ${r.stderr})`,
  );
  assert.equal(readFileSync(notes, 'utf8'), 'NOTES\n', "A's file was overwritten through B's symlink (HAR)");
  assert.notEqual(r.status, 0, 'the save must fail, not pretend to succeed');
  assert.match(r.stderr, /cannot write .*trace\.json: it is a symbolic link/);
});

test("a file B left under the name (B's, world-writable) is refused, not filled with A's trace", { skip: reason }, () => {
  const planted = join(shared, 'b-owned.json');
  const r0 = as(uidB, 'sh', ['-c', `umask 0; : > ${planted}`]);
  assert.equal(r0.status, 0, r0.stderr);
  assert.equal(statSync(planted).mode & 0o777, 0o666);
  const r = traceAsA(planted);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /belongs to another user/);
  assert.equal(readFileSync(planted, 'utf8'), '', "A's trace went into B's file");
});

test("a new file in the shared folder is saved: A's, 0600", { skip: reason }, () => {
  const out = join(shared, 'fresh.json');
  const har = join(shared, 'fresh.har');
  const r = traceAsA(out, har);
  assert.equal(r.status, 0, r.stderr);
  for (const p of [out, har]) {
    const st = statSync(p);
    assert.equal(st.uid, uidA);
    assert.equal(st.mode & 0o777, 0o600);
  }
  assert.match(readFileSync(out, 'utf8'), /"formatVersion"/);
});
