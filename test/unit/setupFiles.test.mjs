// covers: src/helper/setupFiles.ts, src/helper/install.ts
// needs: the build (dist/helper.cjs, dist/helper-api.cjs)
// The setup's payload files and install folder (src/helper/setupFiles.ts) and the root script it
// builds (src/helper/install.ts): regular files only, hashes of their bytes, the folders and the
// checksum lines the root step uses, a fixed PATH and no caller environment in the script. No root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const h = createRequire(import.meta.url)('../../dist/helper-api.cjs');
const sha = (s) => createHash('sha256').update(s).digest('hex');

function payload(t) {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-payload-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const d of ['dist', 'native/build']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'dist/helper.cjs'), 'helper');
  writeFileSync(join(dir, 'native/build/nettrace-helper'), 'native');
  const src = {
    helperScript: join(dir, 'dist/helper.cjs'),
    nativeHelper: join(dir, 'native/build/nettrace-helper'),
  };
  return { dir, src };
}

test('the payload files: targets, modes and SHA-256 of their bytes', (t) => {
  const { src } = payload(t);
  const files = h.payloadFiles(src);
  assert.deepEqual(
    files.map((f) => [f.target, f.mode, f.sha256]),
    [
      ['dist/helper.cjs', 0o644, sha('helper')],
      ['native/build/nettrace-helper', 0o755, sha('native')],
    ],
  );
  assert.deepEqual(h.payloadFolders(files), ['dist', 'native', 'native/build']);
  assert.deepEqual(h.payloadTops(files), ['dist', 'native']);
  // Sources are absolute in the root step, whatever folder the plan was made from.
  const rel = h.payloadFiles({ ...src, helperScript: relative(process.cwd(), src.helperScript) });
  assert.equal(rel[0].source, src.helperScript);
  assert.equal(h.checksumLines(files, '/p/.s')[0], `${sha('helper')}  /p/.s/dist/helper.cjs`);
});

test('a symbolic link among the payload files is refused, naming it and its target', (t) => {
  const { dir, src } = payload(t);
  // The native helper linked to another file (a file of the user's would get root's capabilities).
  writeFileSync(join(dir, 'mine'), 'mine');
  rmSync(join(dir, 'native/build/nettrace-helper'));
  symlinkSync(join(dir, 'mine'), join(dir, 'native/build/nettrace-helper'));
  assert.throws(
    () => h.payloadFiles(src),
    (e) => e instanceof h.SetupRefusal && /nettrace-helper is a symbolic link \(to .*\/mine\)/.test(e.message),
  );
  const { dir: d2, src: s2 } = payload(t);
  rmSync(join(d2, 'dist/helper.cjs'));
  symlinkSync('/etc/shadow', join(d2, 'dist/helper.cjs'));
  assert.throws(() => h.payloadFiles(s2), /helper\.cjs is a symbolic link \(to \/etc\/shadow\): the setup copies only regular files/);
  assert.throws(() => h.hashRegularFile('/dev/null'), /not a regular file/);
});

test('an install folder under /tmp is refused, the default is accepted', () => {
  assert.match(
    h.prefixProblem('/tmp/nettrace-x'),
    /\/tmp is writable by every user.*; choose a folder only root can write \(the default is \/usr\/local\/lib\/nettrace\)/,
  );
  if (process.getuid() === 0) assert.equal(h.prefixProblem(h.DEFAULT_PREFIX), undefined);
});

test("the root script: fixed PATH and umask, the staging folder removed at exit, no caller's environment", () => {
  const plan = {
    steps: [
      { title: 'a', argv: ['install', '-d', '/p'] },
      { title: '', argv: ['/bin/sh', '-c', 'x | y'], shell: 'x | y' },
    ],
    cleanup: { title: '', argv: ['rm', '-rf', '--', '/p/.setup-staging'] },
  };
  const script = h.planScript(plan);
  assert.deepEqual(script.split('\n').slice(0, 4), [
    'set -e',
    'umask 022',
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin; export PATH',
    "trap 'rm -rf -- /p/.setup-staging' EXIT",
  ]);
  assert.ok(script.includes('\nx | y\n'), 'a shell step runs as shown');
  assert.equal(h.stepLine(plan.steps[1]), 'x | y');
  const sudo = h.privilegedCommand(plan, 'sudo');
  assert.match(sudo.command, /^\/.*\/sudo$|^sudo$/);
  assert.deepEqual(sudo.args.slice(0, 5), [
    '--',
    '/usr/bin/env',
    '-i',
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    'DEBIAN_FRONTEND=noninteractive',
  ]);
  assert.deepEqual(h.privilegedCommand(plan, 'root').args.slice(0, 2), ['-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin']);
});
