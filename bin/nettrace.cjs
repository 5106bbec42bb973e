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
// V8 optimizes a function with TurboFan once it has run a set amount; in the CLI (the collector
// of `nettrace run`, a file read by `show` or `diff`) most functions get there within a short run
// and their compile, on V8's threads beside the program's, cost more than it saved (issue 65: the
// collector's CPU for 1,300 requests 322 → 216 ms on Node 20, 267 → 182 on 22; a long run's
// steady state is the same code, reached a little later: +2–3% at 25,000 requests). So this
// process asks for about eight times V8's default. Only here: the traced program is spawned
// without it. Before the code cache is read: V8 rejects cached code made under other flags. By
// V8 version, an unknown flag being printed as an error: Node 20's V8 11.3 counts bytes run,
// Node 22 on count calls.
const [v8Major, v8Minor] = process.versions.v8.split('.').map(Number);
const tiering =
  v8Major >= 12 ? '--invocation-count-for-turbofan=24000' : v8Major === 11 && v8Minor === 3 ? '--interrupt-budget=540672' : undefined;
if (tiering) require('node:v8').setFlagsFromString(tiering);
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
