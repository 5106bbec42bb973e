// covers: webview/rowBar.ts, webview/waterfall.ts, src/helper/probeCache.ts
// needs: the build (dist/cli.cjs)
// `nettrace run` with the privileged helper, end to end (the real CLI, collector, preload and
// helper): kernel TCP metrics and conntrack merged into tcpConns, --pcap written 0600 with
// trace-ID comments that tshark reads, NAT shown by `nettrace show`; and, as `nobody`, the run
// still succeeds with inet_diag metrics and warnings that say why the other features are off.
// Root only (CI runs as root); skipped loudly otherwise.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { bundleTs } from '../lib/bundleTs.mjs';
import { fixtures, nativeHelper, nft, nobodyNodeReason, root, sh, skipLoudly, skipReason, runCommand } from './lib.mjs';

const cli = join(root, 'dist', 'cli.cjs');
const app = join(fixtures, 'httpApp.mjs');

const run = runCommand;

/** An HTTP server on 127.0.0.1 in this process; closed when the test ends. */
async function localServer(t) {
  const srv = http.createServer((req, res) => res.end(`hello ${req.url}`));
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  t.after(() => {
    srv.closeAllConnections();
    srv.close();
  });
  return `http://127.0.0.1:${srv.address().port}`;
}

function tmpDir(t, mode) {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-clihelper-'));
  if (mode) chmodSync(dir, mode);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Requests and connections of the app: 3 requests, 2 connections, each request on one of them. */
function checkShape(trace) {
  assert.equal(trace.httpRequests.length, 3, JSON.stringify(trace.httpRequests.map((r) => r.reqURL)));
  const conns = trace.tcpConns.filter((c) => c.connected);
  assert.equal(conns.length, 2, JSON.stringify(trace.tcpConns));
  return conns;
}

/**
 * A copy of the built CLI, preload and native helper that `nobody` can read wherever the checkout
 * lives, with `app.mjs` and a folder `work` it may write (its HOME); and a way to run
 * `nettrace run ARGS` there as `nobody`.
 */
function nobodyCopy(t) {
  const copy = tmpDir(t, 0o755);
  mkdirSync(join(copy, 'dist'));
  mkdirSync(join(copy, 'native', 'build'), { recursive: true });
  for (const f of ['cli.cjs', 'preload.cjs', 'preload-body.cjs', 'rules.cjs']) copyFileSync(join(root, 'dist', f), join(copy, 'dist', f));
  copyFileSync(nativeHelper, join(copy, 'native', 'build', 'nettrace-helper'));
  copyFileSync(app, join(copy, 'app.mjs'));
  const work = join(copy, 'work');
  mkdirSync(work);
  chmodSync(work, 0o777);
  // Its caches in its HOME: a cache folder the environment names (CI's NETTRACE_CACHE, root's) is not nobody's to write.
  const env = { ...process.env, HOME: work };
  delete env.NETTRACE_CACHE;
  delete env.XDG_CACHE_HOME;
  const runAsNobody = (args) =>
    run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(copy, 'dist', 'cli.cjs'), 'run', ...args], {
      cwd: work,
      env,
    });
  return { copy, work, runAsNobody };
}

/** A network namespace with only `lo` up, deleted when the test ends (or the process exits). */
function loopbackNamespace(t, prefix) {
  const ns = `${prefix}${process.pid % 100000}`;
  const cleanup = () => {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      /* gone */
    }
  };
  cleanup();
  process.on('exit', cleanup);
  t.after(cleanup);
  sh('ip', ['netns', 'add', ns]);
  sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  return ns;
}

/** An HTTP server answering "ok" on 127.0.0.1:8080 inside `ns`; resolves once it listens. */
async function nsServer(t, ns) {
  const code = "require('http').createServer((q, s) => s.end('ok')).listen(8080, '127.0.0.1', () => console.log('LISTENING'))";
  const server = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => server.kill());
  await new Promise((resolve, reject) => {
    createInterface({ input: server.stdout }).on('line', (l) => l === 'LISTENING' && resolve());
    server.on('exit', (c) => reject(new Error(`server exited (${c})`)));
  });
}

describe('nettrace run with the privileged helper', { timeout: 240_000 }, () => {
  test('root: tcpMetrics (bpf) and conntrack in tcpConns, --pcap file 0600 read by tshark with trace IDs', async (t) => {
    const why = skipReason({ pcap: true });
    if (why) return skipLoudly(t, why);
    const base = await localServer(t);
    const dir = tmpDir(t);
    const out = join(dir, 'trace.json');
    const pcap = join(dir, 'trace.pcapng');
    const r = await run(process.execPath, [cli, 'run', '--pcap', pcap, '--out', out, '--', process.execPath, app, base], {
      env: { ...process.env, HOLD_MS: '50' },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Wrote .*trace\.json and .*trace\.pcapng \(\d+ packets\)/);
    const trace = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(trace.stats.helper.mode, 'bpf');
    assert.equal(trace.stats.helper.authority, 'root');
    assert.equal(trace.stats.helper.lostEvents, 0);
    const conns = checkShape(trace);
    for (const c of conns) {
      assert.equal(c.tcpMetrics?.source, 'bpf', JSON.stringify(c));
      assert.ok(c.tcpMetrics.rttUs > 0 && c.tcpMetrics.segsOut > 0 && c.tcpMetrics.bytesAcked > 0, JSON.stringify(c.tcpMetrics));
      assert.equal(c.tcpMetrics.synRetransmits, 0);
    }
    // Loopback has a conntrack entry only where conntrack is active in this namespace (some rule
    // uses it); otherwise the helper says so once, and the trace carries that as a warning.
    if (conns.some((c) => c.conntrack)) {
      for (const c of conns) assert.deepEqual(c.conntrack.addrOrig, c.addrTuple, JSON.stringify(c.conntrack));
    } else {
      assert.ok(
        trace.stats.warnings.some((w) => /conntrack is not active in the debuggee's network namespace|no conntrack entry/.test(w)),
        JSON.stringify(trace.stats.warnings),
      );
    }
    // The pcapng: private, opened by tshark, every packet named by its connection and requests.
    assert.equal(statSync(pcap).mode & 0o777, 0o600);
    assert.equal(trace.packetCapture.file, pcap);
    assert.ok(trace.packetCapture.packets > 0 && trace.packetCapture.interfaces.includes('lo'), JSON.stringify(trace.packetCapture));
    assert.equal(trace.packetCapture.truncated, false);
    const comments = sh('tshark', ['-r', pcap, '-T', 'fields', '-e', 'frame.comment'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .trim()
      .split('\n');
    assert.equal(comments.length, trace.packetCapture.packets);
    const named = new Map();
    for (const c of comments) {
      const m = /^connection=(tcp-\d+) requests=([\w,-]+) pid=\d+ tuple=/.exec(c);
      assert.ok(m, `comment names trace IDs: ${c}`);
      named.set(m[1], m[2]);
    }
    const expected = new Map(
      conns.map((c) => [
        c.traceID,
        trace.httpRequests
          .filter((q) => q.tcpConn === c.traceID)
          .map((q) => q.traceID)
          .join(','),
      ]),
    );
    assert.deepEqual(named, expected, 'each connection with the requests it carried');
    // `nettrace show` prints the kernel's view and the capture.
    const show = await run(process.execPath, [cli, 'show', out]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /Connections \(kernel\)\n {2}tcp-\d+ {2}127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+ {2}#\d/);
    assert.match(show.stdout, /rtt [\d.]+ ms ± [\d.]+ ms, retransmits 0, cwnd \d+, segments \d+ out \/ \d+ in/);
    assert.match(show.stdout, new RegExp(`Packet capture: ${pcap.replace(/[.]/g, '\\.')} \\(\\d+ packets on `));
  });

  test('root, conntrack active and a DNAT rule on loopback: conntrack with the NAT mapping and counters', async (t) => {
    const why = skipReason();
    if (why) return skipLoudly(t, why);
    const ns = loopbackNamespace(t, 'ntcli');
    // Locally generated traffic to 127.0.0.1:81 goes to the server's port 8080 instead.
    nft(
      ns,
      `table ip nettrace_cli {
      chain out { type nat hook output priority -100; ip daddr 127.0.0.1 tcp dport 81 dnat to 127.0.0.1:8080; }
    }`,
    );
    await nsServer(t, ns);
    const dir = tmpDir(t);
    const out = join(dir, 'nat.json');
    const r = await run(
      'ip',
      ['netns', 'exec', ns, process.execPath, cli, 'run', '--quiet', '--out', out, '--', process.execPath, app, 'http://127.0.0.1:81'],
      {
        env: { ...process.env, HOLD_MS: '50' },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const trace = JSON.parse(readFileSync(out, 'utf8'));
    for (const c of checkShape(trace)) {
      const ct = c.conntrack;
      assert.ok(ct, `conntrack for ${c.traceID}: ${JSON.stringify(trace.stats)}`);
      assert.deepEqual(ct.addrOrig, c.addrTuple);
      assert.deepEqual(
        ct.addrReply,
        { srcIP: '127.0.0.1', srcPort: 8080, dstIP: '127.0.0.1', dstPort: c.addrTuple.srcPort },
        'the DNAT in the reply tuple',
      );
      assert.match(ct.status, /dst-nat/);
      assert.ok(ct.packetsSent > 0 && ct.packetsRecv > 0 && ct.bytesSent > 0, JSON.stringify(ct));
      assert.ok(ct.capturedAt > 0 && ct.capturedAt < trace.traceEndAt + 5000, `capturedAt is trace-relative: ${ct.capturedAt}`);
      assert.equal(c.tcpMetrics?.source, 'bpf');
    }
    const show = await run(process.execPath, [cli, 'show', out]);
    assert.match(show.stdout, /NAT orig 127\.0\.0\.1:\d+ → 127\.0\.0\.1:81, reply 127\.0\.0\.1:8080 → 127\.0\.0\.1:\d+/);
    assert.match(show.stdout, /packets \d+ out \/ \d+ in \(/);
  });

  test('root, the first SYN dropped: the request says one SYN went unanswered and what it cost its connect', async (t) => {
    const why = skipReason();
    if (why) return skipLoudly(t, why);
    const ns = loopbackNamespace(t, 'ntsyn');
    await nsServer(t, ns);
    // Every SYN to 8080 is dropped, and counted, until the first one was: then the rule goes, so
    // the retransmission (after the kernel's 1 s initial RTO) passes.
    nft(
      ns,
      `table inet nettrace_syn {
      chain in { type filter hook input priority 0; tcp dport 8080 tcp flags syn counter drop; }
    }`,
    );
    const dir = tmpDir(t);
    const out = join(dir, 'syn.json');
    const running = run(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        cli,
        'run',
        '--quiet',
        '--out',
        out,
        '--',
        process.execPath,
        '-e',
        "fetch('http://127.0.0.1:8080/x').then((r) => r.text())",
      ],
      { env: process.env },
    );
    const deadline = Date.now() + 20_000;
    while (!/packets [1-9]/.test(sh('ip', ['netns', 'exec', ns, 'nft', 'list', 'table', 'inet', 'nettrace_syn']))) {
      assert.ok(Date.now() < deadline, 'the first SYN reached the drop rule');
      await new Promise((r) => setTimeout(r, 20));
    }
    sh('ip', ['netns', 'exec', ns, 'nft', 'delete', 'table', 'inet', 'nettrace_syn']);
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    // Read as nettrace reads it: the derived fields (timings, diagnosis) are not in the file.
    const trace = createRequire(import.meta.url)('../../dist/core.cjs').readTrace(out);
    assert.equal(trace.httpRequests.length, 1);
    const [req] = trace.httpRequests;
    const conn = trace.tcpConns.find((c) => c.traceID === req.tcpConn);
    const tm = conn?.tcpMetrics;
    assert.ok(tm, `kernel metrics of the request's connection: ${JSON.stringify(trace.tcpConns)}`);
    assert.equal(tm.synRetransmits, 1, JSON.stringify(tm));
    // The kernel's initial SYN RTO is 1 s; the connect phase the program saw is that wait plus a round trip.
    assert.ok(Math.abs(tm.synRetransmitAfterUs - 1e6) <= 1e5, `retransmitted after ${tm.synRetransmitAfterUs} µs`);
    const cost = tm.synRetransmitAfterUs / 1000;
    assert.ok(Math.abs(req.timings.connect - cost) <= 0.1 * cost, `connect phase ${req.timings.connect} ms vs the SYN's cost ${cost} ms`);
    assert.match(
      req.diagnosis ?? '',
      /TCP connect to 127\.0\.0\.1:8080.*: the first SYN went unanswered; retransmitted after 1\.0\d s/,
      req.diagnosis,
    );
    const show = await run(process.execPath, [cli, 'show', out]);
    assert.match(show.stdout, /the first SYN went unanswered; retransmitted after 1\.0\d s/);
    // The panel's bar: a tick inside the connect phase where the retransmitted SYN went out.
    const panel = bundleTs([
      "export { kernelTicks } from './webview/rowBar';",
      "export { requestSegments, requestStart } from './webview/waterfall';",
    ]);
    const segments = panel.requestSegments({
      req,
      start: panel.requestStart(
        req,
        trace.dials.find((d) => d.traceID === req.dial),
      ),
    });
    const connect = segments.find((s) => s.phase === 'connect');
    const syn = panel.kernelTicks(req, conn, segments).find((k) => k.kind === 'syn');
    assert.ok(connect && syn, JSON.stringify(segments));
    assert.ok(syn.at > connect.start && syn.at <= connect.end, `SYN tick at ${syn.at}, connect ${connect.start}–${connect.end}`);
    assert.ok(Math.abs(syn.at - connect.start - cost) <= 0.1 * cost, `SYN tick ${syn.at - connect.start} ms into the connect`);
  });

  test('as nobody: the run succeeds, inet_diag metrics appear, warnings say why eBPF, conntrack and capture are off', async (t) => {
    const why = skipReason() ?? nobodyNodeReason();
    if (why) return skipLoudly(t, why);
    const base = await localServer(t);
    const { copy, work, runAsNobody } = nobodyCopy(t);
    const out = join(work, 'nobody.json');
    const pcap = join(work, 'nobody.pcapng');
    const r = await runAsNobody(['--pcap', pcap, '--out', out, '--', process.execPath, join(copy, 'app.mjs'), base]);
    assert.equal(r.code, 0, r.stderr);
    const trace = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(trace.stats.helper.mode, 'inet_diag', JSON.stringify(trace.stats));
    assert.equal(trace.stats.helper.authority, 'unprivileged');
    const w = trace.stats.warnings;
    for (const [label, feature] of [
      ['eBPF TCP metrics are off', 'bpf'],
      ['conntrack \\(NAT\\) readings are off', 'conntrack'],
      ['packet capture is off', 'capture'],
    ]) {
      assert.ok(
        w.some((x) => new RegExp(`^${label}: .*root`).test(x)),
        `a warning says why ${feature} is off and how to turn it on: ${JSON.stringify(w)}`,
      );
    }
    for (const c of checkShape(trace)) {
      assert.equal(c.tcpMetrics?.source, 'inet_diag', JSON.stringify(c));
      assert.ok(c.tcpMetrics.rttUs > 0, JSON.stringify(c.tcpMetrics));
    }
    assert.equal(trace.packetCapture, undefined);
    assert.equal(existsSync(pcap), false, 'no capture file');
    assert.match(r.stderr, /no packet capture was saved to .*nobody\.pcapng: packet capture needs root/);
    // The probes were remembered (src/helper/probeCache.ts): the next run starts the program
    // without a gate, the helper beside it — its readings are still on every connection.
    assert.ok(existsSync(join(work, '.cache', 'nettrace', 'helper-probes.json')), 'the probes are remembered');
    const again = await runAsNobody(['--out', out, '--', process.execPath, join(copy, 'app.mjs'), base]);
    assert.equal(again.code, 0, again.stderr);
    const second = JSON.parse(readFileSync(out, 'utf8'));
    assert.equal(second.stats.helper.mode, 'inet_diag', JSON.stringify(second.stats));
    for (const c of checkShape(second)) {
      assert.equal(c.tcpMetrics?.source, 'inet_diag', JSON.stringify(c));
      assert.ok(c.tcpMetrics.rttUs > 0, JSON.stringify(c.tcpMetrics));
    }
  });

  test('as nobody with --helper required: the unprivileged fallback does not satisfy it; the run fails clearly before the program runs', async (t) => {
    const why = skipReason() ?? nobodyNodeReason();
    if (why) return skipLoudly(t, why);
    const base = await localServer(t);
    const { copy, work, runAsNobody } = nobodyCopy(t);
    const out = join(work, 'required.json');
    let requests = 0;
    const counting = http.createServer((req, res) => {
      requests++;
      res.end('x');
    });
    await new Promise((r) => counting.listen(0, '127.0.0.1', r));
    t.after(() => counting.close());
    void base;
    // With the probes remembered from an earlier run (auto), `required` still holds the program.
    const earlier = await runAsNobody(['--out', out, '--', process.execPath, '-e', '0']);
    assert.equal(earlier.code, 0, earlier.stderr);
    rmSync(out);
    const r = await runAsNobody([
      '--helper',
      'required',
      '--out',
      out,
      '--',
      process.execPath,
      join(copy, 'app.mjs'),
      `http://127.0.0.1:${counting.address().port}`,
    ]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr.trim(), /^nettrace: --helper required: it could only start unprivileged .*`nettrace helper setup`/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(requests, 0, 'the program did not run');
    assert.equal(existsSync(out), false, 'no trace written');
  });
});
