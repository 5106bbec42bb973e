// covers: src/rules/budget.ts, src/cli/rulesCommand.ts
// Rule sets and their cost (issue 34 item 5, docs/rules.md "Rules budget"): a large rule set
// (3,000 host rules, over 330 KB) no longer travels in the environment, so `nettrace run --rules`
// starts the program (it failed with `spawn E2BIG`), and a rule deep in the set applies to the
// program's requests and to those of a child it starts; a pathological set is refused at load with
// the budget named.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, root, run, runTraced } from './harness.mjs';

let dir;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nettrace-rules-budget-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** 3,000 host rules (over 330 KB as JSON); rule 2,900 marks the program's /deep requests. */
function bigRules() {
  const rules = Array.from({ length: 3000 }, (_, k) => ({
    id: `svc-${String(k).padStart(4, '0')}`,
    name: `Skip the health checks of internal service number ${k} (generated for the rules budget test)`,
    condition: `host == "svc${k}.internal.example.com" and path ~ "/health/**"`,
    action: 'skip',
    enabled: true,
  }));
  rules[2900] = {
    id: 'deep',
    name: 'Mark the deep requests (rule 2,900 of 3,000)',
    condition: 'host == "127.0.0.1" and path startsWith "/deep"',
    action: 'mark',
    tag: 'deep',
    enabled: true,
  };
  return rules;
}

test('nettrace run --rules with 3,000 host rules (≥ 330 KB) starts the program; a rule deep in the set applies, in a child too', async () => {
  const file = join(dir, 'big.json');
  writeFileSync(file, JSON.stringify(bigRules(), null, 1));
  assert.ok(statSync(file).size >= 330 * 1024, `the rules file is ${statSync(file).size} bytes`);
  const { code, stdout, stderr, trace } = await runTraced(process.execPath, 'rulesBig.cjs', { cliArgs: ['--rules', file] });
  assert.doesNotMatch(stderr, /E2BIG/);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /done child 0/);
  assert.ok(trace, 'a trace was written');
  const byPath = (p) => trace.httpRequests.filter((r) => new URL(r.reqURL).pathname === p);
  for (const p of ['/deep', '/deep-child']) {
    assert.equal(byPath(p).length, 1, `one ${p} request: ${trace.httpRequests.map((r) => r.reqURL).join(', ')}`);
    assert.deepEqual(byPath(p)[0].marks, ['deep'], `${p} is marked by the rule deep in the set`);
  }
  assert.equal(byPath('/other').length, 1);
  assert.equal(byPath('/other')[0].marks, undefined);
  const deep = trace.traceRules.rules.find((r) => r.id === 'deep');
  assert.equal(deep.matched, 2, 'the parent and the child each counted their request');
});

test('nettrace run --rules refuses a pathological set at load, naming the budget', async () => {
  const patho = Array.from({ length: 113 }, (_, k) => `url =~ /(a|aa)*b${k}/`).join(' or ');
  const cases = [
    [
      '20 rules × 113 regexes',
      Array.from({ length: 20 }, (_, k) => ({ id: `p${k}`, condition: patho, action: 'skip', enabled: true })),
      /rules budget: one decision can cost [\d,]+ steps .*over the budget of 5,000 steps per decision/,
    ],
    [
      '50,000 small rules',
      Array.from({ length: 50000 }, (_, k) => ({ id: `s${k}`, condition: `path == "/p${k}"`, action: 'skip' })),
      /rules budget: the set has 50,000 rules, over the budget of 5,000 rules in a set/,
    ],
  ];
  for (const [label, rules, message] of cases) {
    const file = join(dir, 'patho.json');
    writeFileSync(file, JSON.stringify(rules));
    const res = await run(process.execPath, [cli, 'run', '--quiet', '--rules', file, '--', process.execPath, '-e', 'console.log("ran")'], {
      cwd: root,
    });
    assert.equal(res.code, 2, `${label}: ${res.stderr}`);
    assert.match(res.stderr, message, label);
    assert.doesNotMatch(res.stdout, /ran/, `${label}: the program did not start`);
  }
});
