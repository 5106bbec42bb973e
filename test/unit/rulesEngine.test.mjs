// covers: src/rules/
// needs: the build (dist/rules.cjs)
// Trace rules (issue 16): the rule model (validation, defaults) and the decision engine
// (precedence, limits, counters, enable/disable, end-of-request decisions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { RuleEngine, validateRule, validateRules, RuleValidationError, RuleSyntaxError, DETAIL_BIT, releaseBreak } = createRequire(
  import.meta.url,
)('../../dist/rules.cjs');

const proc = { pid: 100, threadId: 0, command: 'node app.js' };
/** Rules from short specs: [id, action, condition, extra]; enabled unless extra says otherwise. */
const ruleList = (...specs) =>
  validateRules(specs.map(([id, action, condition, extra = {}]) => ({ id, action, condition, enabled: true, ...extra })));
const engine = (rules, opts = {}) => new RuleEngine(rules, { process: proc, ...opts });
const req = (host = 'api.example.com', target = '/v1/users', method = 'GET') => ({
  method,
  scheme: 'https',
  host,
  port: 443,
  target,
  client: 'https',
});
const OK = { status: 200, error: null, durationMs: 50 };
const E404 = { status: 404, error: null, durationMs: 50 };
const FAIL = { error: { code: 'ECONNRESET', phase: 'response' }, durationMs: 50 };
const counts = (e) => Object.fromEntries(e.counters().map((c) => [c.id, [c.matched, c.acted]]));

test('rules model: defaults — disabled unless enabled: true, no limit, name = id', () => {
  const r = validateRule({ id: 'r1', condition: 'host == "a"', action: 'skip' });
  assert.deepEqual(r, { id: 'r1', name: 'r1', condition: 'host == "a"', action: 'skip', limit: null, enabled: false });
  assert.equal(validateRule({ id: 'r', condition: 'true', action: 'trace', enabled: true }).enabled, true);
  assert.equal(validateRule({ id: 'r', condition: 'true', action: 'mark', name: 'API' }).tag, 'API');
  assert.equal(validateRule({ id: 'r', condition: 'true', action: 'mark', tag: 'x' }).tag, 'x');
  assert.deepEqual(validateRule({ id: 'r', condition: 'true', action: 'details' }).details, ['bodies']);
  assert.deepEqual(validateRule({ id: 'r', condition: 'true', action: 'details', details: ['dnsTrace', 'bodies', 'dnsTrace'] }).details, [
    'dnsTrace',
    'bodies',
  ]);
  assert.equal(validateRule({ id: 'r', condition: 'true', action: 'skip', limit: 5 }).limit, 5);
  // A disabled rule does nothing.
  const e = engine([validateRule({ id: 'r', condition: 'true', action: 'skip' })]);
  assert.equal(e.mode, 'all');
  assert.equal(e.start(req()).record, true);
});

test('rules model: invalid rules are rejected with the property at fault', () => {
  const base = { id: 'r', condition: 'true', action: 'trace' };
  for (const [input, field, msg] of [
    [null, '', /must be an object/],
    [[], '', /must be an object/],
    [{ ...base, id: '' }, 'id', /"id" must be a non-empty string/],
    [{ ...base, id: 7 }, 'id', /"id"/],
    [{ ...base, enable: true }, 'enable', /unknown property "enable" \(did you mean "enabled"\?\)/],
    [{ ...base, action: 'log' }, 'action', /"action" must be one of trace, skip, details, break, mark/],
    [{ ...base, action: undefined }, 'action', /"action"/],
    [{ ...base, condition: undefined }, 'condition', /"condition" must be a string/],
    [{ ...base, limit: 0 }, 'limit', /whole number ≥ 1/],
    [{ ...base, limit: 1.5 }, 'limit', /whole number/],
    [{ ...base, limit: '3' }, 'limit', /whole number/],
    [{ ...base, enabled: 'yes' }, 'enabled', /true or false/],
    [{ ...base, name: 3 }, 'name', /"name" must be a string/],
    [{ ...base, tag: 'x' }, 'tag', /only to a mark rule/],
    [{ ...base, action: 'mark', tag: '' }, 'tag', /non-empty/],
    [{ ...base, details: ['bodies'] }, 'details', /only to a details rule/],
    [{ ...base, action: 'details', details: [] }, 'details', /non-empty list of bodies, sockTrace, dnsTrace/],
    [{ ...base, action: 'details', details: ['headers'] }, 'details', /non-empty list/],
    [{ ...base, action: 'break', condition: 'host == "a" and status == 500' }, 'condition', /break rule pauses before the request leaves/],
  ]) {
    try {
      validateRule(input);
      assert.fail(`accepted ${JSON.stringify(input)}`);
    } catch (e) {
      assert.ok(e instanceof RuleValidationError, String(e));
      assert.equal(e.field, field, e.message);
      assert.match(e.message, msg);
      if (field !== '' && field !== 'id') assert.match(e.message, /^rule "r": /);
    }
  }
  try {
    validateRule({ ...base, condition: 'host == "a" and' });
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof RuleSyntaxError);
    assert.equal(e.ruleId, 'r');
    assert.equal(e.column, 16);
  }
  assert.throws(() => validateRules([base, base]), /rule "r": two rules have this id/);
  assert.throws(() => validateRules({}), /rules must be a list/);
  // A break rule may read process fields and start fields.
  assert.equal(validateRule({ ...base, action: 'break', condition: 'pid == 3 and method == "POST"' }).action, 'break');
});

test('rules engine: no rules, or none enabled: trace everything through one shared decision', () => {
  const e = engine([]);
  assert.equal(e.mode, 'all');
  const d1 = e.start(req());
  const d2 = e.start(req('other'));
  assert.equal(d1, d2, 'no allocation per request');
  assert.deepEqual(
    { record: d1.record, pending: d1.pending, details: d1.details, rule: d1.rule },
    { record: true, pending: false, details: 0, rule: null },
  );
  assert.equal(e.end(d1, OK).keep, true);
  const none = engine([], { defaultAction: 'skip' });
  assert.equal(none.mode, 'none');
  assert.equal(none.start(req()).record, false);
  // A rule whose process condition is false here is as good as absent.
  assert.equal(engine(ruleList(['w', 'skip', 'command contains "worker"'])).mode, 'all');
  assert.equal(engine(ruleList(['w', 'skip', 'command contains "app.js"'])).mode, 'rules');
});

test('rules engine: first trace/skip match wins; rules below it are not read', () => {
  const e = engine(
    ruleList(['a', 'skip', 'host == "telemetry.example.com"'], ['b', 'trace', 'host ~ "*.example.com"'], ['c', 'skip', 'true']),
  );
  const d = e.start(req('telemetry.example.com'));
  assert.equal(d.record, false);
  assert.equal(d.rule.id, 'a');
  assert.equal(d.pending, false);
  const d2 = e.start(req('api.example.com'));
  assert.equal(d2.record, true);
  assert.equal(d2.rule.id, 'b');
  const d3 = e.start(req('elsewhere.org'));
  assert.equal(d3.record, false);
  assert.equal(d3.rule.id, 'c');
  assert.deepEqual(counts(e), { a: [1, 1], b: [1, 1], c: [1, 1] });
  // Order matters: the same rules the other way round.
  const e2 = engine(ruleList(['b', 'trace', 'host ~ "*.example.com"'], ['a', 'skip', 'host == "telemetry.example.com"']));
  assert.equal(e2.start(req('telemetry.example.com')).record, true);
  assert.deepEqual(counts(e2), { b: [1, 1], a: [0, 0] });
});

test('rules engine: details, mark and break above the deciding rule all act; below it they do not', () => {
  const e = engine(
    ruleList(
      ['bodies', 'details', 'path ~ "/v1/**"'],
      ['dns', 'details', 'method == "POST"', { details: ['dnsTrace', 'sockTrace'] }],
      ['api', 'mark', 'host ~ "api.*"'],
      ['tagged', 'mark', 'tag == "api" and method == "POST"', { tag: 'api-write' }],
      ['stop', 'break', 'tag == "api-write"'],
      ['stop2', 'break', 'method == "POST"'],
      ['skipHealth', 'skip', 'path == "/v1/health"'],
      ['late', 'mark', 'true'],
    ),
  );
  const d = e.start(req('api.example.com', '/v1/orders', 'POST'));
  assert.equal(d.record, true);
  assert.equal(d.rule, null, 'decided by the default');
  assert.equal(d.details, DETAIL_BIT.bodies | DETAIL_BIT.dnsTrace | DETAIL_BIT.sockTrace);
  assert.deepEqual(d.tags, ['api', 'api-write', 'late']);
  assert.equal(d.breakRule.id, 'stop', 'the first break rule');
  assert.deepEqual(counts(e), {
    bodies: [1, 1],
    dns: [1, 1],
    api: [1, 1],
    tagged: [1, 1],
    stop: [1, 1],
    stop2: [1, 0],
    skipHealth: [0, 0],
    late: [1, 1],
  });
  // Skipped: the rules above still act (a break still pauses), those below are not read.
  const h = e.start(req('api.example.com', '/v1/health'));
  assert.equal(h.record, false);
  assert.equal(h.details, 0, 'no detail for a request not recorded');
  assert.deepEqual(h.tags, ['api']);
  assert.equal(counts(e).late[0], 1, '"late" was not read for the skipped request');
});

test('rules engine: limits — a rule acts on `limit` requests per process, then counts matches only', () => {
  const e = engine(ruleList(['few', 'skip', 'host == "noisy"', { limit: 2 }], ['pause', 'break', 'host == "noisy"', { limit: 1 }]));
  const got = [];
  for (let k = 0; k < 5; k++) got.push(e.start(req('noisy')));
  assert.deepEqual(
    got.map((d) => [d.record, d.rule?.id ?? null, d.breakRule?.id ?? null]),
    [
      [false, 'few', null],
      [false, 'few', null],
      [true, null, 'pause'],
      [true, null, null],
      [true, null, null],
    ],
  );
  const c = Object.fromEntries(e.counters().map((x) => [x.id, x]));
  assert.deepEqual(c.few, { id: 'few', matched: 5, acted: 2, limit: 2, limitReached: true });
  assert.deepEqual(c.pause, { id: 'pause', matched: 3, acted: 1, limit: 1, limitReached: true });
  assert.equal(e.start(req('quiet')).record, true);
  assert.equal(c.few.matched, 5, 'counters() is a snapshot');
});

test('rules engine: end conditions decide what is kept', () => {
  // Keep bodies only of failed requests: captured while in flight, dropped on success.
  const e = engine(ruleList(['failBodies', 'details', 'failed or status >= 500']));
  const d = e.start(req());
  assert.equal(d.pending, true);
  assert.equal(d.record, true);
  assert.equal(d.details, DETAIL_BIT.bodies, 'captured while in flight');
  assert.deepEqual(e.end(d, OK), { keep: true, details: 0, tags: null, rule: null });
  const d2 = e.start(req());
  assert.equal(e.end(d2, FAIL).details, DETAIL_BIT.bodies);
  assert.deepEqual(counts(e), { failBodies: [1, 1] }, 'matched counted at the end, once');

  // Drop successful health checks, keep the failed ones.
  const h = engine(ruleList(['health', 'skip', 'path == "/health" and not failed']));
  assert.equal(h.start(req('a', '/other')).pending, false, 'decided NO at the start: nothing pending');
  const hd = h.start(req('a', '/health'));
  assert.equal(hd.record, true, 'recorded provisionally');
  assert.deepEqual(h.end(hd, OK), { keep: false, details: 0, tags: null, rule: hd.undecided[0].rule });
  assert.equal(h.end(h.start(req('a', '/health')), FAIL).keep, true);

  // Default "trace nothing", keep only failures and 5xx.
  const f = engine(ruleList(['errors', 'trace', 'failed or statusClass == 5xx']), { defaultAction: 'skip' });
  const fd = f.start(req());
  assert.equal(fd.record, true, 'might be kept: recorded while in flight');
  assert.equal(f.end(fd, OK).keep, false);
  assert.equal(f.end(f.start(req()), { status: 503 }).keep, true);
  assert.equal(f.end(f.start(req()), FAIL).rule.id, 'errors');

  // Marks decided at the end.
  const m = engine(ruleList(['slowOnes', 'mark', 'slow', { tag: 'slow' }], ['api', 'mark', 'true']));
  const md = m.start(req());
  assert.deepEqual(md.tags, ['api']);
  assert.deepEqual(m.end(md, { status: 200, durationMs: 1500 }).tags, ['api', 'slow']);
  assert.deepEqual(md.tags, ['api'], 'the start decision is not changed');
});

test('rules engine: an undecided trace/skip rule above the start decider overrides it at the end', () => {
  const e = engine(ruleList(['no404', 'skip', 'status == 404'], ['api', 'trace', 'host == "api.example.com"'], ['mark', 'mark', 'true']));
  const d = e.start(req());
  assert.equal(d.rule.id, 'api');
  assert.equal(d.pending, true);
  assert.deepEqual(e.end(d, E404), { keep: false, details: 0, tags: null, rule: d.undecided[0].rule });
  const d2 = e.start(req());
  assert.equal(e.end(d2, OK).keep, true);
  assert.equal(e.end(d2, OK).rule.id, 'api');
  assert.deepEqual(counts(e), { no404: [1, 1], api: [2, 2], mark: [0, 0] });
});

test('rules engine: a request nothing can record has nothing pending (no end needed)', () => {
  const e = engine(ruleList(['failBodies', 'details', 'failed']), { defaultAction: 'skip' });
  const d = e.start(req());
  assert.deepEqual([d.record, d.pending, d.details], [false, false, 0]);
  assert.equal(e.end(d, FAIL).keep, false);
  assert.deepEqual(counts(e), { failBodies: [0, 0] });
});

test('rules engine: limits on end-decided rules count at the end, exactly, with requests in flight', () => {
  const e = engine(ruleList(['firstFail', 'details', 'failed', { limit: 3 }]));
  const inFlight = Array.from({ length: 10 }, () => e.start(req()));
  assert.ok(
    inFlight.every((d) => d.details === DETAIL_BIT.bodies),
    'all capture while the limit is not reached',
  );
  const ends = inFlight.map((d) => e.end(d, FAIL));
  assert.deepEqual(
    ends.map((x) => x.details),
    [1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
  );
  assert.deepEqual(counts(e), { firstFail: [10, 3] });
  assert.equal(e.start(req()).details, 0, 'past the limit: nothing captured any more');
});

test('rules engine: setRules — enable, disable, edit, delete; counters kept for unchanged rules', () => {
  const rules = ruleList(['a', 'skip', 'host == "a"'], ['b', 'details', 'failed']);
  const e = engine(rules);
  e.start(req('a'));
  const inFlight = e.start(req('x'));
  assert.equal(inFlight.pending, true);
  // Disable b while a request is in flight: its undecided rule no longer acts.
  e.setRules([rules[0], { ...rules[1], enabled: false }]);
  assert.equal(e.end(inFlight, FAIL).details, 0);
  assert.deepEqual(counts(e), { a: [1, 1], b: [0, 0] });
  // Re-enable: same meaning, counters kept.
  e.setRules(rules);
  e.start(req('a'));
  assert.deepEqual(counts(e), { a: [2, 2], b: [0, 0] });
  // Edit a's condition: a new rule, counters from zero.
  e.setRules([{ ...rules[0], condition: 'host == "b"' }, rules[1]]);
  assert.equal(e.start(req('a')).record, true);
  assert.equal(e.start(req('b')).record, false);
  assert.deepEqual(counts(e), { a: [1, 1], b: [0, 0] });
  // A limit change keeps the counters and applies at once.
  e.setRules([{ ...rules[0], condition: 'host == "b"', limit: 1 }, rules[1]]);
  assert.equal(e.start(req('b')).record, true, 'limit 1 already reached');
  // Delete everything: back to the fast path.
  e.setRules([]);
  assert.equal(e.mode, 'all');
  assert.deepEqual(e.counters(), []);
  // A bad condition leaves the old list in place.
  e.setRules(rules);
  assert.throws(() => e.setRules([{ ...rules[0], condition: 'host ==' }]), RuleSyntaxError);
  assert.equal(e.start(req('a')).record, false);
});

test('rules engine: the tag field sees marks of rules above, in the same request only', () => {
  const e = engine(
    ruleList(
      ['m', 'mark', 'host == "a"', { tag: 'A' }],
      ['s', 'skip', 'tag == "A" and path ~ "/skip/**"'],
      ['s2', 'skip', 'tag in ["B", "C"]'],
    ),
  );
  assert.equal(e.start(req('a', '/skip/x')).record, false);
  assert.equal(e.start(req('b', '/skip/x')).record, true);
  assert.equal(e.start(req('a', '/keep')).record, true);
  assert.deepEqual(counts(e), { m: [2, 2], s: [1, 1], s2: [0, 0] });
});

test('rules engine: the host index keeps the order of host rules and other rules', () => {
  const e = engine(
    ruleList(
      ['m', 'mark', 'path ~ "/v1/**"', { tag: 'v1' }],
      ['a', 'skip', 'host == "a" and path == "/v1/x"'],
      ['any', 'mark', 'true', { tag: 'any' }],
      ['ab', 'trace', 'host in ["a", "b"] or (host == "c" and method == "GET")'],
      ['not', 'skip', 'not (host == "a")'],
      ['never', 'skip', 'host == "a" and host == "b"'],
    ),
  );
  const a = e.start(req('a', '/v1/x'));
  assert.deepEqual([a.record, a.rule.id, a.tags], [false, 'a', ['v1']]);
  const a2 = e.start(req('A', '/v1/y')); // host compared lower-cased
  assert.deepEqual([a2.record, a2.rule.id, a2.tags], [true, 'ab', ['v1', 'any']]);
  const c = e.start(req('c', '/v2', 'GET'));
  assert.deepEqual([c.record, c.rule.id, c.tags], [true, 'ab', ['any']]);
  const c2 = e.start(req('c', '/v2', 'POST'));
  assert.deepEqual([c2.record, c2.rule.id], [false, 'not']);
  const d = e.start(req('d', '/v1/z'));
  assert.deepEqual([d.record, d.rule.id, d.tags], [false, 'not', ['v1', 'any']]);
  assert.deepEqual(counts(e), { m: [3, 3], a: [1, 1], any: [4, 4], ab: [2, 2], not: [2, 2], never: [0, 0] });
  // Rules for hosts that never occur cost nothing, and many hosts are fine (the cache is bounded).
  const many = engine(ruleList(...Array.from({ length: 100 }, (_, k) => [`h${k}`, 'skip', `host == "h${k}"`])));
  for (let k = 0; k < 2000; k++) assert.equal(many.start(req(`h${k % 700}`)).record, k % 700 >= 100);
  assert.equal(many.counters()[5].matched, 3);
});

test('rules engine: never throws into the program on a view the conditions cannot read', () => {
  const e = engine(ruleList(['h', 'skip', 'header.x-a == "1"'], ['f', 'details', 'errorCode == "E" and method == "GET"']));
  const throwing = {
    ...req(),
    header: () => {
      throw new Error('hook bug');
    },
  };
  assert.equal(e.start(throwing).record, true, 'the default decision');
  assert.equal(e.start({ ...req(), method: undefined }).record, true);
  const d = e.start(req());
  assert.equal(d.pending, true);
  assert.deepEqual(
    e.end(d, {
      get status() {
        throw new Error('x');
      },
      error: {
        get code() {
          throw new Error('y');
        },
      },
    }).keep,
    true,
  );
  assert.equal(engine(ruleList(['h', 'skip', 'header.x-a == "1"']), { defaultAction: 'skip' }).start(throwing).record, false);
});

test('mayRecord: what start() would record, without counting or using up a limit', () => {
  const e = engine(
    ruleList(
      ['tag', 'mark', 'path == "/v1/users"', { tag: 't' }],
      ['health', 'skip', 'path == "/health"', { limit: 1 }],
      ['ok', 'skip', 'path == "/ok" and not failed'],
      ['other', 'skip', 'host == "other.example.com"'],
    ),
  );
  assert.equal(e.mayRecord(req('api.example.com', '/health')), false);
  assert.equal(e.mayRecord(req('api.example.com', '/health')), false, 'no limit used up');
  assert.equal(e.mayRecord(req('api.example.com', '/ok')), true, 'a skip decided at the end may still record');
  assert.equal(e.mayRecord(req('other.example.com', '/x')), false);
  assert.equal(e.mayRecord(req('api.example.com', '/v1/users')), true);
  assert.deepEqual(counts(e), { tag: [0, 0], health: [0, 0], ok: [0, 0], other: [0, 0] }, 'nothing counted');
  assert.equal(e.start(req('api.example.com', '/health')).record, false);
  assert.equal(e.mayRecord(req('api.example.com', '/health')), true, 'the limit reached: the request falls through');
  assert.equal(engine(ruleList(['all', 'trace', 'true']), { defaultAction: 'skip' }).mayRecord(req()), true);
  assert.equal(engine([], { defaultAction: 'skip' }).mayRecord(req()), false);
});

test('rules engine: break rules decided early (startBreak, at fetch()) act and count once, as start() would', () => {
  const rules = ruleList(
    ['api', 'mark', 'host ~ "api.*"'],
    ['tagged', 'mark', 'tag == "api" and method == "POST"', { tag: 'api-write' }],
    ['health', 'skip', 'path == "/v1/health"'],
    ['stop', 'break', 'tag == "api-write"', { limit: 2 }],
    ['stop2', 'break', 'method == "POST"'],
  );
  const early = engine(rules);
  const late = engine(rules);
  const seen = [];
  for (const r of [
    req('api.example.com', '/v1/orders', 'POST'),
    req('api.example.com', '/v1/health', 'POST'),
    req('api.example.com', '/v1/orders', 'GET'),
    req('api.example.com', '/v1/orders', 'POST'),
    req('api.example.com', '/v1/orders', 'POST'),
  ]) {
    const b = early.startBreak(r);
    const d = early.start(r, true);
    assert.equal(d.breakRule, null, 'start() passes over the break rules when told');
    const l = late.start(r);
    assert.equal(b?.breakRule?.id ?? null, l.breakRule?.id ?? null, `${r.method} ${r.target}: the same break rule acts`);
    assert.equal(d.record, l.record);
    assert.deepEqual(d.tags, l.tags);
    seen.push(b?.breakRule?.id ?? null);
  }
  assert.deepEqual(seen, ['stop', null, null, 'stop', 'stop2'], 'a skip above stops the break; the limit moves to the next rule');
  assert.deepEqual(counts(early), counts(late), 'every counter as if decided in one place');
  // No debugger: the decision's acted count is given back, as for start()'s.
  const e = engine(ruleList(['once', 'break', 'true', { limit: 1 }]));
  releaseBreak(e.startBreak(req()));
  assert.equal(e.startBreak(req())?.breakRule.id, 'once');
  assert.deepEqual(counts(e), { once: [2, 1] });
  assert.equal(engine(ruleList(['m', 'mark', 'true'])).startBreak(req()), null, 'no break rule: null');
});

test('rules engine: a plain skip is one shared decision per rule; counters still count each request', () => {
  const e = engine(ruleList(['noisy', 'skip', 'host == "noisy"'], ['tagged', 'mark', 'path == "/t"'], ['rest', 'skip', 'method == "PUT"']));
  const a = e.start(req('noisy'));
  const b = e.start(req('noisy', '/other'));
  assert.equal(a, b, 'the same object');
  assert.ok(Object.isFrozen(a));
  assert.deepEqual([a.record, a.rule.id, a.pending, a.tags, a.breakRule], [false, 'noisy', false, null, null]);
  // A mark acted before the skip: that decision is the request's own.
  const c = e.start(req('api.example.com', '/t', 'PUT'));
  assert.notEqual(c, e.start(req('api.example.com', '/t', 'PUT')));
  assert.deepEqual(c.tags, ['tagged']);
  assert.deepEqual(counts(e), { noisy: [2, 2], tagged: [2, 2], rest: [2, 2] });
  // The rule renamed (same meaning, counters kept): the shared decision names the new rule object.
  e.setRules(ruleList(['noisy', 'skip', 'host == "noisy"', { name: 'renamed' }]));
  assert.equal(e.start(req('noisy')).rule.name, 'renamed');
});

test('rules engine: a trace rule that decides alone is one shared decision too; rules below a mark or an undecided rule decide per request', () => {
  const e = engine(
    ruleList(
      ['skipA', 'skip', 'host == "a"'],
      ['keepB', 'trace', 'host == "b"', { limit: 1 }],
      ['undecided', 'skip', 'host == "c" && failed'],
      ['tagC', 'mark', 'path == "/t"'],
      ['keepC', 'trace', 'host == "c"'],
    ),
  );
  const b1 = e.start(req('b'));
  assert.ok(Object.isFrozen(b1));
  assert.deepEqual([b1.record, b1.rule.id, b1.pending, b1.tags, b1.details], [true, 'keepB', false, null, 0]);
  // Limit used: matched, not acted; below it nothing matches (the undecided rule's host is c), so the default.
  const b2 = e.start(req('b'));
  assert.deepEqual([b2.record, b2.rule, b2.pending], [true, null, false]);
  // Host c: the undecided skip above keepC — decided at the end.
  const c1 = e.start(req('c', '/t'));
  assert.deepEqual([c1.record, c1.rule.id, c1.pending, c1.tags], [true, 'keepC', true, ['tagC']]);
  assert.notEqual(c1, e.start(req('c', '/t')));
  assert.equal(e.end(c1, FAIL).keep, false, 'the skip rule decided at the end');
  assert.deepEqual(counts(e), { skipA: [0, 0], keepB: [2, 1], undecided: [1, 1], tagC: [2, 2], keepC: [2, 2] });
  // Renamed (counters kept): the shared trace decision names the new rule object.
  e.setRules(ruleList(['keepB', 'trace', 'host == "b"', { limit: 1, name: 'renamed' }]));
  assert.equal(e.start(req('b')).rule, null, 'limit still used up');
  e.setRules(ruleList(['keepB', 'trace', 'host == "b"', { limit: 2, name: 'renamed' }]));
  assert.equal(e.start(req('b')).rule.name, 'renamed');
});

test('engine: counts taken back (uncountStart) only where start() counted one rule alone — trace/skip rules without limits, decided at the start', () => {
  const e = engine(
    ruleList(
      ['keep', 'trace', 'method == "POST"'],
      ['drop', 'skip', 'host == "t.example.com"'],
      ['all', 'skip', 'true'],
      ['off', 'skip', 'true', { enabled: false }],
    ),
  );
  assert.equal(e.countsUndoable, true);
  const before = counts(e);
  for (const view of [req('t.example.com'), req('a.example.com', '/', 'POST'), req('b.example.com')]) {
    const d = e.start(view);
    assert.notDeepEqual(counts(e), before, 'start() counted');
    e.uncountStart(d);
    assert.deepEqual(counts(e), before, 'and uncountStart took it back');
  }
  // The default decision counted nothing, and takes nothing back.
  const none = engine(ruleList(['drop', 'skip', 'host == "t.example.com"']));
  const d = none.start(req('other.example.com'));
  none.uncountStart(d);
  assert.deepEqual(counts(none), { drop: [0, 0] });
  // Anything that counts more than the deciding rule, or depends on what was counted, is not undoable.
  for (const [label, rules] of [
    ['a limit', ruleList(['all', 'skip', 'true', { limit: 5 }])],
    ['a mark rule', ruleList(['m', 'mark', 'true', { tag: 'x' }], ['all', 'skip', 'true'])],
    ['a details rule', ruleList(['d', 'details', 'true'], ['all', 'skip', 'true'])],
    ['a break rule', ruleList(['b', 'break', 'host == "x"'], ['all', 'skip', 'true'])],
    ['an end condition', ruleList(['f', 'skip', 'failed'])],
  ]) {
    const u = engine(rules);
    assert.equal(u.countsUndoable, false, label);
    const before2 = counts(u);
    const d2 = u.start(req('x'));
    const after = counts(u);
    u.uncountStart(d2);
    assert.deepEqual(counts(u), after, `${label}: nothing taken back`);
    // (An end condition is counted at the end, by end().)
    if (label !== 'an end condition') assert.notDeepEqual(after, before2, `${label}: start() counted`);
  }
});

test('rules engine: a limit per session — this instance acts up to the limit less the other instances’ acts; turned on again, it counts anew', () => {
  const rules = ruleList(['three', 'fail', 'true', { fail: 'refused', limit: 3, limitPer: 'session' }]);
  assert.equal(rules[0].limitPer, 'session');
  const e = engine(rules, { instance: 'me' });
  const acts = () => {
    let n = 0;
    for (let i = 0; i < 5; i++) if (e.start(req()).whatIf !== null) n++;
    return n;
  };
  // The others acted twice (and this instance's own entry, once, is its own count): one left here.
  e.setRules(rules, 'trace', { three: { other: 2, me: 1 } });
  assert.equal(acts(), 1);
  assert.deepEqual(counts(e), { three: [5, 1] });
  // The others acted on three: none left, whatever this instance did.
  e.setRules(rules, 'trace', { three: { other: 2, '*': 1 } });
  assert.equal(acts(), 0);
  assert.equal(e.counters()[0].limitReached, true);
  // No acts known: the limit alone (this instance already acted once).
  e.setRules(rules, 'trace');
  assert.equal(acts(), 2);
  // Disabled, then on again: its counts start anew (the collector's too), three more.
  e.setRules([{ ...rules[0], enabled: false }], 'trace');
  e.setRules(rules, 'trace');
  assert.deepEqual(counts(e), { three: [0, 0] });
  assert.equal(acts(), 3);
  // A limit per process ignores the acts of others.
  const per = ruleList(['each', 'fail', 'true', { fail: 'refused', limit: 3 }]);
  const f = engine(per, { instance: 'me' });
  f.setRules(per, 'trace', { each: { other: 3 } });
  let n = 0;
  for (let i = 0; i < 5; i++) if (f.start(req()).whatIf !== null) n++;
  assert.equal(n, 3);
  // "limitPer" is checked; per session needs a limit to count (dropped without one).
  assert.throws(
    () => validateRule({ id: 'x', action: 'skip', condition: 'true', limit: 1, limitPer: 'thread' }),
    /"limitPer" must be "process"/,
  );
  assert.equal(validateRule({ id: 'x', action: 'skip', condition: 'true', limitPer: 'session' }).limitPer, undefined);
  assert.equal(validateRule({ id: 'x', action: 'skip', condition: 'true', limit: 2, limitPer: 'process' }).limitPer, undefined);
});
