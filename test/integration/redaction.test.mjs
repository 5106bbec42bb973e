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
