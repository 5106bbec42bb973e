// covers: src/preload/rules/breakOnRequest.ts, src/rules/
// The `break` action's preload side (src/preload/rules/breakOnRequest.ts), without a debugger client:
// with no inspector nothing is compiled and the rule's `acted` count is given back (a limit counts
// pauses); with the inspector open the pause runs (a `debugger;` statement with no client attached
// does nothing) and counts; the compiled pause scripts are bounded; credentials stay out of the
// label. The pause itself, under a real CDP client, is in test/integration/rules-break.test.mjs.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import inspector from 'node:inspector';
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';

const dir = mkdtempSync(join(tmpdir(), 'nettrace-break-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const m = bundleTs(
  [
    "export { breakOnRequest, pauseLabel, safeUrl, pauseScriptCount, MAX_PAUSE_SCRIPTS } from './src/preload/rules/breakOnRequest';",
    "export { RuleEngine, validateRules } from './src/rules';",
  ],
  { dir },
);

const warnings = [];
const tracer = { warn: (msg) => warnings.push(msg) };
const view = (target = '/orders/1', extra = {}) => ({
  method: 'get',
  scheme: 'http',
  host: 'api.test',
  port: 8080,
  target,
  client: 'http',
  ...extra,
});
const engine = (limit, mod = m) =>
  new mod.RuleEngine(
    mod.validateRules([{ id: 'orders', name: 'orders', condition: 'path ~ "/orders/**"', action: 'break', limit, enabled: true }]),
    {
      process: { pid: 1, threadId: 0, command: 'node' },
    },
  );
const counts = (e) => e.counters().map((c) => [c.matched, c.acted, c.limitReached]);

test('no inspector: nothing pauses, the rule matches but does not act, so its limit is not spent', () => {
  assert.equal(inspector.url(), undefined, 'this test runs without an inspector');
  const e = engine(1);
  for (let i = 0; i < 3; i++) {
    const d = e.start(view());
    assert.equal(d.breakRule?.id, 'orders', `request ${i}: the rule still acts (the limit was not spent)`);
    m.breakOnRequest(tracer, d, view());
  }
  assert.deepEqual(counts(e), [[3, 0, false]]);
  assert.equal(m.pauseScriptCount(), 0, 'nothing compiled');
  assert.deepEqual(warnings, []);
});

test('inspector open (no client attached): the pause runs and counts; limit 1 acts once; the scripts are bounded', () => {
  inspector.open(0, '127.0.0.1', false);
  try {
    assert.notEqual(inspector.url(), undefined);
    const e = engine(1);
    const d = e.start(view());
    m.breakOnRequest(tracer, d, view());
    assert.deepEqual(counts(e), [[1, 1, true]]);
    assert.equal(e.start(view()).breakRule, null, 'past its limit the rule no longer breaks');
    assert.equal(m.pauseScriptCount(), 1);
    // Another request with the same label reuses its script; distinct ones, up to the cap.
    const many = engine(null);
    m.breakOnRequest(tracer, many.start(view()), view());
    assert.equal(m.pauseScriptCount(), 1, 'same label, same script');
    for (let i = 0; i < m.MAX_PAUSE_SCRIPTS + 20; i++) m.breakOnRequest(tracer, many.start(view(`/orders/${i}`)), view(`/orders/${i}`));
    assert.equal(m.pauseScriptCount(), m.MAX_PAUSE_SCRIPTS + 1, 'at most MAX_PAUSE_SCRIPTS, then one generic script');
    assert.equal(counts(many)[0][1], m.MAX_PAUSE_SCRIPTS + 21, 'every pause counts');
    assert.deepEqual(warnings, []);
  } finally {
    inspector.close();
  }
});

test('the label: method, URL without credentials, rule; one line; long URLs cut', () => {
  assert.equal(
    m.safeUrl({ ...view('/a?token=s3cret&page=2&api_key=k'), url: 'https://user:pw@api.test/a?token=s3cret&page=2&api_key=k' }),
    'https://api.test/a?token=<redacted>&page=2&api_key=<redacted>',
  );
  assert.equal(m.safeUrl(view('/x?sig=1')), 'http://api.test:8080/x?sig=<redacted>', 'built from the parts');
  assert.equal(m.safeUrl({ ...view('/'), host: '::1', port: 80 }), 'http://[::1]/', 'IPv6 in brackets, default port left out');
  assert.equal(m.pauseLabel('GET', 'http://h/p', 'orders'), "Net Trace: paused on GET http://h/p (rule 'orders')");
  assert.equal(m.pauseLabel('GET', 'http://h/p\n', 'a\u2028b'), "Net Trace: paused on GET http://h/p  (rule 'a b')");
  const long = m.pauseLabel('GET', `http://h/${'x'.repeat(500)}`, 'r');
  assert.ok(long.length < 220 && long.includes('…'), long);
});

test('a failure to make the pause turns the break action off with one warning; nothing throws, the requests go on', async () => {
  const vm = await import('node:vm');
  const Script = vm.default.Script;
  inspector.open(0, '127.0.0.1', false);
  vm.default.Script = function () {
    throw new Error('no code generation here');
  };
  try {
    // A module instance of its own (the one above has its scripts cached already).
    const f = bundleTs(
      ["export { breakOnRequest } from './src/preload/rules/breakOnRequest';", "export { RuleEngine, validateRules } from './src/rules';"],
      { dir, name: 'fresh.cjs' },
    );
    const e = engine(null, f);
    warnings.length = 0;
    for (let i = 0; i < 3; i++) f.breakOnRequest(tracer, e.start(view(`/orders/fail-${i}`)), view(`/orders/fail-${i}`));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /the break action is off in pid \d+: no code generation here/);
    assert.deepEqual(counts(e), [[3, 0, false]], 'no pause happened: none counts as acted');
  } finally {
    vm.default.Script = Script;
    inspector.close();
  }
});
