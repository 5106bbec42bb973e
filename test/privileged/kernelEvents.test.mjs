// covers: src/helper/, src/collector/kernelEvents.ts, src/trace/derive/kernel.ts
// needs: the build (dist/core.cjs, dist/cli.cjs)
// What the kernel saw during each request (issue 39, item 3), through `nettrace run` with the
// privileged helper, between two network namespaces joined by a veth pair: data retransmits under
// 5% loss (the request's share equals `ss -ti`'s retransmit count of its connection), a server
// that stops reading (the zero-window period, in the trace and the sentence), and a connect
// refused by an ICMP message (named in the request's error sentence, with who sent it); and (item
// 2) where a request's time went: its wait split into network + server + program, its content
// download into on the wire + queued in the socket.
// Root only (CI runs as root); skipped loudly otherwise.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { createTopology, nft, root, sh, skipLoudly, skipReason, runCommand } from './lib.mjs';

const cli = join(root, 'dist', 'cli.cjs');
const { isBenignDrop, kernelFacts, kernelStory, readTrace, requestKernelEvents, retransmittedSegments } = createRequire(import.meta.url)(
  '../../dist/core.cjs',
);

const run = (cmd, args) => runCommand(cmd, args, { timeoutMs: 60_000 });

// The server, in its namespace: POST /upload reads the body and answers its length; POST
// /slow-read reads nothing for 1.5 s first (its receive window fills up and closes).
const SERVER = `
const http = require('http');
http.createServer((req, res) => {
  let n = 0;
  let paused = 0;
  const read = () => { req.on('data', (c) => (n += c.length)); req.on('end', () => res.end(paused ? n + '/' + paused : String(n))); };
  if (req.url === '/download') return res.end(Buffer.alloc(600000, 7));
  if (req.url === '/in-100ms') {
    return setTimeout(() => res.end(JSON.stringify({ sentAt: performance.timeOrigin + performance.now() })), 100);
  }
  if (req.url === '/stream-200ms') {
    // The head and a first chunk at once, a chunk every 20 ms, the last one (with the times) at 200 ms.
    const now = () => performance.timeOrigin + performance.now();
    res.writeHead(200, { 'content-type': 'text/plain' });
    const headAt = now();
    res.write('x'.repeat(1000) + '\\n');
    let n = 0;
    const tick = setInterval(() => {
      if (++n < 10) return res.write('x'.repeat(1000) + '\\n');
      clearInterval(tick);
      res.end(JSON.stringify({ headAt, lastAt: now() }));
    }, 20);
    return;
  }
  if (req.url !== '/slow-read') return read();
  const t0 = Date.now();
  req.pause();
  setTimeout(() => { paused = Date.now() - t0; read(); req.resume(); }, 1500);
}).listen(8080, '0.0.0.0', () => console.log('LISTENING'));`;

/** A topology with the server listening in its namespace; both gone when the test ends. */
async function topology(t, n) {
  const topo = createTopology(n);
  t.after(topo.cleanup);
  const server = spawn('ip', ['netns', 'exec', topo.s, process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => server.kill());
  await new Promise((resolve, reject) => {
    createInterface({ input: server.stdout }).on('line', (l) => l === 'LISTENING' && resolve());
    server.on('exit', (c) => reject(new Error(`server exited (${c})`)));
  });
  return topo;
}

/** `nettrace run` of `code` in the client namespace; resolves with the trace and the program's output. */
async function traced(t, ns, code, extra = []) {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-kev-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'trace.json');
  const r = await run('ip', [
    'netns',
    'exec',
    ns,
    process.execPath,
    cli,
    'run',
    '--quiet',
    '--helper',
    'required',
    '--out',
    out,
    ...extra,
    '--',
    process.execPath,
    '-e',
    code,
  ]);
  assert.equal(r.code, 0, r.stderr);
  // Read as nettrace reads it: the derived fields (kernelTimings, diagnosis) are not in the file.
  return { trace: readTrace(out), stdout: r.stdout, out };
}

/** A POST of `bytes` to the server on a kept-alive connection; then `ss -ti` of that connection, printed as JSON. */
const post = (host, path, bytes) => `
const http = require('http');
const { execFileSync } = require('child_process');
const agent = new http.Agent({ keepAlive: true });
const req = http.request({ host: '${host}', port: 8080, path: '${path}', method: 'POST', agent }, (res) => {
  let body = '';
  res.on('data', (c) => (body += c));
  res.on('end', () => {
    const ss = execFileSync('ss', ['-tiH', 'dst', '${host}:8080']).toString();
    console.log(JSON.stringify({ body, ss }));
    agent.destroy();
  });
});
req.end(Buffer.alloc(${bytes}, 7));`;

describe('kernel events per request (privileged helper)', { timeout: 120_000 }, () => {
  test('5% loss on the path: the request counts the segments retransmitted on its connection, as ss -ti does', async (t) => {
    const why = skipReason();
    if (why) return skipLoudly(t, why);
    const topo = await topology(t, 61);
    // One segment per packet (veth would hand nftables 64 KB GSO packets: a drop there is 40
    // segments, and ten packets make the whole upload).
    sh('ip', ['-n', topo.c, 'link', 'set', 'dev', topo.clientDev, 'gso_max_size', '1500']);
    // One data segment in 20 from the client to the server is dropped (SYNs and ACKs pass).
    nft(
      topo.s,
      `table inet ntloss {\n chain in {\n type filter hook input priority 0; tcp dport 8080 ip length > 200 numgen random mod 20 == 0 counter drop;\n }\n}\n`,
    );
    const { trace, stdout } = await traced(t, topo.c, post(`${topo.net}.2`, '/upload', 600_000));
    const app = JSON.parse(stdout.trim().split('\n').pop());
    assert.equal(app.body, '600000');
    // ss -ti: "retrans:0/N" — N retransmitted segments on the connection in all.
    const ssTotal = Number(/retrans:\d+\/(\d+)/.exec(app.ss)?.[1] ?? 0);
    assert.ok(ssTotal > 0, `the loss made the client retransmit: ${app.ss}`);
    const [req] = trace.httpRequests;
    const conn = trace.tcpConns.find((c) => c.traceID === req.tcpConn);
    const events = conn.kernelEvents ?? [];
    const mine = requestKernelEvents(req, conn);
    const context = { all: events, synRetransmits: conn.tcpMetrics?.synRetransmits };
    assert.equal(
      retransmittedSegments(mine, context) + (conn.tcpMetrics?.synRetransmits ?? 0),
      ssTotal,
      `the request's retransmits vs ss -ti: ${JSON.stringify(events)}`,
    );
    assert.ok(
      mine.every((e) => e.at >= 0 && e.at <= req.respDoneAt),
      'each in the request’s time',
    );
    assert.match(kernelStory(mine, context), new RegExp(`^${ssTotal - (conn.tcpMetrics?.synRetransmits ?? 0)} segments? retransmitted`));
    assert.equal(trace.stats.helper.lostEvents, 0);
  });

  test("the program's packets dropped on their way out by a firewall rule: each drop recorded with the kernel's reason", async (t) => {
    const why = skipReason();
    if (why) return skipLoudly(t, why);
    const topo = await topology(t, 65);
    sh('ip', ['-n', topo.c, 'link', 'set', 'dev', topo.clientDev, 'gso_max_size', '1500']);
    nft(
      topo.c,
      `table inet ntdrop {\n chain out {\n type filter hook output priority 0; tcp dport 8080 ip length > 200 numgen random mod 20 == 0 counter drop;\n }\n}\n`,
    );
    const { trace, stdout } = await traced(t, topo.c, post(`${topo.net}.2`, '/upload', 600_000));
    assert.equal(JSON.parse(stdout.trim().split('\n').pop()).body, '600000');
    const counted = Number(/packets (\d+)/.exec(sh('ip', ['netns', 'exec', topo.c, 'nft', 'list', 'table', 'inet', 'ntdrop']))?.[1]);
    assert.ok(counted > 0, 'the rule dropped some');
    const [req] = trace.httpRequests;
    const conn = trace.tcpConns.find((c) => c.traceID === req.tcpConn);
    const drops = (conn.kernelEvents ?? []).filter((e) => e.kind === 'drop');
    assert.equal(drops.length + (conn.tcpMetrics?.kernelEventsDropped ?? 0), counted, JSON.stringify(drops));
    assert.ok(
      drops.every((d) => d.reason === 'NETFILTER_DROP' && d.direction === 'out'),
      JSON.stringify(drops),
    );
    assert.match(
      kernelStory(requestKernelEvents(req, conn)),
      new RegExp(`${counted} packets? dropped by the kernel on (its|their) way out \\(NETFILTER_DROP( ×\\d+)?: a firewall rule\\)`),
    );
  });

  test("the response's packets a firewall dropped on their way in are recorded `in` and said; TCP's window probes are listed, not said (issue 49 item 9)", async (t) => {
    const why = skipReason();
    if (why) return skipLoudly(t, why);
    const topo = await topology(t, 66);
    sh('ip', ['-n', topo.s, 'link', 'set', 'dev', topo.serverDev, 'gso_max_size', '1500']);
    // A small receive buffer, so the paused program's window shuts and the server probes it.
    sh('ip', ['netns', 'exec', topo.c, 'sysctl', '-qw', 'net.ipv4.tcp_rmem=4096 16384 65536']);
    // One data segment in 20 from the server to the client is dropped as it arrives (ACKs pass).
    nft(
      topo.c,
      `table inet ntdropin {\n chain in {\n type filter hook input priority 0; tcp sport 8080 ip length > 200 numgen random mod 20 == 0 counter drop;\n }\n}\n`,
    );
    // The program stops reading the body for 1.5 s: the server's zero-window probes (an old
    // sequence number) are discarded by the client's TCP by design.
    const get = `require('http').get('http://${topo.net}.2:8080/download', (res) => { let n = 0; res.pause(); setTimeout(() => res.resume(), 1500); res.on('data', (c) => (n += c.length)); res.on('end', () => console.log(JSON.stringify({ n }))); });`;
    const { trace, stdout } = await traced(t, topo.c, get);
    assert.equal(JSON.parse(stdout.trim().split('\n').pop()).n, 600000);
    const counted = Number(/packets (\d+)/.exec(sh('ip', ['netns', 'exec', topo.c, 'nft', 'list', 'table', 'inet', 'ntdropin']))?.[1]);
    assert.ok(counted > 0, 'the rule dropped some');
    const [req] = trace.httpRequests;
    const conn = trace.tcpConns.find((c) => c.traceID === req.tcpConn);
    const events = conn.kernelEvents ?? [];
    const drops = events.filter((e) => e.kind === 'drop' && e.reason === 'NETFILTER_DROP');
    assert.equal(drops.length + (conn.tcpMetrics?.kernelEventsDropped ?? 0), counted, JSON.stringify(events));
    assert.ok(
      drops.every((d) => d.direction === 'in'),
      JSON.stringify(drops),
    );
    const benign = events.filter((e) => e.kind === 'drop' && isBenignDrop(e.reason));
    assert.ok(
      benign.length > 0,
      `the paused program's TCP discarded the window probes: ${JSON.stringify(events.filter((e) => e.kind === 'drop' && e.reason !== 'NETFILTER_DROP'))}`,
    );
    // The sentence (a slow request: 1.5 s) says the firewall's drops and not TCP's discards.
    assert.match(
      req.diagnosis,
      new RegExp(
        `the kernel: .*${drops.length} packets? dropped by the kernel on (its|their) way in \\(NETFILTER_DROP( ×\\d+)?: a firewall rule\\)`,
      ),
      req.diagnosis,
    );
    assert.doesNotMatch(req.diagnosis, /TCP_OLD|discarded/, req.diagnosis);
    // The connection's list names them for what they are.
    assert.match(
      kernelFacts(conn).events,
      new RegExp(`${benign.length} packets? TCP discarded by design as duplicates or window probes \\(TCP_OLD_`),
    );
  });

  test('a server that stops reading: the zero-window period is recorded and said', async (t) => {
    const why = skipReason();
    if (why) return skipLoudly(t, why);
    const topo = await topology(t, 62);
    const { trace, stdout, out } = await traced(t, topo.c, post(`${topo.net}.2`, '/slow-read', 16 << 20));
    const [received, paused] = JSON.parse(stdout.trim().split('\n').pop()).body.split('/').map(Number);
    assert.equal(received, 16 << 20);
    const [req] = trace.httpRequests;
    const conn = trace.tcpConns.find((c) => c.traceID === req.tcpConn);
    const zw = (conn.kernelEvents ?? []).filter((e) => e.kind === 'zeroWindow');
    assert.ok(zw.length >= 1, `a zero-window period: ${JSON.stringify(conn.kernelEvents)}`);
    assert.ok(
      zw.every((e) => e.side === 'peer'),
      'the server’s window, not the program’s',
    );
    const ms = zw.reduce((s, e) => s + (e.at - e.beginAt), 0);
    // The server read nothing for `paused` ms; its window closed once its buffer was full, a little
    // after the start, and opened when it read again (its window update goes out once the server
    // has read: on a loaded machine that read itself may come late).
    assert.ok(ms >= 0.5 * paused && ms <= paused + 300, `zero for ${ms} ms of the server's ${paused} ms pause`);
    assert.ok(zw[0].beginAt >= req.reqStartAt && zw.at(-1).at <= req.respDoneAt);
    assert.match(req.diagnosis ?? '', /the kernel: .*the server's receive window was zero for \d/, req.diagnosis);
    const show = await run(process.execPath, [cli, 'show', out]);
    assert.match(show.stdout, /the server's receive window was zero for/);
  });

  test('a server answering after 100 ms to a program blocked for 300 ms: the kernel saw the response arrive at 100 ms', async (t) => {
    const why = skipReason();
    if (why) return skipLoudly(t, why);
    const topo = await topology(t, 64);
    const code = `
const http = require('http');
const req = http.get('http://${topo.net}.2:8080/in-100ms', (res) => {
  let body = '';
  res.on('data', (c) => (body += c));
  res.on('end', () => console.log(body));
});
// The program is busy for 300 ms right after sending: the response waits in the socket.
req.on('finish', () => { const until = Date.now() + 300; while (Date.now() < until); });`;
    const { trace, stdout } = await traced(t, topo.c, code, ['--slow', '200']);
    const { sentAt } = JSON.parse(stdout.trim());
    const [req] = trace.httpRequests;
    const kt = req.kernelTimings;
    assert.ok(kt, `kernel timings: ${JSON.stringify(trace.tcpConns)}`);
    // The same machine's clock: the server's send, made relative to the trace's start (ms precision).
    const serverSent = sentAt - Date.parse(trace.traceBeginAt);
    // Never before the server sent it; on an idle machine within a few ms of it (veth adds ~0.1 ms),
    // and in any case far nearer the server's send than the program's read (a loaded machine may
    // run the receiving softirq late).
    const late = kt.respFirstByteAt - serverSent;
    assert.ok(late >= -2, `first byte in the kernel at ${kt.respFirstByteAt} ms, before the server sent it at ${serverSent} ms`);
    assert.ok(
      late <= Math.max(5, 0.2 * (req.respRecvAt - serverSent)),
      `first byte in the kernel at ${kt.respFirstByteAt} ms, sent at ${serverSent} ms, read at ${req.respRecvAt} ms`,
    );
    // The program was busy until 300 ms after the request went out ('finish' comes after reqSentAt;
    // Date.now() counts whole ms, so the wait may end up to 1 ms early), the response in its socket
    // meanwhile: about 200 ms, less what a loaded machine made the server late (seen: 55 ms).
    assert.ok(req.respRecvAt >= req.reqSentAt + 299, `read at ${req.respRecvAt} ms, sent at ${req.reqSentAt} ms`);
    assert.ok(req.respRecvAt - kt.respFirstByteAt >= 100, `the program read it ${req.respRecvAt - kt.respFirstByteAt} ms later`);
    assert.ok(kt.respLastByteAt >= kt.respFirstByteAt && kt.respLastByteAt <= req.respDoneAt);
    // The wait split: the request acknowledged within a round trip of the veth pair, the server's
    // 100 ms, and the program's part the time its first byte sat in the socket.
    assert.ok(kt.reqAckedAt >= req.reqSentAt && kt.reqAckedAt <= kt.respFirstByteAt, JSON.stringify(kt));
    assert.ok(kt.wait.network <= 5, `network ${kt.wait.network} ms`);
    assert.ok(kt.wait.server >= 95, JSON.stringify(kt.wait));
    assert.ok(kt.wait.server - (serverSent - req.reqSentAt) <= Math.max(5, 0.2 * (req.respRecvAt - serverSent)), JSON.stringify(kt.wait));
    assert.equal(kt.wait.program, +(req.respRecvAt - kt.respFirstByteAt).toFixed(3));
    assert.match(
      req.diagnosis ?? '',
      /the kernel: the response's first byte reached the machine \d+ ms before the program read it/,
      req.diagnosis,
    );
  });

  test('400 requests on one kept-alive connection: every one has its kernel arrival times (past the 256 other events a connection keeps)', async (t) => {
    const why = skipReason();
    if (why) return skipLoudly(t, why);
    const topo = await topology(t, 66);
    const code = `
const http = require('http');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
let n = 0;
const next = () => http.get({ host: '${topo.net}.2', port: 8080, path: '/n' + n, agent }, (res) => {
  res.resume();
  res.on('end', () => (++n < 400 ? next() : agent.destroy()));
});
next();`;
    const { trace } = await traced(t, topo.c, code);
    assert.equal(trace.httpRequests.length, 400);
    assert.equal(trace.tcpConns.length, 1, 'one connection');
    const arrivals = trace.tcpConns[0].kernelEvents.filter((e) => e.kind === 'dataIn').length;
    assert.ok(arrivals >= 400, `an arrival per exchange (${arrivals})`);
    // A request whose response reached the kernel before the program noted sending it (its event
    // loop held up past the clocks' slack, on a loaded machine) has none: a few, before the 256th
    // request as after it (the build before: none of the 144 after it had any).
    const late = trace.httpRequests.slice(256).filter((r) => !r.kernelTimings);
    assert.ok(late.length <= 7, `requests after the 256th without kernelTimings: ${late.map((r) => r.reqURL).join(' ')}`);
    assert.equal(trace.tcpConns[0].tcpMetrics.kernelEventsDropped, undefined, 'nothing dropped');
  });

  test('IPv6: arrivals (named by their tuple key, IPv6 in brackets) land on their connection, and every request has its kernel times', async (t) => {
    const why = skipReason();
    if (why) return skipLoudly(t, why);
    const topo = await topology(t, 66);
    // A server and its client in one program, over the namespace's own ::1.
    const code = `
const http = require('http');
const srv = http.createServer((req, res) => setTimeout(() => res.end('ok'), 5)).listen(0, '::1', () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let n = 0;
  const next = () => http.get({ host: '::1', port: srv.address().port, path: '/n' + n, agent }, (res) => {
    res.resume();
    res.on('end', () => (++n < 30 ? next() : (agent.destroy(), srv.close())));
  });
  next();
});`;
    const { trace } = await traced(t, topo.c, code);
    const outgoing = trace.httpRequests.filter((r) => r.tcpConn);
    assert.equal(outgoing.length, 30);
    const conn = trace.tcpConns.find((c) => c.traceID === outgoing[0].tcpConn);
    assert.equal(conn.addrTuple.dstIP, '::1');
    assert.ok(conn.kernelEvents.filter((e) => e.kind === 'dataIn').length >= 30, JSON.stringify(conn.kernelEvents));
    const without = outgoing.filter((r) => !r.kernelTimings);
    assert.ok(without.length <= 2, `requests without kernelTimings: ${without.map((r) => r.reqURL).join(' ')}`);
  });

  test("a body streamed over 200 ms to a program blocked for 300 ms after the head: on the wire for the server's 200 ms, queued in the socket for the rest", async (t) => {
    const why = skipReason();
    if (why) return skipLoudly(t, why);
    const topo = await topology(t, 66);
    const code = `
const http = require('http');
http.get('http://${topo.net}.2:8080/stream-200ms', (res) => {
  // The program is busy for 300 ms right after the head: the body arrives meanwhile and waits.
  const until = Date.now() + 300;
  while (Date.now() < until);
  let body = '';
  res.on('data', (c) => (body += c));
  res.on('end', () => console.log(body.split('\\n').pop()));
});`;
    const { trace, stdout } = await traced(t, topo.c, code);
    const { headAt, lastAt } = JSON.parse(stdout.trim());
    const [req] = trace.httpRequests;
    const kt = req.kernelTimings;
    assert.ok(kt?.receive && kt.wait, `the kernel's split: ${JSON.stringify(kt)} ${JSON.stringify(trace.tcpConns)}`);
    // The path's delay: the veth pair's round trip as the connect handshake measured it.
    const conn = trace.tcpConns.find((c) => c.traceID === req.tcpConn);
    const path = (conn.tcpMetrics?.connectLatencyUs ?? 0) / 1000;
    // The server's clock readings, on the trace's axis (the same machine's clock; traceBeginAt has ms precision).
    const begin = Date.parse(trace.traceBeginAt);
    const headSent = headAt - begin;
    const lastSent = lastAt - begin;
    assert.ok(lastSent - headSent >= 190, `the server sent for ${lastSent - headSent} ms`);
    // On an idle machine within 5 ms plus the path's delay (and the ms of traceBeginAt); a loaded
    // one may run the server late between its clock reading and its write, or the receiving
    // softirq late (seen: 13 ms at a load of 17 on 2 cores): still far from the program's 300 ms.
    const slack = Math.max(6 + path, 0.1 * (lastSent - headSent));
    const near = (got, want, what) =>
      assert.ok(
        Math.abs(got - want) <= slack,
        `${what}: ${got} ms, expected ${want} ms ± ${slack} (${JSON.stringify(kt)}, sent ${headSent}–${lastSent}, read ${req.respRecvAt}–${req.respDoneAt})`,
      );
    near(kt.respFirstByteAt, headSent, "the head's arrival");
    near(kt.respLastByteAt, lastSent, "the last byte's arrival");
    // Content download: on the wire from when the program read the head until the server's last
    // write; queued in the socket from there until the program, free again, read it all.
    near(kt.receive.wire, lastSent - req.respRecvAt, 'on the wire');
    near(kt.receive.queued, req.respDoneAt - lastSent, 'queued in the socket');
    // Date.now() counts whole ms: the program's 300 ms wait may end up to 1 ms early.
    assert.ok(
      req.respDoneAt - req.respRecvAt >= 299,
      `the program held its thread for 300 ms after the head: ${req.respDoneAt - req.respRecvAt} ms`,
    );
    assert.ok(Math.abs(kt.receive.wire + kt.receive.queued - req.timings.receive) < 0.01, 'the parts add up to Content download');
    // The wait: the request acknowledged within the veth's round trip, the server's part until its head went out.
    assert.ok(kt.reqAckedAt >= req.reqSentAt && kt.reqAckedAt <= kt.respFirstByteAt, JSON.stringify(kt));
    assert.ok(kt.wait.network <= 5 + path, JSON.stringify(kt.wait));
    near(kt.wait.network + kt.wait.server, headSent - req.reqSentAt, 'network and server');
    const { network, server, program } = kt.wait;
    assert.ok(Math.abs(network + server + program - req.timings.wait) < 0.01, 'the parts add up to the wait');
  });

  test('a connect rejected with an ICMP message: its error sentence names the message and who sent it', async (t) => {
    const why = skipReason();
    if (why) return skipLoudly(t, why);
    const topo = await topology(t, 63);
    nft(
      topo.s,
      `table inet ntreject {\n chain in {\n type filter hook input priority 0; tcp dport 8080 reject with icmp type admin-prohibited;\n }\n}\n`,
    );
    const code = `require('http').get('http://${topo.net}.2:8080/x').on('error', (e) => console.log(e.code));`;
    const { trace, stdout } = await traced(t, topo.c, code);
    assert.equal(stdout.trim(), 'EHOSTUNREACH');
    const [req] = trace.httpRequests;
    assert.match(
      req.diagnosis ?? '',
      new RegExp(
        `connect to ${topo.net.replace(/\./g, '\\.')}\\.2:8080 failed: host unreachable \\(EHOSTUNREACH\\).*: ICMP communication administratively prohibited \\(type 3, code 13\\) from ${topo.net.replace(/\./g, '\\.')}\\.2`,
      ),
      req.diagnosis,
    );
    const conn = trace.tcpConns.find((c) => c.traceID === req.tcpConn);
    const err = conn.kernelEvents.find((e) => e.kind === 'socketError');
    assert.deepEqual(err.icmp, { version: 4, type: 3, code: 13, from: `${topo.net}.2` });
  });
});
