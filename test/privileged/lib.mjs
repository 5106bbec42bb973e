// Helpers of the privileged suite: skip reasons, network namespaces + veth pairs + nftables
// that the tests create and always remove, and processes started inside them.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixtures = join(root, 'test', 'privileged', 'fixtures');
export const nativeHelper = join(root, 'native', 'build', 'nettrace-helper');
const require = createRequire(import.meta.url);

/** Why this suite cannot run here (undefined when it can). Tests skip with it, loudly. */
export function skipReason({ pcap = false } = {}) {
  if (process.getuid() !== 0) return 'NOT ROOT: the privileged helper tests need root (CI runs them as root)';
  if (!existsSync(nativeHelper))
    return `NATIVE HELPER NOT BUILT: ${nativeHelper} is missing — run scripts/install-native-deps.sh && npm run build:native`;
  if (!existsSync(join(root, 'dist', 'helper.cjs'))) return 'dist/helper.cjs is missing — run npm run build';
  for (const tool of ['ip', 'nft', 'ss', 'nsenter', 'conntrack', 'setpriv']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} is not installed — run scripts/install-native-deps.sh`;
    }
  }
  if (pcap) {
    for (const tool of ['tshark', 'capinfos']) {
      try {
        execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      } catch {
        return `${tool} is not installed — run scripts/install-native-deps.sh`;
      }
    }
  }
  return undefined;
}

/** Loud skip: visible in the runner's output and on stderr. */
export function skipLoudly(t, reason) {
  console.error(`# SKIPPED ${t.name}: ${reason}`);
  t.skip(reason);
}

export const api = () => require(join(root, 'dist', 'helper-api.cjs'));

export function sh(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
}

/**
 * Two namespaces joined by a veth pair: client `c` (10.201.N.1 and .3, the SNAT source) and
 * server `s` (10.201.N.2). `nat: true` adds, in the client namespace, DNAT 10.201.N.100:80 →
 * .2:8080 and SNAT of that flow to .3. Returns names, addresses and `cleanup()` (idempotent;
 * also runs at process exit, so a failing test leaves nothing behind).
 */
export function createTopology(n, { nat = false } = {}) {
  const tag = `nt${process.pid % 10000}x${n}`;
  const c = `${tag}c`;
  const s = `${tag}s`;
  const net = `10.201.${n}`;
  const cleanup = () => {
    for (const ns of [c, s]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
  };
  cleanup();
  process.on('exit', cleanup);
  const ip = (...a) => sh('ip', a);
  ip('netns', 'add', c);
  ip('netns', 'add', s);
  ip('link', 'add', `${tag}a`, 'type', 'veth', 'peer', 'name', `${tag}b`);
  ip('link', 'set', `${tag}a`, 'netns', c);
  ip('link', 'set', `${tag}b`, 'netns', s);
  ip('-n', c, 'addr', 'add', `${net}.1/24`, 'dev', `${tag}a`);
  ip('-n', c, 'addr', 'add', `${net}.3/24`, 'dev', `${tag}a`);
  ip('-n', s, 'addr', 'add', `${net}.2/24`, 'dev', `${tag}b`);
  for (const [ns, dev] of [
    [c, `${tag}a`],
    [s, `${tag}b`],
  ]) {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'link', 'set', dev, 'up');
  }
  if (nat) {
    nft(
      c,
      `table ip nettrace_test {
      chain out { type nat hook output priority -100; ip daddr ${net}.100 tcp dport 80 dnat to ${net}.2:8080; }
      chain post { type nat hook postrouting priority 100; ip daddr ${net}.2 tcp dport 8080 snat to ${net}.3; }
    }`,
    );
  }
  return { c, s, net, clientDev: `${tag}a`, serverDev: `${tag}b`, cleanup };
}

/** Runs a command (killed after `timeoutMs`); resolves with its exit code and output. */
export function runCommand(cmd, args, { timeoutMs = 30_000, ...opts } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Loads an nftables ruleset into a namespace. */
export function nft(ns, ruleset) {
  execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: ruleset, stdio: ['pipe', 'ignore', 'pipe'] });
}

/** Starts the test server in namespace `ns`; resolves once it listens. */
export async function startServer(ns, ports) {
  const p = spawn('ip', ['netns', 'exec', ns, process.execPath, join(fixtures, 'server.mjs'), ...ports.map(String)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    createInterface({ input: p.stdout }).on('line', (l) => l === 'LISTENING' && resolve());
    p.on('exit', (code) => reject(new Error(`server exited (${code})`)));
  });
  return p;
}

/**
 * The test client, gated (it does not start before `release()`), in namespace `ns` (or this one).
 * `lines` collects its stdout; `waitFor(prefix)` resolves with the first line starting so.
 */
export function gatedClient(ns, args, { uid, script = join(fixtures, 'client.mjs'), env } = {}) {
  // The gate (a shell waiting on fd 3) already runs in the namespace and as the user, so the pid
  // the helper checks and follows is in its final namespace and owned by its final user.
  const cmd = [];
  if (ns) cmd.push('ip', 'netns', 'exec', ns);
  if (uid !== undefined) cmd.push('setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups');
  cmd.push('/bin/sh', '-c', 'read _ <&3; exec 3<&-; exec "$@"', 'gate', process.execPath, script, ...args.map(String));
  const child = spawn(cmd[0], cmd.slice(1), { stdio: ['pipe', 'pipe', 'inherit', 'pipe'], env: { ...process.env, ...env } });
  const release = () => child.stdio[3].end('go\n');
  // Resolves once `ip netns exec`/setpriv have exec'd the gate shell.
  const gated = (async () => {
    for (let i = 0; i < 200; i++) {
      try {
        if (readFileSync(`/proc/${child.pid}/comm`, 'utf8') === 'sh\n') return;
      } catch {
        /* not yet */
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('the gated client did not start');
  })();
  const lines = [];
  const waiters = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    lines.push(l);
    for (const w of [...waiters]) if (l.startsWith(w.prefix)) (waiters.splice(waiters.indexOf(w), 1), w.resolve(l));
  });
  const waitFor = (prefix) => {
    const seen = lines.find((l) => l.startsWith(prefix));
    return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ prefix, resolve }));
  };
  const exited = new Promise((r) => child.on('exit', r));
  return {
    child,
    release,
    gated,
    lines,
    waitFor,
    exited,
    ports: () => lines.filter((l) => l.startsWith('CONN ')).map((l) => Number(l.slice(5))),
  };
}

/** The helper's messages of one type. */
export const ofType = (h, type) => h.messages.filter((m) => m.type === type);

/**
 * A copy of dist/helper.cjs, the native helper and the client fixture that `nobody` can read and
 * run wherever the checkout lives (CI may clone under /root, mode 0700). Removed by `t.after`.
 */
export function nobodyCopy(t) {
  const dir = mkdtempSync(join(tmpdir(), 'nettrace-nobody-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'dist'));
  mkdirSync(join(dir, 'native', 'build'), { recursive: true });
  copyFileSync(join(root, 'dist', 'helper.cjs'), join(dir, 'dist', 'helper.cjs'));
  copyFileSync(nativeHelper, join(dir, 'native', 'build', 'nettrace-helper'));
  copyFileSync(join(fixtures, 'client.mjs'), join(dir, 'client.mjs'));
  chmodSync(dir, 0o755);
  return {
    dir,
    helperScript: join(dir, 'dist', 'helper.cjs'),
    nativeHelper: join(dir, 'native', 'build', 'nettrace-helper'),
    client: join(dir, 'client.mjs'),
  };
}

/** Why `nobody` cannot run this Node binary (undefined when it can). */
export function nobodyNodeReason() {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', '0'], { stdio: 'ignore' });
  return r.status === 0 ? undefined : `user nobody cannot run ${process.execPath}`;
}
