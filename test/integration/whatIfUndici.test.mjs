// covers: src/preload/undici/undiciWhatIf.ts, src/preload/undici/undiciWhatIfHead.ts,
//   src/preload/undici/undiciErrors.ts
// What-if rules for fetch (Node's bundled undici) and userland undici (issue 51, docs/rules.md
// "What-if actions"): the program cannot tell a faked failure from a real one. For each kind, on
// each Node version, apps/whatifUndici.cjs runs once against the real thing made by a real local
// server (one that resets, one that resets mid-body, an expired certificate, a certificate for
// another host, one that never answers, a 503, one that answers late) and once, traced with the
// what-if rule, against a healthy server: what it observed (the error's class, name, code, errno,
// syscall, message, own properties, cause chain and a certificate error's reason, host and
// certificate fields; the status, status text, headers, body, what reading the body gave) must be
// equal, with ports, dates and the certificates' names masked. Rules that answer in the server's
// place must not reach it; the trace says what was done (`whatIf`) and the rule counts it. A
// connect delay is measured where the connection arrives, against a request without it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeBinaries, run, apps, root, runTraced } from './harness.mjs';
import { pem } from './servers.mjs';

const servers = [];
const ports = {};
/** How many requests the healthy servers got per test's tag (`?t=N` on the URL it asked for). */
const served = new Map();
let tagged = 0;
/** When the healthy server last wrote a response (performance.timeOrigin + now(): the machine's clock, sub-ms). */
let wroteAt = 0;
const MIB = 1 << 20;
const DELAY_MS = 300;
/** How late the tooLate server answers, and the delay rule standing for it (past a 600 ms headersTimeout). */
const LATE_MS = 3000;
const RATE = 2_000_000;
/** When connections arrived at connA and connB (the machine's clock). */
const arrivals = { connA: [], connB: [] };
const dir = mkdtempSync(join(tmpdir(), 'nettrace-wifu-'));

function listen(name, server) {
  servers.push(server);
  server.on('connection', (c) => c.on('error', () => {}));
  server.on('tlsClientError', () => {});
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r((ports[name] = server.address().port))));
}

/** The healthy server's answers (over http and https). */
function healthy(req, res) {
  const [path, tag] = req.url.split('?t=');
  if (tag !== undefined) served.set(tag, (served.get(tag) ?? 0) + 1);
  if (path === '/big') res.end(Buffer.alloc(MIB, 97));
  else if (path === '/thousand') {
    res.writeHead(200, { 'content-length': 1000 });
    res.end(Buffer.alloc(1000, 97));
  } else {
    if (path === '/x') wroteAt = performance.timeOrigin + performance.now();
    res.end('ok');
  }
}

const cert = (name) => ({ key: pem(`${name}.key`), cert: pem(`${name}.pem`) });

before(async () => {
  await listen('healthyTls', https.createServer(cert('localhost'), healthy));
  // Real certificate failures: an expired certificate, one for another host.
  await listen('expired', https.createServer(cert('expired'), healthy));
  await listen('wronghost', https.createServer(cert('wronghost'), healthy));
  await listen('healthy', http.createServer(healthy));
  // Two healthy servers that note when each connection arrives (a connect delay is measured there).
  for (const name of ['connA', 'connB']) {
    const server = http.createServer(healthy);
    server.on('connection', () => arrivals[name].push(performance.timeOrigin + performance.now()));
    await listen(name, server);
  }
  // The real failures.
  await listen(
    'reset',
    http.createServer((req) => req.socket.resetAndDestroy()),
  );
  await listen(
    'midBody',
    http.createServer((req, res) => {
      res.writeHead(200, { 'content-length': 1000 });
      res.write(Buffer.alloc(100, 97), () => setTimeout(() => req.socket.resetAndDestroy(), 50));
    }),
  );
  await listen(
    'silent',
    net.createServer(() => {}),
  );
  const raw = (text) => net.createServer((c) => c.once('data', () => c.write(text)));
  await listen('unavailable', raw('HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\nContent-Length: 4\r\n\r\ndown'));
  await listen('json', raw('HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nx-id: 7\r\nContent-Length: 7\r\n\r\n{"a":1}'));
  await listen(
    'overridden',
    http.createServer((req, res) => {
      res.writeHead(503, { 'x-b': '2', 'content-length': 7 });
      res.end('changed');
    }),
  );
  // Answers later than a 600 ms headersTimeout allows (undici's timer fires first).
  await listen(
    'tooLate',
    http.createServer((req, res) => {
      const timer = setTimeout(() => res.end('ok'), LATE_MS);
      res.on('close', () => clearTimeout(timer));
    }),
  );
  await listen(
    'late',
    http.createServer((req, res) => setTimeout(() => res.end('ok'), DELAY_MS)),
  );
  const tmp = net.createServer();
  await listen('closed', tmp);
  await new Promise((r) => tmp.close(r));
});
after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The observation with ports, dates and timings masked. */
function masked(line) {
  // The certificate's names: the real wrong-host certificate's and the healthy one's differ.
  // A fake request's URL carries its test's tag.
  const o = JSON.parse(
    line
      .replace(/(?<=[\w\]]):\d{2,5}\b/g, ':<port>')
      .replace(/\?t=\d+/g, '')
      .replace(/(altnames|list): [^"]*/g, '$1: <names>'),
  );
  const out = JSON.parse(JSON.stringify(o), (k, v) => {
    if (k === 'date') return '<date>';
    if (Array.isArray(v) && v[0] === 'date') return ['date', '<date>'];
    return v;
  });
  for (const k of ['at', 'headersAt', 'headersEpoch', 'calledEpoch', 'lagMs', 'callLagMs']) delete out[k];
  if (out.body) {
    delete out.body.arrivals;
    delete out.body.end;
  }
  // undici.request()'s headers object keeps the server's order: compared as a set.
  if (out.headers && !Array.isArray(out.headers)) out.headers = Object.entries(out.headers).sort();
  return out;
}

const CASES = {
  'fail reset before the response': {
    real: () => `http://127.0.0.1:${ports.reset}/x`,
    rule: { action: 'fail', fail: { kind: 'reset' } },
  },
  'fail reset mid-body after 100 bytes': {
    real: () => `http://127.0.0.1:${ports.midBody}/thousand`,
    fake: () => `http://127.0.0.1:${ports.healthy}/thousand`,
    rule: { action: 'fail', fail: { kind: 'reset', at: 'mid-body', afterBytes: 100 } },
    reaches: true,
  },
  'fail tls expired (a real handshake, its certificate check failed)': {
    real: () => `https://127.0.0.1:${ports.expired}/x`,
    fake: () => `https://127.0.0.1:${ports.healthyTls}/x`,
    rule: { action: 'fail', fail: { kind: 'tls', tls: 'expired' } },
    connects: true,
  },
  'fail tls wrong-host (a real handshake, its certificate check failed)': {
    real: () => `https://127.0.0.1:${ports.wronghost}/x`,
    fake: () => `https://127.0.0.1:${ports.healthyTls}/x`,
    rule: { action: 'fail', fail: { kind: 'tls', tls: 'wrong-host' } },
    connects: true,
  },
  'fail timeout (the program aborts at its AbortSignal.timeout)': {
    real: () => `http://127.0.0.1:${ports.silent}/x`,
    rule: { action: 'fail', fail: { kind: 'timeout' } },
    env: { NT_TIMEOUT_MS: '300' },
    check: (seen) => assert.ok(seen.at >= 295, `aborted at ${seen.at} ms`),
  },
  "fail timeout (the connection's own headersTimeout, an Agent's, fires)": {
    real: () => `http://127.0.0.1:${ports.silent}/x`,
    rule: { action: 'fail', fail: { kind: 'timeout' } },
    env: { NT_AGENT_HEADERS_TIMEOUT_MS: '300' },
    check: (seen) => {
      assert.equal(seen.headersTimeout, true, 'instanceof undici.errors.HeadersTimeoutError');
      assert.ok(seen.at >= 295, `failed at ${seen.at} ms`);
    },
  },
  "fail timeout (undici.request()'s own headersTimeout fires)": {
    real: () => `http://127.0.0.1:${ports.silent}/x`,
    rule: { action: 'fail', fail: { kind: 'timeout' } },
    env: { NT_HEADERS_TIMEOUT_MS: '300' },
    only: 'undici',
    check: (seen) => assert.ok(seen.at >= 295, `failed at ${seen.at} ms`),
  },
  "delay first-byte past the connection's own headersTimeout (an Agent's): undici's timeout, not the late answer": {
    real: () => `http://127.0.0.1:${ports.tooLate}/x`,
    rule: { action: 'delay', delay: { phase: 'first-byte', ms: LATE_MS } },
    env: { NT_AGENT_HEADERS_TIMEOUT_MS: '600' },
    reaches: true,
    check: (seen) => {
      assert.equal(seen.headersTimeout, true, 'instanceof undici.errors.HeadersTimeoutError');
      assert.ok(seen.at >= 595 && seen.at < LATE_MS, `failed at ${seen.at} ms`);
    },
  },
  'fail status 503 with Retry-After and a body': {
    real: () => `http://127.0.0.1:${ports.unavailable}/x`,
    rule: { action: 'fail', fail: { kind: 'status', status: 503, headers: { 'Retry-After': '120' }, body: 'down' } },
  },
  'respond (no server: a closed port)': {
    real: () => `http://127.0.0.1:${ports.json}/x`,
    fake: () => `http://127.0.0.1:${ports.closed}/x`,
    rule: { action: 'respond', respond: { status: 201, headers: { 'content-type': 'application/json', 'x-id': '7' }, body: '{"a":1}' } },
  },
  'override status, a header and the body': {
    real: () => `http://127.0.0.1:${ports.overridden}/x`,
    rule: { action: 'override', override: { status: 503, headers: { 'x-b': '2' }, body: 'changed' } },
    reaches: true,
  },
  'delay first-byte': {
    real: () => `http://127.0.0.1:${ports.late}/x`,
    rule: { action: 'delay', delay: { phase: 'first-byte', ms: DELAY_MS }, condition: 'path == "/x"' },
    reaches: true,
    timed: true,
  },
  'throttle the body to 2 MB/s': {
    real: () => `http://127.0.0.1:${ports.healthy}/big`,
    fake: () => `http://127.0.0.1:${ports.healthy}/big`,
    rule: { action: 'throttle', throttle: { rate: RATE } },
    reaches: true,
    rated: true,
    check: (seen) => {
      // From the headers to the last byte, as the program read it.
      const a = seen.body.arrivals;
      assert.equal(seen.body.bytes, MIB);
      const rate = (MIB / (a[a.length - 1][0] - seen.headersAt)) * 1000;
      assert.ok(Math.abs(rate - RATE) <= RATE * 0.1, `${Math.round(rate)} B/s over 1 MiB, asked ${RATE}`);
    },
  },
};

/** One pair: the program against the real thing, then traced with the rule against a healthy server. */
async function pair(bin, client, c) {
  const env = {
    NT_CLIENT: client,
    NODE_PATH: join(root, 'node_modules'),
    NODE_EXTRA_CA_CERTS: join(root, 'test/fixtures/certs/ca.pem'),
    ...c.env,
  };
  if (c.timed) env.NT_WARM_URL = `http://127.0.0.1:${ports.healthy}/warm`;
  const real = await run(bin, [join(apps, 'whatifUndici.cjs')], { env: { ...env, NT_URL: c.real() } });
  assert.equal(real.code, 0, real.stderr);
  const rulesFile = join(dir, `rules-${process.hrtime.bigint()}.json`);
  writeFileSync(rulesFile, JSON.stringify([{ id: 'wi', condition: 'true', limit: 1, enabled: true, ...c.rule }]));
  const tag = String(++tagged);
  const fakeUrl = `${c.fake ? c.fake() : `http://127.0.0.1:${ports.healthy}/x`}?t=${tag}`;
  const fake = await runTraced(bin, 'whatifUndici.cjs', { env: { ...env, NT_URL: fakeUrl }, cliArgs: ['--rules', rulesFile] });
  assert.equal(fake.code, 0, fake.stderr);
  const seenLine = fake.stdout.trim().split('\n').pop();
  const truthLine = real.stdout.trim().split('\n').pop();
  assert.deepEqual(masked(seenLine), masked(truthLine));
  const seen = JSON.parse(seenLine);
  if (c.timed) {
    // From the server's write to the program's headers (after a first request, so no code is
    // compiled meanwhile): the asked delay, within ±5 ms plus the loop's lag.
    const added = seen.headersEpoch - wroteAt;
    const slack = 5 + seen.lagMs;
    assert.ok(Math.abs(added - DELAY_MS) <= slack, `delayed ${added} ms, asked ${DELAY_MS} (±${slack})`);
  }
  c.check?.(seen);
  assert.equal(
    served.get(tag) ?? 0,
    c.reaches ? 1 : 0,
    c.reaches ? 'the healthy server answered' : 'the healthy server received no request',
  );
  const recs = fake.trace.httpRequests.filter((r) => !r.reqURL.endsWith('/warm'));
  assert.equal(recs.length, 1, JSON.stringify(recs));
  assert.equal(recs[0].whatIf?.rule, 'wi');
  assert.equal(recs[0].whatIf?.action, c.rule.action);
  assert.equal(fake.trace.traceRules.rules.find((r) => r.id === 'wi').acted, 1);
  if (c.connects) {
    assert.equal(recs[0].whatIf.kind, 'tls');
    // The handshake's failure, as for the real one (unless the process's last events were
    // lost at its exit: a flake of the exit flush on Node 26 seen with every what-if kind).
    if (recs[0].incomplete === undefined) assert.equal(recs[0].reqError?.phase, 'tls', JSON.stringify(recs[0].reqError));
  } else if (!c.reaches) assert.deepEqual([recs[0].tcpConn, recs[0].dial], [undefined, undefined], 'no connection of its own');
}

/** A pair whose check is a time or a rate: tried up to three times (a loaded machine's lag lands in one run, not in three). */
async function timedPair(bin, client, c) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await pair(bin, client, c);
    } catch (err) {
      if (attempt === 3 || !/delayed|B\/s over/.test(String(err?.message))) throw err;
    }
  }
}

for (const { label, bin } of nodeBinaries()) {
  // Pairs run a few at a time (each spawns its own programs; the servers are shared, what each
  // served is told apart by the URL's tag); the timed ones alone, below.
  describe(`${label}: real and what-if`, { concurrency: 3 }, () => {
    for (const client of ['fetch', 'undici']) {
      for (const [name, c] of Object.entries(CASES)) {
        if (c.only !== undefined && c.only !== client) continue;
        if (!c.timed && !c.rated) test(`${label}, ${client}: ${name} is observed as the real thing`, () => pair(bin, client, c));
      }
    }
  });
  for (const client of ['fetch', 'undici']) {
    for (const [name, c] of Object.entries(CASES)) {
      if (c.timed || c.rated) test(`${label}, ${client}: ${name} is observed as the real thing`, () => timedPair(bin, client, c));
    }
  }
}

/**
 * `delay connect`: the request's connection reaches the server the asked time later than without
 * the rule. The program first requests connB (no rule), then connA (the rule: `port == connA`),
 * each on a new connection; from its call to the connection's arrival at the server, the second
 * minus the first is the time held back (±5 ms plus the loop's lag of both).
 */
for (const { label, bin } of nodeBinaries()) {
  for (const client of ['fetch', 'undici']) {
    for (const [what, delay] of [
      ['200 ms', { phase: 'connect', ms: 200 }],
      ['a random 100–300 ms', { phase: 'connect', ms: 100, maxMs: 300 }],
    ]) {
      if (delay.maxMs !== undefined && bin !== process.execPath) continue;
      test(`${label}, ${client}: delay connect holds the request back before its connection by ${what} (±5 ms plus the loop's lag)`, async () => {
        const rulesFile = join(dir, `rules-${process.hrtime.bigint()}.json`);
        writeFileSync(
          rulesFile,
          JSON.stringify([{ id: 'wi', condition: `port == ${ports.connA}`, enabled: true, action: 'delay', delay }]),
        );
        const env = {
          NT_CLIENT: client,
          NODE_PATH: join(root, 'node_modules'),
          NT_WARM_URL: `http://127.0.0.1:${ports.healthy}/warm`,
          NT_COMPARE: `http://127.0.0.1:${ports.connB}/y`,
          NT_URL: `http://127.0.0.1:${ports.connA}/x`,
        };
        let last;
        for (let attempt = 0; attempt < 3; attempt++) {
          arrivals.connA.length = arrivals.connB.length = 0;
          const fake = await runTraced(bin, 'whatifUndici.cjs', { env, cliArgs: ['--rules', rulesFile] });
          assert.equal(fake.code, 0, fake.stderr);
          const [y, x] = fake.stdout
            .trim()
            .split('\n')
            .slice(-2)
            .map((l) => JSON.parse(l));
          assert.deepEqual([x.status, y.status, arrivals.connA.length, arrivals.connB.length], [200, 200, 1, 1]);
          const rec = fake.trace.httpRequests.find((r) => r.reqURL.endsWith('/x'));
          assert.equal(rec.whatIf?.kind, 'connect');
          const asked = rec.whatIf.ms;
          if (delay.maxMs !== undefined) assert.ok(asked >= delay.ms && asked <= delay.maxMs, `drew ${asked}`);
          else assert.equal(asked, delay.ms);
          const extra = arrivals.connA[0] - x.calledEpoch - (arrivals.connB[0] - y.calledEpoch);
          last = { extra, asked, slack: 5 + x.callLagMs + y.callLagMs };
          if (Math.abs(extra - asked) <= last.slack) break;
        }
        assert.ok(Math.abs(last.extra - last.asked) <= last.slack, `held ${last.extra} ms for ${last.asked} (±${last.slack})`);
      });
    }
  }
}
