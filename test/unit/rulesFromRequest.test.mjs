// covers: src/rules/, src/trace/contract/routeTemplate.ts
// Rules made from one request (src/rules/fromRequest.ts), for the panel's row menu: the condition
// of "break on requests like this" (method, host, explicit port, path with id-like segments
// globbed), "skip requests to this host" and "capture bodies of these"; each condition parses,
// validates as its action and matches the request it came from (and its siblings, not others).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs([
  "export * from './src/rules/fromRequest';",
  "export * from './src/rules';",
  "export { isValueSegment } from './src/trace/contract/routeTemplate';",
]);

/** Does `condition` hold for a GET/POST … of `url` as the request starts? */
function matches(condition, method, url) {
  const c = m.compileCondition(condition, { process: { pid: 1, threadId: 0, command: 'node' } });
  // The request target as the program wrote it (new URL() would normalize quotes and backslashes).
  const p = m.urlParts(url);
  const query = /\?[^#]*/.exec(url)?.[0] ?? '';
  const view = {
    method,
    scheme: p.scheme,
    host: p.host,
    port: p.port ?? (p.scheme === 'https' ? 443 : 80),
    target: p.path + query,
    client: 'http',
  };
  return c.atStart(new m.RequestFacts(view)) === m.YES;
}

test('id-like path segments: numbers, UUIDs, hex, long mixed tokens; words and versions are not', () => {
  for (const s of ['42', '0', '123e4567-e89b-12d3-a456-426614174000', 'deadbeef01', '507f1f77bcf86cd799439011', 'aZ3kP9qL2mN8xV1w'])
    assert.equal(m.isValueSegment(s), true, s);
  for (const s of ['', 'users', 'v1', 'v2beta', 'orders', 'index.html', 'deadbeef', 'health-check', 'abcdefabcdefabcdef'])
    assert.equal(m.isValueSegment(s), false, s);
});

test('break: method + host + port + path shape; the id segments become *, other segments stay literal', () => {
  const req = { reqMethod: 'get', reqURL: 'https://API.Example.com/v1/users/42/orders/9f86d081884c?page=2' };
  const cond = m.conditionFromRequest('break', req);
  assert.equal(cond, 'method == "GET" and host == "api.example.com" and path ~ "/v1/users/*/orders/*"');
  const rule = m.validateRule(m.ruleFromRequest('break', req));
  assert.equal(rule.action, 'break');
  assert.equal(rule.enabled, true, 'a rule made from the row menu acts at once');
  assert.equal(rule.limit, null);
  assert.equal(rule.id, 'break-get-api.example.com-v1-users-orders');
  assert.equal(rule.name, 'Break on GET api.example.com/v1/users/*/orders/*');
  assert.equal(matches(cond, 'GET', 'https://api.example.com/v1/users/42/orders/9f86d081884c'), true, 'the request itself');
  assert.equal(matches(cond, 'GET', 'https://api.example.com/v1/users/7/orders/00ab12cd34ef?x=1'), true, 'a sibling');
  assert.equal(matches(cond, 'POST', 'https://api.example.com/v1/users/7/orders/1'), false, 'another method');
  assert.equal(matches(cond, 'GET', 'https://api.example.com/v1/users/7/invoices/1'), false, 'another path');
  assert.equal(matches(cond, 'GET', 'https://api.example.com/v1/users/7/orders/1/items'), false, '* is one segment');
  assert.equal(matches(cond, 'GET', 'https://other.example.com/v1/users/7/orders/1'), false, 'another host');
});

test('no id segment: the path is compared exactly; an explicit port is part of "like this"; IPv6 hosts lose their brackets', () => {
  const cond = m.conditionFromRequest('break', { reqMethod: 'POST', reqURL: 'http://localhost:3000/api/login' });
  assert.equal(cond, 'method == "POST" and host == "localhost" and port == 3000 and path == "/api/login"');
  assert.equal(matches(cond, 'POST', 'http://localhost:3000/api/login'), true);
  assert.equal(matches(cond, 'POST', 'http://localhost:4000/api/login'), false);
  assert.equal(m.conditionFromRequest('skipHost', { reqURL: 'http://[::1]:8080/x' }), 'host == "::1"');
  assert.equal(
    m.conditionFromRequest('break', { reqMethod: 'GET', reqURL: 'https://a.test' }),
    'method == "GET" and host == "a.test" and path == "/"',
  );
});

test('special characters are quoted and escaped for the language: quotes, backslashes, glob stars in literal segments', () => {
  const req = { reqMethod: 'GET', reqURL: 'http://a.test/files/we"ird\\na*me?/12345' };
  const cond = m.conditionFromRequest('break', { ...req, reqURL: 'http://a.test/files/we"ird\\na*me/12345' });
  // The glob escapes the backslash and the star (\\ and \*), then the string literal escapes every backslash.
  assert.equal(cond, String.raw`method == "GET" and host == "a.test" and path ~ "/files/we\"ird\\\\na\\*me/*"`);
  m.validateRule({ id: 'x', action: 'break', condition: cond }); // parses and checks
  assert.equal(
    matches(cond, 'GET', 'http://a.test/files/we"ird\\na*me/9'),
    true,
    'the literal segment, quote, backslash and star included',
  );
  assert.equal(matches(cond, 'GET', 'http://a.test/files/we"ird\\naXme/9'), false, 'the * of the name is literal, not a glob');
  assert.equal(m.quote('a\u0001b'), '"a\\u0001b"');
  assert.equal(matches(`host == ${m.quote('a.test')} and path == ${m.quote('/x"y')}`, 'GET', 'http://a.test/x"y'), true);
  assert.equal(m.conditionFromRequest('break', req).includes('?'), false, 'the query is not part of the path');
});

test('skip host and capture bodies: the right actions and details, enabled, ids unique among the taken ones', () => {
  const req = { reqMethod: 'GET', reqURL: 'https://telemetry.example.com/v2/events/123' };
  const skip = m.validateRule(m.ruleFromRequest('skipHost', req));
  assert.equal(skip.condition, 'host == "telemetry.example.com"');
  assert.equal(skip.action, 'skip');
  assert.equal(skip.enabled, true);
  assert.equal(skip.id, 'skip-telemetry.example.com');
  assert.equal(skip.name, 'Skip requests to telemetry.example.com');
  assert.equal(matches(skip.condition, 'POST', 'https://telemetry.example.com/anything'), true);

  const bodies = m.validateRule(m.ruleFromRequest('bodies', req));
  assert.equal(bodies.action, 'details');
  assert.deepEqual(bodies.details, ['bodies']);
  assert.equal(bodies.condition, 'method == "GET" and host == "telemetry.example.com" and path ~ "/v2/events/*"');
  assert.equal(bodies.enabled, true);

  const taken = new Set(['skip-telemetry.example.com', 'skip-telemetry.example.com-2']);
  assert.equal(m.ruleFromRequest('skipHost', req, taken).id, 'skip-telemetry.example.com-3');
  assert.equal(m.ruleFromRequest('skipHost', { reqURL: 'not a url' }), undefined);
  assert.equal(m.ruleFromRequest('break', { reqMethod: 'GET' }), undefined);
});
