// Debugger pauses (the trace's `debuggerPauses`): the collector Session records them from the
// extension's DAP tracker (stopped → continued), hands them out in snapshots, saves them with the
// trace, and a saved file's list is checked on reading (a damaged entry is dropped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { Session, readTraceFile } = createRequire(import.meta.url)('../../dist/core.cjs');

test('a Session records stopped → continued as one pause; a second stop while stopped adds none', async () => {
  const begin = new Date('2026-01-01T00:00:00Z');
  const s = new Session({ description: 'x', beginAt: begin, sourceMaps: false, changeIntervalMs: 5 });
  const t = begin.getTime();
  let changes = 0;
  s.on('change', () => changes++);
  assert.equal(s.snapshot().debuggerPauses, undefined, 'absent when never paused');
  s.debuggerStopped('breakpoint', t + 1000);
  s.debuggerStopped('step', t + 1200); // another thread: still the same pause
  s.debuggerContinued(t + 4000);
  s.debuggerContinued(t + 4500); // a second resume closes nothing
  s.debuggerStopped(undefined, t + 5000);
  assert.deepEqual(s.snapshot().debuggerPauses, [{ beginAt: 1000, endAt: 4000, reason: 'breakpoint' }, { beginAt: 5000 }]);
  assert.equal(s.pausesVersion, 3);
  await new Promise((r) => setTimeout(r, 30));
  assert.ok(changes >= 1, 'views hear of a pause');
  // The snapshot is a copy.
  s.snapshot().debuggerPauses[0].beginAt = -1;
  assert.equal(s.snapshot().debuggerPauses[0].beginAt, 1000);

  const dir = mkdtempSync(join(tmpdir(), 'nettrace-pauses-'));
  try {
    const file = join(dir, 't.json');
    s.debuggerContinued(t + 6000);
    await s.saveJson(file);
    assert.deepEqual(readTraceFile(file).debuggerPauses, [
      { beginAt: 1000, endAt: 4000, reason: 'breakpoint' },
      { beginAt: 5000, endAt: 6000 },
    ]);
    // A damaged list: entries without a numeric beginAt are dropped, a bad endAt is removed.
    const raw = JSON.parse(readFileSync(file, 'utf8'));
    raw.debuggerPauses = [{ beginAt: 'x' }, { beginAt: 9, endAt: 3 }, null, { beginAt: 2, endAt: 5, reason: 7 }];
    writeFileSync(file, JSON.stringify(raw));
    assert.deepEqual(readTraceFile(file).debuggerPauses, [{ beginAt: 2, endAt: 5 }, { beginAt: 9 }]);
    raw.debuggerPauses = 'nope';
    writeFileSync(file, JSON.stringify(raw));
    assert.equal(readTraceFile(file).debuggerPauses, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    s.dispose();
  }
});
