// Issue 35 item 2: what a traced HTTP/2 client stream costs when the preload sees it through
// Node's `http2.client.stream.created` channel (Node 22.16+) against the wrapper of
// `ClientHttp2Session.prototype.request` it keeps for Node 20. One build, two bundles: the second
// is dist/preload.cjs with the channel's feature check made to fail (publishesCreated() in
// src/preload/http2Hooks.ts reads `request`'s source), so only the path differs. Both preloads
// stream to a real collector in this process; the client (bench/apps/h2-client.cjs) makes
// sequential GET streams of 200 B over one session.
//   node bench/http2-channel.mjs            instruction counts: each condition under
//       `valgrind --tool=callgrind` (bench/lib/callgrindRun.mjs: steady V8 flags, time constants
//       scaled) at BENCH_SMALL (200) and BENCH_LARGE (1200) streams; per stream = ΔIr / Δstreams
//   node bench/http2-channel.mjs --clock    client CPU time, conditions (untraced, channel, wrapper)
//       rotated every round: BENCH_RUNS (7) rounds of BENCH_STREAMS (3000)
// Run it with the Node to measure (e.g. Node 26); BENCH_WRITE=1 writes bench/RESULTS.md's section.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { STEADY_NODE_FLAGS, callgrindIr, scaledCopy } from './lib/callgrindRun.mjs';
import { appsDir, fmt, loadCore, machine, machineLine, median, nodeOptions, preloadPath, runNode, writeSection } from './lib/common.mjs';

const startMachine = machine();
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const N = Number(process.env.BENCH_STREAMS ?? 3000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 300);
const CHECK = 'onClientStreamCreatedChannel';

const bundle = readFileSync(preloadPath, 'utf8');
if (!bundle.includes(`'${CHECK}'`) && !bundle.includes(`"${CHECK}"`)) throw new Error(`${preloadPath} has no ${CHECK} check`);
const scratch = mkdtempSync(join(tmpdir(), 'nettrace-h2bench-'));
const wrapperPath = join(scratch, 'preload.cjs');
writeFileSync(wrapperPath, bundle.replace(new RegExp(`(['"])${CHECK}\\1`), '"no such channel (bench: wrapper path)"'));
const rulesBeside = join(dirname(preloadPath), 'rules.cjs');
if (existsSync(rulesBeside)) copyFileSync(rulesBeside, join(scratch, 'rules.cjs'));
const CLOCK = process.argv.includes('--clock');

const body = Buffer.alloc(200, 'x');
const server = http2.createServer();
server.on('stream', (stream) => {
  stream.respond({ ':status': 200, 'content-type': 'text/plain' });
  stream.end(body);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}`;
const core = loadCore();
const collector = await core.startCollector({ description: 'http2-channel' });
const config = JSON.stringify({ ipcPath: collector.ipcPath });
const conditions = [
  { name: 'untraced', env: {} },
  { name: 'channel', env: { NODE_OPTIONS: nodeOptions([preloadPath]), NETTRACE_CONFIG: config } },
  { name: 'wrapper', env: { NODE_OPTIONS: nodeOptions([wrapperPath]), NETTRACE_CONFIG: config } },
];
const table = CLOCK ? await clockRounds() : await instructionCounts();
server.close();
await collector.close?.();
console.log(table.join('\n'));
if (process.env.BENCH_WRITE === '1') {
  writeSection('Channels instead of wrappers (issue 35 item 2)', [machineLine(startMachine, machine()), '', ...table].join('\n'));
}
process.exit(0);

async function clockRounds() {
  const cpu = new Map(conditions.map((c) => [c.name, []]));
  for (let round = 0; round < RUNS; round++) {
    for (let i = 0; i < conditions.length; i++) {
      const c = conditions[(i + round) % conditions.length];
      const r = await runNode([join(appsDir, 'h2-client.cjs'), url, String(N), String(WARMUP)], { env: c.env }).done;
      const line = r.lines.find((l) => l.cpuMs !== undefined);
      if (!line || r.code !== 0) throw new Error(`${c.name}: ${r.stderr}`);
      cpu.get(c.name).push(line.cpuMs);
    }
    process.stderr.write(`round ${round + 1}/${RUNS}\n`);
  }
  const m = (name) => median(cpu.get(name));
  const per = (x) => (x * 1000) / N;
  const [u, ch, wr] = [m('untraced'), m('channel'), m('wrapper')];
  const spread = (name) => `${fmt(Math.min(...cpu.get(name)), 0)}–${fmt(Math.max(...cpu.get(name)), 0)}`;
  return [
    `| condition | client CPU ms (median of ${RUNS}, min–max) | µs/stream over untraced |`,
    '|---|---:|---:|',
    `| untraced | ${fmt(u, 0)} (${spread('untraced')}) | — |`,
    `| channel (\`http2.client.stream.created\`) | ${fmt(ch, 0)} (${spread('channel')}) | ${fmt(per(ch - u), 1)} |`,
    `| wrapper (\`ClientHttp2Session.prototype.request\`) | ${fmt(wr, 0)} (${spread('wrapper')}) | ${fmt(per(wr - u), 1)} |`,
    '',
    `channel − wrapper: ${fmt(per(ch - wr), 2)} µs/stream (${N} sequential GET streams of 200 B over one session, Node ${process.version}).`,
  ];
}

async function instructionCounts() {
  const SMALL = Number(process.env.BENCH_SMALL ?? 200);
  const LARGE = Number(process.env.BENCH_LARGE ?? 1200);
  const scaled = (p, name) => scaledCopy(p, 1_000_000, join(scratch, name));
  const irs = new Map();
  for (const c of conditions) {
    const env = { ...process.env, ...c.env };
    delete env.NODE_OPTIONS;
    delete env.NETTRACE_CONFIG;
    if (c.name !== 'untraced') {
      env.NODE_OPTIONS = nodeOptions([scaled(c.name === 'channel' ? preloadPath : wrapperPath, c.name)]);
      env.NETTRACE_CONFIG = config;
    }
    const at = [];
    for (const n of [SMALL, LARGE]) {
      const r = await callgrindIr([...STEADY_NODE_FLAGS, join(appsDir, 'h2-client.cjs'), url, String(n), '50'], env);
      at.push(r.ir);
      process.stderr.write(`${c.name} ${n}: ${r.ir} Ir (${r.seconds} s)\n`);
    }
    irs.set(c.name, (at[1] - at[0]) / (LARGE - SMALL));
  }
  const [u, ch, wr] = ['untraced', 'channel', 'wrapper'].map((n) => irs.get(n));
  return [
    '| condition | Ir per stream | over untraced |',
    '|---|---:|---:|',
    `| untraced | ${fmt(u, 0)} | — |`,
    `| channel (\`http2.client.stream.created\`) | ${fmt(ch, 0)} | ${fmt(ch - u, 0)} |`,
    `| wrapper (\`ClientHttp2Session.prototype.request\`) | ${fmt(wr, 0)} | ${fmt(wr - u, 0)} |`,
    '',
    `channel − wrapper: ${fmt(ch - wr, 0)} Ir per stream (${fmt((100 * (ch - wr)) / (wr - u), 1)}% of the wrapper path's cost over untraced); callgrind, ${SMALL} and ${LARGE} sequential GET streams of 200 B over one session, Node ${process.version}.`,
  ];
}
