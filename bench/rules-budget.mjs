// Issue 34 item 5, the rule set's budget: what one decision costs with the worst rule sets the
// budget accepts (src/rules/budget.ts), on a 4,096-character URL built against them. Each set sits
// just under MAX_DECISION_STEPS in one kind of cost (patterns as DFAs, patterns too large for a
// DFA, globs by the wildcard algorithm, `contains`, plain comparisons, rules for one host among
// 3,000) and is checked to be accepted; the same set one rule larger is checked to be refused.
// The pathological sets of the issue (20 rules × 113 regexes; 50,000 small rules) are timed as
// they would cost if they were accepted (the old engine had no budget), on a shorter run.
//
// Each row: CPU time of RuleEngine.start() per decision (user + system, so a busy neighbour does
// not count), median and max of RUNS batches of BATCH decisions after a warm-up; and the set's
// compile time (RuleEngine constructor: every condition parsed and its patterns built).
//
//   node bench/rules-budget.mjs             prints the table and writes its section of test-results/bench/runs.md
//   node bench/rules-budget.mjs --no-write  prints only
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { machine, machineLine, root, QUICK, writeSection } from './lib/common.mjs';

const rules = createRequire(import.meta.url)(join(root, 'dist', 'rules.cjs'));
const { RuleEngine, validateRules, ruleSetCost, MAX_DECISION_STEPS, MAX_RULES } = rules;

const SECTION = 'Rules budget: worst accepted rule set per decision — issue 34';
const RUNS = QUICK ? 5 : 41;
const BATCH = 5;
const proc = { pid: process.pid, threadId: 0, command: 'node app.js' };

/** A request whose URL is 4,096 characters: host h.example.com, then `fill` repeated in the path. */
function view(fill, host = 'h.example.com') {
  const head = `https://${host}/`;
  const path = '/' + fill.repeat(Math.ceil(4096 / fill.length)).slice(0, 4096 - head.length);
  const url = head + path.slice(1);
  return { method: 'GET', scheme: 'https', host, port: 443, target: path, client: 'https', url, header: () => undefined };
}

const set = (conditions) => conditions.map((condition, k) => ({ id: `r${k}`, condition, action: 'skip', enabled: true }));

/** As many rules made by `make(k)` as fit under the budget (checked: one more is refused). */
function fill(make) {
  const each = ruleSetCost(validateRulesLoose([make(0)])).decisionSteps;
  const n = Math.min(MAX_RULES, Math.floor(MAX_DECISION_STEPS / each));
  const out = Array.from({ length: n }, (_, k) => make(k));
  validateRules(set(out)); // throws if not accepted
  let refused = false;
  try {
    validateRules(set([...out, make(n)]));
  } catch {
    refused = true;
  }
  if (!refused) throw new Error('a set one rule over the budget was accepted');
  return out;
}

/** The rules as validateRule makes them, without the set's budget (to find the edge). */
function validateRulesLoose(conditions) {
  return set(conditions).map((r) => rules.validateRule(r));
}

function cpuMs(f) {
  const t0 = process.cpuUsage();
  f();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1000;
}

/**
 * What loading the set costs a process that starts with it, as a preload does (validateRules with
 * the budget, then the engine), in a fresh process (nothing parsed or built before): CPU ms.
 */
function loadMs(list, accepted) {
  const code = `
    const r = require(${JSON.stringify(join(root, 'dist', 'rules.cjs'))});
    const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
    const t0 = process.cpuUsage();
    const list = ${accepted ? 'r.validateRules(input)' : 'input.map((x) => r.validateRule(x))'};
    new r.RuleEngine(list, { process: { pid: 1, threadId: 0, command: '' } });
    const t = process.cpuUsage(t0);
    console.log((t.user + t.system) / 1000);`;
  return Number(execFileSync(process.execPath, ['-e', code], { input: JSON.stringify(list), encoding: 'utf8' }).trim());
}

function measure(conditions, v, { accepted = true } = {}) {
  const list = accepted ? validateRules(set(conditions)) : validateRulesLoose(conditions);
  const compileMs = loadMs(list, accepted);
  const engine = new RuleEngine(list, { process: proc });
  for (let k = 0; k < 30; k++) engine.start(v);
  const runs = [];
  for (let r = 0; r < RUNS; r++)
    runs.push(
      cpuMs(() => {
        for (let k = 0; k < BATCH; k++) engine.start(v);
      }) / BATCH,
    );
  runs.sort((a, b) => a - b);
  const cost = ruleSetCost(list);
  const p90 = runs[Math.min(runs.length - 1, Math.floor(runs.length * 0.9))];
  return { rules: list.length, steps: cost.decisionSteps, compileMs, median: runs[runs.length >> 1], p90, max: runs[runs.length - 1] };
}

const rows = [];
function row(name, conditions, v, note, opts) {
  const m = measure(conditions, v, opts);
  rows.push({ name, ...m, note });
  console.log(
    `${name.padEnd(58)} ${String(m.rules).padStart(5)} rules ${String(m.steps).padStart(6)} steps  ${m.median.toFixed(3)} ms (p90 ${m.p90.toFixed(3)}, max ${m.max.toFixed(3)})  load ${m.compileMs.toFixed(1)} ms`,
  );
}

// 1. Regexes as DFAs: unanchored (never dead), never matching, one table read per character.
row(
  'regexes (DFA), one per rule, on url',
  fill((k) => `url =~ /(a|aa)*b${k}/`),
  view('a'),
  '`url =~ /(a|aa)*bK/`: never matches, never stops early',
);
row(
  'regexes (DFA), all in one rule, on url',
  [fill((k) => `url =~ /(a|aa)*b${k}/`).join(' or ')],
  view('a'),
  'the same patterns joined with `or` in one condition',
);
// 2. A regex too large for a DFA (2^9 subsets), simulated as an NFA with every state live.
// 3. Globs the wildcard algorithm matches (one kind of star, too many states for a DFA is rare; a
// mixed glob is an NFA): `*` globs whose last star retries at every character.
row(
  'globs with stars, on path',
  fill((k) => `path ~ "/*a*a*a*a*a*a*b${k}*"`),
  view('a'),
  '`/*a*a*a*a*a*a*bK*` on `/aaa…` (no literal tail to reject it early)',
);
// 4. contains: V8's substring search against a subject built to slow it.
row(
  'contains, on url',
  fill((k) => `url contains "ab${k}"`),
  view('a'),
  '`url contains "abK"` on `aaa…` (a short needle whose first character is everywhere: ~20 µs each, the slowest found)',
);
// 5. Plain comparisons: the most rules a decision can read.
row(
  'plain comparisons',
  fill((k) => `method == "M${k}"`),
  view('a'),
  '`method == "MK"`: one rule read per step',
);
// 6. 3,000 host rules: the request's host has many of them; the others cost nothing (the index).
{
  const forOthers = Array.from({ length: 3000 }, (_, k) => `host == "svc${k}.internal" and path ~ "/api/**"`);
  row(
    '3,000 host rules, none for this host',
    forOthers,
    view('a'),
    '`host == "svcK.internal" and path ~ "/api/**"`: the index leaves none to read',
  );
  const forThis = fill((k) => `host == "h.example.com" and path == "/p${k}"`);
  row('host rules, all for this host', [...forThis], view('a'), '`host == "h.example.com" and path == "/pK"`');
}
// 7. The issue's pathological sets, as the old engine ran them (refused now: timed unvalidated).
const patho = Array.from({ length: 113 }, (_, k) => `url =~ /(a?){100}a${k % 10}/`).join(' or ');
rows.push({ sep: true });
// The smallest kind of pattern too large for a DFA is over the budget alone (an NFA costs 4 × its
// states × 100 steps): timed as if accepted.
row(
  'refused: one regex too large for a DFA (NFA), on url',
  ['url =~ /(a|b)*a[ab][ab][ab][ab][ab][ab][ab][ab]c/'],
  view('ab'),
  '`(a|b)*a[ab]{8}c` written out: over 256 DFA states, so the NFA (17 states), on `abab…`; refused alone',
  { accepted: false },
);
row(
  'refused: 20 rules × 113 regexes (issue 34)',
  Array.from({ length: 20 }, () => patho),
  view('a'),
  'refused at load (decision budget); timed as if accepted',
  { accepted: false },
);

// In a traced program: the program's own http.request() call to a 4,096-character URL (the hooks
// decide inside it), through `nettrace run --rules FILE`, wall time (the machine is shared: medians).
const inProgram = [];
{
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const tmp = mkdtempSync(join(tmpdir(), 'nettrace-rules-budget-'));
  const cases = [
    ['no rules', null],
    (() => {
      const worst = fill((k) => `url =~ /(a|aa)*b${k}/`);
      return [`worst accepted: ${worst.length} DFA regexes on url`, set(worst)];
    })(),
    [
      '3,000 host rules (330 KB, through the rules file)',
      Array.from({ length: 3000 }, (_, k) => ({
        id: `svc-${k}`,
        name: `Skip the health checks of internal service number ${k} (generated for the rules budget bench)`,
        condition: `host == "svc${k}.internal.example.com" and path ~ "/health/**"`,
        action: 'skip',
        enabled: true,
      })),
    ],
  ];
  try {
    for (const [name, list] of cases) {
      const args = [join(root, 'dist', 'cli.cjs'), 'run', '--quiet', '--out', join(tmp, 'trace.json')];
      if (list !== null) {
        writeFileSync(join(tmp, 'rules.json'), JSON.stringify(list));
        args.push('--rules', join(tmp, 'rules.json'));
      }
      const t0 = performance.now();
      const out = execFileSync(
        process.execPath,
        [...args, '--', process.execPath, join(root, 'bench', 'apps', 'rules-budget-client.cjs')],
        {
          encoding: 'utf8',
          env: { ...process.env, NT_N: QUICK ? '10' : '60' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      const wallMs = performance.now() - t0;
      const res = JSON.parse(out.trim().split('\n').pop());
      const at = (xs, q) => xs[Math.min(xs.length - 1, Math.floor(xs.length * q))];
      const wall = res.callMs.sort((a, b) => a - b);
      const cpu = res.cpuMs.sort((a, b) => a - b);
      const r = { name, median: at(cpu, 0.5), p90: at(cpu, 0.9), wall: at(wall, 0.5), wallP90: at(wall, 0.9), runMs: wallMs };
      inProgram.push(r);
      console.log(
        `in a program: ${name.padEnd(50)} http.request() CPU ${r.median.toFixed(3)} ms (p90 ${r.p90.toFixed(3)}), wall ${r.wall.toFixed(3)} (p90 ${r.wallP90.toFixed(3)}); whole run ${wallMs.toFixed(0)} ms`,
      );
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

const m = machine();
const table = [
  '| rule set (the worst of its kind the budget accepts) | rules | steps | ms per decision (median) | p90 | max | load (ms) | how |',
  '|---|---:|---:|---:|---:|---:|---:|---|',
  ...rows
    .filter((r) => !r.sep)
    .map(
      (r) =>
        `| ${r.name} | ${r.rules} | ${r.steps} | ${r.median.toFixed(3)} | ${r.p90.toFixed(3)} | ${r.max.toFixed(3)} | ${r.compileMs.toFixed(1)} | ${r.note} |`,
    ),
];
const accepted = rows.filter((r) => !r.sep && !r.name.startsWith('refused'));
const worst = Math.max(...accepted.map((r) => r.median));
const worstP90 = Math.max(...accepted.map((r) => r.p90));
const body = `Run: \`node bench/rules-budget.mjs\` (after \`node scripts/build.mjs\`). ${machineLine(m)}.

RuleEngine.start() on a 4,096-character URL built against each set: CPU time per decision (user + system), median
and max of ${RUNS} batches of ${BATCH} decisions after 30 warm-up decisions; load: what a process starting with the
set pays, as a preload does (validateRules with the budget, then the engine: every condition parsed once, patterns
built), CPU time in a fresh process. Budget: ${MAX_DECISION_STEPS.toLocaleString('en-US')} steps per decision, ${MAX_RULES.toLocaleString('en-US')} rules per set
(src/rules/budget.ts); each set is the largest of its kind that the budget accepts (one more rule is refused).

${table.join('\n')}

In a traced program (\`nettrace run --rules FILE -- node bench/apps/rules-budget-client.cjs\`): the program's own
\`http.request()\` call to a 4,096-character URL on a local keep-alive server (the hooks decide inside it): CPU time
of the process during the call (\`process.cpuUsage\`, 1 µs resolution; V8's helper threads included) and wall time,
median and 90th percentile of ${QUICK ? 10 : 60} calls after 20; "whole run": \`nettrace run\` start to exit
(collector, program start with the set compiled, 80 requests, trace written), wall time.

| rules | http.request() CPU (ms, median) | CPU p90 | wall (ms, median) | wall p90 | whole run (ms) |
|---|---:|---:|---:|---:|---:|
${inProgram.map((r) => `| ${r.name} | ${r.median.toFixed(3)} | ${r.p90.toFixed(3)} | ${r.wall.toFixed(3)} | ${r.wallP90.toFixed(3)} | ${r.runMs.toFixed(0)} |`).join('\n')}

**Worst accepted rule set, 4,096-char URL: ${worst.toFixed(3)} ms per decision** (the highest median above; its
90th percentile: ${worstP90.toFixed(3)} ms). The max column holds the batches a garbage collection or a neighbour's load
fell into (CPU time counts V8's helper threads).
`;
console.log(`\nworst accepted: ${worst.toFixed(3)} ms per decision (median; p90 ${worstP90.toFixed(3)})`);
if (!process.argv.includes('--no-write') && !QUICK) writeSection(SECTION, body);
