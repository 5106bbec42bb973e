#!/usr/bin/env node
'use strict';
// The `nettrace` command: runs the bundled CLI (build it first with `npm run build`), with V8's
// code cache for it (issue 52: the bundle is parsed and compiled once, not at every run), through
// the loader the preload uses (dist/preload.cjs, src/preload/loader.ts).
const path = require('node:path');
const fs = require('node:fs');
const dist = path.join(__dirname, '..', 'dist');
const cli = path.join(dist, 'cli.cjs');
if (!fs.existsSync(cli)) {
  process.stderr.write('nettrace: not built yet; run `npm run build` in ' + path.join(__dirname, '..') + '\n');
  process.exit(2);
}
let runCached;
// Inside a traced program (NETTRACE_CONFIG set) loading the loader would start the preload here.
if (!process.env.NETTRACE_CONFIG)
  try {
    runCached = require(path.join(dist, 'preload.cjs')).runCached;
  } catch {
    // An older build without the loader: the CLI runs without the cache.
  }
// The code cache is made at the exit of the first run (it then holds the functions the command ran),
// one per command: `run`'s, and the other commands'.
if (typeof runCached === 'function') runCached(cli, process.argv[2] === 'run' ? 'cli-run' : 'cli', { atExit: true });
else require(cli);
