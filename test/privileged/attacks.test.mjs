// covers: src/helper/
// needs: the build (dist/helper.cjs)
// The privileged helper attacked by one ordinary user (A) to reach another's (B) traffic, with the
// helper installed each documented way: file capabilities (`make install-caps`) and a root-owned
// copy (`make install`) run through the README's sudoers rule. The test creates both users and
// removes them after. B sends requests with an Authorization header to a local server; each test
// fails if any of B's packets (the token), metrics (B's pid or ports) or files reach A.
// Root only (CI runs as root); skipped loudly otherwise.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api, root, skipLoudly, skipReason } from './lib.mjs';
import { freePort } from '../lib/ports.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const SECRET = `Bearer nettrace-b-secret-${process.pid}`;
const tag = process.pid % 100000;
const A = `ntatk${tag}a`;
const B = `ntatk${tag}b`;
const CAP_NET_ADMIN = 1n << 12n;

function whyNot() {
  const r = skipReason({ pcap: true });
  if (r) return r;
  for (const tool of ['useradd', 'userdel', 'sudo', 'setcap', 'unshare', 'strace', 'curl', 'make']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed — run scripts/install-native-deps.sh`;
  }
  if (!existsSync('/etc/sudoers.d')) return '/etc/sudoers.d is missing (sudo not installed)';
  return undefined;
}

/** `/proc/<pid>/status` fields. */
function status(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const f = (k) => new RegExp(`^${k}:\\s+(.*)$`, 'm').exec(s)?.[1];
  return {
    uid: f('Uid').split(/\s+/).map(Number),
    capEff: BigInt('0x' + f('CapEff')),
    capPrm: BigInt('0x' + f('CapPrm')),
    capBnd: BigInt('0x' + f('CapBnd')),
  };
}

/** Resolves once `pid` runs `comm` (setpriv has changed user and exec'd it). */
async function untilComm(pid, comm) {
  for (let i = 0; i < 500; i++) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) return;
    } catch {
      /* not yet */
    }
    await sleep(10);
  }
  throw new Error(`pid ${pid} never ran ${comm}`);
}

const childrenOf = (pid) => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

describe('attacks by one user on another through the helper', { timeout: 240_000 }, () => {
  const reason = whyNot();
  let prefix;
  let uidA;
  let uidB;
  let server;
  let port;
  const seenByServer = [];
  const sudoers = `/etc/sudoers.d/nettrace-test-${tag}`;
  const node = process.execPath;

  before(async () => {
    if (reason) return;
    for (const u of [A, B]) spawnSync('userdel', [u], { stdio: 'ignore' });
    // Also when the run is interrupted (the users and the sudoers rule must not outlive it).
    process.on('exit', () => cleanup());
    execFileSync('useradd', ['-M', '-N', '-s', '/bin/sh', A]);
    execFileSync('useradd', ['-M', '-N', '-s', '/bin/sh', B]);
    uidA = Number(execFileSync('id', ['-u', A], { encoding: 'utf8' }));
    uidB = Number(execFileSync('id', ['-u', B], { encoding: 'utf8' }));
    // A root-owned install, as the README documents it (into a temporary prefix).
    prefix = mkdtempSync('/var/tmp/nettrace-attacks-');
    chmodSync(prefix, 0o755);
    execFileSync('make', ['-s', '-C', join(root, 'native'), 'install', `PREFIX=${prefix}/lib`], { stdio: 'ignore' });
    execFileSync('install', ['-d', '-m', '0755', `${prefix}/caps`]);
    copyFileSync(join(prefix, 'lib/native/build/nettrace-helper'), `${prefix}/caps/nettrace-helper`);
    chmodSync(`${prefix}/caps/nettrace-helper`, 0o755);
    execFileSync('make', ['-s', '-C', join(root, 'native'), 'install-caps', `CAPS_BIN=${prefix}/caps/nettrace-helper`], {
      stdio: 'ignore',
    });
    writeFileSync(sudoers, `${A} ALL=(root) NOPASSWD: ${node} ${prefix}/lib/dist/helper.cjs *\n`, { mode: 0o440 });
    // B's request loop and A's programs, readable by both.
    writeFileSync(
      `${prefix}/b-client.mjs`,
      `import http from 'node:http';
const [port, count, localPort] = process.argv.slice(2).map(Number);
console.log('PID ' + process.pid);
// B_WAIT: start on a line on stdin (the process is already up: its requests follow at once).
if (process.env.B_WAIT) await new Promise((r) => process.stdin.once('data', r));
for (let i = 0; i < count; i++) {
  await new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, localPort: localPort || undefined, agent: false, headers: { authorization: process.env.B_TOKEN } }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('socket', (s) => s.on('connect', () => console.log('CONN ' + s.localPort)));
    req.on('error', resolve);
  });
}
console.log('DONE');
`,
    );
    writeFileSync(
      `${prefix}/a-program.mjs`,
      `// A's traced program: "thread" starts a worker and prints its thread id; "squat" connects
// from a local port and resets the connection; "idle" waits.
import net from 'node:net';
import { readdirSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { createInterface } from 'node:readline';
const [mode, port, localPort] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin });
if (mode === 'thread') {
  const before = new Set(readdirSync('/proc/self/task'));
  const w = new Worker('require("worker_threads").parentPort.on("message", () => process.exit(0)); setInterval(() => {}, 1000);', { eval: true });
  w.on('online', () => {
    const tid = readdirSync('/proc/self/task').find((t) => !before.has(t));
    console.log('TID ' + tid);
  });
  lines.on('line', () => w.postMessage('end'));
  w.on('exit', () => console.log('THREAD-ENDED'));
  setTimeout(() => process.exit(0), 60000);
} else if (mode === 'squat') {
  const c = net.connect({ host: '127.0.0.1', port: Number(port), localPort: Number(localPort) }, () => {
    c.write('GET / HTTP/1.1\\r\\nhost: a\\r\\n\\r\\n');
  });
  c.on('data', () => {
    c.resetAndDestroy();
    console.log('RESET');
  });
  c.on('error', (e) => console.log('ERROR ' + e.code));
  setTimeout(() => process.exit(0), 8000);
} else if (mode === 'one') {
  // One connection to the server on loopback, then a while alive.
  const c = net.connect({ host: '127.0.0.1', port: Number(port) }, () => {
    console.log('CONN ' + c.localPort);
    c.end('GET / HTTP/1.1\\r\\nhost: a\\r\\nconnection: close\\r\\n\\r\\n');
  });
  c.on('data', () => {});
  c.on('close', () => console.log('CLOSED'));
  setTimeout(() => process.exit(0), 3000);
} else {
  setTimeout(() => process.exit(0), Number(port));
}
`,
    );
    // The server records what arrived, so the test knows B's requests really happened.
    server = http.createServer((req, res) => {
      seenByServer.push(req.headers.authorization);
      res.end('ok\n');
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    port = server.address().port;
  });

  const cleanup = () => {
    rmSync(sudoers, { force: true });
    // userdel refuses a user that still has processes: kill them and wait until they are gone.
    for (const u of [A, B]) {
      for (let i = 0; i < 50 && spawnSync('pgrep', ['-u', u], { stdio: 'ignore' }).status === 0; i++) {
        spawnSync('pkill', ['-KILL', '-u', u], { stdio: 'ignore' });
        spawnSync('sleep', ['0.1']);
      }
      spawnSync('userdel', [u], { stdio: 'ignore' });
    }
    if (prefix) rmSync(prefix, { recursive: true, force: true });
  };
  after(() => {
    if (reason) return;
    server?.close();
    cleanup();
  });

  const asUser = (uid, cmd, args, opts = {}) =>
    spawn('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--init-groups', cmd, ...args], { stdio: ['pipe', 'pipe', 'pipe'], ...opts });

  /** A's program, gated (it starts when released, keeping its pid). */
  function aProgram(args) {
    const child = asUser(uidA, '/bin/sh', ['-c', 'read _ <&3; exec 3<&-; exec "$@"', 'gate', node, `${prefix}/a-program.mjs`, ...args], {
      stdio: ['pipe', 'pipe', 'inherit', 'pipe'],
    });
    const out = [];
    child.stdout.setEncoding('utf8').on('data', (d) => out.push(...d.split('\n').filter(Boolean)));
    const waitFor = async (prefixText) => {
      for (let i = 0; i < 1000; i++) {
        const l = out.find((x) => x.startsWith(prefixText));
        if (l) return l;
        await sleep(10);
      }
      throw new Error(`A's program never printed ${prefixText}: ${out}`);
    };
    return { child, out, waitFor, release: () => child.stdio[3].end('go\n'), exited: new Promise((r) => child.on('exit', r)) };
  }

  /** B's request loop; resolves with its pid, ports and output once done. */
  function bRequests(count, localPort = 0) {
    const p = asUser(uidB, node, [`${prefix}/b-client.mjs`, port, count, localPort], {
      env: { ...process.env, B_TOKEN: SECRET, B_WAIT: '1' },
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    const exited = new Promise((r) => p.on('exit', r));
    /** Starts the requests once B's process is up; resolves with its pid, ports and output. */
    return async () => {
      for (let i = 0; !out.includes('PID '); i++) {
        if (i > 1000) throw new Error(`B's client did not start: ${out}`);
        await sleep(10);
      }
      p.stdin.end('go\n');
      await exited;
      return { pid: Number(/PID (\d+)/.exec(out)?.[1]), ports: [...out.matchAll(/CONN (\d+)/g)].map((m) => Number(m[1])), out };
    };
  }

  /** The helper as A starts it: `caps` (file capabilities) or `sudo` (the sudoers rule). */
  function helperAsA(how, pid, extra = []) {
    const child =
      how === 'caps'
        ? asUser(uidA, `${prefix}/caps/nettrace-helper`, ['--pid', String(pid), '--authority', 'capabilities', ...extra])
        : asUser(uidA, 'sudo', ['-n', node, `${prefix}/lib/dist/helper.cjs`, '--pid', String(pid), ...extra]);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const h = new (api().HelperClient)(child, how === 'caps' ? 'capabilities' : 'sudo');
    const first = new Promise((resolve) => {
      h.on('message', (m) => (m.type === 'ready' || m.type === 'error') && resolve(m));
      h.exited.then(() => resolve({ type: 'exit', stderr }));
    });
    return { h, child, first };
  }

  /** Everything A got: the helper's lines and the spool file (read as A can). */
  function whatAGot(h) {
    const lines = h.messages.map((m) => JSON.stringify(m)).join('\n');
    const cap = h.messages.filter((m) => m.type === 'capture').at(-1);
    let spool = '';
    if (cap && existsSync(cap.spool)) {
      assert.equal(statSync(cap.spool).uid, uidA, 'the spool belongs to A');
      spool = readFileSync(cap.spool, 'latin1');
      rmSync(join(cap.spool, '..'), { recursive: true, force: true });
    }
    return { lines, spool, cap };
  }

  function assertNothingOfB(got, b) {
    assert.ok(!got.spool.includes(SECRET), "B's token is in A's capture");
    assert.ok(!got.lines.includes(SECRET), "B's token is in A's helper output");
    for (const m of JSON.parse(`[${got.lines.split('\n').filter(Boolean).join(',')}]`)) {
      if (b.pid) assert.notEqual(m.pid, b.pid, `a line about B's process reached A: ${JSON.stringify(m)}`);
      const t = m.addrTuple ?? m.wire;
      if (t) assert.ok(!b.ports.includes(t.srcPort) || m.pid !== b.pid, `B's connection reached A: ${JSON.stringify(m)}`);
    }
  }

  for (const how of ['caps', 'sudo']) {
    test(`1 (${how}): a thread id is refused, and B's process that later gets that number is not traced`, async (t) => {
      if (reason) return skipLoudly(t, reason);
      const a = aProgram(['thread']);
      a.release();
      const tid = Number((await a.waitFor('TID ')).slice(4));
      const { h, first } = helperAsA(how, tid, how === 'sudo' ? ['--pcap'] : []);
      const m = await first;
      let b = { pid: 0, ports: [] };
      if (m.type === 'ready') {
        // The attack: the thread ends, and the number goes to B's next process (A steers the
        // pid allocator through /proc/sys/kernel/ns_last_pid's public value; here root sets it).
        a.child.stdin.write('end\n');
        await a.waitFor('THREAD-ENDED');
        for (let i = 0; i < 5 && b.pid !== tid; i++) {
          const p = spawn(
            'sh',
            [
              '-c',
              `echo ${tid - 1} > /proc/sys/kernel/ns_last_pid; setpriv --reuid=${uidB} --regid=${uidB} --init-groups ${node} ${prefix}/b-client.mjs ${port} 3 0`,
            ],
            { env: { ...process.env, B_TOKEN: SECRET } },
          );
          let out = '';
          p.stdout.on('data', (d) => (out += d));
          await new Promise((r) => p.on('exit', r));
          b = { pid: Number(/PID (\d+)/.exec(out)?.[1]), ports: [...out.matchAll(/CONN (\d+)/g)].map((x) => Number(x[1])) };
        }
        await sleep(500);
      }
      a.child.kill();
      h.child.stdin.end();
      await h.exited;
      const got = whatAGot(h);
      assertNothingOfB(got, b);
      assert.equal(m.type, 'error', `the helper accepted thread id ${tid}: ${JSON.stringify(m)}`);
      assert.match(m.message, new RegExp(`target pid ${tid} is a thread of process ${a.child.pid}, not a process`));
    });
  }

  test("2 (sudo, pcap): B reusing the local port of A's reset connection is not captured", async (t) => {
    if (reason) return skipLoudly(t, reason);
    // A port the kernel picked free: one derived from the pid could fall in the ephemeral range
    // and be taken by another connection (A's connect then failed with EADDRINUSE).
    const localPort = await freePort();
    const a = aProgram(['squat', port, localPort]);
    const { h, first } = helperAsA('sudo', a.child.pid, ['--pcap']);
    // The gate shell must be A's by now; the helper checks its pid.
    assert.equal((await first).type, 'ready');
    const bGo = bRequests(3, localPort);
    a.release();
    await a.waitFor('RESET');
    const b = await bGo();
    assert.deepEqual(b.ports, [localPort, localPort, localPort].slice(0, b.ports.length));
    assert.ok(b.ports.length >= 1, `B connected from ${localPort}: ${b.out}`);
    await sleep(300);
    h.child.stdin.end();
    await h.exited;
    a.child.kill();
    const got = whatAGot(h);
    assert.ok(seenByServer.includes(SECRET), "B's requests reached the server");
    assertNothingOfB(got, { pid: b.pid, ports: [] });
    assert.equal(got.cap.unattributed, 0);
  });

  test("3 (sudo, pcap): a setuid-B program started by A's traced program is no longer traced", async (t) => {
    if (reason) return skipLoudly(t, reason);
    const bcurl = `${prefix}/bcurl`;
    copyFileSync('/usr/bin/curl', bcurl);
    chownSync(bcurl, uidB, 0);
    chmodSync(bcurl, 0o4755);
    const secretFile = `${prefix}/b-header`;
    writeFileSync(secretFile, `Authorization: ${SECRET}\n`, { mode: 0o600 });
    chownSync(secretFile, uidB, 0);
    const prog = asUser(
      uidA,
      '/bin/sh',
      ['-c', `read _ <&3; exec 3<&-; ${bcurl} -s -o /dev/null -H @${secretFile} http://127.0.0.1:${port}/ ; sleep 1`],
      {
        stdio: ['ignore', 'ignore', 'inherit', 'pipe'],
      },
    );
    await untilComm(prog.pid, 'sh');
    const { h, first } = helperAsA('sudo', prog.pid, ['--pcap']);
    assert.equal((await first).type, 'ready');
    const before = seenByServer.length;
    prog.stdio[3].end('go\n');
    await new Promise((r) => prog.on('exit', r));
    await h.exited;
    const got = whatAGot(h);
    assert.ok(seenByServer.slice(before).includes(SECRET), "the setuid program sent B's token");
    assertNothingOfB(got, { pid: 0, ports: [] });
    assert.ok(
      h.messages.some((m) => m.type === 'warning' && /changed its credentials/.test(m.message)),
      'the helper says the process left the traced set',
    );
    assert.equal(h.messages.filter((m) => m.type === 'tcpMetrics').length, 0, 'no metrics of the setuid program');
  });

  test('4 (root): in a pid namespace the helper refuses clearly instead of tracing another process', async (t) => {
    if (reason) return skipLoudly(t, reason);
    for (const cmd of [`exec ${node} ${prefix}/lib/dist/helper.cjs --pid $!`, `exec ${prefix}/lib/native/build/nettrace-helper --pid $!`]) {
      const r = spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', `sleep 3 & ${cmd}`], { encoding: 'utf8', input: '' });
      assert.equal(r.status, 3, `${cmd}: ${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /"code":"EPIDNS","message":"the helper runs in a pid namespace \(pid:\[\d+\]\) other than the host's/);
    }
  });

  test('5 (sudo, pcap): the spool is handed to A by descriptor only, never by a path A could swap', async (t) => {
    if (reason) return skipLoudly(t, reason);
    const a = asUser(uidA, 'sleep', ['3']);
    await untilComm(a.pid, 'sleep');
    const log = `${prefix}/strace.log`;
    // As sudo runs it (SUDO_UID is what sudo sets), under strace.
    const r = spawnSync(
      'strace',
      [
        '-f',
        '-qq',
        '-o',
        log,
        '-e',
        'trace=chown,lchown,fchownat,chmod,fchmodat,fchown,fchmod',
        node,
        `${prefix}/lib/dist/helper.cjs`,
        '--pid',
        String(a.pid),
        '--pcap',
      ],
      { env: { ...process.env, SUDO_UID: String(uidA), SUDO_GID: String(uidA) }, encoding: 'utf8', input: '', timeout: 20000 },
    );
    const trace = readFileSync(log, 'utf8');
    const cap = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{"type":"capture"'))
      .map((l) => JSON.parse(l))
      .at(-1);
    assert.ok(cap, r.stdout + r.stderr);
    rmSync(join(cap.spool, '..'), { recursive: true, force: true });
    const byPath = trace.split('\n').filter((l) => /\b(chown|lchown|chmod)\(|\bf(chown|chmod)at\((?!.*AT_EMPTY_PATH)/.test(l));
    assert.deepEqual(byPath, [], 'no privileged chown/chmod by path');
    assert.match(
      trace,
      new RegExp(`fchown\\(\\d+, ${uidA}, ${uidA}\\)\\s+= 0`),
      `the spool and its directory are handed to A by fchown: ${trace}`,
    );
  });

  for (const how of ['caps', 'sudo']) {
    test(`6 (${how}): after setup the helper holds no privilege beyond CAP_NET_ADMIN, bounding set included, and not uid 0`, async (t) => {
      if (reason) return skipLoudly(t, reason);
      const a = asUser(uidA, 'sleep', ['20']);
      await untilComm(a.pid, 'sleep');
      const { h, child, first } = helperAsA(how, a.pid, how === 'sudo' ? ['--pcap'] : []);
      assert.equal((await first).type, 'ready');
      await sleep(200);
      // caps: the native helper is A's direct child (setpriv execs it); sudo: sudo → node → native.
      const pids = [];
      const walk = (p) => {
        for (const c of childrenOf(p)) {
          pids.push(c);
          walk(c);
        }
      };
      if (how === 'caps') pids.push(child.pid);
      else walk(child.pid);
      const comms = pids.map((p) => [p, readFileSync(`/proc/${p}/comm`, 'utf8').trim()]);
      const native = comms.find(([, c]) => c.startsWith('nettrace-helper'));
      assert.ok(native, JSON.stringify(comms));
      // The native helper (what the file-capabilities path runs, and what holds the BPF
      // programs and ctnetlink on every path): nothing beyond CAP_NET_ADMIN anywhere, no uid 0.
      // The Node side (sudo path) gives up uid 0 and its capabilities; it cannot change its
      // bounding set (no prctl in Node), see docs/security.md.
      for (const p of [native[0], ...comms.filter(([, c]) => c === 'node').map(([p]) => p)]) {
        const s = status(p);
        assert.ok(!s.uid.includes(0), `pid ${p} still has uid 0: ${s.uid}`);
        assert.equal(s.capEff & ~CAP_NET_ADMIN, 0n, `pid ${p} CapEff ${s.capEff.toString(16)}`);
        assert.equal(s.capPrm & ~CAP_NET_ADMIN, 0n, `pid ${p} CapPrm ${s.capPrm.toString(16)}`);
      }
      const bnd = status(native[0]).capBnd;
      assert.equal(bnd & ~CAP_NET_ADMIN, 0n, `native helper CapBnd ${bnd.toString(16)}`);
      if (how === 'caps') assert.deepEqual(status(native[0]).uid, [uidA, uidA, uidA, uidA]);
      h.child.stdin.end();
      await h.exited;
      whatAGot(h);
      a.kill();
    });
  }

  test("7 (sudo, pcap): with B busy on loopback, A's capture holds all of A's packets and none of B's", async (t) => {
    if (reason) return skipLoudly(t, reason);
    // B's requests run from before the helper starts until a second after it is ready.
    const bProc = asUser(uidB, node, [`${prefix}/b-client.mjs`, port, 1e9, 0], { env: { ...process.env, B_TOKEN: SECRET } });
    let bOut = '';
    bProc.stdout.on('data', (d) => (bOut += d));
    const bExited = new Promise((r) => bProc.on('exit', r));
    for (let i = 0; (bOut.match(/CONN /g) ?? []).length < 2; i++) {
      if (i > 500) throw new Error(`B's requests did not start: ${bOut}`);
      await sleep(20);
    }
    const a = aProgram(['one', port]);
    await untilComm(a.child.pid, 'sh');
    const { h, first } = helperAsA('sudo', a.child.pid, ['--pcap']);
    const duringStart = bOut.length;
    assert.equal((await first).type, 'ready');
    assert.ok(bOut.length > duringStart, 'B made requests while the helper started');
    a.release();
    const aPort = Number((await a.waitFor('CONN ')).slice(5));
    await a.waitFor('CLOSED');
    await sleep(1000);
    bProc.kill();
    await bExited;
    const b = { pid: Number(/PID (\d+)/.exec(bOut)?.[1]), ports: [...bOut.matchAll(/CONN (\d+)/g)].map((m) => Number(m[1])) };
    h.child.stdin.end();
    await h.exited;
    const cap = h.messages.filter((m) => m.type === 'capture').at(-1);
    // A's connection, from its SYN to the last FIN/ACK (loopback frames: Ethernet + IPv4 + TCP).
    const frames = api()
      .readPcapng(cap.spool)
      .packets.map((p) => p.data);
    const tcp = (f) => ({ sport: f.readUInt16BE(34), dport: f.readUInt16BE(36), flags: f[47] });
    assert.ok(
      frames.every((f) => [tcp(f).sport, tcp(f).dport].includes(aPort)),
      "every captured packet is of A's connection",
    );
    assert.equal(frames.filter((f) => tcp(f).flags === 0x02 && tcp(f).sport === aPort).length, 1, "A's SYN is captured");
    assert.ok(frames.length >= 6, `A's connection is complete in the capture: ${frames.length} packets`);
    const got = whatAGot(h);
    assertNothingOfB(got, b);
    assert.equal(got.cap.unattributed, 0, 'no packet read that the kernel filter had not passed');
  });
});
