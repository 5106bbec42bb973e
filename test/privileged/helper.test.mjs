// covers: src/helper/
// needs: the build (dist/helper.cjs)
// The privileged helper against real kernels paths: network namespaces and veth pairs created
// here, nftables NAT and random drop, ss -ti as the kernel's own figures, tshark/capinfos on the
// pcapng. Root only (CI runs as root); skipped loudly otherwise or when the native build is missing.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, openSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  api,
  createTopology,
  gatedClient,
  nft,
  nobodyCopy,
  nobodyNodeReason,
  ofType,
  root,
  sh,
  skipLoudly,
  skipReason,
  startServer,
} from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const key = (t) => `${t.srcIP}:${t.srcPort}>${t.dstIP}:${t.dstPort}`;

async function startTraced(client, opts = {}) {
  await client.gated;
  const h = await api().startHelper({ pid: client.child.pid, root, authority: 'root', ...opts });
  client.release();
  return h;
}

describe('privileged helper', { timeout: 150_000 }, () => {
  const reason = skipReason();
  let topo;
  let server;
  before(async () => {
    if (reason) return;
    topo = createTopology(1 + (process.pid % 200), { nat: true });
    // 10% random loss on port 8081 only (no netem on this kernel; nftables numgen instead).
    nft(
      topo.s,
      `table inet nettrace_loss {
      chain in { type filter hook input priority 0; tcp dport 8081 numgen random mod 100 < 10 drop; }
    }`,
    );
    // One MSS per packet (no TSO/GSO super-packets), so the drop rule hits many segments.
    sh('ip', ['-n', topo.c, 'link', 'set', 'dev', topo.clientDev, 'gso_max_segs', '1']);
    server = await startServer(topo.s, [8080, 8081, 8082, 'dns']);
  });
  after(() => {
    server?.kill();
    topo?.cleanup();
  });

  test('NAT in the path: conntrack shows the translated reply tuple and counters > 0', async (t) => {
    if (reason) return skipLoudly(t, reason);
    const acct = () => sh('ip', ['netns', 'exec', topo.c, 'sysctl', '-n', 'net.netfilter.nf_conntrack_acct']).trim();
    const acctBefore = acct();
    const client = gatedClient(topo.c, [`${topo.net}.100`, 80, 3, 20000], { env: { NETTRACE_TEST_LINGER_MS: 1500 } });
    const h = await startTraced(client);
    assert.equal(acct(), '1', 'nf_conntrack_acct is on while the helper runs');
    // Once the connections are closed, end their conntrack entries (rather than wait out
    // TIME_WAIT): the helper takes its final reading from the DESTROY events.
    await client.waitFor('DONE');
    sh('ip', ['netns', 'exec', topo.c, 'conntrack', '-D', '-p', 'tcp', '--orig-dst', `${topo.net}.100`, '--orig-port-dst', '80']);
    await client.exited;
    await h.exited;
    assert.equal(acct(), acctBefore, 'nf_conntrack_acct is restored when the helper exits');
    const ports = client.ports();
    assert.equal(ports.length, 3);
    for (const port of ports) {
      const tuple = { srcIP: `${topo.net}.1`, srcPort: port, dstIP: `${topo.net}.100`, dstPort: 80 };
      const cts = ofType(h, 'conntrack').filter((m) => key(m.addrTuple) === key(tuple) && m.conntrack);
      assert.ok(cts.length >= 2, `conntrack readings at connect and close for port ${port}: ${JSON.stringify(ofType(h, 'conntrack'))}`);
      const last = cts.filter((m) => m.via === 'lookup').at(-1).conntrack;
      assert.deepEqual(last.addrOrig, tuple);
      assert.equal(last.addrReply.srcIP, `${topo.net}.2`);
      assert.equal(last.addrReply.srcPort, 8080);
      assert.equal(last.addrReply.dstIP, `${topo.net}.3`, 'SNAT visible in the reply tuple');
      assert.match(last.status, /dst-nat/);
      assert.match(last.status, /src-nat/);
      assert.ok(last.packetsSent > 0 && last.packetsRecv > 0 && last.bytesSent > 20000 && last.bytesRecv > 0, JSON.stringify(last));
      const destroyed = ofType(h, 'conntrack').find((m) => m.via === 'destroy' && key(m.addrTuple) === key(tuple));
      assert.ok(
        destroyed?.final && destroyed.conntrack.packetsSent >= last.packetsSent,
        `final reading from the DESTROY event: ${JSON.stringify(destroyed)}`,
      );
      assert.equal(destroyed.conntrack.addrReply.dstIP, `${topo.net}.3`);
      const fin = ofType(h, 'tcpMetrics').find((m) => m.final && key(m.addrTuple) === key(tuple));
      assert.ok(fin, `final metrics for port ${port}`);
      assert.equal(fin.tcpMetrics.source, 'bpf');
      assert.ok(fin.tcpMetrics.bytesAcked >= 20004 && fin.tcpMetrics.rttUs > 0 && fin.tcpMetrics.lifespanUs > 0, JSON.stringify(fin));
    }
  });

  test('random drop: retransmits match ss -ti, RTT within 20%, reset counted', async (t) => {
    if (reason) return skipLoudly(t, reason);
    const client = gatedClient(topo.c, [`${topo.net}.2`, 8081, 1, 1_000_000, 'hold']);
    const h = await startTraced(client);
    const port = Number((await client.waitFor('HELD ')).slice(5));
    // The kernel's own figures for this socket, while it is idle (all data acked).
    const ss = sh('ip', ['netns', 'exec', topo.c, 'ss', '-tinH', 'state', 'established', `( sport = :${port} )`]);
    const ssRetrans = Number(/retrans:\d+\/(\d+)/.exec(ss)?.[1] ?? 0);
    const ssRttMs = Number(/\brtt:([\d.]+)\//.exec(ss)?.[1]);
    client.child.stdin.write('reset\n'); // RST: no FIN exchange, so no new RTT sample or retransmit
    await client.exited;
    await h.exited;
    const fin = ofType(h, 'tcpMetrics').find((m) => m.final && m.addrTuple.srcPort === port);
    assert.ok(fin, 'final metrics');
    const m = fin.tcpMetrics;
    console.error(`# loss: helper retransmits=${m.retransmits} ss=${ssRetrans}; helper rtt=${m.rttUs}us ss=${ssRttMs * 1000}us`);
    assert.ok(ssRetrans > 0, `the drop rule induced retransmits (ss: ${ss})`);
    assert.equal(m.retransmits, ssRetrans, 'retransmits match ss -ti');
    assert.ok(Math.abs(m.rttUs / 1000 - ssRttMs) <= 0.2 * ssRttMs, `RTT ${m.rttUs}us within 20% of ss ${ssRttMs}ms`);
    assert.equal(m.resetsSent, 1, 'the RST the client sent is counted');
    assert.ok(m.synRetransmits <= m.retransmits, 'SYN retransmits (the drop rule can hit the SYN too) are part of the total');
  });

  test('dropped SYN: counted as a SYN retransmit, apart from data retransmits', async (t) => {
    if (reason) return skipLoudly(t, reason);
    nft(
      topo.s,
      `table inet nettrace_syn {
      chain in { type filter hook input priority 0; tcp dport 8082 tcp flags syn counter drop; }
    }`,
    );
    const client = gatedClient(topo.c, [`${topo.net}.2`, 8082, 1, 1000]);
    const h = await startTraced(client);
    // The first SYN is dropped; the retransmission (after the 1 s initial RTO) passes once the
    // rule is gone. Wait for the rule's counter, not a fixed time: on a busy machine the client may
    // not have sent its SYN yet after half a second.
    for (let i = 0; i < 200; i++) {
      const listed = sh('ip', ['netns', 'exec', topo.s, 'nft', 'list', 'table', 'inet', 'nettrace_syn']);
      if (/packets [1-9]/.test(listed)) break;
      await sleep(25);
    }
    sh('ip', ['netns', 'exec', topo.s, 'nft', 'delete', 'table', 'inet', 'nettrace_syn']);
    await client.exited;
    await h.exited;
    // A connection that lived less than one poll of the ring buffer gets no tcpConnect line:
    // its final tcpMetrics carries the connect figures.
    const fin = ofType(h, 'tcpMetrics').find((m) => m.final);
    assert.ok(fin?.tcpMetrics.established, `connected after the SYN retransmission: ${JSON.stringify(fin)}`);
    assert.equal(fin.addrTuple.srcPort, client.ports()[0], 'the local port, though the socket was unhashed at destroy');
    const m = fin.tcpMetrics;
    const missed = Math.max(0, ...ofType(h, 'stats').map((s) => s.missedRuns ?? 0));
    if (m.connectLatencyUs === undefined) {
      // The kernel skipped the program's run at the move to ESTABLISHED (nested on one CPU, on a
      // busy machine): the helper must have said so, and then knows no connect time.
      assert.ok(missed > 0, `no connect time, yet no missed program runs reported: ${JSON.stringify(fin)}`);
      console.error(`# dropped SYN: the kernel skipped ${missed} program run(s); the connect time is unknown, as reported`);
      return;
    }
    // One, unless this machine was too busy to delete the rule before the first retransmission.
    assert.ok(m.synRetransmits >= 1, JSON.stringify(m));
    assert.ok(m.connectLatencyUs > 900_000, `connect latency includes the RTO: ${m.connectLatencyUs}us`);
    assert.equal(m.retransmits, m.synRetransmits, 'tcp_sock.total_retrans counts the SYN retransmissions too');
  });

  test('two processes, one traced: metrics and pcapng hold only the traced one, with trace-ID comments', async (t) => {
    const why = reason ?? skipReason({ pcap: true });
    if (why) return skipLoudly(t, why);
    // Each client first asks the server namespace's DNS responder: the traced one's query and
    // answer belong in the capture, the other's do not.
    const dns = { NETTRACE_TEST_DNS: `${topo.net}.2` };
    const traced = gatedClient(topo.c, [`${topo.net}.100`, 80, 3, 50000], { env: dns });
    const startedUs = BigInt(Date.now()) * 1000n;
    const h = await startTraced(traced, { pcap: true });
    const other = spawn(
      'ip',
      ['netns', 'exec', topo.c, process.execPath, join(root, 'test/privileged/fixtures/client.mjs'), `${topo.net}.100`, 80, 3, 50000],
      { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...dns } },
    );
    let otherOut = '';
    other.stdout.on('data', (d) => (otherOut += d));
    await Promise.all([traced.exited, new Promise((r) => other.on('exit', r))]);
    await h.exited;
    const mine = traced.ports();
    const theirs = [...otherOut.matchAll(/CONN (\d+)/g)].map((x) => Number(x[1]));
    assert.equal(mine.length, 3);
    assert.equal(theirs.length, 3);
    const pid = traced.child.pid;
    assert.deepEqual(
      new Set(
        ofType(h, 'tcpMetrics')
          .filter((m) => m.final)
          .map((m) => m.addrTuple.srcPort),
      ),
      new Set(mine),
    );
    for (const m of [...ofType(h, 'tcpMetrics'), ...ofType(h, 'tcpConnect')]) {
      assert.equal(m.pid, pid);
      assert.ok(!theirs.includes(m.addrTuple.srcPort), 'no metrics for the untraced process');
    }
    const cap = ofType(h, 'capture').at(-1);
    assert.ok(cap, `capture message: ${JSON.stringify(h.ready)}`);
    assert.equal(cap.unattributed, 0);
    assert.equal(cap.truncated, false);
    assert.ok(cap.interfaces.includes(topo.clientDev), JSON.stringify(cap.interfaces));
    assert.equal(ofType(h, 'stats').at(-1)?.captureKernelDrops, 0);
    // Packet times are the kernel's receive times, on the wall clock (µs since the epoch).
    const endedUs = BigInt(Date.now()) * 1000n;
    const spooled = api().readPcapng(cap.spool).packets;
    assert.ok(spooled.length > 0);
    for (const p of spooled) assert.ok(p.tsUs >= startedUs && p.tsUs <= endedUs, `packet time ${p.tsUs} outside ${startedUs}..${endedUs}`);

    // What the collector does on "Save PCAP": label each connection with its trace IDs.
    const labels = new Map(mine.map((p) => [`${topo.net}.1:${p}>${topo.net}.100:80`, { conn: `tcp-${p}`, requests: [`req-${p}`] }]));
    const myDns = Number((await traced.waitFor('DNS ')).slice(4));
    const theirDns = Number(/DNS (\d+)/.exec(otherOut)?.[1]);
    assert.ok(theirDns > 0, 'the untraced client made its DNS query too');
    labels.set(`${topo.net}.1:${myDns}>${topo.net}.2:53`, { conn: 'udp-1', requests: [] });
    const out = join(tmpdir(), `nettrace-test-${process.pid}.pcapng`);
    t.after(() => {
      rmSync(out, { force: true });
      rmSync(dirname(cap.spool), { recursive: true, force: true });
    });
    const saved = api().savePcap(cap.spool, out, openSync(out, 'w', 0o600), { labels });
    assert.equal(saved.packets, cap.packets);
    const fields = sh(
      'tshark',
      [
        '-r',
        out,
        '-T',
        'fields',
        '-E',
        'separator=|',
        '-e',
        'ip.src',
        '-e',
        'tcp.srcport',
        '-e',
        'ip.dst',
        '-e',
        'tcp.dstport',
        '-e',
        'tcp.flags.syn',
        '-e',
        'tcp.flags.ack',
        '-e',
        'frame.comment',
        '-e',
        'udp.srcport',
        '-e',
        'udp.dstport',
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    )
      .trim()
      .split('\n')
      .map((l) => l.split('|'));
    assert.equal(fields.length, saved.packets);
    let syns = 0;
    const seen = new Set();
    const dnsPackets = [];
    for (const [src, sport, dst, dport, syn, ack, comment, usport, udport] of fields) {
      if (usport) {
        dnsPackets.push([Number(usport), Number(udport), comment]);
        continue;
      }
      // On the wire the client is the SNAT address .3 and the server the DNAT target .2:8080.
      const clientPort = src === `${topo.net}.3` ? Number(sport) : Number(dport);
      assert.ok([src, dst].includes(`${topo.net}.3`) && [src, dst].includes(`${topo.net}.2`), `${src} ${dst}`);
      const socketPort = Number(/tuple=[\d.]+:(\d+)>/.exec(comment)?.[1]);
      assert.ok(mine.includes(socketPort), `packet of a traced connection: ${comment}`);
      assert.ok(!theirs.includes(clientPort), 'no packet of the untraced process');
      assert.match(comment, new RegExp(`^connection=tcp-${socketPort} requests=req-${socketPort} pid=${pid} `));
      seen.add(socketPort);
      if (syn === '1' && ack === '0') syns++;
    }
    assert.deepEqual(seen, new Set(mine), 'every traced connection is in the file');
    assert.equal(syns, 3, 'each connection starts with its first SYN');
    // The traced process's DNS query and its answer, and nothing of the other's.
    assert.deepEqual(
      dnsPackets.map(([a, b]) => [a, b]),
      [
        [myDns, 53],
        [53, myDns],
      ],
      `DNS packets (mine ${myDns}, theirs ${theirDns}): ${JSON.stringify(dnsPackets)}`,
    );
    for (const [, , comment] of dnsPackets)
      assert.match(comment, new RegExp(`^connection=udp-1 pid=${pid} tuple=${topo.net}.1:${myDns}>${topo.net}.2:53 proto=udp$`));
    const info = sh('capinfos', [out], { stdio: ['ignore', 'pipe', 'ignore'] });
    assert.match(info, new RegExp(`Number of packets:\\s+${saved.packets}\\b`));
    assert.match(info, /pcapng/);

    // One request only: the packets of that request's connection.
    const one = api().savePcap(cap.spool, out, openSync(out, 'w', 0o600), { labels, requestTraceID: `req-${mine[1]}` });
    const comments = sh('tshark', ['-r', out, '-T', 'fields', '-e', 'frame.comment'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .trim()
      .split('\n');
    assert.equal(comments.length, one.packets);
    assert.ok(comments.every((c) => c.startsWith(`connection=tcp-${mine[1]} `)));
  });

  test('a tuple the traced process used is not captured again when an untraced process reuses it', async (t) => {
    const why = reason ?? skipReason({ pcap: true });
    if (why) return skipLoudly(t, why);
    const localPort = 40000 + (process.pid % 20000);
    const env = { NETTRACE_TEST_LOCAL_PORT: String(localPort), NETTRACE_TEST_LINGER_MS: '4000' };
    // The traced process connects from `localPort`, resets the connection (no TIME_WAIT keeps
    // the tuple), then stays alive; after the 2 s grace an untraced process uses the same tuple.
    const traced = gatedClient(topo.c, [`${topo.net}.2`, 8080, 1, 1000, 'hold'], { env });
    const h = await startTraced(traced, { pcap: true });
    await traced.waitFor('HELD ');
    traced.child.stdin.write('reset\n');
    await traced.waitFor('DONE');
    await sleep(2600);
    const other = spawn(
      'ip',
      ['netns', 'exec', topo.c, process.execPath, join(root, 'test/privileged/fixtures/client.mjs'), `${topo.net}.2`, 8080, 1, 1000],
      {
        stdio: ['pipe', 'pipe', 'inherit'],
        env: { ...process.env, NETTRACE_TEST_LOCAL_PORT: String(localPort) },
      },
    );
    let out = '';
    other.stdout.on('data', (d) => (out += d));
    await new Promise((r) => other.on('exit', r));
    assert.match(out, new RegExp(`CONN ${localPort}`), 'the untraced process got the same local port');
    await traced.exited;
    await h.exited;
    const cap = ofType(h, 'capture').at(-1);
    t.after(() => rmSync(dirname(cap.spool), { recursive: true, force: true }));
    const { packets } = api().readPcapng(cap.spool);
    const syns = packets.filter((p) => p.data[14 + 20 + 13] === 0x02).length;
    assert.equal(syns, 1, "only the traced connection's SYN");
    assert.ok(packets.length >= 4 && packets.length <= 12, `the traced connection's packets only: ${packets.length}`);
    assert.equal(cap.unattributed, 0);
  });

  test('a target pid owned by another user is refused with a clear error', async (t) => {
    if (reason) return skipLoudly(t, reason);
    const victim = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sleep', '30'], { stdio: 'ignore' });
    t.after(() => victim.kill());
    await sleep(100);
    // As if started through sudo by uid 1234.
    const r = spawnSync(process.execPath, [join(root, 'dist/helper.cjs'), '--pid', String(victim.pid)], {
      env: { ...process.env, SUDO_UID: '1234', SUDO_GID: '1234' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 3);
    assert.match(
      r.stdout,
      new RegExp(
        `"code":"EPERM","message":"target pid ${victim.pid} belongs to uid 65534, not to the invoking user \\(uid 1234\\): refusing to trace it"`,
      ),
    );
    // The native helper checks too (it may be started directly, e.g. with file capabilities).
    const n = spawnSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', nobodyCopy(t).nativeHelper, '--pid', String(process.pid)],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(n.status, 3);
    assert.match(n.stdout, new RegExp(`target pid ${process.pid} belongs to uid 0, not to the invoking user \\(uid 65534\\)`));
  });
});

describe('unprivileged helper (inet_diag)', { timeout: 60_000 }, () => {
  test('as nobody: inet_diag metrics appear and helper-only features say why they are off', async (t) => {
    const reason = skipReason() ?? nobodyNodeReason();
    if (reason) return skipLoudly(t, reason);
    const srv = net.createServer((s) => {
      let n = 0;
      s.on('data', (d) => {
        n += d.length;
        if (n >= 200004) s.write('ok\n');
      });
      s.on('error', () => {});
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    t.after(() => srv.close());
    const copy = nobodyCopy(t);
    const client = gatedClient(null, ['127.0.0.1', srv.address().port, 2, 200000, 'hold'], { uid: 65534, script: copy.client });
    await client.gated;
    const child = spawn(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        copy.helperScript,
        '--pid',
        String(client.child.pid),
        '--pcap',
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const h = new (api().HelperClient)(child, 'unprivileged');
    await new Promise((r) => h.on('message', (m) => m.type === 'ready' && r()));
    client.release();
    for (let i = 0; i < 2; i++) {
      while (client.lines.filter((l) => l.startsWith('HELD ')).length <= i) await sleep(20);
      const port = client.ports()[i];
      // What the collector sends at milestones (here: response received); the reading follows. A
      // poll may have read the connection while its bytes were still going (a loaded machine):
      // the snapshot's reading is the one with every byte acknowledged.
      h.send({ type: 'snapshot' });
      const acked = (m) => m.addrTuple.srcPort === port && m.tcpMetrics.bytesAcked >= 200004;
      for (let n = 0; n < 500 && !ofType(h, 'tcpMetrics').some(acked); n++) await sleep(20);
      client.child.stdin.write('next\n');
    }
    await client.exited;
    await h.exited;
    assert.equal(h.ready.mode, 'inet_diag');
    assert.equal(h.ready.authority, 'unprivileged');
    for (const f of ['bpf', 'conntrack', 'capture']) assert.match(h.ready.unavailable[f] ?? '', /root/, `${f}: ${h.ready.unavailable[f]}`);
    const ports = client.ports();
    assert.equal(ports.length, 2);
    for (const port of ports) {
      const ms = ofType(h, 'tcpMetrics').filter((m) => m.addrTuple.srcPort === port);
      assert.ok(ms.length >= 1, `inet_diag metrics for ${port}: ${JSON.stringify(ofType(h, 'tcpMetrics'))}`);
      const last = ms.at(-1);
      assert.equal(last.final, true);
      assert.equal(last.tcpMetrics.source, 'inet_diag');
      assert.ok(last.tcpMetrics.rttUs > 0 && last.tcpMetrics.bytesAcked >= 200004, JSON.stringify(last));
    }
  });
});

describe('unprivileged helper (inet_diag): what a poll costs', { timeout: 60_000 }, () => {
  // A dump walks the kernel's whole TCP table (≈ 4 ms per family on this 24 GiB machine, 10% of
  // a core at one poll per 100 ms): native/src/inet_diag.c dumps when the tree holds a socket new
  // to it, and follows the connections it knows by exact lookups. The readings stay whole.
  test('a parent and its child, IPv4 and IPv6, long-lived: every reading, few walks of the table', async (t) => {
    const reason = skipReason() ?? nobodyNodeReason();
    if (reason) return skipLoudly(t, reason);
    const got = new Map();
    const srv = net.createServer((s) => {
      s.on('data', (d) => got.set(s.remotePort, (got.get(s.remotePort) ?? 0) + d.length));
      s.on('end', () => s.end());
      s.on('error', () => {});
    });
    await new Promise((r) => srv.listen(0, '::', r));
    t.after(() => srv.close());
    const port = srv.address().port;
    const copy = nobodyCopy(t);
    const script = join(copy.dir, 'tree.mjs');
    // The parent: a UDP socket (not TCP: never a reading), then its child's IPv6 connection, then
    // its own IPv4 one; each connection sends a first burst, holds, sends 100 KB more, ends.
    writeFileSync(
      script,
      `import net from 'node:net'; import dgram from 'node:dgram'; import { spawn } from 'node:child_process';
const [port, role] = process.argv.slice(2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function conn(host) {
  const c = net.connect(Number(port), host);
  await new Promise((r) => c.on('connect', r));
  console.log('CONN ' + c.localPort);
  c.write(Buffer.alloc(1000, 1));
  await sleep(900);
  await new Promise((r) => c.write(Buffer.alloc(100000, 2), r));
  await sleep(400);
  c.end();
  await new Promise((r) => c.on('close', r));
}
if (role === 'child') await conn('::1');
else {
  const u = dgram.createSocket('udp4');
  await new Promise((r) => u.bind(0, '127.0.0.1', r));
  await sleep(300);
  const child = spawn(process.execPath, [process.argv[1], port, 'child'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise((r) => child.on('exit', r));
  await sleep(400);
  await conn('127.0.0.1');
  await exited;
  u.close();
  await sleep(200);
}
`,
    );
    chmodSync(script, 0o644);
    const client = gatedClient(null, [port], { uid: 65534, script });
    await client.gated;
    const child = spawn(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', copy.nativeHelper, '--pid', String(client.child.pid), '--mode', 'inet_diag'],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const h = new (api().HelperClient)(child, 'unprivileged');
    await new Promise((r) => h.on('message', (m) => m.type === 'ready' && r()));
    client.release();
    await client.exited;
    await h.exited;
    const ports = client.ports();
    assert.equal(ports.length, 2, client.lines.join('\n'));
    for (const p of ports) {
      const ms = ofType(h, 'tcpMetrics').filter((m) => m.addrTuple.srcPort === p);
      const last = ms.at(-1);
      assert.ok(last?.final, `a final reading of ${p}: ${JSON.stringify(ms)}`);
      assert.equal(last.tcpMetrics.source, 'inet_diag');
      // Everything the server received was acknowledged: the last reading is after the last send.
      assert.equal(last.tcpMetrics.bytesAcked - 1, got.get(p), `${p}: acked ${last.tcpMetrics.bytesAcked}, the server got ${got.get(p)}`);
      assert.ok(
        ms.some((m) => !m.final && m.tcpState === 'established'),
        `${p}: a reading while established`,
      );
    }
    const families = ofType(h, 'tcpMetrics').map((m) => m.addrTuple.srcIP.includes(':'));
    assert.ok(families.includes(true) && families.includes(false), "the IPv6 connection (the child's) and the IPv4 one (the parent's)");
    assert.ok(
      ofType(h, 'tcpMetrics').every((m) => m.addrTuple.dstPort === port),
      "no reading of the UDP socket or of others' sockets",
    );
    const exit = ofType(h, 'exit')[0];
    console.error(`# ${exit.polls} polls, ${exit.dumps} walks of the TCP table`);
    assert.ok(exit.polls >= 15, JSON.stringify(exit));
    assert.ok(exit.dumps <= 6, `a walk only for a new socket or once a second: ${JSON.stringify(exit)}`);
  });
});

describe('file capabilities', { timeout: 60_000 }, () => {
  test('a copy of the native helper with setcap runs as nobody: eBPF metrics for its own process, others refused', async (t) => {
    const reason = skipReason() ?? nobodyNodeReason();
    if (reason) return skipLoudly(t, reason);
    if (spawnSync('sh', ['-c', 'command -v setcap']).status !== 0)
      return skipLoudly(t, 'setcap is not installed — run scripts/install-native-deps.sh');
    const srv = net.createServer((s) => {
      let n = 0;
      s.on('data', (d) => {
        n += d.length;
        if (n >= 10004) s.end('ok\n');
      });
      s.on('error', () => {});
    });
    await new Promise((r) => srv.listen(0, '127.0.0.1', r));
    t.after(() => srv.close());
    const copy = nobodyCopy(t);
    // What an install command would do (see native/README.md): only the capabilities it needs.
    sh('setcap', ['cap_bpf,cap_perfmon,cap_net_admin,cap_sys_admin+ep', copy.nativeHelper]);
    const client = gatedClient(null, ['127.0.0.1', srv.address().port, 1, 10000], { uid: 65534, script: copy.client });
    await client.gated;
    const { command, args } = api().helperCommand({ pid: client.child.pid, root: copy.dir }, 'capabilities');
    assert.equal(command, copy.nativeHelper);
    const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', command, ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const h = new (api().HelperClient)(child, 'capabilities');
    await new Promise((r) => h.on('message', (m) => m.type === 'ready' && r()));
    client.release();
    await client.exited;
    await h.exited;
    assert.equal(h.ready.mode, 'bpf');
    assert.equal(h.ready.authority, 'capabilities');
    const [port] = client.ports();
    const fin = ofType(h, 'tcpMetrics').find((m) => m.final && m.addrTuple.srcPort === port);
    assert.ok(fin, JSON.stringify(h.messages));
    assert.equal(fin.tcpMetrics.source, 'bpf');
    assert.ok(fin.tcpMetrics.bytesAcked >= 10004);
    // The same binary, for a process of root: refused.
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', command, '--pid', String(process.pid)], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 3);
    assert.match(r.stdout, /belongs to uid 0, not to the invoking user \(uid 65534\)/);
  });
});
