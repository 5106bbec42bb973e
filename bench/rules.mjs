// Issue 16, trace rules: what deciding a request costs in the preload's hot path — the rule
// engine's start() (and end() where a rule needs the end of the request) per request, with 0, 1,
// 10 and 100 enabled rules of the usual kinds (host, path glob, method; a few on query, header,
// regex). Pure CPU in one process: no hooks, no I/O. Each row: median of 9 runs of 200,000
// requests (after a warm-up run), CPU nanoseconds per request, including building the request view
// object the preload would pass (a fresh object per request, 64 different requests in rotation).
//
//   node bench/rules.mjs             prints the table and writes its section of test-results/bench/runs.md
//   node bench/rules.mjs --no-write  prints only
//   BENCH_QUICK=1 node bench/rules.mjs   fewer, shorter runs; runs file untouched
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { machine, machineLine, resultsPath, root, QUICK, writeResults } from './lib/common.mjs';
import { typicalRuleObjects } from './lib/ruleSets.mjs';

const rulesPath = join(root, 'dist', 'rules.cjs');
if (!existsSync(rulesPath)) throw new Error(`${rulesPath} is missing: run \`node scripts/build.mjs\` first`);
const { RuleEngine, validateRules } = createRequire(import.meta.url)(rulesPath);

const SECTION = 'Trace rules: condition evaluation — issue 16';
const N = QUICK ? 20_000 : 200_000;
const RUNS = QUICK ? 3 : 9;
const proc = { pid: process.pid, threadId: 0, command: 'node app.js' };

// 64 requests of a service talking to a handful of APIs; none is on a host the rules name unless a row says so.
const HOSTS = [
  'api.example.com',
  'auth.example.com',
  'cdn.example.net',
  'db-proxy.internal',
  '10.0.0.12',
  'payments.example.org',
  'search.example.com',
  'files.example.com',
];
const PATHS = [
  '/v1/users/42',
  '/v1/orders?page=2&size=50',
  '/health',
  '/v2/search?q=node%20http',
  '/static/app.js',
  '/v1/users/42/avatar',
  '/oauth/token',
  '/v1/items/7?fields=a,b',
];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'GET', 'PUT', 'POST', 'DELETE'];
const POOL = Array.from({ length: 64 }, (_, k) => [METHODS[k % 8], HOSTS[(k >> 3) % 8], PATHS[(k * 5) % 8]]);
const headers = { 'content-type': 'application/json', 'user-agent': 'bench/1.0', 'x-request-id': 'r-1' };
const header = (n) => headers[n];

/** The view a hook would build for request k (a fresh object each time, as in the preload). */
const view = (k) => {
  const [method, host, target] = POOL[k & 63];
  return { method, scheme: 'https', host, port: 443, target, client: 'https', header };
};

/** n rules of the usual shapes (cycling through ten), none matching the pool. */
function typicalRules(n) {
  return validateRules(typicalRuleObjects(n));
}

/** ns per request of `step(k)` over N requests: median of RUNS runs after a warm-up run. */
function measure(step) {
  let sink = 0;
  // CPU time of this process (user + system), not wall time: the box is shared, and a busy
  // neighbour stretches wall time without this code doing more work.
  const once = () => {
    const t0 = process.cpuUsage();
    for (let k = 0; k < N; k++) sink += step(k);
    const t = process.cpuUsage(t0);
    return ((t.user + t.system) * 1000) / N;
  };
  once();
  const runs = Array.from({ length: RUNS }, once).sort((a, b) => a - b);
  if (sink === -1) console.log('');
  return { median: runs[RUNS >> 1], min: runs[0], max: runs[RUNS - 1] };
}

const engineFor = (rules, opts = {}) => new RuleEngine(rules, { process: proc, ...opts });
const startOnly = (e) => (k) => (e.start(view(k)).record ? 1 : 0);
const startEnd = (e) => (k) => {
  const d = e.start(view(k));
  if (!d.pending) return d.record ? 1 : 0;
  return e.end(d, { status: k % 50 === 0 ? 503 : 200, error: null, durationMs: 12 }).keep ? 1 : 0;
};

const rows = [];
let compileMs = 0;
const row = (name, note, step) => {
  const r = measure(step);
  rows.push({ name, note, ...r });
  console.error(`${name}: ${r.median.toFixed(1)} ns/request (min ${r.min.toFixed(1)}, max ${r.max.toFixed(1)})`);
};

const none = engineFor([]);
row('loop + request view only', "the benchmark's own cost: building the view object, no engine", (k) => (view(k).port === 443 ? 1 : 0));
row('no rules: `engine.mode` check', "the preload's fast path: one property read, no view, no call", () => (none.mode === 'all' ? 1 : 0));
row('no rules: start() called anyway', 'view built and start() called; returns the shared trace-all decision', startOnly(none));
for (const n of [1, 10, 100])
  row(
    `${n} rule${n > 1 ? 's' : ''}, none matching`,
    n === 1
      ? 'host == "telemetry0…": a host rule, left out by the host index'
      : `${n === 10 ? 'one of each shape' : 'the ten shapes ten times'}; the host-indexed ones (3 in 10) are left out, the others read for every request`,
    startOnly(engineFor(typicalRules(n))),
  );
const hostRules = (n) =>
  validateRules(
    Array.from({ length: n }, (_, k) => ({
      id: `h${k}`,
      action: k % 2 ? 'skip' : 'details',
      condition: `host == "svc${k}.internal"${k % 3 ? ` and path ~ "/api/**"` : ''}`,
      enabled: true,
    })),
  );
row(
  '100 host rules, none for this host',
  'host == "svcK.internal" [and path glob]: the host index leaves no rule to read',
  startOnly(engineFor(hostRules(100))),
);
row(
  '100 host rules, 1 for this host',
  "the same, plus one rule for the request's host (1/8 of requests)",
  startOnly(
    engineFor([...hostRules(99), ...validateRules([{ id: 'own', action: 'mark', condition: 'host == "api.example.com"', enabled: true }])]),
  ),
);
const skipFirst = validateRules([{ id: 'skipAll', action: 'skip', condition: 'host ~ "*"', enabled: true }, ...typicalRules(99)]);
row('100 rules, the first (skip) matching', 'skip host ~ "*" first: decided by rule 1', startOnly(engineFor(skipFirst)));
row(
  'skip one host (1 rule, matching 1/8 of requests)',
  'skip host == "api.example.com"',
  startOnly(engineFor(validateRules([{ id: 's', action: 'skip', condition: 'host == "api.example.com"', enabled: true }]))),
);
row(
  '1 regex rule',
  'path =~ /^\\/v\\d+\\/users\\/\\d+$/ (the linear-time matcher)',
  startOnly(engineFor(validateRules([{ id: 'x', action: 'mark', condition: 'path =~ /^\\/v\\d+\\/users\\/\\d+$/', enabled: true }]))),
);
row(
  '1 end rule: start() + end()',
  'details failed or statusClass == 5xx (bodies kept for 2%)',
  startEnd(engineFor(validateRules([{ id: 'f', action: 'details', condition: 'failed or statusClass == 5xx', enabled: true }]))),
);
row(
  'default skip + 1 trace rule',
  'defaultAction "skip", trace host == "api.example.com"',
  startOnly(
    engineFor(validateRules([{ id: 't', action: 'trace', condition: 'host == "api.example.com"', enabled: true }]), {
      defaultAction: 'skip',
    }),
  ),
);

// Compiling: what a process pays once per rule-set change (RuleEngine.setRules on 100 typical rules).
{
  const list = typicalRules(100);
  const e = engineFor([]);
  const times = [];
  for (let k = 0; k < (QUICK ? 5 : 21); k++) {
    const t0 = process.cpuUsage();
    e.setRules(list.map((r) => ({ ...r, id: `${r.id}-${k}` }))); // new ids: compiled afresh
    const t = process.cpuUsage(t0);
    times.push((t.user + t.system) / 1000);
  }
  times.sort((a, b) => a - b);
  compileMs = times[times.length >> 1];
  console.error(`compile 100 rules: ${compileMs.toFixed(2)} ms`);
}

const m = machine();
let cpuName = m.cpu;
try {
  const line = readFileSync('/proc/cpuinfo', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('model name'));
  if (line) cpuName = line.split(':')[1].trim();
} catch {}
const body = [
  `Machine: ${machineLine({ ...m, cpu: cpuName })}`,
  '',
  `Run: \`node bench/rules.mjs\` (after \`node scripts/build.mjs\`). Pure CPU in one process (no hooks, no I/O): the rule`,
  `engine's \`start()\` per request (and \`end()\` where a rule needs the end), process CPU time (user + system, not wall time), median of ${RUNS} runs of ${N.toLocaleString('en-US')} requests`,
  'after a warm-up run. Each request builds a fresh view object (64 different requests in rotation: 8 hosts, 8 paths,',
  'GET/POST/PUT/DELETE) as a hook would. "Typical" rules cycle through ten shapes: host ==, host + path glob, path glob +',
  'method, host glob, method + path startsWith, host in [...] or port, query.<key>, header.<name>, path =~ /regex/,',
  'not scheme + host; none matches the pool. Rules naming their host (host ==, host + path, not scheme + host) are left',
  'out by the host index for requests to other hosts; the others are read for every request.',
  '',
  '| condition | ns/request (median) | min–max | what |',
  '|---|---:|---:|---|',
  ...rows.map((r) => `| ${r.name} | ${r.median.toFixed(1)} | ${r.min.toFixed(1)}–${r.max.toFixed(1)} | ${r.note} |`),
  '',
  'Reading: "no rules" is what the preload pays when no rule is enabled (it reads `engine.mode` and carries on). With',
  'rules, every request pays a fixed part (a facts object over the view, the host index lookup, the decision object:',
  'the "1 rule" and "100 host rules, none for this host" rows, whose host rules the index skips) plus each rule it reads.',
  'The "none matching" rows read every rule the index keeps for every request, the worst case of a rule list; the issue\'s',
  'budget for a skipped request is the bare hooks + 3 µs, of which the decision is the rows above.',
  '',
  ...(m.loadavg[0] > m.nproc
    ? [
        `The load average was above nproc (other work shared the box): CPU time is steadier than wall time but still`,
        'moves, and rows doing the same work (the two single host-rule rows) can differ by ~100 ns between runs.',
        '',
      ]
    : []),
  `Compiling 100 typical rules (\`RuleEngine.setRules\`, once per rule-set change in each process): ${compileMs.toFixed(2)} ms CPU (median of ${QUICK ? 5 : 21}).`,
  '',
].join('\n');
console.log(body);

if (!process.argv.includes('--no-write') && !QUICK) {
  const heading = `## ${SECTION}`;
  const text = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : '# Benchmark runs\n';
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  const block = [heading, '', ...body.trim().split('\n'), ''];
  let out;
  if (start < 0) out = `${text.replace(/\n*$/, '\n\n')}${block.join('\n')}`;
  else {
    let end = lines.findIndex((l, i) => i > start && /^## /.test(l));
    if (end < 0) end = lines.length;
    out = [...lines.slice(0, start), ...block, ...lines.slice(end)].join('\n');
  }
  writeResults(out.replace(/\n*$/, '\n'));
  console.error(`wrote test-results/bench/runs.md (section "${SECTION}")`);
}
