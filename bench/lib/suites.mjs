// Shared part of the real-suite benchmarks (bench/suite-vitest.mjs, bench/npm-ci.mjs): a command
// as users run it, `nettrace run -- <command>` against the command alone, in alternating pairs,
// with the CPU split three ways — the collector (the `nettrace run` process itself, read by
// bench/apps/cpu-at-exit.cjs), the traced program's process tree (bench/apps/tree-cpu.cjs around
// the command, on both sides: what it gains traced is the preload's CPU) and the rest of what
// `nettrace run` started (the kernel helper) — and optionally a third side, the program with the
// preload alone, its events read and dropped by a socket of this process (no collector).
// Also installs a bench app's npm dependencies once into a cache folder, and checks a trace file.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureNode, nodeBin } from '../../scripts/nodes.mjs';
import { selfIn } from './cpuprofile.mjs';
import { appsDir, fmt, median, nodeOptions, root, runNode } from './common.mjs';

/** Where the benchmarks keep what they install (BENCH_CACHE_DIR, else ~/.cache/nettrace/bench). */
export const benchCache = process.env.BENCH_CACHE_DIR ?? join(os.homedir(), '.cache', 'nettrace', 'bench');
/** The CLI as users run it (bin/nettrace.cjs: the bundle through its code cache). */
export const cliPath = join(root, 'bin', 'nettrace.cjs');

/**
 * Installs bench/apps/<app>'s dependencies (its package.json and package-lock.json, `npm ci`)
 * once into benchCache/<app>-<hash of the lockfile>, and copies the app's other files there at
 * every call (so an edited test runs); returns that folder. The first run needs the npm registry
 * (or the packages in npm's cache); later runs need nothing.
 */
export function installApp(app, files) {
  const src = join(appsDir, app);
  const lock = readFileSync(join(src, 'package-lock.json'));
  const dir = join(benchCache, `${app}-${createHash('sha256').update(lock).digest('hex').slice(0, 12)}`);
  const marker = join(dir, 'node_modules', '.bench-installed');
  if (!existsSync(marker)) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) cpSync(join(src, f), join(dir, f));
    console.log(`installing ${app}'s dependencies into ${dir} (once)…`);
    const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: dir, stdio: 'inherit', env: cleanEnv() });
    if (r.status !== 0) throw new Error(`npm ci of bench/apps/${app} failed (${r.status}): it needs the npm registry or npm's cache once`);
    writeFileSync(marker, new Date().toISOString() + '\n');
  }
  for (const f of files) cpSync(join(src, f), join(dir, f), { recursive: true });
  return dir;
}

/** This process's environment without what would trace a child or change npm's behaviour. */
export function cleanEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of Object.keys(env))
    if (k === 'NODE_OPTIONS' || k === 'NETTRACE_CONFIG' || k.toLowerCase().startsWith('npm_')) delete env[k];
  return { ...env, ...extra };
}

/**
 * User and system CPU (ms) of this process's waited-for children so far: `cutime`, `cstime` of
 * /proc/self/stat, in clock ticks of 10 ms. A child's figure counts its own waited-for children.
 */
export function childrenCpuMs() {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return { user: Number(f[13]) * 10, system: Number(f[14]) * 10 };
}

/**
 * Starts a bench/apps server that prints one JSON line when ready and answers a line of its stdin
 * ("count", "reset") with one JSON line. Resolves {first (its first line, or {exited} when it
 * ended first), ask(line), stop()}.
 */
export async function startControlled(script, args = []) {
  const waiting = [];
  const proc = runNode([join(appsDir, script), ...args], { onLine: (o) => waiting.shift()?.(o) });
  const first = await Promise.race([new Promise((r) => waiting.push(r)), proc.done.then((r) => ({ exited: r }))]);
  const ask = (line) =>
    new Promise((resolve) => {
      waiting.push(resolve);
      proc.child.stdin.write(line + '\n');
    });
  const stop = async () => {
    proc.child.stdin.end();
    proc.child.kill('SIGTERM');
    await proc.done;
  };
  return { first, ask, stop };
}

/**
 * The vitest suite ready to run (bench/apps/vitest-suite installed, its services started):
 * {app (its folder), env (the services' URLs), prepare() (the services' counters zeroed, a fresh
 * vitest cache in `tmp`), ask (the services' "count"/"reset"), stop()}. The suite runs on the
 * `node` its PATH finds (npm's and vitest's `#!/usr/bin/env node`); BENCH_NODE (a major: `26`)
 * puts that Node first on it, installed once like `npm test`'s (the collector stays on this one).
 */
export async function vitestSuite(tmp) {
  const app = installApp('vitest-suite', ['vitest.config.mjs', 'tests', 'fork.mjs']);
  const major = process.env.BENCH_NODE;
  if (major && !ensureNode(major, 'bench')) throw new Error(`BENCH_NODE=${major}: node@${major} could not be installed`);
  const server = await startControlled('suite-server.mjs');
  const { api, auth } = server.first;
  if (!api) throw new Error(`the suite's services did not start: ${JSON.stringify(server.first).slice(0, 2000)}`);
  const cacheDir = join(tmp, 'vitest-cache');
  return {
    app,
    env: {
      API_URL: `http://127.0.0.1:${api}`,
      AUTH_URL: `http://127.0.0.1:${auth}`,
      NO_COLOR: '1',
      FORCE_COLOR: '0',
      SUITE_CACHE_DIR: cacheDir,
      ...(major ? { PATH: `${dirname(nodeBin(major))}:${process.env.PATH}` } : {}),
    },
    async prepare() {
      await server.ask('reset');
      rmSync(cacheDir, { recursive: true, force: true });
    },
    ask: server.ask,
    stop: server.stop,
  };
}

/** A socket that reads and drops what the preload sends: the preload alone, no collector. */
export async function startSink(dir) {
  let bytes = 0;
  const server = createServer((s) => s.on('data', (d) => (bytes += d.length)));
  const path = join(dir, 'sink.sock');
  await new Promise((r) => server.listen(path, r));
  return {
    env: { NODE_OPTIONS: nodeOptions([join(root, 'dist', 'preload.cjs')]), NETTRACE_CONFIG: JSON.stringify({ ipcPath: path }) },
    bytes: () => bytes,
    close: () => new Promise((r) => server.close(r)),
  };
}

/**
 * One run of `cmd` (an argv) in `cwd`: untraced, `traced` (under `nettrace run --out trace`), or
 * with `sinkEnv` (the preload alone); `cli`: the bin/nettrace.cjs to trace with (this checkout's). Resolves {wallMs, cpuMs, userMs, systemMs (the whole run),
 * treeMs, treeUserMs, treeSystemMs (the program's process tree, tree-cpu.cjs), collector (the
 * CLI's own CPU record, cpu-at-exit.cjs; traced only), trace (the parsed file, traced only),
 * stdout, stderr}.
 */
export async function runSide(cmd, { cwd, env, traced = false, sinkEnv, runArgs = [], dir, cli = cliPath }) {
  const treeOut = join(dir, 'tree.json');
  const cpuOut = join(dir, 'collector.json');
  const traceOut = join(dir, 'trace.json');
  for (const f of [treeOut, cpuOut, traceOut]) rmSync(f, { force: true });
  const program = [process.execPath, join(appsDir, 'tree-cpu.cjs'), treeOut, '--', ...cmd];
  const argv = traced
    ? ['-r', join(appsDir, 'cpu-at-exit.cjs'), cli, 'run', ...runArgs, '--out', traceOut, '--', ...program]
    : program.slice(1);
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  const child = spawn(process.execPath, argv, {
    cwd,
    env: cleanEnv({ ...env, ...(sinkEnv ?? {}), ...(traced ? { BENCH_CPU_OUT: cpuOut } : {}) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise((r) => child.on('close', (c, s) => r(c ?? s)));
  const wallMs = performance.now() - t0;
  const cpu1 = childrenCpuMs();
  const userMs = cpu1.user - cpu0.user;
  const systemMs = cpu1.system - cpu0.system;
  if (code !== 0)
    throw new Error(
      `${traced ? 'nettrace run -- ' : ''}${cmd.join(' ')} failed (${code}):\n${stdout.slice(-3000)}\n${stderr.slice(-3000)}`,
    );
  const tree = JSON.parse(readFileSync(treeOut, 'utf8'));
  const out = {
    wallMs,
    cpuMs: userMs + systemMs,
    userMs,
    systemMs,
    treeMs: tree.userMs + tree.systemMs,
    treeUserMs: tree.userMs,
    treeSystemMs: tree.systemMs,
    stdout,
    stderr,
  };
  if (traced) {
    out.collector = JSON.parse(readFileSync(cpuOut, 'utf8'));
    out.trace = JSON.parse(readFileSync(traceOut, 'utf8'));
  }
  return out;
}

/**
 * The trace's own account of what it may have missed, as one line, and whether it is complete:
 * no dropped events or records, no request the preload saw but could not trace.
 */
export function traceHealth(trace) {
  const s = trace.stats ?? {};
  const dropped = {
    droppedEvents: s.droppedEvents ?? 0,
    untracedRequests: s.untracedRequests ?? 0,
    droppedRecords: s.droppedRecords ?? 0,
    incompleteRequests: s.incompleteRequests ?? 0,
  };
  const ok =
    dropped.droppedEvents === 0 && dropped.untracedRequests === 0 && dropped.droppedRecords === 0 && dropped.incompleteRequests === 0;
  return {
    ok,
    dropped,
    processes: trace.processes?.length ?? 0,
    helper: s.helper?.mode ?? s.helper?.notRunning ?? 'none',
    warnings: s.warnings ?? [],
  };
}

/**
 * Runs `pairs` alternating pairs (untraced first in even pairs, traced first in odd ones), and
 * with `sink` a third side each pair (the preload alone). `prepare(side)` runs before every side
 * (untimed: a fresh folder, the servers' counters reset) and may return the side's {cwd, env,
 * cmd}; `check(side, result)` after it (throws
 * when the run did not do what it must). One untimed warm-up of each side first.
 */
export async function runPairs({ pairs, cmd, cwd, env, runArgs, sink, prepare, check, log = console.log }) {
  const dir = mkdtempSync(join(os.tmpdir(), 'nettrace-suite-bench-'));
  const sinkSock = sink ? await startSink(dir) : null;
  const sides = { untraced: [], traced: [], sink: [] };
  const one = async (side) => {
    const ctx = await prepare(side);
    const r = await runSide(ctx?.cmd ?? cmd, {
      cwd: ctx?.cwd ?? cwd,
      env: { ...env, ...(ctx?.env ?? {}) },
      traced: side === 'traced',
      sinkEnv: side === 'sink' ? sinkSock.env : undefined,
      runArgs,
      dir,
    });
    await check(side, r);
    return r;
  };
  try {
    for (const side of ['untraced', 'traced']) await one(side);
    for (let i = 0; i < pairs; i++) {
      const order = i % 2 ? ['traced', 'untraced'] : ['untraced', 'traced'];
      if (sink) order.splice(1, 0, 'sink');
      const got = {};
      for (const side of order) got[side] = await one(side);
      for (const side of order) sides[side].push(got[side]);
      const u = got.untraced;
      const t = got.traced;
      log(
        `pair ${i + 1}/${pairs}: untraced ${fmt(u.wallMs)} ms, traced ${fmt(t.wallMs)} ms = ${fmt(t.wallMs / u.wallMs, 3)}×` +
          (got.sink ? `, preload alone ${fmt(got.sink.wallMs)} ms = ${fmt(got.sink.wallMs / u.wallMs, 3)}×` : '') +
          `; CPU untraced ${fmt(u.cpuMs)} ms, traced ${fmt(t.cpuMs)} ms (collector ${fmt(t.collector.cpuUs / 1000)}, program tree user ${fmt(t.treeUserMs)} vs ${fmt(u.treeUserMs)}, system ${fmt(t.treeSystemMs)} vs ${fmt(u.treeSystemMs)}, rest ${fmt(t.cpuMs - t.collector.cpuUs / 1000 - t.treeMs)}); load ${os.loadavg()[0].toFixed(2)}`,
      );
    }
  } finally {
    await sinkSock?.close();
    if (sink && sinkSock.bytes() === 0 && sides.sink.length)
      throw new Error('the sink received nothing: the preload-alone runs were not traced');
    rmSync(dir, { recursive: true, force: true });
  }
  return sides;
}

/** The figures of a set of pairs: ratios and CPU split, medians with ranges. */
export function summarize(sides) {
  const ratios = sides.traced.map((t, i) => t.wallMs / sides.untraced[i].wallMs);
  const sinkRatios = sides.sink.map((s, i) => s.wallMs / sides.untraced[i].wallMs);
  const collector = sides.traced.map((t) => t.collector.cpuUs / 1000);
  const preload = sides.traced.map((t, i) => t.treeMs - sides.untraced[i].treeMs);
  const preloadUser = sides.traced.map((t, i) => t.treeUserMs - sides.untraced[i].treeUserMs);
  const preloadSystem = sides.traced.map((t, i) => t.treeSystemMs - sides.untraced[i].treeSystemMs);
  const sinkPreload = sides.sink.map((s, i) => s.treeMs - sides.untraced[i].treeMs);
  const rest = sides.traced.map((t, i) => t.cpuMs - collector[i] - t.treeMs);
  const cpuRatio = sides.traced.map((t, i) => t.cpuMs / sides.untraced[i].cpuMs);
  const m = (xs) => ({ med: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
  return {
    ratio: m(ratios),
    sinkRatio: sinkRatios.length ? m(sinkRatios) : null,
    untracedWall: m(sides.untraced.map((u) => u.wallMs)),
    tracedWall: m(sides.traced.map((t) => t.wallMs)),
    untracedCpu: m(sides.untraced.map((u) => u.cpuMs)),
    tracedCpu: m(sides.traced.map((t) => t.cpuMs)),
    cpuRatio: m(cpuRatio),
    collector: m(collector),
    collectorMain: m(sides.traced.map((t) => t.collector.threadMs?.main ?? NaN)),
    collectorRss: m(sides.traced.map((t) => t.collector.maxRssKiB / 1024)),
    preload: m(preload),
    preloadUser: m(preloadUser),
    preloadSystem: m(preloadSystem),
    untracedUser: m(sides.untraced.map((u) => u.treeUserMs)),
    untracedSystem: m(sides.untraced.map((u) => u.treeSystemMs)),
    collectorUser: m(sides.traced.map((t) => t.collector.userUs / 1000)),
    sinkPreload: sinkPreload.length ? m(sinkPreload) : null,
    rest: m(rest),
  };
}

/** "med (min–max)" with `d` decimals. */
export const mr = (x, d = 0, unit = '') => `${fmt(x.med, d)}${unit} (${fmt(x.min, d)}–${fmt(x.max, d)})`;

/** The real-suite floor: `nettrace run -- <suite>` over the suite alone, wall. */
export const WALL_FLOOR = 1.1;

/**
 * The rows every real-suite table has, from summarize(): the wall floor, the CPU of the whole
 * run and its split (collector, preload, the rest), the collector's memory. `requests`: what the
 * run made; `processes`: the processes the trace holds.
 */
export function figureRows(s, { requests, processes }) {
  const pf = (ok) => (ok ? 'pass' : 'FAIL');
  const perReq = (ms) => `${fmt((ms * 1000) / requests, 1)} µs per request`;
  return [
    `| traced / untraced wall, median of the pairs' ratios: ≤ ${WALL_FLOOR.toFixed(2)}× | **${mr(s.ratio, 3, '×')}** | ${pf(s.ratio.med <= WALL_FLOOR)} |`,
    `| wall untraced / traced | ${mr(s.untracedWall)} / ${mr(s.tracedWall)} ms | |`,
    ...(s.sinkRatio
      ? [`| the preload alone (events dropped by a socket, no collector) / untraced wall | ${mr(s.sinkRatio, 3, '×')} | |`]
      : []),
    `| CPU of the whole run (every process) untraced / traced | ${mr(s.untracedCpu)} / ${mr(s.tracedCpu)} ms = ${fmt(s.cpuRatio.med, 3)}× (the program untraced: user ${fmt(s.untracedUser.med)}, system ${fmt(s.untracedSystem.med)} ms) | |`,
    `| the collector's CPU (the \`nettrace run\` process, its start included) | ${mr(s.collector)} ms (user ${fmt(s.collectorUser.med)}; main thread ${fmt(s.collectorMain.med)}); ${perReq(s.collector.med)} | |`,
    `| the preload's CPU (the program's processes traced − untraced, pair by pair) | ${mr(s.preload)} ms: user ${mr(s.preloadUser)}, system ${mr(s.preloadSystem)}; ${perReq(s.preload.med)}, ${fmt(s.preload.med / processes, 1)} ms per traced process | |`,
    ...(s.sinkPreload ? [`| the preload's CPU with no collector (preload-alone side − untraced) | ${mr(s.sinkPreload)} ms | |`] : []),
    `| the rest of what \`nettrace run\` started (the kernel helper) | ${mr(s.rest)} ms | |`,
    `| the collector's peak RSS | ${mr(s.collectorRss, 1)} MiB | |`,
  ].join('\n');
}

/**
 * The row of the CPU profiles a run kept (BENCH_PROFILE: one folder per run, `NN-side`, the
 * first of each side the warm-up, left out): the time in the preload's own functions and the
 * builtins they call directly (cpuprofile.mjs selfIn), summed over each traced run's processes.
 */
export function profileFigure(dir, requests) {
  const runsOf = (side) =>
    readdirSync(dir)
      .filter((d) => d.endsWith(`-${side}`))
      .sort()
      .slice(1)
      .map((d) =>
        selfIn(
          readdirSync(join(dir, d)).map((f) => join(dir, d, f)),
          { focus: join(root, 'dist', 'preload') },
        ),
      );
  const t = runsOf('traced');
  const u = runsOf('untraced');
  const ms = (xs) => ({ med: median(xs) / 1000, min: Math.min(...xs) / 1000, max: Math.max(...xs) / 1000 });
  const self = ms(t.map((a) => a.self));
  return `| CPU profiles (\`node --cpu-prof\`, BENCH_PROFILE): the preload's own functions and the builtins they call directly, traced runs | ${mr(self)} ms of ${fmt(median(t.map((a) => a.busy)) / 1000)} ms busy (${fmt((100 * self.med) / (median(t.map((a) => a.busy)) / 1000), 1)}%; untraced busy ${fmt(median(u.map((a) => a.busy)) / 1000)}); ${fmt((self.med * 1000) / requests, 1)} µs per request | |`;
}
