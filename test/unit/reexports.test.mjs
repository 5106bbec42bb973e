// covers: src/, webview/
// Go-to-definition lands on the definition, not on a relay (issue 63): outside an `index.ts` (a
// bundle's entry), no source file re-exports another's names (`export { x } from`, `export * from`).
// src/otlp/wire.ts is the one place third-party exporters are named, so that the OpenTelemetry
// packages load only where a run exports (its own comment says why).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ALLOWED = new Set(['src/otlp/wire.ts']);

function sources(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sources(p);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The re-export lines of a source text. */
export function reexports(text) {
  return text.match(/^export\s+(type\s+)?(\{[^}]*\}|\*(\s+as\s+\w+)?)\s+from\s+['"][^'"]+['"]/gm) ?? [];
}

test('no source file but an index.ts re-exports another module', () => {
  const found = [];
  for (const f of [...sources(join(root, 'src')), ...sources(join(root, 'webview'))]) {
    const rel = relative(root, f);
    if (f.endsWith('/index.ts') || ALLOWED.has(rel)) continue;
    for (const l of reexports(readFileSync(f, 'utf8'))) found.push(`${rel}: ${l}`);
  }
  assert.deepEqual(found, []);
});

test('the check sees each form of re-export', () => {
  assert.equal(
    reexports(
      "export { a, b } from './x';\nexport type { T } from './t';\nexport * from './y';\nexport * as z from './z';\nexport {\n  c,\n  d,\n} from './w';",
    ).length,
    5,
  );
  assert.equal(reexports("export const a = 1;\nexport { a };\nimport { b } from './b';").length, 0);
});
