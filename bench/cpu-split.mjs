// Where a condition's extra client CPU goes, user or kernel: the bench client (bench/apps/client.mjs)
// under several conditions in paired rounds (the conditions of a round back to back, rotated every
// round), the client pinned to CPU 0 and the server to CPU 1, each run under /usr/bin/time. Prints,
// per condition, the median over rounds of its difference from the untraced run of the same round:
// client CPU of the timed part (process.cpuUsage), user and system time of the whole process, wall
// time of the timed part, context switches and minor faults.
//
//   node bench/cpu-split.mjs <http|fetch> <seq|conc> [requests=20000] [rounds=3]
//   CONDS=untraced,nettrace,...   the conditions (default untraced,bare,nettrace,noinit)
//   BASE=bare                     also print each condition's client CPU against this one, round by
//                                 round: median, mean ± standard error and the spread of a round
//                                 (issue 16's floor: skip-all against the bare hooks)
//
// Conditions: untraced; bare (bench/apps/bare-hooks.cjs: the observation points alone); nettrace
// (dist/preload.cjs, default options, a real collector in this process); noinit (initiator "off");
// nohdr (headers "none"); skip (one trace rule, `skip true`: every request skipped); drain (the
// preload streaming to a socket that reads and discards, no collector work); spin10, spin20
// (bench/apps/spin-preload.cjs: 10 or 20 µs of busy-waiting per request and nothing else, to see
// how this machine charges a program for work of a known size).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appsDir, loadCore, median, nodeOptions, preloadPath, startServer } from './lib/common.mjs';

const [client = 'http', mode = 'seq', nArg = '20000', roundsArg = '3'] = process.argv.slice(2);
const N = Number(nArg);
const ROUNDS = Number(roundsArg);
if (!existsSync('/usr/bin/time')) {
  console.error('cpu-split: needs /usr/bin/time (Debian: apt-get install time)');
  process.exit(2);
}
const core = loadCore();
const server = await startServer({ cpus: '1' });
const collector = await core.startCollector({ description: 'cpu-split' });
const drainPath = join(tmpdir(), `nettrace-drain-${process.pid}.sock`);
const drain = net.createServer((s) => s.resume()).listen(drainPath);
const traced = (extra = {}, ipcPath = collector.ipcPath) => ({
  NODE_OPTIONS: nodeOptions([preloadPath]),
  NETTRACE_CONFIG: JSON.stringify({ ipcPath, ...extra }),
});
const spin = (us) => ({ NODE_OPTIONS: nodeOptions([join(appsDir, 'spin-preload.cjs')]), SPIN_US: String(us) });
const CONDITIONS = {
  untraced: {},
  bare: { NODE_OPTIONS: nodeOptions([join(appsDir, 'bare-hooks.cjs')]) },
  nettrace: traced(),
  noinit: traced({ initiator: 'off' }),
  nohdr: traced({ headers: 'none' }),
  skip: traced({ rules: [{ id: 'all', condition: 'true', action: 'skip', enabled: true }], rulesVersion: 0 }),
  drain: traced({}, drainPath),
  spin10: spin(10),
  spin20: spin(20),
};
const names = (process.env.CONDS ?? 'untraced,bare,nettrace,noinit').split(',');
for (const n of names) if (!CONDITIONS[n]) throw new Error(`unknown condition ${n}`);
if (!names.includes('untraced')) names.unshift('untraced');

/** One client run: its timed part's CPU and wall, and /usr/bin/time's figures for the process. */
function run(env) {
  return new Promise((resolve, reject) => {
    const base = { ...process.env };
    delete base.NODE_OPTIONS;
    delete base.NETTRACE_CONFIG;
    const argv = ['-c', '0', '/usr/bin/time', '-f', 'TIME %U %S %c %w %R', process.execPath, join(appsDir, 'client.mjs')];
    argv.push(client, mode, String(N), '50', '200', server.url);
    const c = spawn('taskset', argv, { env: { ...base, ...env } });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', () => {
      const t = /TIME (\S+) (\S+) (\d+) (\d+) (\d+)/.exec(err);
      if (!t) return reject(new Error(`client failed: ${err.slice(-500)}`));
      const first = JSON.parse(out.split('\n')[0]);
      resolve({ cpuMs: first.cpuMs, ms: first.ms, user: +t[1], sys: +t[2], invol: +t[3], vol: +t[4], faults: +t[5] });
    });
  });
}

const results = Object.fromEntries(names.map((n) => [n, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < names.length; i++) {
    const name = names[(i + r) % names.length];
    results[name][r] = await run(CONDITIONS[name]);
    console.error(`round ${r + 1}/${ROUNDS} ${name}: ${JSON.stringify(results[name][r])}`);
  }
}
const us = (ms) => ((ms * 1000) / N).toFixed(1);
console.log(`${client} ${mode}, ${N} requests after 200 warm-up, ${ROUNDS} paired rounds; medians of per-round differences from untraced`);
console.log(
  '| condition | client CPU, timed part (ms) | CPU µs/req | user µs/req | system µs/req | wall µs/req | involuntary / voluntary switches | minor faults |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const name of names) {
  const d = (k) => median(results[name].map((x, i) => x[k] - results.untraced[i][k]));
  const cpu = median(results[name].map((x) => x.cpuMs)).toFixed(0);
  console.log(
    `| ${name} | ${cpu} | ${us(d('cpuMs'))} | ${us(d('user') * 1000)} | ${us(d('sys') * 1000)} | ${us(d('ms'))} | ${d('invol')} / ${d('vol')} | ${d('faults')} |`,
  );
}
const base = process.env.BASE;
if (base && results[base]) {
  console.log(`\nclient CPU over ${base}, per round (µs per request):`);
  console.log('| condition | median | mean ± standard error | standard deviation of a round |');
  console.log('|---|---:|---:|---:|');
  for (const name of names) {
    if (name === base) continue;
    const d = results[name].map((x, i) => ((x.cpuMs - results[base][i].cpuMs) * 1000) / N);
    const mean = d.reduce((a, b) => a + b, 0) / d.length;
    const sd = Math.sqrt(d.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, d.length - 1));
    const f = (v) => (v >= 0 ? '+' : '') + v.toFixed(1);
    console.log(`| ${name} | ${f(median(d))} | ${f(mean)} ± ${(sd / Math.sqrt(d.length)).toFixed(1)} | ${sd.toFixed(1)} |`);
  }
}
drain.close();
await collector.close?.();
await server.stop?.();
process.exit(0);
