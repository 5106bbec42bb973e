// covers: src/trace/formats/privateFile.ts, src/trace/formats/traceFile.ts
// Saved files (src/trace/formats/privateFile.ts, issue 34 item 6): never written through a symlink, into a
// FIFO or a file with other hard links; an existing file is made 0600 on its descriptor before
// anything is written. (Two real users and a planted symlink: test/privileged/savedFiles.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { linkSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';

const p = bundleTs(["export * from './src/trace/formats/privateFile';", "export { writeTraceFile } from './src/trace/formats/traceFile';"]);
const posix = process.platform !== 'win32';

test('writePrivate: a new file 0600; an existing 0644 file made 0600 and replaced', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-private-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'a.json');
  await p.writePrivate(f, 'one\n');
  assert.equal(readFileSync(f, 'utf8'), 'one\n');
  if (posix) assert.equal(statSync(f).mode & 0o777, 0o600);
  writeFileSync(f, 'a longer old content\n', { mode: 0o644 });
  execFileSync('chmod', ['0644', f]);
  await p.writePrivate(f, 'two\n');
  assert.equal(readFileSync(f, 'utf8'), 'two\n');
  if (posix) assert.equal(statSync(f).mode & 0o777, 0o600);
});

test(
  'a symlink, a FIFO and a hard-linked file are refused with the reason; the target is untouched',
  { skip: !posix && 'POSIX only' },
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'nettrace-private-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const target = join(dir, 'target.txt');
    writeFileSync(target, 'KEEP\n', { mode: 0o644 });
    const link = join(dir, 'link.json');
    symlinkSync(target, link);
    await assert.rejects(
      p.writeTraceFile(link, { formatVersion: 1, httpRequests: [] }),
      /cannot write .*link\.json: it is a symbolic link/,
    );
    assert.throws(() => p.openPrivateSync(link), /symbolic link/);
    assert.throws(() => p.checkPrivateWritable(link), /symbolic link/);
    const dangling = join(dir, 'dangling.json');
    symlinkSync(join(dir, 'nothing-yet'), dangling);
    assert.throws(() => p.checkPrivateWritable(dangling), /symbolic link/);
    const fifo = join(dir, 'fifo.json');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(p.writePrivate(fifo, 'x'), /fifo\.json: it is not a regular file/);
    const hard = join(dir, 'hard.json');
    linkSync(target, hard);
    await assert.rejects(p.writePrivate(hard, 'x'), /other hard links/);
    assert.equal(readFileSync(target, 'utf8'), 'KEEP\n');
    assert.equal(statSync(target).mode & 0o777, 0o644, 'no chmod reached the target');
  },
);

test('checkPrivateWritable: a new name is left absent, an existing file keeps its content', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-private-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  p.checkPrivateWritable(join(dir, 'new.json'));
  assert.throws(() => statSync(join(dir, 'new.json')), /ENOENT/);
  writeFileSync(join(dir, 'old.json'), 'old');
  p.checkPrivateWritable(join(dir, 'old.json'));
  assert.equal(readFileSync(join(dir, 'old.json'), 'utf8'), 'old');
  assert.throws(() => p.checkPrivateWritable(join(dir, 'no', 'x.json')), /its directory does not exist/);
});
