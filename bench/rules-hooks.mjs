// Issue 16, trace rules in the preload's hooks (not the engine alone, see bench/rules.mjs): what a
// request costs the program with
//   (a) a rule set that skips every request, against the "bare hooks" (bench/apps/bare-hooks.cjs:
//       the same observation points with nothing behind them); floor: skip-all ≤ bare + 3 µs;
//   (b) 1, 10 and 100 enabled rules that match nothing (every request is read against them and
//       recorded), and 1 what-if rule that matches nothing (issue 51), against the preload without rules;
//   (c) a `details` rule (bodies) on 1% of requests, against bodies on for all (the `bodies`
//       option) and against neither, on 10 KiB responses.
// Workloads: the bench client (bench/apps/client.mjs --numbered: `?n=K` on each URL), http and
// fetch, sequential over one keep-alive connection.
//
// Two measures of each condition, both per request:
//   - instructions (primary): the client under `valgrind --tool=callgrind` with `--small` and
//     `--large` timed requests; Ir per request = the difference / (large − small). Load does not
//     move it (bench/callgrind.mjs's header: single-threaded V8, the preload's timers scaled so
//     none fires). Converted to µs with 5,300 Ir per µs of CPU, the ratio bench/RESULTS.md
//     ("Default path in instructions — issue 12") measured on this machine when it was quiet.
//   - CPU: the client's user + system CPU over its timed part (`--cpu-requests` requests after 200
//     warm-up), median of `--cpu-runs` runs taken in rotation; moves with the machine's load.
//
//   node bench/rules-hooks.mjs [--small=200] [--large=1000] [--warmup=300] [--jobs=2]
// (100/500 after 100 warm-up could not resolve a 3 µs difference: two bare-hooks runs differed by
// ~22,000 Ir per request; 200/1000 after 300 keeps two runs of one build within ~3,200.)
//                              [--cpu-runs=7 (0: none)] [--cpu-requests=2000] [--no-callgrind]
//                              [--ir-from=FILE (an earlier run's stderr)] [--only=KEY,...] [--clients=...]
//                              [--no-write]
// Writes its section of test-results/bench/runs.md unless --no-write (or BENCH_QUICK=1, fewer runs).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callgrindIr, scaledCopy, STEADY_NODE_FLAGS } from './lib/callgrindRun.mjs';
import {
  appsDir,
  loadCore,
  machine,
  machineLine,
  median,
  nodeOptions,
  preloadPath,
  QUICK,
  runNode,
  startServer,
  writeSection,
} from './lib/common.mjs';
import { typicalRuleObjects } from './lib/ruleSets.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? Number(a.slice(name.length + 3)) : def;
};
const small = opt('small', QUICK ? 20 : 200);
const large = opt('large', QUICK ? 60 : 1000);
const warmup = opt('warmup', QUICK ? 20 : 300);
const jobs = opt('jobs', 2);
const cpuRuns = opt('cpu-runs', QUICK ? 2 : 7);
const cpuRequests = opt('cpu-requests', QUICK ? 200 : 2000);
const withCallgrind = !args.includes('--no-callgrind');
// --ir-from=FILE: the instruction counts of an earlier run (its stderr) instead of new callgrind runs.
const irFrom = args.find((a) => a.startsWith('--ir-from='))?.slice('--ir-from='.length);
// --only=key,key (CONDITIONS keys, in this order) --clients=http,fetch: callgrind runs for these only
// (to spread a measurement over several processes; combine their stderr with --ir-from).
const listOpt = (name) =>
  args
    .find((a) => a.startsWith(`--${name}=`))
    ?.slice(name.length + 3)
    .split(',');
const onlyKeys = listOpt('only');
const onlyClients = listOpt('clients');
const write = !args.includes('--no-write') && (!QUICK || args.includes('--write'));
const SECTION = 'Trace rules in the hooks — issue 16';
/** Ir per µs of CPU on this machine, quiet (bench/RESULTS.md, "Default path in instructions — issue 12"). */
const IR_PER_US = 5300;
const FLOOR_US = 3;

const rules = (list, extra = {}) => ({ rules: list, rulesVersion: 0, ...extra });
const BARE = join(appsDir, 'bare-hooks.cjs');
/** The conditions: `preload` null = untraced; `config` is merged into NETTRACE_CONFIG. */
const CONDITIONS = {
  untraced: { label: 'untraced', preload: null },
  bare: { label: 'bare hooks (bench/apps/bare-hooks.cjs)', preload: BARE },
  default: { label: 'Net Trace, no rules', preload: preloadPath },
  skipAll: {
    label: 'Net Trace, skip-all (`skip true`)',
    preload: preloadPath,
    config: rules([{ id: 'all', condition: 'true', action: 'skip', enabled: true }]),
  },
  rules1: { label: 'Net Trace, 1 rule (none matching)', preload: preloadPath, config: rules(typicalRuleObjects(1)) },
  whatIf1: {
    label: 'Net Trace, 1 what-if rule (none matching: `fail` refused on another host)',
    preload: preloadPath,
    config: rules([{ id: 'w0', condition: 'host == "payments0.example.com"', action: 'fail', fail: 'refused', enabled: true }]),
  },
  rules10: { label: 'Net Trace, 10 rules (none matching)', preload: preloadPath, config: rules(typicalRuleObjects(10)) },
  rules100: { label: 'Net Trace, 100 rules (none matching)', preload: preloadPath, config: rules(typicalRuleObjects(100)) },
  default10k: { label: 'Net Trace, no rules', preload: preloadPath },
  details1: {
    label: 'Net Trace, `details` (bodies) on 1% (`query.n endsWith "00"`)',
    preload: preloadPath,
    config: rules([{ id: 'one-pct', condition: 'query.n endsWith "00"', action: 'details', details: ['bodies'], enabled: true }]),
  },
  bodiesAll: { label: 'Net Trace, bodies on all (`bodies: true`)', preload: preloadPath, config: { bodies: true } },
};
/** The rows: each a baseline and the conditions compared with it, on one path. */
const GROUPS = [
  { title: '(a) skip-all vs bare hooks', path: '/', base: 'bare', rows: ['untraced', 'bare', 'skipAll', 'default'], floor: 'skipAll' },
  { title: '(b) rules read per request', path: '/', base: 'default', rows: ['default', 'rules1', 'whatIf1', 'rules10', 'rules100'] },
  {
    title: '(c) details on 1% vs bodies on all (10 KiB responses)',
    path: '/10k',
    base: 'default10k',
    rows: ['default10k', 'details1', 'bodiesAll'],
  },
];
const CLIENTS = ['http', 'fetch'];

const core = loadCore();
const server = await startServer();
const collector = await core.startCollector({ description: 'rules-hooks bench' });
const scratch = mkdtempSync(join(tmpdir(), 'nettrace-rules-hooks-'));
// Copies of the bundles taken now, so a rebuild while the benchmark runs does not change them.
const benchPreload = scaledCopy(preloadPath, 1, join(scratch, 'as-built'));
const scaledPreload = scaledCopy(preloadPath, 1_000_000, join(scratch, 'scaled'));
const m0 = machine();

const pathOf = (key) => GROUPS.find((g) => g.rows.includes(key)).path;
function envFor(key, scaled) {
  const c = CONDITIONS[key];
  if (c.preload === null) return {};
  const preload = c.preload === preloadPath ? (scaled ? scaledPreload : benchPreload) : c.preload;
  return {
    NODE_OPTIONS: nodeOptions([preload]),
    NETTRACE_CONFIG: JSON.stringify({ ipcPath: collector.ipcPath, ...(c.config ?? {}) }),
  };
}
const clientArgs = (client, key, n, warm) => [
  join(appsDir, 'client.mjs'),
  client,
  'seq',
  String(n),
  '1',
  String(warm),
  new URL(pathOf(key), server.url).href,
  '--numbered',
];

/** Ir per request of every (client, condition), by callgrind at two sizes. */
async function instructions() {
  const tasks = [];
  for (const key of onlyKeys ?? Object.keys(CONDITIONS))
    for (const client of onlyClients ?? CLIENTS) for (const n of [small, large]) tasks.push({ client, key, n });
  const ir = new Map();
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const { client, key, n } = tasks[next++];
      const env = { ...process.env, ...envFor(key, true) };
      if (CONDITIONS[key].preload === null) {
        delete env.NODE_OPTIONS;
        delete env.NETTRACE_CONFIG;
      }
      const r = await callgrindIr([...STEADY_NODE_FLAGS, ...clientArgs(client, key, n, warmup)], env);
      ir.set(`${client}/${key}/${n}`, r.ir);
      console.error(JSON.stringify({ client, key, requests: n, ir: r.ir, seconds: r.seconds }));
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  return perRequest(ir);
}

/** Ir per request of each (client, condition) from the totals at the two sizes. */
function perRequest(ir) {
  const per = new Map();
  for (const client of CLIENTS)
    for (const key of Object.keys(CONDITIONS))
      per.set(`${client}/${key}`, (ir.get(`${client}/${key}/${large}`) - ir.get(`${client}/${key}/${small}`)) / (large - small));
  return per;
}

/** The totals an earlier run printed on stderr (one JSON line per callgrind run), for --ir-from. */
function irFromFile(file) {
  const ir = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const o = JSON.parse(line);
    if (o.ir !== undefined) ir.set(`${o.client}/${o.key}/${o.requests}`, o.ir);
  }
  return ir;
}

/** Median client CPU µs per request of every (client, condition), runs in rotation. */
async function cpu() {
  const samples = new Map();
  for (let run = 0; run < cpuRuns; run++) {
    for (const client of CLIENTS) {
      for (const key of Object.keys(CONDITIONS)) {
        let line;
        const { child, done } = runNode(clientArgs(client, key, cpuRequests, 200), {
          env: envFor(key, false),
          onLine: (o) => (line ??= o),
        });
        child.stdin.end();
        const r = await done;
        if (r.code !== 0 || !line || line.failures) throw new Error(`${client} ${key}: client failed: ${r.stderr.slice(-500)}`);
        const k = `${client}/${key}`;
        if (!samples.has(k)) samples.set(k, []);
        samples.get(k).push((line.cpuMs * 1000) / cpuRequests);
      }
    }
  }
  return new Map([...samples].map(([k, xs]) => [k, median(xs)]));
}

let irPer;
let cpuPer;
try {
  cpuPer = cpuRuns > 0 ? await cpu() : new Map();
  if (irFrom) irPer = perRequest(irFromFile(irFrom));
  else if (withCallgrind) irPer = await instructions();
} finally {
  await collector.close();
  await server.stop();
}
const m1 = machine();

const n0 = (x) => Math.round(x).toLocaleString('en-US');
/** A CPU cell, or "—" when the CPU runs were not made (--cpu-runs=0). */
const fmtCpu = (text) => (text.includes('NaN') ? '—' : text);
const sign = (x, d = 1) => (x >= 0 ? '+' : '−') + Math.abs(x).toFixed(d);
const lines = [];
lines.push(`Machine: ${machineLine(m0, m1)}`);
lines.push('');
lines.push(
  `Run: \`node bench/rules-hooks.mjs\` (in \`npm run bench\`). The bench client (\`bench/apps/client.mjs --numbered\`), http and fetch, sequential over one keep-alive connection, to the bench server in its own process. **Instructions** (the primary measure, load-independent): the client under \`valgrind --tool=callgrind\` (single-threaded V8, the preload's timers scaled ×1,000,000 as in \`bench/callgrind.mjs\`), ${warmup} warm-up then ${small} and ${large} timed requests; Ir per request = the difference / ${large - small}; µs = Ir / ${n0(IR_PER_US)} (Ir per µs of CPU measured on this machine when quiet, section "Default path in instructions — issue 12"). Two runs of one program differ by up to ~0.4%, about ±${n0((0.004 * 1.5e9) / (large - small))} Ir per request at this difference. **CPU**: the client's user + system CPU over ${cpuRequests} timed requests (200 warm-up), median of ${cpuRuns} runs taken in rotation, unscaled bundles; the machine is shared (load above), so these move by tens of µs.`,
);
for (const g of GROUPS) {
  lines.push('');
  lines.push(`### ${g.title}`);
  lines.push('');
  lines.push(`Baseline: ${CONDITIONS[g.base].label}, path \`${g.path}\`.`);
  lines.push('');
  lines.push(
    '| client | condition | Ir per request | over baseline, Ir | over baseline, µs (Ir ÷ 5,300) | Ir ratio | CPU µs/request (median) | CPU over baseline, µs | CPU ratio |',
  );
  lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const client of CLIENTS) {
    const baseIr = irPer?.get(`${client}/${g.base}`);
    const baseCpu = cpuPer.get(`${client}/${g.base}`) ?? NaN;
    for (const key of g.rows) {
      const ir = irPer?.get(`${client}/${key}`);
      const c = cpuPer.get(`${client}/${key}`) ?? NaN;
      const isBase = key === g.base;
      const irCells =
        !Number.isFinite(ir) || !Number.isFinite(baseIr)
          ? [Number.isFinite(ir) ? n0(ir) : 'not measured', '—', '—', '—']
          : [
              n0(ir),
              isBase ? '—' : sign(ir - baseIr, 0).replace(/\.0$/, ''),
              isBase ? '—' : sign((ir - baseIr) / IR_PER_US, 2),
              `${(ir / baseIr).toFixed(3)}×`,
            ];
      let label = CONDITIONS[key].label;
      if (g.floor === key && Number.isFinite(ir) && Number.isFinite(baseIr)) {
        const over = (ir - baseIr) / IR_PER_US;
        // This window holds V8's compilation of the rule and hook code (a one-time cost per process):
        // the verdict is this window's; the floor is judged once compiled (bench/RESULTS.md, below it).
        const floor = `floor: ≤ bare + ${FLOOR_US} µs; this window, compilation included`;
        label += over <= FLOOR_US ? ` ✓ (${floor})` : ` ✗ over (${floor})`;
      }
      lines.push(
        `| ${client} | ${label} | ${irCells.join(' | ')} | ${fmtCpu(c.toFixed(1))} | ${isBase ? '—' : fmtCpu(sign(c - baseCpu))} | ${fmtCpu(`${(c / baseCpu).toFixed(2)}×`)} |`,
      );
    }
  }
}
const body = lines.join('\n') + '\n';
console.log(body);
if (write) writeSection(SECTION, body);
