// covers: src/preload/http/, src/preload/undici/, src/preload/message/
// needs: the build (dist/core.cjs, dist/preload.cjs)
// The http/https trace tells what happened, checked against what the server saw and what the
// program got, on every Node version installed: a redirect axios follows is a response, not a
// failure; a client's own timeout is a timeout, not an abort; a WebSocket upgrade gets its 101
// and the connection's messages, bytes and close; server-sent events and a chunked response
// show their progress while open; a CONNECT gets its status and carries its tunnel's requests
// (and, with the socket-op trace, their reads and writes); header bytes above 0x7f read as the program read them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startProxies, startServers } from './servers.mjs';
import { startTruthServer } from './truthServers.mjs';
import { apps, byId, nodeBinaries, root, run, runTraced } from './harness.mjs';

const core = createRequire(import.meta.url)(join(root, 'dist', 'core.cjs'));
const preload = join(root, 'dist', 'preload.cjs');

let server;
let servers;
let proxies;
let env;
before(async () => {
  server = await startTruthServer();
  servers = await startServers();
  proxies = await startProxies();
  env = { NT_BASE: server.url, NT_SECURE: server.secureUrl, NT_HTTPS: servers.urls.https, NT_PROXIES: JSON.stringify(proxies.ports) };
});
after(async () => {
  await proxies.close();
  await servers.close();
  await server.close();
});

/** The program's JSON lines by id. */
function got(stdout) {
  const out = new Map();
  for (const line of stdout.split('\n')) if (line.startsWith('{')) out.set(JSON.parse(line).id, JSON.parse(line));
  return out;
}

/** Runs scenarios of apps/http-truth.mjs traced. */
async function traced(bin, scenarios, cliArgs = []) {
  const res = await runTraced(bin, 'http-truth.mjs', { env, args: scenarios, cliArgs });
  assert.equal(res.code, 0, res.stderr);
  assert.ok(res.trace, 'a trace was written');
  return { trace: res.trace, program: got(res.stdout), stdout: res.stdout };
}

/** The request whose URL has `?id=<id>` (also `id=<id>&…`). */
function byReqId(trace, id) {
  const found = trace.httpRequests.filter((r) => new URL(r.reqURL).searchParams.get('id') === id);
  assert.equal(found.length, 1, `one request with id ${id}: ${trace.httpRequests.map((r) => r.reqURL).join(', ')}`);
  return found[0];
}

const header = (r, name) => r.respHeaders?.find(([n]) => n.toLowerCase() === name)?.[1];

for (const { label, bin } of nodeBinaries()) {
  test(`${label}: a redirect axios follows, and a response closed after its head, are responses, not failures`, async () => {
    server.seen.clear();
    const { trace, program } = await traced(bin, ['redirects']);
    assert.equal(program.get('a1').status, 200);
    assert.equal(trace.httpRequests.length, server.seen.size, 'one record per request the server saw');
    for (const id of ['a1', 'a2']) {
      const hop = byReqId(trace, id);
      const seen = server.seen.get(id);
      assert.equal(hop.respStatusCode, seen.status);
      assert.equal(hop.reqError, undefined, `${id}: ${JSON.stringify(hop.reqError)}`);
      assert.doesNotMatch(hop.diagnosis ?? '', /abort|fail/);
      assert.equal(header(hop, 'location'), `/final?id=${id}-final`);
      assert.ok(hop.respDoneAt >= hop.respRecvAt, 'the hop ended');
      assert.ok(hop.respContentLen <= seen.bodyBytes);
      const next = byReqId(trace, `${id}-final`);
      assert.equal(next.redirectedFrom, hop.traceID);
      assert.equal(next.respStatusCode, 200);
      assert.equal(next.respContentLen, server.seen.get(`${id}-final`).bodyBytes);
      assert.equal(next.respClosedEarly, undefined);
    }
    // follow-redirects destroys the hop's response in its 'response' handler: its body was not read.
    const withBody = byReqId(trace, 'a2');
    assert.equal(withBody.respClosedEarly, true);
    assert.equal(withBody.respContentLen, 0);
    const head = byReqId(trace, 'h1');
    assert.equal(head.respStatusCode, 200);
    assert.equal(head.reqError, undefined);
    assert.equal(head.respClosedEarly, true);
    assert.ok(head.respContentLen <= 1000);
    assert.equal(trace.httpRequests.filter((r) => r.reqError).length, 0);
  });

  test(`${label}: header bytes above 0x7f read in the trace as the program read them (fetch with and without a redacted header, http)`, async () => {
    const { trace, program } = await traced(bin, ['headerBytes']);
    for (const id of ['b1', 'b2', 'b3']) {
      const value = program.get(id).value;
      assert.match(value, /[^\x00-\x7f]/, `${id}: the value has a byte above 0x7f`);
      assert.equal(header(byReqId(trace, id), 'x-bytes'), value, `${id}: the trace's value is the program's`);
    }
    assert.equal(header(byReqId(trace, 'b2'), 'set-cookie'), '<redacted>');
  });

  test(`${label}: a client's own timeout is a timeout with what the program got; an abort is an abort`, async () => {
    server.seen.clear();
    const { trace, program } = await traced(bin, ['timeouts']);
    for (const id of ['t1', 't2', 't3', 't4', 't5', 't9']) {
      const r = byReqId(trace, id);
      assert.ok(server.seen.has(id), `the server got ${id}`);
      assert.equal(r.respStatusCode, undefined);
      assert.equal(r.reqError?.timedOut, true, `${id}: ${JSON.stringify(r.reqError)}`);
      assert.equal(r.reqError.aborted, undefined, `${id}: a timeout is not an abort`);
      assert.equal(r.reqError.phase, 'response', `${id}: sent, waiting for the response`);
      assert.equal(r.reqError.message, program.get(id).message, `${id}: the message the program got`);
      assert.equal(r.reqError.code, program.get(id).code, `${id}: the code the program got`);
      assert.match(r.diagnosis, /^timed out after \d+ ms while waiting for the server's first byte/);
    }
    assert.equal(program.get('t1').message, 'timeout of 300ms exceeded');
    // Aborted from the program's own timer (what ky's and openai's `timeout` do): a timeout, with
    // the AbortError the program got as its message.
    for (const id of ['t7', 't8']) {
      const r = byReqId(trace, id);
      assert.equal(r.reqError?.timedOut, true, `${id}: ${JSON.stringify(r.reqError)}`);
      assert.equal(r.reqError.aborted, undefined, `${id}: a timeout is not an abort`);
      assert.equal(r.reqError.message, program.get(id).message);
    }
    for (const id of ['t6']) {
      const abort = byReqId(trace, id);
      assert.ok(server.seen.has(id), `the server got ${id}`);
      assert.equal(abort.reqError.aborted, true, `${id}: ${JSON.stringify(abort.reqError)}`);
      assert.equal(abort.reqError.timedOut, undefined, `${id}: an abort is not a timeout`);
      assert.equal(abort.reqError.message, program.get(id).message);
    }
  });

  test(`${label}: WebSocket upgrades get their 101, lifetime, messages, bytes and close`, async () => {
    server.seen.clear();
    const { trace, program, stdout } = await traced(bin, ['websocket']);
    const plain = await run(bin, [join(apps, 'http-truth.mjs'), 'websocket'], { env });
    assert.equal(stdout, plain.stdout, 'the program saw the same events traced and untraced');
    assert.deepEqual(program.get('w3').events, ['close'], 'an unheard upgrade still closes the socket');
    for (const id of ['w1', 'w2', 'w3']) {
      const r = byReqId(trace, id);
      assert.equal(r.respStatusCode, server.seen.get(id).status);
      assert.equal(r.respStatusCode, 101);
      assert.equal(r.reqError, undefined);
      assert.ok(r.respRecvAt >= r.reqSentAt && r.respDoneAt >= r.respRecvAt, `${id} has its times`);
    }
    const w1 = byReqId(trace, 'w1').webSocket;
    const s1 = server.seen.get('w1');
    assert.equal(w1.sentMessages, s1.recv.length);
    assert.equal(w1.recvMessages, s1.sent.length);
    assert.equal(w1.closeCode, s1.closeCode);
    assert.equal(w1.closeReason, s1.closeReason);
    assert.equal(w1.closeCode, program.get('w1').code);
    assert.equal(w1.closedBy, 'client');
    // Payload bytes of the data messages (control frames and frame headers are not counted).
    assert.equal(
      w1.sentBytes,
      s1.recv.reduce((n, l) => n + l, 0),
    );
    assert.equal(
      w1.recvBytes,
      s1.sent.reduce((n, l) => n + l, 0),
    );
    assert.ok(w1.closeAt >= w1.openAt);
    const w2 = byReqId(trace, 'w2').webSocket;
    const s2 = server.seen.get('w2');
    assert.deepEqual([w2.closedBy, w2.closeCode, w2.closeReason], ['server', s2.closeCode, s2.closeReason]);
    assert.equal(w2.recvMessages, s2.sent.length);
    assert.equal(w2.sentMessages, 0);
    const w4 = byReqId(trace, 'w4');
    const s4 = server.seen.get('w4');
    assert.equal(w4.respStatusCode, 101);
    assert.ok(w4.tlsTunnel, 'over TLS');
    assert.deepEqual([w4.webSocket.sentMessages, w4.webSocket.recvMessages], [s4.recv.length, s4.sent.length]);
    assert.deepEqual([w4.webSocket.closedBy, w4.webSocket.closeCode], ['client', s4.closeCode]);
    assert.equal(w4.webSocket.sentBytes, 300, 'frames read above TLS');
    assert.equal(byReqId(trace, 'w3').respClosedEarly, true);
    assert.equal(byReqId(trace, 'w3').webSocket, undefined);
  });

  test(`${label}: CONNECT gets its status and times; tunnelled requests count on the proxy connection, with their socket ops`, async () => {
    const { trace, program } = await traced(bin, ['connect'], ['--sock-trace']);
    const connect = trace.httpRequests.find((r) => r.reqMethod === 'CONNECT' && r.reqURL.endsWith(`:${new URL(servers.urls.https).port}`));
    assert.equal(connect.respStatusCode, program.get('k1').status);
    assert.ok(connect.reqSentAt <= connect.respRecvAt && connect.respRecvAt <= connect.respDoneAt, JSON.stringify(connect));
    assert.equal(connect.reqError, undefined);
    const inner = byReqId(trace, 'k2');
    assert.equal(inner.respStatusCode, 200);
    assert.equal(inner.respContentLen, program.get('k2').bytes);
    assert.equal(inner.tcpConn, connect.tcpConn);
    const tunnel = byId(trace, 'tcpConns', inner.tcpConn);
    assert.equal(tunnel.requestCount, 2, 'the CONNECT and the request through it');
    const tlsOps = tunnel.socketTrace.socketOps.filter((o) => o.layer === 'tls');
    assert.ok(
      tlsOps.some((o) => o.type === 'write'),
      'the request written through the tunnel',
    );
    assert.ok(tlsOps.filter((o) => o.type === 'read').reduce((n, o) => n + o.dataLen, 0) > 5000, 'the response read through the tunnel');
    const viaAgent = byReqId(trace, 'k3');
    assert.equal(viaAgent.respContentLen, program.get('k3').bytes);
    const agentConn = byId(trace, 'tcpConns', viaAgent.tcpConn);
    assert.equal(agentConn.requestCount, 1, 'https-proxy-agent writes its CONNECT itself: one HTTP request');
    assert.ok(
      agentConn.socketTrace.socketOps.filter((o) => o.layer === 'tls' && o.type === 'read').reduce((n, o) => n + o.dataLen, 0) > 6000,
    );
  });

  test(`${label}: undici ProxyAgent's tunnels (HTTP and HTTPS proxy) count their requests; --sock-trace records the TLS session over them`, async () => {
    const res = await runTraced(bin, 'proxies.mjs', {
      env: { NT_URLS: JSON.stringify(servers.urls), NT_PROXIES: JSON.stringify(proxies.ports) },
      cliArgs: ['--sock-trace'],
    });
    assert.equal(res.code, 0, res.stderr);
    for (const [suffix, size] of [
      ['/tunnel?size=43', 43],
      ['/tls-in-tls?size=44', 44],
    ]) {
      const r = res.trace.httpRequests.find((x) => x.reqURL.endsWith(suffix));
      const conn = byId(res.trace, 'tcpConns', r.tcpConn);
      assert.equal(conn.requestCount, 2, `${suffix}: the CONNECT and the request through it`);
      const ops = conn.socketTrace.socketOps;
      const inner = ops.filter((o) => o.layer === 'tls');
      assert.ok(
        inner.some((o) => o.type === 'write'),
        `${suffix}: the request written through the tunnel`,
      );
      const read = inner.filter((o) => o.type === 'read').reduce((n, o) => n + o.dataLen, 0);
      assert.ok(read > size, `${suffix}: the response (${size} B of body) read through the tunnel: ${read}`);
      assert.ok(ops.findIndex((o) => o.layer === 'tls') > 0, `${suffix}: after the CONNECT exchange`);
    }
  });

  test(`${label}: server-sent events and a chunked response show their progress while open, and end`, async () => {
    server.seen.clear();
    const collector = await core.startCollector({ description: 'streams' });
    try {
      const childEnv = core.buildPreloadEnv({ ...process.env, ...env }, { preloadPath: preload, config: { ipcPath: collector.ipcPath } });
      const child = spawn(bin, [join(apps, 'http-truth.mjs'), 'streams'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const exited = new Promise((r) => child.on('close', r));
      /** Waits until the live trace shows the stream `id` open with what the server has sent so far. */
      const whileOpen = async (id) => {
        // A bound on waiting, not a timing claim: a busy machine starts the debuggee slowly.
        const deadline = Date.now() + 30000;
        for (;;) {
          const r = collector.session.snapshot().httpRequests.find((x) => x.reqURL.endsWith(`id=${id}`));
          const seen = server.seen.get(id);
          const want = id === 's1' ? seen?.events === 2 && r?.respEvents === 2 : true;
          if (r && seen && want && r.respContentLen === seen.bodyBytes && seen.bodyBytes > 0 && (id !== 'c1' || seen.bodyBytes === 5))
            return r;
          assert.ok(Date.now() < deadline, `no progress of ${id} while open: ${JSON.stringify(r)} vs ${JSON.stringify(seen)}; ${stderr}`);
          await new Promise((res) => setTimeout(res, 50));
        }
      };
      for (const id of ['s1', 'c1']) {
        const open = await whileOpen(id);
        assert.equal(open.respStatusCode, 200);
        assert.equal(open.respDoneAt, undefined, 'still open');
        assert.equal(open.reqError, undefined);
        server.open(id);
      }
      assert.equal(await exited, 0, stderr);
      await collector.waitForIdle({ timeoutMs: 3000 });
      const trace = collector.session.snapshot();
      const program = got(stdout);
      for (const id of ['s1', 'c1']) {
        const r = trace.httpRequests.find((x) => x.reqURL.endsWith(`id=${id}`));
        assert.ok(r.respDoneAt >= r.respRecvAt, `${id} ended`);
        assert.equal(r.respContentLen, server.seen.get(id).bodyBytes);
        assert.equal(r.respContentLen, program.get(id).bytes);
        assert.equal(r.reqError, undefined);
      }
      assert.equal(trace.httpRequests.find((x) => x.reqURL.endsWith('id=s1')).respEvents, server.seen.get('s1').events);
      assert.equal(trace.httpRequests.find((x) => x.reqURL.endsWith('id=c1')).respEvents, undefined);
    } finally {
      await collector.close();
    }
  });
}
