// covers: bench/lib/callgrindRun.mjs, src/preload/
// needs: the build (dist/preload.cjs, dist/preload-body.cjs)
// The instruction benchmarks and the CI guard run the preload with its time constants scaled
// (bench/lib/callgrindRun.mjs, scaledCopy): under valgrind a constant left as built follows a
// clock slowed 50–100×, and the counts follow the load. Every constant is found in the built body
// (top-level `var`, inside a lazily initialized module, or a renamed copy) and multiplied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scaledCopy, TIMED } from '../../bench/lib/callgrindRun.mjs';

const dist = fileURLToPath(new URL('../../dist/', import.meta.url));

test('scaledCopy finds and multiplies every time constant of the built preload body', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-scaled-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = [];
  const copy = scaledCopy(join(dist, 'preload.cjs'), 1000, dir, (name) => missing.push(name));
  assert.equal(copy, join(dir, 'preload.cjs'));
  assert.deepEqual(missing, [], 'every constant was found');
  const built = readFileSync(join(dist, 'preload-body.cjs'), 'utf8');
  const scaled = readFileSync(join(dir, 'preload-body.cjs'), 'utf8');
  for (const name of TIMED) {
    const re = new RegExp(`^\\s*(?:var )?${name}\\d* = (\\d+(?:\\.\\d+)?);$`, 'gm');
    const before = [...built.matchAll(re)].map((m) => Number(m[1]));
    const after = [...scaled.matchAll(re)].map((m) => Number(m[1]));
    assert.ok(before.length >= 1, name);
    assert.deepEqual(
      after,
      before.map((v) => v * 1000),
      name,
    );
  }
  // The loader and the rules bundle come along unchanged.
  assert.equal(readFileSync(copy, 'utf8'), readFileSync(join(dist, 'preload.cjs'), 'utf8'));
});
