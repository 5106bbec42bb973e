// What the Send Again tests (sendAgain.test.mjs, sendAgainHttp2.test.mjs) share: the extension's
// trace store and a real collector bundled for Node, the preload's path, and a wait.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs, root } from '../lib/bundleTs.mjs';

/** The trace store, startCollector and buildPreloadEnv (and `extra` export lines), bundled as `name` (vscode stubbed). */
export function sendAgainModules(name, extra = []) {
  return bundleTs(
    [
      "export * from './src/extension/traceStore';",
      "export { startCollector } from './src/collector/server';",
      "export { buildPreloadEnv } from './src/collector/launchEnv';",
      ...extra,
    ],
    { dir: mkdtempSync(join(tmpdir(), 'nettrace-sendagain-')), name, vscodeStub: true },
  );
}

/** The preload the tests' programs run with. */
export const preload = join(root, 'dist', 'preload.cjs');

/** Polls `fn` every 25 ms until it returns something truthy (returned), or throws after `ms`. */
export async function until(what, fn, ms = 10_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
