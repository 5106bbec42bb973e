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
// collector's CPU for 1,300 requests −37% on Node 20, −32% on 22; for 9,000 −17% and −9%; for
// 25,000 the same, the optimized code reached a little later). So this process asks for about
// eight times V8's default where V8 has no Maglev by default (Node 20's 11.3 counts bytes run,
// Node 22's 12 calls); Node 24 on compile with Maglev first, and there it saved nothing
// measurable. Only here: the traced program is spawned without it. Before the code cache is read:
// V8 rejects cached code made under other flags. By V8 version: a flag V8 does not know is printed
// as an error.
const [v8Major, v8Minor] = process.versions.v8.split('.').map(Number);
const tiering =
  v8Major === 12 ? '--invocation-count-for-turbofan=24000' : v8Major === 11 && v8Minor === 3 ? '--interrupt-budget=540672' : undefined;
if (tiering) require('node:v8').setFlagsFromString(tiering);
// And in `nettrace run` (the collector), on every Node, smaller TurboFan jobs: V8 inlines any callee
// of up to 460 bytes of bytecode into a function it optimizes, and the collector's per-record
// functions and the derivation of every request at a run's end (`derive` with its time budget)
// made jobs of 15–30 ms each, some code compiled twice (alone, then inlined into its caller), late
// in a run where they saved little. With callees of up to 100 bytes the compiling of a
// 25,000-request run took half as long and the run's whole CPU 4–10% less on Node 20 to 26; runs of
// 1,300 and 9,000 requests moved within their rounds' spread (bench/RESULTS.md). The other commands
// keep V8's inlining: `nettrace show` of a 100,000-request file took 5–8% longer with this.
if (process.argv[2] === 'run') require('node:v8').setFlagsFromString('--max-inlined-bytecode-size=100');
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
