// covers: src/rules/
// needs: the build (dist/rules.cjs)
// Trace rules (issue 16): the condition language. Grammar, every field and operator, error
// positions, three-valued start evaluation, and hostile input (length, nesting, patterns).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const rules = createRequire(import.meta.url)('../../dist/rules.cjs');
const { compileCondition, RequestFacts, RuleSyntaxError, YES, NO, UNKNOWN } = rules;

const proc = { pid: 4242, threadId: 0, command: 'node /srv/app/server.js --port 3000' };
const compile = (src, opts = {}) => compileCondition(src, { process: proc, ...opts });

/** A request as it starts (defaults: GET https://api.example.com/v1/users?page=2&q=a%20b). */
function start(over = {}) {
  const headers = over.headers ?? { 'content-type': 'application/json', 'x-request-id': 'abc-123', authorization: 'Bearer t' };
  return {
    method: 'get',
    scheme: 'https',
    host: 'API.Example.com',
    port: 443,
    target: '/v1/users?page=2&q=a%20b',
    client: 'fetch',
    header: (n) => headers[n],
    ...over,
  };
}
/** Facts of a request that ended with `end` (or that is still starting when end is null). */
function facts(startOver = {}, end = null) {
  const f = new RequestFacts(start(startOver));
  f.end = end;
  return f;
}
const ok = { status: 200, error: null, durationMs: 120, reqSize: 0, respSize: 2048 };
const failed = { error: { code: 'ECONNREFUSED', phase: 'connect' }, durationMs: 3 };

/** Evaluates a condition on a request that ended (default: 200 OK). */
function holds(src, startOver = {}, end = ok, opts = {}) {
  return compile(src, opts).atEnd(facts(startOver, end));
}

test('rules condition: start fields and their operators', () => {
  const cases = [
    ['method == "GET"', true],
    ['method == "get"', true], // method compared case-insensitively
    ['method != "POST"', true],
    ['method in ["POST", "get"]', true],
    ['method in ["POST", "PUT"]', false],
    ['url == "https://api.example.com/v1/users?page=2&q=a%20b"', true],
    ['url startsWith "https://api.example.com/"', true],
    ['url endsWith "q=a%20b"', true],
    ['url contains "/v1/"', true],
    ['url ~ "https://*.example.com/**"', true],
    ['url ~ "https://*/v1"', false],
    ['scheme == "HTTPS"', true],
    ['scheme == "http"', false],
    ['host == "api.example.com"', true], // host lower-cased on both sides
    ['host == "API.EXAMPLE.COM"', true],
    ['host ~ "*.example.com"', true],
    ['host ~ "*.example.org"', false],
    ['host ~ "api.example.???"', true],
    ['host =~ /^api\\./', true],
    ['host =~ /EXAMPLE/', false], // regex is case-sensitive without i ...
    ['host =~ /EXAMPLE/i', true], // ... and with i it is not
    ['port == 443', true],
    ['port > 442 and port < 444 and port >= 443 and port <= 443', true],
    ['port in [80, 8080]', false],
    ['path == "/v1/users"', true],
    ['path ~ "/v1/*"', true],
    ['path ~ "/*"', false], // * stops at /
    ['path ~ "/**"', true],
    ['path ~ "/v?/users"', true],
    ['path =~ "^/v[0-9]+/"', true],
    ['query == "page=2&q=a%20b"', true],
    ['query contains "page="', true],
    ['query.page == "2"', true],
    ['query.q == "a b"', true], // decoded
    ['query.missing', false],
    ['query.page', true],
    ['query["page"] == "2"', true],
    ['not query.missing', true],
    ['query.missing != "x"', true], // != is "not ==": true for an absent value
    ['header.x-request-id == "abc-123"', true],
    ['header.X-Request-ID startsWith "abc"', true], // header names case-insensitive
    ['header["content-type"] contains "json"', true],
    ['header.cookie', false],
    ['header.authorization', true],
    ['client == "fetch"', true],
    ['client in ["http", "https"]', false],
    ['tag', false],
    ['tag == "x"', false],
    ['true', true],
    ['false', false],
  ];
  for (const [src, want] of cases) assert.equal(holds(src), want, src);
});

test('rules condition: process fields are folded to constants for the process', () => {
  assert.equal(compile('pid == 4242').constant, true);
  assert.equal(compile('pid != 4242').constant, false);
  assert.equal(compile('threadId == 0 and command ~ "**server.js**"').constant, true);
  assert.equal(compile('command contains "worker" or host == "a"').constant, undefined);
  assert.equal(compile('command contains "worker" and host == "a"').constant, false);
  assert.equal(compile('command contains "server" or status == 500').constant, true);
  assert.equal(compile('command contains "server" or status == 500').startDecidable, true);
  // Another process: the same text folds the other way.
  const other = compileCondition('pid == 4242', { process: { ...proc, pid: 7 } });
  assert.equal(other.constant, false);
});

test('rules condition: end fields, missing values and units', () => {
  const e500 = { status: 503, error: null, durationMs: 2500, reqSize: 10_000, respSize: 1_500_000 };
  const cases = [
    ['status == 200', ok, true],
    ['status >= 500', e500, true],
    ['status >= 500', failed, false], // no status: comparisons are false
    ['status != 200', failed, true],
    ['statusClass == 5xx', e500, true],
    ['statusClass == "5XX"', e500, true],
    ['statusClass in [4xx, 5xx]', ok, false],
    ['statusClass != 2xx', ok, false],
    ['statusClass', failed, false],
    ['failed', failed, true],
    ['failed', ok, false],
    ['not failed', ok, true],
    ['failed == false', ok, true],
    ['failed != true', ok, true],
    ['errorCode == "ECONNREFUSED"', failed, true],
    ['errorCode startsWith "ECONN"', failed, true],
    ['errorCode', ok, false],
    ['errorPhase == "CONNECT"', failed, true],
    ['errorPhase in ["dns", "tls"]', failed, false],
    ['timedOut', { error: { code: 'ETIMEDOUT', phase: 'response', timedOut: true } }, true],
    ['timedOut', failed, false],
    ['aborted', { error: { phase: 'request', aborted: true } }, true],
    ['slow', e500, true], // 2500 ms > default 1000 ms
    ['slow', ok, false],
    ['slow', { ...failed, durationMs: 5000 }, false], // a failure is not "slow"
    ['duration > 2s', e500, true],
    ['duration > 2.5s', e500, false],
    ['duration >= 2500ms', e500, true],
    ['duration < 1m', e500, true],
    ['duration > 2499', e500, true], // a bare number is ms
    ['reqSize == 10kb', e500, true], // kb = 1000
    ['respSize > 1mib', e500, true], // mib = 1048576
    ['respSize > 1.5mb', e500, false],
    ['respSize <= 2KiB', ok, true],
    ['respSize < 2KiB', ok, false],
    ['reqSize == 0b', ok, true],
  ];
  for (const [src, end, want] of cases) assert.equal(holds(src, {}, end), want, `${src} on ${JSON.stringify(end)}`);
  assert.equal(holds('slow', {}, ok, { slowThresholdMs: 100 }), true, 'slowThresholdMs is honoured');
});

test('rules condition: precedence of not, and, or; parentheses; symbol spellings', () => {
  // and binds tighter than or: a or (b and c)
  assert.equal(holds('true or false and false'), true);
  assert.equal(holds('(true or false) and false'), false);
  assert.equal(holds('not true or true'), true); // (not true) or true
  assert.equal(holds('not (true or true)'), false);
  assert.equal(holds('not not true'), true);
  assert.equal(holds('! false && (false || true)'), true);
  assert.equal(holds('TRUE AND NOT FALSE'), true); // keywords in any case
  assert.equal(holds('HOST == "api.example.com" And Method == "GET"'), true); // field names too
  assert.equal(holds('method=="GET"&&port==443'), true); // no spaces needed
  assert.equal(holds('path ~ "/v1/users" or\n  host == "x"'), true); // newlines are spaces
});

test('rules condition: start-decidable vs end-decidable, and three-valued start evaluation', () => {
  const startOnly = compile('host == "api.example.com" and not path ~ "/health"');
  assert.equal(startOnly.startDecidable, true);
  const atEnd = compile('host == "api.example.com" and failed');
  assert.equal(atEnd.startDecidable, false);
  assert.deepEqual(atEnd.fields.sort(), ['failed', 'host']);
  // At the start, end fields are unknown: "and" with a false side is already false, "or" with a true side already true.
  const f = facts();
  assert.equal(atEnd.atStart(f), UNKNOWN);
  assert.equal(atEnd.atStart(facts({ host: 'other' })), NO);
  assert.equal(compile('host == "api.example.com" or failed').atStart(f), YES);
  assert.equal(compile('host == "other" or failed').atStart(f), UNKNOWN);
  assert.equal(compile('not failed').atStart(f), UNKNOWN);
  assert.equal(compile('not (failed and host == "other")').atStart(f), YES);
  assert.equal(compile('status != 200 and path == "/nope"').atStart(f), NO);
  // Once ended, the same closure decides.
  assert.equal(atEnd.atStart(facts({}, failed)), YES);
  assert.equal(atEnd.atEnd(facts({}, ok)), false);
});

/** The RuleSyntaxError of a condition: [reason, column]. */
function syntaxError(src) {
  try {
    compile(src);
  } catch (e) {
    assert.ok(e instanceof RuleSyntaxError, `${src}: ${e}`);
    assert.equal(e.column, e.offset + 1);
    assert.ok(e.message.includes(`at column ${e.column}`), e.message);
    // The caret sits under the offending column of the excerpt.
    const [line, caret] = e.excerpt.split('\n');
    assert.equal(caret.indexOf('^') - 2, src.length <= 60 ? e.offset : caret.indexOf('^') - 2);
    if (src.length <= 60) assert.equal(line, `  ${src.replace(/[\n\t]/g, ' ')}`);
    return [e.reason, e.column];
  }
  assert.fail(`no error for ${src}`);
}

test('rules condition: errors name the problem and point at its column', () => {
  const cases = [
    ['', /empty condition/, 1],
    ['host = "x"', /"=" is not an operator/, 6],
    ['host == x', /expected a quoted string.*write "x" in quotes/, 9],
    ['hots == "x"', /unknown field "hots"/, 1],
    ['host == "x" and', /expected a field name.*end of the condition/, 16],
    ['host == "x" host == "y"', /expected "and", "or"/, 13],
    ['(host == "x"', /expected "\)" to close the "\(" at column 1/, 13],
    ['host == "x")', /unmatched "\)"/, 12],
    ['host == "x', /unterminated string/, 9],
    ['status == "200"', /status is a number: expected a number/, 11],
    ['status ~ "2*"', /"~" does not apply to the number status/, 8],
    ['failed == 1', /failed is true or false/, 11],
    ['failed > true', /">" does not apply to failed/, 8],
    ['method < "GET"', /"<" does not apply to the string method/, 8],
    ['duration > 3kb', /"kb" is not a duration unit/, 12],
    ['port > 3s', /port takes a plain number/, 8],
    ['duration > 3parsecs', /unknown unit "parsecs"/, 13],
    ['statusClass == 6xx', /status classes are 1xx, 2xx/, 16],
    ['statusClass == 200', /expected 1xx, 2xx/, 16],
    ['method in []', /empty list/, 12],
    ['method in ["GET" "POST"]', /expected "," or "\]"/, 18],
    ['method in "GET"', /expected "\[" after "in"/, 11],
    ['host # "x"', /unexpected character "#"/, 6],
    ['path =~ "(a"', /bad regex: unclosed "\("/, 10],
    ['path =~ /a(?=b)/', /lookaround/, 11],
    ['path =~ /(a)\\1/', /backreferences/, 13],
    ['path =~ /a**/', /a quantifier cannot follow another/, 12],
    ['path =~ /*a/', /nothing to repeat/, 10],
    ['path =~ /a/g', /unknown regex flag "g"/, 12],
    ['path =~ /\\bword/', /word boundaries/, 10],
    ['path =~ /a{3,1}/', /n < m/, 11],
    ['path =~ /abc', /unterminated regex/, 9],
    ['path ~ /abc/', /unexpected character "\/"/, 8],
    ['path == "a\\qb"', /unknown escape "\\q" in string/, 11],
    ['tag < "x"', /"<" does not apply to tag/, 5],
    ['query[page] == "1"', /expected a quoted parameter name/, 7],
  ];
  for (const [src, reason, column] of cases) {
    const [got, col] = syntaxError(src);
    assert.match(got, reason, src);
    assert.equal(col, column, `${src}: ${got}`);
  }
});

test('rules condition: a long condition gets a windowed excerpt with the caret in place', () => {
  const src = `${'host == "a" or '.repeat(10)}hots == "x" or ${'host == "b" or '.repeat(10)}true`;
  try {
    compile(src);
    assert.fail('no error');
  } catch (e) {
    assert.equal(e.offset, src.indexOf('hots'));
    const [line, caret] = e.excerpt.split('\n');
    assert.ok(line.startsWith('  …') && line.endsWith('…'), line);
    assert.equal(line.slice(caret.indexOf('^'), caret.indexOf('^') + 4), 'hots');
  }
});

test('rules condition: hostile input is rejected or bounded', () => {
  // Length
  assert.throws(() => compile(`host == "${'a'.repeat(5000)}"`), /condition longer than 4096/);
  // Nesting: 32 levels pass, 33 do not (parentheses and not alike); no stack overflow on deep input.
  assert.equal(holds(`${'('.repeat(32)}true${')'.repeat(32)}`), true);
  assert.throws(() => compile(`${'('.repeat(33)}true${')'.repeat(33)}`), /nested too deeply/);
  assert.throws(() => compile(`${'not '.repeat(40)}true`), /nested too deeply/);
  assert.throws(() => compile('('.repeat(4000)), /nested too deeply/);
  // Long flat chains are fine (and/or are loops, not recursion, in the parser).
  assert.equal(holds(Array.from({ length: 200 }, (_, i) => `port == ${i}`).join(' or ')), false);
  // Lists
  assert.throws(() => compile(`port in [${Array.from({ length: 300 }, (_, i) => i).join(',')}]`), /more than 256 values/);
  assert.equal(holds(`port in [${Array.from({ length: 256 }, (_, i) => i + 300).join(',')}]`), true);
  // Patterns: too long, too big a program.
  assert.throws(() => compile(`path =~ "${'a'.repeat(300)}"`), /pattern longer than 256/);
  assert.throws(() => compile('path =~ /(a{100}){100}/'), /pattern too large/);
  assert.throws(() => compile('path =~ /((((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))/'), /nested too deeply/);
  // Control characters and odd Unicode in strings are just characters.
  assert.equal(holds('path == "/v1/users\u0000"'), false);
  assert.equal(holds('header.x-request-id != "\u202e\ud83d\ude00"'), true);
  // Not a string
  assert.throws(() => compileCondition(42, { process: proc }), RuleSyntaxError);
});

test('rules condition: catastrophic regexes run in linear time on long subjects', () => {
  const subject = 'a'.repeat(4000);
  for (const re of ['/(a+)+$/', '/(a|a)*b/', '/.*.*.*.*x/', '/(a*)*b/', '/(.*a){20}/', '/^(a|aa)+$/']) {
    const c = compile(`path =~ ${re}`);
    const t0 = process.hrtime.bigint();
    const got = c.atEnd(facts({ target: `/${subject}?x` }));
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.ok(ms < 500, `${re}: ${ms} ms`);
    assert.equal(typeof got, 'boolean');
  }
  // The same answers as V8 where V8 is quick.
  assert.equal(holds('path =~ /(a+)+$/', { target: '/aaaa' }), true);
  assert.equal(holds('path =~ /^\\/(a|aa)+$/', { target: '/aaaa' }), true);
  assert.equal(holds('path =~ /(a|a)*b/', { target: '/aaaa' }), false);
});

test('rules condition: query parameters are decoded as URLSearchParams does', () => {
  const target = '/p?a=1&b=x+y&c=%41%zz&d&e=&%66=F&a=2&g=%E2%82%AC#h=1';
  const f = new RequestFacts(start({ target }));
  const ref = new URLSearchParams(target.slice(3, target.indexOf('#')));
  for (const key of ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'missing']) {
    assert.equal(f.queryParam(key), ref.get(key) ?? undefined, key);
  }
  assert.equal(f.path, '/p');
  assert.equal(new RequestFacts(start({ target: '/only#frag?x=1' })).query, '');
  assert.equal(new RequestFacts(start({ target: '/only#frag?x=1' })).path, '/only');
});

test('rules condition: huge values cost bounded time', () => {
  const target = `/${'a/'.repeat(500_000)}end?${'x=1&'.repeat(50_000)}k=v`;
  const c = [
    compile('path ~ "/a/*/a/**/zzz"'),
    compile('path =~ /(a\\/)+zzz/'),
    compile('url contains "zzz"'),
    compile('query.k == "v"'),
    compile('header.x-request-id ~ "**"'),
  ];
  const t0 = process.hrtime.bigint();
  const got = c.map((x) => x.atEnd(facts({ target })));
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  assert.deepEqual(got, [false, false, false, true, true]);
  assert.ok(ms < 1000, `${ms} ms`);
});

test('rules condition: an absolute-form target (a request through a proxy) gives the same url, path and query', () => {
  for (const [target, url, path, query] of [
    ['http://api.example.com:8080/v1/x?a=1', 'http://api.example.com:8080/v1/x?a=1', '/v1/x', 'a=1'],
    ['http://api.example.com', 'http://api.example.com', '/', ''],
    ['http://api.example.com?q=1', 'http://api.example.com?q=1', '/', 'q=1'],
    ['/v1/x?a=1', 'https://api.example.com/v1/x?a=1', '/v1/x', 'a=1'],
  ]) {
    const f = new RequestFacts(start({ target }));
    assert.deepEqual([f.url, f.path, f.query], [url, path, query], target);
  }
  const odd = new RequestFacts(start({ host: '::1', port: 8443, target: '/' }));
  assert.equal(odd.url, 'https://[::1]:8443/');
});
