// Issue 17's V8 check: does anything deoptimize in steady state? Runs the bench client
// (bench/apps/client.mjs) under `--trace-deopt`, untraced and with the preload (default options,
// streaming to a real collector in this process), a warm-up and then the timed part in passes
// (`--passes`, `--mark-passes`), and counts V8's deoptimizations ("bailout" lines) per phase: the
// warm-up, each pass. A deoptimization in the last pass is steady-state churn: the function was
// optimized, ran warm for thousands of requests, and was thrown away again. Those are listed by
// function and reason, the preload's next to the untraced program's own (Node's and undici's code
// deoptimizes too, and the preload may be what makes it).
//
//   node bench/tools/deopts.mjs [http] [fetch] [mixed] [--requests=2000] [--warmup=2000] [--passes=3] [--conc=1]
//
// `mixed` is the floors' realistic client (bench/floors.mjs): `https.get` and `fetch` in
// alternate slots against bench/apps/tls-server.mjs (2 ms per response), bodies JSON.parse'd.
//
// Prints one table per client. Exit code 0 whatever it finds (a measure, not a test).
import { join } from 'node:path';
import {
  appsDir,
  loadCore,
  nodeOptions,
  preloadPath as preload,
  runNode,
  startServer,
  startTlsServer,
  testCaPath,
} from '../lib/common.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => Number(args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? def);
const clients = args.filter((a) => !a.startsWith('--'));
if (clients.length === 0) clients.push('http', 'fetch');
const requests = opt('requests', 2000);
const warmup = opt('warmup', 2000);
const passes = opt('passes', 3);
const conc = opt('conc', 1);

const core = loadCore();
const server = await startServer();
const tlsServer = clients.includes('mixed') ? await startTlsServer({ delayMs: 2 }) : undefined;
const collector = await core.startCollector({ description: 'deopts' });

/** The deoptimizations of one run by phase (0: start-up and warm-up, k: pass k, passes + 1: the exit): [function, reason]. */
async function run(client, traced) {
  const env = traced ? { NODE_OPTIONS: nodeOptions([preload]), NETTRACE_CONFIG: JSON.stringify({ ipcPath: collector.ipcPath }) } : {};
  const mixed = client === 'mixed';
  if (mixed) env.NODE_EXTRA_CA_CERTS = testCaPath;
  const argv = ['--trace-deopt', join(appsDir, 'client.mjs'), client, conc > 1 ? 'conc' : 'seq', String(requests), String(conc)];
  argv.push(String(warmup), mixed ? tlsServer.url : server.url, `--passes=${passes}`, '--mark-passes', ...(mixed ? ['--parse-json'] : []));
  // V8 prints its traces through C stdio, block-buffered on a pipe: unbuffered (stdbuf), they stay
  // in order with the client's pass marks.
  const { done } = runNode(['-o0', process.execPath, ...argv], { env, keepStdout: true, execPath: 'stdbuf' });
  const r = await done;
  if (r.code !== 0) throw new Error(`client exited with ${r.code}: ${r.stderr.slice(-500)}`);
  const phases = Array.from({ length: passes + 2 }, () => []);
  let phase = 0;
  for (const line of r.stdout.split('\n')) {
    const mark = /^\{"pass":(\d+)\}$/.exec(line);
    if (mark) phase = Number(mark[1]);
    const m = /^\[bailout \(kind: ([^,]+), reason: (.*)\): begin\. deoptimizing 0x[0-9a-f]+ <JSFunction ([^ >]*)/.exec(line);
    if (m) phases[phase].push([m[3] || '(anonymous)', `${m[2]} (${m[1]})`]);
  }
  return phases;
}

const tally = (list) => {
  const by = new Map();
  for (const [fn, reason] of list) by.set(`${fn}: ${reason}`, (by.get(`${fn}: ${reason}`) ?? 0) + 1);
  return [...by].sort((a, b) => b[1] - a[1]);
};

try {
  console.log(
    `Deoptimizations (V8 --trace-deopt), ${warmup} warm-up requests then ${passes} passes of ${requests}, concurrency ${conc}; ${process.version}`,
  );
  for (const client of clients) {
    const plain = await run(client, false);
    const traced = await run(client, true);
    console.log(`\n${client}:\n`);
    console.log(`| phase | untraced | Net Trace default |`);
    console.log('|---|---:|---:|');
    const label = (p) => (p === 0 ? 'start-up and warm-up' : p > passes ? 'after the last pass (results, exit)' : `pass ${p}`);
    for (let p = 0; p <= passes + 1; p++) console.log(`| ${label(p)} | ${plain[p].length} | ${traced[p].length} |`);
    const last = traced[passes];
    console.log(`\nIn the last pass (steady state), traced: ${last.length === 0 ? 'none' : ''}`);
    for (const [k, n] of tally(last)) console.log(`- ${n}× ${k}`);
    if (plain[passes].length > 0) {
      console.log('untraced, the same pass:');
      for (const [k, n] of tally(plain[passes])) console.log(`- ${n}× ${k}`);
    }
  }
} finally {
  await collector.close();
  await server.stop();
  await tlsServer?.stop();
}
