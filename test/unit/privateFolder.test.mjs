// covers: src/protocol/privateFolder.ts, src/preload/transport/collectorTrust.ts,
//   src/collector/server.ts
// When a traced process trusts its collector's folder and rules file (src/protocol/privateFolder.ts,
// src/preload/transport/collectorTrust.ts; docs/security.md): the rule on made-up folders (owners,
// modes, links, every folder above), and the preload's reading of a rules file on real ones: a
// FIFO never blocks, a link is not followed, a file open to others or too large is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs([
  "export * from './src/protocol/privateFolder';",
  "export { readOwnFile } from './src/preload/transport/collectorTrust';",
  "export { untrustedDirProblem, privateDir } from './src/collector/server';",
]);

/** A made-up tree: path → { dir, link, uid, mode }. */
function fakeLstat(tree) {
  return (path) => {
    const e = tree[path];
    if (!e) throw Object.assign(new Error('no'), { code: 'ENOENT' });
    return {
      isDirectory: () => e.dir !== false && !e.link,
      isSymbolicLink: () => !!e.link,
      uid: e.uid,
      mode: e.mode,
      dev: 1,
      ino: e.ino ?? 7,
    };
  };
}
const ME = 1000;
const base = { '/': { uid: 0, mode: 0o40755 }, '/tmp': { uid: 0, mode: 0o41777 } };

test('a private folder of the user under a sticky /tmp is trusted, with its identity', () => {
  const r = m.privateFolderProblem('/tmp/nettrace-a', [ME], fakeLstat({ ...base, '/tmp/nettrace-a': { uid: ME, mode: 0o40700, ino: 42 } }));
  assert.deepEqual(r, { dir: '/tmp/nettrace-a', dev: 1, ino: 42 });
});

test("another user's folder, one open to others, a link, a file, a missing one: each refused, saying why", () => {
  const cases = [
    [{ uid: 1001, mode: 0o40700 }, /belongs to uid 1001/],
    [{ uid: 1001, mode: 0o40777 }, /belongs to uid 1001/],
    [{ uid: ME, mode: 0o40755 }, /open to other users \(mode 755\)/],
    [{ uid: ME, mode: 0o40770 }, /open to other users/],
    [{ uid: ME, mode: 0o120777, link: true }, /is a symbolic link/],
    [{ uid: ME, mode: 0o100600, dir: false }, /is not a folder/],
  ];
  for (const [entry, why] of cases) {
    const r = m.privateFolderProblem('/tmp/nettrace-a', [ME], fakeLstat({ ...base, '/tmp/nettrace-a': entry }));
    assert.match(r.problem, why, JSON.stringify(entry));
  }
  assert.match(m.privateFolderProblem('/tmp/nettrace-gone', [ME], fakeLstat(base)).problem, /cannot be read \(ENOENT\)/);
  assert.match(m.privateFolderProblem('tmp/x', [ME], fakeLstat(base)).problem, /not an absolute path/);
  assert.match(m.privateFolderProblem('/tmp/../etc', [ME], fakeLstat(base)).problem, /not a plain path/);
});

test('every folder above counts: not sticky and writable by others, owned by another user, or a link', () => {
  const own = { '/tmp/shared/nettrace-a': { uid: ME, mode: 0o40700 } };
  const above = [
    [{ uid: 0, mode: 0o40777 }, /can be changed by other users \(mode 777, not sticky\)/],
    [{ uid: 0, mode: 0o40775 }, /can be changed by other users/],
    [{ uid: 1001, mode: 0o41777 }, /neither root nor this process's user/],
    [{ uid: 0, mode: 0o120777, link: true }, /\/tmp\/shared is a symbolic link/],
  ];
  for (const [entry, why] of above) {
    const r = m.privateFolderProblem('/tmp/shared/nettrace-a', [ME], fakeLstat({ ...base, '/tmp/shared': entry, ...own }));
    assert.match(r.problem, why, JSON.stringify(entry));
  }
  // The user's own folders above (a TMPDIR in the home) and root's sticky ones are fine.
  for (const entry of [
    { uid: ME, mode: 0o40755 },
    { uid: 0, mode: 0o41777 },
    { uid: 0, mode: 0o40755 },
  ])
    assert.equal(
      m.privateFolderProblem('/tmp/shared/nettrace-a', [ME], fakeLstat({ ...base, '/tmp/shared': entry, ...own })).problem,
      undefined,
    );
});

test('sameFolder: the folder checked before the connect, not one made again under its name', () => {
  const tree = { ...base, '/tmp/nettrace-a': { uid: ME, mode: 0o40700, ino: 42 } };
  const id = m.privateFolderProblem('/tmp/nettrace-a', [ME], fakeLstat(tree));
  assert.equal(m.sameFolder(id, [ME], fakeLstat(tree)), true);
  assert.equal(m.sameFolder(id, [ME], fakeLstat({ ...tree, '/tmp/nettrace-a': { uid: ME, mode: 0o40700, ino: 43 } })), false, 'made again');
  assert.equal(
    m.sameFolder(id, [ME], fakeLstat({ ...tree, '/tmp/nettrace-a': { uid: 1001, mode: 0o40700, ino: 42 } })),
    false,
    "another's",
  );
  assert.equal(m.sameFolder(id, [ME], fakeLstat(base)), false, 'gone');
});

const posix = process.platform !== 'win32';

test('the collector makes its folder by its real path, private, and says when the preload would refuse it', { skip: !posix }, () => {
  const dir = m.privateDir('nettrace-pf-');
  try {
    assert.equal(dir, realpathSync(dir));
    assert.equal(m.untrustedDirProblem(dir), undefined);
    chmodSync(dir, 0o755);
    assert.match(m.untrustedDirProblem(dir), /traced programs would not trust the collector's folder .*open to other users.*set TMPDIR/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readOwnFile: a private file is read; a FIFO, a link, a file open to others or too large is refused at once', { skip: !posix }, () => {
  const dir = m.privateDir('nettrace-pf-');
  try {
    const file = join(dir, 'rules.json');
    writeFileSync(file, '{"type":"rules"}', { mode: 0o600 });
    assert.equal(m.readOwnFile(file, 1024), '{"type":"rules"}');
    assert.throws(() => m.readOwnFile(file, 4), /is over 4 bytes/);
    chmodSync(file, 0o644);
    assert.throws(() => m.readOwnFile(file, 1024), /is open to other users/);
    chmodSync(file, 0o600);
    const link = join(dir, 'link.json');
    symlinkSync(file, link);
    assert.throws(() => m.readOwnFile(link, 1024), /ELOOP|symbolic/);
    const fifo = join(dir, 'fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const t0 = Date.now();
    assert.throws(() => m.readOwnFile(fifo, 1024), /not a regular file/);
    assert.ok(Date.now() - t0 < 1000, 'a FIFO must not block the program');
    mkdirSync(join(dir, 'sub'), { mode: 0o700 });
    assert.throws(() => m.readOwnFile(join(dir, 'sub'), 1024), /not a regular file|EISDIR/);
    chmodSync(dir, 0o755);
    assert.throws(() => m.readOwnFile(file, 1024), /the collector's folder is not trusted: .*open to other users/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readOwnFile in a folder under another link is refused (the collector writes real paths)', { skip: !posix }, () => {
  const outer = mkdtempSync(join(tmpdir(), 'nettrace-pf-'));
  try {
    const real = join(realpathSync(outer), 'real');
    mkdirSync(real, { mode: 0o700 });
    writeFileSync(join(real, 'rules.json'), '{}', { mode: 0o600 });
    symlinkSync(real, join(outer, 'via'));
    assert.throws(() => m.readOwnFile(join(realpathSync(outer), 'via', 'rules.json'), 1024), /is a symbolic link/);
  } finally {
    rmSync(outer, { recursive: true, force: true });
  }
});
