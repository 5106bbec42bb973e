// What-if rules on http/https ClientRequest and the clients over it (issue 51, docs/rules.md
// "What-if actions"): the program cannot tell what a rule did from the real thing. For each kind,
// client (http, https, axios, got, node-fetch) and Node version, apps/whatif-http.mjs runs once
// against a real failure or answer made by a real local server (one that resets, one that resets
// mid-body, an expired or wrong-host certificate, one that never answers, a 503, the answer a
// `respond` or `override` rule gives) and once, traced, with the what-if rule against a healthy
// server: what it observed (error class, code, errno, syscall, message with ports masked, own
// properties, cause chain, axios' shape, got's retries, status, headers, rawHeaders, body, the
// order of events) must be equal. A rule that answers in the server's place leaves the healthy
// server untouched. `delay` is checked within 5 ms plus the loop's lag (of both requests compared), `throttle` within 10%
// over 1 MiB. The trace says what was done (`whatIf`) and the run's summary counts it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { nodeBinaries, run, apps, root, runTraced } from './harness.mjs';
import { pem } from './servers.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const BIG = 1 << 20;
const tmp = mkdtempSync(join(tmpdir(), 'nettrace-whatif-'));
const servers = [];
const port = {};
/** The URLs the healthy servers were asked for (a rule that answers in their place leaves its URL out). */
const served = new Set();
let tagged = 0;

/** The real 503 and the rule's: the same status, headers (Node's server adds Connection and Keep-Alive) and body. */
const BUSY = { status: 503, headers: { 'Retry-After': '1', 'Content-Type': 'text/plain', 'Content-Length': '4' }, body: 'busy' };
const KEEP = { Connection: 'keep-alive', 'Keep-Alive': 'timeout=5' };
const ANSWER = {
  status: 201,
  headers: { 'Content-Type': 'application/json', 'X-Answer': 'yes', 'Content-Length': '11' },
  body: '{"ok":true}',
};

function answer(res, a) {
  res.sendDate = false;
  res.writeHead(a.status, a.headers);
  res.end(a.body);
}

/** The healthy server: /x and /y "ok", /big 1 MiB, /close "ok" on a connection it closes. */
function healthy(req, res) {
  served.add(req.url);
  if (req.url.startsWith('/big')) {
    res.writeHead(200, { 'content-length': String(BIG) });
    return res.end(Buffer.alloc(BIG, 97));
  }
  if (req.url.startsWith('/close')) res.shouldKeepAlive = false;
  res.end('ok');
}

/** Real failures and answers: by path, on the same server. */
function real(req, res) {
  // A TLS socket's TCP connection is its _parent: the reset is sent there.
  const reset = () => (req.socket._parent ?? req.socket).resetAndDestroy();
  if (req.url === '/reset') return reset();
  if (req.url === '/reset-mid') {
    res.writeHead(200, { 'content-length': String(BIG) });
    res.write(Buffer.alloc(1000, 97));
    return setTimeout(reset, 50);
  }
  if (req.url === '/hang') return; // never answers
  if (req.url === '/busy') return answer(res, BUSY);
  if (req.url === '/answer') return answer(res, ANSWER);
  if (req.url === '/overridden') return answer(res, { status: 503, headers: { 'Retry-After': '5', 'Content-Length': '4' }, body: 'nope' });
  res.end('?');
}

async function listen(name, server) {
  servers.push(server);
  server.on('connection', (s) => s.on('error', () => {}));
  server.on('tlsClientError', () => {});
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port[name] = server.address().port;
}

const tls = (name) => ({ key: pem(`${name}.key`), cert: pem(`${name}.pem`) });

before(async () => {
  await listen('http', http.createServer(healthy));
  await listen('https', https.createServer(tls('localhost'), healthy));
  await listen('httpReal', http.createServer(real));
  await listen('httpsReal', https.createServer(tls('localhost'), real));
  await listen('expired', https.createServer(tls('expired'), healthy));
  await listen('wronghost', https.createServer(tls('wronghost'), healthy));
  writeFileSync(join(tmp, 'answer.json'), ANSWER.body);
});
after(() => {
  for (const s of servers) {
    s.closeAllConnections?.();
    s.close();
  }
  rmSync(tmp, { recursive: true, force: true });
});

const rule = (id, action, params) => ({ id, condition: 'path in ["/x", "/big"]', action, enabled: true, [action]: params });

/**
 * Each kind: the real URL's path and server (plain or TLS), the rule, the URL's path with the rule,
 * and whether the rule answers in the server's place (the healthy server then gets nothing).
 */
const KINDS = {
  reset: { real: ['Real', '/reset'], rule: rule('w', 'fail', 'reset'), path: '/x', offline: true },
  'reset mid-body': { real: ['Real', '/reset-mid'], rule: rule('w', 'fail', { kind: 'reset', afterBytes: 1000 }), path: '/big' },
  timeout: { real: ['Real', '/hang'], rule: rule('w', 'fail', 'timeout'), path: '/x', offline: true, timeoutMs: 300 },
  status: {
    real: ['Real', '/busy'],
    rule: rule('w', 'fail', { kind: 'status', ...BUSY, headers: { ...BUSY.headers, ...KEEP } }),
    path: '/x',
    offline: true,
  },
  respond: {
    real: ['Real', '/answer'],
    rule: rule('w', 'respond', { status: ANSWER.status, headers: { ...ANSWER.headers, ...KEEP }, bodyFile: join(tmp, 'answer.json') }),
    path: '/x',
    offline: true,
  },
  override: {
    real: ['Real', '/overridden'],
    rule: rule('w', 'override', {
      status: 503,
      headers: { 'Retry-After': '5', Date: null },
      body: 'nope',
    }),
    path: '/x',
    unordered: true,
  },
  'tls expired': { tls: true, real: ['expired', '/x'], rule: rule('w', 'fail', { kind: 'tls', tls: 'expired' }), path: '/x' },
  'tls wrong-host': { tls: true, real: ['wronghost', '/x'], rule: rule('w', 'fail', { kind: 'tls', tls: 'wrong-host' }), path: '/x' },
};

/** Which scheme each client is run with (every client over https for the TLS kinds). */
const CLIENTS = { http: 'http', https: 'https', axios: 'https', got: 'http', 'node-fetch': 'http' };

/** The observation with ports masked, the certificate's names masked (the real one's differ), and rawHeaders' order dropped when asked. */
function masked(line, unordered) {
  const o = JSON.parse(
    line.replace(/(?<=[\w\]]):\d{2,5}\b(\/[\w-]+(\?t=\d+)?)?/g, ':<port>/<path>').replace(/(altnames|list): [^"]*/g, '$1: <names>'),
  );
  delete o.firstByte;
  delete o.ended;
  delete o.start;
  delete o.lag;
  delete o.marks;
  if (unordered && Array.isArray(o.rawHeaders)) {
    const pairs = [];
    for (let i = 0; i < o.rawHeaders.length; i += 2) pairs.push(`${o.rawHeaders[i]}: ${o.rawHeaders[i + 1]}`);
    o.rawHeaders = pairs.sort();
  }
  return o;
}

function urlOf(scheme, server, path) {
  return `${scheme}://127.0.0.1:${port[server]}${path}`;
}

const baseEnv = { NODE_PATH: join(root, 'node_modules'), NODE_EXTRA_CA_CERTS: join(root, 'test/fixtures/certs/ca.pem') };

async function traced(bin, env, rules) {
  const file = join(tmp, `rules-${process.hrtime.bigint()}.json`);
  writeFileSync(file, JSON.stringify(rules));
  try {
    return await runTraced(bin, 'whatif-http.mjs', { env, cliArgs: ['--rules', file] });
  } finally {
    rmSync(file, { force: true });
  }
}

/**
 * On the test's own Node every client and kind; on the others every kind for http and https, and
 * the clients over them for the kinds their own code reacts to (got's retries on a reset and a 503,
 * axios' and node-fetch's errors and answers): Node's parts are what differ between versions.
 */
const OWN_NODE = process.execPath;
const OTHER_NODE_KINDS = new Set(['reset', 'status', 'timeout', 'tls expired']);

for (const { label, bin } of nodeBinaries()) {
  // Pairs run a few at a time (each spawns its own programs, servers are shared); timing tests alone below.
  describe(`${label}: real and what-if`, { concurrency: 3 }, () => {
    for (const [client, plain] of Object.entries(CLIENTS)) {
      for (const [kind, k] of Object.entries(KINDS)) {
        if (k.tls && client === 'http') continue;
        if (bin !== OWN_NODE && client !== 'http' && client !== 'https' && !OTHER_NODE_KINDS.has(kind)) continue;
        const scheme = k.tls ? 'https' : plain;
        test(`${label}, ${client} (${scheme}): ${kind} is observed as the real thing`, async () => {
          const env = { ...baseEnv, NT_CLIENT: client, NT_TIMEOUT_MS: String(k.timeoutMs ?? 0) };
          const realServer = k.tls ? k.real[0] : `${scheme}${k.real[0]}`;
          const truth = await run(bin, [join(apps, 'whatif-http.mjs')], { env: { ...env, NT_URL: urlOf(scheme, realServer, k.real[1]) } });
          assert.equal(truth.code, 0, truth.stderr);
          const path = `${k.path}?t=${++tagged}`;
          const fake = await traced(bin, { ...env, NT_URL: urlOf(scheme, scheme, path) }, [k.rule]);
          assert.equal(fake.code, 0, fake.stderr);
          assert.match(fake.stderr, /changed by what-if rules/, "the run's summary counts it");
          assert.match(
            fake.stderr,
            new RegExp(`what if "w" \\(${k.rule.action}[^)]*\\): acted on \\d+ of \\d+ matching request`),
            'a line per what-if rule',
          );
          const seen = masked(fake.stdout.trim().split('\n').pop(), k.unordered);
          const want = masked(truth.stdout.trim().split('\n').pop(), k.unordered);
          assert.deepEqual(seen, want);
          if (k.offline) assert.equal(served.has(path), false, 'the healthy server received no request');
          else if (!k.tls) assert.equal(served.has(path), true, 'the healthy server answered');
          const recs = fake.trace.httpRequests;
          assert.ok(recs.length >= 1);
          for (const r of recs) assert.equal(r.whatIf?.rule, 'w', JSON.stringify(r));
          assert.equal(recs[0].whatIf.action, k.rule.action);
          const counted = fake.trace.traceRules.rules.find((r) => r.id === 'w');
          assert.equal(counted.acted, recs.length, 'each request the rule acted on is counted (got retries)');
          const t = core.enrichTrace(fake.trace).httpRequests[0];
          if (k.offline) {
            assert.deepEqual([t.timings.dns, t.timings.connect, t.timings.ssl], [-1, -1, -1], 'no phase of the network invented');
            // Nor a connection: the socket the agent made for the request never connected.
            const conn = fake.trace.tcpConns.find((c) => c.traceID === recs[0].tcpConn);
            if (conn !== undefined) {
              assert.equal(conn.connected, false, `no connection invented: ${JSON.stringify(conn)}`);
              assert.equal(conn.whatIf, true, 'the stand-in socket is marked');
              const dial = fake.trace.dials.find((d) => d.traceID === conn.fromDial);
              assert.deepEqual(dial?.connectAttempts ?? [], [], 'no connect attempt invented');
            }
          }
          assert.match(t.diagnosis ?? '', /^What if: rule "w" /);
          assert.match(core.renderTrace(fake.trace, { color: false, width: 160 }), new RegExp(`\\[what-if ${k.rule.action}\\] http`));
        });
      }
    }
  });

  for (const client of ['http', 'https']) {
    for (const phase of ['connect', 'first-byte']) {
      test(`${label}, ${client}: delay ${phase} holds the request back by the asked time (±5 ms plus the loop's lag)`, async () => {
        const ms = 200;
        const env = {
          ...baseEnv,
          NT_CLIENT: client,
          NT_URL: urlOf(client, client, '/close-x'),
          NT_COMPARE: urlOf(client, client, '/close-y'),
        };
        const r = { id: 'w', condition: 'path == "/close-x"', action: 'delay', enabled: true, delay: { phase, ms } };
        let last;
        for (let attempt = 0; attempt < 3; attempt++) {
          const fake = await traced(bin, env, [r]);
          assert.equal(fake.code, 0, fake.stderr);
          const lines = fake.stdout
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l));
          const [y, x] = lines.slice(-2);
          // The phase's own time, against the same phase of the request the rule did not act on.
          const phaseOf = (o) => (phase === 'connect' ? o.marks.connect - o.marks.socket : o.marks.response - o.marks.finish);
          const extra = phaseOf(x) - phaseOf(y);
          last = { extra, lag: x.lag + y.lag, y, x };
          if (Math.abs(extra - ms) <= 5 + last.lag) break;
        }
        assert.ok(
          Math.abs(last.extra - ms) <= 5 + last.lag,
          `held ${last.extra} ms for ${ms} (lag ${last.lag} ms): ${JSON.stringify(last)}`,
        );
      });
    }
    test(`${label}, ${client}: throttle gives 1 MiB at the asked rate (±10%)`, async () => {
      const rate = 2_000_000;
      const env = { ...baseEnv, NT_CLIENT: client, NT_URL: urlOf(client, client, '/big') };
      const fake = await traced(bin, env, [{ id: 'w', condition: 'path == "/big"', action: 'throttle', enabled: true, throttle: rate }]);
      assert.equal(fake.code, 0, fake.stderr);
      const o = JSON.parse(fake.stdout.trim().split('\n').pop());
      assert.equal(o.body.length, BIG);
      const got = (BIG / (o.ended - o.firstByte)) * 1000;
      assert.ok(Math.abs(got - rate) <= rate * 0.1, `${Math.round(got)} B/s for ${rate}`);
      assert.deepEqual(fake.trace.httpRequests[0].whatIf, { rule: 'w', action: 'throttle', rate });
    });
  }
}
