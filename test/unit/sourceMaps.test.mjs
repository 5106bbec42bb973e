// covers: src/collector/sourceMaps.ts
// needs: the build (dist/core.cjs)
// SourceMapResolver: external and inline maps, file:// frames, 1-based V8 columns, misses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const { SourceMapResolver } = require('../../dist/core.cjs');
const { SourceMapGenerator } = require('source-map-js');

const dir = mkdtempSync(join(tmpdir(), 'nettrace-maps-'));

function map(file) {
  const g = new SourceMapGenerator({ file });
  // generated line 2, column 10 (0-based) -> src/users.ts line 14, column 8 (0-based), name loadUsers
  g.addMapping({ generated: { line: 2, column: 10 }, original: { line: 14, column: 8 }, source: 'src/users.ts', name: 'loadUsers' });
  return g.toString();
}

const external = join(dir, 'external.js');
writeFileSync(external, 'x;\n          fetch();\n//# sourceMappingURL=external.js.map\n');
writeFileSync(join(dir, 'external.js.map'), map('external.js'));
const inline = join(dir, 'inline.js');
writeFileSync(
  inline,
  `x;\n          fetch();\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(map('inline.js')).toString('base64')}\n`,
);
const plain = join(dir, 'plain.js');
writeFileSync(plain, 'fetch();\n');
const broken = join(dir, 'broken.js');
writeFileSync(broken, 'x;\n//# sourceMappingURL=broken.js.map\n');
writeFileSync(join(dir, 'broken.js.map'), '{not json');

test('maps a frame through an external map (V8 column 11 = source-map column 10)', () => {
  const r = new SourceMapResolver();
  const f = r.mapFrame({ file: external, line: 2, column: 11 });
  assert.deepEqual(f, {
    file: join(dir, 'src/users.ts'),
    line: 14,
    column: 9,
    function: 'loadUsers',
    generated: { file: external, line: 2, column: 11 },
  });
});

test('maps file:// frames (ESM) through an inline data: map', () => {
  const r = new SourceMapResolver();
  const url = pathToFileURL(inline).href;
  const f = r.mapFrame({ function: 'main', file: url, line: 2, column: 11 });
  assert.equal(f.file, join(dir, 'src/users.ts'));
  assert.equal(f.line, 14);
  assert.equal(f.function, 'main', 'a known function name is kept');
  assert.equal(f.generated.file, url);
});

test('frames without a usable map are returned unchanged, never throwing', () => {
  const r = new SourceMapResolver();
  for (const frame of [
    { file: plain, line: 1, column: 1 },
    { file: broken, line: 1, column: 1 },
    { file: join(dir, 'missing.js'), line: 1, column: 1 },
    { file: 'node:internal/http', line: 1, column: 1 },
    { file: 'relative.js', line: 1, column: 1 },
    { file: 'file:///%%bad', line: 1, column: 1 },
  ]) {
    assert.deepEqual(r.mapFrame(frame), frame);
  }
});
