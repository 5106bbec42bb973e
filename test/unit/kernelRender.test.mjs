// covers: src/cli/renderKernel.ts, src/trace/derive/kernel.ts, src/trace/diagnosis/kernelStory.ts
// needs: the build (dist/core.cjs, dist/cli.cjs, dist/helper.cjs)
// The helper's data in the CLI's rendering: a "Connections (kernel)" section with RTT ± variance,
// retransmits (SYN apart), cwnd, segments, conntrack state, the NAT mapping and packet counts,
// and the saved packet capture; hostile values stay inert text. Plus the `run` options that
// drive the helper (usage errors need no helper and no root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const { renderTrace, emptyTrace, enrichTrace, parseTraceFile } = createRequire(import.meta.url)('../../dist/core.cjs');
const cli = fileURLToPath(new URL('../../dist/cli.cjs', import.meta.url));

function traceWith(tcpConns, extra = {}) {
  const t = emptyTrace('kernel', new Date('2026-11-21T10:00:00Z'));
  t.httpRequests.push(
    {
      traceID: 'req-1',
      pid: 1,
      client: 'http',
      reqMethod: 'GET',
      reqURL: 'http://10.0.0.100/a',
      tcpConn: 'tcp-1',
      reqStartAt: 0,
      reqSentAt: 1,
      respRecvAt: 2,
      respDoneAt: 3,
      respStatusCode: 200,
    },
    {
      traceID: 'req-2',
      pid: 1,
      client: 'http',
      reqMethod: 'GET',
      reqURL: 'http://10.0.0.100/b',
      tcpConn: 'tcp-1',
      reusedConn: true,
      reqStartAt: 4,
      reqSentAt: 5,
      respRecvAt: 6,
      respDoneAt: 7,
      respStatusCode: 200,
    },
  );
  t.tcpConns.push(...tcpConns);
  return enrichTrace(Object.assign(t, extra));
}

const nat = {
  traceID: 'tcp-1',
  pid: 1,
  connected: true,
  addrTuple: { srcIP: '10.0.0.1', srcPort: 40000, dstIP: '10.0.0.100', dstPort: 80 },
  tcpMetrics: { source: 'bpf', rttUs: 420, rttVarUs: 800, retransmits: 3, synRetransmits: 1, sndCwnd: 10, segsOut: 24, segsIn: 17 },
  conntrack: {
    capturedAt: 9,
    status: 'assured|seen-reply|src-nat|dst-nat',
    tcpState: 'time-wait',
    mark: 0,
    addrOrig: { srcIP: '10.0.0.1', srcPort: 40000, dstIP: '10.0.0.100', dstPort: 80 },
    addrReply: { srcIP: '10.0.0.2', srcPort: 8080, dstIP: '10.0.0.3', dstPort: 40000 },
    packetsSent: 24,
    packetsRecv: 17,
    bytesSent: 1991,
    bytesRecv: 13549,
  },
};

test('Connections (kernel): metrics, conntrack, NAT mapping, packet counts, request numbers', () => {
  const out = renderTrace(traceWith([nat]), { width: 160 });
  const lines = out.split('\n');
  const at = lines.indexOf('Connections (kernel)');
  assert.ok(at > 0, out);
  assert.match(lines[at + 1], /^ {2}tcp-1 {2}10\.0\.0\.1:40000 → 10\.0\.0\.100:80 {2}#1 #2 {2}\(bpf\)$/);
  assert.equal(
    lines[at + 2].trim(),
    'rtt 0.42 ms ± 0.80 ms, retransmits 3 (1 SYN), cwnd 10, segments 24 out / 17 in, packets 24 out / 17 in (2.0 kB / 13.5 kB), conntrack time-wait, assured|seen-reply|src-nat|dst-nat',
  );
  assert.equal(lines[at + 3].trim(), 'NAT orig 10.0.0.1:40000 → 10.0.0.100:80, reply 10.0.0.2:8080 → 10.0.0.3:40000');
});

test('Connections (kernel): a connection of many requests lists its first 12 rows and counts them all', () => {
  const t = traceWith([nat]);
  const base = t.httpRequests[1];
  for (let i = 3; i <= 40; i++)
    t.httpRequests.push({
      ...base,
      traceID: `req-${i}`,
      reqStartAt: 4 * i,
      reqSentAt: 4 * i + 1,
      respRecvAt: 4 * i + 2,
      respDoneAt: 4 * i + 3,
    });
  const lines = renderTrace(t, { width: 200 }).split('\n');
  const at = lines.indexOf('Connections (kernel)');
  const numbers = Array.from({ length: 12 }, (_, i) => `#${i + 1}`).join(' ');
  assert.equal(lines[at + 1], `  tcp-1  10.0.0.1:40000 → 10.0.0.100:80  ${numbers} … (40 requests)  (bpf)`);
});

test('Connections (kernel): the connect time before the rtt (an rtt raised by ACKs riding on slow responses reads beside what the path took)', () => {
  const slowServer = {
    ...nat,
    tcpMetrics: { source: 'bpf', rttUs: 22791, rttVarUs: 5165, connectLatencyUs: 90.212 },
    conntrack: undefined,
  };
  const lines = renderTrace(traceWith([slowServer]), { width: 160 }).split('\n');
  const at = lines.indexOf('Connections (kernel)');
  assert.match(lines[at + 2].trim(), /^connect 0\.09 ms, rtt 22\.8 ms ± 5\.2 ms/);
});

test('no NAT line when the reply tuple is the original reversed; nothing at all without helper data', () => {
  const plain = {
    ...nat,
    conntrack: {
      ...nat.conntrack,
      status: 'assured|seen-reply',
      addrReply: { srcIP: '10.0.0.100', srcPort: 80, dstIP: '10.0.0.1', dstPort: 40000 },
    },
  };
  const out = renderTrace(traceWith([plain]), { width: 160 });
  assert.match(out, /Connections \(kernel\)/);
  assert.doesNotMatch(out, /NAT /);
  const none = renderTrace(traceWith([{ traceID: 'tcp-1', pid: 1, connected: true }]), { width: 160 });
  assert.doesNotMatch(none, /Connections \(kernel\)|Packet capture/);
});

test('connections that never connected, with nothing more from the kernel, are one line by destination', () => {
  const refused = (n, dial) => ({
    traceID: `tcp-${n}`,
    pid: 1,
    connected: false,
    fromDial: dial,
    kernelEvents: [{ kind: 'socketError', at: n, errno: 111, code: 'ECONNREFUSED' }],
  });
  const dial = (id, dstAddress, dialErr) => ({ traceID: id, pid: 1, dstAddress, dialErr, dnsLookups: [], connectAttempts: [] });
  const t = traceWith([nat, refused(2, 'dial-1'), refused(3, 'dial-2'), refused(4, 'dial-3')], {
    dials: [
      dial('dial-1', '127.0.0.1:4100', 'ECONNREFUSED'),
      dial('dial-2', '127.0.0.1:4100', 'ECONNREFUSED'),
      dial('dial-3', '[::1]:9', 'ETIMEDOUT'),
    ],
  });
  const out = renderTrace(t, { width: 160 });
  assert.match(out, /3 connections never connected: 127\.0\.0\.1:4100 \(ECONNREFUSED\) ×2, \[::1\]:9 \(ETIMEDOUT\)/);
  assert.doesNotMatch(out, /address unknown/);
  assert.match(out, /tcp-1 {2}10\.0\.0\.1:40000 → 10\.0\.0\.100:80/, 'a connection with facts keeps its own line');
});

test('the saved packet capture is named; hostile values in helper fields stay text', () => {
  const hostile = {
    traceID: 'tcp-1\x1b[31m',
    pid: 1,
    connected: true,
    addrTuple: { srcIP: '10.0.0.1\u202e', srcPort: 1, dstIP: '10.0.0.2', dstPort: 2 },
    tcpMetrics: { source: 'bpf\x07', rttUs: 'a lot', retransmits: -1, sndCwnd: 5 },
    conntrack: { status: 'x\x1b]0;pwned\x07', addrOrig: 'nope', addrReply: null, packetsSent: 'many' },
  };
  // As from a saved trace file: read (and its records checked) where every file is read.
  const file = JSON.stringify(
    traceWith([hostile], {
      packetCapture: { file: '/tmp/t.pcapng', interfaces: ['lo', 'eth0'], packets: 41, truncated: true, requestTraceID: 'req-1' },
    }),
  );
  const out = renderTrace(parseTraceFile(file), { width: 160 });
  assert.doesNotMatch(out, /\x1b|\x07|\u202e/);
  assert.match(out, /cwnd 5/);
  assert.doesNotMatch(out, /rtt|retransmits -1|packets many/);
  assert.match(out, /Packet capture: \/tmp\/t\.pcapng \(41 packets of req-1 on lo, eth0, truncated at the size cap\)/);
});

/** An installed copy of the helper in `dir`/installed whose Node side refuses to run, naming itself. */
function fakeInstalledHelper(dir) {
  const prefix = join(dir, 'installed');
  mkdirSync(join(prefix, 'native', 'build'), { recursive: true });
  mkdirSync(join(prefix, 'dist'));
  writeFileSync(join(prefix, 'native', 'build', 'nettrace-helper'), '#!/bin/sh\necho "the installed helper ran" >&2; exit 3\n');
  chmodSync(join(prefix, 'native', 'build', 'nettrace-helper'), 0o755);
  writeFileSync(
    join(prefix, 'dist', 'helper.cjs'),
    `console.log(JSON.stringify({ type: 'error', message: 'the installed helper ran' })); process.exit(3);`,
  );
  return prefix;
}

test('run: --helper, --pcap and --pcap-max-bytes are checked before anything runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-helperopts-'));
  try {
    // A machine where the helper is set up (issue 49 item 14): an installed copy that says so if it
    // is ever started. A --helper-root the user named is the helper meant, whatever is installed.
    const installed = fakeInstalledHelper(dir);
    const env = { ...process.env, NETTRACE_HELPER_PREFIX: installed };
    const run = (args) => spawnSync(process.execPath, [cli, 'run', ...args], { encoding: 'utf8', cwd: dir, timeout: 20000, env });
    let r = run(['--helper', 'always', '--', 'node', '-e', '0']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^nettrace: --helper must be auto, off or required, not "always"\n$/);
    r = run(['--helper', 'off', '--pcap', join(dir, 'x.pcapng'), '--', 'node', '-e', '0']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--pcap needs the privileged helper/);
    r = run(['--pcap-max-bytes', '5000', '--', 'node', '-e', '0']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--pcap-max-bytes needs --pcap FILE/);
    r = run(['--pcap', join(dir, 'x.pcapng'), '--pcap-max-bytes', 'lots', '--', 'node', '-e', '0']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--pcap-max-bytes must be a whole number of at least 1024, not "lots"/);
    r = run(['--pcap', join(dir, 'no/such/dir/x.pcapng'), '--', 'node', '-e', '0']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /cannot write .*x\.pcapng: its directory does not exist/);
    // Without the native helper: the run goes on, and says why and how; `required` refuses to run.
    const out = join(dir, 't.json');
    const marker = join(dir, 'ran');
    r = run(['--quiet', '--helper-root', join(dir, 'nowhere'), '--out', out, '--', process.execPath, '-e', '0']);
    assert.equal(r.status, 0, r.stderr);
    const trace = JSON.parse(readFileSync(out, 'utf8'));
    assert.match(
      trace.stats.warnings[0],
      /^kernel TCP metrics, conntrack and packet capture are off: the Net Trace kernel helper is not set up .*"Net Trace: Set Up Kernel Helper".*`nettrace helper setup`/,
    );
    assert.match(trace.stats.helper.notRunning, /not set up/);
    r = run([
      '--quiet',
      '--helper',
      'required',
      '--helper-root',
      join(dir, 'nowhere'),
      '--out',
      out,
      '--',
      process.execPath,
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(marker)}, '')`,
    ]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^nettrace: --helper required: the Net Trace kernel helper is not set up/);
    assert.equal(existsSync(marker), false, 'the command must not run');
    r = run(['--quiet', '--helper', 'off', '--out', out, '--', process.execPath, '-e', '0']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')).stats.helper, { notRunning: 'turned off (--helper off)' });
    r = run(['--quiet', '--out', out, '--', 'definitely-not-a-command-xyz']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /^nettrace: command not found: definitely-not-a-command-xyz\n$/);
    r = run(['--help']);
    assert.match(r.stdout, /--helper MODE/);
    assert.match(r.stdout, /--pcap FILE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
