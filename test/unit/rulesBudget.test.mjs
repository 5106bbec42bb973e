// covers: src/rules/budget.ts, src/preload/rules/preloadRules.ts
// needs: the build (dist/core.cjs, dist/rules.cjs)
// The rule set's budget (issue 34 item 5, src/rules/budget.ts, docs/rules.md "Rules budget"): the
// issue's pathological sets (20 rules × 113 regexes; 50,000 small rules) are refused at load with
// the budget and the figure named, in validateRules, the collector's RulesController and the
// preload; usual sets and 3,000 host rules pass; the DFA answers as V8's RegExp does; a set too
// large for the environment goes through a 0600 file the preload reads at start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildSync } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { typicalRuleObjects } from '../../bench/lib/ruleSets.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const rules = require('../../dist/rules.cjs');
const { validateRules, RuleBudgetError, RuleEngine, compileRegex, MAX_DECISION_STEPS, MAX_RULES } = rules;
const { RulesController } = require('../../dist/core.cjs');

const patho = Array.from({ length: 113 }, (_, k) => `url =~ /(a|aa)*b${k}/`).join(' or ');
const pathological = Array.from({ length: 20 }, (_, k) => ({ id: `p${k}`, condition: patho, action: 'skip', enabled: true }));
const small = Array.from({ length: 50_000 }, (_, k) => ({ id: `s${k}`, condition: `path == "/p${k}"`, action: 'skip', enabled: true }));

function refusal(f) {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail('not refused');
}

test("the issue's pathological sets are refused at load, with the budget and the figure named", () => {
  const e = refusal(() => validateRules(pathological));
  assert.ok(e instanceof RuleBudgetError, String(e));
  assert.equal(e.budget, 'decision');
  assert.equal(e.limit, MAX_DECISION_STEPS);
  assert.ok(e.figure > MAX_DECISION_STEPS);
  assert.match(
    e.message,
    /^rules budget: one decision can cost [\d,]+ steps \(the rules for any host; costliest: "p0", "p1", "p2"\), over the budget of 5,000 steps per decision/,
  );
  const e2 = refusal(() => validateRules(small));
  assert.ok(e2 instanceof RuleBudgetError);
  assert.equal(e2.budget, 'rules');
  assert.equal(e2.figure, 50_000);
  assert.equal(e2.limit, MAX_RULES);
  assert.equal(e2.message, 'rules budget: the set has 50,000 rules, over the budget of 5,000 rules in a set');
});

test("usual sets pass: 100 typical rules, 3,000 host rules (each host's rules alone count), 1,600 plain rules", () => {
  validateRules(typicalRuleObjects(100));
  validateRules(
    Array.from({ length: 3000 }, (_, k) => ({
      id: `h${k}`,
      condition: `host == "svc${k}.internal" and path =~ /^\\/api\\/v\\d+\\//`,
      action: 'skip',
      enabled: true,
    })),
  );
  validateRules(Array.from({ length: 1600 }, (_, k) => ({ id: `m${k}`, condition: `method == "M${k}"`, action: 'skip', enabled: true })));
  // Disabled rules are read by no decision: only the count, size and pattern budgets see them.
  validateRules(pathological.map((r) => ({ ...r, enabled: false })));
  // Rules for one host add up: 60 regex rules for one host are over, spread over 60 hosts they are not.
  const perHost = (host) =>
    Array.from({ length: 60 }, (_, k) => ({
      id: `r${k}`,
      condition: `host == "${host(k)}" and url =~ /(a|aa)*b${k}/`,
      action: 'skip',
      enabled: true,
    }));
  validateRules(perHost((k) => `h${k}.example.com`));
  const e = refusal(() => validateRules(perHost(() => 'one.example.com')));
  assert.match(e.message, /the rules for any host and those for host "one\.example\.com"/);
});

test('the size and pattern-memory budgets', () => {
  const long = Array.from({ length: 1100 }, (_, k) => ({
    id: `l${k}`,
    name: 'n'.repeat(500),
    condition: `path == "/${'x'.repeat(1900)}${k}"`,
    action: 'skip',
  }));
  const e = refusal(() => validateRules(long));
  assert.equal(e.budget, 'size');
  assert.match(e.message, /characters as JSON, over the budget of 2,097,152 characters/);
  // A regex whose DFA holds 1,296 cells, in 1,000 rules for 1,000 hosts: 1.3 million cells.
  const big = Array.from({ length: 1000 }, (_, k) => ({
    id: `b${k}`,
    condition: `host == "h${k}" and path =~ /(a|b)*a[ab][ab][ab][ab][ab][ab][ab]c/`,
    action: 'skip',
    enabled: true,
  }));
  const e2 = refusal(() => validateRules(big));
  assert.equal(e2.budget, 'patterns');
  assert.match(e2.message, /table cells, over the budget of 1,000,000 cells/);
});

test('the collector refuses a create, edit or enable that goes over the budget, and nothing changes', () => {
  // 40 regexes: 4,001 steps, under the budget; a second such rule is over.
  const forty = Array.from({ length: 40 }, (_, k) => `url =~ /(a|aa)*b${k}/`).join(' or ');
  const ctrl = new RulesController({ rules: [{ id: 'forty', condition: forty, action: 'skip', enabled: true }] });
  const version = ctrl.version;
  assert.throws(
    () => ctrl.create({ id: 'more', condition: forty, action: 'skip', enabled: true }),
    /rules budget: one decision can cost 8,002 steps/,
  );
  ctrl.create({ id: 'off', condition: forty, action: 'skip' }); // disabled: read by no decision
  assert.throws(() => ctrl.enable('off'), { name: 'RuleBudgetError', budget: 'decision' });
  assert.equal(ctrl.get('off').enabled, false);
  assert.equal(ctrl.version, version + 1, 'only the accepted create bumped the version');
  assert.throws(() => ctrl.replace(small), /50,000 rules/);
  assert.throws(() => new RulesController({ rules: pathological }), { name: 'RuleBudgetError', budget: 'decision' });
});

test('DFA: answers equal V8 RegExp on long and non-Latin-1 subjects; cost 1 per character, 4 × states for the NFA', () => {
  let seed = 34;
  const rnd = (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const atoms = ['a', 'b', '.', '[ab]', '[^a]', '\\d', '(a|b)', '(?:ab)', 'c', '\\s', '\\w', 'é', '[^\\u0100]', '[α-ω]'];
  const quants = ['', '', '*', '+', '?', '{1,2}', '{2}', '{0,3}'];
  // (No \r, \u2028, \u2029: the matcher's `.` excludes only \n, as before the DFA; V8's excludes those too.)
  const chars = 'abc1 éαβ\u0100\u3000K';
  for (let n = 0; n < 300; n++) {
    let p = rnd(4) === 0 ? '^' : '';
    const len = 1 + rnd(6);
    for (let k = 0; k < len; k++) p += atoms[rnd(atoms.length)] + quants[rnd(quants.length)];
    if (rnd(3) === 0) p += '$';
    for (const flags of ['', 'i']) {
      const ours = compileRegex(p, flags);
      const v8 = new RegExp(p, flags);
      for (let m = 0; m < 12; m++) {
        let s = '';
        const sl = rnd(4) === 0 ? 200 + rnd(300) : rnd(10);
        for (let k = 0; k < sl; k++) s += chars[rnd(chars.length)];
        assert.equal(ours.test(s), v8.test(s), `/${p}/${flags} on ${JSON.stringify(s)}`);
      }
    }
  }
  assert.equal(compileRegex('(a|aa)*b').cost, 1);
  const nfa = compileRegex('(a|b)*a[ab][ab][ab][ab][ab][ab][ab][ab]c');
  assert.ok(nfa.cost > 1 && nfa.cost % 4 === 0, `an automaton over 256 DFA states stays an NFA (cost ${nfa.cost})`);
  assert.equal(nfa.test('ab'.repeat(100) + 'abbbbbbbbc'), true);
});

test('the host index: rules for other hosts are not read, order is kept across host and any-host rules', () => {
  const list = validateRules([
    { id: 'any1', condition: 'path == "/x"', action: 'mark', tag: 'a1', enabled: true },
    { id: 'h1', condition: 'host == "h.example.com"', action: 'mark', tag: 'h1', enabled: true },
    ...Array.from({ length: 3000 }, (_, k) => ({ id: `o${k}`, condition: `host == "o${k}.example.com"`, action: 'skip', enabled: true })),
    { id: 'any2', condition: 'path == "/x"', action: 'mark', tag: 'a2', enabled: true },
    { id: 'h2', condition: 'host in ["h.example.com", "g.example.com"]', action: 'skip', enabled: true },
  ]);
  const e = new RuleEngine(list, { process: { pid: 1, threadId: 0, command: '' } });
  const v = (host) => ({ method: 'GET', scheme: 'http', host, port: 80, target: '/x', client: 'http' });
  for (let k = 0; k < 600; k++) e.start(v(`other${k}.example.com`)); // more hosts than the cache holds
  const d = e.start(v('h.example.com'));
  assert.deepEqual(d.tags, ['a1', 'h1', 'a2']);
  assert.equal(d.record, false);
  assert.equal(d.rule.id, 'h2');
  assert.equal(e.start(v('o2999.example.com')).rule.id, 'o2999');
  assert.equal(e.start(v('g.example.com')).rule.id, 'h2');
});

test('a set too large for the environment: the collector writes a 0600 file and the preload reads it at start', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-rbudget-'));
  try {
    const file = join(dir, 'rules.json');
    const big = Array.from({ length: 400 }, (_, k) => ({
      id: `svc${k}`,
      name: `service ${k} of the large set`,
      condition: `host == "svc${k}.internal"`,
      action: 'skip',
      enabled: true,
    }));
    const ctrl = new RulesController({ rules: big.slice(0, 3) });
    ctrl.setRulesFile(file);
    const smallConfig = ctrl.preloadConfig();
    assert.equal(smallConfig.rules.length, 3, 'a small set travels inline');
    assert.equal(smallConfig.rulesFile, file);
    ctrl.replace(big);
    const config = ctrl.preloadConfig();
    assert.equal(config.rules, undefined, 'a large set does not travel in the environment');
    assert.equal(config.rulesFile, file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const msg = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(msg.type, 'rules');
    assert.equal(msg.version, ctrl.version);
    assert.equal(msg.rules.length, 400);
    // The preload (src/preload/rules/preloadRules.ts, bundled on the fly) applies the file's set from the start.
    const out = join(dir, 'prules.cjs');
    buildSync({
      entryPoints: [join(root, 'src/preload/rules/preloadRules.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: out,
      logLevel: 'error',
    });
    const { PreloadRules } = require(out);
    const warnings = [];
    const r = new PreloadRules();
    r.init({ ipcPath: '/x', ...config }, { pid: 1, threadId: 0, command: '' }, { changed() {}, warn: (m) => warnings.push(m) });
    assert.deepEqual(warnings, []);
    assert.equal(r.version, ctrl.version);
    const d = r.decideStart({ method: 'GET', scheme: 'http', host: 'svc399.internal', port: 80, target: '/', client: 'http' });
    assert.equal(d.record, false);
    assert.equal(d.rule.id, 'svc399');
    // A later change rewrites the file before it is sent (a child started then reads it).
    ctrl.disable('svc399');
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).version, ctrl.version);
    // A file that is missing: a warning, and the preload records everything until the collector's set comes.
    const r2 = new PreloadRules();
    const w2 = [];
    r2.init(
      { ipcPath: '/x', rulesFile: join(dir, 'gone.json'), rulesVersion: 1 },
      { pid: 1, threadId: 0, command: '' },
      { changed() {}, warn: (m) => w2.push(m) },
    );
    assert.match(w2[0], /the trace rules in the collector's rules file were not applied: ENOENT/);
    assert.equal(r2.mode, 'all');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
