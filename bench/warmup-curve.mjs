// How the tracer's cost per request falls as the program warms up: the bench client
// (bench/apps/client.mjs) makes <warmup> requests, then <passes> timed passes of <requests> each in
// one process (`--passes`), untraced and with the preload, in paired rounds (the conditions of a
// round back to back, their order rotated every round), the client pinned to CPU 0 and the server
// and collector to CPU 1. Prints, per pass, the client CPU per request of each condition and the
// median of the per-round differences (with the rounds' range): pass 1 carries most of the JIT
// warm-up (V8 compiles the hot code of the program and of the tracer; until then both run in the
// interpreter and baseline code), later passes show what is left once compiled. The sustained rows
// of bench/floors.mjs (20,000 requests after 200 of warm-up) are the average over such a curve.
//
//   node bench/warmup-curve.mjs <http|fetch|mixed> [--requests=2000] [--passes=6] [--warmup=200] [--rounds=4] [--conc=20]
//
// `http` and `fetch` run sequentially, `mixed` is the floors' realistic row (startWorkload in
// bench/lib/common.mjs). NETTRACE_CONFIG_EXTRA (JSON)
// changes the preload's options, PRELOAD another bundle. A measure, not a test.
import { configExtra, loadCore, machine, machineLine, median, nodeOptions, preloadPath, runNode, startWorkload } from './lib/common.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def);
const [client = 'fetch'] = args.filter((a) => !a.startsWith('--'));
if (!['http', 'fetch', 'mixed'].includes(client)) {
  console.error('usage: node bench/warmup-curve.mjs <http|fetch|mixed> [--requests=N] [--passes=K] [--warmup=N] [--rounds=R] [--conc=N]');
  process.exit(2);
}
const requests = opt('requests', 2000);
const passes = opt('passes', 6);
const warmup = opt('warmup', 200);
const rounds = opt('rounds', 4);
const bundle = process.env.PRELOAD ?? preloadPath;
const extra = configExtra();

const core = loadCore();
const workload = await startWorkload(client, { requests, warmup, conc: opt('conc', 20), cpus: '1' });
const collector = await core.startCollector({ description: 'warmup-curve' });

/** One client process: CPU ms of each pass. */
async function run(traced) {
  const env = traced
    ? { ...workload.env, NODE_OPTIONS: nodeOptions([bundle]), NETTRACE_CONFIG: JSON.stringify({ ...extra, ipcPath: collector.ipcPath }) }
    : { ...workload.env };
  const { done } = runNode(workload.args([`--passes=${passes}`]), { env, cpus: '0', keepStdout: true });
  const r = await done;
  if (r.code !== 0) throw new Error(`client exited with ${r.code}: ${r.stderr.slice(-500)}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('{"client"'));
  return JSON.parse(line).passes.map((p) => p.cpuMs);
}

const results = { untraced: [], traced: [] };
for (let i = 0; i < rounds; i++) {
  const order = i % 2 === 0 ? ['untraced', 'traced'] : ['traced', 'untraced'];
  for (const c of order) results[c].push(await run(c === 'traced'));
  process.stderr.write(
    `round ${i + 1}: untraced ${results.untraced[i].map((x) => x.toFixed(0)).join('/')} ms, traced ${results.traced[i].map((x) => x.toFixed(0)).join('/')} ms\n`,
  );
}
await collector.close?.();
workload.server.stop?.();

const perReq = (ms) => (ms * 1000) / requests;
const out = [];
out.push(
  `${machineLine(machine())}; ${workload.label}, ${warmup} warm-up requests then ${passes} passes of ${requests}, ${rounds} paired rounds, client on CPU 0${Object.keys(extra).length > 0 ? `; preload config ${JSON.stringify(extra)}` : ''}`,
);
out.push('');
out.push(
  '| pass (requests after start-up) | untraced CPU µs/request | traced CPU µs/request | traced − untraced, median (rounds) | ratio |',
);
out.push('|---|---:|---:|---:|---:|');
for (let p = 0; p < passes; p++) {
  const u = results.untraced.map((r) => perReq(r[p]));
  const t = results.traced.map((r) => perReq(r[p]));
  const d = u.map((x, i) => t[i] - x);
  const from = warmup + p * requests;
  out.push(
    `| ${p + 1} (${from}–${from + requests}) | ${median(u).toFixed(1)} | ${median(t).toFixed(1)} | ${d.length ? `${median(d) >= 0 ? '+' : ''}${median(d).toFixed(1)} (${Math.min(...d).toFixed(1)}…${Math.max(...d).toFixed(1)})` : ''} | ${(median(t) / median(u)).toFixed(2)}× |`,
  );
}
console.log(out.join('\n'));
process.exit(0);
