// What bench/callgrind.mjs and bench/rules-hooks.mjs share: a preload bundle with its time
// constants scaled (see bench/callgrind.mjs's header for why), and one run of a program under
// `valgrind --tool=callgrind` giving its total instruction count (Ir).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * The preload's time constants that the time scale multiplies (`NAME = value;` in the bundle).
 * SAMPLE_MS is the event-loop monitor's tick (loopLag.ts): unscaled, valgrind's slowness made it
 * fire every few requests and take every tick for a blocked loop (a loopBlock message each),
 * where a real run ticks once per hundreds of requests.
 */
export const TIMED = ['FLUSH_INTERVAL_MS', 'FLUSH_HOLD_MS', 'SYNC_REFILL_MS', 'PROGRESS_MS', 'STACK_WINDOW_MS', 'SAMPLE_MS'];

/**
 * A copy of `preload` in `dir` with TIMED multiplied by `scale` (`note` is told of a constant the
 * bundle lacks; in preload-body.cjs when there is one, the preload that preload.cjs loads), and
 * the bundles it loads (preload-body.cjs, rules.cjs) copied along when there are; the names in
 * `keep` are left as built. Returns the copy's path.
 */
export function scaledCopy(preload, scale, dir, note = () => {}, keep = []) {
  // Since issue 52 dist/preload.cjs loads the preload from preload-body.cjs beside it: the
  // constants are there, and every bundle of the folder is copied along.
  const body = join(dirname(preload), 'preload-body.cjs');
  const scaledFile = existsSync(body) ? body : preload;
  let text = readFileSync(scaledFile, 'utf8');
  for (const name of TIMED.filter((n) => !keep.includes(n))) {
    // `var NAME = v;` at the top level, or `NAME = v;` inside a module esbuild initializes lazily
    // (__esm), and esbuild's renamed copies (NAME2, ...): a constant the regex missed would follow
    // the wall clock, which valgrind slows (the body's transport and stack budget did, unnoticed).
    const re = new RegExp(`^(\\s*(?:var )?${name}\\d* = )(\\d+(?:\\.\\d+)?);$`, 'gm');
    let found = false;
    text = text.replace(re, (_, head, v) => {
      found = true;
      return `${head}${Number(v) * scale};`;
    });
    if (!found) note(name);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, basename(scaledFile)), text);
  for (const f of [basename(preload), 'preload-body.cjs', 'rules.cjs']) {
    const beside = join(dirname(preload), f);
    if (f !== basename(scaledFile) && existsSync(beside)) copyFileSync(beside, join(dir, f));
  }
  return join(dir, basename(preload));
}

/**
 * V8 flags that make two runs of one program count the same (bench/callgrind.mjs's header):
 * everything on the main thread, collections by allocation only, and a fixed hash seed and random
 * seed (V8 picks both per process: the seed's set-up and every hash table's layout then differ
 * from run to run, several thousand instructions per request at a 2,000-request difference).
 */
export const STEADY_NODE_FLAGS = ['--single-threaded', '--predictable-gc-schedule', '--hash-seed=1', '--random-seed=1'];

/**
 * Runs `node <nodeArgs>` under callgrind (its output to `outFile`, for callgrind_annotate); resolves
 * {ir, stdout, seconds}, rejects when it fails or its first stdout line (a bench client's JSON)
 * reports failures. CALLGRIND_FLAGS (space-separated) adds callgrind options, e.g.
 * `--cache-sim=yes --branch-sim=yes` for simulated cache misses and mispredicted branches (the
 * output's `totals:` line then has them after Ir). `cwd`: the program's folder (this process's by
 * default); Node reads the package.json above it when a `--require` is given.
 */
export function callgrindIr(nodeArgs, env, outFile = '/dev/null', cwd = undefined) {
  const extra = (process.env.CALLGRIND_FLAGS ?? '').split(' ').filter(Boolean);
  const argv = ['--tool=callgrind', '--smc-check=all-non-file', ...extra, `--callgrind-out-file=${outFile}`, process.execPath, ...nodeArgs];
  const t0 = Date.now();
  return new Promise((done, fail) => {
    const c = spawn('valgrind', argv, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    c.stderr.on('data', (d) => (err += d));
    c.stdout.on('data', (d) => (out += d));
    c.on('close', (code) => {
      const m = /Collected : (\d+)/.exec(err);
      let failures;
      try {
        failures = JSON.parse(out.split('\n')[0] || '{}').failures;
      } catch {
        failures = undefined;
      }
      if (!m || code !== 0 || failures) fail(new Error(`run failed (exit ${code}, failures ${failures}): ${err.slice(-500)}`));
      else done({ ir: Number(m[1]), stdout: out, seconds: (Date.now() - t0) / 1000 });
    });
  });
}
