// The CLI's fixed cost (issue 52): wall time of `nettrace run --out F -- node -e 0` against
// `node -e 0`, in alternating pairs in one run, so both see the same load. Prints the median of
// the pairs' differences (the floor: ≤ +100 ms) and writes its section of the runs file.
//
//   node bench/cli-startup.mjs [--pairs=10] [--helper=auto|off|both] [--cli=PATH] [--no-write]
//
// --cli names another build's dist/cli.cjs (or bin/nettrace.cjs) to compare against.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fmt, machine, machineLine, median, root, writeSection } from './lib/common.mjs';

const arg = (name, dflt) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : dflt;
};
const pairs = Number(arg('pairs', '10'));
const helperArg = arg('helper', 'both');
const cli = arg('cli', join(root, 'bin', 'nettrace.cjs'));
const helpers = helperArg === 'both' ? ['auto', 'off'] : [helperArg];
const write = !process.argv.includes('--no-write');
const dir = mkdtempSync(join(os.tmpdir(), 'nettrace-cli-startup-'));
const out = join(dir, 'trace.json');

/** Wall time of one run in ms (the exit code checked: a failed run is no figure). */
function wall(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return ms;
}

const m = machine();
const rows = [];
try {
  for (const helper of helpers) {
    const run = ['run', '--helper', helper, '--out', out, '--', process.execPath, '-e', '0'];
    wall(process.execPath, [cli, ...run]); // warm the file cache once
    const bare = [];
    const traced = [];
    const diffs = [];
    for (let i = 0; i < pairs; i++) {
      // Alternating order within the pairs, so neither side always runs first.
      let n, t;
      if (i % 2) {
        t = wall(process.execPath, [cli, ...run]);
        n = wall(process.execPath, ['-e', '0']);
      } else {
        n = wall(process.execPath, ['-e', '0']);
        t = wall(process.execPath, [cli, ...run]);
      }
      bare.push(n);
      traced.push(t);
      diffs.push(t - n);
    }
    rows.push({ helper, bare: median(bare), traced: median(traced), diff: median(diffs), min: Math.min(...diffs), max: Math.max(...diffs) });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const table = [
  '| `--helper` | `node -e 0` ms | `nettrace run -- node -e 0` ms | difference, median of pairs (min–max) | floor ≤ +100 ms |',
  '|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.helper} | ${fmt(r.bare, 1)} | ${fmt(r.traced, 1)} | **+${fmt(r.diff, 1)}** (${fmt(r.min, 1)}–${fmt(r.max, 1)}) | ${r.diff <= 100 ? 'pass' : 'FAIL'} |`,
  ),
].join('\n');
const body = `${machineLine(m, os.loadavg())}\n\n${pairs} alternating pairs, \`${cli}\`.\n\n${table}`;
console.log(body);
if (write) writeSection("The CLI's fixed cost — issue 52", body);
