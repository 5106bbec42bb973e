// covers: src/trace/derive/compare.ts
// needs: the build (dist/core.cjs)
// The comparison of two traces (src/trace/derive/compare.ts, significance.ts): the tests against
// known values, "too few to tell", new and gone routes, and the sentence of resets on
// connections idle that long.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

const core = createRequire(import.meta.url)('../../dist/core.cjs');
const { fisherExact, mannWhitney, logGamma, SummaryBuilder, compareRoutes, sortedCopy } = core;

test('Fisher exact test: known two-sided p-values', () => {
  assert.ok(Math.abs(fisherExact(3, 4, 1, 4) - 0.4857) < 1e-4); // the lady tasting tea
  assert.ok(Math.abs(fisherExact(1, 10, 11, 14) - 0.002759) < 1e-5);
  assert.equal(fisherExact(0, 10, 0, 10), 1);
  assert.ok(Math.abs(logGamma(11) - Math.log(3628800)) < 1e-9);
});

test('Mann–Whitney U: U, the normal approximation with continuity correction, ties', () => {
  const r = mannWhitney(sortedCopy([1, 2, 3, 4, 5]), sortedCopy([6, 7, 8, 9, 10]));
  assert.equal(r.u, 0);
  // z = (12.5 − 0.5) / √(25/12 · 11) = 2.5067 → p = 0.01219
  assert.ok(Math.abs(r.p - 0.01219) < 2e-4, String(r.p));
  assert.equal(mannWhitney(sortedCopy([1, 1, 1]), sortedCopy([1, 1, 1])).p, 1);
  const same = mannWhitney(sortedCopy([1, 3, 5, 7]), sortedCopy([2, 4, 6, 8]));
  assert.equal(same.u, 6);
  assert.ok(same.p > 0.5);
});

/** A request to `path` taking `waitMs`, on connection `conn` (reused unless first), failing with `code`. */
function req(i, path, { waitMs = 10, conn = `c${i}`, reused = false, code, at = i * 100 } = {}) {
  const r = {
    traceID: `req-${i}`,
    pid: 1,
    client: 'http',
    reqMethod: 'POST',
    reqURL: `http://pay.example${path}`,
    reqStartAt: at,
    reqSentAt: at,
    tcpConn: conn,
    reusedConn: reused,
    timings: { blocked: 0, dns: -1, connect: -1, ssl: -1, send: 0, wait: waitMs, receive: code ? -1 : 1 },
  };
  if (code) return { ...r, reqError: { phase: 'response', message: code, code }, reqEndAt: at + waitMs };
  return { ...r, respRecvAt: at + waitMs, respDoneAt: at + waitMs + 1, respStatusCode: 200 };
}

function samplesOf(requests) {
  const b = new SummaryBuilder();
  for (const r of requests) b.addRequest(r);
  return b.routeSamples();
}

test('resets on connections idle that long: the error rate and the idle time in one sentence', () => {
  // A: one connection, calls 1 s apart. B: the same, but every 5th call comes after 6 s idle and is reset.
  const a = [];
  const b = [];
  for (let i = 0; i < 60; i++) a.push(req(i, '/charge', { conn: 'k', reused: i > 0, at: i * 1000 }));
  let at = 0;
  for (let i = 0; i < 60; i++) {
    const idle = i % 5 === 4;
    at += idle ? 6000 : 1000;
    b.push(req(i, '/charge', { conn: idle ? `k${i}` : 'k', reused: i > 0, at, code: idle ? 'ECONNRESET' : undefined }));
  }
  // The reset ones reused the long-idle connection: the previous request on it ended 6 s before.
  for (let i = 4; i < 60; i += 5) b[i].tcpConn = 'k';
  const diff = compareRoutes(samplesOf(a), samplesOf(b));
  const [c] = diff.routes;
  assert.equal(c.errorRate.verdict, 'notable');
  assert.equal(
    c.sentence,
    'POST pay.example/charge: failed 0% → 20% (ECONNRESET), all on connections idle ≥ 5.9 s (the server closed them while idle: its keep-alive timeout)',
  );
});

test('too few to tell, and routes new and gone', () => {
  const a = [req(1, '/a', { waitMs: 10 }), req(2, '/a', { waitMs: 12 }), req(3, '/gone')];
  const b = [req(1, '/a', { waitMs: 500 }), req(2, '/a', { waitMs: 520 }), req(3, '/new/42')];
  const diff = compareRoutes(samplesOf(a), samplesOf(b));
  assert.equal(diff.routes.length, 1);
  assert.equal(diff.routes[0].tooFew, true);
  assert.equal(diff.routes[0].notable, false);
  assert.equal(diff.routes[0].measures[0].verdict, 'too few');
  assert.deepEqual(diff.added, [{ label: 'POST pay.example/new/:id', count: 1 }]);
  assert.deepEqual(diff.gone, [{ label: 'POST pay.example/gone', count: 1 }]);
});

test('a tail that moved is notable on a large sample; a median shift smaller than the floor is not', () => {
  const a = Array.from({ length: 200 }, (_, i) => req(i, '/x', { waitMs: 10 + (i % 10) }));
  // B: the same body, but 15% of the calls take 300 ms more; and a +2 ms median shift elsewhere.
  const b = Array.from({ length: 200 }, (_, i) => req(i, '/x', { waitMs: 10 + (i % 10) + (i % 20 < 3 ? 300 : 0) }));
  const c = compareRoutes(samplesOf(a), samplesOf(b)).routes[0];
  const total = c.measures.find((m) => m.measure === 'total');
  assert.equal(total.verdict, 'notable');
  // p95 of A: the 190th of 200 totals (10…19 ms wait + 1 ms receive) = 20; of B: 11 + 300 + 1 = 312.
  assert.equal(c.sentence, "POST pay.example/x p95 +292 ms (20 → 312 ms): the server's first-byte wait (+292 ms)");
  const shifted = Array.from({ length: 200 }, (_, i) => req(i, '/x', { waitMs: 12 + (i % 10) }));
  const d = compareRoutes(samplesOf(a), samplesOf(shifted)).routes[0];
  assert.ok(d.measures[0].p < 0.01, 'significant');
  assert.equal(d.notable, false, 'but 2 ms is below the floor');
});

/** `n` requests of each of `paths` to `origin`, `slow` ms more wait on the paths of `slowPaths`. */
function calls(origin, paths, { n = 30, slow = 0, slowPaths = [] } = {}) {
  const out = [];
  for (let i = 0; i < n; i++)
    for (const path of paths) {
      const r = req(out.length, path, { waitMs: 10 + (i % 5) + (slowPaths.includes(path) ? slow : 0) });
      out.push({ ...r, reqMethod: 'GET', reqURL: `${origin}${path.replace(':id', String(1000 + i))}` });
    }
  return out;
}

test('a service on a new port of the same host is paired by its routes, and the diff says so', () => {
  const paths = ['/users/:id', '/items/:id', '/health'];
  const a = calls('http://127.0.0.1:41234', paths);
  const b = calls('http://127.0.0.1:39871', paths, { slow: 80, slowPaths: ['/users/:id'] });
  const diff = compareRoutes(samplesOf(a), samplesOf(b));
  assert.deepEqual(diff.paired, [{ a: '127.0.0.1:41234', b: '127.0.0.1:39871', common: 3, routesA: 3, routesB: 3 }]);
  assert.deepEqual([diff.added, diff.gone], [[], []]);
  // Every route compared under the second trace's host, the slowed one first.
  assert.equal(diff.routes[0].label, 'GET 127.0.0.1:39871/users/:id');
  assert.deepEqual(diff.routes.map((r) => `${r.label} ← ${r.pairedFrom}`).sort(), [
    'GET 127.0.0.1:39871/health ← 127.0.0.1:41234',
    'GET 127.0.0.1:39871/items/:id ← 127.0.0.1:41234',
    'GET 127.0.0.1:39871/users/:id ← 127.0.0.1:41234',
  ]);
  assert.match(
    diff.routes[0].sentence,
    /^GET 127\.0\.0\.1:39871\/users\/:id p50 \+80 ms \(.*\): the server's first-byte wait \(\+80 ms\)$/,
  );
  assert.equal(diff.routes.filter((r) => r.notable).length, 1);
  const text = core.renderDiff({ ...diff, requestsA: a.length, requestsB: b.length }, ['A.json', 'B.json']);
  assert.match(text, /^ {2}127\.0\.0\.1:41234 ↔ 127\.0\.0\.1:39871, paired by their routes \(3 in both; 3 in A\.json, 3 in B\.json\)$/m);
  // The panel's Compare With… reads the same comparison.
  const msg = core.toCompareMessage('k', 'A.json', diff);
  assert.deepEqual(msg.paired, [{ a: '127.0.0.1:41234', b: '127.0.0.1:39871', common: 3 }]);
  assert.equal(msg.routes[0].pairedFrom, '127.0.0.1:41234');
});

test('origins are paired only on the same host, with routes alike enough, and never on a tie', () => {
  const pair = (a, b) => core.pairOrigins(samplesOf(a), samplesOf(b));
  const three = ['/users/:id', '/items/:id', '/health'];
  // One route of five in common (a fifth of either's): two services, not one.
  assert.deepEqual(
    pair(calls('http://127.0.0.1:1000', three, { n: 2 }), calls('http://127.0.0.1:2000', ['/health', '/a', '/b'], { n: 2 })),
    [],
  );
  // Two of four (half): paired.
  assert.equal(
    pair(calls('http://127.0.0.1:1000', three, { n: 2 }), calls('http://127.0.0.1:2000', ['/users/:id', '/health', '/x'], { n: 2 })).length,
    1,
  );
  // Another host: never.
  assert.deepEqual(pair(calls('http://127.0.0.1:1000', three, { n: 2 }), calls('http://localhost:2000', three, { n: 2 })), []);
  // The same origin in both: matched as it is, nothing to pair.
  assert.deepEqual(pair(calls('http://127.0.0.1:1000', three, { n: 2 }), calls('http://127.0.0.1:1000', three, { n: 2 })), []);
  // Two origins of B as alike to A's one: nothing tells which, neither is paired.
  const twoB = [...calls('http://127.0.0.1:2000', ['/health'], { n: 2 }), ...calls('http://127.0.0.1:3000', ['/health'], { n: 2 })];
  assert.deepEqual(pair(calls('http://127.0.0.1:1000', ['/health'], { n: 2 }), twoB), []);
  // Two services on new ports, each paired with its own.
  const a = [...calls('http://[::1]:1000', three, { n: 2 }), ...calls('http://[::1]:1001', ['/login', '/logout'], { n: 2 })];
  const b = [...calls('http://[::1]:2001', ['/login', '/logout'], { n: 2 }), ...calls('http://[::1]:2000', three, { n: 2 })];
  assert.deepEqual(
    pair(a, b).map((p) => `${p.a} ${p.b}`),
    ['[::1]:1000 [::1]:2000', '[::1]:1001 [::1]:2001'],
  );
});

test('requests a what-if rule changed are set apart: not the server’s time or failures in the summary or the comparison; the rule is named', () => {
  const a = Array.from({ length: 40 }, (_, i) => req(i, '/pay', { waitMs: 10 + (i % 5) }));
  const delayed = (r) => ({
    ...r,
    timings: { ...r.timings, wait: r.timings.wait + 800 },
    respRecvAt: r.respRecvAt + 800,
    respDoneAt: r.respDoneAt + 800,
    whatIf: { rule: 'slow-pay', action: 'delay', kind: 'first-byte', ms: 800 },
  });
  // Every call delayed 800 ms by the rule: nothing of it is the server's.
  const all = a.map(delayed);
  const summary = (() => {
    const b = new SummaryBuilder();
    for (const r of all) b.addRequest(r);
    return b.result();
  })();
  assert.equal(summary.whatIf, 40);
  const [route] = summary.routes;
  assert.deepEqual(route.whatIf, {
    count: 40,
    rules: [{ rule: 'slow-pay', name: 'slow-pay', words: "held back its response's first byte 800 ms", count: 40 }],
  });
  assert.equal(route.count, 40);
  assert.equal(route.times.total, undefined, 'no percentile counts the rule’s time');
  assert.deepEqual([route.failed, route.status, route.connections.opened], [0, {}, 0]);
  const c = compareRoutes(samplesOf(a), samplesOf(all)).routes[0];
  assert.equal(c.notable, false);
  assert.equal(c.tooFew, true, 'nothing of the server’s left to compare');
  assert.equal(
    c.sentence,
    `POST pay.example/pay: 40 of 40 requests were changed by what-if rule "slow-pay" (held back its response's first byte 800 ms) — set apart, not compared: their time and failures are the rule's doing, not the server's or the network's`,
  );
  assert.doesNotMatch(c.sentence, /server's first-byte wait/);

  // Three of forty ("The next three"), and a refusal the rule made: the rest compared, within the noise.
  const some = a.map((r, i) =>
    i < 3
      ? delayed(r)
      : i === 3
        ? {
            ...req(3, '/pay', { code: 'ECONNREFUSED' }),
            whatIf: { rule: 'down', name: 'Fail POST pay.example/pay', action: 'fail', kind: 'refused' },
          }
        : r,
  );
  const d = compareRoutes(samplesOf(a), samplesOf(some)).routes[0];
  assert.equal(d.notable, false, JSON.stringify(d.measures.map((m) => [m.measure, m.verdict])));
  assert.equal(d.errorRate.b, 0, 'the refusal the rule made is not a failure of the server');
  assert.equal(d.errorRate.nB, 36);
  assert.equal(
    d.sentence,
    'POST pay.example/pay: 4 of 40 requests were changed by what-if rules "slow-pay" (held back its response\'s first byte 800 ms) on 3, "Fail POST pay.example/pay" (made this request fail (connection refused)) on 1 — set apart, not compared: their time and failures are the rule\'s doing, not the server\'s or the network\'s',
  );
  // The terminal's summary and the panel's comparison say the same.
  const text = core.renderRouteSummary(
    (() => {
      const b = new SummaryBuilder();
      for (const r of some) b.addRequest(r);
      return b.result();
    })(),
  );
  assert.match(text, /Requests made: 40 by route \(the most time spent first\); 4 changed by what-if rules, set apart/);
  assert.match(
    text,
    /what if: 4 changed 3 by rule "slow-pay" \(held back its response's first byte 800 ms\), 1 by rule "Fail POST pay.example\/pay" .*, set apart: not in the times, failures, statuses or connections above/,
  );
  assert.equal(core.toCompareMessage('k', 'A.json', compareRoutes(samplesOf(a), samplesOf(some))).routes[0].sentence, d.sentence);
});

test('a slow request a what-if delay or throttle made: its sentence names the rule’s part, not the server’s or the network’s', () => {
  const base = req(1, '/pay', { waitMs: 1400 });
  const delayed = core.enrichTrace({
    traceBeginAt: new Date(0).toISOString(),
    httpRequests: [
      {
        ...base,
        timings: undefined,
        reqSentAt: 0,
        respRecvAt: 1400,
        respDoneAt: 1401,
        whatIf: { rule: 'slow-pay', action: 'delay', kind: 'first-byte', ms: 1300 },
      },
    ],
    dials: [],
    tcpConns: [],
    tlsTunnels: [],
  }).httpRequests[0];
  assert.match(
    delayed.diagnosis,
    /^What if: rule "slow-pay" held back its response's first byte 1300 ms\. The program saw: \d+% of the time was the first-byte wait \(\d+ ms of \d+ ms\): 1300 ms of it the what-if rule's delay, not the server's$/,
  );
  assert.doesNotMatch(delayed.diagnosis, /server's first-byte wait/);
});
