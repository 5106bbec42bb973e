// covers: src/cli/, src/preload/, src/rules/
// needs: the build (dist/cli.cjs, dist/preload.cjs, dist/rules.cjs)
// Trace rules on the command line: the one-line form of --rule, `nettrace run --rule/--rules/
// --default-action` (rules saved into the trace), and `nettrace rules check|explain`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli.cjs');
const { parseRuleShortForm, ruleFromShortForm } = createRequire(import.meta.url)('../../dist/rules.cjs');
const nettrace = (args, opts = {}) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', ...opts });

test('the one-line form: [ID:] ACTION [limit=N] [tag=T] [details=K,…] CONDITION, enabled', () => {
  assert.deepEqual(parseRuleShortForm('skip host == "telemetry.example.com"', 'rule-1'), {
    id: 'rule-1',
    condition: 'host == "telemetry.example.com"',
    action: 'skip',
    enabled: true,
  });
  assert.deepEqual(parseRuleShortForm('  orders:  BREAK method == "DELETE"', 'rule-2'), {
    id: 'orders',
    condition: 'method == "DELETE"',
    action: 'break',
    enabled: true,
  });
  assert.deepEqual(ruleFromShortForm('slow-api: mark tag=slow limit=50 slow', 'x'), {
    id: 'slow-api',
    name: 'slow-api',
    condition: 'slow',
    action: 'mark',
    limit: 50,
    enabled: true,
    tag: 'slow',
  });
  assert.deepEqual(ruleFromShortForm('details details=bodies,sockTrace failed', 'r').details, ['bodies', 'sockTrace']);
  // `tag==` and `tag=~` are conditions, not the tag option.
  assert.equal(parseRuleShortForm('trace tag=="a"', 'r').condition, 'tag=="a"');
  assert.equal(parseRuleShortForm('trace tag=~"a"', 'r').condition, 'tag=~"a"');
  // A URL-ish condition with a colon is not taken for an id.
  assert.equal(parseRuleShortForm('skip url startsWith "http://x"', 'r').id, 'r');
  assert.throws(() => parseRuleShortForm('host == "x"', 'r'), /a rule starts with its action .* found "host"/);
  assert.throws(() => parseRuleShortForm('a: skip', 'r'), /rule "a": the rule has no condition/);
  assert.throws(() => ruleFromShortForm('skip limit=0 true', 'r'), /"limit" must be a whole number ≥ 1/);
  assert.throws(() => ruleFromShortForm('skip tag=x true', 'r'), /"tag" applies only to a mark rule/);
  assert.throws(() => ruleFromShortForm('details details=bodys true', 'r'), /"details" must be a non-empty list/);
  assert.throws(
    () => ruleFromShortForm('skip status >= "500"', 'r'),
    (e) => e.name === 'RuleSyntaxError' && e.column === 11,
  );
});

test('nettrace rules check: every problem with its rule and a caret; exit 1; a valid file says which rules are off', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-rules-cli-'));
  try {
    const good = join(dir, 'good.json');
    writeFileSync(
      good,
      JSON.stringify({
        defaultAction: 'skip',
        rules: [
          { id: 'api', condition: 'host == "api.example.com"', action: 'trace', enabled: true },
          { id: 'later', condition: 'true', action: 'mark' },
        ],
      }),
    );
    let r = nettrace(['rules', 'check', good]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(
      r.stdout,
      `${good}: 2 rules, all valid; 1 enabled\n  note: rule "later" is off (a rule is on only with "enabled": true)\n`,
    );
    const bad = join(dir, 'bad.json');
    writeFileSync(
      bad,
      JSON.stringify([
        { id: 'a', condition: 'status >= "500"', action: 'skip' },
        { id: 'b', condition: 'true', action: 'skipp' },
        { id: 'a', condition: 'true', action: 'trace' },
      ]),
    );
    r = nettrace(['rules', 'check', bad]);
    assert.equal(r.status, 1);
    assert.equal(
      r.stdout,
      [
        `${bad}: rule 1 "a": condition: status is a number: expected a number, found the string "500" at column 11`,
        '  status >= "500"',
        '            ^',
        `${bad}: rule 2 "b": "action" must be one of trace, skip, details, break, mark, fail, delay, throttle, respond, override`,
        `${bad}: rule 3: the id "a" is taken by rule 1`,
        `${bad}: 3 problems in 3 rules`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'notjson.json'), '[{');
    r = nettrace(['rules', 'check', join(dir, 'notjson.json')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /notjson\.json is not valid JSON/);
    r = nettrace(['rules', 'check', join(dir, 'missing.json')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot read .*missing\.json: no such file/);
    r = nettrace(['rules', 'frobnicate']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown rules command "frobnicate"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nettrace rules explain: the order of reading, what each rule does, and what happens to one request', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-rules-cli-'));
  try {
    const file = join(dir, 'rules.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'orders', condition: 'path ~ "/api/orders/**"', action: 'details', enabled: true },
        { id: 'ok-health', condition: 'path == "/health" and not failed', action: 'skip', enabled: true },
        { id: 'tel', condition: 'host ~ "*.telemetry.example.com"', action: 'skip', enabled: true, limit: 10 },
        { id: 'all', condition: 'true', action: 'trace', enabled: true },
        { id: 'never', condition: 'method == "DELETE"', action: 'break', enabled: true },
        { id: 'off', condition: 'true', action: 'mark' },
      ]),
    );
    let r = nettrace(['rules', 'explain', file]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0], /the first trace\/skip rule that matches decides/);
    assert.match(r.stdout, / {2}1\. details orders {5}if path ~ "\/api\/orders\/\*\*"\n\s+→ capture bodies; read on\n/);
    assert.match(r.stdout, /2\. skip {4}ok-health.*\n\s+→ do not record it; stop reading \[decided when the request ends\]/);
    assert.match(r.stdout, /3\. skip {4}tel .*\n\s+→ do not record it; stop reading \[first 10 per process\]/);
    assert.match(r.stdout, / {3}- mark {4}off .*\n\s+→ off \(not read; "enabled": true turns it on\)/);
    assert.match(r.stdout, /otherwise: record it \(defaultAction "trace"\)/);
    assert.match(r.stdout, /note: rule "never" never acts: rule "all" above it decides every request first/);

    r = nettrace(['rules', 'explain', file, '--request', 'GET http://svc.local/health', '--status', '200']);
    assert.match(
      r.stdout,
      /GET http:\/\/svc\.local\/health:\n {2}as it starts: recorded \(rule "all"\)\n {2}some rules are decided when it ends\n {2}when it ends with status 200: dropped \(rule "ok-health"\)/,
    );
    r = nettrace(['rules', 'explain', file, '--request', 'POST https://api.example.com/api/orders/7']);
    assert.match(r.stdout, /as it starts: recorded \(rule "all"\)\n {2}captures: bodies\n/);
    r = nettrace(['rules', 'explain', file, '--request', 'nonsense']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--request must be "METHOD URL"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  'nettrace run: --rule (repeated, in order, before --rules FILE), --default-action; the rules are saved into the trace; a bad one stops the run with its caret',
  { skip: !existsSync(join(root, 'dist', 'preload.cjs')) && 'dist/preload.cjs not built' },
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'nettrace-rules-run-'));
    try {
      const file = join(dir, 'rules.json');
      writeFileSync(file, JSON.stringify({ defaultAction: 'trace', rules: [{ id: 'from-file', condition: 'true', action: 'mark' }] }));
      const out = join(dir, 't.json');
      let r = nettrace([
        'run',
        '--quiet',
        '--helper',
        'off',
        '--out',
        out,
        '--rule',
        'skip host == "telemetry.example.com"',
        '--rules',
        file,
        '--rule=keep: trace failed',
        '--default-action',
        'skip',
        '--',
        process.execPath,
        '-e',
        '0',
      ]);
      assert.equal(r.status, 0, r.stderr);
      const trace = JSON.parse(readFileSync(out, 'utf8'));
      assert.equal(trace.traceRules.defaultAction, 'skip', '--default-action wins over the file');
      assert.deepEqual(
        trace.traceRules.rules.map((x) => [x.id, x.action, x.enabled, x.matched]),
        [
          ['rule-1', 'skip', true, 0],
          ['keep', 'trace', true, 0],
          ['from-file', 'mark', false, 0],
        ],
      );
      r = nettrace(['run', '--out', out, '--rule', 'skip status >= "5"', '--', process.execPath, '-e', '0']);
      assert.equal(r.status, 2);
      assert.equal(
        r.stderr,
        'nettrace: --rule 1 "rule-1": condition: status is a number: expected a number, found the string "5" at column 11\n  status >= "5"\n            ^\n',
      );
      r = nettrace([
        'run',
        '--out',
        out,
        '--rule',
        'a: skip true',
        '--rules',
        file,
        '--rule',
        'from-file: skip true',
        '--',
        process.execPath,
        '-e',
        '0',
      ]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, /rule 1: the id "from-file" is taken by rule 2/);
      // Without rules a trace has no traceRules.
      r = nettrace(['run', '--quiet', '--helper', 'off', '--out', out, '--', process.execPath, '-e', '0']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(JSON.parse(readFileSync(out, 'utf8')).traceRules, undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

test('nettrace --help lists the rules commands and flags', () => {
  const r = nettrace(['--help']);
  assert.match(r.stdout, /nettrace rules check FILE/);
  assert.match(r.stdout, /nettrace rules explain FILE/);
  assert.match(r.stdout, /--rule RULE/);
  assert.match(r.stdout, /--rules FILE/);
});

test('a TLS failure that could never act is refused where rules are made on the command line: --rule and the rules file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-tlsrule-'));
  try {
    // --rule: the run stops before the program starts, naming the rule and why.
    const run = nettrace(['run', '--quiet', '--rule', 'tls: fail fail=tls-expired scheme == "http"', '--', process.execPath, '-e', '0'], {
      cwd: dir,
    });
    assert.notEqual(run.status, 0);
    assert.match(run.stderr, /--rule 1 "tls": a fail tls rule acts only on requests over TLS \(https, wss\).*could never act/);
    // The rules file: `nettrace rules check` names it (the condition pins a plain URL), exit 1.
    const file = join(dir, 'rules.json');
    writeFileSync(
      file,
      JSON.stringify([
        { id: 'plain', action: 'fail', fail: { kind: 'tls', tls: 'wrong-host' }, condition: 'url ~ "http://api.example.com/**"' },
        { id: 'ok', action: 'fail', fail: { kind: 'tls', tls: 'expired' }, condition: 'host == "api.example.com"', enabled: true },
      ]),
    );
    const check = nettrace(['rules', 'check', file]);
    assert.equal(check.status, 1, check.stdout + check.stderr);
    assert.match(check.stdout + check.stderr, /"plain".*could never act/s);
    assert.doesNotMatch(check.stdout + check.stderr, /"ok".*could never act/s, 'a condition that does not say is accepted');
    const runFile = nettrace(['run', '--quiet', '--rules', file, '--', process.execPath, '-e', '0'], { cwd: dir });
    assert.notEqual(runFile.status, 0);
    assert.match(runFile.stderr, /rules.json rule 1 "plain": a fail tls rule acts only on requests over TLS/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the one-line form: limit=N/session counts over the session’s processes together; limit=N per process', () => {
  assert.deepEqual(ruleFromShortForm('fail fail=503 limit=3/session path == "/x"', 'r'), {
    id: 'r',
    name: 'r',
    condition: 'path == "/x"',
    action: 'fail',
    limit: 3,
    limitPer: 'session',
    enabled: true,
    fail: { kind: 'status', status: 503 },
  });
  assert.equal(ruleFromShortForm('fail fail=503 limit=3 path == "/x"', 'r').limitPer, undefined, 'per process: the default, unsaid');
  assert.equal(ruleFromShortForm('fail fail=503 limit=3/process path == "/x"', 'r').limitPer, undefined);
  assert.throws(() => ruleFromShortForm('skip limit=x/session true', 'r'), /"limit" must be a whole number ≥ 1/);
});
