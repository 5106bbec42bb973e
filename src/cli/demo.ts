/**
 * `nettrace demo`: starts local servers, runs the demo app traced exactly like `nettrace run`
 * (a separate node process with the preload), prints the table, waterfall and diagnoses, and
 * writes nettrace-demo.json and nettrace-demo.har. Fully offline.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { renderTrace, shouldUseColor } from './render';
import appSource from './demo/app.mjs';
import caCert from './demo/certs/ca.pem';
import { startDemoServers } from './demo/servers';
import { runTraced } from './runTraced';

/** Options of runDemo(). */
export interface DemoOptions {
  /** Directory for nettrace-demo.json and nettrace-demo.har (default: the current directory). */
  outDir?: string;
}

/** Runs the demo; resolves with the exit code. */
export async function runDemo(options: DemoOptions = {}): Promise<number> {
  const outDir = resolve(options.outDir ?? '.');
  const out = join(outDir, 'nettrace-demo.json');
  const har = join(outDir, 'nettrace-demo.har');
  const work = await mkdtemp(join(tmpdir(), 'nettrace-demo-'));
  const servers = await startDemoServers();
  try {
    const appPath = join(work, 'app.mjs');
    const caPath = join(work, 'ca.pem');
    await writeFile(appPath, appSource);
    await writeFile(caPath, caCert);
    process.stderr.write(
      `Net Trace demo: tracing a small app that calls local test servers (${servers.urls.http}, ${servers.urls.https}, ...)\n\n`,
    );
    const result = await runTraced({
      command: process.execPath,
      args: [appPath],
      out,
      har,
      description: 'nettrace demo (node app.mjs)',
      env: { NETTRACE_DEMO_URLS: JSON.stringify(servers.urls), NODE_EXTRA_CA_CERTS: caPath },
    });
    const color = shouldUseColor(process.stderr);
    process.stderr.write(renderTrace(result.trace, { width: process.stderr.columns ?? 120, color }));
    process.stderr.write(`\nWrote ${out}\n  and ${har} (open it in browser devtools: Network > Import HAR)\n`);
    process.stderr.write(`Show it again with: nettrace show ${out}\n`);
    if (result.trace.httpRequests.length === 0) {
      process.stderr.write('nettrace: no requests were traced; is dist/preload.cjs built and working?\n');
      return 1;
    }
    return result.exitCode;
  } finally {
    await servers.close();
    await rm(work, { recursive: true, force: true });
  }
}
