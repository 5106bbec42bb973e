// covers: src/rules/whatIfActions.ts
// needs: the build (dist/rules.cjs)
// What-if rules (issue 51 item 1, src/rules/whatIfActions.ts, docs/rules.md "What-if actions"): the model's
// actions are parsed, the implemented kinds accepted, every other one refused with a message naming
// it (never silently ignored), and the engine hands the first matching what-if rule to the hooks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const {
  validateRule,
  validateRules,
  ruleFromShortForm,
  parseRuleShortForm,
  RuleEngine,
  RuleValidationError,
  WHAT_IF_IMPLEMENTED,
  WHAT_IF_FAMILY,
  whatIfGaps,
  whatIfKey,
  parseWhatIf,
  describeWhatIf,
} = require('../../dist/rules.cjs');

/** A what-if rule's parameters as the model reads them (every kind, implemented or not). */
function spec(action, value) {
  return parseWhatIf(action, value, (field, msg) => {
    throw new RuleValidationError(msg, field, 'a');
  });
}

/** One rule of each key of the model (whatIfKey), with its parameters. */
function allSamples() {
  return [
    ['fail', 'refused'],
    ['fail', 'dns-notfound'],
    ['fail', { kind: 'reset' }],
    ['fail', { kind: 'reset', afterBytes: 5 }],
    ['fail', { kind: 'tls', tls: 'expired' }],
    ['fail', { kind: 'tls', tls: 'wrong-host' }],
    ['fail', { kind: 'timeout' }],
    ['fail', { kind: 'status', status: 503 }],
    ['delay', { phase: 'connect', ms: 5 }],
    ['delay', { phase: 'first-byte', ms: 5 }],
    ['throttle', { rate: 100 }],
    ['respond', { status: 200 }],
    ['override', { status: 200 }],
  ];
}

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

test('every kind of the model is validated and normalized, whatever is implemented (whatIfSpec)', () => {
  assert.deepEqual(spec('fail', 'reset'), { fail: { kind: 'reset', at: 'before-response' } });
  assert.deepEqual(spec('fail', { kind: 'reset', afterBytes: 100 }), { fail: { kind: 'reset', at: 'mid-body', afterBytes: 100 } });
  assert.deepEqual(spec('fail', { kind: 'tls', tls: 'expired' }), { fail: { kind: 'tls', tls: 'expired' } });
  assert.deepEqual(spec('fail', 'timeout'), { fail: { kind: 'timeout' } });
  assert.deepEqual(spec('fail', { kind: 'status', status: 503, headers: { 'Retry-After': '1' }, body: 'busy' }), {
    fail: { kind: 'status', status: 503, headers: { 'Retry-After': '1' }, body: 'busy' },
  });
  assert.deepEqual(spec('delay', 200), { delay: { phase: 'first-byte', ms: 200 } });
  assert.deepEqual(spec('delay', { phase: 'connect', ms: 10, maxMs: 30 }), { delay: { phase: 'connect', ms: 10, maxMs: 30 } });
  assert.deepEqual(spec('throttle', 'SLOW 3g'), { throttle: { rate: 'slow 3G' } });
  assert.deepEqual(spec('throttle', { rate: 1000 }), { throttle: { rate: 1000 } });
  assert.deepEqual(spec('respond', { status: 200, bodyFile: '/tmp/x.json' }), { respond: { status: 200, bodyFile: '/tmp/x.json' } });
  assert.deepEqual(spec('override', { headers: { 'x-a': null } }), { override: { headers: { 'x-a': null } } });
  const bad = [
    ['fail', 'nope', /unknown fail kind "nope"/],
    ['fail', undefined, /a fail rule needs "fail"/],
    ['fail', { kind: 'refused', status: 503 }, /takes no "status"/],
    ['fail', { kind: 'reset', at: 'before-response', afterBytes: 3 }, /"afterBytes" applies only/],
    ['fail', { kind: 'reset', afterBytes: -1 }, /"afterBytes" must be a whole number/],
    ['fail', { kind: 'tls', tls: 'self-signed' }, /"tls" must be one of expired, wrong-host/],
    ['fail', { kind: 'status' }, /"status" must be a whole number from 100 to 999/],
    ['fail', { kind: 'status', status: 503, headers: { 'a b': 'x' } }, /not a valid HTTP header name/],
    ['fail', { kind: 'status', status: 503, headers: { a: 'x\r\ny: z' } }, /without line breaks/],
    ['delay', { phase: 'dns', ms: 1 }, /"phase" must be one of connect, first-byte/],
    ['delay', { ms: 50, maxMs: 10 }, /"maxMs" must be at least "ms"/],
    ['delay', { ms: -1 }, /"ms" must be a number of milliseconds/],
    ['throttle', 'slow 2G', /unknown rate "slow 2G"/],
    ['throttle', { rate: 0 }, /"rate" must be/],
    ['respond', { status: 200, body: 'a', bodyFile: 'b' }, /"body" or "bodyFile", not both/],
    ['respond', {}, /"status" must be/],
    ['override', {}, /changes nothing/],
    ['override', { header: {} }, /takes no "header"/],
  ];
  for (const [action, value, re] of bad) assert.throws(() => spec(action, value), re, `${action} ${JSON.stringify(value)}`);
});

test('WHAT_IF_IMPLEMENTED: a rule is read only for the clients that implement it; for another one the engine says so, once per request, and counts nothing', () => {
  const samples = allSamples();
  const clients = ['http', 'https', 'fetch', 'undici', 'http2'];
  for (const [action, value] of samples) {
    const key = whatIfKey(action, spec(action, value));
    const families = Object.keys(WHAT_IF_IMPLEMENTED).filter((f) => WHAT_IF_IMPLEMENTED[f].includes(key));
    if (families.length === 0) {
      assert.throws(
        () => validateRule({ id: 'a', condition: 'true', action, [action]: value }),
        (e) => e instanceof RuleValidationError && e.message.includes(`${key} is not implemented yet for any client`),
        key,
      );
      continue;
    }
    const rule = validateRule({ id: 'w', condition: 'true', action, [action]: value, enabled: true });
    const told = [];
    const e = new RuleEngine([rule], { process: proc, onWhatIfGap: (r, client) => told.push(`${r.id} ${client}`) });
    for (const client of clients) {
      const acts = families.includes(WHAT_IF_FAMILY[client]);
      // Over TLS, so that a `fail tls` rule may act (on a plain request it cannot: tested below).
      const d = e.start({ ...view(), scheme: 'https', client });
      assert.equal(d.whatIf?.id ?? null, acts ? 'w' : null, `${key} on ${client}`);
      if (!acts) {
        assert.deepEqual(told.splice(0), [`w ${client}`], `${key} on ${client}: the gap is told`);
      }
    }
    const acted = e.counters()[0].acted;
    assert.equal(acted, clients.filter((c) => families.includes(WHAT_IF_FAMILY[c])).length, key);
    const gapText = whatIfGaps(action, rule);
    assert.equal(gapText === undefined, families.length === Object.keys(WHAT_IF_IMPLEMENTED).length, key);
    if (gapText) assert.match(gapText, new RegExp(`^${key} is not implemented yet for `));
  }
  // Every client maps to a family of the table.
  for (const c of clients) assert.ok(WHAT_IF_IMPLEMENTED[WHAT_IF_FAMILY[c]], c);
});

test('http/https implement every kind of the model', () => {
  for (const [action, value] of allSamples()) assert.ok(WHAT_IF_IMPLEMENTED.http.includes(whatIfKey(action, spec(action, value))), action);
});

test('a tls failure has a key per certificate problem, so a family can implement one without the other', () => {
  assert.equal(whatIfKey('fail', spec('fail', { kind: 'tls', tls: 'expired' })), 'fail tls expired');
  assert.equal(whatIfKey('fail', spec('fail', { kind: 'tls', tls: 'wrong-host' })), 'fail tls wrong-host');
  for (const key of ['fail tls expired', 'fail tls wrong-host', 'delay connect'])
    assert.ok(WHAT_IF_IMPLEMENTED.undici.includes(key), `fetch/undici implement ${key}`);
});

test('the one-line form: every what-if option', () => {
  const cases = [
    ['fail fail=reset true', 'fail', { kind: 'reset', at: 'before-response' }],
    ['fail fail=reset:1024 true', 'fail', { kind: 'reset', at: 'mid-body', afterBytes: 1024 }],
    ['fail fail=tls-wrong-host true', 'fail', { kind: 'tls', tls: 'wrong-host' }],
    ['fail fail=503 true', 'fail', { kind: 'status', status: 503 }],
    ['fail fail=timeout true', 'fail', { kind: 'timeout' }],
    ['delay delay=200 true', 'delay', { phase: 'first-byte', ms: 200 }],
    ['delay delay=connect:100-300 true', 'delay', { phase: 'connect', ms: 100, maxMs: 300 }],
    ['throttle throttle="slow 3G" true', 'throttle', { rate: 'slow 3G' }],
    ['throttle throttle=fast-4G true', 'throttle', { rate: 'fast 4G' }],
    ['throttle throttle=50000 true', 'throttle', { rate: 50000 }],
    ['respond respond=503 true', 'respond', { status: 503 }],
    ['respond respond=200:@answer.json true', 'respond', { status: 200, bodyFile: 'answer.json' }],
    ['override override=503 true', 'override', { status: 503 }],
  ];
  for (const [text, action, want] of cases) {
    const input = parseRuleShortForm(text, 'r');
    assert.deepEqual(spec(action, input[action])[action], want, text);
    assert.equal(input.condition, 'true', text);
  }
});

test('describeWhatIf says what each action does', () => {
  assert.equal(describeWhatIf('fail', { fail: { kind: 'reset', at: 'mid-body', afterBytes: 10 } }), 'fail reset after 10 body bytes');
  assert.equal(describeWhatIf('fail', { fail: { kind: 'tls', tls: 'expired' } }), 'fail tls expired');
  assert.equal(describeWhatIf('delay', { delay: { phase: 'connect', ms: 10, maxMs: 20 } }), 'delay connect 10–20 ms');
  assert.equal(describeWhatIf('throttle', { throttle: { rate: 'slow 3G' } }), 'throttle slow 3G');
  assert.equal(describeWhatIf('respond', { respond: { status: 503 } }), 'respond 503');
  assert.equal(describeWhatIf('override', { override: { status: 500, body: 'x' } }), 'override status 500, body');
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
  assert.throws(() => ruleFromShortForm('fail fail=tls true', 'r1'), /"tls" must be one of expired, wrong-host/);
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

test('a what-if rule is not read for the requests of a family that does not implement it: no count, no whatIf', () => {
  // Every family implements every key today: one is taken out of the table for the test (the
  // mechanism is there for the next kind), and put back.
  const list = WHAT_IF_IMPLEMENTED.http2;
  const at = list.indexOf('throttle');
  assert.ok(at >= 0);
  list.splice(at, 1);
  try {
    const e = new RuleEngine(validateRules([{ id: 'o', condition: 'true', action: 'throttle', throttle: 1000, enabled: true }]), {
      process: proc,
    });
    const d = e.start({ ...view(), scheme: 'https', client: 'http2' });
    assert.equal(d.whatIf ?? null, null);
    assert.equal(e.counters()[0].matched, 0);
    assert.equal(e.start({ ...view(), scheme: 'https', client: 'fetch' }).whatIf?.id, 'o');
  } finally {
    list.splice(at, 0, 'throttle');
  }
});

test('a fail tls rule acts only on requests over TLS: a plain http request is neither matched nor counted as acted', () => {
  const e = new RuleEngine(
    validateRules([
      { id: 'cert', condition: 'host == "api.example.com"', action: 'fail', fail: { kind: 'tls', tls: 'expired' }, enabled: true },
    ]),
    { process: proc },
  );
  assert.equal(e.start({ ...view(), scheme: 'http', client: 'http' }).whatIf ?? null, null, 'plain http: no handshake to fail');
  assert.equal(e.start({ ...view(), scheme: 'http', client: 'fetch' }).whatIf ?? null, null, 'plain fetch');
  assert.equal(e.counters()[0].acted, 0);
  assert.equal(e.counters()[0].matched, 0);
  assert.equal(e.start({ ...view(), scheme: 'https', client: 'https' }).whatIf?.id, 'cert');
  assert.equal(e.start({ ...view(), scheme: 'https', client: 'fetch' }).whatIf?.id, 'cert');
  assert.equal(e.counters()[0].acted, 2);
});

test('a fail tls rule whose condition holds for no request over TLS is refused; one that does not say is accepted', () => {
  const tls = (condition) => () => validateRule({ id: 'x', action: 'fail', fail: { kind: 'tls', tls: 'expired' }, condition });
  const refused = [
    'scheme == "http"',
    'scheme == "HTTP"',
    'scheme in ["http", "ws"]',
    'scheme == "http" and host == "a.example.com"',
    'host == "a" and (scheme == "http" or scheme == "ws")',
    'url == "http://a.example.com/x"',
    'url in ["http://a/", "ws://b/"]',
    'url ~ "http://a.example.com/**"',
    'url startsWith "http:"',
    'url =~ /^http:\\/\\//',
    'url =~ /^HTTP:/i',
    'not scheme == "https" and not (scheme in ["https", "wss"])',
    'false',
  ];
  for (const c of refused) assert.throws(tls(c), /"x": a fail tls rule acts only on requests over TLS \(https, wss\).*could never act/, c);
  const accepted = [
    'true',
    'host == "a.example.com"',
    'port == 80',
    'scheme == "https"',
    'scheme != "https"', // wss
    'not scheme == "http"',
    'scheme == "http" or host == "a"',
    'url != "http://a/"',
    'url contains "http://"',
    'url startsWith "http"',
    'url ~ "*://a.example.com/**"',
    'url =~ /^https?:/',
    'url =~ /http:/',
    'url =~ /^http:|^https:/',
    'client == "http"',
  ];
  for (const c of accepted) assert.doesNotThrow(tls(c), c);
  // Other kinds are not concerned: a plain request can be refused or reset.
  assert.doesNotThrow(() => validateRule({ id: 'x', action: 'fail', fail: 'refused', condition: 'scheme == "http"' }));
});
