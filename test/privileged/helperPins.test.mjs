// covers: native/
// The helper's eBPF programs and maps, pinned in bpffs by a run as root and reused by the next
// (issue 65, native/src/pins.c): the next run attaches the very same programs, its maps hold
// nothing of the run before, its first connection's readings are whole; two runs at once never
// share a set; a set that is not root's alone, or that does not match this build, user and
// settings, is refused with a warning and loaded again; another user can neither list nor open
// the pins; the sets of other builds go once unused for an hour. Each test mounts a bpffs of its own in a private mount namespace (the host's
// /sys/fs/bpf is not touched), except the last, which starts the helper as `nettrace run` does.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { api, gatedClient, nativeHelper, root, skipLoudly, skipReason } from './lib.mjs';

const BYTES = 3000;
const PINS = '/sys/fs/bpf/nettrace';

/** A loopback server of client.mjs's protocol: reads a 4-byte length and that many bytes, answers "ok". */
async function startServer(t) {
  const received = new Map();
  const server = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    let total = 0;
    s.on('data', (d) => {
      total += d.length;
      received.set(s.remotePort, total);
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 4 && buf.length - 4 >= buf.readUInt32BE(0)) {
        s.write('ok\n');
        buf = Buffer.alloc(0);
      }
    });
    s.on('error', () => {});
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { port: server.address().port, received };
}

/**
 * A private mount namespace held by a sleeping process: with a bpffs of its own at /sys/fs/bpf
 * (`mode`), or with none there (`mode: null`: the helper mounts one).
 */
async function privateBpffs(t, mode = '0700') {
  const mount = mode === null ? 'umount /sys/fs/bpf 2>/dev/null; true' : `mount -t bpf -o mode=${mode} bpf /sys/fs/bpf`;
  const holder = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', `${mount} && echo ready && exec sleep 600`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => holder.kill('SIGKILL'));
  await new Promise((resolve, reject) => {
    createInterface({ input: holder.stdout }).on('line', (l) => l === 'ready' && resolve());
    holder.on('exit', (c) => reject(new Error(`unshare exited (${c})`)));
  });
  const enter = [`--mount=/proc/${holder.pid}/ns/mnt`, '--'];
  return {
    /** Runs a command in the namespace (as `uid` when given); its status and output. */
    sh: (script, uid) =>
      spawnSync(
        'nsenter',
        [...enter, ...(uid === undefined ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups']), 'sh', '-c', script],
        {
          encoding: 'utf8',
        },
      ),
    /** Starts the native helper in the namespace on `pid`. */
    helper: (t, pid, args = []) => startNative(t, ['nsenter', ...enter, nativeHelper], pid, args),
  };
}

/** The native helper (as `cmd`), its JSON lines collected; `ready` resolves on its ready line. */
function startNative(t, cmd, pid, args) {
  const h = spawn(cmd[0], [...cmd.slice(1), '--pid', String(pid), '--no-conntrack', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => h.kill('SIGKILL'));
  h.lines = [];
  let stderr = '';
  h.stderr.on('data', (d) => (stderr += d));
  createInterface({ input: h.stdout }).on('line', (l) => h.lines.push(JSON.parse(l)));
  h.closed = new Promise((r) => h.on('close', r));
  h.ready = (async () => {
    const deadline = Date.now() + 20_000;
    while (!h.lines.some((m) => m.type === 'ready')) {
      if (h.exitCode !== null || Date.now() > deadline) throw new Error(`helper not ready: ${JSON.stringify(h.lines)} ${stderr}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return h.lines.find((m) => m.type === 'ready');
  })();
  h.warnings = () => h.lines.filter((m) => m.type === 'warning').map((m) => m.message);
  return h;
}

/** The ids of the programs a process has attached (its bpf_link descriptors). */
function attachedProgIds(pid) {
  const ids = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`) !== 'anon_inode:bpf_link') continue;
      const m = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8').match(/^prog_id:\s*(\d+)/m);
      if (m) ids.add(Number(m[1]));
    } catch {
      /* closed meanwhile */
    }
  }
  return [...ids].sort((a, b) => a - b);
}

/**
 * One traced run: a gated client makes one connection to the server, the helper (in `ns`) is
 * started on it, the client released once it is ready. Checks the connection's readings are
 * whole (its connect and its final metrics, bytesAcked what the server received) and returns the
 * helper, the programs it had attached and its lines. `during` runs while the client does.
 */
async function tracedRun(t, ns, server, args = [], during = async () => {}) {
  const client = gatedClient(undefined, ['127.0.0.1', server.port, 1, BYTES]);
  t.after(() => client.child.kill('SIGKILL'));
  await client.gated;
  const h = ns.helper(t, client.child.pid, args);
  const ready = await h.ready;
  assert.equal(ready.mode, 'bpf', JSON.stringify(ready));
  const progs = attachedProgIds(h.pid);
  client.release();
  await during();
  await client.exited;
  await h.closed;
  const [port] = client.ports();
  const mine = (m) => m.addrTuple?.srcPort === port;
  assert.ok(
    h.lines.some((m) => m.type === 'tcpConnect' && mine(m)),
    `the first connection's connect is seen: ${JSON.stringify(h.lines)}`,
  );
  const final = h.lines.find((m) => m.type === 'tcpMetrics' && m.final && mine(m));
  assert.ok(final, `its final metrics: ${JSON.stringify(h.lines)}`);
  // The SYN and the FIN take a sequence number each: acked with the bytes the server received.
  assert.equal(final.tcpMetrics.bytesAcked, server.received.get(port) + 2, 'bytesAcked is what the server received (and SYN, FIN)');
  return { h, progs, lines: h.lines, pid: client.child.pid };
}

/** The id of a pinned program of a set. */
const pinnedProgId = (ns, set, prog) => JSON.parse(ns.sh(`bpftool -j prog show pinned ${PINS}/${set}/p-${prog}`).stdout).id;

const setsIn = (ns) =>
  ns
    .sh(`ls ${PINS}`)
    .stdout.split('\n')
    .filter((l) => l);

describe('pinned eBPF programs (issue 65)', { timeout: 120_000 }, () => {
  test('a run pins its programs (mounting bpffs when there is none); the next run reuses them, its maps empty, its first connection whole', async (t) => {
    const reason = skipReason();
    if (reason) return skipLoudly(t, reason);
    const server = await startServer(t);
    const ns = await privateBpffs(t, null);

    const first = await tracedRun(t, ns, server);
    assert.equal(ns.sh('stat -f -c %T /sys/fs/bpf').stdout.trim(), 'bpf_fs', 'the helper mounted bpffs');
    assert.equal(ns.sh('stat -c %u:%a /sys/fs/bpf').stdout.trim(), '0:1700');
    const sets = setsIn(ns);
    assert.equal(sets.length, 1, sets.join());
    assert.match(sets[0], /^[0-9a-f]{16}-u0-i250-n-0$/);
    const pins = ns.sh(`stat -c '%n %u %a %F' ${PINS}/${sets[0]}/*`).stdout.trim().split('\n');
    assert.ok(pins.length >= 20, pins.join('\n'));
    for (const p of pins) assert.match(p, / 0 600 regular (empty )?file$/, p);
    assert.equal(ns.sh(`stat -c %u:%a ${PINS} ${PINS}/${sets[0]}`).stdout.trim(), '0:700\n0:700');
    // Emptied when the run ended: nothing of it waits for the next.
    for (const map of ['traced', 'conns']) {
      const dump = ns.sh(`bpftool -j map dump pinned ${PINS}/${sets[0]}/m-${map}`);
      assert.deepEqual(JSON.parse(dump.stdout), [], `m-${map} after the run: ${dump.stdout} ${dump.stderr}`);
    }

    const second = await tracedRun(t, ns, server);
    assert.deepEqual(second.progs, first.progs, 'the second run attached the very programs the first pinned');
    assert.equal(second.h.warnings().length, 0, second.h.warnings().join('\n'));
    assert.ok(!second.lines.some((m) => m.pid === first.pid), 'nothing of the first run reaches the second');

    // A run killed while its program holds a connection leaves entries in the maps; the next run
    // empties them before it attaches, and so never reports that program.
    const held = gatedClient(undefined, ['127.0.0.1', server.port, 1, BYTES, 'hold']);
    t.after(() => held.child.kill('SIGKILL'));
    await held.gated;
    const killed = ns.helper(t, held.child.pid);
    await killed.ready;
    held.release();
    await held.waitFor('HELD ');
    await new Promise((r) => setTimeout(r, 100));
    const traced = JSON.parse(ns.sh(`bpftool -j map dump pinned ${PINS}/${sets[0]}/m-traced`).stdout);
    assert.equal(traced.length, 1, 'the killed run had its program in the map');
    killed.kill('SIGKILL');
    await killed.closed;
    // Its connection ends (a reset) while the next run is attached: that run must not report it.
    const third = await tracedRun(t, ns, server, [], async () => {
      held.child.stdin.end('\n');
      await held.exited;
    });
    assert.deepEqual(third.progs, first.progs, 'reused after a killed run');
    assert.ok(
      !third.lines.some((m) => m.pid === held.child.pid),
      `the killed run's program is not in the next trace: ${JSON.stringify(third.lines)}`,
    );
  });

  test('two runs at once take a set each; a third loads programs of its own', async (t) => {
    const reason = skipReason();
    if (reason) return skipLoudly(t, reason);
    const ns = await privateBpffs(t);
    const targets = [0, 1, 2].map(() => spawn('sleep', ['60']));
    t.after(() => targets.forEach((p) => p.kill()));
    const helpers = targets.map((p) => ns.helper(t, p.pid));
    await Promise.all(helpers.map((h) => h.ready));
    const progs = helpers.map((h) => attachedProgIds(h.pid));
    for (let i = 0; i < 3; i++)
      for (let j = i + 1; j < 3; j++)
        assert.equal(progs[i].filter((id) => progs[j].includes(id)).length, 0, `runs ${i} and ${j} share no program`);
    assert.deepEqual(
      setsIn(ns).map((s) => s.slice(-2)),
      ['-0', '-1'],
      'two slots',
    );
    targets.forEach((p) => p.kill());
    await Promise.all(helpers.map((h) => h.closed));
    // The two pinned sets are two of the three runs' programs; the next two runs reuse one each.
    const pinned = setsIn(ns).map((set) => pinnedProgId(ns, set, 'on_set_state'));
    assert.equal(progs.filter((p) => pinned.some((id) => p.includes(id))).length, 2, JSON.stringify({ pinned, progs }));
    const again = [0, 1].map(() => spawn('sleep', ['60']));
    t.after(() => again.forEach((p) => p.kill()));
    const next = again.map((p) => ns.helper(t, p.pid));
    await Promise.all(next.map((h) => h.ready));
    const reused = next.map((h) => attachedProgIds(h.pid));
    assert.deepEqual(
      pinned.map((id) => reused.filter((r) => r.includes(id)).length),
      [1, 1],
      `each pinned set is reused by one run: ${JSON.stringify({ pinned, reused })}`,
    );
    again.forEach((p) => p.kill());
    await Promise.all(next.map((h) => h.closed));
  });

  test("a set that is not root's alone, or not of this build, user and settings, is refused, said, and loaded again", async (t) => {
    const reason = skipReason();
    if (reason) return skipLoudly(t, reason);
    const server = await startServer(t);
    const ns = await privateBpffs(t);
    await tracedRun(t, ns, server);
    // A set of other settings (another update interval): its maps and read-only data differ.
    await tracedRun(t, ns, server, ['--update-ms', '100']);
    const [set, other] = setsIn(ns).sort((a, b) => (a.includes('-i250-') ? -1 : 1) - (b.includes('-i250-') ? -1 : 1));
    assert.match(set, /-i250-n-0$/);
    assert.match(other, /-i100-n-0$/);
    const dir = `${PINS}/${set}`;
    const cases = [
      ['a program pin open to others', `chmod 0644 ${dir}/p-on_fork`, /not root's alone/],
      ['a map pin given to another user', `chown 65534 ${dir}/m-traced`, /not root's alone/],
      [
        'two program pins swapped',
        `mv ${dir}/p-on_fork ${dir}/x && mv ${dir}/p-on_exit ${dir}/p-on_fork && mv ${dir}/x ${dir}/p-on_exit`,
        /type or name differ/,
      ],
      [
        'a map of another set',
        `rm ${dir}/m-traced && bpftool map pin pinned ${PINS}/${other}/m-traced ${dir}/m-traced`,
        /maps that are not the set's/,
      ],
      [
        'the read-only data of another set',
        `rm ${dir}/m-rodata && bpftool map pin pinned ${PINS}/${other}/m-rodata ${dir}/m-rodata`,
        /read-only data/,
      ],
      ['a pin missing', `rm ${dir}/p-on_tcp_probe`, null],
    ];
    let previous = (await tracedRun(t, ns, server)).progs;
    for (const [what, script, warning] of cases) {
      const r = ns.sh(script);
      assert.equal(r.status, 0, `${what}: ${r.stderr}`);
      const run = await tracedRun(t, ns, server);
      if (warning)
        assert.ok(
          run.h.warnings().some((w) => warning.test(w)),
          `${what}: warned: ${JSON.stringify(run.h.warnings())}`,
        );
      else assert.deepEqual(run.h.warnings(), [], what);
      assert.equal(run.progs.filter((id) => previous.includes(id)).length, 0, `${what}: loaded again, not reused`);
      // Pinned again, whole: the next run reuses it without a word.
      const next = await tracedRun(t, ns, server);
      assert.deepEqual(next.progs, run.progs, `${what}: the set pinned again is reused`);
      assert.deepEqual(next.h.warnings(), [], what);
      previous = next.progs;
    }
    // The set's folder open to others, or another user's: not used (the next slot is).
    for (const [what, script, warning] of [
      ['the set open to others', `chmod 0755 ${dir}`, /open to group or others/],
      ["the set another user's", `chmod 0700 ${dir} && chown 65534 ${dir}`, /not owned by root/],
    ]) {
      ns.sh(script);
      const run = await tracedRun(t, ns, server);
      assert.ok(
        run.h.warnings().some((w) => warning.test(w)),
        `${what}: ${JSON.stringify(run.h.warnings())}`,
      );
      assert.equal(run.progs.filter((id) => previous.includes(id)).length, 0, `${what}: not reused`);
    }
  });

  test('a run that pins a set removes the sets of other builds unused for an hour, and no other', async (t) => {
    const reason = skipReason();
    if (reason) return skipLoudly(t, reason);
    const server = await startServer(t);
    const ns = await privateBpffs(t);
    await tracedRun(t, ns, server);
    const [set] = setsIn(ns);
    const other = (name, age) =>
      assert.equal(
        ns.sh(
          `mkdir -m 0700 ${PINS}/${name} && bpftool map pin pinned ${PINS}/${set}/m-stats ${PINS}/${name}/m-stats && touch -d '${age}' ${PINS}/${name}`,
        ).status,
        0,
      );
    other('00000000000000aa-u0-i250-n-0', '2 hours ago');
    other('00000000000000bb-u0-i250-n-0', '10 minutes ago');
    // A run that reuses pins nothing and removes nothing; one that pins (the set gone) sweeps.
    await tracedRun(t, ns, server);
    assert.equal(setsIn(ns).length, 3);
    ns.sh(`rm -r ${PINS}/${set}`);
    await tracedRun(t, ns, server);
    assert.deepEqual(setsIn(ns).sort(), ['00000000000000bb-u0-i250-n-0', set].sort());
  });

  test('a bpffs others can write: a nettrace folder of another user is not used; another user cannot list or open the pins', async (t) => {
    const reason = skipReason();
    if (reason) return skipLoudly(t, reason);
    const server = await startServer(t);
    const shared = await privateBpffs(t, '1777');
    assert.equal(shared.sh(`mkdir ${PINS}`, 65534).status, 0, 'another user made the folder first');
    const run = await tracedRun(t, shared, server);
    assert.ok(
      run.h.warnings().some((w) => /not pinned for later runs: \/sys\/fs\/bpf\/nettrace is not owned by root/.test(w)),
      JSON.stringify(run.h.warnings()),
    );
    assert.equal(shared.sh(`ls -A ${PINS}`).stdout, '', 'nothing was pinned in it');
    const again = await tracedRun(t, shared, server);
    assert.equal(again.progs.filter((id) => run.progs.includes(id)).length, 0, 'not reused');

    const open = await privateBpffs(t, '0777');
    open.sh('chmod 0777 /sys/fs/bpf');
    const run2 = await tracedRun(t, open, server);
    assert.ok(
      run2.h.warnings().some((w) => /\/sys\/fs\/bpf is writable by group or others/.test(w)),
      JSON.stringify(run2.h.warnings()),
    );

    const sticky = await privateBpffs(t, '1777');
    await tracedRun(t, sticky, server);
    const [set] = setsIn(sticky);
    assert.ok(set, 'pinned under a sticky shared root');
    for (const script of [`ls ${PINS}`, `ls ${PINS}/${set}`, `cat ${PINS}/${set}/m-traced`, `mv ${PINS} /sys/fs/bpf/x`, `rm -r ${PINS}`]) {
      const r = sticky.sh(script, 65534);
      assert.notEqual(r.status, 0, `${script} as another user: ${r.stdout}`);
      assert.match(r.stderr, /Permission denied|Operation not permitted/, script);
    }
    assert.deepEqual(setsIn(sticky), [set]);
  });

  test('as root without a capture the collector starts the native helper alone: no Node side, a bare environment, privileges dropped', async (t) => {
    const reason = skipReason();
    if (reason) return skipLoudly(t, reason);
    const target = spawn('sleep', ['60']);
    t.after(() => target.kill());
    const h = await api().startHelper({ pid: target.pid, root, authority: 'root' });
    t.after(() => h.stop());
    assert.equal(h.ready.authority, 'root');
    assert.equal(h.ready.mode, 'bpf');
    const pid = h.child.pid;
    assert.equal(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0], nativeHelper, 'the native helper itself');
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter((e) => e);
    assert.deepEqual(
      env.filter((e) => !/^(SUDO_UID|SUDO_GID|SUDO_USER|PKEXEC_UID)=/.test(e)),
      ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
    );
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name) => status.match(new RegExp(`^${name}:\\s*(.*)$`, 'm'))[1].trim();
    assert.deepEqual(field('Uid').split(/\s+/).map(Number), [65534, 65534, 65534, 65534]);
    const netAdmin = 1n << 12n;
    for (const cap of ['CapEff', 'CapPrm', 'CapBnd']) assert.equal(BigInt('0x' + field(cap)) & ~netAdmin, 0n, `${cap} ${field(cap)}`);
    assert.equal(BigInt('0x' + field('CapAmb')), 0n);
    await h.stop();
  });
});
