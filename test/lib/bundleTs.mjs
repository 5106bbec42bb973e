// Loads TypeScript modules of the project in plain Node for tests and benchmarks: bundles a small
// entry re-exporting them with esbuild into a temporary .cjs and requires it. (dist/ bundles are
// built per runtime; the extension's needs `vscode`, so its vscode-free parts are loaded this way.)
import { buildSync } from 'esbuild';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The recording `vscode` stub the extension's modules are bundled with in tests. */
export const VSCODE_STUB = join(root, 'test', 'fixtures', 'vscode-stub', 'index.cjs');

/**
 * Bundles `exportLines` (e.g. "export * from './src/extension/traceStore';", paths relative to the
 * repository root) and returns the loaded module. `dir` is where the bundle goes (a new temp dir
 * by default). `vscodeStub`: `vscode` is the recording stub (test/fixtures/vscode-stub), one
 * instance bundled with the modules.
 */
export function bundleTs(exportLines, { dir = mkdtempSync(join(tmpdir(), 'nettrace-ts-')), name = 'bundle.cjs', vscodeStub = false } = {}) {
  const outfile = join(dir, name);
  buildSync({
    stdin: { contents: exportLines.join('\n'), resolveDir: root, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile,
    logLevel: 'error',
    ...(vscodeStub ? { alias: { vscode: VSCODE_STUB } } : {}),
  });
  return createRequire(import.meta.url)(outfile);
}
