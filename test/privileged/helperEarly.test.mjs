// covers: src/helper/, native/
// The helper started before its program (issue 65: launch.ts prestartHelper, the native helper's
// --pid-from-stdin), as `nettrace run` does as root and with file capabilities: it loads its eBPF
// programs while the program's gate starts, attaches nothing until it is given the pid, checks
// that pid as on the command line (a thread, another user's process: refused), and sees the
// program's first connection whole once attached; cancelled, it ends without attaching.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { api, gatedClient, nobodyCopy, nobodyNodeReason, ofType, root, sh, skipLoudly, skipReason } from './lib.mjs';

const BYTES = 5000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A loopback server of client.mjs's protocol; `received` by the client's port. */
async function startServer(t) {
  const received = new Map();
  const server = net.createServer((s) => {
    let total = 0;
    s.on('data', (d) => {
      total += d.length;
      received.set(s.remotePort, total);
      if (total >= 4 + BYTES) s.write('ok\n');
    });
    s.on('error', () => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { port: server.address().port, received };
}

/** How many eBPF links (attached programs) a process holds. */
function links(pid) {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) === 'anon_inode:bpf_link') n++;
    } catch {
      /* closed meanwhile */
    }
  }
  return n;
}

/** The native helper's child of a prestarted helper (launch.ts spawns it directly). */
function helperPids() {
  return spawnSync('pgrep', ['-f', '--', '--pid-from-stdin'], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((l) => l)
    .map(Number);
}

/** Asserts the helper's lines hold the client's first connection whole. */
function assertWhole(messages, port, received) {
  const mine = (m) => m.addrTuple?.srcPort === port;
  assert.ok(
    messages.some((m) => m.type === 'tcpConnect' && mine(m)),
    `the first connection's connect: ${JSON.stringify(messages)}`,
  );
  const fin = messages.find((m) => m.type === 'tcpMetrics' && m.final && mine(m));
  assert.ok(fin, `its final metrics: ${JSON.stringify(messages)}`);
  assert.equal(fin.tcpMetrics.source, 'bpf');
  // The SYN and the FIN take a sequence number each.
  assert.equal(fin.tcpMetrics.bytesAcked, received + 2);
  assert.ok(fin.tcpMetrics.connectLatencyUs > 0);
}

describe('helper started before its program (issue 65)', { timeout: 90_000 }, () => {
  test("as root: nothing attached before the pid; then the program's first connection whole", async (t) => {
    const reason = skipReason();
    if (reason) return skipLoudly(t, reason);
    const server = await startServer(t);
    const before = new Set(helperPids());
    const early = api().prestartHelper({ root }, 'root');
    t.after(() => early.cancel());
    assert.ok(early, 'root without a capture starts early');
    assert.equal(api().prestartHelper({ root, pcap: true }, 'root'), undefined, 'not with a capture (its Node side needs the pid)');
    assert.equal(api().prestartHelper({ root }, 'sudo'), undefined);
    // Loaded meanwhile, and waiting: nothing attached.
    await sleep(500);
    const [pid] = helperPids().filter((p) => !before.has(p));
    assert.ok(pid, 'the native helper runs');
    assert.equal(links(pid), 0, 'no program attached before it has a target');
    const client = gatedClient(undefined, ['127.0.0.1', server.port, 1, BYTES]);
    t.after(() => client.child.kill('SIGKILL'));
    await client.gated;
    const h = await early.target(client.child.pid);
    assert.equal(h.ready.mode, 'bpf');
    assert.equal(h.ready.authority, 'root');
    assert.ok(links(pid) >= 11, 'attached once given the pid');
    client.release();
    await client.exited;
    await h.exited;
    const [port] = client.ports();
    assertWhole(h.messages, port, server.received.get(port));
  });

  test('as root: a thread id given later is refused; cancelled, the helper ends without attaching', async (t) => {
    const reason = skipReason();
    if (reason) return skipLoudly(t, reason);
    const { Worker } = await import('node:worker_threads');
    const tasks = new Set(readdirSync('/proc/self/task'));
    const w = new Worker('setInterval(() => {}, 1000)', { eval: true });
    t.after(() => w.terminate());
    await new Promise((r) => w.on('online', r));
    const tid = Number(readdirSync('/proc/self/task').find((x) => !tasks.has(x)));
    const early = api().prestartHelper({ root }, 'root');
    await assert.rejects(early.target(tid), new RegExp(`target pid ${tid} is a thread of process ${process.pid}`));

    const before = new Set(helperPids());
    const cancelled = api().prestartHelper({ root }, 'root');
    await sleep(300);
    const [pid] = helperPids().filter((p) => !before.has(p));
    assert.ok(pid);
    cancelled.cancel();
    for (let i = 0; i < 100 && helperPids().includes(pid); i++) await sleep(20);
    assert.ok(!helperPids().includes(pid), 'ended');
    await assert.rejects(cancelled.target(4242), /exited \(0\) before it was ready/);
  });

  test("with file capabilities, as nobody: the pid read from stdin is checked (root's refused), the first connection whole", async (t) => {
    const reason = skipReason() ?? nobodyNodeReason();
    if (reason) return skipLoudly(t, reason);
    if (spawnSync('sh', ['-c', 'command -v setcap']).status !== 0)
      return skipLoudly(t, 'setcap is not installed — run scripts/install-native-deps.sh');
    const server = await startServer(t);
    const copy = nobodyCopy(t);
    sh('setcap', ['cap_bpf,cap_perfmon,cap_net_admin,cap_sys_admin,cap_setpcap+ep', copy.nativeHelper]);
    const asNobody = (args) =>
      spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', copy.nativeHelper, '--pid-from-stdin', ...args], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
    const refused = asNobody([]);
    const out = [];
    createInterface({ input: refused.stdout }).on('line', (l) => out.push(JSON.parse(l)));
    refused.stdin.write(`pid ${process.pid}\n`);
    const code = await new Promise((r) => refused.on('exit', r));
    assert.equal(code, 3);
    assert.match(JSON.stringify(out), /belongs to uid 0, not to the invoking user \(uid 65534\)/);

    const child = asNobody(['--authority', 'capabilities']);
    const h = new (api().HelperClient)(child, 'capabilities');
    t.after(() => child.kill('SIGKILL'));
    await sleep(300);
    const client = gatedClient(null, ['127.0.0.1', server.port, 1, BYTES], { uid: 65534, script: copy.client });
    t.after(() => client.child.kill('SIGKILL'));
    await client.gated;
    child.stdin.write(`pid ${client.child.pid}\n`);
    await new Promise((r) => h.on('message', (m) => m.type === 'ready' && r()));
    assert.equal(h.ready.mode, 'bpf');
    client.release();
    await client.exited;
    await h.exited;
    const [port] = client.ports();
    assertWhole(ofType(h, 'tcpConnect').concat(ofType(h, 'tcpMetrics')), port, server.received.get(port));
  });
});
