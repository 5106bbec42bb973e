// covers: src/preload/http/httpWhatIf.ts, src/preload/undici/undiciWhatIf.ts,
//   src/preload/rules/whatIfMarks.ts
// needs: the build (dist/core.cjs)
// What-if rules hold to what the program saw (issue 62 findings 2, 3 and 7; docs/rules.md
// "What-if actions"), on every Node, against real local servers, with apps/whatif-truth.mjs:
// - a `fail` status answering a PUT with `Expect: 100-continue` before its body gives the program
//   what a real server answering 503 before reading the body gives: the same events in the same
//   order, `close` included (it used to never come), status, raw headers and body; fetch refuses
//   the header itself (undici's NotSupportedError) with the rule as without;
// - `fail reset:N` acts only on responses that go past N body bytes: shorter ones (and one of
//   exactly N) reach http, fetch, undici.request and http2 as the server sent them, observed as
//   without the rule, with no `whatIf`, no tag and no count; longer ones are reset and marked;
// - a `respond` rule without headers: the trace's and the HAR's response headers are the ones
//   each client got (fetch's content-length included); its time is `blocked`, none `send`;
// - three identical what-if refusals (the first on a kept-alive connection) show one connection
//   state, the same each time: none (`-`), and no connect attempt of their own.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { nodeBinaries, run, apps, root, runTraced } from './harness.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-whatif-truth-'));
const env = { NODE_PATH: join(root, 'node_modules') };
const ports = {};
const servers = [];
const served = [];
const BUSY = { 'Retry-After': '1', 'Content-Type': 'text/plain', 'Content-Length': '4' };
const N = 100;

before(async () => {
  const h1 = http.createServer((req, res) => {
    served.push(req.url);
    res.sendDate = false;
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/size') {
      const n = Number(u.searchParams.get('n'));
      const body = Buffer.alloc(n, 97);
      if (u.searchParams.has('chunked')) {
        res.write(body.subarray(0, n >> 1));
        return res.end(body.subarray(n >> 1));
      }
      res.setHeader('content-length', n);
      return res.end(body);
    }
    res.end('ok');
  });
  // A real server that will not read the body: it answers 503 at once (Node closes such a connection).
  h1.on('checkContinue', (req, res) => {
    served.push(req.url);
    res.sendDate = false;
    res.writeHead(503, BUSY);
    res.end('busy');
  });
  const h2 = http2.createServer();
  h2.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const u = new URL(headers[':path'], 'http://x');
    const n = Number(u.searchParams.get('n') ?? 2);
    stream.respond({
      ':status': 200,
      date: 'Thu, 01 Jan 2026 00:00:00 GMT',
      ...(u.searchParams.has('nolen') ? {} : { 'content-length': String(n) }),
    });
    stream.end(Buffer.alloc(n, 98));
  });
  for (const [name, s] of [
    ['h1', h1],
    ['h2', h2],
  ]) {
    servers.push(s);
    s.on('connection', (c) => c.on('error', () => {}));
    await new Promise((r) => s.listen(0, '127.0.0.1', r));
    ports[name] = s.address().port;
  }
});
after(() => {
  for (const s of servers) {
    s.closeAllConnections?.();
    s.close();
  }
  rmSync(tmp, { recursive: true, force: true });
});

const lines = (stdout) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
const url = (client, path) => `http://127.0.0.1:${client === 'http2' ? ports.h2 : ports.h1}${path}`;
const masked = (o) => JSON.parse(JSON.stringify(o).replace(/127\.0\.0\.1:\d+/g, '<host>'));

for (const { label, bin } of nodeBinaries()) {
  describe(`${label}: what-if rules hold to what the program saw`, { concurrency: true }, () => {
    let expectRuns;
    const expectRun = () =>
      (expectRuns ??= (async () => {
        const rule = {
          id: 'busy',
          condition: 'path == "/expect-fake"',
          action: 'fail',
          enabled: true,
          fail: { kind: 'status', status: 503, headers: BUSY, body: 'busy' },
        };
        const rules = join(tmp, `expect-${label.replace(/\W/g, '')}.json`);
        writeFileSync(rules, JSON.stringify([rule]));
        const [truth, fake] = await Promise.all([
          run(bin, [join(apps, 'whatif-truth.mjs')], { env: { ...env, NT_MODE: 'expect', NT_URL: url('http', '/expect-real') } }),
          runTraced(bin, 'whatif-truth.mjs', {
            env: { ...env, NT_MODE: 'expect', NT_URL: url('http', '/expect-fake') },
            cliArgs: ['--rules', rules],
          }),
        ]);
        return { truth, fake };
      })());

    test('a fail status before an Expect: 100-continue body closes the request as a real server does', async () => {
      const { truth, fake } = await expectRun();
      assert.equal(truth.code, 0, truth.stdout + truth.stderr);
      assert.equal(fake.code, 0, `the program did not hang: ${fake.stdout}${fake.stderr}`);
      const [want, wantFetch, wantUndici] = lines(truth.stdout);
      const [seen, seenFetch, seenUndici] = lines(fake.stdout);
      assert.ok(want.events.includes('close'), JSON.stringify(want));
      assert.deepEqual(seen, want, 'the same events in the same order, status, raw headers and body');
      assert.deepEqual(masked(seenFetch), masked(wantFetch), 'fetch refuses the header as it does without the rule');
      assert.equal(wantFetch.error?.cause?.code, 'UND_ERR_NOT_SUPPORTED');
      assert.deepEqual(masked(seenUndici), masked(wantUndici), 'undici.request() too');
      assert.equal(wantUndici.error?.code, 'UND_ERR_NOT_SUPPORTED');
      assert.equal(served.includes('/expect-fake'), false, 'the server was not asked');
      const rec = fake.trace.httpRequests.find((r) => r.client === 'http');
      assert.equal(rec.respStatusCode, 503);
    });

    // A request answered before its body is recorded as the request the program made, with the rule's mark.
    test('the record of that request is the PUT the program made, marked', async () => {
      const { fake } = await expectRun();
      const rec = fake.trace.httpRequests.find((r) => r.client === 'http');
      assert.equal(rec.reqMethod, 'PUT', JSON.stringify(rec));
      assert.equal(rec.whatIf?.status, 503);
      assert.equal(rec.incomplete, undefined);
    });

    test(`fail reset:${N} acts only on responses longer than ${N} body bytes (http, fetch, undici.request, http2)`, async () => {
      const sizes = {
        http: ['n=40', `n=${N}`, 'n=40&chunked', 'n=300', 'n=300&chunked'],
        fetch: ['n=40', `n=${N}`, 'n=40&chunked', 'n=300', 'n=300&chunked'],
        undici: ['n=40', `n=${N}`, 'n=40&chunked', 'n=300', 'n=300&chunked'],
        http2: ['n=40', `n=${N}`, 'n=40&nolen', 'n=300', 'n=300&nolen'],
      };
      const jobs = Object.entries(sizes).flatMap(([client, qs]) => qs.map((q) => ({ client, url: url(client, `/size?${q}&c=${client}`) })));
      const longer = (j) => /n=300/.test(j.url);
      const [truth, fake] = await Promise.all([
        run(bin, [join(apps, 'whatif-truth.mjs')], { env: { ...env, NT_MODE: 'requests', NT_JOBS: JSON.stringify(jobs) } }),
        runTraced(bin, 'whatif-truth.mjs', {
          env: { ...env, NT_MODE: 'requests', NT_JOBS: JSON.stringify(jobs) },
          cliArgs: ['--rule', `cut: fail fail=reset:${N} path == "/size"`],
        }),
      ]);
      assert.equal(truth.code, 0, truth.stderr);
      assert.equal(fake.code, 0, fake.stderr);
      const want = lines(truth.stdout);
      const seen = lines(fake.stdout);
      assert.equal(seen.length, jobs.length, fake.stdout);
      const shown = core.renderTrace(fake.trace, { color: false, width: 240 });
      for (const [i, j] of jobs.entries()) {
        const rec = fake.trace.httpRequests.find((r) => r.reqURL === j.url);
        assert.ok(rec, `recorded: ${j.url}`);
        if (!longer(j)) {
          assert.deepEqual(seen[i], want[i], `${j.client} ${j.url}: as the server sent it`);
          assert.equal(seen[i].error, undefined);
          assert.equal(rec.whatIf, undefined, `${j.client} ${j.url}: no what-if mark`);
          assert.equal(rec.reqError, undefined);
        } else {
          const codes = JSON.stringify(seen[i].error ?? {});
          assert.match(
            codes,
            /ECONNRESET|ERR_HTTP2_STREAM_ERROR|UND_ERR_SOCKET|terminated/,
            `${j.client} ${j.url}: reset: ${JSON.stringify(seen[i])}`,
          );
          assert.deepEqual(rec.whatIf, { rule: 'cut', action: 'fail', kind: 'reset', afterBytes: N });
        }
      }
      const counted = fake.trace.traceRules.rules.find((r) => r.id === 'cut');
      assert.equal(counted.matched, jobs.length);
      assert.equal(counted.acted, jobs.filter(longer).length, 'only the responses it cut are counted');
      assert.match(fake.stderr, new RegExp(`acted on ${jobs.filter(longer).length} of ${jobs.length} matching requests`));
      assert.equal(
        shown.split('\n').filter((l) => l.includes('[what-if fail]')).length,
        jobs.filter(longer).length,
        'the rows tagged are the cut ones alone',
      );
      const sentences = shown.split('\n').filter((l) => /What if: rule "cut"/.test(l));
      assert.equal(sentences.length, jobs.filter(longer).length, shown);
      for (const line of sentences) assert.match(line, /reset its connection after 100 bytes/);
      assert.equal(
        fake.trace.httpRequests.filter((r) => r.whatIf).length,
        jobs.filter(longer).length,
        'the what-if marks are on the cut responses alone',
      );
    });

    test('a respond rule without headers: the trace and the HAR record the headers each client got; its time is blocked', async () => {
      const jobs = ['http', 'fetch', 'undici', 'http2'].map((client) => ({ client, url: url(client, `/answer?c=${client}`) }));
      const har = join(tmp, `answer-${label.replace(/\W/g, '')}.har`);
      const fake = await runTraced(bin, 'whatif-truth.mjs', {
        env: { ...env, NT_MODE: 'requests', NT_JOBS: JSON.stringify(jobs) },
        cliArgs: ['--har', har, '--rule', 'respond respond=200 path == "/answer"'],
      });
      assert.equal(fake.code, 0, fake.stderr);
      const seen = lines(fake.stdout);
      const entries = JSON.parse(readFileSync(har, 'utf8')).log.entries;
      const enriched = core.enrichTrace(fake.trace);
      const sorted = (p) => p.map(([k, v]) => `${k.toLowerCase()}: ${v}`).sort();
      for (const [i, j] of jobs.entries()) {
        assert.equal(seen[i].status, 200, JSON.stringify(seen[i]));
        const got = sorted(seen[i].headers);
        if (j.client !== 'http2') assert.ok(got.includes('content-length: 0'), `${j.client} got a content-length: ${got}`);
        const rec = fake.trace.httpRequests.find((r) => r.reqURL === j.url);
        assert.deepEqual(
          sorted((rec.respHeaders ?? []).filter(([k]) => !k.startsWith(':'))),
          got,
          `${j.client}: the trace's headers are the program's`,
        );
        const entry = entries.find((e) => e.request.url === j.url);
        assert.deepEqual(
          sorted(entry.response.headers.filter((h) => !h.name.startsWith(':')).map((h) => [h.name, h.value])),
          got,
          `${j.client}: the HAR's`,
        );
        const t = enriched.httpRequests.find((r) => r.reqURL === j.url).timings;
        assert.deepEqual(
          [t.dns, t.connect, t.ssl, t.send],
          [-1, -1, -1, 0],
          `${j.client}: no network phase, nothing sent: ${JSON.stringify(t)}`,
        );
        assert.ok(t.blocked >= 0 && t.wait >= 0 && t.receive >= 0, JSON.stringify(t));
        assert.deepEqual([entry.timings.blocked, entry.timings.send], [t.blocked, 0], `${j.client}: the HAR's timings are the trace's`);
      }
      assert.equal(
        served.some((u) => u.startsWith('/answer')),
        false,
        'the server was not asked',
      );
    });

    test('three identical what-if refusals (the first given a kept-alive connection) show one state: none', async () => {
      // Each client's first refusal finds the connection its warm-up kept alive idle and free.
      const jobs = ['http', 'fetch'].flatMap((client) => [
        { client, url: url(client, `/w?c=${client}`) },
        ...[1, 2, 3].map((k) => ({ client, url: url(client, `/refuse?c=${client}&k=${k}`), pause: k === 1 ? 50 : 0 })),
      ]);
      const fake = await runTraced(bin, 'whatif-truth.mjs', {
        env: { ...env, NT_MODE: 'requests', NT_JOBS: JSON.stringify(jobs) },
        cliArgs: ['--rule', 'fail fail=refused path == "/refuse"'],
      });
      assert.equal(fake.code, 0, fake.stderr);
      const seen = lines(fake.stdout);
      for (const o of seen.filter((x) => x.url.includes('/refuse')))
        assert.match(JSON.stringify(o.error), /ECONNREFUSED/, JSON.stringify(o));
      const shown = core.renderTrace(fake.trace, { color: false, width: 240 });
      assert.match(shown, /requests, 6 failed, \d+ connections?, 0 reused/, 'the summary counts as the rows show');
      for (const client of ['http', 'fetch']) {
        const states = shown
          .split('\n')
          .filter((l) => l.includes('[what-if fail]') && new RegExp(`\\s${client}\\s`).test(l))
          .map((l) => /^\s*\d+\s+GET\s+ECONNREFUSED\s+\S+\s+[\d.]+\s+\S+\s+(\S+)\s+\[what-if fail\]/.exec(l)?.[1]);
        assert.deepEqual(states, ['-', '-', '-'], `${client}: ${shown}`);
        for (const rec of fake.trace.httpRequests.filter((r) => r.client === client && r.reqURL.includes('/refuse'))) {
          const dial = fake.trace.dials.find((d) => d.traceID === rec.dial);
          assert.deepEqual(dial?.connectAttempts ?? [], [], `${client}: no connect attempt invented`);
        }
      }
      assert.deepEqual(
        served.filter((u) => u.startsWith('/refuse')),
        [],
        'the server was not asked (on a connection kept alive either)',
      );
    });
  });
}
