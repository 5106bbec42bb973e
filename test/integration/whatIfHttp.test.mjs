// covers: src/preload/http/httpWhatIf.ts, src/preload/http/httpWhatIfReset.ts
// needs: the build (dist/core.cjs)
// What-if rules on http/https ClientRequest and the clients over it (issue 51, docs/rules.md
// "What-if actions"): the program cannot tell what a rule did from the real thing. For each kind,
// client (http, https, axios, got, node-fetch) and Node version, apps/whatif-http.mjs requests once
// a real failure or answer (a closed port, a name the resolver answers NXDOMAIN, a local server
// that resets, one that resets mid-body, an expired or wrong-host certificate, on a new or a
// resumed TLS session, one that never answers, a 503, the answer a `respond` or `override` rule
// gives) and once, traced, with the what-if rule against a healthy server. One program runs every
// kind's request of a client, each on a new connection (NT_JOBS), and its traced twin every kind's
// rule; a test per pair compares the two requests' observations (a process per pair would cost
// the suite minutes for nothing the pair checks). What it observed (error class, code, errno,
// syscall, message with ports and host names masked, own properties, cause chain, axios' shape,
// got's retries, status, headers, rawHeaders, body, the order of events) must be equal. A rule
// that answers in the server's place leaves the healthy server untouched. `delay` is checked
// within 5 ms plus the loop's lag (of both requests compared), `throttle` within 10% over 1 MiB.
// The trace says what was done (`whatIf`) and the run's summary counts it.
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

/**
 * A closed port: one a server had, closed again just before a batch's real run uses it (taken once
 * for the whole file, another process may be listening on it by then: whatIfHttp2.test.mjs met that).
 */
async function closedPort() {
  const gone = http.createServer();
  await new Promise((r) => gone.listen(0, '127.0.0.1', r));
  const { port: p } = gone.address();
  await new Promise((r) => gone.close(r));
  return p;
}
after(() => {
  for (const s of servers) {
    s.closeAllConnections?.();
    s.close();
  }
  rmSync(tmp, { recursive: true, force: true });
});

/** A rule for one kind: its id and its own path (so one program can run every kind, each request matched by its rule alone). */
const rule = (id, path, action, params) => ({ id, condition: `path == "${path}"`, action, enabled: true, [action]: params });

/**
 * Each kind: the real URL (its server, plain or TLS, its path; or a closed port, a name the
 * resolver answers NXDOMAIN), the rule, the path with the rule (the healthy server's; `host`: the
 * name asked for instead of 127.0.0.1), and whether the rule answers in the server's place (the
 * healthy server then gets nothing).
 */
const KINDS = {
  refused: { real: ['closed', '/x'], rule: rule('refused', '/x-refused', 'fail', 'refused'), path: '/x-refused', offline: true },
  'dns-notfound': {
    real: ['healthy', '/x', 'nettrace-nope.invalid'],
    rule: rule('dns-notfound', '/x-dns', 'fail', 'dns-notfound'),
    path: '/x-dns',
    host: 'localhost',
    offline: true,
  },
  reset: { real: ['Real', '/reset'], rule: rule('reset', '/x-reset', 'fail', 'reset'), path: '/x-reset', offline: true },
  'reset mid-body': {
    real: ['Real', '/reset-mid'],
    rule: rule('reset-mid', '/big-reset', 'fail', { kind: 'reset', afterBytes: 1000 }),
    path: '/big-reset',
  },
  timeout: {
    real: ['Real', '/hang'],
    rule: rule('timeout', '/x-timeout', 'fail', 'timeout'),
    path: '/x-timeout',
    offline: true,
    timeoutMs: 300,
  },
  status: {
    real: ['Real', '/busy'],
    rule: rule('status', '/x-status', 'fail', { kind: 'status', ...BUSY, headers: { ...BUSY.headers, ...KEEP } }),
    path: '/x-status',
    offline: true,
  },
  respond: {
    real: ['Real', '/answer'],
    rule: rule('respond', '/x-respond', 'respond', {
      status: ANSWER.status,
      headers: { ...ANSWER.headers, ...KEEP },
      bodyFile: join(tmp, 'answer.json'),
    }),
    path: '/x-respond',
    offline: true,
  },
  override: {
    real: ['Real', '/overridden'],
    rule: rule('override', '/x-override', 'override', { status: 503, headers: { 'Retry-After': '5', Date: null }, body: 'nope' }),
    path: '/x-override',
    unordered: true,
  },
  'tls expired': {
    tls: true,
    real: ['expired', '/x'],
    rule: rule('tls-expired', '/x-expired', 'fail', { kind: 'tls', tls: 'expired' }),
    path: '/x-expired',
  },
  'tls wrong-host': {
    tls: true,
    real: ['wronghost', '/x'],
    rule: rule('tls-wrong-host', '/x-wronghost', 'fail', { kind: 'tls', tls: 'wrong-host' }),
    path: '/x-wronghost',
  },
  // Node checks a certificate's names only on a full handshake: the rule must fail one that
  // resumes the TLS session of an earlier connection to the same server too.
  'tls wrong-host, session resumed': {
    tls: true,
    warm: '/ok-warm',
    real: ['wronghost', '/x'],
    rule: rule('tls-wrong-host-resumed', '/x-wronghost-resumed', 'fail', { kind: 'tls', tls: 'wrong-host' }),
    path: '/x-wronghost-resumed',
  },
  // A request given a kept-alive connection has no handshake: the rule fails it with the error at
  // once (a certificate problem cannot happen there for real: the error is compared, not the events).
  'tls expired, kept-alive connection': {
    tls: true,
    warm: '/ok-warm',
    keep: true,
    errorOnly: true,
    real: ['expired', '/x'],
    rule: rule('tls-expired-kept', '/x-expired-kept', 'fail', { kind: 'tls', tls: 'expired' }),
    path: '/x-expired-kept',
  },
  'tls wrong-host, kept-alive connection': {
    tls: true,
    warm: '/ok-warm',
    keep: true,
    errorOnly: true,
    real: ['wronghost', '/x'],
    rule: rule('tls-wrong-host-kept', '/x-wronghost-kept', 'fail', { kind: 'tls', tls: 'wrong-host' }),
    path: '/x-wronghost-kept',
  },
};
/** The host names of the dns-notfound pair (the real one and the one asked with the rule), masked. */
const HOSTS = ['nettrace-nope.invalid', 'localhost'];

/** Which scheme each client is run with (every client over https for the TLS kinds). */
const CLIENTS = { http: 'http', https: 'https', axios: 'https', got: 'http', 'node-fetch': 'http' };

/** The observation with ports and host names masked, the certificate's names masked (the real one's differ), and rawHeaders' order dropped when asked. */
function masked(o, unordered) {
  const text = HOSTS.reduce(
    (t, h) => t.split(h).join('<host>'),
    JSON.stringify(o)
      .replace(/(?<=[\w\]]):\d{2,5}\b(\/[\w-]+(\?t=\d+)?)?/g, ':<port>/<path>')
      .replace(/(altnames|list): [^"]*/g, '$1: <names>'),
  );
  o = JSON.parse(text, (k, v) => (k === 'port' && typeof v === 'number' ? '<port>' : v));
  for (const k of ['firstByte', 'ended', 'start', 'lag', 'marks']) delete o[k];
  if (unordered && Array.isArray(o.rawHeaders)) {
    const pairs = [];
    for (let i = 0; i < o.rawHeaders.length; i += 2) pairs.push(`${o.rawHeaders[i]}: ${o.rawHeaders[i + 1]}`);
    o.rawHeaders = pairs.sort();
  }
  return o;
}

function urlOf(scheme, server, path, host = '127.0.0.1') {
  return `${scheme}://${host}:${port[server]}${path}`;
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

/** Runs `fn`s at most `n` at a time. */
function limiter(n) {
  let running = 0;
  const waiting = [];
  const next = () => {
    if (running >= n || waiting.length === 0) return;
    running++;
    const { fn, resolve, reject } = waiting.shift();
    fn()
      .then(resolve, reject)
      .finally(() => {
        running--;
        next();
      });
  };
  return (fn) =>
    new Promise((resolve, reject) => {
      waiting.push({ fn, resolve, reject });
      next();
    });
}

/** Each program's lines by job (the last line a job printed is what it observed). */
function linesByJob(stdout) {
  const out = new Map();
  for (const l of stdout.trim().split('\n').filter(Boolean)) {
    const o = JSON.parse(l);
    out.set(o.job, o);
  }
  return out;
}

// Two programs (real and traced) per client and Node at a time, each pair of programs in parallel;
// the checks of every pair are made on their lines and trace.
const gate = limiter(2);
const batches = new Map();

/**
 * Every kind of one client on one Node, in two programs: one with every kind's real failure or
 * answer, one traced with every kind's rule against the healthy servers, a request per kind in the
 * same order (each on a new connection, as in a program of its own: apps/whatif-http.mjs NT_JOBS).
 */
function batch(bin, client) {
  const key = `${bin} ${client}`;
  if (!batches.has(key)) {
    const pairs = Object.entries(KINDS)
      .filter(([, k]) => !(k.tls && client === 'http'))
      .map(([kind, k]) => {
        const scheme = k.tls ? 'https' : CLIENTS[client];
        const realServer = k.tls || k.real[0] === 'closed' ? k.real[0] : `${scheme}${k.real[0] === 'healthy' ? '' : k.real[0]}`;
        const tag = ++tagged;
        const warm = k.warm && urlOf(scheme, scheme, k.warm);
        return {
          kind,
          k,
          scheme,
          tag,
          path: `${k.path}?t=${tag}`,
          real: { client, url: urlOf(scheme, realServer, k.real[1], k.real[2]), timeoutMs: k.timeoutMs ?? 0, warm, keep: k.keep },
          fake: { client, url: urlOf(scheme, scheme, `${k.path}?t=${tag}`, k.host), timeoutMs: k.timeoutMs ?? 0, warm, keep: k.keep },
        };
      });
    const env = { ...baseEnv };
    const p = gate(async () => {
      port.closed = await closedPort();
      for (const x of pairs) if (x.k.real[0] === 'closed') x.real.url = urlOf(x.scheme, 'closed', x.k.real[1], x.k.real[2]);
      const [truth, fake] = await Promise.all([
        run(bin, [join(apps, 'whatif-http.mjs')], { env: { ...env, NT_JOBS: JSON.stringify(pairs.map((x) => x.real)) } }),
        traced(
          bin,
          { ...env, NT_JOBS: JSON.stringify(pairs.map((x) => x.fake)) },
          pairs.map((x) => x.k.rule),
        ),
      ]);
      return {
        pairs,
        truth,
        fake,
        truthLines: linesByJob(truth.stdout),
        fakeLines: linesByJob(fake.stdout),
        enriched: fake.trace ? core.enrichTrace(fake.trace) : undefined,
        shown: fake.trace ? core.renderTrace(fake.trace, { color: false, width: 240 }) : '',
      };
    });
    batches.set(key, p);
  }
  return batches.get(key);
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The checks of one pair: what the program observed, and what the trace says of it. */
function checkPair(b, kind) {
  const { truth, fake } = b;
  const job = b.pairs.findIndex((x) => x.kind === kind);
  const { k, path, tag } = b.pairs[job];
  assert.equal(truth.code, 0, truth.stderr);
  assert.equal(fake.code, 0, fake.stderr);
  assert.match(fake.stderr, /changed by what-if rules/, "the run's summary counts it");
  const id = k.rule.id;
  assert.match(
    fake.stderr,
    new RegExp(`what if "${id}" \\(${k.rule.action}[^)]*\\): acted on \\d+ of \\d+ matching (TLS )?request`),
    'a line per what-if rule',
  );
  assert.ok(b.truthLines.has(job), `the real run observed it: ${truth.stdout}\n${truth.stderr}`);
  assert.ok(b.fakeLines.has(job), `the run with the rule observed it: ${fake.stdout}\n${fake.stderr}`);
  const seen = masked(b.fakeLines.get(job), k.unordered);
  const want = masked(b.truthLines.get(job), k.unordered);
  if (k.errorOnly) {
    assert.ok(want.error, 'the real request failed');
    assert.deepEqual(seen.error, want.error);
  } else assert.deepEqual(seen, want);
  if (k.offline) assert.equal(served.has(path), false, 'the healthy server received no request');
  else if (!k.tls) assert.equal(served.has(path), true, 'the healthy server answered');
  const mine = (r) => r.reqURL.endsWith(`?t=${tag}`);
  const recs = fake.trace.httpRequests.filter(mine);
  assert.ok(recs.length >= 1);
  for (const r of recs) assert.equal(r.whatIf?.rule, id, JSON.stringify(r));
  assert.equal(recs[0].whatIf.action, k.rule.action);
  const counted = fake.trace.traceRules.rules.find((r) => r.id === id);
  assert.equal(counted.acted, recs.length, 'each request the rule acted on is counted (got retries)');
  const t = b.enriched.httpRequests.find(mine);
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
  assert.match(t.diagnosis ?? '', new RegExp(`^What if: rule "${id}" `));
  assert.match(b.shown, new RegExp(`\\[what-if ${k.rule.action}\\] http[^\\n]*${escape(`?t=${tag}`)}`));
}

// Every client and kind on every Node (a test per pair): the clients' own code reacts to each kind
// (got's retries, axios' and node-fetch's errors and answers) and Node's parts under them differ.
describe('real and what-if', { concurrency: true }, () => {
  for (const { label, bin } of nodeBinaries()) {
    describe(`${label}: real and what-if`, { concurrency: true }, () => {
      for (const [client, plain] of Object.entries(CLIENTS)) {
        for (const [kind, k] of Object.entries(KINDS)) {
          if (k.tls && client === 'http') continue;
          const scheme = k.tls ? 'https' : plain;
          test(`${label}, ${client} (${scheme}): ${kind} is observed as the real thing`, async () => {
            checkPair(await batch(bin, client), kind);
          });
        }
      }
    });
  }
});

/** The timing rules: a delay of each phase (against a request of the same client the rule leaves alone) and a throttle. */
const DELAY_MS = 200;
const RATE = 2_000_000;
const TIMED = {
  connect: { path: '/close-xc', rule: { action: 'delay', delay: { phase: 'connect', ms: DELAY_MS } } },
  'first-byte': { path: '/close-xf', rule: { action: 'delay', delay: { phase: 'first-byte', ms: DELAY_MS } } },
  throttle: { path: '/big-throttle', rule: { action: 'throttle', throttle: RATE } },
};

/**
 * One traced program per client and Node for the timing rules: the delayed requests (each after
 * two of the same client to /close-y that the rules leave alone: the first warms up, the second is
 * measured against), then the throttled one; each on a new connection (`/close…`: the server
 * closes it). Lines by job: 0 connect, 1 first-byte, 2 throttle.
 */
async function timingRun(bin, client) {
  const scheme = CLIENTS[client];
  const jobs = Object.entries(TIMED).map(([name, x]) => ({
    client,
    url: urlOf(scheme, scheme, x.path),
    compare: name === 'throttle' ? undefined : urlOf(scheme, scheme, '/close-y'),
    timing: true,
  }));
  const rules = Object.entries(TIMED).map(([name, x]) => ({ id: name, condition: `path == "${x.path}"`, enabled: true, ...x.rule }));
  const fake = await traced(bin, { ...baseEnv, NT_JOBS: JSON.stringify(jobs) }, rules);
  const lines = fake.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  return { fake, byJob: (i) => lines.filter((o) => o.job === i) };
}

/** The measured extra time of a delayed phase, against the same phase of the request the rule left alone. */
function delayOf(run, phase) {
  const [y, x] = run.byJob(phase === 'connect' ? 0 : 1).slice(-2);
  const phaseOf = (o) => (phase === 'connect' ? o.marks.connect - o.marks.socket : o.marks.response - o.marks.finish);
  const extra = phaseOf(x) - phaseOf(y);
  return { extra, lag: x.lag + y.lag, y, x };
}

// The timing tests alone (no pair running), a program per client and Node, shared by its three
// tests; it runs again (up to twice) for a test whose measure the machine's load made miss.
for (const { label, bin } of nodeBinaries()) {
  for (const client of Object.keys(CLIENTS)) {
    let first;
    const firstRun = () => (first ??= timingRun(bin, client));
    for (const phase of ['connect', 'first-byte']) {
      test(`${label}, ${client}: delay ${phase} holds the request back by the asked time (±5 ms plus the loop's lag)`, async () => {
        let last;
        for (let attempt = 0; attempt < 3; attempt++) {
          const run = attempt === 0 ? await firstRun() : await timingRun(bin, client);
          assert.equal(run.fake.code, 0, run.fake.stderr);
          last = delayOf(run, phase);
          if (Math.abs(last.extra - DELAY_MS) <= 5 + last.lag) break;
        }
        assert.ok(
          Math.abs(last.extra - DELAY_MS) <= 5 + last.lag,
          `held ${last.extra} ms for ${DELAY_MS} (lag ${last.lag} ms): ${JSON.stringify(last)}`,
        );
      });
    }
    test(`${label}, ${client}: throttle gives 1 MiB at the asked rate (±10%)`, async () => {
      let rate;
      for (let attempt = 0; attempt < 3; attempt++) {
        const { fake, byJob } = attempt === 0 ? await firstRun() : await timingRun(bin, client);
        assert.equal(fake.code, 0, fake.stderr);
        const o = byJob(2).pop();
        assert.equal(o.body.length, BIG);
        rate = (BIG / (o.ended - o.firstByte)) * 1000;
        const rec = fake.trace.httpRequests.find((r) => r.reqURL.endsWith(TIMED.throttle.path));
        assert.deepEqual(rec.whatIf, { rule: 'throttle', action: 'throttle', rate: RATE });
        if (Math.abs(rate - RATE) <= RATE * 0.1) break;
      }
      assert.ok(Math.abs(rate - RATE) <= RATE * 0.1, `${Math.round(rate)} B/s for ${RATE}`);
    });
  }
}
