// Garbage per request, in bytes: what the bench client (bench/apps/client.mjs) allocates and promotes
// under several conditions, from V8's own accounting. Each condition runs twice with
// `--trace-gc-nvp` (2,000 and 22,000 timed requests after the warm-up); the `allocated=` and
// `promoted=` of every collection are summed, and per request = the difference / 20,000. Unlike
// instruction counts, whose GC rows move by ±10,000 Ir per request with where a collection falls
// in the measured window, bytes allocated move by a few hundred per request from run to run.
//
//   node bench/alloc.mjs <http|fetch> <seq|conc> [warmup=2000]
//   CONDS=untraced,bare,nettrace,noinit,skip   the conditions (default all five)
//   PRELOAD=path/to/preload.cjs                the bundle (default dist/preload.cjs)
//
// Conditions: untraced; bare (bench/apps/bare-hooks.cjs: the observation points alone); nettrace
// (default options, a real collector in this process); noinit (initiator "off"); skip (one
// enabled rule `skip true`). The client runs pinned to CPU 0, the server to CPU 1.
import { join } from 'node:path';
import { appsDir, loadCore, nodeOptions, preloadPath, runNode, startServer } from './lib/common.mjs';

const [client = 'fetch', mode = 'seq', warmupArg = '2000'] = process.argv.slice(2);
const SMALL = 2000;
const LARGE = 22000;
const core = loadCore();
const server = await startServer({ cpus: '1' });
const collector = await core.startCollector({ description: 'alloc' });
const bundle = process.env.PRELOAD ?? preloadPath;
const traced = (extra = {}) => ({
  NODE_OPTIONS: nodeOptions([bundle]),
  NETTRACE_CONFIG: JSON.stringify({ ipcPath: collector.ipcPath, ...extra }),
});
const CONDITIONS = {
  untraced: {},
  bare: { NODE_OPTIONS: nodeOptions([join(appsDir, 'bare-hooks.cjs')]) },
  nettrace: traced(),
  noinit: traced({ initiator: 'off' }),
  skip: traced({ rules: [{ id: 'all', condition: 'true', action: 'skip', enabled: true }], rulesVersion: 0 }),
};
const names = (process.env.CONDS ?? Object.keys(CONDITIONS).join(',')).split(',');
for (const n of names) if (!CONDITIONS[n]) throw new Error(`unknown condition ${n}`);

/** One client run: the sums of V8's per-collection figures, and the number of each kind of collection. */
async function run(env, n) {
  const args = ['--trace-gc-nvp', join(appsDir, 'client.mjs'), client, mode, String(n), '50', warmupArg, server.url];
  const r = await runNode(args, { env, cpus: '0', keepStdout: true }).done;
  if (r.code !== 0) throw new Error(`client failed (${r.code}): ${r.stderr.slice(-500)}`);
  const sum = { allocated: 0, promoted: 0, scavenges: 0, markCompacts: 0 };
  for (const line of r.stdout.split('\n')) {
    const a = / allocated=(\d+)/.exec(line);
    const p = / promoted=(\d+)/.exec(line);
    if (a) sum.allocated += Number(a[1]);
    if (p) sum.promoted += Number(p[1]);
    if (/ gc=s /.test(line)) sum.scavenges++;
    else if (/ gc=(mc|ms) /.test(line)) sum.markCompacts++;
  }
  return sum;
}

console.log(`${client} ${mode}: bytes per request (${SMALL} vs ${LARGE} timed requests after ${warmupArg} warm-up; ${bundle})`);
console.log('| condition | allocated, bytes per request | promoted, bytes per request | scavenges / mark-compacts (longer run) |');
console.log('|---|---:|---:|---:|');
for (const name of names) {
  const a = await run(CONDITIONS[name], SMALL);
  const b = await run(CONDITIONS[name], LARGE);
  const per = (k) => Math.round((b[k] - a[k]) / (LARGE - SMALL)).toLocaleString('en-US');
  console.log(`| ${name} | ${per('allocated')} | ${per('promoted')} | ${b.scavenges} / ${b.markCompacts} |`);
}
await collector.close?.();
await server.stop?.();
process.exit(0);
