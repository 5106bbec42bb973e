// Issue 65's floor for `npm ci` as users run it: `nettrace run -- npm ci` over `npm ci`, wall,
// median of alternating pairs, ≤ 1.10×.
//
//   The project: bench/apps/npm-ci, a lockfile of 324 packages (express, fastify, koa, axios,
//   got, superagent, ws, undici, gRPC, ajv; eslint, typescript-eslint, typescript, prettier),
//   with `resolved` URLs as npm writes them by default. Its tarballs come from npm's own cache
//   (`npm config get cache`/_cacache, found by integrity; the ones missing are added once with
//   `npm cache add`, which needs the registry) and are served by a local registry
//   (bench/apps/registry-mirror.mjs, its own process, started here; metadata documents rewritten
//   to point at it). Each side runs `npm ci --registry http://127.0.0.1:PORT/` in a fresh folder
//   with a fresh, empty npm cache (so every tarball is fetched) and an empty user config (no
//   registry or token of this machine's); nothing leaves the machine. Traced: `nettrace run --out
//   F -- npm ci …`, default options (as root with the helper built, `--helper auto` runs it).
//   CPU, reported apart: the collector (the `nettrace run` process's own CPU), the preload (npm's
//   process tree traced minus untraced, read by bench/apps/tree-cpu.cjs around npm on both sides),
//   the rest (the helper); and a third side per pair, the preload alone (its events dropped by a
//   socket of this process, no collector).
//   Checked every run: npm fetched a tarball for each package of the lockfile (324 fetches of 318
//   tarballs: a package at two paths is fetched twice) and installed them all, and traced, the trace holds
//   exactly the requests the registry saw with nothing dropped (stats).
//
//   BENCH_PAIRS (5), BENCH_SINK (1; 0 leaves the preload-alone side out), BENCH_RUN_ARGS (more
//   `nettrace run` options), BENCH_NPM_RESOLVED=0 (a lockfile without `resolved`, as npm writes it
//   with omit-lockfile-registry-resolved: npm then fetches each package's metadata too),
//   BENCH_TMPDIR (where the project and npm's cache go; default /dev/shm where it exists),
//   BENCH_PROFILE=<dir> (npm's process under `node --cpu-prof` on both sides, profiles kept in
//   <dir>; the table gets the time under the preload's own functions), --no-write.
// Writes the section "Real suites — issue 65: npm ci" of test-results/bench/runs.md.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { appsDir, fmt, machine, machineLine, median, writeSection } from './lib/common.mjs';
import { cleanEnv, figureRows, profileFigure, runPairs, startControlled, summarize, traceHealth } from './lib/suites.mjs';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 5);
const SINK = process.env.BENCH_SINK !== '0';
const RUN_ARGS = (process.env.BENCH_RUN_ARGS ?? '').split(' ').filter(Boolean);
const RESOLVED = process.env.BENCH_NPM_RESOLVED !== '0';
const PROFILE = process.env.BENCH_PROFILE;
const write = !process.argv.includes('--no-write');

// The project and npm's cache in memory (a tmpfs) where there is one: on this VM's disk (ext4 with
// `discard`) npm ci's system time swung 3–12 s from run to run, noise that has nothing to do with
// the network; in /dev/shm it is ≈ 1 s. BENCH_TMPDIR picks another folder.
const tmpBase = process.env.BENCH_TMPDIR ?? (existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());
const tmp = mkdtempSync(join(tmpBase, 'nettrace-npm-ci-bench-'));
const app = join(appsDir, 'npm-ci');
const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8'));
if (!RESOLVED) for (const [k, e] of Object.entries(lock.packages)) if (k) delete e.resolved;
const lockText = JSON.stringify(lock, null, 2) + '\n';
const packages = Object.keys(lock.packages).filter(Boolean).length;
const npmCache = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8', env: cleanEnv() }).stdout.trim();

/** Starts the mirror of the bench's lockfile (the original, with `resolved`) from npm's cache; adds what the cache lacks once. */
async function startMirror() {
  for (let attempt = 0; ; attempt++) {
    const mirror = await startControlled('registry-mirror.mjs', [join(app, 'package-lock.json'), join(npmCache, '_cacache')]);
    if (mirror.first.port) return { ...mirror.first, ask: mirror.ask, stop: mirror.stop };
    await mirror.stop();
    if (!mirror.first.missing || attempt > 0)
      throw new Error(`the registry mirror did not start: ${JSON.stringify(mirror.first).slice(0, 2000)}`);
    console.log(`adding ${mirror.first.missing.length} packages to npm's cache (once; needs the registry)…`);
    const r = spawnSync('npm', ['cache', 'add', ...mirror.first.missing], { stdio: 'inherit', env: cleanEnv() });
    if (r.status !== 0) throw new Error(`npm cache add failed (${r.status})`);
  }
}

const mirror = await startMirror();
const userconfig = join(tmp, 'npmrc');
const globalconfig = join(tmp, 'global-npmrc');
for (const f of [userconfig, globalconfig]) writeFileSync(f, '');
const registry = `http://127.0.0.1:${mirror.port}/`;
const m = machine();
const started = performance.now();
const runs = [];
let seen;
const npmArgs = ['ci', '--registry', registry, '--cache', join(tmp, 'cache'), '--no-audit', '--no-fund', '--no-update-notifier'];
// With BENCH_PROFILE, npm's own process runs under `node --cpu-prof` (its CLI script called
// directly: Node 20 refuses --cpu-prof in NODE_OPTIONS), one folder per run.
const npmCli = PROFILE && realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());
let profiled = 0;
const sides = await runPairs({
  pairs: PAIRS,
  cmd: ['npm', ...npmArgs],
  env: { NPM_CONFIG_USERCONFIG: userconfig, NPM_CONFIG_GLOBALCONFIG: globalconfig, NO_COLOR: '1' },
  runArgs: RUN_ARGS,
  sink: SINK,
  async prepare(side) {
    await mirror.ask('reset');
    const project = join(tmp, 'project');
    for (const d of [project, join(tmp, 'cache')]) rmSync(d, { recursive: true, force: true });
    mkdirSync(project);
    cpSync(join(app, 'package.json'), join(project, 'package.json'));
    writeFileSync(join(project, 'package-lock.json'), lockText);
    if (!PROFILE) return { cwd: project };
    const dir = join(PROFILE, `${String(++profiled).padStart(2, '0')}-${side}`);
    return { cwd: project, cmd: [process.execPath, '--cpu-prof', `--cpu-prof-dir=${dir}`, npmCli, ...npmArgs] };
  },
  async check(side, r) {
    seen = await mirror.ask('count');
    if (seen.tarballs !== packages || seen.other !== 0)
      throw new Error(`${side}: npm fetched ${seen.tarballs} tarballs for ${packages} packages (and ${seen.other} unknown paths)`);
    const installed = JSON.parse(readFileSync(join(tmp, 'project', 'node_modules', '.package-lock.json'), 'utf8'));
    if (Object.keys(installed.packages).length !== packages)
      throw new Error(`${side}: ${Object.keys(installed.packages).length} packages installed of ${packages}`);
    if (side !== 'traced') return;
    const recorded = r.trace.httpRequests.length;
    const health = traceHealth(r.trace);
    if (recorded < seen.count * 0.95 || recorded > seen.count)
      throw new Error(`the trace holds ${recorded} requests, the registry saw ${seen.count}`);
    runs.push({ recorded, seen: seen.count, ...health.dropped, processes: health.processes, helper: health.helper });
  },
});
await mirror.stop();
rmSync(tmp, { recursive: true, force: true });

const s = summarize(sides);
const profileRow = PROFILE ? `\n${profileFigure(PROFILE, seen.count)}` : '';
const pf = (ok) => (ok ? 'pass' : 'FAIL');
const exact = runs.filter(
  (r) => r.recorded === r.seen && r.droppedEvents + r.untracedRequests + r.droppedRecords + r.incompleteRequests === 0,
);
const short = runs.filter((r) => !exact.includes(r));
const body = `
Measured by \`bench/npm-ci.mjs\`. Machine: ${machineLine(m, os.loadavg())}; the run took ${fmt((performance.now() - started) / 60000, 1)} min.

\`npm ci\` (npm ${spawnSync('npm', ['-v'], { encoding: 'utf8' }).stdout.trim()}) of bench/apps/npm-ci's lockfile, **${packages} packages** (${mirror.tarballs} distinct tarballs, ${fmt(mirror.bytes / 2 ** 20, 1)} MiB${RESOLVED ? '' : '; no `resolved` URLs: metadata fetched too'}) from a local registry serving npm's cache, a fresh folder and npm cache (in ${tmpBase}) each run: **${seen.count} requests** (${seen.tarballs} tarballs, ${seen.packuments} metadata documents). \`npm ci\` against \`nettrace run${RUN_ARGS.length ? ' ' + RUN_ARGS.join(' ') : ''} --out F -- npm ci\`, ${PAIRS} alternating pairs; the helper: ${runs[0]?.helper}; ${median(runs.map((r) => r.processes))} processes traced per run.

| figure | median (min–max) | |
|---|---|---|
| the trace is right: requests recorded = requests the registry saw, nothing dropped or incomplete (stats), every traced run | ${exact.length} of ${runs.length} runs exact${short.map((r) => `; ${r.recorded} of ${r.seen} recorded, ${r.incompleteRequests} incomplete, dropped events ${r.droppedEvents}`).join('')} | ${pf(!short.length)} |
${figureRows(s, { requests: seen.count, processes: median(runs.map((r) => r.processes)) })}${profileRow}
`;
console.log(body);
if (write) writeSection('Real suites — issue 65: npm ci', body);
