// covers: src/trace/formats/copyAs.ts, src/trace/formats/har.ts
// Secrets outside headers (issue 13, item 12): query parameters whose names mean credentials are
// redacted where the collector builds the request record, so the JSON, the HAR (url,
// queryString, redirectURL), `nettrace show` and `show --json` never hold them. Real program,
// real clients (fetch, http, axios), real local server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apps, cli, run } from './harness.mjs';
import { bundleTs } from '../lib/bundleTs.mjs';

test('query secrets are redacted in the trace, the HAR and the CLI output; other parameters are kept', async (t) => {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url);
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/final?token=SECRET-LOC-7&step=2' });
      return res.end();
    }
    res.end('ok');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${server.address().port}`;
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-redact-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 't.json');
  const har = join(dir, 't.har');
  const res = await run(
    process.execPath,
    [
      cli,
      'run',
      '--quiet',
      '--helper',
      'off',
      '--out',
      out,
      '--har',
      har,
      '--redact-query',
      'mytoken',
      '--',
      process.execPath,
      join(apps, 'query-secrets.mjs'),
    ],
    { env: { SECRETS_BASE: base } },
  );
  assert.equal(res.code, 0, res.stderr);
  // The server got the real values: the program's behaviour is unchanged.
  assert.ok(
    seen.some((u) => u.includes('api_key=SECRET-APIKEY-1')),
    seen.join(' '),
  );
  assert.ok(
    seen.some((u) => u.includes('token=SECRET-LOC-7')),
    seen.join(' '),
  );

  const json = readFileSync(out, 'utf8');
  const harText = readFileSync(har, 'utf8');
  const show = await run(process.execPath, [cli, 'show', out]);
  const showJson = await run(process.execPath, [cli, 'show', out, '--json']);
  assert.equal(show.code, 0, show.stderr);
  assert.equal(showJson.code, 0, showJson.stderr);
  for (const [name, text] of [
    ['trace JSON', json],
    ['HAR', harText],
    ['show', show.stdout],
    ['show --json', showJson.stdout],
    ['run summary', res.stderr],
  ]) {
    assert.doesNotMatch(text, /SECRET-/, `${name} holds a secret`);
  }
  const trace = JSON.parse(json);
  const urls = trace.httpRequests.map((r) => r.reqURL);
  assert.ok(urls.includes(`${base}/a?api_key=<redacted>&page=2`), urls.join('\n'));
  assert.ok(
    urls.some((u) => u.includes('Access_Token=<redacted>&sig=<redacted>&x=1')),
    urls.join('\n'),
  );
  assert.ok(
    urls.some((u) => /password=<redacted>/.test(u) && /q=kept/.test(u) && /mytoken=<redacted>/.test(u)),
    urls.join('\n'),
  );
  // The redirect is still linked to the request that followed it.
  const redirect = trace.httpRequests.find((r) => r.reqURL.endsWith('/redirect'));
  const final = trace.httpRequests.find((r) => r.reqURL.includes('/final?'));
  assert.equal(final.reqURL, `${base}/final?token=<redacted>&step=2`);
  assert.equal(final.redirectedFrom, redirect.traceID);

  const entries = JSON.parse(harText).log.entries;
  const a = entries.find((e) => e.request.url.includes('/a?'));
  assert.deepEqual(a.request.queryString, [
    { name: 'api_key', value: '<redacted>' },
    { name: 'page', value: '2' },
  ]);
  const redirected = entries.find((e) => e.request.url.endsWith('/redirect'));
  assert.equal(redirected.response.redirectURL, '/final?token=<redacted>&step=2');
  assert.equal(statSync(out).mode & 0o777, 0o600);
  assert.equal(statSync(har).mode & 0o777, 0o600);
});

// Secrets by name and by pattern (issue 34, item 7): every header and query parameter name the
// review found in clear, and the process's command line, are redacted in the trace, the HAR,
// `nettrace show` and every copy command (URL, cURL, fetch, HAR entry, response body).
const copy = bundleTs(["export * from './src/trace/formats/copyAs';", "export { toHarEntry } from './src/trace/formats/har';"]);
const SECRET_HEADERS = [
  'x-api-key',
  'x-auth-token',
  'private-token',
  'x-amz-security-token',
  'x-goog-api-key',
  'x-csrf-token',
  'x-vendor-token',
  'x-session-id',
];
const SECRET_QUERY = ['access-token', 'accessToken', 'auth_token', 'private_token', 'client-secret', 'jwt', 'sessionid', 'db_password'];
const SECRET_ARGS = ['--db-password=SECRET-ARGV-1', '--token', 'SECRET-ARGV-2', '--api-key=SECRET-ARGV-3'];

test('header, query and command-line secrets of issue 34 are redacted in the trace, the HAR, show and every copy', async (t) => {
  const seen = [];
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url, headers: req.headers });
    res.setHeader('x-auth-token', 'SECRET-RESP-1');
    res.setHeader('x-session-id', 'SECRET-RESP-2');
    res.setHeader('www-authenticate', 'Bearer realm="kept-realm"');
    res.end('ok');
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const base = `http://127.0.0.1:${server.address().port}`;
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-redact-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 't.json');
  const har = join(dir, 't.har');
  const headers = Object.fromEntries(SECRET_HEADERS.map((n) => [n, `SECRET-H-${n}`]));
  const query = Object.fromEntries(SECRET_QUERY.map((n) => [n, `SECRET-Q-${n}`]));
  const res = await run(
    process.execPath,
    [
      cli,
      'run',
      '--quiet',
      '--helper',
      'off',
      '--out',
      out,
      '--har',
      har,
      '--',
      process.execPath,
      join(apps, 'named-secrets.mjs'),
      ...SECRET_ARGS,
    ],
    { env: { SECRETS_BASE: base, SECRET_HEADERS: JSON.stringify(headers), SECRET_QUERY: JSON.stringify(query) } },
  );
  assert.equal(res.code, 0, res.stderr);
  // The program's behaviour is unchanged: the server got every real value.
  const fetched = seen.find((s) => s.url.startsWith('/fetch?'));
  for (const n of SECRET_HEADERS) assert.equal(fetched.headers[n], `SECRET-H-${n}`);
  for (const n of SECRET_QUERY) assert.ok(fetched.url.includes(`${n}=SECRET-Q-${n}`), n);

  const json = readFileSync(out, 'utf8');
  const trace = JSON.parse(json);
  const show = await run(process.execPath, [cli, 'show', out]);
  const showJson = await run(process.execPath, [cli, 'show', out, '--json']);
  const texts = [
    ['trace JSON', json],
    ['HAR', readFileSync(har, 'utf8')],
    ['show', show.stdout],
    ['show --json', showJson.stdout],
    ['run summary', res.stderr],
  ];
  for (const r of trace.httpRequests) {
    texts.push([`Copy URL ${r.traceID}`, copy.copyUrl(r).text]);
    texts.push([`Copy as cURL ${r.traceID}`, copy.toCurl(r).text]);
    texts.push([`Copy as fetch ${r.traceID}`, copy.toFetch(r).text]);
    texts.push([`Copy as HAR entry ${r.traceID}`, copy.safeJson(copy.toHarEntry(trace, r.traceID), 2)]);
    texts.push([`Copy response body ${r.traceID}`, String(copy.copyResponseBody(r).text)]);
  }
  for (const [name, text] of texts) assert.doesNotMatch(text, /SECRET-/, `${name} holds a secret`);

  // Each name is there, with its value redacted (not dropped), in the trace and the HAR.
  for (const client of ['fetch', 'http']) {
    const r = trace.httpRequests.find((x) => x.reqURL.includes(`/${client}?`));
    assert.ok(r, `${client} request traced`);
    const reqHeaders = new Map(r.reqHeaders.map(([n, v]) => [n.toLowerCase(), v]));
    for (const n of SECRET_HEADERS) assert.equal(reqHeaders.get(n), '<redacted>', `${client} ${n}`);
    for (const n of SECRET_QUERY) assert.ok(r.reqURL.includes(`${n}=<redacted>`), `${client} ${n}: ${r.reqURL}`);
    assert.ok(r.reqURL.includes(`page=${client === 'fetch' ? 2 : 3}`), 'other parameters are kept');
    const respHeaders = new Map(r.respHeaders.map(([n, v]) => [n.toLowerCase(), v]));
    assert.equal(respHeaders.get('x-auth-token'), '<redacted>');
    assert.equal(respHeaders.get('x-session-id'), '<redacted>');
    assert.equal(respHeaders.get('www-authenticate'), 'Bearer realm="kept-realm"', 'a challenge is not a secret');
    const entry = copy.toHarEntry(trace, r.traceID);
    for (const n of SECRET_QUERY)
      assert.deepEqual(entry.request.queryString.find((q) => q.name === n)?.value, '<redacted>', `HAR queryString ${n}`);
  }
  // `code`: OAuth's authorization code in a callback (by its state, or by its path); elsewhere kept.
  const urls = trace.httpRequests.map((x) => x.reqURL);
  assert.ok(urls.includes(`${base}/cb?code=<redacted>&state=kept-state`), urls.join('\n'));
  assert.ok(urls.includes(`${base}/login/callback?code=<redacted>`), urls.join('\n'));
  assert.ok(urls.includes(`${base}/status?code=500`), urls.join('\n'));
  const argv = trace.processes.find((p) => p.argv.some((a) => a.endsWith('named-secrets.mjs'))).argv;
  assert.deepEqual(argv.slice(-4), ['--db-password=<redacted>', '--token', '<redacted>', '--api-key=<redacted>']);
});
