// covers: src/trace/diagnosis/
// Failure and slowness diagnosis, table-driven, every scenario produced for real (issue 4, scope
// 8): traced programs (apps/diag-scenarios.mjs, apps/diag-dns.cjs) against local servers started
// here, and each request's one-sentence diagnosis held against a pattern that names the phase,
// the cause and the evidence. Both programs run at once; the whole file takes a few seconds.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { spawn } from 'node:child_process';
import { caFile, pem, startServers } from './servers.mjs';
import { startTlsServers } from './tlsServers.mjs';
import { startDnsServer } from './dnsServer.mjs';
import { byId, runTraced } from './harness.mjs';

/** Successful requests slower than this are diagnosed (the slow scenarios take about 600 ms). */
const SLOW_MS = 400;

function listen(server, host = '127.0.0.1', port = 0) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server.address().port));
  });
}

/**
 * A port whose SYNs are dropped, so connects to it hang: a listener in a stopped child process
 * (it never accepts) whose accept queue the test fills. Linux drops a SYN when the accept queue of
 * the listener is full, and nothing ever drains this one.
 */
async function startBlackhole() {
  const code = `const s = require('net').createServer(); s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => console.log(s.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(String(d).trim())));
    child.once('error', reject);
  });
  process.kill(child.pid, 'SIGSTOP');
  const fillers = [];
  for (let i = 0; i < 3; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
  }
  // Let the fillers' handshakes land in the queue before anyone else connects.
  await new Promise((r) => setTimeout(r, 100));
  return {
    port,
    close() {
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
    },
  };
}

/** The HTTP server of the status and slowness scenarios: ?status=N, ?delay=MS, ?trickle=CHUNKS. */
function diagHandler(req, res) {
  const url = new URL(req.url, 'http://x');
  const status = Number(url.searchParams.get('status') ?? 200);
  const delay = Number(url.searchParams.get('delay') ?? 0);
  const trickle = Number(url.searchParams.get('trickle') ?? 0);
  setTimeout(() => {
    if (trickle > 0) {
      // 8 KiB every 50 ms.
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(trickle * 8192) });
      let sent = 0;
      const timer = setInterval(() => {
        res.write(Buffer.alloc(8192, 'z'));
        if (++sent === trickle) {
          clearInterval(timer);
          res.end();
        }
      }, 50);
      return;
    }
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end('diag');
  }, delay);
}

let base;
let tlsServers;
const closers = [];
let main;
let dns;

before(async () => {
  base = await startServers();
  tlsServers = await startTlsServers();
  const blackhole = await startBlackhole();
  // Registered at once, so a failure further down still kills the stopped child.
  closers.push(() => blackhole.close());
  const sockets = new Set();
  const track = (s) => {
    for (const ev of ['connection', 'secureConnection']) {
      s.on(ev, (c) => {
        sockets.add(c);
        c.on('error', () => {});
        c.on('close', () => sockets.delete(c));
      });
    }
    return s;
  };
  const diagHttp = track(http.createServer(diagHandler));
  // The same port on 127.0.0.2 as the blackhole on 127.0.0.1: where happy eyeballs ends up.
  const alt = track(http.createServer(diagHandler));
  const ctx = tls.createSecureContext({ key: pem('localhost.key'), cert: pem('localhost.pem') });
  const slowTls = track(
    https.createServer(
      { key: pem('localhost.key'), cert: pem('localhost.pem'), SNICallback: (name, cb) => setTimeout(() => cb(null, ctx), 600) },
      diagHandler,
    ),
  );
  const h2 = track(http2.createSecureServer({ key: pem('localhost.key'), cert: pem('localhost.pem') }));
  h2.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    if (headers[':path'] === '/diag/goaway') stream.session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 0);
    else if (headers[':path'] === '/diag/rst-stream') stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    else stream.respond({ ':status': 200 }) || stream.end('ok');
  });
  // Reads the request, then closes the connection without answering (a FIN, not a RST).
  const hangup = track(net.createServer((sock) => sock.once('data', () => sock.end())));
  const proxy403 = track(http.createServer());
  proxy403.on('connect', (req, sock) => sock.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n'));
  const ports = {
    http: await listen(diagHttp),
    slowTls: await listen(slowTls),
    h2: await listen(h2),
    proxy: await listen(proxy403),
    hangup: await listen(hangup),
  };
  await listen(alt, '127.0.0.2', blackhole.port);
  const silentNs = await startDnsServer({ host: '127.0.0.1', silent: true });
  const ns = await startDnsServer({ host: '127.0.0.2', zone: { 'slow.test': { A: ['127.0.0.1'] } } });
  closers.push(
    () => silentNs.close(),
    () => ns.close(),
    async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([diagHttp, alt, slowTls, h2, proxy403, hangup].map((s) => new Promise((r) => s.close(r))));
    },
  );

  const NT_DIAG = JSON.stringify({
    ...base.urls,
    refusedPort: Number(new URL(base.urls.refused).port),
    http: `http://127.0.0.1:${ports.http}`,
    tls: tlsServers.ports,
    blackholePort: blackhole.port,
    slowTlsPort: ports.slowTls,
    h2: `https://localhost:${ports.h2}`,
    proxy403: `http://127.0.0.1:${ports.proxy}`,
    hangup: `http://127.0.0.1:${ports.hangup}`,
  });
  // The program's own sentences: no kernel helper (its facts, appended when it runs, are the
  // privileged tests'; a retransmit on a loaded machine would change a sentence here).
  const cliArgs = ['--slow', String(SLOW_MS), '--helper', 'off'];
  [main, dns] = await Promise.all([
    runTraced(process.execPath, 'diag-scenarios.mjs', { env: { NT_DIAG, NODE_EXTRA_CA_CERTS: caFile }, cliArgs }),
    runTraced(process.execPath, 'diag-dns.cjs', {
      // One try of 1 s per nameserver, and no search list: nx.test is asked once per server.
      env: { NT_HTTP_PORT: String(ports.http), RES_OPTIONS: 'timeout:1 attempts:1', LOCALDOMAIN: '' },
      cliArgs: [...cliArgs, `--dns-trace=${silentNs.address},${ns.address}`],
    }),
  ]);
  for (const run of [main, dns]) {
    assert.equal(run.code, 0, run.stderr);
    assert.ok(run.trace, run.stderr);
  }
});

after(async () => {
  for (const close of closers) await close();
  await tlsServers?.close();
  await base?.close();
});

/** The request of one scenario (its path is /diag/<name>). */
function find(trace, name, method = 'GET') {
  const found = trace.httpRequests.filter((r) => r.reqMethod === method && new URL(r.reqURL || 'x:/').pathname === `/diag/${name}`);
  assert.equal(found.length, 1, `one request for /diag/${name}: ${trace.httpRequests.map((r) => r.reqURL).join(', ')}`);
  return found[0];
}

const IP = String.raw`127\.0\.0\.1`;
const MS = String.raw`[\d.]+ ms`;
const re = (s) => new RegExp(`^${s}$`);
/** The share of the slowest phase must really dominate. */
const dominant = (min) => (r) => assert.ok(Number(/^(\d+)%/.exec(r.diagnosis)[1]) >= min, `${r.diagnosis}: at least ${min}%`);

/**
 * The table: scenario, the traced program it ran in, the sentence it must get, and checks of the
 * records the sentence rests on.
 */
const SCENARIOS = [
  {
    name: 'refused',
    want: re(`connect to ${IP}:\\d+ refused \\(ECONNREFUSED\\) after ${MS}`),
    check: (r, t) => assert.equal(byId(t, 'dials', r.dial).connectAttempts.at(-1).error, 'ECONNREFUSED'),
  },
  {
    name: 'all-refused',
    want: re(`connect to 127\\.0\\.0\\.3:(\\d+) refused \\(ECONNREFUSED\\) after ${MS}; 1 other address refused \\(127\\.0\\.0\\.2:\\1\\)`),
    check: (r, t) =>
      assert.deepEqual(
        byId(t, 'dials', r.dial).connectAttempts.map((a) => a.address),
        ['127.0.0.2', '127.0.0.3'],
      ),
  },
  {
    name: 'dns',
    want: re(
      `DNS lookup of nonexistent\\.invalid failed: (name not found \\(ENOTFOUND\\)|temporary resolver failure \\(is a DNS server reachable\\?\\) \\(EAI_AGAIN\\)) after ${MS}`,
    ),
  },
  {
    name: 'dns-nxdomain',
    run: 'dns',
    want: re(
      `DNS lookup of nx\\.test failed after \\d+ ms: ${IP}:\\d+ did not answer within 1000 ms \\(1 attempt\\), then 127\\.0\\.0\\.2:\\d+ returned NXDOMAIN \\(ENOTFOUND\\)`,
    ),
    check: (r, t) =>
      assert.ok(
        t.dnsQueries.some((q) => q.fromDial === r.dial),
        'the DNS messages are linked to the dial',
      ),
  },
  {
    name: 'connect-timeout',
    want: re(`connect to ${IP}:\\d+ timed out \\(UND_ERR_CONNECT_TIMEOUT\\) after \\d+ ms \\(limit 300 ms\\)`),
    check: (r) => assert.equal(r.reqError.phase, 'connect'),
  },
  {
    name: 'expired',
    want: re(
      `TLS handshake with localhost \\(${IP}:\\d+\\) failed: the certificate (has expired|expired on 2026-11-21) \\(CERT_HAS_EXPIRED\\)`,
    ),
  },
  {
    name: 'wronghost',
    want: re(
      `TLS handshake with localhost \\(${IP}:\\d+\\) failed: the certificate is for other\\.test, not localhost \\(ERR_TLS_CERT_ALTNAME_INVALID\\)`,
    ),
  },
  {
    name: 'untrusted',
    want: re(
      `TLS handshake with localhost \\(${IP}:\\d+\\) failed: the certificate is signed by a CA this program does not trust( \\(CN=Net Trace Test untrusted-ca\\))? \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\)`,
    ),
  },
  {
    name: 'plain-http',
    want: re(
      `TLS handshake with localhost \\(${IP}:\\d+\\) failed: the server did not answer with TLS \\(plain HTTP on a TLS port\\?\\) \\(EPROTO\\)`,
    ),
  },
  {
    name: 'tls-timeout',
    want: re(`TLS handshake with localhost \\(${IP}:\\d+\\) timed out after \\d+ ms: the server sent nothing after the ClientHello`),
  },
  {
    name: 'first-byte-timeout',
    want: re(`timed out after \\d+ ms while waiting for the server's first byte \\(request sent to ${IP}:\\d+, no response\\)`),
  },
  {
    // A server that closes the connection without answering: Node says ECONNRESET "socket hang
    // up", undici "other side closed"; neither is a reset (the server sent a FIN).
    name: 'hangup',
    want: re(
      `connection closed by ${IP}:\\d+ \\(ECONNRESET: socket hang up\\) while waiting for the server's first byte \\(request sent to ${IP}:\\d+, no response\\)`,
    ),
  },
  {
    name: 'hangup-fetch',
    want: re(
      `connection closed by ${IP}:\\d+ \\(UND_ERR_SOCKET: other side closed\\) while waiting for the server's first byte \\(request sent to ${IP}:\\d+, no response\\)`,
    ),
  },
  {
    name: 'reset-mid-body',
    want: re(`connection reset by ${IP}:\\d+ \\(ECONNRESET\\) while receiving the response body after \\d+ of 100000 bytes`),
  },
  { name: '503', want: re(`server answered 503 Service Unavailable after ${MS}`) },
  { name: '404', want: re(`server answered 404 Not Found after ${MS}`) },
  {
    name: 'slow-first-byte',
    want: re(`\\d+% of the time was the server's first-byte wait \\(\\d+ ms of \\d+ ms\\)`),
    check: dominant(80),
  },
  {
    name: 'slow-download',
    want: re(`\\d+% of the time was the response body download \\(\\d+ ms of \\d+ ms\\): 98304 bytes at \\d+ KiB/s`),
    check: dominant(70),
  },
  {
    name: 'slow-tls',
    want: re(`\\d+% of the time was the TLS handshake with localhost \\(${IP}:\\d+\\) \\(\\d+ ms of \\d+ ms\\)`),
    check: dominant(70),
  },
  {
    name: 'slow-connect',
    want: re(
      `\\d+% of the time was the TCP connect \\(\\d+ ms of \\d+ ms\\): ${IP}:(\\d+) timed out after \\d+ ms, then 127\\.0\\.0\\.2:\\1 connected after ${MS}`,
    ),
    check: dominant(70),
  },
  {
    name: 'slow-dns',
    run: 'dns',
    want: re(
      `\\d+% of the time was the DNS lookup of slow\\.test \\(\\d+ ms of \\d+ ms\\): ${IP}:\\d+ did not answer within 1000 ms \\(1 attempt\\), then 127\\.0\\.0\\.2:\\d+ answered`,
    ),
    check: dominant(70),
  },
  {
    name: 'goaway',
    want: re(
      `HTTP/2: the server sent GOAWAY \\(ENHANCE_YOUR_CALM, last stream \\d+\\) after ${MS} while waiting for the server's first byte \\(request sent to ${IP}:\\d+, no response\\)`,
    ),
  },
  {
    name: 'rst-stream',
    want: re(
      `HTTP/2: the stream was reset with RST_STREAM \\(REFUSED_STREAM\\) after ${MS} while waiting for the server's first byte \\(request sent to ${IP}:\\d+, no response\\)`,
    ),
  },
  {
    name: 'proxy-refused',
    want: re(`proxy ${IP}:\\d+ refused the tunnel to localhost:\\d+ \\(403 Forbidden\\)`),
    check: (r, t) => {
      const connect = t.httpRequests.find((c) => c.reqMethod === 'CONNECT' && c.respStatusCode === 403);
      assert.ok(connect, 'the CONNECT request is traced');
      assert.match(connect.diagnosis, re(`proxy ${IP}:\\d+ refused the tunnel to localhost:\\d+ \\(403 Forbidden\\) after ${MS}`));
    },
  },
  {
    name: 'abort-by-program',
    want: re(
      `aborted by the program after \\d+ ms while waiting for the server's first byte \\(request sent to ${IP}:\\d+, no response\\)`,
    ),
    check: (r) => assert.equal(r.reqError.timedOut, undefined),
  },
];

test('the table covers at least 12 distinct scenarios', () => {
  assert.ok(SCENARIOS.length >= 12);
  assert.equal(new Set(SCENARIOS.map((s) => s.name)).size, SCENARIOS.length);
});

for (const s of SCENARIOS) {
  test(`diagnosis: ${s.name}`, () => {
    const run = s.run === 'dns' ? dns : main;
    const r = find(run.trace, s.name);
    assert.ok(r.diagnosis, `${s.name} has a diagnosis (request ${JSON.stringify(r)})`);
    assert.match(r.diagnosis, s.want);
    s.check?.(r, run.trace);
  });
}

test('fast successful requests get no diagnosis', () => {
  for (const r of [...main.trace.httpRequests, ...dns.trace.httpRequests]) {
    if (r.reqError || r.respStatusCode >= 400) continue;
    const total = Object.entries(r.timings)
      .filter(([k, v]) => k !== 'ssl' && v > 0)
      .reduce((a, [, v]) => a + v, 0);
    if (total <= SLOW_MS) assert.equal(r.diagnosis, undefined, r.reqURL);
  }
});
