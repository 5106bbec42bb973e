// covers: src/helper/install.ts, src/helper/setupFiles.ts
// needs: the build (dist/helper.cjs)
// The helper's setup (src/helper/install.ts, src/helper/setupFiles.ts) attacked by the ordinary
// user it sets up for, created for the run: code of theirs runs while the setup runs, and can
// change whatever they own (their home, the payload, a folder they were given). Each test does
// the attack through the plan and its root step (runPlanAsRoot, as the CLI and the extension run
// it as root) and fails if the user gets root, gets a root-only file, or gets a root-owned install
// that points at a file of theirs:
//   - an install folder in their home (then swapped for their own helper.cjs, run through sudo);
//   - an install folder under a folder of theirs (the same), or under /tmp;
//   - a payload native helper that is a symbolic link to a file of theirs;
//   - a payload helper.cjs that is a symbolic link to /etc/shadow;
//   - payload files swapped (for links to /etc/shadow and to their file) after the plan was shown;
//   - the staged sudoers file rewritten to `ALL=(ALL) NOPASSWD: ALL` after the plan was shown.
// Root only (CI runs as root); skipped loudly otherwise.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { api, root, skipLoudly, skipReason } from './lib.mjs';

const tag = process.pid % 100000;
const U = `ntsetup${tag}`;
const node = process.execPath;
const SHADOW_LINE = /^root:/m;

function whyNot() {
  const r = skipReason({ pcap: true });
  if (r) return r;
  for (const tool of ['useradd', 'userdel', 'sudo', 'setcap', 'visudo', 'sha256sum']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed — run scripts/install-native-deps.sh`;
  }
  if (!existsSync('/etc/sudoers.d')) return '/etc/sudoers.d is missing (sudo not installed)';
  if (!existsSync('/etc/shadow')) return '/etc/shadow is missing';
  const unsafe = api().nodeUnsafeForSudo(node);
  if (unsafe) return `this Node cannot be named in a sudoers rule: ${unsafe}`;
  return undefined;
}

/** Every path under `dir` that is a symbolic link. */
function linksUnder(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isSymbolicLink()) out.push(join(e.parentPath ?? e.path, e.name));
  }
  return out;
}

/** Every regular file under `dir` whose text has a line of /etc/shadow. */
function shadowCopiesUnder(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .filter((p) => SHADOW_LINE.test(readFileSync(p, 'latin1')));
}

describe('the setup attacked by the user it sets up for', { timeout: 300_000 }, () => {
  const reason = whyNot();
  let uid;
  let gid;
  let home;
  let m;
  const made = [];
  const marker = `/var/lib/ntsetup-ran-as-root-${tag}`;
  const sudoersFile = () => `/etc/sudoers.d/nettrace-${uid}`;
  const cleanup = () => {
    if (uid !== undefined) for (const f of [sudoersFile(), `${sudoersFile()}.new`]) rmSync(f, { force: true });
    rmSync(marker, { force: true });
    for (const d of made) rmSync(d, { recursive: true, force: true });
    spawnSync('pkill', ['-KILL', '-u', U], { stdio: 'ignore' });
    spawnSync('userdel', ['-r', U], { stdio: 'ignore' });
  };

  before(() => {
    if (reason) return;
    m = api();
    spawnSync('userdel', ['-r', U], { stdio: 'ignore' });
    process.on('exit', cleanup);
    execFileSync('useradd', ['-m', '-N', '-s', '/bin/sh', U]);
    uid = Number(execFileSync('id', ['-u', U], { encoding: 'utf8' }));
    gid = Number(execFileSync('id', ['-g', U], { encoding: 'utf8' }));
    home = execFileSync('sh', ['-c', `getent passwd ${U} | cut -d: -f6`], { encoding: 'utf8' }).trim();
  });
  after(() => {
    if (!reason) cleanup();
  });

  /** Runs a shell command as the user, in their home. */
  const asUser = (cmd) =>
    spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '/bin/sh', '-c', cmd], {
      encoding: 'utf8',
      cwd: home,
      env: { PATH: '/usr/bin:/bin', HOME: home },
    });

  /** A fresh root-owned folder under /var/lib (0755), removed after the run. */
  const rootDir = (name) => {
    const d = mkdtempSync(`/var/lib/ntsetup-${name}-`);
    chmodSync(d, 0o755);
    made.push(d);
    return d;
  };

  /** The user's copy of the payload (a checkout's layout), all theirs. */
  function userPayload(name) {
    const dir = join(home, name);
    for (const d of ['dist', 'native/build']) mkdirSync(join(dir, d), { recursive: true });
    copyFileSync(join(root, 'dist', 'helper.cjs'), join(dir, 'dist', 'helper.cjs'));
    copyFileSync(join(root, 'native', 'build', 'nettrace-helper'), join(dir, 'native', 'build', 'nettrace-helper'));
    chmodSync(join(dir, 'native', 'build', 'nettrace-helper'), 0o755);
    execFileSync('chown', ['-R', `${uid}:${gid}`, dir]);
    return dir;
  }

  /** The plan for the user (as the CLI makes it), or the refusal it throws. */
  function plan(payloadDir, prefix, extra = {}) {
    const payload = m.findPayload(payloadDir);
    const inspection = m.inspectPayload(payload);
    assert.equal(inspection.nativeProblem, undefined);
    try {
      return { plan: m.planSetup({ payload, inspection, nodePath: node, capture: true, prefix, user: { name: U, uid }, ...extra }) };
    } catch (refused) {
      return { refused };
    }
  }

  const runAsRoot = (p) => {
    const log = [];
    return { ...m.runPlanAsRoot(p, (l) => log.push(l)), log };
  };

  /**
   * The attack on an install folder the user can change: run the plan, swap the folder for one of
   * theirs whose dist/helper.cjs writes `marker`, and run it through the rule the setup wrote.
   */
  function swapAndRun(parent, name) {
    const prefix = join(parent, name);
    const script = `require('fs').writeFileSync(${JSON.stringify(marker)}, String(process.getuid()))`;
    const r = asUser(
      `cd ${parent} && mv ${name} ${name}.old && mkdir -p ${name}/dist && printf '%s\\n' "${script.replace(/"/g, '\\"')}" > ${name}/dist/helper.cjs && sudo -n ${node} ${prefix}/dist/helper.cjs --pid 0`,
    );
    return r;
  }

  test("an install folder in the user's home is refused (else: swapped, and their script runs as root)", (t) => {
    if (reason) return skipLoudly(t, reason);
    const payload = userPayload('payload-home');
    const prefix = join(home, 'nt');
    const { plan: p, refused } = plan(payload, prefix);
    if (p) {
      const r = runAsRoot(p);
      assert.ok(r.ok, r.log.join('\n'));
      swapAndRun(home, 'nt');
    }
    const ranAs = existsSync(marker) ? readFileSync(marker, 'utf8') : undefined;
    rmSync(marker, { force: true });
    assert.equal(ranAs, undefined, `the user's script ran through the setup's sudoers rule as uid ${ranAs}`);
    assert.match(String(refused?.message), new RegExp(`refusing to install the helper in ${prefix}: .*owned by uid ${uid}, not root`));
    assert.equal(existsSync(sudoersFile()), false, 'no sudoers rule was written');
  });

  test('an install folder under a folder the user owns, or under /tmp, is refused', (t) => {
    if (reason) return skipLoudly(t, reason);
    const payload = userPayload('payload-parent');
    const parent = rootDir('parent');
    execFileSync('chown', [`${uid}:${gid}`, parent]);
    const prefix = join(parent, 'nettrace');
    const { plan: p, refused } = plan(payload, prefix);
    if (p) {
      const r = runAsRoot(p);
      assert.ok(r.ok, r.log.join('\n'));
      swapAndRun(parent, 'nettrace');
    }
    const ranAs = existsSync(marker) ? readFileSync(marker, 'utf8') : undefined;
    rmSync(marker, { force: true });
    assert.equal(ranAs, undefined, `the user's script ran through the setup's sudoers rule as uid ${ranAs}`);
    assert.match(String(refused?.message), new RegExp(`${parent} is owned by uid ${uid}, not root`));
    // A root-owned folder in /tmp: others may create or fill it first (sticky, writable by all).
    const inTmp = mkdtempSync('/tmp/ntsetup-prefix-');
    made.push(inTmp);
    chmodSync(inTmp, 0o755);
    const tmp = plan(payload, join(inTmp, 'nettrace'));
    assert.match(String(tmp.refused?.message), /\/tmp is writable by every user/);
    // So is a folder above that is a symbolic link to one of the user's.
    const link = join(rootDir('link'), 'via');
    symlinkSync(home, link);
    const viaLink = plan(payload, join(link, 'nettrace'));
    assert.match(String(viaLink.refused?.message), new RegExp(`${home} is owned by uid ${uid}, not root`));
  });

  test("a payload native helper that links to a file of the user's is refused (else installed with capabilities)", (t) => {
    if (reason) return skipLoudly(t, reason);
    const payload = userPayload('payload-nativelink');
    const build = join(payload, 'native/build');
    const link = asUser(
      `cp ${build}/nettrace-helper ${home}/my-helper && rm ${build}/nettrace-helper && ln -s ${home}/my-helper ${build}/nettrace-helper`,
    );
    assert.equal(link.status, 0, link.stderr);
    const prefix = join(rootDir('nativelink'), 'nettrace');
    const { plan: p, refused } = plan(payload, prefix);
    if (p) assert.ok(runAsRoot(p).ok);
    assert.deepEqual(linksUnder(prefix), [], 'the root-owned install holds a link to a file of the user');
    assert.equal(existsSync(join(prefix, 'native')), false, 'nothing was installed');
    assert.match(String(refused?.message), /nettrace-helper is a symbolic link \(to .*my-helper\): the setup copies only regular files/);
  });

  test('a payload helper.cjs that links to /etc/shadow is refused (else published world-readable)', (t) => {
    if (reason) return skipLoudly(t, reason);
    const payload = userPayload('payload-shadow');
    asUser(`cd payload-shadow && rm -f dist/helper.cjs && ln -s /etc/shadow dist/helper.cjs`);
    const prefix = join(rootDir('shadow'), 'nettrace');
    const { plan: p, refused } = plan(payload, prefix);
    if (p) runAsRoot(p);
    assert.deepEqual(shadowCopiesUnder(prefix), [], 'a copy of /etc/shadow was installed');
    assert.match(String(refused?.message), /helper\.cjs is a symbolic link \(to \/etc\/shadow\)/);
  });

  test('payload files swapped after the plan was shown stop the setup before anything is installed', (t) => {
    if (reason) return skipLoudly(t, reason);
    const payload = userPayload('payload-swap');
    const prefix = join(rootDir('swap'), 'nettrace');
    const { plan: p, refused } = plan(payload, prefix);
    assert.equal(refused, undefined);
    // The plan is on screen; code of the user's swaps the files before the root step runs.
    // The native helper becomes a link to a file of theirs (their own code, to get capabilities).
    const build = join(payload, 'native/build');
    const swap = asUser(
      `cd ${payload} && rm dist/helper.cjs && ln -s /etc/shadow dist/helper.cjs && cp ${build}/nettrace-helper ${home}/my-helper2 && printf x >> ${home}/my-helper2 && rm ${build}/nettrace-helper && ln -s ${home}/my-helper2 ${build}/nettrace-helper`,
    );
    assert.equal(swap.status, 0, swap.stderr);
    const r = runAsRoot(p);
    assert.deepEqual(shadowCopiesUnder(prefix), [], 'a copy of /etc/shadow was installed');
    assert.deepEqual(linksUnder(prefix), [], 'the install holds a link to a file of the user');
    assert.equal(r.ok, false, 'the setup went on with swapped files');
    assert.match(r.failed.title, /check the copies are the files shown/);
    assert.equal(existsSync(join(prefix, 'dist', 'helper.cjs')), false, 'nothing was moved into place');
    assert.equal(existsSync(join(prefix, 'native', 'build', 'nettrace-helper')), false, 'nor the native helper');
    assert.equal(existsSync(join(prefix, '.setup-staging')), false, 'the staging folder is removed');
    assert.equal(existsSync(sudoersFile()), false);
  });

  test('a staged sudoers file rewritten after the plan was shown is not what gets installed', (t) => {
    if (reason) return skipLoudly(t, reason);
    const payload = userPayload('payload-sudoers');
    const prefix = join(rootDir('sudoers'), 'nettrace');
    // Where the extension stages (a private folder of the user's); the setup no longer uses one.
    const staging = join(home, 'staging');
    mkdirSync(staging);
    execFileSync('chown', [`${uid}:${gid}`, staging]);
    const { plan: p, refused } = plan(payload, prefix, { stagingDir: staging });
    assert.equal(refused, undefined);
    const evil = `#${uid} ALL=(ALL) NOPASSWD: ALL`;
    asUser(`for f in ${staging}/*; do [ -e "$f" ] && rm -f "$f" && printf '%s\\n' '${evil}' > "$f"; done; true`);
    const r = runAsRoot(p);
    assert.ok(r.ok, r.log.join('\n'));
    const installed = readFileSync(sudoersFile(), 'utf8');
    assert.equal(installed.includes('NOPASSWD: ALL'), false, `installed:\n${installed}`);
    assert.deepEqual(
      installed.split('\n').filter((l) => l && !l.startsWith('# ')),
      [p.sudoers.rule],
    );
    assert.notEqual(asUser('sudo -n id -u').stdout.trim(), '0', 'the user runs anything as root');
    rmSync(sudoersFile(), { force: true });
  });
});
