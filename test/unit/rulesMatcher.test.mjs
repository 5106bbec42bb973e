// covers: src/rules/
// needs: the build (dist/rules.cjs)
// Trace rules (issue 16): the backtracking-free matcher behind `=~` (regex) and `~` (glob).
// Answers are checked against V8's RegExp on the supported subset, and pathological patterns
// must stay linear in the subject's length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const { compileRegex, compileGlob, PatternError, MAX_SUBJECT } = createRequire(import.meta.url)('../../dist/rules.cjs');

const PATTERNS = [
  'abc',
  '^abc',
  'abc$',
  '^abc$',
  'a.c',
  'a.*c',
  'a.+c',
  'a?b',
  'colou?r',
  'a{2}',
  'a{2,}',
  'a{1,3}b',
  '^a{0,2}$',
  '[abc]+',
  '[^abc]',
  '[a-z0-9_-]+',
  '^[A-Z]',
  '\\d+',
  '\\D',
  '\\w+\\s\\w+',
  '\\S+',
  'x|y|z',
  '^(foo|bar)baz$',
  '(?:ab)+c',
  '(a|b)*abb',
  '^/v\\d+/users/\\d+$',
  '\\.json$',
  '^https?://',
  '\\/api\\/',
  '[\\d.]+',
  '[\\w-]+\\.example\\.com',
  '(a*)*b',
  '(a+)+$',
  '^(a|aa)+$',
  '',
  '^$',
  'a\\x41',
  '\\u0041',
  '[\\]]',
  '[a\\-z]',
  'a|',
  '(|a)b',
  '.',
  '^.$',
  '[.]',
  'a.b',
  '\\t',
  '[^\\d\\s]+',
  '[\\D]',
  'a+?b',
  'a*?',
  'a{2,3}?c',
];
const SUBJECTS = [
  '',
  'a',
  'abc',
  'xabcx',
  'ac',
  'abbc',
  'aXc',
  'aaaa',
  'aaab',
  'ab',
  'b',
  'color',
  'colour',
  'colouur',
  'foobaz',
  'barbaz',
  'bazbaz',
  'abb',
  'babb',
  'ababc',
  '/v1/users/42',
  '/v12/users/x',
  'data.json',
  'https://x',
  'http://x',
  'ftp://x',
  '/api/',
  'x-y.example.com',
  'foo bar',
  'A',
  'aA',
  '1.2.3',
  ']',
  '-',
  'z',
  'a\nb',
  'a\tb',
  'aaaaaaaaaaaaaaab',
];

test('rules matcher: regex answers equal V8 RegExp on the supported syntax', () => {
  for (const p of PATTERNS) {
    for (const flags of ['', 'i']) {
      const ours = compileRegex(p, flags);
      const v8 = new RegExp(p, flags);
      for (const s of SUBJECTS) assert.equal(ours.test(s), v8.test(s), `/${p}/${flags} on ${JSON.stringify(s)}`);
    }
  }
});

test('rules matcher: random patterns agree with V8 (fuzz, fixed seed)', () => {
  let seed = 16;
  const rnd = (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const atoms = ['a', 'b', '.', '[ab]', '[^a]', '\\d', '(a|b)', '(?:ab)', 'c'];
  const quants = ['', '', '*', '+', '?', '{1,2}', '{2}'];
  for (let n = 0; n < 400; n++) {
    let p = rnd(4) === 0 ? '^' : '';
    const len = 1 + rnd(5);
    for (let k = 0; k < len; k++) p += atoms[rnd(atoms.length)] + quants[rnd(quants.length)];
    if (rnd(4) === 0) p += '$';
    const ours = compileRegex(p);
    const v8 = new RegExp(p);
    for (let m = 0; m < 10; m++) {
      let s = '';
      const sl = rnd(8);
      for (let k = 0; k < sl; k++) s += 'abc1'[rnd(4)];
      assert.equal(ours.test(s), v8.test(s), `/${p}/ on ${JSON.stringify(s)}`);
    }
  }
});

test('rules matcher: unsupported regex syntax is rejected with its index', () => {
  for (const [p, msg, index] of [
    ['(a', /unclosed "\("/, 0],
    ['a)', /unmatched "\)"/, 1],
    ['[ab', /unclosed "\["/, 0],
    ['(?<n>a)', /lookaround and named groups/, 0],
    ['(?<=a)b', /lookaround/, 0],
    ['(a)\\1', /backreferences/, 3],
    ['\\k<n>', /named backreferences/, 0],
    ['\\b', /word boundaries/, 0],
    ['\\q', /unknown escape/, 0],
    ['a{', /"\{" must start a quantifier/, 1],
    ['{1}', /must follow something/, 0],
    ['a{3,2}', /n < m/, 1],
    ['^*', /nothing to repeat/, 0],
    ['+', /nothing to repeat/, 0],
    ['[z-a]', /range out of order/, 2],
    ['\\x4', /\\x needs 2 hex digits/, 0],
    ['a\\', /ends with/, 1],
  ]) {
    try {
      compileRegex(p);
      assert.fail(`no error for ${p}`);
    } catch (e) {
      assert.ok(e instanceof PatternError, `${p}: ${e}`);
      assert.match(e.message, msg, p);
      assert.equal(e.index, index, `${p}: ${e.message}`);
    }
  }
  assert.throws(() => compileRegex('a', 'g'), /unknown regex flag "g"/);
  assert.throws(() => compileRegex('x'.repeat(257)), /longer than 256/);
  assert.throws(() => compileRegex('[a-z]{600}'), /too large/);
  assert.throws(() => compileRegex('((a{30}){30})'), /too large/);
});

test('rules matcher: regex cost is linear in the subject (no catastrophic backtracking)', () => {
  // The fastest of 7 runs: a busy machine only ever adds time, so the minimum is the match's own.
  const time = (m, s) => {
    let best = Infinity;
    for (let k = 0; k < 7; k++) {
      const t0 = process.hrtime.bigint();
      m.test(s);
      best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
    }
    return best;
  };
  for (const p of ['(a+)+$', '(a|aa)*c', '.*.*.*.*.*x', '(a*)*b', '(x+x+)+y', '(.*a){12}']) {
    const m = compileRegex(p);
    const short = time(m, 'a'.repeat(500));
    const long = time(m, 'a'.repeat(2000));
    // 4x the input: allow 16x the time for noise, where backtracking would be exponential or cubic.
    assert.ok(long < Math.max(short * 16, 20), `/${p}/: ${short.toFixed(2)} ms on 500, ${long.toFixed(2)} ms on 2000`);
  }
  // Subjects are cut at MAX_SUBJECT characters.
  const tail = compileRegex('b$');
  assert.equal(tail.test(`${'a'.repeat(MAX_SUBJECT)}b`), false);
  assert.equal(tail.test(`${'a'.repeat(MAX_SUBJECT - 1)}b`), true);
});

test('rules matcher: globs', () => {
  const cases = [
    ['/api/**', '/api/v1/users', true],
    ['/api/**', '/api/', true],
    ['/api/**', '/apix', false],
    ['/api/*', '/api/users', true],
    ['/api/*', '/api/v1/users', false], // * stops at /
    ['/api/*/users', '/api/v1/users', true],
    ['/api/*/users', '/api/v1/v2/users', false],
    ['/api/**/users', '/api/v1/v2/users', true],
    ['**.json', '/a/b/c.json', true],
    ['**.json', '/a/b/c.jsonx', false],
    ['*.example.com', 'api.example.com', true],
    ['*.example.com', 'a.b.example.com', true], // hosts have no "/": * spans labels
    ['*.example.com', 'example.com', false],
    ['api.example.???', 'api.example.com', true],
    ['api.example.???', 'api.example.co', false],
    ['/a?c', '/abc', true],
    ['/a?c', '/a/c', false],
    ['/v1/users', '/v1/users', true],
    ['/v1/users', '/v1/users/', false],
    ['/star\\*', '/star*', true],
    ['/star\\*', '/starx', false],
    ['/q\\?', '/q?', true],
    ['*', '', true],
    ['*', 'abc', true],
    ['*', 'a/b', false],
    ['**', 'a/b', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['***', 'a/b', true],
    ['*a*a*a*a*a*a*b', 'a'.repeat(3000), false], // linear, not exponential
  ];
  for (const [g, s, want] of cases) assert.equal(compileGlob(g).test(s), want, `${g} on ${s}`);
  assert.equal(compileGlob('*.EXAMPLE.com', true).test('API.example.COM'), true, 'case-insensitive glob (hosts)');
  assert.equal(compileGlob('/API/**', true).test('/api/x'), true);
  assert.equal(compileGlob('/API/**').test('/api/x'), false);
  assert.throws(() => compileGlob('a\\'), /glob ends with/);
});

test('rules matcher: globs agree with an equivalent V8 RegExp (fuzz, fixed seed)', () => {
  let seed = 99;
  const rnd = (n) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const parts = ['a', 'b', '/', '.', '*', '**', '?', 'ab', '/a'];
  const toRegExp = (g) =>
    new RegExp(
      `^${g
        .split(/(\*\*+|\*|\?)/)
        .map((t) => (t.startsWith('**') ? '.*' : t === '*' ? '[^/]*' : t === '?' ? '[^/]' : t.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')))
        .join('')}$`,
      's',
    );
  for (let n = 0; n < 600; n++) {
    let g = '';
    const len = 1 + rnd(6);
    for (let k = 0; k < len; k++) g += parts[rnd(parts.length)];
    const ours = compileGlob(g);
    const ref = toRegExp(g);
    for (let m = 0; m < 12; m++) {
      let s = '';
      const sl = rnd(9);
      for (let k = 0; k < sl; k++) s += 'ab/.'[rnd(4)];
      assert.equal(ours.test(s), ref.test(s), `glob ${g} on ${JSON.stringify(s)}`);
    }
  }
});
