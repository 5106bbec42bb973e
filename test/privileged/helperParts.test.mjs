// covers: src/helper/
// needs: the build (dist/helper.cjs, dist/helper-api.cjs)
// The helper's parts that need no privileges: pcapng writing/reading (and Wireshark's tools
// accepting the files), savePcap's selection and comments, tuple keys and address formatting.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { root } from './lib.mjs';

const bundle = join(root, 'dist', 'helper-api.cjs');
const have = (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

/** An Ethernet + IPv4 + TCP frame (checksums zero: tshark does not verify them by default). */
function frame(src, sport, dst, dport, flags = 0x10, payload = 0) {
  const f = Buffer.alloc(14 + 20 + 20 + payload);
  f.writeUInt16BE(0x0800, 12);
  f[14] = 0x45;
  f.writeUInt16BE(40 + payload, 16);
  f[22] = 64;
  f[23] = 6;
  Buffer.from(src.split('.').map(Number)).copy(f, 26);
  Buffer.from(dst.split('.').map(Number)).copy(f, 30);
  f.writeUInt16BE(sport, 34);
  f.writeUInt16BE(dport, 36);
  f[46] = 0x50;
  f[47] = flags;
  f.writeUInt16BE(65535, 48);
  return f;
}

test('pcapng: writer, reader, savePcap with trace-ID comments; tshark and capinfos accept the files', async (t) => {
  if (!existsSync(bundle)) return t.skip(`${bundle} is missing — run npm run build`);
  const api = (await import('node:module')).createRequire(import.meta.url)(bundle);
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-pcapng-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spool = join(dir, 'spool.pcapng');
  const w = new api.PcapngWriter(
    spool,
    [
      { name: 'lo', linkType: 1 },
      { name: 'veth0', linkType: 1 },
    ],
    10_000,
    0o600,
    { background: true },
  );
  const a = '10.0.0.1:40000>10.0.0.2:80';
  const b = '10.0.0.1:40002>10.0.0.2:80';
  const c1 = api.PcapngWriter.commentOption(`pid=42 sock=${a} wire=${a}`);
  const c2 = api.PcapngWriter.commentOption(`pid=42 sock=${b} wire=10.0.0.9:40002>10.0.0.2:80`);
  const t0 = Date.now() * 1000;
  assert.ok(w.writeFrame(0, t0, frame('10.0.0.1', 40000, '10.0.0.2', 80, 0x02), 54, c1));
  assert.ok(w.writeFrame(1, t0 + 10, frame('10.0.0.9', 40002, '10.0.0.2', 80, 0x02), 54, c2));
  assert.ok(w.writeFrame(0, t0 + 20, frame('10.0.0.2', 80, '10.0.0.1', 40000, 0x12), 54, c1));
  let n = 3;
  while (w.writeFrame(0, t0 + 30 + n, frame('10.0.0.1', 40000, '10.0.0.2', 80, 0x18, 100), 154, c1)) n++;
  assert.equal(w.truncated, true, 'the size cap stops writing and says so');
  assert.ok(w.bytes <= 10_000);
  await w.end();

  const read = api.readPcapng(spool);
  assert.deepEqual(
    read.interfaces.map((i) => i.name),
    ['lo', 'veth0'],
  );
  assert.equal(read.packets.length, n);
  assert.equal(read.packets[1].iface, 1);
  assert.equal(read.packets[0].tsUs, BigInt(t0));
  assert.equal(api.parseSpoolComment(read.packets[1].comment).wire, '10.0.0.9:40002>10.0.0.2:80');

  const labels = new Map([
    [a, { conn: 'tcp-3', requests: ['req-1', 'req-2'] }],
    [b, { conn: 'tcp-4', requests: ['req-3'] }],
  ]);
  const out = join(dir, 'out.pcapng');
  const all = api.savePcap(spool, out, openSync(out, 'w', 0o600), { labels });
  assert.equal(all.packets, n);
  const one = api.savePcap(spool, join(dir, 'one.pcapng'), openSync(join(dir, 'one.pcapng'), 'w', 0o600), {
    labels,
    requestTraceID: 'req-3',
  });
  assert.equal(one.packets, 1);
  const back = api.readPcapng(join(dir, 'one.pcapng')).packets[0].comment;
  assert.equal(back, `connection=tcp-4 requests=req-3 pid=42 tuple=${b} wire=10.0.0.9:40002>10.0.0.2:80`);

  if (!have('tshark') || !have('capinfos')) return t.diagnostic('tshark/capinfos not installed: file contents checked by the reader only');
  const ts = spawnSync('tshark', ['-r', out, '-T', 'fields', '-e', 'frame.interface_name', '-e', 'tcp.srcport', '-e', 'frame.comment'], {
    encoding: 'utf8',
    env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir },
  });
  assert.ok(ts.stdout.trim(), ts.stderr);
  const rows = ts.stdout.trim().split('\n');
  assert.equal(rows.length, n);
  assert.match(rows[0], /^lo\t40000\tconnection=tcp-3 requests=req-1,req-2 pid=42 /);
  assert.match(rows[1], /^veth0\t40002\tconnection=tcp-4 requests=req-3 /);
  const info = spawnSync('capinfos', [out], { encoding: 'utf8', env: { ...process.env, HOME: dir, XDG_CONFIG_HOME: dir } });
  assert.ok(info.stdout.trim(), info.stderr);
  assert.match(info.stdout, new RegExp(`Number of packets:\\s+${n}\\b`));
});

test('tuple keys: addresses from the native helper match the bytes in frames', async (t) => {
  if (!existsSync(bundle)) return t.skip(`${bundle} is missing — run npm run build`);
  const api = (await import('node:module')).createRequire(import.meta.url)(bundle);
  const f = frame('192.0.2.1', 1234, '198.51.100.7', 443);
  assert.equal(
    api.frameKey('ETHERNET', f, f.length),
    api.addrKey({ srcIP: '192.0.2.1', srcPort: 1234, dstIP: '198.51.100.7', dstPort: 443 }),
  );
  assert.deepEqual(api.frameTuple('ETHERNET', f), { srcIP: '192.0.2.1', srcPort: 1234, dstIP: '198.51.100.7', dstPort: 443 });
  // glibc inet_ntop formatting (what the native helper prints).
  assert.equal(api.ipv6String(api.ipBytes('2001:db8::1')), '2001:db8::1');
  assert.equal(api.ipv6String(api.ipBytes('::1')), '::1');
  assert.equal(api.ipv6String(api.ipBytes('2001:db8:0:1:0:0:0:1')), '2001:db8:0:1::1');
  assert.equal(api.ipv6String(api.ipBytes('2001:0:0:1:0:1:0:1')), '2001::1:0:1:0:1');
  assert.equal(api.ipv6String(api.ipBytes('2001:db8:1:0:1:0:1:1')), '2001:db8:1:0:1:0:1:1');
  assert.equal(api.ipv6String(api.ipBytes('::ffff:10.1.2.3')), '10.1.2.3');
  assert.equal(api.ipBytes('fe80::a:b').toString('hex'), 'fe80' + '0000'.repeat(5) + '000a000b');
});

test('authority: a pid of another user is refused with a clear message', async (t) => {
  if (!existsSync(bundle)) return t.skip(`${bundle} is missing — run npm run build`);
  const api = (await import('node:module')).createRequire(import.meta.url)(bundle);
  const me = process.getuid();
  assert.equal(api.checkTarget(process.pid, me), undefined);
  const other = me === 0 ? 4242 : me + 1;
  if (me !== 0) assert.equal(api.checkTarget(process.pid, 0), undefined, 'root may trace anything');
  const r = api.checkTarget(process.pid, other);
  assert.equal(r.code, 'EPERM');
  assert.equal(r.message, `target pid ${process.pid} belongs to uid ${me}, not to the invoking user (uid ${other}): refusing to trace it`);
  assert.equal(api.checkTarget(1, me).code, 'EPERM');
  assert.equal(api.checkTarget(2 ** 22 + 7, me).code, 'ESRCH');
});

test('authority: a thread id is refused (only a process, a thread-group leader, may be the target)', async (t) => {
  if (!existsSync(bundle)) return t.skip(`${bundle} is missing — run npm run build`);
  const api = (await import('node:module')).createRequire(import.meta.url)(bundle);
  const { readdirSync } = await import('node:fs');
  const { Worker } = await import('node:worker_threads');
  const before = new Set(readdirSync('/proc/self/task'));
  const w = new Worker('setInterval(() => {}, 1000)', { eval: true });
  t.after(() => w.terminate());
  await new Promise((r) => w.on('online', r));
  const tid = Number(readdirSync('/proc/self/task').find((x) => !before.has(x)));
  assert.ok(tid > 0 && tid !== process.pid);
  for (const uid of [process.getuid(), 0]) {
    assert.deepEqual(api.checkTarget(tid, uid), {
      code: 'EPERM',
      message: `target pid ${tid} is a thread of process ${process.pid}, not a process: refusing to trace it`,
    });
  }
});

test('launch: each way of getting privileges has its command line; spawnGated keeps the pid and waits', async (t) => {
  if (!existsSync(bundle)) return t.skip(`${bundle} is missing — run npm run build`);
  const api = (await import('node:module')).createRequire(import.meta.url)(bundle);
  const opts = { pid: 4242, root: '/opt/nt', pcap: true, nodePath: '/usr/bin/node' };
  assert.deepEqual(api.helperCommand(opts, 'root'), {
    command: '/usr/bin/node',
    args: ['/opt/nt/dist/helper.cjs', '--pid', '4242', '--pcap'],
  });
  // Root without a capture: the native helper alone, with who it works for and a system PATH only.
  const bare = api.helperCommand({ ...opts, pcap: false }, 'root');
  assert.deepEqual(
    { command: bare.command, args: bare.args },
    {
      command: '/opt/nt/native/build/nettrace-helper',
      args: ['--pid', '4242', '--authority', process.env.SUDO_UID ? 'sudo' : process.env.PKEXEC_UID ? 'pkexec' : 'root'],
    },
  );
  assert.deepEqual(
    Object.keys(bare.env).filter((k) => !['SUDO_UID', 'SUDO_GID', 'SUDO_USER', 'PKEXEC_UID', 'NETTRACE_HELPER_DEBUG'].includes(k)),
    ['PATH'],
  );
  assert.equal(bare.env.PATH, '/usr/sbin:/usr/bin:/sbin:/bin');
  assert.deepEqual(api.helperCommand(opts, 'sudo'), {
    command: 'sudo',
    args: ['-n', '--', '/usr/bin/node', '/opt/nt/dist/helper.cjs', '--pid', '4242', '--pcap'],
  });
  assert.deepEqual(api.helperCommand(opts, 'pkexec'), {
    command: 'pkexec',
    args: ['/usr/bin/node', '/opt/nt/dist/helper.cjs', '--pid', '4242', '--pcap'],
  });
  assert.deepEqual(api.helperCommand(opts, 'capabilities'), {
    command: '/opt/nt/native/build/nettrace-helper',
    args: ['--pid', '4242', '--authority', 'capabilities'],
  });
  assert.deepEqual(api.helperCommand(opts, 'unprivileged'), {
    command: '/opt/nt/native/build/nettrace-helper',
    args: ['--pid', '4242', '--mode', 'inet_diag', '--authority', 'unprivileged'],
  });

  const { child, release } = api.spawnGated(process.execPath, ['-e', 'console.log(process.pid)'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(out, '', 'nothing runs before release()');
  release();
  await new Promise((r) => child.on('exit', r));
  assert.equal(Number(out.trim()), child.pid, 'the command runs with the pid the helper was given');
});

test('launch: capture asked of a helper with file capabilities is said off, and why (packet sockets need CAP_NET_RAW)', async (t) => {
  if (!existsSync(bundle)) return t.skip(`${bundle} is missing — run npm run build`);
  const api = (await import('node:module')).createRequire(import.meta.url)(bundle);
  // A stand-in native helper: says ready (capture not among its features) and waits for stdin to close.
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-fakeroot-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'native', 'build'), { recursive: true });
  const ready = { type: 'ready', mode: 'bpf', authority: 'capabilities', features: {}, unavailable: {} };
  writeFileSync(join(dir, 'native', 'build', 'nettrace-helper'), `#!/bin/sh\necho '${JSON.stringify(ready)}'\ncat >/dev/null\n`, {
    mode: 0o755,
  });
  const client = await api.startHelper({ pid: process.pid, root: dir, pcap: true, authority: 'capabilities' });
  await client.stop();
  const why = client.ready.unavailable.capture;
  assert.match(
    why,
    /^packet capture needs root \(it opens packet sockets, which needs CAP_NET_RAW: not among the native helper's file capabilities\)/,
  );
  assert.doesNotMatch(why, /`cap`|in Node/, 'the capture is not run in Node through the cap package any more');
});

/** The native helper's packet stream (native/src/capture.c): the device list, then the records. */
function packetStream(devices, packets) {
  const json = Buffer.from(JSON.stringify({ devices }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  const parts = [len, json];
  for (const p of packets) {
    const h = Buffer.alloc(20);
    h.writeUInt32LE(p.data.length, 0);
    h.writeUInt32LE(p.origLen ?? p.data.length, 4);
    h.writeUInt32LE(p.sec, 8);
    h.writeUInt32LE(p.nsec, 12);
    h.writeUInt16LE(p.iface, 16);
    parts.push(h, p.data);
  }
  return Buffer.concat(parts);
}

test('capture stream: records split anywhere across reads are written with their kernel times; unknown tuples are not', async (t) => {
  if (!existsSync(bundle)) return t.skip(`${bundle} is missing — run npm run build`);
  const api = (await import('node:module')).createRequire(import.meta.url)(bundle);
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-capstream-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spool = join(dir, 'spool.pcapng');
  const cap = new api.TracedCapture({ spool, maxBytes: 1 << 20, pendingMs: 50 });
  const mine = { srcIP: '10.0.0.1', srcPort: 40000, dstIP: '10.0.0.2', dstPort: 80 };
  cap.addVerified(42, mine, mine);
  const packets = [];
  for (let i = 0; i < 200; i++) {
    const out = i % 2 === 0;
    const data = out ? frame('10.0.0.1', 40000, '10.0.0.2', 80, 0x18, i % 7) : frame('10.0.0.2', 80, '10.0.0.1', 40000, 0x10, 0);
    packets.push({ iface: i % 2, sec: 1764000000 + i, nsec: i * 1000 + 999, data, origLen: i === 3 ? data.length + 100 : undefined });
  }
  // An untraced connection's packet in the middle: never written, counted as unattributed.
  packets.splice(100, 0, { iface: 0, sec: 1764000100, nsec: 0, data: frame('10.0.0.9', 5555, '10.0.0.2', 80), untraced: true });
  const bytes = packetStream(
    [
      { name: 'lo', linkType: 'ETHERNET' },
      { name: 'eth0', linkType: 'ETHERNET' },
    ],
    packets,
  );
  const s = new PassThrough();
  cap.attach(s);
  // Chunks of 1 to 97 bytes: headers and frames cut at every kind of place.
  for (let o = 0, n = 1; o < bytes.length; o += n, n = (n * 7) % 97 || 1) s.write(bytes.subarray(o, o + n));
  s.end();
  await new Promise((r) => setTimeout(r, 120));
  await cap.close();
  assert.deepEqual(
    cap.devices.map((d) => d.name),
    ['lo', 'eth0'],
  );
  assert.equal(cap.packets, 200);
  assert.equal(cap.unattributed, 1);
  const read = api.readPcapng(spool);
  assert.deepEqual(
    read.interfaces.map((i) => i.name),
    ['lo', 'eth0'],
  );
  assert.equal(read.packets.length, 200);
  const mineOnly = packets.filter((p) => !p.untraced);
  read.packets.forEach((p, i) => {
    const want = mineOnly[i];
    assert.equal(p.iface, want.iface);
    assert.equal(p.tsUs, BigInt(want.sec) * 1000000n + BigInt(Math.floor(want.nsec / 1000)));
    assert.deepEqual(p.data, want.data);
    assert.equal(p.origLen, want.origLen ?? want.data.length);
    assert.match(p.comment, /^pid=42 sock=10\.0\.0\.1:40000>10\.0\.0\.2:80 /);
  });
});
