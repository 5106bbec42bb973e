// covers: src/preload/server/, src/preload/causality.ts
// Incoming requests and causality, for real (issue 37): Express, Fastify and http.createServer
// gateways calling two services, 50 concurrent incoming requests each, calls through await,
// .then, setTimeout, an EventEmitter, an undici Pool queue and axios (apps/gateway.cjs); an
// HTTP/2 server (Node 22+); a client that aborts mid-request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apps, cli, nodeBinaries, run, runTraced } from './harness.mjs';

const PREFIX = { ex: 'ex', fa: 'fa', pl: 'pl' };

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: every outgoing request names the incoming request that caused it`, async () => {
    const { code, trace, stdout, stderr } = await runTraced(bin, 'gateway.cjs');
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout);
    const incoming = trace.incomingRequests;
    assert.ok(Array.isArray(incoming), 'the trace has incomingRequests');
    const byId = new Map(incoming.map((r) => [r.traceID, r]));
    const portName = new Map(Object.entries(out.ports).map(([k, v]) => [String(v), k]));

    // The tag (`ex-7`) of each gateway's incoming request, from its port and path.
    const tagOf = (inc) => {
      const u = new URL(inc.reqURL);
      const gw = portName.get(u.port);
      if (gw && u.pathname.startsWith('/g/')) return `${PREFIX[gw]}-${u.pathname.slice(3)}`;
      if (gw === 'pl' && u.pathname === '/slow') return 'slow';
      if (inc.server === 'http2') return `h2-${u.pathname.slice(1)}`;
      return undefined;
    };

    // Every call carries its incoming request's tag: the causedBy must name that request.
    let calls = 0;
    const wrong = [];
    for (const r of trace.httpRequests) {
      const from = new URL(r.reqURL).searchParams.get('from');
      if (from === null) {
        // The clients of the gateways run outside any incoming request.
        assert.equal(r.causedBy, undefined, `${r.reqURL} was made outside any incoming request`);
        continue;
      }
      calls++;
      const inc = byId.get(r.causedBy);
      if (!inc || tagOf(inc) !== from) wrong.push(`${r.client} ${r.reqURL} → ${r.causedBy} ${inc?.reqURL}`);
    }
    assert.deepEqual(wrong, [], `${wrong.length} of ${calls} calls misattributed`);
    // 3 gateways × 50 requests × 8 calls, the aborted request's late call, the HTTP/2 streams'.
    assert.equal(calls, 3 * 50 * 8 + 1 + out.h2.length);

    // Each gateway request as its client saw it: status, route, times inside the client's.
    for (const seen of out.seen) {
      const gw = portName.get(String(seen.port));
      const inc = incoming.find((i) => tagOf(i) === `${PREFIX[gw]}-${seen.n}`);
      assert.ok(inc, `incoming ${gw} ${seen.path}`);
      assert.equal(inc.respStatusCode, seen.status, `${gw} ${seen.path} status`);
      assert.equal(inc.reqMethod, 'POST');
      assert.equal(inc.server, 'http');
      assert.equal(inc.route, gw === 'pl' ? undefined : '/g/:n', `${gw} route`);
      assert.equal(inc.reqContentLen, JSON.stringify({ n: seen.n }).length);
      assert.ok(inc.respContentLen > 0);
      assert.equal(inc.addrTuple.dstPort, seen.port);
      assert.equal(inc.aborted, undefined);
      assert.equal(inc.traceparent, `00-${String(seen.n).padStart(32, '0')}-${'1'.repeat(16)}-01`);
      const client = trace.httpRequests.find((r) => r.reqURL === `http://127.0.0.1:${seen.port}${seen.path}`);
      assert.equal(client.respStatusCode, seen.status);
      // The server's times fall within the client's: head received after the client started,
      // response head written before the client got it, finished before the client's end.
      assert.ok(client.reqStartAt <= inc.reqRecvAt, `${seen.path}: ${client.reqStartAt} <= ${inc.reqRecvAt}`);
      assert.ok(inc.reqRecvAt <= inc.reqBodyDoneAt && inc.reqBodyDoneAt <= inc.respHeadAt);
      assert.ok(inc.respHeadAt <= inc.respDoneAt && inc.respDoneAt <= inc.reqEndAt);
      assert.ok(inc.respHeadAt <= client.respRecvAt, `${seen.path}: head ${inc.respHeadAt} <= ${client.respRecvAt}`);
      assert.ok(inc.respDoneAt <= client.respDoneAt);
      // The same connection, from both ends.
      const tcp = trace.tcpConns.find((c) => c.traceID === client.tcpConn);
      assert.deepEqual(inc.addrTuple, tcp.addrTuple);
    }

    // The client that gave up: the server saw its request aborted, unfinished.
    const slow = incoming.find((i) => tagOf(i) === 'slow');
    assert.equal(slow.aborted, true);
    assert.equal(slow.respDoneAt, undefined);
    assert.ok(slow.reqEndAt >= slow.reqRecvAt);

    // HTTP/2 (the channel from Node 22 on, the 'stream' event on 20): each stream with the status its client saw.
    const h2 = incoming.filter((i) => i.server === 'http2' && !i.reqURL.endsWith('/cancel'));
    // A stream its client reset before any answer: aborted.
    const cancelled = incoming.find((i) => i.server === 'http2' && i.reqURL.endsWith('/cancel'));
    assert.equal(cancelled.aborted, true);
    assert.equal(cancelled.respStatusCode, undefined);
    assert.ok(cancelled.reqEndAt >= cancelled.reqRecvAt);
    assert.equal(out.h2.length, 5);
    assert.equal(h2.length, out.h2.length);
    for (const s of out.h2) {
      const inc = h2.find((i) => new URL(i.reqURL).pathname === `/${s.i}`);
      assert.equal(inc.respStatusCode, s.status);
      assert.equal(inc.reqMethod, 'POST');
      assert.equal(inc.protoMajor, 2);
      assert.equal(inc.reqContentLen, s.i + 1);
      assert.ok(inc.reqRecvAt <= inc.respHeadAt && inc.respHeadAt <= inc.reqEndAt);
      // The server's one 'stream' listener is the handler; the client's own traceparent is recorded, none made up.
      assert.deepEqual([inc.handler?.file, inc.handler?.line], [join(apps, 'gateway.cjs'), markers('gateway.cjs')['h2-handler']]);
      assert.equal(inc.traceparent, s.i % 2 ? `00-${String(100 + s.i).padStart(32, '0')}-${'1'.repeat(16)}-01` : undefined);
      assert.equal(inc.route, undefined);
    }
  });
}

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: an incoming request still open when the program exits is incomplete, with no status made up, and shown so`, async () => {
    const { code, trace, stderr } = await runTraced(bin, 'incoming-open.cjs');
    assert.equal(code, 0, stderr);
    const byPath = (p) => trace.incomingRequests.find((i) => new URL(i.reqURL).pathname === p);
    const open = byPath('/hang');
    assert.equal(open.incomplete, 'process exited');
    assert.equal(open.respStatusCode, undefined);
    assert.equal(open.respDoneAt, undefined);
    assert.equal(open.reqEndAt, undefined);
    assert.equal(open.aborted, undefined);
    assert.equal(byPath('/done').incomplete, undefined);
    assert.equal(byPath('/done').respStatusCode, 200);
    // nettrace show says so, with the reason.
    const dir = mkdtempSync(join(tmpdir(), 'nettrace-open-'));
    try {
      const file = join(dir, 'trace.json');
      writeFileSync(file, JSON.stringify(trace));
      const shown = await run(process.execPath, [cli, 'show', file]);
      assert.equal(shown.code, 0, shown.stderr);
      const line = shown.stdout.split('\n').find((l) => l.includes(`${open.traceID} GET`));
      assert.match(line, /INCOMPLETE \(process exited\)/);
      assert.match(shown.stdout, /never answered: the process exited before the response was written/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** The line numbers of the `// @line NAME` markers of an app (`// @next-line NAME`: of the line below). */
function markers(app) {
  const out = {};
  readFileSync(join(apps, app), 'utf8')
    .split('\n')
    .forEach((text, i) => {
      const m = text.match(/\/\/ @(line|next-line) ([\w-]+)/);
      if (m) out[m[2]] = m[1] === 'line' ? i + 1 : i + 2;
    });
  return out;
}

/** `METHOD /path` → the handler line each of its incoming requests named (all the same, or a list when not). */
function handlerLines(trace, file) {
  const by = new Map();
  for (const inc of trace.incomingRequests) {
    const key = `${inc.reqMethod} ${new URL(inc.reqURL).pathname}`;
    const h = inc.handler;
    const seen = h === undefined ? null : h.file === join(apps, file) ? h.line : `${h.file}:${h.line}`;
    by.set(key, [...(by.get(key) ?? []), seen]);
  }
  const out = {};
  for (const [k, v] of by) out[k] = new Set(v).size === 1 ? v[0] : v;
  return out;
}

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: each incoming request names its handler's line: Express's and Fastify's route handler, the server's one listener (HTTP/2's 'stream' or 'request' one too); none when not the program's or not one`, async () => {
    const { code, trace, stderr } = await runTraced(bin, 'handler-lines.cjs');
    assert.equal(code, 0, stderr);
    const L = markers('handler-lines.cjs');
    assert.deepEqual(handlerLines(trace, 'handler-lines.cjs'), {
      'GET /p': L.plain,
      'GET /two': null,
      'GET /e/1': L['ex-get'],
      'POST /e/1': L['ex-post'],
      'HEAD /e/1': L['ex-get'],
      'GET /nowhere': null,
      'POST /f/1': L.fa,
      'GET /h2s': L['h2-stream'],
      'GET /h2c': L['h2-compat'],
    });
    const fa = trace.incomingRequests.find((i) => i.reqMethod === 'POST' && i.route === '/f/:id');
    assert.equal(fa.handler.function, 'charge', 'the function Fastify bound, by its own name');
    assert.equal(trace.incomingRequests.find((i) => i.reqURL.endsWith('/p')).handler.function, 'plainHandler');
  });

  test(`${label}: a TypeScript server run with --import tsx: the handlers' lines in the .ts file`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nettrace-lines-'));
    try {
      const out = join(dir, 'trace.json');
      const app = join(apps, 'handler-lines.ts');
      const res = await run(process.execPath, [cli, 'run', '--quiet', '--out', out, '--', bin, '--import', 'tsx', app]);
      assert.equal(res.code, 0, res.stderr);
      const trace = JSON.parse(readFileSync(out, 'utf8'));
      const L = markers('handler-lines.ts');
      for (const inc of trace.incomingRequests) {
        assert.equal(inc.handler?.file, app, inc.reqURL);
        assert.equal(inc.handler.line, inc.route === '/orders/:id' ? L['ts-ex'] : L['ts-fa'], inc.reqURL);
        assert.ok(inc.handler.generated, 'mapped from the generated position');
      }
      assert.equal(trace.incomingRequests.length, 6);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('--add-traceparent: every call of every client (http, fetch, undici Pool queue, axios) continues the trace its incoming request carried', async () => {
  const { code, trace, stderr } = await runTraced(process.execPath, 'gateway.cjs', { cliArgs: ['--add-traceparent'] });
  assert.equal(code, 0, stderr);
  // The services' incoming requests are the calls: each names its gateway request (`from=ex-7`),
  // whose client sent traceparent 00-<7 padded to 32>-….
  const VALID = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/;
  const wrong = [];
  const madeUp = new Map();
  let checked = 0;
  for (const inc of trace.incomingRequests) {
    const from = new URL(inc.reqURL).searchParams.get('from');
    const n = from?.match(/^(?:ex|fa|pl)-(\d+)$/)?.[1];
    if (n === undefined) continue;
    checked++;
    const m = VALID.exec(inc.traceparent ?? '');
    if (!m) wrong.push(`${inc.reqURL}: ${inc.traceparent}`);
    else if (n === '0') madeUp.set(from, [...(madeUp.get(from) ?? []), m[1]]);
    else if (m[1] !== n.padStart(32, '0')) wrong.push(`${inc.reqURL}: ${inc.traceparent}`);
  }
  assert.deepEqual(wrong, []);
  assert.equal(checked, 3 * 50 * 8);
  // Request 0's client sent an all-zero trace-id, which W3C makes invalid: its calls share a new one.
  assert.equal(madeUp.size, 3);
  for (const ids of madeUp.values()) {
    assert.equal(new Set(ids).size, 1);
    assert.notEqual(ids[0], '0'.repeat(32));
  }
});

test('NETTRACE_HANDLER_LINES=0: no handler lines', async () => {
  const { code, trace, stderr } = await runTraced(process.execPath, 'handler-lines.cjs', { env: { NETTRACE_HANDLER_LINES: '0' } });
  assert.equal(code, 0, stderr);
  assert.equal(trace.incomingRequests.filter((i) => i.handler !== undefined).length, 0);
});

test('NETTRACE_CAUSALITY=0: incoming requests still recorded, no causedBy (what bench/servers.mjs measures against)', async () => {
  const { code, trace, stderr } = await runTraced(process.execPath, 'gateway.cjs', { env: { NETTRACE_CAUSALITY: '0' } });
  assert.equal(code, 0, stderr);
  assert.ok(trace.incomingRequests.length >= 3 * 50 + 1);
  assert.equal(trace.httpRequests.filter((r) => r.causedBy !== undefined).length, 0);
});
