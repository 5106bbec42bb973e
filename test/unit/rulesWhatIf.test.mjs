// What-if rules (issue 51 item 1, src/rules/whatIf.ts, docs/rules.md "What-if actions"): the model's
// actions are parsed, the implemented kinds accepted, every other one refused with a message naming
// it (never silently ignored), and the engine hands the first matching what-if rule to the hooks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { validateRule, validateRules, ruleFromShortForm, RuleEngine, RuleValidationError } = require('../../dist/rules.cjs');

const proc = { pid: 1, threadId: 0, command: 'node app.js' };
const view = (host = 'api.example.com') => ({
  method: 'GET',
  scheme: 'http',
  host,
  port: 80,
  target: '/v1/x',
  client: 'http',
  header: () => undefined,
  url: `http://${host}/v1/x`,
});

test('fail: the implemented kinds are accepted, as a string or { kind }', () => {
  for (const kind of ['refused', 'dns-notfound']) {
    assert.deepEqual(validateRule({ id: 'a', condition: 'true', action: 'fail', fail: kind }).fail, { kind });
    assert.deepEqual(validateRule({ id: 'a', condition: 'true', action: 'fail', fail: { kind } }).fail, { kind });
  }
});

test('fail: a kind of the model not implemented yet is an error naming it', () => {
  for (const kind of ['reset', 'tls', 'timeout', 'status']) {
    assert.throws(
      () => validateRule({ id: 'a', condition: 'true', action: 'fail', fail: { kind } }),
      (e) => e instanceof RuleValidationError && e.message.includes(`"${kind}" is not implemented yet`) && e.field === 'fail',
    );
  }
  assert.throws(() => validateRule({ id: 'a', condition: 'true', action: 'fail', fail: 'nope' }), /unknown fail kind "nope"/);
  assert.throws(() => validateRule({ id: 'a', condition: 'true', action: 'fail' }), /a fail rule needs "fail"/);
  assert.throws(
    () => validateRule({ id: 'a', condition: 'true', action: 'fail', fail: { kind: 'refused', status: 503 } }),
    /takes no "status"/,
  );
});

test('delay, throttle, respond, override: known actions, not implemented yet: a clear error, not ignored', () => {
  for (const action of ['delay', 'throttle', 'respond', 'override']) {
    assert.throws(
      () => validateRule({ id: 'a', condition: 'true', action, [action]: {} }),
      (e) => e instanceof RuleValidationError && e.message.includes(`the "${action}" action is not implemented yet`),
    );
  }
  assert.throws(
    () => validateRule({ id: 'a', condition: 'true', action: 'teleport' }),
    /"action" must be one of .*fail, delay, throttle, respond, override/,
  );
});

test('a what-if parameter on another action, and an end-of-request condition, are refused', () => {
  assert.throws(() => validateRule({ id: 'a', condition: 'true', action: 'mark', fail: 'refused' }), /"fail" applies only to a fail rule/);
  assert.throws(
    () => validateRule({ id: 'a', condition: 'status >= 500', action: 'fail', fail: 'refused' }),
    /a fail rule acts before the request leaves/,
  );
});

test('the one-line form: fail=KIND', () => {
  const r = ruleFromShortForm('down: fail fail=refused limit=1 host == "api.example.com"', 'r1');
  assert.equal(r.id, 'down');
  assert.equal(r.action, 'fail');
  assert.deepEqual(r.fail, { kind: 'refused' });
  assert.equal(r.limit, 1);
  assert.equal(r.enabled, true);
  assert.throws(() => ruleFromShortForm('fail fail=tls true', 'r1'), /the fail kind "tls" is not implemented yet/);
  assert.throws(() => ruleFromShortForm('fail true', 'r1'), /a fail rule needs "fail"/);
});

test('the engine: the first matching what-if rule acts, within its limit, and the request is recorded', () => {
  const rules = validateRules([
    { id: 'quiet', condition: 'host == "other.example.com"', action: 'skip', enabled: true },
    { id: 'f1', condition: 'host == "api.example.com"', action: 'fail', fail: 'refused', limit: 2, enabled: true },
    { id: 'f2', condition: 'true', action: 'fail', fail: 'dns-notfound', enabled: true },
    { id: 'hide', condition: 'true', action: 'skip', enabled: true },
  ]);
  const e = new RuleEngine(rules, { process: proc });
  assert.equal(e.hasWhatIf, true);
  const a = e.start(view());
  assert.equal(a.whatIf?.id, 'f1');
  assert.equal(a.record, true, 'a skip below a what-if rule does not hide what was done');
  assert.equal(e.start(view()).whatIf?.id, 'f1');
  assert.equal(e.start(view()).whatIf?.id, 'f2', 'f1 reached its limit of 2');
  assert.equal(e.start(view('other.example.com')).whatIf ?? null, null, 'a skip above ends the list');
  const c = Object.fromEntries(e.counters().map((x) => [x.id, x]));
  assert.equal(c.f1.acted, 2);
  assert.equal(c.f1.limitReached, true);
  assert.equal(c.f2.acted, 1);
  assert.equal(c.f2.matched, 3, 'f2 matched each time it was read; acted only when f1 did not');
  assert.equal(e.mayRecord(view('x.example.com')), true);
});

test('no what-if rule: decisions carry whatIf null', () => {
  const e = new RuleEngine(validateRules([{ id: 'm', condition: 'true', action: 'mark', enabled: true }]), { process: proc });
  assert.equal(e.hasWhatIf, false);
  assert.equal(e.start(view()).whatIf, null);
});

test('what-if rules are read for http2 requests as for the other clients', () => {
  const e = new RuleEngine(validateRules([{ id: 'f', condition: 'true', action: 'fail', fail: 'refused', enabled: true }]), {
    process: proc,
  });
  assert.equal(e.start({ ...view(), scheme: 'https', client: 'http2' }).whatIf?.id, 'f');
  assert.equal(e.counters()[0].matched, 1);
  assert.equal(e.start({ ...view(), client: 'fetch' }).whatIf?.id, 'f');
});
