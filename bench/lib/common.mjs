// Shared helpers of the benchmarks: paths, the machine description, child processes that print
// JSON lines, the separate-process HTTP server, statistics, and rewriting our section of the runs
// file (resultsPath) without touching anyone else's.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const benchDir = join(root, 'bench');
export const appsDir = join(benchDir, 'apps');
export const preloadPath = join(root, 'dist', 'preload.cjs');
export const corePath = join(root, 'dist', 'core.cjs');
export const otelPreloadPath = join(appsDir, 'otel-preload.cjs');
/**
 * Where a benchmark writes its run's full tables (section by section): test-results/bench/runs.md,
 * not kept in git. bench/RESULTS.md holds the floors table, updated by hand from these figures.
 */
export const resultsPath = join(root, 'test-results', 'bench', 'runs.md');

/** Writes `text` to resultsPath, making its folder. */
export function writeResults(text) {
  mkdirSync(dirname(resultsPath), { recursive: true });
  writeFileSync(resultsPath, text);
}

/** The collector API (dist/core.cjs, built by `node scripts/build.mjs`). */
export function loadCore() {
  if (!existsSync(corePath) || !existsSync(preloadPath)) {
    throw new Error(`${corePath} or ${preloadPath} is missing: run \`node scripts/build.mjs\` first`);
  }
  return createRequire(import.meta.url)(corePath);
}

/**
 * CPUs (`nproc --all`: the machine's, not the ones this process may run on — a benchmark that pins
 * itself to one CPU still reports both), CPU model, RAM, Node version, OS, date.
 */
export function machine() {
  const cpus = os.cpus();
  let nproc = cpus.length;
  try {
    nproc = Number(execFileSync('nproc', ['--all'], { encoding: 'utf8' }).trim()) || nproc;
  } catch {}
  return {
    nproc,
    cpu: cpus[0]?.model?.trim() ?? 'unknown',
    ramGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
    date: new Date().toISOString(),
  };
}

/** The machine line; with `end` (a later machine() or os.loadavg()), also the load average at the end. */
export function machineLine(m, end) {
  const endLoad = Array.isArray(end) ? end : end?.loadavg;
  const endText = endLoad ? `, at end ${endLoad.map((x) => +x.toFixed(2)).join(' / ')}` : '';
  return `${m.nproc} CPUs · ${m.cpu} · ${m.ramGiB} GiB RAM · Node ${m.node} · ${m.os} · ${m.date} · load average (1 / 5 / 15 min) at start ${m.loadavg.join(' / ')}${endText}`;
}

/**
 * BENCH_QUICK=1: a smoke test of the benchmark's machinery (few runs and requests, no profiling),
 * whose numbers mean nothing, so it does not rewrite the runs file unless --write is given.
 */
export const QUICK = process.env.BENCH_QUICK === '1';

/**
 * NETTRACE_CONFIG_EXTRA: JSON merged into the preload's config by the benchmarks that take it
 * (callgrind.mjs, jit.mjs), to measure other settings such as a rule set; {} when unset.
 */
export function configExtra() {
  return process.env.NETTRACE_CONFIG_EXTRA ? JSON.parse(process.env.NETTRACE_CONFIG_EXTRA) : {};
}

/** NODE_OPTIONS for a condition, keeping none of the parent's (npm may set some). */
export function nodeOptions(requires) {
  return requires.map((p) => `--require ${JSON.stringify(p)}`).join(' ');
}

/**
 * Spawns a Node child (`execPath`, default this Node). `onLine(obj)` gets every JSON line it
 * prints on stdout; resolves with {code, signal, lines, stderr} when it exits, and with
 * `keepStdout` also its whole `stdout`.
 */
export function runNode(args, { env = {}, onLine, cpus, keepStdout = false, execPath = process.execPath } = {}) {
  const baseEnv = { ...process.env };
  delete baseEnv.NODE_OPTIONS;
  delete baseEnv.NETTRACE_CONFIG;
  let cmd = execPath;
  let argv = args;
  if (cpus) {
    cmd = 'taskset';
    argv = ['-c', cpus, execPath, ...args];
  }
  const child = spawn(cmd, argv, { env: { ...baseEnv, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines = [];
  let stderr = '';
  let buf = '';
  child.stdout.setEncoding('utf8');
  let stdout = '';
  child.stdout.on('data', (d) => {
    if (keepStdout) stdout += d;
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let obj;
      try {
        obj = JSON.parse(line);
      } catch {
        continue;
      }
      lines.push(obj);
      onLine?.(obj, child);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, lines, stderr, stdout })));
  return { child, done };
}

/**
 * Starts a bench/apps script that prints one JSON line with `key` once ready; resolves with that
 * line, the child and stop() (closes its stdin, then SIGTERM).
 */
async function startApp(script, key, { cpus, args = [] } = {}) {
  let resolveInfo;
  const infoP = new Promise((r) => (resolveInfo = r));
  const { child, done } = runNode([join(appsDir, script), ...args], { onLine: (o) => o[key] !== undefined && resolveInfo(o), cpus });
  const info = await Promise.race([
    infoP,
    done.then((r) => {
      throw new Error(`${script} exited early: ${r.stderr}`);
    }),
  ]);
  return {
    info,
    pid: child.pid,
    async stop() {
      child.stdin.end();
      child.kill('SIGTERM');
      await done;
    },
  };
}

/** Starts bench/apps/server.mjs in its own process; resolves {port, url, stop()}. */
export async function startServer({ cpus } = {}) {
  const app = await startApp('server.mjs', 'port', { cpus });
  return { port: app.info.port, pid: app.pid, url: `http://127.0.0.1:${app.info.port}/`, stop: app.stop };
}

/**
 * Starts bench/apps/tls-server.mjs (HTTPS with the test CA's localhost certificate, every response
 * held `delayMs`) in its own process; resolves {port, url, bodyBytes, stop()}.
 */
export async function startTlsServer({ delayMs = 2, cpus } = {}) {
  const app = await startApp('tls-server.mjs', 'port', { cpus, args: [String(delayMs)] });
  return { port: app.info.port, pid: app.pid, url: `https://127.0.0.1:${app.info.port}/`, bodyBytes: app.info.bodyBytes, stop: app.stop };
}

/** The test CA that signed tls-server.mjs's certificate (for NODE_EXTRA_CA_CERTS). */
export const testCaPath = join(root, 'test', 'fixtures', 'certs', 'ca.pem');

/**
 * One bench client workload and its server: `http` or `fetch` sequentially against
 * bench/apps/server.mjs, or `mixed`, the floors' realistic row (https.get and fetch in alternate
 * slots at `conc` in flight, JSON bodies parsed, against bench/apps/tls-server.mjs holding each
 * response 2 ms, the test CA trusted through NODE_EXTRA_CA_CERTS). Resolves {server, label, env
 * (to add to a run's), args(flags) (bench/apps/client.mjs and its arguments)}.
 */
export async function startWorkload(client, { requests, warmup, conc = 20, cpus } = {}) {
  const mixed = client === 'mixed';
  const server = mixed ? await startTlsServer({ delayMs: 2, cpus }) : await startServer({ cpus });
  const workload = [client, mixed ? 'conc' : 'seq', String(requests), mixed ? String(conc) : '1', String(warmup), server.url];
  return {
    server,
    label: mixed ? `mixed https.get + fetch, conc ${conc}, server 2 ms, JSON parsed` : `${client} seq`,
    env: mixed ? { NODE_EXTRA_CA_CERTS: testCaPath } : {},
    args: (flags = []) => [join(appsDir, 'client.mjs'), ...workload, ...flags, ...(mixed ? ['--parse-json'] : [])],
  };
}

/**
 * Starts bench/apps/dns-server.mjs (test/integration/dnsServer.mjs serving bench.test A 127.0.0.1)
 * in its own process; resolves {address ("127.0.0.1:PORT"), port, stop()}.
 */
export async function startDnsServer({ cpus } = {}) {
  const app = await startApp('dns-server.mjs', 'address', { cpus });
  return { address: app.info.address, port: app.info.port, pid: app.pid, stop: app.stop };
}

/**
 * Replaces (or appends) the `## <heading>` section of the runs file with `body`, keeping every
 * other section byte for byte.
 */
export function writeSection(heading, body) {
  const text = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '# Benchmark runs\n';
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === `## ${heading}`);
  const block = [`## ${heading}`, '', ...body.trim().split('\n'), ''];
  let out;
  if (start < 0) out = text.replace(/\n*$/, '\n\n') + block.join('\n');
  else {
    let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
    if (end < 0) end = lines.length;
    out = [...lines.slice(0, start), ...block, ...lines.slice(end)].join('\n');
  }
  writeResults(out.replace(/\n*$/, '\n'));
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

export const SECTION = 'Core tracer overhead — issue 2';
const INTRO = `Performance floors of issue 2, and the overhead floors of issue 4 (socket-op trace, bodies; DNS trace for
information), measured by \`bench/overhead.mjs\` and \`bench/memory.mjs\` (\`npm run bench\` runs both; each rewrites
only its own subsection). Numbers below are from the machine named in each subsection.`;
const SUBSECTION_ORDER = ['Overhead', 'Memory'];

/**
 * Writes `### <sub>` inside our `## Core tracer overhead — issue 2` section of the runs file
 * (creating the file or the section when missing). Only our section changes: everything before
 * and after it (e.g. the "Panel (webview)" section) is kept byte for byte, and the other
 * subsection of ours (overhead vs memory, written by the other script) is kept too.
 */
export function writeSubsection(sub, body, intro = INTRO) {
  const heading = `## ${SECTION}`;
  const text = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '# Benchmark runs\n';
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  let end = start < 0 ? -1 : lines.findIndex((l, i) => i > start && /^## /.test(l));
  if (start >= 0 && end < 0) end = lines.length;

  // Current subsections of our section.
  const subs = new Map();
  if (start >= 0) {
    let cur;
    for (const l of lines.slice(start + 1, end)) {
      const m = /^### (\S+)/.exec(l);
      if (m) subs.set((cur = m[1]), [l]);
      else if (cur) subs.get(cur).push(l);
    }
  }
  subs.set(sub, [`### ${sub}`, '', ...body.trim().split('\n'), '']);
  const names = [...SUBSECTION_ORDER.filter((n) => subs.has(n)), ...[...subs.keys()].filter((n) => !SUBSECTION_ORDER.includes(n))];
  const sectionLines = [heading, '', ...intro.trim().split('\n'), ''];
  for (const n of names) {
    const block = subs.get(n);
    while (block.length && block[block.length - 1].trim() === '') block.pop();
    sectionLines.push(...block, '');
  }

  let out;
  if (start < 0) {
    out = text.replace(/\n*$/, '\n\n') + sectionLines.join('\n');
  } else {
    const before = lines.slice(0, start);
    const after = lines.slice(end);
    out = [...before, ...sectionLines, ...after].join('\n');
  }
  writeResults(out.replace(/\n*$/, '\n'));
}
