// covers: src/rules/budget.ts
// needs: the build (dist/cli.cjs, dist/rules.cjs)
// The rules budget bounds what compiling a set costs (issue 48, item 8c; src/rules/budget.ts
// MAX_COMPILE_STEPS): every traced process compiles the set as it starts, and 800 distinct patterns
// that each need a large automaton, spread over hosts so that no decision is over its budget,
// added 1.1 s to each start. Such a set is refused at load (validateRules, `nettrace rules check`,
// `nettrace run --rules`), naming the budget; usual sets pass, and a pattern used by many rules is
// compiled, and counted, once.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { typicalRuleObjects } from '../../bench/lib/ruleSets.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli.cjs');
const { validateRules, validateRule, ruleSetCost, RuleBudgetError, MAX_COMPILE_STEPS, MAX_DECISION_STEPS } = createRequire(import.meta.url)(
  '../../dist/rules.cjs',
);
const dir = mkdtempSync(join(tmpdir(), 'nettrace-compile-budget-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `n` rules of distinct patterns needing a large DFA, 48 per host (under the decision budget). */
const heavy = (n) =>
  Array.from({ length: n }, (_, k) => ({
    id: `h${k}`,
    condition: `host == "h${Math.floor(k / 48)}.example" and path =~ /(a|b)*a[ab][ab][ab][ab][ab][ab]c${k}/`,
    action: 'skip',
    enabled: true,
  }));

test('800 distinct patterns that each need a large automaton: refused at load, the compile budget named', () => {
  const set = heavy(800);
  const cost = ruleSetCost(set.map((r) => validateRule(r)));
  assert.ok(cost.decisionSteps <= MAX_DECISION_STEPS, 'no decision is over its budget');
  assert.ok(cost.compileSteps > MAX_COMPILE_STEPS, `${cost.compileSteps} compile steps`);
  let e;
  try {
    validateRules(set);
  } catch (err) {
    e = err;
  }
  assert.ok(e instanceof RuleBudgetError, `refused: ${e}`);
  assert.equal(e.budget, 'compile');
  assert.equal(e.figure, cost.compileSteps);
  assert.equal(e.limit, MAX_COMPILE_STEPS);
  assert.match(
    e.message,
    /^rules budget: compiling the set's patterns costs [\d,]+ steps, over the budget of [\d,]+ steps \(about 0\.2 s added to the start of each traced process\)/,
  );

  const file = join(dir, 'heavy.json');
  writeFileSync(file, JSON.stringify(set));
  const check = spawnSync(process.execPath, [cli, 'rules', 'check', file], { encoding: 'utf8' });
  assert.equal(check.status, 1);
  assert.match(check.stdout, /compiling the set's patterns costs/);
  const run = spawnSync(
    process.execPath,
    [cli, 'run', '--helper', 'off', '--out', join(dir, 't.json'), '--rules', file, '--', process.execPath, '-e', 'console.log("ran")'],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(run.status, 2, run.stderr);
  assert.doesNotMatch(run.stdout, /ran/, 'the program did not run');
  assert.match(run.stderr, /compiling the set's patterns costs/);
});

test('usual sets pass; a pattern shared by many rules is compiled and counted once', () => {
  validateRules(typicalRuleObjects(100));
  const shared = Array.from({ length: 3000 }, (_, k) => ({
    id: `s${k}`,
    condition: `host == "svc${k}.internal" and path =~ /(a|b)*a[ab][ab][ab][ab][ab][ab]c/`,
    action: 'skip',
    enabled: true,
  }));
  const one = ruleSetCost([validateRule(shared[0])]).compileSteps;
  assert.ok(one > 1000, `one such pattern costs ${one} steps`);
  assert.equal(ruleSetCost(shared.map((r) => validateRule(r))).compileSteps, one);
  // The heavy patterns as far as the budget goes: accepted a little under it, refused a little over.
  const each = ruleSetCost(heavy(100).map((r) => validateRule(r))).compileSteps / 100;
  const fit = Math.floor(MAX_COMPILE_STEPS / each);
  validateRules(heavy(Math.floor(fit * 0.9)));
  assert.throws(() => validateRules(heavy(Math.ceil(fit * 1.1))), { name: 'RuleBudgetError', budget: 'compile' });
});
