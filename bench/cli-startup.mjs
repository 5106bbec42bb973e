// The CLI's fixed cost (issue 52): wall time of `nettrace run --out F -- node -e 0` against
// `node -e 0`, in rounds that run each side in turn (the order rotating), so every figure sees the
// same load. Prints, per CLI and helper setting, the median of the rounds' differences (the floor:
// ≤ +100 ms) and writes its section of the runs file.
//
//   node bench/cli-startup.mjs [--pairs=10] [--helper=auto|off|both] [--cli=A[,B]] [--no-write]
//
// --cli names the bin/nettrace.cjs (or dist/cli.cjs) of each build to measure (default this
// checkout's bin/nettrace.cjs); two builds give a before/after in one run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fmt, machine, machineLine, median, root, writeSection } from './lib/common.mjs';

const arg = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
};
const pairs = Number(arg('pairs', '10'));
const helperArg = arg('helper', 'both');
const clis = arg('cli', join(root, 'bin', 'nettrace.cjs')).split(',');
const helpers = helperArg === 'both' ? ['auto', 'off'] : [helperArg];
const write = !process.argv.includes('--no-write');
const dir = mkdtempSync(join(os.tmpdir(), 'nettrace-cli-startup-'));
const out = join(dir, 'trace.json');

/**
 * CPU of the waited-for children so far, ms: `cutime + cstime` of /proc/self/stat (Linux; clock
 * ticks of 10 ms, so a side's CPU is given as the mean over the rounds), or NaN elsewhere.
 */
function childrenCpuMs() {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(f[13]) + Number(f[14])) * 10;
  } catch {
    return NaN;
  }
}

/** Wall time of one run in ms, and its CPU (the exit code checked: a failed run is no figure). */
function wall(args) {
  const cpu0 = childrenCpuMs();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  cpu += childrenCpuMs() - cpu0;
  return ms;
}
let cpu = 0;

const m = machine();
const rows = [];
try {
  for (const helper of helpers) {
    const runArgs = (cli) => [cli, 'run', '--helper', helper, '--out', out, '--', process.execPath, '-e', '0'];
    // The sides of a round: `node -e 0`, then each CLI; the first round warms the file cache.
    const sides = [['-e', '0'], ...clis.map(runArgs)];
    for (const s of sides) wall(s);
    const times = sides.map(() => []);
    const cpus = sides.map(() => 0);
    for (let i = 0; i < pairs; i++) {
      const t = [];
      for (let k = 0; k < sides.length; k++) {
        const j = (i + k) % sides.length;
        cpu = 0;
        t[j] = wall(sides[j]);
        cpus[j] += cpu / pairs;
      }
      t.forEach((ms, j) => times[j].push(ms));
    }
    clis.forEach((cli, c) => {
      const diffs = times[c + 1].map((ms, i) => ms - times[0][i]);
      rows.push({
        helper,
        cli,
        bare: median(times[0]),
        traced: median(times[c + 1]),
        diff: median(diffs),
        min: Math.min(...diffs),
        max: Math.max(...diffs),
        cpu: cpus[c + 1] - cpus[0],
      });
    });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const table = [
  '| CLI | `--helper` | `node -e 0` ms | `nettrace run -- node -e 0` ms | difference, median of rounds (min–max) | CPU over `node -e 0`, mean | floor ≤ +100 ms |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.cli} | ${r.helper} | ${fmt(r.bare, 1)} | ${fmt(r.traced, 1)} | **+${fmt(r.diff, 1)}** (${fmt(r.min, 1)}–${fmt(r.max, 1)}) | +${fmt(r.cpu, 0)} ms | ${r.diff <= 100 ? 'pass' : 'FAIL'} |`,
  ),
].join('\n');
const body = `${machineLine(m, os.loadavg())}\n\n${pairs} rounds, each side in turn (order rotating), as user ${os.userInfo().username}.\n\n${table}`;
console.log(body);
if (write) writeSection("The CLI's fixed cost — issue 52", body);
