// covers: src/rules/whatIfConsent.ts
// What a consent prompt shows of a what-if rule a repository ships (issue 61, finding 3;
// src/rules/whatIfConsent.ts, docs/security.md "What a consent prompt shows"): every rule with its
// whole effect (status, every header, body size or file, delay, rate, limit), and a first line
// that calls out a Location to another host than the condition's and a file read from disk —
// in plain words, with the rule's text made inert (controls, bidi, look-alike hosts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleTs } from '../lib/bundleTs.mjs';

const m = bundleTs(["export * from './src/rules/whatIfConsent';"], {
  dir: mkdtempSync(join(tmpdir(), 'nettrace-whatifconsent-')),
  name: 'whatIfConsent.cjs',
});

const redirect = {
  id: 'login',
  action: 'respond',
  respond: { status: 307, headers: { Location: 'https://collect.evil.test/pw', 'Cache-Control': 'no-store' } },
  condition: 'method == "POST" and path == "/login"',
  enabled: true,
};

test('a respond 307 with a Location to another host: the whole answer, and the first line says where the program would send its request', () => {
  assert.equal(
    m.whatIfRuleWords(redirect),
    '"login": respond 307 when method == "POST" and path == "/login" — answers in the server\'s place, which is not contacted: ' +
      'status 307 (a redirect that keeps the method and body), headers Location: https://collect.evil.test/pw, Cache-Control: no-store, no body; ' +
      'every matching request (no limit)',
  );
  assert.deepEqual(m.whatIfCallouts(redirect), [
    'rule "login" redirects to another host, collect.evil.test: a program that follows it sends the same request there, its body (a password, a token) included',
  ]);
  assert.equal(
    m.whatIfConsentLine('this launch configuration has', [redirect]),
    "this launch configuration has a what-if rule that changes what the program receives (failures, delays, answers in the server's place). " +
      'Look before allowing: rule "login" redirects to another host, collect.evil.test: a program that follows it sends the same request there, its body (a password, a token) included',
  );
  // A 302 (the method may become GET), a Location on a 200, a scheme-relative one, an override of the real answer.
  const variants = [
    [
      { ...redirect, respond: { status: 302, headers: { location: 'http://other.test:8080/' } } },
      /redirects to another host, other\.test:8080: a program that follows it sends its next request there$/,
    ],
    [
      { ...redirect, respond: { status: 200, headers: { Location: 'https://other.test/' } } },
      /answers with a Location to another host, other\.test$/,
    ],
    [{ ...redirect, respond: { status: 301, headers: { Location: '//other.test/x' } } }, /redirects to another host, other\.test/],
    [{ ...redirect, respond: { status: 301, headers: { Location: '/\\other.test/x' } } }, /redirects to another host, other\.test/],
    [
      { id: 'o', action: 'override', override: { status: 308, headers: { Location: 'https://other.test/' } }, condition: 'true' },
      /rule "o" redirects to another host, other\.test: .*body/,
    ],
    [
      { id: 'f', action: 'fail', fail: { kind: 'status', status: 303, headers: { Location: 'https://other.test/' } }, condition: 'true' },
      /rule "f" redirects to another host/,
    ],
  ];
  for (const [rule, expected] of variants) {
    const c = m.whatIfCallouts(rule);
    assert.equal(c.length, 1, JSON.stringify(rule));
    assert.match(c[0], expected);
  }
});

test('a Location on the request’s own host is not called out: relative, or the one host the condition requires', () => {
  const same = [
    { ...redirect, respond: { status: 307, headers: { Location: '/login/step-2' } } },
    { ...redirect, respond: { status: 302, headers: { Location: 'step-2?x=1' } } },
    {
      ...redirect,
      condition: 'host == "login.example.com" and path == "/login"',
      respond: { status: 307, headers: { Location: 'https://LOGIN.example.com/2' } },
    },
    { ...redirect, respond: { status: 307 } },
    { ...redirect, respond: { status: 307, headers: { 'Content-Type': 'text/plain' } } },
    { id: 'o', action: 'override', override: { headers: { Location: null } }, condition: 'true' },
  ];
  for (const rule of same) assert.deepEqual(m.whatIfCallouts(rule), [], JSON.stringify(rule));
  // The condition requires another host, or one of several: called out.
  const other = {
    ...redirect,
    condition: 'host in ["a.example.com", "b.example.com"]',
    respond: { status: 307, headers: { Location: 'https://a.example.com/' } },
  };
  assert.equal(m.whatIfCallouts(other).length, 1, 'a request to b.example.com would be sent to a.example.com');
  assert.equal(m.whatIfConsentLine('this launch configuration has', same).includes('Look before allowing'), false);
});

test('a bodyFile rule: the file named, and the first line says a file is read from disk', () => {
  const rule = {
    id: 'keys',
    action: 'respond',
    respond: { status: 200, headers: { 'Content-Type': 'text/plain' }, bodyFile: '../.ssh/id_ed25519' },
    condition: 'path == "/k"',
    limit: 3,
    enabled: true,
  };
  assert.equal(
    m.whatIfRuleWords(rule),
    '"keys": respond 200 from a file when path == "/k" — answers in the server\'s place, which is not contacted: status 200, headers Content-Type: text/plain, ' +
      'the body read from the file "../.ssh/id_ed25519" on disk (relative paths from the program\'s working directory); the first 3 matching requests of each process',
  );
  assert.deepEqual(m.whatIfCallouts(rule), [
    'rule "keys" reads the file "../.ssh/id_ed25519" from disk and gives it to the program as a response body',
  ]);
  assert.match(
    m.whatIfConsentLine("this workspace's settings (nettrace.rules) hold", [rule, redirect]),
    /^this workspace's settings \(nettrace\.rules\) hold 2 what-if rules that change what the program receives .*\. Look before allowing: rule "keys" reads the file .*; rule "login" redirects to another host, collect\.evil\.test: /,
  );
});

test('every action in words: failures, delays, rates, bodies, limits', () => {
  const words = (r) => m.whatIfRuleWords({ id: 'r', condition: 'true', ...r }).replace(/^"r": /, '');
  assert.equal(
    words({ action: 'fail', fail: 'refused', limit: 1 }),
    'fail refused when true — the request fails: connection refused (ECONNREFUSED); the server is not contacted; the first matching request of each process',
  );
  assert.match(words({ action: 'fail', fail: 'dns-notfound' }), /host name not found \(ENOTFOUND\)/);
  assert.match(words({ action: 'fail', fail: 'timeout' }), /the server never answers/);
  assert.match(words({ action: 'fail', fail: { kind: 'reset', afterBytes: 100 } }), /reset after 100 bytes of the response body/);
  assert.match(words({ action: 'fail', fail: { kind: 'tls', tls: 'wrong-host' } }), /certificate is for another host/);
  assert.match(
    words({ action: 'fail', fail: { kind: 'status', status: 503, headers: { 'Retry-After': '120' }, body: 'é' } }),
    /answers in the server's place, which is not contacted: status 503, headers Retry-After: 120, a body of 2 bytes;/,
  );
  assert.match(
    words({ action: 'delay', delay: { phase: 'connect', ms: 100, maxMs: 900 } }),
    /waits between 100 and 900 ms before connecting/,
  );
  assert.match(words({ action: 'throttle', throttle: 'slow 3G' }), /at most 50,000 bytes a second/);
  assert.match(
    words({ action: 'override', override: { status: 200, headers: { 'x-a': '1', 'x-b': null }, body: 'abc' } }),
    /changes the server's real answer: status 200, headers x-a: 1, x-b removed, the body replaced by 3 bytes;/,
  );
  assert.match(
    m.whatIfRuleWords({ id: 'bad', action: 'respond', respond: { status: 42 }, condition: 'true' }),
    /^"bad": respond when true — not a valid rule \(.*status.*\): the session refuses it$/,
  );
});

test("the rule's text is made inert: controls, bidi and invisible characters escaped, a look-alike host shown as punycode, long values cut", () => {
  const rule = {
    id: 'x\u202eevil',
    action: 'respond',
    respond: { status: 307, headers: { Location: 'https://аpple.com/\u202e/login', 'X-Long': 'a'.repeat(500) } },
    condition: 'path == "/\u200blogin"',
  };
  const text = m.whatIfRuleWords(rule);
  assert.ok(!/[\u202e\u200b]/.test(text), text);
  assert.ok(text.includes('"x\\u202eevil"'), text);
  assert.ok(text.includes('path == "/\\u200blogin"'), text);
  assert.ok(text.includes(`X-Long: ${'a'.repeat(199)}…`), 'cut at 200 characters');
  assert.match(m.whatIfCallouts(rule)[0], /another host, xn--pple-43d\.com:/, 'the Cyrillic look-alike shown as the URL parser reads it');
  assert.equal(m.plainText('a\u001b[2Jb\u0085c\u2066'), 'a\\u001b[2Jb\\u0085c\\u2066');
});
