// covers: src/trace/contract/redactUrl.ts, src/trace/contract/redact.ts
// needs: the build (dist/core.cjs)
// URL query redaction (issue 13, item 12): values of parameters whose names mean secrets become
// <redacted>, names compared case-insensitively after percent-decoding; everything else is kept
// byte for byte. Applied by the TraceBuilder to reqURL and URL-valued headers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const core = createRequire(import.meta.url)('../../dist/core.cjs');
const names = core.redactedQueryNames(['x-my-token']);

test('redactUrl: secret parameters redacted, others and the rest of the URL kept', () => {
  for (const [url, want] of [
    ['http://a/p', 'http://a/p'],
    ['http://a/p?page=2&q=x%20y', 'http://a/p?page=2&q=x%20y'],
    ['http://a/p?api_key=K&page=2', 'http://a/p?api_key=<redacted>&page=2'],
    ['http://a/p?API%5FKEY=K', 'http://a/p?API%5FKEY=<redacted>'],
    [
      'http://a/p?Signature=abc%3D&X-Amz-Credential=c&X-Amz-Date=d',
      'http://a/p?Signature=<redacted>&X-Amz-Credential=<redacted>&X-Amz-Date=d',
    ],
    ['http://a/cb#access_token=T&state=s', 'http://a/cb#access_token=<redacted>&state=s'],
    ['http://a/p?token=&key=v&key=w', 'http://a/p?token=<redacted>&key=<redacted>&key=<redacted>'],
    ['http://a/p?x-my-token=1&token2=2&page2=3', 'http://a/p?x-my-token=<redacted>&token2=<redacted>&page2=3'],
    ['/relative?password=p', '/relative?password=<redacted>'],
    ['http://a/p?bad%=1&secret', 'http://a/p?bad%=1&secret'],
  ]) {
    assert.equal(core.redactUrl(url, names), want, url);
  }
});

test('TraceBuilder redacts reqURL and Location/:path headers, and still links the redirect', () => {
  const b = new core.TraceBuilder({ description: 't', redactQuery: ['session'] });
  const c = b.openConnection();
  const rec = (id, fields) => b.apply(c, { type: 'record', kind: 'httpRequests', id, fields });
  rec('r1', {
    reqMethod: 'GET',
    reqURL: 'http://h/login?password=hunter2&session=SESSION-SECRET-1',
    respStatusCode: 302,
    respHeaders: [['Location', '/home?token=TOKEN-SECRET-2&x=1']],
  });
  rec('r2', {
    reqMethod: 'GET',
    reqURL: 'http://h/home?token=TOKEN-SECRET-2&x=1',
    reqHeaders: [[':path', '/home?token=TOKEN-SECRET-2&x=1']],
  });
  const [r1, r2] = b.trace.httpRequests;
  assert.equal(r1.reqURL, 'http://h/login?password=<redacted>&session=<redacted>');
  assert.deepEqual(r1.respHeaders, [['Location', '/home?token=<redacted>&x=1']]);
  assert.equal(r2.reqURL, 'http://h/home?token=<redacted>&x=1');
  assert.deepEqual(r2.reqHeaders, [[':path', '/home?token=<redacted>&x=1']]);
  assert.equal(r2.redirectedFrom, r1.traceID);
  assert.doesNotMatch(JSON.stringify(b.trace), /hunter2|SESSION-SECRET-1|TOKEN-SECRET-2/);
  const har = core.toHar(b.trace);
  assert.doesNotMatch(JSON.stringify(har), /hunter2|SESSION-SECRET-1|TOKEN-SECRET-2/);
});

// Issue 34, item 7: the names the review found in clear, and the patterns (src/trace/contract/redact.ts).
test('query names of the issue and every *part* pattern are redacted; other names kept; exceptions honoured', () => {
  const q = core.redactedQueryNames();
  for (const n of [
    'access-token',
    'accessToken',
    'auth_token',
    'private_token',
    'client-secret',
    'jwt',
    'code',
    'sessionid',
    'my_api_key',
    'db_password',
    'x-csrf',
    'refresh-token',
  ]) {
    assert.equal(core.redactUrl(`http://a/cb?${n}=S&state=ok`, q), `http://a/cb?${n}=<redacted>&state=ok`, n);
  }
  for (const n of ['page', 'q', 'author', 'authority', 'codec', 'keys']) assert.equal(q.has(n), false, n);
  // OAuth's code: in a callback (by its path or its state/iss parameters) only.
  for (const [url, want] of [
    ['http://a/status?code=500', 'http://a/status?code=500'],
    ['http://a/geo?code=US&x=1', 'http://a/geo?code=US&x=1'],
    ['http://a/oauth2/callback?code=C', 'http://a/oauth2/callback?code=<redacted>'],
    ['https://app/login?code=C&x=1', 'https://app/login?code=<redacted>&x=1'],
    ['http://a/?code=C&state=s', 'http://a/?code=<redacted>&state=s'],
    ['http://a/cb#code=C&iss=https%3A%2F%2Fidp', 'http://a/cb#code=<redacted>&iss=https%3A%2F%2Fidp'],
    ['http://callback.example/status?code=500', 'http://callback.example/status?code=500'],
  ]) {
    assert.equal(core.redactUrl(url, q), want, url);
  }
  assert.equal(core.redactUrl('http://a/status?code=500', core.redactedQueryNames(['code'])), 'http://a/status?code=<redacted>');
  const custom = core.redactedQueryNames(['!code', '*nonce*']);
  assert.equal(core.redactUrl('http://a/oauth/callback?code=C&state=s', custom), 'http://a/oauth/callback?code=C&state=s');
  assert.equal(core.redactUrl('http://a/?code=US&my_nonce=1&token=t', custom), 'http://a/?code=US&my_nonce=<redacted>&token=<redacted>');
});

test('redactArgv: --name=value, --name value, name=value of secret names; the rest kept', () => {
  const names = core.redactedQueryNames();
  const argv = [
    '/usr/bin/node',
    '/app/server.js',
    '--db-password=hunter2',
    '--token',
    'T0K',
    '--port',
    '3000',
    '-apikey',
    'K',
    'SESSION_SECRET=s',
    '--verbose',
    '--auth',
    '--next',
    'jwt=c',
    'code=c',
    'plain',
  ];
  assert.deepEqual(core.redactArgv(argv, names), [
    '/usr/bin/node',
    '/app/server.js',
    '--db-password=<redacted>',
    '--token',
    '<redacted>',
    '--port',
    '3000',
    '-apikey',
    '<redacted>',
    'SESSION_SECRET=<redacted>',
    '--verbose',
    '--auth',
    '--next',
    'jwt=<redacted>',
    'code=c',
    'plain',
  ]);
});

test('docs/trace-format.md#redaction names every default name and pattern', async () => {
  const { readFileSync } = await import('node:fs');
  const doc = readFileSync(new URL('../../docs/trace-format.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Redaction'), doc.indexOf('## Versioning'));
  for (const name of [...core.DEFAULT_REDACTED_HEADERS, ...core.DEFAULT_REDACTED_QUERY, ...core.SECRET_NAME_PARTS]) {
    assert.ok(section.includes(`\`${name}\``), `docs/trace-format.md#redaction does not name \`${name}\``);
  }
});

test('SecretNames.has: a part anywhere in text or bytes; one-character and non-ASCII patterns; pseudo-headers', () => {
  const n = core.redactedQueryNames(['*z*', '*пароль*']);
  for (const name of ['token', 'Token-X', 'x-TOKEN', 'xtoken', 'mySecretThing', 'AUTH', 'jwt', 'lazy', 'z', 'мой_пароль']) {
    assert.equal(n.has(name), true, name);
    assert.equal(n.has(Buffer.from(name)), /^[\x00-\x7f]*$/.test(name), `${name} as bytes`);
  }
  for (const name of ['tokn', 'to', 'content-type', 'accept', 'x-request-id', ':authority', 'www-authenticate', 'author', '']) {
    assert.equal(n.has(name), false, name);
    assert.equal(n.has(Buffer.from(name)), false, `${name} as bytes`);
  }
});

test('a name the user adds is redacted even where a default keeps it from the patterns', () => {
  const n = core.redactedQueryNames(['www-authenticate', '!authorization']);
  assert.equal(n.has('www-authenticate'), true);
  assert.equal(n.has('authorization'), false, '!authorization keeps it, although it contains "auth"');
  assert.equal(n.has('proxy-authenticate'), false);
});

test('absoluteOrOrigin: a target in absolute form is the URL (not appended to the origin), userinfo dropped; origin-form appended (issue 48.5)', () => {
  for (const [origin, target, want] of [
    ['http://127.0.0.1:80', '/p?q=1', 'http://127.0.0.1:80/p?q=1'],
    ['http://127.0.0.1', 'http://abs:PASSWORD@127.0.0.1/abs?x=1', 'http://127.0.0.1/abs?x=1'],
    ['http://proxy:8080', 'http://127.0.0.2:34395/via-fetch', 'http://127.0.0.2:34395/via-fetch'],
    ['http://proxy:8080', 'HTTPS://u@h.example/', 'HTTPS://h.example/'],
    ['http://hu:PASS@127.0.0.1:81', '/host', 'http://127.0.0.1:81/host'],
    ['http://h', '/p?email=a@b.example', 'http://h/p?email=a@b.example'],
    ['http://h', 'http://a:b@c@d.example:1/x@y#f@g', 'http://d.example:1/x@y#f@g'],
    ['http://h', 'http://a\\b@c/', 'http://a\\b@c/'],
    ['http://h', '*', 'http://h*'],
    ['http://h', '', 'http://h'],
  ]) {
    assert.equal(core.absoluteOrOrigin(origin, target), want, `${origin} + ${target}`);
  }
  assert.equal(core.withoutUserinfo('ws://u:p@h/'), 'ws://h/');
  assert.equal(core.withoutUserinfo('no scheme@all'), 'no scheme@all');
});
