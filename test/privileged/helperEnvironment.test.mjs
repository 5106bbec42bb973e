// covers: src/helper/rootEnv.ts
// needs: the build (dist/helper.cjs)
// The root helper's environment (src/helper/rootEnv.ts), attacked by an ordinary user created for
// the run, through the README's sudoers rule for a root-owned install (`make install`) on a
// system whose sudo passes the caller's PATH (no secure_path: a drop-in for this user turns it
// off) or keeps more of the caller's environment (env_keep):
//   - the user's ~/bin/nsenter, first on their PATH, must not run (as root) when the helper
//     enters the target's network namespace;
//   - NODE_OPTIONS reaching the root helper makes it refuse (EENV) and say what to fix.
// Root only (CI runs as root); skipped loudly otherwise.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { root, skipLoudly, skipReason } from './lib.mjs';

const tag = process.pid % 100000;
const U = `ntenv${tag}`;
const NS = `ntenv${tag}`;
const node = process.execPath;

function whyNot() {
  const r = skipReason({ pcap: true });
  if (r) return r;
  for (const tool of ['useradd', 'userdel', 'sudo', 'make', 'visudo']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed — run scripts/install-native-deps.sh`;
  }
  if (!existsSync('/etc/sudoers.d')) return '/etc/sudoers.d is missing (sudo not installed)';
  return undefined;
}

/** Resolves once `pid` runs `comm`. */
async function untilComm(pid, comm) {
  for (let i = 0; i < 500; i++) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`pid ${pid} never ran ${comm}`);
}

describe('the root helper runs with its own environment, not the caller’s', { timeout: 180_000 }, () => {
  const reason = whyNot();
  let prefix;
  let uid;
  let gid;
  let home;
  const sudoers = `/etc/sudoers.d/nettrace-envtest-${tag}`;
  const cleanup = () => {
    rmSync(sudoers, { force: true });
    spawnSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
    spawnSync('pkill', ['-KILL', '-u', U], { stdio: 'ignore' });
    spawnSync('userdel', ['-r', U], { stdio: 'ignore' });
    if (prefix) rmSync(prefix, { recursive: true, force: true });
  };

  before(() => {
    if (reason) return;
    spawnSync('userdel', ['-r', U], { stdio: 'ignore' });
    process.on('exit', cleanup);
    execFileSync('useradd', ['-m', '-N', '-s', '/bin/sh', U]);
    uid = Number(execFileSync('id', ['-u', U], { encoding: 'utf8' }));
    gid = Number(execFileSync('id', ['-g', U], { encoding: 'utf8' }));
    home = execFileSync('sh', ['-c', `getent passwd ${U} | cut -d: -f6`], { encoding: 'utf8' }).trim();
    // A root-owned install, as the README documents it.
    prefix = mkdtempSync('/var/lib/nettrace-envtest-');
    chmodSync(prefix, 0o755);
    execFileSync('make', ['-s', '-C', join(root, 'native'), 'install', `PREFIX=${prefix}`], { stdio: 'ignore' });
    // The user's own nsenter, first on their PATH: it records who ran it, then does the job.
    mkdirSync(join(home, 'bin'));
    writeFileSync(join(home, 'bin', 'nsenter'), `#!/bin/sh\nid -u >> ${home}/ran-as\nexec /usr/bin/nsenter "$@"\n`, { mode: 0o755 });
    for (const p of ['bin', 'bin/nsenter']) chownSync(join(home, p), uid, gid);
    // The README's rule, on a sudo that passes PATH (and, for the last test, NODE_OPTIONS).
    writeFileSync(
      sudoers,
      `Defaults:${U} !secure_path\nDefaults:${U} env_keep += "NODE_OPTIONS"\n${U} ALL=(root) NOPASSWD: ${node} ${prefix}/dist/helper.cjs *\n`,
      { mode: 0o440 },
    );
    execFileSync('visudo', ['-c', '-q', '-f', sudoers]);
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
  });
  after(() => {
    if (!reason) cleanup();
  });

  /** Runs the helper as the user through `sudo -n` with `env`; resolves with its messages once ready (or exited). */
  async function helperAsUser(pid, env) {
    const h = spawn(
      'setpriv',
      [
        `--reuid=${uid}`,
        `--regid=${gid}`,
        '--init-groups',
        'sudo',
        '-n',
        node,
        `${prefix}/dist/helper.cjs`,
        '--pid',
        String(pid),
        '--pcap',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'], cwd: '/', env: { HOME: home, ...env } },
    );
    const messages = [];
    let stderr = '';
    h.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise((r) => h.on('exit', r));
    await new Promise((resolve) => {
      createInterface({ input: h.stdout }).on('line', (l) => {
        try {
          messages.push(JSON.parse(l));
        } catch {
          messages.push({ type: 'text', line: l });
        }
        if (messages.some((m) => m.type === 'capture')) resolve();
      });
      exited.then(resolve);
      setTimeout(resolve, 30_000).unref();
    });
    h.stdin.end();
    const timer = setTimeout(() => h.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    return { messages, stderr };
  }

  /** A `sleep` of the user's; in the test's network namespace when `ns`. */
  async function target(t, ns) {
    const cmd = ns ? ['ip', 'netns', 'exec', NS] : [];
    cmd.push('setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', 'sleep', '60');
    const p = spawn(cmd[0], cmd.slice(1), { stdio: 'ignore' });
    t.after(() => p.kill('SIGKILL'));
    await untilComm(p.pid, 'sleep');
    return p.pid;
  }

  test("a user's ~/bin/nsenter first on PATH does not run when the helper enters the target's network namespace", async (t) => {
    if (reason) return skipLoudly(t, reason);
    rmSync(join(home, 'ran-as'), { force: true });
    const pid = await target(t, true);
    const { messages, stderr } = await helperAsUser(pid, { PATH: `${home}/bin:/usr/bin:/bin` });
    const ranAs = existsSync(join(home, 'ran-as')) ? readFileSync(join(home, 'ran-as'), 'utf8').trim() : undefined;
    assert.equal(ranAs, undefined, `the user's nsenter ran, as uid ${ranAs}`);
    // The helper itself entered the namespace (the system's nsenter) and captured there.
    const ready = messages.find((m) => m.type === 'ready');
    assert.ok(ready, `no ready line: ${JSON.stringify(messages)} ${stderr}`);
    assert.equal(ready.authority, 'sudo');
    assert.equal(ready.unavailable.capture, undefined, JSON.stringify(ready.unavailable));
  });

  test('NODE_OPTIONS reaching the root helper: it refuses (EENV) and says what to fix', async (t) => {
    if (reason) return skipLoudly(t, reason);
    const pid = await target(t, false);
    const { messages, stderr } = await helperAsUser(pid, { PATH: '/usr/bin:/bin', NODE_OPTIONS: '--no-deprecation' });
    const error = messages.find((m) => m.type === 'error');
    assert.ok(error, `no error line: ${JSON.stringify(messages)} ${stderr}`);
    assert.equal(error.code, 'EENV');
    assert.match(error.message, /NODE_OPTIONS/);
    assert.match(error.message, /sudoers rule/);
    assert.equal(
      messages.some((m) => m.type === 'ready'),
      false,
    );
  });
});
